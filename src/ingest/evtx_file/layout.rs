//! What each 64 KiB slot after an EVTX file header holds, checked before the `evtx` crate reads
//! the file. The crate skips a zeroed chunk in silence and reads any bytes after the last chunk
//! as more (unreadable) chunks; this scan says which chunks are lost or damaged and where the
//! log ends, so those can be reported as what they are.

use super::{CHUNK, HEADER_BLOCK};
use evtx::EvtxChunkData;
use std::io::{Read, Seek, SeekFrom};

const FILE_MAGIC: &[u8; 8] = b"ElfFile\0";
const CHUNK_MAGIC: &[u8; 8] = b"ElfChnk\0";

/// What one slot holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Slot {
    /// A chunk, with the checksums that failed (the crate reads such a chunk anyway).
    Chunk { bad_header: bool, bad_records: bool },
    /// The chunk signature, then a header the crate cannot parse.
    BadHeader,
    /// Only zeros.
    Zeroed,
    /// Bytes that do not start with the chunk signature.
    NotChunk,
}

impl Slot {
    fn is_chunk(&self) -> bool {
        matches!(self, Slot::Chunk { .. } | Slot::BadHeader)
    }
}

/// The slots of a file: whole ones, then the part-slot its length leaves, if any.
#[derive(Debug, Default)]
pub(super) struct Layout {
    /// Chunks the file header declares.
    pub declared: u64,
    pub slots: Vec<Slot>,
    /// Bytes in the final part-slot (0: the file ends on a slot boundary).
    pub tail_len: u64,
}

impl Layout {
    /// Scans `file` (`len` bytes); a file without the EVTX signature gets no slots (the crate
    /// rejects it with its own reason).
    pub fn scan(file: &mut (impl Read + Seek), len: u64) -> std::io::Result<Layout> {
        file.seek(SeekFrom::Start(0))?;
        let mut header = vec![0u8; HEADER_BLOCK as usize];
        if read_up_to(file, &mut header)? < header.len() || !header.starts_with(FILE_MAGIC) {
            return Ok(Layout::default());
        }
        let mut layout = Layout {
            declared: u64::from(u16::from_le_bytes([header[42], header[43]])),
            ..Layout::default()
        };
        let mut buf = vec![0u8; CHUNK as usize];
        for _ in 0..len.saturating_sub(HEADER_BLOCK).div_ceil(CHUNK) {
            let n = read_up_to(file, &mut buf)?;
            if n < buf.len() {
                // A part-slot: the end of the file (read now, should it have changed).
                if n > 0 {
                    layout.tail_len = n as u64;
                    layout.slots.push(classify_part(&buf[..n]));
                }
                break;
            }
            let (slot, back) = classify(buf);
            layout.slots.push(slot);
            buf = back;
        }
        Ok(layout)
    }

    /// Whole slots (a part-slot, if any, is the last slot).
    fn whole(&self) -> usize {
        self.slots.len() - usize::from(self.tail_len > 0)
    }

    /// Slots that belong to the log: up to its last chunk, and at least those the header
    /// declares (when present). What follows is not EVTX data.
    pub fn span(&self) -> usize {
        let last_chunk = (self.slots.iter().rposition(Slot::is_chunk)).map_or(0, |i| i + 1);
        let declared = usize::try_from(self.declared).unwrap_or(usize::MAX);
        last_chunk.max(declared.min(self.whole()))
    }

    /// Where the log ends in the file: after the last slot of [`Self::span`] (a chunk cut short
    /// by the end of the file ends there).
    pub fn log_end(&self) -> u64 {
        let span = self.span();
        let cut = if span > self.whole() {
            self.tail_len
        } else {
            0
        };
        HEADER_BLOCK + span.min(self.whole()) as u64 * CHUNK + cut
    }

    /// Chunks of the log, numbered from 0 in the file, that cannot be read, with why. A chunk
    /// cut short by the end of the file is reported as truncation instead.
    pub fn lost(&self) -> Vec<(u64, &'static str)> {
        let span = self.span().min(self.whole());
        (self.slots[..span].iter().enumerate())
            .filter_map(|(i, s)| {
                let why = match s {
                    Slot::Zeroed => "zeroed",
                    Slot::NotChunk => "bad signature",
                    Slot::BadHeader => "bad header",
                    Slot::Chunk { .. } => return None,
                };
                Some((i as u64, why))
            })
            .collect()
    }

    /// Chunks whose checksums fail, with which: the crate reads them, but what it reads may
    /// be damaged.
    pub fn damaged(&self) -> Vec<(u64, &'static str)> {
        (self.slots.iter().enumerate())
            .filter_map(|(i, s)| {
                let Slot::Chunk {
                    bad_header,
                    bad_records,
                } = s
                else {
                    return None;
                };
                let which = match (bad_header, bad_records) {
                    (true, true) => "header and records checksums",
                    (true, false) => "header checksum",
                    (false, true) => "records checksum",
                    (false, false) => return None,
                };
                Some((i as u64, which))
            })
            .collect()
    }

    /// How many bytes follow the log, when they are not all zeros (zeros are unused space).
    pub fn trailing_garbage(&self) -> Option<u64> {
        let after = &self.slots[self.span().min(self.slots.len())..];
        let file_end = HEADER_BLOCK + self.whole() as u64 * CHUNK + self.tail_len;
        (after.iter().any(|s| *s != Slot::Zeroed)).then(|| file_end - self.log_end())
    }
}

/// Classifies a whole slot and hands the buffer back for the next one.
fn classify(buf: Vec<u8>) -> (Slot, Vec<u8>) {
    if buf.iter().all(|&b| b == 0) {
        return (Slot::Zeroed, buf);
    }
    if !buf.starts_with(CHUNK_MAGIC) {
        return (Slot::NotChunk, buf);
    }
    match EvtxChunkData::new(buf, false) {
        Ok(chunk) => {
            let slot = Slot::Chunk {
                bad_header: !chunk.validate_header_checksum(),
                bad_records: !chunk.validate_data_checksum(),
            };
            (slot, chunk.data)
        }
        Err(_) => (Slot::BadHeader, vec![0u8; CHUNK as usize]),
    }
}

/// A part-slot at the end of the file: a chunk cut short when it starts like one.
fn classify_part(bytes: &[u8]) -> Slot {
    let n = bytes.len().min(CHUNK_MAGIC.len());
    if bytes.iter().all(|&b| b == 0) {
        Slot::Zeroed
    } else if bytes[..n] == CHUNK_MAGIC[..n] {
        Slot::Chunk {
            bad_header: false,
            bad_records: false,
        }
    } else {
        Slot::NotChunk
    }
}

/// Fills `buf` as far as the file allows; returns how many bytes were read.
fn read_up_to(file: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut at = 0;
    while at < buf.len() {
        match file.read(&mut buf[at..]) {
            Ok(0) => break,
            Ok(n) => at += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(at)
}
