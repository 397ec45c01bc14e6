//! huntbench: a terminal threat-hunting workbench for Windows event logs.
//!
//! Data flow:
//! ```text
//! EVTX / JSON / JSONL ──ingest──▶ Event ──index──▶ case directory (tantivy)
//! Sigma YAML ──sigma──▶ CompiledRule ─┬─ prefilter ──index──▶ candidates
//!                                     └─ exact matcher over each candidate ──▶ hits
//! ```
//! `event` is the shared vocabulary; `prefilter` is the tantivy-free contract between the
//! matchers and the index. See ARCHITECTURE.md for what each module is and is not for.

pub mod attack;
pub mod bookmarks;
pub mod cli;
pub mod descent;
pub mod event;
pub mod export;
pub mod hunt;
pub mod index;
pub mod ingest;
pub mod logons;
pub mod overlay;
pub mod prefilter;
pub mod proctree;
pub mod query;
#[cfg(feature = "remote")]
pub mod remote;
pub mod report;
pub mod ruleinstall;
pub mod rulepack;
pub mod sanitize;
pub mod sigma;
pub mod sql;
pub mod store;
pub mod synth;
pub mod tui;
