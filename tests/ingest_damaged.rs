//! Damaged EVTX files and awkward input directories: an unreadable chunk inside a file is named
//! while every record of the other chunks is read, bytes appended after the last chunk are not
//! called truncation, EVTX files without the extension are found in directories, and symbolic
//! links to directories are followed once (a link loop ends). Files are built with our own EVTX
//! writer, so no shared data is needed.

use huntbench::event::Event;
use huntbench::ingest::{self, FileReport, Format};
use huntbench::synth::{DataValue, EvtxWriter, SynthEvent};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const HEADER: usize = 4096;
const CHUNK: usize = 65536;

fn event(i: usize) -> SynthEvent {
    let mut ev = SynthEvent::new(
        "Microsoft-Windows-Sysmon",
        "Microsoft-Windows-Sysmon/Operational",
        1,
        "WKS-01.corp.example",
    );
    ev.time = jiff::Timestamp::from_second(1_710_234_000 + i as i64).expect("time");
    ev.data = vec![
        ("ProcessId".into(), DataValue::U32(i as u32)),
        (
            "CommandLine".into(),
            DataValue::Str(format!("cmd.exe /c echo {i} {}", "x".repeat(i % 300))),
        ),
    ];
    ev
}

/// An EVTX file of exactly `chunks` full chunks.
fn evtx_of(chunks: usize) -> Vec<u8> {
    let write = |n: usize| {
        let mut w = EvtxWriter::new(1);
        for i in 0..n {
            w.push(&event(i)).expect("push");
        }
        w
    };
    // The number of events that starts one chunk more, less one.
    let mut w = EvtxWriter::new(1);
    let mut n = 0;
    while w.chunk_count() <= chunks {
        w.push(&event(n)).expect("push");
        n += 1;
    }
    let w = write(n - 1);
    assert_eq!(w.chunk_count(), chunks);
    w.finish().expect("finish")
}

/// Record ids `first..=last` that chunk `n` (from 0) of `file` holds, from its header.
fn chunk_ids(file: &[u8], n: usize) -> BTreeSet<u64> {
    let at = HEADER + n * CHUNK;
    let id = |o: usize| u64::from_le_bytes(file[at + o..at + o + 8].try_into().expect("8 bytes"));
    (id(24)..=id(32)).collect()
}

fn read(dir: &Path, name: &str, bytes: &[u8]) -> (Vec<Event>, FileReport) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    ingest::read_all(&path).expect("readable")
}

fn ids(events: &[Event]) -> BTreeSet<u64> {
    events.iter().filter_map(Event::record_id).collect()
}

#[test]
fn an_unreadable_chunk_is_named_and_every_other_record_is_read() {
    let tmp = tempfile::tempdir().expect("tmp");
    let intact = evtx_of(5);
    let (all, report) = read(tmp.path(), "intact.evtx", &intact);
    assert!(report.warnings.is_empty(), "{report:?}");
    let all = ids(&all);
    let third = chunk_ids(&intact, 2);
    assert!(third.len() > 10 && third.is_subset(&all));
    let expected: BTreeSet<u64> = all.difference(&third).copied().collect();

    let mut zeroed = intact.clone();
    zeroed[HEADER + 2 * CHUNK..HEADER + 3 * CHUNK].fill(0);
    let mut unsigned = intact.clone();
    unsigned[HEADER + 2 * CHUNK..HEADER + 2 * CHUNK + 8].copy_from_slice(b"XXXXXXXX");
    for (name, bytes, why) in [
        ("zeroed.evtx", &zeroed, "zeroed"),
        ("unsigned.evtx", &unsigned, "bad signature"),
    ] {
        let (events, report) = read(tmp.path(), name, bytes);
        assert_eq!(ids(&events), expected, "{name}: {report:?}");
        assert_eq!(report.errors, 0, "{name}: not a record error: {report:?}");
        let want = format!("chunk 3 of 5 unreadable ({why}): its records are lost");
        assert_eq!(report.warnings, [want], "{name}");
    }

    // Two chunks lost: one warning counts them.
    let mut two = zeroed.clone();
    two[HEADER + 4 * CHUNK..HEADER + 4 * CHUNK + 8].copy_from_slice(b"garbage!");
    let (events, report) = read(tmp.path(), "two.evtx", &two);
    let fifth = chunk_ids(&intact, 4);
    assert_eq!(
        ids(&events),
        expected.difference(&fifth).copied().collect(),
        "{report:?}"
    );
    assert_eq!(
        report.warnings,
        ["2 of 5 chunks unreadable, their records are lost: 3 (zeroed), 5 (bad signature)"]
    );
}

#[test]
fn a_chunk_failing_its_checksum_is_read_and_named() {
    let tmp = tempfile::tempdir().expect("tmp");
    let intact = evtx_of(3);
    let (all, _) = read(tmp.path(), "intact.evtx", &intact);
    // The crate reads a chunk whatever its checksums say; the warning says they failed.
    let mut bad_header = intact.clone();
    bad_header[HEADER + CHUNK + 124] ^= 0xFF; // the header's stored CRC32
    let (events, report) = read(tmp.path(), "header.evtx", &bad_header);
    assert_eq!(ids(&events), ids(&all));
    assert_eq!(
        report.warnings,
        [
            "chunk 2 of 3 fails its header checksum: its records were read but may hold damaged \
             values"
        ]
    );
    let mut bad_records = intact.clone();
    let chunk = &mut bad_records[HEADER + CHUNK..HEADER + 2 * CHUNK];
    chunk[52] ^= 0xFF; // the records' stored CRC32, under a header CRC32 that still holds
    let mut crc = crc32fast::Hasher::new();
    crc.update(&chunk[..120]);
    crc.update(&chunk[128..512]);
    chunk[124..128].copy_from_slice(&crc.finalize().to_le_bytes());
    let (events, report) = read(tmp.path(), "records.evtx", &bad_records);
    assert_eq!(ids(&events), ids(&all));
    assert_eq!(
        report.warnings,
        [
            "chunk 2 of 3 fails its records checksum: its records were read but may hold damaged \
             values"
        ]
    );
}

