//! `huntbench scan`: runs rules over a case (ingesting given paths first) and prints the hits.

use super::timeline::{self, Row, Timeline};
use super::truncate;
use super::{ScanArgs, ScanFormat, case_dir, ingest_cmd};
use crate::event::{Event, short_channel};
use crate::hunt;
use crate::rulepack;
use crate::sanitize::{csv_text, for_terminal, json_text};
use crate::sigma::{CompiledRule, Correlation, correlation};
use crate::store::{Backend, EventRef, EventStore};
use anyhow::Context;
use rayon::prelude::*;
use serde_json::json;
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: &ScanArgs, backend: &dyn Backend) -> anyhow::Result<ExitCode> {
    #[cfg(feature = "remote")]
    if let (Some(url), Some(table)) = (&args.remote, &args.table) {
        return super::remote_scan::run(args, url, table);
    }
    let dir = case_dir::resolve(backend, args.case.case.as_deref(), &args.paths)?;
    // Rules first: a --rules path that cannot be read refuses the scan before anything is
    // ingested, rather than a scan without those rules that looks complete.
    // Tuning overlays of the case and the user apply here exactly as in the workbench.
    let (set, read_errors) = super::case_rules(&args.rules, &dir, args.skip_impossible_4688)?;
    if !read_errors.is_empty() {
        for e in &read_errors {
            eprintln!("error: cannot read rules: {e}");
        }
        eprintln!("huntbench: not scanning: fix or leave out the rule paths above");
        return Ok(ExitCode::from(2));
    }
    // Without inputs there is nothing to create: a mistyped --case is an error, not an empty case.
    let opened = backend.open(&dir, &args.paths, &Default::default(), &mut |_| {})?;
    let summary = opened.ingest;
    // A bad input path is reported and the rest scanned; the exit status says so, as ingest's.
    let mut bad_paths = false;
    if let Some(summary) = summary {
        ingest_cmd::print_summary(&summary, &dir);
        bad_paths = !summary.path_errors.is_empty();
    }
    for r in set.errors.iter().chain(&set.unsupported) {
        eprintln!("rule not loaded: {}", for_terminal(&r.error.to_string()));
    }
    for line in rulepack::replacement_notes(&set.replaced) {
        eprintln!("{}", for_terminal(&line));
    }
    print_sources(
        &rulepack::sources(&set, &rulepack::config_dir()),
        args.verbose,
    );
    // The level decides what is output; what an output correlation counts runs regardless.
    let min = args.min_level;
    let sel = hunt::select_by_level(&set.rules, &set.correlations, min);
    let rules: Vec<&CompiledRule> = sel.rules.iter().map(|&i| &set.rules[i]).collect();
    let correlations: Vec<Correlation> = sel
        .correlations
        .iter()
        .map(|&i| set.correlations[i].clone())
        .collect();
    let snapshot = opened.case.snapshot();
    // Rules and correlations referenced by a correlation with `generate: false` only alert
    // through it (whether or not that correlation is output at this level).
    let silenced =
        |id: Option<&str>, name: Option<&str>| correlation::silenced(&set.correlations, id, name);
    // Only the hits correlations count are kept; the rest are written as each rule finishes.
    let counted: Vec<bool> = (rules.iter())
        .map(|r| {
            let (id, name) = (r.meta.id.as_deref(), r.meta.name.as_deref());
            correlations.iter().any(|c| c.references(id, name))
        })
        .collect();
    let mut kept: Vec<Vec<EventRef>> = vec![Vec::new(); rules.len()];
    let out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut writer = HitWriter::new(args.format, out)?;
    // Read once: the manifest names every source file, thousands in a large case.
    let paths = crate::store::first_paths(&snapshot.sources()?);
    let (mut written, mut fed) = (0, 0);
    let started = std::time::Instant::now();
    let memo = (!args.rerun_all)
        .then(|| hunt::Memo::open(&dir, &*snapshot))
        .flatten();
    let run = hunt::run_each_memo(
        &*snapshot,
        &rules,
        memo.as_ref(),
        |i, hits| -> anyhow::Result<()> {
            let rule = rules[i];
            let meta = &rule.meta;
            if sel.rules_shown[i] && silenced(meta.id.as_deref(), meta.name.as_deref()) {
                fed += hits.len();
            } else if sel.rules_shown[i] {
                // Events are read and their lines formatted on every core, a chunk at a time so
                // that a rule with many hits does not hold all its lines; written in order.
                for chunk in hits.chunks(OUTPUT_CHUNK) {
                    let lines: Vec<(Option<jiff::Timestamp>, Vec<u8>)> = chunk
                        .par_iter()
                        .map(|r| -> anyhow::Result<_> {
                            let (event, file) = snapshot.event(*r)?;
                            let file_path = paths.get(&file).map_or("", String::as_str);
                            let detail = rule.matches(&event);
                            let line = format_hit(args.format, rule, &event, file_path, detail)?;
                            Ok((event.timestamp(), line))
                        })
                        .collect::<anyhow::Result<_>>()?;
                    for (at, line) in lines {
                        writer.write(at, line)?;
                    }
                }
                written += hits.len();
            }
            if counted[i] {
                kept[i] = hits;
            }
            Ok(())
        },
    )?;
    let elapsed = started.elapsed();
    let kept: Vec<&[EventRef]> = kept.iter().map(Vec::as_slice).collect();
    let corr_results = hunt::correlate_hits(&*snapshot, &correlations, &rules, &kept)?;
    let mut corr_hits = 0;
    for (k, (corr, hits)) in correlations.iter().zip(&corr_results).enumerate() {
        if !sel.correlations_shown[k] {
            continue;
        }
        if silenced(corr.meta.id.as_deref(), corr.meta.name.as_deref()) {
            fed += hits.len();
            continue;
        }
        corr_hits += hits.len();
        for hit in hits {
            let line = format_correlation(args.format, corr, hit, &*snapshot)?;
            writer.write(Some(hit.first), line)?;
        }
    }
    writer.finish()?;
    // The counts are of what was output; silenced hits are stated apart.
    let shown = sel.rules_shown.iter().filter(|s| **s).count();
    let mut summary = format!(
        "{shown} rule(s) over {} events: {written} hit(s), {corr_hits} correlation hit(s) in {elapsed:.0?}",
        snapshot.num_events(),
    );
    if run.remembered > 0 {
        summary.push_str(&format!(
            "; the hits of {} unchanged rule(s) were read from an earlier scan of this case (--rerun-all evaluates them again)",
            run.remembered
        ));
    }
    if fed > 0 {
        summary.push_str(&format!(
            "; {fed} more hit(s) not output: they only feed correlations (generate: false)"
        ));
    }
    let feeding = rules.len() - shown;
    if feeding > 0 {
        summary.push_str(&format!(
            "; {feeding} rule(s) below --min-level ran only to feed correlations"
        ));
    }
    eprintln!("{summary}");
    Ok(ExitCode::from(if bad_paths { 2 } else { 0 }))
}

