//! End to end: `huntbench --remote sc://… --table EXPORT` in a detached tmux session against
//! Sail: a rule's count and hits, an event with why it matched, its process tree, a value
//! pivot, and a live edit with its count delta, all over the remote store; and against a Spark
//! cluster, Esc stopping a search that would run for ever there.

use super::{BIN, Server, case_and_export, sail_present, spark_present};
use crate::common::tmux::{self, Session};
use std::path::Path;
use std::time::{Duration, Instant};

const WMI_RULE: &str = "Process Started by the WMI Provider Host";

/// A tmux session on a tmux server of this test's own; its waits allow 60 s, as every step
/// is a query on the server.
fn session() -> Session {
    let name = format!("hb-remote-{}", std::process::id());
    Session::start("huntbench-remote-e2e", name, Duration::from_secs(60))
}

fn rule_line(screen: &str) -> Option<String> {
    (screen.lines())
        .find(|l| l.contains(WMI_RULE))
        .map(str::to_owned)
}

/// Starts the workbench in `s` over `server`'s copy of `export`, its state under `home`.
fn open_workbench(s: &Session, home: &Path, server: &Server, export: &Path) {
    let (cfg, cache) = (home.join("cfg"), home.join("cache"));
    s.keys(&[
        &format!(
            "HUNTBENCH_CONFIG_DIR='{}' HUNTBENCH_CACHE_DIR='{}' '{BIN}' --remote '{}' --table '{}'",
            cfg.display(),
            cache.display(),
            server.url,
            export.display()
        ),
        "Enter",
    ]);
}

/// The samples' export served by the server `script` starts (when `present`), and the
/// workbench opened on it in a tmux session; `None` (the test skips) when a part is missing.
fn workbench_on(
    script: &'static str,
    present: bool,
) -> Option<(Session, Server, tempfile::TempDir)> {
    if !present {
        return None;
    }
    if !tmux::installed() {
        eprintln!("skipped: tmux is not installed");
        return None;
    }
    let home = tempfile::tempdir().unwrap();
    let (_, export) = case_and_export(home.path());
    let server = Server::start(script);
    let s = session();
    open_workbench(&s, home.path(), &server, &export);
    Some((s, server, home))
}

#[test]
fn the_workbench_over_remote_opens_hits_a_tree_a_pivot_and_a_live_edit() {
    let Some((s, _server, home)) = workbench_on("sail-server", sail_present()) else {
        return;
    };
    let screen = s.wait("the WMI rule with its count", |sc| {
        rule_line(sc).is_some_and(|l| l.contains(" 24 "))
    });
    assert!(screen.contains("246 events"), "{screen}");
    // The rule's hits, the first hit with why it matched, its process tree.
    s.keys(&["g", "Enter"]);
    s.wait_for("hits over time");
    s.keys(&["Enter"]);
    s.wait("the matched field marked", |sc| {
        sc.contains("why it matched") && sc.contains("▶ParentImage")
    });
    s.keys(&["p"]);
    let tree = s.wait("the tree", |sc| {
        sc.contains("Process tree on") && sc.contains("└─ WMIADAP.exe")
    });
    assert!(tree.contains("WmiPrvSE.exe"), "{tree}");
    // Back to the event: the events with the same ParentImage (the cursor is on it).
    s.keys(&["Escape"]);
    s.wait_for("why it matched");
    s.keys(&["v"]);
    s.wait("the value pivot", |sc| {
        sc.contains("ParentImage = ")
            && sc.contains("WmiPrvSE.exe")
            && sc.contains("hits over time")
    });
    for _ in 0..3 {
        s.keys(&["Escape"]);
    }
    s.wait("the rules list", |sc| {
        rule_line(sc).is_some_and(|l| l.contains(" 24 ")) && !sc.contains("why it matched")
    });
    // A live edit: its new count is asked of the server.
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("rules/windows/proc_creation_win_wmiprvse_child_process.yml"),
    )
    .unwrap();
    let line = (text.lines())
        .position(|l| l.contains("ParentImage|endswith"))
        .unwrap();
    s.keys(&["g", "e"]);
    s.wait_for("Editing");
    for _ in 0..line {
        s.keys(&["Down"]);
    }
    s.keys(&["End"]);
    for _ in 0.."WmiPrvSE.exe'".len() {
        s.keys(&["BSpace"]);
    }
    s.literal("svchost.exe'");
    s.wait("a new count", |sc| {
        sc.contains("hits 24 → ") && !sc.contains("hits 24 → 24")
    });
    s.keys(&["Escape"]);
    s.wait_for("discard");
    s.keys(&["Escape"]);
    s.keys(&["q"]);
    s.wait("the shell back", |sc| !sc.contains("huntbench Rules"));
    // The workbench's own state went under the cache directory, not beside the export.
    assert!(home.path().join("cache/remote").is_dir());
}

/// Esc while a search runs on the server stops it there: the search is a regular expression
/// that Java's backtracking engine (the Spark cluster's; Sail's is linear) would try for hours
/// on a command line, and the workbench answers the next question at once.
#[test]
fn esc_stops_a_search_running_on_a_spark_cluster() {
    let Some((s, _server, _home)) = workbench_on("spark-cluster", spark_present()) else {
        return;
    };
    s.wait("the rules counted", |sc| {
        rule_line(sc).is_some_and(|l| l.contains(" 24 ")) && !sc.contains("working:")
    });
    // Ten `.*` try n^10 ways through a command line of n characters before failing on QQQ.
    s.keys(&["/"]);
    s.literal("CommandLine|re=.*.*.*.*.*.*.*.*.*.*QQQ");
    s.keys(&["Enter"]);
    s.wait_for("working: query");
    std::thread::sleep(Duration::from_secs(5));
    let running = s.capture();
    assert!(running.contains("working: query"), "{running}");
    let pressed = Instant::now();
    s.keys(&["Escape"]);
    let stopped = s.wait("the search stopped", |sc| !sc.contains("working:"));
    assert!(
        pressed.elapsed() < Duration::from_secs(30),
        "{:?}: {stopped}",
        pressed.elapsed()
    );
    assert!(!stopped.contains("search: CommandLine"), "{stopped}");
    assert!(
        stopped.contains("the query was stopped on the server"),
        "{stopped}"
    );
    // The next search is answered while the stopped one's task may still spin on an executor.
    s.keys(&["/"]);
    s.literal("EventID=4688");
    s.keys(&["Enter"]);
    s.wait("the next search's results", |sc| {
        sc.contains("search: EventID=4688") && sc.contains("4688")
    });
    s.keys(&["q"]);
}
