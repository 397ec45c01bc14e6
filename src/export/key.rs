//! `event_key`: a number naming one event of an export, so another engine can hand events back
//! by key (the remote event store fetches `WHERE event_key IN (…)`).
//!
//! The key is derived from the record, not from where or when it was written: the top 63 bits
//! of ingest's record digest (computer, channel, EventRecordID, time, content: what folds a
//! record repeated across sources), or of the SHA-256 of the event's JSON for a record without
//! an EventRecordID. So the export of a case and the raw export of the same logs give an event
//! the same key. Two events of one export with the same record (copies kept by
//! `--keep-duplicates`, or identical events without a record id) would share it: the export
//! remembers every key it wrote and gives a later copy the next free key of a fixed sequence
//! (8 bytes an event while the export runs).

use crate::event::Event;
use rustc_hash::FxHashSet;
use sha2::{Digest, Sha256};
use std::sync::Mutex;

/// Shards of the set of keys written, so writer threads rarely wait for each other.
const SHARDS: usize = 16;

/// The key an event gets unless another event of the export already holds it, from its record
/// digest (`record_digest(event)`, which the caller has computed already).
pub fn base_key(event: &Event, digest: Option<u128>) -> i64 {
    let digest = digest.unwrap_or_else(|| {
        let mut first = [0u8; 16];
        first.copy_from_slice(&Sha256::digest(event.to_json().as_bytes())[..16]);
        u128::from_be_bytes(first)
    });
    (digest >> 65) as i64
}

/// The key after `key` in the sequence tried when it is taken (splitmix64's mix, 63 bits).
fn next_key(key: i64) -> i64 {
    let mut z = (key as u64).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    ((z ^ (z >> 31)) >> 1) as i64
}

/// The keys an export has written, shared by its writer threads. Keys are digest bits already,
/// so the sets hash them with Fx (one multiply) rather than SipHash, which was most of the cost
/// of claiming a key.
pub struct EventKeys {
    taken: Vec<Mutex<FxHashSet<i64>>>,
}

impl Default for EventKeys {
    fn default() -> Self {
        EventKeys {
            taken: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }
}

impl EventKeys {
    /// A key for `event`, whose record digest is `digest` (`record_digest(event)`), that no
    /// other event of this export has.
    pub fn claim(&self, event: &Event, digest: Option<u128>) -> i64 {
        let mut key = base_key(event, digest);
        loop {
            let shard = &self.taken[(key as u64 % SHARDS as u64) as usize];
            let mut taken = shard.lock().unwrap_or_else(|p| p.into_inner());
            if taken.insert(key) {
                return key;
            }
            drop(taken);
            key = next_key(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(record: &str, cmd: &str) -> Event {
        Event::from_pairs(&[
            ("Channel", "Security"),
            ("Computer", "pc1"),
            ("EventRecordID", record),
            ("TimeCreated_SystemTime", "2024-03-12T10:00:00Z"),
            ("CommandLine", cmd),
        ])
    }

    #[test]
    fn keys_are_the_record_s_and_copies_get_keys_of_their_own() {
        let keys = EventKeys::default();
        let digest = crate::index::dedup::record_digest;
        let claim = |e: &Event| keys.claim(e, digest(e));
        let key = |e: &Event| base_key(e, digest(e));
        let a = claim(&event("1", "a"));
        assert_eq!(a, key(&event("1", "a")));
        assert!(a >= 0);
        assert_ne!(claim(&event("2", "a")), a);
        let copy = claim(&event("1", "a"));
        assert_ne!(copy, a);
        assert_eq!(copy, next_key(a));
        assert!(copy >= 0);
        // An event without a record id is keyed by its content.
        let bare = Event::from_pairs(&[("CommandLine", "x")]);
        assert_eq!(key(&bare), key(&bare.clone()));
        assert_ne!(claim(&bare), claim(&bare));
    }
}
