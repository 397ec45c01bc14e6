//! Opening things and pivoting from an event: detail, process tree, same value, around,
//! stacking, tuning, export and copy. Each pivot pushes a screen; Backspace pops it.

use super::push_hits;
use crate::event::Event;
use crate::overlay::Excludes;
use crate::proctree;
use crate::store::{EventRef, Lookup};
use crate::tui::action::{Around, Effect, ExportRow, Job};
use crate::tui::app::{App, CorrList, Detail, Entry, HitRow, Screen};
use std::sync::Arc;

/// The event under the cursor: its reference, the event when loaded, and the rule it hit.
pub(super) fn current(app: &App) -> Option<(EventRef, Option<Arc<Event>>, Option<usize>)> {
    match app.top()? {
        Screen::Hits(h) => {
            let row = h.rows.get(h.sel)?;
            Some((row.r, app.cache.get(&row.r).cloned(), row.rule.or(h.rule)))
        }
        Screen::Detail(d) => Some((d.r, d.event.clone(), d.rule)),
        Screen::Tree(t) => {
            let (_, idx) = *t.tree.lines.get(t.sel)?;
            let r = t.tree.nodes.get(idx)?.r;
            Some((r, app.cache.get(&r).cloned(), None))
        }
        _ => None,
    }
}

/// The selected field of the detail screen as `(name, first value)`.
fn selected_field(app: &App) -> Option<(String, String)> {
    let Some(Screen::Detail(d)) = app.top() else {
        return None;
    };
    let (name, value) = d.event.as_ref()?.fields.get(d.sel)?;
    Some((name.clone(), value.as_str()?.to_owned()))
}

pub fn open(app: &mut App) -> Vec<Effect> {
    match app.screens.last() {
        None => {
            let Some(&i) = app.visible.get(app.rule_sel) else {
                return Vec::new();
            };
            match app.entry(i) {
                Entry::Rule(i) => {
                    let rows = app.rules[i]
                        .hits
                        .iter()
                        .map(|&r| HitRow { r, rule: Some(i) })
                        .collect();
                    let title = app.rules[i].rule.meta.title.clone();
                    push_hits(app, title, rows, Some(i), None)
                }
                Entry::Corr(corr) => {
                    app.screens.push(Screen::Correlation(CorrList {
                        corr,
                        sel: 0,
                        offset: 0,
                    }));
                    Vec::new()
                }
                Entry::Failed(k) => {
                    if let Some(f) = app.failed.get(k) {
                        app.message = Some(format!(
                            "{} ({}) {}:{}",
                            f.title,
                            f.kind.name(),
                            f.origin,
                            f.reason
                        ));
                    }
                    Vec::new()
                }
            }
        }
        Some(Screen::Correlation(c)) => {
            let (corr, sel) = (c.corr, c.sel);
            correlation_events(app, corr, sel)
        }
        Some(Screen::Hits(_)) => {
            let Some((r, event, rule)) = current(app) else {
                return Vec::new();
            };
            app.screens.push(Screen::Detail(Box::new(Detail {
                r,
                rule,
                event,
                file: String::new(),
                matched: None,
                sel: 0,
            })));
            app.busy.push(Job::Detail);
            let rule = rule
                .and_then(|i| app.rules.get(i))
                .map(|r| Arc::clone(&r.rule));
            vec![Effect::Detail { r, rule }]
        }
        Some(Screen::Tree(t)) => {
            let Some(&(_, idx)) = t.tree.lines.get(t.sel) else {
                return Vec::new();
            };
            let node = t.tree.nodes[idx].clone();
            let lookup = proctree::activity(&node);
            let name = node
                .image
                .rsplit('\\')
                .next()
                .unwrap_or(&node.image)
                .to_owned();
            let title = format!("activity of {name} (pid {})", node.pid.unwrap_or(0));
            pivot(app, title, lookup)
        }
        Some(Screen::Stack(s)) if s.tuples.is_some() => match super::finder::tuple_lookup(app, s) {
            Some((title, lookup)) => pivot(app, title, lookup),
            None => Vec::new(),
        },
        Some(Screen::Stack(s)) => {
            let Some((value, _)) = s.values.get(s.sel) else {
                return Vec::new();
            };
            let Some(row) = s.rule.and_then(|i| app.rules.get(i)) else {
                // A list's stack: every event of the case with that value.
                let (field, value) = (s.field.clone(), value.clone());
                let title = format!("{field} = {}", crate::sanitize::for_terminal(&value));
                return pivot(app, title, Lookup::SameValue { field, value });
            };
            let (field, value, rule) = (s.field.clone(), value.clone(), Arc::clone(&row.rule));
            let title = format!("{} where {field} = {value}", rule.meta.title);
            pivot(app, title, Lookup::RuleValue { rule, field, value })
        }
        Some(Screen::Lateral(_)) => super::lateral::open_edge(app),
        Some(Screen::Sessions(_)) => super::lateral::open_session(app),
        _ => Vec::new(),
    }
}

