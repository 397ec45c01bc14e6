//! The case index schema and the exact form of every indexed term.
//!
//! One raw field holds `field=value` terms (both lowercased), so exact matches are a
//! `TermQuery` and prefixes a term-range scan. `kvr` holds values reversed, turning `endswith`
//! into a prefix scan. `ng` holds field-scoped trigrams of long free-text fields so `contains`
//! needs no regex over the dictionary. Lowercasing is always [`fold`], on both the indexing and
//! the query side, because tantivy's `LowerCaser` differs from Unicode lowercasing (final sigma).

use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer};

/// Longest value indexed whole; longer ones are cut and flagged in `tr` (tantivy silently drops
/// terms over 65,530 bytes). The exact matcher always sees the whole stored value.
pub const MAX_VALUE_BYTES: usize = 512;
/// Values longer than this get no trigrams (a long script block would add thousands of terms
/// per event); a `tr` marker from [`ng_skipped`] makes such events candidates for every
/// `contains` on that field instead.
pub const NG_MAX_BYTES: usize = 4096;
/// Longest word the `text` analyzer keeps (the default 40 would drop SHA-256 hashes).
pub const TEXT_MAX_WORD: usize = 255;
/// Marker in `tr` meaning "some value of this event has a word longer than [`TEXT_MAX_WORD`]".
pub const LONG_WORD: &str = "\u{1f}longword";
/// Separates the field name from a trigram in `ng` terms.
pub const NG_SEP: char = '\u{1f}';
/// Marker in `tr` meaning "some value of this event was truncated".
pub const ANY_TRUNCATED: &str = "\u{1f}any";
/// Name of our full-text analyzer: words, lowercased, long tokens kept up to 255 bytes
/// (the default drops anything over 40, losing SHA-256 hashes and base64 blobs).
pub const TEXT_ANALYZER: &str = "huntbench_text";

/// Free-text fields that get trigrams, by lowercased name. Other fields answer `contains` from
/// the word field. `Hashes` was a quarter of all trigrams (27 of 103 per event on the corpus),
/// and its needles (`IMPHASH=…`, `SHA256=…`) always hold a long word start to look up.
pub const NGRAM_FIELDS: &[&str] = &[
    "commandline",
    "parentcommandline",
    "scriptblocktext",
    "targetfilename",
    "image",
    "parentimage",
    "newprocessname",
    "parentprocessname",
    "targetobject",
    "details",
    "payload",
    "queryname",
    "imageloaded",
    "imagepath",
    "servicefilename",
    "contextinfo",
    "data",
    "relativetargetname",
    "objectname",
    "hostapplication",
    "destinationhostname",
    "sourceimage",
    "targetimage",
    "processname",
    "path",
    "pipename",
];

#[derive(Clone, Debug)]
pub struct Fields {
    pub kv: Field,
    pub kvr: Field,
    pub ng: Field,
    /// Lowercased names of fields present with a non-null value.
    pub ex: Field,
    /// Lowercased names of fields whose value was truncated in `kv`/`kvr`.
    pub tr: Field,
    pub text: Field,
    pub ts: Field,
    pub eid: Field,
    pub file: Field,
    pub rid: Field,
    pub channel: Field,
    pub computer: Field,
    pub provider: Field,
    /// The whole event as compact JSON (zstd-compressed docstore).
    pub event: Field,
    /// The record's digest (`dedup::record_digest`), high half: indexed, so a copy taken over
    /// by another source can be deleted by it; absent without an EventRecordID.
    pub dk: Field,
    /// The digest's low half.
    pub dk2: Field,
}

pub fn build_schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let raw = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("raw")
            .set_index_option(IndexRecordOption::Basic)
            .set_fieldnorms(false),
    );
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TEXT_ANALYZER)
            .set_index_option(IndexRecordOption::Basic)
            .set_fieldnorms(false),
    );
    let fields = Fields {
        kv: b.add_text_field("kv", raw.clone()),
        kvr: b.add_text_field("kvr", raw.clone()),
        ng: b.add_text_field(
            "ng",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(super::tokenizer::NAME)
                    .set_index_option(IndexRecordOption::Basic)
                    .set_fieldnorms(false),
            ),
        ),
        ex: b.add_text_field("ex", raw.clone()),
        tr: b.add_text_field("tr", raw),
        text: b.add_text_field("text", text),
        ts: b.add_i64_field("ts", FAST | INDEXED),
        eid: b.add_u64_field("eid", FAST | INDEXED),
        file: b.add_u64_field("file", FAST | INDEXED | STORED),
        rid: b.add_u64_field("rid", FAST),
        channel: b.add_text_field("channel", STRING | FAST),
        computer: b.add_text_field("computer", STRING | FAST),
        provider: b.add_text_field("provider", STRING | FAST),
        event: b.add_text_field("event", STORED),
        dk: b.add_u64_field("dk", FAST | INDEXED),
        dk2: b.add_u64_field("dk2", FAST),
    };
    (b.build(), fields)
}

