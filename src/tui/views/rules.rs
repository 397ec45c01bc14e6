//! The rules list: hits, level, status, tags and a sparkline per rule; failed rules last.

use super::clean;
use crate::tui::app::{App, Sort};
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Row, Table};

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A text sparkline (empty buckets blank, so sparse rules stay readable).
pub fn sparkline(values: &[u64]) -> String {
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    values
        .iter()
        .map(|&v| {
            if v == 0 {
                ' '
            } else {
                BARS[((v * 7).div_ceil(max)) as usize]
            }
        })
        .collect()
}

pub fn draw(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let sort = match app.sort {
        Sort::Hits => "hits",
        Sort::Level => "level",
        Sort::Title => "title",
    };
    let enabled = app.rules.iter().filter(|r| r.enabled).count();
    let mut title = format!(
        " Rules: {} loaded, {enabled} enabled, {} failed · sort: {sort}",
        app.rules.len(),
        app.failed.len()
    );
    if app.level_min > 0 {
        title.push_str(&format!(
            " · level ≥ {}",
            ["", "informational", "low", "medium", "high", "critical"][usize::from(app.level_min)]
        ));
    }
    if !app.rule_filter.is_empty() {
        title.push_str(&format!(" · filter: {}", clean(&app.rule_filter, 30)));
    }
    title.push(' ');
    let page = usize::from(area.height.saturating_sub(3));
    let rows = app
        .visible
        .iter()
        .enumerate()
        .skip(app.rule_offset)
        .take(page)
        .map(|(pos, &i)| {
            let selected = pos == app.rule_sel;
            let row = if let Some(r) = app.rules.get(i) {
                let m = &r.rule.meta;
                let tags: Vec<&str> = m
                    .tags
                    .iter()
                    .map(|t| t.strip_prefix("attack.").unwrap_or(t))
                    .collect();
                let mark = if r.enabled { "●" } else { "○" };
                let title = if r.saved_search {
                    format!("{} [search]", m.title)
                } else {
                    m.title.clone()
                };
                let style = if r.enabled {
                    theme.get("base")
                } else {
                    theme.get("disabled")
                };
                Row::new(vec![
                    Span::raw(mark),
                    Span::raw(format!(
                        "{:>7}",
                        if r.enabled {
                            r.hits.len().to_string()
                        } else {
                            "-".into()
                        }
                    )),
                    Span::styled(
                        m.level.clone().unwrap_or_default(),
                        theme.level(m.level.as_deref()),
                    ),
                    Span::raw(m.status.clone().unwrap_or_default()),
                    Span::styled(clean(&title, 60), style),
                    Span::styled(sparkline(&r.spark), theme.get("spark")),
                    Span::styled(clean(&tags.join(" "), 40), theme.get("dim")),
                ])
            } else {
                let fr = &app.failed[i - app.rules.len()];
                Row::new(vec![
                    Span::styled("✗", theme.get("error")),
                    Span::raw(""),
                    Span::styled(fr.kind, theme.get("error")),
                    Span::raw(""),
                    Span::raw(clean(&fr.title, 60)),
                    Span::raw(""),
                    Span::styled(clean(&fr.reason, 60), theme.get("dim")),
                ])
            };
            if selected {
                row.style(theme.get("selected"))
            } else {
                row
            }
        });
    let header = Row::new(vec![
        "",
        "   hits",
        "level",
        "status",
        "title",
        "over time",
        "ATT&CK",
    ])
    .style(theme.get("header"));
    let table = Table::new(
        rows,
        [
            Constraint::Length(1),
            Constraint::Length(7),
            Constraint::Length(11),
            Constraint::Length(12),
            Constraint::Fill(3),
            Constraint::Length(16),
            Constraint::Fill(2),
        ],
    )
    .header(header)
    .block(
        Block::default()
            .borders(Borders::TOP)
            .title(Line::from(title).style(theme.get("title"))),
    );
    f.render_widget(table, area);
}
