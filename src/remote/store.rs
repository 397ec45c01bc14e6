//! The event store over a Spark Connect server: a case exported with `huntbench export`
//! (SCHEMA.md, version 2 or later: it needs `event_key`), read where it lies.
//!
//! Questions become SQL and the server answers them: counts, statistics and stacks by `GROUP BY`,
//! candidates by the prefilter as SQL (`sql::prefilter`, a sound superset) returning only time
//! and key, events by key in pages (`cache.rs`). Deciding what matches stays local: the exact
//! matcher runs on the fetched events, as over the local index. Memory holds references and a
//! bounded cache of events, never the table.
//!
//! The workbench keeps its own state (overlays, bookmarks, remembered hits) in a local
//! directory, as for a local case.

use super::cache::{EventCache, Held};
use super::columns::{ints, strings, texts};
use super::table::Table;
use super::{Remote, RemoteError};
use crate::event::Event;
use crate::prefilter::Prefilter;
use crate::sql::{Catalog, labels_holding};
use crate::store::{EventRef, EventStore, Source, StackQuery, Stacked, Stats, StoreError};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub use super::case::{RemoteBackend, RemoteCase, WATCH};

pub use super::table::VIEW;
/// The view the location is listed again as, to count what it holds now ([`CaseStore::refresh`]).
const VIEW_NOW: &str = "huntbench_events_now";

/// How long one question may run on the server before it is interrupted.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(300);
/// Prefilters answered by one query ([`EventStore::candidates_each`]).
const RULES_PER_QUERY: usize = 64;
/// How long fetching one page of events may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(60);

/// Where the events are: a Parquet location the server reads, or a table it knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TableSource {
    Parquet(String),
    Table(String),
}

impl TableSource {
    /// A table name (`name` or `db.name`: letters, digits and `_`) names a table; anything
    /// else (a path, a URL), or a name that is a local file or directory, is a Parquet location.
    pub fn parse(text: &str) -> TableSource {
        let is_name = !text.is_empty()
            && !std::path::Path::new(text).exists()
            && text.split('.').all(|part| {
                let mut chars = part.chars();
                chars
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
        if is_name {
            TableSource::Table(text.to_owned())
        } else {
            TableSource::Parquet(text.to_owned())
        }
    }

    fn text(&self) -> &str {
        match self {
            TableSource::Parquet(s) | TableSource::Table(s) => s,
        }
    }
}

impl std::fmt::Display for TableSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.text())
    }
}

pub(super) fn failed(e: RemoteError) -> StoreError {
    StoreError::new(e)
}

fn bad_answer(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::new(format!("{what}: unexpected answer from the server: {e}"))
}

/// A point-in-time view of a remote table.
pub struct RemoteStore {
    remote: Arc<Remote>,
    /// What queries read `FROM`.
    table: Table,
    catalog: Catalog,
    events: u64,
    generation: String,
    cache: EventCache,
    /// Queries sent since opening (reads of events included).
    queries: AtomicUsize,
}

impl RemoteStore {
    /// Connects the table to `remote` (registering a Parquet location as [`VIEW`]) and reads
    /// what the view needs to answer: the count, the map keys present, a fingerprint.
    pub fn open(remote: Arc<Remote>, source: &TableSource) -> Result<RemoteStore, StoreError> {
        let table = Table::open(&remote, source, QUERY_TIMEOUT).map_err(failed)?;
        let from = table.name();
        let catalog = super::scan::catalog(&remote, from, QUERY_TIMEOUT).map_err(failed)?;
        let query = format!(
            "SELECT count(*), min(event_key), max(event_key), min(unix_micros(time)), \
             max(unix_micros(time)) FROM {from}"
        );
        let batches = remote.sql(&query, QUERY_TIMEOUT).map_err(|e| match e {
            RemoteError::Failed { message, .. } if message.contains("event_key") => {
                StoreError::new(format!(
                    "{source} has no event_key column: export it again with this huntbench \
                     (Parquet schema version 2)"
                ))
            }
            e => failed(e),
        })?;
        let mut fingerprint = Vec::new();
        for b in &batches {
            for i in 0..5 {
                fingerprint.push(ints(b, i).map_err(|e| bad_answer("count", e))?);
            }
        }
        let first = |i: usize| {
            fingerprint
                .get(i)
                .and_then(|c| c.first().copied().flatten())
        };
        let events = first(0).unwrap_or(0).max(0) as u64;
        let generation = format!(
            "remote:{}:{}:{events}:{}:{}:{}:{}",
            remote.url(),
            source.text(),
            first(1).unwrap_or(0),
            first(2).unwrap_or(0),
            first(3).unwrap_or(0),
            first(4).unwrap_or(0)
        );
        Ok(RemoteStore {
            remote,
            table,
            catalog,
            events,
            generation,
            cache: EventCache::default(),
            queries: AtomicUsize::new(0),
        })
    }

