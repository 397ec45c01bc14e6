//! Pivots: where a pivot's list opens, the around pivot's span, and the level asked for a
//! search saved as a rule.
#![allow(clippy::unwrap_used)]

use super::tests::{app, key};
use super::*;
use crate::event::{Event, Value};
use crate::tui::action::Msg;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn at(ts: i64) -> EventRef {
    EventRef::new(ts, ts as u64)
}

/// The rule `alpha`'s hits (at 1, 2, 3) open, the cursor on the hit at `ts`, its event cached.
fn on_hit(ts: i64) -> App {
    let mut app = app();
    update(&mut app, Action::Open);
    for _ in 1..ts {
        update(&mut app, Action::Down);
    }
    let event = Event {
        fields: vec![("Computer".into(), Value::Str("ws1".into()))],
    };
    app.cache.insert(at(ts), Arc::new(event));
    app
}

#[test]
fn a_time_pivot_opens_on_the_event_it_came_from_and_marks_it() {
    let mut app = on_hit(2);
    let eff = update(&mut app, Action::PivotAround);
    let [Effect::Pivot { generation, .. }] = &eff[..] else {
        panic!("a time pivot")
    };
    let found = Msg::Hits {
        generation: *generation,
        title: "ws1 ±5 min".into(),
        query: None,
        refs: Ok((0..40).map(at).collect()),
        around: None,
    };
    update(&mut app, Action::Worker(Box::new(found)));
    let Some(Screen::Hits(h)) = app.top() else {
        panic!("the pivot's list")
    };
    assert_eq!((h.sel, h.origin), (2, Some(at(2))));
    assert!(h.offset <= h.sel && h.sel < h.offset + app.page());

    // A search's list opens at its top as before.
    update(&mut app, Action::Search);
    update(&mut app, key('x'));
    update(
        &mut app,
        Action::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    let found = Msg::Hits {
        generation: app.generation,
        title: "search: x".into(),
        query: Some("x".into()),
        refs: Ok((0..40).map(at).collect()),
        around: None,
    };
    update(&mut app, Action::Worker(Box::new(found)));
    let Some(Screen::Hits(h)) = app.top() else {
        panic!("the search's list")
    };
    assert_eq!((h.sel, h.origin), (0, None));
}

#[test]
fn the_time_window_narrows_to_seconds_and_widens_to_a_day() {
    let mut app = on_hit(1);
    let mut titles = Vec::new();
    for _ in 0..12 {
        if let [Effect::Pivot { title, .. }] = &update(&mut app, Action::NarrowerAround)[..] {
            titles.push(title.clone());
        }
    }
    assert!(titles.is_empty(), "only a time pivot's list is re-run");
    assert_eq!(app.around_secs, 1);
    assert_eq!(app.message.as_deref(), Some("around pivot: ±1 s"));
    let eff = update(&mut app, Action::WiderAround);
    assert!(eff.is_empty());
    update(&mut app, Action::WiderAround);
    update(&mut app, Action::WiderAround);
    let [Effect::Pivot { title, .. }] = &update(&mut app, Action::PivotAround)[..] else {
        panic!("a time pivot")
    };
    assert_eq!(title, "ws1 ±10 s");
    for _ in 0..30 {
        update(&mut app, Action::WiderAround);
    }
    assert_eq!(crate::tui::app::span_label(app.around_secs), "24 h");
    assert_eq!(crate::tui::app::span_label(90), "90 s");
}

#[test]
fn a_search_saved_as_a_rule_asks_for_its_level() {
    let mut app = app();
    update(&mut app, Action::Search);
    let search = "EventID=4688 AND NewProcessName=*\\cmd.exe";
    for c in search.chars() {
        update(&mut app, key(c));
    }
    let enter = || Action::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    update(&mut app, enter());
    let found = Msg::Hits {
        generation: app.generation,
        title: format!("search: {search}"),
        query: Some(search.to_string()),
        refs: Ok(vec![at(1)]),
        around: None,
    };
    update(&mut app, Action::Worker(Box::new(found)));
    update(&mut app, Action::SaveSearch);
    update(&mut app, enter());
    let Some((InputKind::SaveLevel, level)) = &mut app.input else {
        panic!("the level is asked: {:?}", app.input)
    };
    assert_eq!(level, "medium", "proposed");
    level.clear();
    for c in "severe".chars() {
        update(&mut app, key(c));
    }
    assert!(update(&mut app, enter()).is_empty(), "not a level");
    assert!(app.input_error.is_some());
    for _ in 0.."severe".len() {
        update(
            &mut app,
            Action::Key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE)),
        );
    }
    for c in "High".chars() {
        update(&mut app, key(c));
    }
    let eff = update(&mut app, enter());
    let [Effect::SaveRule { text, .. }] = &eff[..] else {
        panic!("saved: {} effects", eff.len())
    };
    assert!(text.contains("level: \"high\"\n"), "{text}");
    assert!(
        text.contains("logsource:\n  product: windows\n  category: process_creation\n"),
        "{text}"
    );
    assert!(app.input.is_none() && app.save_title.is_none());
}

#[test]
fn a_time_pivot_on_every_computer_asks_for_no_computer() {
    let mut app = on_hit(2);
    let eff = update(&mut app, Action::PivotAroundAll);
    let [
        Effect::Pivot {
            title,
            lookup: crate::store::Lookup::Around { computer, t0, .. },
            around: Some(anchor),
            ..
        },
    ] = &eff[..]
    else {
        panic!("a time pivot")
    };
    assert_eq!(title, "all computers ±5 min");
    assert_eq!((computer, *t0), (&None, 2));
    assert_eq!(anchor.computer, None);
    // The same key on its own computer still names it.
    let mut app = on_hit(2);
    let eff = update(&mut app, Action::PivotAround);
    assert!(matches!(&eff[..], [Effect::Pivot { title, .. }] if title == "ws1 ±5 min"));
}

#[test]
fn going_back_while_a_pivot_runs_asks_the_store_to_stop_it() {
    let mut app = on_hit(2);
    let eff = update(&mut app, Action::PivotAround);
    assert!(matches!(&eff[..], [Effect::Pivot { .. }]));
    let screens = app.screens.len();
    let eff = update(&mut app, Action::Back);
    assert!(eff.iter().any(|e| matches!(e, Effect::Interrupt)));
    assert_eq!(app.screens.len(), screens - 1);
    // Nothing running: going back stops nothing.
    app.busy.clear();
    let eff = update(&mut app, Action::Back);
    assert!(!eff.iter().any(|e| matches!(e, Effect::Interrupt)));
}
