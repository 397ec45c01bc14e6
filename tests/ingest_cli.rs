//! `huntbench ingest` and `huntbench stats` as a user runs them: a bad path is reported while
//! every good file is still ingested, a second run adds nothing, and `stats` agrees with the
//! case; a case inside the inputs is not read as evidence; commands given a case and no inputs
//! refuse a directory that is not one.
#![allow(clippy::unwrap_used)]

use huntbench::index::Case;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_huntbench");

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples")
}

fn run(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The number just before `what` in `line` (`added 5 file(s)` → 5).
fn count_before(line: &str, what: &str) -> Option<u64> {
    let at = line.find(what)?;
    line[..at].split_whitespace().last()?.parse().ok()
}

/// The value of a `name   value` line of `stats`.
fn stat(stdout: &str, name: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
        .unwrap_or_else(|| panic!("no {name} in:\n{stdout}"))
}

#[test]
fn ingest_reports_bad_paths_keeps_the_rest_and_stats_agree_with_the_case() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("case");
    let missing = dir.path().join("no-such.evtx");
    let evtx_files = std::fs::read_dir(samples())
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "evtx"))
        .count() as u64;

    let first = run(&[
        "ingest".as_ref(),
        "--case".as_ref(),
        case.as_os_str(),
        samples().as_os_str(),
        missing.as_os_str(),
    ]);
    let err = text(&first.stderr);
    assert_eq!(
        first.status.code(),
        Some(2),
        "a bad path fails the run: {err}"
    );
    assert!(err.contains(&missing.display().to_string()), "{err}");
    assert_eq!(count_before(&err, " file(s),"), Some(evtx_files), "{err}");
    let events = Case::open(&case).unwrap().num_events();
    assert!(events > 0);
    assert_eq!(count_before(&err, " events ("), Some(events), "{err}");

    let again = run(&[
        "ingest".as_ref(),
        "--case".as_ref(),
        case.as_os_str(),
        samples().as_os_str(),
    ]);
    let err = text(&again.stderr);
    assert!(again.status.success(), "{err}");
    assert_eq!(count_before(&err, " file(s),"), Some(0), "{err}");
    assert_eq!(
        count_before(&err, " input file(s) already in the case"),
        Some(evtx_files),
        "{err}"
    );

    let stats = run(&["stats".as_ref(), "--case".as_ref(), case.as_os_str()]);
    assert!(stats.status.success(), "{}", text(&stats.stderr));
    let out = text(&stats.stdout);
    assert_eq!(stat(&out, "files"), evtx_files.to_string());
    assert_eq!(stat(&out, "events"), events.to_string());
    let first_ts: jiff::Timestamp = stat(&out, "first").parse().unwrap();
    let last_ts: jiff::Timestamp = stat(&out, "last").parse().unwrap();
    assert!(first_ts <= last_ts);
    // Each breakdown adds up to every event.
    for section in [
        "events by channel",
        "events by EventID and channel",
        "events by computer",
    ] {
        let total: u64 = out
            .split(section)
            .nth(1)
            .unwrap()
            .lines()
            .skip(1)
            .take_while(|l| !l.is_empty())
            .map(|l| l.split_whitespace().next().unwrap().parse::<u64>().unwrap())
            .sum();
        assert_eq!(total, events, "{section}:\n{out}");
    }
    // EventIDs are counted within their channel: Sysmon's 1 is named as Sysmon's.
    assert!(
        out.lines().any(|l| l
            .trim_end()
            .ends_with("    1  Microsoft-Windows-Sysmon/Operational")),
        "{out}"
    );
}

#[test]
fn stats_of_a_missing_case_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing-here");
    let out = run(&["stats".as_ref(), "--case".as_ref(), missing.as_os_str()]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("nothing-here") && err.contains("not a huntbench case"),
        "{err}"
    );
    assert!(
        !Path::new(&missing).join("index").exists(),
        "stats creates nothing"
    );
}

/// `scan` and the workbench given no inputs refuse a directory that is not a case, as `stats`
/// does, and create nothing (a mistyped `--case` used to become an empty case: 0 hits, exit 0).
/// The workbench fails before it takes over the terminal, so no TTY is needed here.
#[test]
fn scan_and_the_workbench_refuse_a_missing_case() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("typo_case");
    for args in [&["scan", "--case"][..], &["--case"]] {
        let out = Command::new(BIN)
            .args(args)
            .arg(&missing)
            .env("HUNTBENCH_CONFIG_DIR", dir.path().join("config"))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert!(!out.status.success(), "{args:?}: {err}");
        assert!(
            err.contains("typo_case") && err.contains("not a huntbench case"),
            "{args:?}: {err}"
        );
        assert!(!missing.exists(), "{args:?} creates nothing");
    }
}

