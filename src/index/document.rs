//! Turns an [`Event`] into the tantivy document of the case schema.

use super::schema::{self, Fields, MAX_VALUE_BYTES};
use crate::event::{Event, Value};
use tantivy::TantivyDocument;

/// Builds documents for one reader thread. Terms and the stored JSON are built in buffers
/// reused across events (`add_text` copies them into the document): one allocation per term
/// and the regrowth of every document were a large share of ingest.
pub struct DocumentBuilder<'a> {
    fields: &'a Fields,
    field: String,
    value: String,
    term: String,
    json: Vec<u8>,
    /// Size of the previous document's data, so the next one is allocated once.
    last_size: usize,
}

impl<'a> DocumentBuilder<'a> {
    pub fn new(fields: &'a Fields) -> Self {
        DocumentBuilder {
            fields,
            field: String::new(),
            value: String::new(),
            term: String::new(),
            json: Vec::new(),
            last_size: 0,
        }
    }

    /// The document for `event` read from source file number `file_id`.
    pub fn build(&mut self, event: &Event, file_id: u64) -> TantivyDocument {
        let f = self.fields;
        let mut doc = TantivyDocument::with_capacity(self.last_size + self.last_size / 4);
        let mut size = 0usize;
        let mut any_truncated = false;
        let (field, v, term) = (&mut self.field, &mut self.value, &mut self.term);
        for (name, value) in &event.fields {
            if matches!(value, Value::Null) {
                continue; // absent for Sigma: no kv, no `ex`
            }
            schema::fold_into(name, field);
            add(&mut doc, &mut size, f.ex, &*field);
            let ngram = schema::is_ngram_field(field);
            for raw in value.strings() {
                schema::fold_into(raw, v);
                schema::kv_term_into(field, v, term);
                add(&mut doc, &mut size, f.kv, &*term);
                schema::kvr_term_into(field, v, term);
                add(&mut doc, &mut size, f.kvr, &*term);
                if v.len() > MAX_VALUE_BYTES {
                    add(&mut doc, &mut size, f.tr, &*field);
                    any_truncated = true;
                }
                if ngram && v.len() > schema::NG_MAX_BYTES {
                    add(&mut doc, &mut size, f.tr, schema::ng_skipped(field));
                } else if ngram {
                    // Cut into trigrams by the `ng` field's tokenizer.
                    schema::ng_term_into(field, v, term);
                    add(&mut doc, &mut size, f.ng, &*term);
                }
                if schema::has_long_word(raw) {
                    add(&mut doc, &mut size, f.tr, schema::LONG_WORD);
                }
                add(&mut doc, &mut size, f.text, raw);
            }
        }
        if any_truncated {
            add(&mut doc, &mut size, f.tr, schema::ANY_TRUNCATED);
        }
        let ts = event.timestamp().map_or(i64::MIN, |t| t.as_microsecond());
        doc.add_i64(f.ts, ts);
        doc.add_u64(f.eid, event.event_id().unwrap_or(u64::MAX));
        doc.add_u64(f.file, file_id);
        doc.add_u64(f.rid, event.record_id().unwrap_or(0));
        add(&mut doc, &mut size, f.channel, event.channel());
        add(&mut doc, &mut size, f.computer, event.computer());
        add(&mut doc, &mut size, f.provider, event.provider());
        self.json.clear();
        event.write_json(&mut self.json);
        add(
            &mut doc,
            &mut size,
            f.event,
            String::from_utf8_lossy(&self.json),
        );
        self.last_size = size;
        doc
    }
}

/// Adds a text value, counting the bytes it takes in the document.
fn add(
    doc: &mut TantivyDocument,
    size: &mut usize,
    field: tantivy::schema::Field,
    text: impl AsRef<str>,
) {
    let text = text.as_ref();
    // Each value is stored with a short header (type and length).
    *size += text.len() + 8;
    doc.add_text(field, text);
}
