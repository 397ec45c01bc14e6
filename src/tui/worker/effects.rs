//! Carrying out one effect: reading events, pivots and searches, recompiles, stacks, tuning
//! writes and exports, each reported as messages for `update`.

use super::{Ctx, bookmarks, compile, export, load_rules, retuned, short_path};
use crate::event::Event;
use crate::overlay::Overlay;
use crate::sigma::{CompiledRule, RuleMeta};
use crate::store::{EventRef, EventStore};
use crate::tui::action::{EditTarget, Effect, Msg, Refiltered, Tuning};
use rayon::prelude::*;
use std::sync::Arc;

fn fetch(snap: &dyn EventStore, refs: &[EventRef]) -> Vec<(EventRef, Arc<Event>)> {
    snap.prefetch(refs);
    refs.par_iter()
        .filter_map(|&r| snap.event(r).ok().map(|(e, _)| (r, Arc::new(e))))
        .collect()
}

pub(super) fn run(ctx: &Ctx, effect: Effect) -> anyhow::Result<Vec<Msg>> {
    let snap = ctx.snap();
    Ok(match effect {
        Effect::LoadRules => vec![Msg::Rules(Box::new(load_rules(ctx)?))],
        Effect::Interrupt => {
            snap.interrupt();
            Vec::new()
        }
        Effect::Fetch(refs) => vec![Msg::Events(fetch(&*snap, &refs))],
        Effect::Detail { r, rule } => vec![detail(ctx, &*snap, r, rule)?],
        Effect::Tree { generation, r } => {
            let (event, _) = snap.event(r)?;
            let tree = crate::proctree::build(&*snap, r, &event).map_err(|e| e.to_string());
            vec![Msg::Tree { generation, tree }]
        }
        Effect::Session { generation, r } => vec![session(&*snap, generation, r)?],
        Effect::Lateral { generation, hits } => {
            let found = lateral(&*snap, &hits).map_err(|e| e.to_string());
            vec![Msg::Lateral { generation, found }]
        }
        Effect::Pivot {
            generation,
            title,
            lookup,
            around,
        } => {
            let refs = snap.lookup(&lookup).map_err(|e| e.to_string());
            vec![Msg::Hits {
                generation,
                title,
                query: None,
                refs,
                around,
            }]
        }
        Effect::Search {
            generation,
            text,
            query,
        } => {
            let refs = crate::store::matching(&*snap, &query).map_err(|e| e.to_string());
            vec![Msg::Hits {
                generation,
                title: format!("search: {text}"),
                query: Some(text),
                refs,
                around: None,
            }]
        }
        Effect::Compile {
            generation,
            rule,
            text,
            origin,
            filters,
            feeds,
        } => vec![Msg::Compiled {
            generation,
            target: EditTarget::Rule(rule),
            result: compile::rule(
                &*snap,
                &*ctx.loader()?,
                &text,
                &origin,
                filters,
                feeds.map(|inputs| (rule, inputs)),
            )?,
        }],
        Effect::CompileCorrelation {
            generation,
            corr,
            text,
            origin,
            inputs,
        } => vec![Msg::Compiled {
            generation,
            target: EditTarget::Corr(corr),
            result: compile::correlation(&*snap, &*ctx.loader()?, corr, &text, &origin, &inputs)?,
        }],
        Effect::SaveRule { name, text } => save_rule(ctx, &name, &text)?,
        Effect::Stack {
            rule,
            of,
            field,
            refs,
        } => vec![stack(&*snap, rule, of, field, &refs)?],
        Effect::StackTuples {
            rule,
            of,
            fields,
            refs,
        } => vec![super::finder::stack_tuples(
            &*snap, rule, of, fields, &refs,
        )?],
        Effect::FilterList {
            generation,
            list,
            of,
            text,
            rows,
            query,
        } => {
            let kept = super::finder::filter_rows(&*snap, &rows, &query);
            let n = kept.as_ref().map_or(0, Vec::len);
            vec![Msg::Filtered {
                generation,
                list,
                title: crate::tui::app::filter_title(&of, n, rows.len(), &text),
                text,
                query,
                over: rows,
                rows: kept,
            }]
        }
        Effect::Refilter { stamp, base, lists } => vec![Msg::Refiltered {
            stamp,
            base: base.len(),
            lists: (lists.into_iter())
                .map(|(list, filters)| Refiltered {
                    list,
                    found: super::finder::refilter(&*snap, &base, &filters),
                })
                .collect(),
        }],
        Effect::AddOverlay {
            rule,
            field,
            value,
            tuning,
        } => add_overlay(ctx, &*snap, &rule.meta, &field, &value, &tuning)?,
        Effect::RemoveOverlay { overlay, tuning } => {
            vec![remove_overlay(ctx, &*snap, &overlay, &tuning)?]
        }
        Effect::Export { path, jsonl, rows } => {
            vec![export::write(ctx, &*snap, &path, jsonl, &rows)?]
        }
        Effect::ExportStack {
            path,
            jsonl,
            fields,
            values,
            missing,
        } => vec![export::write_stack(
            &path, jsonl, &fields, &values, missing,
        )?],
        Effect::Report { path, job } => vec![report(&*snap, &ctx.opts.case_dir, &path, &job)],
        Effect::Summaries { rules } => {
            let hits: Vec<crate::report::RuleHits<'_>> = (rules.iter())
                .map(|(rule, hits)| crate::report::RuleHits { rule, hits })
                .collect();
            let data = crate::report::summary::compute(&*snap, &hits)?;
            vec![Msg::Summaries(Arc::new(data))]
        }
        Effect::Copy { label, text } => {
            let path = ctx.opts.case_dir.join("clipboard.txt");
            std::fs::write(&path, &text)?;
            vec![Msg::Info(format!(
                "copied {label} (clipboard and {})",
                path.display()
            ))]
        }
        Effect::LoadBookmarks => vec![bookmarks::load(ctx, &*snap)?],
        Effect::AddBookmark {
            r,
            rule,
            note,
            tags,
        } => vec![bookmarks::add(ctx, &*snap, r, rule, note, tags)?],
        Effect::EditBookmark { id, note, tags } => vec![bookmarks::edit(ctx, &id, note, tags)?],
        Effect::RemoveBookmark { id } => vec![bookmarks::remove(ctx, &id)?],
        Effect::LoadCaseNote => vec![bookmarks::note(ctx)?],
        Effect::SaveCaseNote { text } => vec![bookmarks::save_note(ctx, text)?],
    })
}

