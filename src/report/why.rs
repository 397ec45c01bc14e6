//! Why an event matched a rule, in words: the one text behind the workbench's detail (which
//! styles it) and the report (which writes it as Markdown).

use crate::sigma::{MatchDetail, RuleMeta};

/// One field of the event that a rule's selection matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WhyField {
    /// The rule's key as written, with modifiers (`Image|endswith`).
    pub rule_field: String,
    /// The rule's value that matched.
    pub pattern: String,
    /// The event's field it read (after mapping: `NewProcessName` for `Image` on a 4688).
    pub event_field: String,
    pub value: String,
}

/// Why an event matched: the rule, its selections that were true, the fields they matched,
/// the rule's ATT&CK tactics and techniques and the Sigma fields read under other names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WhyMatched {
    pub rule: String,
    /// The true selections, joined: `selection_parent, selection_cmd`.
    pub selections: String,
    pub fields: Vec<WhyField>,
    /// Tactics then named techniques, joined by ` · ` ("" when the rule has no ATT&CK tags).
    pub attack: String,
    /// `Image → NewProcessName, …` ("" when every field was read under its own name).
    pub mapped: String,
}

impl WhyMatched {
    pub fn new(rule: &RuleMeta, m: &MatchDetail) -> WhyMatched {
        let fields = (m.fields.iter())
            .map(|f| WhyField {
                rule_field: f.rule_field.clone(),
                pattern: f.pattern.clone(),
                event_field: f.event_field.clone(),
                value: f.value.clone(),
            })
            .collect();
        let mapped: Vec<String> = (m.mapped.iter())
            .map(|(sigma, event)| format!("{sigma} → {event}"))
            .collect();
        WhyMatched {
            rule: rule.title.clone(),
            selections: m.identifiers.join(", "),
            fields,
            attack: attack_text(rule),
            mapped: mapped.join(", "),
        }
    }
}

/// A rule's ATT&CK tactics and techniques by name, joined by ` · ` ("" without ATT&CK tags).
pub fn attack_text(rule: &RuleMeta) -> String {
    let a = crate::attack::RuleAttack::from_tags(&rule.tags);
    let mut parts = a.tactics.clone();
    parts.extend(a.named_techniques());
    parts.join(" · ")
}
