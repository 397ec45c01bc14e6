#![allow(clippy::unwrap_used)]

use super::window::{parse_number, percentile};
use super::*;
use crate::sigma::{Loader, RuleSet};

fn load(text: &str) -> RuleSet {
    Loader::new().unwrap().load_str(text, "c.yml")
}

/// One correlation document (`body` is the indented `correlation:` map).
fn corr(body: &str) -> Correlation {
    let set = load(&format!("title: c\nid: c1\ncorrelation:\n{body}"));
    assert!(
        set.errors.is_empty() && set.unsupported.is_empty(),
        "{:?} {:?}",
        set.errors,
        set.unsupported
    );
    set.correlations.into_iter().next().unwrap()
}

fn rejection(body: &str) -> SigmaError {
    let set = load(&format!("title: c\nid: c1\ncorrelation:\n{body}"));
    assert!(set.correlations.is_empty());
    set.errors
        .into_iter()
        .chain(set.unsupported)
        .next()
        .unwrap()
        .error
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

fn bytes(t: &str, host: &str, n: &str, key: u32) -> BaseHit<u32> {
    hit("a", t, &[("Host", host), ("Bytes", n)], key)
}

const METRIC: &str =
    "  rules: [a]\n  group-by: [Host]\n  timespan: 10m\n  condition:\n    field: Bytes\n";

#[test]
fn numbers_and_percentiles() {
    assert_eq!(parse_number(" 12 "), Some(12.0));
    assert_eq!(parse_number("-3.5"), Some(-3.5));
    assert_eq!(parse_number("0x1A"), Some(26.0));
    assert_eq!(parse_number("1e3"), Some(1000.0));
    for bad in ["", "abc", "NaN", "inf", "--1", "0x", "12 MB"] {
        assert_eq!(parse_number(bad), None, "{bad}");
    }
    let v = [1.0, 2.0, 3.0, 4.0];
    assert_eq!(percentile(&v, 50.0), Some(2.5));
    assert_eq!(percentile(&v, 0.0), Some(1.0));
    assert_eq!(percentile(&v, 100.0), Some(4.0));
    assert_eq!(percentile(&v, 25.0), Some(1.75));
    assert_eq!(percentile(&[7.0], 90.0), Some(7.0));
    assert_eq!(percentile(&[], 50.0), None);
}

#[test]
fn value_sum_sliding_per_group() {
    let c = corr(&format!("  type: value_sum\n{METRIC}    gte: 100\n"));
    let out = c.evaluate(vec![
        bytes("10:00:00", "h1", "60", 1),
        bytes("10:01:00", "h2", "90", 2),
        bytes("10:02:00", "h1", "not a number", 3),
        bytes("10:09:00", "h1", "0x28", 4), // 40: 60 + 40 within 10m
        bytes("10:30:00", "h2", "20", 5),
    ]);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].value, 100.0);
    assert_eq!(
        out[0].keys,
        vec![1, 4],
        "non-numeric values do not contribute"
    );
    assert_eq!(out[0].group, vec![("Host".into(), "h1".into())]);
}

/// `n` hits of rule `a` from host h1, one every `step` seconds from 10:00:00.
fn burst(n: u32, step: u32) -> Vec<BaseHit<u32>> {
    (0..n)
        .map(|i| {
            let s = i * step;
            let t = format!("10:{:02}:{:02}", s / 60, s % 60);
            hit(
                "a",
                &t,
                &[("Host", "h1"), ("User", &format!("u{}", i % 7))],
                i,
            )
        })
        .collect()
}

#[test]
fn a_burst_gives_one_alert_per_timespan_with_its_real_count() {
    let count = corr(
        "  type: event_count\n  rules: [a]\n  group-by: [Host]\n  timespan: 5m\n  condition:\n    gte: 10\n",
    );
    // 35 events in 2m50s: one alert counting all of them, not one per 10 events.
    let out = count.evaluate(burst(35, 5));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!((out[0].value, out[0].keys.len()), (35.0, 35));
    // 72 events over 11m50s: windows from 10:00:00, 10:05:10 and 10:10:20.
    let out = count.evaluate(burst(72, 10));
    let values: Vec<f64> = out.iter().map(|h| h.value).collect();
    assert_eq!(values, [31.0, 31.0, 10.0]);
    assert!(
        out.iter()
            .all(|h| h.last.duration_since(h.first).as_secs() <= 300)
    );
    // Distinct values: the alert fires at the 5th user and keeps counting to all 7.
    let distinct = corr(
        "  type: value_count\n  rules: [a]\n  group-by: [Host]\n  timespan: 5m\n  condition:\n    field: User\n    gte: 5\n",
    );
    let out = distinct.evaluate(burst(35, 5));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].value, 7.0);
}

