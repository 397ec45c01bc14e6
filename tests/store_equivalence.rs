//! The case index and a list of the same events in memory are two implementations of the
//! event-store trait; the engine above it must not tell them apart. The same hunt (every
//! bundled rule over the samples, every SigmaHQ Windows rule over the corpus), searches,
//! statistics, process trees and pivots are asked of both and must give the same answers.
//! Event references are each store's own, so answers are compared by the events they name.

#![allow(clippy::unwrap_used)]

mod common;

use huntbench::event::Event;
use huntbench::hunt;
use huntbench::index::{Case, IngestOptions};
use huntbench::prefilter::Prefilter;
use huntbench::sigma::{CompiledRule, RuleSet};
use huntbench::store::memory::MemoryStore;
use huntbench::store::{EventRef, EventStore, Lookup};
use std::path::{Path, PathBuf};

/// A case of `inputs` and the same events in memory.
fn both_stores(inputs: &[PathBuf]) -> (tempfile::TempDir, huntbench::index::Snapshot, MemoryStore) {
    let tmp = tempfile::tempdir().unwrap();
    let mut case = Case::open_or_create(&tmp.path().join("case")).unwrap();
    case.ingest(inputs, &IngestOptions::default(), &mut |_| {})
        .unwrap();
    let index = case.snapshot();
    let memory = MemoryStore::copy_of(&index).unwrap();
    assert_eq!(index.num_events(), memory.num_events());
    (tmp, index, memory)
}

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

/// What a reference names, whatever the store: the event and its source file.
fn named(store: &dyn EventStore, refs: &[EventRef]) -> Vec<(i64, String, u64)> {
    let mut out: Vec<(i64, String, u64)> = (refs.iter())
        .map(|r| {
            let (e, file) = store.event(*r).unwrap();
            (r.ts, e.to_json(), file)
        })
        .collect();
    out.sort();
    out
}

/// Runs `set` over both stores and compares every rule's and correlation's hits.
fn same_hunt(index: &dyn EventStore, memory: &dyn EventStore, set: &RuleSet) -> usize {
    let rules: Vec<&CompiledRule> = set.rules.iter().collect();
    let a = hunt::run(index, &rules).unwrap();
    let b = hunt::run(memory, &rules).unwrap();
    let mut differing = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        if named(index, &a.hits[i]) != named(memory, &b.hits[i]) {
            differing.push(format!(
                "{}: index {} vs memory {}",
                rule.title(),
                a.hits[i].len(),
                b.hits[i].len()
            ));
        }
    }
    assert!(differing.is_empty(), "{}", differing.join("\n"));
    let ca = hunt::correlate(index, &set.correlations, &rules, &a).unwrap();
    let cb = hunt::correlate(memory, &set.correlations, &rules, &b).unwrap();
    for (corr, (x, y)) in set.correlations.iter().zip(ca.iter().zip(&cb)) {
        let describe =
            |store: &dyn EventStore, hits: &[huntbench::sigma::CorrelationHit<EventRef>]| {
                let mut v: Vec<_> = (hits.iter())
                    .map(|h| (h.group.clone(), h.first, h.last, named(store, &h.keys)))
                    .collect();
                v.sort();
                v
            };
        assert_eq!(
            describe(index, x),
            describe(memory, y),
            "correlation {}",
            corr.meta.title
        );
    }
    a.hits.iter().map(Vec::len).sum()
}

#[test]
fn bundled_rules_hit_the_same_events_in_both_stores() {
    let (_tmp, index, memory) = both_stores(&[samples()]);
    let (set, errors) = huntbench::rulepack::load(&[], false).unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    let hits = same_hunt(&index, &memory, &set);
    assert!(
        hits > 20,
        "the samples should trigger the bundled rules, got {hits}"
    );
}

#[test]
fn sigmahq_rules_hit_the_same_corpus_events_in_both_stores() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let shared = common::shared_dir().unwrap().join("sigma");
    let paths: Vec<PathBuf> = ["rules", "rules-emerging-threats", "rules-threat-hunting"]
        .iter()
        .map(|d| shared.join(d))
        .collect();
    let (set, errors) = huntbench::rulepack::load(&paths, true).unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    let (_tmp, index, memory) = both_stores(&[corpus]);
    let hits = same_hunt(&index, &memory, &set);
    assert!(
        hits > 1000,
        "the corpus should trigger many rules, got {hits}"
    );
}

