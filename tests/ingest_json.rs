//! JSON exports load as the EVTX they came from: each file is exported by the `evtx` crate the
//! way `evtx_dump` writes it (pretty objects after `Record N` lines) and as JSONL, and both
//! cases must hold exactly the events of the EVTX case. A JSONL line cut short loses only its
//! own record. Runs on the samples, and on the shared corpus when present.

mod common;

use huntbench::index::{Case, IngestOptions};
use huntbench::store::EventStore as _;
use std::path::{Path, PathBuf};

/// Writes `N.json` (evtx_dump style) and `N.jsonl` for each EVTX file; returns how many
/// records were exported.
fn export(files: &[PathBuf], json_dir: &Path, jsonl_dir: &Path) -> u64 {
    let mut records = 0;
    for (i, path) in files.iter().enumerate() {
        let Ok(parser) = evtx::EvtxParser::from_path(path) else {
            continue;
        };
        let settings = evtx::ParserSettings::new().num_threads(1);
        let mut parser = parser.with_configuration(settings);
        let (mut pretty, mut lines) = (String::new(), String::new());
        for record in parser.records_json_value().filter_map(Result::ok) {
            records += 1;
            let data = &record.data;
            pretty.push_str(&format!("Record {}\n", record.event_record_id));
            pretty.push_str(&serde_json::to_string_pretty(data).expect("json"));
            pretty.push('\n');
            lines.push_str(&serde_json::to_string(data).expect("json"));
            lines.push('\n');
        }
        std::fs::write(json_dir.join(format!("{i}.json")), pretty).expect("write");
        std::fs::write(jsonl_dir.join(format!("{i}.jsonl")), lines).expect("write");
    }
    records
}

fn ingest(dir: &Path, input: &Path) -> Case {
    let mut case = Case::open_or_create(dir).expect("case");
    case.ingest(&[input.to_owned()], &IngestOptions::default(), &mut |_| {})
        .expect("ingest");
    case
}

/// Every event of the case as its JSON, sorted: equal lists mean the same events.
fn events(case: &Case) -> Vec<String> {
    let snap = case.snapshot();
    let mut out: Vec<String> = (snap
        .candidates(&huntbench::prefilter::Prefilter::All)
        .expect("refs")
        .into_iter())
    .map(|r| snap.event(r).expect("event").0.to_json())
    .collect();
    out.sort();
    out
}

fn json_exports_hold_the_events_of_their_evtx(input: &Path) {
    let tmp = tempfile::tempdir().expect("tmp");
    let (json_dir, jsonl_dir) = (tmp.path().join("json"), tmp.path().join("jsonl"));
    std::fs::create_dir(&json_dir).expect("dir");
    std::fs::create_dir(&jsonl_dir).expect("dir");
    let evtx_case = ingest(&tmp.path().join("c-evtx"), input);
    // Files with the same content are read once, so export the ones the case read.
    let read: Vec<PathBuf> = (evtx_case.manifest().expect("manifest").files.iter())
        .map(|f| PathBuf::from(&f.paths[0]))
        .collect();
    let exported = export(&read, &json_dir, &jsonl_dir);
    assert!(exported > 0);
    let evtx_events = events(&evtx_case);
    // Records found in several files are counted once (the JSON cases fold the same ones).
    let folded: u64 = (evtx_case.manifest().expect("manifest").files.iter())
        .map(|f| f.folded)
        .sum();
    assert_eq!(evtx_events.len() as u64 + folded, exported);
    for (name, dir) in [("c-json", &json_dir), ("c-jsonl", &jsonl_dir)] {
        assert_same_events(&tmp.path().join(name), dir, &evtx_events);
    }
}

/// A case of the files in `dir` holds `expected`, and no file had a problem.
fn assert_same_events(case_dir: &Path, dir: &Path, expected: &[String]) {
    let case = ingest(case_dir, dir);
    let manifest = case.manifest().expect("manifest");
    assert!(
        manifest
            .files
            .iter()
            .all(|f| f.errors == 0 && f.warnings.is_empty()),
        "{}: {:?}",
        dir.display(),
        manifest
            .files
            .iter()
            .find(|f| f.errors > 0 || !f.warnings.is_empty())
    );
    let got = events(&case);
    assert_eq!(got.len(), expected.len(), "{}", dir.display());
    if let Some(i) = (0..got.len()).find(|&i| got[i] != expected[i]) {
        panic!(
            "{}: first difference\njson: {}\nevtx: {}",
            dir.display(),
            got[i],
            expected[i]
        );
    }
}

