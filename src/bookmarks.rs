//! Bookmarks and the case note: what the analyst marked in a case and why, kept as plain
//! files in the case directory beside the index, so they survive reopening the case, adding
//! logs to it and a `kill -9`.
//!
//! - `<case>/bookmarks.jsonl`: an append-only journal of `add`/`edit`/`remove` records
//!   (`journal.rs`);
//! - `<case>/notes.md`: the case note, free text, replaced atomically.
//!
//! A bookmark names its event by an [`EventKey`] (time, computer, channel, record id and a
//! digest of its content), never by a store reference: a reference's key is where a store
//! keeps the event now, which changes when an index merges its segments. [`resolve`] finds the
//! event again through any [`EventStore`].
//!
//! Not for: the workbench's state or drawing (`tui`), or formatting a report.

use crate::event::Event;
use crate::prefilter::Prefilter;
use crate::store::{EventRef, EventStore, StoreError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

mod journal;

pub use journal::{JOURNAL_FILE, Loaded};

/// The case note's file in the case directory.
pub const NOTE_FILE: &str = "notes.md";

/// Which event a bookmark is about, in terms that stay true while the case lives: where and
/// when it was logged, its record id, and a digest of its content (which tells apart two
/// records that agree on all the rest, as two logs of one computer can).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EventKey {
    /// The event time, RFC 3339 UTC (absent when the event has none).
    pub time: Option<String>,
    pub computer: String,
    pub channel: String,
    pub record_id: Option<u64>,
    /// SHA-256 (hex) of the event as the store gives it back (its fields, in order, as JSON).
    pub digest: String,
}

impl EventKey {
    /// The key of `event`.
    pub fn of(event: &Event) -> EventKey {
        EventKey {
            time: event.timestamp().map(crate::event::format_timestamp),
            computer: event.computer().to_owned(),
            channel: event.channel().to_owned(),
            record_id: event.record_id(),
            digest: hex(&Sha256::digest(event.to_json().as_bytes())),
        }
    }

    /// The event time in microseconds since the epoch, as store references give it.
    pub fn ts(&self) -> Option<i64> {
        let t = crate::event::parse_timestamp(self.time.as_deref()?)?;
        Some(t.as_microsecond())
    }

    /// A short stable name for the key: bookmarks are named by their event, so marking an
    /// event twice edits its one bookmark.
    pub fn id(&self) -> String {
        let text = serde_json::to_string(self).unwrap_or_default();
        hex(&Sha256::digest(text.as_bytes())[..8])
    }

    /// Whether `event` is this key's event, apart from its digest.
    fn names(&self, event: &Event) -> bool {
        event.computer().eq_ignore_ascii_case(&self.computer)
            && event.channel().eq_ignore_ascii_case(&self.channel)
            && event.record_id() == self.record_id
            && event.timestamp().map(crate::event::format_timestamp) == self.time
    }
}

/// The rule a bookmarked hit came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRef {
    pub id: Option<String>,
    pub title: String,
}

/// One bookmark: an event, what it looked like when it was marked, and the analyst's note.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bookmark {
    /// [`EventKey::id`] of `event`.
    pub id: String,
    /// When it was added, RFC 3339 UTC.
    pub added: String,
    pub event: EventKey,
    pub event_id: Option<u64>,
    /// The event's one-line summary (as the lists show it).
    pub summary: String,
    /// The rule, when bookmarked from one of its hits.
    pub rule: Option<RuleRef>,
    /// Free text (may be empty).
    pub note: String,
    /// Tags, without their `#`, in the order given.
    pub tags: Vec<String>,
}

impl Bookmark {
    /// A bookmark of `event`, added now.
    pub fn new(event: &Event, rule: Option<RuleRef>, note: String, tags: Vec<String>) -> Bookmark {
        let key = EventKey::of(event);
        Bookmark {
            id: key.id(),
            added: now(),
            event: key,
            event_id: event.event_id(),
            summary: event.summary(),
            rule,
            note,
            tags,
        }
    }

    /// Sort key: time order (events without a time first), then when added.
    fn order(&self) -> (Option<i64>, &str) {
        (self.event.ts(), &self.added)
    }

    /// The note with its tags as `#tag` words, as the note input takes it back.
    pub fn note_line(&self) -> String {
        let tags = self.tags.iter().map(|t| format!("#{t}"));
        let words: Vec<String> = (!self.note.is_empty())
            .then(|| self.note.clone())
            .into_iter()
            .chain(tags)
            .collect();
        words.join(" ")
    }
}

/// A one-line note split into its text and its `#tag` words (each tag once, in order; a lone
/// `#` is text).
pub fn parse_note(line: &str) -> (String, Vec<String>) {
    let mut text = Vec::new();
    let mut tags: Vec<String> = Vec::new();
    for word in line.split_whitespace() {
        match word.strip_prefix('#').filter(|t| !t.is_empty()) {
            Some(tag) if !tags.iter().any(|t| t == tag) => tags.push(tag.to_owned()),
            Some(_) => {}
            None => text.push(word),
        }
    }
    (text.join(" "), tags)
}

/// The bookmarks of a case, in time order, with the journal they are kept in.
pub struct Bookmarks {
    path: PathBuf,
    list: Vec<Bookmark>,
}

