//! Compiles a [`Prefilter`] into a tantivy query over the case schema.
//!
//! Every translation must return a superset of the events the prefilter describes: when a
//! value cannot be looked up precisely (too short for trigrams, truncated in the index, a regex
//! tantivy cannot run) the query widens, never narrows.

use super::schema::{self, Fields, MAX_VALUE_BYTES};
use crate::prefilter::Prefilter;
use std::ops::Bound;
use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, EmptyQuery, InvertedIndexRangeQuery, Occur, Query, RegexQuery,
    TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};

pub fn compile(f: &Fields, p: &Prefilter) -> Box<dyn Query> {
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
        Prefilter::Contains { field, needle } => contains(f, field, needle),
        Prefilter::Exists { field } => term(f.ex, &schema::fold(field)),
        Prefilter::Regex { field, .. } => term(f.ex, &schema::fold(field)),
        Prefilter::AnyContains { needle } => any_contains(f, needle),
        Prefilter::And(parts) => boolean(f, parts, Occur::Must),
        Prefilter::Or(parts) => boolean(f, parts, Occur::Should),
    }
}

fn boolean(f: &Fields, parts: &[Prefilter], occur: Occur) -> Box<dyn Query> {
    let clauses = parts.iter().map(|p| (occur, compile(f, p))).collect();
    Box::new(BooleanQuery::new(clauses))
}

fn term(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::Basic,
    ))
}

/// All terms starting with `text`, as a term-dictionary range scan (no regex state limits).
fn prefix(field: Field, text: &str) -> Box<dyn Query> {
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

fn contains(f: &Fields, field: &str, needle: &str) -> Box<dyn Query> {
    let (field, needle) = (schema::fold(field), schema::fold(needle));
    if needle.is_empty() {
        return term(f.ex, &field);
    }
    if schema::is_ngram_field(&field) && needle.chars().count() >= 3 {
        let grams: Vec<(Occur, Box<dyn Query>)> = schema::trigrams(&needle)
            .map(|g| (Occur::Must, term(f.ng, &schema::ng_term(&field, &g))))
            .collect();
        return Box::new(BooleanQuery::new(grams));
    }
    let pattern = format!("{}=.*{}.*", regex_escape(&field), regex_escape(&needle));
    either(regex(f.kv, &pattern), term(f.tr, &field))
}

fn any_contains(f: &Fields, needle: &str) -> Box<dyn Query> {
    let needle = schema::fold(needle);
    if needle.is_empty() {
        return Box::new(AllQuery);
    }
    let pattern = format!("[^=]*=.*{}.*", regex_escape(&needle));
    either(regex(f.kv, &pattern), term(f.tr, schema::ANY_TRUNCATED))
}

fn either(a: Box<dyn Query>, b: Box<dyn Query>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(vec![
        (Occur::Should, a),
        (Occur::Should, b),
    ]))
}

/// A regex over whole terms; falls back to every event when tantivy cannot build it.
fn regex(field: Field, pattern: &str) -> Box<dyn Query> {
    match RegexQuery::from_pattern(&format!("(?s){pattern}"), field) {
        Ok(q) => Box::new(q),
        Err(_) => Box::new(AllQuery),
    }
}

/// Escapes for tantivy-fst's regex dialect (same syntax as the `regex` crate).
fn regex_escape(s: &str) -> String {
    regex_syntax_escape(s)
}

fn regex_syntax_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
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
