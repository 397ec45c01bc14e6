//! Worker results folded into the state. Results stamped with an old generation are dropped.

use super::{push_hits, refresh_timelines, refresh_visible, window};
use crate::event::Event;
use crate::proctree::ProcTree;
use crate::sigma::correlation::{CorrelationType, silencers};
use crate::sigma::{Correlation, CorrelationHit, MatchDetail};
use crate::store::EventRef;
use crate::tui::action::{Around, Effect, Job, Msg, RulesLoaded};
use crate::tui::app::{
    App, CorrRow, HitList, HitRow, RuleRow, SPARK_BUCKETS, Screen, StackView, TreeView,
};
use std::collections::HashMap;
use std::sync::Arc;

/// Counts of `ts` in equal time buckets over `range` (the per-rule sparkline).
pub fn spark(ts: &[i64], range: Option<(i64, i64)>) -> Vec<u64> {
    buckets(ts, range, SPARK_BUCKETS)
}

/// Counts of `ts` in `n` equal time buckets over `range`.
pub fn buckets(ts: &[i64], range: Option<(i64, i64)>, n: usize) -> Vec<u64> {
    let mut out = vec![0u64; n];
    let Some((lo, hi)) = range else { return out };
    let width = (hi - lo).max(1) as i128;
    for &t in ts {
        let k = (i128::from(t.clamp(lo, hi) - lo) * n as i128 / (width + 1)) as usize;
        out[k.min(n - 1)] += 1;
    }
    out
}

fn corr_kind(kind: CorrelationType) -> &'static str {
    match kind {
        CorrelationType::EventCount => "correlation: event_count",
        CorrelationType::ValueCount => "correlation: value_count",
        CorrelationType::Temporal => "correlation: temporal",
        CorrelationType::TemporalOrdered => "correlation: temporal_ordered",
        CorrelationType::ValueSum => "correlation: value_sum",
        CorrelationType::ValueAvg => "correlation: value_avg",
        CorrelationType::ValuePercentile => "correlation: value_percentile",
        CorrelationType::ValueMedian => "correlation: value_median",
    }
}

fn rule_key(r: &RuleRow) -> String {
    r.rule
        .meta
        .id
        .clone()
        .unwrap_or_else(|| r.rule.meta.title.clone())
}

pub fn handle(app: &mut App, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Progress(p) => app.progress = Some(p),
        Msg::Ready {
            case_name,
            events,
            first,
            last,
            problems,
        } => {
            app.case_name = case_name;
            app.input_problems = problems;
            app.events = events;
            app.ready = true;
            app.range = first.zip(last);
            app.progress = Some("running rules".into());
            app.busy.push(Job::Rules);
            // The bookmarks first: reading them is quick, running the rules is not.
            return vec![Effect::LoadBookmarks, Effect::LoadRules];
        }
        Msg::Rules(loaded) => return rules_loaded(app, *loaded),
        Msg::Retuned(done) => return super::retune::retuned(app, *done),
        Msg::Events(evs) => app.cache.extend(evs),
        Msg::Detail {
            r,
            event,
            file,
            matched,
        } => detail(app, r, event, file, matched),
        Msg::Tree { generation, tree } => tree_built(app, generation, tree),
        Msg::Lateral { generation, found } => super::lateral::found(app, generation, found),
        Msg::Hits {
            generation,
            title,
            query,
            refs,
            around,
        } => {
            app.busy.retain(|&b| b != Job::Query);
            if generation != app.generation {
                return Vec::new();
            }
            match refs {
                Ok(refs) => return hits_found(app, generation, title, query, refs, around),
                Err(e) => app.message = Some(e),
            }
        }
        Msg::Compiled {
            generation,
            target,
            result,
        } => return super::editor::compiled(app, generation, target, result),
        Msg::Stack {
            rule,
            of,
            field,
            values,
            missing,
        } => {
            app.busy.retain(|&b| b != Job::Stack);
            app.screens.push(Screen::Stack(StackView {
                rule,
                of,
                field,
                values,
                missing,
                sel: 0,
                tuples: None,
            }));
        }
        Msg::StackTuples {
            rule,
            of,
            fields,
            tuples,
            missing,
        } => super::finder::stacked_tuples(app, rule, of, fields, tuples, missing),
        Msg::Filtered {
            generation,
            list,
            title,
            text,
            query,
            over,
            rows,
        } => {
            return super::finder::filtered(
                app,
                generation,
                title,
                (list, text, query, over),
                rows,
            );
        }
        Msg::Refiltered { stamp, base, lists } => {
            return super::timeline::refiltered(app, stamp, base, lists);
        }
        Msg::Keymap(km) => {
            if !km.problems.is_empty() {
                app.message = Some(format!("keymap: {}", km.problems.join("; ")));
            }
            app.keymap = km;
        }
        Msg::Exported(s) => {
            app.busy.retain(|&b| b != Job::Export);
            app.message = Some(s);
        }
        Msg::Reported(s) => {
            app.busy.retain(|&b| b != Job::Report);
            app.message = Some(s);
        }
        Msg::Summaries(data) => super::summary::summarised(app, data),
        Msg::Info(s) => app.message = Some(s),
        Msg::CaseGrew(n) => app.events_on_disk = Some(n),
        Msg::Bookmarks { rows, warnings } => super::bookmarks::loaded(app, rows, warnings),
        Msg::BookmarkSaved(row) => super::bookmarks::saved(app, *row),
        Msg::BookmarkRemoved(id) => super::bookmarks::removed(app, &id),
        Msg::CaseNote(text) => super::bookmarks::note_loaded(app, &text),
        Msg::CaseNoteSaved(text) => super::bookmarks::note_saved(app, text),
        Msg::Error(s) => {
            app.busy.clear();
            app.message = Some(format!("error: {s}"));
        }
    }
    Vec::new()
}

