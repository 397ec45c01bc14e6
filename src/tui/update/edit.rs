//! Text entry: the search/filter line and the live rule editor.

use super::refresh_visible;
use crate::index::EventRef;
use crate::tui::action::{Compiled, Effect};
use crate::tui::app::{App, Editor, InputKind, Screen};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Style;
use ratatui_textarea::TextArea;
use std::sync::Arc;

pub fn input_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let Some((kind, buf)) = app.input.as_mut() else {
        return Vec::new();
    };
    let kind = *kind;
    match key.code {
        KeyCode::Esc => {
            app.input = None;
            app.input_error = None;
        }
        KeyCode::Backspace => {
            buf.pop();
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => buf.push(c),
        KeyCode::Enter => {
            let text = buf.clone();
            return submit(app, kind, text);
        }
        _ => {}
    }
    if kind == InputKind::RuleFilter
        && let Some((_, buf)) = &app.input
    {
        app.rule_filter = buf.clone();
        refresh_visible(app);
    }
    Vec::new()
}

fn submit(app: &mut App, kind: InputKind, text: String) -> Vec<Effect> {
    match kind {
        InputKind::RuleFilter => {
            app.input = None;
            Vec::new()
        }
        InputKind::Search => match crate::query::parse(&text) {
            Ok(q) => {
                app.input = None;
                app.input_error = None;
                app.generation += 1;
                app.busy.push("query".into());
                vec![Effect::Search {
                    generation: app.generation,
                    text,
                    query: Arc::new(q),
                }]
            }
            Err(e) => {
                app.input_error = Some(format!(
                    "{}^ column {}: {}",
                    " ".repeat(e.column.saturating_sub(1)),
                    e.column,
                    e.message
                ));
                Vec::new()
            }
        },
        InputKind::SaveSearch => {
            app.input = None;
            let Some(Screen::Hits(h)) = app.top() else {
                return Vec::new();
            };
            let Some(q) = h.query.as_deref().and_then(|q| crate::query::parse(q).ok()) else {
                return Vec::new();
            };
            app.busy.push("rules".into());
            vec![Effect::SaveRule {
                name: format!("search-{}", super::slug(&text)),
                text: q.to_sigma_yaml(&text),
            }]
        }
    }
}

pub fn open_editor(app: &mut App) -> Vec<Effect> {
    let rule = match app.top() {
        None => app.selected_rule(),
        Some(Screen::Hits(h)) => h.rule,
        _ => None,
    };
    let Some((i, row)) = rule.and_then(|i| app.rules.get(i).map(|r| (i, r))) else {
        app.message = Some("select a rule to edit".into());
        return Vec::new();
    };
    let lines: Vec<String> = row.rule.meta.text().lines().map(str::to_owned).collect();
    let mut area = TextArea::new(lines);
    // Line numbers, so errors can be marked in the gutter (the view styles it); no cursor-line
    // underline, which would read like an error mark.
    area.set_line_number_style(Style::default());
    area.set_cursor_line_style(Style::default());
    app.screens.push(Screen::Editor(Box::new(Editor {
        rule: i,
        area,
        generation: 0,
        old: Arc::clone(&row.hits),
        compiled: None,
        errors: Vec::new(),
        added: 0,
        removed: 0,
        diff: Vec::new(),
        pending: false,
    })));
    Vec::new()
}

pub fn editor_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let filters = app.filters.clone();
    let Some(Screen::Editor(ed)) = app.screens.last_mut() else {
        return Vec::new();
    };
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Esc => {
            app.screens.pop();
            Vec::new()
        }
        KeyCode::Char('s') if ctrl => {
            let text = ed.area.lines().join("\n") + "\n";
            let Some(row) = app.rules.get(ed.rule) else {
                return Vec::new();
            };
            let meta = &row.rule.meta;
            let base = meta.id.clone().unwrap_or_else(|| meta.title.clone());
            let name: String = base
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            // The reload may renumber rules, so the editor closes; the list shows the new count.
            app.screens.pop();
            app.busy.push("rules".into());
            vec![Effect::SaveRule { name, text }]
        }
        _ => {
            if !ed.area.input(key) {
                return Vec::new();
            }
            ed.generation += 1;
            ed.pending = true;
            let Some(row) = app.rules.get(ed.rule) else {
                return Vec::new();
            };
            let origin = format!("{} (edited)", row.rule.meta.origin);
            vec![Effect::Compile {
                generation: ed.generation,
                rule: ed.rule,
                text: ed.area.lines().join("\n"),
                origin,
                filters,
            }]
        }
    }
}

/// Added and removed hits listed under the editor (each).
const DIFF_ROWS: usize = 4;

pub fn compiled(app: &mut App, generation: u64, rule: usize, result: Compiled) -> Vec<Effect> {
    let Some(Screen::Editor(ed)) = app.screens.last_mut() else {
        return Vec::new();
    };
    if ed.generation != generation || ed.rule != rule {
        return Vec::new();
    }
    ed.pending = false;
    match result {
        Ok((compiled, hits)) => {
            let added: Vec<EventRef> = hits
                .iter()
                .copied()
                .filter(|r| ed.old.binary_search(r).is_err())
                .collect();
            let removed: Vec<EventRef> = ed
                .old
                .iter()
                .copied()
                .filter(|r| hits.binary_search(r).is_err())
                .collect();
            ed.added = added.len();
            ed.removed = removed.len();
            ed.diff = added
                .iter()
                .take(DIFF_ROWS)
                .map(|&r| (true, r))
                .chain(removed.iter().take(DIFF_ROWS).map(|&r| (false, r)))
                .collect();
            ed.compiled = Some((compiled, Arc::new(hits)));
            ed.errors.clear();
        }
        Err(errors) => {
            ed.compiled = None;
            ed.errors = errors;
            ed.diff.clear();
        }
    }
    let missing: Vec<EventRef> = ed
        .diff
        .iter()
        .map(|(_, r)| *r)
        .filter(|r| !app.cache.contains_key(r))
        .collect();
    if missing.is_empty() {
        Vec::new()
    } else {
        vec![Effect::Fetch(missing)]
    }
}
