//! Compiles a [`Prefilter`] into a tantivy query over the case schema.
//!
//! Every translation must return a superset of the events the prefilter describes: when a
//! value cannot be looked up precisely (too short for trigrams, truncated in the index, a regex
//! tantivy cannot run) the query widens, never narrows. No regex query is ever built: their cost
//! grows with the dictionary, and the exact matcher does that work on far fewer events.

use super::keyword::{Scans, WordDictionary};
use super::schema::{self, Fields, MAX_VALUE_BYTES};
use crate::prefilter::Prefilter;
use std::ops::Bound;
use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, EmptyQuery, InvertedIndexRangeQuery, Occur, Query, RangeQuery,
    TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};

/// `words` is only read for keyword lookups, which search the word dictionary.
pub fn compile(f: &Fields, p: &Prefilter, words: &WordDictionary) -> Box<dyn Query> {
    match p {
        Prefilter::All => Box::new(AllQuery),
        Prefilter::Nothing => Box::new(EmptyQuery),
        Prefilter::Equals { field, value } => {
            let (field, value) = (schema::fold(field), schema::fold(value));
            if value.len() > MAX_VALUE_BYTES {
                return prefix(f.kv, &schema::kv_term(&field, &value));
            }
            term(f.kv, &schema::kv_term(&field, &value))
        }
        Prefilter::Prefix { field, prefix: pre } => {
            let (field, pre) = (schema::fold(field), schema::fold(pre));
            prefix(f.kv, &schema::kv_term(&field, &pre))
        }
        Prefilter::Suffix { field, suffix } => {
            let (field, suffix) = (schema::fold(field), schema::fold(suffix));
            prefix(f.kvr, &schema::kvr_term(&field, &suffix))
        }
        Prefilter::Contains { field, needle } => contains(f, field, needle, words),
        Prefilter::Exists { field } => term(f.ex, &schema::fold(field)),
        Prefilter::Regex { field, .. } => term(f.ex, &schema::fold(field)),
        Prefilter::AnyContains { needle } => super::keyword::compile(f, needle, words),
        Prefilter::TimeRange { from, to } => Box::new(RangeQuery::new(
            Bound::Included(Term::from_field_i64(f.ts, *from)),
            Bound::Included(Term::from_field_i64(f.ts, *to)),
        )),
        Prefilter::And(parts) => boolean(f, parts, Occur::Must, words),
        Prefilter::Or(parts) => boolean(f, parts, Occur::Should, words),
    }
}

fn boolean(
    f: &Fields,
    parts: &[Prefilter],
    occur: Occur,
    words: &WordDictionary,
) -> Box<dyn Query> {
    let clauses = parts
        .iter()
        .map(|p| (occur, compile(f, p, words)))
        .collect();
    Box::new(BooleanQuery::new(clauses))
}

fn term(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::Basic,
    ))
}

/// All terms starting with `text`, as a term-dictionary range scan (no regex state limits).
pub(super) fn prefix(field: Field, text: &str) -> Box<dyn Query> {
    let lower = Term::from_field_text(field, text);
    match successor(text) {
        Some(upper) => Box::new(InvertedIndexRangeQuery::new(
            Bound::Included(lower),
            Bound::Excluded(Term::from_field_text(field, &upper)),
        )),
        None => Box::new(InvertedIndexRangeQuery::new(
            Bound::Included(lower),
            Bound::Unbounded,
        )),
    }
}

/// The smallest string greater than every string starting with `s`.
fn successor(s: &str) -> Option<String> {
    let mut chars: Vec<char> = s.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = last as u32 + 1;
        if (0xD800..=0xDFFF).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

fn contains(f: &Fields, field: &str, raw_needle: &str, words: &WordDictionary) -> Box<dyn Query> {
    let (field, needle) = (schema::fold(field), schema::fold(raw_needle));
    if schema::is_ngram_field(&field) && needle.chars().count() >= 3 {
        let grams: Vec<(Occur, Box<dyn Query>)> = schema::trigrams(&needle)
            .map(|g| (Occur::Must, term(f.ng, &schema::ng_term(&field, &g))))
            .collect();
        // Values too long for trigrams are flagged instead and always checked.
        return Box::new(BooleanQuery::new(vec![
            (Occur::Should, Box::new(BooleanQuery::new(grams))),
            (Occur::Should, term(f.tr, &schema::ng_skipped(&field))),
        ]));
    }
    // A regex over the term dictionary costs seconds on large cases (measured: a rule with a
    // thousand hash substrings took over a minute). The needle's words, looked up in the word
    // field, are a sound superset over all fields; the field's presence scopes them. The word
    // lookup folds the needle itself, as it does for keywords.
    match super::keyword::lookup(f, raw_needle, words, Scans::Never) {
        Some(words) => Box::new(BooleanQuery::new(vec![
            (Occur::Must, term(f.ex, &field)),
            (Occur::Must, words),
        ])),
        None => term(f.ex, &field),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successor_orders_after_every_extension() {
        assert_eq!(successor("ab").as_deref(), Some("ac"));
        let s = successor("a\u{10FFFF}").unwrap();
        assert_eq!(s, "b");
        assert!("ab\u{10FFFF}zz" < successor("ab").unwrap().as_str());
    }
}
