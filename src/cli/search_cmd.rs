//! `huntbench search`: the query language over every event of a case, results in time order.

use super::{OutputFormat, SearchArgs, case_dir, ingest_cmd};
use crate::index::{Case, IngestOptions};
use crate::query;
use crate::sanitize::{for_terminal, json_text};
use anyhow::Context;
use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: &SearchArgs) -> anyhow::Result<ExitCode> {
    let (query_text, paths) = args.words.split_last().context("missing QUERY")?;
    let paths: Vec<std::path::PathBuf> = paths.iter().map(std::path::PathBuf::from).collect();
    let paths = paths.as_slice();
    let q = match query::parse(query_text) {
        Ok(q) => q,
        Err(e) => {
            eprintln!("huntbench: bad query: {e}");
            eprintln!("  {query_text}");
            eprintln!("  {}^", " ".repeat(e.column.saturating_sub(1)));
            return Ok(ExitCode::from(2));
        }
    };
    let dir = case_dir::resolve(args.case.case.as_deref(), paths)?;
    let mut case = if paths.is_empty() {
        Case::open(&dir)?
    } else {
        Case::open_or_create(&dir)?
    };
    // A bad input path is reported and the rest searched; the exit status says so, as ingest's.
    let mut bad_paths = false;
    if !paths.is_empty() {
        let summary = case.ingest(paths, &IngestOptions::default(), &mut |_| {})?;
        if !summary.added.is_empty() || !summary.path_errors.is_empty() {
            ingest_cmd::print_summary(&summary, &dir);
        }
        bad_paths = !summary.path_errors.is_empty();
    }
    let snapshot = case.snapshot();
    // One more than wanted tells whether the limit cut anything.
    let mut hits = snapshot.search(
        &q.prefilter(),
        &|e| q.matches(e),
        args.limit.saturating_add(1),
    )?;
    let cut = hits.len() > args.limit;
    hits.truncate(args.limit);
    let paths = case.manifest()?.first_paths();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if args.format == OutputFormat::Csv {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record([
            "timestamp",
            "computer",
            "channel",
            "event_id",
            "record_id",
            "file",
            "event",
        ])?;
        for (_, event, file) in &hits {
            let cells = [
                event
                    .timestamp()
                    .map(crate::event::format_timestamp)
                    .unwrap_or_default()
                    .as_str(),
                event.computer(),
                event.channel(),
                &event.event_id().map(|e| e.to_string()).unwrap_or_default(),
                &event.record_id().map(|e| e.to_string()).unwrap_or_default(),
                file_path(&paths, *file),
            ]
            .map(crate::sanitize::csv_text);
            w.write_record(cells.into_iter().chain([json_text(event.to_json())]))?;
        }
        w.flush()?;
    }
    for (_, event, file) in hits.iter().filter(|_| args.format != OutputFormat::Csv) {
        let ts = event
            .timestamp()
            .map(crate::event::format_timestamp)
            .unwrap_or_default();
        if args.format == OutputFormat::Jsonl {
            let line = serde_json::json!({
                "timestamp": ts, "computer": event.computer(), "channel": event.channel(),
                "event_id": event.event_id(), "record_id": event.record_id(),
                "file": file_path(&paths, *file), "event": event,
            });
            writeln!(out, "{}", json_text(line.to_string()))?;
            continue;
        }
        let summary: Vec<String> = event
            .fields
            .iter()
            .filter(|(k, _)| super::TABLE_FIELDS.contains(&k.as_str()))
            .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}")))
            .collect();
        writeln!(
            out,
            "{:<27} {:<20} {:>5}  {}",
            ts,
            for_terminal(event.computer()),
            event.event_id().map(|e| e.to_string()).unwrap_or_default(),
            for_terminal(&summary.join("  ")),
        )?;
    }
    out.flush()?;
    if hits.is_empty() {
        for h in q.hints() {
            eprintln!("hint: {h}");
        }
    }
    eprintln!(
        "{} event(s){}",
        hits.len(),
        if cut {
            " (limit reached; --limit N for more)"
        } else {
            ""
        }
    );
    Ok(ExitCode::from(if bad_paths { 2 } else { 0 }))
}

fn file_path(paths: &HashMap<u64, String>, file: u64) -> &str {
    paths.get(&file).map_or("", String::as_str)
}
