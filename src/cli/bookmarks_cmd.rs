//! `huntbench bookmarks`: the case's bookmarks in time order, with their notes and tags, and
//! whether the case (as opened through the backend) still holds each one's event.

use super::{BookmarksArgs, OutputFormat, case_dir, truncate};
use crate::bookmarks::{Bookmark, Bookmarks};
use crate::sanitize::{csv_text, for_terminal, json_text};
use crate::store::Backend;
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: &BookmarksArgs, backend: &dyn Backend) -> anyhow::Result<ExitCode> {
    let dir = case_dir::resolve(backend, args.case.case.as_deref(), &[])?;
    let store = backend
        .open(&dir, &[], &Default::default(), &mut |_| {})?
        .case
        .snapshot();
    let (marks, warnings) = Bookmarks::load(&dir)?;
    for w in &warnings {
        eprintln!("warning: {}", for_terminal(w));
    }
    let rows: Vec<(&Bookmark, bool)> = (marks.resolve_all(&*store)?.into_iter())
        .map(|(b, r)| (b, r.is_some()))
        .collect();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let tags = |b: &Bookmark| {
        let tags: Vec<String> = b.tags.iter().map(|t| format!("#{t}")).collect();
        tags.join(" ")
    };
    let eid = |b: &Bookmark| b.event_id.map(|e| e.to_string()).unwrap_or_default();
    let time = |b: &Bookmark| b.event.time.clone().unwrap_or_default();
    let rule = |b: &Bookmark| b.rule.as_ref().map(|r| r.title.clone()).unwrap_or_default();
    match args.format {
        OutputFormat::Table => {
            writeln!(
                out,
                "{:<28} {:<24} {:>5} {:<20} {:<40} EVENT",
                "TIME", "COMPUTER", "EID", "TAGS", "NOTE"
            )?;
            for (b, found) in &rows {
                // `?`: the event is not in the case.
                let gone = if *found { "" } else { "? " };
                writeln!(
                    out,
                    "{:<28} {:<24} {:>5} {:<20} {:<40} {gone}{}",
                    time(b),
                    for_terminal(&truncate(&b.event.computer, 24)),
                    eid(b),
                    for_terminal(&truncate(&tags(b), 20)),
                    for_terminal(&truncate(&b.note, 40)),
                    for_terminal(&truncate(&b.summary, 120)),
                )?;
            }
        }
        OutputFormat::Jsonl => {
            for (b, found) in &rows {
                let mut line = serde_json::to_value(b)?;
                if let Some(obj) = line.as_object_mut() {
                    obj.insert("in_case".into(), (*found).into());
                }
                writeln!(out, "{}", json_text(line.to_string()))?;
            }
        }
        OutputFormat::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record([
                "time",
                "computer",
                "channel",
                "event_id",
                "record_id",
                "rule_title",
                "tags",
                "note",
                "summary",
                "in_case",
                "added",
            ])?;
            for (b, found) in &rows {
                w.write_record([
                    time(b),
                    csv_text(&b.event.computer),
                    csv_text(&b.event.channel),
                    eid(b),
                    (b.event.record_id)
                        .map(|r| r.to_string())
                        .unwrap_or_default(),
                    csv_text(&rule(b)),
                    csv_text(&tags(b)),
                    csv_text(&b.note),
                    csv_text(&b.summary),
                    found.to_string(),
                    b.added.clone(),
                ])?;
            }
            w.flush()?;
        }
    }
    out.flush()?;
    let gone = rows.iter().filter(|(_, found)| !found).count();
    match gone {
        0 => eprintln!("{} bookmark(s)", rows.len()),
        n => eprintln!("{} bookmark(s), {n} of them not in the case", rows.len()),
    }
    Ok(ExitCode::SUCCESS)
}
