//! Exports of a hits list: one row per listed row, in list order (an event that two rules hit
//! is two rows of a timeline, as it is two rows on screen), with the columns and field names of
//! `huntbench scan` plus the whole event, so exports and scans feed the same tooling.

use super::{Ctx, unique_path};
use crate::event::Event;
use crate::sigma::CompiledRule;
use crate::store::{EventRef, EventStore};
use crate::tui::action::{ExportRow, Msg};
use rayon::prelude::*;
use serde_json::json;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Events read at a time (each once, however many rows list it).
const CHUNK: usize = 4096;

enum Sink {
    Csv(Box<csv::Writer<BufWriter<File>>>),
    Jsonl(BufWriter<File>),
}

/// Writes `rows` to a new file beside `path` (`path-N.csv` or `.jsonl`).
pub fn write(
    ctx: &Ctx,
    snap: &dyn EventStore,
    path: &Path,
    jsonl: bool,
    rows: &[ExportRow],
) -> anyhow::Result<Msg> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let out = unique_path(path, if jsonl { "jsonl" } else { "csv" });
    let file = BufWriter::new(std::fs::File::create(&out)?);
    let mut sink = if jsonl {
        Sink::Jsonl(file)
    } else {
        let mut w = csv::Writer::from_writer(file);
        w.write_record(crate::hunt::HIT_CSV_COLUMNS)?;
        Sink::Csv(Box::new(w))
    };
    let (mut written, mut unreadable) = (0usize, 0usize);
    for chunk in rows.chunks(CHUNK) {
        let mut refs: Vec<EventRef> = chunk.iter().map(|r| r.r).collect();
        refs.sort_unstable();
        refs.dedup();
        let events: HashMap<EventRef, (Event, u64)> = refs
            .par_iter()
            .filter_map(|&r| snap.event(r).ok().map(|e| (r, e)))
            .collect();
        for row in chunk {
            let Some((event, file_id)) = events.get(&row.r) else {
                unreadable += 1;
                continue;
            };
            let source = ctx.files.get(file_id).map_or("", String::as_str);
            let rule = row.rule.as_deref();
            match &mut sink {
                Sink::Csv(w) => w.write_record(csv_record(rule, event, source))?,
                Sink::Jsonl(w) => writeln!(
                    w,
                    "{}",
                    crate::sanitize::json_text(json_row(rule, event, source).to_string())
                )?,
            }
            written += 1;
        }
    }
    match sink {
        Sink::Csv(mut w) => w.flush()?,
        Sink::Jsonl(mut w) => w.flush()?,
    }
    let mut msg = format!("exported {written} rows to {}", super::short_path(&out));
    if unreadable > 0 {
        msg.push_str(&format!(" ({unreadable} unreadable events left out)"));
    }
    Ok(Msg::Exported(msg))
}

/// What made the rule match, as `scan` lists it (`field=value; …`).
fn matched(rule: Option<&CompiledRule>, event: &Event) -> Option<crate::sigma::MatchDetail> {
    rule.and_then(|r| r.matches(event))
}

fn csv_record(rule: Option<&CompiledRule>, event: &Event, file: &str) -> [String; 14] {
    let detail = matched(rule, event);
    crate::hunt::hit_csv_row(rule.map(|r| &r.meta), event, file, detail.as_ref())
}

/// A line as `scan --format jsonl` writes a hit (rule fields null for a search or pivot row).
fn json_row(rule: Option<&CompiledRule>, event: &Event, file: &str) -> serde_json::Value {
    let attack = rule.map(|r| crate::attack::RuleAttack::from_tags(&r.meta.tags));
    json!({
        "rule_id": rule.and_then(CompiledRule::id),
        "rule_title": rule.map(CompiledRule::title),
        "level": rule.and_then(|r| r.meta.level_text()),
        "timestamp": event.timestamp().map(crate::event::format_timestamp),
        "computer": event.computer(),
        "channel": event.channel(),
        "event_id": event.event_id(),
        "record_id": event.record_id(),
        "file": file,
        "mitre_tactics": attack.as_ref().map(|a| &a.tactics),
        "mitre_tags": attack.as_ref().map(|a| &a.ids),
        "details": crate::event::flatten_fields(&event.key_fields()),
        "matched": matched(rule, event),
        "event": event,
    })
}

