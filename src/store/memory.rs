//! A store that is a list of events in memory. It answers every question of [`EventStore`] by
//! looking at each event ([`Prefilter::accepts`], the prefilter contract's reference
//! semantics), so the tests can ask it and the case index the same hunt, search, stats and
//! process-tree questions and expect the same answers. Not for: large cases (it holds every
//! event).

use super::{EventRef, EventStore, Source, Stats, StatsCounter, StoreError};
use crate::event::Event;
use crate::prefilter::Prefilter;
use std::sync::atomic::{AtomicU64, Ordering};

/// Events with the id of the source file each came from.
pub struct MemoryStore {
    events: Vec<(Event, u64)>,
    sources: Vec<Source>,
    /// Distinguishes two stores' references (and remembered results) from each other.
    instance: u64,
}

static INSTANCES: AtomicU64 = AtomicU64::new(0);

impl MemoryStore {
    /// A store of `events`, each with its source file's id, and the sources they name.
    pub fn new(events: Vec<(Event, u64)>, sources: Vec<Source>) -> MemoryStore {
        MemoryStore {
            events,
            sources,
            instance: INSTANCES.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// A store of events from one unnamed source (id 0).
    pub fn from_events(events: Vec<Event>) -> MemoryStore {
        let n = events.len() as u64;
        let source = Source {
            id: 0,
            paths: vec!["(memory)".into()],
            sha256: String::new(),
            events: n,
            ..Source::default()
        };
        MemoryStore::new(events.into_iter().map(|e| (e, 0)).collect(), vec![source])
    }

    /// A copy of every event of `store`, in its time order, with its sources: the same case
    /// held the other way (for comparing what two stores answer).
    pub fn copy_of(store: &dyn EventStore) -> Result<MemoryStore, StoreError> {
        let refs = store.candidates(&Prefilter::All)?;
        let events = (refs.iter())
            .map(|r| store.event(*r))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(MemoryStore::new(events, store.sources()?))
    }

    fn reference(&self, key: usize) -> EventRef {
        let ts = (self.events[key].0.timestamp()).map_or(i64::MIN, |t| t.as_microsecond());
        EventRef::new(ts, key as u64)
    }
}

impl EventStore for MemoryStore {
    fn num_events(&self) -> u64 {
        self.events.len() as u64
    }

    fn generation(&self) -> String {
        format!("memory-{}-{}", self.instance, self.events.len())
    }

    fn holds(&self, r: EventRef) -> bool {
        (r.key as usize) < self.events.len()
    }

    fn candidates(&self, p: &Prefilter) -> Result<Vec<EventRef>, StoreError> {
        let mut refs: Vec<EventRef> = (0..self.events.len())
            .filter(|&k| p.accepts(&self.events[k].0))
            .map(|k| self.reference(k))
            .collect();
        refs.sort_unstable();
        Ok(refs)
    }

    fn event(&self, r: EventRef) -> Result<(Event, u64), StoreError> {
        (self.events.get(r.key as usize).cloned())
            .ok_or_else(|| StoreError::new(format!("no event under key {}", r.key)))
    }

    fn stats(&self) -> Result<Stats, StoreError> {
        let mut counter = StatsCounter::default();
        for (ev, _) in &self.events {
            counter.add(ev);
        }
        Ok(counter.finish())
    }

    fn sources(&self) -> Result<Vec<Source>, StoreError> {
        Ok(self.sources.clone())
    }
}
