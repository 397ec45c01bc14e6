//! Fixture rules: Sysmon/4688 field resolution both ways, filters, correlations, invalid rules
//! with their error text, and `rules check` totals. Needs nothing outside the checkout.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use huntbench::event::{Event, Value};
use huntbench::sigma::correlation::BaseHit;
use huntbench::sigma::{CheckOutcome, CheckReport, Loader, RuleSet};

fn fixtures(sub: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rules")).join(sub)
}

fn ev(pairs: &[(&str, &str)]) -> Event {
    Event::from_pairs(pairs)
}

fn valid() -> RuleSet {
    Loader::new().unwrap().load_paths(&[fixtures("valid")])
}

fn sysmon1(extra: &[(&str, &str)]) -> Event {
    let mut e = ev(&[
        ("EventID", "1"),
        ("Version", "5"),
        ("Channel", "Microsoft-Windows-Sysmon/Operational"),
        ("Computer", "WS1"),
    ]);
    for (k, v) in extra {
        e.push(*k, Value::Str((*v).into()));
    }
    e
}

fn sec4688(extra: &[(&str, &str)]) -> Event {
    let mut e = ev(&[
        ("EventID", "4688"),
        ("Version", "2"),
        ("Channel", "Security"),
        ("Computer", "WS1"),
    ]);
    for (k, v) in extra {
        e.push(*k, Value::Str((*v).into()));
    }
    e
}

#[test]
fn rule_with_4688_names_matches_both_sources() {
    let set = valid();
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    let r = set.rule("5a2b8a8c-0000-4000-8000-000000000001").unwrap();
    let on_sec = sec4688(&[("NewProcessName", "C:\\Windows\\PSEXESVC.exe")]);
    let on_sysmon = sysmon1(&[("Image", "C:\\Windows\\PSEXESVC.exe")]);
    assert!(r.matches(&on_sec).is_some());
    let d = r.matches(&on_sysmon).unwrap();
    assert_eq!(
        d.mapped,
        vec![("NewProcessName".to_owned(), "Image".to_owned())]
    );
    // Version 2 is native on both: Sysmon EID 1 is version 5, so the parent selection cannot match there.
    assert!(
        r.matches(&sysmon1(&[("ParentImage", "C:\\Windows\\PSEXESVC.exe")]))
            .is_none()
    );
    assert!(
        r.matches(&sec4688(&[(
            "ParentProcessName",
            "C:\\Windows\\PSEXESVC.exe"
        )]))
        .is_some()
    );
    for e in [&on_sec, &on_sysmon] {
        assert!(r.prefilter().accepts(e));
    }
    assert!(
        !r.prefilter()
            .accepts(&ev(&[("EventID", "4624"), ("Channel", "Security")]))
    );
}

#[test]
fn rule_with_sysmon_names_matches_4688_with_hex_pids_and_notes() {
    let set = valid();
    let r = set.rule("5a2b8a8c-0000-4000-8000-000000000002").unwrap();
    // 4688: ParentImage → ParentProcessName, ParentProcessId → 4688's ProcessId (hex).
    let e = sec4688(&[
        (
            "ParentProcessName",
            "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe",
        ),
        ("ProcessId", "0x378"),
        ("NewProcessId", "0x1"),
    ]);
    assert!(r.matches(&e).is_some());
    assert!(r.prefilter().accepts(&e));
    let wrong_pid = sec4688(&[
        ("ParentProcessName", "C:\\x\\WmiPrvSE.exe"),
        ("ProcessId", "0x379"),
    ]);
    assert!(r.matches(&wrong_pid).is_none());
    let s = sysmon1(&[
        ("ParentImage", "C:\\x\\WmiPrvSE.exe"),
        ("ParentProcessId", "888"),
    ]);
    assert!(r.matches(&s).is_some());
    assert!(
        r.notes.iter().any(|n| n.contains("OriginalFileName")),
        "{:?}",
        r.notes
    );
}

