//! Record-level de-duplication: the same records read from several inputs (an EVTX and its
//! JSON export, overlapping copies of one log taken at different times) are indexed once and
//! counted as folded; records that only share an EventRecordID are not folded; the toggle keeps
//! every copy and the case remembers it. Logs are written by our EVTX writer from the
//! two-host scenario of `tests/fixtures/lateral-movement.yml`.

#![allow(clippy::unwrap_used)]

use huntbench::event::{Event, Value, format_timestamp, is_system_field, parse_timestamp};
use huntbench::index::{Case, IngestOptions, IngestSummary};
use huntbench::store::EventStore;
use huntbench::synth::{DataValue, SynthEvent, encode_evtx, load_scenario};
use serde_json::{Map, Value as Json, json};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

const BIN: &str = env!("CARGO_BIN_EXE_huntbench");

/// The scenario's events and the record id of the first.
fn scenario() -> (Vec<SynthEvent>, u64) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lateral-movement.yml");
    let s = load_scenario(path.to_str().unwrap()).unwrap();
    (s.events().unwrap(), s.first_record_id())
}

fn write_evtx(path: &Path, events: &[SynthEvent], first_record_id: u64) -> PathBuf {
    std::fs::write(path, encode_evtx(events, first_record_id).unwrap()).unwrap();
    path.to_owned()
}

/// An evtx_dump-shaped record for `e`, written the way other tools differ from our reader:
/// EventData fields in reverse order, numbers as JSON numbers, empty values as `null`, the
/// time with 7 fractional digits and `Keywords` in decimal.
fn exported(e: &Event) -> Json {
    let mut system = Map::new();
    let mut data = Vec::new();
    let json_value = |v: &Value| match v {
        Value::Null => None,
        Value::Str(s) if s.is_empty() => Some(Json::Null),
        Value::Str(s) => Some(match s.parse::<u64>() {
            Ok(n) if n.to_string() == *s => json!(n),
            _ => json!(s),
        }),
        Value::List(items) => Some(json!(items)),
    };
    for (name, value) in &e.fields {
        let Some(mut v) = json_value(value) else {
            continue;
        };
        if !is_system_field(name) {
            data.push((name.clone(), v));
            continue;
        }
        if name == "TimeCreated_SystemTime" {
            v = json!(format_timestamp(
                parse_timestamp(value.as_str().unwrap()).unwrap()
            ));
        }
        if name == "Keywords" {
            let hex = value.as_str().unwrap().trim_start_matches("0x");
            v = json!(u64::from_str_radix(hex, 16).unwrap().to_string());
        }
        match name.split_once('_') {
            Some((element, attr)) => {
                let entry = system.entry(element).or_insert_with(|| json!({}));
                if !entry.is_object() {
                    *entry = json!({ "#text": entry.take() });
                }
                let attrs = entry.as_object_mut().unwrap().entry("#attributes");
                attrs.or_insert_with(|| json!({}))[attr] = v;
            }
            None => match system.get_mut(name.as_str()) {
                Some(Json::Object(o)) => {
                    o.insert("#text".into(), v);
                }
                _ => {
                    system.insert(name.clone(), v);
                }
            },
        }
    }
    let data: Map<String, Json> = data.into_iter().rev().collect();
    json!({"Event": {"System": system, "EventData": data}})
}

/// `evtx` exported as JSONL (one evtx_dump-shaped record a line) to `path`.
fn write_export(evtx: &Path, path: &Path) -> PathBuf {
    let (events, _) = huntbench::ingest::read_all(evtx).unwrap();
    let lines: Vec<String> = events.iter().map(|e| exported(e).to_string()).collect();
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
    path.to_owned()
}

fn ingest(case: &Path, inputs: &[PathBuf], opts: &IngestOptions) -> (Case, IngestSummary) {
    let mut case = Case::open_or_create(case).unwrap();
    let summary = case.ingest(inputs, opts, &mut |_| {}).unwrap();
    assert!(summary.problems().is_empty(), "{:?}", summary.problems());
    (case, summary)
}