#[test]
fn searches_and_statistics_agree() {
    let (_tmp, index, memory) = both_stores(&[samples()]);
    assert_eq!(index.stats().unwrap(), memory.stats().unwrap());
    let (a, b) = (index.sources().unwrap(), memory.sources().unwrap());
    assert_eq!(a, b);
    for text in [
        "EventID=1",
        "EventID=4688 OR EventID=4624",
        "Image=*\\cmd.exe",
        "CommandLine=*whoami*",
        "psexesvc",
        "\"cmd.exe /c\"",
        "NOT EventID=4688",
        "EventID>=4600 AND EventID<4700",
        "ParentImage IN (*\\WmiPrvSE.exe, *\\services.exe)",
        "time>=2024-01-01",
        "NewProcessName=*\\cmd.exe",
        "User=*\\*",
        "CommandLine|re=whoami|ipconfig",
        "Image|re=\\\\(cmd|wmic)\\.exe$",
    ] {
        let q = huntbench::query::parse(text).unwrap();
        let verify = |e: &Event| q.matches(e);
        for limit in [3, usize::MAX] {
            let found = |store: &dyn EventStore| {
                let got = huntbench::store::search(store, &q.prefilter(), &verify, limit).unwrap();
                let refs: Vec<EventRef> = got.iter().map(|(r, _, _)| *r).collect();
                // In time order in both; ties may name different events first.
                assert!(refs.windows(2).all(|w| w[0].ts <= w[1].ts), "{text}");
                (refs.len(), refs.iter().map(|r| r.ts).collect::<Vec<_>>())
            };
            assert_eq!(found(&index), found(&memory), "{text} (limit {limit})");
        }
        let all = |store: &dyn EventStore| {
            let got = huntbench::store::search(store, &q.prefilter(), &verify, usize::MAX).unwrap();
            let refs: Vec<EventRef> = got.iter().map(|(r, _, _)| *r).collect();
            named(store, &refs)
        };
        let (x, y) = (all(&index), all(&memory));
        assert_eq!(x, y, "{text}");
    }
}

