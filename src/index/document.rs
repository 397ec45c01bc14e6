//! Turns an [`Event`] into the tantivy document of the case schema.

use super::schema::{self, Fields, MAX_VALUE_BYTES};
use crate::event::{Event, Value};
use tantivy::TantivyDocument;

/// Builds documents for one reader thread. Terms and the stored JSON are built in buffers
/// reused across events (`add_text` copies them into the document): one allocation per term
/// was a large share of ingest.
pub struct DocumentBuilder<'a> {
    fields: &'a Fields,
    field: String,
    value: String,
    term: String,
    json: Vec<u8>,
}

impl<'a> DocumentBuilder<'a> {
    pub fn new(fields: &'a Fields) -> Self {
        DocumentBuilder {
            fields,
            field: String::new(),
            value: String::new(),
            term: String::new(),
            json: Vec::new(),
        }
    }

    /// The document for `event` read from source file number `file_id`, with its record
    /// digest (`dedup::record_digest`) when it has one.
    pub fn build(&mut self, event: &Event, file_id: u64, digest: Option<u128>) -> TantivyDocument {
        let f = self.fields;
        let mut doc = TantivyDocument::default();
        let mut any_truncated = false;
        let (field, v, term) = (&mut self.field, &mut self.value, &mut self.term);
        for (name, value) in &event.fields {
            if matches!(value, Value::Null) {
                continue; // absent for Sigma: no kv, no `ex`
            }
            schema::fold_into(name, field);
            doc.add_text(f.ex, &*field);
            let ngram = schema::is_ngram_field(field);
            for raw in value.strings() {
                schema::fold_into(raw, v);
                schema::kv_term_into(field, v, term);
                doc.add_text(f.kv, &*term);
                schema::kvr_term_into(field, v, term);
                doc.add_text(f.kvr, &*term);
                if v.len() > MAX_VALUE_BYTES {
                    doc.add_text(f.tr, &*field);
                    any_truncated = true;
                }
                if ngram && v.len() > schema::NG_MAX_BYTES {
                    doc.add_text(f.tr, schema::ng_skipped(field));
                } else if ngram {
                    // Cut into trigrams by the `ng` field's tokenizer.
                    schema::ng_term_into(field, v, term);
                    doc.add_text(f.ng, &*term);
                }
                if schema::has_long_word(raw) {
                    doc.add_text(f.tr, schema::LONG_WORD);
                }
                doc.add_text(f.text, raw);
            }
        }
        if any_truncated {
            doc.add_text(f.tr, schema::ANY_TRUNCATED);
        }
        let ts = event.timestamp().map_or(i64::MIN, |t| t.as_microsecond());
        doc.add_i64(f.ts, ts);
        doc.add_u64(f.eid, event.event_id().unwrap_or(u64::MAX));
        doc.add_u64(f.file, file_id);
        doc.add_u64(f.rid, event.record_id().unwrap_or(0));
        doc.add_text(f.channel, event.channel());
        doc.add_text(f.computer, event.computer());
        doc.add_text(f.provider, event.provider());
        if let Some(d) = digest {
            let (hi, lo) = super::dedup::halves(d);
            doc.add_u64(f.dk, hi);
            doc.add_u64(f.dk2, lo);
        }
        self.json.clear();
        event.write_json(&mut self.json);
        doc.add_text(f.event, String::from_utf8_lossy(&self.json));
        doc
    }
}
