//! `scan --format timeline-csv|timeline-jsonl|timesketch`: rule hits as a triage timeline in
//! the layout of Hayabusa's `verbose` output profile, so what loads Hayabusa's timelines
//! (Timeline Explorer, Takajo, Timesketch, Elastic importers) loads ours.
//!
//! Hayabusa's conventions kept: its column names and order, its timestamp form
//! (`YYYY-MM-DD HH:mm:ss.sss +hh:mm`, here always UTC as with its `--UTC`), its level
//! abbreviations (`crit`, `high`, `med`, `low`, `info`), `MitreTags` as upper-case ATT&CK ids
//! (tools read them as technique ids), ` ¦ ` between the values of a CSV cell, and in JSON
//! lines the tags as arrays and `Details`/`ExtraFieldInfo` as objects. Tactics are written out
//! in full (Hayabusa's `--disable-abbreviations` form), channels too. `RuleID` is Hayabusa's
//! `%RuleID%` field, placed before `EvtxFile`.
//!
//! Not for: which fields are an event's key fields (`Event::key_fields`, shared with the
//! workbench); ATT&CK names (`crate::attack`).

use crate::attack::RuleAttack;
use crate::event::{Event, flatten_fields, format_timestamp};
use crate::sanitize::{csv_text, json_text};
use crate::sigma::RuleMeta;
use serde_json::{Map, Value, json};

/// The columns of a `timeline-csv`, in order (keys of a `timeline-jsonl` line, in order).
pub const COLUMNS: [&str; 15] = [
    "Timestamp",
    "RuleTitle",
    "Level",
    "Computer",
    "Channel",
    "EventID",
    "MitreTactics",
    "MitreTags",
    "OtherTags",
    "RecordID",
    "Details",
    "ExtraFieldInfo",
    "RuleFile",
    "RuleID",
    "EvtxFile",
];

/// The timeline layouts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeline {
    Csv,
    Jsonl,
    Timesketch,
}

/// One timeline row: a rule hit on an event, or a correlation hit.
pub struct Row {
    timestamp: Option<jiff::Timestamp>,
    rule_title: String,
    level: String,
    computer: String,
    channel: String,
    event_id: Option<u64>,
    attack: RuleAttack,
    record_id: Option<u64>,
    details: Vec<(String, String)>,
    extra: Vec<(String, String)>,
    rule_file: String,
    rule_id: String,
    evtx_file: String,
}

fn owned(fields: Vec<(&str, String)>) -> Vec<(String, String)> {
    fields.into_iter().map(|(n, v)| (n.to_owned(), v)).collect()
}

impl Row {
    /// A rule's hit on `event`, read from `evtx_file`.
    pub fn hit(rule: &RuleMeta, event: &Event, evtx_file: &str) -> Row {
        Row {
            timestamp: event.timestamp(),
            computer: event.computer().to_owned(),
            channel: event.channel().to_owned(),
            event_id: event.event_id(),
            record_id: event.record_id(),
            details: owned(event.key_fields()),
            extra: owned(event.extra_fields()),
            evtx_file: evtx_file.to_owned(),
            ..Row::rule(rule)
        }
    }

    /// A correlation's hit: its first time, the group it counted and how many events; the
    /// hosts and channels of those events when they share one.
    pub fn correlation(
        corr: &RuleMeta,
        first: jiff::Timestamp,
        group: &[(String, String)],
        events: &[Event],
    ) -> Row {
        let shared = |f: fn(&Event) -> &str| {
            let first = events.first().map_or("", f);
            if events.iter().all(|e| f(e) == first) {
                first.to_owned()
            } else {
                String::new()
            }
        };
        let mut details = vec![("Events".to_owned(), events.len().to_string())];
        details.extend(group.iter().cloned());
        Row {
            timestamp: Some(first),
            computer: shared(Event::computer),
            channel: shared(Event::channel),
            details,
            ..Row::rule(corr)
        }
    }

    fn rule(rule: &RuleMeta) -> Row {
        let file = std::path::Path::new(&rule.origin).file_name();
        Row {
            timestamp: None,
            rule_title: rule.title.clone(),
            level: level_abbreviation(rule).to_owned(),
            computer: String::new(),
            channel: String::new(),
            event_id: None,
            attack: RuleAttack::from_tags(&rule.tags),
            record_id: None,
            details: Vec::new(),
            extra: Vec::new(),
            rule_file: file.map_or(rule.origin.clone(), |f| f.to_string_lossy().into_owned()),
            rule_id: rule.id.clone().unwrap_or_default(),
            evtx_file: String::new(),
        }
    }

    /// The row as one line (ended by a newline) of `layout`.
    pub fn line(&self, layout: Timeline) -> anyhow::Result<Vec<u8>> {
        let json_line = |value: Value| -> anyhow::Result<Vec<u8>> {
            let mut text = json_text(serde_json::to_string(&value)?);
            text.push('\n');
            Ok(text.into_bytes())
        };
        match layout {
            Timeline::Csv => self.csv(),
            Timeline::Jsonl => json_line(Value::Object(self.json())),
            Timeline::Timesketch => json_line(self.timesketch()),
        }
    }

