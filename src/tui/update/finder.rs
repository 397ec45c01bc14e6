//! Finding within what is on screen: a detail's field by name, a list narrowed by a query,
//! and a list's events stacked by several fields at once.

use super::{push_hits, window};
use crate::query::Query;
use crate::store::{EventRef, Lookup};
use crate::tui::action::{Effect, Job};
use crate::tui::app::{
    App, HitRow, InputError, InputKind, ListFilter, Screen, StackTuples, StackView,
};
use std::sync::Arc;

/// At most this many fields in one stack: tuples of more say little.
pub const MAX_STACK_FIELDS: usize = 3;

/// `f` in a detail: asks for a field name, proposing the last one (⏎ again moves on).
pub fn ask_field(app: &mut App) -> Vec<Effect> {
    if matches!(app.top(), Some(Screen::Detail(_))) {
        app.input = Some((InputKind::FindField, app.field_find.clone()));
        app.input_error = None;
    }
    Vec::new()
}

/// Moves the detail's cursor to the next field (after the cursor, wrapping) whose name holds
/// `text`, ignoring case; from a field that does not match, a field whose name starts with
/// it comes first (`image` is `Image` before `ParentImage`).
pub fn find_field(app: &mut App, text: String) -> Vec<Effect> {
    let needle = text.trim().to_lowercase();
    let Some(Screen::Detail(d)) = app.screens.last_mut() else {
        app.input = None;
        return Vec::new();
    };
    let Some(event) = &d.event else {
        app.input_error = Some(InputError {
            column: 1,
            message: "the event is still loading".into(),
        });
        return Vec::new();
    };
    let names: Vec<String> = event.fields.iter().map(|(n, _)| n.to_lowercase()).collect();
    let matching: Vec<usize> = (0..names.len())
        .filter(|&i| names[i].contains(&needle))
        .collect();
    if needle.is_empty() || matching.is_empty() {
        let message = if needle.is_empty() {
            "type (part of) a field's name".to_owned()
        } else {
            format!("no field name holds `{}`", text.trim())
        };
        app.input_error = Some(InputError { column: 1, message });
        return Vec::new();
    }
    let on_match = matching.contains(&d.sel);
    let prefix = matching
        .iter()
        .copied()
        .find(|&i| names[i].starts_with(&needle));
    let next = match prefix {
        Some(first) if !on_match => first,
        _ => (matching.iter().copied().find(|&i| i > d.sel))
            .or_else(|| matching.first().copied())
            .unwrap_or(d.sel),
    };
    d.sel = next;
    let nth = matching.iter().position(|&i| i == next).unwrap_or(0) + 1;
    let name = crate::sanitize::for_terminal(&event.fields[next].0);
    app.message = Some(format!(
        "{name}: field {nth} of {} whose name holds `{}`",
        matching.len(),
        crate::sanitize::for_terminal(text.trim())
    ));
    app.field_find = text;
    app.input = None;
    app.input_error = None;
    Vec::new()
}

/// A filter key on a list: asks for the query that narrows it.
pub fn ask_filter(app: &mut App) -> Vec<Effect> {
    if matches!(app.top(), Some(Screen::Hits(_))) {
        app.input = Some((InputKind::FilterList, String::new()));
        app.input_error = None;
    } else {
        app.message = Some("a filter narrows a list of events (hits, a search, a pivot)".into());
    }
    Vec::new()
}

/// The query narrowing the list on screen, run over its events on the worker.
pub fn filter(app: &mut App, text: String) -> Vec<Effect> {
    let query = match app.parse_query(&text) {
        Ok(q) => q,
        Err(e) => {
            app.input_error = Some(InputError {
                column: e.column,
                message: e.message,
            });
            return Vec::new();
        }
    };
    app.input = None;
    app.input_error = None;
    let Some(Screen::Hits(h)) = app.top() else {
        return Vec::new();
    };
    let (list, of) = (h.id, h.title.clone());
    let rows = Arc::clone(&h.rows);
    let on = h.rows.get(h.sel).map(|row| row.r);
    app.generation += 1;
    app.busy.push(Job::Query);
    app.pivot_origin = on.map(|r| (app.generation, r));
    vec![Effect::FilterList {
        generation: app.generation,
        list,
        of,
        text,
        rows,
        query: Arc::new(query),
    }]
}

