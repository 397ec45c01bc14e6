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
    assert_eq!(reason(&first, &b), "duplicate of another input file");
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
    assert_eq!(reason(&second, &copy), "already indexed (same content)");
    assert_eq!(reason(&second, &other), "already indexed (same content)");
    assert_eq!(case.num_events(), events);
}
