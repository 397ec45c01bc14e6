//! `huntbench search`: the query language over every event of a case, results in time order.

use super::truncate;
use super::{OutputFormat, SearchArgs, case_dir, ingest_cmd};
use crate::event::{Event, short_channel};
use crate::query;
use crate::sanitize::{for_terminal, json_text};
use crate::store::Backend;
use anyhow::Context;
use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: &SearchArgs, backend: &dyn Backend) -> anyhow::Result<ExitCode> {
    let (query_text, paths) = args.words.split_last().context("missing QUERY")?;
    let paths: Vec<std::path::PathBuf> = paths.iter().map(std::path::PathBuf::from).collect();
    let paths = paths.as_slice();
    // Fields are read through the mapping the rules are (the user's `mapping.yml`, if any).
    let loader = crate::rulepack::loader(&crate::rulepack::config_dir())?;
    let q = match query::parse_with(query_text, Some(loader.mapping())) {
        Ok(q) => q,
        Err(e) => {
            eprintln!("huntbench: bad query: {e}");
            eprintln!("  {query_text}");
            eprintln!("  {}^", " ".repeat(e.column.saturating_sub(1)));
            return Ok(ExitCode::from(2));
        }
    };
    let dir = case_dir::resolve(backend, args.case.case.as_deref(), paths)?;
    let opened = backend.open(&dir, paths, &Default::default(), &mut |_| {})?;
    let summary = opened.ingest;
    // A bad input path is reported and the rest searched; the exit status says so, as ingest's.
    let mut bad_paths = false;
    if let Some(summary) = summary {
        if !summary.added.is_empty() || !summary.path_errors.is_empty() {
            ingest_cmd::print_summary(&summary, &dir);
        }
        bad_paths = !summary.path_errors.is_empty();
    }
    let snapshot = opened.case.snapshot();
    let paths = crate::store::first_paths(&snapshot.sources()?);
    let limit = (args.limit > 0).then_some(args.limit);
    let out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut sink = if args.format == OutputFormat::Csv {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(CSV_COLUMNS)?;
        Sink::Csv(Box::new(w))
    } else {
        let mut out = out;
        if args.format == OutputFormat::Table {
            writeln!(
                out,
                "{:<27} {:<20} {:<12} {:>5}  DETAILS",
                "TIME", "COMPUTER", "CHANNEL", "EID"
            )?;
        }
        Sink::Lines(out)
    };
    // Rows are written as they are confirmed (one chunk of events in memory, however many
    // match); one more than the limit is looked for, to tell whether the limit cut anything.
    let mut written = 0usize;
    let mut cut = false;
    crate::store::search_each(
        &*snapshot,
        &q.prefilter(),
        &|e| q.matches(e),
        limit.map(|n| n.saturating_add(1)),
        &mut |_, event, file| -> anyhow::Result<()> {
            if limit.is_some_and(|n| written == n) {
                cut = true;
                return Ok(());
            }
            written += 1;
            let file = file_path(&paths, file);
            match &mut sink {
                Sink::Csv(w) => w.write_record(csv_row(&event, file))?,
                Sink::Lines(out) => write_row(out, args.format, &event, file)?,
            }
            Ok(())
        },
    )?;
    match sink {
        Sink::Csv(mut w) => w.flush()?,
        Sink::Lines(mut out) => out.flush()?,
    }
    if written == 0 {
        for h in q.hints() {
            eprintln!("hint: {h}");
        }
    }
    eprintln!(
        "{written} event(s){}",
        if cut {
            " (limit reached; --limit N for more, --limit 0 for all)"
        } else {
            ""
        }
    );
    Ok(ExitCode::from(if bad_paths { 2 } else { 0 }))
}

fn file_path(paths: &HashMap<u64, String>, file: u64) -> &str {
    paths.get(&file).map_or("", String::as_str)
}

const CSV_COLUMNS: [&str; 7] = [
    "timestamp",
    "computer",
    "channel",
    "event_id",
    "record_id",
    "file",
    "event",
];

type Stdout = std::io::BufWriter<std::io::StdoutLock<'static>>;

enum Sink {
    Csv(Box<csv::Writer<Stdout>>),
    Lines(Stdout),
}

fn csv_row(event: &Event, file: &str) -> [String; 7] {
    let num = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
    let ts = (event.timestamp().map(crate::event::format_timestamp)).unwrap_or_default();
    let cells = [
        ts.as_str(),
        event.computer(),
        event.channel(),
        &num(event.event_id()),
        &num(event.record_id()),
        file,
    ]
    .map(crate::sanitize::csv_text);
    let [a, b, c, d, e, f] = cells;
    [a, b, c, d, e, f, json_text(event.to_json())]
}

/// One event as a JSON line or a table row.
fn write_row(
    out: &mut impl Write,
    format: OutputFormat,
    event: &Event,
    file: &str,
) -> anyhow::Result<()> {
    let ts = (event.timestamp().map(crate::event::format_timestamp)).unwrap_or_default();
    if format == OutputFormat::Jsonl {
        let line = serde_json::json!({
            "timestamp": ts, "computer": event.computer(), "channel": event.channel(),
            "event_id": event.event_id(), "record_id": event.record_id(),
            "file": file, "event": event,
        });
        writeln!(out, "{}", json_text(line.to_string()))?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<27} {:<20} {:<12} {:>5}  {}",
        ts,
        for_terminal(&truncate(event.computer(), 20)),
        for_terminal(&truncate(short_channel(event.channel()), 12)),
        event.event_id().map(|e| e.to_string()).unwrap_or_default(),
        for_terminal(&event.summary()),
    )?;
    Ok(())
}
