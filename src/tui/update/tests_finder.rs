//! Filtering a list and stacking by several fields, as state transitions.
#![allow(clippy::unwrap_used)]

use super::tests::app;
use super::*;
use crate::tui::action::Msg;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn typed(app: &mut App, text: &str) -> Vec<Effect> {
    for c in text.chars() {
        update(
            app,
            Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
        );
    }
    update(
        app,
        Action::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    )
}

/// What `F` and `text` asked of the worker.
struct Asked {
    generation: u64,
    list: u64,
    of: String,
    rows: Arc<Vec<HitRow>>,
    query: Arc<crate::query::Query>,
}

fn ask_filter(app: &mut App, text: &str) -> Asked {
    update(app, Action::FilterList);
    let effects = typed(app, text);
    let [
        Effect::FilterList {
            generation,
            list,
            of,
            rows,
            query,
            ..
        },
    ] = effects.as_slice()
    else {
        panic!("a filter on the worker: {} effects", effects.len())
    };
    Asked {
        generation: *generation,
        list: *list,
        of: of.clone(),
        rows: Arc::clone(rows),
        query: Arc::clone(query),
    }
}

impl Asked {
    /// The worker's answer: the rows `kept`.
    fn answer(&self, text: &str, kept: Vec<HitRow>) -> Action {
        Action::Worker(Box::new(Msg::Filtered {
            generation: self.generation,
            list: self.list,
            title: crate::tui::app::filter_title(&self.of, kept.len(), self.rows.len(), text),
            text: text.into(),
            query: Arc::clone(&self.query),
            over: Arc::clone(&self.rows),
            rows: Ok(kept),
        }))
    }
}

#[test]
fn a_filter_result_for_a_list_no_longer_on_top_is_dropped() {
    let mut app = app();
    update(&mut app, Action::Open);
    let asked = ask_filter(&mut app, "Image=x");
    // ⌫ before the result comes back, and another rule's hits opened.
    update(&mut app, Action::Back);
    update(&mut app, Action::Down);
    update(&mut app, Action::Open);
    update(&mut app, asked.answer("Image=x", Vec::new()));
    assert_eq!(app.screens.len(), 1, "nothing pushed over the other list");
}

#[test]
fn a_filtered_list_keeps_its_rows_rules_and_is_not_refilled_by_a_reload() {
    let mut app = app();
    update(&mut app, Action::Open);
    let Some(Screen::Hits(h)) = app.top() else {
        panic!("hits")
    };
    let (rule, keep) = (h.rule, h.rows[1]);
    let asked = ask_filter(&mut app, "Image=x");
    let kept = vec![HitRow {
        r: keep.r,
        rule: None,
    }];
    update(&mut app, asked.answer("Image=x", kept));
    let Some(Screen::Hits(f)) = app.top() else {
        panic!("the filtered list")
    };
    assert_eq!(f.rows.len(), 1);
    assert_eq!(f.rows[0].rule, rule, "the row names the list's rule");
    assert_eq!(
        f.rule, None,
        "the list names none, so a reload keeps it as filtered"
    );
    update(&mut app, Action::Back);
    let Some(Screen::Hits(h)) = app.top() else {
        panic!("the whole list")
    };
    assert_eq!(h.rows.len(), 3);
}

/// Filters the list on top by `text`; the worker's answer keeps `kept` of its rows.
fn filter_top(app: &mut App, text: &str, kept: &[usize]) {
    let asked = ask_filter(app, text);
    let rows = kept.iter().map(|&i| asked.rows[i]).collect();
    update(app, asked.answer(text, rows));
}