/// Every event of the case as (computer, channel, record id, its JSON), with its source id.
fn events_of(case: &Case) -> Vec<((String, String, u64, String), u64)> {
    let snap = case.snapshot();
    let refs = snap
        .candidates(&huntbench::prefilter::Prefilter::All)
        .unwrap();
    (refs.iter())
        .map(|r| {
            let (e, file) = snap.event(*r).unwrap();
            let key = (
                e.computer().to_owned(),
                e.channel().to_owned(),
                e.record_id().unwrap(),
                e.to_json(),
            );
            (key, file)
        })
        .collect()
}

/// The manifest entry of the file whose first path ends with `name`.
fn source(case: &Case, name: &str) -> huntbench::index::SourceFile {
    let files = case.manifest().unwrap().files;
    (files.into_iter())
        .find(|f| f.paths[0].ends_with(name))
        .unwrap_or_else(|| panic!("{name} not in the case"))
}

/// `DIR/logs` holding the scenario as `a-security.evtx` and its JSON export `b-export.jsonl`;
/// with the EVTX's path and its number of records.
fn log_and_its_export(dir: &Path) -> (PathBuf, PathBuf, u64) {
    let (events, first) = scenario();
    let logs = dir.join("logs");
    std::fs::create_dir(&logs).unwrap();
    let evtx = write_evtx(&logs.join("a-security.evtx"), &events, first);
    write_export(&evtx, &logs.join("b-export.jsonl"));
    (logs, evtx, events.len() as u64)
}

#[test]
fn an_evtx_and_its_json_export_are_indexed_once_whatever_the_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let (logs, evtx, n) = log_and_its_export(tmp.path());
    // The export is read as the same events (not as something else that happens to count n).
    let (from_json, _) = huntbench::ingest::read_all(&logs.join("b-export.jsonl")).unwrap();
    assert_eq!(from_json.len() as u64, n);
    assert_ne!(
        from_json[0],
        huntbench::ingest::read_all(&evtx).unwrap().0[0]
    );

    for threads in [1, 2, 4] {
        let opts = IngestOptions {
            threads,
            ..IngestOptions::default()
        };
        let dir = tmp.path().join(format!("case-{threads}"));
        let (case, summary) = ingest(&dir, std::slice::from_ref(&logs), &opts);
        assert_eq!((summary.events_added, summary.folded), (n, n), "{threads}");
        assert_eq!(case.num_events(), n);
        let kept = source(&case, "a-security.evtx");
        let folded = source(&case, "b-export.jsonl");
        assert_eq!((kept.events, kept.folded), (n, 0), "{threads}");
        assert_eq!((folded.events, folded.folded), (0, n), "{threads}");
        assert_eq!(folded.folded_into.get(&kept.id), Some(&n));
        // One copy of each record, all from the earliest-named file.
        let all = events_of(&case);
        let distinct: HashSet<_> = all.iter().map(|(k, _)| (&k.0, &k.1, k.2)).collect();
        assert_eq!(all.len() as u64, n);
        assert_eq!(distinct.len() as u64, n);
        assert!(all.iter().all(|(_, file)| *file == kept.id), "{threads}");
    }
}

/// A later-named file read before the earlier one's copies of its records (a short export of
/// the end of a long log, two reader threads) still leaves the records in the earlier file:
/// its copies are deleted when the earlier file reaches them.
#[test]
fn a_later_named_file_read_first_still_folds_into_the_earlier() {
    let tmp = tempfile::tempdir().unwrap();
    let (events, first) = scenario();
    let long: Vec<SynthEvent> = (0..300)
        .flat_map(|round| {
            (events.iter().cloned()).map(move |mut e| {
                e.time += jiff::SignedDuration::from_hours(round);
                e
            })
        })
        .collect();
    let n = long.len() as u64;
    let logs = tmp.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let evtx = write_evtx(&logs.join("a-long.evtx"), &long, first);
    let export = write_export(&evtx, &tmp.path().join("export.jsonl"));
    let text = std::fs::read_to_string(&export).unwrap();
    let tail: Vec<&str> = text.lines().rev().take(40).collect();
    std::fs::write(logs.join("b-tail.jsonl"), tail.join("\n")).unwrap();
    let opts = IngestOptions {
        threads: 2,
        commit_every: 1_000,
        ..IngestOptions::default()
    };
    for run in 0..3 {
        let dir = tmp.path().join(format!("case-{run}"));
        let (case, summary) = ingest(&dir, std::slice::from_ref(&logs), &opts);
        assert_eq!((summary.events_added, summary.folded), (n, 40));
        assert_eq!(case.num_events(), n);
        let tail = source(&case, "b-tail.jsonl");
        assert_eq!((tail.events, tail.folded), (0, 40));
        let kept = source(&case, "a-long.evtx").id;
        assert!(events_of(&case).iter().all(|(_, file)| *file == kept));
    }
}

