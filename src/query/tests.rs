#![allow(clippy::unwrap_used)]

use super::*;
use crate::sigma::Loader;

fn ev(pairs: &[(&str, &str)]) -> Event {
    Event::from_pairs(pairs)
}

fn m(query: &str, pairs: &[(&str, &str)]) -> bool {
    let q = parse(query).unwrap_or_else(|e| panic!("{query}: {e}"));
    let e = ev(pairs);
    let hit = q.matches(&e);
    if hit {
        assert!(
            q.prefilter().accepts(&e),
            "prefilter unsound for {query}: {:?}",
            q.prefilter()
        );
    }
    // Saved as a Sigma rule, the query must mean the same.
    let yaml = q.to_sigma_yaml("saved search", crate::sigma::Level::Medium);
    let set = Loader::new().unwrap().load_str(&yaml, "saved");
    assert!(
        set.errors.is_empty() && set.unsupported.is_empty(),
        "{yaml}\n{:?} {:?}",
        set.errors,
        set.unsupported
    );
    assert_eq!(
        set.rules[0].is_match(&e),
        hit,
        "sigma form differs for {query}:\n{yaml}"
    );
    hit
}

#[test]
fn equals_is_whole_value_case_insensitive() {
    let img = [("Image", "C:\\Windows\\System32\\cmd.exe")];
    assert!(m("Image=c:\\windows\\system32\\CMD.EXE", &img));
    assert!(!m("Image=cmd.exe", &img));
    assert!(
        m("image=*\\cmd.exe", &img),
        "field names are case-insensitive"
    );
    // `\*` is an escaped star in Sigma syntax; `\\*` is a backslash then a wildcard.
    assert!(m("Image=C:\\\\*\\cmd.???", &img));
    assert!(!m("Image=C:\\\\*\\cmd.??", &img));
    assert!(!m("Image=C:\\*\\cmd.exe", &img));
}

#[test]
fn escapes() {
    assert!(m("F=a\\*b", &[("F", "a*b")]));
    assert!(!m("F=a\\*b", &[("F", "axb")]));
    assert!(m("F=a\\?", &[("F", "a?")]));
    assert!(m("F=\"say \\\"hi\\\"\"", &[("F", "say \"hi\"")]));
    assert!(m("F=\"C:\\\\*\"", &[("F", "C:\\x")]));
    // A quoted value may end in a backslash: escaped, or bare when no quote follows.
    let dir = [("CurrentDirectory", "C:\\")];
    assert!(m("CurrentDirectory=\"C:\\\\\"", &dir));
    assert!(m("CurrentDirectory=\"C:\\\"", &dir));
    assert!(m(
        "CurrentDirectory=\"C:\\\" AND x",
        &[("CurrentDirectory", "C:\\"), ("a", "x")]
    ));
    assert!(!m(
        "CurrentDirectory=\"C:\\\\\"",
        &[("CurrentDirectory", "C:\\x")]
    ));
}

#[test]
fn values_keep_balanced_parentheses() {
    let x86 = [("CommandLine", "\"C:\\Program Files (x86)\\a.exe\"")];
    assert!(m("CommandLine=*(x86)*", &x86));
    assert!(!m("CommandLine=*(x86)*", &[("CommandLine", "x86")]));
    assert!(m("(CommandLine=*(x86)* OR F=1)", &x86));
    assert!(m("NOT (F=1) AND (CommandLine=*(x86)*)", &x86));
    assert!(m("F=a(b", &[("F", "a(b")]));
}

#[test]
fn not_equal_and_in() {
    assert!(m("User!=SYSTEM", &[("User", "bob")]));
    assert!(!m("User!=system", &[("User", "SYSTEM")]));
    assert!(m("User!=SYSTEM", &[]), "absent field is not equal");
    assert!(m(
        "User IN (alice, \"Bob Smith\")",
        &[("User", "bob smith")]
    ));
    assert!(!m("User in (alice, bob)", &[("User", "carol")]));
}

