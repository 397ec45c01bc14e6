//! End-to-end: the real binary in a detached tmux session of fixed size, driven by keys and
//! checked on `capture-pane` text. Skips (with the reason printed) when tmux is missing.
#![allow(clippy::unwrap_used)]

#[path = "tui_e2e/bookmarks.rs"]
mod bookmarks;
mod common;
#[path = "tui_e2e/finding.rs"]
mod finding;
#[path = "tui_e2e/tree.rs"]
mod tree;

use common::tmux;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_huntbench");
const WMI_RULE: &str = "Process Started by the WMI Provider Host";

fn usable() -> bool {
    if !tmux::installed() {
        eprintln!("skipping: tmux is not installed");
        return false;
    }
    let help = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    if !help.contains("--theme") {
        assert!(
            std::env::var("CI").is_err(),
            "the binary has no workbench options (--theme)"
        );
        eprintln!("skipping: `huntbench --help` lists no --theme option (workbench not wired yet)");
        return false;
    }
    true
}

/// A tmux session (on a tmux server of these tests' own, sessions named by process id) with a
/// directory for the workbench's case and configuration.
struct Session {
    tmux: tmux::Session,
    dir: tempfile::TempDir,
}

impl std::ops::Deref for Session {
    type Target = tmux::Session;

    fn deref(&self) -> &tmux::Session {
        &self.tmux
    }
}

