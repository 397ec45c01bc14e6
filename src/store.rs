//! The seam between the engine and its faces: everything the hunt, the process tree, the
//! workbench and the commands need from a case, whoever keeps it.
//!
//! [`EventStore`] is a point-in-time view of a case's events; [`CaseStore`] is the case it
//! comes from (which can grow while a view is read); [`Backend`] opens one, ingesting new
//! inputs. `index` implements all three over tantivy; [`memory::MemoryStore`] is a list of
//! events in memory, the second implementation the tests run the same hunt, search, stats and
//! process-tree questions over. `main` picks the backend and hands it to the face.
//!
//! Not for: deciding what matches (a store only narrows, soundly; `sigma` and `query` decide)
//! or how a case is stored.

use crate::event::Event;
use crate::prefilter::Prefilter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub mod lookup;
pub mod memory;
pub mod spill;

/// What reading inputs into a case reports and takes, filled in where ingest runs.
pub use crate::index::{IngestOptions, IngestSummary, Progress};
pub use lookup::Lookup;

/// A reference to one event of an [`EventStore`]: its time, for ordering, and a key only the
/// store reads. Sorting by `key` visits events in the store's own order (the order in which it
/// reads them fastest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventRef {
    /// Microseconds since the epoch (`i64::MIN` when the event has no valid time).
    pub ts: i64,
    /// Where the store keeps the event; meaningful only to the view it came from.
    pub key: u64,
}

impl EventRef {
    pub fn new(ts: i64, key: u64) -> EventRef {
        EventRef { ts, key }
    }
}

/// Aggregates for `huntbench stats` and the workbench's header.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub events: u64,
    pub by_channel: Vec<(String, u64)>,
    /// By (channel, EventID): an EventID alone is ambiguous across channels.
    pub by_event_id: Vec<((String, u64), u64)>,
    pub by_computer: Vec<(String, u64)>,
    pub first: Option<i64>,
    pub last: Option<i64>,
}

impl Stats {
    /// Counts sorted by count, descending, then by key: the order every store reports.
    pub fn sorted<K: Ord>(map: std::collections::HashMap<K, u64>) -> Vec<(K, u64)> {
        let mut v: Vec<(K, u64)> = map.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }
}

/// [`Stats`] counted one event at a time, for the stores that keep no aggregates.
#[derive(Default)]
pub struct StatsCounter {
    stats: Stats,
    channels: std::collections::HashMap<String, u64>,
    computers: std::collections::HashMap<String, u64>,
    event_ids: std::collections::HashMap<(String, u64), u64>,
}

impl StatsCounter {
    pub fn add(&mut self, ev: &Event) {
        let stats = &mut self.stats;
        stats.events += 1;
        if let Some(t) = ev.timestamp().map(|t| t.as_microsecond()) {
            stats.first = Some(stats.first.map_or(t, |f| f.min(t)));
            stats.last = Some(stats.last.map_or(t, |l| l.max(t)));
        }
        *self.channels.entry(ev.channel().to_owned()).or_default() += 1;
        *self.computers.entry(ev.computer().to_owned()).or_default() += 1;
        if let Some(e) = ev.event_id() {
            *self
                .event_ids
                .entry((ev.channel().to_owned(), e))
                .or_default() += 1;
        }
    }

    pub fn finish(self) -> Stats {
        Stats {
            by_channel: Stats::sorted(self.channels),
            by_computer: Stats::sorted(self.computers),
            by_event_id: Stats::sorted(self.event_ids),
            ..self.stats
        }
    }
}

/// One source file of a case, as the detail view and the problems list name it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Source {
    /// The id events carry (see [`EventStore::event`]).
    pub id: u64,
    /// Every path this content was offered under (the first one was read).
    pub paths: Vec<String>,
    /// SHA-256 of the content, hex ("" when the store does not know it).
    pub sha256: String,
    pub events: u64,
    /// Why the file was read only in part, as recorded when it was read.
    pub warnings: Vec<String>,
    /// Records not counted because another source (or this one, earlier) holds the same
    /// record: same computer, channel, EventRecordID, time and content.
    pub folded: u64,
    /// Of those, how many per source id that held the record.
    pub folded_into: Vec<(u64, u64)>,
}

