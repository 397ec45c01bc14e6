//! Opening and creating a case directory.

use super::manifest::Manifest;
use super::read_directory::ReadDirectory;
use super::schema::{self, Fields};
use std::path::{Path, PathBuf};
use tantivy::store::{Compressor, ZstdCompressor};
use tantivy::{Index, IndexReader, IndexSettings, ReloadPolicy};

/// Errors of the case index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("case directory {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("case index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("{0} is not a huntbench case (no index found)")]
    NotACase(PathBuf),
    #[error("case {0} is being written by another huntbench process")]
    Locked(PathBuf),
    #[error(
        "case {0} cannot be opened here: its index needs a lock file written beside it, and this \
         user cannot write there ({1}); copy the case to a writable place, or open it as its owner"
    )]
    NotWritable(PathBuf, String),
    #[error(
        "indexing stopped: {0}; an index writer thread failed (its own message, if it printed \
         one, is above). Files not finished stay pending and the next ingest redoes them"
    )]
    WriterFailed(String),
    #[error(
        "case {path} was indexed by an older huntbench (index format {found}, this one writes {}); \
         ingest the evidence into a new case (or delete this one)",
        super::manifest::FORMAT
    )]
    OldFormat { path: PathBuf, found: u32 },
    #[error("no case created at {case}: nothing to read in the inputs ({why})")]
    NothingToRead { case: PathBuf, why: String },
}

impl From<IndexError> for crate::store::StoreError {
    fn from(e: IndexError) -> Self {
        crate::store::StoreError::new(e)
    }
}

impl From<tantivy::TantivyError> for crate::store::StoreError {
    fn from(e: tantivy::TantivyError) -> Self {
        IndexError::from(e).into()
    }
}

/// An open case: the index, its reader and the committed manifest.
pub struct Case {
    pub(super) dir: PathBuf,
    pub(super) index: Index,
    pub(super) fields: Fields,
    pub(super) reader: IndexReader,
}

/// A lock file that cannot be written (a read-only copy of a case, another user's case) is
/// said plainly; tantivy's own error names only the lock file.
fn lock_error(dir: &Path, e: tantivy::TantivyError) -> IndexError {
    match e {
        tantivy::TantivyError::LockFailure(lock, why) => {
            let why = why.unwrap_or_else(|| match lock {
                tantivy::directory::error::LockError::IoError(e) => e.to_string(),
                other => other.to_string(),
            });
            IndexError::NotWritable(dir.to_owned(), why)
        }
        other => IndexError::Tantivy(other),
    }
}

/// The index directory, read without memory maps ([`ReadDirectory`]).
fn open_directory(index_dir: &Path) -> Result<ReadDirectory, IndexError> {
    ReadDirectory::open(index_dir).map_err(|e| IndexError::Tantivy(tantivy::TantivyError::from(e)))
}

impl Case {
    /// Opens the case in `dir`, creating an empty one if the directory holds none.
    pub fn open_or_create(dir: &Path) -> Result<Case, IndexError> {
        let index_dir = dir.join("index");
        std::fs::create_dir_all(&index_dir).map_err(|source| IndexError::Io {
            path: index_dir.clone(),
            source,
        })?;
        let (schema, fields) = schema::build_schema();
        let index = if index_dir.join("meta.json").exists() {
            Index::open(open_directory(&index_dir)?).map_err(|e| lock_error(dir, e))?
        } else {
            let settings = IndexSettings {
                docstore_compression: Compressor::Zstd(ZstdCompressor::default()),
                ..IndexSettings::default()
            };
            Index::create(open_directory(&index_dir)?, schema, settings)?
        };
        let case = Self::from_index(dir, index, fields).map_err(|e| match e {
            IndexError::Tantivy(t) => lock_error(dir, t),
            other => other,
        })?;
        let manifest = case.manifest()?;
        if manifest.is_outdated() {
            return Err(IndexError::OldFormat {
                path: dir.to_owned(),
                found: manifest.format,
            });
        }
        Ok(case)
    }

    /// Opens the case in `dir` to ingest `paths` into, creating it only when they hold an event
    /// log (see [`Case::check_inputs`]).
    pub fn open_for_inputs(dir: &Path, paths: &[PathBuf]) -> Result<Case, IndexError> {
        Self::check_inputs(dir, paths)?;
        Self::open_or_create(dir)
    }

    /// The one way the commands and the workbench open a case with inputs: without inputs the
    /// case must exist; with inputs it is opened or created (only when they hold an event log),
    /// what is new in them is ingested and made visible. Returns what the ingest did.
    pub fn open_with_inputs(
        dir: &Path,
        inputs: &[PathBuf],
        opts: &super::IngestOptions,
        progress: &mut dyn FnMut(&super::Progress),
    ) -> Result<(Case, Option<super::IngestSummary>), IndexError> {
        if inputs.is_empty() {
            return Ok((Self::open(dir)?, None));
        }
        let mut case = Self::open_for_inputs(dir, inputs)?;
        // Ingest ends by making its commit visible.
        let summary = case.ingest(inputs, opts, progress)?;
        Ok((case, Some(summary)))
    }

