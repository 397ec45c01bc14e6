//! The index prefilter must never lose an event: for keyword needles (looked up in the word
//! dictionary) and `contains` on trigram fields (including values too long for trigrams), every
//! event a brute-force scan accepts must be among the index candidates. Needles are cut from
//! the events' own values at many positions, so word boundaries fall everywhere.
#![allow(clippy::unwrap_used)]

mod common;

use huntbench::event::Event;
use huntbench::index::{Case, IngestOptions};
use huntbench::prefilter::Prefilter;
use huntbench::store::EventRef;
use huntbench::store::EventStore as _;
use std::collections::HashSet;
use std::path::PathBuf;

fn samples() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/samples"))
}

fn ingest(dir: &std::path::Path, input: PathBuf) -> Case {
    let mut case = Case::open_or_create(dir).unwrap();
    case.ingest(&[input], &IngestOptions::default(), &mut |_| {})
        .unwrap();
    case
}

/// Every event of the case with its reference, for brute-force comparison.
fn all_events(case: &Case) -> Vec<(EventRef, Event)> {
    let snap = case.snapshot();
    snap.candidates(&huntbench::prefilter::Prefilter::All)
        .unwrap()
        .into_iter()
        .map(|r| (r, snap.event(r).unwrap().0))
        .collect()
}

/// Deterministic substrings of the events' ASCII values: `(field, needle)`.
fn needles(events: &[Event], want: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut tries = 0;
    while out.len() < want && tries < want * 50 {
        tries += 1;
        let ev = &events[(next() % events.len() as u64) as usize];
        let (name, value) = &ev.fields[(next() % ev.fields.len() as u64) as usize];
        let Some(s) = value.strings().next() else {
            continue;
        };
        if !s.is_ascii() || s.len() < 3 {
            continue;
        }
        let len = 3 + (next() % 14) as usize;
        let start = (next() as usize) % s.len();
        let end = (start + len).min(s.len());
        if end - start >= 3 {
            out.push((name.clone(), s[start..end].to_owned()));
        }
    }
    out
}

fn check(case: &Case, checks: &[(String, String)], events: &[(EventRef, Event)]) {
    let snap = case.snapshot();
    for (field, needle) in checks {
        for p in [
            Prefilter::AnyContains {
                needle: needle.clone(),
            },
            Prefilter::Contains {
                field: field.clone(),
                needle: needle.clone(),
            },
        ] {
            let got: HashSet<EventRef> = snap.candidates(&p).unwrap().into_iter().collect();
            for (r, ev) in events {
                assert!(
                    !p.accepts(ev) || got.contains(r),
                    "{p:?} lost an event holding it: {:?}",
                    ev.get(field)
                );
            }
        }
    }
}

fn run_on(dir: &std::path::Path, input: PathBuf, want: usize) -> Case {
    let case = ingest(dir, input);
    let events = all_events(&case);
    let plain: Vec<Event> = events.iter().map(|(_, e)| e.clone()).collect();
    let mut checks = needles(&plain, want);
    // Values too long for trigrams: a needle from their far end must still be found.
    for ev in &plain {
        for (name, value) in &ev.fields {
            for s in value.strings() {
                if s.len() > huntbench::index::schema::NG_MAX_BYTES && s.is_ascii() {
                    checks.push((name.clone(), s[s.len() - 12..].to_owned()));
                }
            }
        }
    }
    check(&case, &checks, &events);
    case
}

#[test]
fn keyword_and_contains_lookups_lose_nothing_on_the_samples() {
    let tmp = tempfile::tempdir().unwrap();
    let case = run_on(tmp.path(), samples(), 150);
    // The lookups narrow: a keyword does not make every event a candidate.
    let snap = case.snapshot();
    // Fields without trigrams answer `contains` from their words: a hash's start picks out the
    // events holding that hash, not every event with a `Hashes` field.
    let events = all_events(&case);
    let with_hashes: Vec<&str> = events
        .iter()
        .filter_map(|(_, e)| e.get_str("Hashes"))
        .collect();
    let distinct: HashSet<&str> = with_hashes.iter().copied().collect();
    assert!(distinct.len() > 2, "the samples should hold several hashes");
    let hashes = with_hashes[0];
    let needle = &hashes[..hashes.find('=').unwrap() + 9];
    let p = Prefilter::Contains {
        field: "Hashes".into(),
        needle: needle.into(),
    };
    let n = snap.candidates(&p).unwrap().len();
    let holding = with_hashes.iter().filter(|h| h.contains(needle)).count();
    assert!(
        n >= holding && n < with_hashes.len(),
        "{needle}: {n} candidates, {holding} holding it, {} with Hashes",
        with_hashes.len()
    );
    for needle in ["psexesvc", "wmiprvse.exe", "/Q /c"] {
        let p = Prefilter::AnyContains {
            needle: needle.into(),
        };
        let n = snap.candidates(&p).unwrap().len() as u64;
        assert!(
            n > 0 && n < snap.num_events() / 2,
            "{needle}: {n} candidates"
        );
    }
}

#[test]
fn keyword_and_contains_lookups_lose_nothing_on_the_corpus() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let _ = run_on(tmp.path(), corpus, 300);
}

#[test]
fn time_ranges_select_exactly_the_events_in_the_window() {
    let tmp = tempfile::tempdir().unwrap();
    let case = ingest(tmp.path(), samples());
    let snap = case.snapshot();
    let events = all_events(&case);
    for (r, _) in events.iter().step_by(37) {
        let p = Prefilter::TimeRange {
            from: r.ts - 60_000_000,
            to: r.ts + 60_000_000,
        };
        let got: HashSet<EventRef> = snap.candidates(&p).unwrap().into_iter().collect();
        let want: HashSet<EventRef> = events
            .iter()
            .filter(|(_, e)| p.accepts(e))
            .map(|(r, _)| *r)
            .collect();
        assert!(got.contains(r));
        assert_eq!(got, want);
    }
}

/// `search` checks candidates in chunks, in index order and in parallel; whatever the limit,
/// it must return exactly the first matches in time order.
fn search_returns_the_first_matches_in_time_order(case: &Case) {
    let snap = case.snapshot();
    let events = all_events(case);
    // Sparse matches, so the wanted results spread over several chunks of candidates.
    let verify = |e: &Event| e.event_id().is_some_and(|id| id % 7 == 3);
    let want: Vec<EventRef> = events
        .iter()
        .filter(|(_, e)| verify(e))
        .map(|(r, _)| *r)
        .collect();
    assert!(!want.is_empty());
    for limit in [1, 2, 300, 1_000, 5_000, usize::MAX] {
        let got: Vec<EventRef> = huntbench::store::search(&snap, &Prefilter::All, &verify, limit)
            .unwrap()
            .into_iter()
            .map(|(r, _, _)| r)
            .collect();
        let expected: Vec<EventRef> = want.iter().copied().take(limit).collect();
        assert_eq!(got, expected, "limit {limit}");
    }
}

#[test]
fn search_returns_the_first_matches_in_time_order_on_the_samples() {
    let tmp = tempfile::tempdir().unwrap();
    let case = ingest(tmp.path(), samples());
    search_returns_the_first_matches_in_time_order(&case);
}

#[test]
fn search_returns_the_first_matches_in_time_order_on_the_corpus() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let case = ingest(tmp.path(), corpus);
    search_returns_the_first_matches_in_time_order(&case);
}
