//! Hits lists: exports, and time pivots re-run over a new span.

use super::support::{fixture_with, manifest_dir};
use huntbench::tui::action::Action;
use huntbench::tui::app::Screen;

/// The bundled WMI rule under another id and title, so each of its hits is hit twice.
fn twin_rule(dir: &std::path::Path) -> std::path::PathBuf {
    let bundled = manifest_dir().join("rules/windows/proc_creation_win_wmiprvse_child_process.yml");
    let text = std::fs::read_to_string(bundled).unwrap();
    let twin = text.replacen("id: dae3a3ff-", "id: 0000aaaa-", 1).replacen(
        "title: ",
        "title: Twin of ",
        1,
    );
    let path = dir.join("twin.yml");
    std::fs::write(&path, twin).unwrap();
    path
}

fn export_file(case: &std::path::Path, ext: &str) -> std::path::PathBuf {
    std::fs::read_dir(case.join("exports"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == ext))
        .unwrap_or_else(|| panic!("a .{ext} export"))
}

#[test]
fn exports_write_every_listed_row_with_its_rule_and_finish() {
    let dir = tempfile::tempdir().unwrap();
    let twin = twin_rule(dir.path());
    let mut fx = fixture_with(|o| o.rule_paths = vec![twin]);
    fx.send(Action::AllHits);
    let Some(Screen::Hits(h)) = fx.app.top() else {
        panic!("timeline")
    };
    let rows = h.rows.clone();
    let titles: Vec<String> = rows
        .iter()
        .map(|r| fx.app.rules[r.rule.unwrap()].rule.title().to_owned())
        .collect();
    let mut events: Vec<_> = rows.iter().map(|r| r.r).collect();
    events.dedup();
    let twice = rows.len() - events.len();
    assert!(twice >= 24, "events listed twice: {twice}");

    fx.send(Action::ExportCsv);
    assert!(fx.app.busy.is_empty(), "still working: {:?}", fx.app.busy);
    let msg = fx.app.message.clone().unwrap_or_default();
    assert!(
        msg.contains(&format!("exported {} rows", rows.len())),
        "{msg}"
    );
    let mut csv = csv::Reader::from_path(export_file(&fx.app.case_dir, "csv")).unwrap();
    let header: Vec<String> = csv.headers().unwrap().iter().map(str::to_owned).collect();
    // The columns `scan --format csv` writes.
    assert_eq!(header, huntbench::hunt::HIT_CSV_COLUMNS);
    let records: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), rows.len(), "one row per listed row");
    assert!(
        records.iter().any(|r| r[11].contains("CommandLine: ")),
        "the key fields as details"
    );
    for (rec, title) in records.iter().zip(&titles) {
        assert_eq!(&rec[2], title);
        assert!(!rec[1].is_empty() && !rec[3].is_empty(), "{rec:?}");
        assert!(rec[8].ends_with(".evtx"), "{rec:?}");
        assert!(!rec[9].is_empty(), "tactics: {rec:?}");
        assert!(!rec[12].is_empty(), "what matched: {rec:?}");
        let event: serde_json::Value = serde_json::from_str(&rec[13]).unwrap();
        assert_eq!(event["Computer"].as_str(), Some(&rec[4]));
    }

    fx.send(Action::ExportJsonl);
    assert!(fx.app.busy.is_empty(), "still working: {:?}", fx.app.busy);
    let text = std::fs::read_to_string(export_file(&fx.app.case_dir, "jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), rows.len(), "one line per listed row");
    for (line, title) in lines.iter().zip(&titles) {
        assert_eq!(line["rule_title"].as_str(), Some(title.as_str()));
        for field in ["rule_id", "level", "timestamp", "record_id", "matched"] {
            assert!(!line[field].is_null(), "{field}: {line}");
        }
        assert!(line["file"].as_str().unwrap().ends_with(".evtx"), "{line}");
        assert!(line["event"].is_object(), "{line}");
    }
}

#[test]
fn a_new_span_reruns_the_time_pivot_in_place() {
    let mut fx = fixture_with(|_| {});
    fx.select_rule("WMI Provider Host");
    fx.send(Action::Open);
    fx.send(Action::Open);
    fx.send(Action::PivotAround);
    let rows = |fx: &super::support::Fixture| match fx.app.top() {
        Some(Screen::Hits(h)) => (h.title.clone(), h.rows.len()),
        _ => panic!("a hits list: {:?}", fx.app.message),
    };
    let (title, five) = rows(&fx);
    assert!(title.ends_with("±5 min"), "{title}");
    assert_eq!(fx.app.screens.len(), 3);

    fx.send(Action::WiderAround);
    let (title, ten) = rows(&fx);
    assert!(title.ends_with("±10 min"), "{title}");
    assert!(ten > five, "{five} → {ten}");
    assert_eq!(fx.app.screens.len(), 3, "the list is replaced, not stacked");
    assert!(fx.screen().contains("±10 min"), "{}", fx.screen());

    fx.send(Action::NarrowerAround);
    fx.send(Action::NarrowerAround);
    let (title, two) = rows(&fx);
    assert!(title.ends_with("±2 min"), "{title}");
    assert!(two <= five, "{five} → {two}");
    assert!(fx.app.busy.is_empty());
}

/// Stacking works on any list: a search's events stacked by a field of one of them, and a
/// value of that stack opens every event with it.
#[test]
fn a_search_list_stacks_by_a_field_and_opens_a_value() {
    let mut fx = fixture_with(|_| {});
    fx.search("EventID=1");
    let Some(Screen::Hits(h)) = fx.app.top() else {
        panic!("search: {:?}", fx.app.message)
    };
    let listed = h.rows.len() as u64;
    fx.send(Action::Open);
    let Some(Screen::Detail(d)) = fx.app.top() else {
        panic!("detail")
    };
    let fields = &d.event.as_ref().unwrap().fields;
    let at = fields.iter().position(|(n, _)| n == "User").unwrap();
    for _ in 0..at.saturating_sub(d.sel) {
        fx.send(Action::Down);
    }
    fx.send(Action::StackField);
    let Some(Screen::Stack(s)) = fx.app.top() else {
        panic!("stack: {:?}", fx.app.message)
    };
    assert_eq!((s.field.as_str(), s.rule), ("User", None));
    assert_eq!(
        s.values.iter().map(|(_, n)| n).sum::<u64>(),
        listed,
        "one User per event"
    );
    snap!("search_stack", fx);
    let (value, count) = s.values[0].clone();
    fx.send(Action::Open);
    let Some(Screen::Hits(h)) = fx.app.top() else {
        panic!("value: {:?}", fx.app.message)
    };
    assert_eq!(h.title, format!("User = {value}"));
    assert!(
        h.rows.len() as u64 >= count,
        "every event with it, the search's among them"
    );
    // Marking benign needs a rule to make an overlay for.
    fx.send(Action::Back);
    fx.send(Action::MarkBenign);
    assert!(huntbench::overlay::load_overlays(&fx.app.case_dir).is_empty());
}

/// The timeline ordered by level and filtered to a minimum level, on a terminal wide enough
/// for its tactic column.
#[test]
fn the_timeline_orders_and_filters_by_level_and_names_tactics() {
    let mut fx = super::support::fixture();
    fx.send(Action::Resize(170, 30));
    fx.send(Action::AllHits);
    let all = match fx.app.top() {
        Some(Screen::Hits(h)) => h.rows.len(),
        _ => panic!("timeline"),
    };
    fx.send(Action::CycleSort);
    let rank = |fx: &super::support::Fixture, i: usize| {
        let Some(Screen::Hits(h)) = fx.app.top() else {
            panic!("timeline")
        };
        fx.app.rules[h.rows[i].rule.unwrap()].rule.meta.rank()
    };
    let Some(Screen::Hits(h)) = fx.app.top() else {
        panic!("timeline")
    };
    assert_eq!(h.rows.len(), all, "ordering keeps every row");
    let n = h.rows.len();
    for i in 1..n {
        assert!(
            rank(&fx, i - 1) >= rank(&fx, i),
            "row {i} out of level order"
        );
    }
    fx.send(Action::CycleLevel);
    fx.send(Action::CycleLevel);
    fx.send(Action::CycleLevel);
    let Some(Screen::Hits(h)) = fx.app.top() else {
        panic!("timeline")
    };
    assert!(
        h.rows.len() < all && !h.rows.is_empty(),
        "{} of {all}",
        h.rows.len()
    );
    for i in 0..h.rows.len() {
        assert!(rank(&fx, i) >= huntbench::sigma::Level::High);
    }
    snap!("timeline_by_level_high", fx);
    // Back to every level, in time order.
    fx.send(Action::CycleLevel);
    fx.send(Action::CycleLevel);
    fx.send(Action::CycleSort);
    let Some(Screen::Hits(h)) = fx.app.top() else {
        panic!("timeline")
    };
    assert_eq!(h.rows.len(), all);
    assert!(h.rows.windows(2).all(|w| w[0].r <= w[1].r));
}
