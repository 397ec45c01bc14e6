//! `huntbench [PATH...]` / `huntbench --case DIR`: checks what to open in the workbench. The
//! workbench is another face of huntbench, opened by `main`, not by the command line.

use super::{OpenArgs, Outcome, WorkbenchRequest, case_dir};
use std::path::PathBuf;

/// The bundled demo logs, when running from a checkout (`cargo run --release`).
fn bundled_samples() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/samples"));
    dir.is_dir().then_some(dir)
}

pub fn run(mut args: OpenArgs, backend: &dyn crate::store::Backend) -> anyhow::Result<Outcome> {
    if args.paths.is_empty() && args.case.case.is_none() {
        match bundled_samples() {
            Some(samples) => args.paths.push(samples),
            None => anyhow::bail!("nothing to open: pass event log PATHs or --case DIR"),
        }
    }
    let dir = case_dir::resolve(backend, args.case.case.as_deref(), &args.paths)?;
    // Without inputs the case must exist, and inputs that hold no log make no new case:
    // checked here so the error is printed before the terminal is taken over.
    backend.check(&dir, &args.paths)?;
    Ok(Outcome::Workbench(WorkbenchRequest {
        case_dir: dir,
        inputs: args.paths,
        rule_paths: args.rules.rules,
        no_default_rules: args.rules.no_default_rules,
        theme: args.theme,
    }))
}
