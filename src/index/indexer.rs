//! The indexer: adds input files to a case. Decides which files are new, reads them in
//! parallel, indexes their events and commits with the manifest so that an interrupted run is
//! completed by the next. (Reading a file is `crate::ingest`'s; this is the case's side.)

use super::case::{Case, IndexError};
use super::dedup::{self, Claim, Claims, Folds};
use super::document::DocumentBuilder;
use super::in_flight::{InFlight, Tracked};
use super::manifest::{Manifest, SourceFile};
use super::merge_policy::CappedMergePolicy;
use super::schema::Fields;
use crate::ingest::{self, FileReport, Format, PathError};
use commit::{Committer, finished_files};
use crossbeam_channel::{Receiver, Sender, bounded};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tantivy::indexer::UserOperation;
use tantivy::{IndexWriter, TantivyDocument, Term};

mod commit;
mod triage;

pub(super) use triage::triage;

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
    /// Index every copy of a record read from several sources instead of folding them into
    /// one (`dedup`); the case remembers it for its later runs.
    pub keep_duplicates: bool,
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
            keep_duplicates: false,
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
    /// Records of the added files not indexed: the case holds the same record from another
    /// source (see `dedup`).
    pub folded: u64,
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
    Done(usize, std::io::Result<FileReport>, Folds),
}

/// What the readers fold records against: the run's claims and, for records the case held
/// before the run, a searcher of its last commit.
struct Folding<'a> {
    claims: Claims,
    searcher: tantivy::Searcher,
    fields: &'a Fields,
    /// Sources whose documents are being deleted (in flight when an earlier run died).
    dying: HashSet<u64>,
}

