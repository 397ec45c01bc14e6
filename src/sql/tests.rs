use super::*;
use crate::prefilter::Prefilter;

fn catalog() -> Catalog {
    Catalog::from_rows([
        ("s", "EventID", "0"),
        ("s", "Channel", "1"),
        ("d", "Image", "0"),
        ("d", "image", "0"),
        ("d", "CommandLine", "0"),
        ("d", "Data", "1"),
    ])
}

#[test]
fn literals_escape_what_spark_and_sail_unescape() {
    assert_eq!(quote(r"C:\it's"), r"'C:\\it\'s'");
    assert_eq!(quote("a\nb"), r"'a\nb'");
}

#[test]
fn a_field_is_read_under_its_exact_spelling_first_and_data_as_a_list() {
    let cat = catalog();
    assert_eq!(cat.value("CommandLine"), Val::One("`CommandLine`".into()));
    assert_eq!(cat.value("commandline"), Val::One("`CommandLine`".into()));
    assert_eq!(cat.value("Nope"), Val::Absent);
    let Val::One(image) = cat.value("Image") else {
        panic!("one value")
    };
    assert!(image.find("'Image'") < image.find("'image'"), "{image}");
    assert!(matches!(cat.value("Data"), Val::Many(_)));
    // A System field the record repeats (a UserData `Channel`) is a list too.
    assert!(matches!(cat.value("Channel"), Val::Many(_)));
    assert!(matches!(cat.value("EventID"), Val::One(_)));
    assert!(cat.all_values().contains("from_json"));
}

#[test]
fn prefilters_are_two_valued_and_read_every_spelling() {
    let cat = catalog();
    let p = Prefilter::Contains {
        field: "image".into(),
        needle: "CMD".into(),
    };
    let sql = prefilter(&p, &cat);
    assert!(sql.contains("event_data['Image']") && sql.contains("event_data['image']"));
    assert!(sql.contains("'cmd'") && sql.contains("coalesce("), "{sql}");
    let regex = Prefilter::Regex {
        field: "Image".into(),
        pattern: "(a+)+$".into(),
    };
    assert_eq!(prefilter(&regex, &cat), "true");
    let missing = Prefilter::Equals {
        field: "Nope".into(),
        value: "x".into(),
    };
    assert_eq!(prefilter(&missing, &cat), "false");
}

fn compiled(logsource: &str, detection: &str) -> crate::sigma::CompiledRule {
    let text = format!("title: t\nlogsource:\n{logsource}\ndetection:\n{detection}\n");
    let mut set = crate::sigma::Loader::new().unwrap().load_str(&text, "test");
    assert!(set.errors.is_empty() && set.unsupported.is_empty());
    set.rules.pop().unwrap()
}

#[test]
fn a_process_creation_rule_reads_image_through_the_4688_mapping_once() {
    let cat = Catalog::from_rows([
        ("d", "Image", "0"),
        ("d", "NewProcessName", "0"),
        ("d", "CommandLine", "0"),
    ]);
    let r = compiled(
        "  product: windows\n  category: process_creation",
        "  sel:\n    Image|endswith: ['\\cmd.exe', '\\pwsh.exe']\n    CommandLine|contains|all: ['/c', 'WHOAMI']\n  condition: sel",
    );
    let sql = rule::compile(&r, &cat);
    assert_eq!(sql.path, rule::Path::Exact);
    assert!(sql.sources.contains("event_id IN (1)") && sql.sources.contains("event_id IN (4688)"));
    // Fields are columns of an inner query: the mapping's CASE is written once, not per value.
    let image = sql
        .slots
        .iter()
        .find(|(_, e)| e.contains("NewProcessName"))
        .unwrap();
    assert_eq!(
        sql.condition.matches(&image.1).count(),
        0,
        "{}",
        sql.condition
    );
    assert!(sql.condition.contains("'\\\\cmd.exe'") && sql.condition.contains("'whoami'"));
}

#[test]
fn what_sql_cannot_say_exactly_is_narrowed_and_confirmed_with_the_reason() {
    let cat = Catalog::assuming_every_field();
    let hour = compiled(
        "  product: windows\n  category: process_creation",
        "  sel:\n    UtcTime|hour: 23\n  condition: sel",
    );
    let sql = rule::compile(&hour, &cat);
    assert!(matches!(&sql.path, rule::Path::Confirm(why) if why.contains("time-part")));
}

