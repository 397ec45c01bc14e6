//! Core semantics tests that do not need `../shared`: the edge cases of
//! `docs/sigma_edge_cases.json`, restated by hand.

#![allow(clippy::unwrap_used)]

use super::Loader;
use crate::event::{Event, Value};

fn ev(pairs: &[(&str, &str)]) -> Event {
    Event::from_pairs(pairs)
}

fn rule(detection: &str) -> super::CompiledRule {
    let text = format!("title: t\nlogsource:\n  product: windows\ndetection:\n{detection}\n");
    let mut set = Loader::new().unwrap().load_str(&text, "test");
    assert!(
        set.errors.is_empty() && set.unsupported.is_empty(),
        "{:?} {:?}",
        set.errors,
        set.unsupported
    );
    set.rules.pop().unwrap()
}

fn hit(detection: &str, pairs: &[(&str, &str)]) -> bool {
    rule(detection).is_match(&ev(pairs))
}

fn err(detection: &str) -> String {
    let text = format!("title: t\nlogsource:\n  product: windows\ndetection:\n{detection}\n");
    let set = Loader::new().unwrap().load_str(&text, "test");
    let e = set
        .errors
        .iter()
        .chain(&set.unsupported)
        .next()
        .expect("an error");
    e.error.to_string()
}

#[test]
fn plain_values() {
    assert!(hit(
        "  sel:\n    Image: 'C:\\Windows\\System32\\CMD.EXE'\n  condition: sel",
        &[("Image", "c:\\windows\\system32\\cmd.exe")]
    ));
    assert!(!hit(
        "  sel:\n    Image: 'cmd.exe'\n  condition: sel",
        &[("Image", "C:\\Windows\\System32\\cmd.exe")]
    ));
    assert!(hit(
        "  sel:\n    CommandLine|contains: '\\\\\\\\127.0.0.1\\\\'\n  condition: sel",
        &[("CommandLine", "net use \\\\127.0.0.1\\c$")]
    ));
    assert!(!hit(
        "  sel:\n    F: 'a\\\\b'\n  condition: sel",
        &[("F", "a\\\\b")]
    ));
    assert!(hit(
        "  sel:\n    ShareName: '\\\\\\\\\\*\\IPC$'\n  condition: sel",
        &[("ShareName", "\\\\*\\IPC$")]
    ));
    assert!(!hit(
        "  sel:\n    F|endswith: '\\.ps'\n  condition: sel",
        &[("F", "C:\\x\\a.ps")]
    ));
    assert!(hit(
        "  sel:\n    F|startswith: 'C:\\Windows\\'\n  condition: sel",
        &[("F", "C:\\Windows\\notepad.exe")]
    ));
    assert!(hit(
        "  sel:\n    EventID: 4688\n  condition: sel",
        &[("EventID", "4688")]
    ));
    assert!(hit(
        "  sel:\n    Signed: true\n  condition: sel",
        &[("Signed", "true")]
    ));
    assert!(hit(
        "  sel:\n    CommandLine|contains: '>?%APPDATA%\\'\n  condition: sel",
        &[("CommandLine", "cmd /c echo x > %APPDATA%\\a.txt")]
    ));
}

#[test]
fn lists_and_maps() {
    let all =
        "  sel:\n    CommandLine|contains|all:\n      - ' -hp'\n      - ' -r '\n  condition: sel";
    assert!(hit(all, &[("CommandLine", "rar a -r -hpX x.rar")]));
    assert!(!hit(all, &[("CommandLine", "rar a -hpX x.rar")]));
    assert!(!hit(
        "  sel:\n    Image|endswith: '\\a.exe'\n    CommandLine|contains: 'x'\n  condition: sel",
        &[("Image", "C:\\a.exe"), ("CommandLine", "y")]
    ));
    assert!(hit(
        "  sel:\n    - Image|endswith: '\\a.exe'\n    - OriginalFileName: 'a.exe'\n  condition: sel",
        &[("Image", "C:\\r.exe"), ("OriginalFileName", "A.EXE")]
    ));
    let mut e = Event::default();
    e.push(
        "Data",
        Value::List(vec![
            "Available".into(),
            "HostApplication=powershell".into(),
            "EngineVersion=2.0".into(),
        ]),
    );
    assert!(rule("  sel:\n    Data|contains|all:\n      - 'HostApplication='\n      - 'EngineVersion=2.'\n  condition: sel").is_match(&e));
}

