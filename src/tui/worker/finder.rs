//! A list narrowed by a query, and a list's events stacked by several fields.

use crate::event::Event;
use crate::prefilter::Prefilter;
use crate::query::Query;
use crate::sigma::CompiledRule;
use crate::store::{EventRef, EventStore};
use crate::tui::action::Msg;
use crate::tui::app::HitRow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Rows checked at a time: a list of any length holds one chunk of events.
const CHUNK: usize = 8192;

/// The rows whose events `query` matches, in the list's order. The query's prefilter first
/// drops the rows the case's index rules out (by reference, without reading them); the rest
/// are read a chunk at a time and checked exactly.
pub fn filter_rows(
    snap: &dyn EventStore,
    rows: &[HitRow],
    query: &Query,
) -> Result<Vec<HitRow>, String> {
    let prefilter = query.prefilter();
    let candidates: Option<HashSet<EventRef>> = match prefilter {
        Prefilter::All => None,
        p => Some(
            (snap.candidates(&p).map_err(|e| e.to_string())?)
                .into_iter()
                .collect(),
        ),
    };
    let maybe: Vec<HitRow> = (rows.iter())
        .filter(|row| candidates.as_ref().is_none_or(|c| c.contains(&row.r)))
        .copied()
        .collect();
    let mut kept = Vec::new();
    for chunk in maybe.chunks(CHUNK) {
        let refs: Vec<EventRef> = chunk.iter().map(|row| row.r).collect();
        let checked = crate::store::check(snap, &refs, |_, event, _| {
            query.matches(&event).then_some(())
        })
        .map_err(|e| e.to_string())?;
        kept.extend((chunk.iter().zip(checked)).filter_map(|(row, ok)| ok.map(|()| *row)));
    }
    Ok(kept)
}

/// Rows of a stack at most (the commonest), as a one-field stack keeps.
const MAX_ROWS: usize = 500;

/// How often each tuple of values of `fields` occurs in the events of `refs` (read as `rule`
/// names the fields when the list is its hits). An event with several values of a field
/// counts once per combination; one lacking a field counts as missing.
pub fn stack_tuples(
    snap: &dyn EventStore,
    rule: Option<(usize, Arc<CompiledRule>)>,
    of: String,
    fields: Vec<String>,
    refs: &[EventRef],
) -> Msg {
    let read = |e: &Event, field: &str| -> Vec<String> {
        match &rule {
            Some((_, compiled)) => compiled.field_values(e, field),
            None => (e.fields.iter())
                .filter(|(n, _)| n.eq_ignore_ascii_case(field))
                .flat_map(|(_, v)| v.strings().map(str::to_owned).collect::<Vec<_>>())
                .collect(),
        }
    };
    let mut counts: HashMap<Vec<String>, u64> = HashMap::new();
    let mut missing = 0u64;
    for chunk in refs.chunks(CHUNK) {
        let per_event = crate::store::check(snap, chunk, |_, event, _| {
            let values: Vec<Vec<String>> = fields.iter().map(|f| read(&event, f)).collect();
            Some(combinations(&values))
        });
        for tuples in per_event.into_iter().flatten().flatten() {
            if tuples.is_empty() {
                missing += 1;
            }
            for t in tuples {
                *counts.entry(t).or_default() += 1;
            }
        }
    }
    let mut tuples: Vec<(Vec<String>, u64)> = counts.into_iter().collect();
    tuples.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    tuples.truncate(MAX_ROWS);
    Msg::StackTuples {
        rule: rule.map(|(i, _)| i),
        of,
        fields,
        tuples,
        missing,
    }
}

/// Every choice of one value per field (none when a field has no value).
fn combinations(values: &[Vec<String>]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = vec![Vec::new()];
    for options in values {
        out = (out.iter())
            .flat_map(|prefix| {
                options.iter().map(move |v| {
                    let mut t = prefix.clone();
                    t.push(v.clone());
                    t
                })
            })
            .collect();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::combinations;

    #[test]
    fn combinations_take_one_value_per_field() {
        let v = |xs: &[&str]| xs.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            combinations(&[v(&["a"]), v(&["x", "y"])]),
            vec![v(&["a", "x"]), v(&["a", "y"])]
        );
        assert!(combinations(&[v(&["a"]), v(&[])]).is_empty());
    }
}
