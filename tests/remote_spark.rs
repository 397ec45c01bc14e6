//! The `remote` seam against real Spark Connect servers: the bundled samples exported with
//! `huntbench export --format parquet`, read by Sail (`scripts/sail-server`) and by a Spark
//! standalone cluster on 127.0.0.1 (`scripts/spark-cluster`: master, two workers, Spark
//! Connect), must hold the case's events: the same count, and the same counts by (Channel,
//! EventID) as `huntbench stats`.
//!
//! Needs what `scripts/remote-deps` installs (Java, a virtualenv with pyspark and pysail) and
//! `--features remote`. Outside CI a missing part skips with the reason; under `CI=true` it fails.
#![allow(clippy::unwrap_used)]

mod common;

use huntbench::remote::arrow::{Array, Int64Array, LargeStringArray, StringArray, StringViewArray};
use huntbench::remote::store::TableSource;
use huntbench::remote::table::Table;
use huntbench::remote::{RecordBatch, Remote, RemoteError};
use huntbench::store::EventRef;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::servers::{Server, present, repo, sail_present, sail_venv, spark_present};

const BIN: &str = env!("CARGO_BIN_EXE_huntbench");
/// Generous: a cold Spark cluster plans its first query for seconds on a busy machine.
const QUERY_TIMEOUT: Duration = Duration::from_secs(180);

/// huntbench with its configuration and cache under `home`.
fn huntbench(home: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .env("HUNTBENCH_CONFIG_DIR", home.join("cfg"))
        .env("HUNTBENCH_CACHE_DIR", home.join("cache"));
    command
}

