//! Reproduces the figures in BENCHMARKS.md, all measured in one run:
//!
//! ```sh
//! cargo run --release --example bench -- ../shared/corpus/evtx 70 ../shared/sigma
//! ```
//! Arguments: corpus directory, replication factor (copies of every file, each with one
//! reserved header byte changed so the case does not skip it as a duplicate), and the SigmaHQ
//! checkout whose Windows rules are timed (optional). The copies hold the same records, so the
//! case keeps duplicates (`keep_duplicates`); a second ingest into another case then folds them
//! as ingest does by default, which times the per-record de-duplication.

mod common;

use common::{dir_size, status_mb};
use huntbench::hunt;
use huntbench::index::{Case, IngestOptions};
use huntbench::sigma::CompiledRule;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

/// CPU seconds (user + system) in a `/proc/.../stat` line; the kernel counts in 1/100 s.
fn stat_cpu(stat: &str) -> f64 {
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split(' ').collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

fn process_cpu() -> f64 {
    stat_cpu(&std::fs::read_to_string("/proc/self/stat").unwrap_or_default())
}

/// Samples every thread's CPU time while ingest runs, to show where it goes (threads that end
/// are counted as of their last sample, at most 50 ms before they end).
struct ThreadCpu {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: std::thread::JoinHandle<BTreeMap<u64, (String, f64)>>,
    before: BTreeMap<u64, (String, f64)>,
}

fn thread_cpu() -> BTreeMap<u64, (String, f64)> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let Ok(tid) = entry.file_name().to_string_lossy().parse::<u64>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let name = stat
            .find('(')
            .zip(stat.rfind(')'))
            .map_or(String::new(), |(a, b)| stat[a + 1..b].to_owned());
        out.insert(tid, (name, stat_cpu(&stat)));
    }
    out
}

impl ThreadCpu {
    fn start() -> ThreadCpu {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut seen = BTreeMap::new();
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                seen.extend(thread_cpu());
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            seen
        });
        ThreadCpu {
            stop,
            handle,
            before: thread_cpu(),
        }
    }

    /// CPU seconds per kind of thread since `start`.
    fn stop(self) -> Vec<(&'static str, f64)> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let seen = self.handle.join().unwrap_or_default();
        let mut groups: BTreeMap<&'static str, f64> = BTreeMap::new();
        for (tid, (name, cpu)) in seen {
            let earlier = self.before.get(&tid).map_or(0.0, |(_, c)| *c);
            let group = if name == huntbench::index::READER_THREAD {
                "readers (parse + build documents)"
            } else if name.starts_with("thrd-tantivy-in") {
                "tantivy indexing (terms, postings, segments)"
            } else if name.starts_with("docstore") {
                "tantivy docstore compression"
            } else if name.starts_with("merge_thread") {
                "tantivy segment merges"
            } else {
                "main (hash inputs, hand over batches, commit)"
            };
            *groups.entry(group).or_default() += cpu - earlier;
        }
        groups.into_iter().collect()
    }
}

