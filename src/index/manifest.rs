//! The record of source files in a case, kept as the payload of each tantivy commit so that the
//! list of indexed files and the indexed documents can never disagree, even after `kill -9`.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

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
}

/// Version of what the index holds per event. Bumped when documents gain terms that queries
/// rely on for soundness (markers), so an older case is refused rather than answering wrongly.
pub const FORMAT: u32 = 3;

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
}

impl Manifest {
    pub fn from_payload(payload: Option<&str>) -> Manifest {
        payload
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or_default()
    }

    /// Whether documents of an older format are in the case.
    pub fn is_outdated(&self) -> bool {
        self.format != FORMAT && !(self.files.is_empty() && self.pending.is_empty())
    }

    pub fn to_payload(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
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
}
