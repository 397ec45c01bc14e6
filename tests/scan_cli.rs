//! `huntbench scan` as a user runs it: what it prints and the summary it ends with; rule paths
//! that cannot be read fail `scan` and `rules check`.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_huntbench");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `scan --format jsonl` over the samples case with extra arguments; returns the JSON
/// lines and the summary line.
fn scan(dir: &Path, args: &[&str]) -> (Vec<serde_json::Value>, String) {
    let out = Command::new(BIN)
        .args(["scan", "--format", "jsonl", "--case"])
        .arg(dir.join("case"))
        .args(args)
        .arg(root().join("samples"))
        .env("HUNTBENCH_CONFIG_DIR", dir.join("config"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary = stderr
        .lines()
        .find(|l| l.contains(" rule(s) over "))
        .unwrap_or_else(|| panic!("no summary in:\n{stderr}"))
        .to_owned();
    (lines, summary)
}

/// The number written just before `what` in the summary (`56 hit(s)` → 56).
fn count_before(summary: &str, what: &str) -> Option<usize> {
    let at = summary.find(what)?;
    summary[..at].split_whitespace().last()?.parse().ok()
}

#[test]
fn summary_counts_what_was_output_and_silenced_hits_apart() {
    let dir = tempfile::tempdir().unwrap();
    let (all, _) = scan(dir.path(), &[]);
    // Every hit names the sample file it came from.
    for hit in &all {
        let file = Path::new(hit["file"].as_str().unwrap());
        assert_eq!(
            file.parent(),
            Some(root().join("samples").as_path()),
            "{hit}"
        );
    }
    // A correlation without `generate: true` silences its base rule (the WMI child rule).
    let burst = root().join("tests/fixtures/tui/wmi_burst.yml");
    let (lines, summary) = scan(dir.path(), &["--rules", burst.to_str().unwrap()]);
    let corr = lines
        .iter()
        .filter(|l| l.get("correlation").is_some())
        .count();
    let plain = lines.len() - corr;
    assert!(corr > 0, "{summary}");
    assert!(plain < all.len(), "the base rule's hits are not output");
    assert_eq!(count_before(&summary, " hit(s),"), Some(plain), "{summary}");
    assert_eq!(
        count_before(&summary, " correlation hit(s)"),
        Some(corr),
        "{summary}"
    );
    assert_eq!(
        count_before(&summary, " more hit(s) not output"),
        Some(all.len() - plain),
        "{summary}"
    );
    // Without silenced rules there is nothing to state apart.
    let (_, summary) = scan(dir.path(), &[]);
    assert!(!summary.contains("not output"), "{summary}");
}

/// `--min-level` decides what is output, not what runs: a high correlation counting a low rule
/// (directly, or through a low correlation it chains onto) finds what it finds without it.
#[test]
fn min_level_keeps_the_low_rules_a_high_correlation_counts() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = root().join("tests/fixtures/scan/level_chain.yml");
    let rules = ["--no-default-rules", "--rules", fixture.to_str().unwrap()];
    let (all, _) = scan(dir.path(), &rules);
    let high = [&rules[..], &["--min-level", "high"]].concat();
    let (lines, summary) = scan(dir.path(), &high);
    let titles = |lines: &[serde_json::Value], level: &str| -> Vec<String> {
        let mut t: Vec<String> = lines
            .iter()
            .filter(|l| l["level"] == level)
            .map(|l| l["rule_title"].as_str().unwrap().to_owned())
            .collect();
        t.sort();
        t.dedup();
        t
    };
    assert_eq!(
        titles(&all, "high"),
        [
            "Command shell bursts on one computer",
            "Many command shells on one computer"
        ],
        "both high correlations fire over the samples"
    );
    assert_eq!(
        titles(&all, "low"),
        ["Burst of command shells"],
        "the low correlation alerts without a level filter"
    );
    // Exactly the high correlation hits of the unfiltered run, and nothing else.
    let high_of_all: Vec<&serde_json::Value> =
        all.iter().filter(|l| l["level"] == "high").collect();
    assert_eq!(lines.iter().collect::<Vec<_>>(), high_of_all, "{summary}");
    assert_eq!(
        count_before(&summary, " correlation hit(s)"),
        Some(lines.len())
    );
    assert_eq!(
        count_before(&summary, " rule(s) over"),
        Some(0),
        "{summary}"
    );
    assert_eq!(
        count_before(&summary, " rule(s) below --min-level"),
        Some(1),
        "{summary}"
    );
}

/// A mistyped level is refused by the argument parser rather than running every rule.
#[test]
fn an_unknown_min_level_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["scan", "--min-level", "hihg", "--case"])
        .arg(dir.path().join("case"))
        .arg(root().join("samples"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("hihg") && stderr.contains("high"),
        "{stderr}"
    );
    assert!(!dir.path().join("case").exists(), "nothing ran");
}

