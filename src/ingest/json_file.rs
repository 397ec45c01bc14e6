//! Reads JSON exports: concatenated objects (as evtx_dump writes them, with or without its
//! `Record N` lines), one object per line (JSONL), or a top-level array of objects; in UTF-8, or
//! UTF-16 with a byte order mark (decoded as it is read). An object that wraps the records
//! (`{"records": [...]}`) is reported as such: flattened, it would be one event holding them all.
//!
//! Objects are cut out of the byte stream by tracking braces and strings, so the file is
//! streamed (bounded memory) and one malformed object is skipped without losing the rest. An
//! object cut short (a JSONL line truncated by a crashed export) is noticed where the next one
//! starts: JSON strings cannot hold a raw newline, and no export tool starts a nested object at
//! the start of a line, so either means a new record begins.

use super::{FileReport, RecordTally};
use crate::event::Event;
use serde_json::Value;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

mod utf16;

/// Largest single record accepted; beyond it the object is counted as an error.
const MAX_OBJECT: usize = 64 * 1024 * 1024;

pub fn read(path: &Path, sink: &mut dyn FnMut(Event)) -> std::io::Result<FileReport> {
    let mut reader = BufReader::with_capacity(1 << 20, File::open(path)?);
    let mut tally = RecordTally::new(sink);
    // PowerShell's Out-File and other Windows tools write UTF-16 with a byte order mark.
    let head = reader.fill_buf()?;
    if let Some(big_endian) = utf16::bom(head) {
        reader.consume(2);
        let decoded = utf16::Decoder::new(reader, big_endian);
        split_records(BufReader::with_capacity(1 << 16, decoded), &mut tally)?;
    } else {
        split_records(reader, &mut tally)?;
    }
    Ok(tally.finish())
}

/// Whether the first bytes of a file look like JSON: `{` or `[` first, after any byte order
/// mark and white space.
pub(super) fn looks_like_json(head: &[u8]) -> bool {
    let first = match utf16::bom(head) {
        Some(big_endian) => utf16::chars(&head[2..], big_endian).find(|c| !c.is_whitespace()),
        None => (head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head).iter())
            .map(|&b| char::from(b))
            .find(|c| !c.is_ascii_whitespace()),
    };
    matches!(first, Some('{' | '['))
}

/// Cuts `reader`'s bytes (UTF-8) into records and tallies each.
fn split_records(reader: impl BufRead, tally: &mut RecordTally) -> std::io::Result<()> {
    let mut splitter = ObjectSplitter::default();
    for byte in reader.bytes() {
        let object = splitter.push(byte?);
        if splitter.cut_short > 0 {
            splitter.cut_short = 0;
            tally.error("a record ends early (a line ends inside a JSON object)".into());
        }
        let Some(object) = object else {
            continue;
        };
        match serde_json::from_slice::<Value>(&object) {
            Ok(value) => match wrapper(&value) {
                Some(shape) => tally.file_error(shape),
                None => tally.record(Ok(&value)),
            },
            Err(e) => tally.record(Err(e.to_string())),
        }
    }
    if splitter.in_object() {
        tally.error("file ends inside a JSON object".into());
    }
    for _ in 0..splitter.oversized {
        tally.error(format!("record larger than {MAX_OBJECT} bytes"));
    }
    Ok(())
}

/// Why a top-level object is not an event but a wrapper around records, such as
/// `{"records": [{…}, {…}]}`: it has none of the members an event has at the top (`Event` in
/// the evtx_dump shape, `System` or `EventID` in flat exports), and a member holding an array
/// of objects. Flattened, it would be one event holding every record's values.
fn wrapper(value: &Value) -> Option<String> {
    let object = value.as_object()?;
    if ["Event", "System", "EventID"]
        .iter()
        .any(|k| object.contains_key(*k))
    {
        return None;
    }
    object.iter().find_map(|(key, member)| {
        let items = member.as_array().filter(|a| !a.is_empty())?;
        items.iter().all(Value::is_object).then(|| {
            format!(
                "a JSON object holding {} objects under {key:?} is a wrapper, not an event: not \
                 read (huntbench reads one event per object or line, or a top-level array of \
                 events)",
                items.len()
            )
        })
    })
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
    /// Objects abandoned since the caller last looked, because a new record began inside them.
    cut_short: u64,
    line_start: bool,
}

impl ObjectSplitter {
    fn in_object(&self) -> bool {
        self.depth > 0
    }

    fn push(&mut self, b: u8) -> Option<Vec<u8>> {
        let line_start = std::mem::replace(&mut self.line_start, b == b'\n');
        let restart =
            (self.in_string && b == b'\n') || (line_start && b == b'{' && !self.in_string);
        if self.depth > 0 && restart {
            self.cut_short += 1;
            self.depth = 0;
            self.in_string = false;
            self.escaped = false;
        }
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
        // Pretty-printed objects span lines; nested objects are indented.
        assert_eq!(
            split("{\n  \"a\": {\n    \"b\": 1\n  }\n}\n{\n  \"c\": 2\n}"),
            ["{\n  \"a\": {\n    \"b\": 1\n  }\n}", "{\n  \"c\": 2\n}"]
        );
    }

    #[test]
    fn a_line_cut_short_loses_only_its_own_record() {
        let mut s = ObjectSplitter::default();
        // Cut inside a string, then cut between values.
        let input = "{\"a\":1}\n{\"b\":\"tru\n{\"c\":3}\n{\"d\":{\"e\":\n{\"f\":6}\n";
        let objects: Vec<String> = input
            .bytes()
            .filter_map(|b| s.push(b))
            .map(|v| String::from_utf8(v).unwrap())
            .collect();
        assert_eq!(objects, ["{\"a\":1}", "{\"c\":3}", "{\"f\":6}"]);
        assert_eq!(s.cut_short, 2);
        assert!(!s.in_object());
    }
}
