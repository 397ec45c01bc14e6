//! A store of events kept in a temporary file, read back one at a time: what `scan --remote`
//! holds the fetched hits in, so that the client's memory grows by a few words a hit and not
//! by the hits' events (a scan of every SigmaHQ Windows rule over a million events fetches
//! hundreds of thousands).
//!
//! It answers as [`super::memory::MemoryStore`] does, by looking at each event in turn, which
//! here means reading it from the file: fit for the few questions a scan's output and its
//! correlations ask, not for the workbench.

use super::{EventRef, EventStore, Source, Stats, StatsCounter, StoreError};
use crate::event::Event;
use crate::prefilter::Prefilter;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::sync::Mutex;

/// Where one event's JSON is in the file.
#[derive(Clone, Copy)]
struct Spot {
    offset: u64,
    len: u32,
    source: u64,
    ts: i64,
}

/// Events appended with [`SpillStore::push`], then read as an [`EventStore`].
pub struct SpillStore {
    writer: Mutex<BufWriter<std::fs::File>>,
    spots: Vec<Spot>,
    written: u64,
    sources: Vec<Source>,
}

fn failed(e: impl std::fmt::Display) -> StoreError {
    StoreError::new(format!("the temporary file of fetched events: {e}"))
}

impl SpillStore {
    /// An empty store in a new temporary file (removed when the store is dropped).
    pub fn new() -> Result<SpillStore, StoreError> {
        Ok(SpillStore {
            writer: Mutex::new(BufWriter::new(tempfile::tempfile().map_err(failed)?)),
            spots: Vec::new(),
            written: 0,
            sources: Vec::new(),
        })
    }

    /// Appends `event`, read from the source with id `source`; returns its key.
    pub fn push(&mut self, event: &Event, source: u64) -> Result<u64, StoreError> {
        let mut json = Vec::new();
        event.write_json(&mut json);
        let writer = self.writer.get_mut().map_err(failed)?;
        writer.write_all(&json).map_err(failed)?;
        let ts = event.timestamp().map_or(i64::MIN, |t| t.as_microsecond());
        self.spots.push(Spot {
            offset: self.written,
            len: json.len() as u32,
            source,
            ts,
        });
        self.written += json.len() as u64;
        Ok(self.spots.len() as u64 - 1)
    }

    /// Names the sources the pushed events' ids refer to.
    pub fn set_sources(&mut self, sources: Vec<Source>) {
        self.sources = sources;
    }

    /// The reference to the event [`SpillStore::push`] returned `key` for.
    pub fn reference(&self, key: u64) -> EventRef {
        EventRef::new(self.spots[key as usize].ts, key)
    }

    fn read(&self, key: usize) -> Result<(Event, u64), StoreError> {
        let spot = (self.spots.get(key))
            .ok_or_else(|| StoreError::new(format!("no event under key {key}")))?;
        let mut writer = self.writer.lock().map_err(failed)?;
        writer.flush().map_err(failed)?;
        let file = writer.get_mut();
        let mut json = vec![0; spot.len as usize];
        file.seek(SeekFrom::Start(spot.offset)).map_err(failed)?;
        file.read_exact(&mut json).map_err(failed)?;
        file.seek(SeekFrom::End(0)).map_err(failed)?;
        let text = std::str::from_utf8(&json).map_err(failed)?;
        Ok((Event::from_json(text).map_err(failed)?, spot.source))
    }
}

impl EventStore for SpillStore {
    fn num_events(&self) -> u64 {
        self.spots.len() as u64
    }

    fn generation(&self) -> String {
        format!("spill-{:p}-{}", self, self.spots.len())
    }

    fn holds(&self, r: EventRef) -> bool {
        (r.key as usize) < self.spots.len()
    }

    fn candidates(&self, p: &Prefilter) -> Result<Vec<EventRef>, StoreError> {
        let mut refs = Vec::new();
        for k in 0..self.spots.len() {
            if matches!(p, Prefilter::All) || p.accepts(&self.read(k)?.0) {
                refs.push(self.reference(k as u64));
            }
        }
        refs.sort_unstable();
        Ok(refs)
    }

    fn event(&self, r: EventRef) -> Result<(Event, u64), StoreError> {
        self.read(r.key as usize)
    }

    fn stats(&self) -> Result<Stats, StoreError> {
        let mut counter = StatsCounter::default();
        for k in 0..self.spots.len() {
            counter.add(&self.read(k)?.0);
        }
        Ok(counter.finish())
    }

    fn sources(&self) -> Result<Vec<Source>, StoreError> {
        Ok(self.sources.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;

    #[test]
    fn answers_as_the_same_events_held_in_memory() {
        let events: Vec<Event> = [
            &[
                ("Channel", "Security"),
                ("EventID", "4688"),
                ("Computer", "a"),
                ("TimeCreated_SystemTime", "2024-01-02T03:04:05.0000000Z"),
                ("NewProcessName", "C:\\x.exe"),
            ][..],
            &[
                ("Channel", "Microsoft-Windows-Sysmon/Operational"),
                ("EventID", "1"),
                ("Computer", "b"),
                ("TimeCreated_SystemTime", "2024-01-01T03:04:05.0000000Z"),
            ],
            &[("Channel", "Security"), ("EventID", "4624")],
        ]
        .iter()
        .map(|pairs| Event::from_pairs(pairs))
        .collect();
        let mut spill = SpillStore::new().unwrap();
        for e in &events {
            spill.push(e, 0).unwrap();
        }
        let memory = MemoryStore::new(events.iter().map(|e| (e.clone(), 0)).collect(), vec![]);
        let all = spill.candidates(&Prefilter::All).unwrap();
        assert_eq!(all, memory.candidates(&Prefilter::All).unwrap());
        for r in &all {
            assert_eq!(spill.event(*r).unwrap().0, memory.event(*r).unwrap().0);
        }
        assert_eq!(spill.stats().unwrap(), memory.stats().unwrap());
        // Appending after reading keeps both working.
        spill.push(&events[0], 0).unwrap();
        assert_eq!(
            spill.event(all[0]).unwrap().0,
            memory.event(all[0]).unwrap().0
        );
        assert_eq!(spill.num_events(), 4);
    }
}
