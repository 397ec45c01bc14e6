//! `huntbench [PATH...]` / `huntbench --case DIR`: opens the workbench.

use super::{OpenArgs, OutputFormat, ScanArgs, case_dir};
use std::path::PathBuf;
use std::process::ExitCode;

/// The bundled demo logs, when running from a checkout (`cargo run --release`).
fn bundled_samples() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/samples"));
    dir.is_dir().then_some(dir)
}

pub fn run(mut args: OpenArgs) -> anyhow::Result<ExitCode> {
    if args.paths.is_empty() && args.case.case.is_none() {
        match bundled_samples() {
            Some(samples) => args.paths.push(samples),
            None => anyhow::bail!("nothing to open: pass event log PATHs or --case DIR"),
        }
    }
    let dir = case_dir::resolve(args.case.case.as_deref(), &args.paths)?;
    // Until the workbench lands, the most useful headless view: every detection, in time order.
    let scan = ScanArgs {
        case: super::CaseArgs { case: Some(dir) },
        rules: args.rules,
        no_default_rules: args.no_default_rules,
        min_level: None,
        format: OutputFormat::Table,
        paths: args.paths,
    };
    super::scan_cmd::run(&scan)
}
