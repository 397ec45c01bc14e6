//! Bookmarks and the case note. `m` asks for a note (its `#tag` words are tags) and bookmarks
//! the event under the cursor, or edits the bookmark it has; the Bookmarks screen lists them in
//! time order; `N` edits the case note. The files are written by the worker, and the list
//! changes when it says they are on disk.

use crate::bookmarks::{RuleRef, parse_note};
use crate::store::EventRef;
use crate::tui::action::{Action, BookmarkRow, Effect, Job};
use crate::tui::app::{App, BookmarkTarget, Detail, InputKind, NoteEditor, Screen};
use crate::tui::keymap::Scope;
use crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;
use std::sync::Arc;

/// Whether the Bookmarks screen is on top.
pub fn on_list(app: &App) -> bool {
    matches!(app.top(), Some(Screen::Bookmarks { .. }))
}

/// `m`: the note input for the selected event (its bookmark's note and tags when it has one)
/// or the selected bookmark.
pub fn bookmark(app: &mut App) -> Vec<Effect> {
    let target = match app.top() {
        Some(Screen::Bookmarks { sel, .. }) => {
            (app.bookmarks.get(*sel)).map(|b| BookmarkTarget::Edit {
                id: b.mark.id.clone(),
            })
        }
        _ => super::pivot::current(app).map(|(r, _, rule)| match app.bookmark_of(r) {
            Some(b) => BookmarkTarget::Edit {
                id: b.mark.id.clone(),
            },
            None => BookmarkTarget::New { r, rule },
        }),
    };
    let Some(target) = target else {
        app.message = Some("select an event to bookmark (a hit, a tree node, a detail)".into());
        return Vec::new();
    };
    let text = match &target {
        BookmarkTarget::Edit { id } => (app.bookmarks.iter())
            .find(|b| b.mark.id == *id)
            .map(|b| b.mark.note_line())
            .unwrap_or_default(),
        BookmarkTarget::New { .. } => String::new(),
    };
    app.input = Some((InputKind::BookmarkNote, text));
    app.input_error = None;
    app.bookmark_target = Some(target);
    Vec::new()
}

/// Enter on the note input: the bookmark written (by the worker).
pub fn submit(app: &mut App, text: &str) -> Vec<Effect> {
    app.input = None;
    app.input_error = None;
    let Some(target) = app.bookmark_target.take() else {
        return Vec::new();
    };
    let (note, tags) = parse_note(text);
    match target {
        BookmarkTarget::New { r, rule } => {
            let rule = (rule.and_then(|i| app.rules.get(i))).map(|row| RuleRef {
                id: row.rule.meta.id.clone(),
                title: row.rule.meta.title.clone(),
            });
            vec![Effect::AddBookmark {
                r,
                rule,
                note,
                tags,
            }]
        }
        BookmarkTarget::Edit { id } => vec![Effect::EditBookmark { id, note, tags }],
    }
}

/// `B`: the Bookmarks screen (once on the stack).
pub fn open_list(app: &mut App) -> Vec<Effect> {
    if !on_list(app) {
        app.screens.push(Screen::Bookmarks {
            sel: 0,
            delete_asked: false,
        });
    }
    Vec::new()
}

/// Enter on a bookmark: its event's detail, explained by its rule when that is loaded.
pub fn open_selected(app: &mut App) -> Vec<Effect> {
    let Some(Screen::Bookmarks { sel, .. }) = app.top() else {
        return Vec::new();
    };
    let Some(row) = app.bookmarks.get(*sel) else {
        return Vec::new();
    };
    let Some(r) = row.r else {
        app.message = Some("this bookmark's event is not in the case as opened".into());
        return Vec::new();
    };
    let rule = row.mark.rule.as_ref().and_then(|want| {
        (app.rules.iter()).position(|x| match &want.id {
            Some(id) => x.rule.meta.id.as_deref() == Some(id.as_str()),
            None => x.rule.meta.title == want.title,
        })
    });
    open_detail(app, r, rule)
}

fn open_detail(app: &mut App, r: EventRef, rule: Option<usize>) -> Vec<Effect> {
    app.screens.push(Screen::Detail(Box::new(Detail {
        r,
        rule,
        event: app.cache.get(&r).cloned(),
        file: String::new(),
        matched: None,
        sel: 0,
    })));
    app.busy.push(Job::Detail);
    let rule = (rule.and_then(|i| app.rules.get(i))).map(|row| Arc::clone(&row.rule));
    vec![Effect::Detail { r, rule }]
}