/// A `--rules` path that cannot be read refuses the scan up front, naming the path, with the
/// exit code of ingest's bad paths; nothing is ingested.
#[test]
fn an_unreadable_rules_path_refuses_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-rules");
    let out = Command::new(BIN)
        .args(["scan", "--case"])
        .arg(dir.path().join("case"))
        .arg("--rules")
        .arg(&missing)
        .arg(root().join("samples"))
        .env("HUNTBENCH_CONFIG_DIR", dir.path().join("config"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&missing.display().to_string()) && stderr.contains("not scanning"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "no hits printed");
    assert!(!dir.path().join("case").exists(), "nothing ingested");
}

/// `rules check` counts a path it cannot read among the errors of its summary.
#[test]
fn rules_check_counts_an_unreadable_path_as_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-rules");
    let out = Command::new(BIN)
        .args(["rules", "check", "--no-default-rules", "--rules"])
        .arg(&missing)
        .env("HUNTBENCH_CONFIG_DIR", dir.path().join("config"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains(&missing.display().to_string()), "{stdout}");
    let summary = stdout
        .lines()
        .find(|l| l.contains(" error(s)"))
        .unwrap_or_else(|| panic!("no summary in:\n{stdout}"));
    assert_eq!(count_before(summary, " error(s)"), Some(1), "{summary}");
}

/// The JSON report's totals count an unreadable path as an error too, and list it.
#[test]
fn rules_check_json_counts_an_unreadable_path_as_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-rules");
    let out = Command::new(BIN)
        .args([
            "rules",
            "check",
            "--format",
            "json",
            "--no-default-rules",
            "--rules",
        ])
        .arg(&missing)
        .env("HUNTBENCH_CONFIG_DIR", dir.path().join("config"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["report"]["totals"]["error"], 1, "{stdout}");
    assert_eq!(
        v["unreadable"].as_array().map(Vec::len),
        Some(1),
        "{stdout}"
    );
}

