//! What a fresh case would read from a set of inputs, without making one: the same discovery
//! and duplicate triage as [`Case::ingest`](super::Case::ingest), for readers that stream the
//! inputs elsewhere (the Parquet export of raw logs).

use super::case::Case;
use super::indexer::{IngestSummary, triage};
use super::manifest::{Manifest, SourceFile};
use crate::ingest::{self, Format};
use std::path::{Path, PathBuf};

/// One input file to read, with the record a fresh case would give it (id, paths, SHA-256).
#[derive(Clone, Debug)]
pub struct PlannedFile {
    pub path: PathBuf,
    pub format: Format,
    pub source: SourceFile,
}

/// Triages `paths` as ingest into an empty case does: files of the same content are read once
/// (the later paths recorded on the first), case directories among the inputs are left out.
/// The summary holds what ingest would report before reading (errors, skipped files, notes);
/// the caller adds the files it read to `added`.
pub fn plan_inputs(paths: &[PathBuf]) -> (Vec<PlannedFile>, IngestSummary) {
    let skip_case = |d: &Path| {
        Case::exists(d)
            .then(|| "a huntbench case; not read (read its evidence, not the case)".to_owned())
    };
    let found = ingest::discover(paths, &skip_case);
    let mut summary = IngestSummary {
        path_errors: found.errors,
        not_logs: found.not_logs,
        ..IngestSummary::default()
    };
    let new_files = triage(found.files, &mut Manifest::default(), &mut summary.skipped);
    summary.skipped.extend(found.skipped);
    let planned = (new_files.into_iter())
        .map(|f| PlannedFile {
            path: f.path,
            format: f.format,
            source: f.record,
        })
        .collect();
    (planned, summary)
}
