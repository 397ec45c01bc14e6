//! The 56 verified cases of `docs/sigma_edge_cases.json` (pySigma 1.5 + reference evaluator).

#![allow(clippy::unwrap_used)]

mod common;

use huntbench::event::{Event, Value};
use huntbench::sigma::Loader;

fn event_from(json: &serde_json::Value) -> Event {
    let mut e = Event::default();
    for (k, v) in json.as_object().unwrap() {
        let value = match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::String(s) => Value::Str(s.clone()),
            serde_json::Value::Array(items) => Value::List(
                items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                    .collect(),
            ),
            other => Value::Str(other.to_string()),
        };
        e.fields.push((k.clone(), value));
    }
    e
}

#[test]
fn sigma_edge_cases_json() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let text = std::fs::read_to_string(shared.join("docs/sigma_edge_cases.json")).unwrap();
    let cases: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(cases.len(), 56);
    let loader = Loader::new().unwrap();
    let mut failures = Vec::new();
    for case in &cases {
        let id = case["id"].as_str().unwrap();
        let rule = format!(
            "title: {id}\nlogsource:\n  product: windows\ndetection:\n{}\n",
            case["detection_yaml"].as_str().unwrap()
        );
        let set = loader.load_str(&rule, id);
        let expect_error = !case["error"].as_str().unwrap_or("").is_empty();
        if expect_error {
            if !set.rules.is_empty() {
                failures.push(format!("{id}: expected a rule error"));
            }
            continue;
        }
        let Some(compiled) = set.rules.first() else {
            failures.push(format!(
                "{id}: did not load: {:?} {:?}",
                set.errors, set.unsupported
            ));
            continue;
        };
        let ev = event_from(&case["event"]);
        let expected = case["expected"].as_bool().unwrap();
        let got = compiled.matches(&ev).is_some();
        if got != expected {
            failures.push(format!("{id}: expected {expected}, got {got}"));
        }
        if got && !compiled.prefilter().accepts(&ev) {
            failures.push(format!(
                "{id}: prefilter rejects a matching event: {:?}",
                compiled.prefilter()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 56 failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!("56/56 edge cases pass");
}