/// `text` as UTF-16 with a byte order mark, as PowerShell's `Out-File` writes it.
fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut out = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for unit in text.encode_utf16() {
        out.extend(if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    out
}

#[test]
fn utf16_and_array_exports_hold_the_same_events() {
    let samples = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/samples"));
    let tmp = tempfile::tempdir().expect("tmp");
    let (json_dir, jsonl_dir) = (tmp.path().join("json"), tmp.path().join("jsonl"));
    std::fs::create_dir(&json_dir).expect("dir");
    std::fs::create_dir(&jsonl_dir).expect("dir");
    let evtx_case = ingest(&tmp.path().join("c-evtx"), &samples);
    let files: Vec<PathBuf> = (evtx_case.manifest().expect("manifest").files.iter())
        .map(|f| PathBuf::from(&f.paths[0]))
        .collect();
    export(&files, &json_dir, &jsonl_dir);
    let expected = events(&evtx_case);
    let variants = ["utf16le", "utf16be", "array"].map(|v| tmp.path().join(v));
    for dir in &variants {
        std::fs::create_dir(dir).expect("dir");
    }
    for i in 0..files.len() {
        let pretty = std::fs::read_to_string(json_dir.join(format!("{i}.json"))).expect("json");
        let lines = std::fs::read_to_string(jsonl_dir.join(format!("{i}.jsonl"))).expect("jsonl");
        let jsonl = variants[0].join(format!("{i}.jsonl"));
        std::fs::write(jsonl, utf16(&lines.replace('\n', "\r\n"), false)).expect("write");
        std::fs::write(variants[1].join(format!("{i}.json")), utf16(&pretty, true)).expect("w");
        // A pretty-printed top-level array, as `ConvertTo-Json` and many tools write one.
        let records: Vec<serde_json::Value> = (lines.lines())
            .map(|l| serde_json::from_str(l).expect("a record"))
            .collect();
        let array = serde_json::to_string_pretty(&records).expect("json");
        std::fs::write(variants[2].join(format!("{i}.json")), array).expect("write");
    }
    for dir in &variants {
        let name = dir.file_name().expect("name").to_string_lossy();
        assert_same_events(&tmp.path().join(format!("c-{name}")), dir, &expected);
    }
    // Named on its own without an extension, a UTF-16 export is still known by its content.
    let bare = tmp.path().join("export");
    std::fs::copy(variants[0].join("0.jsonl"), &bare).expect("copy");
    let (events, report) = huntbench::ingest::read_all(&bare).expect("sniffed as JSON");
    let lines = std::fs::read_to_string(jsonl_dir.join("0.jsonl")).expect("jsonl");
    assert_eq!(events.len(), lines.lines().count(), "{report:?}");
}

/// The samples exported as JSON and JSONL in a new temporary directory; the JSONL directory.
fn sample_exports() -> (tempfile::TempDir, PathBuf) {
    let samples = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/samples"));
    let tmp = tempfile::tempdir().expect("tmp");
    let (json_dir, jsonl_dir) = (tmp.path().join("json"), tmp.path().join("jsonl"));
    std::fs::create_dir(&json_dir).expect("dir");
    std::fs::create_dir(&jsonl_dir).expect("dir");
    export(&common::evtx_files(&samples), &json_dir, &jsonl_dir);
    (tmp, jsonl_dir)
}

#[test]
fn an_object_wrapping_the_records_is_named_not_read_as_one_event() {
    let (tmp, jsonl_dir) = sample_exports();
    let lines = std::fs::read_to_string(jsonl_dir.join("0.jsonl")).expect("jsonl");
    let records: Vec<serde_json::Value> = (lines.lines())
        .map(|l| serde_json::from_str(l).expect("a record"))
        .collect();
    let wrapped = serde_json::json!({"count": records.len(), "records": records});
    let path = tmp.path().join("wrapped.json");
    std::fs::write(&path, serde_json::to_string_pretty(&wrapped).expect("json")).expect("write");
    let (events, report) = huntbench::ingest::read_all(&path).expect("readable");
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(report.errors, 1);
    assert_eq!(
        report.warnings,
        [format!(
            "a JSON object holding {} objects under \"records\" is a wrapper, not an event: not \
             read (huntbench reads one event per object or line, or a top-level array of events)",
            records.len()
        )]
    );
}

#[test]
fn json_exports_of_the_samples_hold_the_same_events() {
    let samples = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/samples"));
    json_exports_hold_the_events_of_their_evtx(&samples);
}

#[test]
fn json_exports_of_the_corpus_hold_the_same_events() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    json_exports_hold_the_events_of_their_evtx(&corpus);
}

#[test]
fn a_jsonl_line_cut_short_loses_only_its_own_record() {
    let (tmp, jsonl_dir) = sample_exports();
    let path = jsonl_dir.join("0.jsonl");
    let text = std::fs::read_to_string(&path).expect("read");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    assert!(lines.len() >= 5, "the first sample has a few records");
    // One line cut inside a string, one cut between a key and its value.
    let inside_string = lines[1].find("\"Computer\"").expect("computer") + 14;
    lines[1].truncate(inside_string);
    let between = lines[3].find("\"System\":").expect("system") + 9;
    lines[3].truncate(between);
    std::fs::write(&path, lines.join("\n") + "\n").expect("write");

    let case = ingest(&tmp.path().join("case"), &path);
    let manifest = case.manifest().expect("manifest");
    let file = &manifest.files[0];
    assert_eq!(file.events, lines.len() as u64 - 2, "{:?}", file.warnings);
    assert_eq!(file.errors, 2);
    assert!(
        file.warnings[0].contains("ends early"),
        "{:?}",
        file.warnings
    );
}
