//! Bookmarks: the note input, the marked hits, the Bookmarks screen and the case note.

use super::support::{chord, fixture, press};
use crossterm::event::{KeyCode, KeyModifiers};
use huntbench::tui::action::Action;
use huntbench::tui::app::Screen;

#[test]
fn bookmarks_with_notes_and_tags_are_listed_and_the_case_note_is_saved() {
    let mut fx = fixture();
    fx.select_rule("WMI Provider Host");
    fx.send(Action::Open);
    // The first wmiexec shell on SRV-SQL-01 (Sysmon), then its 4688.
    press(&mut fx, KeyCode::Down, 4);
    chord(&mut fx, KeyCode::Char('m'), KeyModifiers::NONE);
    for c in "wmiexec shell as admmig #lateral #wmi".chars() {
        fx.key(c);
    }
    snap!("bookmark_note_input", fx);
    press(&mut fx, KeyCode::Enter, 1);
    press(&mut fx, KeyCode::Down, 1);
    chord(&mut fx, KeyCode::Char('m'), KeyModifiers::NONE);
    for c in "its 4688".chars() {
        fx.key(c);
    }
    press(&mut fx, KeyCode::Enter, 1);
    assert_eq!(fx.app.bookmarks.len(), 2, "{:?}", fx.app.message);
    assert!(fx.app.bookmarks.iter().all(|b| b.r.is_some()));
    snap!("bookmarked_hits", fx);

    chord(&mut fx, KeyCode::Char('B'), KeyModifiers::NONE);
    assert!(matches!(fx.app.top(), Some(Screen::Bookmarks { .. })));
    snap!("bookmarks", fx);
    // On 80 columns each bookmark takes two lines.
    fx.send(Action::Resize(80, 16));
    snap!("bookmarks_80", fx);
    fx.send(Action::Resize(120, 36));
    // Enter opens the event's detail, explained by its rule.
    press(&mut fx, KeyCode::Enter, 1);
    let Some(Screen::Detail(d)) = fx.app.top() else {
        panic!("detail: {:?}", fx.app.message)
    };
    assert!(d.matched.is_some(), "why it matched");
    press(&mut fx, KeyCode::Backspace, 1);

    chord(&mut fx, KeyCode::Char('N'), KeyModifiers::NONE);
    assert!(matches!(fx.app.top(), Some(Screen::Note(_))));
    for c in "admmig came from 10.23.123.11".chars() {
        fx.key(c);
    }
    snap!("case_note", fx);
    press(&mut fx, KeyCode::Esc, 1);
    let note = std::fs::read_to_string(fx.app.case_dir.join("notes.md")).unwrap();
    assert_eq!(note, "admmig came from 10.23.123.11\n");
    assert!(
        fx.app
            .message
            .as_deref()
            .unwrap()
            .contains("case note saved")
    );
}
