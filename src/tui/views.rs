//! Drawing: pure functions of `&App` (and the theme). All log content passes through
//! `sanitize::for_terminal` before it reaches a cell.

mod bookmarks;
mod correlation;
mod detail;
mod editor;
mod hits;
mod lateral;
mod rules;
mod small_screens;
mod summary;
mod tree;

use super::app::{App, Screen};
use super::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table};

/// Sanitised and cut to `max` characters (with an ellipsis).
pub fn clean(s: &str, max: usize) -> String {
    // Only what can be shown is escaped (escaping never shortens a character), so a value of
    // megabytes costs no more per frame than a short one.
    let head: String = s.chars().take(max.saturating_add(1)).collect();
    let s = crate::sanitize::for_terminal(&head);
    if s.chars().count() <= max {
        return s;
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `YYYY-MM-DD HH:MM:SS.mmm` (UTC) for an event time in microseconds.
pub fn time(ts: i64) -> String {
    jiff::Timestamp::from_microsecond(ts)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S%.3f").to_string())
        .unwrap_or_else(|_| "-".into())
}

/// A list with a header row and a titled top border (rules, hits, correlation hits).
pub fn list_table<'a>(
    rows: impl IntoIterator<Item = Row<'a>>,
    header: Vec<&'a str>,
    widths: impl IntoIterator<Item = Constraint>,
    title: String,
    theme: &Theme,
) -> Table<'a> {
    Table::new(rows, widths)
        .header(Row::new(header).style(theme.header))
        .block(
            Block::default()
                .borders(Borders::TOP)
                .title(Line::from(title).style(theme.title)),
        )
}