fn hb(home: &Path, args: &[&str]) -> Output {
    let out = huntbench(home).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "huntbench {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Event counts: in all, and by (channel, EventID).
#[derive(Debug, PartialEq, Eq)]
struct Counts {
    events: u64,
    by_event_id: BTreeMap<(String, i64), u64>,
}

/// The bundled samples ingested into a case and exported to Parquet under `home`; returns
/// the export's directory and the case's counts as `huntbench stats` prints them.
fn export_samples(home: &Path) -> (PathBuf, Counts) {
    let case = home.join("case");
    let out = home.join("export");
    let samples = repo().join("samples");
    let (case_s, out_s) = (case.to_str().unwrap(), out.to_str().unwrap());
    hb(
        home,
        &["ingest", "-q", "--case", case_s, samples.to_str().unwrap()],
    );
    hb(
        home,
        &[
            "export", "--case", case_s, "--format", "parquet", "-o", out_s,
        ],
    );
    let stats = String::from_utf8(hb(home, &["stats", "--case", case_s]).stdout).unwrap();
    (out, parse_stats(&stats))
}

/// The total and the "events by EventID and channel" section of `huntbench stats`.
fn parse_stats(stats: &str) -> Counts {
    let events = stats
        .lines()
        .find_map(|l| l.strip_prefix("events "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let section = stats
        .split("\nevents by EventID and channel\n")
        .nth(1)
        .unwrap();
    let mut by_event_id = BTreeMap::new();
    for line in section.lines().take_while(|l| !l.is_empty()) {
        let (n, rest) = line.trim_start().split_once(char::is_whitespace).unwrap();
        let rest = rest.trim_start();
        if rest.starts_with('(') {
            continue; // events without an EventID
        }
        let (eid, channel) = rest.split_once("  ").unwrap();
        by_event_id.insert(
            (channel.trim().to_owned(), eid.parse().unwrap()),
            n.parse().unwrap(),
        );
    }
    assert!(!by_event_id.is_empty(), "{stats}");
    Counts {
        events,
        by_event_id,
    }
}

fn string_at(col: &dyn Array, i: usize) -> String {
    let any = col.as_any();
    if let Some(a) = any.downcast_ref::<StringArray>() {
        a.value(i).to_owned()
    } else if let Some(a) = any.downcast_ref::<LargeStringArray>() {
        a.value(i).to_owned()
    } else {
        any.downcast_ref::<StringViewArray>()
            .unwrap()
            .value(i)
            .to_owned()
    }
}

fn int_at(col: &dyn Array, i: usize) -> i64 {
    col.as_any().downcast_ref::<Int64Array>().unwrap().value(i)
}

fn rows(batches: &[RecordBatch]) -> impl Iterator<Item = (&RecordBatch, usize)> {
    batches
        .iter()
        .flat_map(|b| (0..b.num_rows()).map(move |i| (b, i)))
}

/// The same counts, asked of the server through the `remote` seam.
fn remote_counts(remote: &Remote, export: &Path) -> Counts {
    remote
        .register_parquet("events", export.to_str().unwrap(), QUERY_TIMEOUT)
        .unwrap();
    let total = remote
        .sql(
            "SELECT CAST(count(*) AS BIGINT) AS n FROM events",
            QUERY_TIMEOUT,
        )
        .unwrap();
    let events = rows(&total)
        .map(|(b, i)| int_at(b.column(0), i))
        .sum::<i64>();
    let grouped = remote
        .sql(
            "SELECT channel, CAST(event_id AS BIGINT) AS event_id, CAST(count(*) AS BIGINT) AS n \
             FROM events WHERE event_id IS NOT NULL \
             GROUP BY channel, event_id",
            QUERY_TIMEOUT,
        )
        .unwrap();
    let by_event_id = rows(&grouped)
        .map(|(b, i)| {
            let channel = if b.column(0).is_null(i) {
                String::new()
            } else {
                string_at(b.column(0), i)
            };
            let key = (channel, int_at(b.column(1), i));
            (key, u64::try_from(int_at(b.column(2), i)).unwrap())
        })
        .collect();
    Counts {
        events: u64::try_from(events).unwrap(),
        by_event_id,
    }
}

fn the_export_reads_as_the_case_holds_it(script: &'static str) {
    let home = tempfile::tempdir().unwrap();
    let (export, local) = export_samples(home.path());
    let server = Server::start(script);
    eprintln!(
        "{script}: {} started in {:.1?}",
        server.url, server.started_in
    );
    let remote = Remote::connect_with_token(&server.url, None).unwrap();
    let remote_counts = remote_counts(&remote, &export);
    assert_eq!(remote_counts, local, "{script} against huntbench stats");
    assert_eq!(local.events, 246, "the samples' events");
    the_days_bound_a_query_as_its_times_do(&remote, &export);
}

/// Opened on the export, a query for events of a time range also names their days, and holds
/// them all; opened on one day's directory (no `day` column), it names no days.
fn the_days_bound_a_query_as_its_times_do(remote: &Remote, export: &Path) {
    let source = |p: &Path| TableSource::Parquet(p.to_str().unwrap().to_owned());
    let table = Table::open(remote, &source(export), QUERY_TIMEOUT).unwrap();
    let span = remote
        .sql(
            &format!("SELECT min(unix_micros(time)), max(unix_micros(time)) FROM {table}"),
            QUERY_TIMEOUT,
        )
        .unwrap();
    let (first, last) = (int_at(span[0].column(0), 0), int_at(span[0].column(1), 0));
    let within = table.time_within(&[EventRef::new(first, 0), EventRef::new(last, 0)]);
    assert!(within.contains(" AND day BETWEEN '"), "{within}");
    let count = format!("SELECT CAST(count(*) AS BIGINT) FROM {table} WHERE true{within}");
    let n = rows(&remote.sql(&count, QUERY_TIMEOUT).unwrap())
        .map(|(b, i)| int_at(b.column(0), i))
        .sum::<i64>();
    assert_eq!(n, 246, "{count}");
    let one_day = std::fs::read_dir(export)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap();
    let table = Table::open(remote, &source(&one_day), QUERY_TIMEOUT).unwrap();
    let within = table.time_within(&[EventRef::new(first, 0), EventRef::new(last, 0)]);
    assert!(!within.contains("day"), "{within}");
}

#[test]
fn sail_reads_the_export_as_the_case_holds_it() {
    if present(
        sail_venv().join("bin/sail").is_file(),
        "a virtualenv with pysail",
    ) {
        the_export_reads_as_the_case_holds_it("sail-server");
    }
}

#[test]
fn a_spark_cluster_reads_the_export_as_the_case_holds_it() {
    if spark_present() {
        the_export_reads_as_the_case_holds_it("spark-cluster");
    }
}

#[test]
fn a_query_past_its_bound_times_out_and_is_interrupted() {
    if !present(
        sail_venv().join("bin/sail").is_file(),
        "a virtualenv with pysail",
    ) {
        return;
    }
    let server = Server::start("sail-server");
    let remote = Remote::connect_with_token(&server.url, None).unwrap();
    // A cross join far too big to finish within the bound (filtered, so that the count cannot
    // be taken from the sizes alone).
    let started = Instant::now();
    let err = remote
        .sql(
            "SELECT count(*) FROM range(100000000) a CROSS JOIN range(100000000) b \
             WHERE (a.id * 7 + b.id) % 1000003 = 17",
            Duration::from_secs(2),
        )
        .unwrap_err();
    assert!(matches!(err, RemoteError::TimedOut { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(20), "{err}");
    // The session still answers.
    let after = remote.sql("SELECT 1", QUERY_TIMEOUT).unwrap();
    assert_eq!(after.iter().map(RecordBatch::num_rows).sum::<usize>(), 1);
}

// ---- `scan --remote`: the same (rule, event) pairs as a local scan ----

/// The (rule, computer, channel, record id, time) of every hit line of a JSONL scan.
fn hit_keys(jsonl: &[u8]) -> std::collections::BTreeSet<(String, String, String, i64, String)> {
    let text = String::from_utf8_lossy(jsonl);
    text.lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            let rule = v["rule_id"]
                .as_str()
                .map_or_else(|| s("rule_title"), str::to_owned);
            let record = v["record_id"].as_i64().unwrap_or(-1);
            (
                rule,
                s("computer").to_lowercase(),
                s("channel"),
                record,
                s("timestamp"),
            )
        })
        .collect()
}

/// A case of `inputs` under `home`, exported to Parquet; returns (case, export).
fn case_and_export(home: &Path, inputs: &Path) -> (String, String) {
    let case = home.join("case").to_str().unwrap().to_owned();
    let export = home.join("export").to_str().unwrap().to_owned();
    hb(
        home,
        &["ingest", "-q", "--case", &case, inputs.to_str().unwrap()],
    );
    hb(
        home,
        &[
            "export", "--case", &case, "--format", "parquet", "-o", &export,
        ],
    );
    (case, export)
}

/// Scans the case locally and `export` on the server with `rules`, and compares the hits.
fn remote_scan_equals_local(
    server: &Server,
    home: &Path,
    case: &str,
    export: &str,
    rules: &[&str],
) -> usize {
    let mut local_args = vec!["scan", "--case", case, "--format", "jsonl"];
    local_args.extend(rules);
    let local = hb(home, &local_args);
    let mut remote_args = vec![
        "scan",
        "--remote",
        &server.url,
        "--table",
        export,
        "--format",
        "jsonl",
    ];
    remote_args.extend(rules);
    let started = Instant::now();
    let remote = hb(home, &remote_args);
    let (local, remote_keys) = (hit_keys(&local.stdout), hit_keys(&remote.stdout));
    eprintln!(
        "{}: {} hits, remote scan in {:.1?}: {}",
        server.script,
        local.len(),
        started.elapsed(),
        String::from_utf8_lossy(&remote.stderr)
            .lines()
            .last()
            .unwrap_or_default()
    );
    assert!(!local.is_empty(), "the local scan found nothing");
    let extra: Vec<_> = remote_keys.difference(&local).take(3).collect();
    let missing: Vec<_> = local.difference(&remote_keys).take(3).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "{}: extra {extra:?}, missing {missing:?}",
        server.script
    );
    local.len()
}

#[test]
fn sail_and_a_spark_cluster_scan_the_samples_as_a_local_scan_does() {
    let home = tempfile::tempdir().unwrap();
    let (case, export) = case_and_export(home.path(), &repo().join("samples"));
    if sail_present() {
        let server = Server::start("sail-server");
        remote_scan_equals_local(&server, home.path(), &case, &export, &[]);
    }
    if spark_present() {
        let server = Server::start("spark-cluster");
        remote_scan_equals_local(&server, home.path(), &case, &export, &[]);
    }
}

/// A case that keeps every copy of a repeated record (`ingest --keep-duplicates`) holds the
/// same event twice, from two files: a remote scan reports both copies, as a local one does,
/// since it tells fetched events apart by their `event_key`, not by their text.
#[test]
fn a_remote_scan_reports_every_copy_a_case_kept() {
    if !sail_present() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    // The same records in two files; a byte past the last chunk makes the second a different
    // file, which ingest reads again rather than skipping as already read.
    let inputs = home.path().join("inputs");
    let mut bytes = std::fs::read(repo().join("samples/wmi-spawned-process.evtx")).unwrap();
    for copy in ["a", "b"] {
        std::fs::create_dir_all(inputs.join(copy)).unwrap();
        std::fs::write(inputs.join(copy).join("wmi.evtx"), &bytes).unwrap();
        bytes.push(0);
    }
    let case = home.path().join("case").to_str().unwrap().to_owned();
    let export = home.path().join("export").to_str().unwrap().to_owned();
    let inputs = inputs.to_str().unwrap();
    hb(
        home.path(),
        &["ingest", "-q", "--keep-duplicates", "--case", &case, inputs],
    );
    let parquet = ["--format", "parquet", "-o", &export];
    hb(
        home.path(),
        &[&["export", "--case", &case][..], &parquet].concat(),
    );
    let server = Server::start("sail-server");
    let lines = |args: &[&str]| {
        let out = hb(home.path(), &[args, &["--format", "jsonl"]].concat());
        let text = String::from_utf8(out.stdout).unwrap();
        let mut hits: Vec<(String, String, i64)> = (text.lines())
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
                (s("rule_title"), s("file"), v["record_id"].as_i64().unwrap())
            })
            .collect();
        hits.sort();
        hits
    };
    let local = lines(&["scan", "--case", &case]);
    let remote = lines(&["scan", "--remote", &server.url, "--table", &export]);
    let in_b = local.iter().filter(|h| h.1.ends_with("b/wmi.evtx")).count();
    assert!(in_b > 0 && 2 * in_b == local.len(), "{local:?}");
    assert_eq!(remote, local);
}

