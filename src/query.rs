//! The search language of `huntbench search` and the TUI search bar.
//!
//! ```text
//! Image=*\cmd.exe AND NOT User IN ("NT AUTHORITY\SYSTEM", bob) OR KeyLength>=1024 mimikatz
//! ```
//! - `field=value` / `field!=value`: Sigma whole-value match, case-insensitive, with `*`, `?`
//!   and the `\` escapes of Sigma; `!=` is true when the field is absent (like Sigma `neq`).
//! - `field IN (a, b)`, `field<n`, `>`, `<=`, `>=` (numeric; non-numbers never match).
//! - `field|re=pattern` (also `!=` and `IN`): a case-insensitive regular expression found in
//!   the value; the prefilter only asks for the field.
//! - A field the event lacks is read through the logsource mapping's aliases, as rules read it
//!   (`Image` on a 4688 is its `NewProcessName`).
//! - `time>=2024-03-12T07:40`, `<`, `>`, `<=`: bounds on the event time (UTC), only as terms
//!   ANDed at the top level: they narrow the whole query (a Sigma rule cannot hold them).
//! - `AND`, `OR`, `NOT` (any case), parentheses; adjacent terms are ANDed.
//! - A bare word or a `"quoted string"` alone is a keyword: case-insensitive contains over every
//!   value of the event. Quoted strings may hold spaces, newlines and `\"`.
//!
//! It is a front-end onto the Sigma machinery: a query compiles to the same
//! [`crate::sigma::matcher`] items (so matching is identical) and the same prefilter compiler.

mod lexer;
mod parser;

use std::fmt;

use crate::event::Event;
use crate::prefilter::Prefilter;
use crate::sigma::Level;
use crate::sigma::mapping::{FieldRef, Mapping};
use crate::sigma::matcher::{CmpOp, Detection, Item, MatchDetail, Node, Test};
use crate::sigma::prefilter_build::detection_prefilter;
use crate::sigma::rule::SAVED_SEARCH;
use crate::sigma::value::{SigmaString, StrMatcher};

pub use lexer::Op;

/// A parse error at a 1-based character column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError {
    pub column: usize,
    pub message: String,
}

