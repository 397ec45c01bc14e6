//! Reads `.evtx` files with the `evtx` crate, record by record.
//!
//! The parser runs single-threaded: files are read in parallel by the caller, and evtx's own
//! thread pool deadlocks when driven from inside a rayon job (see engine-design.md, hazard 12).
//!
//! A log copied while Windows was writing it, or cut short in transfer, ends inside a chunk.
//! The `evtx` crate reads whole 64 KiB chunks only and silently stops before a partial one, so
//! the file is presented to it as ending after the last whole record of that chunk, followed by
//! zeros up to the chunk boundary: the records before the cut are read, the one cut in the
//! middle is counted as unreadable (parsed, its missing tail would read as empty values).

mod layout;

use super::{FileReport, RecordTally};
use crate::event::Event;
use evtx::err::EvtxError;
use evtx::{EvtxParser, ParserSettings};
use layout::Layout;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

const HEADER_BLOCK: u64 = 4096;
const CHUNK: u64 = 65536;

/// Streams every readable record of `path` to `sink`; bad records are counted, not fatal.
pub fn read(path: &Path, sink: &mut dyn FnMut(Event)) -> std::io::Result<FileReport> {
    // Opened read-only by us, so the evidence file can never be modified.
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    // A file named `.evtx` that is something else (text, an archive) is not a log with one bad
    // record: it is said as such, as other files that are not logs are.
    let mut magic = [0u8; 8];
    if file.read_exact(&mut magic).is_err() || &magic != super::EVTX_MAGIC {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not an EVTX file (bad signature)",
        ));
    }
    file.seek(SeekFrom::Start(0))?;
    let layout = Layout::scan(&mut file, len)?;
    // The crate sees the log only: bytes after its last chunk would read as broken chunks.
    let log_end = if layout.slots.is_empty() {
        len
    } else {
        layout.log_end()
    };
    let padded = ZeroPadded::new(file, log_end)?;
    let record_cut = padded.record_cut;
    let parser = match EvtxParser::from_read_seek(padded) {
        Ok(p) => p,
        Err(e) => {
            return Ok(FileReport {
                errors: 1,
                warnings: vec![format!("not a readable EVTX file: {e}")],
                ..FileReport::default()
            });
        }
    };
    let header_ok = parser.header().validate_checksum();
    let declared_chunks = u64::from(parser.header().chunk_count);
    let settings = ParserSettings::new()
        .num_threads(1)
        .separate_json_attributes(false)
        .indent(false);
    let mut parser = parser.with_configuration(settings);
    let mut tally = RecordTally::new(sink);
    // Chunk number → why it is lost. The crate skips a zeroed chunk in silence and yields one
    // error for a chunk it cannot parse; neither is a record error.
    let mut lost: BTreeMap<u64, String> = (layout.lost().into_iter())
        .map(|(n, why)| (n, why.to_owned()))
        .collect();
    for record in parser.records_json_value() {
        match record {
            Err(EvtxError::FailedToParseChunk { chunk_id, source }) => {
                lost.entry(chunk_id).or_insert_with(|| source.to_string());
            }
            record => tally.record(
                record
                    .as_ref()
                    .map(|r| &r.data)
                    .map_err(ToString::to_string),
            ),
        }
    }
    if record_cut {
        tally.error("a record is cut short by the end of the file".into());
    }
    let mut report = tally.finish();
    let of = declared_chunks.max(layout.span() as u64);
    let damaged: Vec<_> = (layout.damaged().into_iter())
        .filter(|(n, _)| !lost.contains_key(n))
        .collect();
    let mut front = Vec::new();
    if !header_ok {
        front.push("file header checksum is invalid; read anyway".into());
    }
    if let Some(why) = truncation(log_end, declared_chunks) {
        front.push(why);
    }
    front.extend(lost_chunks(&lost, of));
    front.extend(damaged_chunks(&damaged, of));
    if let Some(bytes) = layout.trailing_garbage() {
        front.push(format!(
            "{bytes} bytes after the last chunk are not EVTX data (ignored)"
        ));
    }
    report.warnings.splice(0..0, front);
    Ok(report)
}

