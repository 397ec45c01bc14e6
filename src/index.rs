//! The case index: a persistent tantivy index of every event, plus the manifest of source
//! files. Only this module (and nothing else) knows the schema and talks to tantivy.
//!
//! Not for: deciding what matches (that is the matcher's job, over stored events); the index
//! only narrows candidates, soundly.

mod case;
pub mod dedup;
pub mod document;
mod in_flight;
mod indexer;
mod keyword;
mod manifest;
mod merge_policy;
mod plan;
mod query;
mod read_directory;
pub mod schema;
mod search;
mod tokenizer;

pub use case::{Case, IndexBackend, IndexError};
pub use indexer::{IngestOptions, IngestSummary, InputProblem, Progress, READER_THREAD};
pub use manifest::{Manifest, SourceFile};
pub use plan::{PlannedFile, plan_inputs};
pub use search::Snapshot;
