//! Record-level de-duplication at ingest: the same record read from two sources (a host's log
//! collected twice, overlapping copies taken at different times, an EVTX and its JSON export)
//! is indexed once, and the source that repeats it counts it as folded.
//!
//! A record is its computer, channel, EventRecordID, time and content (EventData/UserData names
//! and values), digested ([`record_digest`]). The copy kept is the one in the source with the
//! lowest id: a record already in the case stays where it is, and among the files of one run
//! the earliest-named keeps it (ids are given in path order), whatever order the reader threads
//! reach them in. When a later file got there first, its copy is deleted once its documents
//! are all handed over ([`Claims::take_over_losers`]).
//!
//! Memory: one entry per record of the run (16 bytes: 96 bits of digest and the source id, in
//! a hash table at most 7/8 full), plus the records the case already holds for each (computer,
//! channel) the run reads, loaded when the run first meets that pair: a new host's logs load
//! nothing. For 10 M records that is about 200 to 350 MB depending on how full the tables
//! are; `--keep-duplicates` holds none of it.

use super::schema::Fields;
use crate::event::{Event, Value, is_system_field};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use tantivy::Searcher;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::{BooleanQuery, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader, Term};

/// What identifies a record wherever it was read from; `None` without an EventRecordID (such
/// records are never folded: nothing says two of them are one record).
///
/// The content is normalised so an EVTX record and its JSON export digest alike: fields in name
/// order, values trimmed, empty and null values left out (exports write an empty element as
/// `""`, `null` or nothing), numbers as the text they already are after normalisation, and the
/// time cut to whole milliseconds (exports keep 3, 6 or 7 digits of the 100 ns clock). System
/// fields other than the key are left out, since exports render them differently (`Keywords`
/// in hex or decimal, `Level` by number or name).
///
/// Digests are stored in the case: what goes into one changes only with the index format
/// (`manifest::FORMAT`), or records of older runs would no longer fold with new ones.
pub fn record_digest(event: &Event) -> Option<u128> {
    let record = event.record_id()?;
    let ms = event.timestamp().map_or(i64::MIN, |t| t.as_millisecond());
    let mut h = Sha256::new();
    for part in [event.computer(), event.channel()] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.update(record.to_le_bytes());
    h.update(ms.to_le_bytes());
    let mut content: Vec<(&str, &Value)> = (event.fields.iter())
        .filter(|(name, _)| !is_system_field(name))
        .map(|(name, value)| (name.as_str(), value))
        .collect();
    content.sort_by_key(|(name, _)| *name);
    for (name, value) in content {
        let mut values = value.strings().map(str::trim).filter(|v| !v.is_empty());
        let Some(first) = values.next() else {
            continue;
        };
        h.update(name.as_bytes());
        h.update([0]);
        h.update(first.as_bytes());
        for v in values {
            h.update([0x1f]);
            h.update(v.as_bytes());
        }
        h.update([0]);
    }
    let digest = h.finalize();
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest[..16]);
    Some(u128::from_be_bytes(first))
}

/// The two halves of a digest as the index stores them (`dk`, indexed, and `dk2`).
pub fn halves(digest: u128) -> (u64, u64) {
    ((digest >> 64) as u64, digest as u64)
}

/// The part of a digest a claim is keyed by (96 bits: no two of 10^12 records collide).
fn claim_key(digest: u128) -> [u32; 3] {
    [
        (digest >> 96) as u32,
        (digest >> 64) as u32,
        (digest >> 32) as u32,
    ]
}

const SHARDS: usize = 16;

/// What [`Claims::claim`] decided for one record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Not seen before: index it.
    First,
    /// Already held by this source or a lower one: do not index it.
    Folded { into: u64 },
    /// Held by a later source, whose copy is now to be deleted: index it.
    TookOver { from: u64 },
}

