//! Finding within what is on screen: a detail's field by name, a list narrowed by a query,
//! and a stack by several fields.

use super::support::fixture;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use huntbench::tui::action::Action;
use huntbench::tui::app::Screen;

/// Types `text` into the open input line and presses Enter.
fn enter(fx: &mut super::support::Fixture, text: &str) {
    for c in text.chars() {
        fx.key(c);
    }
    fx.send(Action::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
}

fn detail_field(fx: &super::support::Fixture) -> String {
    let Some(Screen::Detail(d)) = fx.app.top() else {
        panic!("detail screen")
    };
    let event = d.event.as_ref().expect("loaded");
    event.fields[d.sel].0.clone()
}

#[test]
fn f_in_a_detail_goes_to_a_field_by_name_and_on_to_the_next() {
    let mut fx = fixture();
    fx.select_rule("WMI Provider Host");
    fx.send(Action::Open);
    fx.send(Action::Open);
    fx.send(Action::FindField);
    for c in "logon".chars() {
        fx.key(c);
    }
    snap!("find_field_prompt", fx);
    fx.send(Action::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    let first = detail_field(&fx);
    assert!(first.to_lowercase().contains("logon"), "{first}");
    snap!("find_field_found", fx);
    // The prompt proposes the last text: ⏎ moves to the next field holding it.
    fx.send(Action::FindField);
    enter(&mut fx, "");
    let second = detail_field(&fx);
    assert!(
        second.to_lowercase().contains("logon") && second != first,
        "{first} then {second}"
    );
    // A prefix match comes first: `image` is Image, not ParentImage.
    fx.send(Action::FindField);
    for _ in 0.."logon".len() {
        fx.send(Action::Key(KeyEvent::new(
            KeyCode::Backspace,
            KeyModifiers::NONE,
        )));
    }
    enter(&mut fx, "IMAGE");
    assert_eq!(detail_field(&fx), "Image");
    // No such field: said in the line, which stays open.
    fx.send(Action::FindField);
    enter(&mut fx, "zz-no-such");
    assert!(fx.app.input.is_some());
    let err = fx.app.input_error.clone().expect("an error");
    assert!(err.message.contains("no field name"), "{}", err.message);
}

#[test]
fn a_list_is_narrowed_by_a_query_and_backspace_gives_it_back() {
    let mut fx = fixture();
    fx.send(Action::AllHits);
    let Some(Screen::Hits(all)) = fx.app.top() else {
        panic!("timeline")
    };
    let (n_all, title) = (all.rows.len(), all.title.clone());
    fx.send(Action::FilterList);
    enter(&mut fx, "Computer=SRV-SQL* CommandLine|re=whoami|net\\s");
    let Some(Screen::Hits(h)) = fx.app.top() else {
        panic!("filtered: {:?}", fx.app.message)
    };
    assert!(!h.rows.is_empty() && h.rows.len() < n_all);
    assert!(
        h.title
            .starts_with(&format!("{title} · filter ({} of {n_all}): ", h.rows.len())),
        "{}",
        h.title
    );
    // Rows keep their rule (the timeline's per-row rule) and their order.
    assert!(h.rows.iter().all(|r| r.rule.is_some()));
    assert!(h.rows.windows(2).all(|w| w[0].r <= w[1].r));
    snap!("filtered_timeline", fx);
    // A bad query is said in the line, nothing runs.
    fx.send(Action::FilterList);
    enter(&mut fx, "CommandLine|re=(");
    assert!(fx.app.input_error.is_some());
    fx.send(Action::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    fx.send(Action::Back);
    let Some(Screen::Hits(h)) = fx.app.top() else {
        panic!("timeline again")
    };
    assert_eq!(h.rows.len(), n_all);
}

#[test]
fn a_stack_by_two_fields_counts_tuples_and_opens_their_events() {
    let mut fx = fixture();
    fx.search("EventID=4624");
    fx.send(Action::StackField);
    enter(&mut fx, "TargetUserName, IpAddress");
    let Some(Screen::Stack(s)) = fx.app.top() else {
        panic!("stack: {:?}", fx.app.message)
    };
    let tuples = s.tuples.clone().expect("a stack by two fields");
    assert_eq!(tuples.fields, ["TargetUserName", "IpAddress"]);
    assert!(s.values.windows(2).all(|w| w[0].1 >= w[1].1), "by count");
    snap!("stack_two_fields", fx);
    let (want, n) = (tuples.values[0].clone(), s.values[0].1);
    fx.send(Action::Open);
    let Some(Screen::Hits(h)) = fx.app.top() else {
        panic!("tuple pivot: {:?}", fx.app.message)
    };
    assert_eq!(h.rows.len() as u64, n, "{}", h.title);
    for row in h.rows.iter() {
        let ev = &fx.app.cache[&row.r];
        assert!(
            ev.get_str("TargetUserName")
                .is_some_and(|v| v.eq_ignore_ascii_case(&want[0]))
        );
        assert!(
            ev.get_str("IpAddress")
                .is_some_and(|v| v.eq_ignore_ascii_case(&want[1]))
        );
    }
    // Marking benign needs one field.
    fx.send(Action::Back);
    fx.send(Action::MarkBenign);
    assert!(
        (fx.app.message.clone().unwrap_or_default()).contains("several fields"),
        "{:?}",
        fx.app.message
    );
    // More than three fields is refused in the line.
    fx.send(Action::Back);
    fx.send(Action::StackField);
    enter(&mut fx, "a,b,c,d");
    assert!(fx.app.input_error.is_some());
}
