//! Files from `huntbench::synth` read back through `huntbench::ingest` (the `evtx` crate) equal
//! what was written, field by field: the bundled scenarios, a many-chunk file and random events.

use huntbench::event::{Event, Value};
use huntbench::synth::{self, DataValue, EvtxWriter, SynthEvent, UserBody, UserElement};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read_back(path: &Path) -> Vec<Event> {
    let (events, report) = huntbench::ingest::read_all(path).expect("readable");
    assert_eq!(report.errors, 0, "{}: {report:?}", path.display());
    assert!(report.warnings.is_empty(), "{report:?}");
    events
}

fn text(v: impl ToString) -> Value {
    Value::Str(v.to_string())
}

/// The `<System>` fields ingest must report for a written event.
fn expected_system(ev: &SynthEvent, record_id: u64) -> Vec<(String, Value)> {
    let mut f = vec![("Provider_Name".to_owned(), text(&ev.provider))];
    if let Some(g) = &ev.provider_guid {
        f.push(("Provider_Guid".into(), text(g)));
    }
    if let Some(n) = &ev.event_source_name {
        f.push(("Provider_EventSourceName".into(), text(n)));
    }
    f.push(("EventID".into(), text(ev.event_id)));
    if let Some(q) = ev.qualifiers {
        f.push(("EventID_Qualifiers".into(), text(q)));
    }
    f.extend([
        ("Version".into(), text(ev.version)),
        ("Level".into(), text(ev.level)),
        ("Task".into(), text(ev.task)),
        ("Opcode".into(), text(ev.opcode)),
        ("Keywords".into(), text(format!("0x{:x}", ev.keywords))),
        ("EventRecordID".into(), text(record_id)),
        ("Execution_ProcessID".into(), text(ev.process_id)),
        ("Execution_ThreadID".into(), text(ev.thread_id)),
        ("Channel".into(), text(&ev.channel)),
        ("Computer".into(), text(&ev.computer)),
    ]);
    if let Some(u) = &ev.user_id {
        f.push(("Security_UserID".into(), text(u)));
    }
    f
}

/// Asserts that `got` (read back) carries exactly what `ev` wrote as record `record_id`.
fn assert_same(ev: &SynthEvent, record_id: u64, got: &Event) -> Result<(), String> {
    for (name, want) in expected_system(ev, record_id) {
        let have = got.get(&name);
        if have != Some(&want) {
            return Err(format!(
                "record {record_id}: {name}: got {have:?}, want {want:?}"
            ));
        }
    }
    let ts = got.timestamp();
    if ts != Some(ev.time) {
        return Err(format!("record {record_id}: time {ts:?} != {}", ev.time));
    }
    // EventData/UserData follows the last System field (`Security` or `Security_UserID`).
    let start = got
        .fields
        .iter()
        .position(|(n, _)| n == "Security" || n == "Security_UserID")
        .map_or(0, |i| i + 1);
    let data = &got.fields[start..];
    let want = expected_payload(ev);
    if data.len() != want.len() {
        return Err(format!(
            "record {record_id}: {} data fields, want {}: {data:?}",
            data.len(),
            want.len()
        ));
    }
    for ((name, have), (wname, wval)) in data.iter().zip(&want) {
        let wname: String = wname.chars().filter(|c| *c != ' ').collect();
        let empty_or_null = matches!(have, Value::Null) || *have == Value::Str(String::new());
        let ok = match wval.to_text() {
            // A UserData element with empty text has no `#text` in the evtx crate's JSON.
            Some(t) if t.is_empty() && !ev.user_data.is_empty() => empty_or_null,
            Some(t) => *have == Value::Str(t),
            // A NULL substitution: the evtx crate reports it as an empty string.
            None => empty_or_null,
        };
        if *name != wname || !ok {
            return Err(format!(
                "record {record_id}: {name}={have:?}, want {wname}={wval:?}"
            ));
        }
    }
    Ok(())
}