/// `scan --format csv` has the workbench export's columns, the event as JSON last, and
/// timestamps of one width (so rows sort as text), for rule and correlation rows alike.
#[test]
fn scan_csv_rows_carry_the_event() {
    let dir = tempfile::tempdir().unwrap();
    let burst = root().join("tests/fixtures/tui/wmi_burst.yml");
    let out = Command::new(BIN)
        .args(["scan", "--format", "csv", "--case"])
        .arg(dir.path().join("case"))
        .args(["--rules", burst.to_str().unwrap()])
        .arg(root().join("samples"))
        .env("HUNTBENCH_CONFIG_DIR", dir.path().join("config"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut csv = csv::Reader::from_reader(out.stdout.as_slice());
    let header: Vec<String> = csv.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header, huntbench::hunt::HIT_CSV_COLUMNS);
    let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    assert!(rows.len() > 10, "{rows:?}");
    let mut correlations = 0;
    for row in &rows {
        assert_eq!(
            row[0].len(),
            "2024-03-12T07:41:00.0000000Z".len(),
            "{row:?}"
        );
        match serde_json::from_str::<serde_json::Value>(&row[13]).unwrap() {
            serde_json::Value::Array(events) => {
                correlations += 1;
                assert!(
                    row[12].starts_with(&format!("{} events", events.len())),
                    "{row:?}"
                );
            }
            event => assert_eq!(event["Computer"].as_str(), Some(&row[4]), "{row:?}"),
        }
    }
    assert!(correlations > 0, "the burst correlation has rows");
}

/// Two rule files with one id: only the later path runs, and `scan` and `rules check` both say
/// which was left out; a rule saved in the user's rules directory replacing its original is
/// a note, and `rules check` counts those rules as `scan` runs them.
#[test]
fn a_rule_replaced_by_another_of_the_same_id_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(rules.join("sub")).unwrap();
    let rule = |title: &str| {
        format!(
            "title: {title}\nid: 5b0e3c52-0000-4000-8000-000000000001\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    sel:\n        Image|endswith: '\\cmd.exe'\n    condition: sel\nlevel: high\n"
        )
    };
    std::fs::write(rules.join("a.yml"), rule("First copy")).unwrap();
    std::fs::write(rules.join("sub/b.yml"), rule("Second copy")).unwrap();
    let config = dir.path().join("config");
    let check = |format: &str| {
        Command::new(BIN)
            .args([
                "rules",
                "check",
                "--no-default-rules",
                "--format",
                format,
                "--rules",
            ])
            .arg(&rules)
            .env("HUNTBENCH_CONFIG_DIR", &config)
            .output()
            .unwrap()
    };
    let out = check("json");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["report"]["totals"]["loaded"], 1, "{v}");
    assert_eq!(v["report"]["totals"]["replaced"], 1, "{v}");
    let text = String::from_utf8_lossy(&check("table").stdout).into_owned();
    assert!(
        text.lines()
            .any(|l| l.starts_with("replaced") && l.contains("First copy") && l.contains("a.yml")),
        "{text}"
    );

    let scan = |extra: &[&str]| {
        let out = Command::new(BIN)
            .args(["scan", "--no-default-rules", "--format", "jsonl", "--case"])
            .arg(dir.path().join("case"))
            .args(extra)
            .arg(root().join("samples"))
            .env("HUNTBENCH_CONFIG_DIR", &config)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = scan(&["--rules", rules.to_str().unwrap()]);
    assert!(
        err.lines().any(|l| l.starts_with("warning: `First copy`")
            && l.contains("a.yml")
            && l.contains("b.yml")),
        "{err}"
    );
    // A saved edit of the rule: the scan says which version ran.
    std::fs::create_dir_all(config.join("rules")).unwrap();
    std::fs::write(config.join("rules/edited.yml"), rule("Edited")).unwrap();
    let err = scan(&["--rules", rules.join("a.yml").to_str().unwrap()]);
    assert!(
        err.lines()
            .any(|l| l.starts_with("note: `First copy` runs as saved in")
                && l.contains("edited.yml")),
        "{err}"
    );
}

/// A rule without a level, or with one Sigma does not know, still passes the lowest
/// threshold; the misspelling, and a `1 of` pattern naming no selection, are notes.
#[test]
fn rules_without_a_known_level_pass_the_lowest_threshold_and_typos_are_noted() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    let rule = |id: u8, extra: &str| {
        format!(
            "title: Rule {id}\nid: 5b0e3c52-0000-4000-8000-00000000000{id}\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    sel:\n        Image|endswith: '.exe'\n    filter_x:\n        Image: 'nothing'\n    condition: sel and not 1 of filters_*\n{extra}"
        )
    };
    std::fs::write(rules.join("none.yml"), rule(1, "")).unwrap();
    std::fs::write(rules.join("typo.yml"), rule(2, "level: crtical\n")).unwrap();
    let config = dir.path().join("config");
    let out = Command::new(BIN)
        .args(["rules", "check", "--no-default-rules", "--rules"])
        .arg(&rules)
        .env("HUNTBENCH_CONFIG_DIR", &config)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("unknown level `crtical`"), "{text}");
    assert_eq!(
        text.matches("`filters_*` names no selection").count(),
        2,
        "{text}"
    );
    let (lines, _) = scan(
        dir.path(),
        &[
            "--no-default-rules",
            "--min-level",
            "informational",
            "--rules",
            rules.to_str().unwrap(),
        ],
    );
    for title in ["Rule 1", "Rule 2"] {
        assert!(
            lines.iter().any(|l| l["rule_title"] == title),
            "{title} has hits at the lowest threshold"
        );
    }
    let (lines, _) = scan(
        dir.path(),
        &[
            "--no-default-rules",
            "--min-level",
            "low",
            "--rules",
            rules.to_str().unwrap(),
        ],
    );
    assert!(lines.is_empty(), "above informational: {}", lines.len());
}

