//! Key parsing, the override file and its problem reports.
#![allow(clippy::unwrap_used)]

use super::*;
use std::path::PathBuf;

fn press(km: &Keymap, app: &App, code: KeyCode, mods: KeyModifiers) -> Option<Action> {
    km.action_for(app, KeyEvent::new(code, mods))
}

fn name(a: Option<Action>) -> String {
    a.map(|a| action_name(&a)).unwrap_or_default()
}

#[test]
fn keys_parse_and_label() {
    let k = Key::parse("ctrl-n").unwrap();
    assert_eq!(
        (k.code, k.mods),
        (KeyCode::Char('n'), KeyModifiers::CONTROL)
    );
    assert_eq!(k.label(), "Ctrl-N");
    assert_eq!(Key::parse("G").unwrap().code, KeyCode::Char('G'));
    assert_eq!(Key::parse("PageDown").unwrap().label(), "PgDn");
    assert_eq!(Key::parse("f12").unwrap().code, KeyCode::F(12));
    assert_eq!(Key::parse("-").unwrap().code, KeyCode::Char('-'));
    assert!(Key::parse("f13").is_err() && Key::parse("hyper-x").is_err());
    assert_eq!(action_name(&Action::ExportJsonl), "export_jsonl");
}

#[test]
fn defaults_match_by_scope_then_globally() {
    let km = Keymap::default();
    let app = App::new(PathBuf::from("/c"));
    let none = KeyModifiers::NONE;
    assert_eq!(
        name(press(&km, &app, KeyCode::Char('s'), none)),
        "cycle_sort"
    );
    assert_eq!(name(press(&km, &app, KeyCode::Down, none)), "down");
    // Shift is part of the character; Ctrl makes another key.
    assert_eq!(
        name(press(&km, &app, KeyCode::Char('G'), KeyModifiers::SHIFT)),
        "bottom"
    );
    assert!(press(&km, &app, KeyCode::Char('j'), KeyModifiers::ALT).is_none());
    assert!(km.problems.is_empty());
    let help: Vec<String> = km.bindings.iter().map(Binding::label).collect();
    assert!(help.contains(&"j/↓".to_owned()) && help.contains(&"⌫/Esc".to_owned()));
}

#[test]
fn overrides_apply_and_bad_entries_are_reported_with_their_line() {
    let text = "\
[global]
down = [\"j\", \"down\", \"ctrl-n\"]
quit = \"Q\"

[hits]
proc_tree = \"P\"
export_csv = \"t\"
teleport = \"z\"
open = \"hyper-x\"

[nowhere]
x = \"x\"
";
    let km = Keymap::parse(text, "keymap.toml");
    let app = App::new(PathBuf::from("/c"));
    let ctrl = KeyModifiers::CONTROL;
    assert_eq!(name(press(&km, &app, KeyCode::Char('n'), ctrl)), "down");
    assert_eq!(
        name(press(&km, &app, KeyCode::Char('Q'), KeyModifiers::NONE)),
        "quit"
    );
    assert!(press(&km, &app, KeyCode::Char('q'), KeyModifiers::NONE).is_none());
    let p = &km.problems;
    assert_eq!(p.len(), 4, "{p:#?}");
    assert!(
        p[0].starts_with("keymap.toml:7: `t` is already pivot_around in [hits]"),
        "{p:#?}"
    );
    assert!(
        p[1].starts_with("keymap.toml:8: no action `teleport` in [hits]"),
        "{p:#?}"
    );
    assert!(
        p[2].starts_with("keymap.toml:9: unknown key `hyper-x`"),
        "{p:#?}"
    );
    assert!(
        p[3].starts_with("keymap.toml:11: unknown table [nowhere]"),
        "{p:#?}"
    );
    let tree = km
        .bindings
        .iter()
        .find(|b| b.scope == Scope::Hits && b.name == "proc_tree")
        .unwrap();
    assert_eq!(tree.label(), "P");
    let csv = km.bindings.iter().find(|b| b.name == "export_csv").unwrap();
    assert_eq!(csv.label(), "x", "a rejected entry leaves the default");
}

#[test]
fn syntax_errors_keep_the_defaults() {
    let km = Keymap::parse("[hits]\nproc_tree = \n", "k.toml");
    assert_eq!(km.problems.len(), 1);
    assert!(
        km.problems[0].starts_with("k.toml:2: "),
        "{:?}",
        km.problems
    );
    assert_eq!(km.bindings.len(), Keymap::default().bindings.len());
}

#[test]
fn the_file_is_read_from_the_config_dir() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        Keymap::load(dir.path()).problems.is_empty(),
        "no file, no problem"
    );
    std::fs::write(
        dir.path().join("keymap.toml"),
        "[rules]\nall_hits = \"A\"\n",
    )
    .unwrap();
    let km = Keymap::load(dir.path());
    assert!(km.problems.is_empty(), "{:?}", km.problems);
    let b = km.bindings.iter().find(|b| b.name == "all_hits").unwrap();
    assert_eq!(b.label(), "A");
}

/// The README lists every table's action names as `keymap.toml` spells them (the help shows
/// descriptions), so a renamed or added action cannot leave it behind.
#[test]
fn the_readme_lists_every_action_name() {
    let readme = include_str!("../../../README.md");
    let mut missing = Vec::new();
    for scope in Scope::ALL {
        let names: Vec<String> = (Keymap::default().bindings.iter())
            .filter(|b| b.scope == scope)
            .map(|b| format!("`{}`", b.name))
            .collect();
        let line = format!("- `[{}]`: {}", scope.section(), names.join(", "));
        if !readme.contains(&line) {
            missing.push(line);
        }
    }
    assert!(
        missing.is_empty(),
        "README lines wanted:\n{}",
        missing.join("\n")
    );
}
