//! The live editor: the buffer with compile errors marked in place, the count before and
//! after the edit, errors, notes and some of the hits the edit adds or removes.

use super::clean;
use crate::tui::action::EditTarget;
use crate::tui::app::{App, DiffRow, Editor};
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

/// Errors and notes listed under the buffer (each at most).
const ERROR_ROWS: usize = 3;
const NOTE_ROWS: usize = 2;

pub fn draw(f: &mut Frame, app: &App, e: &Editor, theme: &Theme, area: Rect) {
    let old = e.old.len();
    let below = e.errors.len().min(ERROR_ROWS) + e.notes.len().min(NOTE_ROWS) + e.diff.len();
    let [head, body, errs] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(3),
        Constraint::Length(below as u16),
    ])
    .areas(area);
    let title = crate::tui::update::target_meta(app, e.target)
        .map(|m| m.title.clone())
        .unwrap_or_default();
    let what = match e.target {
        EditTarget::Rule(_) => "",
        EditTarget::Corr(_) => "correlation ",
    };
    let state = if e.pending {
        Span::styled("compiling…", theme.dim)
    } else if let Some(hits) = &e.compiled {
        Span::styled(
            format!(
                "hits {old} → {}  (+{} added, −{} removed)",
                hits.len(),
                e.added,
                e.removed
            ),
            theme.header,
        )
    } else if !e.errors.is_empty() {
        Span::styled(
            format!("hits {old} → ? (rule does not compile)"),
            theme.error,
        )
    } else {
        Span::styled(format!("hits {old}"), theme.dim)
    };
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(
                format!(" Editing {what}{} · ", clean(&title, 60)),
                theme.title,
            ),
            state,
        ]))
        .block(Block::default().borders(Borders::TOP)),
        head,
    );
    f.render_widget(&e.area, body);
    mark_errors(f, e, theme, body);
    let mut lines: Vec<Line> = Vec::new();
    for x in e.errors.iter().take(ERROR_ROWS) {
        lines.push(Line::from(Span::styled(
            format!(" ✗ {}:{}: {}", x.line, x.col, clean(&x.message, 150)),
            theme.error,
        )));
    }
    for n in e.notes.iter().take(NOTE_ROWS) {
        lines.push(Line::from(Span::styled(
            format!(" note: {}", clean(n, 150)),
            theme.dim,
        )));
    }
    for d in &e.diff {
        let (added, ts, what) = match d {
            DiffRow::Event(added, r) => {
                let what = app
                    .cache
                    .get(r)
                    .map(|ev| {
                        format!(
                            "{}  {}",
                            clean(ev.computer(), 24),
                            clean(&ev.summary(), 120)
                        )
                    })
                    .unwrap_or_default();
                (*added, r.ts, what)
            }
            DiffRow::Window(added, h) => {
                let (first, last) = (h.first.as_microsecond(), h.last.as_microsecond());
                let group: Vec<String> = h.group.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let what = format!(
                    "{} events over {}  {}",
                    h.keys.len(),
                    super::correlation::span(last - first),
                    clean(&group.join("  "), 120)
                );
                (*added, first, what)
            }
        };
        let (sign, style) = if added {
            ("+", theme.header)
        } else {
            ("−", theme.error)
        };
        lines.push(Line::from(vec![
            Span::styled(format!(" {sign} {} ", super::time(ts)), style),
            Span::raw(what),
        ]));
    }
    f.render_widget(Paragraph::new(lines), errs);
}

/// Marks compile errors in the drawn buffer: the gutter number of an offending line in the
/// error style with `✗`, and the text from the error's column to the end of its word
/// underlined (the first cell reversed). Drawn over the textarea, which knows nothing of them.
fn mark_errors(f: &mut Frame, e: &Editor, theme: &Theme, body: Rect) {
    let (top, left) = e.area.scroll_offset();
    let (top, left) = (usize::from(top), usize::from(left));
    let gutter = e.area.line_number_width();
    let buf = f.buffer_mut();
    for y in 0..body.height {
        let line = top + usize::from(y) + 1;
        let bad = e.errors.iter().any(|x| x.line == line) && line <= e.area.lines().len();
        let style = if bad { theme.error } else { theme.dim };
        for x in body.x..body.x + gutter.min(body.width) {
            buf[(x, body.y + y)].set_style(style);
        }
        if bad && gutter > 0 {
            buf[(body.x, body.y + y)].set_symbol("✗");
        }
    }
    for err in &e.errors {
        let Some(row) = err
            .line
            .checked_sub(1 + top)
            .filter(|&r| r < usize::from(body.height))
        else {
            continue;
        };
        let text = e.area.lines().get(err.line - 1).map_or("", String::as_str);
        let before: String = text.chars().take(err.col.saturating_sub(1)).collect();
        let word = text
            .chars()
            .skip(err.col.saturating_sub(1))
            .take_while(|c| !c.is_whitespace())
            .count()
            .max(1);
        let start = Span::raw(before).width();
        let y = body.y + row as u16;
        for (i, dx) in (start..start + word).enumerate() {
            let Some(col) = dx.checked_sub(left) else {
                continue;
            };
            let x = u32::from(body.x) + u32::from(gutter) + col as u32;
            if x >= u32::from(body.right()) {
                break;
            }
            let mut style = theme.error.add_modifier(Modifier::UNDERLINED);
            if i == 0 {
                style = style.add_modifier(Modifier::REVERSED);
            }
            buf[(x as u16, y)].set_style(style);
        }
    }
}
