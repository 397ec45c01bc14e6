//! Correlation rules in the list: their hits, the events of a hit, editing one (windows
//! moved, split) and turning them off.
#![allow(clippy::unwrap_used)]

use super::tests::{app, key, refs};
use super::*;
use crate::sigma::Loader;
use crate::tui::action::{EditHits, EditTarget, Msg, RulesLoaded};

/// A window of correlation `c-1` on `computer` holding the events at `keys`.
fn corr_hit(computer: &str, keys: &[i64]) -> crate::sigma::CorrelationHit<EventRef> {
    let t = |us| jiff::Timestamp::from_microsecond(us).unwrap();
    crate::sigma::CorrelationHit {
        correlation: "c-1".into(),
        group: vec![("Computer".into(), computer.into())],
        first: t(keys[0]),
        last: t(*keys.last().unwrap()),
        value: keys.len() as f64,
        keys: refs(keys).to_vec(),
    }
}

/// Selects the correlation that [`with_correlation`] loads (second in the list).
fn select_correlation(app: &mut App) {
    update(app, Action::Top);
    update(app, Action::Down);
    assert_eq!(
        app.entry(app.visible[app.rule_sel]),
        crate::tui::app::Entry::Corr(0)
    );
}

/// A correlation over rule `alpha` with two hits: events 1+2 and event 3 (alpha also alerts
/// on its own).
fn with_correlation(app: &mut App) {
    let text = "title: burst\nid: c-1\nlevel: critical\ncorrelation:\n    type: event_count\n    generate: true\n    rules: [id-alpha]\n    group-by: [Computer]\n    timespan: 5m\n    condition:\n        gte: 1\n";
    let set = Loader::new().unwrap().load_str(text, "c.yml");
    let corr = Arc::new(set.correlations.into_iter().next().unwrap());
    let hit = |keys: &[i64]| corr_hit("ws1", keys);
    let loaded = RulesLoaded {
        correlations: vec![corr],
        corr_hits: vec![Arc::new(vec![hit(&[1, 2]), hit(&[3])])],
        failed: app.failed.clone(),
        ..super::tests::loaded(app)
    };
    update(app, Action::Worker(Box::new(Msg::Rules(Box::new(loaded)))));
}

#[test]
fn correlation_rules_list_their_hits_and_open_to_contributing_events() {
    let mut app = app();
    with_correlation(&mut app);
    // alpha (3 hits), burst (2), beta (1), then the failed rule.
    assert_eq!(app.visible, vec![0, 2, 1, 3]);
    assert_eq!(app.entry(2), crate::tui::app::Entry::Corr(0));
    assert_eq!(app.entry(3), crate::tui::app::Entry::Failed(0));
    update(&mut app, Action::CycleSort);
    assert_eq!(
        app.visible[0], 2,
        "by level: the critical correlation first"
    );
    update(&mut app, Action::Top);
    assert!(update(&mut app, Action::Open).is_empty());
    let Some(Screen::Correlation(c)) = app.top() else {
        panic!("correlation hits")
    };
    assert_eq!((c.corr, c.sel), (0, 0));
    update(&mut app, Action::Down);
    update(&mut app, Action::Down);
    let Some(Screen::Correlation(c)) = app.top() else {
        panic!()
    };
    assert_eq!(c.sel, 1, "the cursor stops at the last hit");
    update(&mut app, Action::Up);
    let eff = update(&mut app, Action::Open);
    assert!(matches!(&eff[..], [Effect::Fetch(r)] if r.len() == 2));
    let Some(Screen::Hits(h)) = app.top() else {
        panic!("contributing events")
    };
    assert_eq!(h.title, "events of Computer=ws1");
    assert!(h.rule.is_none(), "a multi-rule list");
    assert!(
        h.rows.iter().all(|r| r.rule == Some(0)),
        "each with its base rule"
    );
    // Opening one explains it against the base rule, like any hit.
    let eff = update(&mut app, Action::Open);
    assert!(matches!(&eff[..], [Effect::Detail { rule: Some(_), .. }]));
    for _ in 0..3 {
        update(&mut app, Action::Back);
    }
    assert!(app.screens.is_empty());
}

/// Opens the editor on [`with_correlation`]'s correlation, lets a recompile give `windows`
/// and returns the editor's (added, removed) and diff.
fn edit_to_windows(
    windows: Vec<crate::sigma::CorrelationHit<EventRef>>,
) -> (usize, usize, Vec<crate::tui::app::DiffRow>) {
    let mut app = app();
    with_correlation(&mut app);
    select_correlation(&mut app);
    update(&mut app, Action::EditRule);
    update(&mut app, key('x'));
    let compiled = Msg::Compiled {
        generation: 1,
        target: EditTarget::Corr(0),
        result: Ok((EditHits::Corr(Arc::new(windows)), Vec::new())),
    };
    update(&mut app, Action::Worker(Box::new(compiled)));
    let Some(Screen::Editor(ed)) = app.top() else {
        panic!("the editor")
    };
    (ed.added, ed.removed, ed.diff.clone())
}

#[test]
fn an_edit_that_moves_a_window_changes_it_rather_than_adding_and_removing_one() {
    // Before: ws1 windows 1–2 and 3. After: ws1 2–3 (overlaps both), ws1 50, ws2 1.
    let (added, removed, diff) = edit_to_windows(vec![
        corr_hit("ws1", &[2, 3]),
        corr_hit("ws1", &[50]),
        corr_hit("ws2", &[1]),
    ]);
    // 2-3 keeps the first window it overlaps; the second (3) merged into it is gone, and
    // 2 + 2 added - 1 removed is the 3 windows after.
    assert_eq!((added, removed), (2, 1), "{diff:?}");
}

#[test]
fn a_window_split_in_many_counts_every_new_one_but_the_first_as_added() {
    // Before: ws1 windows 1–2 and 3. After (a shorter timespan): one window per event 1..=16.
    let (added, removed, diff) = edit_to_windows((1..=16).map(|k| corr_hit("ws1", &[k])).collect());
    assert_eq!((added, removed), (14, 0), "2 + 14 = 16: {diff:?}");
}

#[test]
fn correlations_can_be_turned_off_and_stay_off_across_reloads() {
    let mut app = app();
    with_correlation(&mut app);
    select_correlation(&mut app);
    update(&mut app, Action::ToggleRule);
    assert!(!app.correlations[0].enabled);
    assert!(app.rules.iter().all(|r| r.enabled), "only the correlation");
    with_correlation(&mut app);
    assert!(!app.correlations[0].enabled, "a reload keeps it off");
    update(&mut app, Action::ToggleRule);
    assert!(app.correlations[0].enabled);
}
