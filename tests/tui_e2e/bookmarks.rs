//! A bookmark is on disk once the workbench says so: it survives `kill -9` and is listed,
//! with its note and tag, when the case is opened again.

use super::{Session, kill, rule_line, samples, usable, workbench};
use std::path::Path;

#[test]
fn a_bookmark_survives_kill_9_and_reopening() {
    if !usable() || !Path::new("/proc/self/stat").exists() {
        return;
    }
    let s = Session::start("bookmarks");
    s.open(&[&samples()]);
    s.wait("the WMI rule with its count", |sc| {
        rule_line(sc).is_some_and(|l| l.contains(" 24 "))
    });
    s.keys(&["g", "Enter"]);
    s.wait_for("hits over time");
    s.keys(&["m"]);
    s.wait_for("bookmark note");
    s.literal("first wmiexec shell #lateral");
    s.keys(&["Enter"]);
    s.wait_for("bookmarked: first wmiexec shell #lateral");
    kill("-KILL", workbench(&s).expect("the workbench process"));
    s.wait_for("ended by signal 9 (SIGKILL); the terminal is restored");
    s.keys(&["clear", "Enter"]);
    s.open(&[]);
    s.wait("the rules", |sc| sc.contains("Rules:"));
    s.keys(&["B"]);
    let screen = s.wait("the bookmark with its note and tag", |sc| {
        sc.contains("Bookmarks · 1 of 1") && sc.contains("first wmiexec shell")
    });
    assert!(screen.contains("#lateral"), "{screen}");
    assert!(!screen.contains("not in the case"), "{screen}");
    s.quit_and_check_terminal();
}
