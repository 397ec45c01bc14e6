//! The record of source files in a case, committed with each tantivy commit so that the list
//! of indexed files and the indexed documents can never disagree, even after `kill -9`.
//!
//! The commit's payload holds the format and the pending files; the list of files is written
//! to its own file under the case (`manifest/`) before the commit, and the payload names it.
//! Tantivy keeps its payload in memory several times over and re-reads it with every commit:
//! with 109,000 source files (the corpus ×350) the list is 23 MB of JSON, which as a payload
//! held about 90 MB at the end of an ingest. Cases whose payload holds the list itself (written
//! before) are read as they are.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The directory under a case holding the committed file lists.
const DIR: &str = "manifest";

/// One ingested source file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFile {
    /// Stored in every document of this file (`file` fast field).
    pub id: u64,
    /// Every path this content was offered under (the first one was read).
    pub paths: Vec<String>,
    pub size: u64,
    /// Seconds since the epoch, to skip re-hashing an unchanged path.
    pub mtime: i64,
    /// SHA-256 of the content, hex: identifies the file wherever it is.
    pub sha256: String,
    pub events: u64,
    pub errors: u64,
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Records of this file not indexed because the case holds the same record from another
    /// source (or earlier in this file): see `dedup`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub folded: u64,
    /// Of those, how many per source id that held the record when it was folded.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub folded_into: BTreeMap<u64, u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Version of what the index holds per event. Bumped when documents gain terms that queries
/// rely on for soundness (markers), so an older case is refused rather than answering wrongly;
/// 4 added the record digests that ingest folds duplicate records by.
pub const FORMAT: u32 = 4;

/// The committed state of a case.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`] of the documents in this case (0: written before formats were recorded).
    #[serde(default)]
    pub format: u32,
    pub files: Vec<SourceFile>,
    /// File ids that had documents in flight when this commit was made. Their documents are
    /// incomplete and are deleted before the next ingest re-reads those files.
    #[serde(default)]
    pub pending: Vec<u64>,
    /// Records repeated across sources are all indexed (`--keep-duplicates`): set by the run
    /// that asked, and kept for the case's later runs.
    #[serde(default)]
    pub keep_duplicates: bool,
}

/// A commit's payload.
#[derive(Default, Serialize, Deserialize)]
struct Payload {
    #[serde(default)]
    format: u32,
    /// The list itself, in cases written before it moved to its own file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    files: Vec<SourceFile>,
    #[serde(default)]
    pending: Vec<u64>,
    /// Where the list is, relative to the case directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    files_in: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    keep_duplicates: bool,
}

impl SourceFile {
    /// How the store's users see this file.
    pub fn source(&self) -> crate::store::Source {
        crate::store::Source {
            id: self.id,
            paths: self.paths.clone(),
            sha256: self.sha256.clone(),
            events: self.events,
            warnings: self.warnings.clone(),
            folded: self.folded,
            folded_into: self.folded_into.iter().map(|(&k, &v)| (k, v)).collect(),
        }
    }
}

impl Manifest {
    /// The manifest a commit's payload describes (an empty one without a payload).
    pub fn read(case_dir: &Path, payload: Option<&str>) -> std::io::Result<Manifest> {
        let Some(payload) = payload else {
            return Ok(Manifest::default());
        };
        let p: Payload = serde_json::from_str(payload).map_err(std::io::Error::other)?;
        let files = match &p.files_in {
            None => p.files,
            Some(name) => {
                let path = case_dir.join(name);
                let file = std::fs::File::open(&path).map_err(|e| {
                    std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
                })?;
                serde_json::from_reader(BufReader::new(file))
                    .map_err(|e| std::io::Error::other(format!("{}: {e}", path.display())))?
            }
        };
        Ok(Manifest {
            format: p.format,
            files,
            pending: p.pending,
            keep_duplicates: p.keep_duplicates,
        })
    }

    /// Whether documents of an older format are in the case.
    pub fn is_outdated(&self) -> bool {
        self.format != FORMAT && !(self.files.is_empty() && self.pending.is_empty())
    }

