//! Problems with the input paths: counted in the status line and listed, as `ingest` prints them.

use super::support::fixture_with;
use huntbench::tui::action::Action;
use huntbench::tui::app::Screen;

#[test]
fn input_problems_are_counted_in_the_status_line_and_listed() {
    let dir = tempfile::tempdir().unwrap();
    // A JSONL export with one unreadable line between two good records.
    let record = |n: u32| {
        format!(
            r#"{{"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": "WS9", "EventRecordID": {n}, "TimeCreated_SystemTime": "2024-05-02T09:00:0{n}.000Z", "Image": "C:\\x.exe"}}"#
        )
    };
    let jsonl = dir.path().join("cut.jsonl");
    std::fs::write(
        &jsonl,
        format!("{}\n{{\"EventID\": 1, oops\n{}\n", record(1), record(2)),
    )
    .unwrap();
    let evtx = dir.path().join("garbage.evtx");
    std::fs::write(&evtx, b"this is not an event log").unwrap();
    // A missing path whose name would move the cursor and recolour the terminal if printed.
    let missing = dir.path().join("missing \u{1b}[31m.evtx");
    let mut fx = fixture_with(|o| o.inputs.extend([missing, jsonl, evtx]));
    let problems = &fx.app.input_problems;
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert_eq!(problems[0].kind, "error");
    assert!(problems[0].path.contains("missing"), "{problems:?}");
    let cut = problems
        .iter()
        .find(|p| p.path.ends_with("cut.jsonl"))
        .unwrap();
    assert!(cut.reason.contains("1 unreadable record"), "{cut:?}");
    assert!(problems.iter().any(|p| p.path.ends_with("garbage.evtx")));
    let screen = fx.screen();
    assert!(screen.contains("3 input problems (press W)"), "{screen}");

    fx.send(Action::InputProblems);
    let Some(Screen::Problems { .. }) = fx.app.top() else {
        panic!("problems list: {:?}", fx.app.message)
    };
    let screen = fx.screen();
    assert!(!screen.contains('\u{1b}'), "sanitized:\n{screen}");
    assert!(
        screen.contains(" \\u{1b}[31m.evtx: No such file"),
        "{screen}"
    );
    snap!("input_problems", fx);
    fx.send(Action::Back);
    assert!(fx.app.screens.is_empty());
}

#[test]
fn inputs_without_problems_say_nothing() {
    let mut fx = fixture_with(|_| {});
    assert!(fx.app.input_problems.is_empty());
    assert!(!fx.screen().contains("input problem"));
    fx.send(Action::InputProblems);
    assert!(fx.app.screens.is_empty());
    assert_eq!(fx.app.message.as_deref(), Some("no input problems"));
}
