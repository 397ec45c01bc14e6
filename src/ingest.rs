//! Loading event logs: finds input files, reads EVTX and JSON/JSONL exports, and normalises each
//! record into an [`Event`]. This is the only module that uses the `evtx` crate.
//!
//! Not for: indexing, deduplication or progress display (the `index` module drives ingest and
//! decides what is new). Input files are only ever opened read-only.

mod evtx_file;
mod json_file;
pub mod normalize;

use crate::event::Event;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The formats we read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    Evtx,
    Json,
}

/// What reading one file produced besides its events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileReport {
    pub events: u64,
    /// Records that could not be read (skipped).
    pub errors: u64,
    pub warnings: Vec<String>,
}

/// Counts records as a file is read: normalised events go to the sink, failures are counted and
/// the first one kept for the file's warning.
struct RecordTally<'a> {
    report: FileReport,
    first_error: Option<String>,
    sink: &'a mut dyn FnMut(Event),
}

impl<'a> RecordTally<'a> {
    fn new(sink: &'a mut dyn FnMut(Event)) -> Self {
        RecordTally {
            report: FileReport::default(),
            first_error: None,
            sink,
        }
    }

    /// One record: its JSON form, or why it could not be read.
    fn record(&mut self, parsed: Result<&serde_json::Value, String>) {
        match parsed.map(normalize::from_json) {
            Ok(Some(event)) => {
                self.report.events += 1;
                (self.sink)(event);
            }
            Ok(None) => self.error("record is not a JSON object".into()),
            Err(e) => self.error(e),
        }
    }

    /// Something wrong with the file as a whole (one object that is not an event): one error,
    /// and a warning of its own rather than a place in the record errors' summary.
    fn file_error(&mut self, warning: String) {
        self.report.errors += 1;
        self.report.warnings.push(warning);
    }

    fn error(&mut self, why: String) {
        self.report.errors += 1;
        self.first_error.get_or_insert(why);
    }

    fn finish(mut self) -> FileReport {
        if let Some(first) = self.first_error {
            self.report.warnings.push(format!(
                "{} unreadable record(s) skipped; first: {}",
                self.report.errors,
                first.lines().next().unwrap_or_default()
            ));
        }
        self.report
    }
}

/// A path that could not be used as input, with the reason.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct PathError {
    pub path: PathBuf,
    pub reason: String,
}

/// The format of a file by its extension.
pub fn detect_format(path: &Path) -> Option<Format> {
    let ext = path.extension()?.to_string_lossy().to_ascii_lowercase();
    match ext.as_str() {
        "evtx" => Some(Format::Evtx),
        "json" | "jsonl" | "ndjson" => Some(Format::Json),
        _ => None,
    }
}

/// The format of a file by its first bytes: `ElfFile\0`, or `{`/`[` (after a byte order mark).
fn sniff_format(path: &Path) -> Option<Format> {
    let head = file_head(path, 64)?;
    if head.starts_with(EVTX_MAGIC) {
        return Some(Format::Evtx);
    }
    json_file::looks_like_json(&head).then_some(Format::Json)
}

const EVTX_MAGIC: &[u8; 8] = b"ElfFile\0";

/// Up to `n` bytes from the start of `path`; `None` when it cannot be read.
fn file_head(path: &Path, n: u64) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut head = Vec::new();
    let file = std::fs::File::open(path).ok()?;
    file.take(n).read_to_end(&mut head).ok()?;
    Some(head)
}

/// What [`discover`] found.
#[derive(Debug, Default)]
pub struct Discovered {
    /// The files to read (sorted, deduplicated).
    pub files: Vec<(PathBuf, Format)>,
    /// An error for each unusable path.
    pub errors: Vec<PathError>,
    /// Paths left out, with the reason: directories `skip_dir` rejects, directories reached a
    /// second time (through a symbolic link), broken links.
    pub skipped: Vec<(PathBuf, String)>,
    /// Per input directory, how many files under it are not event logs (not read).
    pub not_logs: Vec<(PathBuf, usize)>,
}

/// Expands the given paths into the log files to read: directories are walked recursively and
/// keep files with a known extension, and EVTX files under any other name (by their
/// signature); a file named explicitly is also accepted by content (EVTX or JSON). Symbolic
/// links are followed; a directory is walked once however many links lead to it, so a link
/// loop ends.
/// A directory (given or found) for which `skip_dir` gives a reason is left out and reported:
/// the caller decides, so this module needs no knowledge of case directories.
pub fn discover(paths: &[PathBuf], skip_dir: &dyn Fn(&Path) -> Option<String>) -> Discovered {
    let mut walk = Walk {
        skip_dir,
        walked: HashMap::new(),
        found: Discovered::default(),
        not_logs: 0,
    };
    for path in paths {
        match std::fs::metadata(path) {
            Err(e) => walk.found.errors.push(PathError {
                path: path.clone(),
                reason: e.to_string(),
            }),
            Ok(meta) if meta.is_dir() => {
                let again =
                    (path.canonicalize().ok()).is_some_and(|c| walk.walked.contains_key(&c));
                let before = walk.found.outcomes();
                walk.dir(path, false);
                // Counted, not listed: a triage collection holds many files that are not logs.
                let n = std::mem::take(&mut walk.not_logs);
                if !again && walk.found.outcomes() == before {
                    // Nothing found and nothing said: a wrong folder must not read as "0 events".
                    let reason = match n {
                        0 => "no event logs in this directory: it is empty".to_owned(),
                        n => format!(
                            "no event logs in this directory: its {n} file(s) are not EVTX or JSON"
                        ),
                    };
                    walk.found.errors.push(PathError {
                        path: path.clone(),
                        reason,
                    });
                } else if n > 0 {
                    walk.found.not_logs.push((path.clone(), n));
                }
            }
            Ok(_) => match skipped_ancestor(path, skip_dir) {
                Some(why) => walk.found.skipped.push((path.clone(), why)),
                None => accept_file(path, &mut walk.found),
            },
        }
    }
    let mut found = walk.found;
    found.files.sort();
    found.files.dedup();
    found.skipped.sort();
    found.skipped.dedup();
    found
}

