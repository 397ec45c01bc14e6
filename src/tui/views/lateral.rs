//! Lateral movement: the host → host edges, and the logon sessions behind one edge.

use super::{clean, list_table, time};
use crate::tui::app::{LateralView, SessionList};
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Cell, Row};

/// To the second: the lists compare hosts and users, and milliseconds would crowd them out.
fn when(ts: i64) -> String {
    time(ts).chars().take(19).collect()
}

/// A computer's host name without its domain (an address stays whole).
fn host(name: &str) -> &str {
    if name.parse::<std::net::IpAddr>().is_ok() {
        return name;
    }
    name.split('.').next().unwrap_or(name)
}

/// A count of rule hits, standing out when there are any.
fn hits_cell(n: u64, theme: &Theme) -> Cell<'static> {
    let style = if n > 0 {
        theme.level(crate::sigma::Level::High)
    } else {
        theme.dim
    };
    Cell::from(n.to_string()).style(style)
}

/// Rows a list body shows under its title and header.
fn page(area: Rect) -> usize {
    usize::from(area.height.saturating_sub(2)).max(1)
}

/// Keeps the selected row in view, however the list was scrolled before a resize.
fn window(offset: usize, sel: usize, page: usize) -> usize {
    offset.max((sel + 1).saturating_sub(page)).min(sel)
}

pub fn edges(f: &mut Frame, v: &LateralView, theme: &Theme, area: Rect) {
    let page = page(area);
    let offset = window(v.offset, v.sel, page);
    let rows = (v.found.edges.iter().enumerate().skip(offset).take(page)).map(|(i, e)| {
        let types: Vec<String> = e
            .logon_types
            .iter()
            .map(|t| match t {
                0 => "4648".to_owned(),
                t => t.to_string(),
            })
            .collect();
        let row = Row::new(vec![
            Cell::from(when(e.first)),
            Cell::from(when(e.last)),
            Cell::from(clean(host(&e.from), 24)),
            // Said once: the source is only known by its address.
            Cell::from(clean(if e.from == e.from_ip { "" } else { &e.from_ip }, 15)),
            Cell::from(clean(host(&e.to), 24)),
            Cell::from(clean(&e.user, 40)),
            Cell::from(types.join(",")),
            Cell::from(e.count.to_string()),
            hits_cell(e.hits, theme),
        ]);
        if i == v.sel {
            row.style(theme.selected)
        } else {
            row
        }
    });
    let title = format!(
        " Lateral movement · {} edge(s) from {} logon session(s) · ⏎ its sessions ",
        v.found.edges.len(),
        v.found.sessions.len()
    );
    let header = vec![
        "FIRST", "LAST", "FROM", "ADDRESS", "TO", "USER", "TYPES", "COUNT", "HITS",
    ];
    let widths = [
        Constraint::Length(19),
        Constraint::Length(19),
        Constraint::Length(13),
        Constraint::Length(15),
        Constraint::Length(13),
        Constraint::Fill(1),
        Constraint::Length(6),
        Constraint::Length(5),
        Constraint::Length(5),
    ];
    f.render_widget(list_table(rows, header, widths, title, theme), area);
}

pub fn sessions(f: &mut Frame, l: &SessionList, theme: &Theme, area: Rect) {
    let page = page(area);
    let offset = window(l.offset, l.sel, page);
    let rows = (l.rows.iter().enumerate().skip(offset).take(page)).filter_map(|(i, &k)| {
        let s = l.found.sessions.get(k)?;
        let hits = l.found.hits.get(k).copied().unwrap_or(0);
        let row = Row::new(vec![
            Cell::from(when(s.start())),
            Cell::from(s.end.map_or_else(|| "-".into(), when)),
            Cell::from(format!("{:#x}", s.logon_id)),
            Cell::from(s.logon_type.map_or_else(|| "-".into(), |t| t.to_string())),
            Cell::from(clean(&s.source_ip, 16)),
            Cell::from(clean(&s.workstation, 16)),
            Cell::from(clean(&s.auth_package, 10)),
            Cell::from(if s.elevated { "yes" } else { "" }),
            Cell::from(s.processes.to_string()),
            Cell::from(s.shares.to_string()),
            hits_cell(hits, theme),
        ]);
        Some(if i == l.sel {
            row.style(theme.selected)
        } else {
            row
        })
    });
    let title = format!(
        " {} · {} session(s) · ⏎ its events ",
        clean(&l.title, 80),
        l.rows.len()
    );
    let header = vec![
        "START",
        "END",
        "LOGON ID",
        "TYPE",
        "ADDRESS",
        "WORKSTATION",
        "AUTH",
        "ELEV",
        "PROCS",
        "SHARES",
        "HITS",
    ];
    let widths = [
        Constraint::Length(19),
        Constraint::Length(19),
        Constraint::Length(11),
        Constraint::Length(4),
        Constraint::Length(16),
        Constraint::Fill(1),
        Constraint::Length(10),
        Constraint::Length(4),
        Constraint::Length(5),
        Constraint::Length(6),
        Constraint::Length(5),
    ];
    f.render_widget(list_table(rows, header, widths, title, theme), area);
}