#[test]
fn null_empty_missing() {
    assert!(hit(
        "  sel:\n    Image: null\n  condition: sel",
        &[("CommandLine", "x")]
    ));
    assert!(!hit(
        "  sel:\n    Image: null\n  condition: sel",
        &[("Image", "")]
    ));
    assert!(hit(
        "  sel:\n    Image: ''\n  condition: sel",
        &[("Image", "")]
    ));
    assert!(!hit("  sel:\n    Image: ''\n  condition: sel", &[]));
    assert!(hit(
        "  sel:\n    CommandLine|contains: 'x'\n  filter:\n    OriginalFileName: 'a.exe'\n  condition: sel and not filter",
        &[("CommandLine", "x")]
    ));
    assert!(!hit(
        "  sel:\n    PasswordLastSet|exists: false\n  condition: sel",
        &[("PasswordLastSet", "")]
    ));
    assert!(hit(
        "  sel:\n    PasswordLastSet|exists: true\n  condition: sel",
        &[("PasswordLastSet", "")]
    ));
    let mut e = Event::default();
    e.push("Image", Value::Null);
    assert!(rule("  sel:\n    Image: null\n  condition: sel").is_match(&e));
}

#[test]
fn regex_modifiers() {
    assert!(!hit(
        "  sel:\n    CommandLine|re: 'IEX'\n  condition: sel",
        &[("CommandLine", "iex (new-object)")]
    ));
    assert!(hit(
        "  sel:\n    CommandLine|re|i: 'IEX'\n  condition: sel",
        &[("CommandLine", "iex (new-object)")]
    ));
    assert!(hit(
        "  sel:\n    F|re: 'b+c'\n  condition: sel",
        &[("F", "abbbcd")]
    ));
    assert!(!hit(
        "  sel:\n    F|re: '^b+c'\n  condition: sel",
        &[("F", "abbbcd")]
    ));
    assert!(hit(
        "  sel:\n    F|re: '^ab?c$'\n  condition: sel",
        &[("F", "ac")]
    ));
    assert!(!hit(
        "  sel:\n    F: 'ab?c'\n  condition: sel",
        &[("F", "ac")]
    ));
    assert!(hit(
        "  sel:\n    F|re|contains: 'ab'\n  condition: sel",
        &[("F", "xaby")]
    ));
    assert!(err("  sel:\n    F|contains|re: 'ab'\n  condition: sel").contains("first"));
}

#[test]
fn encoding_modifiers() {
    assert!(hit(
        "  sel:\n    CommandLine|contains|windash: ' -encodedcommand '\n  condition: sel",
        &[("CommandLine", "powershell /encodedcommand AAAA")]
    ));
    assert!(hit(
        "  sel:\n    CommandLine|contains|windash: ' -enc '\n  condition: sel",
        &[("CommandLine", "powershell \u{2013}enc AAAA")]
    ));
    assert!(!hit(
        "  sel:\n    CommandLine|contains|windash: 'set-mppreference'\n  condition: sel",
        &[("CommandLine", "set/mppreference")]
    ));
    assert!(hit(
        "  sel:\n    CommandLine|base64offset|contains: 'IEX (['\n  condition: sel",
        &[(
            "CommandLine",
            "powershell -e eHhJRVggKFtUZXh0LkVuY29kaW5nXQ=="
        )]
    ));
    assert!(hit(
        "  sel:\n    CommandLine|base64|contains: 'spinstall0.aspx'\n  condition: sel",
        &[("CommandLine", "x c3BpbnN0YWxsMC5hc3B4")]
    ));
    assert!(hit(
        "  sel:\n    CommandLine|wide|base64offset|contains: 'ping'\n  condition: sel",
        &[("CommandLine", "-enc YQAgAHAAaQBuAGcAIABiAA==")]
    ));
    assert!(hit(
        "  sel:\n    CommandLine|utf16le|base64offset|contains: 'ping'\n  condition: sel",
        &[("CommandLine", "-enc YQAgAHAAaQBuAGcAIABiAA==")]
    ));
}