/// The events that made one correlation hit, each with the base rule it hit (so the detail
/// explains the match and stacking/tuning work as on any rule hit).
fn correlation_events(app: &mut App, corr: usize, sel: usize) -> Vec<Effect> {
    let Some(row) = app.correlations.get(corr) else {
        return Vec::new();
    };
    let Some(hit) = row.hits.get(sel) else {
        return Vec::new();
    };
    let c = &row.corr;
    let base: Vec<usize> = (0..app.rules.len())
        .filter(|&i| {
            let m = &app.rules[i].rule.meta;
            c.rules
                .iter()
                .any(|r| m.id.as_deref() == Some(r) || m.name.as_deref() == Some(r))
        })
        .collect();
    let mut rows: Vec<HitRow> = hit
        .keys
        .iter()
        .map(|&r| HitRow {
            r,
            rule: base
                .iter()
                .copied()
                .find(|&i| app.rules[i].hits.binary_search(&r).is_ok()),
        })
        .collect();
    rows.sort_unstable_by_key(|h| (h.r, h.rule));
    let group: Vec<String> = hit.group.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let title = format!("events of {}", group.join(" "));
    push_hits(app, title, rows, None, None)
}

/// The events a lookup finds, as a new list.
pub(super) fn pivot(app: &mut App, title: String, lookup: Lookup) -> Vec<Effect> {
    run_pivot(app, title, lookup, None)
}

fn run_pivot(app: &mut App, title: String, lookup: Lookup, around: Option<Around>) -> Vec<Effect> {
    app.generation += 1;
    app.busy.push(Job::Query);
    app.pivot_origin = current(app).map(|(r, _, _)| (app.generation, r));
    vec![Effect::Pivot {
        generation: app.generation,
        title,
        lookup,
        around,
    }]
}

pub fn tree(app: &mut App) -> Vec<Effect> {
    let Some((r, _, _)) = current(app) else {
        return Vec::new();
    };
    // On the process the tree was opened on, re-rooting would draw the same tree again.
    if let Some(Screen::Tree(t)) = app.top() {
        if t.sel == t.tree.focus {
            app.message = Some("this tree is already rooted at this process".into());
            return Vec::new();
        }
        // The tree already climbs as far as the case allows: above a parent known only from
        // its children, the case names no one.
        if let Some(&(_, idx)) = t.tree.lines.get(t.sel)
            && let Some(n) = t.tree.nodes.get(idx).filter(|n| n.inferred)
        {
            app.message = Some(format!(
                "the creation of {} is not in the case, so nothing above it is known; the tree shows every child the case holds",
                n.image.rsplit('\\').next().unwrap_or(&n.image)
            ));
            return Vec::new();
        }
    }
    app.generation += 1;
    app.busy.push(Job::Tree);
    vec![Effect::Tree {
        generation: app.generation,
        r,
    }]
}

/// The events of the selected event's logon session, as a list.
pub fn session(app: &mut App) -> Vec<Effect> {
    let Some((r, _, _)) = current(app) else {
        return Vec::new();
    };
    app.generation += 1;
    app.busy.push(Job::Query);
    app.pivot_origin = Some((app.generation, r));
    vec![Effect::Session {
        generation: app.generation,
        r,
    }]
}

pub fn same_value(app: &mut App) -> Vec<Effect> {
    let Some((field, value)) = selected_field(app) else {
        app.message = Some("select a field with a value first".into());
        return Vec::new();
    };
    let title = format!("{field} = {}", crate::sanitize::for_terminal(&value));
    pivot(app, title, Lookup::SameValue { field, value })
}

