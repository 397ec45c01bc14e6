//! The Spark Connect servers the remote tests run against: a Spark standalone cluster on
//! 127.0.0.1 (`scripts/spark-cluster`) and Sail (`scripts/sail-server`), started by the
//! repository's scripts with the virtualenvs `scripts/remote-deps` makes, stopped by PID.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A virtualenv `scripts/remote-deps` makes: from `variable` (the scripts read the same one),
/// else `default` under ~/.cache/huntbench-tests.
pub fn venv(variable: &str, default: &str) -> PathBuf {
    std::env::var_os(variable).map_or_else(
        || {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/huntbench-tests")
                .join(default)
        },
        PathBuf::from,
    )
}

pub fn spark_venv() -> PathBuf {
    venv("HUNTBENCH_SPARK_VENV", "spark-venv")
}

pub fn sail_venv() -> PathBuf {
    venv("HUNTBENCH_SAIL_VENV", "sail-venv")
}

/// Prints why the test skips and returns false; under `CI=true` a missing part fails.
pub fn present(ok: bool, what: &str) -> bool {
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{what} is required under CI=true (scripts/remote-deps installs it)"
        );
        eprintln!("skipped: {what} not found (run scripts/remote-deps)");
    }
    ok
}

/// Sail's virtualenv is there (printing why not, failing under CI).
pub fn sail_present() -> bool {
    present(
        sail_venv().join("bin/sail").is_file(),
        "a virtualenv with pysail",
    )
}

/// Java and pyspark's virtualenv are there for a Spark cluster (printing why not, failing
/// under CI).
pub fn spark_present() -> bool {
    present(java_found(), "java")
        && present(
            spark_venv().join("bin/spark-submit").is_file(),
            "a virtualenv with pyspark",
        )
}

pub fn java_found() -> bool {
    Command::new("java")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A server started by one of the repository's scripts, stopped by its PIDs when dropped
/// (also when the test panics).
pub struct Server {
    pub script: &'static str,
    dir: tempfile::TempDir,
    pub url: String,
    pub started_in: Duration,
}

impl Server {
    pub fn start(script: &'static str) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let started = Instant::now();
        let out = Command::new(repo().join("scripts").join(script))
            .arg("start")
            .arg(dir.path())
            .env("HUNTBENCH_SPARK_VENV", spark_venv())
            .env("HUNTBENCH_SAIL_VENV", sail_venv())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{script} start failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let url = std::fs::read_to_string(dir.path().join("url")).unwrap();
        Server {
            script,
            dir,
            url: url.trim().to_owned(),
            started_in: started.elapsed(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let stopped = Command::new(repo().join("scripts").join(self.script))
            .arg("stop")
            .arg(self.dir.path())
            .status();
        if !stopped.is_ok_and(|s| s.success()) {
            eprintln!(
                "{} stop failed for {}",
                self.script,
                self.dir.path().display()
            );
        }
    }
}
