//! The rules list: hits, level, status, tags and a sparkline per rule; failed rules last.

use super::clean;
use crate::sigma::RuleMeta;
use crate::tui::app::{App, Entry, Sort};
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::Row;

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

/// A row of a rule or correlation rule: mark, hits, level, status, title, sparkline, and the
/// correlation type (if any) before the tags.
fn rule_row<'a>(
    m: &'a RuleMeta,
    kind: Option<&'a str>,
    enabled: bool,
    hits: String,
    title: String,
    spark: &[u64],
    theme: &Theme,
) -> Row<'a> {
    let mark = match (kind, enabled) {
        (Some(_), true) => "◆",
        (Some(_), false) => "◇",
        (None, true) => "●",
        (None, false) => "○",
    };
    let style = if enabled {
        theme.get("base")
    } else {
        theme.get("disabled")
    };
    let tags: Vec<&str> = kind
        .into_iter()
        .chain(
            m.tags
                .iter()
                .map(|t| t.strip_prefix("attack.").unwrap_or(t)),
        )
        .collect();
    Row::new(vec![
        Span::raw(mark),
        Span::raw(format!("{hits:>7}")),
        Span::styled(
            m.level.clone().unwrap_or_default(),
            theme.level(m.level.as_deref()),
        ),
        Span::raw(m.status.clone().unwrap_or_default()),
        Span::styled(clean(&title, 60), style),
        Span::styled(sparkline(spark), theme.get("spark")),
        Span::styled(clean(&tags.join(" "), 40), theme.get("dim")),
    ])
}

pub fn draw(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let sort = match app.sort {
        Sort::Hits => "hits",
        Sort::Level => "level",
        Sort::Title => "title",
    };
    let enabled = app.rules.iter().filter(|r| r.enabled).count();
    let off = app.correlations.iter().filter(|c| !c.enabled).count();
    let corr = match (app.correlations.len(), off) {
        (0, _) => String::new(),
        (n, 0) => format!(", {n} correlation"),
        (n, off) => format!(", {n} correlation ({off} off)"),
    };
    let mut title = format!(
        " Rules: {} loaded, {enabled} enabled{corr}, {} failed · sort: {sort}",
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
            let row = match app.entry(i) {
                Entry::Rule(k) => {
                    let r = &app.rules[k];
                    let title = if r.saved_search {
                        format!("{} [search]", r.rule.meta.title)
                    } else {
                        r.rule.meta.title.clone()
                    };
                    let hits = if r.enabled {
                        r.hits.len().to_string()
                    } else {
                        "-".into()
                    };
                    let m = &r.rule.meta;
                    rule_row(m, None, r.enabled, hits, title, &r.spark, theme)
                }
                Entry::Corr(k) => {
                    let c = &app.correlations[k];
                    let (m, title) = (&c.corr.meta, c.corr.meta.title.clone());
                    let hits = if c.enabled {
                        c.hits.len().to_string()
                    } else {
                        "-".into()
                    };
                    rule_row(m, Some(c.kind), c.enabled, hits, title, &c.spark, theme)
                }
                Entry::Failed(k) => {
                    let fr = &app.failed[k];
                    Row::new(vec![
                        Span::styled("✗", theme.get("error")),
                        Span::raw(""),
                        Span::styled(fr.kind, theme.get("error")),
                        Span::raw(""),
                        Span::raw(clean(&fr.title, 60)),
                        Span::raw(""),
                        Span::styled(clean(&fr.reason, 60), theme.get("dim")),
                    ])
                }
            };
            if selected {
                row.style(theme.get("selected"))
            } else {
                row
            }
        });
    let header = vec![
        "",
        "   hits",
        "level",
        "status",
        "title",
        "over time",
        "ATT&CK",
    ];
    let widths = [
        Constraint::Length(1),
        Constraint::Length(7),
        Constraint::Length(11),
        Constraint::Length(12),
        Constraint::Fill(3),
        Constraint::Length(16),
        Constraint::Fill(2),
    ];
    f.render_widget(super::list_table(rows, header, widths, title, theme), area);
}
