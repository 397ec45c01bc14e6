//! Running rules over a case: the index proposes candidates (each rule's prefilter), and the
//! exact matcher confirms them on the stored events. Results therefore never depend on the
//! index shortcut, only on the matcher.
//!
//! Not for: deciding semantics (that is `sigma`) or rendering (the CLI and TUI do that).
//! Memory stays bounded: rules are processed in batches whose candidate lists fit a budget,
//! and only references to hits (not events) are kept.

use crate::event::Event;
use crate::sigma::{CompiledRule, Correlation, Level};
use crate::store::{EventRef, EventStore, StoreError};
use rayon::prelude::*;
use std::time::{Duration, Instant};

pub mod memo;
pub use memo::Memo;

/// Candidate (event, rule) pairs examined per batch; bounds memory whatever the case size.
/// A pair costs about 56 bytes while its batch is checked (its candidate list entry, the sorted
/// pair, its event group): 4 M pairs held ≈ 75 MB more at the peak of a ×35 scan of all SigmaHQ
/// rules than 1 M, for no measurable gain in time (BENCHMARKS.md).
const PAIR_BUDGET: usize = 1_000_000;

pub mod columns;
pub use columns::{HIT_CSV_COLUMNS, hit_csv_row};

/// The hits of every rule, in the order of the rules given.
#[derive(Debug, Default)]
pub struct ScanResult {
    /// Per rule, its hits sorted by time.
    pub hits: Vec<Vec<EventRef>>,
    /// Candidate events fetched and checked (a measure of prefilter precision).
    pub candidates: u64,
    /// Rules whose hits were read from a memo instead (see [`run_memo`]).
    pub remembered: usize,
    pub elapsed: Duration,
}

/// Runs `rules` over the store.
pub fn run(store: &dyn EventStore, rules: &[&CompiledRule]) -> Result<ScanResult, StoreError> {
    let started = Instant::now();
    let mut result = ScanResult {
        hits: vec![Vec::new(); rules.len()],
        ..ScanResult::default()
    };
    result.candidates = run_each(store, rules, |i, hits| -> Result<(), StoreError> {
        result.hits[i] = hits;
        Ok(())
    })?;
    result.elapsed = started.elapsed();
    Ok(result)
}

/// [`run`], taking the hits of rules the memo remembers from it and remembering the others.
pub fn run_memo(
    store: &dyn EventStore,
    rules: &[&CompiledRule],
    memo: Option<&Memo>,
) -> Result<ScanResult, StoreError> {
    let started = Instant::now();
    let mut result = ScanResult {
        hits: vec![Vec::new(); rules.len()],
        ..ScanResult::default()
    };
    let run = run_each_memo(store, rules, memo, |i, hits| -> Result<(), StoreError> {
        result.hits[i] = hits;
        Ok(())
    })?;
    result.candidates = run.checked;
    result.remembered = run.remembered;
    result.elapsed = started.elapsed();
    Ok(result)
}

/// What [`run_each_memo`] did.
#[derive(Clone, Copy, Debug, Default)]
pub struct MemoRun {
    /// Candidate events fetched and checked (none for remembered rules).
    pub checked: u64,
    /// Rules whose hits were read from the memo.
    pub remembered: usize,
}

/// [`run_each`], handing over first the hits the memo remembers, then those of the rules it
/// does not, which are remembered for the next run.
pub fn run_each_memo<E: From<StoreError>>(
    store: &dyn EventStore,
    rules: &[&CompiledRule],
    memo: Option<&Memo>,
    mut done: impl FnMut(usize, Vec<EventRef>) -> Result<(), E>,
) -> Result<MemoRun, E> {
    let Some(memo) = memo else {
        let checked = run_each(store, rules, done)?;
        return Ok(MemoRun {
            checked,
            remembered: 0,
        });
    };
    let mut missing = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        match memo.get(rule, store) {
            Some(hits) => done(i, hits)?,
            None => missing.push(i),
        }
    }
    let remembered = rules.len() - missing.len();
    if missing.is_empty() {
        return Ok(MemoRun {
            checked: 0,
            remembered,
        });
    }
    let to_run: Vec<&CompiledRule> = missing.iter().map(|&i| rules[i]).collect();
    let mut recorder = memo.recorder();
    let checked = run_each(store, &to_run, |k, hits| {
        // Not remembering is never an error: the next run evaluates the rule again.
        if let Some(r) = recorder.as_mut()
            && r.record(to_run[k], &hits).is_err()
        {
            recorder = None;
        }
        done(missing[k], hits)
    })?;
    if let Some(r) = recorder {
        let _ = r.finish();
    }
    Ok(MemoRun {
        checked,
        remembered,
    })
}

