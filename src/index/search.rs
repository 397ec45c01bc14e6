//! Reading a case: candidates for a prefilter in time order, stored events, and statistics.
//!
//! A [`Snapshot`] pins one searcher, so the [`EventRef`]s it hands out stay valid while it
//! lives even if an ingest commits meanwhile.

use super::case::{Case, IndexError};
use super::keyword::WordDictionary;
use super::manifest::SourceFile;
use super::query;
use super::schema::Fields;
use crate::event::Event;
use crate::prefilter::Prefilter;
use crate::store::{EventRef, EventStore, Source, Stats, StoreError};
use std::collections::{HashMap, HashSet};
use tantivy::collector::{Collector, Count, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::schema::Value as _;
use tantivy::{DocAddress, DocId, Score, Searcher, SegmentOrdinal, SegmentReader, TantivyDocument};

/// An [`EventRef`]'s key in a snapshot: the segment in the high half, the document in the low.
fn at(ts: i64, segment: SegmentOrdinal, doc: DocId) -> EventRef {
    EventRef::new(ts, (u64::from(segment) << 32) | u64::from(doc))
}

fn segment_of(r: EventRef) -> SegmentOrdinal {
    (r.key >> 32) as SegmentOrdinal
}

fn doc_of(r: EventRef) -> DocId {
    r.key as DocId
}

fn addr(r: EventRef) -> DocAddress {
    DocAddress::new(segment_of(r), doc_of(r))
}

/// A point-in-time view of a case.
pub struct Snapshot {
    searcher: Searcher,
    fields: Fields,
    /// Read on the first keyword lookup that needs it, then shared by every query.
    words: WordDictionary,
    /// The case directory, where the manifest is.
    dir: std::path::PathBuf,
    /// The source files, read from the manifest when first asked for.
    sources: std::sync::OnceLock<Result<Vec<Source>, String>>,
}

impl Case {
    pub fn snapshot(&self) -> Snapshot {
        let searcher = self.reader.searcher();
        Snapshot {
            words: WordDictionary::new(searcher.clone(), self.fields.text),
            searcher,
            fields: self.fields.clone(),
            dir: self.dir.clone(),
            sources: std::sync::OnceLock::new(),
        }
    }
}

impl EventStore for Snapshot {
    fn num_events(&self) -> u64 {
        self.searcher.num_docs()
    }

    /// Names what this snapshot holds: its segments, in order, and their deletions. Two
    /// snapshots with the same name hold the same events under the same references, so
    /// results kept under it stay true until an ingest or merge changes the name.
    fn generation(&self) -> String {
        use sha2::Digest as _;
        let mut h = sha2::Sha256::new();
        for s in self.searcher.segment_readers() {
            h.update(s.segment_id().uuid_string().as_bytes());
            h.update(s.max_doc().to_le_bytes());
            h.update(s.num_docs().to_le_bytes());
            h.update(s.delete_opstamp().unwrap_or(0).to_le_bytes());
        }
        (h.finalize().iter().take(16))
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Whether `r` can be a reference into this snapshot (its segment and document exist).
    fn holds(&self, r: EventRef) -> bool {
        (self.searcher.segment_readers().get(segment_of(r) as usize))
            .is_some_and(|s| doc_of(r) < s.max_doc())
    }

    /// Every event the prefilter admits, sorted by time.
    fn candidates(&self, p: &Prefilter) -> Result<Vec<EventRef>, StoreError> {
        let q = query::compile(&self.fields, p, &self.words);
        let mut refs = self.searcher.search(&*q, &TimeCollector)?;
        refs.sort_unstable();
        Ok(refs)
    }

    /// How many events the prefilter admits (without fetching them).
    fn count_candidates(&self, p: &Prefilter) -> Result<usize, StoreError> {
        let q = query::compile(&self.fields, p, &self.words);
        Ok(self.searcher.search(&*q, &Count)?)
    }

    /// The stored event behind a reference, with the id of its source file.
    fn event(&self, r: EventRef) -> Result<(Event, u64), StoreError> {
        let doc: TantivyDocument = self.searcher.doc(addr(r))?;
        let json = doc
            .get_first(self.fields.event)
            .and_then(|v| v.as_str())
            .unwrap_or("{}");
        let event = Event::from_json(json).unwrap_or_default();
        let file = doc
            .get_first(self.fields.file)
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        Ok((event, file))
    }

    /// Counts by channel, by channel and EventID (EventIDs mean different things in different
    /// channels: Sysmon 1 is not another provider's 1), by computer, and the time range, from
    /// fast fields only. Counted per segment by term ordinal; names are resolved once per
    /// segment, not per event.
    fn stats(&self) -> Result<Stats, StoreError> {
        let mut channels: HashMap<String, u64> = HashMap::new();
        let mut computers: HashMap<String, u64> = HashMap::new();
        let mut eids: HashMap<(String, u64), u64> = HashMap::new();
        let mut stats = Stats::default();
        for seg in self.searcher.segment_readers() {
            let ff = seg.fast_fields();
            let ts = ff.i64("ts")?;
            let eid = ff.u64("eid")?;
            let channel = ff.str("channel")?;
            let computer = ff.str("computer")?;
            let alive = seg.alive_bitset();
            let ord = |col: &Option<tantivy::columnar::StrColumn>, doc| {
                col.as_ref().and_then(|c| c.term_ords(doc).next())
            };
            let mut by_channel: HashMap<Option<u64>, u64> = HashMap::new();
            let mut by_computer: HashMap<Option<u64>, u64> = HashMap::new();
            let mut by_eid: HashMap<(Option<u64>, u64), u64> = HashMap::new();
            for doc in 0..seg.max_doc() {
                if alive.is_some_and(|a| !a.is_alive(doc)) {
                    continue;
                }
                stats.events += 1;
                if let Some(t) = ts.first(doc).filter(|t| *t != i64::MIN) {
                    stats.first = Some(stats.first.map_or(t, |f| f.min(t)));
                    stats.last = Some(stats.last.map_or(t, |l| l.max(t)));
                }
                let ch = ord(&channel, doc);
                *by_channel.entry(ch).or_default() += 1;
                *by_computer.entry(ord(&computer, doc)).or_default() += 1;
                if let Some(e) = eid.first(doc).filter(|e| *e != u64::MAX) {
                    *by_eid.entry((ch, e)).or_default() += 1;
                }
            }
            let name = |col: &Option<tantivy::columnar::StrColumn>, ord: Option<u64>| {
                let mut buf = String::new();
                if let (Some(c), Some(o)) = (col, ord) {
                    c.ord_to_str(o, &mut buf).map_err(|e| IndexError::Io {
                        path: Default::default(),
                        source: e,
                    })?;
                }
                Ok::<_, IndexError>(buf)
            };
            for (o, n) in by_channel {
                *channels.entry(name(&channel, o)?).or_default() += n;
            }
            for (o, n) in by_computer {
                *computers.entry(name(&computer, o)?).or_default() += n;
            }
            for ((o, e), n) in by_eid {
                *eids.entry((name(&channel, o)?, e)).or_default() += n;
            }
        }
        // Events without the value are counted under "" (callers list them apart).
        stats.by_channel = Stats::sorted(channels);
        stats.by_computer = Stats::sorted(computers);
        stats.by_event_id = Stats::sorted(eids);
        Ok(stats)
    }

    fn sources(&self) -> Result<Vec<Source>, StoreError> {
        // The manifest as last committed: it names every file of this view, and perhaps
        // files committed since.
        let sources = self.sources.get_or_init(|| {
            let read = || -> Result<Vec<Source>, IndexError> {
                let meta = self.searcher.index().load_metas()?;
                let manifest = super::Manifest::read(&self.dir, meta.payload.as_deref()).map_err(
                    |source| IndexError::Io {
                        path: self.dir.clone(),
                        source,
                    },
                )?;
                Ok(manifest.files.iter().map(SourceFile::source).collect())
            };
            read().map_err(|e| e.to_string())
        });
        sources.clone().map_err(StoreError::new)
    }
}

impl Snapshot {
    /// The `(EventRecordID, time µs)` of every event read from the given source files: what a
    /// newer version of one of them (a log that grew) already has in the case.
    pub fn record_keys(&self, files: &[u64]) -> Result<HashSet<(u64, i64)>, IndexError> {
        use tantivy::query::{BooleanQuery, Query, TermQuery};
        use tantivy::schema::IndexRecordOption;
        let terms: Vec<Box<dyn Query>> = (files.iter())
            .map(|&f| {
                let term = tantivy::Term::from_field_u64(self.fields.file, f);
                Box::new(TermQuery::new(term, IndexRecordOption::Basic)) as Box<dyn Query>
            })
            .collect();
        let keys = self
            .searcher
            .search(&BooleanQuery::union(terms), &KeyCollector)?;
        Ok(keys.into_iter().collect())
    }
}

/// Collects matching documents with their timestamp from the `ts` fast field.
struct TimeCollector;

struct TimeSegmentCollector {
    segment: SegmentOrdinal,
    ts: Column<i64>,
    out: Vec<EventRef>,
}

impl Collector for TimeCollector {
    type Fruit = Vec<EventRef>;
    type Child = TimeSegmentCollector;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<TimeSegmentCollector> {
        Ok(TimeSegmentCollector {
            segment,
            ts: reader.fast_fields().i64("ts")?,
            out: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Vec<EventRef>>) -> tantivy::Result<Vec<EventRef>> {
        Ok(fruits.into_iter().flatten().collect())
    }
}

impl SegmentCollector for TimeSegmentCollector {
    type Fruit = Vec<EventRef>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        let ts = self.ts.first(doc).unwrap_or(i64::MIN);
        self.out.push(at(ts, self.segment, doc));
    }

    fn harvest(self) -> Vec<EventRef> {
        self.out
    }
}

/// Collects `(rid, ts)` of matching documents from the fast fields.
struct KeyCollector;

struct KeySegmentCollector {
    rid: Column<u64>,
    ts: Column<i64>,
    out: Vec<(u64, i64)>,
}

impl Collector for KeyCollector {
    type Fruit = Vec<(u64, i64)>;
    type Child = KeySegmentCollector;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<KeySegmentCollector> {
        Ok(KeySegmentCollector {
            rid: reader.fast_fields().u64("rid")?,
            ts: reader.fast_fields().i64("ts")?,
            out: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Vec<(u64, i64)>>) -> tantivy::Result<Vec<(u64, i64)>> {
        Ok(fruits.into_iter().flatten().collect())
    }
}

impl SegmentCollector for KeySegmentCollector {
    type Fruit = Vec<(u64, i64)>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        let ts = self.ts.first(doc).unwrap_or(i64::MIN);
        self.out.push((self.rid.first(doc).unwrap_or(0), ts));
    }

    fn harvest(self) -> Vec<(u64, i64)> {
        self.out
    }
}