    /// Writes the list of `files` for a commit (completely, under a new name) and returns
    /// the payload naming it, with the format, pending files and setting of `header`.
    pub fn write_for_commit(
        case_dir: &Path,
        header: &Manifest,
        pending: &[u64],
        files: impl Iterator<Item = SourceFile>,
    ) -> std::io::Result<String> {
        let dir = case_dir.join(DIR);
        std::fs::create_dir_all(&dir)?;
        let tmp = tempfile::Builder::new()
            .prefix(".incoming-")
            .tempfile_in(&dir)?;
        let mut out = BufWriter::new(tmp);
        // Streamed: the list is never held as one string.
        let mut ser = serde_json::Serializer::new(&mut out);
        serde::Serializer::collect_seq(&mut ser, files).map_err(std::io::Error::other)?;
        out.flush()?;
        let tmp = out.into_inner().map_err(|e| e.into_error())?;
        tmp.as_file().sync_all()?;
        let name = format!(
            "files-{}-{}.json",
            jiff::Timestamp::now().as_microsecond(),
            std::process::id()
        );
        tmp.persist(dir.join(&name)).map_err(|e| e.error)?;
        let payload = Payload {
            format: header.format,
            files: Vec::new(),
            pending: pending.to_vec(),
            files_in: Some(format!("{DIR}/{name}")),
            keep_duplicates: header.keep_duplicates,
        };
        serde_json::to_string(&payload).map_err(std::io::Error::other)
    }

    /// Removes the file lists of older commits, keeping those of the `keep` payloads (a reader
    /// that loaded the previous commit may still be about to read its list).
    pub fn remove_older_lists(case_dir: &Path, keep: &[&str]) {
        let keep: Vec<PathBuf> = (keep.iter())
            .filter_map(|p| serde_json::from_str::<Payload>(p).ok()?.files_in)
            .map(|name| case_dir.join(name))
            .collect();
        let Ok(entries) = std::fs::read_dir(case_dir.join(DIR)) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            let is_list = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("files-"));
            if is_list && !keep.contains(&path) {
                let _ = std::fs::remove_file(path);
            }
        }
    }

    pub fn next_id(&self) -> u64 {
        let used = self
            .files
            .iter()
            .map(|f| f.id)
            .chain(self.pending.iter().copied());
        used.max().map_or(0, |m| m + 1)
    }

    /// Each source file's first path, by file id (for naming the file of an event).
    pub fn first_paths(&self) -> HashMap<u64, String> {
        self.files
            .iter()
            .filter_map(|f| Some((f.id, f.paths.first()?.clone())))
            .collect()
    }

    pub fn total_events(&self) -> u64 {
        self.files.iter().map(|f| f.events).sum()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn only_a_non_empty_case_of_another_format_is_outdated() {
        let mut m = Manifest::default();
        assert!(!m.is_outdated());
        m.pending.push(1);
        assert!(m.is_outdated());
        m.format = FORMAT;
        assert!(!m.is_outdated());
    }

    #[test]
    fn the_file_list_is_read_from_its_own_file_or_from_an_older_payload() {
        let dir = tempfile::tempdir().unwrap();
        let file = |id| SourceFile {
            id,
            paths: vec![format!("/logs/{id}.evtx")],
            ..SourceFile::default()
        };
        let header = Manifest {
            format: FORMAT,
            ..Manifest::default()
        };
        let first =
            Manifest::write_for_commit(dir.path(), &header, &[7], [file(1)].into_iter()).unwrap();
        let second =
            Manifest::write_for_commit(dir.path(), &header, &[], [file(1), file(2)].into_iter())
                .unwrap();
        assert!(second.len() < 200, "{second}");
        let m = Manifest::read(dir.path(), Some(&second)).unwrap();
        assert_eq!(m.files, vec![file(1), file(2)]);
        assert!(m.pending.is_empty() && m.format == FORMAT);
        assert_eq!(
            Manifest::read(dir.path(), Some(&first)).unwrap().pending,
            [7]
        );
        // Only the lists of the payloads kept remain.
        Manifest::remove_older_lists(dir.path(), &[&second]);
        assert!(Manifest::read(dir.path(), Some(&first)).is_err());
        assert_eq!(
            Manifest::read(dir.path(), Some(&second))
                .unwrap()
                .files
                .len(),
            2
        );
        // A payload that holds the list itself.
        let old = r#"{"format":3,"files":[{"id":1,"paths":["/logs/1.evtx"],"size":0,"mtime":0,"sha256":"","events":0,"errors":0}],"pending":[]}"#;
        assert_eq!(
            Manifest::read(dir.path(), Some(old)).unwrap().files,
            vec![file(1)]
        );
        assert_eq!(
            Manifest::read(dir.path(), None).unwrap(),
            Manifest::default()
        );
    }
}
