//! Running the built `huntbench` from the CLI tests, and the two-host lateral movement
//! scenario several of them share (`tests/fixtures/lateral-movement.yml`, rendered by our
//! EVTX writer).

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub const BIN: &str = env!("CARGO_BIN_EXE_huntbench");

/// What a successful run printed.
pub struct Printed {
    pub stdout: String,
    pub stderr: String,
}

/// `huntbench ARGS` with its configuration under `dir/config`; fails unless it succeeds.
pub fn run(dir: &Path, args: &[&str]) -> Printed {
    let out = Command::new(BIN)
        .args(args)
        .env("HUNTBENCH_CONFIG_DIR", dir.join("config"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?}: {stderr}");
    Printed {
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr,
    }
}

/// `inputs` ingested into the case `dir/case`.
pub fn ingest(dir: &Path, inputs: &[&Path]) -> PathBuf {
    let case = dir.join("case");
    let mut args = vec!["ingest", "-q", "--case", case.to_str().unwrap()];
    args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
    run(dir, &args);
    case
}

/// The lateral movement scenario rendered into `dir/lateral-movement.evtx`.
pub fn lateral_movement(dir: &Path) -> PathBuf {
    let evtx = dir.join("lateral-movement.evtx");
    let yml = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lateral-movement.yml");
    let (yml, out) = (yml.to_str().unwrap(), evtx.to_str().unwrap());
    run(dir, &["synth", "--scenario", yml, "-o", out]);
    evtx
}