/// The fields ingest makes of the payload: EventData names, or the leaves under the UserData
/// wrapper elements (nested elements flatten to their leaves' names).
fn expected_payload(ev: &SynthEvent) -> Vec<(String, DataValue)> {
    fn leaves(el: &UserElement, out: &mut Vec<(String, DataValue)>) {
        match &el.body {
            UserBody::Value(v) => out.push((el.name.clone(), v.clone())),
            UserBody::Children(c) if c.is_empty() => out.push((el.name.clone(), DataValue::Null)),
            UserBody::Children(c) => c.iter().for_each(|e| leaves(e, out)),
        }
    }
    if ev.user_data.is_empty() {
        return ev.data.clone();
    }
    let mut out = Vec::new();
    for wrapper in &ev.user_data {
        match &wrapper.body {
            UserBody::Children(c) if !c.is_empty() => c.iter().for_each(|e| leaves(e, &mut out)),
            _ => leaves(wrapper, &mut out),
        }
    }
    out
}

fn check_file(path: &Path, written: &[SynthEvent], first_id: u64) {
    let got = read_back(path);
    assert_eq!(got.len(), written.len(), "{}", path.display());
    for (i, (ev, g)) in written.iter().zip(&got).enumerate() {
        if let Err(e) = assert_same(ev, first_id + i as u64, g) {
            panic!("{}: {e}", path.display());
        }
    }
}

#[test]
fn bundled_scenarios_round_trip_through_ingest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let infos = synth::list_scenarios();
    assert_eq!(infos.len(), 6);
    for info in infos {
        let out = dir.path().join(format!("{}.evtx", info.name));
        let summary = synth::render_scenario(&info.name, &out).expect("render");
        let scenario = synth::load_scenario(&info.name).expect("load");
        let events = scenario.events().expect("events");
        assert_eq!(summary.events, events.len());
        assert_eq!(summary.first_record_id, scenario.first_record_id());
        check_file(&out, &events, scenario.first_record_id());
    }
}

#[test]
fn committed_samples_match_their_scenarios() {
    let dir = tempfile::tempdir().expect("tempdir");
    for info in synth::list_scenarios() {
        let fresh = dir.path().join("fresh.evtx");
        synth::render_scenario(&info.name, &fresh).expect("render");
        let committed = root().join("samples").join(format!("{}.evtx", info.name));
        let a = std::fs::read(&committed).expect("committed sample");
        let b = std::fs::read(&fresh).expect("fresh");
        assert!(
            a == b,
            "samples/{}.evtx is stale: regenerate it (see samples/README.md)",
            info.name
        );
    }
}

#[test]
fn a_scenario_path_works_like_a_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = root().join("samples/scenarios/wmiexec.yml");
    let out = dir.path().join("w.evtx");
    let by_path = synth::render_scenario(path.to_str().expect("utf-8"), &out).expect("render");
    assert_eq!(by_path.scenario, "wmiexec");
    let err = synth::render_scenario("no-such-scenario", &out).expect_err("unknown");
    assert!(err.to_string().contains("benign-admin-baseline"), "{err}");
}

fn bulk_event(i: usize) -> SynthEvent {
    let mut ev = SynthEvent::new(
        "Microsoft-Windows-Sysmon",
        "Microsoft-Windows-Sysmon/Operational",
        1,
        "WKS-ÅÄÖ-01.corp.larkspur-logistics.example",
    );
    ev.provider_guid = Some("{5770385f-c22a-43e0-bf4c-06f5698ffbd9}".into());
    ev.user_id = Some("S-1-5-18".into());
    ev.time = jiff::Timestamp::from_second(1_710_234_000 + i as i64).expect("ts");
    ev.data = vec![
        ("ProcessId".into(), DataValue::U32(i as u32)),
        (
            "CommandLine".into(),
            DataValue::Str(format!(
                "cmd.exe /c echo {i} — ünïcødé 😀 {}",
                "x".repeat(i % 700)
            )),
        ),
        ("Flag".into(), DataValue::Bool(i.is_multiple_of(2))),
    ];
    ev
}