pub fn text_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(TEXT_MAX_WORD + 1))
        .filter(LowerCaser)
        .build()
}

/// The one case-folding used for every term, indexed or queried.
pub fn fold(s: &str) -> String {
    let mut out = String::new();
    fold_into(s, &mut out);
    out
}

/// [`fold`] into a reused buffer (ingest builds a hundred terms per event).
pub fn fold_into(s: &str, out: &mut String) {
    out.clear();
    if s.is_ascii() {
        out.push_str(s);
        out.make_ascii_lowercase();
    } else {
        out.push_str(&s.to_lowercase());
    }
}

/// Cuts `s` to at most `max` bytes on a char boundary.
pub fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `field=value` as stored in `kv` (inputs already folded).
pub fn kv_term(field: &str, value: &str) -> String {
    let mut out = String::new();
    kv_term_into(field, value, &mut out);
    out
}

pub fn kv_term_into(field: &str, value: &str, out: &mut String) {
    out.clear();
    out.push_str(field);
    out.push('=');
    out.push_str(truncate(value, MAX_VALUE_BYTES));
}

/// `field=eulav` as stored in `kvr`: the value's last bytes, reversed.
pub fn kvr_term(field: &str, value: &str) -> String {
    let mut out = String::new();
    kvr_term_into(field, value, &mut out);
    out
}

pub fn kvr_term_into(field: &str, value: &str, out: &mut String) {
    out.clear();
    out.push_str(field);
    out.push('=');
    let limit = out.len() + MAX_VALUE_BYTES;
    for c in value.chars().rev() {
        if out.len() + c.len_utf8() > limit {
            break;
        }
        out.push(c);
    }
}

pub fn is_ngram_field(folded_field: &str) -> bool {
    NGRAM_FIELDS.contains(&folded_field)
}

/// The distinct trigrams of a folded value, by characters.
pub fn trigrams(value: &str) -> impl Iterator<Item = String> {
    let chars: Vec<char> = value.chars().collect();
    let mut seen = std::collections::HashSet::new();
    let grams: Vec<String> = chars
        .windows(3)
        .map(|w| w.iter().collect::<String>())
        .filter(|g| seen.insert(g.clone()))
        .collect();
    grams.into_iter()
}

/// The `tr` marker of a field whose value was too long for trigrams.
pub fn ng_skipped(field: &str) -> String {
    format!("ng{NG_SEP}{field}")
}

/// Whether the `text` analyzer drops a word of `raw` for being too long.
pub fn has_long_word(raw: &str) -> bool {
    raw.len() > TEXT_MAX_WORD
        && raw
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| w.len() > TEXT_MAX_WORD)
}

pub fn ng_term(field: &str, gram: &str) -> String {
    let mut out = String::new();
    ng_term_into(field, gram, &mut out);
    out
}

pub fn ng_term_into(field: &str, gram: &str, out: &mut String) {
    out.clear();
    out.push_str(field);
    out.push(NG_SEP);
    out.push_str(gram);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_have_the_documented_shape() {
        assert_eq!(kv_term("image", "c:\\a.exe"), "image=c:\\a.exe");
        assert_eq!(kvr_term("image", "abc"), "image=cba");
        assert_eq!(fold("ΟΔΟΣ"), "οδος");
        assert_eq!(fold("C:\\Windows\\CMD.exe"), "c:\\windows\\cmd.exe");
        let reversed: String = "aé\u{10348}z".chars().rev().collect();
        assert_eq!(kvr_term("f", "aé\u{10348}z"), format!("f={reversed}"));
        assert_eq!(truncate("héllo", 2), "h");
        let grams: Vec<String> = trigrams("aaaa").collect();
        assert_eq!(grams, ["aaa"]);
        assert_eq!(trigrams("ab").count(), 0);
    }

    #[test]
    fn long_values_keep_their_suffix_in_kvr() {
        let long = format!("{}TAIL", "x".repeat(MAX_VALUE_BYTES * 2));
        let t = kvr_term("f", &fold(&long));
        assert!(t.starts_with("f=liat"));
        assert!(t.len() <= MAX_VALUE_BYTES + 2);
    }
}
