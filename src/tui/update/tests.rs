//! State transitions without a terminal or a case.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::sigma::Loader;
use crate::tui::action::{EditHits, EditTarget, Msg, RulesLoaded};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::PathBuf;

pub(super) fn rule(title: &str, level: &str) -> Arc<crate::sigma::CompiledRule> {
    let text = format!(
        "title: {title}\nid: id-{title}\nlevel: {level}\ntags: [attack.t1047]\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    sel:\n        Image: x\n    condition: sel\n"
    );
    Arc::new(
        Loader::new()
            .unwrap()
            .load_str(&text, "t.yml")
            .rules
            .remove(0),
    )
}

pub(super) fn refs(ts: &[i64]) -> Arc<Vec<EventRef>> {
    Arc::new(ts.iter().map(|&ts| EventRef::new(ts, ts as u64)).collect())
}

pub(super) fn app() -> App {
    let mut app = App::new(PathBuf::from("/cases/demo"));
    let ready = Msg::Ready {
        case_name: "demo".into(),
        events: 100,
        first: Some(0),
        last: Some(100),
        problems: Vec::new(),
    };
    assert!(matches!(
        update(&mut app, Action::Worker(Box::new(ready)))[..],
        [Effect::LoadBookmarks, Effect::LoadRules]
    ));
    let loaded = RulesLoaded {
        rules: vec![rule("alpha", "low"), rule("beta", "high")],
        hits: vec![refs(&[1, 2, 3]), refs(&[5])],
        failed: vec![crate::tui::action::FailedRule {
            title: "broken".into(),
            origin: "b.yml".into(),
            kind: crate::tui::action::FailKind::Error,
            reason: "b.yml:3:1: bad".into(),
        }],
        correlations: Vec::new(),
        corr_hits: Vec::new(),
        filters: Vec::new(),
        overlays: Vec::new(),
        elapsed_ms: 0,
        installed: None,
        mapping: Arc::new(crate::sigma::mapping::Mapping::builtin().unwrap()),
    };
    load_rules(&mut app, loaded);
    app
}

pub(super) fn load_rules(app: &mut App, loaded: RulesLoaded) {
    update(app, Action::Worker(Box::new(Msg::Rules(Box::new(loaded)))));
}

/// The rules `app` lists, with their hits, loaded again as they are.
pub(super) fn loaded(app: &App) -> RulesLoaded {
    RulesLoaded {
        rules: app.rules.iter().map(|r| Arc::clone(&r.rule)).collect(),
        hits: app.rules.iter().map(|r| Arc::clone(&r.hits)).collect(),
        correlations: Vec::new(),
        corr_hits: Vec::new(),
        failed: Vec::new(),
        filters: Vec::new(),
        overlays: Vec::new(),
        elapsed_ms: 0,
        installed: None,
        mapping: Arc::new(crate::sigma::mapping::Mapping::builtin().unwrap()),
    }
}

