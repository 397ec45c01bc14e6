#![allow(clippy::unwrap_used)]

use super::*;
use crate::store::memory::MemoryStore;

fn event(record: &str, time: &str, image: &str) -> Event {
    Event::from_pairs(&[
        ("EventID", "4688"),
        ("Channel", "Security"),
        ("Computer", "HOST-B"),
        ("EventRecordID", record),
        ("TimeCreated_SystemTime", time),
        ("NewProcessName", image),
    ])
}

fn mark(ev: &Event, line: &str) -> Bookmark {
    let (note, tags) = parse_note(line);
    let rule = Some(RuleRef {
        id: Some("r-1".into()),
        title: "A rule".into(),
    });
    Bookmark::new(ev, rule, note, tags)
}

#[test]
fn notes_take_their_hash_words_as_tags() {
    assert_eq!(
        parse_note("psexec from #lateral A #lateral #admmig  # x"),
        (
            "psexec from A # x".to_owned(),
            vec!["lateral".to_owned(), "admmig".to_owned()]
        )
    );
    assert_eq!(parse_note("  "), (String::new(), Vec::new()));
    let ev = event("7", "2024-03-13T14:02:11.4810000Z", "C:\\x.exe");
    let b = mark(&ev, "seen twice #c2 #wmi");
    assert_eq!(b.note_line(), "seen twice #c2 #wmi");
    assert_eq!(parse_note(&b.note_line()), (b.note.clone(), b.tags.clone()));
}

#[test]
fn bookmarks_round_trip_through_the_journal_in_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let late = event("9", "2024-03-13T15:00:00.0000000Z", "C:\\late.exe");
    let early = event("8", "2024-03-13T14:00:00.0000000Z", "C:\\early.exe");
    let (mut marks, warnings) = Bookmarks::load(dir.path()).unwrap();
    assert!(marks.list().is_empty() && warnings.is_empty());
    marks.add(mark(&late, "late one #b")).unwrap();
    marks.add(mark(&early, "early one #a")).unwrap();
    let (again, warnings) = Bookmarks::load(dir.path()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(again.list(), marks.list());
    let notes: Vec<&str> = again.list().iter().map(|b| b.note.as_str()).collect();
    assert_eq!(notes, ["early one", "late one"]);
    let b = &again.list()[0];
    assert_eq!(b.event.record_id, Some(8));
    assert_eq!(b.event_id, Some(4688));
    assert_eq!(b.summary, "NewProcessName=C:\\early.exe");
    assert_eq!(b.rule.as_ref().unwrap().title, "A rule");
    assert_eq!(
        b.event.time.as_deref(),
        Some("2024-03-13T14:00:00.0000000Z")
    );
}

#[test]
fn edits_and_removals_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (
        event("1", "2024-03-13T14:00:00Z", "C:\\a.exe"),
        event("2", "2024-03-13T14:00:01Z", "C:\\b.exe"),
    );
    let (mut marks, _) = Bookmarks::load(dir.path()).unwrap();
    let (ma, mb) = (mark(&a, "first"), mark(&b, "second"));
    marks.add(ma.clone()).unwrap();
    marks.add(mb.clone()).unwrap();
    let edited = marks
        .update(&ma.id, "first, revised".into(), vec!["x".into()])
        .unwrap()
        .unwrap();
    assert_eq!(
        (edited.note.as_str(), edited.tags.len()),
        ("first, revised", 1)
    );
    assert!(marks.remove(&mb.id).unwrap().is_some());
    assert!(marks.remove(&mb.id).unwrap().is_none(), "gone already");
    assert!(
        marks
            .update("nope", String::new(), vec![])
            .unwrap()
            .is_none()
    );
    // Marking the same event again replaces its bookmark.
    let (mut reopened, warnings) = Bookmarks::load(dir.path()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(reopened.list().len(), 1);
    assert_eq!(reopened.list()[0].note, "first, revised");
    reopened.add(mark(&a, "again")).unwrap();
    let (last, _) = Bookmarks::load(dir.path()).unwrap();
    assert_eq!(last.list().len(), 1);
    assert_eq!(last.list()[0].note, "again");
    let journal = std::fs::read_to_string(dir.path().join(JOURNAL_FILE)).unwrap();
    assert_eq!(journal.lines().count(), 5, "add, add, edit, remove, add");
}

#[test]
fn a_torn_last_line_is_skipped_with_a_warning_and_later_records_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let a = event("1", "2024-03-13T14:00:00Z", "C:\\a.exe");
    let b = event("2", "2024-03-13T14:00:01Z", "C:\\b.exe");
    let (mut marks, _) = Bookmarks::load(dir.path()).unwrap();
    marks.add(mark(&a, "kept")).unwrap();
    // A crash in the middle of the second record's write.
    let path = dir.path().join(JOURNAL_FILE);
    let whole = serde_json::to_string(&journal::Record::Add(mark(&b, "lost"))).unwrap();
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    file.write_all(&whole.as_bytes()[..whole.len() / 2])
        .unwrap();
    drop(file);
    let (mut marks, warnings) = Bookmarks::load(dir.path()).unwrap();
    assert_eq!(marks.list().len(), 1);
    assert_eq!(marks.list()[0].note, "kept");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains(":2: the last record is cut short"),
        "{warnings:?}"
    );
    // The next record starts on a line of its own: the torn one stays a bad line in the
    // middle (warned about), and both good records are read.
    marks.add(mark(&b, "after the crash")).unwrap();
    let (marks, warnings) = Bookmarks::load(dir.path()).unwrap();
    let notes: Vec<&str> = marks.list().iter().map(|b| b.note.as_str()).collect();
    assert_eq!(notes, ["kept", "after the crash"]);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains(":2: not a bookmark record"),
        "{warnings:?}"
    );
}

#[test]
fn the_case_note_is_replaced_whole() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(case_note(dir.path()).unwrap(), "");
    save_case_note(dir.path(), "# Case\n\nadmmig from 10.23.123.11\n").unwrap();
    save_case_note(dir.path(), "short\n").unwrap();
    assert_eq!(case_note(dir.path()).unwrap(), "short\n");
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert_eq!(files.len(), 1, "no temporary file left behind");
}

#[test]
fn resolve_finds_the_event_in_a_memory_store_among_look_alikes() {
    let t = "2024-03-13T14:00:00.1234567Z";
    let target = event("5", t, "C:\\target.exe");
    // Same time, computer, channel and record id, other content (another log's record).
    let twin = event("5", t, "C:\\twin.exe");
    let other = event("6", t, "C:\\other.exe");
    let b = mark(&target, "");
    let store = MemoryStore::from_events(vec![twin.clone(), other, target.clone()]);
    let r = resolve(&store, &b).unwrap().expect("found");
    assert_eq!(store.event(r).unwrap().0, target);
    // In another store, in another order, still the same event.
    let store = MemoryStore::from_events(vec![target.clone(), twin.clone()]);
    let r = resolve(&store, &b).unwrap().expect("found");
    assert_eq!(store.event(r).unwrap().0, target);
    // Without the exact content, the record that agrees on everything else.
    let store = MemoryStore::from_events(vec![twin.clone()]);
    let r = resolve(&store, &b).unwrap().expect("its look-alike");
    assert_eq!(store.event(r).unwrap().0, twin);
    let store = MemoryStore::from_events(vec![event("6", t, "C:\\target.exe")]);
    assert_eq!(resolve(&store, &b).unwrap(), None, "another record id");
}
