//! SigmaHQ regression suite (../shared/sigma/regression_data): for every info.yml the named rule
//! must fire on its events at least `match_count` times (default 1). Events are read with
//! `huntbench::ingest` from the `.json` evtx_dump beside each test (and from the `.evtx` too, as a
//! cross-check of the two ingest paths). Also checks prefilter soundness for every rule × every
//! regression event: whenever a rule matches, its prefilter must accept the event.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use huntbench::event::Event;
use huntbench::sigma::Loader;
use huntbench::sigma::yaml::{Kind, parse_documents};

struct Case {
    rule_id: String,
    min: usize,
    evtx: PathBuf,
}

fn info_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            info_files(&p, out);
        } else if p.file_name().is_some_and(|n| n == "info.yml") {
            out.push(p);
        }
    }
}

fn cases(sigma: &Path) -> Vec<Case> {
    let mut infos = Vec::new();
    info_files(&sigma.join("regression_data"), &mut infos);
    infos.sort();
    let mut out = Vec::new();
    for info in infos {
        let doc = &parse_documents(&std::fs::read_to_string(&info).unwrap()).unwrap()[0];
        let rule_id = doc.get("rule_metadata").and_then(|m| match &m.kind {
            Kind::Seq(v) => v
                .first()
                .and_then(|r| r.get("id"))
                .and_then(|i| i.scalar_text()),
            _ => None,
        });
        let Some(Kind::Seq(tests)) = doc.get("regression_tests_info").map(|t| &t.kind) else {
            continue;
        };
        for t in tests {
            let path = t.get("path").and_then(|p| p.scalar_text()).unwrap();
            let min = t
                .get("match_count")
                .and_then(|m| m.scalar_text())
                .map_or(1, |m| m.parse().unwrap());
            out.push(Case {
                rule_id: rule_id.clone().unwrap(),
                min,
                evtx: sigma.join(path),
            });
        }
    }
    out
}

fn events(evtx: &Path) -> Vec<Event> {
    let json = evtx.with_extension("json");
    let (evs, _) =
        huntbench::ingest::read_all(&json).unwrap_or_else(|e| panic!("{}: {e}", json.display()));
    evs
}

#[test]
fn sigmahq_regression_suite_and_prefilter_soundness() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let sigma = shared.join("sigma");
    let dirs: Vec<_> = ["rules", "rules-emerging-threats", "rules-threat-hunting"]
        .iter()
        .map(|d| sigma.join(d))
        .collect();
    let set = Loader::new().unwrap().load_paths(&dirs);
    let cases = cases(&sigma);
    let mut failures = Vec::new();
    let mut all_events = Vec::new();
    let mut evtx_mismatch = Vec::new();
    for c in &cases {
        let evs = events(&c.evtx);
        if let Ok((from_evtx, _)) = huntbench::ingest::read_all(&c.evtx)
            && from_evtx.len() != evs.len()
        {
            evtx_mismatch.push(format!(
                "{}: {} evtx vs {} json records",
                c.evtx.display(),
                from_evtx.len(),
                evs.len()
            ));
        }
        let Some(rule) = set.rule(&c.rule_id) else {
            let why = set
                .unsupported
                .iter()
                .chain(&set.errors)
                .find(|r| r.id.as_deref() == Some(&c.rule_id))
                .map(|r| r.error.to_string());
            failures.push(format!(
                "{}: rule {} not loaded ({why:?})",
                c.evtx.display(),
                c.rule_id
            ));
            continue;
        };
        let n = evs.iter().filter(|e| rule.matches(e).is_some()).count();
        if n < c.min {
            failures.push(format!(
                "{}: rule {} `{}` fired {n} < {}",
                c.evtx.display(),
                c.rule_id,
                rule.title(),
                c.min
            ));
        }
        all_events.extend(evs);
    }
    println!(
        "regression: {}/{} pass",
        cases.len() - failures.len(),
        cases.len()
    );
    for f in &failures {
        println!("  FAIL {f}");
    }
    for m in &evtx_mismatch {
        println!("  note: {m}");
    }
    // Soundness: matches ⇒ prefilter accepts, for every rule × every regression event.
    let mut unsound = Vec::new();
    let mut matches = 0usize;
    for rule in &set.rules {
        let pf = rule.prefilter();
        for ev in &all_events {
            if rule.is_match(ev) {
                matches += 1;
                if !pf.accepts(ev) {
                    unsound.push(format!(
                        "{} `{}`: {:?}",
                        rule.id().unwrap_or("?"),
                        rule.title(),
                        pf
                    ));
                }
            }
        }
    }
    println!(
        "cross-run: {matches} (rule, event) matches over {} events × {} rules",
        all_events.len(),
        set.rules.len()
    );
    assert!(
        unsound.is_empty(),
        "prefilter rejects matching events:\n{}",
        unsound.join("\n")
    );
    assert!(
        failures.is_empty(),
        "{} regression tests failed",
        failures.len()
    );
    assert!(
        cases.len() >= 100,
        "expected the SigmaHQ regression suite, found {} tests",
        cases.len()
    );
}
