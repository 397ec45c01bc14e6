//! The hits of rules already run over a case, kept on disk so that running them again (a second
//! `scan`, reopening the workbench) reads them instead of evaluating them.
//!
//! A rule's hits are kept under its fingerprint (its text, its filters, the mapping and
//! placeholders: [`CompiledRule::fingerprint`]) and the build of huntbench that ran it, in a
//! directory named by the snapshot's generation ([`EventStore::generation`]). An ingest or merge
//! changes the generation, so hits are never read against other events than they were found
//! in; the directories of older generations are removed.
//!
//! The memo is a shortcut that can only be absent, never wrong: a memo that cannot be read or
//! written is ignored and the rules are evaluated. Each run writes the hits it evaluated to a
//! temporary file renamed into place once complete, so two processes never see each other's
//! half-written files (the later of two racing runs simply adds a second file).
//!
//! File layout: a header line, then per rule a 32-byte key, a little-endian `u64` count, that
//! many references (`i64` time, `u32` segment, `u32` document) and a CRC-32 of the entry (a
//! damaged entry could otherwise name other events).

use crate::sigma::CompiledRule;
use crate::store::{EventRef, EventStore};
use sha2::Digest as _;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

const HEADER: &[u8] = b"huntbench hit memo 3\n";
const REF_BYTES: u64 = 16;
const CRC_BYTES: u64 = 4;
/// The directory under a case that holds the memo.
pub const DIR: &str = "hit-memo";
const SUFFIX: &str = "hits";

/// Where each remembered rule's hits are: file, offset of the first reference, count.
pub struct Memo {
    dir: PathBuf,
    build: [u8; 32],
    files: Vec<PathBuf>,
    entries: HashMap<[u8; 32], (usize, u64, u64)>,
}

impl Memo {
    /// The memo of `case_dir` for this snapshot (empty when there is none yet); `None` when
    /// this build cannot name itself, so nothing it remembered could be told from another's.
    pub fn open(case_dir: &Path, store: &dyn EventStore) -> Option<Memo> {
        let build = build_id()?;
        let root = case_dir.join(DIR);
        let generation = store.generation();
        remove_other_generations(&root, &generation);
        let dir = root.join(generation);
        let mut memo = Memo {
            dir,
            build,
            files: Vec::new(),
            entries: HashMap::new(),
        };
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&memo.dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        paths.retain(|p| p.extension().is_some_and(|e| e == SUFFIX));
        paths.sort();
        for path in paths {
            let _ = memo.index_file(path);
        }
        Some(memo)
    }