#[test]
fn numeric_comparisons() {
    let e = [("KeyLength", "128")];
    assert!(m("KeyLength>100", &e));
    assert!(!m("KeyLength<100", &e));
    assert!(m("KeyLength>=128", &e));
    assert!(m("KeyLength<=128", &e));
    assert!(!m("KeyLength>128", &e));
    assert!(!m("KeyLength>1", &[("KeyLength", "abc")]));
    assert!(
        m("Pid>1000", &[("Pid", "0x1000")]),
        "hex values compare numerically"
    );
    assert!(m("LogonType>0x9", &[("LogonType", "10")]), "hex bounds too");
    // Equality on the fields rules compare as integers works as in rules.
    assert!(m("ParentProcessId=4660", &[("ParentProcessId", "0x1234")]));
    assert!(m("LogonId=0x3E7", &[("LogonId", "999")]));
    assert!(!m("ParentProcessId=4661", &[("ParentProcessId", "0x1234")]));
    assert!(
        !m("CommandLine=4660", &[("CommandLine", "0x1234")]),
        "other fields: text"
    );
}

#[test]
fn boolean_operators_and_precedence() {
    let e = [("A", "x"), ("C", "z")];
    assert!(m("A=x OR B=y AND NOT C=z", &e));
    assert!(!m("(A=x OR B=y) AND NOT C=z", &e));
    assert!(m("a=x and c=z", &e));
    assert!(m("A=x C=z", &e), "juxtaposition is AND");
    assert!(m("not B=y", &e));
    assert!(m("NoT (A=q or B=y)", &e));
}

#[test]
fn keywords_spaces_newlines_non_ascii() {
    let e = [
        ("Payload", "mimikatz # SEKURLSA::logonpasswords"),
        ("Multi", "line one\nline two"),
        ("Greek", "ΟΔΟΣ Δοκιμή"),
    ];
    assert!(m("sekurlsa::logon", &e));
    assert!(m("\"mimikatz # sekurlsa\"", &e));
    assert!(!m("\"mimikatz  #\"", &e));
    assert!(m("\"one\nline\"", &e));
    assert!(m("Multi=\"line one\nline two\"", &e));
    assert!(m("Multi=line*two", &e), "* spans newlines");
    assert!(m("Greek=\"οδος ΔΟΚΙΜΉ\"", &e));
    assert!(m("δοκιμ", &e));
    assert!(!m("absent-word", &e));
}

#[test]
fn errors_have_columns() {
    assert_eq!(parse("A=x AND").unwrap_err().column, 8);
    assert_eq!(parse("A=\"open").unwrap_err().column, 3);
    assert_eq!(parse("(A=x").unwrap_err().column, 5);
    let e = parse("K>abc").unwrap_err();
    assert_eq!((e.column, e.message.contains("number")), (3, true));
    assert_eq!(parse("A!x").unwrap_err().column, 2);
    assert_eq!(parse("=x").unwrap_err().column, 1);
    assert!(parse("").is_err());
    assert!(parse("A IN (x,").is_err());
}

#[test]
fn prefilter_narrows() {
    let pf = parse("Image=*\\cmd.exe AND NOT User=bob")
        .unwrap()
        .prefilter();
    // `Image` is also a 4688's `NewProcessName` (the logsource mapping).
    let suffix = |field: &str| Prefilter::Suffix {
        field: field.into(),
        suffix: "\\cmd.exe".into(),
    };
    assert_eq!(
        pf,
        Prefilter::Or(vec![suffix("Image"), suffix("NewProcessName")])
    );
    assert_eq!(
        parse("mimikatz").unwrap().prefilter(),
        Prefilter::AnyContains {
            needle: "mimikatz".into()
        }
    );
    assert_eq!(parse("A=x OR NOT B=y").unwrap().prefilter(), Prefilter::All);
}