/// Writes a stack to a new file beside `path`: one row per value, most frequent first, with
/// its share of the events stacked, then the events that lack the field (`missing`), which is
/// not the same as an empty value. A stack of one field has `field` and `value` columns; a
/// stack of several has a column per field, each holding its value of the tuple.
pub fn write_stack(
    path: &Path,
    jsonl: bool,
    fields: &[String],
    values: &[(Vec<String>, u64)],
    missing: u64,
) -> anyhow::Result<Msg> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let out = unique_path(path, if jsonl { "jsonl" } else { "csv" });
    let mut file = BufWriter::new(File::create(&out)?);
    let total: u64 = values.iter().map(|(_, n)| n).sum::<u64>() + missing;
    // Two decimals, as the CSV cell and the JSON number alike.
    let percent = |n: u64| (n as f64 * 10_000.0 / total.max(1) as f64).round() / 100.0;
    let rows = (values.iter().map(|(v, n)| (Some(v.as_slice()), *n)))
        .chain((missing > 0).then_some((None, missing)));
    let one = match fields {
        [field] => Some(field.as_str()),
        _ => None,
    };
    if jsonl {
        for (tuple, count) in rows {
            let line = match one {
                Some(field) => json!({
                    "field": field,
                    "value": tuple.and_then(<[String]>::first),
                    "count": count,
                    "percent": percent(count),
                }),
                None => json!({
                    "fields": fields,
                    "values": tuple,
                    "count": count,
                    "percent": percent(count),
                }),
            };
            writeln!(file, "{}", crate::sanitize::json_text(line.to_string()))?;
        }
        file.flush()?;
    } else {
        let mut w = csv::Writer::from_writer(file);
        let text = crate::sanitize::csv_text;
        let head: Vec<String> = match one {
            Some(_) => vec!["field".into(), "value".into()],
            None => fields.iter().map(|f| text(f)).collect(),
        };
        w.write_record(
            head.iter()
                .map(String::as_str)
                .chain(["count", "percent", "missing"]),
        )?;
        for (tuple, count) in rows {
            let mut record: Vec<String> = match (one, tuple) {
                (Some(field), t) => vec![
                    text(field),
                    text(t.and_then(<[String]>::first).map_or("", String::as_str)),
                ],
                (None, Some(t)) => t.iter().map(|v| text(v)).collect(),
                (None, None) => vec![String::new(); fields.len()],
            };
            record.extend([
                count.to_string(),
                format!("{:.2}", percent(count)),
                tuple.is_none().to_string(),
            ]);
            w.write_record(&record)?;
        }
        w.flush()?;
    }
    let n = values.len() + usize::from(missing > 0);
    Ok(Msg::Exported(format!(
        "exported {n} stack rows to {}",
        super::short_path(&out)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jsonl_row_names_the_rules_tactics_and_the_events_key_fields() {
        let text = "title: t\nid: i\nlevel: high\ntags: [attack.lateral-movement, attack.t1047]\n\
                    logsource:\n    product: windows\ndetection:\n    sel:\n        Image: x\n    condition: sel\n";
        let set = crate::sigma::Loader::new()
            .expect("loader")
            .load_str(text, "t.yml");
        let rule = set.rules.first().expect("the rule loads");
        let event = Event::from_pairs(&[("Image", "x"), ("CommandLine", "x /c")]);
        let row = json_row(Some(rule), &event, "f.evtx");
        assert_eq!(row["mitre_tactics"], json!(["Lateral Movement"]));
        assert_eq!(row["mitre_tags"], json!(["T1047"]));
        assert_eq!(row["details"], "Image: x ¦ CommandLine: x /c");
        assert_eq!(row["level"], "high");
    }

    #[test]
    fn a_stack_exports_its_values_and_the_events_without_the_field() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = dir.path().join("exports").join("stack");
        let values = vec![
            (vec!["=cmd|' /c calc'!A0".to_owned()], 3),
            (vec![String::new()], 1),
        ];
        let field = ["CommandLine".to_owned()];
        write_stack(&base, false, &field, &values, 4).expect("csv");
        let csv = std::fs::read_to_string(dir.path().join("exports/stack-1.csv")).expect("csv");
        assert_eq!(
            csv,
            "field,value,count,percent,missing\n\
             CommandLine,'=cmd|' /c calc'!A0,3,37.50,false\n\
             CommandLine,,1,12.50,false\n\
             CommandLine,,4,50.00,true\n"
        );
        write_stack(&base, true, &field, &values, 4).expect("jsonl");
        let jsonl =
            std::fs::read_to_string(dir.path().join("exports/stack-1.jsonl")).expect("jsonl");
        let rows: Vec<serde_json::Value> = jsonl
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0]["value"], "=cmd|' /c calc'!A0");
        assert_eq!(rows[1]["value"], "");
        assert!(rows[2]["value"].is_null());
        assert_eq!(rows[2]["count"], 4);
        assert_eq!(rows[2]["percent"], 50.0);
    }

    #[test]
    fn a_stack_of_several_fields_writes_a_column_per_field() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = dir.path().join("stack");
        let fields = ["TargetUserName".to_owned(), "IpAddress".to_owned()];
        let values = vec![(vec!["admin".to_owned(), "10.0.0.5".to_owned()], 3)];
        write_stack(&base, false, &fields, &values, 1).expect("csv");
        let csv = std::fs::read_to_string(dir.path().join("stack-1.csv")).expect("csv");
        assert_eq!(
            csv,
            "TargetUserName,IpAddress,count,percent,missing\n\
             admin,10.0.0.5,3,75.00,false\n\
             ,,1,25.00,true\n"
        );
        write_stack(&base, true, &fields, &values, 1).expect("jsonl");
        let jsonl = std::fs::read_to_string(dir.path().join("stack-1.jsonl")).expect("jsonl");
        let rows: Vec<serde_json::Value> = jsonl
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect();
        assert_eq!(rows[0]["fields"], json!(["TargetUserName", "IpAddress"]));
        assert_eq!(rows[0]["values"], json!(["admin", "10.0.0.5"]));
        assert!(rows[1]["values"].is_null());
        assert_eq!(rows[1]["count"], 1);
    }
}