/// Every rule loaded and run: the lists take the new rules and hits, keeping what the user
/// turned off, and the hit counts that changed are announced.
fn rules_loaded(app: &mut App, loaded: RulesLoaded) -> Vec<Effect> {
    app.busy.retain(|&b| b != Job::Rules);
    app.progress = None;
    app.installed_rules.clone_from(&loaded.installed);
    app.mapping = Some(Arc::clone(&loaded.mapping));
    let old: HashMap<String, (usize, bool)> = app
        .rules
        .iter()
        .map(|r| (rule_key(r), (r.hits.len(), r.enabled)))
        .collect();
    let old_corr: HashMap<String, usize> = app
        .correlations
        .iter()
        .map(|c| (c.corr.meta.label().to_owned(), c.hits.len()))
        .collect();
    app.rules = rule_rows(app.range, &loaded);
    app.correlations = corr_rows(app, loaded.correlations, loaded.corr_hits);
    let mut changes = Vec::new();
    for c in &app.correlations {
        if let Some(&n) = old_corr.get(c.corr.meta.label())
            && n != c.hits.len()
        {
            changes.push(format!("{}: {n} → {}", c.corr.meta.title, c.hits.len()));
        }
    }
    for r in &mut app.rules {
        if let Some(&(n, enabled)) = old.get(&rule_key(r)) {
            r.enabled = enabled;
            if n != r.hits.len() {
                changes.push(format!("{}: {n} → {}", r.rule.meta.title, r.hits.len()));
            }
        }
    }
    announce(app, changes);
    app.failed = loaded.failed;
    app.filters = loaded.filters;
    app.overlays = loaded.overlays;
    refresh_visible(app);
    refresh_rule_screens(app);
    let mut effects = refresh_timelines(app);
    effects.extend(window(app));
    effects
}

/// The rules list's rows of loaded rules (all enabled; [`rules_loaded`] restores the user's
/// choices).
fn rule_rows(range: Option<(i64, i64)>, loaded: &RulesLoaded) -> Vec<RuleRow> {
    (loaded.rules.iter().zip(&loaded.hits))
        .map(|(rule, hits)| {
            let spark = spark(&hits.iter().map(|r| r.ts).collect::<Vec<_>>(), range);
            let (id, name) = (rule.meta.id.as_deref(), rule.meta.name.as_deref());
            let feeds = silencers(&loaded.correlations, id, name).collect();
            RuleRow {
                rule: Arc::clone(rule),
                enabled: true,
                hits: Arc::clone(hits),
                spark,
                feeds,
            }
        })
        .collect()
}

/// The rules list's rows of loaded correlations; reloads (after an edit or a benign mark) keep
/// correlations the user turned off.
fn corr_rows(
    app: &App,
    correlations: Vec<Arc<Correlation>>,
    corr_hits: Vec<Arc<Vec<CorrelationHit<EventRef>>>>,
) -> Vec<CorrRow> {
    let disabled: std::collections::HashSet<&str> = (app.correlations.iter())
        .filter(|c| !c.enabled)
        .map(|c| c.corr.meta.label())
        .collect();
    let feeds: Vec<Vec<usize>> = (correlations.iter())
        .map(|c| {
            let (id, name) = (c.meta.id.as_deref(), c.meta.name.as_deref());
            silencers(&correlations, id, name).collect()
        })
        .collect();
    (correlations.iter().zip(corr_hits).zip(feeds))
        .map(|((corr, hits), feeds)| {
            let ts: Vec<i64> = hits.iter().map(|h| h.first.as_microsecond()).collect();
            CorrRow {
                enabled: !disabled.contains(corr.meta.label()),
                corr: Arc::clone(corr),
                spark: spark(&ts, app.range),
                kind: corr_kind(corr.kind),
                hits,
                feeds,
            }
        })
        .collect()
}

/// An event's detail read: shown when its screen is still on top, cached either way.
fn detail(
    app: &mut App,
    r: EventRef,
    event: Arc<Event>,
    file: String,
    matched: Option<MatchDetail>,
) {
    app.busy.retain(|&b| b != Job::Detail);
    if let Some(Screen::Detail(d)) = app.screens.last_mut()
        && d.r == r
    {
        // Start on the first field that made the rule match.
        if let Some(m) = &matched
            && let Some(pos) = event.fields.iter().position(|(n, _)| {
                m.fields
                    .iter()
                    .any(|f| f.event_field.eq_ignore_ascii_case(n))
            })
        {
            d.sel = pos;
        }
        d.event = Some(Arc::clone(&event));
        d.file = file;
        d.matched = matched;
    }
    app.cache.insert(r, event);
}