/// A case inside the input tree, the target case or another, is skipped and said so: its index
/// metadata is JSON that used to be ingested as events, a few more on every run.
#[test]
fn a_case_inside_the_inputs_is_not_ingested() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("selfin");
    std::fs::create_dir(&tree).unwrap();
    let sample = samples().join("psexec.evtx");
    std::fs::copy(&sample, tree.join("psexec.evtx")).unwrap();
    let expected = huntbench::ingest::read_all(&sample).unwrap().0.len() as u64;
    let ingest = |case: &Path| {
        let out = run(&[
            "ingest".as_ref(),
            "--quiet".as_ref(),
            "--case".as_ref(),
            case.as_os_str(),
            tree.as_os_str(),
        ]);
        let err = text(&out.stderr);
        assert!(out.status.success(), "{err}");
        err
    };
    // Another case in the tree, itself ingested from the tree.
    let other = tree.join("other");
    let err = ingest(&other);
    assert!(err.contains("the case being ingested into"), "{err}");
    assert_eq!(Case::open(&other).unwrap().num_events(), expected);

    let case = tree.join("case");
    for run in 0..2 {
        let err = ingest(&case);
        let skipped = |d: &Path, why: &str| {
            err.lines().any(|l| {
                l.starts_with("skipped: ") && l.contains(&*d.to_string_lossy()) && l.contains(why)
            })
        };
        assert!(skipped(&case, "the case being ingested into"), "{err}");
        assert!(skipped(&other, "a huntbench case"), "{err}");
        let added = if run == 0 { expected } else { 0 };
        assert_eq!(
            count_before(&err, " events ("),
            Some(added),
            "run {run}: {err}"
        );
        assert_eq!(Case::open(&case).unwrap().num_events(), expected);
    }

    // A file inside a case, named on its own, is no more evidence than the case.
    let inside = other.join("index").join("meta.json");
    let out = run(&[
        "ingest".as_ref(),
        "--case".as_ref(),
        case.as_os_str(),
        inside.as_os_str(),
    ]);
    let err = text(&out.stderr);
    assert!(
        err.lines()
            .any(|l| l.starts_with("skipped: ") && l.contains("a huntbench case")),
        "{err}"
    );
    assert_eq!(count_before(&err, " events ("), Some(0), "{err}");
}

/// `scan` and `search` given a missing input path still work on the rest, and say so in their
/// exit status as `ingest` does.
#[test]
fn scan_and_search_with_a_bad_path_keep_the_rest_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such.evtx");
    for (i, command) in ["scan", "search"].into_iter().enumerate() {
        let case = dir.path().join(format!("case{i}"));
        let mut args: Vec<std::ffi::OsString> = vec![
            command.into(),
            "--case".into(),
            case.into_os_string(),
            samples().into_os_string(),
            missing.clone().into_os_string(),
        ];
        if command == "search" {
            args.push("EventID=1".into());
        } else {
            args.extend(["--format".into(), "jsonl".into()]);
        }
        let args: Vec<&std::ffi::OsStr> = args.iter().map(AsRef::as_ref).collect();
        let out = run(&args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command}: {err}");
        assert!(
            err.contains(&missing.display().to_string()),
            "{command}: {err}"
        );
        assert!(
            text(&out.stdout).lines().count() > 0,
            "{command} still outputs: {err}"
        );
    }
}