    /// How many events `source` holds now: a Parquet location is listed again under a view of
    /// its own, since a server may keep the listing a view was registered with (Spark may;
    /// Sail lists the files again for every query).
    pub fn count_now(&self, source: &TableSource) -> Result<u64, StoreError> {
        let from = match source {
            TableSource::Parquet(location) => {
                (self
                    .remote
                    .register_parquet(VIEW_NOW, location, QUERY_TIMEOUT))
                .map_err(failed)?;
                VIEW_NOW
            }
            TableSource::Table(name) => name.as_str(),
        };
        let mut n = 0;
        for b in &self.query(&format!("SELECT count(*) FROM {from}"))? {
            n += ints(b, 0)
                .map_err(|e| bad_answer("count", e))?
                .into_iter()
                .flatten()
                .sum::<i64>();
        }
        Ok(n.max(0) as u64)
    }

    /// How many queries this view has sent since it was opened.
    pub fn queries(&self) -> usize {
        self.queries.load(Ordering::Relaxed)
    }

    /// The session, for interrupting what runs on it.
    pub fn remote(&self) -> &Arc<Remote> {
        &self.remote
    }

    /// The SQL condition for `p`, `None` when it admits every event.
    fn condition(&self, p: &Prefilter) -> Option<String> {
        let text = crate::sql::prefilter(p, &self.catalog);
        (text != "true").then_some(text)
    }

    /// `SELECT columns FROM table` limited to the events `p` admits; `None` when none can be.
    fn select(&self, columns: &str, p: &Prefilter) -> Option<String> {
        if *p == Prefilter::Nothing {
            return None;
        }
        let from = &self.table;
        Some(match self.condition(p) {
            None => format!("SELECT {columns} FROM {from}"),
            // The condition may hold lambda functions, which Sail takes only in a SELECT list.
            Some(cond) => {
                let (admitted, keep) = labels_holding(&[(&cond, "1")], "huntbench_admitted");
                format!("SELECT {columns} FROM (SELECT *, {admitted} FROM {from}) WHERE {keep}")
            }
        })
    }

    fn query(&self, text: &str) -> Result<Vec<super::RecordBatch>, StoreError> {
        self.queries.fetch_add(1, Ordering::Relaxed);
        self.remote.sql(text, QUERY_TIMEOUT).map_err(failed)
    }

    /// The references a query answers as rows of (microseconds, key), in time order, and
    /// expected to be read in that order.
    fn refs(&self, text: &str, what: &str) -> Result<Vec<EventRef>, StoreError> {
        let mut refs = Vec::new();
        for b in &self.query(text)? {
            let ts = ints(b, 0).map_err(|e| bad_answer(what, e))?;
            let keys = ints(b, 1).map_err(|e| bad_answer(what, e))?;
            for (ts, key) in ts.into_iter().zip(keys) {
                if let Some(key) = key {
                    refs.push(EventRef::new(ts.unwrap_or(i64::MIN), key as u64));
                }
            }
        }
        // Sorted here rather than by the server: an ORDER BY is a shuffle on a cluster.
        refs.sort_unstable();
        self.cache.expect(refs.clone());
        Ok(refs)
    }