/// Chunk lists in warnings name at most this many chunks.
const LISTED: usize = 8;

/// `2 (zeroed), 5 (bad signature), …`, chunks numbered from 1.
fn chunk_list<'a>(chunks: impl Iterator<Item = (u64, &'a str)>) -> String {
    let mut out: Vec<String> = (chunks.take(LISTED + 1))
        .map(|(n, why)| format!("{} ({why})", n + 1))
        .collect();
    if out.len() > LISTED {
        out[LISTED] = "…".into();
    }
    out.join(", ")
}

/// The warning for chunks the crate could not read, whose records are lost.
fn lost_chunks(lost: &BTreeMap<u64, String>, of: u64) -> Option<String> {
    let first_line = |why: &String| why.lines().next().unwrap_or_default().to_owned();
    match lost.len() {
        0 => None,
        1 => lost.iter().next().map(|(n, why)| {
            format!(
                "chunk {} of {of} unreadable ({}): its records are lost",
                n + 1,
                first_line(why)
            )
        }),
        count => {
            let whys: Vec<(u64, String)> = lost.iter().map(|(n, w)| (*n, first_line(w))).collect();
            Some(format!(
                "{count} of {of} chunks unreadable, their records are lost: {}",
                chunk_list(whys.iter().map(|(n, w)| (*n, w.as_str())))
            ))
        }
    }
}

/// The warning for chunks that fail their checksums: read, but their values may be damaged.
fn damaged_chunks(damaged: &[(u64, &str)], of: u64) -> Option<String> {
    match damaged {
        [] => None,
        [(n, which)] => Some(format!(
            "chunk {} of {of} fails its {which}: its records were read but may hold \
             damaged values",
            n + 1
        )),
        _ => Some(format!(
            "{} of {of} chunks fail their checksums, their records were read but may hold \
             damaged values: {}",
            damaged.len(),
            chunk_list(damaged.iter().copied())
        )),
    }
}

/// Why a file whose log ends at `len` bytes and whose header declares `declared` chunks looks
/// cut short.
fn truncation(len: u64, declared: u64) -> Option<String> {
    let data = len.saturating_sub(HEADER_BLOCK);
    let (whole, partial) = (data / CHUNK, data % CHUNK);
    if partial != 0 {
        return Some(format!(
            "file is truncated: it ends {partial} bytes into chunk {} (of {declared} the header \
             declares); the records before the cut were read",
            whole + 1
        ));
    }
    (declared > whole).then(|| {
        format!("file is truncated: the header declares {declared} chunks, {whole} are present")
    })
}

/// A file read as if it ended after the last whole record of a final partial chunk, with
/// zeros up to the chunk boundary.
struct ZeroPadded {
    file: File,
    /// Bytes read from the file; everything after reads as zero.
    len: u64,
    padded_len: u64,
    pos: u64,
    /// Whether a record starts in the partial chunk but does not end before the cut.
    record_cut: bool,
}

impl ZeroPadded {
    fn new(mut file: File, len: u64) -> std::io::Result<Self> {
        file.seek(SeekFrom::Start(0))?;
        let data = len.saturating_sub(HEADER_BLOCK);
        let (mut readable, mut padded_len, mut record_cut) = (len, len, false);
        if len > HEADER_BLOCK && !data.is_multiple_of(CHUNK) {
            let start = len - data % CHUNK;
            let mut tail = Vec::new();
            file.seek(SeekFrom::Start(start))?;
            (&mut file).take(len - start).read_to_end(&mut tail)?;
            file.seek(SeekFrom::Start(0))?;
            let (whole, cut) = whole_records(&tail);
            (readable, padded_len, record_cut) = (start + whole as u64, start + CHUNK, cut);
        }
        Ok(ZeroPadded {
            file,
            len: readable,
            padded_len,
            pos: 0,
            record_cut,
        })
    }
}

