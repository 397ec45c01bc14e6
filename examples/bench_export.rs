//! Reproduces the Parquet export figures in BENCHMARKS.md, all measured in one run:
//!
//! ```sh
//! cargo run --release --example bench_export -- ../shared/corpus/evtx 8
//! ```
//! Arguments: corpus directory, replication factor (copies of every file, as `bench`
//! makes them), and optionally `raw-only` to stop after the raw export (no ingest, no case
//! export: quicker when only the raw export's ratio is wanted). Parse-only runs before and after the raw export, and the raw export's ratio is
//! taken against their mean, since the shared machine's speed drifts within a run.

// `dir_size` of the shared helpers is not used here.
#[allow(dead_code)]
mod common;

use common::status_mb;
use huntbench::export::{ExportOptions, export_case, export_paths};
use huntbench::index::{Case, IngestOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Total size of the files under `dir`, recursively.
fn tree_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            match entry.metadata() {
                Ok(m) if m.is_dir() => stack.push(entry.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}

/// CPU seconds this process has used (all threads, user and system), from `/proc/self/stat`
/// in clock ticks of 1/100 s: on a shared machine the CPU a phase took varies much less with
/// the other load than its wall time does.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// A rate by wall time and by CPU time (events per CPU second).
#[derive(Clone, Copy)]
struct Rate {
    wall: f64,
    cpu: f64,
}

/// Reads every file on as many threads as the export uses, counting events. The threads take
/// files one at a time from a shared counter, as the export's workers do: a rayon `par_iter`
/// here kept the two cores only about 1.5 busy, which flattered the export's wall-time ratio.
fn parse_only(files: &[(PathBuf, huntbench::ingest::Format)], threads: usize) -> Rate {
    let next = AtomicUsize::new(0);
    let (t, cpu) = (Instant::now(), cpu_seconds());
    let parsed: u64 = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| {
                scope.spawn(|| {
                    let mut n = 0u64;
                    while let Some((p, f)) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let _ = huntbench::ingest::read_file(p, *f, &mut |_| n += 1);
                    }
                    n
                })
            })
            .collect();
        (workers.into_iter())
            .map(|w| w.join().expect("a parse thread"))
            .sum()
    });
    let (s, cpu) = (t.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    let rate = Rate {
        wall: parsed as f64 / s,
        cpu: parsed as f64 / cpu,
    };
    println!(
        "parse only: {parsed} events in {s:.2} s = {:.0} events/s; {cpu:.2} CPU s = {:.0} events/CPU s",
        rate.wall, rate.cpu
    );
    rate
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let work = tempfile::tempdir()?;
    let common::Replicated {
        inputs,
        files,
        evtx_bytes,
    } = common::replicated_inputs(&args, work.path())?;
    // The replicas are copies of the same records: folding them would write one copy.
    let opts = ExportOptions {
        keep_duplicates: true,
        ..ExportOptions::default()
    };

    let before = parse_only(&files, opts.threads);
    let raw = work.path().join("raw");
    let (t, cpu) = (Instant::now(), cpu_seconds());
    let summary = export_paths(std::slice::from_ref(&inputs), &raw, &opts)?;
    let (raw_s, raw_cpu) = (t.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    let after = parse_only(&files, opts.threads);
    let raw_rate = summary.events as f64 / raw_s;
    let raw_cpu_rate = summary.events as f64 / raw_cpu;
    println!(
        "raw EVTX -> Parquet: {} events in {raw_s:.2} s = {raw_rate:.0} events/s = {:.2} x parse-only \
         (mean of {:.0} and {:.0}); {raw_cpu:.2} CPU s = {raw_cpu_rate:.0} events/CPU s = {:.2} x \
         parse-only's; {} files in {} day partitions; peak RSS so far {} MB",
        summary.events,
        raw_rate / ((before.wall + after.wall) / 2.0),
        before.wall,
        after.wall,
        raw_cpu_rate / ((before.cpu + after.cpu) / 2.0),
        summary.files_written,
        summary.partitions,
        status_mb("VmHWM")
    );

    if args.get(3).is_some_and(|a| a == "raw-only") {
        println!(
            "sizes: EVTX {:.1} MB; Parquet of the raw export {:.1} MB = {:.3} x EVTX",
            mb(evtx_bytes),
            mb(tree_size(&raw)),
            tree_size(&raw) as f64 / evtx_bytes as f64
        );
        return Ok(());
    }
    let case_dir = work.path().join("case");
    let mut case = Case::open_or_create(&case_dir)?;
    let t = Instant::now();
    // The replicas hold the same records: kept, so the case is as large as the raw export.
    let keep = IngestOptions {
        keep_duplicates: true,
        ..IngestOptions::default()
    };
    let ingested = case.ingest(std::slice::from_ref(&inputs), &keep, &mut |_| {})?;
    println!(
        "ingest (for the case export): {} events in {:.2} s",
        ingested.events_added,
        t.elapsed().as_secs_f64()
    );
    drop(case);
    let from_case = work.path().join("from-case");
    let t = Instant::now();
    let summary = export_case(&case_dir, &from_case, &opts)?;
    let case_s = t.elapsed().as_secs_f64();
    println!(
        "case -> Parquet: {} events in {case_s:.2} s = {:.0} events/s; {} files",
        summary.events,
        summary.events as f64 / case_s,
        summary.files_written
    );

    let (raw_bytes, case_pq_bytes, index_bytes) =
        (tree_size(&raw), tree_size(&from_case), tree_size(&case_dir));
    println!(
        "sizes: EVTX {:.1} MB; case {:.1} MB; Parquet of the raw export {:.1} MB = {:.3} x EVTX, \
         {:.2} x the case; Parquet of the case export {:.1} MB",
        mb(evtx_bytes),
        mb(index_bytes),
        mb(raw_bytes),
        raw_bytes as f64 / evtx_bytes as f64,
        raw_bytes as f64 / index_bytes as f64,
        mb(case_pq_bytes)
    );
    println!("peak RSS of the whole run: {} MB", status_mb("VmHWM"));
    Ok(())
}