/// Which source holds each record of a run, shared by the reader threads.
#[derive(Default)]
pub struct Claims {
    shards: [Mutex<HashMap<[u32; 3], u32>>; SHARDS],
    /// (computer, channel) pairs whose records already in the case were loaded.
    loaded: Mutex<HashSet<(String, String)>>,
    /// Per source, records it indexed that a lower source took over: (`dk` half, taker).
    taken: Mutex<HashMap<u64, Vec<(u64, u64)>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Claims {
    /// Records that source `id` read the record `digest`.
    pub fn claim(&self, digest: u128, id: u64) -> Claim {
        use std::collections::hash_map::Entry;
        let Ok(id32) = u32::try_from(id) else {
            return Claim::First; // beyond 4 billion source files: kept, never folded
        };
        let key = claim_key(digest);
        let mut map = lock(&self.shards[(key[0] as usize) % SHARDS]);
        let held = match map.entry(key) {
            Entry::Vacant(v) => {
                v.insert(id32);
                return Claim::First;
            }
            Entry::Occupied(o) => o.into_mut(),
        };
        if *held <= id32 {
            return Claim::Folded {
                into: u64::from(*held),
            };
        }
        let from = u64::from(*held);
        *held = id32;
        drop(map);
        let taker = (halves(digest).0, id);
        lock(&self.taken).entry(from).or_default().push(taker);
        Claim::TookOver { from }
    }

    /// Makes sure the records the case holds already for `computer` and `channel` are claimed
    /// (by their sources) before a reader claims any of that pair; `load` reads them. A reader
    /// meeting a pair another is loading waits for it.
    pub fn ensure_loaded(
        &self,
        computer: &str,
        channel: &str,
        load: impl FnOnce() -> Vec<(u128, u64)>,
    ) {
        let mut loaded = lock(&self.loaded);
        if loaded.contains(&(computer.to_owned(), channel.to_owned())) {
            return;
        }
        for (digest, id) in load() {
            self.claim(digest, id);
        }
        loaded.insert((computer.to_owned(), channel.to_owned()));
    }

    /// The records of source `loser` that another took over since the last call: (`dk`
    /// half, taker).
    pub fn take_over(&self, loser: u64) -> Vec<(u64, u64)> {
        lock(&self.taken).remove(&loser).unwrap_or_default()
    }

    /// Whether any source has records taken over and not yet collected.
    pub fn any_taken(&self) -> bool {
        !lock(&self.taken).is_empty()
    }
}

/// How many records of one source were folded, and into which sources.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Folds {
    pub count: u64,
    pub into: BTreeMap<u64, u64>,
}

impl Folds {
    pub fn add(&mut self, into: u64, n: u64) {
        self.count += n;
        *self.into.entry(into).or_default() += n;
    }
}

/// The query deleting the documents of source `file` whose `dk` half is one of `dk`.
pub fn taken_copies(fields: &Fields, file: u64, dk: &[u64]) -> Box<dyn Query> {
    let in_file = TermQuery::new(
        Term::from_field_u64(fields.file, file),
        IndexRecordOption::Basic,
    );
    let terms = dk.iter().map(|&d| Term::from_field_u64(fields.dk, d));
    Box::new(BooleanQuery::intersection(vec![
        Box::new(in_file),
        Box::new(tantivy::query::TermSetQuery::new(terms)),
    ]))
}

/// The digests and source ids of the records `searcher` holds for `computer` and `channel`,
/// leaving out the documents of `skip` (sources whose documents are about to be deleted).
pub fn digests_of(
    searcher: &Searcher,
    fields: &Fields,
    computer: &str,
    channel: &str,
    skip: &HashSet<u64>,
) -> tantivy::Result<Vec<(u128, u64)>> {
    let term = |field, text: &str| -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(field, text),
            IndexRecordOption::Basic,
        ))
    };
    let query = BooleanQuery::intersection(vec![
        term(fields.computer, computer),
        term(fields.channel, channel),
    ]);
    let found = searcher.search(&query, &DigestCollector)?;
    Ok(found
        .into_iter()
        .filter(|(_, f)| !skip.contains(f))
        .collect())
}