#[test]
fn filter_documents_are_anded_into_targeted_rules() {
    let set = valid();
    assert_eq!(set.filters.len(), 1);
    let r = set.rule("5a2b8a8c-0000-4000-8000-000000000002").unwrap();
    assert!(
        r.notes.iter().any(|n| n.contains("filter")),
        "{:?}",
        r.notes
    );
    let mut e = sysmon1(&[
        ("ParentImage", "C:\\x\\WmiPrvSE.exe"),
        ("ParentProcessId", "888"),
    ]);
    assert!(r.is_match(&e));
    e.fields.retain(|(k, _)| k != "Computer");
    e.push("Computer", Value::Str("admin-ws".into()));
    assert!(!r.is_match(&e), "the filter excludes ADMIN-WS");
    // Not targeted: the 4688-named rule ignores the filter.
    let other = set.rule("5a2b8a8c-0000-4000-8000-000000000001").unwrap();
    assert!(!other.notes.iter().any(|n| n.contains("filter")));
}

#[test]
fn event_count_correlation() {
    let set = valid();
    let c = &set.correlations[0];
    let base = set.rule("failed_logon").unwrap();
    let mut hits = Vec::new();
    for (i, (t, ip)) in [
        ("10:00:00", "1.1.1.1"),
        ("10:01:00", "1.1.1.1"),
        ("10:02:00", "2.2.2.2"),
        ("10:03:00", "1.1.1.1"),
        ("10:20:00", "2.2.2.2"),
    ]
    .iter()
    .enumerate()
    {
        let e = ev(&[
            ("EventID", "4625"),
            ("Channel", "Security"),
            ("TimeCreated_SystemTime", &format!("2024-01-01T{t}Z")),
            ("IpAddress", ip),
        ]);
        assert!(base.is_match(&e));
        hits.push(
            c.base_hit(base.id(), base.meta.name.as_deref(), &e, i)
                .unwrap(),
        );
    }
    let out = c.evaluate(hits);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].keys, vec![0, 1, 3]);
    assert_eq!(
        out[0].group,
        vec![("IpAddress".to_owned(), "1.1.1.1".to_owned())]
    );
}

fn hit(rule: &str, t: &str, fields: &[(&str, &str)], key: u32) -> BaseHit<u32> {
    BaseHit {
        rule_id: None,
        rule_name: Some(rule.into()),
        timestamp: format!("2024-01-01T{t}Z").parse().unwrap(),
        fields: fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        key,
    }
}

fn correlation(body: &str) -> huntbench::sigma::Correlation {
    let set = Loader::new()
        .unwrap()
        .load_str(&format!("title: c\nid: c1\ncorrelation:\n{body}"), "c.yml");
    assert!(
        set.errors.is_empty() && set.unsupported.is_empty(),
        "{:?} {:?}",
        set.errors,
        set.unsupported
    );
    set.correlations.into_iter().next().unwrap()
}