#[test]
fn value_sum_timespan_edge_is_inclusive() {
    let c = corr(&format!("  type: value_sum\n{METRIC}    gt: 10\n"));
    let at_edge = c.evaluate(vec![
        bytes("10:00:00", "h", "6", 1),
        bytes("10:10:00", "h", "6", 2),
    ]);
    assert_eq!(at_edge.len(), 1, "exactly the timespan apart is inside");
    let past = c.evaluate(vec![
        bytes("10:00:00", "h", "6", 1),
        bytes("10:10:01", "h", "6", 2),
    ]);
    assert!(past.is_empty());
}

#[test]
fn value_sum_negative_values_try_later_windows() {
    let c = corr(&format!("  type: value_sum\n{METRIC}    gte: 10\n"));
    let out = c.evaluate(vec![
        bytes("10:00:00", "h", "-50", 1),
        bytes("10:01:00", "h", "6", 2),
        bytes("10:02:00", "h", "5", 3),
    ]);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].keys, vec![2, 3]);
    assert_eq!(out[0].value, 11.0);
}

#[test]
fn value_sum_upper_bound_uses_fixed_windows() {
    let c = corr(&format!("  type: value_sum\n{METRIC}    lt: 10\n"));
    let out = c.evaluate(vec![
        bytes("10:00:00", "h", "3", 1),
        bytes("10:05:00", "h", "4", 2),
        bytes("10:20:00", "h", "30", 3),
        bytes("10:21:00", "g", "x", 4),
    ]);
    // Window 1 (10:00–10:10) sums to 7; window 2 to 30; group g has no number at all.
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].keys, vec![1, 2]);
}

#[test]
fn value_avg_judges_complete_windows() {
    let c = corr(&format!("  type: value_avg\n{METRIC}    gt: 50\n"));
    let out = c.evaluate(vec![
        bytes("10:00:00", "h", "100", 1),
        bytes("10:02:00", "h", "0", 2),
        bytes("10:04:00", "h", "20", 3),
        bytes("10:30:00", "h", "60", 4),
        bytes("10:31:00", "h", "70", 5),
        bytes("10:00:00", "g", "51", 6),
    ]);
    let values: Vec<f64> = out.iter().map(|h| h.value).collect();
    // h: 40 then 65; g: 51.
    assert_eq!(values, vec![51.0, 65.0], "{out:?}");
    assert_eq!(out[1].keys, vec![4, 5]);
}

#[test]
fn value_percentile_and_median() {
    let hs = || {
        ["10", "20", "30", "40", "1000"]
            .iter()
            .enumerate()
            .map(|(i, n)| bytes(&format!("10:0{i}:00"), "h", n, i as u32))
            .collect::<Vec<_>>()
    };
    let p90 = corr(&format!(
        "  type: value_percentile\n{METRIC}    percentile: 90\n    gte: 500\n"
    ));
    let out = p90.evaluate(hs());
    assert_eq!(out.len(), 1);
    assert!(
        (out[0].value - 616.0).abs() < 1e-9,
        "40 + 0.6 · (1000 − 40)"
    );
    let med = corr(&format!("  type: value_median\n{METRIC}    gt: 30\n"));
    assert!(med.evaluate(hs()).is_empty(), "the median is 30");
    let med = corr(&format!("  type: value_median\n{METRIC}    gte: 30\n"));
    assert_eq!(med.evaluate(hs())[0].value, 30.0);
}

