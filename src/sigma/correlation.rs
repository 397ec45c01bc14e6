//! Sigma correlation rules evaluated over time-ordered hits of the rules they reference.
//!
//! Types: `event_count`, `value_count`, `temporal` (also with an extended boolean condition),
//! `temporal_ordered`, and the metric types `value_sum`, `value_avg`, `value_percentile` and
//! pySigma's `value_median`. Metric types read `condition.field` as a number: decimal (`12`,
//! `-3.5`, `1e3`) or `0x` hexadecimal as Windows logs write ids. An event whose field is missing
//! or not a number does not enter the metric (as SQL/SIEM aggregates skip non-numeric values),
//! and a window without any numeric value has no metric, so it never matches.
//!
//! Parsing lives here; windows and metrics in [`window`], chained correlations (a correlation
//! referencing another: its hits are fed back as inputs) in [`chain`].

mod chain;
mod expr;
#[cfg(test)]
mod tests;
mod window;

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::mapping::lookup;
use super::modifiers::number;
use super::rule::RuleMeta;
use super::yaml::{Kind, Node};
use super::{ErrorKind, SigmaError};
use crate::event::Event;

pub use chain::{chain_problems, evaluate_all, silenced, silencers, with_inner};
pub use expr::RuleExpr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrelationType {
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
    ValueSum,
    ValueAvg,
    ValuePercentile,
    ValueMedian,
}

impl CorrelationType {
    /// Types that aggregate the numbers of `condition.field`.
    pub fn is_metric(self) -> bool {
        matches!(
            self,
            CorrelationType::ValueSum
                | CorrelationType::ValueAvg
                | CorrelationType::ValuePercentile
                | CorrelationType::ValueMedian
        )
    }

    fn is_temporal(self) -> bool {
        matches!(
            self,
            CorrelationType::Temporal | CorrelationType::TemporalOrdered
        )
    }
}

/// `condition:` bounds, all of which must hold.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Bounds {
    pub gt: Option<f64>,
    pub gte: Option<f64>,
    pub lt: Option<f64>,
    pub lte: Option<f64>,
    pub eq: Option<f64>,
    pub neq: Option<f64>,
}

impl Bounds {
    pub fn holds(&self, n: f64) -> bool {
        self.gt.is_none_or(|b| n > b)
            && self.gte.is_none_or(|b| n >= b)
            && self.lt.is_none_or(|b| n < b)
            && self.lte.is_none_or(|b| n <= b)
            && self.eq.is_none_or(|b| n == b)
            && self.neq.is_none_or(|b| n != b)
    }

