//! The hosts and users summary: per host its events, hits by level, first and last event and
//! logons; per user hits by level, hosts, logons, source addresses, first and last seen.

use super::{clean, list_table};
use crate::report::summary::levels_text;
use crate::tui::action::Action;
use crate::tui::app::{App, SummaryView};
use crate::tui::keymap::Scope;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::Row;

/// To the second: the columns fit 120 cells.
fn when(t: Option<i64>) -> String {
    t.and_then(|t| jiff::Timestamp::from_microsecond(t).ok())
        .map_or_else(
            || "-".into(),
            |t| t.strftime("%Y-%m-%d %H:%M:%S").to_string(),
        )
}

/// `a, b +3`: the first of a list and how many more.
fn first_of(list: &[String], max: usize) -> String {
    match list {
        [] => "-".into(),
        [one] => clean(one, max),
        [first, rest @ ..] => format!("{} +{}", clean(first, max), rest.len()),
    }
}

pub fn draw(f: &mut Frame, app: &App, s: &SummaryView, theme: &Theme, area: Rect) {
    let switch = app.keymap.key_in(Scope::Summary, &Action::Summaries);
    let page = usize::from(area.height.saturating_sub(2));
    let offset = s.sel.saturating_sub(page.saturating_sub(1));
    let style = |i: usize, row: Row<'static>| {
        if i == s.sel {
            row.style(theme.selected)
        } else {
            row
        }
    };
    let table = if s.users {
        let rows = (s.data.users.iter().enumerate().skip(offset).take(page)).map(|(i, u)| {
            style(
                i,
                Row::new(vec![
                    clean(&u.user, 20),
                    levels_text(&u.hits),
                    first_of(&u.hosts, 16),
                    u.logons.to_string(),
                    first_of(&u.sources, 15),
                    when(u.first),
                    when(u.last),
                ]),
            )
        });
        let title = format!(" Users · {} · {switch} hosts ", s.data.users.len());
        list_table(
            rows,
            vec!["USER", "HITS", "HOSTS", "LOGONS", "FROM", "FIRST", "LAST"],
            [
                Constraint::Length(20),
                Constraint::Length(14),
                Constraint::Length(20),
                Constraint::Length(6),
                Constraint::Length(15),
                Constraint::Length(19),
                Constraint::Length(19),
            ],
            title,
            theme,
        )
    } else {
        let rows = (s.data.hosts.iter().enumerate().skip(offset).take(page)).map(|(i, h)| {
            let name = if h.host.is_empty() { "(none)" } else { &h.host };
            style(
                i,
                Row::new(vec![
                    clean(name, 44),
                    h.events.to_string(),
                    levels_text(&h.hits),
                    when(h.first),
                    when(h.last),
                    h.logons.to_string(),
                ]),
            )
        });
        let title = format!(" Hosts · {} · {switch} users ", s.data.hosts.len());
        list_table(
            rows,
            vec!["HOST", "EVENTS", "HITS", "FIRST", "LAST", "LOGONS"],
            [
                Constraint::Length(44),
                Constraint::Length(8),
                Constraint::Length(14),
                Constraint::Length(19),
                Constraint::Length(19),
                Constraint::Length(6),
            ],
            title,
            theme,
        )
    };
    f.render_widget(table, area);
}
