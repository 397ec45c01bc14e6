//! Command-line interface: argument definitions and one module per subcommand.
//!
//! Not for: engine logic. Subcommands call `ingest`/`index`/`sigma` and format their results.

mod case_dir;
mod ingest_cmd;
mod stats_cmd;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

pub use case_dir::default_case_dir;

#[derive(Debug, Parser)]
#[command(
    name = "huntbench",
    version,
    about = "Threat-hunting workbench for Windows event logs"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load EVTX/JSON/JSONL files or directories into a case index
    Ingest(IngestArgs),
    /// Summarise a case: events by channel, EventID, computer, and the time range
    Stats(CaseArgs),
}

/// Where the case lives: `--case DIR`, or a cache directory keyed by the input paths.
#[derive(Debug, Args)]
pub struct CaseArgs {
    /// Case directory (created if needed)
    #[arg(long, value_name = "DIR")]
    pub case: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    #[command(flatten)]
    pub case: CaseArgs,
    /// Files or directories to load (read-only)
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Reader threads (default: number of cores)
    #[arg(long)]
    pub threads: Option<usize>,
    /// Commit every N events (a killed ingest resumes from the last commit)
    #[arg(long, default_value_t = 500_000, hide = true)]
    pub commit_every: u64,
    /// No progress bar
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Some(Command::Ingest(args)) => ingest_cmd::run(&args),
        Some(Command::Stats(args)) => stats_cmd::run(&args),
        None => {
            use clap::CommandFactory;
            Cli::command().print_help()?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