pub(super) fn key(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

#[test]
fn rules_sort_by_hits_then_failed_rules_last() {
    let app = app();
    assert_eq!(app.visible, vec![0, 1, 2]);
    assert_eq!(app.total_hits(), 4);
    assert!(app.progress.is_none() && app.busy.is_empty());
}

#[test]
fn disabling_a_rule_updates_counts_order_and_timelines() {
    let mut app = app();
    update(&mut app, Action::ToggleRule);
    assert!(!app.rules[0].enabled);
    assert_eq!(app.total_hits(), 1);
    assert_eq!(app.visible[..2], [1, 0], "disabled rule sorts below");
    assert_eq!(app.rule_sel, 1, "cursor follows the toggled rule");
    update(&mut app, Action::ToggleRule);
    update(&mut app, Action::AllHits);
    let Some(Screen::Hits(h)) = app.top() else {
        panic!()
    };
    assert_eq!(h.rows.len(), 4);
    // On a timeline, space hides the selected hit's rule at once.
    update(&mut app, Action::ToggleRule);
    let Some(Screen::Hits(h)) = app.top() else {
        panic!()
    };
    assert_eq!(h.rows.len(), 1);
    assert_eq!(app.total_hits(), 1);
}

#[test]
fn a_rule_that_only_feeds_a_correlation_is_listed_but_not_an_alert() {
    let mut app = app();
    let text = "title: burst\nid: c-1\ncorrelation:\n    type: event_count\n    rules: [id-alpha]\n    timespan: 10m\n    condition:\n        gte: 2\n";
    let mut set = Loader::new().unwrap().load_str(text, "c.yml");
    let loaded = RulesLoaded {
        correlations: vec![Arc::new(set.correlations.remove(0))],
        corr_hits: vec![Arc::new(Vec::new())],
        ..loaded(&app)
    };
    load_rules(&mut app, loaded);
    assert_eq!(app.rules[0].feeds, [0], "alpha feeds the correlation");
    assert!(app.rules[1].feeds.is_empty());
    assert_eq!((app.total_hits(), app.feeding_hits()), (1, 3));
    assert_eq!(
        app.visible,
        [1, 0, 2],
        "alerts sort first, then feeding hits"
    );
    update(&mut app, Action::AllHits);
    let Some(Screen::Hits(h)) = app.top() else {
        panic!()
    };
    assert_eq!(h.rows.len(), 1, "the timeline holds alerts only");
    update(&mut app, Action::Back);
    update(&mut app, Action::Down);
    update(&mut app, Action::Open);
    let Some(Screen::Hits(h)) = app.top() else {
        panic!()
    };
    assert_eq!(
        (h.rule, h.rows.len()),
        (Some(0), 3),
        "its own hits still open"
    );
}

#[test]
fn level_and_text_filters() {
    let mut app = app();
    update(&mut app, Action::CycleLevel);
    update(&mut app, Action::CycleLevel);
    update(&mut app, Action::CycleLevel);
    update(&mut app, Action::CycleLevel);
    assert_eq!(app.visible, vec![1], "high and above only");
    app.level_min = Some(crate::sigma::Level::Critical);
    update(&mut app, Action::CycleLevel);
    assert_eq!(app.level_min, None);
    update(&mut app, Action::FilterRules);
    for c in "t1047".chars() {
        update(&mut app, key(c));
    }
    assert_eq!(app.visible, vec![0, 1]);
    update(
        &mut app,
        Action::Key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE)),
    );
    update(&mut app, key('9'));
    assert!(app.visible.is_empty());
}

#[test]
fn opening_a_rule_fetches_only_the_visible_window_and_back_pops() {
    let mut app = app();
    let eff = update(&mut app, Action::Open);
    let [Effect::Fetch(r)] = &eff[..] else {
        panic!("{}", eff.len())
    };
    assert_eq!(r.len(), 3);
    let Some(Screen::Hits(h)) = app.top() else {
        panic!()
    };
    assert_eq!((h.rule, h.rows.len()), (Some(0), 3));
    update(&mut app, Action::Back);
    assert!(app.screens.is_empty());
}

#[test]
fn failed_rules_open_to_their_reason() {
    let mut app = app();
    update(&mut app, Action::Bottom);
    assert!(update(&mut app, Action::Open).is_empty());
    assert!(app.message.as_deref().unwrap().contains("b.yml:3:1: bad"));
}

