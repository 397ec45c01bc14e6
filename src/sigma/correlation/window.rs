//! Windows per group and the judged quantity of a correlation.
//!
//! A condition that can only become true as hits are added (lower bounds on a count, on distinct
//! values, on rules seen or on a sum; an extended condition without `not`) is checked on a sliding
//! window at every hit. Once it holds, the alert's window is fixed at `timespan` from its first
//! event and takes every later hit of the group inside it, so a burst gives one alert per
//! timespan with its real count (not one per threshold's worth of events). Any other
//! condition (`lt`, `eq`, ranges, averages, percentiles, `not`) needs the window complete, so
//! windows are fixed: they start at a group's first hit and are judged when they close.

use std::collections::{BTreeSet, HashMap, VecDeque};

use super::{BaseHit, Correlation, CorrelationHit, CorrelationType};

type Slot<K> = (usize, BaseHit<K>);

/// A field value as a number: decimal (`12`, `-3.5`, `1e3`) or `0x` hexadecimal, as Windows
/// writes ids and sizes. Anything else (and NaN/infinity) is not a number.
pub fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if body.starts_with(['+', '-']) {
        return None;
    }
    let v = match body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok()? as f64,
        None => body.parse::<f64>().ok()?,
    };
    v.is_finite().then_some(if neg { -v } else { v })
}

/// The `p`-th percentile (0–100) of sorted values, interpolating linearly between the two
/// nearest ranks (rank = p/100 · (n−1)), so the median of an even count is the mean of the
/// middle two.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let rank = p / 100.0 * last as f64;
    let lo = rank.floor() as usize;
    let hi = rank.ceil() as usize;
    let (a, b) = (*sorted.get(lo)?, *sorted.get(hi)?);
    Some(a + (b - a) * (rank - lo as f64))
}

impl Correlation {
    /// Runs the correlation over hits of its referenced rules (any order; sorted here by time).
    pub fn evaluate<K: Clone>(
        &self,
        hits: impl IntoIterator<Item = BaseHit<K>>,
    ) -> Vec<CorrelationHit<K>> {
        let mut hits: Vec<Slot<K>> = hits
            .into_iter()
            .filter_map(|h| {
                self.rule_index(h.rule_id.as_deref(), h.rule_name.as_deref())
                    .map(|i| (i, h))
            })
            .collect();
        hits.sort_by_key(|(_, h)| h.timestamp);
        let sliding = self.sliding();
        // Per group: the window, and in sliding mode the alert it is filling since it fired.
        type Open<K> = (VecDeque<Slot<K>>, Option<CorrelationHit<K>>);
        let mut groups: HashMap<Vec<String>, Open<K>> = HashMap::new();
        let mut out = Vec::new();
        for (idx, hit) in hits {
            let group = self.group_of(idx, &hit);
            let t = hit.timestamp;
            let (window, fired) = groups.entry(group.clone()).or_default();
            let expired = |w: &VecDeque<Slot<K>>| {
                w.front()
                    .is_some_and(|(_, h)| t.duration_since(h.timestamp) > self.timespan)
            };
            if let Some(alert) = fired.take_if(|a| t.duration_since(a.first) > self.timespan) {
                out.push(self.close(&group, window, alert));
            } else if fired.is_some() {
                window.push_back((idx, hit));
                continue;
            }
            if sliding {
                while expired(window) {
                    window.pop_front();
                }
            } else if expired(window) {
                let closed = std::mem::take(window);
                out.extend(self.judge(&group, closed.iter()));
            }
            window.push_back((idx, hit));
            if sliding && let Some(h) = self.judge_sliding(&group, window.make_contiguous()) {
                window.retain(|(_, w)| w.timestamp >= h.first);
                *fired = Some(h);
            }
        }
        for (group, (mut window, fired)) in groups {
            match fired {
                Some(alert) => out.push(self.close(&group, &mut window, alert)),
                None if !sliding => out.extend(self.judge(&group, window.iter())),
                None => {}
            }
        }
        out.sort_by_key(|h| h.first);
        out
    }

    /// The alert over everything its window took in since it fired (as it fired, should the
    /// later hits have undone it: a sum with negative numbers).
    fn close<K: Clone>(
        &self,
        group: &[String],
        window: &mut VecDeque<Slot<K>>,
        fired: CorrelationHit<K>,
    ) -> CorrelationHit<K> {
        let whole = self.judge(group, window.iter());
        window.clear();
        whole.unwrap_or(fired)
    }

    /// The group key of a hit: its group-by values, folded (groups are case-insensitive).
    fn group_of<K>(&self, idx: usize, hit: &BaseHit<K>) -> Vec<String> {
        let mut values = self.group_values(idx, hit);
        values.iter_mut().for_each(|v| *v = v.to_lowercase());
        values
    }

