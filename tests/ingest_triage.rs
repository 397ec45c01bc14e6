//! Which input files an ingest reads and which it skips, and why: a known path is not re-read,
//! the same content under another name is read once, and a file touched but unchanged is
//! recognised by its hash.

use huntbench::index::{Case, IngestOptions, IngestSummary};
use std::path::{Path, PathBuf};

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(name)
}

fn ingest(case: &mut Case, paths: &[PathBuf]) -> IngestSummary {
    case.ingest(paths, &IngestOptions::default(), &mut |_| {})
        .expect("ingest")
}

fn reason(summary: &IngestSummary, path: &Path) -> String {
    summary
        .skipped
        .iter()
        .find(|(p, _)| p == path)
        .map(|(_, why)| why.clone())
        .unwrap_or_else(|| panic!("{} not skipped: {:?}", path.display(), summary.skipped))
}

#[test]
fn skipped_files_are_known_paths_or_known_content() {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = tmp.path().join("inputs");
    let later = tmp.path().join("later");
    std::fs::create_dir_all(&inputs).unwrap();
    std::fs::create_dir_all(&later).unwrap();
    let (a, b, other) = (
        inputs.join("a.evtx"),
        inputs.join("b.evtx"),
        inputs.join("c.evtx"),
    );
    std::fs::copy(sample("psexec.evtx"), &a).unwrap();
    std::fs::copy(sample("psexec.evtx"), &b).unwrap();
    std::fs::copy(sample("wmiexec.evtx"), &other).unwrap();
    let mut case = Case::open_or_create(&tmp.path().join("case")).unwrap();

    let first = ingest(&mut case, std::slice::from_ref(&inputs));
    assert_eq!(first.added.len(), 2, "{:?}", first.added);
    assert_eq!(reason(&first, &b), format!("duplicate of {}", a.display()));
    let events = case.num_events();
    assert!(events > 0);
    let manifest = case.manifest().unwrap();
    let psexec = manifest
        .files
        .iter()
        .find(|f| f.paths.iter().any(|p| Path::new(p) == a))
        .expect("a.evtx recorded");
    assert!(psexec.paths.iter().any(|p| Path::new(p) == b));

    // Known paths are skipped without reading; new names of known content after hashing.
    let copy = later.join("copy.evtx");
    std::fs::copy(sample("psexec.evtx"), &copy).unwrap();
    let touched = std::fs::File::options().append(true).open(&other).unwrap();
    touched
        .set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(3600))
        .unwrap();
    drop(touched);
    let second = ingest(&mut case, &[inputs.clone(), later.clone()]);
    assert_eq!(second.events_added, 0);
    assert!(second.added.is_empty());
    assert_eq!(reason(&second, &a), "already indexed");
    assert_eq!(
        reason(&second, &copy),
        format!("already indexed (same content as {})", a.display())
    );
    assert_eq!(reason(&second, &other), "already indexed (same content)");
    assert_eq!(case.num_events(), events);
}

fn logon(record: u64) -> String {
    serde_json::json!({"Event": {
        "System": {
            "EventID": 4624,
            "Channel": "Security",
            "Computer": "dc1",
            "EventRecordID": record,
            "TimeCreated": {"#attributes": {"SystemTime": format!("2024-05-01T10:00:{record:02}Z")}},
        },
        "EventData": {"TargetUserName": "alice", "LogonType": 3},
    }})
    .to_string()
}

/// A log collected again after it grew (a changed file at a known path) adds only its new
/// records: those already in the case from the earlier version are not indexed twice.
#[test]
fn a_log_that_grew_adds_only_its_new_records() {
    let tmp = tempfile::tempdir().expect("tmp");
    let log = tmp.path().join("Security.jsonl");
    let lines = |n: u64| (1..=n).map(logon).collect::<Vec<_>>().join("\n");
    std::fs::write(&log, lines(3)).expect("write");
    let mut case = Case::open_or_create(&tmp.path().join("case")).expect("case");
    assert_eq!(
        ingest(&mut case, std::slice::from_ref(&log)).events_added,
        3
    );
    std::fs::write(&log, lines(5)).expect("write");
    let second = ingest(&mut case, std::slice::from_ref(&log));
    assert_eq!(second.events_added, 2, "{:?}", second.added);
    assert_eq!(case.num_events(), 5);
    let warnings: Vec<&String> = second.added.iter().flat_map(|f| &f.warnings).collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("3 record(s) already in the case")),
        "{warnings:?}"
    );
    // A different log reusing the name (other record ids) is read whole.
    std::fs::write(&log, (101..=102).map(logon).collect::<Vec<_>>().join("\n")).expect("write");
    assert_eq!(
        ingest(&mut case, std::slice::from_ref(&log)).events_added,
        2
    );
    assert_eq!(case.num_events(), 7);
}
