//! Helpers shared by the benchmark examples: a large case made by replicating the corpus, and
//! the process's memory figures.

use std::path::Path;

/// Copies every EVTX file `factor` times, changing one reserved header byte per copy so the
/// case does not skip the copies as duplicates. Returns the bytes written.
pub fn replicate(corpus: &Path, factor: usize, out: &Path) -> anyhow::Result<u64> {
    let files = huntbench::ingest::discover(&[corpus.to_owned()], &|_| None).files;
    std::fs::create_dir_all(out)?;
    let mut total = 0u64;
    for (i, (path, _)) in files.iter().enumerate() {
        let bytes = std::fs::read(path)?;
        for copy in 0..factor {
            let mut b = bytes.clone();
            if b.len() > 4000 && copy > 0 {
                b[4000..4008].copy_from_slice(&(copy as u64).to_le_bytes());
            }
            std::fs::write(out.join(format!("{i:04}-{copy:03}.evtx")), &b)?;
            total += b.len() as u64;
        }
    }
    Ok(total)
}

/// Total size of the files directly in `dir`.
/// The corpus replicated for a benchmark, from its first arguments (corpus directory,
/// replication factor).
pub struct Replicated {
    pub inputs: std::path::PathBuf,
    pub files: Vec<(std::path::PathBuf, huntbench::ingest::Format)>,
    pub evtx_bytes: u64,
}

/// Replicates the corpus named by `args` under `work` and says what was written.
pub fn replicated_inputs(args: &[String], work: &Path) -> anyhow::Result<Replicated> {
    let corpus = args.get(1).map_or("../shared/corpus/evtx", String::as_str);
    let factor: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let inputs = work.join("inputs");
    let evtx_bytes = replicate(Path::new(corpus), factor, &inputs)?;
    let files = huntbench::ingest::discover(std::slice::from_ref(&inputs), &|_| None).files;
    println!(
        "input: {} files, {:.1} MB of EVTX (x{factor})",
        files.len(),
        evtx_bytes as f64 / 1e6
    );
    Ok(Replicated {
        inputs,
        files,
        evtx_bytes,
    })
}

pub fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.metadata().map_or(0, |m| m.len()))
        .sum()
}

/// A `/proc/self/status` memory line in MB: `VmHWM` (peak RSS) or `VmRSS` (current).
pub fn status_mb(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.strip_prefix(key).is_some_and(|r| r.starts_with(':')))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}
