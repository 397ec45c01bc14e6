//! Inputs: problems with the input paths (counted in the status line and listed, as `ingest`
//! prints them) and the search line.

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
    assert_eq!(problems[0].kind, huntbench::store::ProblemKind::Error);
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

    // Reopened without inputs, the case still lists the files it read in part (the missing
    // path and the file that is no EVTX were about that run: neither is in the case).
    let opts = huntbench::tui::TuiOptions {
        case_dir: fx.app.case_dir.clone(),
        ..huntbench::tui::TuiOptions::default()
    };
    let reopened =
        huntbench::tui::worker::Ctx::open(&huntbench::index::IndexBackend, opts, &|_| {}).unwrap();
    let huntbench::tui::action::Msg::Ready { problems, .. } = reopened.ready() else {
        panic!("ready")
    };
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems
            .iter()
            .all(|p| p.kind == huntbench::store::ProblemKind::Warning),
        "{problems:?}"
    );
    let cut = problems.iter().find(|p| p.path.ends_with("cut.jsonl"));
    assert!(
        cut.is_some_and(|p| p.reason.contains("1 unreadable record")),
        "{problems:?}"
    );
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

#[test]
fn records_folded_as_duplicates_are_listed_but_are_not_problems() {
    let dir = tempfile::tempdir().unwrap();
    let record = |n: u32, spaced: bool| {
        let sep = if spaced { ", " } else { "," };
        format!(
            r#"{{"EventID": 1{sep}"Channel": "Microsoft-Windows-Sysmon/Operational"{sep}"Computer": "WS9"{sep}"EventRecordID": {n}{sep}"TimeCreated_SystemTime": "2024-05-02T09:00:0{n}.000Z"{sep}"Image": "C:\\x.exe"}}"#
        )
    };
    // The same two records, and a third, written by another tool (other bytes).
    let first = dir.path().join("a-sysmon.jsonl");
    std::fs::write(
        &first,
        format!("{}\n{}\n", record(1, false), record(2, false)),
    )
    .unwrap();
    let again = dir.path().join("b-sysmon-export.jsonl");
    let text = format!(
        "{}\n{}\n{}\n",
        record(1, true),
        record(2, true),
        record(3, true)
    );
    std::fs::write(&again, text).unwrap();
    let mut fx = fixture_with(|o| o.inputs.extend([first, again]));
    let problems = &fx.app.input_problems;
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].kind, huntbench::store::ProblemKind::Folded);
    assert!(problems[0].path.ends_with("b-sysmon-export.jsonl"));
    assert!(
        problems[0].reason.starts_with("2 record(s) counted once")
            && problems[0].reason.ends_with("a-sysmon.jsonl (2)"),
        "{problems:?}"
    );
    let screen = fx.screen();
    assert!(
        screen.contains("duplicate records folded (press W)"),
        "{screen}"
    );
    assert!(!screen.contains("input problem"), "{screen}");
    fx.send(Action::InputProblems);
    let Some(Screen::Problems { .. }) = fx.app.top() else {
        panic!("problems list: {:?}", fx.app.message)
    };
    let screen = fx.screen();
    assert!(screen.contains("folded"), "{screen}");
}

/// The input line and the error line under it.
fn input_lines(screen: &str) -> (String, String) {
    let lines: Vec<&str> = screen.lines().collect();
    let at = lines
        .iter()
        .rposition(|l| l.starts_with('/'))
        .unwrap_or_else(|| panic!("the search line:\n{screen}"));
    (lines[at].to_owned(), lines[at + 1].to_owned())
}

#[test]
fn a_long_search_scrolls_to_the_cursor_and_its_error_shows() {
    let mut fx = fixture_with(|_| {});
    let terms: Vec<String> = (0..20).map(|i| format!("CommandLine=*part{i}*")).collect();
    let text = format!("{} AND (", terms.join(" AND "));
    assert!(text.chars().count() > 300);
    fx.search(&text);
    let err = fx.app.input_error.clone().expect("a parse error");
    assert_eq!(err.column, text.chars().count() + 1, "{err:?}");
    let screen = fx.screen();
    let (input, error) = input_lines(&screen);
    assert!(input.starts_with("/…"), "cut at the start: {input}");
    assert!(
        input.ends_with("part19* AND (▏"),
        "the cursor in view: {input}"
    );
    // The error past the end of the text is under the cursor, after its message.
    assert!(
        error.contains(&format!("column {}: {}", err.column, err.message)),
        "{error}"
    );
    let cursor = input.chars().position(|c| c == '▏').unwrap();
    assert_eq!(
        error.chars().position(|c| c == '^'),
        Some(cursor),
        "{screen}"
    );
    snap!("search_long_input", fx);

    // An error scrolled out of view: the message alone, without a caret.
    fx.send(Action::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Esc,
        crossterm::event::KeyModifiers::NONE,
    )));
    fx.search(&format!("Image=( AND {}", terms.join(" AND ")));
    let err = fx.app.input_error.clone().expect("a parse error");
    assert!(err.column < 10, "{err:?}");
    let (input, error) = input_lines(&fx.screen());
    assert!(input.ends_with("part19*▏"), "{input}");
    assert_eq!(
        error,
        format!(" column {}: {}", err.column, err.message),
        "no caret"
    );
}

/// On an 80×24 terminal the help is taller than the screen: it says so and scrolls to the
/// last screens' keys.
#[test]
fn the_help_scrolls_on_a_small_terminal() {
    let mut fx = fixture_with(|_| {});
    fx.app.size = (80, 24);
    fx.send(Action::Help);
    let screen = fx.screen();
    assert!(screen.contains("↓/↑ scroll"), "{screen}");
    assert!(!screen.contains("rule editor "), "{screen}");
    // One column at 80: the editor's keys come last.
    for _ in 0..5 {
        fx.send(Action::PageDown);
    }
    let screen = fx.screen();
    assert!(fx.app.help, "scrolling keeps it open");
    assert!(
        screen.contains("save to user rules"),
        "the editor's keys: {screen}"
    );
    snap!("help_small_scrolled", fx);
    fx.send(Action::Open);
    assert!(!fx.app.help);
}

/// A skipped duplicate says which file it duplicates, and long paths are listed whole
/// (wrapped), not cut.
#[test]
fn the_problems_list_names_what_a_duplicate_duplicates_and_whole_paths() {
    // Not under /tmp, which the screen text replaces.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let deep = (1..=4).fold(dir.path().to_path_buf(), |p, i| {
        p.join(format!("collection-{i}-of-a-triage-package"))
    });
    std::fs::create_dir_all(&deep).unwrap();
    let copy = deep.join("copy-of-psexec.evtx");
    let samples = super::support::manifest_dir().join("samples");
    std::fs::copy(samples.join("psexec.evtx"), &copy).unwrap();
    let mut fx = fixture_with(|o| o.inputs.push(copy.clone()));
    fx.app.size = (80, 24);
    fx.send(Action::InputProblems);
    let screen = fx.screen();
    // Wrapped at 80 columns: compare without the line breaks and spaces.
    let joined: String = screen.chars().filter(|c| !c.is_whitespace()).collect();
    // The copy and the sample: one is read, the other skipped naming it.
    assert!(joined.contains("psexec.evtx:duplicateof"), "{screen}");
    assert!(
        joined.contains("collection-4-of-a-triage-package/copy-of-psexec.evtx"),
        "{screen}"
    );
    assert!(joined.contains("samples/psexec.evtx"), "{screen}");
}
