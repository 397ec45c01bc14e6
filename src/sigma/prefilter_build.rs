//! Detection → [`Prefilter`]: a sound superset of the events the exact matcher accepts.
//!
//! Logsource terms are always emitted; positive items narrow by their literal pieces (split at
//! wildcards into Equals/Prefix/Suffix/Contains). Anything whose truth can hold without a
//! matching term (negations, null tests, integer comparisons of hex/decimal PIDs, converted
//! aliases) becomes `All` or a weaker `Exists`.

use super::mapping::{FieldRef, RuleSources, Source, Transform};
use super::matcher::{Detection, Item, Node, Test};
use super::value::{Piece, StrMatcher};
use crate::event::names;
use crate::prefilter::Prefilter;

/// The prefilter of a rule: its sources AND its condition.
pub fn rule_prefilter(sources: &RuleSources, det: &Detection) -> Prefilter {
    Prefilter::and(vec![sources_prefilter(sources), detection_prefilter(det)])
}

pub fn detection_prefilter(det: &Detection) -> Prefilter {
    node(&det.condition, det)
}

/// Channel / EventID / Provider / extra conditions of each source, ORed.
pub fn sources_prefilter(sources: &RuleSources) -> Prefilter {
    if sources.sources.is_empty() {
        return Prefilter::All;
    }
    Prefilter::or(
        sources
            .sources
            .iter()
            .map(|s| source_prefilter(s))
            .collect(),
    )
}

/// Channel / EventID / Provider / extra conditions of one source.
fn source_prefilter(s: &Source) -> Prefilter {
    let eq = |f: &str, v: String| Prefilter::Equals {
        field: f.to_owned(),
        value: v,
    };
    let mut parts = vec![
        any_of(s.channels.iter().map(|c| eq(names::CHANNEL, c.clone()))),
        any_of(
            s.event_ids
                .iter()
                .map(|id| eq(names::EVENT_ID, id.to_string())),
        ),
        any_of(s.providers.iter().map(|p| eq(names::PROVIDER, p.clone()))),
    ];
    for (field, values) in &s.conditions {
        parts.push(any_of(values.iter().map(|v| eq(field, v.clone()))));
    }
    Prefilter::and(parts)
}

/// OR of the parts, or `All` when there are none (no constraint).
fn any_of(parts: impl Iterator<Item = Prefilter>) -> Prefilter {
    let v: Vec<Prefilter> = parts.collect();
    if v.is_empty() {
        Prefilter::All
    } else {
        Prefilter::or(v)
    }
}

fn node(n: &Node, det: &Detection) -> Prefilter {
    match n {
        Node::And(v) => Prefilter::and(v.iter().map(|c| node(c, det)).collect()),
        Node::Or(v) => Prefilter::or(v.iter().map(|c| node(c, det)).collect()),
        Node::Not(inner) => match inner.as_ref() {
            Node::Not(x) => node(x, det),
            _ => Prefilter::All,
        },
        Node::Sel(i) => det
            .selections
            .get(*i)
            .map_or(Prefilter::All, |(_, b)| node(b, det)),
        Node::Const(true) => Prefilter::All,
        Node::Const(false) => Prefilter::Nothing,
        Node::Item(item) => item_prefilter(item),
    }
}

/// The prefilter of one item (also used by the search query language).
pub fn item_prefilter(item: &Item) -> Prefilter {
    if item.negate {
        return Prefilter::All;
    }
    let Some(field) = &item.field else {
        return combine(item, item.tests.iter().map(|t| test(t, None)).collect());
    };
    let names = field_names(field);
    let parts: Vec<Prefilter> = (item.tests.iter())
        .map(|t| Prefilter::or(names.iter().map(|f| test(t, Some(f))).collect()))
        .collect();
    // A value converted on the way (`User` of a 4688 joined from its domain and user) is in
    // no index term, but the event is one of the alias's source.
    let converted = field.converting_sources().map(source_prefilter);
    Prefilter::or(
        std::iter::once(combine(item, parts))
            .chain(converted)
            .collect(),
    )
}

fn combine(item: &Item, parts: Vec<Prefilter>) -> Prefilter {
    if item.all {
        Prefilter::and(parts)
    } else {
        Prefilter::or(parts)
    }
}

/// Every event field a rule field may be read from as it is (converted values aside).
fn field_names(f: &FieldRef) -> Vec<String> {
    let mut out = vec![f.name.clone()];
    for (target, transform) in f.aliases() {
        if let (Some(target), Transform::None) = (target, transform) {
            out.push(target.to_owned());
        }
    }
    out
}

fn test(t: &Test, field: Option<&str>) -> Prefilter {
    let exists = || {
        field.map_or(Prefilter::All, |f| Prefilter::Exists {
            field: f.to_owned(),
        })
    };
    match t {
        Test::Null | Test::Exists(false) => Prefilter::All,
        Test::Exists(true) | Test::Cmp(..) | Test::TimePart { .. } | Test::FieldRef { .. } => {
            exists()
        }
        Test::Str(m) => string(m, field),
        Test::AnyStr(ms) => Prefilter::or(ms.iter().map(|m| string(m, field)).collect()),
        Test::Regex { re, .. } => match field {
            // `(?i)` keeps it a superset if the index matches lowercased values; an inline
            // `(?-i)` could undo that, so such patterns only require presence.
            Some(f) if !re.as_str().contains("(?-") => Prefilter::Regex {
                field: f.to_owned(),
                pattern: format!("(?i){}", re.as_str()),
            },
            _ => exists(),
        },
        Test::Cidr(net) => match (net, field) {
            (ipnet::IpNet::V4(v4), Some(f)) if v4.prefix_len() % 8 == 0 && v4.prefix_len() > 0 => {
                let octets = v4.network().octets();
                let n = usize::from(v4.prefix_len() / 8);
                let prefix: Vec<String> = octets.iter().take(n).map(u8::to_string).collect();
                let mut p = prefix.join(".");
                if n < 4 {
                    p.push('.');
                }
                if n == 4 {
                    Prefilter::Equals {
                        field: f.to_owned(),
                        value: p,
                    }
                } else {
                    Prefilter::Prefix {
                        field: f.to_owned(),
                        prefix: p,
                    }
                }
            }
            _ => exists(),
        },
    }
}

/// Literal pieces of a wildcard pattern → Equals / Prefix / Suffix / Contains.
fn string(m: &StrMatcher, field: Option<&str>) -> Prefilter {
    let pieces = &m.pattern.pieces;
    let Some(field) = field else {
        // Keywords: each literal run must occur in some value.
        return Prefilter::and(
            m.pattern
                .literals()
                .map(|l| Prefilter::AnyContains {
                    needle: l.to_owned(),
                })
                .collect(),
        );
    };
    let f = || field.to_owned();
    if m.is_numeric() {
        return Prefilter::Exists { field: f() };
    }
    if let Some(plain) = m.pattern.plain() {
        return Prefilter::Equals {
            field: f(),
            value: plain,
        };
    }
    let mut parts = Vec::new();
    let last = pieces.len().saturating_sub(1);
    for (i, p) in pieces.iter().enumerate() {
        let Piece::Lit(l) = p else { continue };
        parts.push(if i == 0 {
            Prefilter::Prefix {
                field: f(),
                prefix: l.clone(),
            }
        } else if i == last {
            Prefilter::Suffix {
                field: f(),
                suffix: l.clone(),
            }
        } else {
            Prefilter::Contains {
                field: f(),
                needle: l.clone(),
            }
        });
    }
    if parts.is_empty() {
        Prefilter::Exists { field: f() }
    } else {
        Prefilter::and(parts)
    }
}
