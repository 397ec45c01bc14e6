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
    ("psexec", "win_security_psexesvc_service_install", 1),
    ("psexec", "win_security_service_binary_in_windows_root", 2),
    ("psexec", "win_security_psexec_default_pipes", 4),
    ("wmiexec", "proc_creation_win_impacket_wmiexec_cmd", 14),
    ("wmiexec", "proc_creation_win_wmiprvse_child_process", 14),
    ("smbexec", "proc_creation_win_impacket_smbexec_cmd", 9),
    ("smbexec", "win_system_impacket_smbexec_service_install", 3),
    (
        "smbexec",
        "win_security_impacket_smbexec_service_install",
        3,
    ),
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
    ("defender-asr-block", "win_security_psexec_default_pipes", 3),
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
    (
        "benign-admin-baseline",
        "win_security_psexec_default_pipes",
        3,
    ),
];

const SAMPLES: &[&str] = &[
    "psexec",
    "wmiexec",
    "smbexec",
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
    assert_eq!(set.rules.len(), 17, "one compiled rule per file");
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

/// The saved search is the WMI-child rule in the query language; it reads Sigma field names
/// through the logsource mapping as the rule does (`ParentImage` is a 4688's
/// `ParentProcessName`), so it finds the rule's hits in Sysmon and Security 4688 alike.
#[test]
fn saved_wmi_child_search_matches_the_rule_hits() {
    let text = std::fs::read_to_string(root().join("rules/searches/wmi-child-process.search"))
        .expect("search file");
    let query = huntbench::query::parse(text.trim()).expect("the saved search parses");
    let rule = bundled_rule("proc_creation_win_wmiprvse_child_process");
    let mut found = 0;
    for s in SAMPLES {
        let events = sample(s);
        let hits = events.iter().filter(|e| query.matches(e)).count();
        let want = events.iter().filter(|e| rule.is_match(e)).count();
        assert_eq!(hits, want, "{s}");
        found += hits;
    }
    assert!(found >= 14, "{found}");
}

/// The bundled rule compiled from `rules/windows/<stem>.yml`.
fn bundled_rule(stem_name: &str) -> huntbench::sigma::CompiledRule {
    let loader = Loader::new().expect("loader");
    let path = root()
        .join("rules/windows")
        .join(format!("{stem_name}.yml"));
    let mut set = loader.load_paths(&[path]);
    assert!(set.errors.is_empty(), "{stem_name}: {:?}", set.errors);
    set.rules.pop().expect("one rule")
}

/// Events of a sample whose `field` contains `needle`, so each near miss is named and cannot
/// silently vanish from its scenario.
fn events_with<'a>(events: &'a [Event], field: &str, needle: &str) -> Vec<&'a Event> {
    let found: Vec<_> = events
        .iter()
        .filter(|e| e.get_str(field).is_some_and(|v| v.contains(needle)))
        .collect();
    assert!(
        !found.is_empty(),
        "no event with {field} containing {needle:?}"
    );
    found
}

/// Impacket's wmiexec and smbexec both write command output to a loopback share; each rule
/// fires on its own tool only (the wmiexec rule once matched every smbexec command too).
#[test]
fn wmiexec_and_smbexec_rules_tell_the_tools_apart() {
    let wmiexec = bundled_rule("proc_creation_win_impacket_wmiexec_cmd");
    let smbexec = bundled_rule("proc_creation_win_impacket_smbexec_cmd");
    let smb_events = sample("smbexec");
    let launchers = events_with(&smb_events, "CommandLine", r"^> \\127.0.0.1\C$\__output");
    let current = events_with(&smb_events, "CommandLine", r"^> \\SRV-FILE-02\C$\__output");
    for e in launchers.iter().chain(&current) {
        assert!(smbexec.is_match(e), "smbexec launcher missed: {e:?}");
        assert!(!wmiexec.is_match(e), "wmiexec rule fired on smbexec: {e:?}");
    }
    for e in events_with(
        &sample("wmiexec"),
        "CommandLine",
        r"1> \\127.0.0.1\ADMIN$\__",
    ) {
        assert!(!smbexec.is_match(e), "smbexec rule fired on wmiexec: {e:?}");
    }
    // Same loopback redirection as wmiexec, but started by SQL Agent rather than WmiPrvSE.exe.
    let baseline = sample("benign-admin-baseline");
    for e in events_with(&baseline, "CommandLine", r"1> \\127.0.0.1\C$\Temp") {
        assert!(
            !wmiexec.is_match(e),
            "wmiexec rule fired on SQL Agent: {e:?}"
        );
    }
    // A service that runs cmd.exe on a .bat with redirected output, started by services.exe.
    for e in events_with(&baseline, "CommandLine", "prepost.bat") {
        assert!(
            !smbexec.is_match(e),
            "smbexec rule fired on a backup hook: {e:?}"
        );
    }
}

/// 4697 is the Security log's record of the installs System 7045 records: the PsExec and
/// Windows-directory rules cover both logs, and legitimate installs stay silent in both.
#[test]
fn service_install_rules_cover_security_4697_as_well_as_system_7045() {
    let psexec_4697 = bundled_rule("win_security_psexesvc_service_install");
    let root_4697 = bundled_rule("win_security_service_binary_in_windows_root");
    let smbexec_4697 = bundled_rule("win_security_impacket_smbexec_service_install");
    let events = sample("psexec");
    let installs: Vec<_> = events
        .iter()
        .filter(|e| e.event_id() == Some(4697))
        .collect();
    assert_eq!(installs.len(), 2, "PSEXESVC and winupdsvc");
    for e in &installs {
        assert!(root_4697.is_match(e), "{e:?}");
        let is_default = e.get_str("ServiceName") == Some("PSEXESVC");
        assert_eq!(psexec_4697.is_match(e), is_default, "{e:?}");
    }
    let baseline = sample("benign-admin-baseline");
    let legit: Vec<_> = baseline
        .iter()
        .filter(|e| e.event_id() == Some(4697))
        .collect();
    assert_eq!(legit.len(), 2, "inventory agent and backup hook");
    for e in legit {
        for rule in [&psexec_4697, &root_4697, &smbexec_4697] {
            assert!(!rule.is_match(e), "{} fired on {e:?}", rule.title());
        }
    }
}

/// Default PsExec pipes over IPC$ fire the default-pipe rule and not the renamed-service rule;
/// other pipes over IPC$ (srvsvc, spoolss, svcctl) fire neither.
#[test]
fn default_psexec_pipes_over_ipc_have_their_own_rule() {
    let default_pipes = bundled_rule("win_security_psexec_default_pipes");
    let renamed = bundled_rule("win_security_psexec_renamed_service_pipes");
    let events = sample("psexec");
    for e in events_with(
        &events,
        "RelativeTargetName",
        "PSEXESVC-WKS-ACC-014-5212-std",
    ) {
        assert!(default_pipes.is_match(e) && !renamed.is_match(e), "{e:?}");
    }
    for e in events_with(
        &events,
        "RelativeTargetName",
        "winupdsvc-WKS-ACC-014-5340-std",
    ) {
        assert!(!default_pipes.is_match(e) && renamed.is_match(e), "{e:?}");
    }
    let baseline = sample("benign-admin-baseline");
    let smb = sample("smbexec");
    let others = [
        events_with(&baseline, "RelativeTargetName", "srvsvc"),
        events_with(&baseline, "RelativeTargetName", "spoolss"),
        events_with(&smb, "RelativeTargetName", "svcctl"),
    ];
    for e in others.iter().flatten() {
        assert!(!default_pipes.is_match(e) && !renamed.is_match(e), "{e:?}");
    }
}