    /// Refuses to make a new case in `dir` for inputs that hold no event log: a case made for
    /// nothing (a mistyped path, an empty folder) would open as "0 events" and stay behind in
    /// the cache. An existing case is always fine; ingest reports the inputs' problems.
    pub fn check_inputs(dir: &Path, paths: &[PathBuf]) -> Result<(), IndexError> {
        if Self::exists(dir) {
            return Ok(());
        }
        let found = crate::ingest::discover(paths, &|_| None);
        if !found.files.is_empty() {
            return Ok(());
        }
        let errors = (found.errors.iter()).map(|e| (e.path.as_path(), e.reason.as_str()));
        let skipped = (found.skipped.iter()).map(|(p, why)| (p.as_path(), why.as_str()));
        let why: Vec<String> = (errors.chain(skipped))
            .map(|(p, why)| format!("{}: {why}", p.display()))
            .collect();
        Err(IndexError::NothingToRead {
            case: dir.to_owned(),
            why: if why.is_empty() {
                "no input paths".to_owned()
            } else {
                why.join("; ")
            },
        })
    }

    /// Whether `dir` holds a case of an older index format (false when it holds none).
    pub fn is_outdated(dir: &Path) -> bool {
        matches!(Self::open(dir), Err(IndexError::OldFormat { .. }))
    }

    /// Whether `dir` holds a case (its index marker exists), of whatever format.
    pub fn exists(dir: &Path) -> bool {
        dir.join("index").join("meta.json").exists()
    }

    /// Opens an existing case; fails if `dir` holds no case.
    pub fn open(dir: &Path) -> Result<Case, IndexError> {
        if !Self::exists(dir) {
            return Err(IndexError::NotACase(dir.to_owned()));
        }
        Self::open_or_create(dir)
    }

    fn from_index(dir: &Path, index: Index, fields: Fields) -> Result<Case, IndexError> {
        let tokenizers = index.tokenizers();
        tokenizers.register(schema::TEXT_ANALYZER, schema::text_analyzer());
        tokenizers.register(
            super::tokenizer::NAME,
            tantivy::tokenizer::TextAnalyzer::from(
                super::tokenizer::FieldTrigramTokenizer::default(),
            ),
        );
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Case {
            dir: dir.to_owned(),
            index,
            fields,
            reader,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The name shown for the case: its directory's name.
    pub fn name(&self) -> String {
        self.dir.file_name().map_or_else(
            || self.dir.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    /// The manifest of the last commit.
    pub fn manifest(&self) -> Result<Manifest, IndexError> {
        let meta = self.index.load_metas()?;
        Manifest::read(&self.dir, meta.payload.as_deref()).map_err(|source| IndexError::Io {
            path: self.dir.clone(),
            source,
        })
    }

    /// Makes the latest commit visible to searches.
    pub fn reload(&self) -> Result<(), IndexError> {
        Ok(self.reader.reload()?)
    }

    pub fn num_events(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn fields(&self) -> &Fields {
        &self.fields
    }
}

impl crate::store::CaseStore for Case {
    fn name(&self) -> String {
        Case::name(self)
    }

    fn dir(&self) -> &Path {
        &self.dir
    }

    fn snapshot(&self) -> std::sync::Arc<dyn crate::store::EventStore> {
        std::sync::Arc::new(Case::snapshot(self))
    }

    fn refresh(&self) -> Result<u64, crate::store::StoreError> {
        self.reload()?;
        Ok(self.num_events())
    }
}

/// The case index as the workbench's and the commands' backend.
pub struct IndexBackend;

impl crate::store::Backend for IndexBackend {
    fn open(
        &self,
        dir: &Path,
        inputs: &[PathBuf],
        opts: &super::IngestOptions,
        progress: &mut dyn FnMut(&super::Progress),
    ) -> Result<crate::store::Opened, crate::store::StoreError> {
        let (case, ingest) = Case::open_with_inputs(dir, inputs, opts, progress)?;
        Ok(crate::store::Opened {
            case: std::sync::Arc::new(case),
            ingest,
        })
    }

    fn check(&self, dir: &Path, inputs: &[PathBuf]) -> Result<(), crate::store::StoreError> {
        if inputs.is_empty() {
            Case::open(dir)?;
        } else {
            Case::check_inputs(dir, inputs)?;
        }
        Ok(())
    }

    fn is_outdated(&self, dir: &Path) -> bool {
        Case::is_outdated(dir)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_lock_file_that_cannot_be_written_is_said_plainly() {
        use tantivy::directory::error::LockError;
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let e = tantivy::TantivyError::LockFailure(LockError::IoError(denied.into()), None);
        let msg = super::lock_error(std::path::Path::new("/cases/x"), e).to_string();
        assert!(
            msg.starts_with("case /cases/x cannot be opened here")
                && msg.contains("permission denied"),
            "{msg}"
        );
    }
}
