//! Ingest over the shared corpus: counts equal the evtx crate's, bad files warn, re-ingest adds
//! nothing, and a case killed mid-ingest is completed by the next run without duplicates.

mod common;

use huntbench::index::{Case, IngestOptions};
use huntbench::store::EventStore as _;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// What the evtx crate itself yields for a file (records that render).
fn evtx_crate_count(path: &Path) -> u64 {
    let Ok(parser) = evtx::EvtxParser::from_path(path) else {
        return 0;
    };
    let settings = evtx::ParserSettings::new().num_threads(1);
    let mut parser = parser.with_configuration(settings);
    parser.records_json_value().filter(Result::is_ok).count() as u64
}

fn quiet_ingest(case: &mut Case, paths: &[PathBuf]) -> huntbench::index::IngestSummary {
    case.ingest(paths, &IngestOptions::default(), &mut |_| {})
        .expect("ingest")
}

#[test]
fn every_file_yields_what_the_evtx_crate_yields() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let files = common::evtx_files(&corpus);
    assert!(
        files.len() > 100,
        "corpus looks incomplete: {} files",
        files.len()
    );
    let mut mismatches = Vec::new();
    for f in &files {
        let (events, _report) = huntbench::ingest::read_all(f).expect("readable");
        let expected = evtx_crate_count(f);
        if events.len() as u64 != expected {
            mismatches.push(format!(
                "{}: ours {} evtx {}",
                f.display(),
                events.len(),
                expected
            ));
        }
        // Every event carries the System basics the index and rules rely on.
        for e in &events {
            assert!(
                e.event_id().is_some(),
                "{}: event without EventID",
                f.display()
            );
            assert!(
                e.timestamp().is_some(),
                "{}: event without time",
                f.display()
            );
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn case_index_holds_every_event_once_and_reingest_adds_nothing() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut case = Case::open_or_create(tmp.path()).unwrap();
    let first = quiet_ingest(&mut case, std::slice::from_ref(&corpus));
    assert!(first.path_errors.is_empty());
    let manifest = case.manifest().unwrap();
    assert_eq!(case.num_events(), manifest.total_events());
    assert_eq!(case.num_events(), first.events_added);
    // Every distinct file content was read, with the evtx crate's count.
    let mut expected = 0;
    let mut seen = HashSet::new();
    for f in common::evtx_files(&corpus) {
        let sha = manifest
            .files
            .iter()
            .find(|m| m.paths.iter().any(|p| Path::new(p) == f))
            .map(|m| m.sha256.clone())
            .unwrap_or_else(|| panic!("{} not in the manifest", f.display()));
        if seen.insert(sha) {
            expected += evtx_crate_count(&f);
        }
    }
    // Records found in several files of the corpus are counted once.
    assert_eq!(case.num_events() + first.folded, expected);
    assert_eq!(
        first.folded,
        manifest.files.iter().map(|f| f.folded).sum::<u64>()
    );
    let expected = case.num_events();

    let again = quiet_ingest(&mut case, &[corpus]);
    assert_eq!(again.events_added, 0);
    assert!(again.added.is_empty());
    assert_eq!(case.num_events(), expected);
    // Reopening is instant and sees the same case.
    drop(case);
    let reopened = Case::open(tmp.path()).unwrap();
    assert_eq!(reopened.num_events(), expected);
}

#[test]
fn truncated_and_random_files_warn_without_failing() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let source = common::evtx_files(&corpus)
        .into_iter()
        .max_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let inputs = tmp.path().join("inputs");
    std::fs::create_dir(&inputs).unwrap();
    let bytes = std::fs::read(&source).unwrap();
    let cut = 4096 + 65536 + 30_000; // header, one whole chunk, part of the next
    std::fs::write(
        inputs.join("truncated.evtx"),
        &bytes[..cut.min(bytes.len() - 1)],
    )
    .unwrap();
    let noise: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(inputs.join("random.evtx"), &noise).unwrap();
    let mut fake_header = b"ElfFile\0".to_vec();
    fake_header.extend(&noise[..100_000]);
    std::fs::write(inputs.join("fake-header.evtx"), &fake_header).unwrap();
    std::fs::copy(&source, inputs.join("good.evtx")).unwrap();

    let mut case = Case::open_or_create(&tmp.path().join("case")).unwrap();
    // The truncated copy's records are the good file's: kept, not folded, to compare them.
    let keep = IngestOptions {
        keep_duplicates: true,
        ..IngestOptions::default()
    };
    let summary = case
        .ingest(std::slice::from_ref(&inputs), &keep, &mut |_| {})
        .unwrap();
    let by_name = |n: &str| {
        summary
            .added
            .iter()
            .find(|f| f.paths[0].ends_with(n))
            .unwrap_or_else(|| panic!("{n} missing from {:?}", summary.added))
            .clone()
    };
    let good = by_name("good.evtx");
    assert_eq!(good.events, evtx_crate_count(&source));
    let truncated = by_name("truncated.evtx");
    assert!(truncated.events < good.events);
    assert!(
        truncated.errors <= 1,
        "at most the record the cut goes through"
    );
    assert!(
        truncated.warnings.iter().any(|w| w.contains("truncated")),
        "{:?}",
        truncated.warnings
    );
    // The whole first chunk, and the whole records of the partial second one.
    std::fs::write(inputs.join("first-chunk.bin"), &bytes[..4096 + 65536]).unwrap();
    let first_chunk = evtx_crate_count(&inputs.join("first-chunk.bin"));
    assert!(
        truncated.events > first_chunk,
        "records of the partial chunk are read"
    );
    // Each is the very record of the whole file, not one with a zeroed tail.
    let snap = case.snapshot();
    let mut of_file: std::collections::HashMap<u64, Vec<String>> = Default::default();
    for r in snap
        .candidates(&huntbench::prefilter::Prefilter::All)
        .unwrap()
    {
        let (event, file) = snap.event(r).unwrap();
        let rid = event
            .get_str("EventRecordID")
            .unwrap_or_default()
            .to_owned();
        of_file
            .entry(file)
            .or_default()
            .push(format!("{rid} {}", event.to_json()));
    }
    let whole: HashSet<&String> = of_file[&good.id].iter().collect();
    let cut = &of_file[&truncated.id];
    assert_eq!(cut.len() as u64, truncated.events);
    assert!(
        cut.iter().all(|e| whole.contains(e)),
        "a truncated record differs"
    );
    let fake = by_name("fake-header.evtx");
    assert_eq!(fake.events, 0);
    assert!(!fake.warnings.is_empty(), "a broken EVTX carries a warning");
    // Without the EVTX signature the file is said to be no EVTX file, not read.
    assert!(
        (summary.skipped.iter()).any(|(p, why)| p.ends_with("random.evtx")
            && why.contains("not an EVTX file (bad signature)")),
        "{:?}",
        summary.skipped
    );
    // Evidence untouched.
    assert_eq!(std::fs::read(inputs.join("good.evtx")).unwrap(), bytes);
}

