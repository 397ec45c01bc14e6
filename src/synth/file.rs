//! The EVTX file: a 4 KiB file header followed by the chunks.

use super::SynthError;
use super::chunk::{CHUNK_SIZE, ChunkBuilder};
use super::record::{self, SynthEvent};
use std::path::Path;

const FILE_HEADER_SIZE: usize = 4096;

/// Writes events into EVTX chunks in order, assigning consecutive record identifiers.
pub struct EvtxWriter {
    done: Vec<Vec<u8>>,
    current: ChunkBuilder,
    next_id: u64,
}

impl Default for EvtxWriter {
    fn default() -> Self {
        EvtxWriter::new(1)
    }
}

impl EvtxWriter {
    /// A writer whose first record gets identifier `first_record_id` (at least 1).
    pub fn new(first_record_id: u64) -> Self {
        EvtxWriter {
            done: Vec::new(),
            current: ChunkBuilder::default(),
            next_id: first_record_id.max(1),
        }
    }

    /// Adds an event; returns its `EventRecordID`.
    pub fn push(&mut self, ev: &SynthEvent) -> Result<u64, SynthError> {
        let id = self.next_id;
        let enc = record::encode(ev, id)?;
        if !self.current.try_append(&enc, id)? {
            let full = std::mem::take(&mut self.current);
            self.done.push(full.finish());
            if !self.current.try_append(&enc, id)? {
                return Err(SynthError::Invalid(format!(
                    "record {id} does not fit a chunk"
                )));
            }
        }
        self.next_id += 1;
        Ok(id)
    }

    /// Number of chunks the file will have.
    pub fn chunk_count(&self) -> usize {
        self.done.len() + usize::from(!self.current.is_empty())
    }

    /// The complete file.
    pub fn finish(mut self) -> Result<Vec<u8>, SynthError> {
        if !self.current.is_empty() {
            let last = std::mem::take(&mut self.current);
            self.done.push(last.finish());
        }
        let chunks = u16::try_from(self.done.len())
            .map_err(|_| SynthError::Invalid("more than 65535 chunks".into()))?;
        let mut out = Vec::with_capacity(FILE_HEADER_SIZE + self.done.len() * CHUNK_SIZE);
        out.extend_from_slice(&file_header(chunks, self.next_id));
        for c in &self.done {
            out.extend_from_slice(c);
        }
        Ok(out)
    }
}

/// The file header; version 3.1 as Windows 7–11 write it (python-evtx accepts only 3.1).
fn file_header(chunks: u16, next_record_id: u64) -> Vec<u8> {
    let mut h = vec![0u8; FILE_HEADER_SIZE];
    h[0..8].copy_from_slice(b"ElfFile\0");
    h[8..16].copy_from_slice(&0u64.to_le_bytes()); // first chunk number
    let last_chunk = u64::from(chunks.saturating_sub(1));
    h[16..24].copy_from_slice(&last_chunk.to_le_bytes());
    h[24..32].copy_from_slice(&next_record_id.to_le_bytes());
    h[32..36].copy_from_slice(&128u32.to_le_bytes());
    h[36..38].copy_from_slice(&1u16.to_le_bytes()); // minor version
    h[38..40].copy_from_slice(&3u16.to_le_bytes()); // major version
    h[40..42].copy_from_slice(&(FILE_HEADER_SIZE as u16).to_le_bytes());
    h[42..44].copy_from_slice(&chunks.to_le_bytes());
    // Flags at 120 = 0: not dirty, not full.
    let crc = crc32fast::hash(&h[0..120]);
    h[124..128].copy_from_slice(&crc.to_le_bytes());
    h
}

/// Encodes events into EVTX bytes, record identifiers starting at `first_record_id`.
pub fn encode_evtx(events: &[SynthEvent], first_record_id: u64) -> Result<Vec<u8>, SynthError> {
    let mut w = EvtxWriter::new(first_record_id);
    for ev in events {
        w.push(ev)?;
    }
    w.finish()
}

/// Writes events to an EVTX file at `path`.
pub fn write_evtx(
    path: &Path,
    events: &[SynthEvent],
    first_record_id: u64,
) -> Result<usize, SynthError> {
    let bytes = encode_evtx(events, first_record_id)?;
    std::fs::write(path, &bytes).map_err(|source| SynthError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(bytes.len())
}
