//! Where exported events come from: a case (read through its event store) or input files (read
//! by `ingest` as a fresh case would read them). Worker threads each read a share and write
//! files of their own, so reading, encoding and compressing run on every core.

use super::ExportError;
use super::parquet::{PartitionWriter, Written};
use super::schema::Source;
use crate::event::Event;
use crate::index::{IngestSummary, PlannedFile};
use crate::ingest::{self, FileReport};
use crate::store::{EventRef, EventStore, StoreError};
use rustc_hash::FxHashSet;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Shards of the set of records a raw export has written.
const SEEN_SHARDS: usize = 16;

/// Events of a case read per job: consecutive in time, so a day's events go to few files.
const CASE_CHUNK: usize = 8 * 1024;

/// Runs `work` over `jobs` on `threads` threads, each with a partition writer of its own;
/// stops taking jobs once one fails.
fn run_workers<J: Send>(
    threads: usize,
    jobs: Vec<J>,
    root: &Path,
    work: &(dyn Fn(J, &mut PartitionWriter) -> Result<(), ExportError> + Sync),
) -> Result<Written, ExportError> {
    let (job_tx, job_rx) = crossbeam_channel::bounded(jobs.len().max(1));
    for job in jobs {
        let _ = job_tx.send(job);
    }
    drop(job_tx);
    let numbers = AtomicU64::new(0);
    let keys = super::key::EventKeys::default();
    let failed = AtomicBool::new(false);
    let results: Vec<Result<Written, ExportError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads.max(1))
            .map(|_| {
                let (job_rx, numbers, keys, failed) = (job_rx.clone(), &numbers, &keys, &failed);
                scope.spawn(move || {
                    let mut writer = PartitionWriter::new(root, numbers, keys);
                    for job in job_rx.iter() {
                        if failed.load(Ordering::Relaxed) {
                            break;
                        }
                        if let Err(e) = work(job, &mut writer) {
                            failed.store(true, Ordering::Relaxed);
                            return Err(e);
                        }
                    }
                    Ok(writer.finish()?)
                })
            })
            .collect();
        (handles.into_iter())
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let mut total = Written::default();
    for result in results {
        let w = result?;
        total.rows += w.rows;
        total.files += w.files;
    }
    Ok(total)
}

/// Each source file of a case as the export names it, by file id.
pub fn case_sources(sources: &[crate::store::Source]) -> HashMap<u64, Source> {
    (sources.iter())
        .map(|f| {
            let source = Source {
                ingest_id: f.id,
                file: f.paths.first().cloned().unwrap_or_default(),
                sha256: f.sha256.clone(),
            };
            (f.id, source)
        })
        .collect()
}

/// The case's events as chunks of consecutive times. With [`read_chunk`], the only reading of
/// the case the export does.
fn case_chunks(store: &dyn EventStore) -> Result<Vec<Vec<EventRef>>, StoreError> {
    let refs = store.candidates(&crate::prefilter::Prefilter::All)?;
    Ok(refs.chunks(CASE_CHUNK).map(<[EventRef]>::to_vec).collect())
}

/// The events of one chunk with their file ids, in time order. Read in the store's order, so the
/// document store decompresses each of its blocks once per chunk.
fn read_chunk(store: &dyn EventStore, chunk: &[EventRef]) -> Result<Vec<(Event, u64)>, StoreError> {
    let mut order = chunk.to_vec();
    order.sort_unstable_by_key(|r| r.key);
    let mut events = Vec::with_capacity(order.len());
    for r in order {
        let (event, file) = store.event(r)?;
        events.push((r.ts, event, file));
    }
    events.sort_by_key(|(ts, _, _)| *ts);
    Ok(events.into_iter().map(|(_, e, f)| (e, f)).collect())
}

/// Writes every event of `case` under `root`.
pub fn read_case(
    store: &dyn EventStore,
    root: &Path,
    opts: &super::ExportOptions,
) -> Result<Written, ExportError> {
    let sources = case_sources(&store.sources()?);
    let unknown = Source {
        ingest_id: u64::MAX,
        file: String::new(),
        sha256: String::new(),
    };
    let chunks = case_chunks(store)?;
    run_workers(opts.threads, chunks, root, &|chunk, writer| {
        for (event, file) in read_chunk(store, &chunk)? {
            writer.push(&event, sources.get(&file).unwrap_or(&unknown))?;
        }
        Ok(())
    })
}

/// Reads `files` (as [`crate::index::plan_inputs`] planned them) and writes their events under
/// `root`; each file read is added to `inputs.added` with its counts and warnings, each that
/// could not be opened to `inputs.skipped`, as ingest reports them.
pub fn read_paths(
    files: Vec<PlannedFile>,
    root: &Path,
    opts: &super::ExportOptions,
    inputs: &mut IngestSummary,
) -> Result<Written, ExportError> {
    let reports: Mutex<Vec<Option<std::io::Result<FileReport>>>> =
        Mutex::new((0..files.len()).map(|_| None).collect());
    // Records already written, by ingest's record digest, unless every copy is wanted: the
    // first copy read is written (a case keeps the earliest-named file's; the rows are the
    // same record either way). 16 bytes a record, in shards so the readers rarely wait.
    let seen: Option<Vec<Mutex<FxHashSet<u128>>>> =
        (!opts.keep_duplicates).then(|| (0..SEEN_SHARDS).map(|_| Mutex::default()).collect());
    let folded: Vec<AtomicU64> = (0..files.len()).map(|_| AtomicU64::new(0)).collect();
    let jobs: Vec<usize> = (0..files.len()).collect();
    let written = run_workers(opts.threads, jobs, root, &|i, writer| {
        let f = &files[i];
        let source = Source {
            ingest_id: f.source.id,
            file: f.source.paths.first().cloned().unwrap_or_default(),
            sha256: f.source.sha256.clone(),
        };
        let mut failure = None;
        let report = ingest::read_file(&f.path, f.format, &mut |event| {
            let digest = crate::index::dedup::record_digest(&event);
            if let Some(seen) = &seen
                && let Some(d) = digest
                && let Ok(mut shard) = seen[(d as usize) % SEEN_SHARDS].lock()
                && !shard.insert(d)
            {
                folded[i].fetch_add(1, Ordering::Relaxed);
                return;
            }
            if failure.is_none()
                && let Err(e) = writer.push_digested(&event, digest, &source)
            {
                failure = Some(e);
            }
        });
        if let Some(e) = failure {
            return Err(e.into());
        }
        if let Ok(mut all) = reports.lock() {
            all[i] = Some(report);
        }
        Ok(())
    })?;
    let reports = reports.into_inner().unwrap_or_else(|p| p.into_inner());
    for ((f, report), folded) in files.into_iter().zip(reports).zip(folded) {
        match report {
            Some(Ok(r)) => {
                let mut record = f.source;
                record.folded = folded.into_inner();
                inputs.folded += record.folded;
                record.events = r.events - record.folded;
                record.errors = r.errors;
                record.warnings = r.warnings;
                inputs.added.push(record);
            }
            Some(Err(e)) => inputs.skipped.push((f.path, format!("cannot read: {e}"))),
            None => {}
        }
    }
    Ok(written)
}
