//! The Bookmarks screen (time, computer, tags, note and what the event was) and the case
//! note's editor.

use super::{clean, time};
use crate::tui::action::BookmarkRow;
use crate::tui::app::{App, NoteEditor};
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Paragraph, Row};

/// Narrower lists than this draw each bookmark on two lines.
const NARROW: u16 = 120;

fn tags(row: &BookmarkRow) -> String {
    let tags: Vec<String> = row.mark.tags.iter().map(|t| format!("#{t}")).collect();
    tags.join(" ")
}

/// What the event was: its EventID, summary and the rule it was a hit of.
fn what(row: &BookmarkRow) -> String {
    let b = &row.mark;
    let eid = b.event_id.map(|e| e.to_string()).unwrap_or_default();
    let rule = (b.rule.as_ref())
        .map(|r| format!("  [{}]", r.title))
        .unwrap_or_default();
    format!("{eid} {}{rule}", b.summary)
}

pub fn draw(f: &mut Frame, app: &App, sel: usize, theme: &Theme, area: Rect) {
    let narrow = area.width < NARROW;
    let per_row = if narrow { 2 } else { 1 };
    let page = (usize::from(area.height.saturating_sub(2)) / per_row).max(1);
    let offset = sel.saturating_sub(page - 1);
    let rows = app
        .bookmarks
        .iter()
        .enumerate()
        .skip(offset)
        .take(page)
        .map(|(i, row)| {
            // `?`: the event is not in the case as opened.
            let gone = if row.r.is_none() { "?" } else { "" };
            let when = format!("{gone}{}", row.mark.event.ts().map_or("-".into(), time));
            let computer = clean(&row.mark.event.computer, if narrow { 24 } else { 20 });
            let (tags, note, what) = (
                clean(&tags(row), 40),
                clean(&row.mark.note, 200),
                clean(&what(row), 200),
            );
            // The note and its tags, as typed.
            let noted = Line::from(vec![
                Span::raw(note),
                Span::raw(" "),
                Span::styled(tags, theme.hint_key),
            ]);
            let what = Line::from(Span::styled(what, theme.dim));
            let r = if narrow {
                Row::new(vec![
                    Text::from(vec![Line::from(when), Line::from(computer)]),
                    Text::from(vec![noted, what]),
                ])
                .height(2)
            } else {
                Row::new(vec![Line::from(when), Line::from(computer), noted, what])
            };
            if i == sel { r.style(theme.selected) } else { r }
        });
    let gone = app.bookmarks.iter().filter(|b| b.r.is_none()).count();
    let gone = match gone {
        0 => String::new(),
        n => format!("· {n} not in the case (?) "),
    };
    let title = format!(
        " Bookmarks · {} of {} {gone}",
        if app.bookmarks.is_empty() { 0 } else { sel + 1 },
        app.bookmarks.len()
    );
    let (header, widths) = if narrow {
        (
            vec!["time (UTC) · computer", "note #tags · event"],
            vec![Constraint::Length(24), Constraint::Fill(1)],
        )
    } else {
        (
            vec!["time (UTC)", "computer", "note #tags", "event"],
            vec![
                Constraint::Length(24),
                Constraint::Length(20),
                Constraint::Fill(1),
                Constraint::Fill(1),
            ],
        )
    };
    if app.bookmarks.is_empty() {
        let key = app.keymap.key_of(&crate::tui::action::Action::Bookmark);
        let text = Line::from(Span::styled(
            format!(
                " no bookmarks: {key} on a hit, a search result, a tree node or an event bookmarks it"
            ),
            theme.dim,
        ));
        let block = Block::default()
            .borders(Borders::TOP)
            .title(Line::from(title).style(theme.title));
        f.render_widget(Paragraph::new(text).block(block), area);
        return;
    }
    f.render_widget(super::list_table(rows, header, widths, title, theme), area);
}

/// The case note in the editor widget, under a line that says where it is kept.
pub fn note(f: &mut Frame, app: &App, n: &NoteEditor, theme: &Theme, area: Rect) {
    let [head, body] = Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(area);
    let state = if n.edited() {
        Span::styled("edited", theme.header)
    } else {
        Span::styled("saved", theme.dim)
    };
    let title = format!(
        " Case note · {}/{} · ",
        app.case_name,
        crate::bookmarks::NOTE_FILE
    );
    f.render_widget(
        Paragraph::new(Line::from(vec![Span::styled(title, theme.title), state]))
            .block(Block::default().borders(Borders::TOP)),
        head,
    );
    f.render_widget(&n.area, body);
}
