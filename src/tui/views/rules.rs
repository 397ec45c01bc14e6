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

/// What a row of a rule or correlation rule shows.
struct RowInfo<'a> {
    meta: &'a RuleMeta,
    /// `correlation: event_count` etc. for correlation rules.
    kind: Option<&'a str>,
    enabled: bool,
    hits: usize,
    /// Titles of the `generate: false` correlations it only feeds (empty: it alerts).
    feeds: String,
    title: String,
    spark: &'a [u64],
}

/// A row: mark, hits, level, status, title, sparkline, then what it feeds, the correlation
/// type (if any) and the tags. Hits that only feed a correlation are not alerts: the count is
/// dimmed in parentheses and `↳` names the correlation.
fn rule_row<'a>(r: RowInfo<'a>, theme: &Theme) -> Row<'a> {
    let mark = match (r.kind, r.enabled) {
        (Some(_), true) => "◆",
        (Some(_), false) => "◇",
        (None, true) => "●",
        (None, false) => "○",
    };
    let style = if r.enabled {
        theme.base
    } else {
        theme.disabled
    };
    let feeding = !r.feeds.is_empty();
    let hits = match (r.enabled, feeding) {
        (false, _) => Span::raw(format!("{:>7}", "-")),
        (true, false) => Span::raw(format!("{:>7}", r.hits)),
        (true, true) => Span::styled(format!("{:>7}", format!("({})", r.hits)), theme.dim),
    };
    let feeds = feeding.then(|| format!("↳ {}", r.feeds));
    let tags: Vec<&str> = feeds
        .as_deref()
        .into_iter()
        .chain(r.kind)
        .chain(
            r.meta
                .tags
                .iter()
                .map(|t| t.strip_prefix("attack.").unwrap_or(t)),
        )
        .collect();
    let m = r.meta;
    Row::new(vec![
        Span::raw(mark),
        hits,
        Span::styled(
            m.level_text().unwrap_or_default().to_owned(),
            theme.level(m.rank()),
        ),
        Span::raw(m.status.clone().unwrap_or_default()),
        Span::styled(clean(&r.title, 60), style),
        Span::styled(sparkline(r.spark), theme.spark),
        Span::styled(clean(&tags.join(" "), 40), theme.dim),
    ])
}

pub fn draw(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let sort = match app.sort {
        Sort::Hits => "hits",
        Sort::Level => "level",
        Sort::Title => "title",
    };
    let enabled = app.rules.iter().filter(|r| r.enabled).count();
    let feeding = match app.rules.iter().filter(|r| !r.feeds.is_empty()).count() {
        0 => String::new(),
        n => format!(" ({n} only feeding correlations)"),
    };
    let off = app.correlations.iter().filter(|c| !c.enabled).count();
    let corr = match (app.correlations.len(), off) {
        (0, _) => String::new(),
        (n, 0) => format!(", {n} correlation"),
        (n, off) => format!(", {n} correlation ({off} off)"),
    };
    let mut title = format!(
        " Rules: {} loaded, {enabled} enabled{feeding}{corr}, {} failed · sort: {sort}",
        app.rules.len(),
        app.failed.len()
    );
    if let Some(min) = app.level_min {
        title.push_str(&format!(" · level ≥ {min}"));
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
                    let title = if r.rule.meta.saved_search {
                        format!("{} [search]", r.rule.meta.title)
                    } else {
                        r.rule.meta.title.clone()
                    };
                    let info = RowInfo {
                        meta: &r.rule.meta,
                        kind: None,
                        enabled: r.enabled,
                        hits: r.hits.len(),
                        feeds: app.fed_titles(&r.feeds),
                        title,
                        spark: &r.spark,
                    };
                    rule_row(info, theme)
                }
                Entry::Corr(k) => {
                    let c = &app.correlations[k];
                    let info = RowInfo {
                        meta: &c.corr.meta,
                        kind: Some(c.kind),
                        enabled: c.enabled,
                        hits: c.hits.len(),
                        feeds: app.fed_titles(&c.feeds),
                        title: c.corr.meta.title.clone(),
                        spark: &c.spark,
                    };
                    rule_row(info, theme)
                }
                Entry::Failed(k) => {
                    let fr = &app.failed[k];
                    Row::new(vec![
                        Span::styled("✗", theme.error),
                        Span::raw(""),
                        Span::styled(fr.kind.name(), theme.error),
                        Span::raw(""),
                        Span::raw(clean(&fr.title, 60)),
                        Span::raw(""),
                        Span::styled(clean(&fr.reason, 60), theme.dim),
                    ])
                }
            };
            if selected {
                row.style(theme.selected)
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
