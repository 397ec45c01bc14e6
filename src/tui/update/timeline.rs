//! The timeline (every enabled rule's hits) and the lists that follow it: the timeline narrowed
//! by filters is derived again whenever a rule is enabled or disabled, or the timeline's level
//! or order changes.

use super::{hist_of, push_hits};
use crate::sigma::Level;
use crate::tui::action::{Action, Effect, Job, Refiltered};
use crate::tui::app::{App, HitList, HitRow, Screen, filter_title};
use std::sync::Arc;

pub const TIMELINE: &str = "Timeline: all enabled rules";

/// Whether rule `i`'s hits are on the timeline: it alerts, at or above the minimum level.
fn on_timeline(app: &App, i: usize) -> bool {
    let min = app.timeline_level.unwrap_or_default();
    (app.rules.get(i)).is_some_and(|r| r.alerts() && r.rule.meta.rank() >= min)
}

/// The timeline's rows: every alerting rule's hits at or above its minimum level, in time
/// order, or by level (highest first) and then time. Hits that only feed a correlation are
/// not alerts; they are listed under their rule.
fn timeline_rows(app: &App) -> Vec<HitRow> {
    let mut rows: Vec<HitRow> = (0..app.rules.len())
        .filter(|&i| on_timeline(app, i))
        .flat_map(|i| (app.rules[i].hits.iter()).map(move |&r| HitRow { r, rule: Some(i) }))
        .collect();
    if app.timeline_by_level {
        let rank = |h: &HitRow| h.rule.map(|i| app.rules[i].rule.meta.rank());
        rows.sort_unstable_by_key(|h| (std::cmp::Reverse(rank(h)), h.r, h.rule));
    } else {
        rows.sort_unstable_by_key(|h| (h.r, h.rule));
    }
    rows
}

/// `a`: the timeline, as a list of its own that follows it.
pub fn all_hits(app: &mut App) -> Vec<Effect> {
    let rows = timeline_rows(app);
    let effects = push_hits(app, TIMELINE.into(), rows, None, None);
    if let Some(Screen::Hits(h)) = app.screens.last_mut() {
        h.timeline = Some(Vec::new());
    }
    effects
}

/// `s`/`l` on a list that follows the timeline order the timeline by level or time, and raise
/// its minimum level; on any other list they only say so.
pub fn timeline_key(app: &mut App, action: &Action) -> Vec<Effect> {
    if !matches!(app.top(), Some(Screen::Hits(h)) if h.timeline.is_some()) {
        app.message = Some("level order and filter apply to the timeline (a)".into());
        return Vec::new();
    }
    if matches!(action, Action::CycleSort) {
        app.timeline_by_level = !app.timeline_by_level;
    } else {
        app.timeline_level = match app.timeline_level {
            None => Some(Level::Low),
            Some(level) => level.next(),
        };
    }
    refresh_timelines(app)
}

/// Re-derives every list that follows the timeline. The timeline itself, and the rows a
/// disabled rule leaves, change at once; a filtered list's new rows are found on the worker.
pub fn refresh_timelines(app: &mut App) -> Vec<Effect> {
    let follows = |s: &Screen| matches!(s, Screen::Hits(h) if h.timeline.is_some());
    if !app.screens.iter().any(follows) {
        return Vec::new();
    }
    let base = Arc::new(timeline_rows(app));
    let kept: Vec<bool> = (0..app.rules.len()).map(|i| on_timeline(app, i)).collect();
    let mut lists = Vec::new();
    for s in &mut app.screens {
        let Screen::Hits(h) = s else { continue };
        match &h.timeline {
            None => continue,
            Some(filters) if filters.is_empty() => set_rows(h, Arc::clone(&base), false),
            Some(filters) => {
                let queries = filters.iter().map(|f| Arc::clone(&f.query)).collect();
                lists.push((h.id, queries));
                let rows: Vec<HitRow> = (h.rows.iter())
                    .filter(|row| row.rule.is_some_and(|i| kept.get(i) == Some(&true)))
                    .copied()
                    .collect();
                set_rows(h, Arc::new(rows), true);
            }
        }
    }
    if lists.is_empty() {
        return Vec::new();
    }
    app.timeline_stamp += 1;
    app.busy.push(Job::Refilter);
    vec![Effect::Refilter {
        stamp: app.timeline_stamp,
        base,
        lists,
    }]
}

/// Gives a list new rows. The cursor keeps its place in the list, or with `follow` stays on
/// its event where that is still listed (a filtered list's rows arrive later, and may come
/// before it).
fn set_rows(h: &mut HitList, rows: Arc<Vec<HitRow>>, follow: bool) {
    let on = (h.rows.get(h.sel).map(|row| row.r)).filter(|_| follow);
    h.sel = (on.and_then(|r| rows.iter().position(|row| row.r == r)))
        .unwrap_or(h.sel)
        .min(rows.len().saturating_sub(1));
    h.offset = h.offset.min(h.sel);
    h.hist = hist_of(&rows);
    h.rows = rows;
}

/// The filtered lists narrowed again: each still open takes its rows, and its title its counts.
pub fn refiltered(app: &mut App, stamp: u64, base: usize, lists: Vec<Refiltered>) -> Vec<Effect> {
    if stamp != app.timeline_stamp {
        return Vec::new();
    }
    app.busy.retain(|&b| b != Job::Refilter);
    for list in lists {
        let (rows, kept) = match list.found {
            Ok(found) => found,
            Err(e) => {
                app.message = Some(e);
                continue;
            }
        };
        let Some(h) = (app.screens.iter_mut()).find_map(|s| match s {
            Screen::Hits(h) if h.id == list.list => Some(h),
            _ => None,
        }) else {
            continue;
        };
        let Some(filters) = h.timeline.as_ref().filter(|f| f.len() == kept.len()) else {
            continue;
        };
        let mut title = TIMELINE.to_owned();
        let mut of = base;
        for (filter, &n) in filters.iter().zip(&kept) {
            title = filter_title(&title, n, of, &filter.text);
            of = n;
        }
        h.title = title;
        set_rows(h, Arc::new(rows), true);
    }
    super::window(app)
}