    /// Fetches the events of `refs`. Their time range goes with the keys: pages are mostly
    /// of events close in time, and the files' time statistics let the server skip the rest.
    fn fetch(&self, refs: &[EventRef]) -> Result<Vec<(u64, Held)>, StoreError> {
        let list: Vec<String> = refs.iter().map(|r| r.key.to_string()).collect();
        let when = self.table.time_within(refs);
        let text = format!(
            "SELECT event_key, ingest_id, event FROM {} WHERE event_key IN ({}){when}",
            self.table,
            list.join(", ")
        );
        self.queries.fetch_add(1, Ordering::Relaxed);
        let batches = self.remote.sql(&text, FETCH_TIMEOUT).map_err(failed)?;
        let mut out = Vec::with_capacity(refs.len());
        for b in &batches {
            let key = ints(b, 0).map_err(|e| bad_answer("events", e))?;
            let file = ints(b, 1).map_err(|e| bad_answer("events", e))?;
            let mut row = 0;
            let mut bad = None;
            texts(b, 2, |json| {
                let parsed = Event::from_json(json.unwrap_or("{}"));
                match (key[row], parsed) {
                    (Some(k), Ok(event)) => {
                        out.push((k as u64, (event, file[row].unwrap_or(-1) as u64)));
                    }
                    (_, Err(e)) => bad = Some(e.to_string()),
                    (None, _) => bad = Some("an event without a key".to_owned()),
                }
                row += 1;
            })
            .map_err(|e| bad_answer("events", e))?;
            if let Some(e) = bad {
                return Err(bad_answer("events", e));
            }
        }
        Ok(out)
    }
}

impl EventStore for RemoteStore {
    fn num_events(&self) -> u64 {
        self.events
    }

    fn generation(&self) -> String {
        self.generation.clone()
    }

    fn holds(&self, r: EventRef) -> bool {
        // Keys are never negative as BIGINTs.
        r.key <= i64::MAX as u64
    }

    fn candidates(&self, p: &Prefilter) -> Result<Vec<EventRef>, StoreError> {
        let Some(text) = self.select("unix_micros(time), event_key", p) else {
            return Ok(Vec::new());
        };
        self.refs(&text, "candidates")
    }

    fn candidates_each(&self, ps: &[Prefilter]) -> Result<Vec<Vec<EventRef>>, StoreError> {
        let mut lists = vec![Vec::new(); ps.len()];
        let asked: Vec<usize> = (0..ps.len())
            .filter(|&i| ps[i] != Prefilter::Nothing)
            .collect();
        for chunk in asked.chunks(RULES_PER_QUERY) {
            let conds: Vec<(String, String)> = (chunk.iter())
                .map(|&i| {
                    let cond = self.condition(&ps[i]).unwrap_or_else(|| "true".to_owned());
                    (cond, i.to_string())
                })
                .collect();
            let arms: Vec<(&str, &str)> = conds
                .iter()
                .map(|(c, i)| (c.as_str(), i.as_str()))
                .collect();
            let (admitted, keep) = labels_holding(&arms, "admitted");
            // The conditions stay in the inner SELECT list (Sail takes lambdas only there);
            // one row per event some prefilter admits, with their indexes.
            let text = format!(
                "SELECT unix_micros(time), event_key, admitted FROM (\
                 SELECT time, event_key, {admitted} FROM {}) WHERE {keep}",
                self.table
            );
            for b in &self.query(&text)? {
                let bad = |e| bad_answer("candidates", e);
                let (ts, keys) = (ints(b, 0).map_err(bad)?, ints(b, 1).map_err(bad)?);
                let mut row = 0;
                texts(b, 2, |admitted| {
                    if let Some(key) = keys[row] {
                        let r = EventRef::new(ts[row].unwrap_or(i64::MIN), key as u64);
                        let n = lists.len();
                        for i in (admitted.unwrap_or("").split(','))
                            .filter_map(|i| i.trim().parse::<usize>().ok())
                            .filter(|&i| i < n)
                        {
                            lists[i].push(r);
                        }
                    }
                    row += 1;
                })
                .map_err(bad)?;
            }
        }
        for list in &mut lists {
            list.sort_unstable();
        }
        Ok(lists)
    }

