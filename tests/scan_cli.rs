//! `huntbench scan` as a user runs it: what it prints and the summary it ends with.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_huntbench");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `scan --format jsonl` over the samples case with extra arguments; returns the JSON
/// lines and the summary line.
fn scan(dir: &Path, args: &[&str]) -> (Vec<serde_json::Value>, String) {
    let out = Command::new(BIN)
        .args(["scan", "--format", "jsonl", "--case"])
        .arg(dir.join("case"))
        .args(args)
        .arg(root().join("samples"))
        .env("HUNTBENCH_CONFIG_DIR", dir.join("config"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary = stderr
        .lines()
        .find(|l| l.contains(" rule(s) over "))
        .unwrap_or_else(|| panic!("no summary in:\n{stderr}"))
        .to_owned();
    (lines, summary)
}

/// The number written just before `what` in the summary (`56 hit(s)` → 56).
fn count_before(summary: &str, what: &str) -> Option<usize> {
    let at = summary.find(what)?;
    summary[..at].split_whitespace().last()?.parse().ok()
}

#[test]
fn summary_counts_what_was_output_and_silenced_hits_apart() {
    let dir = tempfile::tempdir().unwrap();
    let (all, _) = scan(dir.path(), &[]);
    // Every hit names the sample file it came from.
    for hit in &all {
        let file = Path::new(hit["file"].as_str().unwrap());
        assert_eq!(
            file.parent(),
            Some(root().join("samples").as_path()),
            "{hit}"
        );
    }
    // A correlation without `generate: true` silences its base rule (the WMI child rule).
    let burst = root().join("tests/fixtures/tui/wmi_burst.yml");
    let (lines, summary) = scan(dir.path(), &["--rules", burst.to_str().unwrap()]);
    let corr = lines
        .iter()
        .filter(|l| l.get("correlation").is_some())
        .count();
    let plain = lines.len() - corr;
    assert!(corr > 0, "{summary}");
    assert!(plain < all.len(), "the base rule's hits are not output");
    assert_eq!(count_before(&summary, " hit(s),"), Some(plain), "{summary}");
    assert_eq!(
        count_before(&summary, " correlation hit(s)"),
        Some(corr),
        "{summary}"
    );
    assert_eq!(
        count_before(&summary, " more hit(s) not output"),
        Some(all.len() - plain),
        "{summary}"
    );
    // Without silenced rules there is nothing to state apart.
    let (_, summary) = scan(dir.path(), &[]);
    assert!(!summary.contains("not output"), "{summary}");
}
