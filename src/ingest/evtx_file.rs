//! Reads `.evtx` files with the `evtx` crate, record by record.
//!
//! The parser runs single-threaded: files are read in parallel by the caller, and evtx's own
//! thread pool deadlocks when driven from inside a rayon job (see engine-design.md, hazard 12).

use super::{FileReport, normalize};
use crate::event::Event;
use evtx::{EvtxParser, ParserSettings};
use std::fs::File;
use std::path::Path;

/// Streams every readable record of `path` to `sink`; bad records are counted, not fatal.
pub fn read(path: &Path, sink: &mut dyn FnMut(Event)) -> std::io::Result<FileReport> {
    // Opened read-only by us, so the evidence file can never be modified.
    let file = File::open(path)?;
    let mut report = FileReport::default();
    let mut parser = match EvtxParser::from_read_seek(file) {
        Ok(p) => p,
        Err(e) => {
            report
                .warnings
                .push(format!("not a readable EVTX file: {e}"));
            report.errors += 1;
            return Ok(report);
        }
    };
    if !parser.header().validate_checksum() {
        report
            .warnings
            .push("file header checksum is invalid; read anyway".into());
    }
    let settings = ParserSettings::new()
        .num_threads(1)
        .separate_json_attributes(false)
        .indent(false);
    parser = parser.with_configuration(settings);
    let mut first_error: Option<String> = None;
    for record in parser.records_json_value() {
        match record {
            Ok(rec) => match normalize::from_json(&rec.data) {
                Some(event) => {
                    report.events += 1;
                    sink(event);
                }
                None => report.errors += 1,
            },
            Err(e) => {
                report.errors += 1;
                first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
    if let Some(first) = first_error {
        report.warnings.push(format!(
            "{} unreadable record(s) skipped; first: {}",
            report.errors,
            first.lines().next().unwrap_or_default()
        ));
    }
    Ok(report)
}
