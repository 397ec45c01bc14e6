//! The live rule editor, for detection and correlation rules alike: each change is recompiled
//! on the worker (debounced there) and compared with the hits before the edit; the save key
//! (Ctrl-S unless `[editor]` in `keymap.toml` says otherwise) saves the buffer to the user's rules directory, where it replaces the rule of the same id.

use crate::sigma::{CorrelationHit, RuleMeta};
use crate::store::EventRef;
use crate::tui::action::{Action, Compiled, CorrInputs, EditHits, EditTarget, Effect, Job};
use crate::tui::app::{App, DiffRow, Editor, Entry, Screen};
use crate::tui::keymap::Scope;
use crossterm::event::KeyEvent;
use ratatui::style::Style;
use ratatui_textarea::TextArea;
use std::collections::HashMap;
use std::sync::Arc;

/// What `e` edits: the selected rule or correlation rule, the rule of a hits list, or the
/// correlation whose hits are listed.
fn target(app: &App) -> Option<EditTarget> {
    match app.top() {
        None => match app.entry(*app.visible.get(app.rule_sel)?) {
            Entry::Rule(i) => Some(EditTarget::Rule(i)),
            Entry::Corr(k) => Some(EditTarget::Corr(k)),
            Entry::Failed(_) => None,
        },
        Some(Screen::Hits(h)) => h.rule.map(EditTarget::Rule),
        Some(Screen::Correlation(c)) => Some(EditTarget::Corr(c.corr)),
        _ => None,
    }
}

/// The metadata of what the editor edits.
pub fn target_meta(app: &App, target: EditTarget) -> Option<&RuleMeta> {
    match target {
        EditTarget::Rule(i) => app.rules.get(i).map(|r| &r.rule.meta),
        EditTarget::Corr(k) => app.correlations.get(k).map(|c| &c.corr.meta),
    }
}

/// Every loaded rule with its hits and every correlation, as an edited correlation needs them.
pub(super) fn corr_inputs(app: &App) -> CorrInputs {
    CorrInputs {
        rules: app.rules.iter().map(|r| Arc::clone(&r.rule)).collect(),
        hits: app.rules.iter().map(|r| Arc::clone(&r.hits)).collect(),
        correlations: app
            .correlations
            .iter()
            .map(|c| Arc::clone(&c.corr))
            .collect(),
    }
}

pub fn open_editor(app: &mut App) -> Vec<Effect> {
    let opened = target(app).and_then(|t| match t {
        EditTarget::Rule(i) => {
            let row = app.rules.get(i)?;
            let (id, name) = (row.rule.meta.id.as_deref(), row.rule.meta.name.as_deref());
            let feeds = (app.correlations.iter()).any(|c| c.corr.references(id, name));
            let inputs = feeds.then(|| Arc::new(corr_inputs(app)));
            Some((t, EditHits::Rule(Arc::clone(&row.hits)), inputs))
        }
        EditTarget::Corr(k) => {
            let row = app.correlations.get(k)?;
            let inputs = Arc::new(corr_inputs(app));
            Some((t, EditHits::Corr(Arc::clone(&row.hits)), Some(inputs)))
        }
    });
    let Some((target, old, inputs)) = opened else {
        app.message = Some("select a rule or correlation rule to edit".into());
        return Vec::new();
    };
    let text = target_meta(app, target)
        .map(RuleMeta::text)
        .unwrap_or_default();
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let original = lines.join("\n");
    let mut area = TextArea::new(lines);
    // Line numbers, so errors can be marked in the gutter (the view styles it); no cursor-line
    // underline, which would read like an error mark.
    area.set_line_number_style(Style::default());
    area.set_cursor_line_style(Style::default());
    app.screens.push(Screen::Editor(Box::new(Editor {
        target,
        area,
        generation: 0,
        old,
        compiled: None,
        errors: Vec::new(),
        notes: Vec::new(),
        added: 0,
        removed: 0,
        diff: Vec::new(),
        pending: false,
        inputs,
        original,
        discard_asked: false,
        quit_asked: false,
        save_pending: false,
    })));
    Vec::new()
}