#[test]
fn a_filtered_timeline_follows_rule_toggles() {
    let mut app = app();
    update(&mut app, Action::AllHits);
    assert!(
        refresh_timelines(&mut app).is_empty(),
        "the timeline itself changes in place"
    );
    // Timeline rows: alpha at 1, 2, 3 and beta at 5; the filter keeps alpha's 2 and beta's 5.
    filter_top(&mut app, "Image=x", &[1, 3]);
    let Some(Screen::Hits(f)) = app.top() else {
        panic!("the filtered timeline")
    };
    assert_eq!(f.rows.len(), 2);
    assert!(f.title.starts_with(TIMELINE), "{}", f.title);
    // Space on alpha's hit hides alpha: its row goes at once, and the list is derived again.
    let effects = update(&mut app, Action::ToggleRule);
    let Some(Effect::Refilter { stamp, base, lists }) = effects.first() else {
        panic!("the filtered timeline is narrowed again on the worker")
    };
    assert_eq!(base.len(), 1, "the timeline holds beta's hit only");
    assert_eq!(lists.len(), 1);
    assert_eq!(
        (lists[0].0, lists[0].1.len()),
        (2, 1),
        "list 2 (the filtered timeline), one filter"
    );
    let Some(Screen::Hits(f)) = app.top() else {
        panic!()
    };
    assert_eq!(
        f.rows.len(),
        1,
        "alpha's row is gone before the worker answers"
    );
    assert!(app.busy.contains(&Job::Refilter));
    // Enabling alpha again: the worker's answer brings its kept row back, and the counts.
    let stale = *stamp;
    app.rules[0].enabled = true;
    let effects = refresh_timelines(&mut app);
    let Some(Effect::Refilter { stamp, lists, .. }) = effects.first() else {
        panic!("derived again")
    };
    assert!(*stamp > stale);
    let Screen::Hits(timeline) = &app.screens[0] else {
        panic!()
    };
    let rows = timeline.rows.clone();
    let answer = |stamp| Msg::Refiltered {
        stamp,
        base: rows.len(),
        lists: vec![crate::tui::action::Refiltered {
            list: lists[0].0,
            found: Ok((vec![rows[1], rows[3]], vec![2])),
        }],
    };
    update(&mut app, Action::Worker(Box::new(answer(stale))));
    let Some(Screen::Hits(f)) = app.top() else {
        panic!()
    };
    assert_eq!(f.rows.len(), 1, "a stale answer is dropped");
    update(&mut app, Action::Worker(Box::new(answer(*stamp))));
    let Some(Screen::Hits(f)) = app.top() else {
        panic!()
    };
    assert_eq!(f.rows.len(), 2);
    assert_eq!(f.title, format!("{TIMELINE} · filter (2 of 4): Image=x"));
    assert!(!app.busy.contains(&Job::Refilter));
}

#[test]
fn a_timeline_filtered_while_a_rule_is_hidden_is_derived_again() {
    let mut app = app();
    update(&mut app, Action::AllHits);
    let asked = ask_filter(&mut app, "Image=x");
    // Space on the timeline's first hit (alpha's) before the worker answers.
    update(&mut app, Action::ToggleRule);
    let kept = vec![asked.rows[1], asked.rows[3]];
    let effects = update(&mut app, asked.answer("Image=x", kept));
    let Some(Screen::Hits(f)) = app.top() else {
        panic!("the filtered timeline")
    };
    assert_eq!(f.timeline.as_ref().map(Vec::len), Some(1));
    assert!(
        (effects.iter()).any(|e| matches!(e, Effect::Refilter { lists, .. } if lists[0].0 == 2)),
        "derived again from the timeline as it is now"
    );
}

#[test]
fn stacking_on_a_list_asks_for_fields_and_one_field_is_a_plain_stack() {
    let mut app = app();
    update(&mut app, Action::Open);
    update(&mut app, Action::StackField);
    assert!(matches!(app.input, Some((InputKind::StackFields, _))));
    let effects = typed(&mut app, "Image");
    assert!(matches!(effects.as_slice(), [Effect::Stack { .. }]));
    update(&mut app, Action::StackField);
    let effects = typed(&mut app, "Image, User ,Computer");
    let [Effect::StackTuples { fields, .. }] = effects.as_slice() else {
        panic!("a stack by three fields")
    };
    assert_eq!(fields, &["Image", "User", "Computer"]);
}

/// Searches read fields through the mapping the rules were loaded with (the user's
/// `mapping.yml`), which each load of the rules hands over.
#[test]
fn searches_read_fields_through_the_mapping_the_rules_loaded_with() {
    let mut app = app();
    let e = crate::event::Event::from_pairs(&[
        ("EventID", "4688"),
        ("Channel", "Security"),
        ("ProcessPath", "C:\\Windows\\System32\\cmd.exe"),
    ]);
    let query = "Image=*\\cmd.exe";
    assert!(!app.parse_query(query).unwrap().matches(&e));
    let own = crate::sigma::mapping::WINDOWS_MAPPING.replace(
        "          Image: NewProcessName\n",
        "          Image: ProcessPath\n",
    );
    let mut loaded = super::tests::loaded(&app);
    loaded.mapping = std::sync::Arc::new(crate::sigma::mapping::Mapping::from_yaml(&own).unwrap());
    super::tests::load_rules(&mut app, loaded);
    assert!(app.parse_query(query).unwrap().matches(&e));
}
