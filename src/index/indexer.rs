//! The indexer: adds input files to a case. Decides which files are new, reads them in
//! parallel, indexes their events and commits with the manifest so that an interrupted run is
//! completed by the next. (Reading a file is `crate::ingest`'s; this is the case's side.)

use super::case::{Case, IndexError};
use super::document::DocumentBuilder;
use super::in_flight::{InFlight, Tracked};
use super::manifest::{Manifest, SourceFile};
use super::merge_policy::CappedMergePolicy;
use super::schema::Fields;
use crate::ingest::{self, FileReport, Format, PathError};
use commit::{Committer, finished_files};
use crossbeam_channel::{Receiver, Sender, bounded};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tantivy::indexer::UserOperation;
use tantivy::{IndexWriter, TantivyDocument, Term};

mod commit;

/// Tuning for one ingest run.
#[derive(Clone, Debug)]
pub struct IngestOptions {
    /// Threads reading and converting files.
    pub threads: usize,
    /// Tantivy's indexing threads. Each builds its own segment from a share of
    /// `writer_budget`.
    pub indexing_threads: usize,
    /// Index writer memory budget in bytes (bounds peak memory).
    pub writer_budget: usize,
    /// Commit after this many events, so a long ingest is searchable and resumable as it goes.
    pub commit_every: u64,
}

impl Default for IngestOptions {
    /// Scaled to the machine. Indexing an event costs about as much CPU as reading it, so
    /// half the cores index; at least two (measured faster than one on two cores) and at most
    /// four. Each has a 64 MB share of the writer's budget: the budget is most of what ingest
    /// holds (a heap profile at ×35 put 210 of 263 MB in tantivy's arenas with 256 MB for two
    /// threads), and budgets from 64 to 512 MB indexed at the same speed; below 32 MB the
    /// extra merging makes ingest slower.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let indexing_threads = (cores / 2).clamp(2, 4);
        IngestOptions {
            threads: cores,
            indexing_threads,
            writer_budget: indexing_threads * (64 << 20),
            commit_every: 500_000,
        }
    }
}

/// Where an ingest run stands; passed to the progress callback.
#[derive(Clone, Debug, Default)]
pub struct Progress {
    pub files_total: usize,
    pub files_done: usize,
    pub files_skipped: usize,
    pub events: u64,
    pub elapsed: Duration,
    pub current: Option<PathBuf>,
}

impl Progress {
    pub fn events_per_sec(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(1e-3)
    }
}

/// What an ingest run did.
#[derive(Debug, Default)]
pub struct IngestSummary {
    pub added: Vec<SourceFile>,
    /// Files not read, with the reason (already indexed, duplicate content, unreadable), and
    /// case directories among the inputs, which are not walked.
    pub skipped: Vec<(PathBuf, String)>,
    pub path_errors: Vec<PathError>,
    /// Per input directory, how many files under it are not event logs (a note, not a
    /// problem: collections hold READMEs, configuration and other artefacts).
    pub not_logs: Vec<(PathBuf, usize)>,
    pub events_added: u64,
    pub elapsed: Duration,
}

pub use crate::store::InputProblem;
use crate::store::ProblemKind;

impl IngestSummary {
    /// Paths that are not usable, files read in part (unreadable records, a bad header…) and
    /// files not read; files already in the case are not problems.
    pub fn problems(&self) -> Vec<InputProblem> {
        let errors = self.path_errors.iter().map(|e| InputProblem {
            kind: ProblemKind::Error,
            path: e.path.display().to_string(),
            reason: e.reason.clone(),
        });
        let warnings = self.added.iter().flat_map(|f| {
            let path = f.paths.first().cloned().unwrap_or_else(|| "?".into());
            f.warnings.iter().map(move |w| InputProblem {
                kind: ProblemKind::Warning,
                path: path.clone(),
                reason: w.clone(),
            })
        });
        let skipped = (self.skipped.iter())
            .filter(|(_, why)| !is_already_indexed(why))
            .map(|(path, why)| InputProblem {
                kind: ProblemKind::Skipped,
                path: path.display().to_string(),
                reason: why.clone(),
            });
        errors.chain(warnings).chain(skipped).collect()
    }

    /// Input files not read because the case holds them already (by path or by content).
    pub fn already_indexed(&self) -> usize {
        (self.skipped.iter())
            .filter(|(_, why)| is_already_indexed(why))
            .count()
    }
}

fn is_already_indexed(why: &str) -> bool {
    why.starts_with("already")
}

pub(super) struct NewFile {
    pub(super) path: PathBuf,
    pub(super) format: Format,
    pub(super) record: SourceFile,
    /// Files of the case read from this path before it changed (a live log that grew).
    earlier: Vec<u64>,
}

