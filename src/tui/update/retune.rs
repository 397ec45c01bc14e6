//! Tuning without a full reload: marking a value benign or removing an overlay re-runs only the
//! rules the overlay applies to (on the worker), and their rows take the new hits here.

use super::msg::spark;
use super::{refresh_timelines, refresh_visible, window};
use crate::tui::action::{Effect, Job, RerunRule, Retuned, Tuning};
use crate::tui::app::App;
use std::sync::Arc;

/// What the worker needs to re-run the rules an overlay applies to and no others.
pub fn tuning(app: &App) -> Arc<Tuning> {
    Arc::new(Tuning {
        loaded: super::editor::corr_inputs(app),
        filters: app.filters.clone(),
        overlays: app.overlays.clone(),
    })
}

/// Puts the re-run rules' hits in place; a list reloaded meanwhile is loaded again in full.
pub fn retuned(app: &mut App, done: Retuned) -> Vec<Effect> {
    let still_loaded = done.rules.iter().all(|r| {
        app.rules
            .get(r.index)
            .is_some_and(|row| Arc::ptr_eq(&row.rule, &r.loaded))
    });
    if !still_loaded {
        return vec![Effect::LoadRules];
    }
    app.busy.retain(|&b| b != Job::Rules);
    let mut changes = Vec::new();
    for RerunRule {
        index, rule, hits, ..
    } in done.rules
    {
        let row = &mut app.rules[index];
        if row.hits.len() != hits.len() {
            changes.push(format!(
                "{}: {} → {}",
                rule.meta.title,
                row.hits.len(),
                hits.len()
            ));
        }
        row.spark = spark(&hits.iter().map(|r| r.ts).collect::<Vec<_>>(), app.range);
        row.rule = rule;
        row.hits = hits;
    }
    if let Some(corr_hits) = done.corr_hits {
        for (row, hits) in app.correlations.iter_mut().zip(corr_hits) {
            if row.hits.len() != hits.len() {
                let title = &row.corr.meta.title;
                changes.push(format!("{title}: {} → {}", row.hits.len(), hits.len()));
            }
            let ts: Vec<i64> = hits.iter().map(|h| h.first.as_microsecond()).collect();
            row.spark = spark(&ts, app.range);
            row.hits = hits;
        }
    }
    super::msg::announce(app, changes);
    app.filters = done.filters;
    app.overlays = done.overlays;
    refresh_visible(app);
    super::msg::refresh_rule_screens(app);
    let mut effects = refresh_timelines(app);
    effects.extend(window(app));
    effects
}