    fn index_file(&mut self, path: PathBuf) -> std::io::Result<()> {
        let len = std::fs::metadata(&path)?.len();
        let mut r = BufReader::new(File::open(&path)?);
        let mut header = [0u8; HEADER.len()];
        r.read_exact(&mut header)?;
        if header != HEADER {
            return Ok(());
        }
        let file = self.files.len();
        let mut found = Vec::new();
        let mut at = HEADER.len() as u64;
        loop {
            let mut head = [0u8; 40];
            match r.read_exact(&mut head) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(e),
            }
            let mut key = [0u8; 32];
            key.copy_from_slice(&head[..32]);
            let count = u64::from_le_bytes(head[32..].try_into().unwrap_or_default());
            at += 40;
            let end = (count.checked_mul(REF_BYTES)).and_then(|n| n.checked_add(at + CRC_BYTES));
            // A file cut short is not trusted at all.
            let Some(end) = end.filter(|&e| e <= len) else {
                return Ok(());
            };
            found.push((key, (file, at, count)));
            r.seek(SeekFrom::Start(end))?;
            at = end;
        }
        self.files.push(path);
        self.entries.extend(found);
        Ok(())
    }

    fn key(&self, rule: &CompiledRule) -> [u8; 32] {
        let mut h = sha2::Sha256::new();
        h.update(self.build);
        h.update(rule.fingerprint());
        h.finalize().into()
    }

    /// The remembered hits of `rule` (sorted by time), if it ran over this snapshot before.
    pub fn get(&self, rule: &CompiledRule, store: &dyn EventStore) -> Option<Vec<EventRef>> {
        let key = self.key(rule);
        let &(file, offset, count) = self.entries.get(&key)?;
        let mut f = File::open(self.files.get(file)?).ok()?;
        f.seek(SeekFrom::Start(offset)).ok()?;
        let mut bytes = vec![0u8; usize::try_from(count * REF_BYTES + CRC_BYTES).ok()?];
        f.read_exact(&mut bytes).ok()?;
        let (bytes, crc) = bytes.split_at(bytes.len() - CRC_BYTES as usize);
        if entry_crc(&key, count, bytes).to_le_bytes() != crc {
            return None;
        }
        let refs: Vec<EventRef> = bytes
            .chunks_exact(REF_BYTES as usize)
            .map(|c| {
                EventRef::new(
                    i64::from_le_bytes(c[..8].try_into().unwrap_or_default()),
                    u64::from_le_bytes(c[8..].try_into().unwrap_or_default()),
                )
            })
            .collect();
        refs.iter().all(|r| store.holds(*r)).then_some(refs)
    }

    /// A writer for the hits this run evaluates; `None` when the memo cannot be written.
    pub fn recorder(&self) -> Option<Recorder<'_>> {
        std::fs::create_dir_all(&self.dir).ok()?;
        let tmp = tempfile::Builder::new()
            .prefix(".incoming-")
            .tempfile_in(&self.dir)
            .ok()?;
        let mut out = BufWriter::new(tmp);
        out.write_all(HEADER).ok()?;
        Some(Recorder {
            memo: self,
            out,
            any: false,
        })
    }
}

/// Hits being written for a [`Memo`]; they become readable once [`Recorder::finish`] runs.
pub struct Recorder<'a> {
    memo: &'a Memo,
    out: BufWriter<tempfile::NamedTempFile>,
    any: bool,
}

impl Recorder<'_> {
    pub fn record(&mut self, rule: &CompiledRule, hits: &[EventRef]) -> std::io::Result<()> {
        let key = self.memo.key(rule);
        let mut refs = Vec::with_capacity(hits.len() * REF_BYTES as usize);
        for r in hits {
            refs.extend_from_slice(&r.ts.to_le_bytes());
            refs.extend_from_slice(&r.key.to_le_bytes());
        }
        let count = hits.len() as u64;
        self.out.write_all(&key)?;
        self.out.write_all(&count.to_le_bytes())?;
        self.out.write_all(&refs)?;
        self.out
            .write_all(&entry_crc(&key, count, &refs).to_le_bytes())?;
        self.any = true;
        Ok(())
    }

    /// Puts the recorded hits in place (a file no reader has seen half-written).
    pub fn finish(self) -> std::io::Result<()> {
        if !self.any {
            return Ok(());
        }
        let tmp = self.out.into_inner().map_err(|e| e.into_error())?;
        tmp.as_file().sync_all()?;
        let name = format!(
            "{}-{}.{SUFFIX}",
            jiff::Timestamp::now().as_microsecond(),
            std::process::id()
        );
        tmp.persist(self.memo.dir.join(name)).map_err(|e| e.error)?;
        Ok(())
    }
}

fn entry_crc(key: &[u8; 32], count: u64, refs: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(key);
    h.update(&count.to_le_bytes());
    h.update(refs);
    h.finalize()
}

/// Names this build: hits found by another build (another matcher) are not reused.
fn build_id() -> Option<[u8; 32]> {
    let exe = std::env::current_exe().ok()?;
    let meta = std::fs::metadata(exe).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    let mut h = sha2::Sha256::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(meta.len().to_le_bytes());
    h.update(mtime.as_nanos().to_le_bytes());
    Some(h.finalize().into())
}

/// Memos of other generations can never be read again.
fn remove_other_generations(root: &Path, current: &str) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_name() != current {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}
