//! The compiled detection tree and its exact evaluation over an [`Event`].
//!
//! Evaluation is two-phase: [`Detection::is_match`] is the hot path (no allocation beyond
//! lowercasing field values once per item); [`Detection::explain`] re-walks a matching event to
//! say which selections and which (field, value, pattern) pairs made it match.

use std::borrow::Cow;
use std::net::IpAddr;

use aho_corasick::AhoCorasick;
use ipnet::IpNet;
use serde::Serialize;

use super::mapping::{EventView, FieldRef, Resolved};
use super::value::{StrMatcher, lower, parse_int};
use crate::event::{Event, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Gt,
    Gte,
    Lt,
    Lte,
    Eq,
}

impl CmpOp {
    fn holds(self, have: f64, want: f64) -> bool {
        match self {
            CmpOp::Gt => have > want,
            CmpOp::Gte => have >= want,
            CmpOp::Lt => have < want,
            CmpOp::Lte => have <= want,
            CmpOp::Eq => have == want,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Gt => ">",
            CmpOp::Gte => ">=",
            CmpOp::Lt => "<",
            CmpOp::Lte => "<=",
            CmpOp::Eq => "==",
        }
    }
}

/// How a `fieldref` value compares to the other field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    Equal,
    Prefix,
    Suffix,
    Contains,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimePart {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// One value test of a detection item.
#[derive(Clone, Debug)]
pub enum Test {
    /// The field is absent (or null).
    Null,
    Exists(bool),
    Str(StrMatcher),
    /// An expansion (windash, base64offset, placeholders): any variant.
    AnyStr(Vec<StrMatcher>),
    Regex {
        re: regex::Regex,
        source: String,
    },
    Cidr(IpNet),
    Cmp(CmpOp, f64),
    FieldRef {
        other: FieldRef,
        pos: Position,
        cased: bool,
    },
    TimePart {
        part: TimePart,
        op: CmpOp,
        n: f64,
    },
}

impl Test {
    fn on_value(&self, orig: &str, low: &str, ev: &Event) -> bool {
        match self {
            Test::Null | Test::Exists(_) => false,
            Test::Str(m) => m.matches(orig, low),
            Test::AnyStr(ms) => ms.iter().any(|m| m.matches(orig, low)),
            Test::Regex { re, .. } => re.is_match(orig),
            Test::Cidr(net) => orig
                .trim()
                .parse::<IpAddr>()
                .is_ok_and(|ip| net.contains(&ip)),
            Test::Cmp(op, want) => parse_number(orig).is_some_and(|have| op.holds(have, *want)),
            Test::FieldRef { other, pos, cased } => other.resolve(ev).is_some_and(|r| {
                r.value.strings().any(|o| {
                    let (a, b) = if *cased {
                        (Cow::Borrowed(orig), Cow::Borrowed(o))
                    } else {
                        (Cow::Borrowed(low), lower(o))
                    };
                    match pos {
                        Position::Equal => a == b,
                        Position::Prefix => a.starts_with(b.as_ref()),
                        Position::Suffix => a.ends_with(b.as_ref()),
                        Position::Contains => a.contains(b.as_ref()),
                    }
                })
            }),
            Test::TimePart { part, op, n } => {
                time_part(orig, *part).is_some_and(|v| op.holds(v, *n))
            }
        }
    }

    /// A short rendering for "why it matched".
    pub fn describe(&self) -> String {
        match self {
            Test::Null => "null".into(),
            Test::Exists(b) => format!("exists: {b}"),
            Test::Str(m) => format!("'{}'", m.pattern.to_sigma()),
            Test::AnyStr(ms) => {
                let shown: Vec<String> = ms
                    .iter()
                    .take(3)
                    .map(|m| format!("'{}'", m.pattern.to_sigma()))
                    .collect();
                let more = if ms.len() > 3 {
                    format!(" … ({} variants)", ms.len())
                } else {
                    String::new()
                };
                format!("any of {}{more}", shown.join(", "))
            }
            Test::Regex { source, .. } => format!("re '{source}'"),
            Test::Cidr(n) => format!("cidr {n}"),
            Test::Cmp(op, n) => format!("{} {n}", op.symbol()),
            Test::FieldRef { other, pos, .. } => format!("{pos:?} field {}", other.name),
            Test::TimePart { part, op, n } => format!("{part:?} {} {n}", op.symbol()),
        }
    }
}

fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    parse_int(t)
        .map(|i| i as f64)
        .or_else(|| t.parse::<f64>().ok())
}

fn time_part(s: &str, part: TimePart) -> Option<f64> {
    let z = crate::event::parse_timestamp(s)?.to_zoned(jiff::tz::TimeZone::UTC);
    Some(f64::from(match part {
        TimePart::Minute => i16::from(z.minute()),
        TimePart::Hour => i16::from(z.hour()),
        TimePart::Day => i16::from(z.day()),
        TimePart::Week => i16::from(z.date().iso_week_date().week()),
        TimePart::Month => i16::from(z.month()),
        TimePart::Year => z.year(),
    }))
}

