//! The lateral-movement screen: host → host edges, an edge's sessions, a session's events.

use super::{clamp_offset, step};
use crate::tui::action::{Effect, Job, LateralFound};
use crate::tui::app::{App, LateralView, Screen, SessionList};
use std::sync::Arc;

/// Asks the worker for the edges, with the hits of every alerting rule counted per session.
pub fn open(app: &mut App) -> Vec<Effect> {
    if !app.ready {
        app.message = Some("the case is still opening".into());
        return Vec::new();
    }
    app.generation += 1;
    app.busy.push(Job::Query);
    let hits = (app.rules.iter())
        .filter(|r| r.alerts())
        .map(|r| Arc::clone(&r.hits))
        .collect();
    vec![Effect::Lateral {
        generation: app.generation,
        hits,
    }]
}

/// The worker's answer: a screen of edges, or why there is none.
pub fn found(app: &mut App, generation: u64, found: Result<Box<LateralFound>, String>) {
    app.busy.retain(|&b| b != Job::Query);
    if generation != app.generation {
        return;
    }
    match found {
        Ok(found) if found.edges.is_empty() => {
            app.message = Some(format!(
                "no lateral movement: none of the {} logon session(s) came from another host, and no explicit-credential logon (4648) names one",
                found.sessions.len()
            ));
        }
        Ok(found) => app.screens.push(Screen::Lateral(LateralView {
            found: Arc::from(found),
            sel: 0,
            offset: 0,
        })),
        Err(e) => app.message = Some(e),
    }
}

/// Enter on an edge: its sessions.
pub fn open_edge(app: &mut App) -> Vec<Effect> {
    let Some(Screen::Lateral(v)) = app.top() else {
        return Vec::new();
    };
    let Some(edge) = v.found.edges.get(v.sel) else {
        return Vec::new();
    };
    if edge.sessions.is_empty() {
        // An edge known only from 4648 on the source: the target's logs hold no session.
        app.message = Some(format!(
            "{} used explicit credentials for {} on {}; the case holds no logon session of it on {}",
            edge.from, edge.user, edge.to, edge.to
        ));
        return Vec::new();
    }
    let list = SessionList {
        title: format!("{} → {} as {}", edge.from, edge.to, edge.user),
        found: Arc::clone(&v.found),
        rows: edge.sessions.clone(),
        sel: 0,
        offset: 0,
    };
    app.screens.push(Screen::Sessions(list));
    Vec::new()
}

/// Enter on a session: its events, as the `L` pivot lists them.
pub fn open_session(app: &mut App) -> Vec<Effect> {
    let Some(Screen::Sessions(l)) = app.top() else {
        return Vec::new();
    };
    let Some(s) = l.rows.get(l.sel).and_then(|&i| l.found.sessions.get(i)) else {
        return Vec::new();
    };
    let (title, lookup) = (s.title(), s.lookup());
    super::pivot::pivot(app, crate::sanitize::for_terminal(&title), lookup)
}

/// Moves the selection of the edges or sessions list.
pub fn move_sel(app: &mut App, delta: i64) {
    let page = app.page();
    match app.screens.last_mut() {
        Some(Screen::Lateral(v)) => {
            v.sel = step(v.sel, v.found.edges.len(), delta);
            clamp_offset(&mut v.offset, v.sel, page);
        }
        Some(Screen::Sessions(l)) => {
            l.sel = step(l.sel, l.rows.len(), delta);
            clamp_offset(&mut l.offset, l.sel, page);
        }
        _ => {}
    }
}