/// How bad an input problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProblemKind {
    /// Not usable as input (a missing path, an unreadable folder).
    Error,
    /// Read in part (unreadable records, a bad header…).
    Warning,
    /// Not read (a duplicate, a file of another kind).
    Skipped,
    /// Not a problem: records of the file counted once, since another source holds them.
    Folded,
}

impl ProblemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::Error => "error",
            ProblemKind::Warning => "warning",
            ProblemKind::Skipped => "skipped",
            ProblemKind::Folded => "folded",
        }
    }
}

impl std::fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// Something wrong with an input path, as `huntbench ingest` prints it and the workbench lists
/// it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputProblem {
    pub kind: ProblemKind,
    pub path: String,
    pub reason: String,
}

/// A store's failure, whatever the store.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct StoreError(Box<dyn std::error::Error + Send + Sync>);

impl StoreError {
    pub fn new(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> StoreError {
        StoreError(e.into())
    }

    /// The store's own error, for callers that tell them apart.
    pub fn inner(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.0
    }
}

/// Rows of a stack at most: the commonest values (or tuples of values) of a field over a list.
pub const STACK_ROWS: usize = 500;

/// A stack asked of a store ([`EventStore::stack`]): how often each tuple of values of
/// `fields` occurs in the events of a list.
#[derive(Clone, Copy)]
pub struct StackQuery<'a> {
    /// The list's events (an event listed twice counts twice).
    pub refs: &'a [EventRef],
    pub fields: &'a [String],
    /// When the list is a rule's hits (all of them): the rule, which names the fields
    /// ([`crate::sigma::CompiledRule::field_values`]) and by which the store may find the
    /// events instead of by `refs`.
    pub rule: Option<&'a crate::sigma::CompiledRule>,
}

/// A stack's rows: the [`STACK_ROWS`] commonest tuples (one value per field; an event with
/// several values of a field counts once per combination), by count and then by values, and
/// how many events lack some field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stacked {
    pub tuples: Vec<(Vec<String>, u64)>,
    pub missing: u64,
}

impl Stacked {
    /// The commonest of `counts` (every tuple's count), ties by value.
    pub fn top(counts: std::collections::HashMap<Vec<String>, u64>, missing: u64) -> Stacked {
        let mut tuples: Vec<(Vec<String>, u64)> = counts.into_iter().collect();
        tuples.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        tuples.truncate(STACK_ROWS);
        Stacked { tuples, missing }
    }
}

/// A point-in-time view of a case's events. References it hands out stay valid while it lives.
pub trait EventStore: Send + Sync {
    fn num_events(&self) -> u64;

    /// Names what this view holds: two views with the same name hold the same events under the
    /// same references, so results kept under it (remembered hits) stay true until it changes.
    fn generation(&self) -> String;

    /// Whether `r` can be a reference into this view.
    fn holds(&self, r: EventRef) -> bool;

    /// Every event the prefilter admits (a superset of what its matcher accepts), sorted by
    /// time. Only references: 16 bytes an event, however large the events are.
    fn candidates(&self, p: &Prefilter) -> Result<Vec<EventRef>, StoreError>;

    /// The candidates of each prefilter, in order: [`EventStore::candidates`] of each (in
    /// parallel), unless the store answers them together (a remote store, whose every
    /// question is a round trip, asks one query for many rules).
    fn candidates_each(&self, ps: &[Prefilter]) -> Result<Vec<Vec<EventRef>>, StoreError> {
        use rayon::prelude::*;
        ps.par_iter().map(|p| self.candidates(p)).collect()
    }