/// A detection item: one field (or keywords) with its value tests.
#[derive(Clone, Debug)]
pub struct Item {
    /// `None` for keywords (any value of the event).
    pub field: Option<FieldRef>,
    /// The key as written (`CommandLine|contains|all`).
    pub label: String,
    pub tests: Vec<Test>,
    /// `|all`: every test must hold (default: any).
    pub all: bool,
    /// `|neq`: the whole item is negated (pySigma).
    pub negate: bool,
    /// Built on first use: loading thousands of rules whose hits a memo holds never needs it.
    accel: std::sync::OnceLock<Option<AhoCorasick>>,
}

impl Item {
    pub fn new(
        field: Option<FieldRef>,
        label: String,
        tests: Vec<Test>,
        all: bool,
        negate: bool,
    ) -> Item {
        Item {
            field,
            label,
            tests,
            all,
            negate,
            accel: std::sync::OnceLock::new(),
        }
    }

    /// Many SigmaHQ items are `F|contains: [a, b, c, …]`: one automaton instead of n scans.
    fn accel(&self) -> Option<&AhoCorasick> {
        let build = || {
            if self.all || self.tests.len() < 2 {
                return None;
            }
            let needles: Option<Vec<&str>> = (self.tests.iter())
                .map(|t| match t {
                    Test::Str(m) => m.contains_needle(),
                    _ => None,
                })
                .collect();
            needles.and_then(|n| AhoCorasick::new(n).ok())
        };
        self.accel.get_or_init(build).as_ref()
    }

    pub fn eval(&self, ev: &Event) -> bool {
        self.eval_view(&EventView::new(ev))
    }

    pub fn eval_view(&self, view: &EventView<'_>) -> bool {
        self.raw(view) != self.negate
    }

    fn raw(&self, view: &EventView<'_>) -> bool {
        let ev = view.event;
        // (original, lowercased) pairs; lowercased values come from the per-event cache.
        let mut values: Vec<(&str, &str)> = Vec::new();
        let owned: Vec<(String, String)>;
        match &self.field {
            Some(f) => {
                let Some(r) = f.resolve(ev) else {
                    return self.combine(|t| matches!(t, Test::Null | Test::Exists(false)));
                };
                match (r.index, r.value) {
                    (Some(i), Cow::Borrowed(v)) => {
                        values.extend(v.strings().zip(view.lowered(i).iter().map(AsRef::as_ref)));
                    }
                    (_, v) => {
                        owned = v
                            .strings()
                            .map(|s| (s.to_owned(), lower(s).into_owned()))
                            .collect();
                        values.extend(owned.iter().map(|(a, b)| (a.as_str(), b.as_str())));
                    }
                }
            }
            None => {
                for (i, (_, v)) in ev.fields.iter().enumerate() {
                    values.extend(v.strings().zip(view.lowered(i).iter().map(AsRef::as_ref)));
                }
            }
        }
        if let Some(ac) = self.accel() {
            return values.iter().any(|(_, low)| ac.is_match(*low));
        }
        self.combine(|t| match t {
            Test::Null => false,
            Test::Exists(b) => *b,
            t => values.iter().any(|(orig, low)| t.on_value(orig, low, ev)),
        })
    }

    fn combine(&self, f: impl Fn(&Test) -> bool) -> bool {
        if self.all {
            self.tests.iter().all(f)
        } else {
            self.tests.iter().any(f)
        }
    }

    /// The matched (field, value, pattern) triples of an item known to be true.
    fn explain(&self, ev: &Event, out: &mut Vec<FieldMatch>) {
        let rule_field = self.label.clone();
        let pairs: Vec<(Cow<'_, str>, &str)> = match &self.field {
            Some(f) => match f.resolve(ev) {
                Some(Resolved {
                    name,
                    value: Cow::Borrowed(v),
                    ..
                }) => v.strings().map(|s| (name.clone(), s)).collect(),
                Some(Resolved {
                    name,
                    value: Cow::Owned(v),
                    ..
                }) => {
                    // Owned (converted) values: report them as text.
                    let name = name.into_owned();
                    for s in v.strings() {
                        self.explain_value(&name, s, ev, &rule_field, out);
                    }
                    return;
                }
                None => Vec::new(),
            },
            None => ev
                .fields
                .iter()
                .flat_map(|(n, v)| v.strings().map(move |s| (Cow::Borrowed(n.as_str()), s)))
                .collect(),
        };
        if self.negate || pairs.is_empty() {
            let field = self
                .field
                .as_ref()
                .map_or("*", |f| f.name.as_str())
                .to_owned();
            let value = pairs.first().map_or("(absent)", |(_, s)| s).to_owned();
            let tests: Vec<String> = self.tests.iter().map(Test::describe).collect();
            let prefix = if self.negate { "not " } else { "" };
            out.push(FieldMatch {
                event_field: field,
                value,
                rule_field,
                pattern: format!("{prefix}{}", tests.join(" | ")),
            });
            return;
        }
        for (name, s) in pairs {
            self.explain_value(&name, s, ev, &rule_field, out);
        }
    }