/// Each `stats` section adds up to the events: those without an EventID (or channel, or
/// computer) are counted on a row of their own.
#[test]
fn stats_sections_count_events_without_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("odd.jsonl");
    std::fs::write(
        &log,
        "{\"Channel\": \"Security\", \"Computer\": \"dc1\", \"EventID\": 4624}\n{\"Message\": \"no system fields\"}\n",
    )
    .unwrap();
    let case = dir.path().join("case");
    let out = run(&[
        "ingest".as_ref(),
        "--quiet".as_ref(),
        "--case".as_ref(),
        case.as_os_str(),
        log.as_os_str(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&["stats".as_ref(), "--case".as_ref(), case.as_os_str()]);
    let stdout = text(&out.stdout);
    for missing in ["(no EventID)", "(no channel)", "(no computer)"] {
        assert!(
            stdout.lines().any(|l| l.trim() == format!("1  {missing}")),
            "{missing}: {stdout}"
        );
    }
}

/// `synth --scenario X` without `-o` is an error naming what is missing (it listed the
/// scenarios and exited 0, writing nothing).
#[test]
fn synth_without_an_output_file_says_so() {
    let out = Command::new(BIN)
        .args(["synth", "--scenario", "psexec"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs -o FILE.evtx"));
    assert!(out.stdout.is_empty());
}

/// Files in an input directory that are not event logs are not read, and a note counts them
/// (they were passed over without a word).
#[test]
fn files_that_are_not_logs_are_counted_in_a_note() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("collection");
    std::fs::create_dir_all(input.join("sub")).unwrap();
    std::fs::copy(samples().join("psexec.evtx"), input.join("psexec.evtx")).unwrap();
    std::fs::write(input.join("notes.txt"), "triage notes").unwrap();
    std::fs::write(input.join("sub/hives.dat"), [0u8; 64]).unwrap();
    let case = tmp.path().join("case");
    let out = Command::new(BIN)
        .args(["ingest", "--quiet", "--case"])
        .arg(&case)
        .arg(&input)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("collection: 2 file(s) under it are not event logs"),
        "{stderr}"
    );
    assert!(stderr.contains("added 1 file(s)"), "{stderr}");
}

/// Inputs that hold no event log (a mistyped path, an empty folder) make no case: every
/// command that ingests says why and exits non-zero, and nothing is left in the cache. An
/// empty folder given to an existing case is said too (it read as "0 events" without a word).
#[test]
fn inputs_with_no_event_log_create_no_case_and_say_why() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let missing = tmp.path().join("no-such-dir");
    let cache = tmp.path().join("cache");
    for (input, why) in [
        (&empty, "no event logs in this directory: it is empty"),
        (&missing, "No such file or directory"),
    ] {
        // `search` takes its query after the inputs.
        for (cmd, after) in [
            (&["ingest"][..], None),
            (&["scan"], None),
            (&["search"], Some("EventID=1")),
            (&[], None),
        ] {
            let out = Command::new(BIN)
                .args(cmd)
                .arg(input)
                .args(after)
                .env("HUNTBENCH_CACHE_DIR", &cache)
                .env("HUNTBENCH_CONFIG_DIR", tmp.path().join("config"))
                .stdin(Stdio::null())
                .output()
                .unwrap();
            let err = text(&out.stderr);
            assert!(!out.status.success(), "{cmd:?} {input:?}: {err}");
            assert!(
                err.contains("no case created") && err.contains(why),
                "{cmd:?} {input:?}: {err}"
            );
            let cases = std::fs::read_dir(cache.join("cases")).map_or(0, |d| d.count());
            assert_eq!(cases, 0, "{cmd:?} {input:?} left a case behind");
        }
    }

    let case = tmp.path().join("case");
    let first = run(&[
        "ingest".as_ref(),
        "--case".as_ref(),
        case.as_os_str(),
        samples().join("psexec.evtx").as_os_str(),
    ]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let again = run(&[
        "ingest".as_ref(),
        "--case".as_ref(),
        case.as_os_str(),
        empty.as_os_str(),
    ]);
    let err = text(&again.stderr);
    assert_eq!(again.status.code(), Some(2), "{err}");
    assert!(
        err.contains("empty: no event logs in this directory: it is empty"),
        "{err}"
    );
}

/// A file named `.evtx` that is not one is said to be no EVTX file (it was one "unreadable
/// record" with the parser's generic message), and the real logs beside it are read.
#[test]
fn a_text_file_named_evtx_is_said_to_be_no_evtx_file() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("collection");
    std::fs::create_dir(&input).unwrap();
    std::fs::write(
        input.join("Security.evtx"),
        "this is a text file, not a log\n",
    )
    .unwrap();
    std::fs::copy(samples().join("psexec.evtx"), input.join("psexec.evtx")).unwrap();
    let case = tmp.path().join("case");
    let out = run(&[
        "ingest".as_ref(),
        "--quiet".as_ref(),
        "--case".as_ref(),
        case.as_os_str(),
        input.as_os_str(),
    ]);
    let err = text(&out.stderr);
    assert!(
        err.contains("Security.evtx: cannot read: not an EVTX file (bad signature)"),
        "{err}"
    );
    assert!(err.contains(" 0 unreadable record(s)"), "{err}");
    assert!(err.contains("added 1 file(s)"), "{err}");
}

/// `--remote` opens events a Spark Connect server holds: it takes no PATHs, needs `--table`,
/// and a build without the `remote` feature says how to get one, before taking the terminal.
#[test]
fn the_workbench_over_remote_refuses_what_it_cannot_do_before_the_terminal() {
    let remote = ["--remote", "sc://127.0.0.1:1", "--table", "/nowhere/export"];
    let mut with_paths: Vec<&std::ffi::OsStr> = remote.iter().map(|a| a.as_ref()).collect();
    let samples = samples();
    with_paths.push(samples.as_os_str());
    let out = run(&with_paths);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("pass no PATHs"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&["--remote".as_ref(), "sc://127.0.0.1:1".as_ref()]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--table"),
        "{}",
        text(&out.stderr)
    );
    if !cfg!(feature = "remote") {
        let args: Vec<&std::ffi::OsStr> = remote.iter().map(|a| a.as_ref()).collect();
        let out = run(&args);
        assert!(!out.status.success());
        let err = text(&out.stderr);
        assert!(err.contains("--features remote"), "{err}");
    }
}