/// Where the rules came from; your own rules run in every scan, so they are always counted
/// (a search saved as a rule would otherwise run unnoticed) and `--verbose` names them.
pub(super) fn print_sources(sources: &rulepack::Sources, verbose: bool) {
    let mut line = sources.summary();
    if !verbose && !sources.own.is_empty() {
        line.push_str(" (--verbose names them)");
    }
    eprintln!("{}", for_terminal(&line));
    if verbose {
        for (title, file) in &sources.own {
            eprintln!(
                "  your rule: {} ({})",
                for_terminal(title),
                for_terminal(file)
            );
        }
    }
}

/// Hits read and formatted together; bounds the lines held at once.
const OUTPUT_CHUNK: usize = 1024;

/// Writes hit lines in one of the output formats (the CSV header first). A timeline is in
/// time order, so its lines go to a temporary file as the rules finish and are written from
/// there sorted at the end (ties in output order): memory holds 24 bytes a hit, not its line.
/// The other formats stream as the rules finish.
pub(super) struct HitWriter<W: Write> {
    out: W,
    held: Option<Spill>,
}

/// Timeline lines waiting for their turn: the lines in a file, their times and places in memory.
struct Spill {
    file: std::io::BufWriter<std::fs::File>,
    /// (time, offset, length) of each line, in the order written.
    index: Vec<(Option<jiff::Timestamp>, u64, u32)>,
    written: u64,
}

impl Spill {
    fn new() -> anyhow::Result<Spill> {
        Ok(Spill {
            file: std::io::BufWriter::new(tempfile::tempfile()?),
            index: Vec::new(),
            written: 0,
        })
    }