    fn explain_value(
        &self,
        name: &str,
        s: &str,
        ev: &Event,
        rule_field: &str,
        out: &mut Vec<FieldMatch>,
    ) {
        let low = lower(s);
        for t in &self.tests {
            let hit = match t {
                Test::Exists(true) => true,
                t => t.on_value(s, &low, ev),
            };
            if hit {
                out.push(FieldMatch {
                    event_field: name.to_owned(),
                    value: s.to_owned(),
                    rule_field: rule_field.to_owned(),
                    pattern: t.describe(),
                });
            }
        }
    }
}

/// A node of a selection body or of the condition.
#[derive(Clone, Debug)]
pub enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    Item(Box<Item>),
    /// A reference to a selection (condition only).
    Sel(usize),
    Const(bool),
}

/// A compiled detection: named selections and the condition over them.
#[derive(Clone, Debug)]
pub struct Detection {
    pub selections: Vec<(String, Node)>,
    pub condition: Node,
}

/// One matched value, for "why it matched".
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldMatch {
    /// The event field the value came from (after mapping).
    pub event_field: String,
    pub value: String,
    /// The rule key as written, with modifiers.
    pub rule_field: String,
    /// The rule value/pattern that matched.
    pub pattern: String,
}

/// Why an event matched.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MatchDetail {
    /// Selections (identifiers) that were true in a positive position of the condition.
    pub identifiers: Vec<String>,
    pub fields: Vec<FieldMatch>,
    /// Sigma field → event field, where mapping read another field.
    pub mapped: Vec<(String, String)>,
}

impl Detection {
    pub fn is_match(&self, ev: &Event) -> bool {
        self.is_match_view(&EventView::new(ev))
    }

    pub fn is_match_view(&self, view: &EventView<'_>) -> bool {
        self.eval_view(&self.condition, view)
    }

    fn eval_view(&self, node: &Node, view: &EventView<'_>) -> bool {
        match node {
            Node::And(v) => v.iter().all(|n| self.eval_view(n, view)),
            Node::Or(v) => v.iter().any(|n| self.eval_view(n, view)),
            Node::Not(n) => !self.eval_view(n, view),
            Node::Item(i) => i.eval_view(view),
            Node::Sel(i) => self
                .selections
                .get(*i)
                .is_some_and(|(_, n)| self.eval_view(n, view)),
            Node::Const(b) => *b,
        }
    }

    pub fn explain(&self, ev: &Event) -> MatchDetail {
        let mut d = MatchDetail::default();
        let view = EventView::new(ev);
        self.explain_node(&self.condition, &view, true, &mut d);
        for f in &d.fields {
            let sigma = f.rule_field.split('|').next().unwrap_or_default();
            if !sigma.is_empty() && sigma != f.event_field && f.event_field != "*" {
                let pair = (sigma.to_owned(), f.event_field.clone());
                if !d.mapped.contains(&pair) {
                    d.mapped.push(pair);
                }
            }
        }
        d
    }

    fn explain_node(&self, node: &Node, view: &EventView<'_>, positive: bool, d: &mut MatchDetail) {
        match node {
            Node::And(v) | Node::Or(v) => v
                .iter()
                .for_each(|n| self.explain_node(n, view, positive, d)),
            Node::Not(n) => self.explain_node(n, view, !positive, d),
            Node::Sel(i) => {
                if let Some((name, body)) = self.selections.get(*i)
                    && positive
                    && self.eval_view(body, view)
                    && !d.identifiers.contains(name)
                {
                    d.identifiers.push(name.clone());
                    self.explain_body(body, view, &mut d.fields);
                }
            }
            Node::Item(_) if positive && self.eval_view(node, view) => {
                self.explain_body(node, view, &mut d.fields)
            }
            Node::Item(_) | Node::Const(_) => {}
        }
    }

    fn explain_body(&self, node: &Node, view: &EventView<'_>, out: &mut Vec<FieldMatch>) {
        match node {
            Node::And(v) | Node::Or(v) => {
                for n in v {
                    if self.eval_view(n, view) {
                        self.explain_body(n, view, out);
                    }
                }
            }
            Node::Item(i) if i.eval_view(view) => i.explain(view.event, out),
            _ => {}
        }
    }
}

/// Every value of an event as text (keyword search scope), exposed for tests and the TUI.
pub fn all_values(ev: &Event) -> impl Iterator<Item = &str> {
    ev.fields
        .iter()
        .flat_map(|(_, v): &(String, Value)| v.strings())
}
