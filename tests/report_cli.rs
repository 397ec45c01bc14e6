//! `huntbench report` over the two-host scenario rendered by our EVTX writer
//! (`tests/fixtures/lateral-movement.yml`): every section, the workstation → server edge with
//! its user, the wmiexec hit's why-matched text and process tree, the overlay in effect when
//! one is given; and log text that tries to break the Markdown stays inside its cell.

#![allow(clippy::unwrap_used)]

mod common;

use common::cli::{ingest, lateral_movement, run};
use std::path::Path;

fn report(dir: &Path, case: &Path, extra: &[&str]) -> String {
    let out = dir.join("out/report.md");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let mut args = vec![
        "report",
        "--case",
        case.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    let said = run(dir, &args).stderr;
    assert!(said.contains("report written to"), "{said}");
    // Written whole: no temporary file is left beside it.
    let left: Vec<_> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
    std::fs::read_to_string(out).unwrap()
}

#[test]
fn the_report_demonstrates_the_lateral_movement_and_its_detection() {
    let tmp = tempfile::tempdir().unwrap();
    let evtx = lateral_movement(tmp.path());
    let case = ingest(tmp.path(), &[&evtx]);
    let md = report(tmp.path(), &case, &[]);
    for heading in [
        "## Case summary",
        "### Inputs",
        "### Input problems",
        "## Detections",
        "### By level",
        "### By ATT&CK tactic",
        "### Rules with hits",
        "## Lateral movement",
        "### Logon sessions with hits",
        "## Hosts",
        "## Users",
        "## Detections in detail",
        "## Rules and overlays in effect",
        "### Tuning overlays",
        "### Rules loaded",
    ] {
        assert!(md.lines().any(|l| l == heading), "no {heading:?} in\n{md}");
    }
    // Inputs: the file with its hash and events, the hosts, the time range.
    let input = (md.lines())
        .find(|l| l.contains("lateral-movement.evtx | "))
        .unwrap_or_else(|| panic!("no input in\n{md}"));
    assert!(input.ends_with(" | 9 | 0 |"), "{input}");
    assert!(md.contains("- Hosts (2): "), "{md}");
    assert!(
        md.contains("- Time range: 2024-05-02T10:00:00.5000000Z"),
        "{md}"
    );
    // The edge A → B with its user and the hits in its sessions.
    let edge = (md.lines())
        .find(|l| l.starts_with("| WS-ADM-07.corp.larkspur-logistics.example (10.23.123.11) |"))
        .unwrap_or_else(|| panic!("no edge in\n{md}"));
    assert!(
        edge.contains("| → SRV-APP-04.corp.larkspur-logistics.example | LARKSPUR\\\\admmig |"),
        "{edge}"
    );
    // Detections by level and tactic, with the host.
    assert!(
        md.contains("| high | 1 | 1 | SRV-APP-04.corp.larkspur-logistics.example (1) |"),
        "{md}"
    );
    assert!(md.contains("| Lateral Movement | 1 | 1 |"), "{md}");
    // Per-host and per-user summaries.
    assert!(
        md.contains(
            "| WS-ADM-07.corp.larkspur-logistics.example | 2 | - | 2024-05-02T10:00:00.5000000Z |"
        ),
        "{md}"
    );
    assert!(
        md.contains("| LARKSPUR\\\\admmig | high 1 · med 1 | SRV-APP-04.corp.larkspur-logistics.example | 1 | 10.23.123.11 |"),
        "{md}"
    );
    // The wmiexec hit in detail: why it matched and its process tree.
    assert!(
        md.contains(
            "### Impacket wmiexec Command Shell — 2024-05-02T10:00:02.0000000Z on SRV-APP-04"
        ),
        "{md}"
    );
    assert!(
        md.contains("**Why it matched**: Impacket wmiexec Command Shell (high) — true selections: selection\\_image, selection\\_wmi\\_shell"),
        "{md}"
    );
    assert!(
        md.contains("- ParentImage\\|endswith '\\*\\\\WmiPrvSE.exe' ← ParentProcessName = C:\\\\Windows\\\\System32\\\\wbem\\\\WmiPrvSE.exe"),
        "{md}"
    );
    assert!(
        md.contains("■ WmiPrvSE.exe  pid 2500  (creation not in case)"),
        "{md}"
    );
    assert!(
        md.contains("  └─ cmd.exe  pid 6976  admmig  cmd.exe /Q /c whoami"),
        "{md}"
    );
    assert!(md.contains("None: every rule ran as written."), "{md}");
}

#[test]
fn the_report_names_the_overlays_in_effect() {
    let tmp = tempfile::tempdir().unwrap();
    let evtx = lateral_movement(tmp.path());
    let case = ingest(tmp.path(), &[&evtx]);
    let overlays = case.join("overlays");
    std::fs::create_dir_all(&overlays).unwrap();
    // As the workbench's `b` writes one: the wmiexec rule no longer alerts on this parent.
    std::fs::write(
        overlays.join("benign-wmiexec.yml"),
        "title: \"benign for Impacket wmiexec Command Shell\"\nlogsource:\n    product: \"windows\"\n    category: \"process_creation\"\nfilter:\n    rules:\n        - \"8a255457-85a1-4624-8397-55fbe8cad036\"\n    benign:\n        \"User\": \"admmig\"\n    condition: not benign\n",
    )
    .unwrap();
    let md = report(tmp.path(), &case, &[]);
    assert!(
        md.contains("benign-wmiexec.yml (applies to this case): excludes User = admmig from Impacket wmiexec Command Shell"),
        "{md}"
    );
    // The overlay's own text, for the audit.
    assert!(md.contains("        \"User\": \"admmig\"\n"), "{md}");
    assert!(!md.contains("None: every rule ran as written."), "{md}");
}

#[test]
fn hostile_log_text_cannot_break_the_markdown() {
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("hostile.jsonl");
    let event = serde_json::json!({
        "EventID": 4688,
        "Channel": "Security",
        "Computer": "HOST|ONE",
        "TimeCreated": "2024-05-02T10:00:00Z",
        "EventRecordID": 1,
        "NewProcessName": "C:\\Windows\\evil.exe",
        "CommandLine": "evil.exe a|b\n| forged | row |\u{1b}[2J `x` <img src=x onerror=alert(1)> &amp;",
    });
    std::fs::write(&json, format!("{event}\n")).unwrap();
    let rule = tmp.path().join("hostile.yml");
    std::fs::write(
        &rule,
        "title: Hostile command line\nid: 0b7f1a52-3c0e-4a43-9d55-2f3a4d5e6f70\nlevel: critical\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    sel:\n        CommandLine|contains: 'a|b'\n    condition: sel\n",
    )
    .unwrap();
    let case = ingest(tmp.path(), &[&json]);
    let md = report(
        tmp.path(),
        &case,
        &["--no-default-rules", "--rules", rule.to_str().unwrap()],
    );
    assert!(md.contains("### Hostile command line"), "{md}");
    assert!(!md.contains('\u{1b}'), "{md}");
    assert!(!md.contains("<img") && !md.contains("| forged |"), "{md}");
    // Shown as the terminal shows it, every Markdown character escaped.
    assert!(
        md.contains(r"evil.exe a\|b\\n\| forged \| row \|\\u\{1b\}\[2J \`x\` &lt;img src=x"),
        "{md}"
    );
    // Every table row has as many unescaped `|` as its table's header.
    let bars = |l: &str| {
        let mut n = 0;
        let mut escaped = false;
        for c in l.chars() {
            match c {
                '\\' if !escaped => escaped = true,
                '|' if !escaped => n += 1,
                _ => escaped = false,
            }
            if c != '\\' {
                escaped = false;
            }
        }
        n
    };
    let mut header = None;
    for line in md.lines() {
        if !line.starts_with('|') {
            header = None;
            continue;
        }
        let n = bars(line);
        match header {
            None => header = Some(n),
            Some(h) => assert_eq!(n, h, "{line}"),
        }
    }
    // The computer's `|` is escaped wherever it is named.
    assert!(md.contains("HOST\\|ONE"), "{md}");
}

#[test]
fn an_html_output_is_the_report_rendered_as_a_page() {
    let tmp = tempfile::tempdir().unwrap();
    let evtx = lateral_movement(tmp.path());
    let case = ingest(tmp.path(), &[&evtx]);
    let out = tmp.path().join("report.html");
    run(
        tmp.path(),
        &[
            "report",
            "--case",
            case.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
    );
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("<h2>Lateral movement</h2>"), "{html}");
    assert!(
        html.contains("<td>WS-ADM-07.corp.larkspur-logistics.example (10.23.123.11)</td>"),
        "{html}"
    );
    assert!(html.contains("<td>LARKSPUR\\admmig</td>"), "{html}");
    // The command line's `>` stays text.
    assert!(html.contains("whoami 1&gt; \\\\127.0.0.1"), "{html}");
}

/// A bookmarked hit (made without its rule, as from a search) is listed with its note and tags,
/// and in detail with why the rule that hit it matched; the case note follows, fenced.
#[test]
fn bookmarks_and_the_case_note_are_in_the_report() {
    use huntbench::bookmarks::{Bookmark, Bookmarks, parse_note, save_case_note};
    use huntbench::store::EventStore;
    let tmp = tempfile::tempdir().unwrap();
    let evtx = lateral_movement(tmp.path());
    let dir = ingest(tmp.path(), &[&evtx]);
    {
        let case = huntbench::index::Case::open(&dir).unwrap();
        let snap = case.snapshot();
        let p = huntbench::prefilter::Prefilter::Equals {
            field: "EventID".into(),
            value: "4688".into(),
        };
        let shell = (snap.candidates(&p).unwrap().into_iter())
            .map(|r| snap.event(r).unwrap().0)
            .find(|e| {
                e.get_str("CommandLine")
                    .is_some_and(|c| c.contains("whoami"))
            })
            .unwrap();
        let (note, tags) = parse_note("the wmiexec shell | as admmig #lateral");
        let (mut marks, _) = Bookmarks::load(&dir).unwrap();
        marks.add(Bookmark::new(&shell, None, note, tags)).unwrap();
    }
    save_case_note(&dir, "Entry: WS-ADM-07 → SRV-APP-04\n<b>not html</b>\n").unwrap();
    let md = report(tmp.path(), &dir, &[]);
    let at = md.find("## Bookmarks").unwrap_or_else(|| panic!("{md}"));
    let marks = &md[at..];
    assert!(marks.contains("1 bookmark(s), in time order."), "{marks}");
    assert!(
        marks.contains(
            "### Impacket wmiexec Command Shell — 2024-05-02T10:00:02.0000000Z on SRV-APP-04"
        ),
        "{marks}"
    );
    assert!(
        marks.contains("**Note:** the wmiexec shell \\| as admmig\n\n**Tags:** \\#lateral"),
        "{marks}"
    );
    assert!(
        marks.contains("**Why it matched**: Impacket wmiexec"),
        "{marks}"
    );
    assert!(marks.contains("└─ cmd.exe  pid 6976"), "{marks}");
    let note = &md[md.find("## Case note").unwrap_or_else(|| panic!("{md}"))..];
    assert!(
        note.contains("```text\nEntry: WS-ADM-07 → SRV-APP-04\n<b>not html</b>\n```"),
        "{note}"
    );
}