#[test]
fn unreadable_paths_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let mut case = Case::open_or_create(tmp.path()).unwrap();
    let summary = quiet_ingest(&mut case, &[tmp.path().join("no-such-dir")]);
    assert_eq!(summary.path_errors.len(), 1);
    assert!(summary.path_errors[0].to_string().contains("no-such-dir"));
}

#[test]
fn killed_ingest_is_completed_by_the_next_run_without_duplicates() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let case_dir = tmp.path().join("case");
    let bin = env!("CARGO_BIN_EXE_huntbench");
    let meta = case_dir.join("index").join("meta.json");
    // Small commits so the kill lands between commits of a partly ingested corpus.
    let mut child = std::process::Command::new(bin)
        .args([
            "ingest",
            "--quiet",
            "--threads",
            "1",
            "--commit-every",
            "300",
            "--case",
        ])
        .arg(&case_dir)
        .arg(&corpus)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    let mut commits_seen = 0;
    let mut last = None;
    while commits_seen < 3 && start.elapsed().as_secs() < 120 {
        let stamp = std::fs::metadata(&meta).and_then(|m| m.modified()).ok();
        if stamp.is_some() && stamp != last {
            commits_seen += 1;
            last = stamp;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let _ = child.kill(); // SIGKILL
    let status = child.wait().unwrap();
    let finished_anyway = status.success();

    assert!(
        !finished_anyway,
        "the ingest finished before it could be killed"
    );
    let mut case = Case::open_or_create(&case_dir).expect("a killed case reopens");
    let interrupted = case.manifest().unwrap();
    assert!(
        !interrupted.pending.is_empty(),
        "the kill must leave files in flight"
    );
    let before = case.num_events();
    let summary = quiet_ingest(&mut case, &[corpus]);
    let manifest = case.manifest().unwrap();
    assert!(manifest.pending.is_empty());
    assert_eq!(case.num_events(), manifest.total_events());
    assert!(summary.events_added > 0);
    assert!(case.num_events() > before);
    // No event twice: (file, record id) pairs are unique.
    let snap = case.snapshot();
    let mut keys = HashSet::new();
    for r in snap
        .candidates(&huntbench::prefilter::Prefilter::All)
        .unwrap()
    {
        let (event, file) = snap.event(r).unwrap();
        assert!(
            keys.insert((file, event.record_id())),
            "duplicate event after resume"
        );
    }
}
