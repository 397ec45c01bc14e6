//! Keyword (`AnyContains`) lookups over the `text` field's word dictionary.
//!
//! The `text` field holds every value cut into lowercased alphanumeric words. An ASCII needle
//! such as `net user /add` splits into words the same way; a word bounded on both sides inside
//! the needle (`user`) must be a whole word of the event, the first word must end some event
//! word, the last must start one, and a needle that is a single open word must sit inside one.
//! Whole words and prefixes are term lookups; suffixes and infixes scan the dictionary, which
//! grows with distinct words, not events. Words over the analyzer's length limit are not indexed,
//! so events holding one are always candidates (`tr` marker [`LONG_WORD`]).

use super::schema::{Fields, LONG_WORD, TEXT_MAX_WORD};
use std::collections::BTreeSet;
use std::sync::OnceLock;
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Searcher, Term};

/// More matching dictionary words than this and the lookup gives up (answers "all events").
const MAX_SCANNED_TERMS: usize = 4096;

/// A word dictionary larger than this is not held in memory; each lookup streams it instead.
const MAX_HELD_WORDS_BYTES: usize = 64 << 20;

/// The word dictionary of one snapshot, read on the first suffix or infix lookup and kept:
/// every distinct word of every segment, sorted, each ended by a newline. A scan of all SigmaHQ
/// rules looks up hundreds of keyword needles; streaming every segment's dictionary for each
/// took about a fifth of the scan, where a memory search of the distinct words takes
/// microseconds.
pub struct WordDictionary {
    searcher: Searcher,
    field: Field,
    /// `None` when the dictionary is too large to hold.
    joined: OnceLock<Option<String>>,
}

impl WordDictionary {
    pub fn new(searcher: Searcher, field: Field) -> WordDictionary {
        WordDictionary {
            searcher,
            field,
            joined: OnceLock::new(),
        }
    }

    fn joined(&self) -> Option<&str> {
        self.joined.get_or_init(|| self.read()).as_deref()
    }

    /// Hands every dictionary word of every segment to `take` until it answers `false`;
    /// `None` when a dictionary cannot be read or `take` stopped.
    fn each_word(&self, mut take: impl FnMut(&str) -> bool) -> Option<()> {
        for segment in self.searcher.segment_readers() {
            let index = segment.inverted_index(self.field).ok()?;
            let mut stream = index.terms().stream().ok()?;
            while stream.advance() {
                // Text terms are UTF-8 words; anything else cannot equal an ASCII word.
                if let Ok(key) = std::str::from_utf8(stream.key())
                    && !take(key)
                {
                    return None;
                }
            }
        }
        Some(())
    }

    fn read(&self) -> Option<String> {
        let mut words: BTreeSet<String> = BTreeSet::new();
        let mut bytes = 0usize;
        self.each_word(|key| {
            if !key.contains('\n') && !words.contains(key) {
                bytes += key.len() + 1;
                words.insert(key.to_owned());
            }
            bytes <= MAX_HELD_WORDS_BYTES
        })?;
        let mut joined = String::with_capacity(bytes);
        for w in words {
            joined.push_str(&w);
            joined.push('\n');
        }
        Some(joined)
    }

    /// Dictionary words ending with (`suffix`) or containing `w`; `None` if there are too many.
    fn matching(&self, w: &str, suffix: bool) -> Option<BTreeSet<String>> {
        if let Some(joined) = self.joined() {
            return words_in(joined, w, suffix);
        }
        // Too large to hold: stream every segment's dictionary.
        let mut found: BTreeSet<String> = BTreeSet::new();
        self.each_word(|key| {
            if (suffix && key.ends_with(w)) || (!suffix && key.contains(w)) {
                found.insert(key.to_owned());
            }
            found.len() <= MAX_SCANNED_TERMS
        })?;
        Some(found)
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Word {
    Whole(String),
    Suffix(String),
    Prefix(String),
    Infix(String),
}

/// The words of `needle` and where each must appear; `None` when nothing sound can be said.
fn words(needle: &str) -> Option<Vec<Word>> {
    if !needle.is_ascii() {
        return None; // Unicode lowercasing differs between tantivy and the matcher
    }
    let lower = needle.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let w = lower[start..i].to_owned();
        if w.len() > TEXT_MAX_WORD {
            continue; // never indexed; the long-word marker covers it
        }
        out.push(match (start > 0, i < bytes.len()) {
            (true, true) => Word::Whole(w),
            (false, true) => Word::Suffix(w),
            (true, false) => Word::Prefix(w),
            (false, false) => Word::Infix(w),
        });
    }
    (!out.is_empty()).then_some(out)
}

/// Events with some value containing `needle` (Sigma keywords).
pub fn compile(f: &Fields, needle: &str, words: &WordDictionary) -> Box<dyn Query> {
    lookup(f, needle, words, Scans::Always).unwrap_or_else(|| Box::new(AllQuery))
}

/// Which lookups a needle may cost.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Scans {
    /// Suffixes and infixes scan the word dictionary (tens of milliseconds per needle on a
    /// million events).
    Always,
    /// Only whole words and prefixes of three or more characters. For a field-scoped
    /// `contains`, which the field's presence and the rule's other terms already narrow: a
    /// rule lists up to hundreds of needles, and a scan each (or a range over every word
    /// starting with `c` for `/c`) cost more than checking the candidates.
    Never,
}

