//! 64 KiB chunks: header, record placement and the two CRC32 checksums.

use super::SynthError;
use super::binxml::ChunkWriter;
use super::record::Encoded;
use std::collections::HashMap;

pub const CHUNK_SIZE: usize = 0x10000;
/// Header (128 bytes) + common-string table (64 × u32) + template table (32 × u32).
pub const CHUNK_HEADER_SIZE: usize = 512;
const RECORD_SIGNATURE: [u8; 4] = [0x2a, 0x2a, 0x00, 0x00];
/// Record header: signature, size, identifier, written time.
const RECORD_HEADER_SIZE: usize = 24;
/// Where the last record must end. libevtx rejects a record unless at least 4 bytes of the
/// chunk follow it, so a record ending exactly at 64 KiB is silently dropped there (the evtx
/// crate and python-evtx read it). Records are 8-byte aligned, so that costs 8 bytes.
const RECORDS_END: usize = CHUNK_SIZE - 8;

/// A chunk being filled.
pub struct ChunkBuilder {
    data: Vec<u8>,
    free: usize,
    names: HashMap<String, u32>,
    templates: HashMap<[u8; 16], u32>,
    first_id: Option<u64>,
    last_id: u64,
    last_record_offset: usize,
}

impl Default for ChunkBuilder {
    fn default() -> Self {
        ChunkBuilder {
            data: vec![0; CHUNK_SIZE],
            free: CHUNK_HEADER_SIZE,
            names: HashMap::new(),
            templates: HashMap::new(),
            first_id: None,
            last_id: 0,
            last_record_offset: 0,
        }
    }
}

impl ChunkBuilder {
    pub fn is_empty(&self) -> bool {
        self.first_id.is_none()
    }

    /// Appends record `id` if it fits; `Ok(false)` means the chunk is full.
    ///
    /// The record is laid out against this chunk's name/template tables (its first use of a
    /// name or template carries it inline), so it is rebuilt for a fresh chunk on spill.
    pub fn try_append(&mut self, enc: &Encoded, id: u64) -> Result<bool, SynthError> {
        let mut w = ChunkWriter {
            base: offset_u32(self.free + RECORD_HEADER_SIZE),
            buf: Vec::with_capacity(1024),
            names: self.names.clone(),
            templates: self.templates.clone(),
        };
        w.template_instance(&enc.guid, &enc.root, &enc.values)?;
        // Windows keeps records 8-byte aligned; the zero pad follows the EndOfStream token.
        let unpadded = RECORD_HEADER_SIZE + w.buf.len() + 4;
        let size = unpadded.next_multiple_of(8);
        if self.free + size > RECORDS_END {
            if self.is_empty() {
                return Err(SynthError::Invalid(format!(
                    "event record {id} needs {size} bytes, more than a chunk holds"
                )));
            }
            return Ok(false);
        }
        let size32 = offset_u32(size);
        let rec = &mut self.data[self.free..self.free + size];
        rec[0..4].copy_from_slice(&RECORD_SIGNATURE);
        rec[4..8].copy_from_slice(&size32.to_le_bytes());
        rec[8..16].copy_from_slice(&id.to_le_bytes());
        rec[16..24].copy_from_slice(&enc.filetime.to_le_bytes());
        rec[24..24 + w.buf.len()].copy_from_slice(&w.buf);
        rec[size - 4..].copy_from_slice(&size32.to_le_bytes());

        self.names = w.names;
        self.templates = w.templates;
        self.first_id.get_or_insert(id);
        self.last_id = id;
        self.last_record_offset = self.free;
        self.free += size;
        Ok(true)
    }

    /// The finished chunk bytes with header fields and checksums.
    pub fn finish(mut self) -> Vec<u8> {
        let first = self.first_id.unwrap_or(0);
        let d = &mut self.data;
        d[0..8].copy_from_slice(b"ElfChnk\0");
        // Record numbers equal identifiers in a log that was never cleared.
        d[8..16].copy_from_slice(&first.to_le_bytes());
        d[16..24].copy_from_slice(&self.last_id.to_le_bytes());
        d[24..32].copy_from_slice(&first.to_le_bytes());
        d[32..40].copy_from_slice(&self.last_id.to_le_bytes());
        d[40..44].copy_from_slice(&128u32.to_le_bytes());
        d[44..48].copy_from_slice(&offset_u32(self.last_record_offset).to_le_bytes());
        d[48..52].copy_from_slice(&offset_u32(self.free).to_le_bytes());
        let records_crc = crc32fast::hash(&d[CHUNK_HEADER_SIZE..self.free]);
        d[52..56].copy_from_slice(&records_crc.to_le_bytes());
        // Flags at 120 stay 0; the header CRC covers 0..120 and the tables at 128..512.
        let mut h = crc32fast::Hasher::new();
        h.update(&d[0..120]);
        h.update(&d[128..CHUNK_HEADER_SIZE]);
        d[124..128].copy_from_slice(&h.finalize().to_le_bytes());
        self.data
    }
}

/// Offsets inside a 64 KiB chunk always fit a u32.
fn offset_u32(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}