    fn push(&mut self, at: Option<jiff::Timestamp>, line: &[u8]) -> anyhow::Result<()> {
        self.file.write_all(line)?;
        self.index.push((at, self.written, line.len() as u32));
        self.written += line.len() as u64;
        Ok(())
    }

    /// Every line, in time order, to `out`.
    fn drain(mut self, out: &mut impl Write) -> anyhow::Result<()> {
        use std::io::{Read, Seek, SeekFrom};
        self.index.sort_by_key(|(at, _, _)| *at);
        let mut file = self.file.into_inner().map_err(|e| e.into_error())?;
        let mut line = Vec::new();
        for (_, offset, len) in self.index {
            line.resize(len as usize, 0);
            file.seek(SeekFrom::Start(offset))?;
            file.read_exact(&mut line)?;
            out.write_all(&line)?;
        }
        Ok(())
    }
}

impl<W: Write> HitWriter<W> {
    pub(super) fn new(format: ScanFormat, mut out: W) -> anyhow::Result<HitWriter<W>> {
        match format {
            ScanFormat::Jsonl => {}
            ScanFormat::Table => writeln!(
                out,
                "{:<27} {:<8} {:<44} {:<20} {:<12} {:>5}  DETAILS",
                "TIME", "LEVEL", "RULE", "COMPUTER", "CHANNEL", "EID"
            )?,
            ScanFormat::Csv => out.write_all(&super::csv_line(crate::hunt::HIT_CSV_COLUMNS)?)?,
            ScanFormat::TimelineCsv => out.write_all(&timeline::header(Timeline::Csv)?)?,
            ScanFormat::TimelineJsonl | ScanFormat::Timesketch => {}
        }
        let timeline = matches!(
            format,
            ScanFormat::TimelineCsv | ScanFormat::TimelineJsonl | ScanFormat::Timesketch
        );
        Ok(HitWriter {
            out,
            held: timeline.then(Spill::new).transpose()?,
        })
    }

    pub(super) fn write(
        &mut self,
        at: Option<jiff::Timestamp>,
        line: Vec<u8>,
    ) -> anyhow::Result<()> {
        match &mut self.held {
            Some(held) => held.push(at, &line)?,
            None => self.out.write_all(&line)?,
        }
        Ok(())
    }

    pub(super) fn finish(mut self) -> anyhow::Result<()> {
        if let Some(held) = self.held.take() {
            held.drain(&mut self.out)?;
        }
        self.out.flush()?;
        Ok(())
    }
}

/// A rule hit as a JSON line (serialised directly, in this field order).
#[derive(serde::Serialize)]
struct HitLine<'a> {
    rule_id: Option<&'a str>,
    rule_title: &'a str,
    level: Option<&'a str>,
    timestamp: &'a str,
    computer: &'a str,
    channel: &'a str,
    event_id: Option<u64>,
    record_id: Option<u64>,
    file: &'a str,
    /// ATT&CK tactic names and technique/group/software ids from the rule's tags.
    mitre_tactics: Vec<String>,
    mitre_tags: Vec<String>,
    /// The event's key fields, flattened (a timeline's `Details`).
    details: String,
    matched: Option<&'a crate::sigma::MatchDetail>,
    event: &'a Event,
}