    /// A hit's group-by values as its event has them (shown on the alert).
    fn group_values<K>(&self, idx: usize, hit: &BaseHit<K>) -> Vec<String> {
        let rule = &self.rules[idx];
        self.group_by
            .iter()
            .map(|g| {
                let f = self.aliases.get(g).and_then(|m| m.get(rule)).unwrap_or(g);
                hit.fields
                    .iter()
                    .find(|(k, _)| k == f)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            })
            .collect()
    }

    fn sliding(&self) -> bool {
        match (&self.expr, self.kind) {
            (Some(e), _) => e.monotone(),
            (
                None,
                CorrelationType::ValueAvg
                | CorrelationType::ValuePercentile
                | CorrelationType::ValueMedian,
            ) => false,
            (None, _) => self.condition.monotone(),
        }
    }

    fn field_value<'h, K>(&self, h: &'h BaseHit<K>) -> Option<&'h str> {
        let f = self.field.as_deref()?;
        h.fields
            .iter()
            .find(|(k, _)| k == f)
            .map(|(_, v)| v.as_str())
    }

    /// The window ending at the newest hit. With negative numbers a sum may hold on a later
    /// part of the window only, so then every suffix is tried as well.
    fn judge_sliding<K: Clone>(
        &self,
        group: &[String],
        window: &[Slot<K>],
    ) -> Option<CorrelationHit<K>> {
        if let Some(h) = self.judge(group, window.iter()) {
            return Some(h);
        }
        let negative = self.kind == CorrelationType::ValueSum
            && window.iter().any(|(_, h)| {
                self.field_value(h)
                    .and_then(parse_number)
                    .is_some_and(|n| n < 0.0)
            });
        if !negative {
            return None;
        }
        (1..window.len()).find_map(|i| self.judge(group, window[i..].iter()))
    }

    fn judge<'w, K: Clone + 'w>(
        &self,
        group: &[String],
        window: impl Iterator<Item = &'w Slot<K>> + Clone,
    ) -> Option<CorrelationHit<K>> {
        let all = || window.clone().collect::<Vec<_>>();
        let (value, used): (f64, Vec<&Slot<K>>) = match self.kind {
            CorrelationType::EventCount => {
                let used = all();
                (used.len() as f64, used)
            }
            CorrelationType::ValueCount => {
                let vals: BTreeSet<String> = window
                    .clone()
                    .filter_map(|(_, h)| self.field_value(h).map(str::to_lowercase))
                    .collect();
                (vals.len() as f64, all())
            }
            CorrelationType::Temporal => {
                let seen: BTreeSet<usize> = window.clone().map(|(i, _)| *i).collect();
                if let Some(e) = &self.expr {
                    let on = |r: &str| self.rules.iter().position(|x| x == r);
                    if !e.eval(&|r| on(r).is_some_and(|i| seen.contains(&i))) {
                        return None;
                    }
                }
                (seen.len() as f64, all())
            }
            CorrelationType::TemporalOrdered => {
                // The longest prefix of `rules` seen in order within the window.
                let mut next = 0;
                let mut used = Vec::new();
                for w in window.clone() {
                    if w.0 == next {
                        next += 1;
                        used.push(w);
                    }
                }
                (next as f64, used)
            }
            CorrelationType::ValueSum
            | CorrelationType::ValueAvg
            | CorrelationType::ValuePercentile
            | CorrelationType::ValueMedian => {
                let (nums, used): (Vec<f64>, Vec<&Slot<K>>) = window
                    .clone()
                    .filter_map(|w| Some((self.field_value(&w.1).and_then(parse_number)?, w)))
                    .unzip();
                (self.metric(nums)?, used)
            }
        };
        let holds = self.expr.is_some() || self.condition.holds(value);
        if !holds || used.is_empty() {
            return None;
        }
        // Shown as the first event of the window writes them (the key is folded).
        let shown = used.first().map(|(i, h)| self.group_values(*i, h));
        let shown = shown.filter(|v| v.len() == group.len());
        Some(CorrelationHit {
            correlation: self.label(),
            group: self
                .group_by
                .iter()
                .cloned()
                .zip(shown.unwrap_or_else(|| group.to_vec()))
                .collect(),
            first: used.first().map(|(_, h)| h.timestamp)?,
            last: used.last().map(|(_, h)| h.timestamp)?,
            value,
            keys: used.into_iter().map(|(_, h)| h.key.clone()).collect(),
        })
    }

    /// Sum, mean or percentile of the numbers; `None` when there are none.
    fn metric(&self, mut nums: Vec<f64>) -> Option<f64> {
        if nums.is_empty() {
            return None;
        }
        match self.kind {
            CorrelationType::ValueSum => Some(nums.iter().sum()),
            CorrelationType::ValueAvg => Some(nums.iter().sum::<f64>() / nums.len() as f64),
            _ => {
                nums.sort_by(f64::total_cmp);
                percentile(&nums, self.percentile.unwrap_or(50.0))
            }
        }
    }
}
