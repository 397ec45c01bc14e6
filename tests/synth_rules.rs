//! The bundled rules (`rules/windows/`) against the bundled samples (`samples/*.evtx`): every rule
//! loads, and each fires exactly as `samples/README.md` promises (hit counts per file).

use huntbench::event::Event;
use huntbench::sigma::Loader;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sample(name: &str) -> Vec<Event> {
    let path = root().join("samples").join(format!("{name}.evtx"));
    let (events, report) = huntbench::ingest::read_all(&path).expect("sample readable");
    assert_eq!(report.errors, 0, "{name}: {report:?}");
    events
}

/// (sample, rule file stem, expected hits); rules not listed for a sample must not fire on it.
const EXPECTED: &[(&str, &str, usize)] = &[
    ("psexec", "win_security_psexec_renamed_service_pipes", 3),
    ("psexec", "proc_creation_win_psexesvc_process", 4),
    ("psexec", "win_system_psexesvc_service_install", 1),
    ("psexec", "win_system_service_binary_in_windows_root", 2),
    ("psexec", "pipe_created_win_psexec_like_pipes", 10),
    ("wmiexec", "proc_creation_win_impacket_wmiexec_cmd", 14),
    ("wmiexec", "proc_creation_win_wmiprvse_child_process", 14),
    (
        "wmi-spawned-process",
        "proc_creation_win_wmiprvse_child_process",
        6,
    ),
    (
        "wmi-spawned-process",
        "wmi_event_win_permanent_subscription",
        3,
    ),
    (
        "wmi-spawned-process",
        "wmi_event_win_commandline_consumer_shell",
        1,
    ),
    (
        "wmi-spawned-process",
        "win_wmi_activity_permanent_consumer_bound",
        1,
    ),
    ("defender-asr-block", "win_defender_asr_psexec_wmi_block", 3),
    (
        "defender-asr-block",
        "proc_creation_win_psexesvc_process",
        2,
    ),
    (
        "defender-asr-block",
        "win_system_psexesvc_service_install",
        1,
    ),
    (
        "defender-asr-block",
        "win_system_service_binary_in_windows_root",
        1,
    ),
    (
        "benign-admin-baseline",
        "proc_creation_win_wmiprvse_child_process",
        4,
    ),
    (
        "benign-admin-baseline",
        "proc_creation_win_psexesvc_process",
        4,
    ),
    (
        "benign-admin-baseline",
        "win_system_psexesvc_service_install",
        1,
    ),
    (
        "benign-admin-baseline",
        "win_system_service_binary_in_windows_root",
        1,
    ),
    (
        "benign-admin-baseline",
        "pipe_created_win_psexec_like_pipes",
        4,
    ),
];

const SAMPLES: &[&str] = &[
    "psexec",
    "wmiexec",
    "wmi-spawned-process",
    "defender-asr-block",
    "benign-admin-baseline",
];

fn stem(origin: &str) -> String {
    Path::new(origin)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[test]
fn bundled_rules_load_and_fire_as_documented() {
    let loader = Loader::new().expect("loader");
    let set = loader.load_paths(&[root().join("rules").join("windows")]);
    assert!(
        set.errors.is_empty() && set.unsupported.is_empty(),
        "errors: {:?}\nunsupported: {:?}",
        set.errors,
        set.unsupported
    );
    assert_eq!(set.rules.len(), 11, "one compiled rule per file");
    for rule in &set.rules {
        let m = &rule.meta;
        assert!(m.id.is_some() && m.level.is_some(), "{}", m.origin);
    }

    let mut failures = Vec::new();
    for s in SAMPLES {
        let events = sample(s);
        for rule in &set.rules {
            let name = stem(&rule.meta.origin);
            let hits = events.iter().filter(|e| rule.is_match(e)).count();
            let want = EXPECTED
                .iter()
                .find(|(sa, r, _)| sa == s && *r == name)
                .map_or(0, |(_, _, n)| *n);
            if hits != want {
                failures.push(format!("{s} × {name}: {hits} hits, expected {want}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The saved search is the WMI-child rule in the query language; with no logsource mapping it
/// sees the Sysmon field names only, so it counts the Sysmon copies of the rule's hits.
#[test]
fn saved_wmi_child_search_matches_the_sysmon_hits() {
    let text = std::fs::read_to_string(root().join("rules/searches/wmi-child-process.search"))
        .expect("search file");
    let query = huntbench::query::parse(text.trim()).expect("the saved search parses");
    for (s, want) in [
        ("wmiexec", 7),
        ("wmi-spawned-process", 3),
        ("benign-admin-baseline", 2),
        ("psexec", 0),
        ("defender-asr-block", 0),
    ] {
        let hits = sample(s).iter().filter(|e| query.matches(e)).count();
        assert_eq!(hits, want, "{s}");
    }
}
