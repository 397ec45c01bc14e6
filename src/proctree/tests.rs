#![allow(clippy::unwrap_used)]
use super::*;
use crate::prefilter::Prefilter;

fn ev(pairs: &[(&str, &str)]) -> Event {
    Event::from_pairs(pairs)
}

#[test]
fn creation_from_4688_uses_hex_pids_on_the_same_computer() {
    let e = ev(&[
        ("EventID", "4688"),
        ("Channel", "Security"),
        ("Computer", "H"),
        ("NewProcessId", "0xebc"),
        ("ProcessId", "0x3b0"),
        ("NewProcessName", "C:\\x.exe"),
    ]);
    let r = EventRef::new(0, 0);
    let n = creation(&e, r).unwrap();
    assert_eq!(
        n.key,
        ProcKey::Pid {
            computer: "H".into(),
            pid: 0xebc
        }
    );
    assert_eq!(
        n.parent,
        Some(ProcKey::Pid {
            computer: "H".into(),
            pid: 0x3b0
        })
    );
    assert_eq!(n.image, "C:\\x.exe");
}

#[test]
fn same_value_matches_a_guid_in_either_form() {
    let same_value = |field: &str, value: &str| {
        let l = Lookup::SameValue {
            field: field.into(),
            value: value.into(),
        };
        (l.prefilter(), move |e: &Event| l.matches(e))
    };
    let (p, check) = same_value("LogonGuid", "{0A0A0A0A-1111-2222-3333-444444444444}");
    assert!(matches!(p, Prefilter::Or(_)), "{p:?}");
    for form in [
        "0a0a0a0a-1111-2222-3333-444444444444",
        "{0a0a0a0a-1111-2222-3333-444444444444}",
    ] {
        let e = ev(&[("logonguid", form)]);
        assert!(check(&e), "{form}");
        assert!(p.accepts(&e), "{form}");
    }
    assert!(!check(&ev(&[(
        "LogonGuid",
        "0b0a0a0a-1111-2222-3333-444444444444"
    )])));
    let (p, check) = same_value("User", "{not a guid}");
    assert!(matches!(p, Prefilter::Equals { .. }), "{p:?}");
    assert!(check(&ev(&[("user", "{NOT A GUID}")])));
    assert!(!check(&ev(&[("User", "not a guid")])));
}

#[test]
fn creation_from_sysmon_uses_guids() {
    let e = ev(&[
        ("EventID", "1"),
        ("Channel", SYSMON),
        ("ProcessGuid", "{A}"),
        ("ParentProcessGuid", "{B}"),
    ]);
    let n = creation(&e, EventRef::new(0, 0)).unwrap();
    assert_eq!(n.key, ProcKey::Guid("a".into()));
    assert_eq!(n.parent, Some(ProcKey::Guid("b".into())));
    assert_eq!(pid_value("0x10"), Some(16));
    assert_eq!(pid_value("16"), Some(16));
}

#[test]
fn a_4688_process_shows_the_account_it_runs_as() {
    let base = [("EventID", "4688"), ("SubjectUserName", "HOST$")];
    let with = |target: &str| {
        let mut pairs = base.to_vec();
        pairs.push(("TargetUserName", target));
        account_4688(&ev(&pairs))
    };
    assert_eq!(with("admmig"), "admmig");
    assert_eq!(
        with("-"),
        "HOST$",
        "version 1 and self-started: the creator"
    );
    assert_eq!(with(""), "HOST$");
    assert_eq!(account_4688(&ev(&base)), "HOST$");
}

mod in_a_case {
    use super::super::{ProcKey, ProcTree, build};
    use crate::index::{Case, IngestOptions};
    use crate::prefilter::Prefilter;
    use crate::store::EventStore;
    use crate::store::memory::MemoryStore;

