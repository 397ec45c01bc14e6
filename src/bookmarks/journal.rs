//! The bookmarks journal: one JSON record per line, `add`, `edit` or `remove`, only ever
//! appended to.
//!
//! Why a journal rather than rewriting one file per change: a change is one short write
//! whatever the number of bookmarks, and the file keeps when each note was changed (a
//! report can show the investigation's trail). Each record is written as one whole line in a
//! single `write` and flushed to disk (`fsync`) before the change is reported done, so
//! `kill -9` loses nothing that was reported; a crash of the machine can at worst leave the
//! last line torn, which reading skips with a warning. Before appending after such a line, a
//! newline is written, so the torn line never swallows the next record.

use super::Bookmark;
use serde::{Deserialize, Serialize};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// The journal's file in the case directory.
pub const JOURNAL_FILE: &str = "bookmarks.jsonl";

/// One line of the journal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub(super) enum Record {
    /// A new bookmark, or one replacing the bookmark of the same id.
    Add(Bookmark),
    /// A new note and tags for a bookmark.
    Edit {
        id: String,
        at: String,
        note: String,
        tags: Vec<String>,
    },
    Remove {
        id: String,
        at: String,
    },
}

/// The bookmarks a journal leaves (in journal order), and what could not be read in it.
#[derive(Debug, Default)]
pub struct Loaded {
    pub bookmarks: Vec<Bookmark>,
    pub warnings: Vec<String>,
}

/// Replays the journal at `path` (none yet: no bookmarks).
pub(super) fn read(path: &Path) -> std::io::Result<Loaded> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Loaded::default()),
        Err(e) => return Err(e),
    };
    let mut out = Loaded::default();
    let name = path.display();
    let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    let last = lines.len().saturating_sub(1);
    for (n, line) in lines.iter().enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        // A record that does not parse on the last line is one whose write was cut short.
        let torn = n == last;
        let record = std::str::from_utf8(line)
            .map_err(|e| e.to_string())
            .and_then(|l| serde_json::from_str::<Record>(l).map_err(|e| e.to_string()));
        match record {
            Ok(record) => apply(&mut out, record, &format!("{name}:{}", n + 1)),
            Err(e) if torn => out.warnings.push(format!(
                "{name}:{}: the last record is cut short (ignored): {e}",
                n + 1
            )),
            Err(e) => out.warnings.push(format!(
                "{name}:{}: not a bookmark record (ignored): {e}",
                n + 1
            )),
        }
    }
    Ok(out)
}

fn apply(out: &mut Loaded, record: Record, at: &str) {
    match record {
        Record::Add(b) => {
            out.bookmarks.retain(|old| old.id != b.id);
            out.bookmarks.push(b);
        }
        Record::Edit { id, note, tags, .. } => {
            match out.bookmarks.iter_mut().find(|b| b.id == id) {
                Some(b) => {
                    b.note = note;
                    b.tags = tags;
                }
                None => out.warnings.push(format!(
                    "{at}: an edit of bookmark {id}, which is not there"
                )),
            }
        }
        Record::Remove { id, .. } => {
            let before = out.bookmarks.len();
            out.bookmarks.retain(|b| b.id != id);
            if out.bookmarks.len() == before {
                out.warnings.push(format!(
                    "{at}: a removal of bookmark {id}, which is not there"
                ));
            }
        }
    }
}

/// Appends one record as a whole line and flushes it to disk.
pub(super) fn append(path: &Path, record: &Record) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(record).map_err(std::io::Error::other)?;
    line.push(b'\n');
    let created = !path.exists();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(path)?;
    if ends_torn(&mut file)? {
        line.insert(0, b'\n');
    }
    file.write_all(&line)?;
    file.sync_data()?;
    if created && let Some(dir) = path.parent() {
        sync_dir(dir);
    }
    Ok(())
}

/// Whether the file's last byte is not a line end (a record cut short).
fn ends_torn(file: &mut std::fs::File) -> std::io::Result<bool> {
    let len = file.seek(SeekFrom::End(0))?;
    if len == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::Start(len - 1))?;
    let mut last = [0u8];
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

/// Flushes a directory's entries (a new or renamed file) to disk, where the platform can.
pub(super) fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}
