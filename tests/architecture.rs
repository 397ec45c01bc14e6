//! The import rules of ARCHITECTURE.md, checked on the source: only `index` uses tantivy, only
//! `ingest` the evtx crate, only `export` Parquet, only `remote` the Spark Connect client; the
//! faces (workbench and command line), the hunt and the process tree reach a case only through
//! the store trait, never `index`; and the command line does not open the workbench (`main`
//! picks the face).

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every line of code (comments left out) of the Rust files under `src/` that mentions
/// `needle`, as `path:line`, outside the allowed places.
fn uses(needle: &str, allowed: &[&str]) -> Vec<String> {
    let root = src();
    let mut found = Vec::new();
    for file in common::files_with_extension(&root, "rs") {
        let rel = file
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if allowed
            .iter()
            .any(|a| rel == *a || rel.starts_with(&format!("{a}/")))
        {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if code.contains(needle) {
                found.push(format!("src/{rel}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn only_index_uses_tantivy() {
    let found = uses("tantivy", &["index", "index.rs"]);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn only_ingest_uses_the_evtx_crate() {
    let found = uses("evtx::", &["ingest", "ingest.rs"]);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn only_export_uses_parquet() {
    let mut found = uses("parquet::", &["export", "export.rs"]);
    found.extend(uses("arrow_array", &["export", "export.rs"]));
    found.extend(uses("arrow_schema", &["export", "export.rs"]));
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn only_remote_uses_the_spark_connect_client() {
    let mut found = uses("spark_connect", &["remote", "remote.rs"]);
    found.extend(uses("spark_arrow", &["remote", "remote.rs"]));
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// Lines of code under the given modules (a module's file and its directory) that mention
/// `needle`; a module's own unit tests (`tests.rs`, `tests/`) may build what they test against.
fn uses_in(modules: &[&str], needle: &str) -> Vec<String> {
    let inside = |line: &String| {
        let rel = line.trim_start_matches("src/");
        let path = rel.split(':').next().unwrap_or("");
        let testing = path.ends_with("/tests.rs") || path.contains("/tests/");
        !testing
            && modules
                .iter()
                .any(|m| path == format!("{m}.rs") || path.starts_with(&format!("{m}/")))
    };
    uses(needle, &[]).into_iter().filter(inside).collect()
}

#[test]
fn faces_hunt_and_trees_reach_a_case_only_through_the_store() {
    let found = uses_in(
        &["tui", "cli", "hunt", "proctree", "logons", "report"],
        "crate::index",
    );
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_report_is_written_without_the_workbench() {
    let found = uses_in(&["report"], "crate::tui");
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_command_line_does_not_open_the_workbench() {
    let found = uses_in(&["cli"], "crate::tui");
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// Bookmarks are files in the case and events found through the store: the report and the
/// command line use them without the workbench or the index.
#[test]
fn bookmarks_need_neither_the_index_nor_the_workbench() {
    let mut found = uses_in(&["bookmarks"], "crate::index");
    found.extend(uses_in(&["bookmarks"], "crate::tui"));
    found.extend(uses_in(&["bookmarks"], "ratatui"));
    assert!(found.is_empty(), "{}", found.join("\n"));
}
