//! A list narrowed by a query, and a list's events stacked by several fields.

use crate::prefilter::Prefilter;
use crate::query::Query;
use crate::sigma::CompiledRule;
use crate::store::{EventRef, EventStore, StackQuery, Stacked, StoreError};
use crate::tui::action::Msg;
use crate::tui::app::HitRow;
use std::collections::HashSet;
use std::sync::Arc;

/// Rows checked at a time: a list of any length holds one chunk of events.
const CHUNK: usize = 8192;

/// The rows of `base` each of `filters` keeps in turn, and how many each kept.
pub fn refilter(
    snap: &dyn EventStore,
    base: &[HitRow],
    filters: &[Arc<Query>],
) -> Result<(Vec<HitRow>, Vec<usize>), String> {
    let mut rows = base.to_vec();
    let mut kept = Vec::with_capacity(filters.len());
    for query in filters {
        rows = filter_rows(snap, &rows, query)?;
        kept.push(rows.len());
    }
    Ok((rows, kept))
}

/// The rows whose events `query` matches, in the list's order. A store that searches where the
/// events are ([`EventStore::search`]) names them; otherwise the query's prefilter first drops
/// the rows the case's index rules out (by reference, without reading them), and the rest are
/// read a chunk at a time and checked exactly.
pub fn filter_rows(
    snap: &dyn EventStore,
    rows: &[HitRow],
    query: &Query,
) -> Result<Vec<HitRow>, String> {
    // A store that searches where the events are names the matches outright.
    if let Some(found) = snap.search(query).map_err(|e| e.to_string())? {
        let found: HashSet<EventRef> = found.into_iter().collect();
        return Ok((rows.iter())
            .filter(|row| found.contains(&row.r))
            .copied()
            .collect());
    }
    let prefilter = query.prefilter();
    let candidates: Option<HashSet<EventRef>> = match prefilter {
        Prefilter::All => None,
        p => Some(
            (snap.candidates(&p).map_err(|e| e.to_string())?)
                .into_iter()
                .collect(),
        ),
    };
    let maybe: Vec<HitRow> = (rows.iter())
        .filter(|row| candidates.as_ref().is_none_or(|c| c.contains(&row.r)))
        .copied()
        .collect();
    let mut kept = Vec::new();
    for chunk in maybe.chunks(CHUNK) {
        let refs: Vec<EventRef> = chunk.iter().map(|row| row.r).collect();
        let checked = crate::store::check(snap, &refs, |_, event, _| {
            query.matches(&event).then_some(())
        })
        .map_err(|e| e.to_string())?;
        kept.extend((chunk.iter().zip(checked)).filter_map(|(row, ok)| ok.map(|()| *row)));
    }
    Ok(kept)
}

/// How often each tuple of values of `fields` occurs in the events of `refs` (read as `rule`
/// names the fields when the list is its hits). An event with several values of a field
/// counts once per combination; one lacking a field counts as missing.
pub fn stack_tuples(
    snap: &dyn EventStore,
    rule: Option<(usize, Arc<CompiledRule>)>,
    of: String,
    fields: Vec<String>,
    refs: &[EventRef],
) -> Result<Msg, StoreError> {
    let stacked = stacked(snap, rule.as_ref(), &fields, refs)?;
    Ok(Msg::StackTuples {
        rule: rule.map(|(i, _)| i),
        of,
        fields,
        tuples: stacked.tuples,
        missing: stacked.missing,
    })
}

/// The stack of `fields` over `refs`, counted by the store where it can.
pub fn stacked(
    snap: &dyn EventStore,
    rule: Option<&(usize, Arc<CompiledRule>)>,
    fields: &[String],
    refs: &[EventRef],
) -> Result<Stacked, StoreError> {
    crate::store::stack(
        snap,
        &StackQuery {
            refs,
            fields,
            rule: rule.map(|(_, r)| &**r),
        },
    )
}
