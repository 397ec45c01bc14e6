//! `rules check --remote` says, without a server, how each rule runs under `scan --remote`:
//! as exact SQL, or narrowed in SQL and confirmed by the exact matcher, with the reason.
#![allow(clippy::unwrap_used)]

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_huntbench");

fn rule(title: &str, id: &str, category: &str, selection: &str) -> String {
    format!(
        "title: {title}\nid: {id}\nlogsource:\n    product: windows\n    category: {category}\ndetection:\n    sel:\n        {selection}\n    condition: sel\nlevel: high\n"
    )
}

fn check(rules: &std::path::Path, config: &std::path::Path, extra: &[&str]) -> String {
    let out = Command::new(BIN)
        .args([
            "rules",
            "check",
            "--remote",
            "--no-default-rules",
            "--rules",
        ])
        .arg(rules)
        .args(extra)
        .env("HUNTBENCH_CONFIG_DIR", config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn rules_check_remote_names_the_path_of_each_rule_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    let exact = rule(
        "Cmd started",
        "5b0e3c52-0000-4000-8000-0000000000a1",
        "process_creation",
        "Image|endswith: '\\cmd.exe'",
    );
    let confirmed = rule(
        "Late start",
        "5b0e3c52-0000-4000-8000-0000000000a2",
        "process_creation",
        "UtcTime|hour: 23",
    );
    std::fs::write(rules.join("exact.yml"), exact).unwrap();
    std::fs::write(rules.join("confirmed.yml"), confirmed).unwrap();
    let config = dir.path().join("config");

    let table = check(&rules, &config, &["--all"]);
    assert!(table.contains("remote exact  Cmd started"), "{table}");
    let at = table.find("remote confirm Late start").unwrap();
    assert!(table[at..].contains("a time-part comparison"), "{table}");
    assert!(
        table.contains("1 rule(s) run as exact SQL; 1 narrowed in SQL and confirmed here"),
        "{table}"
    );
    // Without --all only the rules confirmed locally are named.
    assert!(!check(&rules, &config, &[]).contains("Cmd started"));

    let json: serde_json::Value =
        serde_json::from_str(&check(&rules, &config, &["--format", "json"])).unwrap();
    let paths: Vec<(String, String)> = (json["remote"].as_array().unwrap().iter())
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap().to_owned();
            (s("title"), s("path"))
        })
        .collect();
    assert!(
        paths.contains(&("Cmd started".into(), "exact".into())),
        "{paths:?}"
    );
    assert!(
        paths.contains(&("Late start".into(), "confirm".into())),
        "{paths:?}"
    );
}