#[test]
fn other_modifiers() {
    assert!(hit(
        "  sel:\n    TargetFilename|fieldref: Image\n  condition: sel",
        &[("TargetFilename", "C:\\a.exe"), ("Image", "c:\\A.EXE")]
    ));
    let cidr = "  sel:\n    DestinationIp|cidr:\n      - '10.0.0.0/8'\n      - 'fe80::/10'\n  condition: sel";
    assert!(hit(cidr, &[("DestinationIp", "fe80::1")]));
    assert!(!hit(cidr, &[("DestinationIp", "11.0.0.1")]));
    assert!(
        err("  sel:\n    DestinationIp|cidr: '10.0.0.1/8'\n  condition: sel").contains("host bits")
    );
    assert!(hit(
        "  sel:\n    User|neq: 'SYSTEM'\n  condition: sel",
        &[("User", "bob")]
    ));
    assert!(hit("  sel:\n    User|neq: 'SYSTEM'\n  condition: sel", &[]));
    assert!(!hit(
        "  sel:\n    User|neq: 'SYSTEM'\n  condition: sel",
        &[("User", "system")]
    ));
    assert!(hit(
        "  sel:\n    KeyLength|gt: 100\n  condition: sel",
        &[("KeyLength", "128")]
    ));
    assert!(err("  sel:\n    KeyLength|gt: '100'\n  condition: sel").contains("number"));
    assert!(!hit(
        "  sel:\n    CommandLine|contains|cased: 'IEX'\n  condition: sel",
        &[("CommandLine", "iex x")]
    ));
    assert!(err("  sel:\n    Image|endswith: 12\n  condition: sel").contains("numeric"));
    assert!(err("  sel:\n    Image|bogus: x\n  condition: sel").contains("unknown modifier"));
    assert!(err("  sel:\n    Image|expand: '%nope%'\n  condition: sel").contains("placeholder"));
    assert!(hit(
        "  sel:\n    T|hour: 23\n  condition: sel",
        &[("T", "2019-03-19T23:34:25Z")]
    ));
}

#[test]
fn conditions_and_keywords() {
    assert!(hit(
        "  selection:\n    A: x\n  condition: selection and not 1 of filter_*",
        &[("A", "x")]
    ));
    assert!(hit(
        "  selection_a:\n    A: x\n  selection_b:\n    B: y\n  condition: 1 of selection_*",
        &[("B", "y")]
    ));
    assert!(!hit(
        "  selection_a:\n    A: x\n  selection_b:\n    B: y\n  condition: all of selection_*",
        &[("B", "y")]
    ));
    assert!(!hit(
        "  a:\n    A: x\n  _b:\n    B: y\n  condition: 1 of them",
        &[("B", "y")]
    ));
    assert!(hit(
        "  a:\n    A: x\n  b:\n    B: y\n  c:\n    C: z\n  condition: a or b and not c",
        &[("A", "x"), ("C", "z")]
    ));
    assert!(hit(
        "  keywords:\n    - 'sekurlsa::'\n    - 'lsadump::'\n  condition: keywords",
        &[("Payload", "mimikatz # SEKURLSA::logonpasswords")]
    ));
    assert!(hit(
        "  keywords:\n    '|all':\n      - 'OabVirtualDirectory'\n      - ' -ExternalUrl '\n  condition: keywords",
        &[(
            "Data",
            "Set-OabVirtualDirectory -ExternalUrl 'http://f/<script'"
        )]
    ));
    assert!(hit(
        "  a:\n    A: x\n  b:\n    B: y\n  condition:\n    - a\n    - b",
        &[("B", "y")]
    ));
    assert!(hit(
        "  selection:\n    A: x\n  notepad:\n    B: y\n  condition: selection and notepad",
        &[("A", "x"), ("B", "y")]
    ));
    assert!(err("  a:\n    A: x\n  b:\n    B: y\n  condition: a AND b").contains("lowercase"));
    assert!(err("  a:\n    A: x\n  condition: a | count() > 5").contains("aggregation"));
    assert!(err("  a:\n    A: x\n  condition: b").contains("unknown identifier"));
}

