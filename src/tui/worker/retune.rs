//! A tuning overlay written or removed: only the loaded rules it applies to are compiled again
//! (with every overlay after the change, as the workbench holds them: no file is read again)
//! and run; the other rules keep their hits. With thousands of rules loaded, a full reload
//! compiled and ran them all for one benign value.

use super::Ctx;
use crate::overlay::{Overlay, overlay_dir};
use crate::sigma::{CompiledRule, Filter, Loader};
use crate::store::EventStore;
use crate::tui::action::{RerunRule, Retuned, Tuning};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// Re-runs the rules that the overlay `changed` applies to, with `overlays` (every overlay
/// after the change). `None` when that cannot be done in place (the overlay does not parse as
/// a filter, or a rule no longer compiles alone): the caller then reloads every rule.
pub fn rerun(
    ctx: &Ctx,
    snap: &dyn EventStore,
    changed: &Overlay,
    mut overlays: Vec<Overlay>,
    tuning: &Tuning,
) -> anyhow::Result<Option<Retuned>> {
    let started = Instant::now();
    let loader = ctx.loader()?;
    let changed = loader.load_str(&changed.text, "overlay").filters;
    if changed.is_empty() {
        return Ok(None);
    }
    let loaded = &tuning.loaded;
    let affected: Vec<usize> = (0..loaded.rules.len())
        .filter(|&i| changed.iter().any(|f| f.applies_to(&loaded.rules[i].meta)))
        .collect();
    // The filters of rule files stay; the overlays' are compiled again.
    let dirs = [
        overlay_dir(&ctx.opts.case_dir),
        overlay_dir(&ctx.config_dir),
    ];
    // Listed as loading lists them: the case's, then the user's, each by path.
    overlays.sort_by_key(|o| (!o.path.starts_with(&dirs[0]), o.path.clone()));
    let is_overlay = |f: &Filter| {
        dirs.iter()
            .any(|d| Path::new(&f.meta.origin).starts_with(d))
    };
    let mut filters: Vec<Filter> = (tuning.filters.iter())
        .filter(|f| !is_overlay(f))
        .cloned()
        .collect();
    let texts: Vec<(String, String)> = (affected.iter())
        .map(|&i| {
            (
                loaded.rules[i].meta.origin.clone(),
                loaded.rules[i].meta.text(),
            )
        })
        .chain(
            overlays
                .iter()
                .map(|o| (o.path.display().to_string(), o.text.clone())),
        )
        .collect();
    let set = Loader::clone(&loader)
        .with_filters(filters.clone())
        .load_texts(texts.iter().map(|(o, t)| (o.as_str(), t.as_str())));
    if set.rules.len() != affected.len() {
        return Ok(None);
    }
    filters.extend(set.filters);
    let rules: Vec<Arc<CompiledRule>> = (set.rules.into_iter().zip(&affected))
        .map(|(mut rule, &i)| {
            // Where it was loaded from (the whole file, the document's place in it) as before.
            rule.meta = loaded.rules[i].meta.clone();
            Arc::new(rule)
        })
        .collect();
    let refs: Vec<&CompiledRule> = rules.iter().map(|r| r.as_ref()).collect();
    let result = crate::hunt::run(snap, &refs)?;
    let hits: Vec<Arc<Vec<crate::store::EventRef>>> =
        result.hits.into_iter().map(Arc::new).collect();
    let feeds_correlation = (loaded.correlations.iter()).any(|c| {
        refs.iter()
            .any(|r| c.references(r.meta.id.as_deref(), r.meta.name.as_deref()))
    });
    let corr_hits = if feeds_correlation {
        let mut all_hits: Vec<&[crate::store::EventRef]> =
            loaded.hits.iter().map(|h| h.as_slice()).collect();
        let mut all_rules: Vec<&CompiledRule> = loaded.rules.iter().map(|r| r.as_ref()).collect();
        for (k, &i) in affected.iter().enumerate() {
            all_hits[i] = &hits[k];
            all_rules[i] = &rules[k];
        }
        let corrs: Vec<crate::sigma::Correlation> =
            loaded.correlations.iter().map(|c| (**c).clone()).collect();
        let out = crate::hunt::correlate_hits(snap, &corrs, &all_rules, &all_hits)?;
        Some(out.into_iter().map(Arc::new).collect())
    } else {
        None
    };
    Ok(Some(Retuned {
        rules: (affected.iter().zip(rules).zip(hits))
            .map(|((&index, rule), hits)| RerunRule {
                index,
                loaded: Arc::clone(&loaded.rules[index]),
                rule,
                hits,
            })
            .collect(),
        corr_hits,
        filters,
        overlays,
        elapsed_ms: started.elapsed().as_millis(),
    }))
}
