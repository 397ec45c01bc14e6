//! Command-line interface: argument definitions and one module per subcommand.
//!
//! Not for: engine logic. Subcommands call `ingest`/`index`/`sigma` and format their results.

mod bookmarks_cmd;
mod case_dir;
mod export_cmd;
mod ingest_cmd;
mod logons_cmd;
mod open_cmd;
#[cfg(feature = "remote")]
mod remote_scan;
mod report_cmd;
mod rules_cmd;
mod scan_cmd;
mod search_cmd;
mod stats_cmd;
mod synth_cmd;
mod timeline;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

pub use case_dir::default_case_dir;

#[derive(Debug, Parser)]
#[command(
    name = "huntbench",
    version,
    about = "Threat-hunting workbench for Windows event logs",
    long_about = "Threat-hunting workbench for Windows event logs.\n\n\
        Without a subcommand, opens the workbench on PATHs (ingested into a case first) or on \
        --case DIR; with neither, on the samples/ of the source checkout it was built from.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(flatten)]
    pub open: OpenArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Opening the workbench (no subcommand).
#[derive(Debug, Args)]
pub struct OpenArgs {
    #[command(flatten)]
    pub case: CaseArgs,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Theme name (dark, light) or a theme .toml file
    #[arg(long)]
    pub theme: Option<String>,
    /// Open the workbench on events a Spark Connect server holds (sc://HOST:PORT), written by
    /// `huntbench export` (needs a huntbench built with `--features remote`)
    #[arg(long, value_name = "URL", requires = "table")]
    pub remote: Option<String>,
    /// With --remote: the export's Parquet location as the server reads it, or a table name
    #[arg(long, value_name = "SOURCE", requires = "remote")]
    pub table: Option<String>,
    /// Event logs to ingest before opening
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load EVTX/JSON/JSONL files or directories into a case index
    Ingest(IngestArgs),
    /// Summarise a case: events by channel, EventID, computer, and the time range
    Stats(CaseArgs),
    /// List the case's logon sessions: who, from where, when, processes and rule hits in each
    Logons(LogonsArgs),
    /// List host → host edges of lateral movement (network and remote-interactive logons,
    /// explicit credentials) with their users and the rule hits in their sessions
    Lateral(LogonsArgs),
    /// List the case's bookmarks in time order, with their notes and tags
    Bookmarks(BookmarksArgs),
    /// Write a Markdown report of the case: inputs, detections by level and ATT&CK tactic,
    /// lateral movement, hosts and users, high and critical hits in detail, rules and overlays
    Report(ReportArgs),
    /// Search every event with the query language (ingesting PATHs first): [PATH...] QUERY
    Search(SearchArgs),
    /// Run Sigma rules over a case (ingesting PATHs first) and print the hits
    Scan(ScanArgs),
    /// Write a case, or event logs without a case, as Parquet (day partitions) for other engines
    Export(ExportArgs),
    /// Write a demo EVTX file from a scenario (without arguments: list the scenarios)
    Synth(SynthArgs),
    /// Work with rules
    #[command(subcommand)]
    Rules(RulesCommand),
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Report, per rule, whether it loads, is unsupported or broken, and why
    Check(RulesCheckArgs),
    /// Download SigmaHQ's current rule release (or install one from --from) into the config
    /// directory, where its Windows rules load by default
    Update(RulesUpdateArgs),
}

#[derive(Debug, Args)]
pub struct RulesUpdateArgs {
    /// Install from a local zip archive or checkout folder instead of downloading
    #[arg(long, value_name = "FILE.zip|DIR", conflicts_with = "url")]
    pub from: Option<PathBuf>,
    /// Download from this URL (a mirror) instead of SigmaHQ's latest release
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Jsonl,
    Csv,
    Table,
}

