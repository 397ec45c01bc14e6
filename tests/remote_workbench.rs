//! The workbench's event store over Spark Connect (`remote::store`) against a real Sail server
//! (`scripts/sail-server`) reading the bundled samples' Parquet export: it answers as the local
//! case does (counts, statistics, sources, what prefilters admit, events, pivots, process
//! trees, rule hits), and the workbench opened with `--remote` works end to end in tmux
//! (`remote_workbench/tui.rs`).
//!
//! Needs what `scripts/remote-deps` installs and `--features remote`. Outside CI a missing part
//! skips with the reason; under `CI=true` it fails.
#![allow(clippy::unwrap_used)]

mod common;
#[path = "remote_workbench/stack.rs"]
mod stack;
#[path = "remote_workbench/tui.rs"]
mod tui;

use common::servers::{Server, repo, sail_present, spark_present};
use huntbench::event::Event;
use huntbench::prefilter::Prefilter;
use huntbench::remote::Remote;
use huntbench::remote::store::{RemoteBackend, RemoteStore, TableSource};
use huntbench::store::{Backend, EventRef, EventStore, Lookup};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

const BIN: &str = env!("CARGO_BIN_EXE_huntbench");

fn hb(home: &Path, args: &[&str]) {
    let out = Command::new(BIN)
        .env("HUNTBENCH_CONFIG_DIR", home.join("cfg"))
        .env("HUNTBENCH_CACHE_DIR", home.join("cache"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "huntbench {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The samples ingested into `home/case` and exported to `home/export`.
fn case_and_export(home: &Path) -> (PathBuf, PathBuf) {
    let (case, export) = (home.join("case"), home.join("export"));
    let samples = repo().join("samples");
    let (case_s, export_s) = (case.to_str().unwrap(), export.to_str().unwrap());
    hb(
        home,
        &["ingest", "-q", "--case", case_s, samples.to_str().unwrap()],
    );
    hb(
        home,
        &[
            "export", "--case", case_s, "--format", "parquet", "-o", export_s,
        ],
    );
    (case, export)
}

/// The samples ingested into a case and, exported, read by the server `script` starts: the
/// test's directory, the case, the server and the remote store over the export.
fn case_and_store(
    script: &'static str,
) -> (
    tempfile::TempDir,
    huntbench::index::Case,
    Server,
    RemoteStore,
) {
    let home = tempfile::tempdir().unwrap();
    let (case_dir, export) = case_and_export(home.path());
    let case = huntbench::index::Case::open(&case_dir).unwrap();
    let server = Server::start(script);
    let remote = Arc::new(Remote::connect_with_token(&server.url, None).unwrap());
    let store = RemoteStore::open(remote, &TableSource::parse(export.to_str().unwrap())).unwrap();
    (home, case, server, store)
}

/// Events as comparable text (references differ between stores): time and JSON, sorted.
fn described(store: &dyn EventStore, refs: &[EventRef]) -> Vec<(i64, String)> {
    let mut out: Vec<(i64, String)> = (refs.iter())
        .map(|r| (r.ts, store.event(*r).unwrap().0.to_json()))
        .collect();
    out.sort();
    out
}

/// What `p` admits and its own check accepts, described.
fn accepted(store: &dyn EventStore, p: &Prefilter) -> Vec<(i64, String)> {
    let found = huntbench::store::search(store, p, &|e: &Event| p.accepts(e), usize::MAX).unwrap();
    let refs: Vec<EventRef> = found.iter().map(|(r, _, _)| *r).collect();
    described(store, &refs)
}

fn equals(field: &str, value: &str) -> Prefilter {
    Prefilter::Equals {
        field: field.into(),
        value: value.into(),
    }
}

/// A tree as the workbench draws it: depth, image, pid, command line per line.
fn tree_lines(store: &dyn EventStore, r: EventRef) -> Vec<(usize, String, Option<u64>, String)> {
    let (event, _) = store.event(r).unwrap();
    let tree = huntbench::proctree::build(store, r, &event)
        .unwrap()
        .unwrap();
    (tree.lines.iter())
        .map(|&(depth, i)| {
            let n = &tree.nodes[i];
            (depth, n.image.clone(), n.pid, n.cmdline.clone())
        })
        .collect()
}

/// The first event of `store` whose JSON contains `text`.
fn first_with(store: &dyn EventStore, text: &str) -> EventRef {
    let all = store.candidates(&Prefilter::All).unwrap();
    *all.iter()
        .find(|r| store.event(**r).unwrap().0.to_json().contains(text))
        .unwrap()
}

#[test]
fn the_remote_store_answers_as_the_local_case_on_sail() {
    if sail_present() {
        answers_as_the_local_case("sail-server");
    }
}

#[test]
fn the_remote_store_answers_as_the_local_case_on_a_spark_cluster() {
    if spark_present() {
        answers_as_the_local_case("spark-cluster");
    }
}

fn answers_as_the_local_case(script: &'static str) {
    let (_home, case, _server, store) = case_and_store(script);
    let local = case.snapshot();

    assert_eq!(store.num_events(), 246);
    assert_eq!(store.num_events(), local.num_events());
    assert_eq!(store.stats().unwrap(), local.stats().unwrap());
    let sources = |s: &dyn EventStore| -> BTreeMap<u64, (String, String, u64)> {
        (s.sources().unwrap().into_iter())
            .filter(|f| f.events > 0)
            .map(|f| (f.id, (f.paths[0].clone(), f.sha256, f.events)))
            .collect()
    };
    assert_eq!(sources(&store), sources(&local));
    // Every event, fetched by key, as the case holds it: a page of events per query.
    let all = store.candidates(&Prefilter::All).unwrap();
    assert_eq!(all.len(), 246);
    assert!(all.windows(2).all(|w| w[0] <= w[1]), "in time order");
    let local_all = local.candidates(&Prefilter::All).unwrap();
    let before = store.queries();
    assert_eq!(described(&store, &all), described(&local, &local_all));
    assert!(
        store.queries() - before <= 2,
        "{} queries",
        store.queries() - before
    );
    assert!(store.event(EventRef::new(0, 1)).is_err(), "no such key");

    let (first, last) = (all[0].ts, all[all.len() - 1].ts);
    let middle = first + (last - first) / 2;
    let prefilters = [
        equals("EventID", "4688"),
        equals("channel", "microsoft-windows-sysmon/operational"),
        Prefilter::Contains {
            field: "CommandLine".into(),
            needle: "WMIC".into(),
        },
        Prefilter::Suffix {
            field: "Image".into(),
            suffix: "\\cmd.exe".into(),
        },
        Prefilter::and(vec![
            equals("EventID", "1"),
            Prefilter::TimeRange {
                from: first,
                to: middle,
            },
        ]),
        Prefilter::Or(vec![
            equals("EventID", "4624"),
            Prefilter::Exists {
                field: "ParentCommandLine".into(),
            },
        ]),
        Prefilter::AnyContains {
            needle: "psexesvc".into(),
        },
        Prefilter::Nothing,
    ];
    for p in &prefilters {
        let (remote_found, local_found) = (accepted(&store, p), accepted(&local, p));
        assert_eq!(remote_found, local_found, "{p:?}");
        let admitted = store.count_candidates(p).unwrap();
        assert_eq!(admitted, store.candidates(p).unwrap().len(), "{p:?}");
        assert!(admitted >= remote_found.len(), "{p:?}");
    }
    assert!(!accepted(&store, &prefilters[0]).is_empty());

    // Pivots: a value, the minutes around an event, a process tree.
    let wmi = first_with(&store, "WMIADAP.exe");
    let local_wmi = first_with(&local, "WMIADAP.exe");
    let (event, _) = store.event(wmi).unwrap();
    let lookups = [
        Lookup::SameValue {
            field: "ParentImage".into(),
            value: event.get_str("ParentImage").unwrap().to_owned(),
        },
        Lookup::Around {
            computer: Some(event.computer().to_owned()),
            t0: wmi.ts,
            span: 5 * 60 * 1_000_000,
        },
    ];
    for l in &lookups {
        let found = described(&store, &store.lookup(l).unwrap());
        assert!(!found.is_empty(), "{l:?}");
        assert_eq!(found, described(&local, &local.lookup(l).unwrap()), "{l:?}");
    }
    let tree = tree_lines(&store, wmi);
    assert!(tree.len() >= 2, "{tree:?}");
    assert_eq!(tree, tree_lines(&local, local_wmi));
    searches_find_what_the_case_finds(&store, &local, wmi);
}

/// Searches of the query language decided on the server find the events the case finds, in
/// one query when the search has no time bounds (no event is fetched to check it).
fn searches_find_what_the_case_finds(store: &RemoteStore, local: &dyn EventStore, at: EventRef) {
    let (event, _) = store.event(at).unwrap();
    // The event's own time (finer than the `time` column's microseconds) as a bound, and the
    // microsecond before it: the edges the store checks on the fetched events.
    let exact = event.timestamp().unwrap();
    let micro = jiff::Timestamp::from_microsecond(at.ts).unwrap();
    let on_server = [
        "EventID=4688".to_owned(),
        r"Image=*\cmd.exe".to_owned(),
        "psexesvc".to_owned(),
        r"CommandLine=*wmic* OR ParentImage=*\services.exe".to_owned(),
        "EventID>=4600 AND EventID<4700 AND NOT LogonType=3".to_owned(),
        r"Image|re=\\(cmd|powershell)\.exe$".to_owned(),
        "EventID IN (1, 4688) AND NoSuchField!=x".to_owned(),
        format!("EventID=1 AND time>={exact}"),
        format!("time>{exact}"),
        format!("time>={micro} AND time<={exact}"),
        format!("time<{exact} Image=*.exe"),
        // On a 4688, `User` joins the subject's or target's domain and name.
        r"User=*SYSTEM* OR User=*\\*".to_owned(),
        "IntegrityLevel=System".to_owned(),
        // On a Sysmon event, these split or convert `User` and `IntegrityLevel`.
        "SubjectUserName=SYSTEM OR SubjectDomainName=\"NT AUTHORITY\"".to_owned(),
        "TargetDomainName=* AND NOT TargetUserName=x".to_owned(),
        "MandatoryLabel IN (S-1-16-16384, S-1-16-12288)".to_owned(),
    ];
    for text in &on_server {
        let q = huntbench::query::parse(text).unwrap();
        let before = store.queries();
        let pushed = store.search(&q).unwrap();
        assert!(pushed.is_some(), "{text}: searched on the server");
        if q.window().is_none() {
            assert_eq!(store.queries() - before, 1, "{text}: one query");
        }
        let (remote, case) = (
            huntbench::store::matching(store, &q).unwrap(),
            huntbench::store::matching(local, &q).unwrap(),
        );
        assert!(!remote.is_empty(), "{text}: finds events");
        assert_eq!(described(store, &remote), described(local, &case), "{text}");
    }
    let found = |text: &str| {
        let q = huntbench::query::parse(text).unwrap();
        store.search(&q).unwrap().unwrap().len()
    };
    assert!(
        found(&format!("time>={exact}")) > found(&format!("time>{exact}")),
        "the event at the bound"
    );
}

#[test]
fn rules_hit_the_same_events_remotely() {
    if !sail_present() {
        return;
    }
    let (_home, case, _server, store) = case_and_store("sail-server");
    let local = case.snapshot();
    let loader = huntbench::sigma::Loader::new().unwrap();
    let set = loader.load_paths(&[repo().join("rules/windows")]);
    assert!(set.rules.len() >= 10, "the bundled pack");
    let rules: Vec<&huntbench::sigma::CompiledRule> = set.rules.iter().collect();
    let (remote_hits, local_hits) = (
        huntbench::hunt::run(&store, &rules).unwrap(),
        huntbench::hunt::run(&local, &rules).unwrap(),
    );
    // The rules in batches (a query per logsource here), never a query per rule or event.
    assert!(
        rules.len() > 10 && store.queries() * 2 <= rules.len(),
        "{} queries for {} rules",
        store.queries(),
        rules.len()
    );
    let mut fired = 0;
    for (i, rule) in rules.iter().enumerate() {
        let (r, l) = (&remote_hits.hits[i], &local_hits.hits[i]);
        assert_eq!(
            described(&store, r),
            described(&local, l),
            "{}",
            rule.meta.title
        );
        fired += usize::from(!r.is_empty());
    }
    assert!(fired >= 5, "{fired} rules fired");
}

#[test]
fn a_remote_case_says_when_the_table_grew() {
    if !sail_present() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let (_, export) = case_and_export(home.path());
    let server = Server::start("sail-server");
    let backend = RemoteBackend {
        url: server.url.clone(),
        source: TableSource::parse(export.to_str().unwrap()),
        watch: std::time::Duration::ZERO,
    };
    let state = home.path().join("state");
    let opened = backend
        .open(&state, &[], &Default::default(), &mut |_| {})
        .unwrap();
    let view = opened.case.snapshot();
    assert_eq!(opened.case.refresh().unwrap(), 246);
    // Another export's file lands in the table's directory (a copy of one of its files).
    let file = common::files_with_extension(&export, "parquet")
        .into_iter()
        .next()
        .unwrap();
    let more = file.with_file_name(format!(
        "more-{}",
        file.file_name().unwrap().to_string_lossy()
    ));
    std::fs::copy(&file, &more).unwrap();
    let now = opened.case.refresh().unwrap();
    assert!(now > 246, "{now}");
    // The session's count stays as opened (the status line shows both).
    assert_eq!(view.num_events(), 246);
}