/// An event for the detail view, with why the rule it is a hit of matched.
fn detail(
    ctx: &Ctx,
    snap: &dyn EventStore,
    r: EventRef,
    rule: Option<Arc<CompiledRule>>,
) -> anyhow::Result<Msg> {
    let (event, file) = snap.event(r)?;
    let matched = rule.and_then(|rule| rule.matches(&event));
    let file = ctx.files.get(&file).cloned().unwrap_or_default();
    Ok(Msg::Detail {
        r,
        event: Arc::new(event),
        file,
        matched,
    })
}

/// The events of the logon session `r` belongs to, listed like a pivot's.
fn session(snap: &dyn EventStore, generation: u64, r: EventRef) -> anyhow::Result<Msg> {
    let (event, _) = snap.event(r)?;
    let found = crate::logons::session_of(snap, &event, r.ts)?;
    let (title, refs) = match found {
        Some(s) => (
            crate::sanitize::for_terminal(&s.title()),
            snap.lookup(&s.lookup()).map_err(|e| e.to_string()),
        ),
        None => (
            "logon session".to_owned(),
            Err("this event names no logon session whose logon (4624) the case holds".to_owned()),
        ),
    };
    Ok(Msg::Hits {
        generation,
        title,
        query: None,
        refs,
        around: None,
    })
}

/// The case's sessions, the rule hits in each, and the edges they make.
fn lateral(
    snap: &dyn EventStore,
    hits: &[Arc<Vec<EventRef>>],
) -> Result<Box<crate::tui::action::LateralFound>, crate::store::StoreError> {
    let sessions = crate::logons::sessions(snap)?;
    // Every rule's hits: an event two rules hit counts twice, as the hit lists and
    // `huntbench lateral` count it.
    let mut refs: Vec<EventRef> = hits.iter().flat_map(|h| h.iter().copied()).collect();
    refs.sort_unstable();
    let counts = crate::logons::count_in_sessions(snap, &sessions, &refs)?;
    let edges = crate::logons::lateral::edges(snap, &sessions, &counts)?;
    Ok(Box::new(crate::tui::action::LateralFound {
        edges,
        sessions,
        hits: counts,
    }))
}