/// What `scan` writes: its own hit lines, or a triage timeline other tools load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ScanFormat {
    Jsonl,
    Csv,
    Table,
    /// CSV in the columns of Hayabusa's `verbose` profile (Timeline Explorer, Takajo, Elastic)
    TimelineCsv,
    /// JSON lines with the keys of Hayabusa's `verbose` profile
    TimelineJsonl,
    /// JSON lines for Timesketch's importer (`message`, `datetime`, `timestamp_desc`)
    Timesketch,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub case: CaseArgs,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Output only rules and correlations at or above this level (the rules a correlation
    /// counts still run for it, whatever their level)
    /// (informational, low, medium, high, critical)
    #[arg(long, value_name = "LEVEL", value_parser = level_arg)]
    pub min_level: Option<crate::sigma::Level>,
    /// Inexact, like Hayabusa: skip process_creation rules on Security 4688 events when a
    /// positive selection needs a field 4688 lacks (e.g. ParentCommandLine)
    #[arg(long)]
    pub skip_impossible_4688: bool,
    /// Evaluate every rule, also those whose hits an earlier scan of the unchanged case
    /// remembered (by default those are read back, not evaluated again)
    #[arg(long)]
    pub rerun_all: bool,
    #[arg(long, value_enum, default_value_t = ScanFormat::Table)]
    pub format: ScanFormat,
    /// Also name your own rules (config directory's rules/) that ran
    #[arg(long, short)]
    pub verbose: bool,
    /// Event logs to ingest into the case before scanning
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Run the rules on a Spark Connect server (sc://HOST:PORT) instead, over --table; a
    /// --case given lends its tuning overlays
    #[cfg(feature = "remote")]
    #[arg(
        long,
        value_name = "sc://HOST:PORT",
        requires = "table",
        conflicts_with = "paths"
    )]
    pub remote: Option<String>,
    /// With --remote: a table name, or a location of `huntbench export` Parquet files as the
    /// server sees it
    #[cfg(feature = "remote")]
    #[arg(long, value_name = "SOURCE", requires = "remote")]
    pub table: Option<String>,
    /// With --remote: seconds one query may run before it is interrupted (a batch that takes
    /// longer is run again rule by rule, and a rule that still does is reported)
    #[cfg(feature = "remote")]
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub remote_timeout: u64,
    /// With --remote: rules of one logsource evaluated in one query, at most
    #[cfg(feature = "remote")]
    #[arg(long, value_name = "N", default_value_t = 25)]
    pub remote_batch: usize,
}

#[derive(Debug, Args)]
pub struct LogonsArgs {
    #[command(flatten)]
    pub case: CaseArgs,
    /// The rules whose hits are counted in each session (as `scan` runs them)
    #[command(flatten)]
    pub rules: RuleArgs,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct BookmarksArgs {
    #[command(flatten)]
    pub case: CaseArgs,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub case: CaseArgs,
    /// The rules whose hits are reported (as `scan` runs them)
    #[command(flatten)]
    pub rules: RuleArgs,
    /// The file to write (replaced whole when complete); default `<case>/report.md`
    #[arg(short, long, value_name = "FILE.md|FILE.html")]
    pub output: Option<PathBuf>,
    /// Markdown, or a standalone HTML page (default: HTML when the output ends in .html)
    #[arg(long, value_enum)]
    pub format: Option<ReportFormat>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Markdown,
    Html,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    #[command(flatten)]
    pub case: CaseArgs,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// At most this many events (0: all of them)
    #[arg(long, default_value_t = 1000)]
    pub limit: usize,
    /// Optional event logs to ingest first, then the query (last argument)
    #[arg(required = true, value_name = "[PATH...] QUERY")]
    pub words: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Parquet,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Case to export (instead of PATHs)
    #[arg(long, value_name = "DIR", conflicts_with = "paths")]
    pub case: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = ExportFormat::Parquet)]
    pub format: ExportFormat,
    /// Output directory (new or empty); written in full or not at all
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
    /// Threads reading and writing (default: number of cores)
    #[arg(long)]
    pub threads: Option<usize>,
    /// Without a case: write every copy of a record repeated across the inputs (by default
    /// it is written once, as ingest folds it)
    #[arg(long, conflicts_with = "case")]
    pub keep_duplicates: bool,
    /// Event logs to export without a case (files or directories, read as ingest reads them)
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Bundled scenario name (see `huntbench synth`) or a scenario YAML file
    #[arg(long)]
    pub scenario: Option<String>,
    /// EVTX file to write
    #[arg(short, long, value_name = "FILE.evtx")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RulesCheckArgs {
    #[command(flatten)]
    pub rules: RuleArgs,
    #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
    pub format: CheckFormat,
    /// Also list rules that loaded cleanly
    #[arg(long)]
    pub all: bool,
    /// Also say how each rule runs on a Spark Connect server (`scan --remote`): as exact SQL,
    /// or narrowed in SQL and confirmed here by the exact matcher, and why (needs no server)
    #[arg(long)]
    pub remote: bool,
}

/// Which rules run: the bundled pack (unless left out) plus files and directories given.
#[derive(Debug, Args)]
pub struct RuleArgs {
    /// Rule file or directory to add to the bundled pack (repeatable)
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// Leave the bundled rule pack and the installed SigmaHQ rules out (only --rules and
    /// your own rules run)
    #[arg(long)]
    pub no_default_rules: bool,
}