/// Documents travel from readers to the writer in batches: one channel hop (and one hand-over
/// to tantivy's indexing threads) per batch rather than per event.
const BATCH: usize = 256;

/// Most documents handed to tantivy and not yet indexed (a few batches per indexing thread:
/// enough to keep them busy, while bounding what waits in memory).
const MAX_IN_FLIGHT: usize = 16 * BATCH;

/// Name of the threads that read files and build documents (Linux keeps 15 bytes of a name).
pub const READER_THREAD: &str = "hb-reader";

enum Msg {
    Docs(Vec<TantivyDocument>),
    Done(usize, std::io::Result<FileReport>),
}

impl Case {
    /// Ingests `paths` (files or directories) into this case.
    pub fn ingest(
        &mut self,
        paths: &[PathBuf],
        opts: &IngestOptions,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<IngestSummary, IndexError> {
        let started = Instant::now();
        let found = ingest::discover(paths, &self.not_evidence());
        let (files, cases_skipped) = (found.files, found.skipped);
        let mut summary = IngestSummary {
            path_errors: found.errors,
            not_logs: found.not_logs,
            ..IngestSummary::default()
        };
        let mut manifest = self.manifest()?;
        manifest.format = super::manifest::FORMAT;
        let mut writer = self.writer(opts)?;
        // Documents of files that were in flight when an earlier run died.
        for id in std::mem::take(&mut manifest.pending) {
            writer.delete_term(Term::from_field_u64(self.fields.file, id));
        }
        let new_files = triage(files, &mut manifest, &mut summary.skipped);
        let mut state = Progress {
            files_total: new_files.len() + summary.skipped.len(),
            files_skipped: summary.skipped.len(),
            ..Progress::default()
        };
        // Reported with the skipped files, after the progress counts (which count files).
        summary.skipped.extend(cases_skipped);
        manifest.pending = new_files.iter().map(|f| f.record.id).collect();
        // Record the pending ids before any of their documents can be committed.
        // The case's last commit counts as the previous one: a reader that loaded it just
        // before this run may still be about to read its file list.
        let mut committer = Committer {
            case_dir: self.dir.clone(),
            previous: self.index.load_metas()?.payload,
        };
        committer.commit(&mut writer, &manifest, &[], &[], false)?;
        let already = self.earlier_records(&new_files)?;
        let mut run = Run {
            writer: &mut writer,
            committer: &mut committer,
            manifest: &manifest,
            new_files: &new_files,
            reports: (0..new_files.len()).map(|_| None).collect(),
            state: &mut state,
            started,
            progress: &mut *progress,
        };
        self.read_and_index(opts, &already, &mut run)?;
        let reports = run.reports;
        committer.commit(&mut writer, &manifest, &new_files, &reports, true)?;
        writer.wait_merging_threads()?;
        self.reload()?;
        summary.added = finished_files(&new_files, &reports).collect();
        for (f, report) in new_files.into_iter().zip(reports) {
            if let Some(Err(e)) = report {
                summary.skipped.push((f.path, format!("cannot read: {e}")));
            }
        }
        summary.events_added = summary.added.iter().map(|f| f.events).sum();
        summary.elapsed = started.elapsed();
        state.elapsed = summary.elapsed;
        progress(&state);
        Ok(summary)
    }

    /// Why a directory among the inputs is not read: a case (this one or another) is not
    /// evidence; its index metadata and exports are JSON that would be read as events, a
    /// little more each run.
    fn not_evidence(&self) -> impl Fn(&Path) -> Option<String> + Sync + use<> {
        let own = self.dir.canonicalize().ok();
        move |d: &Path| {
            if own.is_some() && d.canonicalize().ok() == own {
                Some("the case being ingested into; not read".to_owned())
            } else if Case::exists(d) {
                Some("a huntbench case; not read (ingest its evidence, not the case)".to_owned())
            } else {
                None
            }
        }
    }

    fn writer(&self, opts: &IngestOptions) -> Result<IndexWriter<Tracked>, IndexError> {
        let writer = (self.index)
            .writer_with_num_threads::<Tracked>(opts.indexing_threads.max(1), opts.writer_budget)
            .map_err(|e| match e {
                tantivy::TantivyError::LockFailure(..) => IndexError::Locked(self.dir.clone()),
                other => IndexError::Tantivy(other),
            })?;
        writer.set_merge_policy(Box::new(CappedMergePolicy::default()));
        Ok(writer)
    }

    /// Per new file, the records the case already holds from an earlier version of it: a
    /// changed file at a known path is usually a live log that grew, and its records already
    /// in the case (same EventRecordID and time) are not indexed again.
    fn earlier_records(
        &self,
        new_files: &[NewFile],
    ) -> Result<Vec<HashSet<(u64, i64)>>, IndexError> {
        let snapshot = self.snapshot();
        (new_files.iter())
            .map(|f| {
                if f.earlier.is_empty() {
                    Ok(HashSet::new())
                } else {
                    snapshot.record_keys(&f.earlier)
                }
            })
            .collect()
    }

    /// Reads the new files on reader threads and hands their documents to tantivy here,
    /// committing every `opts.commit_every` documents.
    fn read_and_index(
        &self,
        opts: &IngestOptions,
        already: &[HashSet<(u64, i64)>],
        run: &mut Run<'_>,
    ) -> Result<(), IndexError> {
        let (job_tx, job_rx) = bounded::<usize>(run.new_files.len().max(1));
        for i in 0..run.new_files.len() {
            let _ = job_tx.send(i);
        }
        drop(job_tx);
        let (tx, rx) = bounded::<Msg>(16);
        let new_files = run.new_files;
        std::thread::scope(|scope| -> Result<(), IndexError> {
            for _ in 0..opts.threads.max(1) {
                let (job_rx, tx) = (job_rx.clone(), tx.clone());
                // Named so profiles and the benchmark can tell reading from indexing.
                let reader = std::thread::Builder::new().name(READER_THREAD.into());
                reader
                    .spawn_scoped(scope, move || {
                        read_files(&self.fields, new_files, already, &job_rx, &tx);
                    })
                    .map_err(|e| IndexError::Io {
                        path: self.dir.clone(),
                        source: e,
                    })?;
            }
            drop(tx);
            // Owned here so that an early error return drops the receiver, which unblocks the
            // readers' sends instead of leaving the scope waiting on them forever.
            run.index(rx, opts.commit_every)
        })
    }
}

/// A reader thread: takes file numbers from `jobs` and sends each file's documents in batches,
/// then its report.
fn read_files(
    fields: &Fields,
    new_files: &[NewFile],
    already: &[HashSet<(u64, i64)>],
    jobs: &Receiver<usize>,
    tx: &Sender<Msg>,
) {
    let mut builder = DocumentBuilder::new(fields);
    for i in jobs.iter() {
        let f = &new_files[i];
        let mut batch = Vec::with_capacity(BATCH);
        let mut repeated = 0u64;
        let mut sink = |event: crate::event::Event| {
            if !already[i].is_empty()
                && let Some(key) = record_key(&event)
                && already[i].contains(&key)
            {
                repeated += 1;
                return;
            }
            batch.push(builder.build(&event, f.record.id));
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                let _ = tx.send(Msg::Docs(full));
            }
        };
        let report = ingest::read_file(&f.path, f.format, &mut sink).map(|mut r| {
            if repeated > 0 {
                r.events -= repeated;
                r.warnings.push(format!(
                    "{repeated} record(s) already in the case from an earlier version of this file (same path, EventRecordID and time), not indexed again"
                ));
            }
            r
        });
        // A file's documents all arrive before its `Done`, so a commit that records the file
        // as complete holds all of them.
        if (!batch.is_empty() && tx.send(Msg::Docs(batch)).is_err())
            || tx.send(Msg::Done(i, report)).is_err()
        {
            break; // the indexing side stopped with an error
        }
    }
}

