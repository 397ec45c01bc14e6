//! Bounds how many documents wait inside tantivy's index writer.
//!
//! Tantivy queues up to 10,000 *batches* between `IndexWriter::run` and its indexing threads.
//! Ingest hands over batches of 256, so if reading outran indexing (an indexing thread pauses to
//! write its segment, or parsing is simply faster on some machine) that queue could hold millions
//! of documents. Each document carries a slot that is given back when tantivy drops it, that is
//! once it is indexed, so the count of documents handed over and not yet indexed is exact.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tantivy::TantivyDocument;
use tantivy::schema::document::Document;

/// Documents handed to the writer and not yet indexed.
#[derive(Clone, Default)]
pub struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    /// Wraps `doc` so that it counts until tantivy drops it.
    pub fn track(&self, doc: TantivyDocument) -> Tracked {
        self.0.fetch_add(1, Ordering::AcqRel);
        Tracked {
            doc,
            _slot: Slot(self.0.clone()),
        }
    }

    pub fn count(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }

    /// Blocks until at most `limit` documents are in flight. If every indexing thread stopped,
    /// tantivy's queue is dropped with its documents, so this cannot wait forever.
    pub fn wait_until_at_most(&self, limit: usize) {
        while self.count() > limit {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A case document that counts as in flight until tantivy has indexed and dropped it.
pub struct Tracked {
    doc: TantivyDocument,
    _slot: Slot,
}

impl Document for Tracked {
    type Value<'a>
        = <TantivyDocument as Document>::Value<'a>
    where
        Self: 'a;
    type FieldsValuesIter<'a>
        = <TantivyDocument as Document>::FieldsValuesIter<'a>
    where
        Self: 'a;

    fn iter_fields_and_values(&self) -> Self::FieldsValuesIter<'_> {
        self.doc.iter_fields_and_values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_count_until_dropped() {
        let in_flight = InFlight::default();
        let a = in_flight.track(TantivyDocument::default());
        let b = in_flight.track(TantivyDocument::default());
        assert_eq!(in_flight.count(), 2);
        let waiter = {
            let in_flight = in_flight.clone();
            std::thread::spawn(move || in_flight.wait_until_at_most(0))
        };
        drop(a);
        assert_eq!(in_flight.count(), 1);
        std::thread::sleep(Duration::from_millis(20));
        assert!(!waiter.is_finished(), "one document is still in flight");
        drop(b);
        waiter.join().unwrap();
        assert_eq!(in_flight.count(), 0);
    }
}
