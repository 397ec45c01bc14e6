//! Reads `.evtx` files with the `evtx` crate, record by record.
//!
//! The parser runs single-threaded: files are read in parallel by the caller, and evtx's own
//! thread pool deadlocks when driven from inside a rayon job (see engine-design.md, hazard 12).

use super::{FileReport, RecordTally};
use crate::event::Event;
use evtx::{EvtxParser, ParserSettings};
use std::fs::File;
use std::path::Path;

/// Streams every readable record of `path` to `sink`; bad records are counted, not fatal.
pub fn read(path: &Path, sink: &mut dyn FnMut(Event)) -> std::io::Result<FileReport> {
    // Opened read-only by us, so the evidence file can never be modified.
    let file = File::open(path)?;
    let parser = match EvtxParser::from_read_seek(file) {
        Ok(p) => p,
        Err(e) => {
            return Ok(FileReport {
                errors: 1,
                warnings: vec![format!("not a readable EVTX file: {e}")],
                ..FileReport::default()
            });
        }
    };
    let header_ok = parser.header().validate_checksum();
    let settings = ParserSettings::new()
        .num_threads(1)
        .separate_json_attributes(false)
        .indent(false);
    let mut parser = parser.with_configuration(settings);
    let mut tally = RecordTally::new(sink);
    for record in parser.records_json_value() {
        tally.record(
            record
                .as_ref()
                .map(|r| &r.data)
                .map_err(ToString::to_string),
        );
    }
    let mut report = tally.finish();
    if !header_ok {
        report
            .warnings
            .insert(0, "file header checksum is invalid; read anyway".into());
    }
    Ok(report)
}