/// Runs `rules` over the store, handing each rule's hits (sorted by time) to `done` as soon
/// as its batch is checked, so a caller that writes them out need not hold them all. Rules
/// finish in batches of the same logsource, not in the order given; every rule is handed over
/// once. Returns the candidate events fetched and checked.
pub fn run_each<E: From<StoreError>>(
    store: &dyn EventStore,
    rules: &[&CompiledRule],
    mut done: impl FnMut(usize, Vec<EventRef>) -> Result<(), E>,
) -> Result<u64, E> {
    // What the store runs itself (a remote store, where the events are) is handed over as is.
    let mut left = Vec::new();
    for (i, ran) in store.run_rules(rules)?.into_iter().enumerate() {
        match ran {
            Some(mut hits) => {
                hits.sort_unstable();
                done(i, hits)?;
            }
            None => left.push(i),
        }
    }
    if left.len() == rules.len() {
        return run_each_here(store, rules, done);
    }
    let rest: Vec<&CompiledRule> = left.iter().map(|&i| rules[i]).collect();
    run_each_here(store, &rest, |k, hits| done(left[k], hits))
}

/// [`run_each`] by narrowing and checking here: each rule's prefilter proposes, the matcher
/// decides on the fetched events.
fn run_each_here<E: From<StoreError>>(
    store: &dyn EventStore,
    rules: &[&CompiledRule],
    mut done: impl FnMut(usize, Vec<EventRef>) -> Result<(), E>,
) -> Result<u64, E> {
    // Rules with the same candidates sit next to each other, so a batch fetches each event once.
    let mut order: Vec<usize> = (0..rules.len()).collect();
    order.sort_by_key(|&i| {
        (
            rules[i].meta.logsource.category.clone(),
            rules[i].meta.logsource.service.clone(),
        )
    });
    let mut checked = 0u64;
    let mut batch: Vec<(usize, Vec<EventRef>)> = Vec::new();
    let mut pairs = 0usize;
    // Candidate lists are looked up a group at a time (in parallel) rather than all at once:
    // together they can be many times the hits.
    for group in order.chunks(CANDIDATE_GROUP) {
        let prefilters: Vec<_> = group.iter().map(|&i| rules[i].prefilter()).collect();
        let lists = store.candidates_each(&prefilters)?;
        for (&i, list) in group.iter().zip(lists) {
            if !batch.is_empty() && pairs + list.len() > PAIR_BUDGET {
                checked += finish_batch(store, rules, &mut batch, &mut done)?;
                pairs = 0;
            }
            pairs += list.len();
            batch.push((i, list));
        }
    }
    if !batch.is_empty() {
        checked += finish_batch(store, rules, &mut batch, &mut done)?;
    }
    Ok(checked)
}

/// Rules whose candidate lists are looked up together.
const CANDIDATE_GROUP: usize = 64;

/// Checks a batch and hands over its rules' hits.
fn finish_batch<E: From<StoreError>>(
    store: &dyn EventStore,
    rules: &[&CompiledRule],
    batch: &mut Vec<(usize, Vec<EventRef>)>,
    done: &mut impl FnMut(usize, Vec<EventRef>) -> Result<(), E>,
) -> Result<u64, E> {
    let (checked, hits) = run_batch(store, rules, batch)?;
    for ((i, _), mut hits) in batch.drain(..).zip(hits) {
        hits.sort_unstable();
        done(i, hits)?;
    }
    Ok(checked)
}

/// Fetches every candidate of the batch once and checks the rules that proposed it. Returns
/// the events checked and, per entry of `batch`, its hits (unsorted).
fn run_batch(
    store: &dyn EventStore,
    rules: &[&CompiledRule],
    batch: &[(usize, Vec<EventRef>)],
) -> Result<(u64, Vec<Vec<EventRef>>), StoreError> {
    let mut pairs: Vec<(EventRef, u32)> = batch
        .iter()
        .enumerate()
        .flat_map(|(k, (_, list))| list.iter().map(move |r| (*r, k as u32)))
        .collect();
    // The store's order, so it reads its blocks sequentially.
    pairs.sort_unstable_by_key(|(r, k)| (r.key, *k));
    let groups: Vec<&[(EventRef, u32)]> = pairs.chunk_by(|a, b| a.0.key == b.0.key).collect();
    store.prefetch(&groups.iter().map(|g| g[0].0).collect::<Vec<_>>());
    let in_batch: Vec<&CompiledRule> = batch.iter().map(|(i, _)| rules[*i]).collect();
    let matched: Vec<Vec<(u32, EventRef)>> = groups
        .par_iter()
        .map(|group| -> Result<Vec<(u32, EventRef)>, StoreError> {
            let r = group[0].0;
            let (event, _) = store.event(r)?;
            Ok(confirm(&event, &in_batch, group, r))
        })
        .collect::<Result<_, _>>()?;
    let mut hits = vec![Vec::new(); batch.len()];
    for (k, r) in matched.into_iter().flatten() {
        hits[k as usize].push(r);
    }
    Ok((groups.len() as u64, hits))
}

