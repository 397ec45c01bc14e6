//! The hits of a correlation rule: one row per correlation hit with its window (first event and
//! how long its events span), the counted quantity and the group-by values.

use super::{clean, time};
use crate::sigma::correlation::CorrelationType;
use crate::tui::app::{App, CorrList};
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::Row;

/// `1h 02m`, `4m 05s`, `12s`: how long a window the events of a hit span.
pub fn span(micros: i64) -> String {
    let s = micros.max(0) / 1_000_000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
    }
}

fn unit(kind: CorrelationType) -> &'static str {
    match kind {
        CorrelationType::EventCount => "events",
        CorrelationType::ValueCount => "values",
        CorrelationType::Temporal | CorrelationType::TemporalOrdered => "rules",
        CorrelationType::ValueSum => "sum",
        CorrelationType::ValueAvg => "average",
        CorrelationType::ValuePercentile => "percentile",
        CorrelationType::ValueMedian => "median",
    }
}

pub fn draw(f: &mut Frame, app: &App, c: &CorrList, theme: &Theme, area: Rect) {
    let Some(row) = app.correlations.get(c.corr) else {
        return;
    };
    let corr = &row.corr;
    let page = usize::from(area.height.saturating_sub(2));
    let rows = row
        .hits
        .iter()
        .enumerate()
        .skip(c.offset)
        .take(page)
        .map(|(i, h)| {
            let (first, last) = (h.first.as_microsecond(), h.last.as_microsecond());
            let group: Vec<String> = h.group.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let r = Row::new(vec![
                time(first),
                span(last - first),
                format!("{:>4} {}", h.value, unit(corr.kind)),
                format!("{:>6}", h.keys.len()),
                clean(&group.join("  "), 200),
            ]);
            if i == c.sel {
                r.style(theme.selected)
            } else {
                r
            }
        });
    let header = vec!["first (UTC)", "span", "count", "events", "group"];
    let kind = row.kind.trim_start_matches("correlation: ");
    // Base rules by title where they are loaded (references are usually ids).
    let base: Vec<&str> = corr
        .rules
        .iter()
        .map(|r| {
            app.rules
                .iter()
                .map(|row| &row.rule.meta)
                .find(|m| m.id.as_deref() == Some(r) || m.name.as_deref() == Some(r))
                .map_or(r.as_str(), |m| m.title.as_str())
        })
        .collect();
    let mut title = format!(
        " {} · {kind} of {} within {} · {} of {} ",
        clean(&corr.meta.title, 50),
        clean(&base.join(", "), 60),
        span(corr.timespan.as_micros() as i64),
        if row.hits.is_empty() { 0 } else { c.sel + 1 },
        row.hits.len()
    );
    if !row.feeds.is_empty() {
        title.push_str(&format!(
            "· not alerts: ↳ {} ",
            clean(&app.fed_titles(&row.feeds), 40)
        ));
    }
    let widths = [
        Constraint::Length(23),
        Constraint::Length(8),
        Constraint::Length(12),
        Constraint::Length(6),
        Constraint::Fill(1),
    ];
    f.render_widget(super::list_table(rows, header, widths, title, theme), area);
}
