//! The remote store's events in memory: a bounded cache filled a page at a time.
//!
//! A query costs a round trip (about 50 ms on Sail, 0.25 s on a Spark cluster), so events are
//! never fetched one by one. The store remembers the last few lists of references it handed out
//! or was told are about to be read ([`EventCache::expect`]), each in the order it will be read.
//! A miss fetches the page of that list holding the event (up to [`PAGE`] keys not yet held), so
//! reading a list in its order costs a query per page, whoever reads it and on however many
//! threads. Threads that need an event already being fetched wait for that fetch.

use crate::event::Event;
use crate::store::EventRef;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Keys fetched by one query.
pub const PAGE: usize = 256;
/// Events held (a few kilobytes each).
pub const CAPACITY: usize = 16 * 1024;
/// Lists of references remembered for read-ahead.
const LISTS: usize = 4;
/// References remembered across those lists; a longer list is still kept, alone.
const LISTED: usize = 2_000_000;

/// An event with the id of its source.
pub type Held = (Event, u64);

/// A list of references in the order they will be read, with each key's position.
struct List {
    order: Vec<EventRef>,
    /// (key, position in `order`), sorted by key.
    index: Vec<(u64, u32)>,
}

impl List {
    fn new(order: Vec<EventRef>) -> List {
        let mut index: Vec<(u64, u32)> = (order.iter().enumerate())
            .map(|(i, r)| (r.key, i as u32))
            .collect();
        index.sort_unstable();
        List { order, index }
    }

    fn position(&self, key: u64) -> Option<usize> {
        let i = self.index.partition_point(|&(k, _)| k < key);
        (self.index.get(i)).and_then(|&(k, p)| (k == key).then_some(p as usize))
    }
}

#[derive(Default)]
struct State {
    events: HashMap<u64, Arc<Held>>,
    /// Keys in the order they were fetched: the oldest leave first.
    age: VecDeque<u64>,
    in_flight: HashSet<u64>,
    /// Newest first.
    lists: VecDeque<Arc<List>>,
}

#[derive(Default)]
pub struct EventCache {
    state: Mutex<State>,
    fetched: Condvar,
}

impl EventCache {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Says that the events of `keys` are about to be read, in this order.
    pub fn expect(&self, keys: Vec<EventRef>) {
        if keys.len() < 2 {
            return;
        }
        if keys.len() > u32::MAX as usize {
            return;
        }
        let list = Arc::new(List::new(keys));
        let mut state = self.lock();
        state.lists.push_front(list);
        let mut total = 0;
        let mut keep = 0;
        for l in &state.lists {
            total += l.order.len();
            if keep > 0 && (keep >= LISTS || total > LISTED) {
                break;
            }
            keep += 1;
        }
        state.lists.truncate(keep);
    }

    /// The event of `r`, fetched with the rest of its page by `fetch` (which answers the
    /// events it found among the references given) when not held.
    pub fn get<E>(
        &self,
        r: EventRef,
        fetch: impl FnOnce(&[EventRef]) -> Result<Vec<(u64, Held)>, E>,
        missing: impl FnOnce() -> E,
    ) -> Result<Arc<Held>, E> {
        let key = r.key;
        let mut state = self.lock();
        loop {
            if let Some(held) = state.events.get(&key) {
                return Ok(Arc::clone(held));
            }
            if !state.in_flight.contains(&key) {
                break;
            }
            state = self.fetched.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        let page = page_of(&state, r);
        state.in_flight.extend(page.iter().map(|r| r.key));
        drop(state);
        let answer = fetch(&page);
        let mut state = self.lock();
        for r in &page {
            state.in_flight.remove(&r.key);
        }
        let mut found = None;
        let result = answer.map(|events| {
            for (k, held) in events {
                let held = Arc::new(held);
                if k == key {
                    found = Some(Arc::clone(&held));
                }
                if state.events.insert(k, held).is_none() {
                    state.age.push_back(k);
                }
            }
            while state.events.len() > CAPACITY {
                let Some(old) = state.age.pop_front() else {
                    break;
                };
                state.events.remove(&old);
            }
        });
        drop(state);
        self.fetched.notify_all();
        result?;
        found.ok_or_else(missing)
    }
}

/// `r` and the other references of its page in the newest list holding it, not held or
/// being fetched.
fn page_of(state: &State, r: EventRef) -> Vec<EventRef> {
    let mut page = vec![r];
    let Some((list, at)) = (state.lists.iter()).find_map(|l| Some((l, l.position(r.key)?))) else {
        return page;
    };
    let start = at - at % PAGE;
    let end = (start + PAGE).min(list.order.len());
    page.extend(
        list.order[start..end]
            .iter()
            .filter(|o| o.key != r.key && !state.events.contains_key(&o.key))
            .filter(|o| !state.in_flight.contains(&o.key)),
    );
    page.sort_unstable_by_key(|o| o.key);
    page.dedup_by_key(|o| o.key);
    page
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn held(k: u64) -> Held {
        (Event::from_pairs(&[("EventRecordID", &k.to_string())]), 0)
    }

    fn fetch_counting(
        calls: &AtomicUsize,
    ) -> impl Fn(&[EventRef]) -> Result<Vec<(u64, Held)>, String> {
        move |refs| {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok(refs.iter().map(|r| (r.key, held(r.key))).collect())
        }
    }

    fn refs(keys: &[u64]) -> Vec<EventRef> {
        keys.iter().map(|&k| EventRef::new(0, k)).collect()
    }

    #[test]
    fn a_list_read_in_order_costs_a_fetch_per_page() {
        let cache = EventCache::default();
        let keys: Vec<u64> = (0..1000u64).map(|k| k * 7919 % 10007).collect();
        cache.expect(refs(&keys));
        let calls = AtomicUsize::new(0);
        for r in refs(&keys) {
            let got = cache
                .get(r, fetch_counting(&calls), || "missing".to_owned())
                .unwrap();
            assert_eq!(got.0.record_id(), Some(r.key));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1000usize.div_ceil(PAGE));
    }

    #[test]
    fn threads_wait_for_a_page_being_fetched_and_an_absent_key_is_an_error() {
        let cache = EventCache::default();
        let keys = refs(&(0..PAGE as u64).collect::<Vec<_>>());
        cache.expect(keys.clone());
        let calls = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for chunk in keys.chunks(PAGE / 4) {
                let (cache, calls) = (&cache, &calls);
                s.spawn(move || {
                    for &r in chunk {
                        cache
                            .get(r, fetch_counting(calls), || "missing".to_owned())
                            .unwrap();
                    }
                });
            }
        });
        assert!(calls.load(Ordering::SeqCst) <= 4);
        let gone = EventRef::new(0, u64::MAX);
        let err = cache.get(gone, |_| Ok::<_, String>(Vec::new()), || "gone".to_owned());
        assert_eq!(err.unwrap_err(), "gone");
    }
}