/// The rows a filter kept: a list of its own over the list it narrows (⌫ gives that back),
/// with its rule and search, open on the row the cursor was on when that is kept.
pub fn filtered(
    app: &mut App,
    generation: u64,
    title: String,
    (list, text, query, over): (u64, String, Arc<Query>, Arc<Vec<HitRow>>),
    rows: Result<Vec<HitRow>, String>,
) -> Vec<Effect> {
    app.busy.retain(|&b| b != Job::Query);
    if generation != app.generation {
        return Vec::new();
    }
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => {
            app.message = Some(e);
            return Vec::new();
        }
    };
    // The list filtered must still be on top (⌫ meanwhile drops the result).
    let Some(Screen::Hits(under)) =
        (app.top()).filter(|t| matches!(t, Screen::Hits(h) if h.id == list))
    else {
        return Vec::new();
    };
    // A timeline that changed while the filter ran: the new list is derived again.
    let stale = under.timeline.is_some() && !Arc::ptr_eq(&under.rows, &over);
    // Each row names its rule, so details explain and tune as before; the list names none,
    // so a reload does not put the rule's every hit back in it.
    let rows: Vec<HitRow> = (rows.into_iter())
        .map(|row| HitRow {
            rule: row.rule.or(under.rule),
            ..row
        })
        .collect();
    // A filtered search is the search and the filter (what `S` would save).
    let query_text = (under.query.as_deref()).map(|q| format!("({q}) ({text})"));
    // A filtered timeline still follows the timeline, with this filter on top of its own.
    let timeline = (under.timeline.clone()).map(|mut filters| {
        filters.push(ListFilter { text, query });
        filters
    });
    let origin = (app.pivot_origin.take())
        .filter(|&(g, _)| g == generation)
        .map(|(_, r)| r);
    let mut effects = push_hits(app, title, rows, None, query_text);
    let page = app.page();
    if let Some(Screen::Hits(h)) = app.screens.last_mut() {
        h.timeline = timeline;
    }
    if let Some(Screen::Hits(h)) = app.screens.last_mut()
        && let Some(r) = origin
        && let Some(pos) = h.rows.iter().position(|row| row.r == r)
    {
        h.sel = pos;
        h.offset = pos.saturating_sub(page / 2);
        effects = window(app);
    }
    if stale {
        effects.extend(super::refresh_timelines(app));
    }
    effects
}

/// Asks for the fields to stack by: on a list, over its events; in a detail, proposing the
/// selected field first (over the rule's hits, by its names, else the list it came from).
pub fn ask_stack_fields(app: &mut App) -> Vec<Effect> {
    let proposed = match app.top() {
        Some(Screen::Hits(_)) => String::new(),
        Some(Screen::Detail(d)) => (d.event.as_ref())
            .and_then(|e| e.fields.get(d.sel))
            .map(|(name, _)| format!("{name},"))
            .unwrap_or_default(),
        _ => return Vec::new(),
    };
    app.input = Some((InputKind::StackFields, proposed));
    app.input_error = None;
    Vec::new()
}