#[test]
fn process_trees_and_pivots_agree() {
    let (_tmp, index, memory) = both_stores(&[samples()]);
    let creations = Prefilter::or(vec![
        Prefilter::Equals {
            field: "EventID".into(),
            value: "1".into(),
        },
        Prefilter::Equals {
            field: "EventID".into(),
            value: "4688".into(),
        },
    ]);
    let (ri, rm) = (
        index.candidates(&creations).unwrap(),
        memory.candidates(&creations).unwrap(),
    );
    assert_eq!(named(&index, &ri), named(&memory, &rm));
    assert!(ri.len() > 10, "the samples create processes");
    // Pair each creation with the same event in the other store.
    let pairs = pair_up(&index, &ri, &memory, &rm);
    let mut lookups = 0;
    for (a, b) in pairs {
        let (ea, _) = index.event(a).unwrap();
        let (eb, _) = memory.event(b).unwrap();
        let ta = huntbench::proctree::build(&index, a, &ea).unwrap();
        let tb = huntbench::proctree::build(&memory, b, &eb).unwrap();
        let (Some(ta), Some(tb)) = (ta, tb) else {
            panic!("a tree in one store only");
        };
        let rows = |t: &huntbench::proctree::ProcTree| {
            (t.lines.iter())
                .map(|&(d, i)| {
                    let n = &t.nodes[i];
                    (d, n.key.clone(), n.image.clone(), n.inferred, n.r.ts)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(rows(&ta), rows(&tb));
        assert_eq!(ta.focus, tb.focus);
        // Every pivot the workbench offers from here.
        let mut asked: Vec<Lookup> = (ta.nodes.iter())
            .map(huntbench::proctree::activity)
            .collect();
        asked.push(Lookup::Around {
            computer: Some(ea.computer().to_owned()),
            t0: a.ts,
            span: 120_000_000,
        });
        asked.push(Lookup::Around {
            computer: None,
            t0: a.ts,
            span: 60_000_000,
        });
        for (field, value) in &ea.fields {
            if let Some(value) = value.as_str().filter(|v| !v.is_empty()) {
                asked.push(Lookup::SameValue {
                    field: field.clone(),
                    value: value.to_owned(),
                });
            }
        }
        // A row of a stack by several fields: every value at once.
        let same: Vec<Lookup> = (asked.iter())
            .filter(|l| matches!(l, Lookup::SameValue { field, .. } if field == "Computer" || field.ends_with("Image") || field.ends_with("ProcessName")))
            .cloned()
            .collect();
        asked.push(Lookup::All(same));
        for l in &asked {
            let x = named(&index, &index.lookup(l).unwrap());
            let y = named(&memory, &memory.lookup(l).unwrap());
            assert_eq!(x, y, "{l:?}");
            lookups += 1;
        }
    }
    assert!(lookups > 100);
}

/// Each of `a` (from `sa`) with the reference to the same event in `sb`.
fn pair_up(
    sa: &dyn EventStore,
    a: &[EventRef],
    sb: &dyn EventStore,
    b: &[EventRef],
) -> Vec<(EventRef, EventRef)> {
    let key = |s: &dyn EventStore, r: &EventRef| {
        let (e, f) = s.event(*r).unwrap();
        (e.to_json(), f)
    };
    let mut by_event: std::collections::HashMap<(String, u64), Vec<EventRef>> =
        std::collections::HashMap::new();
    for r in b {
        by_event.entry(key(sb, r)).or_default().push(*r);
    }
    (a.iter())
        .map(|r| {
            let other = by_event.get_mut(&key(sa, r)).and_then(Vec::pop).unwrap();
            (*r, other)
        })
        .collect()
}

#[test]
fn logon_sessions_and_lateral_edges_agree() {
    let (_tmp, index, memory) = both_stores(&[samples()]);
    let of = |store: &dyn EventStore| {
        let sessions = huntbench::logons::sessions(store).unwrap();
        let refs = store.candidates(&Prefilter::All).unwrap();
        let in_sessions = huntbench::logons::count_in_sessions(store, &sessions, &refs).unwrap();
        let hits = vec![1; sessions.len()];
        let edges = huntbench::logons::lateral::edges(store, &sessions, &hits).unwrap();
        let sessions: Vec<_> = (sessions.into_iter())
            .map(|s| {
                (
                    s.start(),
                    s.computer,
                    s.logon_id,
                    s.user,
                    s.end,
                    s.processes,
                    s.shares,
                )
            })
            .collect();
        let edges: Vec<_> = (edges.into_iter())
            .map(|e| (e.from, e.to, e.user, e.count, e.hits, e.first, e.last))
            .collect();
        (sessions, in_sessions, edges)
    };
    let (a, b) = (of(&index), of(&memory));
    assert!(a.0.len() > 5 && !a.2.is_empty());
    assert_eq!(a, b);
}

#[test]
fn reports_and_summaries_agree() {
    let (tmp, index, memory) = both_stores(&[samples()]);
    let (set, _) = huntbench::rulepack::load(&[], false).unwrap();
    let rules: Vec<&CompiledRule> = set.rules.iter().collect();
    let of = |store: &dyn EventStore| {
        let hits = hunt::run(store, &rules).unwrap().hits;
        let runs = (rules.iter().zip(&hits))
            .map(|(rule, hits)| huntbench::report::RuleRun {
                rule,
                hits,
                state: huntbench::report::RuleState::Alerts,
            })
            .collect();
        let input = huntbench::report::Input {
            store,
            case_dir: tmp.path(),
            rules: runs,
            correlations: Vec::new(),
            not_loaded: Vec::new(),
            overlays: &[],
            problems: &[],
            sources: String::new(),
        };
        let text = huntbench::report::render(&input).unwrap();
        // Everything but the line saying when it was written.
        let text: Vec<String> = (text.lines())
            .filter(|l| !l.starts_with("Written "))
            .map(str::to_owned)
            .collect();
        let with_hits: Vec<huntbench::report::RuleHits<'_>> = (rules.iter().zip(&hits))
            .map(|(rule, hits)| huntbench::report::RuleHits { rule, hits })
            .collect();
        let sums = huntbench::report::summary::compute(store, &with_hits).unwrap();
        (text, sums)
    };
    let (a, b) = (of(&index), of(&memory));
    assert!(a.1.hosts.len() > 1 && !a.1.users.is_empty(), "{:?}", a.1);
    assert!(a.0.iter().any(|l| l == "## Detections in detail"));
    assert_eq!(a, b);
}