/// The scenario's events after `skip`, then `more` new ones (a copy of the log taken later:
/// the oldest records overwritten, new ones written).
fn later_copy(events: &[SynthEvent], skip: usize, more: usize) -> Vec<SynthEvent> {
    let last = events.last().unwrap().time;
    let new = (1..=more).map(|i| {
        let mut e = events[i % events.len()].clone();
        e.time = last + jiff::SignedDuration::from_secs(60 * i as i64);
        e
    });
    events[skip..].iter().cloned().chain(new).collect()
}

#[test]
fn an_overlapping_later_copy_folds_only_the_shared_records() {
    let tmp = tempfile::tempdir().unwrap();
    let (events, first) = scenario();
    let n = events.len() as u64;
    let early = write_evtx(&tmp.path().join("early.evtx"), &events, first);
    let later = later_copy(&events, 3, 4);
    let later = write_evtx(&tmp.path().join("later.evtx"), &later, first + 3);
    let (case, summary) = ingest(
        &tmp.path().join("case"),
        &[early, later],
        &IngestOptions::default(),
    );
    assert_eq!(summary.folded, n - 3);
    assert_eq!(case.num_events(), n + 4);
    let later = source(&case, "later.evtx");
    assert_eq!((later.events, later.folded), (4, n - 3));
}

#[test]
fn a_duplicate_added_in_a_later_run_folds_against_the_case() {
    let tmp = tempfile::tempdir().unwrap();
    let (events, first) = scenario();
    let n = events.len() as u64;
    let evtx = write_evtx(&tmp.path().join("z-security.evtx"), &events, first);
    let export = write_export(&evtx, &tmp.path().join("a-export.jsonl"));
    let dir = tmp.path().join("case");
    let opts = IngestOptions::default();
    drop(ingest(&dir, &[evtx], &opts));
    // Named before the file in the case: what is in the case stays, whatever the names.
    let (case, summary) = ingest(&dir, &[export], &opts);
    assert_eq!((summary.events_added, summary.folded), (0, n));
    assert_eq!(
        summary.added.len(),
        1,
        "a file of folded records is added, not an error"
    );
    assert_eq!(case.num_events(), n);
    let kept = source(&case, "z-security.evtx");
    assert_eq!(
        source(&case, "a-export.jsonl").folded_into.get(&kept.id),
        Some(&n)
    );
    // The folded count is shown with the sources.
    let sources = case.snapshot().sources().unwrap();
    let notes = huntbench::store::folded_notes(&sources, &huntbench::store::first_paths(&sources));
    assert_eq!(notes.len(), 1);
    assert!(notes[0].path.ends_with("a-export.jsonl"), "{notes:?}");
    assert!(
        notes[0]
            .reason
            .starts_with(&format!("{n} record(s) counted once"))
            && notes[0].reason.contains("z-security.evtx"),
        "{notes:?}"
    );
}

#[test]
fn records_that_share_only_a_record_id_are_all_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let (events, first) = scenario();
    let n = events.len() as u64;
    let a = write_evtx(&tmp.path().join("a.evtx"), &events, first);
    // The same record ids and times on other computers.
    let elsewhere: Vec<SynthEvent> = (events.iter().cloned())
        .map(|mut e| {
            e.computer = format!("OTHER-{}", e.computer);
            e
        })
        .collect();
    let b = write_evtx(&tmp.path().join("b.evtx"), &elsewhere, first);
    // The same computers, record ids and times, other content.
    let changed: Vec<SynthEvent> = (events.iter().cloned())
        .map(|mut e| {
            e.data
                .push(("Extra".into(), DataValue::Str("changed".into())));
            e
        })
        .collect();
    let c = write_evtx(&tmp.path().join("c.evtx"), &changed, first);
    let (case, summary) = ingest(
        &tmp.path().join("case"),
        &[a, b, c],
        &IngestOptions::default(),
    );
    assert_eq!(summary.folded, 0);
    assert_eq!(case.num_events(), 3 * n);
}