#[test]
fn records_spill_into_new_chunks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let events: Vec<SynthEvent> = (0..3000).map(bulk_event).collect();
    let mut w = EvtxWriter::new(5);
    for ev in &events {
        w.push(ev).expect("push");
    }
    assert!(w.chunk_count() > 10, "{} chunks", w.chunk_count());
    let path = dir.path().join("bulk.evtx");
    std::fs::write(&path, w.finish().expect("finish")).expect("write");
    check_file(&path, &events, 5);
}

#[test]
fn an_oversized_record_is_an_error_not_a_broken_file() {
    let mut ev = bulk_event(1);
    ev.data = (0..40)
        .map(|i| (format!("F{i}"), DataValue::Str("y".repeat(1000))))
        .collect();
    let err = synth::encode_evtx(&[ev], 1).expect_err("too large for a chunk");
    assert!(err.to_string().contains("chunk"), "{err}");
}

fn data_value() -> impl Strategy<Value = DataValue> {
    prop_oneof![
        "[^\u{0}]{0,300}".prop_map(DataValue::Str),
        any::<u32>().prop_map(DataValue::U32),
        any::<u16>().prop_map(DataValue::U16),
        any::<u64>().prop_map(DataValue::HexI64),
        any::<bool>().prop_map(DataValue::Bool),
        any::<[u8; 16]>().prop_map(DataValue::Guid),
        (1u32..=1_000_000, 0u32..=99_999).prop_map(|(a, b)| {
            let sid = format!("S-1-5-21-{a}-{b}-{}", a ^ b);
            DataValue::Sid(synth::value::parse_sid(&sid).expect("sid"))
        }),
    ]
}

fn synth_event() -> impl Strategy<Value = SynthEvent> {
    (
        "[^\u{0}]{1,40}",
        "[^\u{0}]{1,60}",
        "[^\u{0}]{1,40}",
        any::<u16>(),
        any::<(u8, u8, u16, u8)>(),
        (0i64..4_000_000_000, 0u32..1_000_000_000),
        proptest::collection::vec(data_value(), 0..12),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(
                provider,
                channel,
                computer,
                id,
                (version, level, task, opcode),
                (s, ns),
                values,
                user,
                as_user_data,
            )| {
                let mut ev = SynthEvent::new(&provider, &channel, id, &computer);
                ev.version = version;
                ev.level = level;
                ev.task = task;
                ev.opcode = opcode;
                ev.keywords = u64::from(task) << 40 | 0x8000_0000_0000_0000;
                // FILETIME keeps 100 ns.
                ev.time = jiff::Timestamp::new(s, (ns / 100 * 100) as i32).expect("ts");
                ev.user_id = user.then(|| "S-1-5-18".to_owned());
                ev.data = values
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| (format!("Field{i}"), v))
                    .collect();
                // An empty wrapper would read back as nothing or as one null, depending on its
                // attributes; that is the reader's business, not the writer's.
                if as_user_data && !ev.data.is_empty() {
                    ev.user_data = vec![user_data_of(std::mem::take(&mut ev.data))];
                }
                ev
            },
        )
}

/// The same values as UserData: a wrapper with an `xmlns`, every third value one level deeper.
fn user_data_of(data: Vec<(String, DataValue)>) -> UserElement {
    let mut direct = Vec::new();
    let mut nested = Vec::new();
    for (i, (name, v)) in data.into_iter().enumerate() {
        let leaf = UserElement::value(&name, v);
        if i % 3 == 2 {
            nested.push(leaf)
        } else {
            direct.push(leaf)
        }
    }
    if !nested.is_empty() {
        direct.push(UserElement::parent("Nested", nested));
    }
    UserElement::parent("Operation_Random", direct).attr("xmlns", "urn:huntbench:test")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_events_round_trip(events in proptest::collection::vec(synth_event(), 1..400)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("random.evtx");
        synth::write_evtx(&path, &events, 1).expect("write");
        let got = read_back(&path);
        prop_assert_eq!(got.len(), events.len());
        for (i, (ev, g)) in events.iter().zip(&got).enumerate() {
            if let Err(e) = assert_same(ev, i as u64 + 1, g) {
                return Err(TestCaseError::fail(e));
            }
        }
    }
}