/// A saved search has a UUID-shaped id derived from the search: the same search saved again
/// gets the same id (so it replaces the rule), another search another id.
#[test]
fn saved_search_has_a_stable_id() {
    let id_of = |text: &str| {
        let q = parse(text).unwrap();
        let set = Loader::new()
            .unwrap()
            .load_str(&q.to_sigma_yaml("t", crate::sigma::Level::Medium), "saved");
        let id = set.rules[0]
            .meta
            .id
            .clone()
            .expect("the saved rule has an id");
        assert_eq!(id, q.rule_id());
        assert!(set.rules[0].meta.saved_search, "marked as a saved search");
        id
    };
    let id = id_of("Image=*\\cmd.exe AND User!=SYSTEM");
    let shape: Vec<usize> = id.split('-').map(str::len).collect();
    assert_eq!(shape, [8, 4, 4, 4, 12], "{id}");
    assert!(
        id.chars().all(|c| c == '-' || c.is_ascii_hexdigit()),
        "{id}"
    );
    assert_eq!(id_of("Image=*\\cmd.exe   and  User!=SYSTEM"), id);
    assert_ne!(id_of("Image=*\\cmd.exe"), id);
}

#[test]
fn bare_words_after_a_comparison_get_a_hint() {
    let hint = |q: &str| parse(q).unwrap().hints();
    let h = hint(r"Image=C:\Program Files\x.exe");
    assert_eq!(h.len(), 1, "{h:?}");
    assert!(h[0].contains("quote"), "{h:?}");
    assert!(hint(r#"Image="C:\Program Files\x.exe""#).is_empty());
    assert!(hint("mimikatz").is_empty(), "keywords alone are meant");
}

#[test]
fn escaped_wildcards_get_a_hint() {
    let hint = |q: &str| parse(q).unwrap().hints();
    assert_eq!(hint(r"Image=C:\Windows\*").len(), 1);
    assert_eq!(hint(r"NOT (F=a OR G IN (x, b\?))").len(), 1);
    assert!(
        hint(r"Image=C:\Windows\\*").is_empty(),
        "an escaped backslash, then a wildcard"
    );
    assert!(hint(r"Image=*\cmd.exe").is_empty());
    assert!(hint("mimikatz").is_empty());
}

#[test]
fn time_bounds_narrow_the_whole_query() {
    fn at(t: &str) -> [(&str, &str); 2] {
        [("TimeCreated_SystemTime", t), ("Image", "C:\\x\\cmd.exe")]
    }
    let q = parse(r"time>=2024-03-12T07:40 time<2024-03-12T08:00:00Z Image=*\cmd.exe").unwrap();
    for (t, want) in [
        ("2024-03-12T07:39:59.9999999Z", false),
        ("2024-03-12T07:40:00Z", true),
        ("2024-03-12T07:59:59.999999Z", true),
        ("2024-03-12T08:00:00Z", false),
    ] {
        let e = ev(&at(t));
        assert_eq!(q.matches(&e), want, "{t}");
        if want {
            assert!(q.prefilter().accepts(&e), "prefilter unsound at {t}");
        }
    }
    assert!(q.window().is_some());
    // Bounds finer than a microsecond hold exactly (event times have 100 ns steps).
    let fine = parse("time<2024-03-12T07:45:00.0000001Z").unwrap();
    let e = ev(&at("2024-03-12T07:45:00.0000000Z"));
    assert!(fine.matches(&e) && fine.prefilter().accepts(&e));
    assert!(!parse("time<2024-03-12T07:45:00Z").unwrap().matches(&e));
    let after = parse("time>2024-03-12T07:45:00.0000001Z").unwrap();
    let e = ev(&at("2024-03-12T07:45:00.0000002Z"));
    assert!(after.matches(&e) && after.prefilter().accepts(&e));
    assert!(!after.matches(&ev(&at("2024-03-12T07:45:00.0000001Z"))));
    // A date alone is its midnight UTC; a bound alone selects by time only.
    let day = parse("time>2024-03-12 AND time<=2024-03-13").unwrap();
    assert!(day.matches(&ev(&at("2024-03-12T12:00:00Z"))));
    assert!(
        !day.matches(&ev(&at("2024-03-12T00:00:00Z"))),
        "> is strict"
    );
    assert!(
        !day.matches(&ev(&[("Image", "x")])),
        "no time, not in the window"
    );
    // Only as top-level AND terms, and only with a readable time.
    let nested = parse("Image=x OR time>2024-03-12").unwrap_err();
    assert!(
        nested.message.contains("top level") && nested.column == 12,
        "{nested}"
    );
    assert!(parse("NOT time<2024-03-12").is_err());
    let bad = parse("time>yesterday").unwrap_err();
    assert!(
        bad.message.contains("not a time") && bad.column == 6,
        "{bad}"
    );
    // Without bounds nothing changes, and `time` is an ordinary field for `=`.
    assert!(parse("Image=x").unwrap().window().is_none());
    assert!(m("time=noon", &[("time", "noon")]));
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!("{}a{}", "(".repeat(10_000), ")".repeat(10_000));
    let err = parse(&deep).unwrap_err();
    assert!(err.to_string().contains("nested more than 64"), "{err}");
    let nots = format!("{}a", "NOT ".repeat(10_000));
    assert!(parse(&nots).is_err());
    let ok = format!("{}a{}", "(".repeat(64), ")".repeat(64));
    assert!(parse(&ok).is_ok());
}

#[test]
fn a_saved_search_takes_its_logsource_from_its_channel_and_event_ids() {
    let of = |query: &str| parse(query).unwrap().logsource();
    let cat = |name: &str| Some(("category", name.to_owned()));
    let svc = |name: &str| Some(("service", name.to_owned()));
    assert_eq!(
        of(r"EventID=4688 AND NewProcessName=*\cmd.exe"),
        cat("process_creation")
    );
    assert_eq!(
        of(r"Channel=Microsoft-Windows-Sysmon/Operational AND EventID=1 AND Image=*\cmd.exe"),
        cat("process_creation")
    );
    assert_eq!(of("Channel=Security AND EventID=4624"), svc("security"));
    // 4688's own ProcessId (the parent's) would be read otherwise under the category.
    assert_eq!(
        of("Channel=Security AND EventID=4688 AND ProcessId=0xac8"),
        svc("security")
    );
    assert_eq!(of(r"Image=*\cmd.exe"), None);
    assert_eq!(
        of("Channel=Security OR EventID=4688"),
        None,
        "not top-level"
    );
    let yaml = parse("Channel=System AND EventID=7045")
        .unwrap()
        .to_sigma_yaml("t", crate::sigma::Level::High);
    assert!(
        yaml.contains("logsource:\n  product: windows\n  service: system\n"),
        "{yaml}"
    );
}

/// A saved search is marked in its metadata, whatever its file is called; files saved before
/// the mark are recognised by their `search-` name.
#[test]
fn a_saved_search_is_marked_in_its_metadata() {
    let q = parse("Image=*\\cmd.exe").unwrap();
    let yaml = q.to_sigma_yaml("t", crate::sigma::Level::Medium);
    let loader = Loader::new().unwrap();
    let saved = |text: &str, origin: &str| loader.load_str(text, origin).rules[0].meta.saved_search;
    assert!(saved(&yaml, "/rules/renamed.yml"));
    let unmarked = yaml.replace("huntbench: saved-search\n", "");
    assert_ne!(unmarked, yaml);
    assert!(
        saved(&unmarked, "/rules/search-0f3a.yml"),
        "older saved searches"
    );
    assert!(!saved(&unmarked, "/rules/research-notes.yml"));
    assert!(!saved(&unmarked, "/rules/my-search-rule.yml"));
}

/// Matches without the saved-rule check: a rule of no logsource reads no aliases.
fn m_search(query: &str, pairs: &[(&str, &str)]) -> bool {
    let q = parse(query).unwrap_or_else(|e| panic!("{query}: {e}"));
    let e = ev(pairs);
    let hit = q.matches(&e);
    if hit {
        assert!(
            q.prefilter().accepts(&e),
            "prefilter unsound for {query}: {:?}",
            q.prefilter()
        );
    }
    hit
}

const SEC_4688: [(&str, &str); 8] = [
    ("Channel", "Security"),
    ("EventID", "4688"),
    ("NewProcessName", "C:\\Windows\\System32\\cmd.exe"),
    (
        "ParentProcessName",
        "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe",
    ),
    ("NewProcessId", "0x1a2c"),
    ("ProcessId", "0x0b10"),
    ("TargetUserName", "admmig"),
    ("TargetDomainName", "CORP"),
];

#[test]
fn sigma_field_names_read_the_mapped_fields_as_rules_do() {
    assert!(m_search("Image=*\\cmd.exe", &SEC_4688));
    assert!(m_search("ParentImage=*\\WmiPrvSE.exe", &SEC_4688));
    assert!(!m_search("Image=*\\powershell.exe", &SEC_4688));
    // A 4688's own ProcessId (its creator's) comes first; ParentProcessId, which it lacks,
    // reads it, as integers.
    assert!(m_search("ProcessId=2832", &SEC_4688));
    assert!(m_search("ParentProcessId=2832", &SEC_4688));
    assert!(!m_search("ProcessId=6700", &SEC_4688));
    // A converted value (DOMAIN\user joined) keeps the prefilter sound.
    assert!(m_search("User=CORP\\admmig", &SEC_4688));
    // With its logsource in the query, the saved rule means the same.
    assert!(m("EventID=4688 Image=*\\cmd.exe", &SEC_4688));
    // The other way: Sysmon's Image under 4688's name.
    let sysmon = [
        ("Channel", "Microsoft-Windows-Sysmon/Operational"),
        ("EventID", "1"),
        ("Image", "C:\\Windows\\System32\\cmd.exe"),
    ];
    assert!(m_search("NewProcessName=*\\cmd.exe", &sysmon));
    // Not on events of other sources.
    let other = [
        ("Channel", "Security"),
        ("EventID", "4624"),
        ("NewProcessName", "x"),
    ];
    assert!(!m_search("Image=x", &other));
}

#[test]
fn regular_expressions_match_case_insensitively_anywhere_in_the_value() {
    let cmd = [(
        "CommandLine",
        "cmd.exe /Q /c cd \\ 1> \\\\127.0.0.1\\ADMIN$\\__1700000000.123",
    )];
    assert!(m(r"CommandLine|re=__\d{10}\.\d+$", &cmd));
    assert!(m(r#"CommandLine|re="/q /c .*admin\$""#, &cmd));
    assert!(!m(r"CommandLine|re=^powershell", &cmd));
    assert!(m(r"CommandLine|re!=^powershell", &cmd));
    assert!(m(r"CommandLine|re=(127|::1)\.0", &cmd));
    assert!(m(r"CommandLine|re IN (^powershell, 127\.0\.0\.1)", &cmd));
    assert!(m(r"NOT Missing|re=x", &cmd));
    // Read through the mapping too.
    assert!(m_search(r"Image|re=\\cmd\.exe$", &SEC_4688));
}

#[test]
fn a_bad_regex_or_modifier_is_an_error_at_its_column() {
    let bad = parse("A=x CommandLine|re=[abc").unwrap_err();
    assert_eq!(bad.column, 20, "{bad}");
    assert!(
        bad.message.starts_with("invalid regular expression:") && !bad.message.contains('\n'),
        "{bad}"
    );
    let unknown = parse("CommandLine|contains=x").unwrap_err();
    assert!(
        unknown.message.contains("|re") && unknown.column == 12,
        "{unknown}"
    );
    assert!(parse("CommandLine|re>3").is_err());
    assert!(parse("|re=x").is_err());
}

#[test]
fn a_query_reads_fields_through_the_mapping_it_is_given() {
    let own = crate::sigma::mapping::WINDOWS_MAPPING.replace(
        "          Image: NewProcessName\n",
        "          Image: ProcessPath\n",
    );
    let own = crate::sigma::mapping::Mapping::from_yaml(&own).unwrap();
    let e = ev(&[
        ("EventID", "4688"),
        ("Channel", "Security"),
        ("ProcessPath", "C:\\Windows\\System32\\cmd.exe"),
    ]);
    let text = "Image=*\\cmd.exe";
    assert!(!parse(text).unwrap().matches(&e));
    let q = parse_with(text, Some(&own)).unwrap();
    assert!(q.matches(&e) && q.prefilter().accepts(&e));
    // Without a mapping a field is read under its own name only.
    assert!(!parse_with(text, None).unwrap().matches(&e));
    assert_eq!(
        parse_with("EventID=4688", Some(&own)).unwrap().logsource(),
        parse("EventID=4688").unwrap().logsource()
    );
}