/// The delete key on a bookmark: asks first, removes on the second press.
pub fn delete(app: &mut App) -> Vec<Effect> {
    let key = app.keymap.key_in(Scope::Bookmarks, &Action::Delete);
    let Some(Screen::Bookmarks { sel, delete_asked }) = app.screens.last_mut() else {
        return Vec::new();
    };
    let Some(row) = app.bookmarks.get(*sel) else {
        return Vec::new();
    };
    if !*delete_asked {
        *delete_asked = true;
        let when = (row.mark.event.ts()).map_or_else(|| "-".into(), crate::tui::views::time);
        app.message = Some(format!(
            "remove the bookmark of {when} on {}? {key} again removes it",
            row.mark.event.computer
        ));
        return Vec::new();
    }
    *delete_asked = false;
    vec![Effect::RemoveBookmark {
        id: row.mark.id.clone(),
    }]
}

/// The time order of the list: the event's time, then when it was bookmarked.
fn order(row: &BookmarkRow) -> (Option<i64>, String) {
    (row.mark.event.ts(), row.mark.added.clone())
}

fn clamp_list(app: &mut App) {
    let n = app.bookmarks.len();
    for s in &mut app.screens {
        if let Screen::Bookmarks { sel, .. } = s {
            *sel = (*sel).min(n.saturating_sub(1));
        }
    }
}

/// The bookmarks read when the case opened.
pub fn loaded(app: &mut App, mut rows: Vec<BookmarkRow>, warnings: Vec<String>) {
    rows.sort_by_key(order);
    app.bookmarks = rows;
    clamp_list(app);
    if let Some(first) = warnings.first() {
        let more = match warnings.len() {
            1 => String::new(),
            n => format!(" (+{} more)", n - 1),
        };
        app.message = Some(format!("bookmarks: {first}{more}"));
    }
}

/// A bookmark on disk: listed (in place of the one of its id).
pub fn saved(app: &mut App, row: BookmarkRow) {
    let tags: Vec<String> = row.mark.tags.iter().map(|t| format!("#{t}")).collect();
    app.message = Some(format!("bookmarked: {} {}", row.mark.note, tags.join(" ")));
    match app.bookmarks.iter_mut().find(|b| b.mark.id == row.mark.id) {
        Some(old) => {
            old.r = row.r.or(old.r);
            old.mark = row.mark;
        }
        None => {
            app.bookmarks.push(row);
            app.bookmarks.sort_by_key(order);
        }
    }
}

/// A bookmark removed on disk: gone from the list.
pub fn removed(app: &mut App, id: &str) {
    app.bookmarks.retain(|b| b.mark.id != id);
    clamp_list(app);
    app.message = Some("bookmark removed".into());
}

/// `N`: the case note is read (by the worker), then edited.
pub fn open_note(app: &mut App) -> Vec<Effect> {
    if matches!(app.top(), Some(Screen::Note(_))) {
        return Vec::new();
    }
    vec![Effect::LoadCaseNote]
}

/// The case note read: the editor opens on it.
pub fn note_loaded(app: &mut App, text: &str) {
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let saved = lines.join("\n");
    let mut area = TextArea::new(lines);
    area.set_cursor_line_style(ratatui::style::Style::default());
    app.screens.push(Screen::Note(Box::new(NoteEditor {
        area,
        saved,
        quit_asked: false,
    })));
}

/// The case note on disk now holds `text`.
pub fn note_saved(app: &mut App, text: String) {
    for s in &mut app.screens {
        if let Screen::Note(n) = s {
            n.saved.clone_from(&text);
        }
    }
    app.message = Some(format!("case note saved ({})", crate::bookmarks::NOTE_FILE));
}

/// What a key does in the note editor: its save and close keys, the rest is text.
pub fn note_action(app: &mut App, action: Action) -> Vec<Effect> {
    let Some(Screen::Note(n)) = app.screens.last_mut() else {
        return Vec::new();
    };
    match action {
        Action::Key(key) => {
            note_key(n, key);
            Vec::new()
        }
        Action::SaveEdit => vec![Effect::SaveCaseNote { text: n.text() }],
        Action::Back => {
            // Saved on leaving, when changed.
            let save = n.edited().then(|| Effect::SaveCaseNote { text: n.text() });
            app.screens.pop();
            save.into_iter().collect()
        }
        Action::Quit if n.edited() && !n.quit_asked => {
            n.quit_asked = true;
            let save = app.keymap.key_in(Scope::Editor, &Action::SaveEdit);
            app.message = Some(format!(
                "the case note is not saved: {save} saves it, Ctrl-C again quits without it"
            ));
            Vec::new()
        }
        Action::Quit => {
            app.quit = true;
            Vec::new()
        }
        Action::Resize(w, h) => {
            app.size = (w, h);
            Vec::new()
        }
        _ => Vec::new(),
    }
}

fn note_key(n: &mut NoteEditor, key: KeyEvent) {
    if n.area.input(key) {
        n.quit_asked = false;
    }
}