impl Folding<'_> {
    /// Claims `digest` for source `id`, first loading the case's records of the event's
    /// computer and channel when this reader meets them (`last`: the pair it met last).
    fn claim(
        &self,
        event: &crate::event::Event,
        digest: u128,
        id: u64,
        last: &mut Option<(String, String)>,
    ) -> Result<Claim, String> {
        let (computer, channel) = (event.computer(), event.channel());
        if last
            .as_ref()
            .is_none_or(|(c, ch)| c != computer || ch != channel)
        {
            let mut failed = None;
            self.claims.ensure_loaded(computer, channel, || {
                dedup::digests_of(&self.searcher, self.fields, computer, channel, &self.dying)
                    .unwrap_or_else(|e| {
                        failed = Some(e.to_string());
                        Vec::new()
                    })
            });
            if let Some(e) = failed {
                return Err(e);
            }
            *last = Some((computer.to_owned(), channel.to_owned()));
        }
        Ok(self.claims.claim(digest, id))
    }
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
        manifest.keep_duplicates |= opts.keep_duplicates;
        let mut writer = self.writer(opts)?;
        // Documents of files that were in flight when an earlier run died.
        let dying: HashSet<u64> = std::mem::take(&mut manifest.pending).into_iter().collect();
        for &id in &dying {
            writer.delete_term(Term::from_field_u64(self.fields.file, id));
        }
        let folding = (!manifest.keep_duplicates).then(|| Folding {
            claims: Claims::default(),
            searcher: self.reader.searcher(),
            fields: &self.fields,
            dying,
        });
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
        committer.commit(&mut writer, &manifest, &[], &[], &[], false)?;
        let already = self.earlier_records(&new_files)?;
        let mut run = Run {
            writer: &mut writer,
            committer: &mut committer,
            manifest: &manifest,
            new_files: &new_files,
            reports: (0..new_files.len()).map(|_| None).collect(),
            folds: vec![Folds::default(); new_files.len()],
            folding: folding.as_ref(),
            fields: &self.fields,
            state: &mut state,
            started,
            progress: &mut *progress,
        };
        self.read_and_index(opts, &already, &mut run)?;
        run.delete_taken()?;
        let (reports, folds) = (run.reports, run.folds);
        committer.commit(&mut writer, &manifest, &new_files, &reports, &folds, true)?;
        writer.wait_merging_threads()?;
        self.reload()?;
        summary.added = finished_files(&new_files, &reports, &folds).collect();
        summary.folded = summary.added.iter().map(|f| f.folded).sum();
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
        let folding = run.folding;
        std::thread::scope(|scope| -> Result<(), IndexError> {
            for _ in 0..opts.threads.max(1) {
                let (job_rx, tx) = (job_rx.clone(), tx.clone());
                // Named so profiles and the benchmark can tell reading from indexing.
                let reader = std::thread::Builder::new().name(READER_THREAD.into());
                let files = Files {
                    new_files,
                    already,
                    folding,
                };
                reader
                    .spawn_scoped(scope, move || {
                        read_files(&self.fields, &files, &job_rx, &tx);
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

/// What the reader threads share.
#[derive(Clone, Copy)]
struct Files<'a> {
    new_files: &'a [NewFile],
    /// Per file, the records of its earlier versions in the case.
    already: &'a [HashSet<(u64, i64)>],
    /// `None` when duplicates are kept.
    folding: Option<&'a Folding<'a>>,
}

/// A reader thread: takes file numbers from `jobs` and sends each file's documents in batches,
/// then its report.
fn read_files(fields: &Fields, files: &Files<'_>, jobs: &Receiver<usize>, tx: &Sender<Msg>) {
    let mut builder = DocumentBuilder::new(fields);
    let mut last_pair = None;
    for i in jobs.iter() {
        let f = &files.new_files[i];
        let already = &files.already[i];
        let mut batch = Vec::with_capacity(BATCH);
        let mut repeated = 0u64;
        let mut folds = Folds::default();
        let mut fold_error = None;
        let mut sink = |event: crate::event::Event| {
            if !already.is_empty()
                && let Some(key) = record_key(&event)
                && already.contains(&key)
            {
                repeated += 1;
                return;
            }
            let digest = dedup::record_digest(&event);
            if let (Some(folding), Some(d)) = (files.folding, digest) {
                match folding.claim(&event, d, f.record.id, &mut last_pair) {
                    Ok(Claim::Folded { into }) => return folds.add(into, 1),
                    Ok(_) => {}
                    Err(e) => {
                        fold_error.get_or_insert(e);
                    }
                }
            }
            batch.push(builder.build(&event, f.record.id, digest));
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
            r.events -= folds.count;
            if let Some(e) = fold_error {
                r.warnings.push(format!(
                    "records already in the case could not be read to fold duplicates against ({e}); some may be counted twice"
                ));
            }
            r
        });
        // A file's documents all arrive before its `Done`, so a commit that records the file
        // as complete holds all of them.
        if (!batch.is_empty() && tx.send(Msg::Docs(batch)).is_err())
            || tx.send(Msg::Done(i, report, folds)).is_err()
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
    folds: Vec<Folds>,
    folding: Option<&'a Folding<'a>>,
    fields: &'a Fields,
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
                Msg::Done(i, report, folds) => {
                    self.state.files_done += 1;
                    self.state.current = Some(self.new_files[i].path.clone());
                    self.reports[i] = Some(report);
                    self.folds[i] = folds;
                }
            }
            if since_commit >= commit_every {
                since_commit = 0;
                self.delete_taken()?;
                (self.committer).commit(
                    self.writer,
                    self.manifest,
                    self.new_files,
                    &self.reports,
                    &self.folds,
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

impl Run<'_> {
    /// Deletes the copies of records that a lower source took over from a file read completely
    /// (all its documents are with the writer, so the deletion follows them), and counts them
    /// as that file's folded records.
    fn delete_taken(&mut self) -> Result<(), IndexError> {
        let Some(folding) = self.folding else {
            return Ok(());
        };
        if !folding.claims.any_taken() {
            return Ok(());
        }
        for (i, f) in self.new_files.iter().enumerate() {
            let Some(Ok(report)) = &mut self.reports[i] else {
                continue;
            };
            let taken = folding.claims.take_over(f.record.id);
            if taken.is_empty() {
                continue;
            }
            let dk: Vec<u64> = taken.iter().map(|&(dk, _)| dk).collect();
            (self.writer).delete_query(dedup::taken_copies(self.fields, f.record.id, &dk))?;
            report.events -= taken.len() as u64;
            for (_, taker) in taken {
                self.folds[i].add(taker, 1);
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
