//! A detached tmux session of fixed size running a shell, driven by keys and read with
//! `capture-pane`: how the end-to-end tests drive the real binary (`tui_e2e`,
//! `remote_workbench`). Each test target uses a tmux server of its own (`-L SOCKET`), so the
//! user's tmux (or a `kill-server` there) and the tests cannot disturb each other.

#![allow(clippy::unwrap_used)]

use std::process::Command;
use std::time::{Duration, Instant};

/// Whether tmux can be run at all; the callers skip (with the reason printed) when not.
pub fn installed() -> bool {
    Command::new("tmux").arg("-V").output().is_ok()
}

/// A tmux session running a shell; killed (by its own name) when dropped.
pub struct Session {
    socket: &'static str,
    name: String,
    /// How long `wait` polls before it fails.
    patience: Duration,
}

impl Session {
    /// A 160×45 session named `name` on the tmux server `socket`, whose `wait`s give up after
    /// `patience`.
    pub fn start(socket: &'static str, name: String, patience: Duration) -> Session {
        let session = Session {
            socket,
            name,
            patience,
        };
        let new_session = || {
            (session.tmux())
                .args(["new-session", "-d", "-s", &session.name])
                .args(["-x", "160", "-y", "45", "sh"])
                .env("PS1", "$ ")
                .status()
                .unwrap()
                .success()
        };
        // When another test ends the last session, the tmux server exits; a session started
        // at that moment fails ("server exited unexpectedly"), so try again.
        let ok = (0..5).any(|_| {
            new_session() || {
                std::thread::sleep(Duration::from_millis(200));
                false
            }
        });
        assert!(ok, "tmux new-session failed");
        session
    }

    fn tmux(&self) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.args(["-L", self.socket]);
        cmd
    }

    /// Sends tmux key names (`Enter`, `Escape`, …) or whole words.
    ///
    /// Each `Escape` goes alone and is followed by a pause: a terminal application that reads
    /// ESC and the next byte together takes them as one Alt-chord (`ESC q` is Alt+q, not Esc
    /// then q), so a following key would be lost.
    pub fn keys(&self, keys: &[&str]) {
        for part in keys.split_inclusive(|k| *k == "Escape") {
            let mut args = vec!["send-keys", "-t", &self.name];
            args.extend(part);
            assert!(self.tmux().args(&args).status().unwrap().success());
            if part.last() == Some(&"Escape") {
                std::thread::sleep(Duration::from_millis(150));
            }
        }
    }

    /// Types `text` as it is (no key names).
    pub fn literal(&self, text: &str) {
        let args = ["send-keys", "-t", &self.name, "-l", text];
        assert!(self.tmux().args(args).status().unwrap().success());
    }

    pub fn capture(&self) -> String {
        let out = (self.tmux())
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Polls the pane until `pred` holds, returning the screen; fails after the session's
    /// patience. A capture can catch a frame half drawn, so callers wait for the whole
    /// expectation rather than for its parts in turn.
    pub fn wait(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.capture();
            if pred(&screen) {
                return screen;
            }
            assert!(
                start.elapsed() < self.patience,
                "timed out waiting for {what}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn wait_for(&self, text: &str) -> String {
        self.wait(text, |s| s.contains(text))
    }

    /// The pid of the pane's shell.
    pub fn pane_pid(&self) -> Option<u32> {
        let out = (self.tmux())
            .args(["display-message", "-p", "-t", &self.name, "#{pane_pid}"])
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = (self.tmux())
            .args(["kill-session", "-t", &self.name])
            .status();
    }
}