/// Where the case lives: `--case DIR`, or a cache directory keyed by the input paths.
#[derive(Debug, Args)]
pub struct CaseArgs {
    /// Case directory (a command given input PATHs creates it; otherwise it must exist)
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
    /// Index every copy of a record found in several inputs (the same log collected twice, an
    /// EVTX and its JSON export); by default each is counted once. The case keeps this for its
    /// later ingests
    #[arg(long)]
    pub keep_duplicates: bool,
    /// No progress bar
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs the parsed command line.
/// What the command line asked for, once it has done its part.
pub enum Outcome {
    /// A command ran; exit with this status.
    Done(ExitCode),
    /// Open the workbench (checked: the case exists, or the inputs hold event logs).
    Workbench(WorkbenchRequest),
}

/// The workbench to open, as the command line named it.
#[derive(Debug)]
pub struct WorkbenchRequest {
    pub case_dir: PathBuf,
    /// Files/directories to ingest first.
    pub inputs: Vec<PathBuf>,
    pub rule_paths: Vec<PathBuf>,
    pub no_default_rules: bool,
    /// A theme name (`dark`, `light`) or a path to a theme file.
    pub theme: Option<String>,
    /// Events on a Spark Connect server instead of a local case (`case_dir` then keeps only
    /// the workbench's own state).
    pub remote: Option<RemoteTable>,
}

/// `--remote URL --table SOURCE`.
#[derive(Clone, Debug)]
pub struct RemoteTable {
    pub url: String,
    pub table: String,
}

/// Runs a command over cases that `backend` opens.
pub fn run(cli: Cli, backend: &dyn crate::store::Backend) -> anyhow::Result<Outcome> {
    let code = match cli.command {
        Some(Command::Ingest(args)) => ingest_cmd::run(&args, backend),
        Some(Command::Stats(args)) => stats_cmd::run(&args, backend),
        Some(Command::Logons(args)) => logons_cmd::logons(&args, backend),
        Some(Command::Lateral(args)) => logons_cmd::lateral(&args, backend),
        Some(Command::Bookmarks(args)) => bookmarks_cmd::run(&args, backend),
        Some(Command::Report(args)) => report_cmd::run(&args, backend),
        Some(Command::Search(args)) => search_cmd::run(&args, backend),
        Some(Command::Scan(args)) => scan_cmd::run(&args, backend),
        Some(Command::Export(args)) => export_cmd::run(&args, backend),
        Some(Command::Synth(args)) => synth_cmd::run(&args),
        Some(Command::Rules(RulesCommand::Check(args))) => rules_cmd::check(&args),
        Some(Command::Rules(RulesCommand::Update(args))) => rules_cmd::update(&args),
        None => return open_cmd::run(cli.open, backend),
    };
    code.map(Outcome::Done)
}

/// A `--min-level` value: one of Sigma's five levels, in any case.
fn level_arg(text: &str) -> Result<crate::sigma::Level, String> {
    crate::sigma::Level::parse(text)
        .ok_or_else(|| format!("not a level; one of {}", crate::sigma::Level::names()))
}

/// The rules a command over the case in `dir` runs, as the workbench loads them: the bundled
/// pack (unless left out), the installed SigmaHQ release, `--rules` paths, the user's own rules
/// and the tuning overlays of the case and the user. Returns the rules and the paths that could
/// not be read.
fn case_rules(
    rules: &RuleArgs,
    dir: &std::path::Path,
    skip_impossible_4688: bool,
) -> anyhow::Result<(crate::sigma::RuleSet, Vec<String>)> {
    rules_for(rules, Some(dir), skip_impossible_4688)
}

/// [`case_rules`] with the overlays of a case if there is one (a remote scan may have none).
fn rules_for(
    rules: &RuleArgs,
    dir: Option<&std::path::Path>,
    skip_impossible_4688: bool,
) -> anyhow::Result<(crate::sigma::RuleSet, Vec<String>)> {
    let config = crate::rulepack::config_dir();
    let loader = crate::rulepack::loader(&config)?.with_skip_impossible_4688(skip_impossible_4688);
    Ok(crate::rulepack::load_for_case_with(
        &loader,
        &rules.rules,
        rules.no_default_rules,
        dir,
        &config,
    )?)
}

/// One CSV record, quoted as the `csv` crate quotes.
fn csv_line<I, T>(fields: I) -> anyhow::Result<Vec<u8>>
where
    I: IntoIterator<Item = T>,
    T: AsRef<[u8]>,
{
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    w.write_record(fields)?;
    Ok(w.into_inner().map_err(|e| e.into_error())?)
}

/// `s` cut to `max` characters, the cut marked with `…` (table columns).
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}