pub fn draw(f: &mut Frame, app: &App, theme: &Theme) {
    let input_rows = u16::from(app.input.is_some())
        + u16::from(app.input_error.is_some() && app.input.is_some());
    let [title, body, input, status, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(input_rows),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(f.area());
    draw_title(f, app, theme, title);
    if app.rules.is_empty() && app.progress.is_some() {
        small_screens::progress(f, app, theme, body);
    } else {
        match app.top() {
            None => rules::draw(f, app, theme, body),
            Some(Screen::Hits(h)) => hits::draw(f, app, h, theme, body),
            Some(Screen::Correlation(c)) => correlation::draw(f, app, c, theme, body),
            Some(Screen::Detail(d)) => detail::draw(f, app, d, theme, body),
            Some(Screen::Tree(t)) => tree::draw(f, t, theme, body),
            Some(Screen::Stack(s)) => small_screens::stack(f, s, theme, body),
            Some(Screen::Lateral(v)) => lateral::edges(f, v, theme, body),
            Some(Screen::Sessions(l)) => lateral::sessions(f, l, theme, body),
            Some(Screen::Overlays { sel, .. }) => {
                small_screens::overlays(f, app, *sel, theme, body)
            }
            Some(Screen::Problems { sel }) => small_screens::problems(f, app, *sel, theme, body),
            Some(Screen::Editor(e)) => editor::draw(f, app, e, theme, body),
            Some(Screen::Bookmarks { sel, .. }) => bookmarks::draw(f, app, *sel, theme, body),
            Some(Screen::Note(n)) => bookmarks::note(f, app, n, theme, body),
            Some(Screen::Summary(s)) => summary::draw(f, app, s, theme, body),
        }
    }
    small_screens::input(f, app, theme, input);
    small_screens::status(f, app, theme, status);
    if let Some(m) = &app.message {
        // The last row, whole, until the next key: a message on the status line was cut
        // after the counts (the confirm key of a long question, the end of a saved path).
        let text = format!(" {}", clean(m, usize::from(hints.width).max(2) - 1));
        f.render_widget(Paragraph::new(text).style(theme.status), hints);
    } else {
        let mut spans = Vec::new();
        for (k, h) in app.keymap.hints(app) {
            spans.push(Span::styled(format!(" {k}"), theme.hint_key));
            spans.push(Span::styled(format!(" {h} "), theme.dim));
        }
        f.render_widget(Paragraph::new(Line::from(spans)), hints);
    }
    if app.help {
        small_screens::help(f, app, theme, f.area());
    }
}

fn draw_title(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let mut crumbs = vec!["Rules".to_owned()];
    for s in &app.screens {
        crumbs.push(match s {
            Screen::Hits(h) => clean(&h.title, 40),
            Screen::Correlation(c) => app
                .correlations
                .get(c.corr)
                .map_or_else(String::new, |r| clean(&r.corr.meta.title, 40)),
            Screen::Detail(_) => "Event".into(),
            Screen::Tree(_) => "Process tree".into(),
            Screen::Stack(s) => format!("Stack {}", s.field),
            Screen::Lateral(_) => "Lateral movement".into(),
            Screen::Sessions(l) => clean(&l.title, 40),
            Screen::Overlays { .. } => "Overlays".into(),
            Screen::Problems { .. } => "Input problems".into(),
            Screen::Editor(_) => "Editor".into(),
            Screen::Bookmarks { .. } => "Bookmarks".into(),
            Screen::Note(_) => "Case note".into(),
            Screen::Summary(s) => if s.users { "Users" } else { "Hosts" }.into(),
        });
    }
    let head = Span::styled(" huntbench ", theme.title);
    let room = usize::from(area.width).saturating_sub(head.width());
    let line = Line::from(vec![
        head,
        Span::styled(fit_crumbs(crumbs, room), theme.base),
    ]);
    f.render_widget(Paragraph::new(line), area);
}

/// The breadcrumb within `room` cells: the screens in the middle give way first (shown as
/// `…`), so the first (Rules) and the current screen stay readable.
fn fit_crumbs(crumbs: Vec<String>, room: usize) -> String {
    let whole = crumbs.join(" › ");
    if crumbs.len() <= 2 || Span::raw(whole.as_str()).width() <= room {
        return whole;
    }
    let cut = |tail: usize| {
        let mut shown = vec![crumbs[0].as_str(), "…"];
        shown.extend(crumbs[crumbs.len() - tail..].iter().map(String::as_str));
        shown.join(" › ")
    };
    let mut tail = 1;
    while tail + 2 < crumbs.len() && Span::raw(cut(tail + 1)).width() <= room {
        tail += 1;
    }
    cut(tail)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_breadcrumb_keeps_its_ends_when_cut() {
        let crumbs: Vec<String> = [
            "Rules",
            "Process Started by the WMI Provider Host",
            "Event",
            "Process tree",
            "Event",
        ]
        .map(String::from)
        .to_vec();
        let whole = super::fit_crumbs(crumbs.clone(), 200);
        assert_eq!(whole, crumbs.join(" › "));
        assert_eq!(
            super::fit_crumbs(crumbs.clone(), 40),
            "Rules › … › Event › Process tree › Event"
        );
        assert_eq!(
            super::fit_crumbs(crumbs.clone(), 39),
            "Rules › … › Process tree › Event"
        );
        assert_eq!(super::fit_crumbs(crumbs, 10), "Rules › … › Event");
    }

    /// Escaping only the head of a value shows exactly what escaping all of it showed.
    #[test]
    fn clean_escapes_and_cuts_as_before_from_the_head_only() {
        let old = |s: &str, max: usize| {
            let s = crate::sanitize::for_terminal(s);
            if s.chars().count() <= max {
                return s;
            }
            let mut out: String = s.chars().take(max - 1).collect();
            out.push('…');
            out
        };
        for s in [
            "plain",
            "a\u{1b}[2Jb\r\nc",
            "\u{202e}x",
            &"é\u{7}".repeat(5000),
        ] {
            for max in [1, 3, 8, 40, 20_000] {
                assert_eq!(super::clean(s, max), old(s, max), "{s:?} at {max}");
            }
        }
    }
}