/// The editor's buffer saved to the user's rules, and every rule loaded again with it.
fn save_rule(ctx: &Ctx, name: &str, text: &str) -> anyhow::Result<Vec<Msg>> {
    let dir = ctx.user_rules();
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.yml"));
    std::fs::write(&path, text)?;
    Ok(vec![
        Msg::Info(format!("saved {}", short_path(&path))),
        Msg::Rules(Box::new(load_rules(ctx)?)),
    ])
}

/// How often each value of `field` occurs in the events of `refs` (the 500 commonest), read
/// as `rule` names the field when the list is a rule's hits.
fn stack(
    snap: &dyn EventStore,
    rule: Option<(usize, Arc<CompiledRule>)>,
    of: String,
    field: String,
    refs: &[EventRef],
) -> anyhow::Result<Msg> {
    let fields = [field];
    let stacked = super::finder::stacked(snap, rule.as_ref(), &fields, refs)?;
    let [field] = fields;
    Ok(Msg::Stack {
        rule: rule.map(|(i, _)| i),
        of,
        field,
        values: (stacked.tuples.into_iter())
            .filter_map(|(t, n)| Some((t.into_iter().next()?, n)))
            .collect(),
        missing: stacked.missing,
    })
}

/// A benign value written as an overlay, and the rules it applies to run again.
fn add_overlay(
    ctx: &Ctx,
    snap: &dyn EventStore,
    rule: &RuleMeta,
    field: &str,
    value: &str,
    tuning: &Tuning,
) -> anyhow::Result<Vec<Msg>> {
    let added = crate::overlay::add_exclusion(&ctx.opts.case_dir, rule, field, value)?;
    let written = Msg::Info(format!(
        "overlay {} written",
        (added.path.file_name())
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    let mut overlays = tuning.overlays.clone();
    overlays.push(added.clone());
    Ok(vec![written, retuned(ctx, snap, &added, overlays, tuning)?])
}

/// An overlay removed, and the rules it applied to run again without it.
fn remove_overlay(
    ctx: &Ctx,
    snap: &dyn EventStore,
    overlay: &Overlay,
    tuning: &Tuning,
) -> anyhow::Result<Msg> {
    std::fs::remove_file(&overlay.path)?;
    let overlays = (tuning.overlays.iter())
        .filter(|o| o.path != overlay.path)
        .cloned()
        .collect();
    retuned(ctx, snap, overlay, overlays, tuning)
}

/// Writes the report of the case as the workbench holds it; says where, or why not.
fn report(
    snap: &dyn EventStore,
    case_dir: &std::path::Path,
    path: &std::path::Path,
    job: &crate::tui::action::ReportJob,
) -> Msg {
    use crate::report::{CorrelationRun, Input, RuleRun};
    let input = Input {
        store: snap,
        case_dir,
        rules: (job.rules.iter())
            .map(|(rule, hits, state)| RuleRun {
                rule,
                hits,
                state: *state,
            })
            .collect(),
        correlations: (job.correlations.iter())
            .map(|(c, hits, state)| CorrelationRun {
                meta: &c.meta,
                hits: *hits,
                state: *state,
            })
            .collect(),
        not_loaded: job.not_loaded.clone(),
        overlays: &job.overlays,
        problems: &job.problems,
        sources: job.sources.clone(),
    };
    // The Markdown, and beside it the same as a page to open in a browser or hand on.
    let html = path.with_extension("html");
    let written = (crate::report::render(&input).map_err(anyhow::Error::from)).and_then(|text| {
        crate::report::write_atomic(path, &text)?;
        let page = crate::report::html_page(case_dir, &text);
        Ok(crate::report::write_atomic(&html, &page)?)
    });
    Msg::Reported(match written {
        Ok(()) => format!(
            "report written to {} and {}",
            path.display(),
            html.display()
        ),
        Err(e) => format!("error: report not written: {e:#}"),
    })
}