    fn run_rules(
        &self,
        rules: &[&crate::sigma::CompiledRule],
    ) -> Result<Vec<Option<Vec<EventRef>>>, StoreError> {
        let sqls = super::scan::compile(rules, &self.catalog);
        let mut hits = vec![Vec::new(); rules.len()];
        let opts = super::scan::ScanOptions {
            timeout: QUERY_TIMEOUT,
            ..super::scan::ScanOptions::default()
        };
        let report = super::scan::run(&self.remote, self.table.name(), &sqls, &opts, |i, at| {
            hits[i].push(at);
        })
        .map_err(failed)?;
        // Candidates of rules the SQL only narrows are confirmed on their fetched events.
        let fetches = super::scan::fetch_hits(
            &self.remote,
            &self.table,
            (rules, &sqls),
            &mut hits,
            false,
            QUERY_TIMEOUT,
            |_, _, _| {},
        )
        .map_err(failed)?;
        self.queries
            .fetch_add(report.queries + fetches, Ordering::Relaxed);
        // A rule the server could not run or finish is run the other way: its prefilter
        // here (which never holds a regular expression), the matcher on the fetched events.
        let not_run: std::collections::HashSet<usize> = (report.timed_out.iter())
            .chain(&report.failed)
            .map(|(i, _)| *i)
            .collect();
        Ok((hits.into_iter().enumerate())
            .map(|(i, mut h)| {
                (!not_run.contains(&i)).then(|| {
                    h.sort_unstable();
                    h.dedup();
                    h
                })
            })
            .collect())
    }

    fn search(&self, q: &crate::query::Query) -> Result<Option<Vec<EventRef>>, StoreError> {
        let Ok(sql) = crate::sql::rule::search(q, &self.catalog) else {
            return Ok(None);
        };
        // The `time` column holds microseconds (truncated): an event at microsecond `t` lies
        // within t·1000 ..= t·1000 + 999 ns, so the bounds (ns) narrow by whole microseconds and
        // only an event in a bound's own microsecond is checked here.
        let micros = |ns: i128| {
            i64::try_from(ns.div_euclid(1000)).unwrap_or(if ns < 0 { i64::MIN } else { i64::MAX })
        };
        let within = q.window().map_or_else(
            || "true".to_owned(),
            |(from, to)| {
                let (lo, hi) = (micros(from), micros(to));
                let mut parts = vec![format!("unix_micros(time) BETWEEN {lo} AND {hi}")];
                // A bound a timestamp can hold (years 1 to 9999; Spark refuses others) also
                // lets the server skip files by their time statistics.
                const HELD: std::ops::RangeInclusive<i64> =
                    -62_135_596_800_000_000..=253_402_300_799_999_999;
                if HELD.contains(&lo) {
                    parts.push(format!("time >= timestamp_micros({lo})"));
                }
                if HELD.contains(&hi) {
                    parts.push(format!("time <= timestamp_micros({hi})"));
                }
                parts.join(" AND ")
            },
        );
        let slots: String = (sql.slots.iter())
            .map(|(column, expr)| format!(", {expr} AS {column}"))
            .collect();
        // Lambdas stay in SELECT lists (Sail refuses them in WHERE).
        let (hit, keep) = labels_holding(&[(&sql.condition, "1")], "huntbench_hit");
        let text = format!(
            "SELECT unix_micros(time), event_key FROM (SELECT time, event_key, {hit} FROM \
             (SELECT *{slots} FROM {} WHERE {within})) WHERE {keep}",
            self.table
        );
        let found = self.refs(&text, "search")?;
        let Some((from, to)) = q.window() else {
            return Ok(Some(found));
        };
        let sure = |r: &EventRef| {
            let ns = i128::from(r.ts) * 1000;
            r.ts != i64::MIN && ns >= from && ns + 999 <= to
        };
        let (mut kept, edge): (Vec<EventRef>, Vec<EventRef>) = found.into_iter().partition(sure);
        let checked = crate::store::check(self, &edge, |r, ev, _| q.matches(&ev).then_some(r))?;
        kept.extend(checked.into_iter().flatten());
        kept.sort_unstable();
        Ok(Some(kept))
    }

    fn count_candidates(&self, p: &Prefilter) -> Result<usize, StoreError> {
        let Some(text) = self.select("count(*)", p) else {
            return Ok(0);
        };
        let mut n = 0;
        for b in &self.query(&text)? {
            let counts = ints(b, 0).map_err(|e| bad_answer("count", e))?;
            n += counts.into_iter().flatten().sum::<i64>();
        }
        Ok(n.max(0) as usize)
    }

    fn prefetch(&self, refs: &[EventRef]) {
        self.cache.expect(refs.to_vec());
    }

    fn event(&self, r: EventRef) -> Result<(Event, u64), StoreError> {
        let held = self.cache.get(
            r,
            |refs| self.fetch(refs),
            || StoreError::new(format!("no event under key {} in {}", r.key, self.table)),
        )?;
        Ok((*held).clone())
    }