/// A process tree built: opened with each node's count of alerting rules that hit it.
fn tree_built(app: &mut App, generation: u64, tree: Result<Option<ProcTree>, String>) {
    app.busy.retain(|&b| b != Job::Tree);
    if generation != app.generation {
        return;
    }
    match tree {
        Ok(Some(tree)) => {
            let marks = tree
                .nodes
                .iter()
                .map(|n| {
                    // An inferred parent's event is its child's creation.
                    (app.rules.iter())
                        .filter(|r| r.alerts() && r.hits.binary_search(&n.r).is_ok())
                        .filter(|_| !n.inferred)
                        .count()
                })
                .collect();
            let sel = tree.focus;
            app.screens
                .push(Screen::Tree(TreeView { tree, sel, marks }));
        }
        Ok(None) => app.message = Some("no process creation event for this event".into()),
        Err(e) => app.message = Some(format!("process tree failed: {e}")),
    }
}

/// The events a search or pivot found: a new list, or the time pivot on screen re-run over
/// a new span.
fn hits_found(
    app: &mut App,
    generation: u64,
    title: String,
    query: Option<String>,
    refs: Vec<EventRef>,
    around: Option<Around>,
) -> Vec<Effect> {
    let rows: Vec<HitRow> = refs.into_iter().map(|r| HitRow { r, rule: None }).collect();
    if let Some(Screen::Hits(h)) = app.screens.last_mut()
        && around.is_some()
        && h.around == around
    {
        // The same time pivot over a new span: replace the list in place.
        replace_rows(h, title, rows);
        return window(app);
    }
    let hint = (query.as_deref())
        .filter(|_| rows.is_empty())
        .and_then(|q| app.parse_query(q).ok())
        .and_then(|q| q.hints().into_iter().next());
    let origin = (app.pivot_origin.take())
        .filter(|&(g, _)| g == generation)
        .map(|(_, r)| r);
    let mut effects = push_hits(app, title, rows, None, query);
    if hint.is_some() {
        app.message = hint;
    }
    let page = app.page();
    if let Some(Screen::Hits(h)) = app.screens.last_mut() {
        h.around = around;
        // Open on the event pivoted from, mid-page, so what came just before and after it is
        // in view.
        if let Some(r) = origin
            && let Some(pos) = h.rows.iter().position(|row| row.r == r)
        {
            h.origin = Some(r);
            h.sel = pos;
            h.offset = pos.saturating_sub(page / 2);
            effects = window(app);
        }
    }
    effects
}

/// New rows for a list, the cursor kept on the event it was on when that is still listed.
fn replace_rows(h: &mut HitList, title: String, rows: Vec<HitRow>) {
    let was = h.rows.get(h.sel).map(|row| row.r);
    h.sel = was
        .and_then(|r| rows.iter().position(|row| row.r == r))
        .unwrap_or(h.sel)
        .min(rows.len().saturating_sub(1));
    h.offset = h.offset.min(h.sel);
    h.hist = super::hist_of(&rows);
    h.rows = Arc::new(rows);
    h.title = title;
}

/// After a reload, hits screens of a rule show that rule's new hits.
pub(super) fn refresh_rule_screens(app: &mut App) {
    for s in &mut app.screens {
        match s {
            Screen::Correlation(c) => {
                let n = app.correlations.get(c.corr).map_or(0, |r| r.hits.len());
                c.sel = c.sel.min(n.saturating_sub(1));
                c.offset = c.offset.min(c.sel);
            }
            Screen::Hits(h) => {
                let Some(i) = h.rule else { continue };
                let Some(row) = app.rules.get(i) else {
                    h.rule = None;
                    continue;
                };
                let rows: Vec<HitRow> = row
                    .hits
                    .iter()
                    .map(|&r| HitRow { r, rule: Some(i) })
                    .collect();
                h.hist = super::hist_of(&rows);
                h.sel = h.sel.min(rows.len().saturating_sub(1));
                h.offset = h.offset.min(h.sel);
                h.rows = Arc::new(rows);
            }
            Screen::Detail(d) => {
                if let Some(i) = d.rule
                    && let Some(row) = app.rules.get(i)
                    && d.event.as_ref().is_some_and(|e| !row.rule.is_match(e))
                {
                    d.matched = None;
                }
            }
            _ => {}
        }
    }
}

/// Says which counts changed, the effect first, then what caused it ("saved …", "overlay …").
pub(super) fn announce(app: &mut App, mut changes: Vec<String>) {
    if !changes.is_empty() {
        if let Some(prev) = app.message.take() {
            changes.push(prev);
        }
        app.message = Some(changes.join("; "));
    }
}
