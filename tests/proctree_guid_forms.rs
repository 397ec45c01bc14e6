//! One process tree across EVTX and exports by other tools: a GUID written `{5aa1…}` (as EVTX
//! renders it) and `5AA1…` (as many JSON exporters write it) is the same process.

use huntbench::index::{Case, IngestOptions};
use huntbench::proctree;
use huntbench::store::EventStore as _;

fn sysmon_1(record: u64, guid: &str, parent: &str, image: &str) -> String {
    serde_json::json!({"Event": {
        "System": {
            "EventID": 1,
            "Channel": "Microsoft-Windows-Sysmon/Operational",
            "Computer": "ws1",
            "EventRecordID": record,
            "TimeCreated": {"#attributes": {"SystemTime": format!("2024-05-01T10:00:0{record}Z")}},
        },
        "EventData": {"ProcessGuid": guid, "ParentProcessGuid": parent, "Image": image},
    }})
    .to_string()
}

#[test]
fn a_tree_links_braced_and_bare_guids_in_any_case() {
    let tmp = tempfile::tempdir().expect("tmp");
    let input = tmp.path().join("mixed.jsonl");
    let lines = [
        sysmon_1(
            1,
            "{0a0a0a0a-1111-2222-3333-444444444444}",
            "{00000000-0000-0000-0000-000000000000}",
            "C:\\parent.exe",
        ),
        sysmon_1(
            2,
            "0B0B0B0B-1111-2222-3333-444444444444",
            "0A0A0A0A-1111-2222-3333-444444444444",
            "C:\\child.exe",
        ),
        sysmon_1(
            3,
            "{0c0c0c0c-1111-2222-3333-444444444444}",
            "{0b0b0b0b-1111-2222-3333-444444444444}",
            "C:\\grandchild.exe",
        ),
    ];
    std::fs::write(&input, lines.join("\n")).expect("write");
    let mut case = Case::open_or_create(&tmp.path().join("case")).expect("case");
    case.ingest(&[input], &IngestOptions::default(), &mut |_| {})
        .expect("ingest");
    let snap = case.snapshot();
    let refs = snap
        .candidates(&huntbench::prefilter::Prefilter::All)
        .expect("refs");
    assert_eq!(refs.len(), 3);
    let child = refs[1];
    let (ev, _) = snap.event(child).expect("event");
    let tree = proctree::build(&snap, child, &ev)
        .expect("tree")
        .expect("a creation event");
    let mut images: Vec<&str> = tree.nodes.iter().map(|n| n.image.as_str()).collect();
    images.sort_unstable();
    assert_eq!(
        images,
        ["C:\\child.exe", "C:\\grandchild.exe", "C:\\parent.exe"],
        "parent and child found across GUID forms"
    );
}
