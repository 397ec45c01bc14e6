//! An EVTX writer and the scenario files it renders into demo samples.
//!
//! `huntbench synth --scenario NAME -o FILE.evtx` calls [`render_scenario`]; `NAME` is one of
//! [`list_scenarios`] (the files under `samples/scenarios/`, embedded in the binary) or a path
//! to a scenario YAML file.
//!
//! The writer produces what Windows produces: a 3.1 file header, 64 KiB chunks with valid
//! CRC32s, and records whose BinXml is a template instance with typed substitution values
//! (see `binxml` for why templates). Its output is checked against the `evtx` crate, libevtx
//! (`evtxinfo`/`evtxexport`) and python-evtx by `tests/synth_*.rs`.

mod binxml;
mod chunk;
mod file;
mod profile;
mod record;
pub mod scenario;
pub mod value;

pub use file::{EvtxWriter, encode_evtx, write_evtx};
pub use record::{SynthEvent, UserBody, UserElement};
pub use scenario::{Scenario, ScenarioInfo, list_scenarios, load_scenario};
pub use value::DataValue;

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("{path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("scenario {name}: {message}")]
    Scenario { name: String, message: String },
    #[error("unknown scenario {0:?} (bundled: {1}); pass a .yml path for your own")]
    UnknownScenario(String, String),
    #[error("{0}")]
    Invalid(String),
}

/// What [`render_scenario`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub scenario: String,
    pub out_path: PathBuf,
    pub events: usize,
    pub chunks: usize,
    pub bytes: usize,
    pub first_record_id: u64,
    pub last_record_id: u64,
    pub first_time: Option<jiff::Timestamp>,
    pub last_time: Option<jiff::Timestamp>,
}

/// Renders a scenario (bundled name or path to a `.yml`) into an EVTX file at `out_path`.
pub fn render_scenario(path_or_name: &str, out_path: &Path) -> Result<Summary, SynthError> {
    let scenario = load_scenario(path_or_name)?;
    let events = scenario.events()?;
    let mut writer = EvtxWriter::new(scenario.first_record_id());
    let mut first_id = None;
    let mut last_id = 0;
    for ev in &events {
        let id = writer.push(ev)?;
        first_id.get_or_insert(id);
        last_id = id;
    }
    let chunks = writer.chunk_count();
    let bytes = writer.finish()?;
    std::fs::write(out_path, &bytes).map_err(|source| SynthError::Io {
        path: out_path.to_path_buf(),
        source,
    })?;
    Ok(Summary {
        scenario: scenario.name.clone(),
        out_path: out_path.to_path_buf(),
        events: events.len(),
        chunks,
        bytes: bytes.len(),
        first_record_id: first_id.unwrap_or(0),
        last_record_id: last_id,
        first_time: events.iter().map(|e| e.time).min(),
        last_time: events.iter().map(|e| e.time).max(),
    })
}