/// Events around the selected one: on its computer, or on every computer (`all`).
pub fn around(app: &mut App, all: bool) -> Vec<Effect> {
    let Some((r, Some(event), _)) = current(app) else {
        app.message = Some("the event is still loading".into());
        return Vec::new();
    };
    // Without both there is nothing to pivot around: say so rather than list nothing.
    if r.ts == i64::MIN || (!all && event.computer().is_empty()) {
        let missing = if r.ts == i64::MIN { "time" } else { "computer" };
        app.message = Some(format!("this event has no {missing} to pivot around"));
        return Vec::new();
    }
    let anchor = Around {
        computer: (!all).then(|| event.computer().to_owned()),
        t0: r.ts,
    };
    around_of(app, anchor)
}

/// When the top list is a time pivot, the same pivot over the current span (after `+`/`-`);
/// its result replaces the list.
pub fn rerun_around(app: &mut App) -> Vec<Effect> {
    match app.top() {
        Some(Screen::Hits(h)) => match h.around.clone() {
            Some(anchor) => around_of(app, anchor),
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Events on the anchor's computer within ±`around_secs` of its time.
fn around_of(app: &mut App, anchor: Around) -> Vec<Effect> {
    let computer = anchor.computer.clone();
    let span = app.around_secs * 1_000_000;
    let title = format!(
        "{} ±{}",
        computer.as_deref().unwrap_or("all computers"),
        crate::tui::app::span_label(app.around_secs)
    );
    let lookup = Lookup::Around {
        computer,
        t0: anchor.t0,
        span,
    };
    run_pivot(app, title, lookup, Some(anchor))
}

/// The selected field of a rule hit's detail under the rule's Sigma name (so `NewProcessName`
/// of a 4688 hit and `Image` of a Sysmon hit are one field), with its value and the rule.
fn rule_field(app: &mut App) -> Option<(usize, String, String)> {
    let (field, value) = selected_field(app)?;
    let (_, Some(event), Some(rule)) = current(app)? else {
        return None;
    };
    let name = app.rules.get(rule)?.rule.sigma_field(&event, &field);
    if !name.eq_ignore_ascii_case(&field) {
        app.message = Some(format!(
            "{field} is {name} in the rule's names (read per source)"
        ));
    }
    Some((rule, name, value))
}

/// Stacks the selected field: over the rule's hits (by its Sigma name, so one rule's sources
/// stack together), else over the events of the list the event was opened from.
pub fn stack(app: &mut App) -> Vec<Effect> {
    let effect = match rule_field(app) {
        Some((rule, field, _)) => {
            let Some(row) = app.rules.get(rule) else {
                return Vec::new();
            };
            Effect::Stack {
                rule: Some((rule, Arc::clone(&row.rule))),
                of: format!("hits of {}", row.rule.meta.title),
                field,
                refs: Arc::clone(&row.hits),
            }
        }
        None => {
            let (Some((field, _)), Some(list)) = (selected_field(app), opened_from(app)) else {
                app.message = Some("select a field in an event's detail to stack it".into());
                return Vec::new();
            };
            let refs: Vec<EventRef> = list.rows.iter().map(|row| row.r).collect();
            Effect::Stack {
                rule: None,
                of: list.title.clone(),
                field,
                refs: Arc::new(refs),
            }
        }
    };
    app.busy.push(Job::Stack);
    vec![effect]
}

/// The hits list under the detail on top.
fn opened_from(app: &App) -> Option<&crate::tui::app::HitList> {
    let n = app.screens.len();
    match (app.screens.get(n.checked_sub(2)?), app.screens.last()) {
        (Some(Screen::Hits(h)), Some(Screen::Detail(_))) => Some(h),
        _ => None,
    }
}

pub fn benign(app: &mut App) -> Vec<Effect> {
    let target = match app.top() {
        Some(Screen::Stack(s)) if s.tuples.is_some() => {
            app.message = Some(
                "a stack by several fields marks nothing benign: stack the one field (s in a detail)"
                    .into(),
            );
            return Vec::new();
        }
        Some(Screen::Stack(s)) => s
            .values
            .get(s.sel)
            .and_then(|(v, _)| Some((s.rule?, s.field.clone(), v.clone()))),
        Some(Screen::Detail(_)) => rule_field(app),
        _ => None,
    };
    let Some((rule, field, value)) = target else {
        app.message = Some(match app.top() {
            Some(Screen::Stack(_)) => "an overlay tunes a rule, and this stack is over a search or pivot: stack from a rule hit's detail to mark a value benign".into(),
            _ => "mark benign from a rule hit's detail or a stack of a rule's hits".into(),
        });
        return Vec::new();
    };
    if let Some(why) = crate::overlay::field_problem(&field) {
        app.message = Some(crate::sanitize::for_terminal(&why));
        return Vec::new();
    }
    let Some(row) = app.rules.get(rule) else {
        return Vec::new();
    };
    // An overlay names its rule by id or name; one naming it otherwise would never apply.
    let meta = &row.rule.meta;
    if meta.id.is_none() && meta.name.is_none() {
        app.message =
            Some("this rule has no id or name for an overlay to name; give it an `id:` (e)".into());
        return Vec::new();
    }
    app.busy.push(Job::Rules);
    // The overlay takes this value's hits out of the rule: so does the stack of its hits.
    if let Some(Screen::Stack(s)) = app.screens.last_mut()
        && s.values.get(s.sel).is_some_and(|(v, _)| *v == value)
    {
        s.values.remove(s.sel);
        s.sel = s.sel.min(s.values.len().saturating_sub(1));
    }
    vec![Effect::AddOverlay {
        rule: Arc::clone(&row.rule),
        field,
        value,
        tuning: super::retune::tuning(app),
    }]
}

/// Removes the selected overlay on a second press (the first asks: the exclusion it holds may
/// be the work of a long tuning session, and it is deleted from disk).
pub fn delete_overlay(app: &mut App) -> Vec<Effect> {
    let key = app.keymap.key_of(&crate::tui::action::Action::Delete);
    let Some(Screen::Overlays { sel, delete_asked }) = app.screens.last_mut() else {
        return Vec::new();
    };
    let Some(overlay) = app.overlays.get(*sel) else {
        return Vec::new();
    };
    if !*delete_asked {
        *delete_asked = true;
        let what = match &overlay.excludes {
            Excludes::Value { rule, field, value } => format!("{rule}: {field} = {value}"),
            Excludes::Criteria(_) => format!("in {}", overlay.path.display()),
        };
        // The key comes first: a long description is cut at the screen edge.
        let scope = if app.overlay_is_case_own(&overlay.path) {
            "from this case"
        } else {
            "from every case (it is the user's, in the config directory)"
        };
        app.message = Some(format!("{key} again removes this overlay {scope}: {what}"));
        return Vec::new();
    }
    *delete_asked = false;
    let overlay = overlay.clone();
    app.busy.push(Job::Rules);
    vec![Effect::RemoveOverlay {
        overlay,
        tuning: super::retune::tuning(app),
    }]
}

pub fn export(app: &mut App, jsonl: bool) -> Vec<Effect> {
    if let Some(Screen::Stack(s)) = app.top() {
        let path = (app.case_dir.join("exports"))
            .join(super::slug(&format!("stack {} over {}", s.field, s.of)));
        // A tuple's values go in a column each, not joined as the screen shows them.
        let (fields, values) = match &s.tuples {
            Some(t) => (
                t.fields.clone(),
                (t.values.iter().cloned())
                    .zip(s.values.iter().map(|(_, n)| *n))
                    .collect(),
            ),
            None => (
                vec![s.field.clone()],
                (s.values.iter())
                    .map(|(v, n)| (vec![v.clone()], *n))
                    .collect(),
            ),
        };
        let effect = Effect::ExportStack {
            path,
            jsonl,
            fields,
            values,
            missing: s.missing,
        };
        app.busy.push(Job::Export);
        return vec![effect];
    }
    let Some(Screen::Hits(h)) = app.top() else {
        return Vec::new();
    };
    let slug = super::slug(&h.title);
    let path = app.case_dir.join("exports").join(slug);
    let rule = |i: Option<usize>| {
        i.and_then(|i| app.rules.get(i))
            .map(|r| Arc::clone(&r.rule))
    };
    let rows = h
        .rows
        .iter()
        .map(|row| ExportRow {
            r: row.r,
            rule: rule(row.rule.or(h.rule)),
        })
        .collect();
    app.busy.push(Job::Export);
    vec![Effect::Export { path, jsonl, rows }]
}

pub fn copy(app: &mut App, whole_event: bool) -> Vec<Effect> {
    if whole_event {
        let Some((_, Some(event), _)) = current(app) else {
            return Vec::new();
        };
        return vec![Effect::Copy {
            label: "event".into(),
            text: event.to_json(),
        }];
    }
    let Some((field, value)) = selected_field(app) else {
        return Vec::new();
    };
    vec![Effect::Copy {
        label: field,
        text: value,
    }]
}
