//! Saving from the lists: exports, and searches saved as rules.
#![allow(clippy::unwrap_used)]

use super::tests::{app, key};
use super::*;
use crate::tui::action::Msg;
use crate::tui::app::StackView;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::PathBuf;

#[test]
fn export_names_keep_letters_of_any_script() {
    assert_eq!(
        slug("Whoami.EXE  Execution — Привет"),
        "whoami-exe-execution-привет"
    );
    assert_eq!(slug("  ((  "), "export");
    assert_eq!(slug(&"a".repeat(100)).chars().count(), 40);
}

#[test]
fn a_stack_exports_as_shown() {
    let mut app = app();
    app.screens.push(Screen::Stack(StackView {
        rule: None,
        of: "search Image=*cmd*".into(),
        field: "ParentImage".into(),
        values: vec![("c:\\windows\\explorer.exe".into(), 3)],
        missing: 2,
        sel: 0,
        tuples: None,
    }));
    let effects = update(&mut app, Action::ExportCsv);
    let [
        Effect::ExportStack {
            path,
            jsonl,
            fields,
            values,
            missing,
        },
    ] = effects.as_slice()
    else {
        panic!("one stack export, got {} effects", effects.len());
    };
    assert!(!jsonl);
    assert_eq!(fields, &["ParentImage"]);
    assert_eq!(values, &[(vec!["c:\\windows\\explorer.exe".to_owned()], 3)]);
    assert_eq!(*missing, 2);
    assert_eq!(
        path,
        &PathBuf::from("/cases/demo/exports/stack-parentimage-over-search-image-cmd")
    );
    assert_eq!(app.busy, [crate::tui::action::Job::Export]);
}

#[test]
fn a_search_with_time_bounds_is_refused_before_a_title_is_asked() {
    let mut app = app();
    update(&mut app, Action::Search);
    for c in "Image=*cmd* AND time>2024-01-01".chars() {
        update(&mut app, key(c));
    }
    let enter = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(
        update(&mut app, Action::Key(enter)).len(),
        1,
        "the search runs"
    );
    let found = Msg::Hits {
        generation: app.generation,
        title: "search: Image=*cmd* AND time>2024-01-01".into(),
        query: Some("Image=*cmd* AND time>2024-01-01".into()),
        refs: Ok(Vec::new()),
        around: None,
    };
    update(&mut app, Action::Worker(Box::new(found)));
    assert!(matches!(app.top(), Some(Screen::Hits(_))));
    update(&mut app, Action::SaveSearch);
    assert!(app.input.is_none(), "no title asked for");
    assert_eq!(
        app.message.as_deref(),
        Some(input_line::TIME_BOUNDS_REFUSED)
    );
}
