//! `huntbench search` as a user runs it: logs given on the command line are ingested into the
//! case first, results come in time order, name their source file and stop at `--limit`;
//! without `--case` the inputs get a case in the user cache that the same inputs find again.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_huntbench");

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples")
}

/// Runs `search` over the samples case; returns stdout.
fn search(case: &Path, args: &[&str]) -> String {
    search_configured(None, case, args)
}

/// Runs `search` with `config` as the config directory, if given; returns stdout.
fn search_configured(config: Option<&Path>, case: &Path, args: &[&str]) -> String {
    let mut command = Command::new(BIN);
    if let Some(config) = config {
        command.env("HUNTBENCH_CONFIG_DIR", config);
    }
    let out = command
        .arg("search")
        .arg("--case")
        .arg(case)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn results_are_in_time_order_name_their_file_and_respect_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("case");
    let samples = samples();
    let all = search(
        &case,
        &["--format", "jsonl", samples.to_str().unwrap(), "EventID=1"],
    );
    let lines: Vec<serde_json::Value> = all
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() > 3, "{all}");
    let times: Vec<jiff::Timestamp> = lines
        .iter()
        .map(|l| l["timestamp"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    // One width, so the text sorts in time order too.
    let texts: Vec<&str> = lines
        .iter()
        .map(|l| l["timestamp"].as_str().unwrap())
        .collect();
    assert!(
        texts
            .iter()
            .all(|t| t.len() == "2024-01-01T00:00:00.0000000Z".len()),
        "{texts:?}"
    );
    assert!(texts.windows(2).all(|w| w[0] <= w[1]), "{texts:?}");
    for l in &lines {
        assert_eq!(l["event_id"], 1);
        let file = Path::new(l["file"].as_str().unwrap());
        assert_eq!(file.parent(), Some(samples.as_path()), "{l}");
        assert!(file.exists(), "{l}");
    }

    // The case is reused: no paths this time, and the limit cuts the same ordered list.
    let first_two = search(&case, &["--format", "jsonl", "--limit", "2", "EventID=1"]);
    let got: Vec<&str> = first_two.lines().collect();
    let want: Vec<&str> = all.lines().take(2).collect();
    assert_eq!(got, want);
    // "limit reached" only when the limit left results out.
    let summary = |limit: usize| {
        let out = Command::new(BIN)
            .args(["search", "--case", case.to_str().unwrap(), "--limit"])
            .arg(limit.to_string())
            .arg("EventID=1")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(summary(2).contains("limit reached"));
    assert!(
        !summary(lines.len()).contains("limit reached"),
        "{}",
        summary(lines.len())
    );
    // --limit 0: every match, streamed.
    assert_eq!(
        search(&case, &["--format", "jsonl", "--limit", "0", "EventID=1"]),
        all
    );
    assert!(summary(0).starts_with(&format!("{} event(s)\n", lines.len())));

    let csv = search(&case, &["--format", "csv", "EventID=1"]);
    let mut rows = csv.lines();
    assert_eq!(
        rows.next(),
        Some("timestamp,computer,channel,event_id,record_id,file,event")
    );
    assert_eq!(rows.count(), lines.len());
}

/// Runs `search` with the cache under `cache` and no `--case`; returns (stdout, stderr).
fn search_cached(cache: &Path, args: &[&str]) -> (String, String) {
    let out = Command::new(BIN)
        .arg("search")
        .args(args)
        .env("HUNTBENCH_CACHE_DIR", cache)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

#[test]
fn without_a_case_the_inputs_get_one_in_the_cache_reused_next_time() {
    let cache = tempfile::tempdir().unwrap();
    let samples = samples();
    let args = ["--format", "jsonl", samples.to_str().unwrap(), "EventID=1"];
    let (first, first_err) = search_cached(cache.path(), &args);
    assert!(first_err.contains("added"), "{first_err}");
    let cases: Vec<_> = std::fs::read_dir(cache.path().join("cases"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(cases.len(), 1);
    assert!(
        cases[0]
            .file_name()
            .to_string_lossy()
            .starts_with("samples-")
    );
    // The same inputs find the same case: nothing is ingested again, results are the same.
    let (second, second_err) = search_cached(cache.path(), &args);
    assert!(!second_err.contains("added"), "{second_err}");
    assert_eq!(second, first);
    assert_eq!(
        std::fs::read_dir(cache.path().join("cases"))
            .unwrap()
            .count(),
        1
    );
    // With neither a case nor inputs there is nothing to search.
    let out = Command::new(BIN)
        .args(["search", "EventID=1"])
        .env("HUNTBENCH_CACHE_DIR", cache.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--case"));
}

/// Writes one event as a JSONL export holds it, at 2024-05-01 10:00 UTC.
fn write_event(path: &Path, (id, channel): (u32, &str), computer: &str, data: serde_json::Value) {
    let event = serde_json::json!({"Event": {
        "System": {
            "EventID": id,
            "Channel": channel,
            "Computer": computer,
            "EventRecordID": 7,
            "TimeCreated": {"#attributes": {"SystemTime": "2024-05-01T10:00:00Z"}},
        },
        "EventData": data,
    }});
    std::fs::write(path, event.to_string()).unwrap();
}

/// CSV of hostile log content: no control character reaches the output (it is printed to
/// terminals) and no cell starts like a spreadsheet formula; the event column stays exact JSON.
#[test]
fn csv_output_escapes_controls_and_defuses_formulas() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("hostile.jsonl");
    let data = serde_json::json!({"Image": "C:\\a\u{202e}gpj.exe", "CommandLine": "x"});
    let computer = "=HYPERLINK(\"http://x\")\u{1b}]52;c;aGk=\u{7}";
    write_event(
        &input,
        (1, "Microsoft-Windows-Sysmon/Operational"),
        computer,
        data,
    );
    let case = dir.path().join("case");
    let ingest = Command::new(BIN)
        .args(["ingest", "--quiet", "--case"])
        .arg(&case)
        .arg(&input)
        .output()
        .unwrap();
    assert!(ingest.status.success());
    let out = search(&case, &["--format", "csv", "EventID=1"]);
    assert!(
        !out.chars()
            .any(|c| c == '\u{1b}' || c == '\u{7}' || c == '\u{202e}'),
        "{out:?}"
    );
    let mut csv = csv::Reader::from_reader(out.as_bytes());
    let row = csv.records().next().unwrap().unwrap();
    assert!(row[1].starts_with("'=HYPERLINK"), "{row:?}");
    let json: serde_json::Value = serde_json::from_str(&row[6]).unwrap();
    assert_eq!(
        json["Image"], "C:\\a\u{202e}gpj.exe",
        "the event column is exact"
    );
    // JSONL likewise: the same values, with the invisible override written as an escape.
    let out = search(&case, &["--format", "jsonl", "EventID=1"]);
    assert!(
        !out.chars().any(|c| c == '\u{1b}' || c == '\u{202e}'),
        "{out:?}"
    );
    let line: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(line["event"]["Image"], "C:\\a\u{202e}gpj.exe");
}

/// `--format table` has a header and a channel column, and says of each event what the
/// workbench's lists say (one summary function): a 4624 is its account, address and logon
/// type, not `ProcessName=-`.
#[test]
fn table_rows_have_a_header_a_channel_and_the_workbench_summary() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("case");
    let samples = samples();
    let query = "EventID=4624";
    let jsonl = search(
        &case,
        &["--format", "jsonl", samples.to_str().unwrap(), query],
    );
    let table = search(&case, &["--format", "table", query]);
    let mut lines = table.lines();
    let header = lines.next().unwrap();
    for column in ["TIME", "COMPUTER", "CHANNEL", "EID", "DETAILS"] {
        assert!(header.contains(column), "{header}");
    }
    let rows: Vec<&str> = lines.collect();
    let events: Vec<huntbench::event::Event> = jsonl
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            serde_json::from_value(v["event"].clone()).unwrap()
        })
        .collect();
    assert!(!events.is_empty());
    assert_eq!(rows.len(), events.len(), "{table}");
    for (row, event) in rows.iter().zip(&events) {
        assert!(row.contains(" Security "), "{row}");
        assert!(row.ends_with(&event.summary()), "{row}");
        assert!(row.contains("LogonType="), "{row}");
        assert!(!row.contains("ProcessName=-"), "{row}");
    }
}

/// The search reads fields through the mapping the rules are read through: with the user's
/// `mapping.yml` reading a 4688's `Image` from another field, `Image=` finds it there.
#[test]
fn a_search_reads_fields_through_the_users_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("4688.jsonl");
    let data = serde_json::json!({"ProcessPath": "C:\\Windows\\System32\\cmd.exe"});
    write_event(&input, (4688, "Security"), "ws1", data);
    let bundled = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("rules/mappings/windows.yml");
    let bundled = std::fs::read_to_string(bundled).unwrap();
    let own = bundled.replace(
        "          Image: NewProcessName\n",
        "          Image: ProcessPath\n",
    );
    assert_ne!(own, bundled);
    let (plain, custom) = (dir.path().join("plain"), dir.path().join("custom"));
    std::fs::create_dir_all(&plain).unwrap();
    std::fs::create_dir_all(&custom).unwrap();
    std::fs::write(custom.join("mapping.yml"), own).unwrap();
    let case = dir.path().join("case");
    let query = [
        "--format",
        "jsonl",
        input.to_str().unwrap(),
        "Image=*\\cmd.exe",
    ];
    let found = |config: &Path| {
        search_configured(Some(config), &case, &query)
            .lines()
            .count()
    };
    assert_eq!(found(&plain), 0, "the bundled mapping reads NewProcessName");
    assert_eq!(found(&custom), 1, "the user's mapping reads ProcessPath");
}
