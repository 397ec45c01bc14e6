//! Bookmarks and the case note, as state transitions (the worker's answers given by hand).
#![allow(clippy::unwrap_used)]

use super::tests::{app, key};
use super::*;
use crate::bookmarks::Bookmark;
use crate::event::Event;
use crate::tui::action::{BookmarkRow, Msg};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn enter() -> Action {
    Action::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE))
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        update(app, key(c));
    }
}

fn worker(app: &mut App, m: Msg) -> Vec<Effect> {
    update(app, Action::Worker(Box::new(m)))
}

/// The bookmark the worker would write for `r`.
fn written(r: EventRef, note: &str, tags: &[&str]) -> BookmarkRow {
    let ev = Event::from_pairs(&[
        ("EventID", "4688"),
        ("Computer", "HOST-B"),
        ("TimeCreated_SystemTime", "2024-03-13T14:00:00Z"),
        ("EventRecordID", &r.ts.to_string()),
    ]);
    let tags = tags.iter().map(|t| (*t).to_owned()).collect();
    BookmarkRow {
        mark: Bookmark::new(&ev, None, note.into(), tags),
        r: Some(r),
    }
}

#[test]
fn m_on_a_hit_asks_for_a_note_and_bookmarks_it_with_its_rule_and_tags() {
    let mut app = app();
    update(&mut app, Action::Open);
    update(&mut app, Action::Down);
    update(&mut app, Action::Bookmark);
    assert_eq!(app.input, Some((InputKind::BookmarkNote, String::new())));
    type_text(&mut app, "wmiexec shell #lateral #admmig");
    let effects = update(&mut app, enter());
    let [
        Effect::AddBookmark {
            r,
            rule,
            note,
            tags,
        },
    ] = &effects[..]
    else {
        panic!("one bookmark written");
    };
    assert_eq!(r.ts, 2, "the selected hit");
    assert_eq!(rule.as_ref().unwrap().title, "alpha");
    assert_eq!(note, "wmiexec shell");
    assert_eq!(tags, &["lateral", "admmig"]);
    assert!(app.input.is_none() && app.bookmark_target.is_none());
    // Listed once on disk; `m` on it again edits it, starting from its note and tags.
    let row = written(*r, "wmiexec shell", &["lateral", "admmig"]);
    let id = row.mark.id.clone();
    worker(&mut app, Msg::BookmarkSaved(Box::new(row)));
    assert_eq!(app.bookmarks.len(), 1);
    assert!(app.message.as_deref().unwrap().contains("#lateral #admmig"));
    update(&mut app, Action::Bookmark);
    let text = "wmiexec shell #lateral #admmig";
    assert_eq!(app.input, Some((InputKind::BookmarkNote, text.into())));
    type_text(&mut app, " #c2");
    let effects = update(&mut app, enter());
    assert!(
        matches!(&effects[..], [Effect::EditBookmark { id: i, tags, .. }] if *i == id && tags.len() == 3),
        "an edit of the same bookmark"
    );
    // Esc leaves everything as it was.
    update(&mut app, Action::Bookmark);
    let esc = Action::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    assert!(update(&mut app, esc).is_empty());
    assert!(app.input.is_none() && app.bookmark_target.is_none());
}

#[test]
fn the_bookmarks_screen_lists_in_time_order_opens_and_removes_after_asking() {
    let mut app = app();
    let rows = vec![
        written(EventRef::new(5, 5), "later", &[]),
        written(EventRef::new(1, 1), "earlier", &["x"]),
    ];
    // Both at the same time: listed in the order they were added.
    worker(
        &mut app,
        Msg::Bookmarks {
            rows,
            warnings: vec!["bookmarks.jsonl:3: cut short".into()],
        },
    );
    assert!(app.message.as_deref().unwrap().contains("cut short"));
    update(&mut app, Action::Bookmarks);
    assert!(matches!(app.top(), Some(Screen::Bookmarks { sel: 0, .. })));
    update(&mut app, Action::Down);
    let effects = update(&mut app, Action::Open);
    let Some(Screen::Detail(d)) = app.top() else {
        panic!("the event's detail")
    };
    assert_eq!(d.r, app.bookmarks[1].r.unwrap());
    assert!(matches!(&effects[..], [Effect::Detail { .. }]));
    update(&mut app, Action::Back);
    assert!(update(&mut app, Action::Delete).is_empty(), "asks first");
    assert!(app.message.as_deref().unwrap().contains("again removes it"));
    let effects = update(&mut app, Action::Delete);
    let [Effect::RemoveBookmark { id }] = &effects[..] else {
        panic!("removed on the second press")
    };
    let id = id.clone();
    worker(&mut app, Msg::BookmarkRemoved(id));
    assert_eq!(app.bookmarks.len(), 1);
    assert!(matches!(app.top(), Some(Screen::Bookmarks { sel: 0, .. })));
    // An event not in the case: said, not opened.
    app.bookmarks[0].r = None;
    update(&mut app, Action::Open);
    assert!(matches!(app.top(), Some(Screen::Bookmarks { .. })));
}

#[test]
fn the_case_note_is_saved_on_leaving_only_when_edited() {
    let mut app = app();
    assert!(matches!(
        update(&mut app, Action::CaseNote)[..],
        [Effect::LoadCaseNote]
    ));
    worker(&mut app, Msg::CaseNote("first line\n".into()));
    assert!(matches!(app.top(), Some(Screen::Note(_))));
    assert!(update(&mut app, Action::Back).is_empty(), "unchanged");
    assert!(app.top().is_none());
    update(&mut app, Action::CaseNote);
    worker(&mut app, Msg::CaseNote("first line\n".into()));
    // `q` is text here; Ctrl-C asks before losing the edit.
    update(&mut app, key('q'));
    update(&mut app, Action::Quit);
    assert!(!app.quit, "asked first");
    let effects = update(&mut app, Action::SaveEdit);
    let [Effect::SaveCaseNote { text }] = &effects[..] else {
        panic!("saved")
    };
    assert_eq!(text, "qfirst line");
    worker(&mut app, Msg::CaseNoteSaved(text.clone()));
    assert!(update(&mut app, Action::Back).is_empty(), "saved already");
    update(&mut app, Action::CaseNote);
    worker(&mut app, Msg::CaseNote("x".into()));
    update(&mut app, key('y'));
    let effects = update(&mut app, Action::Back);
    assert!(matches!(&effects[..], [Effect::SaveCaseNote { text }] if text == "yx"));
}
