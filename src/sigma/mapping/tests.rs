#![allow(clippy::unwrap_used)]

use super::*;
use crate::event::{Event, Value};

fn ev(pairs: &[(&str, &str)]) -> Event {
    Event::from_pairs(pairs)
}

fn sources(cat: &str) -> RuleSources {
    match Mapping::builtin()
        .unwrap()
        .resolve(Some("windows"), Some(cat), None)
    {
        LogsourceResolution::Windows(s) => s,
        other => panic!("{other:?}"),
    }
}

fn sec4688() -> Event {
    ev(&[
        ("EventID", "4688"),
        ("Channel", "Security"),
        ("NewProcessName", "C:\\Windows\\cmd.exe"),
        ("NewProcessId", "0x116c"),
        ("ProcessId", "0x378"),
        ("MandatoryLabel", "S-1-16-12288"),
        ("SubjectUserName", "HOST$"),
        ("SubjectDomainName", "CORP"),
        ("TargetUserName", "-"),
    ])
}

fn sysmon1() -> Event {
    ev(&[
        ("EventID", "1"),
        ("Channel", "Microsoft-Windows-Sysmon/Operational"),
        ("Image", "C:\\Windows\\cmd.exe"),
        ("ProcessId", "4460"),
        ("ParentProcessId", "888"),
        ("IntegrityLevel", "High"),
        ("User", "NT AUTHORITY\\SYSTEM"),
    ])
}

fn get(s: &RuleSources, f: &str, e: &Event) -> Option<Vec<String>> {
    s.field(f, &mut Vec::new())
        .resolve(e)
        .map(|r| r.value.strings().map(str::to_owned).collect())
}

#[test]
fn logsources() {
    let m = Mapping::builtin().unwrap();
    assert!(matches!(
        m.resolve(Some("linux"), Some("process_creation"), None),
        LogsourceResolution::NotWindows(_)
    ));
    assert!(matches!(
        m.resolve(None, Some("proxy"), None),
        LogsourceResolution::NotWindows(_)
    ));
    assert!(matches!(
        m.resolve(None, Some("antivirus"), None),
        LogsourceResolution::Windows(_)
    ));
    assert!(matches!(
        m.resolve(Some("windows"), Some("nope"), None),
        LogsourceResolution::Unsupported(_)
    ));
    let LogsourceResolution::Windows(s) = m.resolve(Some("windows"), None, Some("security")) else {
        panic!()
    };
    assert!(s.matches(&sec4688()));
    assert!(!s.matches(&sysmon1()));
    let pc = sources("process_creation");
    assert!(pc.matches(&sec4688()) && pc.matches(&sysmon1()));
    let rd = sources("registry_delete");
    let mut e = ev(&[
        ("EventID", "12"),
        ("Channel", "Microsoft-Windows-Sysmon/Operational"),
    ]);
    assert!(!rd.matches(&e));
    e.push("EventType", Value::Str("DeleteValue".into()));
    assert!(rd.matches(&e));
}

#[test]
fn sysmon_rule_on_4688() {
    let mut s = sources("process_creation");
    s.set_dialect(["Image", "ProcessId"].into_iter());
    let e = sec4688();
    assert_eq!(get(&s, "Image", &e).unwrap(), vec!["C:\\Windows\\cmd.exe"]);
    // ProcessId is the child on Sysmon: NewProcessId on 4688, never 4688's own ProcessId.
    assert_eq!(get(&s, "ProcessId", &e).unwrap(), vec!["0x116c"]);
    assert_eq!(get(&s, "ParentProcessId", &e).unwrap(), vec!["0x378"]);
    assert_eq!(
        get(&s, "IntegrityLevel", &e).unwrap(),
        vec!["S-1-16-12288", "High"]
    );
    assert_eq!(get(&s, "User", &e).unwrap(), vec!["CORP\\HOST$"]);
    assert_eq!(get(&s, "OriginalFileName", &e), None);
    let mut notes = Vec::new();
    s.field("OriginalFileName", &mut notes);
    assert_eq!(notes.len(), 1, "{notes:?}");
    // Native names still work on Sysmon.
    assert_eq!(get(&s, "ProcessId", &sysmon1()).unwrap(), vec!["4460"]);
}

#[test]
fn security_rule_on_sysmon() {
    let mut s = sources("process_creation");
    s.set_dialect(["NewProcessName", "ProcessId"].into_iter());
    let e = sysmon1();
    assert_eq!(
        get(&s, "NewProcessName", &e).unwrap(),
        vec!["C:\\Windows\\cmd.exe"]
    );
    // In a 4688-style rule ProcessId is the parent.
    assert_eq!(get(&s, "ProcessId", &e).unwrap(), vec!["888"]);
    assert_eq!(get(&s, "ProcessId", &sec4688()).unwrap(), vec!["0x378"]);
    assert_eq!(get(&s, "NewProcessId", &e).unwrap(), vec!["4460"]);
    assert_eq!(
        get(&s, "MandatoryLabel", &e).unwrap(),
        vec!["High", "S-1-16-12288"]
    );
    assert_eq!(get(&s, "SubjectUserName", &e).unwrap(), vec!["SYSTEM"]);
    assert_eq!(
        get(&s, "SubjectDomainName", &e).unwrap(),
        vec!["NT AUTHORITY"]
    );
    assert!(s.field("NewProcessId", &mut Vec::new()).numeric);
}