/// A file name for a saved rule: its id (else title) with anything unusual as `_`. A saved
/// search keeps its own file name, so the edit replaces it.
fn file_name(meta: &RuleMeta) -> String {
    let origin = std::path::Path::new(&meta.origin);
    if let Some(stem) = origin.file_stem().and_then(|s| s.to_str())
        && meta.saved_search
    {
        return stem.to_owned();
    }
    let base = meta.id.clone().unwrap_or_else(|| meta.title.clone());
    base.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Quitting from the editor: with unsaved edits, the first Ctrl-C only asks, as Esc does.
pub fn editor_quit(app: &mut App) {
    let save = key_of(app, &Action::SaveEdit);
    let Some(Screen::Editor(ed)) = app.screens.last_mut() else {
        app.quit = true;
        return;
    };
    let edited = ed.area.lines().join("\n") != ed.original;
    if edited && !ed.quit_asked {
        ed.quit_asked = true;
        ed.discard_asked = false;
        ed.save_pending = false;
        app.message = Some(format!(
            "unsaved changes: Ctrl-C again to quit without them, {save} to save"
        ));
        return;
    }
    app.quit = true;
}

/// The editor's close key: with unsaved edits, the first press only asks.
pub fn close(app: &mut App) -> Vec<Effect> {
    let (close, save) = (key_of(app, &Action::Back), key_of(app, &Action::SaveEdit));
    let Some(Screen::Editor(ed)) = app.screens.last_mut() else {
        return Vec::new();
    };
    ed.quit_asked = false;
    let edited = ed.area.lines().join("\n") != ed.original;
    if edited && !ed.discard_asked {
        ed.discard_asked = true;
        ed.save_pending = false;
        app.message = Some(format!(
            "unsaved changes: {close} again to discard, {save} to save"
        ));
        return Vec::new();
    }
    app.screens.pop();
    app.message = edited.then(|| "edits discarded".into());
    Vec::new()
}

/// The editor's save key: saved if the buffer compiles (once its check is in, if pending).
pub fn save_key(app: &mut App) -> Vec<Effect> {
    let close = key_of(app, &Action::Back);
    let Some(Screen::Editor(ed)) = app.screens.last_mut() else {
        return Vec::new();
    };
    ed.discard_asked = false;
    ed.quit_asked = false;
    if ed.pending {
        // The verdict on the latest keystroke is on its way: save when it compiles.
        ed.save_pending = true;
        app.message = Some("checking the rule: saved if it compiles".into());
        return Vec::new();
    }
    if let Some(why) = refusal(ed, &close) {
        app.message = Some(why);
        return Vec::new();
    }
    save(app)
}

/// A key typed into the editor's buffer (its own bindings are handled above).
pub fn editor_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let filters = app.filters.clone();
    let Some(Screen::Editor(ed)) = app.screens.last_mut() else {
        return Vec::new();
    };
    if !ed.area.input(key) {
        return Vec::new();
    }
    // An edit answers any question asked about the previous text.
    if ed.discard_asked || ed.quit_asked || ed.save_pending {
        app.message = None;
    }
    ed.discard_asked = false;
    ed.quit_asked = false;
    ed.save_pending = false;
    ed.generation += 1;
    ed.pending = true;
    let (generation, target) = (ed.generation, ed.target);
    let text = ed.area.lines().join("\n");
    let inputs = ed.inputs.clone();
    let Some(meta) = target_meta(app, target) else {
        return Vec::new();
    };
    let origin = format!("{} (edited)", meta.origin);
    match (target, inputs) {
        (EditTarget::Rule(rule), feeds) => vec![Effect::Compile {
            generation,
            rule,
            text,
            origin,
            filters,
            feeds,
        }],
        (EditTarget::Corr(corr), Some(inputs)) => vec![Effect::CompileCorrelation {
            generation,
            corr,
            text,
            origin,
            inputs,
        }],
        (EditTarget::Corr(_), None) => Vec::new(),
    }
}

/// The label of the key bound to `action` in the editor (as the user's keymap has it).
fn key_of(app: &App, action: &Action) -> String {
    app.keymap.key_in(Scope::Editor, action)
}

/// Why the buffer is not saved: it does not compile (a saved broken rule would only be listed
/// as failed, replacing the working one).
fn refusal(ed: &Editor, close: &str) -> Option<String> {
    let first = ed.errors.first()?;
    let more = match ed.errors.len() {
        1 => String::new(),
        n => format!(" (+{} more)", n - 1),
    };
    Some(format!(
        "not saved: the rule does not compile, line {}:{}: {}{more}; fix it, or {close} to discard",
        first.line, first.col, first.message
    ))
}

/// Writes the buffer to the user's rules directory and closes the editor.
fn save(app: &mut App) -> Vec<Effect> {
    let Some(Screen::Editor(ed)) = app.screens.last() else {
        return Vec::new();
    };
    let text = ed.area.lines().join("\n") + "\n";
    let Some(name) = target_meta(app, ed.target).map(file_name) else {
        return Vec::new();
    };
    // The reload may renumber rules, so the editor closes; the list shows the new count.
    app.screens.pop();
    app.message = None;
    app.busy.push(Job::Rules);
    vec![Effect::SaveRule { name, text }]
}

/// Added and removed hits listed under the editor (each).
const DIFF_ROWS: usize = 4;