/// The indexing side of an ingest: what it writes to and what it has learnt so far.
struct Run<'a> {
    writer: &'a mut IndexWriter<Tracked>,
    committer: &'a mut Committer,
    manifest: &'a Manifest,
    new_files: &'a [NewFile],
    reports: Vec<Option<std::io::Result<FileReport>>>,
    state: &'a mut Progress,
    started: Instant,
    progress: &'a mut dyn FnMut(&Progress),
}

impl Run<'_> {
    /// Hands the readers' documents to tantivy (at most [`MAX_IN_FLIGHT`] waiting), records
    /// their reports, commits every `commit_every` documents and reports progress.
    fn index(&mut self, rx: Receiver<Msg>, commit_every: u64) -> Result<(), IndexError> {
        let mut since_commit = 0u64;
        let in_flight = InFlight::default();
        let mut last_tick = Instant::now();
        for msg in rx.iter() {
            match msg {
                Msg::Docs(docs) => {
                    let n = docs.len() as u64;
                    in_flight.wait_until_at_most(MAX_IN_FLIGHT);
                    let tracked = docs.into_iter().map(|d| in_flight.track(d));
                    (self.writer)
                        .run(tracked.map(UserOperation::Add))
                        .map_err(|e| IndexError::WriterFailed(e.to_string()))?;
                    self.state.events += n;
                    since_commit += n;
                }
                Msg::Done(i, report) => {
                    self.state.files_done += 1;
                    self.state.current = Some(self.new_files[i].path.clone());
                    self.reports[i] = Some(report);
                }
            }
            if since_commit >= commit_every {
                since_commit = 0;
                (self.committer).commit(
                    self.writer,
                    self.manifest,
                    self.new_files,
                    &self.reports,
                    false,
                )?;
            }
            if last_tick.elapsed() >= Duration::from_millis(100) {
                last_tick = Instant::now();
                self.state.elapsed = self.started.elapsed();
                (self.progress)(self.state);
            }
        }
        Ok(())
    }
}

