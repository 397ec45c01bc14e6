//! The hosts and users summary (`H`) and the report (`R`) over the two-host lateral-movement
//! scenario (`tests/fixtures/lateral-movement.yml`, rendered by our EVTX writer).

use super::support::{fixture_with, manifest_dir};
use huntbench::tui::action::Action;
use huntbench::tui::app::Screen;

fn lateral() -> super::support::Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let evtx = tmp.path().join("lateral-movement.evtx");
    let scenario = manifest_dir().join("tests/fixtures/lateral-movement.yml");
    huntbench::synth::render_scenario(scenario.to_str().unwrap(), &evtx).unwrap();
    fixture_with(|o| o.inputs = vec![evtx])
}

#[test]
fn hosts_and_users_and_the_events_of_one() {
    let mut fx = lateral();
    fx.send(Action::Summaries);
    let Some(Screen::Summary(s)) = fx.app.top() else {
        panic!("summary: {:?}", fx.app.message)
    };
    assert_eq!(s.data.hosts.len(), 2);
    snap!("summary_hosts", fx);
    fx.send(Action::Summaries);
    let Some(Screen::Summary(s)) = fx.app.top() else {
        panic!("still the summary")
    };
    assert!(s.users);
    snap!("summary_users", fx);
    // ⏎ on admmig: a search of the events naming the account.
    fx.send(Action::Open);
    let Some(Screen::Hits(h)) = fx.app.top() else {
        panic!("search: {:?}", fx.app.message)
    };
    assert!(h.title.contains("TargetUserName=\"admmig\""), "{}", h.title);
    assert!(h.rows.len() >= 5, "{}", h.rows.len());
    // ⌫ and H: back on the users list; to hosts, ⏎ on the server: its events.
    fx.send(Action::Back);
    fx.send(Action::Summaries);
    fx.send(Action::Open);
    let Some(Screen::Hits(h)) = fx.app.top() else {
        panic!("search: {:?}", fx.app.message)
    };
    assert_eq!(
        h.title,
        "search: Computer=\"SRV-APP-04.corp.larkspur-logistics.example\""
    );
    assert_eq!(h.rows.len(), 7);
}

#[test]
fn r_writes_the_report_into_the_case() {
    let mut fx = lateral();
    fx.send(Action::WriteReport);
    let (path, html) = (
        fx.app.case_dir.join("report.md"),
        fx.app.case_dir.join("report.html"),
    );
    assert_eq!(
        fx.app.message.as_deref(),
        Some(
            format!(
                "report written to {} and {}",
                path.display(),
                html.display()
            )
            .as_str()
        )
    );
    assert!(fx.app.busy.is_empty());
    let md = std::fs::read_to_string(&path).unwrap();
    assert!(md.contains("## Lateral movement"), "{md}");
    assert!(
        md.contains("**Why it matched**: Impacket wmiexec Command Shell"),
        "{md}"
    );
    // The same report as a page: its headings rendered, titled by the case.
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<h2>Lateral movement</h2>"), "{page}");
    let case = fx.app.case_dir.file_name().unwrap().to_string_lossy();
    assert!(page.contains(&format!("<title>huntbench report: {case}</title>")));
}

#[test]
fn the_workbench_report_lists_each_input_problem_once() {
    let dir = tempfile::tempdir().unwrap();
    // A JSONL export with one unreadable line (a warning the case records) and a missing path.
    let record = |n: u32| {
        format!(
            r#"{{"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": "WS9", "EventRecordID": {n}, "TimeCreated_SystemTime": "2024-05-02T09:00:0{n}.000Z", "Image": "C:\\x.exe"}}"#
        )
    };
    let jsonl = dir.path().join("cut.jsonl");
    let text = format!("{}\n{{\"EventID\": 1, oops\n{}\n", record(1), record(2));
    std::fs::write(&jsonl, text).unwrap();
    let missing = dir.path().join("missing.evtx");
    let mut fx = fixture_with(|o| o.inputs.extend([missing, jsonl]));
    assert_eq!(fx.app.input_problems.len(), 2);
    fx.send(Action::WriteReport);
    let md = std::fs::read_to_string(fx.app.case_dir.join("report.md")).unwrap();
    let rows: Vec<&str> = (md.lines())
        .filter(|l| l.starts_with("| warning |") || l.starts_with("| error |"))
        .collect();
    assert_eq!(rows.len(), 2, "{md}");
    assert!(
        rows.iter().any(|l| l.contains("1 unreadable record")),
        "{rows:?}"
    );
    assert!(rows.iter().any(|l| l.contains("missing.evtx")), "{rows:?}");
}