fn confirm(
    event: &Event,
    rules: &[&CompiledRule],
    group: &[(EventRef, u32)],
    r: EventRef,
) -> Vec<(u32, EventRef)> {
    group
        .iter()
        .filter(|(_, rule)| rules[*rule as usize].is_match(event))
        .map(|(_, rule)| (*rule, r))
        .collect()
}

/// The exact matcher over every event, without the index: the ground truth `run` must equal.
pub fn brute_force(
    store: &dyn EventStore,
    rules: &[&CompiledRule],
) -> Result<Vec<Vec<EventRef>>, StoreError> {
    let all = store.candidates(&crate::prefilter::Prefilter::All)?;
    let per_event: Vec<Vec<(u32, EventRef)>> = all
        .par_iter()
        .map(|r| -> Result<Vec<(u32, EventRef)>, StoreError> {
            let (event, _) = store.event(*r)?;
            Ok((0..rules.len() as u32)
                .filter(|&i| rules[i as usize].is_match(&event))
                .map(|i| (i, *r))
                .collect())
        })
        .collect::<Result<_, _>>()?;
    let mut hits = vec![Vec::new(); rules.len()];
    for (rule, r) in per_event.into_iter().flatten() {
        hits[rule as usize].push(r);
    }
    for h in &mut hits {
        h.sort_unstable();
    }
    Ok(hits)
}

/// Evaluates correlation rules over the hits of their base rules, and chained correlations
/// over the hits of the correlations they reference. `rules[i]` produced `result.hits[i]`.
/// Returns, per correlation, its hits with the contributing events.
pub fn correlate(
    store: &dyn EventStore,
    correlations: &[crate::sigma::Correlation],
    rules: &[&CompiledRule],
    result: &ScanResult,
) -> Result<Vec<Vec<crate::sigma::CorrelationHit<EventRef>>>, StoreError> {
    let hits: Vec<&[EventRef]> = result.hits.iter().map(Vec::as_slice).collect();
    correlate_hits(store, correlations, rules, &hits)
}

/// [`correlate`] over hits kept elsewhere (the workbench re-evaluates an edited correlation
/// over the hits it holds): `rules[i]` produced `hits[i]`.
pub fn correlate_hits(
    store: &dyn EventStore,
    correlations: &[crate::sigma::Correlation],
    rules: &[&CompiledRule],
    hits: &[&[EventRef]],
) -> Result<Vec<Vec<crate::sigma::CorrelationHit<EventRef>>>, StoreError> {
    crate::sigma::correlation::evaluate_all(correlations, |corr| {
        let mut base = Vec::new();
        for (rule, hits) in rules.iter().zip(hits) {
            let (id, name) = (rule.meta.id.as_deref(), rule.meta.name.as_deref());
            if !corr.references(id, name) {
                continue;
            }
            store.prefetch(hits);
            for r in hits.iter() {
                let (event, _) = store.event(*r)?;
                base.extend(corr.base_hit(id, name, &event, *r));
            }
        }
        Ok(base)
    })
}

/// What a level threshold (`scan --min-level`) keeps. It decides what is output, not what runs:
/// a correlation at or above it is output and needs the rules and correlations it counts, at
/// whatever level (Sigma puts the level on the outermost correlation; the rules it counts are
/// often low).
#[derive(Debug, Default)]
pub struct LevelSelection {
    /// Indices of the rules to run.
    pub rules: Vec<usize>,
    /// Per entry of `rules`: whether its hits are output (its own level passes).
    pub rules_shown: Vec<bool>,
    /// Indices of the correlations to evaluate, with every correlation they chain onto.
    pub correlations: Vec<usize>,
    /// Per entry of `correlations`: whether its hits are output (its own level passes).
    pub correlations_shown: Vec<bool>,
}

/// Selects, for level threshold `min` (`None`: every rule), what runs and what is output.
/// A rule without a known level ranks as informational ([`RuleMeta::rank`]).
///
/// [`RuleMeta::rank`]: crate::sigma::RuleMeta::rank
pub fn select_by_level(
    rules: &[CompiledRule],
    correlations: &[Correlation],
    min: Option<Level>,
) -> LevelSelection {
    let passes = |meta: &crate::sigma::RuleMeta| min.is_none_or(|min| meta.rank() >= min);
    let shown: Vec<bool> = correlations.iter().map(|c| passes(&c.meta)).collect();
    let needed = crate::sigma::correlation::with_inner(correlations, &shown);
    let mut sel = LevelSelection::default();
    for i in (0..correlations.len()).filter(|&i| needed[i]) {
        sel.correlations.push(i);
        sel.correlations_shown.push(shown[i]);
    }
    for (i, rule) in rules.iter().enumerate() {
        let (id, name) = (rule.meta.id.as_deref(), rule.meta.name.as_deref());
        let own = passes(&rule.meta);
        let feeds = || {
            sel.correlations
                .iter()
                .any(|&c| correlations[c].references(id, name))
        };
        if own || feeds() {
            sel.rules.push(i);
            sel.rules_shown.push(own);
        }
    }
    sel
}