/// Collects each matching document's digest (`dk`, `dk2`) and source (`file`).
struct DigestCollector;

struct DigestSegmentCollector {
    dk: Column<u64>,
    dk2: Column<u64>,
    file: Column<u64>,
    out: Vec<(u128, u64)>,
}

impl Collector for DigestCollector {
    type Fruit = Vec<(u128, u64)>;
    type Child = DigestSegmentCollector;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<DigestSegmentCollector> {
        let ff = reader.fast_fields();
        Ok(DigestSegmentCollector {
            dk: ff.u64("dk")?,
            dk2: ff.u64("dk2")?,
            file: ff.u64("file")?,
            out: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Vec<(u128, u64)>>) -> tantivy::Result<Self::Fruit> {
        Ok(fruits.into_iter().flatten().collect())
    }
}

impl SegmentCollector for DigestSegmentCollector {
    type Fruit = Vec<(u128, u64)>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        // Records without an EventRecordID have no digest.
        if let (Some(hi), Some(lo), Some(file)) = (
            self.dk.first(doc),
            self.dk2.first(doc),
            self.file.first(doc),
        ) {
            self.out
                .push(((u128::from(hi) << 64) | u128::from(lo), file));
        }
    }

    fn harvest(self) -> Self::Fruit {
        self.out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn event(pairs: &[(&str, &str)]) -> Event {
        Event::from_pairs(pairs)
    }

    const BASE: [(&str, &str); 6] = [
        ("EventID", "4688"),
        ("TimeCreated_SystemTime", "2024-03-13T10:00:00.123456Z"),
        ("EventRecordID", "42"),
        ("Channel", "Security"),
        ("Computer", "HOST-A"),
        ("NewProcessName", "C:\\cmd.exe"),
    ];

    #[test]
    fn exports_of_one_record_digest_alike() {
        let evtx = event(&BASE);
        let mut json = event(&[
            ("NewProcessName", " C:\\cmd.exe "),
            ("Computer", "HOST-A"),
            ("Channel", "Security"),
            ("EventRecordID", "42"),
            ("TimeCreated_SystemTime", "2024-03-13T10:00:00.1234567Z"),
            ("Keywords", "0x8020000000000000"),
            ("Blank", ""),
        ]);
        json.push("Empty", Value::Null);
        assert_eq!(record_digest(&evtx), record_digest(&json));
        assert!(record_digest(&evtx).is_some());
    }

    #[test]
    fn another_host_value_or_record_differs() {
        let d = |change: (&str, &str)| {
            let pairs: Vec<(&str, &str)> = (BASE.iter())
                .map(|&(k, v)| if k == change.0 { change } else { (k, v) })
                .collect();
            record_digest(&event(&pairs))
        };
        let base = record_digest(&event(&BASE));
        for change in [
            ("Computer", "HOST-B"),
            ("Channel", "System"),
            ("EventRecordID", "43"),
            ("TimeCreated_SystemTime", "2024-03-13T10:00:01.123456Z"),
            ("NewProcessName", "C:\\calc.exe"),
        ] {
            assert_ne!(d(change), base, "{change:?}");
        }
        let no_record: Vec<_> = BASE
            .iter()
            .filter(|(k, _)| *k != "EventRecordID")
            .copied()
            .collect();
        assert_eq!(record_digest(&event(&no_record)), None);
    }

    #[test]
    fn the_lowest_source_keeps_a_record_whatever_the_order() {
        let claims = Claims::default();
        assert_eq!(claims.claim(7, 5), Claim::First);
        assert_eq!(claims.claim(7, 9), Claim::Folded { into: 5 });
        assert_eq!(claims.claim(7, 5), Claim::Folded { into: 5 });
        assert_eq!(claims.claim(7, 2), Claim::TookOver { from: 5 });
        assert_eq!(claims.claim(7, 5), Claim::Folded { into: 2 });
        assert_eq!(claims.take_over(5), vec![(0, 2)]);
        assert!(claims.take_over(5).is_empty() && !claims.any_taken());
    }
}
