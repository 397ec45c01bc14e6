//! Segment merges capped in size, so that ingest memory does not grow with the case.
//!
//! A merge reads every segment it merges through memory maps, and the pages it reads count as
//! the process's memory while it runs. Tantivy's default policy merges up to 10 M documents at
//! a time: on 5 M events it merged 2.4 M-document segments and ingest peaked at 951 MB, against
//! about 450 MB between merges. Capped, a merge costs what it costs on a 1 M-event case.

use std::collections::HashMap;
use tantivy::index::{SegmentId, SegmentMeta};
use tantivy::indexer::{LogMergePolicy, MergeCandidate, MergePolicy};

/// Most documents a merge may produce. Searches pay a little per segment, so segments should
/// not stay small either: at this size a 5 M-event case has about ten.
pub const MAX_MERGED_DOCS: u32 = 500_000;

/// Tantivy's log merge policy, with each merge it proposes split into merges of at most
/// [`MAX_MERGED_DOCS`] documents (smallest segments first).
#[derive(Debug)]
pub struct CappedMergePolicy {
    inner: LogMergePolicy,
}

impl Default for CappedMergePolicy {
    fn default() -> Self {
        let mut inner = LogMergePolicy::default();
        // Two segments over half the cap cannot be merged within it.
        inner.set_max_docs_before_merge(MAX_MERGED_DOCS as usize / 2);
        CappedMergePolicy { inner }
    }
}

impl MergePolicy for CappedMergePolicy {
    fn compute_merge_candidates(&self, segments: &[SegmentMeta]) -> Vec<MergeCandidate> {
        let docs: HashMap<SegmentId, u32> =
            segments.iter().map(|s| (s.id(), s.num_docs())).collect();
        let size = |id: &SegmentId| docs.get(id).copied().unwrap_or(0);
        (self.inner.compute_merge_candidates(segments).into_iter())
            .flat_map(|c| split(c.0, size))
            .collect()
    }
}

/// Splits one proposed merge into merges of at most [`MAX_MERGED_DOCS`] documents; a part of
/// one segment is no merge and is left out.
fn split(mut ids: Vec<SegmentId>, size: impl Fn(&SegmentId) -> u32) -> Vec<MergeCandidate> {
    ids.sort_by_key(&size);
    let mut out = Vec::new();
    let mut part: Vec<SegmentId> = Vec::new();
    let mut docs = 0u32;
    for id in ids {
        let n = size(&id);
        if !part.is_empty() && docs.saturating_add(n) > MAX_MERGED_DOCS {
            if part.len() > 1 {
                out.push(MergeCandidate(std::mem::take(&mut part)));
            }
            part.clear();
            docs = 0;
        }
        part.push(id);
        docs = docs.saturating_add(n);
    }
    if part.len() > 1 {
        out.push(MergeCandidate(part));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proposed_merge_is_split_within_the_cap_and_singletons_are_dropped() {
        let ids: Vec<SegmentId> = (0..5).map(|_| SegmentId::generate_random()).collect();
        let sizes: HashMap<SegmentId, u32> = ids
            .iter()
            .zip([200_000, 150_000, 100_000, 300_000, 240_000])
            .map(|(id, n)| (*id, n))
            .collect();
        let size = |id: &SegmentId| sizes[id];
        let parts = split(ids.clone(), size);
        for p in &parts {
            assert!(p.0.len() > 1);
            assert!(p.0.iter().map(size).sum::<u32>() <= MAX_MERGED_DOCS);
        }
        // 100k+150k+200k, then 240k alone (dropped: 240k+300k is over), then 300k alone.
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].0.len(), 3);
    }
}