    fn stats(&self) -> Result<Stats, StoreError> {
        let text = format!(
            "SELECT coalesce(channel, ''), event_id, coalesce(computer, ''), count(*), \
             min(unix_micros(time)), max(unix_micros(time)) FROM {} \
             GROUP BY channel, event_id, computer",
            self.table
        );
        let mut channels: HashMap<String, u64> = HashMap::new();
        let mut computers: HashMap<String, u64> = HashMap::new();
        let mut eids: HashMap<(String, u64), u64> = HashMap::new();
        let mut stats = Stats::default();
        for b in &self.query(&text)? {
            let bad = |e| bad_answer("statistics", e);
            let (channel, computer) = (strings(b, 0).map_err(bad)?, strings(b, 2).map_err(bad)?);
            let (eid, count) = (ints(b, 1).map_err(bad)?, ints(b, 3).map_err(bad)?);
            let (first, last) = (ints(b, 4).map_err(bad)?, ints(b, 5).map_err(bad)?);
            for row in 0..b.num_rows() {
                let n = count[row].unwrap_or(0).max(0) as u64;
                let channel = channel[row].clone().unwrap_or_default();
                stats.events += n;
                *computers
                    .entry(computer[row].clone().unwrap_or_default())
                    .or_default() += n;
                if let Some(e) = eid[row] {
                    *eids.entry((channel.clone(), e as u64)).or_default() += n;
                }
                *channels.entry(channel).or_default() += n;
                if let Some(t) = first[row] {
                    stats.first = Some(stats.first.map_or(t, |f| f.min(t)));
                }
                if let Some(t) = last[row] {
                    stats.last = Some(stats.last.map_or(t, |l| l.max(t)));
                }
            }
        }
        stats.by_channel = Stats::sorted(channels);
        stats.by_computer = Stats::sorted(computers);
        stats.by_event_id = Stats::sorted(eids);
        Ok(stats)
    }

    fn sources(&self) -> Result<Vec<Source>, StoreError> {
        let text = format!(
            "SELECT ingest_id, min(source_file), min(source_sha256), count(*) FROM {} \
             GROUP BY ingest_id",
            self.table
        );
        let mut out = Vec::new();
        for b in &self.query(&text)? {
            let bad = |e| bad_answer("sources", e);
            let (id, count) = (ints(b, 0).map_err(bad)?, ints(b, 3).map_err(bad)?);
            let (file, sha) = (strings(b, 1).map_err(bad)?, strings(b, 2).map_err(bad)?);
            for row in 0..b.num_rows() {
                out.push(Source {
                    id: id[row].unwrap_or(-1) as u64,
                    paths: file[row].clone().into_iter().collect(),
                    sha256: sha[row].clone().unwrap_or_default(),
                    events: count[row].unwrap_or(0).max(0) as u64,
                    ..Source::default()
                });
            }
        }
        out.sort_by_key(|s| s.id);
        Ok(out)
    }

    fn interrupt(&self) {
        self.remote.interrupt();
    }

    fn stack(&self, q: &StackQuery<'_>) -> Result<Option<Stacked>, StoreError> {
        let Some(queries) = super::stack::queries(q, &self.catalog, &self.table) else {
            return Ok(None);
        };
        let (mut tuples, mut missing) = (HashMap::new(), 0);
        for text in queries {
            for b in &self.query(&text)? {
                super::stack::read(b, q.fields.len(), &mut tuples, &mut missing)
                    .map_err(|e| bad_answer("stack", e))?;
            }
        }
        Ok(Some(Stacked::top(tuples, missing)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_told_from_locations() {
        assert_eq!(
            TableSource::parse("db.events"),
            TableSource::Table("db.events".into())
        );
        assert_eq!(
            TableSource::parse("events_2"),
            TableSource::Table("events_2".into())
        );
        // A name that is also a local directory (the tests run in the checkout) is a location.
        assert_eq!(
            TableSource::parse("src"),
            TableSource::Parquet("src".into())
        );
        for location in ["/data/export", "s3a://bucket/x", "./out", "2024", "a b"] {
            assert_eq!(
                TableSource::parse(location),
                TableSource::Parquet(location.into()),
                "{location}"
            );
        }
    }
}