/// Every SigmaHQ Windows rule (and the bundled pack) over the shared corpus, on Sail; the
/// process-creation rules (every modifier is among them) on the Spark cluster.
#[test]
fn sigmahq_rules_over_the_corpus_find_remotely_what_they_find_locally() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let (case, export) = case_and_export(home.path(), &shared.join("corpus/evtx"));
    let windows = shared.join("sigma/rules/windows");
    let creation = windows.join("process_creation");
    if sail_present() {
        let server = Server::start("sail-server");
        let rules = ["--rules", windows.to_str().unwrap()];
        remote_scan_equals_local(&server, home.path(), &case, &export, &rules);
    }
    if spark_present() {
        let server = Server::start("spark-cluster");
        let rules = ["--rules", creation.to_str().unwrap()];
        remote_scan_equals_local(&server, home.path(), &case, &export, &rules);
    }
}

/// Addresses written every way Rust's parser accepts or refuses them, tested with `cidr` on
/// IPv4 and IPv6 networks, plainly and negated: the SQL decides these rules by itself (no
/// candidate is confirmed locally), so it must parse an address exactly as the matcher does.
#[test]
fn cidr_reads_addresses_remotely_as_the_matcher_does() {
    if !sail_present() && !spark_present() {
        return;
    }
    // Each written as Rust's parser accepts it or not: compressed, padded, mixed case, with
    // an IPv4 tail, with white space around, too many groups, a zone, brackets.
    let addresses: Vec<String> = serde_json::from_str(
        &std::fs::read_to_string(repo().join("tests/fixtures/cidr-addresses.json")).unwrap(),
    )
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let inputs = home.path().join("inputs");
    std::fs::create_dir_all(&inputs).unwrap();
    let lines: Vec<String> = (addresses.iter().enumerate())
        .map(|(i, ip)| {
            let mut event = serde_json::json!({"Event": {
                "System": {
                    "Provider": {"#attributes": {"Name": "Microsoft-Windows-Security-Auditing"}},
                    "EventID": 4625,
                    "TimeCreated": {"#attributes": {"SystemTime": format!("2024-05-01T10:00:{i:02}.000000Z")}},
                    "EventRecordID": i + 1,
                    "Channel": "Security",
                    "Computer": "pc1"
                },
                // `IpAddress` holds one value in brackets, so it is read as a possible list
                // (an array per event); `ClientAddress` never does (one value per event).
                "EventData": {
                    "IpAddress": ip,
                    "ClientAddress": ip.trim_start_matches('['),
                    "TargetUserName": "admin"
                }
            }});
            // The first event has no time: it is in the export's null day partition, and a
            // fetch that includes it is bounded by time alone.
            if i == 0 {
                let system = event["Event"]["System"].as_object_mut().unwrap();
                system.remove("TimeCreated");
            }
            event.to_string()
        })
        .collect();
    std::fs::write(inputs.join("logons.jsonl"), lines.join("\n")).unwrap();
    // Private IPv6 and IPv4 peers, public peers (neither), and private IPv6 clients.
    let rules = repo().join("tests/fixtures/cidr-rules");
    let check = hb(
        home.path(),
        &[
            "rules",
            "check",
            "--remote",
            "--no-default-rules",
            "--rules",
            rules.to_str().unwrap(),
        ],
    );
    let table = String::from_utf8_lossy(&check.stdout);
    assert!(
        table.contains("4 rule(s) run as exact SQL; 0 narrowed"),
        "{table}"
    );
    let (case, export) = case_and_export(home.path(), &inputs);
    let untimed = Path::new(&export).join(format!("day={}", huntbench::export::UNTIMED_PARTITION));
    assert!(untimed.is_dir(), "{}", untimed.display());
    let args = ["--no-default-rules", "--rules", rules.to_str().unwrap()];
    for (present, script) in [
        (sail_present(), "sail-server"),
        (spark_present(), "spark-cluster"),
    ] {
        if present {
            let server = Server::start(script);
            let hits = remote_scan_equals_local(&server, home.path(), &case, &export, &args);
            // Each event is private by one of the first two rules or public by the third;
            // the fourth finds the IPv6 ones again.
            assert!(hits > addresses.len(), "{hits}");
        }
    }
}