#[test]
fn bytes_after_the_last_chunk_are_not_called_truncation() {
    let tmp = tempfile::tempdir().expect("tmp");
    let intact = evtx_of(2);
    let (all, _) = read(tmp.path(), "intact.evtx", &intact);
    let noise = |n: usize| -> Vec<u8> {
        (0..n as u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 | 1)
            .collect()
    };
    for extra in [1000, CHUNK, CHUNK + 1000] {
        let mut bytes = intact.clone();
        bytes.extend(noise(extra));
        let (events, report) = read(tmp.path(), "appended.evtx", &bytes);
        assert_eq!(ids(&events), ids(&all), "{report:?}");
        assert_eq!(report.errors, 0, "{report:?}");
        assert_eq!(
            report.warnings,
            [format!(
                "{extra} bytes after the last chunk are not EVTX data (ignored)"
            )]
        );
    }
    // Zeros after the last chunk are unused space, not worth a warning.
    let mut padded = intact.clone();
    padded.extend(vec![0; CHUNK + 10]);
    let (events, report) = read(tmp.path(), "padded.evtx", &padded);
    assert_eq!(ids(&events), ids(&all));
    assert!(report.warnings.is_empty(), "{report:?}");
    // A real cut is still truncation.
    let (events, report) = read(tmp.path(), "cut.evtx", &intact[..HEADER + CHUNK + 20_000]);
    assert!(events.len() < all.len() && !events.is_empty());
    assert!(
        report.warnings.iter().any(|w| w.contains("truncated"))
            && !report.warnings.iter().any(|w| w.contains("not EVTX data")),
        "{report:?}"
    );
}

fn no_skip(_: &Path) -> Option<String> {
    None
}

#[test]
fn evtx_files_without_the_extension_are_found_in_directories() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let evtx = evtx_of(1);
    std::fs::write(dir.join("Security"), &evtx).expect("write");
    std::fs::write(dir.join("System.evtx.bak"), &evtx).expect("write");
    std::fs::write(dir.join("named.evtx"), &evtx).expect("write");
    std::fs::write(dir.join("notes.txt"), "ElfFile").expect("write");
    std::fs::write(dir.join("config"), "{\"not\": \"a log\"}").expect("write");
    std::fs::write(dir.join("empty"), "").expect("write");
    // A named pipe is not opened to look inside: that would wait for a writer.
    let fifo = std::process::Command::new("mkfifo")
        .arg(dir.join("pipe"))
        .status()
        .is_ok_and(|s| s.success());
    if !fifo {
        eprintln!("mkfifo unavailable: the named-pipe case is not checked");
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let root = dir.to_owned();
    std::thread::spawn(move || tx.send(ingest::discover(&[root], &no_skip)));
    let found = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("discovery returns (it must not open the named pipe)");
    let names: Vec<(String, Format)> = (found.files.iter())
        .map(|(p, f)| (p.file_name().unwrap().to_string_lossy().into_owned(), *f))
        .collect();
    assert_eq!(
        names,
        [
            ("Security".to_owned(), Format::Evtx),
            ("System.evtx.bak".to_owned(), Format::Evtx),
            ("named.evtx".to_owned(), Format::Evtx),
        ]
    );
    assert!(found.errors.is_empty(), "{:?}", found.errors);
}

#[cfg(unix)]
#[test]
fn linked_directories_are_followed_once_and_a_loop_ends() {
    use std::os::unix::fs::symlink;
    let tmp = tempfile::tempdir().expect("tmp");
    let (evidence, elsewhere) = (tmp.path().join("evidence"), tmp.path().join("elsewhere"));
    std::fs::create_dir_all(evidence.join("host1")).expect("dir");
    std::fs::create_dir_all(&elsewhere).expect("dir");
    let evtx = evtx_of(1);
    std::fs::write(evidence.join("host1/a.evtx"), &evtx).expect("write");
    std::fs::write(elsewhere.join("b.evtx"), &evtx).expect("write");
    symlink(&elsewhere, evidence.join("host2")).expect("link");
    symlink(&evidence, evidence.join("host1/loop")).expect("link");
    symlink(evidence.join("gone"), evidence.join("dangling")).expect("link");

    let found = ingest::discover(std::slice::from_ref(&evidence), &no_skip);
    let files: Vec<&PathBuf> = found.files.iter().map(|(p, _)| p).collect();
    assert_eq!(
        files,
        [
            &evidence.join("host1/a.evtx"),
            &evidence.join("host2/b.evtx")
        ]
    );
    let skipped: Vec<(&PathBuf, &str)> = (found.skipped.iter())
        .map(|(p, why)| (p, why.as_str()))
        .collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert_eq!(skipped[0].0, &evidence.join("dangling"));
    assert!(skipped[0].1.contains("cannot be followed"), "{skipped:?}");
    assert_eq!(skipped[1].0, &evidence.join("host1/loop"));
    assert!(
        skipped[1].1.contains("read already") && !skipped[1].1.starts_with("already"),
        "{skipped:?}"
    );
    assert!(found.errors.is_empty(), "{:?}", found.errors);
}