#[test]
fn metric_rule_problems() {
    let e = rejection("  type: value_sum\n  rules: [a]\n  timespan: 5m\n  condition:\n    gt: 1\n");
    assert!(
        e.message.contains("value_sum needs `condition.field`"),
        "{e}"
    );
    let e = rejection(&format!("  type: value_percentile\n{METRIC}    gt: 1\n"));
    assert_eq!(e.kind, ErrorKind::Unsupported);
    assert!(e.message.contains("percentile"), "{e}");
    let e = rejection(&format!(
        "  type: value_percentile\n{METRIC}    percentile: 120\n    gt: 1\n"
    ));
    assert_eq!(e.kind, ErrorKind::Invalid);
    let e = rejection(
        "  type: value_count\n  rules: [a]\n  timespan: 5m\n  condition:\n    field: [A, B]\n    gt: 1\n",
    );
    assert_eq!(e.kind, ErrorKind::Unsupported);
    let e =
        rejection("  type: event_count\n  rules: [a]\n  timespan: 0m\n  condition:\n    gt: 1\n");
    assert!(e.message.contains("timespan"));
}

#[test]
fn extended_temporal_condition() {
    let c = corr(
        "  type: temporal\n  group-by: [Host]\n  timespan: 5m\n  condition: a and (b or not c)\n",
    );
    assert_eq!(
        c.rules,
        vec!["a", "b", "c"],
        "rules come from the condition"
    );
    let h = |r: &str, t: &str, k: u32| hit(r, t, &[("Host", "x")], k);
    // `not` needs the complete window: a alone, no c.
    let out = c.evaluate(vec![h("a", "10:00:00", 1)]);
    assert_eq!(out.len(), 1);
    assert!(
        c.evaluate(vec![h("a", "10:00:00", 1), h("c", "10:01:00", 2)])
            .is_empty()
    );
    let out = c.evaluate(vec![
        h("a", "10:00:00", 1),
        h("c", "10:01:00", 2),
        h("b", "10:02:00", 3),
    ]);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].value, 3.0);

    let any = corr(
        "  type: temporal\n  rules: [a, b]\n  group-by: [Host]\n  timespan: 5m\n  condition: a or b\n",
    );
    assert_eq!(
        any.evaluate(vec![h("b", "10:00:00", 1), h("b", "10:09:00", 2)])
            .len(),
        2
    );

    let e = rejection("  type: temporal\n  rules: [a, b]\n  timespan: 5m\n  condition: a\n");
    assert!(
        e.message.contains("`b` is listed but not in the condition"),
        "{e}"
    );
    let e = rejection("  type: temporal\n  timespan: 5m\n  condition: a and\n");
    assert_eq!(e.kind, ErrorKind::Invalid);
    let e = rejection("  type: temporal_ordered\n  timespan: 5m\n  condition: a and b\n");
    assert_eq!(e.kind, ErrorKind::Unsupported);
    let e = rejection("  type: event_count\n  rules: [a]\n  timespan: 5m\n  condition: a\n");
    assert_eq!(e.kind, ErrorKind::Invalid);
}

const CHAIN: &str = "title: many failed
name: many_failed
correlation:
  type: event_count
  rules: [failed]
  group-by: [User]
  timespan: 10m
  condition:
    gte: 2
---
title: failed then success
id: outer
correlation:
  type: temporal_ordered
  rules: [many_failed, success]
  group-by: [User]
  timespan: 1h
";

#[test]
fn chained_correlation_takes_inner_hits() {
    let set = load(CHAIN);
    assert!(set.unsupported.is_empty() && set.errors.is_empty());
    let u = |r: &str, t: &str, user: &str, k: u32| hit(r, t, &[("User", user)], k);
    let base = |c: &Correlation| -> Result<Vec<BaseHit<u32>>, ()> {
        let all = vec![
            u("failed", "10:00:00", "bob", 1),
            u("failed", "10:01:00", "bob", 2),
            u("failed", "10:02:00", "eve", 3),
            u("success", "10:05:00", "bob", 4),
            u("success", "10:06:00", "eve", 5),
        ];
        Ok(all
            .into_iter()
            .filter(|h| c.references(None, h.rule_name.as_deref()))
            .collect())
    };
    let out = evaluate_all(&set.correlations, base).unwrap();
    assert_eq!(out[0].len(), 1, "bob failed twice");
    assert_eq!(out[1].len(), 1, "{:?}", out[1]);
    assert_eq!(out[1][0].keys, vec![1, 2, 4]);
    assert_eq!(out[1][0].group, vec![("User".into(), "bob".into())]);
    assert!(silenced(&set.correlations, None, Some("many_failed")));
    assert_eq!(
        silencers(&set.correlations, None, Some("many_failed")).collect::<Vec<_>>(),
        [1],
        "fed to the outer correlation only"
    );
    assert!(!silenced(&set.correlations, Some("outer"), None));
}