// ---- faults ----

#[test]
fn a_server_stopped_mid_scan_ends_the_scan_with_a_clear_error() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    if !sail_present() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let (_, export) = case_and_export(home.path(), &shared.join("corpus/evtx"));
    let server = Server::start("sail-server");
    let windows = shared.join("sigma/rules/windows");
    // Small batches: minutes of queries, so the server goes while the scan runs.
    let scan = huntbench(home.path())
        .args([
            "scan",
            "--remote",
            &server.url,
            "--table",
            &export,
            "--remote-batch",
            "2",
        ])
        .args(["--rules", windows.to_str().unwrap(), "--format", "jsonl"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(8));
    let stopped_at = Instant::now();
    drop(server);
    let out = scan.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("no longer answers") || err.contains("cannot reach"),
        "{err}"
    );
    assert!(stopped_at.elapsed() < Duration::from_secs(120), "{err}");
}

#[test]
fn a_rule_whose_regex_backtracks_for_ever_times_out_alone() {
    if !spark_present() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let (case, export) = case_and_export(home.path(), &repo().join("samples"));
    // Ten `.*` in a row try n^10 ways through a command line of n characters on Java's
    // backtracking regex before failing on `QQQ`; Rust's regex is linear.
    let rules = home.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("backtracks.yml"),
        "title: Backtracks for ever\nid: 6c1f3b7e-0d55-4c83-9f44-5d1f2a9e0b11\nlogsource:\n  category: process_creation\n  product: windows\ndetection:\n  selection:\n    CommandLine|re: '.*.*.*.*.*.*.*.*.*.*QQQ'\n  condition: selection\nlevel: low\n",
    )
    .unwrap();
    let server = Server::start("spark-cluster");
    let local = hb(home.path(), &["scan", "--case", &case, "--format", "jsonl"]);
    let started = Instant::now();
    let out = huntbench(home.path())
        .args([
            "scan",
            "--remote",
            &server.url,
            "--table",
            &export,
            "--remote-timeout",
            "30",
        ])
        .args(["--rules", rules.to_str().unwrap(), "--format", "jsonl"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("rule not completed: Backtracks for ever"),
        "{err}"
    );
    assert_eq!(err.matches("rule not completed").count(), 1, "{err}");
    // Every other rule's hits are there.
    assert_eq!(hit_keys(&out.stdout), hit_keys(&local.stdout), "{err}");
    assert!(started.elapsed() < Duration::from_secs(400), "{err}");
}
