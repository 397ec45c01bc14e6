//! Chained correlations: a correlation whose `rules` name another correlation takes that
//! correlation's hits as inputs. An inner hit enters the outer correlation at the time it
//! completed (its `last` event), carries the inner group-by values as its fields and all its
//! events as its keys. So an outer correlation can only group on (or measure) fields the inner
//! one groups by; [`chain_problems`] reports the chains that cannot be evaluated.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::hash::Hash;

use super::{BaseHit, Correlation, CorrelationHit};
use crate::sigma::{ErrorKind, SigmaError};

impl Correlation {
    /// The correlations (indices into `all`) this one takes hits from.
    fn inner<'a>(&'a self, all: &'a [Correlation]) -> impl Iterator<Item = usize> + 'a {
        all.iter()
            .enumerate()
            .filter(|(_, c)| self.references(c.meta.id.as_deref(), c.meta.name.as_deref()))
            .map(|(j, _)| j)
    }

    /// An inner correlation's hit as an input of this one.
    fn chained_hit<K: Clone>(
        &self,
        inner: &Correlation,
        hit: &CorrelationHit<K>,
    ) -> Option<BaseHit<Vec<K>>> {
        let (id, name) = (inner.meta.id.as_deref(), inner.meta.name.as_deref());
        let reference = &self.rules[self.rule_index(id, name)?];
        let fields = self
            .fields_for(reference)
            .into_iter()
            .filter_map(|f| {
                let (_, v) = hit.group.iter().find(|(g, _)| g.eq_ignore_ascii_case(&f))?;
                Some((f, v.clone()))
            })
            .collect();
        Some(BaseHit {
            rule_id: id.map(str::to_owned),
            rule_name: name.map(str::to_owned),
            timestamp: hit.last,
            fields,
            key: hit.keys.clone(),
        })
    }
}

/// Whether a rule or correlation (by id/name) only alerts through a correlation that references
/// it with `generate: false`.
pub fn silenced(correlations: &[Correlation], id: Option<&str>, name: Option<&str>) -> bool {
    silencers(correlations, id, name).next().is_some()
}

/// The correlations (indices into `correlations`) that reference a rule or correlation (by
/// id/name) with `generate: false`: the ones it feeds instead of alerting on its own.
pub fn silencers<'a, C: Borrow<Correlation>>(
    correlations: &'a [C],
    id: Option<&'a str>,
    name: Option<&'a str>,
) -> impl Iterator<Item = usize> + 'a {
    correlations
        .iter()
        .enumerate()
        .filter(move |(_, c)| {
            let c: &Correlation = (*c).borrow();
            !c.generate && c.references(id, name)
        })
        .map(|(i, _)| i)
}

/// The correlations (as a mask over `all`) that evaluating the ones in `wanted` needs: those
/// themselves and every correlation they take hits from, however deep the chain.
pub fn with_inner(all: &[Correlation], wanted: &[bool]) -> Vec<bool> {
    let mut needed = wanted.to_vec();
    let mut stack: Vec<usize> = (0..all.len()).filter(|&i| wanted[i]).collect();
    while let Some(i) = stack.pop() {
        for j in all[i].inner(all) {
            if !needed[j] {
                needed[j] = true;
                stack.push(j);
            }
        }
    }
    needed
}

/// Evaluation order: every correlation after those it takes hits from. Correlations on a cycle
/// are left out (the loader rejects them, see [`chain_problems`]).
fn order(all: &[Correlation]) -> (Vec<usize>, Vec<Vec<usize>>) {
    // 0 = not visited, 1 = on the current path, 2 = done.
    fn visit(
        i: usize,
        all: &[Correlation],
        state: &mut [u8],
        path: &mut Vec<usize>,
        out: &mut (Vec<usize>, Vec<Vec<usize>>),
    ) {
        match state[i] {
            2 => return,
            1 => {
                let from = path.iter().position(|&p| p == i).unwrap_or(0);
                out.1.push(path[from..].to_vec());
                return;
            }
            _ => {}
        }
        state[i] = 1;
        path.push(i);
        for j in all[i].inner(all).collect::<Vec<_>>() {
            visit(j, all, state, path, out);
        }
        path.pop();
        state[i] = 2;
        out.0.push(i);
    }
    let mut state = vec![0u8; all.len()];
    let mut out = (Vec::new(), Vec::new());
    for i in 0..all.len() {
        visit(i, all, &mut state, &mut Vec::new(), &mut out);
    }
    let cyclic: HashSet<usize> = out.1.iter().flatten().copied().collect();
    out.0.retain(|i| !cyclic.contains(i));
    out
}

