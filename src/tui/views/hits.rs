//! A hits list: only the visible window is drawn, from events the worker fetched into the
//! cache (rows not loaded yet show `…`), with a time histogram above.

use super::{clean, time};
use crate::tui::app::{App, HitList};
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Cell, Row, Sparkline};

/// Narrower lists than this draw each event on two lines.
const NARROW: u16 = 120;
/// Lists of several rules at least this wide name each hit's ATT&CK tactic.
const WIDE: u16 = 150;

/// For a row listed without its rule (a search, a pivot): the first alerting rule that hit it,
/// so alerts stand out among plain events. Only drawn rows ask, so this stays cheap.
fn rule_of(app: &App, r: &crate::store::EventRef) -> Option<usize> {
    (app.rules.iter()).position(|row| row.alerts() && row.hits.binary_search(r).is_ok())
}

pub fn draw(f: &mut Frame, app: &App, h: &HitList, theme: &Theme, area: Rect) {
    let [hist, list] = Layout::vertical([Constraint::Length(4), Constraint::Min(1)]).areas(area);
    let timeline = h.timeline.is_some();
    // A timeline ordered by level is not in time order: its span is read from every row.
    let span = if timeline && app.timeline_by_level {
        let ts = h.rows.iter().map(|r| r.r.ts);
        ts.clone().min().zip(ts.max())
    } else {
        (h.rows.first())
            .zip(h.rows.last())
            .map(|(a, b)| (a.r.ts, b.r.ts))
    };
    let range = span
        .map(|(a, b)| format!(" {} … {} ", time(a), time(b)))
        .unwrap_or_default();
    f.render_widget(
        Sparkline::default().data(&h.hist).style(theme.spark).block(
            Block::default()
                .borders(Borders::TOP)
                .title(format!(" hits over time{range}")),
        ),
        hist,
    );
    let multi = h.rule.is_none();
    // Room for the rule's first ATT&CK tactic on a wide terminal.
    let tactics = multi && list.width >= WIDE;
    // Under 120 columns a row takes two lines (time over computer, the rule over the channel,
    // EID and details), so an 80-column terminal still shows the rule title and the details.
    let narrow = list.width < NARROW;
    let per_row = if narrow { 2 } else { 1 };
    let page = usize::from(list.height.saturating_sub(2)) / per_row;
    // `update` scrolls by one-line rows: keep the cursor's row in view when rows are taller.
    let offset = h.offset.max((h.sel + 1).saturating_sub(page.max(1)));
    // One more column for the mark of the event a pivot came from, one for bookmarks.
    let marks = !app.bookmarks.is_empty();
    let time_width = 23 + u16::from(h.origin.is_some()) + u16::from(marks);
    let last_width = usize::from(list.width.saturating_sub(time_width + 1));
    let rows = h
        .rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(page)
        .map(|(i, row)| {
            let meta = (row.rule.or_else(|| rule_of(app, &row.r)))
                .and_then(|k| app.rules.get(k))
                .map(|r| &r.rule.meta);
            let rule = meta
                .map(|m| clean(&m.title, if narrow { 60 } else { 28 }))
                .unwrap_or_default();
            // A timeline mixes levels: its wide rows name each hit's (Hayabusa's short form).
            let level = meta.map(|m| {
                let level = m.rank();
                Span::styled(
                    if m.level.is_some() { level.short() } else { "" },
                    theme.level(level),
                )
            });
            // The event a pivot came from.
            let from = if h.origin == Some(row.r) { "▶" } else { "" };
            let (computer, channel, eid, details) = match app.cache.get(&row.r) {
                Some(e) => (
                    clean(e.computer(), 24),
                    clean(crate::event::short_channel(e.channel()), 10),
                    e.event_id().map(|x| x.to_string()).unwrap_or_default(),
                    clean(&e.summary(), 200),
                ),
                None => ("…".into(), String::new(), String::new(), String::new()),
            };
            let mark = match app.bookmark_of(row.r) {
                Some(_) => "★",
                None if marks => " ",
                None => "",
            };
            let when = format!("{from}{mark}{}", time(row.r.ts));
            let r = if narrow {
                let details = format!("{channel} {eid}  {details}");
                let last = if multi {
                    Text::from(vec![Line::from(rule), Line::from(details)])
                } else {
                    // Without a rule column, the details run on over both lines.
                    let cut = details
                        .char_indices()
                        .nth(last_width)
                        .map_or(details.len(), |(i, _)| i);
                    let (a, b) = details.split_at(cut);
                    Text::from(vec![Line::from(a.to_owned()), Line::from(b.to_owned())])
                };
                Row::new(vec![
                    Text::from(vec![Line::from(when), Line::from(computer)]),
                    last,
                ])
                .height(2)
            } else {
                let mut cells = vec![
                    Cell::from(when),
                    Cell::from(computer),
                    Cell::from(channel),
                    Cell::from(eid),
                ];
                if multi {
                    cells.push(Cell::from(level.unwrap_or_default()));
                }
                if tactics {
                    let tactic = meta
                        .map(|m| crate::attack::RuleAttack::from_tags(&m.tags).tactics)
                        .and_then(|t| t.into_iter().next())
                        .unwrap_or_default();
                    cells.push(Cell::from(clean(&tactic, 20)));
                }
                cells.extend([Cell::from(rule), Cell::from(details)]);
                Row::new(cells)
            };
            if i == h.sel {
                r.style(theme.selected)
            } else if !from.is_empty() {
                r.style(theme.matched_field)
            } else {
                r
            }
        });
    let header = if narrow {
        vec!["time (UTC) · computer", "rule · channel EID details"]
    } else {
        let mut header = vec!["time (UTC)", "computer", "channel", "EID"];
        if multi {
            header.push("lvl");
        }
        if tactics {
            header.push("tactic");
        }
        header.extend([if multi { "rule" } else { "" }, "details"]);
        header
    };
    let mut title = format!(
        " {} · {} of {} ",
        clean(&h.title, 60),
        if h.rows.is_empty() { 0 } else { h.sel + 1 },
        h.rows.len()
    );
    if timeline {
        if let Some(min) = app.timeline_level {
            title.push_str(&format!("· level ≥ {} ", min.name()));
        }
        if app.timeline_by_level {
            title.push_str("· by level ");
        }
    }
    // A rule's hits that only feed correlations are not alerts; say so where they are listed.
    if let Some(row) = h.rule.and_then(|i| app.rules.get(i))
        && !row.feeds.is_empty()
    {
        title.push_str(&format!(
            "· not alerts: ↳ {} ",
            clean(&app.fed_titles(&row.feeds), 40)
        ));
    }
    let widths: Vec<Constraint> = if narrow {
        vec![Constraint::Length(time_width), Constraint::Fill(1)]
    } else {
        let mut widths = vec![
            Constraint::Length(time_width),
            Constraint::Length(24),
            Constraint::Length(10),
            Constraint::Length(5),
        ];
        if multi {
            widths.push(Constraint::Length(4));
        }
        if tactics {
            widths.push(Constraint::Length(20));
        }
        widths.extend([
            Constraint::Length(if multi { 28 } else { 0 }),
            Constraint::Fill(1),
        ]);
        widths
    };
    f.render_widget(super::list_table(rows, header, widths, title, theme), list);
}
