//! The `huntbench` binary: picks the face. The command line runs commands; when it asks for
//! the workbench, the workbench opens here.

use clap::Parser;
use huntbench::cli::{Outcome, WorkbenchRequest};
use huntbench::store::Backend;
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    let args = huntbench::cli::Cli::parse();
    // Cases are kept in the local index; a face reaches them only through this backend.
    let backend: Arc<dyn Backend> = Arc::new(huntbench::index::IndexBackend);
    match huntbench::cli::run(args, &*backend).and_then(|outcome| match outcome {
        Outcome::Done(code) => Ok(code),
        Outcome::Workbench(request) => open_workbench(backend, request),
    }) {
        Ok(code) => code,
        Err(err) => {
            // A closed pipe (`huntbench search … | head`) is not a failure.
            if err.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("huntbench: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn open_workbench(
    backend: Arc<dyn Backend>,
    request: WorkbenchRequest,
) -> anyhow::Result<ExitCode> {
    // Events on a Spark Connect server are reached through the remote store instead.
    let backend = match &request.remote {
        Some(table) => remote_backend(table)?,
        None => backend,
    };
    // The workbench runs in a child process, so the terminal is restored however it ends.
    if let Some(code) = huntbench::tui::supervisor::run_supervised() {
        return Ok(ExitCode::from(code));
    }
    huntbench::tui::run(
        backend,
        huntbench::tui::TuiOptions {
            case_dir: request.case_dir,
            inputs: request.inputs,
            rule_paths: request.rule_paths,
            no_default_rules: request.no_default_rules,
            theme: request.theme,
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "remote")]
fn remote_backend(table: &huntbench::cli::RemoteTable) -> anyhow::Result<Arc<dyn Backend>> {
    use huntbench::remote::store::{RemoteBackend, TableSource};
    Ok(Arc::new(RemoteBackend {
        url: table.url.clone(),
        source: TableSource::parse(&table.table),
        watch: huntbench::remote::store::WATCH,
    }))
}

#[cfg(not(feature = "remote"))]
fn remote_backend(_: &huntbench::cli::RemoteTable) -> anyhow::Result<Arc<dyn Backend>> {
    anyhow::bail!(
        "this huntbench was built without Spark Connect: build it with `cargo build --release \
         --features remote` (needs protoc and the protobuf includes, see scripts/remote-deps) \
         to open --remote"
    )
}