#[test]
fn cidr_is_exact_sql_for_both_families_and_an_ipv6_field_is_parsed_once() {
    let cat = Catalog::assuming_every_field();
    let ipv4 = compiled(
        "  product: windows\n  category: network_connection",
        "  sel:\n    DestinationIp|cidr: '10.0.0.0/8'\n  condition: sel",
    );
    let sql = rule::compile(&ipv4, &cat);
    assert_eq!(sql.path, rule::Path::Exact);
    assert!(
        sql.condition.contains("BETWEEN 167772160 AND 184549375"),
        "{}",
        sql.condition
    );
    let ipv6 = compiled(
        "  product: windows\n  category: network_connection",
        "  sel:\n    DestinationIp|cidr:\n      - 'fe80::/10'\n      - '::1/128'\n  condition: sel",
    );
    let sql = rule::compile(&ipv6, &cat);
    assert_eq!(sql.path, rule::Path::Exact);
    let lo = "'fe800000000000000000000000000000'";
    let hi = "'febfffffffffffffffffffffffffffff'";
    assert!(
        sql.condition.contains(&format!("BETWEEN {lo} AND {hi}")),
        "{}",
        sql.condition
    );
    assert!(sql.condition.contains(
        "BETWEEN '00000000000000000000000000000001' AND '00000000000000000000000000000001'"
    ));
    // Both networks read one column of digits, which no lambda computes.
    let digits: Vec<_> = sql
        .slots
        .iter()
        .filter(|(c, _)| c.starts_with("xv_"))
        .collect();
    assert_eq!(digits.len(), 1, "{:?}", sql.slots);
    assert!(!digits[0].1.contains("->"), "{}", digits[0].1);
}

#[test]
fn wildcards_become_like_with_escapes_and_numbers_compare_as_integers() {
    let cat = Catalog::assuming_every_field();
    let r = compiled(
        "  product: windows",
        "  sel:\n    CommandLine: 'a%b_c*d?e'\n    ProcessId: 4688\n  condition: sel",
    );
    let sql = rule::compile(&r, &cat);
    assert!(
        sql.condition.contains("LIKE 'a!%b!_c%d_e' ESCAPE '!'"),
        "{}",
        sql.condition
    );
    assert!(sql.condition.contains("= 4688, "), "{}", sql.condition);
}

#[test]
fn a_stack_reads_a_field_through_the_rules_slot_and_a_list_every_spelling() {
    let cat = Catalog::from_rows([
        ("d", "Image", "0"),
        ("d", "NewProcessName", "0"),
        ("d", "Hashes", "0"),
    ]);
    let r = compiled(
        "  product: windows\n  category: process_creation",
        "  sel:\n    Image|endswith: '\\cmd.exe'\n  condition: sel",
    );
    let plain = rule::compile(&r, &cat);
    let fields = ["Image".to_owned(), "Hashes".to_owned(), "Nope".to_owned()];
    let (sql, values) = rule::with_values(&r, &fields, &cat).unwrap();
    assert_eq!(sql.condition, plain.condition);
    // `Image` is the condition's own slot (the 4688 mapping computed once); `Hashes` a new one.
    let image = (plain.slots.iter())
        .find(|(c, e)| c.starts_with("v_") && e.contains("NewProcessName"))
        .unwrap();
    assert!(
        values[0].contains(&format!("array({})", image.0)),
        "{}",
        values[0]
    );
    assert_eq!(sql.slots.len(), plain.slots.len() + 2, "{:?}", sql.slots);
    assert_eq!(values[2], "CAST(NULL AS ARRAY<STRING>)");
    // A rule SQL only narrows is stacked from the fetched events.
    let hour = compiled(
        "  product: windows\n  category: process_creation",
        "  sel:\n    UtcTime|hour: 23\n  condition: sel",
    );
    assert!(rule::with_values(&hour, &fields, &cat).is_err());
    // Outside a rule, every spelling of the name counts.
    let any = catalog().values_any_case("IMAGE");
    assert!(any.contains("event_data['Image']") && any.contains("event_data['image']"));
    assert!(catalog().values_any_case("Data").contains("from_json"));
}

#[test]
fn converted_fields_are_exact_sql() {
    let cat = Catalog::assuming_every_field();
    let rule = compiled(
        "  product: windows\n  category: process_creation",
        "  sel:\n    User|contains: 'AUTHORI'\n    IntegrityLevel: System\n  condition: sel",
    );
    let sql = rule::compile(&rule, &cat);
    assert_eq!(sql.path, rule::Path::Exact);
    let slots: String = sql.slots.iter().map(|(_, e)| e.as_str()).collect();
    // 4688's `User` joins domain and name; its `MandatoryLabel` SID is offered as the level.
    assert!(
        slots.contains(r"concat(") && slots.contains("TargetUserName"),
        "{slots}"
    );
    assert!(
        slots.contains("WHEN 's-1-16-16384' THEN 'System'"),
        "{slots}"
    );
    // A single value and its other form are tested one by one: no lambda (slow on Sail).
    assert!(
        !sql.condition.contains("->") && !slots.contains("->"),
        "{slots}"
    );
}

#[test]
fn labels_of_the_arms_that_hold_are_one_text_behind_a_guard_filters_do_not_cross() {
    let arms = [("a = 1", "7"), ("b = 2", "9")];
    let (column, keep) = labels_holding(&arms, "r");
    assert_eq!(
        column,
        "IF(rand() >= 0, concat_ws(',', IF(a = 1, '7', NULL), IF(b = 2, '9', NULL)), NULL) AS r"
    );
    assert_eq!(keep, "r <> ''");
}
