//! A bookmark is on disk once the workbench says so: it survives `kill -9` and is listed,
//! with its note and tag, when the case is opened again.

use super::{Session, kill, workbench};
use std::path::Path;

#[test]
fn a_bookmark_survives_kill_9_and_reopening() {
    if !Path::new("/proc/self/stat").exists() {
        return;
    }
    let Some(s) = Session::on_samples("bookmarks") else {
        return;
    };
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