#[test]
fn search_errors_stay_in_the_input_line_and_stale_results_are_dropped() {
    let mut app = app();
    update(&mut app, Action::Search);
    for c in "Image=(".chars() {
        update(&mut app, key(c));
    }
    let eff = update(
        &mut app,
        Action::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    assert!(eff.is_empty());
    let err = app.input_error.as_ref().unwrap();
    assert!(err.column == 7 && !err.message.is_empty(), "{err:?}");
    update(
        &mut app,
        Action::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
    );
    assert!(app.input.is_none());

    app.generation = 7;
    let stale = Msg::Hits {
        generation: 6,
        title: "old".into(),
        query: None,
        refs: Ok(vec![]),
        around: None,
    };
    update(&mut app, Action::Worker(Box::new(stale)));
    assert!(app.screens.is_empty());
    let fresh = Msg::Hits {
        generation: 7,
        title: "search: x".into(),
        query: Some("x".into()),
        refs: Ok(refs(&[1]).to_vec()),
        around: None,
    };
    update(&mut app, Action::Worker(Box::new(fresh)));
    let Some(Screen::Hits(h)) = app.top() else {
        panic!()
    };
    assert_eq!(h.query.as_deref(), Some("x"));
    // A pivot's list is not a search, whatever its title says (titles hold log values).
    let pivot = Msg::Hits {
        generation: 7,
        title: "search: x".into(),
        query: None,
        refs: Ok(refs(&[1]).to_vec()),
        around: None,
    };
    update(&mut app, Action::Worker(Box::new(pivot)));
    let Some(Screen::Hits(h)) = app.top() else {
        panic!()
    };
    assert_eq!(h.query, None);
    // A search that found nothing because of an escaped wildcard says so.
    let nothing = Msg::Hits {
        generation: 7,
        title: r"search: Image=C:\Windows\*".into(),
        query: Some(r"Image=C:\Windows\*".into()),
        refs: Ok(Vec::new()),
        around: None,
    };
    update(&mut app, Action::Worker(Box::new(nothing)));
    assert!(
        app.message
            .as_deref()
            .is_some_and(|m| m.contains("literal")),
        "{:?}",
        app.message
    );
}

#[test]
fn editor_ignores_stale_compiles_and_computes_the_diff() {
    let mut app = app();
    update(&mut app, Action::EditRule);
    let eff = update(&mut app, key('x'));
    assert!(matches!(eff[..], [Effect::Compile { generation: 1, .. }]));
    update(&mut app, key('y'));
    let stale = Msg::Compiled {
        generation: 1,
        target: EditTarget::Rule(0),
        result: Ok((EditHits::Rule(refs(&[])), Vec::new())),
    };
    update(&mut app, Action::Worker(Box::new(stale)));
    let Some(Screen::Editor(ed)) = app.top() else {
        panic!()
    };
    assert!(ed.compiled.is_none() && ed.pending);
    let fresh = Msg::Compiled {
        generation: 2,
        target: EditTarget::Rule(0),
        result: Ok((EditHits::Rule(refs(&[2, 3, 9])), Vec::new())),
    };
    update(&mut app, Action::Worker(Box::new(fresh)));
    let Some(Screen::Editor(ed)) = app.top() else {
        panic!()
    };
    assert_eq!((ed.added, ed.removed), (1, 1));
    // The buffer was edited: the first Esc asks, the second discards.
    update(&mut app, esc());
    assert!(matches!(app.top(), Some(Screen::Editor(_))));
    update(&mut app, esc());
    assert!(app.screens.is_empty());
}

pub(super) fn esc() -> Action {
    Action::Back
}

#[test]
fn help_toggles_and_any_key_closes_it() {
    let mut app = app();
    update(&mut app, Action::Help);
    assert!(app.help);
    // Movement keys scroll it (it is taller than a small terminal).
    update(&mut app, Action::Down);
    assert!(app.help);
    assert_eq!(app.help_scroll, 1);
    update(&mut app, Action::Up);
    update(&mut app, Action::Up);
    assert_eq!(app.help_scroll, 0);
    update(&mut app, Action::Open);
    assert!(!app.help);
    assert_eq!(app.rule_sel, 0, "the closing key does nothing else");
    assert!(app.screens.is_empty(), "the closing key does nothing else");
}

#[test]
fn a_million_hits_page_without_fetching_them() {
    let mut app = app();
    let rows: Vec<HitRow> = (0..1_000_000)
        .map(|i| HitRow {
            r: EventRef::new(i, i as u64),
            rule: Some(0),
        })
        .collect();
    let eff = push_hits(&mut app, "big".into(), rows, Some(0), None);
    let page = app.page();
    let [Effect::Fetch(first)] = &eff[..] else {
        panic!()
    };
    assert!(first.len() <= 2 * page);
    let started = std::time::Instant::now();
    for _ in 0..1000 {
        update(&mut app, Action::PageDown);
    }
    assert!(started.elapsed().as_millis() < 2000, "paging stays cheap");
    let eff = update(&mut app, Action::Bottom);
    let Some(Screen::Hits(h)) = app.top() else {
        panic!()
    };
    assert_eq!(h.sel, 999_999);
    assert!(h.offset + page > h.sel);
    let [Effect::Fetch(last)] = &eff[..] else {
        panic!()
    };
    assert!(last.len() <= 2 * page && last.iter().all(|r| r.ts >= h.offset as i64));
    assert!(app.cache.len() <= crate::tui::app::CACHE_LIMIT);
}

/// Marking a value benign on a rule without id or name is refused up front: an overlay could
/// not name the rule, so it would never apply.
#[test]
fn benign_needs_a_rule_an_overlay_can_name() {
    let mut app = app();
    let anonymous = Loader::new()
        .unwrap()
        .load_str(
            "title: anon\nlogsource:\n    product: windows\ndetection:\n    sel:\n        Image: x\n    condition: sel\n",
            "anon.yml",
        )
        .rules
        .remove(0);
    for (rule, refused) in [(rule("alpha", "low"), false), (Arc::new(anonymous), true)] {
        app.rules[0].rule = rule;
        app.screens.push(Screen::Stack(crate::tui::app::StackView {
            rule: Some(0),
            of: "hits of alpha".into(),
            field: "Image".into(),
            values: vec![("x".into(), 1), ("y".into(), 1)],
            missing: 0,
            sel: 0,
            tuples: None,
        }));
        let effects = update(&mut app, Action::MarkBenign);
        assert_eq!(effects.is_empty(), refused, "{:?}", app.message);
        if refused {
            assert!(app.message.as_deref().is_some_and(|m| m.contains("no id")));
        } else {
            let Some(Screen::Stack(s)) = app.top() else {
                panic!("the stack")
            };
            assert_eq!(
                s.values,
                [("y".to_owned(), 1)],
                "the marked value leaves the stack"
            );
        }
        app.screens.clear();
        app.busy.clear();
    }
}

#[test]
fn a_new_span_reruns_the_time_pivot_on_top_in_place() {
    use crate::event::{Event, Value};
    let mut app = app();
    update(&mut app, Action::Open);
    let hit = EventRef::new(1, 1);
    let event = Event {
        fields: vec![("Computer".into(), Value::Str("ws1".into()))],
    };
    app.cache.insert(hit, Arc::new(event));
    // `t` on the first hit: a time pivot anchored there.
    let eff = update(&mut app, Action::PivotAround);
    let [
        Effect::Pivot {
            generation,
            title,
            around: Some(anchor),
            ..
        },
    ] = &eff[..]
    else {
        panic!("a time pivot")
    };
    assert_eq!((title.as_str(), anchor.t0), ("ws1 ±5 min", 1));
    let result = |generation: u64, title: &str, ts: &[i64]| Msg::Hits {
        generation,
        title: title.into(),
        query: None,
        refs: Ok(refs(ts).to_vec()),
        around: Some(anchor.clone()),
    };
    update(
        &mut app,
        Action::Worker(Box::new(result(*generation, title, &[1, 2]))),
    );
    assert_eq!(app.screens.len(), 2);
    update(&mut app, Action::Down);

    // `+` re-runs it over ±10 min, and the result replaces the list (cursor kept).
    let eff = update(&mut app, Action::WiderAround);
    let [
        Effect::Pivot {
            generation, title, ..
        },
    ] = &eff[..]
    else {
        panic!("the pivot re-run: {:?}", app.message)
    };
    assert_eq!(title, "ws1 ±10 min");
    update(
        &mut app,
        Action::Worker(Box::new(result(*generation, title, &[0, 1, 2, 3]))),
    );
    assert_eq!(app.screens.len(), 2, "replaced, not pushed");
    let Some(Screen::Hits(h)) = app.top() else {
        panic!()
    };
    assert_eq!((h.title.as_str(), h.rows.len()), ("ws1 ±10 min", 4));
    assert_eq!(h.rows[h.sel].r.ts, 2, "still on the same event");
    assert!(app.busy.is_empty());

    // `-` twice: ±2 min.
    update(&mut app, Action::NarrowerAround);
    let eff = update(&mut app, Action::NarrowerAround);
    assert!(matches!(&eff[..], [Effect::Pivot { title, .. }] if title == "ws1 ±2 min"));

    // On any other list, `+`/`-` only set the span for the next `t`.
    update(&mut app, Action::Back);
    assert!(update(&mut app, Action::WiderAround).is_empty());
    assert_eq!(app.around_secs, 300);
}

mod editor;

#[test]
fn a_time_pivot_needs_a_time_and_a_computer() {
    use crate::event::{Event, Value};
    let mut app = app();
    let mut no_computer = Event::default();
    no_computer.push("EventID", Value::Str("1".into()));
    for (ts, event, missing) in [
        (i64::MIN, Event::default(), "has no time"),
        (5, no_computer, "has no computer"),
    ] {
        app.screens
            .push(Screen::Detail(Box::new(crate::tui::app::Detail {
                r: EventRef::new(ts, 0),
                rule: None,
                event: Some(Arc::new(event)),
                file: String::new(),
                matched: None,
                sel: 0,
            })));
        let effects = update(&mut app, Action::PivotAround);
        assert!(effects.is_empty());
        let said = app.message.clone().unwrap_or_default();
        assert!(said.contains(missing), "{said}");
        app.screens.clear();
    }
}