/// How many hits `new` adds to `old` and removes from it, with the first rows of each:
/// `kept_new[i]` / `kept_old[i]` say which hits have a counterpart on the other side.
fn diff<T: Clone>(
    old: &[T],
    new: &[T],
    kept_old: &[bool],
    kept_new: &[bool],
    row: impl Fn(bool, T) -> DiffRow,
) -> (usize, usize, Vec<DiffRow>) {
    let added: Vec<&T> = (new.iter().zip(kept_new))
        .filter(|(_, k)| !**k)
        .map(|(h, _)| h)
        .collect();
    let removed: Vec<&T> = (old.iter().zip(kept_old))
        .filter(|(_, k)| !**k)
        .map(|(h, _)| h)
        .collect();
    let first = |hits: &[&T], yes: bool| -> Vec<DiffRow> {
        let shown = hits.iter().take(DIFF_ROWS);
        shown.map(|&h| row(yes, h.clone())).collect()
    };
    let mut rows = first(&added, true);
    rows.extend(first(&removed, false));
    (added.len(), removed.len(), rows)
}

/// Rule hits are sorted event references. Correlation windows are paired one to one: a new
/// window keeps the first unpaired old window of its group that it overlaps in time (an edit
/// that moves a window or changes its count alters that window, it does not replace it), and
/// whatever is left unpaired is added or removed, so `old + added - removed = new`.
fn hits_diff(old: &EditHits, new: &EditHits) -> (usize, usize, Vec<DiffRow>) {
    match (old, new) {
        (EditHits::Rule(old), EditHits::Rule(new)) => {
            let kept_old: Vec<bool> = old.iter().map(|r| new.binary_search(r).is_ok()).collect();
            let kept_new: Vec<bool> = new.iter().map(|r| old.binary_search(r).is_ok()).collect();
            diff(old, new, &kept_old, &kept_new, DiffRow::Event)
        }
        (EditHits::Corr(old), EditHits::Corr(new)) => {
            let (kept_old, kept_new) = pair_windows(old, new);
            diff(old, new, &kept_old, &kept_new, DiffRow::Window)
        }
        _ => (0, 0, Vec::new()),
    }
}

/// Which old and which new windows have a partner (same group, overlapping in time).
fn pair_windows(
    old: &[CorrelationHit<EventRef>],
    new: &[CorrelationHit<EventRef>],
) -> (Vec<bool>, Vec<bool>) {
    // Groups are case-insensitive (each window shows its first event's spelling).
    let key = |h: &CorrelationHit<EventRef>| -> Vec<String> {
        h.group.iter().map(|(_, v)| v.to_lowercase()).collect()
    };
    let mut by_group: HashMap<Vec<String>, Vec<usize>> = HashMap::new();
    for (i, h) in old.iter().enumerate() {
        by_group.entry(key(h)).or_default().push(i);
    }
    for list in by_group.values_mut() {
        list.sort_by_key(|&i| old[i].first);
    }
    let (mut kept_old, mut kept_new) = (vec![false; old.len()], vec![false; new.len()]);
    let mut order: Vec<usize> = (0..new.len()).collect();
    order.sort_by_key(|&i| new[i].first);
    for n in order {
        let h = &new[n];
        let partner = by_group.get(&key(h)).and_then(|list| {
            (list.iter().copied())
                .find(|&o| !kept_old[o] && old[o].first <= h.last && h.first <= old[o].last)
        });
        if let Some(o) = partner {
            kept_old[o] = true;
            kept_new[n] = true;
        }
    }
    (kept_old, kept_new)
}

pub fn compiled(
    app: &mut App,
    generation: u64,
    target: EditTarget,
    result: Compiled,
) -> Vec<Effect> {
    let close = key_of(app, &Action::Back);
    let Some(Screen::Editor(ed)) = app.screens.last_mut() else {
        return Vec::new();
    };
    if ed.generation != generation || ed.target != target {
        return Vec::new();
    }
    ed.pending = false;
    match result {
        Ok((hits, notes)) => {
            (ed.added, ed.removed, ed.diff) = hits_diff(&ed.old, &hits);
            ed.compiled = Some(hits);
            ed.notes = notes;
            ed.errors.clear();
        }
        Err(errors) => {
            ed.compiled = None;
            ed.errors = errors;
            ed.notes.clear();
            ed.diff.clear();
        }
    }
    if std::mem::take(&mut ed.save_pending) {
        match refusal(ed, &close) {
            Some(why) => app.message = Some(why),
            None => return save(app),
        }
    }
    let Some(Screen::Editor(ed)) = app.screens.last() else {
        return Vec::new();
    };
    let missing: Vec<EventRef> = ed
        .diff
        .iter()
        .filter_map(|d| match d {
            DiffRow::Event(_, r) => Some(*r),
            DiffRow::Window(..) => None,
        })
        .filter(|r| !app.cache.contains_key(r))
        .collect();
    if missing.is_empty() {
        Vec::new()
    } else {
        vec![Effect::Fetch(missing)]
    }
}
