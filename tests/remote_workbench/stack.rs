//! Stacking (`s`/`S` in the workbench) over `--remote`: the server counts by `GROUP BY`
//! (`EventStore::stack`) exactly what the workbench counts from the fetched events
//! (`store::stack_here`), for a rule's hits (fields read through the rule's mapping) and for
//! other lists (named by their keys).

use super::case_and_store;
use crate::common::servers::{sail_present, spark_present};
use huntbench::prefilter::Prefilter;
use huntbench::remote::store::RemoteStore;
use huntbench::sigma::CompiledRule;
use huntbench::store::{EventRef, EventStore, StackQuery, Stacked, stack_here};

/// Process creations in either dialect: Sysmon 1 and Security 4688, whose `NewProcessName`
/// the rule reads as `Image`.
const EXECUTABLES: &str = "title: executables started
id: 8c3e6a52-0d55-4a8e-9b0e-5f0a3c1d9e21
logsource:
  category: process_creation
  product: windows
detection:
  selection:
    Image|endswith: '.exe'
  condition: selection
level: low
";

/// Field lists stacked over every list: a mapped field, fields some events lack (Sysmon's
/// `Hashes`, absent from 4688), one no event has, and tuples.
const FIELD_SETS: &[&[&str]] = &[
    &["Image"],
    &["ParentImage"],
    &["CommandLine"],
    &["Hashes"],
    &["NoSuchField"],
    &["Computer"],
    &["ParentImage", "Image"],
    &["Computer", "Hashes", "Image"],
    &["ServiceName"],
    &["User"],
    &["IntegrityLevel", "User"],
];

/// A stack query takes seconds on the cluster: fewer stacks there, of one rule's hits.
const FIELD_SETS_ON_SPARK: &[&[&str]] = &[&["Image"], &["Hashes"], &["ParentImage", "Image"]];

/// The server's count, which must be given (one query for a rule's hits), and the one counted
/// from the fetched events, over the same list.
fn both(store: &RemoteStore, q: &StackQuery<'_>) -> (Stacked, Stacked) {
    let before = store.queries();
    let remote = store.stack(q).unwrap().expect("counted on the server");
    if q.rule.is_some() {
        assert_eq!(store.queries() - before, 1, "one query for {:?}", q.fields);
    }
    (remote, stack_here(store, q).unwrap())
}

#[test]
fn stacks_count_on_the_server_as_here_on_sail() {
    if sail_present() {
        stacks_count_as_here("sail-server", FIELD_SETS, true);
    }
}

#[test]
fn stacks_count_on_the_server_as_here_on_a_spark_cluster() {
    if spark_present() {
        stacks_count_as_here("spark-cluster", FIELD_SETS_ON_SPARK, false);
    }
}

/// Over the hits of the bundled rules (when `bundled`) and of [`EXECUTABLES`], and over other
/// lists, by each of `sets`.
fn stacks_count_as_here(script: &'static str, sets: &[&[&str]], bundled: bool) {
    let field_sets: Vec<Vec<String>> = (sets.iter())
        .map(|s| s.iter().map(|f| (*f).to_owned()).collect())
        .collect();
    let (_home, case, _server, store) = case_and_store(script);
    let local = case.snapshot();

    let loader = huntbench::sigma::Loader::new().unwrap();
    let mut set = match bundled {
        true => loader.load_paths(&[super::repo().join("rules/windows")]),
        false => huntbench::sigma::RuleSet::default(),
    };
    let mine = loader.load_str(EXECUTABLES, "executables.yml");
    assert_eq!(mine.rules.len(), 1, "{:?}", mine.errors);
    set.rules.extend(mine.rules);
    let rules: Vec<&CompiledRule> = set.rules.iter().collect();
    let (remote_hits, local_hits) = (
        huntbench::hunt::run(&store, &rules).unwrap(),
        huntbench::hunt::run(&local, &rules).unwrap(),
    );

    let (mut compared, mut lacking, mut tuples) = (0, 0, 0);
    for (i, rule) in rules.iter().enumerate() {
        let hits = &remote_hits.hits[i];
        if hits.is_empty() {
            continue;
        }
        for fields in &field_sets {
            let q = StackQuery {
                refs: hits,
                fields,
                rule: Some(*rule),
            };
            let (counted, here) = both(&store, &q);
            let what = format!("{} by {fields:?}", rule.meta.title);
            assert_eq!(counted, here, "{what}");
            // And as the local case counts its own hits of the rule.
            let in_case = StackQuery {
                refs: &local_hits.hits[i],
                ..q
            };
            assert_eq!(counted, stack_here(&local, &in_case).unwrap(), "{what}");
            compared += 1;
            lacking += usize::from(counted.missing > 0 && !counted.tuples.is_empty());
            tuples += usize::from(fields.len() > 1 && !counted.tuples.is_empty());
        }
    }
    assert!(
        compared >= if bundled { 5 } else { 1 } * field_sets.len(),
        "{compared} stacks compared"
    );
    assert!(lacking > 0, "a field some hits lack");
    assert!(tuples > 0, "a stack by several fields");

    // The mapped field: the executables' 4688 hits stack under `Image` by `NewProcessName`.
    let executables = rules.len() - 1;
    let image = vec!["Image".to_owned()];
    let q = StackQuery {
        refs: &remote_hits.hits[executables],
        fields: &image,
        rule: Some(rules[executables]),
    };
    let (counted, _) = both(&store, &q);
    let security: Vec<EventRef> = (q.refs.iter().copied())
        .filter(|r| store.event(*r).unwrap().0.event_id() == Some(4688))
        .collect();
    assert!(!security.is_empty(), "4688 hits");
    let (first, _) = store.event(security[0]).unwrap();
    let process = first.get_str("NewProcessName").unwrap();
    assert!(
        (counted.tuples.iter()).any(|(t, _)| t[0] == process),
        "{process} in {counted:?}"
    );

    // Lists that are not a rule's hits, named by their keys (several queries when long), each
    // field read in any case as the list's own stack reads it.
    let lists = [
        store.candidates(&Prefilter::All).unwrap(),
        (store.candidates(&Prefilter::Equals {
            field: "EventID".into(),
            value: "4688".into(),
        }))
        .unwrap(),
    ];
    for refs in &lists {
        assert!(!refs.is_empty());
        for fields in &field_sets {
            let q = StackQuery {
                refs,
                fields,
                rule: None,
            };
            let (counted, here) = both(&store, &q);
            assert_eq!(counted, here, "{} events by {fields:?}", refs.len());
        }
    }
    // An event listed twice counts twice: left to the count from the fetched events.
    let twice = [lists[1][0], lists[1][0]];
    let q = StackQuery {
        refs: &twice,
        fields: &image,
        rule: None,
    };
    assert!(store.stack(&q).unwrap().is_none());
}