/// Ingests the replicas again, into a new case, folding duplicate records (the default): every
/// record is claimed, and all copies but the first are folded.
fn fold_replicas(inputs: &std::path::Path, case_dir: &std::path::Path) -> anyhow::Result<()> {
    let mut case = Case::open_or_create(case_dir)?;
    let (t, cpu0) = (Instant::now(), process_cpu());
    let summary = case.ingest(&[inputs.to_owned()], &IngestOptions::default(), &mut |_| {})?;
    let (secs, cpu) = (t.elapsed().as_secs_f64(), process_cpu() - cpu0);
    let read = summary.events_added + summary.folded;
    println!(
        "ingest folding duplicates: {read} records in {secs:.2} s = {:.0} records/s, {} indexed, {} folded; CPU {cpu:.1} s = {:.1} us/record",
        read as f64 / secs,
        summary.events_added,
        summary.folded,
        cpu * 1e6 / read as f64
    );
    drop(case);
    std::fs::remove_dir_all(case_dir)?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let sigma = args.get(3).map(PathBuf::from);
    let work = tempfile::tempdir()?;
    let common::Replicated {
        inputs,
        files,
        evtx_bytes,
    } = common::replicated_inputs(&args, work.path())?;

    // Parse only: as many threads as ingest's readers, the same normalisation, no index.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(IngestOptions::default().threads)
        .build()?;
    let (t, cpu0) = (Instant::now(), process_cpu());
    let parsed: u64 = pool.install(|| {
        files
            .par_iter()
            .map(|(p, f)| {
                let mut n = 0u64;
                let _ = huntbench::ingest::read_file(p, *f, &mut |_| n += 1);
                n
            })
            .sum()
    });
    let parse_s = t.elapsed().as_secs_f64();
    let parse_cpu = process_cpu() - cpu0;
    println!(
        "parse only: {parsed} events in {parse_s:.2} s = {:.0} events/s; CPU {parse_cpu:.1} s = {:.1} us/event",
        parsed as f64 / parse_s,
        parse_cpu * 1e6 / parsed as f64
    );

    let case_dir = work.path().join("case");
    let mut case = Case::open_or_create(&case_dir)?;
    let monitor = ThreadCpu::start();
    let (t, cpu0) = (Instant::now(), process_cpu());
    let keep = IngestOptions {
        keep_duplicates: true,
        ..IngestOptions::default()
    };
    let summary = case.ingest(std::slice::from_ref(&inputs), &keep, &mut |_| {})?;
    let ingest_s = t.elapsed().as_secs_f64();
    let ingest_cpu = process_cpu() - cpu0;
    let rate = summary.events_added as f64 / ingest_s;
    let per_event = |cpu: f64| cpu * 1e6 / summary.events_added as f64;
    println!(
        "ingest: {} events in {ingest_s:.2} s = {rate:.0} events/s; ingest/parse ratio {:.2}; CPU {ingest_cpu:.1} s = {:.1} us/event",
        summary.events_added,
        rate / (parsed as f64 / parse_s),
        per_event(ingest_cpu)
    );
    for (group, cpu) in monitor.stop() {
        println!(
            "  ingest CPU in {group:<44} {cpu:>7.1} s = {:>6.1} us/event",
            per_event(cpu)
        );
    }
    let index_bytes = dir_size(&case_dir.join("index"));
    println!(
        "index: {:.1} MB = {:.3} x EVTX size",
        index_bytes as f64 / 1e6,
        index_bytes as f64 / evtx_bytes as f64
    );
    println!(
        "peak RSS so far (parse + ingest): {} MB",
        status_mb("VmHWM")
    );
    fold_replicas(&inputs, &work.path().join("case-folded"))?;

    let snap = case.snapshot();
    let (bundled, _) = huntbench::rulepack::load(&[], false)?;
    if let Some(sigma) = sigma {
        let paths: Vec<PathBuf> = ["rules", "rules-emerging-threats", "rules-threat-hunting"]
            .iter()
            .map(|d| sigma.join(d))
            .collect();
        let (set, _) = huntbench::rulepack::load(&paths, true)?;
        let rules: Vec<&CompiledRule> = set.rules.iter().collect();
        let t = Instant::now();
        let result = hunt::run(&snap, &rules)?;
        let hits: usize = result.hits.iter().map(Vec::len).sum();
        println!(
            "all {} SigmaHQ Windows rules: {:.2} s, {hits} hits, {} candidate events checked",
            rules.len(),
            t.elapsed().as_secs_f64(),
            result.candidates
        );
    }
    // The search bar / `huntbench search`: first 1,000 results, keyword and field queries.
    for text in [
        "mimikatz",
        "\"net user\"",
        "Image=*\\powershell.exe",
        "CommandLine=*-enc*",
        "EventID=4624 AND LogonType=3",
    ] {
        let q = huntbench::query::parse(text).map_err(|e| anyhow::anyhow!("{text}: {e:?}"))?;
        let mut times = Vec::new();
        let mut n = 0;
        for _ in 0..5 {
            let t = Instant::now();
            n = huntbench::store::search(&snap, &q.prefilter(), &|e| q.matches(e), 1000)?.len();
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "search {text:<40} {n:>5} results (first 1,000)  median {:>8.1} ms",
            times[times.len() / 2]
        );
    }
    // Re-running one edited rule: recompile from text and run, as the live editor does.
    let loader = huntbench::sigma::Loader::new()?;
    for rule in &bundled.rules {
        let text = rule.meta.text();
        let mut times = Vec::new();
        let mut n = 0;
        for _ in 0..21 {
            let t = Instant::now();
            let set = loader.load_str(&text, "bench");
            let rules: Vec<&CompiledRule> = set.rules.iter().collect();
            n = hunt::run(&snap, &rules)?.hits.first().map_or(0, Vec::len);
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "re-run {:<60} {n:>7} hits  median {:>7.2} ms  p95 {:>7.2} ms",
            rule.title(),
            times[times.len() / 2],
            times[times.len() * 95 / 100]
        );
    }
    println!("peak RSS (whole run): {} MB", status_mb("VmHWM"));
    Ok(())
}