/// Correlations that cannot be evaluated, with the reason: cycles (invalid), and outer
/// correlations needing a field their inner correlation does not group by (unsupported).
pub fn chain_problems(all: &[Correlation]) -> Vec<(usize, SigmaError)> {
    let mut out: Vec<(usize, SigmaError)> = Vec::new();
    for cycle in order(all).1 {
        let names: Vec<String> = cycle
            .iter()
            .chain(cycle.first())
            .map(|&i| format!("`{}`", all[i].label()))
            .collect();
        for &i in &cycle {
            if !out.iter().any(|(j, _)| *j == i) {
                let msg = format!("correlation chain is cyclic: {}", names.join(" → "));
                out.push((
                    i,
                    SigmaError::new(ErrorKind::Invalid, msg).at(all[i].meta.span),
                ));
            }
        }
    }
    for (i, c) in all.iter().enumerate() {
        for j in c.inner(all) {
            let inner = &all[j];
            let (id, name) = (inner.meta.id.as_deref(), inner.meta.name.as_deref());
            let Some(r) = c.rule_index(id, name) else {
                continue;
            };
            let missing = c
                .fields_for(&c.rules[r])
                .into_iter()
                .find(|f| !inner.group_by.iter().any(|g| g.eq_ignore_ascii_case(f)));
            if let (Some(f), false) = (missing, out.iter().any(|(k, _)| *k == i)) {
                let msg = format!(
                    "chained correlation needs field `{f}` from correlation `{}`, which does not group by it (its hits carry only its group-by fields)",
                    inner.label()
                );
                out.push((
                    i,
                    SigmaError::new(ErrorKind::Unsupported, msg).at(c.meta.span),
                ));
            }
        }
    }
    out
}

/// Evaluates every correlation, inner ones first. `base` gives the hits of the plain rules a
/// correlation references. Returns the hits per correlation, in the order of `all`.
pub fn evaluate_all<K, E>(
    all: &[Correlation],
    mut base: impl FnMut(&Correlation) -> Result<Vec<BaseHit<K>>, E>,
) -> Result<Vec<Vec<CorrelationHit<K>>>, E>
where
    K: Clone + Eq + Hash,
{
    let mut out: Vec<Vec<CorrelationHit<K>>> = vec![Vec::new(); all.len()];
    for i in order(all).0 {
        let c = &all[i];
        let mut inputs: Vec<BaseHit<Vec<K>>> = base(c)?
            .into_iter()
            .map(|h| BaseHit {
                rule_id: h.rule_id,
                rule_name: h.rule_name,
                timestamp: h.timestamp,
                fields: h.fields,
                key: vec![h.key],
            })
            .collect();
        for j in c.inner(all) {
            inputs.extend(out[j].iter().filter_map(|h| c.chained_hit(&all[j], h)));
        }
        out[i] = c.evaluate(inputs).into_iter().map(flatten).collect();
    }
    Ok(out)
}

/// Keys of nested hits, each event once, in order of first appearance.
fn flatten<K: Clone + Eq + Hash>(h: CorrelationHit<Vec<K>>) -> CorrelationHit<K> {
    let mut seen = HashSet::new();
    let keys = h
        .keys
        .into_iter()
        .flatten()
        .filter(|k| seen.insert(k.clone()))
        .collect();
    CorrelationHit {
        correlation: h.correlation,
        group: h.group,
        first: h.first,
        last: h.last,
        value: h.value,
        keys,
    }
}