/// A rule file that is not UTF-8 is a broken rule (with its position), not an unreadable
/// path: the other rules of its directory load and the scan runs.
#[test]
fn a_rule_file_that_is_not_text_is_a_broken_rule_and_the_scan_runs() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("good.yml"),
        "title: Good\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    sel:\n        Image|endswith: '.exe'\n    condition: sel\n",
    )
    .unwrap();
    std::fs::write(rules.join("latin1.yml"), b"title: caf\xe9\n").unwrap();
    let check = Command::new(BIN)
        .args(["rules", "check", "--no-default-rules", "--rules"])
        .arg(&rules)
        .env("HUNTBENCH_CONFIG_DIR", dir.path().join("config"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(
        text.contains("latin1.yml:1:11: not UTF-8"),
        "position of the first bad byte: {text}"
    );
    let (lines, summary) = scan(
        dir.path(),
        &["--no-default-rules", "--rules", rules.to_str().unwrap()],
    );
    assert!(!lines.is_empty(), "{summary}");
}

/// Placeholder values come from `placeholders.yml` in the config directory: without it the
/// rule is unsupported (and says where to add them), with it the rule loads.
#[test]
fn placeholder_values_come_from_the_config_directory() {
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("expand.yml");
    std::fs::write(
        &rule,
        "title: Admins\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    sel:\n        User|expand: '%Admins%'\n    condition: sel\n",
    )
    .unwrap();
    let config = dir.path().join("config");
    std::fs::create_dir_all(&config).unwrap();
    let check = || {
        let out = Command::new(BIN)
            .args(["rules", "check", "--no-default-rules", "--rules"])
            .arg(&rule)
            .env("HUNTBENCH_CONFIG_DIR", &config)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let text = check();
    assert!(
        text.starts_with("unsupported")
            && text.contains("placeholders.yml in the huntbench config directory"),
        "{text}"
    );
    std::fs::write(
        config.join("placeholders.yml"),
        "Admins: ['*\\Administrator']\n",
    )
    .unwrap();
    let text = check();
    assert!(text.contains("\n1 loaded, 0 unsupported"), "{text}");
}

/// `scan --format table` has a header and a channel column; CSV names a matched field=value
/// once even when two selections matched it.
#[test]
fn table_has_a_header_and_channels_and_matched_fields_are_named_once() {
    let dir = tempfile::tempdir().unwrap();
    let run = |format: &str| {
        let out = Command::new(BIN)
            .args(["scan", "--format", format, "--case"])
            .arg(dir.path().join("case"))
            .arg(root().join("samples"))
            .env("HUNTBENCH_CONFIG_DIR", dir.path().join("config"))
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let table = run("table");
    let header = table.lines().next().unwrap();
    for column in [
        "TIME", "LEVEL", "RULE", "COMPUTER", "CHANNEL", "EID", "DETAILS",
    ] {
        assert!(header.contains(column), "{header}");
    }
    assert!(table.lines().any(|l| l.contains(" Sysmon ")), "{table}");
    let csv = run("csv");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let matched = (reader.headers().unwrap().iter())
        .position(|h| h == "matched")
        .unwrap();
    for row in reader.records() {
        let row = row.unwrap();
        let pairs: Vec<&str> = row[matched].split("; ").collect();
        let mut unique = pairs.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), pairs.len(), "{:?}", &row[matched]);
    }
}

/// Your own rules (the config directory's `rules/`) run in every scan: a search saved as a
/// rule is counted even when it replaces nothing, and `--verbose` names it.
#[test]
fn scan_counts_your_own_rules_and_names_them_with_verbose() {
    let dir = tempfile::tempdir().unwrap();
    let own = dir.path().join("config/rules");
    std::fs::create_dir_all(&own).unwrap();
    let saved = "title: Saved Search For Wmic\nid: 5e1f0000-0000-4000-8000-000000000001\nlevel: medium\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    sel:\n        Image|endswith: '\\wmic.exe'\n    condition: sel\n";
    std::fs::write(own.join("search-wmic.yml"), saved).unwrap();
    let stderr = |extra: &[&str]| {
        let out = Command::new(BIN)
            .args(["scan", "--format", "jsonl", "--case"])
            .arg(dir.path().join("case"))
            .args(extra)
            .arg(root().join("samples"))
            .env("HUNTBENCH_CONFIG_DIR", dir.path().join("config"))
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let quiet = stderr(&[]);
    assert!(
        quiet.contains("1 of your own (--verbose names them)"),
        "{quiet}"
    );
    assert!(!quiet.contains("Saved Search For Wmic"), "{quiet}");
    let loud = stderr(&["--verbose"]);
    assert!(
        loud.contains("your rule: Saved Search For Wmic (search-wmic.yml)"),
        "{loud}"
    );
    // Without any, the count still says so.
    std::fs::remove_file(own.join("search-wmic.yml")).unwrap();
    assert!(stderr(&[]).contains("0 of your own"));
}
