//! Text entry: the search, rule filter and save-as-rule line (the live editor is `editor`).

use super::refresh_visible;
use crate::sigma::Level;
use crate::tui::action::{Effect, Job};
use crate::tui::app::{App, InputError, InputKind, Screen};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Why a search with time bounds is not saved as a rule.
pub const TIME_BOUNDS_REFUSED: &str =
    "a Sigma rule cannot hold time bounds: save the search without its time terms";

pub fn input_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let Some((kind, buf)) = app.input.as_mut() else {
        return Vec::new();
    };
    let kind = *kind;
    match key.code {
        KeyCode::Esc => {
            app.input = None;
            app.input_error = None;
            app.save_title = None;
            app.bookmark_target = None;
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
        InputKind::Search => match app.parse_query(&text) {
            Ok(q) => {
                app.input = None;
                app.input_error = None;
                super::search(app, text, q)
            }
            Err(e) => {
                app.input_error = Some(InputError {
                    column: e.column,
                    message: e.message,
                });
                Vec::new()
            }
        },
        InputKind::FindField => super::finder::find_field(app, text),
        InputKind::FilterList => super::finder::filter(app, text),
        InputKind::StackFields => super::finder::stack_fields(app, text),
        InputKind::BookmarkNote => super::bookmarks::submit(app, &text),
        InputKind::SaveSearch => {
            // Then the level, proposed as the saved searches' usual one.
            app.save_title = Some(text);
            app.input = Some((InputKind::SaveLevel, Level::Medium.name().into()));
            Vec::new()
        }
        InputKind::SaveLevel => {
            let Some(level) = Level::parse(&text) else {
                app.input_error = Some(InputError {
                    column: 1,
                    message: format!("a level is one of {}", Level::names()),
                });
                return Vec::new();
            };
            app.input = None;
            app.input_error = None;
            let Some(title) = app.save_title.take() else {
                return Vec::new();
            };
            let Some(Screen::Hits(h)) = app.top() else {
                return Vec::new();
            };
            let Some(q) = h.query.as_deref().and_then(|q| app.parse_query(q).ok()) else {
                return Vec::new();
            };
            if q.window().is_some() {
                app.message = Some(TIME_BOUNDS_REFUSED.into());
                return Vec::new();
            }
            app.busy.push(Job::Rules);
            vec![Effect::SaveRule {
                // Named by the search's id: saving it again replaces the file.
                name: format!("search-{}", q.rule_id()),
                text: q.to_sigma_yaml(&title, level),
            }]
        }
    }
}
