//! A hits list: only the visible window is drawn, from events the worker fetched into the
//! cache (rows not loaded yet show `…`), with a time histogram above.

use super::{clean, time};
use crate::tui::app::{App, HitList};
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::{Block, Borders, Row, Sparkline};

/// For a row listed without its rule (a search, a pivot): the first alerting rule that hit it,
/// so alerts stand out among plain events. Only drawn rows ask, so this stays cheap.
fn rule_of(app: &App, r: &crate::index::EventRef) -> Option<usize> {
    (app.rules.iter()).position(|row| row.alerts() && row.hits.binary_search(r).is_ok())
}

pub fn draw(f: &mut Frame, app: &App, h: &HitList, theme: &Theme, area: Rect) {
    let [hist, list] = Layout::vertical([Constraint::Length(4), Constraint::Min(1)]).areas(area);
    let range = h
        .rows
        .first()
        .zip(h.rows.last())
        .map(|(a, b)| (a.r.ts, b.r.ts))
        .map(|(a, b)| format!(" {} … {} ", time(a), time(b)))
        .unwrap_or_default();
    f.render_widget(
        Sparkline::default()
            .data(&h.hist)
            .style(theme.get("spark"))
            .block(
                Block::default()
                    .borders(Borders::TOP)
                    .title(format!(" hits over time{range}")),
            ),
        hist,
    );
    let multi = h.rule.is_none();
    let page = usize::from(list.height.saturating_sub(2));
    let rows = h
        .rows
        .iter()
        .enumerate()
        .skip(h.offset)
        .take(page)
        .map(|(i, row)| {
            let rule = (row.rule.or_else(|| rule_of(app, &row.r)))
                .and_then(|k| app.rules.get(k))
                .map(|r| clean(&r.rule.meta.title, 28))
                .unwrap_or_default();
            let cells = match app.cache.get(&row.r) {
                Some(e) => vec![
                    time(row.r.ts),
                    clean(e.computer(), 24),
                    clean(crate::event::short_channel(e.channel()), 10),
                    e.event_id().map(|x| x.to_string()).unwrap_or_default(),
                    rule,
                    clean(&e.summary(), 200),
                ],
                None => vec![
                    time(row.r.ts),
                    "…".into(),
                    String::new(),
                    String::new(),
                    rule,
                    String::new(),
                ],
            };
            let r = Row::new(cells);
            if i == h.sel {
                r.style(theme.get("selected"))
            } else {
                r
            }
        });
    let header = vec![
        "time (UTC)",
        "computer",
        "channel",
        "EID",
        if multi { "rule" } else { "" },
        "details",
    ];
    let mut title = format!(
        " {} · {} of {} ",
        clean(&h.title, 60),
        if h.rows.is_empty() { 0 } else { h.sel + 1 },
        h.rows.len()
    );
    // A rule's hits that only feed correlations are not alerts; say so where they are listed.
    if let Some(row) = h.rule.and_then(|i| app.rules.get(i))
        && !row.feeds.is_empty()
    {
        title.push_str(&format!(
            "· not alerts: ↳ {} ",
            clean(&app.fed_titles(&row.feeds), 40)
        ));
    }
    let widths = [
        Constraint::Length(23),
        Constraint::Length(24),
        Constraint::Length(10),
        Constraint::Length(5),
        Constraint::Length(if multi { 28 } else { 0 }),
        Constraint::Fill(1),
    ];
    f.render_widget(super::list_table(rows, header, widths, title, theme), list);
}
