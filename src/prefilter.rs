//! A tantivy-free description of an index search that returns a *superset* of the events a
//! matcher accepts.
//!
//! The Sigma compiler and the search-query language describe what the index may use to narrow
//! candidates; `index::query` turns it into a tantivy query. Keeping this type free of tantivy
//! lets the engine be tested without an index, and leaves every schema decision (how values are
//! lowercased, reversed, cut into trigrams or truncated) to the index alone.
//!
//! Contract: for every event `e` and matcher `m` that produced prefilter `p`,
//! `m.matches(e) ⇒ index_returns(p, e)`. A node that cannot narrow soundly must be `All`.
//! All string comparisons here are case-insensitive and literal (no wildcards, no escapes):
//! the producer has already unescaped Sigma values and split them at wildcards.

/// A candidate filter over indexed events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Prefilter {
    /// Every event: no narrowing possible.
    All,
    /// No event can match.
    Nothing,
    /// Some value of `field` equals `value` exactly (case-insensitively).
    Equals {
        field: String,
        value: String,
    },
    /// Some value of `field` starts with `prefix`.
    Prefix {
        field: String,
        prefix: String,
    },
    /// Some value of `field` ends with `suffix`.
    Suffix {
        field: String,
        suffix: String,
    },
    /// Some value of `field` contains `needle`.
    Contains {
        field: String,
        needle: String,
    },
    /// Some value of `field` matches this *unanchored* regex (Rust `regex` syntax). The index may
    /// answer `All` when it cannot run it.
    Regex {
        field: String,
        pattern: String,
    },
    /// The field is present with a non-null value (possibly empty).
    Exists {
        field: String,
    },
    /// Some value anywhere in the event contains `needle` (Sigma keywords).
    AnyContains {
        needle: String,
    },
    /// The event's time, in microseconds since the epoch, lies in `from..=to`.
    TimeRange {
        from: i64,
        to: i64,
    },
    And(Vec<Prefilter>),
    Or(Vec<Prefilter>),
}

impl Prefilter {
    /// Conjunction with the trivial cases folded away.
    pub fn and(parts: Vec<Prefilter>) -> Prefilter {
        let mut out = Vec::new();
        for p in parts {
            match p {
                Prefilter::All => {}
                Prefilter::Nothing => return Prefilter::Nothing,
                Prefilter::And(inner) => out.extend(inner),
                other => out.push(other),
            }
        }
        match out.len() {
            0 => Prefilter::All,
            1 => out.pop().unwrap_or(Prefilter::All),
            _ => Prefilter::And(out),
        }
    }

    /// Disjunction with the trivial cases folded away.
    pub fn or(parts: Vec<Prefilter>) -> Prefilter {
        let mut out = Vec::new();
        for p in parts {
            match p {
                Prefilter::All => return Prefilter::All,
                Prefilter::Nothing => {}
                Prefilter::Or(inner) => out.extend(inner),
                other => out.push(other),
            }
        }
        match out.len() {
            0 => Prefilter::Nothing,
            1 => out.pop().unwrap_or(Prefilter::Nothing),
            _ => Prefilter::Or(out),
        }
    }
}

impl Prefilter {
    /// Reference semantics of this contract over one event (case-insensitive via
    /// `str::to_lowercase`, field names ASCII case-insensitive, null = absent). For tests and
    /// index-free scans; the index implements the same contract with its own terms.
    pub fn accepts(&self, ev: &crate::event::Event) -> bool {
        let values = |field: &str| {
            let field = field.to_owned();
            ev.fields
                .iter()
                .filter(move |(n, _)| n.eq_ignore_ascii_case(&field))
                .flat_map(|(_, v)| v.strings())
                .map(str::to_lowercase)
        };
        match self {
            Prefilter::All => true,
            Prefilter::Nothing => false,
            Prefilter::Equals { field, value } => {
                let want = value.to_lowercase();
                values(field).any(|s| s == want)
            }
            Prefilter::Prefix { field, prefix } => {
                let want = prefix.to_lowercase();
                values(field).any(|s| s.starts_with(&want))
            }
            Prefilter::Suffix { field, suffix } => {
                let want = suffix.to_lowercase();
                values(field).any(|s| s.ends_with(&want))
            }
            Prefilter::Contains { field, needle } => {
                let want = needle.to_lowercase();
                values(field).any(|s| s.contains(&want))
            }
            Prefilter::Regex { field, pattern } => match regex::Regex::new(pattern) {
                Ok(re) => ev
                    .fields
                    .iter()
                    .filter(|(n, _)| n.eq_ignore_ascii_case(field))
                    .flat_map(|(_, v)| v.strings())
                    .any(|s| re.is_match(s) || re.is_match(&s.to_lowercase())),
                Err(_) => true,
            },
            Prefilter::Exists { field } => ev.fields.iter().any(|(n, v)| {
                n.eq_ignore_ascii_case(field) && !matches!(v, crate::event::Value::Null)
            }),
            Prefilter::AnyContains { needle } => {
                let want = needle.to_lowercase();
                ev.fields
                    .iter()
                    .flat_map(|(_, v)| v.strings())
                    .any(|s| s.to_lowercase().contains(&want))
            }
            Prefilter::TimeRange { from, to } => ev
                .timestamp()
                .is_some_and(|t| (*from..=*to).contains(&t.as_microsecond())),
            Prefilter::And(parts) => parts.iter().all(|p| p.accepts(ev)),
            Prefilter::Or(parts) => parts.iter().any(|p| p.accepts(ev)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eq(f: &str, v: &str) -> Prefilter {
        Prefilter::Equals {
            field: f.into(),
            value: v.into(),
        }
    }

    #[test]
    fn folding() {
        assert_eq!(
            Prefilter::and(vec![Prefilter::All, eq("a", "1")]),
            eq("a", "1")
        );
        assert_eq!(
            Prefilter::and(vec![Prefilter::Nothing, eq("a", "1")]),
            Prefilter::Nothing
        );
        assert_eq!(
            Prefilter::or(vec![Prefilter::All, eq("a", "1")]),
            Prefilter::All
        );
        assert_eq!(Prefilter::or(vec![]), Prefilter::Nothing);
        assert_eq!(Prefilter::and(vec![]), Prefilter::All);
    }
}
