//! Recompiles the live editor's buffer: a detection rule is run over the case, a correlation
//! rule is evaluated over the hits of the rules (and correlations) it takes hits from.

use crate::sigma::correlation::chain_problems;
use crate::sigma::{CompiledRule, Correlation, Filter, Loader, RuleMeta, RuleSet, SigmaError};
use crate::store::{EventRef, EventStore};
use crate::tui::action::{Compiled, CorrInputs, EditError, EditHits};
use std::sync::Arc;

fn edit_error(e: &SigmaError) -> EditError {
    EditError {
        line: e.span.map_or(1, |s| s.line),
        col: e.span.map_or(1, |s| s.col),
        message: e.message.clone(),
    }
}

/// Why the buffer did not load, positioned in it; `none` when it loaded nothing of the kind.
fn load_errors(set: &RuleSet, found: bool, none: &str) -> Vec<EditError> {
    let mut errors: Vec<EditError> = set
        .errors
        .iter()
        .chain(&set.unsupported)
        .map(|r| edit_error(&r.error))
        .collect();
    if errors.is_empty() && !found {
        errors.push(EditError {
            line: 1,
            col: 1,
            message: none.into(),
        });
    }
    errors
}

/// A detection rule: its hits over the whole case; with `feeds` (the loaded rule `usize` it
/// replaces, and what the correlations read), a note per correlation built on it with its
/// alerts before and with the edit.
pub fn rule(
    snap: &dyn EventStore,
    loader: &Loader,
    text: &str,
    origin: &str,
    filters: Vec<Filter>,
    feeds: Option<(usize, Arc<CorrInputs>)>,
) -> anyhow::Result<Compiled> {
    // With the user's placeholders and mapping, as the rules list was loaded.
    let set = loader.clone().with_filters(filters).load_str(text, origin);
    let errors = load_errors(&set, !set.rules.is_empty(), "no rule in the buffer");
    let Some(rule) = set.rules.into_iter().next().filter(|_| errors.is_empty()) else {
        return Ok(Err(errors));
    };
    let hits = crate::hunt::run(snap, &[&rule])?
        .hits
        .pop()
        .unwrap_or_default();
    let mut notes = rule.notes;
    if let Some((index, inputs)) = feeds {
        notes.extend(fed_correlations(snap, index, &hits, &inputs)?);
    }
    Ok(Ok((EditHits::Rule(Arc::new(hits)), notes)))
}

/// "`corr`, built on this rule: N alert(s) with this edit (M before)" for every loaded
/// correlation that takes hits from rule `index`, directly or through another correlation.
/// The rule keeps its loaded id and name here: a correlation names the rule it was written
/// for, and the edit replaces that rule.
fn fed_correlations(
    snap: &dyn EventStore,
    index: usize,
    edited: &[EventRef],
    inputs: &CorrInputs,
) -> anyhow::Result<Vec<String>> {
    let Some(loaded) = inputs.rules.get(index) else {
        return Ok(Vec::new());
    };
    let all: Vec<Correlation> = (inputs.correlations.iter())
        .map(|c| Correlation::clone(c))
        .collect();
    let mut fed: Vec<bool> = (all.iter())
        .map(|c| c.references(loaded.meta.id.as_deref(), loaded.meta.name.as_deref()))
        .collect();
    loop {
        let grew: Vec<usize> = (0..all.len())
            .filter(|&k| !fed[k])
            .filter(|&k| {
                (all.iter().zip(&fed)).any(|(t, f)| {
                    *f && all[k].references(t.meta.id.as_deref(), t.meta.name.as_deref())
                })
            })
            .collect();
        if grew.is_empty() {
            break;
        }
        for k in grew {
            fed[k] = true;
        }
    }
    let rules: Vec<&CompiledRule> = inputs.rules.iter().map(|r| r.as_ref()).collect();
    let mut hits: Vec<&[EventRef]> = inputs.hits.iter().map(|h| h.as_slice()).collect();
    let before = crate::hunt::correlate_hits(snap, &all, &rules, &hits)?;
    hits[index] = edited;
    let after = crate::hunt::correlate_hits(snap, &all, &rules, &hits)?;
    Ok((all.iter().zip(before.iter().zip(&after)).zip(&fed))
        .filter(|(_, f)| **f)
        .map(|((c, (b, a)), _)| {
            format!(
                "`{}`, built on this rule: {} alert(s) with this edit ({} before)",
                c.meta.label(),
                a.len(),
                b.len()
            )
        })
        .collect())
}

/// A correlation rule (replacing loaded correlation `corr`): its hits over the loaded rules'
/// hits and, when it chains, over the loaded correlations it references (evaluated again, as
/// they are few and each reads only its base rules' hits).
pub fn correlation(
    snap: &dyn EventStore,
    loader: &Loader,
    corr: usize,
    text: &str,
    origin: &str,
    inputs: &CorrInputs,
) -> anyhow::Result<Compiled> {
    let set = loader.load_str(text, origin);
    let errors = load_errors(
        &set,
        !set.correlations.is_empty(),
        "no correlation rule in the buffer",
    );
    let Some(edited) = set
        .correlations
        .into_iter()
        .next()
        .filter(|_| errors.is_empty())
    else {
        return Ok(Err(errors));
    };
    // The edited correlation first, then every loaded one it takes hits from and every loaded
    // one built on it (so the preview says what the edit does to those too), with the ones
    // those take hits from, transitively; the one being edited is left out, as the edit
    // replaces it.
    let mut chain = vec![edited];
    let mut built_on = vec![false];
    let same =
        |a: &Correlation, b: &Correlation| a.meta.id == b.meta.id && a.meta.name == b.meta.name;
    loop {
        let mut grew = false;
        for (k, c) in inputs.correlations.iter().enumerate() {
            if k == corr || chain.iter().any(|t| same(t, c)) {
                continue;
            }
            let (id, name) = (c.meta.id.as_deref(), c.meta.name.as_deref());
            let needed = chain.iter().any(|t| t.references(id, name));
            let dependent = (chain.iter().zip(&built_on))
                .filter(|(_, b)| **b)
                .chain(std::iter::once((&chain[0], &true)))
                .any(|(t, _)| c.references(t.meta.id.as_deref(), t.meta.name.as_deref()));
            if needed || dependent {
                chain.push(Correlation::clone(c));
                built_on.push(dependent && !needed);
                grew = true;
            }
        }
        if !grew {
            break;
        }
    }
    let problems: Vec<EditError> = chain_problems(&chain)
        .into_iter()
        .filter(|(i, _)| *i == 0)
        .map(|(_, e)| edit_error(&e))
        .collect();
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    let rules: Vec<&CompiledRule> = inputs.rules.iter().map(|r| r.as_ref()).collect();
    let hits: Vec<&[EventRef]> = inputs.hits.iter().map(|h| h.as_slice()).collect();
    let mut out = crate::hunt::correlate_hits(snap, &chain, &rules, &hits)?;
    let loaded: Vec<&RuleMeta> = rules
        .iter()
        .map(|r| &r.meta)
        .chain(inputs.correlations.iter().map(|c| &c.meta))
        .collect();
    let mut notes = crate::sigma::check::missing_references(&loaded, &chain[0]);
    let dependents = chain.iter().zip(&out).zip(&built_on).filter(|(_, b)| **b);
    for ((c, hits), _) in dependents {
        notes.push(format!(
            "`{}`, built on this one: {} alert(s) with this edit",
            c.meta.label(),
            hits.len()
        ));
    }
    Ok(Ok((EditHits::Corr(Arc::new(out.swap_remove(0))), notes)))
}
