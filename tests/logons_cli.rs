//! `huntbench logons` and `huntbench lateral` over a two-host scenario rendered by our EVTX
//! writer (`tests/fixtures/lateral-movement.yml`): the wmiexec shell on the server belongs to
//! admmig's network logon from the workstation's address, the ADMIN$ accesses and the rule
//! hits are in the same session, a process after the logoff that reuses the logon id is not,
//! and the workstation → server edge names the workstation by its own network events.

#![allow(clippy::unwrap_used)]

mod common;

use common::cli::{ingest, lateral_movement, run};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// What `huntbench ARGS` printed on its standard output.
fn stdout(dir: &Path, args: &[&str]) -> String {
    run(dir, args).stdout
}

/// The scenario rendered and ingested into a case under `dir`.
fn case(dir: &Path) -> PathBuf {
    ingest(dir, &[&lateral_movement(dir)])
}

fn jsonl(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn the_wmiexec_shell_belongs_to_the_network_logon_it_came_through() {
    let tmp = tempfile::tempdir().unwrap();
    let case = case(tmp.path());
    let sessions = jsonl(&stdout(
        tmp.path(),
        &[
            "logons",
            "--format",
            "jsonl",
            "--case",
            case.to_str().unwrap(),
        ],
    ));
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let s = &sessions[0];
    assert_eq!(s["computer"], "SRV-APP-04.corp.larkspur-logistics.example");
    assert_eq!(s["logon_id"], "0x7a1b2c");
    assert_eq!(s["user"], "LARKSPUR\\admmig");
    assert_eq!(s["logon_type"], 3);
    assert_eq!(s["source_ip"], "10.23.123.11");
    assert_eq!(s["elevated"], true);
    assert_eq!(s["start"], "2024-05-02T10:00:01.0000000Z");
    assert_eq!(s["end"], "2024-05-02T10:00:09.0000000Z");
    // The shell, not the svchost.exe that reused the id after the logoff.
    assert_eq!(s["processes"], 1);
    assert_eq!(s["share_accesses"], 2);
    // Both bundled wmiexec rules hit the shell.
    assert_eq!(s["hits"], 2);
    let csv = stdout(
        tmp.path(),
        &[
            "logons",
            "--format",
            "csv",
            "--case",
            case.to_str().unwrap(),
        ],
    );
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.starts_with("start,computer,logon_id,user,"), "{csv}");
}

#[test]
fn lateral_movement_names_the_source_host_by_its_own_events() {
    let tmp = tempfile::tempdir().unwrap();
    let case = case(tmp.path());
    let edges = jsonl(&stdout(
        tmp.path(),
        &[
            "lateral",
            "--format",
            "jsonl",
            "--case",
            case.to_str().unwrap(),
        ],
    ));
    assert_eq!(edges.len(), 1, "{edges:?}");
    let e = &edges[0];
    assert_eq!(e["from"], "WS-ADM-07.corp.larkspur-logistics.example");
    assert_eq!(e["from_ip"], "10.23.123.11");
    assert_eq!(e["to"], "SRV-APP-04.corp.larkspur-logistics.example");
    assert_eq!(e["user"], "LARKSPUR\\admmig");
    // The network logon on the server and the explicit credentials used on the workstation.
    assert_eq!(e["logon_types"], serde_json::json!([0, 3]));
    assert_eq!(e["count"], 2);
    assert_eq!(e["hits"], 2);
    let table = stdout(tmp.path(), &["lateral", "--case", case.to_str().unwrap()]);
    assert!(table.contains("WS-ADM-07"), "{table}");
}