    /// Only lower bounds: once they hold, more events cannot undo it.
    fn monotone(&self) -> bool {
        self.lt.is_none() && self.lte.is_none() && self.eq.is_none() && self.neq.is_none()
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Correlation {
    pub meta: RuleMeta,
    pub kind: CorrelationType,
    /// Referenced rules or correlations, by id or name.
    pub rules: Vec<String>,
    pub group_by: Vec<String>,
    #[serde(skip)]
    pub timespan: SignedDuration,
    /// Count/metric bounds (empty when `expr` is the condition).
    pub condition: Bounds,
    /// An extended `temporal` condition over the referenced rules.
    pub expr: Option<RuleExpr>,
    /// The field `value_count` and the metric types read.
    pub field: Option<String>,
    /// For `value_percentile` (0–100); 50 for `value_median`.
    pub percentile: Option<f64>,
    /// alias → (rule reference → field of that rule's events).
    pub aliases: BTreeMap<String, BTreeMap<String, String>>,
    /// Whether referenced rules also alert on their own.
    pub generate: bool,
}

/// A hit of a referenced rule (or correlation), as the correlation sees it.
#[derive(Clone, Debug)]
pub struct BaseHit<K> {
    pub rule_id: Option<String>,
    pub rule_name: Option<String>,
    pub timestamp: Timestamp,
    /// The field values the correlation needs (see [`Correlation::fields_for`]).
    pub fields: Vec<(String, String)>,
    /// An opaque reference to the event (e.g. index address).
    pub key: K,
}

#[derive(Clone, Debug, Serialize)]
pub struct CorrelationHit<K> {
    pub correlation: String,
    /// Group-by field → value.
    pub group: Vec<(String, String)>,
    pub first: Timestamp,
    pub last: Timestamp,
    /// The judged quantity: events, distinct values, rules seen, or the metric.
    pub value: f64,
    /// The contributing events, in time order.
    pub keys: Vec<K>,
}

fn bad(node: &Node, msg: impl Into<String>) -> SigmaError {
    SigmaError::new(ErrorKind::Invalid, msg).at(node.span)
}

fn unsupported(node: &Node, msg: impl Into<String>) -> SigmaError {
    SigmaError::new(ErrorKind::Unsupported, msg).at(node.span)
}

/// Parses `5m`, `1h`, `30s`, `2d`, `1w`, `1M`, `1y` (a positive count, as pySigma).
pub fn parse_timespan(s: &str) -> Option<SignedDuration> {
    let s = s.trim();
    let unit = s.chars().last()?;
    let digits = &s[..s.len() - unit.len_utf8()];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = digits.parse().ok().filter(|&n| n > 0)?;
    let secs = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 604_800,
        'M' => 2_592_000,
        'y' => 31_536_000,
        _ => return None,
    };
    Some(SignedDuration::from_secs(n.checked_mul(secs)?))
}

/// The parsed `condition:` of a correlation.
#[derive(Default)]
struct Condition {
    bounds: Bounds,
    expr: Option<RuleExpr>,
    field: Option<String>,
    percentile: Option<f64>,
}

fn parse_condition(
    c: &Node,
    kind: CorrelationType,
    rules: &mut Vec<String>,
) -> Result<Condition, SigmaError> {
    let mut out = Condition::default();
    let Some(n) = c.get("condition") else {
        if kind.is_temporal() {
            out.bounds.gte = Some(rules.len() as f64);
            return Ok(out);
        }
        return Err(bad(c, "correlation has no `condition`"));
    };
    if let Kind::Str(text) = &n.kind {
        return match kind {
            CorrelationType::Temporal => {
                let e = RuleExpr::parse(text).map_err(|m| bad(n, m))?;
                let named = e.rules();
                if rules.is_empty() {
                    *rules = named;
                } else if let Some(r) = rules.iter().find(|r| !named.contains(r)) {
                    return Err(bad(
                        n,
                        format!("rule `{r}` is listed but not in the condition"),
                    ));
                } else if let Some(r) = named.iter().find(|r| !rules.contains(r)) {
                    return Err(bad(
                        n,
                        format!("rule `{r}` is in the condition but not listed"),
                    ));
                }
                out.expr = Some(e);
                Ok(out)
            }
            CorrelationType::TemporalOrdered => Err(unsupported(
                n,
                "an extended (boolean) condition on `temporal_ordered` is unsupported: the order of `or`/`not` terms is undefined",
            )),
            _ => Err(bad(
                n,
                "an extended (string) condition needs a temporal type",
            )),
        };
    }
    for (k, _, v) in n.entries() {
        let num = || number(v).ok_or_else(|| bad(v, format!("`{k}` needs a number")));
        let b = &mut out.bounds;
        match k.as_str() {
            "gt" => b.gt = Some(num()?),
            "gte" => b.gte = Some(num()?),
            "lt" => b.lt = Some(num()?),
            "lte" => b.lte = Some(num()?),
            "eq" => b.eq = Some(num()?),
            "neq" => b.neq = Some(num()?),
            "field" if matches!(v.kind, Kind::Seq(_)) => {
                return Err(unsupported(
                    v,
                    "`condition.field` as a list is unsupported: the spec does not say how several fields combine",
                ));
            }
            "field" => out.field = v.scalar_text(),
            "percentile" => {
                let p = num()?;
                if !(0.0..=100.0).contains(&p) {
                    return Err(bad(v, "`percentile` must be between 0 and 100"));
                }
                out.percentile = Some(p);
            }
            _ => return Err(bad(v, format!("unknown condition key `{k}`"))),
        }
    }
    if out.bounds == Bounds::default() {
        return Err(bad(
            n,
            "correlation condition needs one of gt/gte/lt/lte/eq/neq",
        ));
    }
    Ok(out)
}

impl Correlation {
    pub fn from_node(
        doc: &Node,
        origin: &str,
        source: Arc<str>,
    ) -> Result<Correlation, SigmaError> {
        let meta = RuleMeta::from_node(doc, origin, source);
        let c = doc
            .get("correlation")
            .filter(|c| c.is_map())
            .ok_or_else(|| bad(doc, "`correlation` must be a map"))?;
        let kind = match c.get("type").and_then(Node::as_str) {
            Some("event_count") => CorrelationType::EventCount,
            Some("value_count") => CorrelationType::ValueCount,
            Some("temporal") => CorrelationType::Temporal,
            Some("temporal_ordered") => CorrelationType::TemporalOrdered,
            Some("value_sum") => CorrelationType::ValueSum,
            Some("value_avg") => CorrelationType::ValueAvg,
            Some("value_percentile") => CorrelationType::ValuePercentile,
            Some("value_median") => CorrelationType::ValueMedian,
            _ => return Err(bad(c, "unknown or missing correlation `type`")),
        };
        let mut rules = c.get("rules").map(Node::string_list).unwrap_or_default();
        let group_by = c.get("group-by").map(Node::string_list).unwrap_or_default();
        let ts_node = c
            .get("timespan")
            .ok_or_else(|| bad(c, "correlation has no `timespan`"))?;
        let timespan = ts_node
            .scalar_text()
            .as_deref()
            .and_then(parse_timespan)
            .ok_or_else(|| bad(ts_node, "invalid `timespan`"))?;
        // An extended condition may name the rules instead of `rules:`.
        let cond = parse_condition(c, kind, &mut rules)?;
        if rules.is_empty() {
            return Err(bad(c, "correlation has no `rules`"));
        }
        let mut percentile = cond.percentile;
        if kind == CorrelationType::ValueMedian {
            percentile = Some(50.0);
        }
        if kind == CorrelationType::ValuePercentile && percentile.is_none() {
            return Err(unsupported(
                c,
                "value_percentile without `condition.percentile` is unsupported: which percentile to compare is undefined",
            ));
        }
        if (kind == CorrelationType::ValueCount || kind.is_metric()) && cond.field.is_none() {
            return Err(bad(
                c,
                format!("{} needs `condition.field`", type_name(kind)),
            ));
        }
        let mut aliases = BTreeMap::new();
        if let Some(a) = c.get("aliases") {
            for (alias, _, m) in a.entries() {
                let per_rule = m
                    .entries()
                    .into_iter()
                    .filter_map(|(r, _, f)| f.scalar_text().map(|f| (r, f)))
                    .collect();
                aliases.insert(alias, per_rule);
            }
        }
        let generate = c
            .get("generate")
            .or_else(|| doc.get("generate"))
            .is_some_and(|g| g.kind == Kind::Bool(true));
        Ok(Correlation {
            meta,
            kind,
            rules,
            group_by,
            timespan,
            condition: cond.bounds,
            expr: cond.expr,
            field: cond.field,
            percentile,
            aliases,
            generate,
        })
    }

