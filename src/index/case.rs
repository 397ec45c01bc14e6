//! Opening and creating a case directory.

use super::manifest::Manifest;
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
}

/// An open case: the index, its reader and the committed manifest.
pub struct Case {
    pub(super) dir: PathBuf,
    pub(super) index: Index,
    pub(super) fields: Fields,
    pub(super) reader: IndexReader,
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
            Index::open_in_dir(&index_dir)?
        } else {
            let settings = IndexSettings {
                docstore_compression: Compressor::Zstd(ZstdCompressor::default()),
                ..IndexSettings::default()
            };
            Index::builder()
                .schema(schema)
                .settings(settings)
                .create_in_dir(&index_dir)?
        };
        let case = Self::from_index(dir, index, fields)?;
        let manifest = case.manifest()?;
        if manifest.is_outdated() {
            return Err(IndexError::OldFormat {
                path: dir.to_owned(),
                found: manifest.format,
            });
        }
        Ok(case)
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
        Ok(Manifest::from_payload(meta.payload.as_deref()))
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
