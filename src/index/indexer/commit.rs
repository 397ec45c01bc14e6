//! Commits of an ingest: documents and the manifest that describes them, atomically.

use super::NewFile;
use crate::index::case::IndexError;
use crate::index::dedup::Folds;
use crate::index::in_flight::Tracked;
use crate::index::manifest::{Manifest, SourceFile};
use crate::ingest::FileReport;
use std::collections::HashSet;
use std::path::PathBuf;
use tantivy::IndexWriter;

/// The new files read completely so far, as the manifest records them.
pub(super) fn finished_files<'a>(
    new_files: &'a [NewFile],
    reports: &'a [Option<std::io::Result<FileReport>>],
    folds: &'a [Folds],
) -> impl Iterator<Item = SourceFile> + 'a {
    let folds = folds.iter().map(Some).chain(std::iter::repeat(None));
    (new_files.iter().zip(reports).zip(folds)).filter_map(|((f, report), folds)| {
        let Some(Ok(r)) = report else {
            return None;
        };
        let mut record = f.record.clone();
        record.events = r.events;
        record.errors = r.errors;
        record.warnings.clone_from(&r.warnings);
        if let Some(folds) = folds {
            record.folded = folds.count;
            record.folded_into.clone_from(&folds.into);
        }
        Some(record)
    })
}

/// Commits documents with the manifest that describes them.
pub(super) struct Committer {
    pub(super) case_dir: PathBuf,
    /// The payload of the previous commit, whose file list a reader may still be reading.
    pub(super) previous: Option<String>,
}

impl Committer {
    /// Commits with the manifest of `base` plus the new files read completely; the files still
    /// being read stay pending, unless the ingest has `finished`.
    pub(super) fn commit(
        &mut self,
        writer: &mut IndexWriter<Tracked>,
        base: &Manifest,
        new_files: &[NewFile],
        reports: &[Option<std::io::Result<FileReport>>],
        folds: &[Folds],
        finished: bool,
    ) -> Result<(), IndexError> {
        let done: HashSet<u64> = (finished_files(new_files, reports, folds))
            .map(|f| f.id)
            .collect();
        let pending: Vec<u64> = if finished {
            Vec::new()
        } else {
            (base.pending.iter().copied())
                .filter(|id| !done.contains(id))
                .collect()
        };
        let files = (base.files.iter().cloned()).chain(finished_files(new_files, reports, folds));
        let io = |source| IndexError::Io {
            path: self.case_dir.clone(),
            source,
        };
        let payload =
            Manifest::write_for_commit(&self.case_dir, base, &pending, files).map_err(io)?;
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&payload);
        prepared.commit()?;
        let keep: Vec<&str> = std::iter::once(payload.as_str())
            .chain(self.previous.as_deref())
            .collect();
        Manifest::remove_older_lists(&self.case_dir, &keep);
        self.previous = Some(payload);
        Ok(())
    }
}