impl QueryError {
    fn new(col0: usize, message: impl Into<String>) -> QueryError {
        QueryError {
            column: col0 + 1,
            message: message.into(),
        }
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for QueryError {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpKind {
    Eq,
    Ne,
}

/// The parsed query (values in Sigma string syntax).
#[derive(Clone, Debug, PartialEq)]
pub enum Ast {
    And(Vec<Ast>),
    Or(Vec<Ast>),
    Not(Box<Ast>),
    /// `field=v`, `field!=v`, `field IN (v, …)`.
    Cmp {
        field: String,
        kind: CmpKind,
        values: Vec<String>,
    },
    /// `field<n` and friends.
    Num {
        field: String,
        op: Op,
        n: f64,
        text: String,
    },
    Keyword(String),
    /// `field|re=pattern`, `field|re!=pattern`, `field|re IN (p, …)`: a regular expression (Rust
    /// `regex` syntax, case-insensitive, unanchored) found in the value.
    Regex {
        field: String,
        negate: bool,
        patterns: Vec<String>,
    },
    /// `time<…` and friends: a bound on the event time (µs since the epoch), only as a term
    /// ANDed at the top level (it narrows the whole query, and Sigma has no such construct).
    Time {
        op: Op,
        /// Nanoseconds since the epoch (event times have 100 ns steps).
        at: i128,
        col: usize,
    },
}

/// A compiled search query.
#[derive(Clone, Debug)]
pub struct Query {
    /// The query without its time bounds.
    pub ast: Ast,
    detection: Detection,
    /// Inclusive bounds on the event time (ns), from `time` terms.
    window: Option<(i128, i128)>,
    /// [`Query::logsource`], read when parsed.
    logsource: Option<(&'static str, String)>,
}

/// Parses and compiles a query, reading fields through the bundled logsource mapping.
pub fn parse(text: &str) -> Result<Query, QueryError> {
    parse_with(text, crate::sigma::mapping::builtin_shared())
}

/// Parses and compiles a query, reading fields through `mapping` (the one the rules load
/// with, which the user's `mapping.yml` may replace), so a search reads `Image` on a 4688 as
/// the rules do. Without a mapping, every field is read under its own name only.
pub fn parse_with(text: &str, mapping: Option<&Mapping>) -> Result<Query, QueryError> {
    let toks = lexer::lex(text)?;
    let ast = parser::Parser::new(toks, text.chars().count()).parse()?;
    let (ast, window) = split_time(ast)?;
    let condition = compile(&ast, mapping);
    let logsource = mapping.and_then(|m| logsource(&ast, m));
    Ok(Query {
        ast,
        detection: Detection {
            selections: Vec::new(),
            condition,
        },
        window,
        logsource,
    })
}

/// A time as an analyst writes it: RFC 3339, without zone (UTC), or a date (its midnight UTC).
fn parse_time(text: &str) -> Option<i128> {
    let ts = crate::event::parse_timestamp(text).or_else(|| {
        let date: jiff::civil::Date = text.trim().parse().ok()?;
        date.to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp())
    })?;
    Some(ts.as_nanosecond())
}

/// Takes the `time` bounds out of the top-level AND; anywhere else they are an error.
fn split_time(ast: Ast) -> Result<(Ast, Option<(i128, i128)>), QueryError> {
    let parts = match ast {
        Ast::And(parts) => parts,
        other => vec![other],
    };
    let (mut from, mut to, mut bounded) = (i128::MIN, i128::MAX, false);
    let mut rest = Vec::new();
    for part in parts {
        match part {
            Ast::Time { op, at, .. } => {
                bounded = true;
                match op {
                    Op::Gt => from = from.max(at.saturating_add(1)),
                    Op::Ge => from = from.max(at),
                    Op::Lt => to = to.min(at.saturating_sub(1)),
                    Op::Le => to = to.min(at),
                    Op::Eq | Op::Ne => {}
                }
            }
            other => {
                if let Some(col) = nested_time(&other) {
                    return Err(QueryError::new(
                        col,
                        "a time bound narrows the whole query: AND it at the top level",
                    ));
                }
                rest.push(other);
            }
        }
    }
    let ast = if rest.len() == 1 {
        rest.remove(0)
    } else {
        Ast::And(rest)
    };
    Ok((ast, bounded.then_some((from, to))))
}

fn nested_time(ast: &Ast) -> Option<usize> {
    match ast {
        Ast::Time { col, .. } => Some(*col),
        Ast::And(v) | Ast::Or(v) => v.iter().find_map(nested_time),
        Ast::Not(a) => nested_time(a),
        Ast::Cmp { .. } | Ast::Num { .. } | Ast::Keyword(_) | Ast::Regex { .. } => None,
    }
}

fn compile(ast: &Ast, mapping: Option<&Mapping>) -> Node {
    let search_field = |name: &str| search_field(name, mapping);
    match ast {
        Ast::And(v) => Node::And(v.iter().map(|a| compile(a, mapping)).collect()),
        Ast::Or(v) => Node::Or(v.iter().map(|a| compile(a, mapping)).collect()),
        Ast::Not(a) => Node::Not(Box::new(compile(a, mapping))),
        Ast::Cmp {
            field,
            kind,
            values,
        } => {
            let field_ref = search_field(field);
            let numeric = field_ref.numeric;
            let tests = values
                .iter()
                .map(|v| {
                    let m = StrMatcher::new(SigmaString::parse(v), false);
                    Test::Str(if numeric { m.with_numeric() } else { m })
                })
                .collect();
            let label = if *kind == CmpKind::Ne {
                format!("{field}|neq")
            } else {
                field.clone()
            };
            Node::Item(Box::new(Item::new(
                Some(field_ref),
                label,
                tests,
                false,
                *kind == CmpKind::Ne,
            )))
        }
        Ast::Regex {
            field,
            negate,
            patterns,
        } => {
            let tests = (patterns.iter())
                .map(|p| Test::Regex {
                    re: search_regex(p).unwrap_or_else(|_| crate::sigma::value::never_regex()),
                    source: p.clone(),
                })
                .collect();
            let label = format!("{field}|re{}", if *negate { "|neq" } else { "" });
            Node::Item(Box::new(Item::new(
                Some(search_field(field)),
                label,
                tests,
                false,
                *negate,
            )))
        }
        Ast::Num { field, op, n, .. } => {
            let (cmp, label) = num_op(*op);
            Node::Item(Box::new(Item::new(
                Some(search_field(field)),
                format!("{field}|{label}"),
                vec![Test::Cmp(cmp, *n)],
                false,
                false,
            )))
        }
        // Applied as the query's window instead (see `split_time`).
        Ast::Time { .. } => Node::And(Vec::new()),
        Ast::Keyword(k) => {
            let mut s = SigmaString::parse(k);
            s.prepend_star();
            s.append_star();
            Node::Item(Box::new(Item::new(
                None,
                "keywords".into(),
                vec![Test::Str(StrMatcher::new(s, false))],
                false,
                false,
            )))
        }
    }
}

/// The logsource of a query's events ([`Query::logsource`]).
fn logsource(ast: &Ast, mapping: &Mapping) -> Option<(&'static str, String)> {
    let terms = match ast {
        Ast::And(v) => v.as_slice(),
        one => std::slice::from_ref(one),
    };
    let mut channel = None;
    let mut ids = Vec::new();
    for t in terms {
        let Ast::Cmp {
            field,
            kind: CmpKind::Eq,
            values,
        } = t
        else {
            continue;
        };
        let plain = |v: &String| !v.contains(['*', '?', '\\']);
        if field.eq_ignore_ascii_case("Channel") && values.len() == 1 && plain(&values[0]) {
            channel = Some(values[0].as_str());
        } else if field.eq_ignore_ascii_case("EventID") && ids.is_empty() {
            ids = values.iter().filter_map(|v| v.parse().ok()).collect();
            if ids.len() != values.len() {
                ids.clear();
            }
        }
    }
    let mut fields = Vec::new();
    fields_of(ast, &mut fields);
    mapping.logsource_of(channel, &ids, &fields)
}

/// A field as the search names it: its own name, or a Sigma name the logsource mapping reads
/// on other sources (`Image` → a 4688's `NewProcessName`), as rules read it.
fn search_field(name: &str, mapping: Option<&Mapping>) -> FieldRef {
    mapping.map_or_else(|| FieldRef::plain(name), |m| m.search_field(name))
}

/// A search's regular expression: case-insensitive like the rest of the language.
fn search_regex(pattern: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(&format!("(?i){pattern}")).map_err(|e| {
        // The crate's message draws the pattern and a caret over several lines; the search
        // line has room for its last line, the reason.
        let text = e.to_string();
        let reason = (text.lines().rev())
            .find_map(|l| l.trim().strip_prefix("error: "))
            .unwrap_or_else(|| text.lines().last().unwrap_or_default().trim());
        format!("invalid regular expression: {reason}")
    })
}

fn num_op(op: Op) -> (CmpOp, &'static str) {
    match op {
        Op::Lt => (CmpOp::Lt, "lt"),
        Op::Le => (CmpOp::Lte, "lte"),
        Op::Gt => (CmpOp::Gt, "gt"),
        Op::Ge => (CmpOp::Gte, "gte"),
        Op::Eq | Op::Ne => (CmpOp::Eq, "eq"),
    }
}

impl Query {
    pub fn matches(&self, ev: &Event) -> bool {
        let in_window = |(from, to): (i128, i128)| {
            ev.timestamp()
                .is_some_and(|t| (from..=to).contains(&t.as_nanosecond()))
        };
        self.window.is_none_or(in_window) && self.detection.is_match(ev)
    }

    /// The inclusive time bounds (ns) of its `time` terms; a Sigma rule cannot hold them, so a
    /// search with bounds is not saved as one.
    pub fn window(&self) -> Option<(i128, i128)> {
        self.window
    }

    /// The query's comparisons as a Sigma detection (its time bounds apart: [`Self::window`]),
    /// for a store that searches where the events are.
    pub fn detection(&self) -> &Detection {
        &self.detection
    }

    /// What matched, for highlighting (call when `matches` is true).
    pub fn explain(&self, ev: &Event) -> MatchDetail {
        self.detection.explain(ev)
    }

    /// A sound superset for the index.
    pub fn prefilter(&self) -> Prefilter {
        let p = detection_prefilter(&self.detection);
        match self.window {
            Some((from, to)) => {
                // The index keeps microseconds: widen to whole ones (the exact check is above).
                let us = |ns: i128| {
                    i64::try_from(ns).unwrap_or(if ns < 0 { i64::MIN } else { i64::MAX })
                };
                let from = us(from.div_euclid(1000));
                let to = us((to.saturating_add(999)).div_euclid(1000));
                Prefilter::and(vec![p, Prefilter::TimeRange { from, to }])
            }
            None => p,
        }
    }

    /// Notes for a query that found nothing, where its text likely meant something else: `\*`
    /// and `\?` in a value are a literal star and question mark in Sigma syntax, while
    /// `Image=C:\Windows\*` was likely meant as "anything under C:\Windows\"; a bare word right
    /// after a comparison was likely meant as part of its value.
    pub fn hints(&self) -> Vec<String> {
        fn walk(ast: &Ast, out: &mut Vec<String>) {
            match ast {
                Ast::And(v) => {
                    // `Image=C:\Program Files\x.exe` is a comparison and a keyword.
                    for pair in v.windows(2) {
                        if let [Ast::Cmp { field, values, .. }, Ast::Keyword(word)] = pair
                            && let [value] = values.as_slice()
                        {
                            out.push(format!(
                                "`{word}` after {field}={value} is a keyword searched anywhere; for a value with spaces, quote it: {field}=\"{value} {word}…\""
                            ));
                        }
                    }
                    v.iter().for_each(|a| walk(a, out));
                }
                Ast::Or(v) => v.iter().for_each(|a| walk(a, out)),
                Ast::Not(a) => walk(a, out),
                Ast::Cmp { field, values, .. } => {
                    for v in values {
                        // `\\` is an escaped backslash; what is left escapes a wildcard.
                        let rest = v.replace(r"\\", "");
                        if rest.contains(r"\*") || rest.contains(r"\?") {
                            out.push(format!(
                                r"in {field}={v}, \* and \? are a literal * and ?; for a backslash then a wildcard write \\* or \\?"
                            ));
                        }
                    }
                }
                Ast::Num { .. } | Ast::Keyword(_) | Ast::Time { .. } | Ast::Regex { .. } => {}
            }
        }
        let mut out = Vec::new();
        walk(&self.ast, &mut out);
        out
    }

    /// The query as a Sigma rule (each comparison a selection; same semantics), with the
    /// [`Self::rule_id`] of the search, its [`Self::logsource`] and the given level.
    pub fn to_sigma_yaml(&self, title: &str, level: Level) -> String {
        let detection = self.detection_yaml();
        let mut logsource = String::from("  product: windows\n");
        if let Some((kind, name)) = self.logsource() {
            logsource.push_str(&format!("  {kind}: {name}\n"));
        }
        format!(
            "title: {}\nid: {}\nstatus: experimental\n{}: {}\nlogsource:\n{logsource}{detection}level: {}\n",
            q(title),
            stable_uuid(&detection),
            SAVED_SEARCH.0,
            SAVED_SEARCH.1,
            q(level.name())
        )
    }

    /// The Sigma logsource the events this query can match come from, read from its
    /// top-level `Channel=` and `EventID=` terms through the mapping in reverse
    /// (`EventID=4688` → category `process_creation`, `Channel=Security` → service
    /// `security`).
    pub fn logsource(&self) -> Option<(&'static str, String)> {
        self.logsource.clone()
    }

    /// The `id` of the rule saved from this search: a UUID derived from its detection, so the
    /// same search (however it is spaced) saved again replaces the rule rather than adding
    /// one, and overlays, which name rules by id, apply to it.
    pub fn rule_id(&self) -> String {
        stable_uuid(&self.detection_yaml())
    }

    fn detection_yaml(&self) -> String {
        let mut sels = Vec::new();
        let cond = sigma_cond(&self.ast, &mut sels, true);
        let mut y = String::from("detection:\n");
        for (name, body) in &sels {
            y.push_str(&format!("  {name}:\n{body}"));
        }
        y.push_str(&format!("  condition: {cond}\n"));
        y
    }
}

/// A UUID made from the SHA-256 of `text` (version 8, RFC 9562's custom layout), the same on
/// every run and machine.
fn stable_uuid(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The field names a query compares.
fn fields_of<'a>(ast: &'a Ast, out: &mut Vec<&'a str>) {
    match ast {
        Ast::And(v) | Ast::Or(v) => v.iter().for_each(|a| fields_of(a, out)),
        Ast::Not(a) => fields_of(a, out),
        Ast::Cmp { field, .. } | Ast::Num { field, .. } | Ast::Regex { field, .. } => {
            out.push(field)
        }
        Ast::Keyword(_) | Ast::Time { .. } => {}
    }
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "''".into())
}

fn sigma_cond(ast: &Ast, sels: &mut Vec<(String, String)>, top: bool) -> String {
    let wrap = |s: String| if top { s } else { format!("({s})") };
    match ast {
        Ast::And(v) => wrap(
            v.iter()
                .map(|a| sigma_cond(a, sels, false))
                .collect::<Vec<_>>()
                .join(" and "),
        ),
        Ast::Or(v) => wrap(
            v.iter()
                .map(|a| sigma_cond(a, sels, false))
                .collect::<Vec<_>>()
                .join(" or "),
        ),
        Ast::Not(a) => format!("not {}", sigma_cond(a, sels, false)),
        Ast::Cmp {
            field,
            kind,
            values,
        } => {
            let name = format!("sel{}", sels.len() + 1);
            let mut body = format!("    {}:", q(field));
            if values.len() == 1 {
                body.push_str(&format!(" {}\n", q(&values[0])));
            } else {
                body.push('\n');
                for v in values {
                    body.push_str(&format!("      - {}\n", q(v)));
                }
            }
            sels.push((name.clone(), body));
            if *kind == CmpKind::Ne {
                format!("not {name}")
            } else {
                name
            }
        }
        Ast::Num { field, op, n, .. } => {
            let name = format!("sel{}", sels.len() + 1);
            let (_, m) = num_op(*op);
            // The number, not its text: `0x9` is a number here but a string to PyYAML.
            sels.push((
                name.clone(),
                format!("    {}: {n}\n", q(&format!("{field}|{m}"))),
            ));
            name
        }
        Ast::Regex {
            field,
            negate,
            patterns,
        } => {
            let name = format!("sel{}", sels.len() + 1);
            let mut body = format!("    {}:\n", q(&format!("{field}|re|i")));
            for p in patterns {
                body.push_str(&format!("      - {}\n", q(p)));
            }
            sels.push((name.clone(), body));
            if *negate { format!("not {name}") } else { name }
        }
        Ast::Keyword(k) => {
            let name = format!("keywords{}", sels.len() + 1);
            sels.push((name.clone(), format!("    - {}\n", q(k))));
            name
        }
        Ast::Time { .. } => unreachable!("time bounds are taken out of the query by split_time"),
    }
}

#[cfg(test)]
mod tests;
