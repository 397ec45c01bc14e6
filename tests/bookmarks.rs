//! Bookmarks name their events by what the events are, not where a store keeps them: a
//! bookmark made on a case still finds its event after more logs are added and the case is
//! reopened, in the case index and in a list of the same events in memory.

#![allow(clippy::unwrap_used)]

use huntbench::bookmarks::{Bookmark, Bookmarks, RuleRef, parse_note, resolve};
use huntbench::index::{Case, IngestOptions};
use huntbench::prefilter::Prefilter;
use huntbench::store::EventStore;
use huntbench::store::memory::MemoryStore;
use std::path::{Path, PathBuf};

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(name)
}

fn ingest(case: &mut Case, inputs: &[PathBuf]) {
    case.ingest(inputs, &IngestOptions::default(), &mut |_| {})
        .unwrap();
}

#[test]
fn a_bookmark_finds_its_event_after_more_files_and_reopening() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("case");
    let mut case = Case::open_or_create(&dir).unwrap();
    ingest(&mut case, &[sample("wmiexec.evtx")]);
    let snap = case.snapshot();
    // A process creation of the wmiexec log, bookmarked as from a hit.
    let creations = snap
        .candidates(&Prefilter::Equals {
            field: "EventID".into(),
            value: "4688".into(),
        })
        .unwrap();
    assert!(creations.len() > 2);
    let r = creations[creations.len() / 2];
    let (event, _) = snap.event(r).unwrap();
    let (note, tags) = parse_note("wmiexec shell #lateral");
    let rule = Some(RuleRef {
        id: Some("dae3a3ff".into()),
        title: "Process Started by the WMI Provider Host".into(),
    });
    let (mut marks, _) = Bookmarks::load(&dir).unwrap();
    marks.add(Bookmark::new(&event, rule, note, tags)).unwrap();
    assert_eq!(resolve(&snap, &marks.list()[0]).unwrap(), Some(r));
    drop(snap);

    // More logs, one ingest each (more segments, which the index may merge), then reopened.
    for more in ["psexec.evtx", "smbexec.evtx", "benign-admin-baseline.evtx"] {
        ingest(&mut case, &[sample(more)]);
    }
    drop(case);
    let case = Case::open(&dir).unwrap();
    let snap = case.snapshot();
    let (marks, warnings) = Bookmarks::load(&dir).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let b = &marks.list()[0];
    assert_eq!(
        (b.note.as_str(), b.tags.as_slice()),
        ("wmiexec shell", &["lateral".to_owned()][..])
    );
    let found = resolve(&snap, b)
        .unwrap()
        .expect("the event, after adding files");
    assert_eq!(snap.event(found).unwrap().0, event);

    // The same question of the events held in memory.
    let memory = MemoryStore::copy_of(&snap).unwrap();
    let found = resolve(&memory, b).unwrap().expect("the event, in memory");
    assert_eq!(memory.event(found).unwrap().0, event);
}

/// `huntbench bookmarks` lists them as the workbench does, in each format.
#[test]
fn the_bookmarks_command_lists_notes_tags_and_whether_the_event_is_in_the_case() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("case");
    let mut case = Case::open_or_create(&dir).unwrap();
    ingest(&mut case, &[sample("psexec.evtx")]);
    let snap = case.snapshot();
    let refs = snap.candidates(&Prefilter::All).unwrap();
    let (event, _) = snap.event(refs[3]).unwrap();
    drop(snap);
    drop(case);
    let (mut marks, _) = Bookmarks::load(&dir).unwrap();
    let (note, tags) = parse_note("=cmd| first #psexec");
    marks.add(Bookmark::new(&event, None, note, tags)).unwrap();
    // A bookmark of an event this case does not hold (made on another case).
    let stray = Bookmark::new(
        &huntbench::event::Event::from_pairs(&[("Computer", "ELSEWHERE"), ("EventID", "1")]),
        None,
        "stray".into(),
        vec![],
    );
    marks.add(stray).unwrap();
    let run = |format: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_huntbench"))
            .args(["bookmarks", "--case"])
            .arg(&dir)
            .args(["--format", format])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (table, said) = run("table");
    assert!(
        table.contains("#psexec") && table.contains("=cmd| first"),
        "{table}"
    );
    assert!(
        said.contains("2 bookmark(s), 1 of them not in the case"),
        "{said}"
    );
    let (jsonl, _) = run("jsonl");
    let lines: Vec<serde_json::Value> = (jsonl.lines())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    let found: Vec<bool> = lines
        .iter()
        .map(|l| l["in_case"].as_bool().unwrap())
        .collect();
    assert_eq!(found.iter().filter(|f| **f).count(), 1, "{jsonl}");
    let ours = lines.iter().find(|l| l["note"] == "=cmd| first").unwrap();
    assert_eq!(ours["tags"][0], "psexec");
    assert_eq!(ours["in_case"], true);
    let (csv, _) = run("csv");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header[..3], ["time", "computer", "channel"]);
    let notes: Vec<String> = (reader.records())
        .map(|r| r.unwrap()[7].to_owned())
        .collect();
    assert!(
        notes.contains(&"'=cmd| first".to_owned()),
        "a formula is defused: {notes:?}"
    );
}
