//! Writes the corpus replicated `factor` times into a directory (one reserved header byte
//! changed per copy, as the other benchmarks do), to measure the command line on large cases:
//!
//! ```sh
//! cargo run --release --example replicate -- ../shared/corpus/evtx 70 /tmp/x70
//! ```

// Only `replicate` of the shared helpers is used here.
#[allow(dead_code)]
mod common;

use anyhow::Context as _;
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [corpus, factor, out] = args.as_slice() else {
        anyhow::bail!("usage: replicate CORPUS FACTOR OUT");
    };
    let factor: usize = factor.parse().context("FACTOR is a number")?;
    let bytes = common::replicate(&PathBuf::from(corpus), factor, &PathBuf::from(out))?;
    println!("{:.1} MB of EVTX written to {out}", bytes as f64 / 1e6);
    Ok(())
}
