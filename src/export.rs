//! Columnar export: a case, or raw logs read without a case, written as Hive-partitioned
//! Parquet for other engines (DuckDB, Spark, pyarrow). The schema is documented in SCHEMA.md.
//!
//! Not for: reading Parquet back, or querying. Only `export/parquet.rs` uses the Parquet crate.
//!
//! Output is atomic: files are written into a hidden staging directory beside the output
//! (`.NAME.incoming-PID`) and renamed to the output only when every file is complete, so an
//! export that is killed leaves no output a reader would take as complete.

pub mod key;
mod parquet;
pub mod schema;
mod sources;

pub use parquet::{
    MAX_OPEN, ROW_GROUP_ROWS, UNTIMED_PARTITION, WriteError, Written, day_of, day_text,
    partition_dir,
};
pub use schema::{SCHEMA_VERSION, SCHEMA_VERSION_KEY};
pub use sources::{case_sources, read_case, read_paths};

use crate::index::IngestSummary;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(
        "{0} exists and is not empty; export into a new or empty directory (an export is \
         never merged into another)"
    )]
    OutputNotEmpty(PathBuf),
    #[error("{path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    Index(#[from] crate::index::IndexError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("nothing to export: {0}")]
    NothingToRead(String),
}

/// What an export did.
#[derive(Debug, Default)]
pub struct ExportSummary {
    pub events: u64,
    pub files_written: u64,
    pub partitions: usize,
    pub elapsed: Duration,
    /// For an export of raw logs: what was read, skipped and could not be read, as ingest
    /// reports it.
    pub inputs: Option<IngestSummary>,
}

/// Tuning for one export.
#[derive(Clone, Debug)]
pub struct ExportOptions {
    /// Threads reading events and writing files (each writes files of its own).
    pub threads: usize,
    /// A raw export writes a record repeated across its inputs once, as ingest folds it into a
    /// case, unless this is set (as `ingest --keep-duplicates` keeps every copy).
    pub keep_duplicates: bool,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            keep_duplicates: false,
        }
    }
}

/// The directory files are written into until the export is complete: hidden (readers pass
/// over names starting with `.`) and beside the output, so the final rename stays on one
/// file system.
struct Staging {
    dir: PathBuf,
    out: PathBuf,
    done: bool,
}

impl Staging {
    /// Refuses an output that holds anything, then makes the staging directory.
    fn new(out: &Path) -> Result<Staging, ExportError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| ExportError::Io { path, source }
        };
        if out.exists() {
            let mut entries = std::fs::read_dir(out).map_err(io(out))?;
            if entries.next().is_some() {
                return Err(ExportError::OutputNotEmpty(out.to_owned()));
            }
        }
        let name =
            (out.file_name()).map_or_else(|| "export".into(), |n| n.to_string_lossy().into_owned());
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(io(&parent))?;
        let dir = parent.join(format!(".{name}.incoming-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
        }
        std::fs::create_dir(&dir).map_err(io(&dir))?;
        Ok(Staging {
            dir,
            out: out.to_owned(),
            done: false,
        })
    }

    /// Moves the complete export into place (an empty output directory is replaced).
    fn commit(mut self) -> Result<(), ExportError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| ExportError::Io { path, source }
        };
        if self.out.exists() {
            std::fs::remove_dir(&self.out).map_err(io(&self.out))?;
        }
        std::fs::rename(&self.dir, &self.out).map_err(io(&self.out))?;
        self.done = true;
        Ok(())
    }
}

impl Drop for Staging {
    /// A failed export removes what it wrote; a killed one leaves only the hidden directory.
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Counts the day partitions written under `dir`.
fn count_partitions(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| entries.flatten().count())
}

/// Exports the case in `case_dir` into `out`.
pub fn export_case(
    case_dir: &Path,
    out: &Path,
    opts: &ExportOptions,
) -> Result<ExportSummary, ExportError> {
    let started = std::time::Instant::now();
    let store = crate::store::Backend::open(
        &crate::index::IndexBackend,
        case_dir,
        &[],
        &Default::default(),
        &mut |_| {},
    )?
    .case
    .snapshot();
    let staging = Staging::new(out)?;
    let written = read_case(&*store, &staging.dir, opts)?;
    let partitions = count_partitions(&staging.dir);
    staging.commit()?;
    Ok(ExportSummary {
        events: written.rows,
        files_written: written.files,
        partitions,
        elapsed: started.elapsed(),
        inputs: None,
    })
}

/// Exports the logs under `paths` into `out` without a case, reading what ingest into a new
/// case would read (files of the same content once).
pub fn export_paths(
    paths: &[PathBuf],
    out: &Path,
    opts: &ExportOptions,
) -> Result<ExportSummary, ExportError> {
    let started = std::time::Instant::now();
    let (files, mut inputs) = crate::index::plan_inputs(paths);
    if files.is_empty() {
        let why: Vec<String> = (inputs.problems().iter())
            .map(|p| format!("{}: {}", p.path, p.reason))
            .collect();
        return Err(ExportError::NothingToRead(if why.is_empty() {
            "no input paths".into()
        } else {
            why.join("; ")
        }));
    }
    let staging = Staging::new(out)?;
    let written = read_paths(files, &staging.dir, opts, &mut inputs)?;
    let partitions = count_partitions(&staging.dir);
    staging.commit()?;
    inputs.events_added = written.rows;
    inputs.elapsed = started.elapsed();
    Ok(ExportSummary {
        events: written.rows,
        files_written: written.files,
        partitions,
        elapsed: started.elapsed(),
        inputs: Some(inputs),
    })
}