    fn timestamp_text(&self) -> String {
        self.timestamp.map(hayabusa_timestamp).unwrap_or_default()
    }

    fn csv(&self) -> anyhow::Result<Vec<u8>> {
        let number = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
        let cells = [
            self.timestamp_text(),
            self.rule_title.clone(),
            self.level.clone(),
            self.computer.clone(),
            self.channel.clone(),
            number(self.event_id),
            self.attack.tactics.join(" ¦ "),
            self.attack.ids.join(" ¦ "),
            self.attack.other.join(" ¦ "),
            number(self.record_id),
            dash_if_empty(flatten_fields(&self.details)),
            dash_if_empty(flatten_fields(&self.extra)),
            self.rule_file.clone(),
            self.rule_id.clone(),
            self.evtx_file.clone(),
        ];
        // A lone `-` is no formula; the guard would quote it.
        super::csv_line(cells.map(|c| if c == "-" { c } else { csv_text(&c) }))
    }

    fn json(&self) -> Map<String, Value> {
        let object = |fields: &[(String, String)]| {
            Value::Object(
                (fields.iter())
                    .map(|(n, v)| (n.clone(), Value::String(v.clone())))
                    .collect(),
            )
        };
        let values = [
            json!(self.timestamp_text()),
            json!(self.rule_title),
            json!(self.level),
            json!(self.computer),
            json!(self.channel),
            json!(self.event_id),
            json!(self.attack.tactics),
            json!(self.attack.ids),
            json!(self.attack.other),
            json!(self.record_id),
            object(&self.details),
            object(&self.extra),
            json!(self.rule_file),
            json!(self.rule_id),
            json!(self.evtx_file),
        ];
        (COLUMNS.iter().map(|c| (*c).to_owned()))
            .zip(values)
            .collect()
    }

    /// Timesketch's JSONL import: `message`, `datetime` (ISO 8601), `timestamp_desc`, then the
    /// timeline's columns, techniques also by name.
    fn timesketch(&self) -> Value {
        let mut out = Map::new();
        let mut message = self.rule_title.clone();
        if !self.details.is_empty() {
            message.push_str(" | ");
            message.push_str(&flatten_fields(&self.details));
        }
        out.insert("message".into(), json!(message));
        let datetime = self.timestamp.map(format_timestamp).unwrap_or_default();
        out.insert("datetime".into(), json!(datetime));
        out.insert("timestamp_desc".into(), json!("huntbench rule hit"));
        for (k, v) in self.json() {
            if k != "Timestamp" {
                out.insert(k, v);
            }
        }
        out.insert(
            "MitreTechniques".into(),
            json!(self.attack.named_techniques()),
        );
        Value::Object(out)
    }
}

/// `-` for an empty cell, as Hayabusa writes an event without details.
fn dash_if_empty(cell: String) -> String {
    if cell.is_empty() {
        "-".to_owned()
    } else {
        cell
    }
}

/// What a timeline starts with: the CSV header, nothing before JSON lines.
pub fn header(layout: Timeline) -> anyhow::Result<Vec<u8>> {
    match layout {
        Timeline::Csv => super::csv_line(COLUMNS),
        Timeline::Jsonl | Timeline::Timesketch => Ok(Vec::new()),
    }
}

/// Hayabusa's timestamp form, in UTC: `2024-03-13 14:02:11.481 +00:00`.
pub fn hayabusa_timestamp(ts: jiff::Timestamp) -> String {
    ts.strftime("%Y-%m-%d %H:%M:%S%.3f +00:00").to_string()
}

/// Hayabusa's level names: `crit`, `high`, `med`, `low`, `info`; a level Sigma does not
/// define as written; `undef` for a rule without one.
pub fn level_abbreviation(rule: &RuleMeta) -> &str {
    match (rule.level, &rule.unknown_level) {
        (Some(level), _) => level.short(),
        (None, Some(unknown)) => unknown,
        (None, None) => "undef",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigma::Level;

    #[test]
    fn timestamps_and_levels_are_written_as_hayabusa_writes_them() {
        let ts: jiff::Timestamp = "2024-03-13T14:02:11.4817391Z".parse().unwrap_or_default();
        assert_eq!(hayabusa_timestamp(ts), "2024-03-13 14:02:11.481 +00:00");
        let mut rule = RuleMeta::default();
        let names: Vec<String> = (Level::ALL.into_iter().rev())
            .map(|l| {
                rule.level = Some(l);
                level_abbreviation(&rule).to_owned()
            })
            .collect();
        assert_eq!(names, ["crit", "high", "med", "low", "info"]);
        rule.level = None;
        assert_eq!(level_abbreviation(&rule), "undef");
        rule.unknown_level = Some("severe".into());
        assert_eq!(level_abbreviation(&rule), "severe");
    }
}