#[test]
fn match_detail_says_why() {
    let r = rule(
        "  sel:\n    Image|endswith: '\\cmd.exe'\n  filter:\n    User: bob\n  condition: sel and not filter",
    );
    let d = r
        .matches(&ev(&[("Image", "C:\\cmd.exe"), ("User", "alice")]))
        .unwrap();
    assert_eq!(d.identifiers, vec!["sel"]);
    assert_eq!(d.fields.len(), 1);
    assert_eq!(d.fields[0].event_field, "Image");
    assert_eq!(d.fields[0].rule_field, "Image|endswith");
    assert_eq!(d.fields[0].value, "C:\\cmd.exe");
}

#[test]
fn errors_carry_positions() {
    let set = Loader::new().unwrap().load_str("title: t\nlogsource:\n  product: windows\ndetection:\n  sel:\n    A|nope: x\n  condition: sel\n", "r.yml");
    let e = &set.errors[0].error;
    assert_eq!(
        e.to_string(),
        "r.yml:6:5: in `sel`: unknown modifier `nope`"
    );
    let set = Loader::new().unwrap().load_str("title: t\nlogsource:\n  product: windows\ndetection:\n  sel:\n    A: x\n    A: y\n  condition: sel\n", "d.yml");
    assert!(
        set.errors[0].error.to_string().starts_with("d.yml:7:"),
        "{}",
        set.errors[0].error
    );
    let set = Loader::new().unwrap().load_str(
        "title: t\nlogsource:\n  product: linux\ndetection:\n  sel:\n    A: x\n  condition: sel\n",
        "l.yml",
    );
    assert_eq!(set.skipped.len(), 1);
}

#[test]
fn event_fields_map_back_to_the_rules_sigma_names_per_source() {
    let text = "title: t\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  sel:\n    Image|endswith: '.exe'\n  condition: sel\n";
    let rule = Loader::new().unwrap().load_str(text, "t").rules.remove(0);
    let sysmon = ev(&[
        ("Channel", "Microsoft-Windows-Sysmon/Operational"),
        ("EventID", "1"),
        ("Image", "C:\\a.exe"),
        ("ProcessId", "12"),
    ]);
    let security = ev(&[
        ("Channel", "Security"),
        ("EventID", "4688"),
        ("NewProcessName", "C:\\a.exe"),
        ("NewProcessId", "0xc"),
        ("ProcessId", "0x4"),
    ]);
    assert_eq!(rule.sigma_field(&sysmon, "Image"), "Image");
    assert_eq!(rule.sigma_field(&security, "NewProcessName"), "Image");
    assert_eq!(rule.sigma_field(&security, "NewProcessId"), "ProcessId");
    assert_eq!(rule.sigma_field(&security, "ProcessId"), "ParentProcessId");
    assert_eq!(rule.sigma_field(&security, "CommandLine"), "CommandLine");
    for e in [&sysmon, &security] {
        assert_eq!(rule.field_values(e, "Image"), ["C:\\a.exe"]);
    }
    assert_eq!(rule.field_values(&security, "ParentProcessId"), ["0x4"]);
}

#[test]
fn one_broken_document_does_not_lose_the_others_of_its_file() {
    let doc = |t: &str| {
        format!(
            "title: {t}\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  sel:\n    Image: x\n  condition: sel\n"
        )
    };
    let text = format!(
        "{}---\n{}--- # third\ntitle: broken\ndetection: [unclosed\n",
        doc("one"),
        doc("two")
    );
    let set = Loader::new().unwrap().load_str(&text, "multi.yml");
    let titles: Vec<&str> = set.rules.iter().map(|r| r.meta.title.as_str()).collect();
    assert_eq!(titles, ["one", "two"]);
    assert_eq!(set.errors.len(), 1, "{:?}", set.errors);
    let span = set.errors[0].error.span.expect("a position");
    assert!(span.line >= 20, "points into the third document: {span:?}");
    // Each document keeps its own text (the editor opens it).
    assert!(set.rules[1].meta.text().starts_with("title: two"));
}

