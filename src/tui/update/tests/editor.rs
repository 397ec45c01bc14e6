//! The editor's questions: unsaved edits, and rules that do not compile.

use super::*;

fn ctrl_s() -> Action {
    Action::SaveEdit
}

fn compiled(generation: u64, ok: bool) -> Action {
    let result = if ok {
        Ok((EditHits::Rule(refs(&[1])), Vec::new()))
    } else {
        Err(vec![crate::tui::action::EditError {
            line: 9,
            col: 14,
            message: "unknown identifier `selx`".into(),
        }])
    };
    Action::Worker(Box::new(Msg::Compiled {
        generation,
        target: EditTarget::Rule(0),
        result,
    }))
}

#[test]
fn the_editor_asks_before_dropping_edits() {
    let mut app = app();
    // Nothing edited: Esc closes at once.
    update(&mut app, Action::EditRule);
    update(&mut app, esc());
    assert!(app.screens.is_empty());

    update(&mut app, Action::EditRule);
    update(&mut app, key('x'));
    update(&mut app, esc());
    assert!(matches!(app.top(), Some(Screen::Editor(_))), "asked first");
    let asked = app.message.clone().unwrap_or_default();
    assert!(
        asked.contains("unsaved changes") && asked.contains("Esc again"),
        "{asked}"
    );
    assert!(
        app.keymap
            .hints(&app)
            .iter()
            .any(|h| h.1 == "discard changes")
    );
    // Typing on answers the question: the next Esc asks again.
    update(&mut app, key('y'));
    assert!(app.message.is_none());
    update(&mut app, esc());
    assert!(matches!(app.top(), Some(Screen::Editor(_))), "asked again");
    update(&mut app, esc());
    assert!(app.screens.is_empty(), "discarded");
    assert_eq!(app.message.as_deref(), Some("edits discarded"));

    // An edit undone is no edit.
    update(&mut app, Action::EditRule);
    update(&mut app, key('x'));
    update(
        &mut app,
        Action::Key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE)),
    );
    update(&mut app, esc());
    assert!(app.screens.is_empty());
}

#[test]
fn quitting_from_the_editor_asks_before_dropping_edits() {
    let mut app = app();
    update(&mut app, Action::EditRule);
    update(&mut app, key('x'));
    update(&mut app, Action::Quit);
    assert!(!app.quit, "asked first");
    let asked = app.message.clone().unwrap_or_default();
    assert!(asked.contains("Ctrl-C again"), "{asked}");
    // Typing on answers the question: the next Ctrl-C asks again.
    update(&mut app, key('y'));
    update(&mut app, Action::Quit);
    assert!(!app.quit, "asked again");
    update(&mut app, Action::Quit);
    assert!(app.quit, "second Ctrl-C quits");

    // Nothing edited: Ctrl-C quits at once.
    let mut app = super::app();
    update(&mut app, Action::EditRule);
    update(&mut app, Action::Quit);
    assert!(app.quit);
}

#[test]
fn the_editor_does_not_save_a_rule_that_does_not_compile() {
    let mut app = app();
    update(&mut app, Action::EditRule);
    update(&mut app, key('x'));
    update(&mut app, compiled(1, false));
    assert!(update(&mut app, ctrl_s()).is_empty(), "not saved");
    assert!(matches!(app.top(), Some(Screen::Editor(_))));
    let why = app.message.clone().unwrap_or_default();
    assert!(
        why.contains("does not compile") && why.contains("9:14"),
        "{why}"
    );
    assert!(app.busy.is_empty());

    // Fixed: saved.
    update(&mut app, key('y'));
    update(&mut app, compiled(2, true));
    let eff = update(&mut app, ctrl_s());
    assert!(matches!(&eff[..], [Effect::SaveRule { .. }]));
    assert!(app.screens.is_empty());

    // Ctrl-S before the verdict on the last keystroke: saved once it compiles…
    update(&mut app, Action::EditRule);
    update(&mut app, key('z'));
    assert!(
        update(&mut app, ctrl_s()).is_empty(),
        "waits for the compile"
    );
    let eff = update(&mut app, compiled(1, true));
    assert!(matches!(&eff[..], [Effect::SaveRule { text, .. }] if text.contains('z')));
    assert!(app.screens.is_empty());

    // …and refused when it does not.
    update(&mut app, Action::EditRule);
    update(&mut app, key('w'));
    update(&mut app, ctrl_s());
    assert!(update(&mut app, compiled(1, false)).is_empty());
    assert!(matches!(app.top(), Some(Screen::Editor(_))));
    assert!(
        app.message
            .as_deref()
            .is_some_and(|m| m.contains("does not compile"))
    );
}

#[test]
fn the_editor_keys_come_from_the_keymap_and_every_other_key_is_text() {
    let mut app = app();
    let km = crate::tui::keymap::Keymap::parse(
        "[editor]\nsave_edit = \"ctrl-w\"\nback = \"f2\"\n",
        "keymap.toml",
    );
    assert!(km.problems.is_empty(), "{:?}", km.problems);
    app.keymap = std::sync::Arc::new(km);
    update(&mut app, Action::EditRule);
    let press = |app: &mut App, code: KeyCode, mods: KeyModifiers| {
        let action = app.keymap.action_for(app, KeyEvent::new(code, mods));
        update(app, action.expect("every key does something in the editor"))
    };
    // `q`, Esc and Backspace are text keys here; F2 is the close key.
    press(&mut app, KeyCode::Char('q'), KeyModifiers::NONE);
    press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    assert!(matches!(app.top(), Some(Screen::Editor(_))));
    press(&mut app, KeyCode::F(2), KeyModifiers::NONE);
    let asked = app.message.clone().unwrap_or_default();
    assert!(
        asked.contains("F2 again") && asked.contains("Ctrl-W to save"),
        "{asked}"
    );
    let hints = app.keymap.hints(&app);
    assert!(
        hints.contains(&("F2".into(), "discard changes")) && hints.iter().any(|h| h.0 == "Ctrl-W"),
        "{hints:?}"
    );
    press(&mut app, KeyCode::F(2), KeyModifiers::NONE);
    assert!(app.screens.is_empty(), "closed");
    assert!(!app.quit);
}