/// A rule hit as one line (ended by a newline) of `format`.
pub(super) fn format_hit(
    format: ScanFormat,
    rule: &CompiledRule,
    event: &Event,
    file: &str,
    detail: Option<crate::sigma::MatchDetail>,
) -> anyhow::Result<Vec<u8>> {
    let ts = (event.timestamp().map(crate::event::format_timestamp)).unwrap_or_default();
    // A field two selections matched is named once.
    let mut matched: Vec<String> = Vec::new();
    for f in detail.iter().flat_map(|d| d.fields.iter()) {
        let pair = format!("{}={}", f.event_field, f.value);
        if !matched.contains(&pair) {
            matched.push(pair);
        }
    }
    Ok(match format {
        ScanFormat::Jsonl => {
            let attack = crate::attack::RuleAttack::from_tags(&rule.meta.tags);
            let line = HitLine {
                rule_id: rule.id(),
                rule_title: rule.title(),
                level: rule.meta.level_text(),
                timestamp: &ts,
                computer: event.computer(),
                channel: event.channel(),
                event_id: event.event_id(),
                record_id: event.record_id(),
                file,
                mitre_tactics: attack.tactics,
                mitre_tags: attack.ids,
                details: crate::event::flatten_fields(&event.key_fields()),
                matched: detail.as_ref(),
                event,
            };
            let mut text = json_text(serde_json::to_string(&line)?);
            text.push('\n');
            text.into_bytes()
        }
        ScanFormat::Csv => super::csv_line(crate::hunt::hit_csv_row(
            Some(&rule.meta),
            event,
            file,
            detail.as_ref(),
        ))?,
        // The event as the workbench's lists summarise it (one summary for both).
        ScanFormat::Table => format!(
            "{:<27} {:<8} {:<44} {:<20} {:<12} {:>5}  {}\n",
            ts,
            rule.meta.level_text().unwrap_or("-"),
            for_terminal(&truncate(rule.title(), 44)),
            for_terminal(&truncate(event.computer(), 20)),
            for_terminal(&truncate(short_channel(event.channel()), 12)),
            event.event_id().map(|e| e.to_string()).unwrap_or_default(),
            for_terminal(&event.summary()),
        )
        .into_bytes(),
        ScanFormat::TimelineCsv => Row::hit(&rule.meta, event, file).line(Timeline::Csv)?,
        ScanFormat::TimelineJsonl => Row::hit(&rule.meta, event, file).line(Timeline::Jsonl)?,
        ScanFormat::Timesketch => (Row::hit(&rule.meta, event, file)).line(Timeline::Timesketch)?,
    })
}

/// A correlation hit as one line of `format`.
pub(super) fn format_correlation(
    format: ScanFormat,
    corr: &crate::sigma::Correlation,
    hit: &crate::sigma::CorrelationHit<EventRef>,
    snapshot: &dyn EventStore,
) -> anyhow::Result<Vec<u8>> {
    let mut events = Vec::new();
    for r in &hit.keys {
        events.push(snapshot.event(*r).context("reading a correlated event")?.0);
    }
    let row = || Row::correlation(&corr.meta, hit.first, &hit.group, &events);
    let group: Vec<String> = hit.group.iter().map(|(k, v)| format!("{k}={v}")).collect();
    Ok(match format {
        ScanFormat::Jsonl => {
            let line = json!({
                "rule_id": corr.meta.id,
                "rule_title": corr.meta.title,
                "level": corr.meta.level_text(),
                "timestamp": crate::event::format_timestamp(hit.first),
                "last_timestamp": crate::event::format_timestamp(hit.last),
                "correlation": format!("{:?}", corr.kind),
                "group": hit.group,
                "value": hit.value,
                "events": events,
            });
            format!("{}\n", json_text(line.to_string())).into_bytes()
        }
        ScanFormat::Csv => {
            let attack = crate::attack::RuleAttack::from_tags(&corr.meta.tags);
            super::csv_line(
                [
                    crate::event::format_timestamp(hit.first).as_str(),
                    corr.meta.id.as_deref().unwrap_or_default(),
                    &corr.meta.title,
                    corr.meta.level_text().unwrap_or_default(),
                    "",
                    "",
                    "",
                    "",
                    "",
                    &attack.tactics.join(" ¦ "),
                    &attack.ids.join(" ¦ "),
                    "",
                    &format!("{} events; {}", events.len(), group.join("; ")),
                ]
                .map(csv_text)
                .into_iter()
                .chain([json_text(serde_json::to_string(&events)?)]),
            )?
        }
        ScanFormat::Table => format!(
            "{:<27} {:<8} {:<44} {:<20} {:<12} {:>5}  correlation of {} events: {}\n",
            crate::event::format_timestamp(hit.first),
            corr.meta.level_text().unwrap_or("-"),
            for_terminal(&truncate(&corr.meta.title, 44)),
            "",
            "",
            "",
            events.len(),
            for_terminal(&group.join("; ")),
        )
        .into_bytes(),
        ScanFormat::TimelineCsv => row().line(Timeline::Csv)?,
        ScanFormat::TimelineJsonl => row().line(Timeline::Jsonl)?,
        ScanFormat::Timesketch => row().line(Timeline::Timesketch)?,
    })
}
