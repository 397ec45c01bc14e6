//! Loading every SigmaHQ rule in ../shared/sigma/{rules,rules-emerging-threats,rules-threat-hunting}:
//! at least 99.5% of the Windows rules must load; every one that does not is listed with its reason.

mod common;

use huntbench::sigma::{CheckReport, Loader};

#[test]
fn sigmahq_windows_rules_load() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let dirs: Vec<_> = ["rules", "rules-emerging-threats", "rules-threat-hunting"]
        .iter()
        .map(|d| shared.join("sigma").join(d))
        .collect();
    let started = std::time::Instant::now();
    let set = Loader::new().expect("builtin mapping").load_paths(&dirs);
    let elapsed = started.elapsed();
    let windows = set.rules.len() + set.unsupported.len() + set.errors.len();
    println!(
        "loaded {} / {windows} Windows rules ({} unsupported, {} errors); {} other-platform rules skipped; {:?}",
        set.rules.len(),
        set.unsupported.len(),
        set.errors.len(),
        set.skipped.len(),
        elapsed
    );
    for r in set.unsupported.iter().chain(&set.errors) {
        println!("  not loaded: {}", r.error);
    }
    let report = CheckReport::from_rules(&set);
    println!("rules with notes: {}", report.totals.with_notes);
    assert!(
        windows > 2800,
        "expected the SigmaHQ Windows set, found {windows}"
    );
    let rate = set.rules.len() as f64 / windows as f64;
    assert!(rate >= 0.995, "load rate {rate:.4} < 0.995");
    assert!(
        set.skipped.len() > 800,
        "non-Windows rules should be skipped and counted"
    );
}
