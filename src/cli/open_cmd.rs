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
    if let (Some(url), Some(table)) = (args.remote.take(), args.table.take()) {
        anyhow::ensure!(
            args.paths.is_empty(),
            "--remote opens the events the server holds: pass no PATHs (export logs with \
             `huntbench export` and name the export with --table)"
        );
        let dir = match args.case.case {
            Some(dir) => dir,
            None => case_dir::remote_state_dir(&url, &table)?,
        };
        return Ok(Outcome::Workbench(WorkbenchRequest {
            case_dir: dir,
            inputs: Vec::new(),
            rule_paths: args.rules.rules,
            no_default_rules: args.rules.no_default_rules,
            theme: args.theme,
            remote: Some(super::RemoteTable { url, table }),
        }));
    }
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
        remote: None,
    }))
}
