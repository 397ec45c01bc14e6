//! `huntbench ingest`.

use super::IngestArgs;
use super::case_dir;
use crate::store::{Backend, IngestOptions, IngestSummary, Progress};
use indicatif::{ProgressBar, ProgressStyle};
use std::process::ExitCode;

pub fn run(args: &IngestArgs, backend: &dyn Backend) -> anyhow::Result<ExitCode> {
    let dir = case_dir::resolve(backend, args.case.case.as_deref(), &args.paths)?;
    let defaults = IngestOptions::default();
    let opts = IngestOptions {
        threads: args.threads.unwrap_or(defaults.threads),
        commit_every: args.commit_every.max(1),
        keep_duplicates: args.keep_duplicates,
        ..defaults
    };
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] files {pos}/{len} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let opened = backend.open(&dir, &args.paths, &opts, &mut |p: &Progress| {
        bar.set_length(p.files_total as u64);
        bar.set_position((p.files_done + p.files_skipped) as u64);
        bar.set_message(format!(
            "{} events, {:.0} events/s",
            p.events,
            p.events_per_sec()
        ));
    })?;
    bar.finish_and_clear();
    let summary = opened.ingest.unwrap_or_default();
    print_problems(&summary);
    if summary.folded > 0 {
        // Named by the case's sources, so a record folded into an earlier run's file says which.
        let sources = opened.case.snapshot().sources()?;
        let added: std::collections::HashSet<u64> = summary.added.iter().map(|f| f.id).collect();
        let ours: Vec<_> = sources
            .iter()
            .filter(|s| added.contains(&s.id))
            .cloned()
            .collect();
        let names = crate::store::first_paths(&sources);
        print_notes(&crate::store::folded_notes(&ours, &names));
    }
    print_totals(&summary, &dir);
    Ok(if summary.path_errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

pub fn print_summary(s: &IngestSummary, dir: &std::path::Path) {
    print_problems(s);
    print_totals(s, dir);
}

fn print_totals(s: &IngestSummary, dir: &std::path::Path) {
    let errors: u64 = s.added.iter().map(|f| f.errors).sum();
    let secs = s.elapsed.as_secs_f64().max(1e-3);
    eprintln!(
        "case {}: added {} file(s), {} events ({:.0} events/s), {} unreadable record(s), {} duplicate record(s) folded; {} input file(s) already in the case",
        dir.display(),
        s.added.len(),
        s.events_added,
        s.events_added as f64 / secs,
        errors,
        s.folded,
        s.already_indexed()
    );
}

fn print_notes(notes: &[crate::store::InputProblem]) {
    use crate::sanitize::for_terminal;
    for p in notes {
        eprintln!(
            "{}: {}: {}",
            p.kind,
            for_terminal(&p.path),
            for_terminal(&p.reason)
        );
    }
}

/// The inputs' problems and notes, one line each, as ingest and a raw export print them.
pub fn print_problems(s: &IngestSummary) {
    use crate::sanitize::for_terminal;
    for p in s.problems() {
        eprintln!(
            "{}: {}: {}",
            p.kind,
            for_terminal(&p.path),
            for_terminal(&p.reason)
        );
    }
    for (dir, n) in &s.not_logs {
        eprintln!(
            "note: {}: {n} file(s) under it are not event logs (neither .evtx/.json/.jsonl nor an \
             EVTX signature): not read",
            for_terminal(&dir.display().to_string())
        );
    }
}
