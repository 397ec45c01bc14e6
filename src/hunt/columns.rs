//! The CSV row of a rule hit, one definition for `scan --format csv` and the workbench's
//! exports, so both feed the same tooling.

use crate::event::Event;
use crate::sigma::{MatchDetail, RuleMeta};

/// CSV columns of a rule hit (`huntbench scan --format csv`, the workbench's `x`).
pub const HIT_CSV_COLUMNS: [&str; 14] = [
    "timestamp",
    "rule_id",
    "rule_title",
    "level",
    "computer",
    "channel",
    "event_id",
    "record_id",
    "file",
    "mitre_tactics",
    "mitre_tags",
    "details",
    "matched",
    "event",
];

/// One row under [`HIT_CSV_COLUMNS`]: `rule` is None for a search or pivot row (its rule
/// columns stay empty). Cells are sanitised for spreadsheets; ATT&CK names and ids are joined
/// by ` ¦ ` as in the timeline formats; `details` is the event's key fields, message codes
/// followed by their text.
pub fn hit_csv_row(
    rule: Option<&RuleMeta>,
    event: &Event,
    file: &str,
    matched: Option<&MatchDetail>,
) -> [String; 14] {
    // A field two selections matched is named once.
    let mut pairs: Vec<String> = Vec::new();
    for f in matched.iter().flat_map(|d| d.fields.iter()) {
        let pair = format!("{}={}", f.event_field, f.value);
        if !pairs.contains(&pair) {
            pairs.push(pair);
        }
    }
    let attack = rule.map(|m| crate::attack::RuleAttack::from_tags(&m.tags));
    let num = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
    let text = crate::sanitize::csv_text;
    [
        (event.timestamp().map(crate::event::format_timestamp)).unwrap_or_default(),
        text(rule.and_then(|m| m.id.as_deref()).unwrap_or_default()),
        text(rule.map_or("", |m| m.title.as_str())),
        text(rule.and_then(RuleMeta::level_text).unwrap_or_default()),
        text(event.computer()),
        text(event.channel()),
        num(event.event_id()),
        num(event.record_id()),
        text(file),
        text(
            &attack
                .as_ref()
                .map_or_else(String::new, |a| a.tactics.join(" ¦ ")),
        ),
        text(
            &attack
                .as_ref()
                .map_or_else(String::new, |a| a.ids.join(" ¦ ")),
        ),
        text(&crate::event::flatten_fields(&event.key_fields())),
        text(&pairs.join("; ")),
        crate::sanitize::json_text(event.to_json()),
    ]
}