#[test]
fn collections_empty_files_and_non_sigma_yaml_are_reported_for_what_they_are() {
    let loader = Loader::new().unwrap();
    let coll = "action: global\ntitle: Coll\nlogsource:\n  product: windows\n---\ndetection:\n  sel:\n    A: b\n  condition: sel\n";
    let info = "id: 1\ndescription: test data\nregression_tests_info: []\n";
    let title = "title: [a, b]\nlogsource:\n  product: windows\ndetection:\n  sel:\n    A: b\n  condition: sel\n";
    let set = loader.load_texts([
        ("coll.yml", coll),
        ("info.yml", info),
        ("empty.yml", "# nothing\n"),
        ("title.yml", title),
    ]);
    let reasons = |list: &[super::Rejected]| -> Vec<String> {
        list.iter()
            .map(|r| format!("{}: {}", r.origin, r.error.message))
            .collect()
    };
    let unsupported = reasons(&set.unsupported);
    assert_eq!(unsupported.len(), 2, "{unsupported:?}");
    assert!(unsupported[1].contains("part of the rule collection begun at line 1"));
    assert_eq!(
        reasons(&set.errors),
        [
            "empty.yml: no YAML document in the file",
            "title.yml: `title` must be a string"
        ]
    );
    assert_eq!(set.skipped.len(), 1);
    assert!(set.skipped[0].reason.contains("not a Sigma document"));
}

#[test]
fn odd_status_and_dates_are_noted() {
    let text = "title: t\nstatus: experimenal\ndate: 2024-13-01\nmodified: 2024/02/03\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  sel:\n    Image: x\n  condition: sel\n";
    let set = Loader::new().unwrap().load_str(text, "r.yml");
    let notes = &set.rules[0].notes;
    assert!(
        notes
            .iter()
            .any(|n| n.contains("unknown status `experimenal`")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("`date: 2024-13-01` is not a date")),
        "{notes:?}"
    );
    assert!(
        !notes.iter().any(|n| n.contains("modified")),
        "YYYY/MM/DD is accepted: {notes:?}"
    );
}

#[test]
fn deep_conditions_are_errors_not_stack_overflows() {
    let deep = format!(
        "  sel:\n    A: x\n  condition: {}sel{}",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    assert!(
        err(&deep).contains("more than 2000 tokens"),
        "{}",
        err(&deep)
    );
    let nested = format!(
        "  sel:\n    A: x\n  condition: {}sel{}",
        "(".repeat(100),
        ")".repeat(100)
    );
    assert!(
        err(&nested).contains("nested more than 64"),
        "{}",
        err(&nested)
    );
    let chain = format!(
        "  sel:\n    A: x\n  condition: {}",
        vec!["sel"; 999].join(" and ")
    );
    assert!(hit(&chain, &[("A", "x")]), "a long flat chain still works");
}

/// What a rule's hits may be remembered under: its text, the filters applied to it and the
/// loader's data, never where it was loaded from.
#[test]
fn fingerprints_change_with_what_decides_the_matches() {
    let text = "title: t\nid: r-1\nlogsource:\n  product: windows\n  service: security\ndetection:\n  sel:\n    EventID: 4624\n  condition: sel\n";
    let filter = "title: f\nlogsource:\n  product: windows\n  service: security\nfilter:\n  rules: [r-1]\n  sel:\n    TargetUserName: x\n  condition: not sel\n";
    let fp = |loader: &Loader, texts: &[(&str, &str)]| {
        let set = loader.load_texts(texts.iter().copied());
        assert!(set.errors.is_empty(), "{:?}", set.errors);
        set.rules[0].fingerprint()
    };
    let loader = Loader::new().unwrap();
    let plain = fp(&loader, &[("a.yml", text)]);
    assert_eq!(plain, fp(&loader, &[("elsewhere/b.yml", text)]));
    assert_ne!(
        plain,
        fp(&loader, &[("a.yml", &text.replace("4624", "4625"))])
    );
    assert_ne!(plain, fp(&loader, &[("a.yml", text), ("f.yml", filter)]));
    let placeholders = Loader::new()
        .unwrap()
        .with_placeholders_yaml("admins: [root]\n")
        .unwrap();
    assert_ne!(plain, fp(&placeholders, &[("a.yml", text)]));
    let skip = Loader::new().unwrap().with_skip_impossible_4688(true);
    assert_ne!(plain, fp(&skip, &[("a.yml", text)]));
}