/// Chunk header size; records follow it.
const CHUNK_HEADER: usize = 512;
const RECORD_MAGIC: &[u8; 4] = b"**\0\0";

/// In the bytes of a partial chunk: where its last whole record ends (0 when even the chunk
/// header is cut), and whether a record after it is cut short.
fn whole_records(chunk: &[u8]) -> (usize, bool) {
    if chunk.len() < CHUNK_HEADER {
        return (0, false);
    }
    let mut at = CHUNK_HEADER;
    while let Some(magic) = chunk.get(at..at + 4) {
        if magic != RECORD_MAGIC {
            return (at, false);
        }
        let size = chunk
            .get(at + 4..at + 8)
            .and_then(|b| b.try_into().ok())
            .map_or(0, |b: [u8; 4]| u32::from_le_bytes(b) as usize);
        if size < 28 || at + size > chunk.len() {
            return (at, true);
        }
        at += size;
    }
    (at, chunk.len() > at)
}

impl Read for ZeroPadded {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos < self.len {
            let want = buf.len().min((self.len - self.pos) as usize);
            let n = self.file.read(&mut buf[..want])?;
            self.pos += n as u64;
            return Ok(n);
        }
        let n = buf
            .len()
            .min(self.padded_len.saturating_sub(self.pos) as usize);
        buf[..n].fill(0);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for ZeroPadded {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.padded_len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let Some(target) = target else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "seek before the start of the file",
            ));
        };
        self.file.seek(SeekFrom::Start(target.min(self.len)))?;
        self.pos = target;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_chunk_reads_as_zeros_up_to_the_chunk_boundary() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("f");
        // The partial chunk: its header, one whole 100-byte record, then the start of another.
        let mut bytes = vec![7u8; (HEADER_BLOCK + CHUNK) as usize + CHUNK_HEADER];
        for size in [100u32, 200] {
            bytes.extend_from_slice(RECORD_MAGIC);
            bytes.extend_from_slice(&size.to_le_bytes());
            bytes.extend(std::iter::repeat_n(7u8, 92));
        }
        let len = bytes.len() as u64;
        std::fs::write(&path, &bytes).expect("write");
        let mut r = ZeroPadded::new(File::open(&path).expect("open"), len).expect("padded");
        assert_eq!(
            r.seek(SeekFrom::End(0)).expect("end"),
            HEADER_BLOCK + 2 * CHUNK
        );
        assert!(r.record_cut, "the second record is cut");
        let whole_end = HEADER_BLOCK + CHUNK + CHUNK_HEADER as u64 + 100;
        r.seek(SeekFrom::Start(whole_end - 2)).expect("seek");
        let mut buf = [1u8; 6];
        let mut got = Vec::new();
        while got.len() < 6 {
            let n = r.read(&mut buf[..6 - got.len()]).expect("read");
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, [7, 7, 0, 0, 0, 0]);
        r.seek(SeekFrom::End(0)).expect("end");
        assert_eq!(r.read(&mut buf).expect("eof"), 0);
    }

    #[test]
    fn cut_files_are_named_truncated() {
        assert!(truncation(HEADER_BLOCK + 3 * CHUNK, 3).is_none());
        assert!(
            truncation(HEADER_BLOCK + 3 * CHUNK, 2).is_none(),
            "a stale header"
        );
        let cut = truncation(HEADER_BLOCK + 2 * CHUNK + 5, 9).expect("partial chunk");
        assert!(cut.contains("5 bytes into chunk 3"), "{cut}");
        let missing = truncation(HEADER_BLOCK + 2 * CHUNK, 9).expect("missing chunks");
        assert!(
            missing.contains("declares 9 chunks, 2 are present"),
            "{missing}"
        );
    }
}
