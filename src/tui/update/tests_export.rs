//! Exports from the lists: where they go and what they carry.
#![allow(clippy::unwrap_used)]

use super::tests::app;
use super::*;
use crate::tui::app::StackView;
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
    }));
    let effects = update(&mut app, Action::ExportCsv);
    let [
        Effect::ExportStack {
            path,
            jsonl,
            field,
            values,
            missing,
        },
    ] = effects.as_slice()
    else {
        panic!("one stack export, got {} effects", effects.len());
    };
    assert!(!jsonl);
    assert_eq!(field, "ParentImage");
    assert_eq!(values.len(), 1);
    assert_eq!(*missing, 2);
    assert_eq!(
        path,
        &PathBuf::from("/cases/demo/exports/stack-parentimage-over-search-image-cmd")
    );
    assert_eq!(app.busy, ["export"]);
}
