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