/// What identifies a record across versions of one log: its EventRecordID and time (µs).
fn record_key(event: &crate::event::Event) -> Option<(u64, i64)> {
    Some((
        event.record_id()?,
        event.timestamp().map_or(i64::MIN, |t| t.as_microsecond()),
    ))
}

/// What the parallel part of triage learns about one input file.
enum Probe {
    Unreadable(String),
    Unchanged,
    Hashed { size: u64, mtime: i64, sha: String },
}

/// Splits discovered files into new ones (with fresh ids) and skipped ones. Hashing runs on
/// all cores (it reads every new byte once and would otherwise hold up the readers); ids and
/// duplicate decisions are then made in input order.
pub(super) fn triage(
    files: Vec<(PathBuf, Format)>,
    manifest: &mut Manifest,
    skipped: &mut Vec<(PathBuf, String)>,
) -> Vec<NewFile> {
    use rayon::prelude::*;
    // Lookups by path and by content, so triage stays linear in the number of files.
    let by_path: HashMap<&str, &SourceFile> = manifest
        .files
        .iter()
        .flat_map(|f| f.paths.iter().map(move |p| (p.as_str(), f)))
        .collect();
    let probes: Vec<Probe> = files
        .par_iter()
        .map(|(path, _)| probe(path, &by_path))
        .collect();
    drop(by_path);
    let mut ids_by_path: HashMap<String, Vec<u64>> = HashMap::new();
    for f in &manifest.files {
        for p in &f.paths {
            ids_by_path.entry(p.clone()).or_default().push(f.id);
        }
    }
    let earlier_of = |shown: &str| ids_by_path.get(shown).cloned().unwrap_or_default();
    let known_sha: HashMap<String, usize> = (manifest.files.iter().enumerate())
        .map(|(i, f)| (f.sha256.clone(), i))
        .collect();
    let mut new_sha: HashMap<String, usize> = HashMap::new();
    let mut next_id = manifest.next_id();
    let mut out: Vec<NewFile> = Vec::new();
    for ((path, format), probe) in files.into_iter().zip(probes) {
        let shown = path.display().to_string();
        let (size, mtime, sha) = match probe {
            Probe::Unreadable(why) => {
                skipped.push((path, format!("cannot read: {why}")));
                continue;
            }
            Probe::Unchanged => {
                skipped.push((path, "already indexed".into()));
                continue;
            }
            Probe::Hashed { size, mtime, sha } => (size, mtime, sha),
        };
        if let Some(&i) = known_sha.get(&sha) {
            let existing = &mut manifest.files[i];
            // Say which file it duplicates, unless it is that file itself (touched, unchanged).
            let why = match existing.paths.first() {
                Some(first) if !existing.paths.contains(&shown) => {
                    format!("already indexed (same content as {first})")
                }
                _ => "already indexed (same content)".into(),
            };
            if !existing.paths.contains(&shown) {
                existing.paths.push(shown);
            }
            skipped.push((path, why));
            continue;
        }
        if let Some(&i) = new_sha.get(&sha) {
            let first = out[i].path.display().to_string();
            out[i].record.paths.push(shown);
            skipped.push((path, format!("duplicate of {first}")));
            continue;
        }
        let earlier = earlier_of(&shown);
        let record = SourceFile {
            id: next_id,
            paths: vec![shown],
            size,
            mtime,
            sha256: sha,
            ..SourceFile::default()
        };
        next_id += 1;
        new_sha.insert(record.sha256.clone(), out.len());
        out.push(NewFile {
            path,
            format,
            record,
            earlier,
        });
    }
    out
}

/// A file at a known path with the same size and mtime is taken as unchanged (no re-hash).
fn probe(path: &Path, by_path: &HashMap<&str, &SourceFile>) -> Probe {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return Probe::Unreadable(e.to_string()),
    };
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64);
    let shown = path.display().to_string();
    if by_path
        .get(shown.as_str())
        .is_some_and(|f| f.size == meta.len() && f.mtime == mtime)
    {
        return Probe::Unchanged;
    }
    match sha256_file(path) {
        Ok(sha) => Probe::Hashed {
            size: meta.len(),
            mtime,
            sha,
        },
        Err(e) => Probe::Unreadable(e.to_string()),
    }
}

fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}
