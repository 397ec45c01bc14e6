//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

pub mod cli;
pub mod servers;
pub mod tmux;

/// `../shared` beside the checkout (corpus, SigmaHQ rules, regression data).
///
/// When it is absent the calling test prints why and returns `None` so it can skip — except
/// under `CI=true`, where a missing `../shared` is a failure.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared"));
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "../shared is required under CI=true but {} is missing",
        dir.display()
    );
    eprintln!(
        "skipped: {} not found (shared corpus and SigmaHQ data absent)",
        dir.display()
    );
    None
}

/// The shared EVTX corpus directory, if present.
pub fn corpus_dir() -> Option<PathBuf> {
    shared_dir().map(|d| d.join("corpus").join("evtx"))
}

/// Every `.evtx` file under `dir`, sorted.
pub fn evtx_files(dir: &std::path::Path) -> Vec<PathBuf> {
    files_with_extension(dir, "evtx")
}

/// Every file under `dir` whose extension is `ext` (any case), sorted.
pub fn files_with_extension(dir: &std::path::Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext)) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The text of the one rule the workbench saved in the user rules directory `rules_dir`;
/// fails when it saved none or several.
pub fn only_saved_rule(rules_dir: &std::path::Path) -> String {
    let saved: Vec<_> = std::fs::read_dir(rules_dir)
        .expect("the user rules directory exists")
        .flatten()
        .collect();
    assert_eq!(
        saved.len(),
        1,
        "exactly one saved rule in {}",
        rules_dir.display()
    );
    std::fs::read_to_string(saved[0].path()).expect("the saved rule is readable")
}