    /// Whether this correlation references the rule (or correlation) with this id or name.
    pub fn references(&self, id: Option<&str>, name: Option<&str>) -> bool {
        self.rule_index(id, name).is_some()
    }

    /// How this correlation names itself in hits and messages.
    pub fn label(&self) -> String {
        self.meta
            .id
            .clone()
            .unwrap_or_else(|| self.meta.title.clone())
    }

    fn rule_index(&self, hit_id: Option<&str>, hit_name: Option<&str>) -> Option<usize> {
        self.rules
            .iter()
            .position(|r| hit_id == Some(r.as_str()) || hit_name == Some(r.as_str()))
    }

    /// The event fields a hit of rule `rule` (id or name) must carry.
    pub fn fields_for(&self, rule: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .group_by
            .iter()
            .map(|g| {
                self.aliases
                    .get(g)
                    .and_then(|m| m.get(rule))
                    .cloned()
                    .unwrap_or_else(|| g.clone())
            })
            .collect();
        out.extend(self.field.clone());
        out
    }

    /// Builds a base hit from an event matched by `rule_id`/`rule_name`; `None` when the rule
    /// is not referenced or the event has no timestamp.
    pub fn base_hit<K>(
        &self,
        rule_id: Option<&str>,
        rule_name: Option<&str>,
        ev: &Event,
        key: K,
    ) -> Option<BaseHit<K>> {
        let i = self.rule_index(rule_id, rule_name)?;
        let fields = self
            .fields_for(&self.rules[i])
            .into_iter()
            .filter_map(|f| {
                lookup(ev, &f)
                    .and_then(|(_, v)| v.as_str())
                    .map(|v| (f.clone(), v.to_owned()))
            })
            .collect();
        Some(BaseHit {
            rule_id: rule_id.map(str::to_owned),
            rule_name: rule_name.map(str::to_owned),
            timestamp: ev.timestamp()?,
            fields,
            key,
        })
    }
}

fn type_name(kind: CorrelationType) -> &'static str {
    match kind {
        CorrelationType::EventCount => "event_count",
        CorrelationType::ValueCount => "value_count",
        CorrelationType::Temporal => "temporal",
        CorrelationType::TemporalOrdered => "temporal_ordered",
        CorrelationType::ValueSum => "value_sum",
        CorrelationType::ValueAvg => "value_avg",
        CorrelationType::ValuePercentile => "value_percentile",
        CorrelationType::ValueMedian => "value_median",
    }
}
