//! A second `scan` of an unchanged case reads the hits of unchanged rules back instead of
//! evaluating them, and prints the same lines; a changed rule, placeholders, an ingest or a
//! damaged memo make it evaluate again.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_huntbench");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const RULE: &str = "title: Logons
id: 5e0c1c7e-0000-4000-8000-000000000001
logsource:
    product: windows
    service: security
detection:
    sel:
        EventID: 4624
    condition: sel
level: low
";

const PROCESS_RULE: &str = "title: Shells
id: 5e0c1c7e-0000-4000-8000-000000000002
logsource:
    product: windows
    category: process_creation
detection:
    sel:
        Image|expand: '%shell%'
    condition: sel
level: low
";

/// `scan --format jsonl` of the case with the given rule files (not the bundled pack);
/// returns the sorted lines and the summary line.
fn scan(dir: &Path, extra: &[&str], inputs: &[PathBuf]) -> (Vec<String>, String) {
    let out = Command::new(BIN)
        .args(["scan", "--format", "jsonl", "--no-default-rules", "--case"])
        .arg(dir.join("case"))
        .args(["--rules"])
        .arg(dir.join("rules"))
        .args(extra)
        .args(inputs)
        .env("HUNTBENCH_CONFIG_DIR", dir.join("config"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    let summary = (stderr.lines())
        .find(|l| l.contains(" rule(s) over "))
        .unwrap_or_else(|| panic!("no summary in:\n{stderr}"))
        .to_owned();
    (lines, summary)
}

fn remembered(summary: &str) -> Option<usize> {
    let at = summary.find(" unchanged rule(s) were read from an earlier scan")?;
    summary[..at].split_whitespace().last()?.parse().ok()
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("rules")).unwrap();
    std::fs::create_dir_all(dir.path().join("config")).unwrap();
    std::fs::write(dir.path().join("rules/logons.yml"), RULE).unwrap();
    std::fs::write(dir.path().join("rules/shells.yml"), PROCESS_RULE).unwrap();
    std::fs::write(
        dir.path().join("config/placeholders.yml"),
        "shell: ['*\\cmd.exe']\n",
    )
    .unwrap();
    dir
}

#[test]
fn a_second_scan_reads_the_hits_back_and_prints_the_same_lines() {
    let dir = setup();
    let samples = vec![root().join("samples")];
    let (first, summary) = scan(dir.path(), &[], &samples);
    assert_eq!(remembered(&summary), None, "{summary}");
    assert!(first.len() > 10, "{summary}");
    let (second, summary) = scan(dir.path(), &[], &[]);
    assert_eq!(remembered(&summary), Some(2), "{summary}");
    assert_eq!(second, first);
    let (third, summary) = scan(dir.path(), &["--rerun-all"], &[]);
    assert_eq!(remembered(&summary), None, "{summary}");
    assert_eq!(third, first);
}

#[test]
fn a_changed_rule_placeholders_or_case_is_evaluated_again() {
    let dir = setup();
    let samples = root().join("samples");
    let (before, _) = scan(dir.path(), &[], &[samples.join("psexec.evtx")]);
    // An edited rule runs again; the other is read back.
    std::fs::write(
        dir.path().join("rules/logons.yml"),
        RULE.replace("EventID: 4624", "EventID: [4624, 4672]"),
    )
    .unwrap();
    let (edited, summary) = scan(dir.path(), &[], &[]);
    assert_eq!(remembered(&summary), Some(1), "{summary}");
    assert!(edited.len() > before.len(), "{summary}");
    // New placeholder values change what the rule using them matches (every rule runs again:
    // the memo does not track which placeholders a rule uses).
    let (_, summary) = scan(dir.path(), &[], &[]);
    assert_eq!(remembered(&summary), Some(2), "{summary}");
    std::fs::write(
        dir.path().join("config/placeholders.yml"),
        "shell: ['*\\cmd.exe', '*\\powershell.exe']\n",
    )
    .unwrap();
    let (_, summary) = scan(dir.path(), &[], &[]);
    assert_eq!(remembered(&summary), None, "{summary}");
    // Adding logs to the case makes every remembered hit stale.
    let (grown, summary) = scan(dir.path(), &[], &[samples.join("wmiexec.evtx")]);
    assert_eq!(remembered(&summary), None, "{summary}");
    assert!(grown.len() > edited.len(), "{summary}");
    let (fresh, _) = scan(dir.path(), &["--rerun-all"], &[]);
    assert_eq!(grown, fresh);
}

#[test]
fn a_damaged_memo_is_ignored() {
    let dir = setup();
    let (first, _) = scan(dir.path(), &[], &[root().join("samples")]);
    let memo_dir = dir.path().join("case/hit-memo");
    let generation = std::fs::read_dir(&memo_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let file = std::fs::read_dir(generation.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    // A flipped bit in a reference would name another event: the entry is not used.
    let mut bytes = std::fs::read(&file).unwrap();
    let last_ref = bytes.len() - 4 - 16;
    bytes[last_ref + 12] ^= 1;
    std::fs::write(&file, &bytes).unwrap();
    let (second, summary) = scan(dir.path(), &[], &[]);
    assert_eq!(remembered(&summary), Some(1), "{summary}");
    assert_eq!(second, first);
    // A file cut short is not read at all.
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() - 3]).unwrap();
    for f in std::fs::read_dir(generation.path()).unwrap() {
        let f = f.unwrap().path();
        if f != file {
            std::fs::remove_file(f).unwrap();
        }
    }
    let (third, summary) = scan(dir.path(), &[], &[]);
    assert_eq!(remembered(&summary), None, "{summary}");
    assert_eq!(third, first);
}
