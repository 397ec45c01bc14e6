//! Throughput of the exact matcher: every SigmaHQ Windows rule over the shared EVTX corpus.
//! Ignored by default (slow in debug); run with `cargo test --release --test sigma_perf -- --ignored --nocapture`.

mod common;

use huntbench::sigma::Loader;

#[test]
#[ignore = "benchmark"]
fn all_rules_over_corpus() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let sigma = shared.join("sigma");
    let set = Loader::new().expect("mapping").load_paths(&[
        sigma.join("rules"),
        sigma.join("rules-emerging-threats"),
        sigma.join("rules-threat-hunting"),
    ]);
    let mut events = Vec::new();
    for f in common::evtx_files(&shared.join("corpus/evtx")) {
        if let Ok((evs, _)) = huntbench::ingest::read_all(&f) {
            events.extend(evs);
        }
    }
    let started = std::time::Instant::now();
    let mut hits = 0usize;
    for ev in &events {
        let view = huntbench::sigma::EventView::new(ev);
        for r in &set.rules {
            if r.is_match_view(&view) {
                hits += 1;
            }
        }
    }
    let el = started.elapsed();
    let evals = events.len() * set.rules.len();
    println!(
        "{} events × {} rules = {evals} evaluations, {hits} hits in {el:?} ({:.0} ns/eval, {:.0} events/s for the full rule set)",
        events.len(),
        set.rules.len(),
        el.as_nanos() as f64 / evals as f64,
        events.len() as f64 / el.as_secs_f64()
    );
    // An edited rule re-runs over the corpus in milliseconds.
    let r = set
        .rules
        .iter()
        .find(|r| r.meta.logsource.category.as_deref() == Some("process_creation"))
        .expect("a rule");
    let t = std::time::Instant::now();
    let n = events.iter().filter(|e| r.is_match(e)).count();
    println!(
        "one process_creation rule over {} events: {n} hits in {:?}",
        events.len(),
        t.elapsed()
    );
}