/// The reason `skip_dir` gives for a directory holding `file` (a file inside a case is no
/// more evidence than the case is).
fn skipped_ancestor(file: &Path, skip_dir: &dyn Fn(&Path) -> Option<String>) -> Option<String> {
    let full = file.canonicalize().ok()?;
    full.ancestors().skip(1).find_map(skip_dir)
}

/// A file named explicitly: kept if its extension or its content says it is an event log.
fn accept_file(path: &Path, found: &mut Discovered) {
    match detect_format(path).or_else(|| sniff_format(path)) {
        Some(format) => found.files.push((path.to_owned(), format)),
        None => found.errors.push(PathError {
            path: path.to_owned(),
            reason: "not an EVTX or JSON event log".into(),
        }),
    }
}

impl Discovered {
    /// How much the walk has found and said so far: what tells an input directory that yielded
    /// nothing from one that yielded files, skips or errors.
    fn outcomes(&self) -> (usize, usize, usize) {
        (self.files.len(), self.skipped.len(), self.errors.len())
    }
}

/// A recursive walk over input directories.
struct Walk<'a> {
    skip_dir: &'a dyn Fn(&Path) -> Option<String>,
    /// Canonical path of each directory walked → the path it was first walked as.
    walked: HashMap<PathBuf, PathBuf>,
    found: Discovered,
    /// Files passed over under the input directory being walked.
    not_logs: usize,
}

impl Walk<'_> {
    /// Walks `dir` unless it was walked already (`link`: it was reached through a symbolic link).
    fn dir(&mut self, dir: &Path, link: bool) {
        if let Some(why) = (self.skip_dir)(dir) {
            self.found.skipped.push((dir.to_owned(), why));
            return;
        }
        let canonical = match dir.canonicalize() {
            Ok(c) => c,
            Err(e) => return self.error(dir, e),
        };
        if let Some(first) = self.walked.get(&canonical) {
            // Input paths that overlap need no notice: their files are all read.
            if link || first.as_path() != dir {
                let why = if link {
                    format!(
                        "a link to the same directory as {}, read already; not followed again",
                        first.display()
                    )
                } else {
                    format!(
                        "the same directory as {}, read already; not walked again",
                        first.display()
                    )
                };
                self.found.skipped.push((dir.to_owned(), why));
            }
            return;
        }
        self.walked.insert(canonical, dir.to_owned());
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => return self.error(dir, e),
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => self.dir(&path, false),
                Ok(t) if t.is_symlink() => match std::fs::metadata(&path) {
                    Ok(target) if target.is_dir() => self.dir(&path, true),
                    Ok(_) => self.file(path),
                    // Dangling, or a loop of links (the system stops resolving those).
                    Err(e) => self.found.skipped.push((
                        path,
                        format!("a symbolic link that cannot be followed: {e}"),
                    )),
                },
                Ok(_) => self.file(path),
                Err(e) => self.error(&path, e),
            }
        }
    }

    /// A file found in a directory: kept by its extension, or as EVTX by its signature when
    /// its extension says nothing (a log saved without `.evtx`); other content is not sniffed,
    /// since directories hold JSON that is not event logs (configuration, tool output).
    fn file(&mut self, path: PathBuf) {
        let format = detect_format(&path).or_else(|| {
            // Only a regular file is opened: opening a named pipe would wait for a writer.
            std::fs::metadata(&path).ok().filter(|m| m.is_file())?;
            let head = file_head(&path, EVTX_MAGIC.len() as u64)?;
            (head == EVTX_MAGIC).then_some(Format::Evtx)
        });
        match format {
            Some(format) => self.found.files.push((path, format)),
            None => self.not_logs += 1,
        }
    }

    fn error(&mut self, path: &Path, e: std::io::Error) {
        self.found.errors.push(PathError {
            path: path.to_owned(),
            reason: e.to_string(),
        });
    }
}

/// Reads every record of one file, passing each event to `sink`.
///
/// Never panics on bad input: a parser panic is caught and reported as a warning, keeping the
/// events already delivered. An `Err` means the file itself could not be opened.
pub fn read_file(
    path: &Path,
    format: Format,
    sink: &mut dyn FnMut(Event),
) -> std::io::Result<FileReport> {
    let delivered = std::cell::Cell::new(0u64);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut counting = |e: Event| {
            delivered.set(delivered.get() + 1);
            sink(e);
        };
        match format {
            Format::Evtx => evtx_file::read(path, &mut counting),
            Format::Json => json_file::read(path, &mut counting),
        }
    }));
    outcome.unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default();
        Ok(FileReport {
            events: delivered.get(),
            errors: 1,
            warnings: vec![format!(
                "parser failed part-way ({what}); kept the records read"
            )],
        })
    })
}

/// Reads a whole file into memory. For tests and small files only; ingest streams.
pub fn read_all(path: &Path) -> std::io::Result<(Vec<Event>, FileReport)> {
    let format = detect_format(path)
        .or_else(|| sniff_format(path))
        .ok_or_else(|| std::io::Error::other("not an EVTX or JSON event log"))?;
    let mut events = Vec::new();
    let report = read_file(path, format, &mut |e| events.push(e))?;
    Ok((events, report))
}
