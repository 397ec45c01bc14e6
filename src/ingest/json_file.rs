//! Reads JSON exports: concatenated objects (as evtx_dump writes them, with or without its
//! `Record N` lines), one object per line (JSONL), or a top-level array of objects.
//!
//! Objects are cut out of the byte stream by tracking braces and strings, so the file is
//! streamed (bounded memory) and one malformed object is skipped without losing the rest.

use super::{FileReport, RecordTally};
use crate::event::Event;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

/// Largest single record accepted; beyond it the object is counted as an error.
const MAX_OBJECT: usize = 64 * 1024 * 1024;

pub fn read(path: &Path, sink: &mut dyn FnMut(Event)) -> std::io::Result<FileReport> {
    let reader = BufReader::with_capacity(1 << 20, File::open(path)?);
    let mut tally = RecordTally::new(sink);
    let mut splitter = ObjectSplitter::default();
    for byte in reader.bytes() {
        let Some(object) = splitter.push(byte?) else {
            continue;
        };
        let value = serde_json::from_slice::<serde_json::Value>(&object);
        tally.record(value.as_ref().map_err(ToString::to_string));
    }
    if splitter.in_object() {
        tally.error("file ends inside a JSON object".into());
    }
    for _ in 0..splitter.oversized {
        tally.error(format!("record larger than {MAX_OBJECT} bytes"));
    }
    Ok(tally.finish())
}

/// Yields each top-level `{…}` object; anything between objects (commas, `[`, `]`, `Record 7`
/// lines) is skipped.
#[derive(Default)]
struct ObjectSplitter {
    buf: Vec<u8>,
    depth: usize,
    in_string: bool,
    escaped: bool,
    skipping: bool,
    oversized: u64,
}

impl ObjectSplitter {
    fn in_object(&self) -> bool {
        self.depth > 0
    }

    fn push(&mut self, b: u8) -> Option<Vec<u8>> {
        if self.depth == 0 {
            if b == b'{' {
                self.depth = 1;
                self.buf.clear();
                self.buf.push(b);
                self.skipping = false;
            }
            return None;
        }
        if !self.skipping {
            self.buf.push(b);
            if self.buf.len() > MAX_OBJECT {
                self.skipping = true;
                self.oversized += 1;
                self.buf = Vec::new();
            }
        }
        if self.in_string {
            match (self.escaped, b) {
                (true, _) => self.escaped = false,
                (false, b'\\') => self.escaped = true,
                (false, b'"') => self.in_string = false,
                _ => {}
            }
            return None;
        }
        match b {
            b'"' => self.in_string = true,
            b'{' => self.depth += 1,
            b'}' => {
                self.depth -= 1;
                if self.depth == 0 && !self.skipping {
                    return Some(std::mem::take(&mut self.buf));
                }
            }
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(input: &str) -> Vec<String> {
        let mut s = ObjectSplitter::default();
        input
            .bytes()
            .filter_map(|b| s.push(b))
            .map(|v| String::from_utf8(v).unwrap())
            .collect()
    }

    #[test]
    fn splits_concatenated_lines_arrays_and_record_headers() {
        assert_eq!(
            split(r#"{"a":1}{"b":{"c":"}"}}"#),
            [r#"{"a":1}"#, r#"{"b":{"c":"}"}}"#]
        );
        assert_eq!(split("{\"a\":1}\n{\"a\":2}\n"), ["{\"a\":1}", "{\"a\":2}"]);
        assert_eq!(
            split(r#"[{"a":"\"{"},{"b":2}]"#),
            [r#"{"a":"\"{"}"#, r#"{"b":2}"#]
        );
        assert_eq!(
            split("Record 1\n{\"a\":1}\nRecord 2\n{\"a\":2}"),
            ["{\"a\":1}", "{\"a\":2}"]
        );
    }
}
