use super::*;
use crate::prefilter::Prefilter;

fn catalog() -> Catalog {
    Catalog::from_rows([
        ("s", "EventID"),
        ("s", "Channel"),
        ("d", "Image"),
        ("d", "image"),
        ("d", "CommandLine"),
        ("d", "Data"),
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