    /// A Security 4688 (version 2) creation as an evtx_dump JSON line, `at` seconds in.
    fn c4688(
        at: u32,
        host: &str,
        pid: &str,
        parent: &str,
        image: &str,
        parent_name: &str,
    ) -> String {
        serde_json::json!({"Event": {
            "System": {
                "EventID": 4688, "Channel": "Security", "Computer": host,
                "TimeCreated": {"#attributes": {"SystemTime": format!("2024-05-01T10:00:{at:02}Z")}},
            },
            "EventData": {
                "SubjectUserName": "HOST$", "NewProcessId": pid, "NewProcessName": image,
                "ProcessId": parent, "TargetUserName": "admmig",
                "ParentProcessName": parent_name,
            },
        }})
        .to_string()
    }

    fn s1(
        at: u32,
        guid: &str,
        parent: &str,
        image: &str,
        pid: &str,
        extra: &[(&str, &str)],
    ) -> String {
        let mut data = serde_json::json!({
            "ProcessGuid": guid, "ParentProcessGuid": parent, "Image": image, "ProcessId": pid,
        });
        for (k, v) in extra {
            data[*k] = serde_json::json!(v);
        }
        serde_json::json!({"Event": {
            "System": {
                "EventID": 1, "Channel": super::SYSMON, "Computer": "HOST",
                "TimeCreated": {"#attributes": {"SystemTime": format!("2024-05-01T10:00:{at:02}Z")}},
            },
            "EventData": data,
        }})
        .to_string()
    }

    /// The tree of the `nth` event (time order) of a case made of `lines`, as
    /// `(depth, image, inferred)` rows. The same tree is built over the case index and over
    /// the same events held in memory: the two stores must agree.
    fn tree_of(lines: &[String], nth: usize) -> (ProcTree, Vec<(usize, String, bool)>) {
        let tmp = tempfile::tempdir().unwrap();
        let input = tmp.path().join("events.jsonl");
        std::fs::write(&input, lines.join("\n")).unwrap();
        let mut case = Case::open_or_create(&tmp.path().join("case")).unwrap();
        case.ingest(&[input], &IngestOptions::default(), &mut |_| {})
            .unwrap();
        let index = case.snapshot();
        let memory = MemoryStore::copy_of(&index).unwrap();
        let mut built = [&index as &dyn EventStore, &memory].map(|store| {
            let r = store.candidates(&Prefilter::All).unwrap()[nth];
            let (e, _) = store.event(r).unwrap();
            let tree = build(store, r, &e).unwrap().unwrap();
            let rows: Vec<(usize, String, bool)> = (tree.lines.iter())
                .map(|&(d, i)| {
                    let n = &tree.nodes[i];
                    let name = n.image.rsplit('\\').next().unwrap_or_default().to_owned();
                    (d, name, n.inferred)
                })
                .collect();
            (tree, rows)
        });
        let (memory_tree, memory_rows) = built[1].clone();
        let (tree, rows) = std::mem::take(&mut built[0]);
        assert_eq!(rows, memory_rows, "index and memory stores disagree");
        assert_eq!(tree.focus, memory_tree.focus);
        assert_eq!(tree.missing_parent, memory_tree.missing_parent);
        (tree, rows)
    }

    const WMI: &str = "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe";
    const CMD: &str = "C:\\Windows\\System32\\cmd.exe";

