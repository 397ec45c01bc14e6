//! `rules check`: per-rule load outcome with reasons and notes, and totals. The CLI renders it
//! as a table or JSON.

use serde::Serialize;

use super::load::RuleSet;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    Loaded,
    Unsupported,
    Error,
    /// Not a Windows event log rule.
    Skipped,
    Correlation,
    Filter,
    /// Left out: a later rule has the same id.
    Replaced,
}

#[derive(Clone, Debug, Serialize)]
pub struct CheckEntry {
    pub origin: String,
    pub id: Option<String>,
    pub title: Option<String>,
    pub outcome: CheckOutcome,
    /// `file:line:column: reason` for unsupported/error/skipped entries.
    pub reason: Option<String>,
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct CheckTotals {
    pub loaded: usize,
    pub unsupported: usize,
    pub error: usize,
    pub skipped: usize,
    pub correlations: usize,
    pub filters: usize,
    pub replaced: usize,
    pub with_notes: usize,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct CheckReport {
    pub entries: Vec<CheckEntry>,
    pub totals: CheckTotals,
}

/// Rules a correlation takes hits from that are not among `loaded` (the rules and
/// correlations of the set) at all. Not an error at load (the editor compiles one document
/// alone), but such a correlation can never fire.
pub fn missing_references(
    loaded: &[&super::RuleMeta],
    c: &super::correlation::Correlation,
) -> Vec<String> {
    let known = |want: &str| {
        loaded
            .iter()
            .any(|m| m.id.as_deref() == Some(want) || m.name.as_deref() == Some(want))
    };
    c.rules
        .iter()
        .filter(|r| !known(r))
        .map(|r| format!("refers to `{r}`, which is not among the loaded rules: it cannot fire"))
        .collect()
}

impl CheckReport {
    pub fn from_rules(set: &RuleSet) -> CheckReport {
        let mut r = CheckReport::default();
        for rule in &set.rules {
            r.entries.push(CheckEntry {
                origin: rule.meta.origin.clone(),
                id: rule.meta.id.clone(),
                title: Some(rule.meta.title.clone()),
                outcome: CheckOutcome::Loaded,
                reason: None,
                notes: rule.notes.clone(),
            });
        }
        for (list, outcome) in [
            (&set.unsupported, CheckOutcome::Unsupported),
            (&set.errors, CheckOutcome::Error),
        ] {
            for x in list {
                r.entries.push(CheckEntry {
                    origin: x.origin.clone(),
                    id: x.id.clone(),
                    title: x.title.clone(),
                    outcome,
                    reason: Some(x.error.to_string()),
                    notes: x.notes.clone(),
                });
            }
        }
        for s in &set.skipped {
            r.entries.push(CheckEntry {
                origin: s.origin.clone(),
                id: s.id.clone(),
                title: s.title.clone(),
                outcome: CheckOutcome::Skipped,
                reason: Some(s.reason.clone()),
                notes: Vec::new(),
            });
        }
        let loaded: Vec<&super::RuleMeta> = set
            .rules
            .iter()
            .map(|r| &r.meta)
            .chain(set.correlations.iter().map(|c| &c.meta))
            .collect();
        for c in &set.correlations {
            r.entries.push(CheckEntry {
                origin: c.meta.origin.clone(),
                id: c.meta.id.clone(),
                title: Some(c.meta.title.clone()),
                outcome: CheckOutcome::Correlation,
                reason: None,
                notes: missing_references(&loaded, c),
            });
        }
        for f in &set.filters {
            r.entries.push(CheckEntry {
                origin: f.meta.origin.clone(),
                id: f.meta.id.clone(),
                title: Some(f.meta.title.clone()),
                outcome: CheckOutcome::Filter,
                reason: None,
                notes: Vec::new(),
            });
        }
        for x in &set.replaced {
            r.entries.push(CheckEntry {
                origin: x.dropped.clone(),
                id: Some(x.id.clone()),
                title: Some(x.title.clone()),
                outcome: CheckOutcome::Replaced,
                reason: Some(format!(
                    "not run: {} has the same id{}",
                    x.by,
                    if x.saved_edit {
                        " (saved from the editor into your rules directory)"
                    } else {
                        " (the later path wins)"
                    }
                )),
                notes: Vec::new(),
            });
        }
        r.entries.sort_by(|a, b| a.origin.cmp(&b.origin));
        r.totals = CheckTotals {
            loaded: set.rules.len(),
            unsupported: set.unsupported.len(),
            error: set.errors.len(),
            skipped: set.skipped.len(),
            correlations: set.correlations.len(),
            filters: set.filters.len(),
            replaced: set.replaced.len(),
            with_notes: (r.entries.iter())
                .filter(|e| {
                    matches!(e.outcome, CheckOutcome::Loaded | CheckOutcome::Correlation)
                        && !e.notes.is_empty()
                })
                .count(),
        };
        r
    }
}