impl Bookmarks {
    /// Reads the case's bookmarks (none when it has no journal yet). A torn or unreadable
    /// record is skipped and said in the warnings; the rest is read.
    pub fn load(case_dir: &Path) -> std::io::Result<(Bookmarks, Vec<String>)> {
        let path = case_dir.join(JOURNAL_FILE);
        let Loaded {
            mut bookmarks,
            warnings,
        } = journal::read(&path)?;
        sort(&mut bookmarks);
        Ok((
            Bookmarks {
                path,
                list: bookmarks,
            },
            warnings,
        ))
    }

    /// In time order.
    pub fn list(&self) -> &[Bookmark] {
        &self.list
    }

    /// Every bookmark with its event in `store` (`None` when the store lacks it), in time
    /// order: what a report or a listing shows.
    pub fn resolve_all(
        &self,
        store: &dyn EventStore,
    ) -> Result<Vec<(&Bookmark, Option<EventRef>)>, StoreError> {
        (self.list.iter())
            .map(|b| Ok((b, resolve(store, b)?)))
            .collect()
    }

    pub fn get(&self, id: &str) -> Option<&Bookmark> {
        self.list.iter().find(|b| b.id == id)
    }

    /// Adds a bookmark, or replaces the one of the same event; on disk when this returns.
    pub fn add(&mut self, bookmark: Bookmark) -> std::io::Result<()> {
        journal::append(&self.path, &journal::Record::Add(bookmark.clone()))?;
        self.list.retain(|b| b.id != bookmark.id);
        self.list.push(bookmark);
        sort(&mut self.list);
        Ok(())
    }

    /// Gives a bookmark a new note and tags; returns it, or `None` when there is no such
    /// bookmark (nothing is written then).
    pub fn update(
        &mut self,
        id: &str,
        note: String,
        tags: Vec<String>,
    ) -> std::io::Result<Option<Bookmark>> {
        let Some(b) = self.list.iter_mut().find(|b| b.id == id) else {
            return Ok(None);
        };
        let record = journal::Record::Edit {
            id: id.to_owned(),
            at: now(),
            note: note.clone(),
            tags: tags.clone(),
        };
        journal::append(&self.path, &record)?;
        b.note = note;
        b.tags = tags;
        Ok(Some(b.clone()))
    }

    /// Removes a bookmark; returns it, or `None` when there is no such bookmark.
    pub fn remove(&mut self, id: &str) -> std::io::Result<Option<Bookmark>> {
        let Some(pos) = self.list.iter().position(|b| b.id == id) else {
            return Ok(None);
        };
        let record = journal::Record::Remove {
            id: id.to_owned(),
            at: now(),
        };
        journal::append(&self.path, &record)?;
        Ok(Some(self.list.remove(pos)))
    }
}

fn sort(list: &mut [Bookmark]) {
    list.sort_by(|a, b| a.order().cmp(&b.order()));
}

/// The event a key names in `store`, if it holds it: the events of its computer at its time,
/// checked for its channel and record id; of several, the one whose content has the key's
/// digest (else the first, so an event read back by another build still resolves).
pub fn resolve_key(store: &dyn EventStore, key: &EventKey) -> Result<Option<EventRef>, StoreError> {
    use crate::event::names;
    // Each part narrows only when it has a value (a record without a time or computer is
    // still found, if more slowly). Not the record id: its text may have leading zeros or
    // spaces, which an exact term would miss.
    let equals = |field: &str, value: &str| match value {
        "" => Prefilter::All,
        v => Prefilter::Equals {
            field: field.into(),
            value: v.into(),
        },
    };
    let p = Prefilter::and(vec![
        (key.ts()).map_or(Prefilter::All, |t| Prefilter::TimeRange { from: t, to: t }),
        equals(names::COMPUTER, &key.computer),
        equals(names::CHANNEL, &key.channel),
    ]);
    let candidates = store.candidates(&p)?;
    let found = crate::store::check(store, &candidates, |r, event, _| {
        key.names(&event)
            .then(|| (r, EventKey::of(&event).digest == key.digest))
    })?;
    let found: Vec<(EventRef, bool)> = found.into_iter().flatten().collect();
    let exact = found.iter().find(|(_, same)| *same);
    Ok(exact.or(found.first()).map(|(r, _)| *r))
}

/// The event a bookmark is about, if `store` holds it (see [`resolve_key`]).
pub fn resolve(
    store: &dyn EventStore,
    bookmark: &Bookmark,
) -> Result<Option<EventRef>, StoreError> {
    resolve_key(store, &bookmark.event)
}

/// The case note (empty when there is none).
pub fn case_note(case_dir: &Path) -> std::io::Result<String> {
    match std::fs::read_to_string(case_dir.join(NOTE_FILE)) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(e),
    }
}

/// Replaces the case note: written to a temporary file beside it, flushed to disk and renamed
/// over it, so a crash leaves the old note or the new one, never part of either.
pub fn save_case_note(case_dir: &Path, text: &str) -> std::io::Result<()> {
    let mut tmp = tempfile::NamedTempFile::new_in(case_dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(case_dir.join(NOTE_FILE)).map_err(|e| e.error)?;
    journal::sync_dir(case_dir);
    Ok(())
}

fn now() -> String {
    crate::event::format_timestamp(jiff::Timestamp::now())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