/// Events whose words can hold `needle`: a superset of the events with a value containing it.
/// `None` when the words cannot narrow at all.
pub fn lookup(
    f: &Fields,
    needle: &str,
    words: &WordDictionary,
    scans: Scans,
) -> Option<Box<dyn Query>> {
    let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for w in lookups(needle, scans)? {
        let q: Box<dyn Query> = match w {
            Word::Whole(w) => term(f, &w),
            Word::Prefix(w) => super::query::prefix(f.text, &w),
            Word::Suffix(w) => match words.matching(&w, true) {
                Some(found) => any_of(f, found),
                None => continue,
            },
            Word::Infix(w) => match words.matching(&w, false) {
                Some(found) => any_of(f, found),
                None => continue,
            },
        };
        must.push((Occur::Must, q));
    }
    if must.is_empty() {
        return None;
    }
    let long_word = Box::new(TermQuery::new(
        Term::from_field_text(f.tr, LONG_WORD),
        IndexRecordOption::Basic,
    ));
    Some(Box::new(BooleanQuery::new(vec![
        (Occur::Should, Box::new(BooleanQuery::new(must))),
        (Occur::Should, long_word),
    ])))
}

/// The words of `needle` worth looking up under `scans`.
fn lookups(needle: &str, scans: Scans) -> Option<Vec<Word>> {
    let mut words = words(needle)?;
    if scans == Scans::Never {
        words.retain(|w| match w {
            Word::Whole(_) => true,
            Word::Prefix(p) => p.len() >= 3,
            Word::Suffix(_) | Word::Infix(_) => false,
        });
    }
    Some(words)
}

fn term(f: &Fields, word: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(f.text, word),
        IndexRecordOption::Basic,
    ))
}

/// The words of `joined` (each ended by a newline) ending with (`suffix`) or containing `w`;
/// `None` if there are more than [`MAX_SCANNED_TERMS`].
fn words_in(joined: &str, w: &str, suffix: bool) -> Option<BTreeSet<String>> {
    let bytes = joined.as_bytes();
    // A suffix is the needle followed by the newline that ends a word. The search does not
    // report overlapping matches, which is fine: one match per word is all that counts,
    // and no match can run into the next word.
    let pattern = if suffix {
        format!("{w}\n")
    } else {
        w.to_owned()
    };
    let mut found = BTreeSet::new();
    let mut word_end = 0;
    for at in memchr::memmem::find_iter(bytes, pattern.as_bytes()) {
        if at < word_end {
            continue; // another occurrence inside a word already taken
        }
        let end = at + memchr::memchr(b'\n', &bytes[at..]).unwrap_or(bytes.len() - at);
        let start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |p| p + 1);
        found.insert(joined[start..end].to_owned());
        if found.len() > MAX_SCANNED_TERMS {
            return None;
        }
        word_end = end;
    }
    Some(found)
}

/// Any of the dictionary words found, as a disjunction.
fn any_of(f: &Fields, found: BTreeSet<String>) -> Box<dyn Query> {
    let clauses = found
        .into_iter()
        .map(|t| (Occur::Should, term(f, &t)))
        .collect();
    Box::new(BooleanQuery::new(clauses))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needle_words_know_which_ends_are_bounded() {
        assert_eq!(
            words("Net user /ADD"),
            Some(vec![
                Word::Suffix("net".into()),
                Word::Whole("user".into()),
                Word::Prefix("add".into()),
            ])
        );
        assert_eq!(
            words("mimikatz"),
            Some(vec![Word::Infix("mimikatz".into())])
        );
        assert_eq!(words(" -enc "), Some(vec![Word::Whole("enc".into())]));
        assert_eq!(words("\\\\"), None);
        assert_eq!(words("straße"), None);
    }

    #[test]
    fn dictionary_words_are_found_by_suffix_and_infix_even_when_matches_overlap() {
        let joined = "34ccd7200000\na0000b\nx0000\n0000\n";
        let found = |w, suffix| {
            words_in(joined, w, suffix)
                .unwrap()
                .into_iter()
                .collect::<Vec<_>>()
        };
        assert_eq!(found("0000", true), ["0000", "34ccd7200000", "x0000"]);
        assert_eq!(
            found("0000", false),
            ["0000", "34ccd7200000", "a0000b", "x0000"]
        );
        assert_eq!(found("ccd", false), ["34ccd7200000"]);
        assert!(found("zz", false).is_empty());
    }

    #[test]
    fn scoped_lookups_skip_scans_and_short_prefixes() {
        assert_eq!(
            lookups("IMPHASH=D87297A9", Scans::Never),
            Some(vec![Word::Prefix("d87297a9".into())])
        );
        assert_eq!(lookups("/c", Scans::Never), Some(vec![]));
        assert_eq!(lookups("powershell", Scans::Never), Some(vec![]));
        assert_eq!(lookups("/c", Scans::Always).map(|w| w.len()), Some(1));
    }
}