/// An outer correlation needs the inner one it chains onto; the inner one needs nothing else.
#[test]
fn a_chained_correlation_needs_the_one_it_takes_hits_from() {
    let set = load(CHAIN);
    assert_eq!(with_inner(&set.correlations, &[false, true]), [true, true]);
    assert_eq!(with_inner(&set.correlations, &[true, false]), [true, false]);
    assert_eq!(
        with_inner(&set.correlations, &[false, false]),
        [false, false]
    );
}

#[test]
fn broken_chains_are_reported() {
    let cyclic = "title: a\nname: ca\ncorrelation:\n  type: event_count\n  rules: [cb]\n  timespan: 5m\n  condition:\n    gte: 1\n---\ntitle: b\nname: cb\ncorrelation:\n  type: event_count\n  rules: [ca]\n  timespan: 5m\n  condition:\n    gte: 1\n";
    let set = load(cyclic);
    assert!(set.correlations.is_empty());
    assert_eq!(set.errors.len(), 2);
    assert!(
        set.errors[0].error.message.contains("cyclic"),
        "{:?}",
        set.errors
    );

    let wrong_field = CHAIN.replace(
        "group-by: [User]\n  timespan: 1h",
        "group-by: [Host]\n  timespan: 1h",
    );
    let set = load(&wrong_field);
    assert_eq!(set.correlations.len(), 1);
    assert!(
        set.unsupported[0].error.message.contains("field `Host`"),
        "{:?}",
        set.unsupported
    );

    // A correlation over a rule that did not load cannot be evaluated either.
    let text = "title: r\nname: r1\nlogsource: {product: windows}\ndetection:\n  sel: {a: 1}\n  condition: sel | count() > 1\n---\ntitle: c\ncorrelation:\n  type: event_count\n  rules: [r1]\n  timespan: 5m\n  condition:\n    gte: 1\n";
    let set = load(text);
    assert!(set.correlations.is_empty());
    assert!(
        set.unsupported
            .iter()
            .any(|r| r.error.message.contains("`r1`, which did not load"))
    );
}

#[test]
fn rules_check_notes_a_correlation_over_a_rule_that_is_not_loaded() {
    let set = load(
        "title: base\nname: base_rule\nlogsource: {product: windows, service: security}\n\
         detection: {sel: {EventID: 4625}, condition: sel}\n---\n\
         title: c\nid: c1\ncorrelation:\n  type: event_count\n  rules: [base_rule, ghost_rule]\n  \
         group-by: [IpAddress]\n  timespan: 5m\n  condition: {gte: 3}\n",
    );
    let report = crate::sigma::CheckReport::from_rules(&set);
    let entry = report
        .entries
        .iter()
        .find(|e| e.id.as_deref() == Some("c1"))
        .unwrap();
    assert_eq!(entry.notes.len(), 1, "{:?}", entry.notes);
    assert!(entry.notes[0].contains("ghost_rule"));
}

#[test]
fn groups_fold_case_but_alerts_show_the_values_as_written() {
    let count = corr(
        "  type: event_count\n  rules: [a]\n  group-by: [User]\n  timespan: 5m\n  condition:\n    gte: 2\n",
    );
    let out = count.evaluate(vec![
        hit("a", "10:00:00", &[("User", "Administrator")], 1),
        hit("a", "10:00:01", &[("User", "ADMINISTRATOR")], 2),
    ]);
    assert_eq!(out.len(), 1, "one group: {out:?}");
    assert_eq!(out[0].group, vec![("User".into(), "Administrator".into())]);
}
