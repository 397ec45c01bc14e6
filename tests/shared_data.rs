//! Says, where `cargo test` shows it, whether the tests that use `../shared` ran.
//!
//! Those tests skip with a printed reason when `../shared` is absent, but `cargo test` hides
//! what a passing test prints, so a run without it would look complete. This target has no
//! test harness: what it prints is never captured. Under `CI=true` a missing `../shared` fails
//! the run here too, as it does in each of those tests.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared");
    let parts = [
        "corpus/evtx",
        "sigma/rules",
        "sigma/regression_data",
        "docs",
    ];
    let missing: Vec<&str> = (parts.iter().copied())
        .filter(|p| !shared.join(p).is_dir())
        .collect();
    if missing.is_empty() {
        println!(
            "shared data: {} present; no test skipped for it",
            shared.display()
        );
        return ExitCode::SUCCESS;
    }
    let suites = suites_using_shared(&root.join("tests"));
    println!(
        "SKIPPED: {} lacks {}: the tests in {} that need it did not run",
        shared.display(),
        missing.join(", "),
        suites.join(", ")
    );
    if std::env::var("CI").as_deref() == Ok("true") {
        println!("failing: CI=true requires ../shared");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// The test targets that ask for `../shared` (through `common::shared_dir` or its helpers).
fn suites_using_shared(tests: &Path) -> Vec<String> {
    let mut out: Vec<String> = (std::fs::read_dir(tests).into_iter().flatten().flatten())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .filter(|p| {
            std::fs::read_to_string(p).is_ok_and(|t| {
                ["shared_dir()", "corpus_dir()"]
                    .iter()
                    .any(|call| t.contains(call))
            })
        })
        .filter(|p| !p.ends_with("shared_data.rs"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    out.sort();
    out
}