#[test]
fn value_count_temporal_and_ordered() {
    let vc = correlation(
        "  type: value_count\n  rules: [a]\n  group-by: [Host]\n  timespan: 1h\n  condition:\n    field: User\n    gte: 3\n",
    );
    let hs = vec![
        hit("a", "10:00:00", &[("Host", "h"), ("User", "u1")], 1),
        hit("a", "10:01:00", &[("Host", "h"), ("User", "U1")], 2),
        hit("a", "10:02:00", &[("Host", "h"), ("User", "u2")], 3),
        hit("a", "10:03:00", &[("Host", "h"), ("User", "u3")], 4),
    ];
    let out = vc.evaluate(hs);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].value, 3.0);

    let tmp =
        correlation("  type: temporal\n  rules: [a, b]\n  group-by: [Host]\n  timespan: 5m\n");
    let out = tmp.evaluate(vec![
        hit("b", "10:00:00", &[("Host", "h")], 1),
        hit("a", "10:02:00", &[("Host", "h")], 2),
        hit("a", "10:30:00", &[("Host", "h")], 3),
    ]);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].keys, vec![1, 2]);

    let ord = correlation(
        "  type: temporal_ordered\n  rules: [a, b]\n  group-by: [Host]\n  timespan: 5m\n",
    );
    let out = ord.evaluate(vec![
        hit("b", "10:00:00", &[("Host", "h")], 1),
        hit("a", "10:02:00", &[("Host", "h")], 2),
    ]);
    assert!(out.is_empty(), "b before a is not in order");
    let out = ord.evaluate(vec![
        hit("a", "10:00:00", &[("Host", "h")], 1),
        hit("b", "10:02:00", &[("Host", "h")], 2),
    ]);
    assert_eq!(out.len(), 1);

    // Aliases: group by one logical field named differently per rule.
    let al = correlation(
        "  type: temporal\n  rules: [a, b]\n  group-by: [ip]\n  timespan: 5m\n  aliases:\n    ip:\n      a: SourceIp\n      b: IpAddress\n",
    );
    let out = al.evaluate(vec![
        hit("a", "10:00:00", &[("SourceIp", "1.1.1.1")], 1),
        hit("b", "10:01:00", &[("IpAddress", "1.1.1.1")], 2),
    ]);
    assert_eq!(out.len(), 1);

    // lt needs the window to close: few events in a window.
    let lt = correlation(
        "  type: event_count\n  rules: [a]\n  group-by: [Host]\n  timespan: 5m\n  condition:\n    lt: 2\n",
    );
    let out = lt.evaluate(vec![
        hit("a", "10:00:00", &[("Host", "h")], 1),
        hit("a", "10:01:00", &[("Host", "h")], 2),
        hit("a", "10:30:00", &[("Host", "h")], 3),
    ]);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].keys, vec![3]);
}

#[test]
fn invalid_rules_report_file_line_column() {
    let set = Loader::new().unwrap().load_paths(&[fixtures("invalid")]);
    let msgs: Vec<String> = set
        .errors
        .iter()
        .chain(&set.unsupported)
        .map(|r| r.error.to_string())
        .collect();
    let find = |file: &str| {
        msgs.iter()
            .find(|m| m.contains(file))
            .cloned()
            .unwrap_or_else(|| panic!("{file} not reported: {msgs:?}"))
    };
    assert!(find("broken_yaml.yml:").contains(".yml:"));
    assert!(
        find("duplicate_key.yml:7:").contains("duplicate"),
        "{msgs:?}"
    );
    assert!(find("unknown_identifier.yml:").contains("unknown identifier `filter`"));
    let agg = find("aggregation.yml:");
    assert!(agg.contains("aggregation"));
    assert_eq!(
        set.unsupported.len(),
        1,
        "aggregation is unsupported, not an error"
    );
    assert!(set.rules.is_empty());
    let report = CheckReport::from_rules(&set);
    assert_eq!(report.totals.error, 3);
    assert_eq!(report.totals.unsupported, 1);
    assert!(report.entries.iter().all(|e| e.reason.is_some()));
}

#[test]
fn check_report_of_valid_rules() {
    let report = CheckReport::from_rules(&valid());
    assert_eq!(report.totals.loaded, 3);
    assert_eq!(report.totals.correlations, 1);
    assert_eq!(report.totals.filters, 1);
    assert!(
        report
            .entries
            .iter()
            .any(|e| e.outcome == CheckOutcome::Loaded && !e.notes.is_empty())
    );
    let json = serde_json::to_string(&report).unwrap();
    assert!(json.contains("\"loaded\""));
}

#[test]
fn editor_reload_keeps_span_and_text() {
    let text = std::fs::read_to_string(fixtures("valid/correlation_bruteforce.yml")).unwrap();
    let set = Loader::new().unwrap().load_str(&text, "buffer");
    let r = set.rule("failed_logon").unwrap();
    assert!(r.meta.text().starts_with("title: Failed logon"));
    assert_eq!(r.meta.span.line, 1);
    assert_eq!(set.correlations[0].meta.span.line, 14);
}