    /// Runs `rules` where the events are, when the store can (a remote store, a few queries
    /// for many rules): per rule its hits, or `None` for a rule it did not run, which the
    /// caller runs as for any store (its prefilter narrows, the matcher checks each candidate).
    /// A local store runs none.
    fn run_rules(
        &self,
        rules: &[&crate::sigma::CompiledRule],
    ) -> Result<Vec<Option<Vec<EventRef>>>, StoreError> {
        Ok(vec![None; rules.len()])
    }

    /// How many events the prefilter admits.
    fn count_candidates(&self, p: &Prefilter) -> Result<usize, StoreError> {
        Ok(self.candidates(p)?.len())
    }

    /// A hint that the events of `refs` are about to be read, in this order: a store that
    /// fetches events over a network reads them a page at a time. Others ignore it.
    fn prefetch(&self, _refs: &[EventRef]) {}

    /// Asks the store to stop what it is running for this view (a remote query): those calls
    /// return an error soon. A local store has nothing to stop.
    fn interrupt(&self) {}

    /// Counts a stack where the events are, when the store can (a remote store, by `GROUP BY`
    /// on the server instead of fetching every event): `None` means the caller counts it from
    /// the fetched events, as for a local store.
    fn stack(&self, _q: &StackQuery<'_>) -> Result<Option<Stacked>, StoreError> {
        Ok(None)
    }

    /// The events a search matches, in time order, when the store can decide that where the
    /// events are (a remote store: the query as SQL, so no event crosses the wire); `None`
    /// means the caller checks the candidates of its prefilter ([`matching`]).
    fn search(&self, _q: &crate::query::Query) -> Result<Option<Vec<EventRef>>, StoreError> {
        Ok(None)
    }

    /// The event behind a reference, with the id of its source file.
    fn event(&self, r: EventRef) -> Result<(Event, u64), StoreError>;

    /// Counts by channel, by channel and EventID, by computer, and the time range. Events
    /// without a channel or computer count under ""; events without an EventID are not counted
    /// by EventID.
    fn stats(&self) -> Result<Stats, StoreError>;

    /// The source files the events came from.
    fn sources(&self) -> Result<Vec<Source>, StoreError>;

    /// The events a pivot describes, in time order. A store that can answer the description
    /// itself does; otherwise its prefilter proposes and its exact check decides.
    fn lookup(&self, l: &Lookup) -> Result<Vec<EventRef>, StoreError> {
        confirmed(self, &l.prefilter(), |event| l.matches(event))
    }
}

/// A case that an ingest (here or in another process) can grow: views are taken from it.
pub trait CaseStore: Send + Sync {
    /// The name shown for the case.
    fn name(&self) -> String;
    fn dir(&self) -> &Path;
    /// A view of what is committed now.
    fn snapshot(&self) -> Arc<dyn EventStore>;
    /// Looks again at what is committed (another process may have added events) and says how
    /// many events the case holds now; views already taken do not change.
    fn refresh(&self) -> Result<u64, StoreError>;
}

