//! Sigma correlation rules (`event_count`, `value_count`, `temporal`, `temporal_ordered`)
//! evaluated over time-ordered hits of their base rules.
//!
//! Windows: a condition that only grows with more events (`gt`/`gte`) is checked on a sliding
//! window at every hit and the group is reset once it fires (one alert per burst); any other
//! condition (`lt`, `eq`, ranges…) needs the window to be complete, so windows are fixed, start at
//! a group's first hit and are judged when they close. Chained correlations are evaluated by
//! feeding a correlation's hits back in as base hits.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::mapping::lookup;
use super::rule::RuleMeta;
use super::yaml::{Kind, Node};
use super::{ErrorKind, SigmaError};
use crate::event::Event;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrelationType {
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
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

    fn monotone(&self) -> bool {
        self.lt.is_none() && self.lte.is_none() && self.eq.is_none() && self.neq.is_none()
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Correlation {
    pub meta: RuleMeta,
    pub kind: CorrelationType,
    /// Referenced rules, by id or name.
    pub rules: Vec<String>,
    pub group_by: Vec<String>,
    #[serde(skip)]
    pub timespan: SignedDuration,
    pub condition: Bounds,
    /// The field whose distinct values `value_count` counts.
    pub field: Option<String>,
    /// alias → (rule reference → field of that rule's events).
    pub aliases: BTreeMap<String, BTreeMap<String, String>>,
    /// Whether base rules also alert on their own.
    pub generate: bool,
}

/// A hit of a base rule, as the correlation sees it.
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
    /// The counted quantity (events, distinct values, or rules seen).
    pub value: usize,
    /// The contributing events, in time order.
    pub keys: Vec<K>,
}

fn bad(node: &Node, msg: impl Into<String>) -> SigmaError {
    SigmaError::new(ErrorKind::Invalid, msg).at(node.span)
}

/// Parses `5m`, `1h`, `30s`, `2d`, `1w`, `1M`, `1y`.
pub fn parse_timespan(s: &str) -> Option<SignedDuration> {
    let s = s.trim();
    let unit = s.chars().last()?;
    let n: i64 = s[..s.len() - unit.len_utf8()].parse().ok()?;
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
            Some(other @ ("value_sum" | "value_avg" | "value_percentile" | "value_median")) => {
                return Err(SigmaError::new(
                    ErrorKind::Unsupported,
                    format!("correlation type `{other}` is unsupported"),
                )
                .at(c.span));
            }
            _ => return Err(bad(c, "unknown or missing correlation `type`")),
        };
        let rules = c.get("rules").map(Node::string_list).unwrap_or_default();
        if rules.is_empty() {
            return Err(bad(c, "correlation has no `rules`"));
        }
        let group_by = c.get("group-by").map(Node::string_list).unwrap_or_default();
        let ts_node = c
            .get("timespan")
            .ok_or_else(|| bad(c, "correlation has no `timespan`"))?;
        let timespan = ts_node
            .scalar_text()
            .as_deref()
            .and_then(parse_timespan)
            .ok_or_else(|| bad(ts_node, "invalid `timespan`"))?;
        let temporal = matches!(
            kind,
            CorrelationType::Temporal | CorrelationType::TemporalOrdered
        );
        let mut condition = Bounds::default();
        let mut field = None;
        match c.get("condition") {
            None if temporal => condition.gte = Some(rules.len() as f64),
            None => return Err(bad(c, "correlation has no `condition`")),
            Some(n) if matches!(n.kind, Kind::Str(_)) => {
                return Err(SigmaError::new(
                    ErrorKind::Unsupported,
                    "extended (boolean) correlation conditions are unsupported",
                )
                .at(n.span));
            }
            Some(n) => {
                for (k, _, v) in n.entries() {
                    let num = || match &v.kind {
                        Kind::Int(i) => Ok(*i as f64),
                        Kind::Float(f) => f.parse().map_err(|_| bad(v, "not a number")),
                        _ => Err(bad(v, format!("`{k}` needs a number"))),
                    };
                    match k.as_str() {
                        "gt" => condition.gt = Some(num()?),
                        "gte" => condition.gte = Some(num()?),
                        "lt" => condition.lt = Some(num()?),
                        "lte" => condition.lte = Some(num()?),
                        "eq" => condition.eq = Some(num()?),
                        "neq" => condition.neq = Some(num()?),
                        "field" => field = v.scalar_text(),
                        _ => return Err(bad(v, format!("unknown condition key `{k}`"))),
                    }
                }
                if condition == Bounds::default() {
                    return Err(bad(
                        n,
                        "correlation condition needs one of gt/gte/lt/lte/eq/neq",
                    ));
                }
            }
        }
        if kind == CorrelationType::ValueCount && field.is_none() {
            return Err(bad(c, "value_count needs `condition.field`"));
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
            condition,
            field,
            aliases,
            generate,
        })
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

    /// Runs the correlation over base-rule hits (any order; sorted here by time).
    pub fn evaluate<K: Clone>(
        &self,
        hits: impl IntoIterator<Item = BaseHit<K>>,
    ) -> Vec<CorrelationHit<K>> {
        let mut hits: Vec<(usize, BaseHit<K>)> = hits
            .into_iter()
            .filter_map(|h| {
                self.rule_index(h.rule_id.as_deref(), h.rule_name.as_deref())
                    .map(|i| (i, h))
            })
            .collect();
        hits.sort_by_key(|(_, h)| h.timestamp);
        let mut groups: HashMap<Vec<String>, VecDeque<(usize, BaseHit<K>)>> = HashMap::new();
        let mut out = Vec::new();
        for (idx, hit) in hits {
            let rule = &self.rules[idx];
            let group: Vec<String> = self
                .group_by
                .iter()
                .map(|g| {
                    let f = self.aliases.get(g).and_then(|m| m.get(rule)).unwrap_or(g);
                    hit.fields
                        .iter()
                        .find(|(k, _)| k == f)
                        .map(|(_, v)| v.to_lowercase())
                        .unwrap_or_default()
                })
                .collect();
            let t = hit.timestamp;
            let window = groups.entry(group.clone()).or_default();
            if self.sliding() {
                while window
                    .front()
                    .is_some_and(|(_, h)| t.duration_since(h.timestamp) > self.timespan)
                {
                    window.pop_front();
                }
            } else if window
                .front()
                .is_some_and(|(_, h)| t.duration_since(h.timestamp) > self.timespan)
            {
                let closed = std::mem::take(window);
                out.extend(self.judge(&group, closed));
            }
            window.push_back((idx, hit));
            if self.sliding()
                && let Some(h) = self.judge(&group, window.clone())
            {
                out.push(h);
                window.clear();
            }
        }
        if !self.sliding() {
            for (group, window) in groups {
                out.extend(self.judge(&group, window));
            }
        }
        out.sort_by_key(|h| h.first);
        out
    }

    fn sliding(&self) -> bool {
        self.condition.monotone()
    }

    fn judge<K: Clone>(
        &self,
        group: &[String],
        window: VecDeque<(usize, BaseHit<K>)>,
    ) -> Option<CorrelationHit<K>> {
        let (value, used): (usize, Vec<&(usize, BaseHit<K>)>) = match self.kind {
            CorrelationType::EventCount => (window.len(), window.iter().collect()),
            CorrelationType::ValueCount => {
                let f = self.field.as_deref().unwrap_or_default();
                let vals: BTreeSet<String> = window
                    .iter()
                    .filter_map(|(_, h)| {
                        h.fields
                            .iter()
                            .find(|(k, _)| k == f)
                            .map(|(_, v)| v.to_lowercase())
                    })
                    .collect();
                (vals.len(), window.iter().collect())
            }
            CorrelationType::Temporal => {
                let seen: BTreeSet<usize> = window.iter().map(|(i, _)| *i).collect();
                (seen.len(), window.iter().collect())
            }
            CorrelationType::TemporalOrdered => {
                // The longest prefix of `rules` seen in order within the window.
                let mut next = 0;
                let mut used = Vec::new();
                for w in &window {
                    if w.0 == next {
                        next += 1;
                        used.push(w);
                    }
                }
                (next, used)
            }
        };
        if !self.condition.holds(value as f64) || used.is_empty() {
            return None;
        }
        let first = used.first().map(|(_, h)| h.timestamp)?;
        let last = used.last().map(|(_, h)| h.timestamp)?;
        Some(CorrelationHit {
            correlation: self
                .meta
                .id
                .clone()
                .unwrap_or_else(|| self.meta.title.clone()),
            group: self
                .group_by
                .iter()
                .cloned()
                .zip(group.iter().cloned())
                .collect(),
            first,
            last,
            value,
            keys: used.into_iter().map(|(_, h)| h.key.clone()).collect(),
        })
    }
}