/// Stacks the listed fields (`TargetUserName, IpAddress, Computer`).
pub fn stack_fields(app: &mut App, text: String) -> Vec<Effect> {
    let fields: Vec<String> = (text.split(','))
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect();
    let problem = match fields.len() {
        0 => Some("name a field, or up to three separated by commas".to_owned()),
        n if n > MAX_STACK_FIELDS => Some(format!(
            "at most {MAX_STACK_FIELDS} fields (this names {n})"
        )),
        _ => None,
    };
    if let Some(message) = problem {
        app.input_error = Some(InputError { column: 1, message });
        return Vec::new();
    }
    app.input = None;
    app.input_error = None;
    let (rule, of, refs) = match app.top() {
        Some(Screen::Hits(h)) => {
            let rule = h
                .rule
                .and_then(|i| Some((i, Arc::clone(&app.rules.get(i)?.rule))));
            let refs: Vec<EventRef> = h.rows.iter().map(|row| row.r).collect();
            (rule, h.title.clone(), Arc::new(refs))
        }
        Some(Screen::Detail(d)) => match d.rule.and_then(|i| Some((i, app.rules.get(i)?))) {
            // A rule hit's detail: over the rule's hits, by the rule's names for the fields.
            Some((i, row)) => (
                Some((i, Arc::clone(&row.rule))),
                format!("hits of {}", row.rule.meta.title),
                Arc::clone(&row.hits),
            ),
            None => {
                let n = app.screens.len();
                let Some(Screen::Hits(h)) = n.checked_sub(2).and_then(|i| app.screens.get(i))
                else {
                    app.message = Some("stack from a list or an event opened from one".into());
                    return Vec::new();
                };
                let refs: Vec<EventRef> = h.rows.iter().map(|row| row.r).collect();
                (None, h.title.clone(), Arc::new(refs))
            }
        },
        _ => return Vec::new(),
    };
    app.busy.push(Job::Stack);
    if let [field] = fields.as_slice() {
        return vec![Effect::Stack {
            rule,
            of,
            field: field.clone(),
            refs,
        }];
    }
    vec![Effect::StackTuples {
        rule,
        of,
        fields,
        refs,
    }]
}

/// How a stack by several fields shows its row (values apart, in the fields' order).
pub const TUPLE_SEPARATOR: &str = " │ ";

/// A stack by several fields arrived: a stack screen whose rows are the tuples.
pub fn stacked_tuples(
    app: &mut App,
    rule: Option<usize>,
    of: String,
    fields: Vec<String>,
    tuples: Vec<(Vec<String>, u64)>,
    missing: u64,
) {
    app.busy.retain(|&b| b != Job::Stack);
    let values = (tuples.iter())
        .map(|(vs, n)| (vs.join(TUPLE_SEPARATOR), *n))
        .collect();
    app.screens.push(Screen::Stack(StackView {
        rule,
        of,
        field: fields.join(TUPLE_SEPARATOR),
        values,
        missing,
        sel: 0,
        tuples: Some(StackTuples {
            fields,
            values: tuples.into_iter().map(|(vs, _)| vs).collect(),
        }),
    }));
}

/// ⏎ on a row of a stack by several fields: the events holding all of its values (of the
/// rule's hits, by its names, when the stack is over them).
pub fn tuple_lookup(app: &App, s: &StackView) -> Option<(String, Lookup)> {
    let t = s.tuples.as_ref()?;
    let values = t.values.get(s.sel)?;
    let rule = s.rule.and_then(|i| app.rules.get(i)).map(|r| &r.rule);
    let parts = (t.fields.iter().zip(values))
        .map(|(field, value)| match rule {
            Some(rule) => Lookup::RuleValue {
                rule: Arc::clone(rule),
                field: field.clone(),
                value: value.clone(),
            },
            None => Lookup::SameValue {
                field: field.clone(),
                value: value.clone(),
            },
        })
        .collect();
    let pairs: Vec<String> = (t.fields.iter().zip(values))
        .map(|(f, v)| format!("{f} = {}", crate::sanitize::for_terminal(v)))
        .collect();
    let title = match rule {
        Some(rule) => format!("{} where {}", rule.meta.title, pairs.join(", ")),
        None => pairs.join(", "),
    };
    Some((title, Lookup::All(parts)))
}