/// Opens cases: the one way the commands and the workbench get at one.
pub trait Backend: Send + Sync {
    /// Opens the case in `dir`. Without inputs it must exist (a mistyped directory makes no
    /// empty case); with inputs it is opened or created (only when they hold an event log)
    /// and what is new in them is read in. Returns what reading did.
    fn open(
        &self,
        dir: &Path,
        inputs: &[PathBuf],
        opts: &IngestOptions,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<Opened, StoreError>;

    /// Whether [`Backend::open`] would refuse (no case without inputs, inputs with no event
    /// log for a new case), without reading anything: the workbench asks before it takes the
    /// terminal.
    fn check(&self, dir: &Path, inputs: &[PathBuf]) -> Result<(), StoreError>;

    /// Whether `dir` holds a case this build cannot read (an older format).
    fn is_outdated(&self, dir: &Path) -> bool;
}

/// A case as [`Backend::open`] opened it.
pub struct Opened {
    pub case: Arc<dyn CaseStore>,
    /// What reading the inputs did (none without inputs).
    pub ingest: Option<IngestSummary>,
}

/// Reads each of `refs` (given in time order) and maps it with `keep`, on all cores and in the
/// store's order (so a store reading blocks reads each once); the answers come back in the
/// order given.
pub fn check<S: EventStore + ?Sized, T: Send>(
    store: &S,
    refs: &[EventRef],
    keep: impl Fn(EventRef, Event, u64) -> Option<T> + Sync,
) -> Result<Vec<Option<T>>, StoreError> {
    use rayon::prelude::*;
    let mut order: Vec<usize> = (0..refs.len()).collect();
    order.sort_unstable_by_key(|&i| refs[i].key);
    store.prefetch(&order.iter().map(|&i| refs[i]).collect::<Vec<_>>());
    let checked: Vec<(usize, Option<T>)> = order
        .par_iter()
        .map(|&i| {
            let (event, file) = store.event(refs[i])?;
            Ok((i, keep(refs[i], event, file)))
        })
        .collect::<Result<_, StoreError>>()?;
    let mut out: Vec<Option<T>> = (0..refs.len()).map(|_| None).collect();
    for (i, kept) in checked {
        out[i] = kept;
    }
    Ok(out)
}

/// The events `q` matches, in time order: found by the store where it can
/// ([`EventStore::search`]), else its prefilter's candidates checked here.
pub fn matching<S: EventStore + ?Sized>(
    store: &S,
    q: &crate::query::Query,
) -> Result<Vec<EventRef>, StoreError> {
    if let Some(found) = store.search(q)? {
        return Ok(found);
    }
    confirmed(store, &q.prefilter(), |event| q.matches(event))
}

/// The candidates of `p` whose events `keep` accepts, in time order: the prefilter proposes,
/// the exact check decides.
pub fn confirmed<S: EventStore + ?Sized>(
    store: &S,
    p: &Prefilter,
    keep: impl Fn(&Event) -> bool + Sync,
) -> Result<Vec<EventRef>, StoreError> {
    let candidates = store.candidates(p)?;
    let kept = check(store, &candidates, |r, event, _| keep(&event).then_some(r))?;
    Ok(kept.into_iter().flatten().collect())
}

/// A stack counted by the store where it can ([`EventStore::stack`]), else here from its list's
/// fetched events ([`stack_here`]).
pub fn stack<S: EventStore + ?Sized>(store: &S, q: &StackQuery<'_>) -> Result<Stacked, StoreError> {
    match store.stack(q)? {
        Some(stacked) => Ok(stacked),
        None => stack_here(store, q),
    }
}

/// A stack counted from the fetched events of its list, a chunk at a time (a list of any
/// length holds one chunk of events): each field read as the rule names it when the list is a
/// rule's hits, else every field of that name in any case.
pub fn stack_here<S: EventStore + ?Sized>(
    store: &S,
    q: &StackQuery<'_>,
) -> Result<Stacked, StoreError> {
    const CHUNK: usize = 8192;
    let read = |e: &Event, field: &str| -> Vec<String> {
        match q.rule {
            Some(rule) => rule.field_values(e, field),
            None => (e.fields.iter())
                .filter(|(n, _)| n.eq_ignore_ascii_case(field))
                .flat_map(|(_, v)| v.strings().map(str::to_owned).collect::<Vec<_>>())
                .collect(),
        }
    };
    let mut counts: std::collections::HashMap<Vec<String>, u64> = Default::default();
    let mut missing = 0u64;
    for chunk in q.refs.chunks(CHUNK) {
        let per_event = check(store, chunk, |_, event, _| {
            let values: Vec<Vec<String>> = q.fields.iter().map(|f| read(&event, f)).collect();
            Some(combinations(&values))
        })?;
        for tuples in per_event.into_iter().flatten() {
            if tuples.is_empty() {
                missing += 1;
            }
            for t in tuples {
                *counts.entry(t).or_default() += 1;
            }
        }
    }
    Ok(Stacked::top(counts, missing))
}

/// Every choice of one value per field (none when a field has no value).
fn combinations(values: &[Vec<String>]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = vec![Vec::new()];
    for options in values {
        out = (out.iter())
            .flat_map(|prefix| {
                options.iter().map(move |v| {
                    let mut t = prefix.clone();
                    t.push(v.clone());
                    t
                })
            })
            .collect();
    }
    out
}

/// The first `limit` events (in time order) that the prefilter admits and `verify` accepts,
/// each handed to `sink` as it is confirmed, so a search of any size holds one chunk of events
/// at a time. `None` means no limit. Returns how many events were handed over.
pub fn search_each<S: EventStore + ?Sized, E: From<StoreError>>(
    store: &S,
    p: &Prefilter,
    verify: &(dyn Fn(&Event) -> bool + Sync),
    limit: Option<usize>,
    sink: &mut dyn FnMut(EventRef, Event, u64) -> Result<(), E>,
) -> Result<usize, E> {
    let limit = limit.unwrap_or(usize::MAX);
    let candidates = store.candidates(p)?;
    let mut found = 0;
    let mut rest = candidates.as_slice();
    while found < limit && !rest.is_empty() {
        // Check about as many candidates as results are still wanted (at least a few blocks'
        // worth), so a query whose candidates mostly match reads little extra.
        let (chunk, tail) = rest.split_at((limit - found).clamp(256, 8192).min(rest.len()));
        rest = tail;
        let checked = check(store, chunk, |r, event, file| {
            verify(&event).then_some((r, event, file))
        })?;
        for (r, event, file) in checked.into_iter().flatten().take(limit - found) {
            sink(r, event, file)?;
            found += 1;
        }
    }
    Ok(found)
}

/// [`search_each`], collected.
pub fn search<S: EventStore + ?Sized>(
    store: &S,
    p: &Prefilter,
    verify: &(dyn Fn(&Event) -> bool + Sync),
    limit: usize,
) -> Result<Vec<(EventRef, Event, u64)>, StoreError> {
    let mut out = Vec::new();
    search_each(store, p, verify, Some(limit), &mut |r, event, file| {
        out.push((r, event, file));
        Ok::<(), StoreError>(())
    })?;
    Ok(out)
}

/// One note per source of `sources` with folded records, naming the sources that hold them
/// (the first three, by how many) by `paths` (the case's [`first_paths`]).
pub fn folded_notes(
    sources: &[Source],
    paths: &std::collections::HashMap<u64, String>,
) -> Vec<InputProblem> {
    let name = |id: u64| {
        paths
            .get(&id)
            .map_or_else(|| format!("source {id}"), Clone::clone)
    };
    (sources.iter().filter(|s| s.folded > 0))
        .map(|s| {
            let mut into = s.folded_into.clone();
            into.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let mut held: Vec<String> = (into.iter().take(3))
                .map(|&(id, n)| match id == s.id {
                    true => format!("earlier in this file ({n})"),
                    false => format!("{} ({n})", name(id)),
                })
                .collect();
            if into.len() > 3 {
                held.push(format!("{} other source(s)", into.len() - 3));
            }
            InputProblem {
                kind: ProblemKind::Folded,
                path: s.paths.first().cloned().unwrap_or_default(),
                reason: format!(
                    "{} record(s) counted once: the same records (computer, channel, \
                     EventRecordID, time and content) are in {}",
                    s.folded,
                    held.join(", ")
                ),
            }
        })
        .collect()
}

/// Each source file's first path, by id (for naming the file of an event).
pub fn first_paths(sources: &[Source]) -> std::collections::HashMap<u64, String> {
    (sources.iter())
        .filter_map(|s| Some((s.id, s.paths.first()?.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::combinations;

    #[test]
    fn combinations_take_one_value_per_field() {
        let v = |xs: &[&str]| xs.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            combinations(&[v(&["a"]), v(&["x", "y"])]),
            vec![v(&["a", "x"]), v(&["a", "y"])]
        );
        assert!(combinations(&[v(&["a"]), v(&[])]).is_empty());
    }
}