impl Session {
    fn start(tag: &str) -> Session {
        let name = format!("hb-e2e-{tag}-{}", std::process::id());
        Session {
            tmux: tmux::Session::start("huntbench-e2e", name, Duration::from_secs(20)),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn case(&self) -> PathBuf {
        self.dir.path().join("case")
    }

    fn open(&self, inputs: &[&Path]) {
        self.open_with(&[], inputs);
    }

    /// Like `open`, with extra arguments before the inputs.
    fn open_with(&self, args: &[&str], inputs: &[&Path]) {
        let cfg = self.dir.path().join("config");
        let mut cmd = format!(
            "HUNTBENCH_CONFIG_DIR='{}' '{BIN}' --case '{}'",
            cfg.display(),
            self.case().display()
        );
        for a in args {
            cmd.push_str(&format!(" '{a}'"));
        }
        for i in inputs {
            cmd.push_str(&format!(" '{}'", i.display()));
        }
        self.keys(&[&cmd, "Enter"]);
    }

    /// A workbench on the bundled samples, once the WMI rule shows its 24 hits; `None` (with
    /// the reason printed) where these tests cannot run.
    fn on_samples(tag: &str) -> Option<Session> {
        if !usable() {
            return None;
        }
        let s = Session::start(tag);
        s.open(&[&samples()]);
        s.wait("the WMI rule with its count", |sc| {
            rule_line(sc).is_some_and(|l| l.contains(" 24 "))
        });
        Some(s)
    }

    fn quit_and_check_terminal(&self) {
        self.keys(&["q"]);
        self.wait("shell prompt after quit", |s| {
            !s.contains("huntbench Rules")
        });
        self.keys(&["echo ok-$((1+1))", "Enter"]);
        self.wait_for("ok-2");
    }
}

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples")
}

fn rule_line(screen: &str) -> Option<String> {
    screen
        .lines()
        .find(|l| l.contains(WMI_RULE))
        .map(str::to_owned)
}

#[test]
fn rules_hits_detail_tree_and_clean_exit() {
    if !usable() {
        return;
    }
    let s = Session::start("basic");
    s.open(&[&samples()]);
    let screen = s.wait("the WMI rule with its count", |sc| {
        rule_line(sc).is_some_and(|l| l.contains(" 24 "))
    });
    assert!(screen.contains("huntbench Rules"));
    // Sorted by hits, the WMI rule is first: open its hits, then the first hit.
    s.keys(&["g", "Enter"]);
    s.wait_for("hits over time");
    s.keys(&["Enter"]);
    // A capture can catch a frame half drawn, so wait for the whole expectation.
    s.wait("the matched field marked", |sc| {
        sc.contains("why it matched") && sc.contains("▶ParentImage")
    });
    s.keys(&["p"]);
    let tree = s.wait("the tree", |sc| {
        sc.contains("Process tree on") && sc.contains("└─ WMIADAP.exe")
    });
    let parent = tree
        .lines()
        .position(|l| l.contains("WmiPrvSE.exe") && !l.contains("└─"))
        .unwrap();
    let child = tree
        .lines()
        .position(|l| l.contains("└─ WMIADAP.exe"))
        .unwrap();
    assert!(parent < child, "{tree}");
    s.quit_and_check_terminal();
}

/// The counts of a filtered list's title: rows kept, of how many (the breadcrumbs may show
/// the title cut short).
fn filter_counts(screen: &str) -> Option<(u64, u64)> {
    screen.split("· filter (").skip(1).find_map(|rest| {
        let (kept, rest) = rest.split_once(" of ")?;
        let (of, _) = rest.split_once(')')?;
        Some((kept.parse().ok()?, of.parse().ok()?))
    })
}

#[test]
fn a_filtered_timeline_drops_the_hits_of_a_rule_hidden_from_it() {
    let Some(s) = Session::on_samples("timeline") else {
        return;
    };
    s.keys(&["a"]);
    s.wait_for("Timeline: all enabled rules");
    s.keys(&["F"]);
    s.literal("Computer=WKS-HR-007*");
    s.keys(&["Enter"]);
    let screen = s.wait("the filtered timeline", |sc| filter_counts(sc).is_some());
    let (kept, of) = filter_counts(&screen).unwrap();
    // Space hides the rule of the selected hit: the filtered timeline follows.
    s.keys(&["Space"]);
    s.wait("the filtered timeline without that rule's hits", |sc| {
        filter_counts(sc).is_some_and(|(k, o)| k < kept && o < of)
    });
    s.quit_and_check_terminal();
}

/// Ticks of CPU time (user + system, all threads) of the workbench running in the pane.
fn cpu_ticks(s: &Session) -> Option<u64> {
    let fields = huntbench_under(workbench_parent(s)?)?.1;
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// The pid of the process the pane's shell started (the workbench's supervising parent).
fn workbench_parent(s: &Session) -> Option<u32> {
    Some(huntbench_under(s.pane_pid()?)?.0)
}

/// The workbench process itself: the child of its supervising parent.
fn workbench(s: &Session) -> Option<u32> {
    Some(huntbench_under(workbench_parent(s)?)?.0)
}

/// A `huntbench` process whose parent is `ppid`, with its `/proc/PID/stat` fields after the
/// command name (`state ppid … utime stime …`).
fn huntbench_under(ppid: u32) -> Option<(u32, Vec<String>)> {
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some((head, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let fields: Vec<String> = rest.split_whitespace().map(str::to_owned).collect();
        if head.ends_with("(huntbench") && fields.get(1) == Some(&ppid.to_string()) {
            let pid = head.split_whitespace().next()?.parse().ok()?;
            return Some((pid, fields));
        }
    }
    None
}

fn kill(signal: &str, pid: u32) {
    let ok = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {signal} {pid}");
}

/// Whatever ends the workbench (here `kill -9`, which no handler sees, and a SIGTERM to the
/// process the shell started), the shell gets its terminal back.
#[test]
fn a_killed_workbench_leaves_the_terminal_usable() {
    if !usable() || !Path::new("/proc/self/stat").exists() {
        return;
    }
    let s = Session::start("killed");
    let psexec = samples().join("psexec.evtx");
    s.open(&[&psexec]);
    s.wait("the rules", |sc| sc.contains("Rules:"));
    kill("-KILL", workbench(&s).expect("the workbench process"));
    s.wait_for("ended by signal 9 (SIGKILL); the terminal is restored");
    s.keys(&["echo ok-$((1+1))", "Enter"]);
    s.wait_for("ok-2");
    s.keys(&["clear", "Enter"]);
    s.open(&[]);
    s.wait("the rules", |sc| sc.contains("Rules:"));
    kill(
        "-TERM",
        workbench_parent(&s).expect("the supervising process"),
    );
    s.wait_for("ended by signal 15 (SIGTERM); the terminal is restored");
    s.keys(&["echo ok-$((2+2))", "Enter"]);
    s.wait_for("ok-4");
}

#[test]
fn an_idle_workbench_does_not_spin() {
    if !Path::new("/proc/self/stat").exists() {
        return;
    }
    let Some(s) = Session::on_samples("idle") else {
        return;
    };
    // Let the rule run and the first redraws settle, then measure two idle seconds.
    std::thread::sleep(Duration::from_millis(500));
    let before = cpu_ticks(&s).expect("the workbench process");
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(2));
    let ticks = cpu_ticks(&s).expect("the workbench process") - before;
    let clk_tck = 100.0; // USER_HZ on Linux
    let share = ticks as f64 / clk_tck / started.elapsed().as_secs_f64();
    assert!(
        share < 0.2,
        "idle workbench used {:.0}% of a core",
        share * 100.0
    );
    s.quit_and_check_terminal();
}

#[test]
fn editing_a_selection_changes_the_count() {
    let Some(s) = Session::on_samples("edit") else {
        return;
    };
    let text = std::fs::read_to_string(
        samples().join("../rules/windows/proc_creation_win_wmiprvse_child_process.yml"),
    )
    .unwrap();
    let line = text
        .lines()
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
    let screen = s.wait("a new count", |sc| {
        sc.contains("hits 24 → ") && !sc.contains("hits 24 → 24")
    });
    assert!(screen.contains("removed"), "{screen}");
    s.keys(&["C-s"]);
    s.wait("the saved rule's new count", |sc| {
        sc.contains("saved") && rule_line(sc).is_some_and(|l| !l.contains(" 24 "))
    });
    assert!(common::only_saved_rule(&s.dir.path().join("config/rules")).contains(WMI_RULE));
    s.keys(&["Escape"]);
    s.quit_and_check_terminal();
}

#[test]
fn marking_a_value_benign_writes_an_overlay_and_removes_hits() {
    let Some(s) = Session::on_samples("benign") else {
        return;
    };
    s.keys(&["g", "Enter"]);
    s.wait_for("hits over time");
    s.keys(&["Enter"]);
    s.wait_for("why it matched");
    // The cursor starts on the matched field (ParentImage = ...\WmiPrvSE.exe).
    s.keys(&["b"]);
    s.wait_for("24 → 0");
    let overlays = huntbench::overlay::load_overlays(&s.case());
    assert_eq!(overlays.len(), 1);
    assert!(overlays[0].text.contains("WmiPrvSE.exe"));
    s.quit_and_check_terminal();
}

#[test]
fn correlation_hits_open_to_events_and_a_user_key_opens_the_tree() {
    if !usable() {
        return;
    }
    let s = Session::start("corr");
    let cfg = s.dir.path().join("config");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(
        cfg.join("keymap.toml"),
        "[detail]\nproc_tree = \"P\"\n\n[hits]\nteleport = \"z\"\n",
    )
    .unwrap();
    let burst = samples().join("../tests/fixtures/tui/wmi_burst.yml");
    s.open_with(&["--rules", &burst.display().to_string()], &[&samples()]);
    let screen = s.wait("the correlation rule with its count", |sc| {
        sc.lines()
            .any(|l| l.contains("Burst of processes") && l.contains(" 3 "))
    });
    assert!(
        screen.contains("keymap.toml:5: no action `teleport`"),
        "{screen}"
    );
    // Only the correlation rule listed, then its hits, one hit's events, one event.
    s.keys(&["f"]);
    s.literal("Burst");
    s.keys(&["Enter", "g", "Enter"]);
    s.wait("correlation hits", |sc| {
        sc.contains("event_count of") && sc.contains("Computer=SRV-SQL-01")
    });
    s.keys(&["Enter"]);
    s.wait_for("events of Computer=");
    s.keys(&["Enter"]);
    s.wait_for("why it matched");
    s.keys(&["P"]);
    s.wait_for("Process tree on");
    s.keys(&["Escape", "Escape", "Escape", "Escape"]);
    s.quit_and_check_terminal();
}

#[test]
fn editing_a_correlation_changes_its_count_and_saves_beside_the_upstream_file() {
    if !usable() {
        return;
    }
    let s = Session::start("corr-edit");
    let burst = samples().join("../tests/fixtures/tui/wmi_burst.yml");
    let upstream = std::fs::read_to_string(&burst).unwrap();
    s.open_with(&["--rules", &burst.display().to_string()], &[&samples()]);
    let burst_line = |sc: &str| {
        sc.lines()
            .find(|l| l.contains("Burst of processes"))
            .map(str::to_owned)
    };
    s.wait("the correlation rule with its count", |sc| {
        burst_line(sc).is_some_and(|l| l.contains(" 3 "))
    });
    s.keys(&["f"]);
    s.literal("Burst");
    s.keys(&["Enter", "g", "e"]);
    s.wait_for("Editing correlation");
    let line = upstream.lines().position(|l| l.contains("gte: 3")).unwrap();
    for _ in 0..line {
        s.keys(&["Down"]);
    }
    s.keys(&["End", "BSpace"]);
    s.literal("5");
    let screen = s.wait("a new count", |sc| {
        sc.contains("hits 3 → ") && !sc.contains("hits 3 → 3")
    });
    assert!(screen.contains("removed"), "{screen}");
    s.keys(&["C-s"]);
    s.wait("the saved correlation's new count", |sc| {
        sc.contains("saved") && burst_line(sc).is_some_and(|l| !l.contains(" 3 "))
    });
    assert!(common::only_saved_rule(&s.dir.path().join("config/rules")).contains("gte: 5"));
    assert_eq!(std::fs::read_to_string(&burst).unwrap(), upstream);
    s.quit_and_check_terminal();
}

#[test]
fn opens_a_copy_of_corpus_files() {
    if !usable() {
        return;
    }
    let corpus =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/evtx/EVTX-ATTACK-SAMPLES");
    if !corpus.is_dir() {
        assert!(
            std::env::var("CI").is_err(),
            "../shared corpus missing under CI"
        );
        eprintln!("skipping: {} is absent", corpus.display());
        return;
    }
    let s = Session::start("corpus");
    let input = s.dir.path().join("input");
    std::fs::create_dir_all(&input).unwrap();
    let mut files: Vec<PathBuf> = walk(&corpus)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "evtx"))
        .collect();
    files.sort();
    for f in files.iter().take(4) {
        std::fs::copy(f, input.join(f.file_name().unwrap())).unwrap();
    }
    s.open(&[&input]);
    s.wait("rules list with events", |sc| {
        sc.contains("Rules:") && sc.contains(" events │")
    });
    s.quit_and_check_terminal();
}

/// The event count in the status line (" case x │ N events │ ...").
fn events_shown(screen: &str) -> Option<u64> {
    let before = screen.split(" events │").next()?;
    if before.len() == screen.len() {
        return None;
    }
    before.rsplit(' ').next()?.parse().ok()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p))
        } else {
            out.push(p)
        }
    }
    out
}

/// Another huntbench ingesting into the open case: the status line says the case on disk now
/// holds more events than this session shows.
#[test]
fn an_ingest_by_another_process_shows_in_the_status_line() {
    if !usable() {
        return;
    }
    let s = Session::start("grew");
    let psexec = samples().join("psexec.evtx");
    s.open(&[&psexec]);
    // The status line reads "0 events" while the case is still being ingested (and locked).
    let screen = s.wait("the case open", |sc| {
        events_shown(sc).is_some_and(|n| n > 0)
    });
    assert!(!screen.contains("reopen to include"), "{screen}");
    let out = Command::new(BIN)
        .args(["ingest", "--quiet", "--case"])
        .arg(s.case())
        .arg(samples().join("wmiexec.evtx"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    s.wait("the notice", |sc| sc.contains("events: reopen to include"));
    s.quit_and_check_terminal();
}
