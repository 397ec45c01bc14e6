//! `huntbench [PATH...]` / `huntbench --case DIR`: opens the workbench.

use super::{OpenArgs, case_dir};
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
    // Without inputs the case must exist, and inputs that hold no log make no new case:
    // checked here so the error is printed before the terminal is taken over.
    if args.paths.is_empty() {
        crate::index::Case::open(&dir)?;
    } else {
        crate::index::Case::check_inputs(&dir, &args.paths)?;
    }
    // The workbench runs in a child process, so the terminal is restored however it ends.
    if let Some(code) = crate::tui::supervisor::run_supervised() {
        return Ok(ExitCode::from(code));
    }
    crate::tui::run(crate::tui::TuiOptions {
        case_dir: dir,
        inputs: args.paths,
        rule_paths: args.rules.rules,
        no_default_rules: args.rules.no_default_rules,
        theme: args.theme,
    })?;
    Ok(ExitCode::SUCCESS)
}
