//! `huntbench export`.

use super::{ExportArgs, ExportFormat};
use crate::export::{ExportOptions, ExportSummary};
use crate::sanitize::for_terminal;
use std::process::ExitCode;

pub fn run(args: &ExportArgs, _backend: &dyn crate::store::Backend) -> anyhow::Result<ExitCode> {
    let ExportFormat::Parquet = args.format;
    let defaults = ExportOptions::default();
    let opts = ExportOptions {
        threads: args.threads.unwrap_or(defaults.threads).max(1),
        keep_duplicates: args.keep_duplicates,
    };
    let summary = match (&args.case, args.paths.is_empty()) {
        (Some(case), true) => crate::export::export_case(case, &args.output, &opts)?,
        (None, false) => crate::export::export_paths(&args.paths, &args.output, &opts)?,
        (Some(_), false) => anyhow::bail!(
            "give --case DIR (export a case) or PATHs (export logs without a case), not both"
        ),
        (None, true) => {
            anyhow::bail!("nothing to export: give --case DIR or the PATHs of event logs")
        }
    };
    let path_errors = summary
        .inputs
        .as_ref()
        .is_some_and(|i| !i.path_errors.is_empty());
    print_summary(&summary, &args.output);
    Ok(if path_errors {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_summary(s: &ExportSummary, out: &std::path::Path) {
    let mut unreadable = 0;
    let mut from = String::from("the case");
    if let Some(inputs) = &s.inputs {
        super::ingest_cmd::print_problems(inputs);
        unreadable = inputs.added.iter().map(|f| f.errors).sum();
        from = format!("{} file(s)", inputs.added.len());
    }
    eprintln!(
        "exported {} events from {from} to {}: {} Parquet file(s) in {} day partition(s) \
         ({:.0} events/s), {unreadable} unreadable record(s)",
        s.events,
        for_terminal(&out.display().to_string()),
        s.files_written,
        s.partitions,
        s.events as f64 / s.elapsed.as_secs_f64().max(1e-3),
    );
}
