//! Turns an [`Event`] into the tantivy document of the case schema.

use super::schema::{self, Fields, MAX_VALUE_BYTES};
use crate::event::{Event, Value};
use tantivy::TantivyDocument;

/// Builds the document for `event` read from source file number `file_id`.
pub fn to_document(f: &Fields, event: &Event, file_id: u64) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    let mut any_truncated = false;
    for (name, value) in &event.fields {
        if matches!(value, Value::Null) {
            continue; // absent for Sigma: no kv, no `ex`
        }
        let field = schema::fold(name);
        doc.add_text(f.ex, &field);
        let ngram = schema::is_ngram_field(&field);
        for raw in value.strings() {
            let v = schema::fold(raw);
            doc.add_text(f.kv, schema::kv_term(&field, &v));
            doc.add_text(f.kvr, schema::kvr_term(&field, &v));
            if v.len() > MAX_VALUE_BYTES {
                doc.add_text(f.tr, &field);
                any_truncated = true;
            }
            if ngram && v.len() > schema::NG_MAX_BYTES {
                doc.add_text(f.tr, schema::ng_skipped(&field));
            } else if ngram {
                // Cut into trigrams by the `ng` field's tokenizer.
                doc.add_text(f.ng, schema::ng_term(&field, &v));
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
    doc.add_text(f.event, event.to_json());
    doc
}