#[test]
fn keep_duplicates_indexes_every_copy_and_the_case_remembers() {
    let tmp = tempfile::tempdir().unwrap();
    let (events, first) = scenario();
    let n = events.len() as u64;
    let evtx = write_evtx(&tmp.path().join("security.evtx"), &events, first);
    let export = write_export(&evtx, &tmp.path().join("export.jsonl"));
    let dir = tmp.path().join("case");
    let keep = IngestOptions {
        keep_duplicates: true,
        ..IngestOptions::default()
    };
    let (case, summary) = ingest(&dir, &[evtx], &keep);
    assert!(case.manifest().unwrap().keep_duplicates);
    drop(case);
    assert_eq!(summary.folded, 0);
    // A later run without the option follows the case.
    let (case, summary) = ingest(&dir, &[export], &IngestOptions::default());
    assert_eq!((summary.events_added, summary.folded), (n, 0));
    assert_eq!(case.num_events(), 2 * n);
}

/// `huntbench ingest` and `huntbench stats` say how many records were folded, and into what.
#[test]
fn the_commands_show_the_folded_count() {
    let tmp = tempfile::tempdir().unwrap();
    let (events, first) = scenario();
    let n = events.len();
    let evtx = write_evtx(&tmp.path().join("security.evtx"), &events, first);
    let export = write_export(&evtx, &tmp.path().join("security.jsonl"));
    let case = tmp.path().join("case");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(BIN)
            .args(args)
            .env("HUNTBENCH_CONFIG_DIR", tmp.path().join("config"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (case, evtx, export) = (
        case.to_str().unwrap(),
        evtx.to_str().unwrap(),
        export.to_str().unwrap(),
    );
    let (_, err) = run(&["ingest", "-q", "--case", case, evtx, export]);
    assert!(
        err.contains(&format!("{n} events"))
            && err.contains(&format!("{n} duplicate record(s) folded")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "folded: {export}: {n} record(s) counted once: the same records"
        )) && err.contains(&format!("are in {evtx} ({n})")),
        "{err}"
    );
    let (out, _) = run(&["stats", "--case", case]);
    assert!(out.contains(&format!("events    {n}\n")), "{out}");
    assert!(
        out.contains(&format!("folded    {n} duplicate record(s)")),
        "{out}"
    );
}

/// A raw export folds as ingest does: an EVTX and its JSON export give one row per record,
/// and `--keep-duplicates` writes both copies.
#[test]
fn a_raw_export_writes_a_repeated_record_once() {
    use huntbench::export::{ExportOptions, export_paths};
    let tmp = tempfile::tempdir().unwrap();
    let (logs, _, n) = log_and_its_export(tmp.path());
    for (keep, rows) in [(false, n), (true, 2 * n)] {
        let opts = ExportOptions {
            keep_duplicates: keep,
            ..ExportOptions::default()
        };
        let out = tmp.path().join(format!("out-{keep}"));
        let summary = export_paths(std::slice::from_ref(&logs), &out, &opts).unwrap();
        assert_eq!(summary.events, rows, "keep {keep}");
        let inputs = summary.inputs.unwrap();
        assert_eq!(inputs.folded, 2 * n - rows, "keep {keep}");
        let events: u64 = inputs.added.iter().map(|f| f.events).sum();
        assert_eq!(events, rows, "keep {keep}");
        let keys = event_keys(&out);
        assert_eq!(keys.len() as u64, rows, "keep {keep}");
        assert_eq!(
            keys.iter().collect::<HashSet<_>>().len() as u64,
            rows,
            "every copy has a key of its own (keep {keep})"
        );
    }
}

/// The `event_key` column of every Parquet file under `dir`.
fn event_keys(dir: &Path) -> Vec<i64> {
    use arrow_array::{Array, Int64Array};
    let mut keys = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let file = std::fs::File::open(&path).unwrap();
            let reader =
                parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
                    .unwrap()
                    .build()
                    .unwrap();
            for batch in reader {
                let batch = batch.unwrap();
                let col = batch.column_by_name("event_key").unwrap();
                let col = col.as_any().downcast_ref::<Int64Array>().unwrap();
                keys.extend((0..col.len()).map(|i| col.value(i)));
            }
        }
    }
    keys
}