    #[test]
    fn children_of_a_parent_not_in_the_case_are_grouped_under_it() {
        let lines = [
            // Another process had PID 0xac8 and exited before: its child is not grouped.
            c4688(1, "HOST", "0x100", "0xac8", "C:\\old.exe", "C:\\Windows\\explorer.exe"),
            serde_json::json!({"Event": {"System": {"EventID": 4689, "Channel": "Security",
                "Computer": "HOST", "TimeCreated": {"#attributes": {"SystemTime": "2024-05-01T10:00:02Z"}}},
                "EventData": {"ProcessId": "0xac8", "ProcessName": "C:\\Windows\\explorer.exe"}}})
            .to_string(),
            c4688(10, "HOST", "0x1a4c", "0xac8", CMD, WMI),
            c4688(11, "HOST", "0x1a50", "0x1a4c", "C:\\Windows\\System32\\conhost.exe", CMD),
            // The same parent PID on another computer is another process.
            c4688(12, "OTHER", "0x1a60", "0xac8", CMD, WMI),
            c4688(46, "HOST", "0x1b10", "0xac8", CMD, WMI),
            // The PID is reused: children after its next creation are that process's.
            c4688(50, "HOST", "0xac8", "0x4", "C:\\reused.exe", "C:\\System"),
            c4688(51, "HOST", "0x1c00", "0xac8", CMD, "C:\\reused.exe"),
        ];
        // Opened on the second cmd.exe.
        let (tree, rows) = tree_of(&lines, 5);
        let want = [
            (0, "WmiPrvSE.exe", true),
            (1, "cmd.exe", false),
            (2, "conhost.exe", false),
            (1, "cmd.exe", false),
        ];
        let want: Vec<_> = want.iter().map(|&(d, n, i)| (d, n.to_owned(), i)).collect();
        assert_eq!(rows, want);
        assert_eq!(
            tree.focus, 3,
            "the cursor starts on the process it was opened on"
        );
        let root = &tree.nodes[tree.lines[0].1];
        assert_eq!(root.pid, Some(2760));
        assert_eq!(
            root.key,
            ProcKey::Pid {
                computer: "HOST".into(),
                pid: 0xac8
            }
        );
        assert_eq!(tree.missing_parent.as_deref(), Some("pid 2760"));
        assert_eq!(tree.nodes[tree.lines[1].1].user, "admmig");
    }

    #[test]
    fn a_sysmon_parent_not_in_the_case_is_told_by_its_children() {
        let parent = "{0a0a0a0a-1111-2222-3333-444444444444}";
        let said = [
            ("ParentImage", "C:\\Windows\\PSEXESVC.exe"),
            ("ParentCommandLine", "C:\\Windows\\PSEXESVC.exe"),
            ("ParentProcessId", "4242"),
        ];
        let lines = [
            s1(
                1,
                "{0b0b0b0b-1111-2222-3333-444444444444}",
                parent,
                "C:\\a.exe",
                "10",
                &said,
            ),
            s1(
                2,
                "{0c0c0c0c-1111-2222-3333-444444444444}",
                parent,
                "C:\\b.exe",
                "11",
                &said,
            ),
        ];
        let (tree, rows) = tree_of(&lines, 0);
        let names: Vec<_> = rows.iter().map(|(d, n, i)| (*d, n.as_str(), *i)).collect();
        assert_eq!(
            names,
            [
                (0, "PSEXESVC.exe", true),
                (1, "a.exe", false),
                (1, "b.exe", false)
            ]
        );
        let root = &tree.nodes[0];
        assert_eq!(root.cmdline, "C:\\Windows\\PSEXESVC.exe");
        assert_eq!(root.pid, Some(4242));
        assert_eq!(tree.focus, 1);
    }

    #[test]
    fn a_parent_missing_from_security_is_found_in_sysmon_and_climbed() {
        let lines = [
            s1(
                1,
                "{0d0d0d0d-1111-2222-3333-444444444444}",
                "{00000000-0000-0000-0000-000000000001}",
                "C:\\Windows\\System32\\svchost.exe",
                "900",
                &[],
            ),
            s1(
                2,
                "{0a0a0a0a-1111-2222-3333-444444444444}",
                "{0d0d0d0d-1111-2222-3333-444444444444}",
                WMI,
                "2760",
                &[],
            ),
            c4688(10, "HOST", "0x1a4c", "0xac8", CMD, WMI),
        ];
        let (_, rows) = tree_of(&lines, 2);
        let names: Vec<_> = rows.iter().map(|(d, n, i)| (*d, n.as_str(), *i)).collect();
        assert_eq!(
            names,
            [
                (0, "(svchost's parent)", true),
                (1, "svchost.exe", false),
                (2, "WmiPrvSE.exe", false),
                (3, "cmd.exe", false),
            ]
            .map(|(d, n, i)| (d, if d == 0 { "" } else { n }, i))
        );
    }
}
