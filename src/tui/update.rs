//! `update(&mut App, Action) -> Vec<Effect>`: the only place state changes. No I/O: anything
//! slow or external is returned as an [`Effect`] for the worker.

mod bookmarks;
mod editor;
mod finder;
mod input_line;
mod lateral;
mod msg;
mod pivot;
mod retune;
mod summary;
mod timeline;

use super::action::{Action, Effect, Job};
use super::app::{
    AROUND_STEPS, App, Entry, HitList, HitRow, InputKind, SPARK_BUCKETS, Screen, Sort, span_label,
};
use crate::sigma::{Level, RuleMeta};
use crate::store::EventRef;
use std::sync::Arc;

pub use editor::target_meta;
pub use msg::spark;
pub use timeline::{TIMELINE, refresh_timelines};

/// Work that Esc (going back) also stops while it runs: a remote query can take seconds.
const CANCELLED_BY_ESC: [Job; 4] = [Job::Query, Job::Stack, Job::Tree, Job::Rules];

pub fn update(app: &mut App, action: Action) -> Vec<Effect> {
    if let Action::Worker(m) = action {
        return msg::handle(app, *m);
    }
    if app.input.is_some() {
        if let Action::Key(k) = action {
            return input_line::input_key(app, k);
        }
        return Vec::new();
    }
    if matches!(app.top(), Some(Screen::Note(_))) {
        return bookmarks::note_action(app, action);
    }
    if matches!(app.top(), Some(Screen::Editor(_))) {
        return match action {
            Action::Key(k) => editor::editor_key(app, k),
            Action::SaveEdit => editor::save_key(app),
            Action::Back => editor::close(app),
            Action::Quit => {
                editor::editor_quit(app);
                Vec::new()
            }
            _ => Vec::new(),
        };
    }
    if app.help && !matches!(action, Action::Resize(..)) {
        // The movement keys scroll the help; any other key closes it.
        let page = app.page() as i64;
        let by = match action {
            Action::Down | Action::ScrollDown => 1,
            Action::Up | Action::ScrollUp => -1,
            Action::PageDown => page,
            Action::PageUp => -page,
            _ => {
                app.help = false;
                app.help_scroll = 0;
                return Vec::new();
            }
        };
        let rows = app.keymap.bindings.len() + crate::tui::keymap::Scope::ALL.len();
        // One column on a narrow terminal (the view stops at the end of what it shows).
        let max = rows as i64;
        app.help_scroll = (i64::from(app.help_scroll) + by).clamp(0, max) as u16;
        return Vec::new();
    }
    app.message = None;
    match action {
        Action::Quit => app.quit = true,
        Action::Help => app.help = true,
        Action::Back => {
            // What was asked from this screen is no longer wanted: the store is asked to stop
            // it (its answer, an error or a stale result, is dropped or shown as usual).
            let busy = app.busy.iter().any(|j| CANCELLED_BY_ESC.contains(j));
            app.screens.pop();
            let mut effects = window(app);
            if busy {
                effects.push(Effect::Interrupt);
            }
            return effects;
        }
        Action::Up => return move_sel(app, -1),
        Action::Down => return move_sel(app, 1),
        Action::ScrollUp => return move_sel(app, -3),
        Action::ScrollDown => return move_sel(app, 3),
        Action::PageUp => return move_sel(app, -(app.page() as i64)),
        Action::PageDown => return move_sel(app, app.page() as i64),
        Action::Top => return move_sel(app, i64::MIN / 2),
        Action::Bottom => return move_sel(app, i64::MAX / 2),
        Action::Click(_, row) => return click(app, row),
        Action::Resize(w, h) => {
            app.size = (w, h);
            return window(app);
        }
        Action::Open if bookmarks::on_list(app) => return bookmarks::open_selected(app),
        Action::Open if matches!(app.top(), Some(Screen::Summary(_))) => {
            return summary::open(app);
        }
        Action::Open => return pivot::open(app),
        Action::ToggleRule => {
            let mut effects = toggle_rule(app);
            effects.extend(window(app));
            return effects;
        }
        Action::CycleSort | Action::CycleLevel if matches!(app.top(), Some(Screen::Hits(_))) => {
            let mut effects = timeline::timeline_key(app, &action);
            effects.extend(window(app));
            return effects;
        }
        Action::CycleSort => {
            app.sort = match app.sort {
                Sort::Hits => Sort::Level,
                Sort::Level => Sort::Title,
                Sort::Title => Sort::Hits,
            };
            refresh_visible(app);
        }
        Action::CycleLevel => {
            app.level_min = match app.level_min {
                None => Some(Level::Informational),
                Some(level) => level.next(),
            };
            refresh_visible(app);
        }
        Action::FilterRules => app.input = Some((InputKind::RuleFilter, app.rule_filter.clone())),
        Action::Search => {
            app.input = Some((InputKind::Search, String::new()));
            app.input_error = None;
        }
        Action::SaveSearch => {
            if let Some(Screen::Hits(h)) = app.top()
                && let Some(q) = &h.query
            {
                if app.parse_query(q).is_ok_and(|p| p.window().is_some()) {
                    // Said before a title is asked for, not after.
                    app.message = Some(input_line::TIME_BOUNDS_REFUSED.into());
                    return Vec::new();
                }
                // The whole search as the proposed title (the line scrolls): one cut short
                // could end inside an escape (`C:\` of `C:\\Windows`).
                app.input = Some((InputKind::SaveSearch, q.clone()));
            } else {
                app.message = Some("only a search can be saved as a rule".into());
            }
        }
        Action::AllHits => return timeline::all_hits(app),
        Action::ProcTree => return pivot::tree(app),
        Action::LogonSession => return pivot::session(app),
        Action::Lateral => return lateral::open(app),
        Action::PivotValue => return pivot::same_value(app),
        Action::PivotAround => return pivot::around(app, false),
        Action::PivotAroundAll => return pivot::around(app, true),
        Action::WiderAround => {
            let wider = AROUND_STEPS.iter().find(|&&s| s > app.around_secs);
            app.around_secs = wider.copied().unwrap_or(app.around_secs);
            app.message = Some(format!("around pivot: ±{}", span_label(app.around_secs)));
            return pivot::rerun_around(app);
        }
        Action::NarrowerAround => {
            let narrower = AROUND_STEPS.iter().rev().find(|&&s| s < app.around_secs);
            app.around_secs = narrower.copied().unwrap_or(app.around_secs);
            app.message = Some(format!("around pivot: ±{}", span_label(app.around_secs)));
            return pivot::rerun_around(app);
        }
        Action::StackField if matches!(app.top(), Some(Screen::Hits(_))) => {
            return finder::ask_stack_fields(app);
        }
        Action::StackField => return pivot::stack(app),
        Action::StackFields => return finder::ask_stack_fields(app),
        Action::FindField => return finder::ask_field(app),
        Action::FilterList => return finder::ask_filter(app),
        Action::MarkBenign => return pivot::benign(app),
        Action::Overlays => app.screens.push(Screen::Overlays {
            sel: 0,
            delete_asked: false,
        }),
        Action::InputProblems => {
            if app.input_problems.is_empty() {
                app.message = Some("no input problems".into());
            } else {
                app.screens.push(Screen::Problems { sel: 0 });
            }
        }
        Action::Delete if bookmarks::on_list(app) => return bookmarks::delete(app),
        Action::Delete => return pivot::delete_overlay(app),
        Action::EditRule => return editor::open_editor(app),
        Action::ExportCsv => return pivot::export(app, false),
        Action::ExportJsonl => return pivot::export(app, true),
        Action::CopyValue => return pivot::copy(app, false),
        Action::CopyEvent => return pivot::copy(app, true),
        Action::Bookmark => return bookmarks::bookmark(app),
        Action::Bookmarks => return bookmarks::open_list(app),
        Action::CaseNote => return bookmarks::open_note(app),
        Action::WriteReport => return summary::write_report(app),
        Action::Summaries => return summary::summaries(app),
        Action::Key(_) | Action::SaveEdit | Action::Worker(_) => {}
    }
    Vec::new()
}

/// Recomputes which rules are listed, in which order (after loading, sorting or filtering).
/// Correlation rules sort with the others; rules that did not load come last.
pub fn refresh_visible(app: &mut App) {
    let needle = app.rule_filter.to_lowercase();
    let keep = |m: &RuleMeta| {
        app.level_min.is_none_or(|min| m.rank() >= min)
            && (needle.is_empty()
                || m.title.to_lowercase().contains(&needle)
                || m.level_text()
                    .is_some_and(|l| l.eq_ignore_ascii_case(&needle))
                || m.tags.iter().any(|t| t.to_lowercase().contains(&needle))
                || m.id.as_deref().is_some_and(|i| i.contains(&needle)))
    };
    // (meta, alerts, hits that only feed correlations) per listed rule, by position in
    // `visible`: sorted by hits, rules that only feed a correlation come after every rule
    // with alerts, whatever their count.
    let count = |enabled: bool, feeds: &[usize], n: usize| match (enabled, feeds.is_empty()) {
        (false, _) => (0, 0),
        (true, true) => (n, 0),
        (true, false) => (0, n),
    };
    let rules = app
        .rules
        .iter()
        .map(|r| (&r.rule.meta, count(r.enabled, &r.feeds, r.hits.len())));
    let corrs = app
        .correlations
        .iter()
        .map(|c| (&c.corr.meta, count(true, &c.feeds, c.hits.len())));
    let rows: Vec<(&RuleMeta, (usize, usize))> = rules.chain(corrs).collect();
    let mut vis: Vec<usize> = (0..rows.len()).filter(|&i| keep(rows[i].0)).collect();
    match app.sort {
        Sort::Hits => vis.sort_by_key(|&i| {
            let (alerts, feeding) = rows[i].1;
            (std::cmp::Reverse(alerts), std::cmp::Reverse(feeding), i)
        }),
        Sort::Level => {
            vis.sort_by_key(|&i| (std::cmp::Reverse(rows[i].0.rank()), i));
        }
        Sort::Title => vis.sort_by_key(|&i| (rows[i].0.title.to_lowercase(), i)),
    }
    // Rules that did not load are listed after the others (when no level filter hides them).
    if app.level_min.is_none() {
        let base = rows.len();
        vis.extend(
            (0..app.failed.len())
                .filter(|&i| {
                    needle.is_empty() || app.failed[i].title.to_lowercase().contains(&needle)
                })
                .map(|i| base + i),
        );
    }
    app.visible = vis;
    app.rule_sel = app.rule_sel.min(app.visible.len().saturating_sub(1));
    let page = app.page();
    clamp_offset(&mut app.rule_offset, app.rule_sel, page);
}

fn clamp_offset(offset: &mut usize, sel: usize, page: usize) {
    if sel < *offset {
        *offset = sel;
    } else if sel >= *offset + page {
        *offset = sel + 1 - page;
    }
}

fn step(sel: usize, len: usize, delta: i64) -> usize {
    if len == 0 {
        return 0;
    }
    let s = (sel as i64).saturating_add(delta).clamp(0, len as i64 - 1);
    s as usize
}

fn move_sel(app: &mut App, delta: i64) -> Vec<Effect> {
    let page = app.page();
    match app.screens.last_mut() {
        None => {
            app.rule_sel = step(app.rule_sel, app.visible.len(), delta);
            clamp_offset(&mut app.rule_offset, app.rule_sel, page);
        }
        Some(Screen::Hits(h)) => {
            h.sel = step(h.sel, h.rows.len(), delta);
            clamp_offset(&mut h.offset, h.sel, page);
            return window(app);
        }
        Some(Screen::Correlation(c)) => {
            let n = app.correlations.get(c.corr).map_or(0, |r| r.hits.len());
            c.sel = step(c.sel, n, delta);
            clamp_offset(&mut c.offset, c.sel, page);
        }
        Some(Screen::Detail(d)) => {
            let n = d.event.as_ref().map_or(0, |e| e.fields.len());
            d.sel = step(d.sel, n, delta);
        }
        Some(Screen::Tree(t)) => t.sel = step(t.sel, t.tree.lines.len(), delta),
        Some(Screen::Stack(s)) => s.sel = step(s.sel, s.values.len(), delta),
        Some(Screen::Overlays { sel, delete_asked }) => {
            *sel = step(*sel, app.overlays.len(), delta);
            *delete_asked = false;
        }
        Some(Screen::Problems { sel }) => *sel = step(*sel, app.input_problems.len(), delta),
        Some(Screen::Bookmarks { sel, delete_asked }) => {
            *sel = step(*sel, app.bookmarks.len(), delta);
            *delete_asked = false;
        }
        Some(Screen::Lateral(_) | Screen::Sessions(_)) => lateral::move_sel(app, delta),
        Some(Screen::Editor(_) | Screen::Note(_)) => {}
        Some(Screen::Summary(s)) => s.sel = step(s.sel, s.len(), delta),
    }
    Vec::new()
}

/// First list row on screen (title bar, block border, header).
const LIST_TOP: u16 = 3;

fn click(app: &mut App, row: u16) -> Vec<Effect> {
    let hist = if matches!(app.top(), Some(Screen::Hits(_))) {
        4
    } else {
        0
    };
    let Some(k) = row.checked_sub(LIST_TOP + hist) else {
        return Vec::new();
    };
    let (sel, offset) = match app.screens.last() {
        None => (app.rule_sel, app.rule_offset),
        Some(Screen::Hits(h)) => (h.sel, h.offset),
        Some(Screen::Correlation(c)) => (c.sel, c.offset),
        _ => return Vec::new(),
    };
    let target = offset as i64 + i64::from(k);
    move_sel(app, target - sel as i64)
}

/// On the rules list, the selected rule; on a timeline, the rule of the selected hit (hiding
/// a noisy rule's hits from the timeline at once).
fn toggle_rule(app: &mut App) -> Vec<Effect> {
    let target = match app.top() {
        Some(Screen::Hits(h)) => h
            .rows
            .get(h.sel)
            .and_then(|r| r.rule)
            .filter(|_| h.rule.is_none()),
        _ => app.selected_rule(),
    };
    if app.top().is_none()
        && let Some(&v) = app.visible.get(app.rule_sel)
        && let Entry::Corr(k) = app.entry(v)
    {
        if let Some(c) = app.correlations.get_mut(k) {
            c.enabled = !c.enabled;
        }
        return Vec::new();
    }
    let Some(row) = target.and_then(|i| app.rules.get_mut(i)) else {
        return Vec::new();
    };
    row.enabled = !row.enabled;
    let i = target.unwrap_or_default();
    refresh_visible(app);
    // Keep the cursor on the same rule after re-sorting.
    if let Some(pos) = app.visible.iter().position(|&v| v == i) {
        app.rule_sel = pos;
        let page = app.page();
        clamp_offset(&mut app.rule_offset, pos, page);
    }
    refresh_timelines(app)
}

/// Histogram columns of a hits list.
pub const HIST_BUCKETS: usize = 120;

/// A histogram over the list's own time span (rows in any order: a timeline can be ordered
/// by level).
pub fn hist_of(rows: &[HitRow]) -> Vec<u64> {
    let ts: Vec<i64> = rows.iter().map(|h| h.r.ts).collect();
    let range = ts.iter().min().copied().zip(ts.iter().max().copied());
    msg::buckets(&ts, range, HIST_BUCKETS)
}

/// A search of the whole case for `text` (parsed as `query`); its results become a list.
fn search(app: &mut App, text: String, query: crate::query::Query) -> Vec<Effect> {
    app.generation += 1;
    app.busy.push(super::action::Job::Query);
    vec![Effect::Search {
        generation: app.generation,
        text,
        query: Arc::new(query),
    }]
}

/// Pushes a hits screen and asks for its first page of events.
pub fn push_hits(
    app: &mut App,
    title: String,
    rows: Vec<HitRow>,
    rule: Option<usize>,
    query: Option<String>,
) -> Vec<Effect> {
    let hist = hist_of(&rows);
    app.lists_made += 1;
    app.screens.push(Screen::Hits(HitList {
        id: app.lists_made,
        title,
        rows: Arc::new(rows),
        sel: 0,
        offset: 0,
        hist,
        rule,
        query,
        around: None,
        origin: None,
        timeline: None,
    }));
    window(app)
}

/// Events the top hits screen shows (and one page beyond) that are not cached yet.
pub fn window(app: &mut App) -> Vec<Effect> {
    let page = app.page();
    let Some(Screen::Hits(h)) = app.screens.last() else {
        return Vec::new();
    };
    let end = (h.offset + 2 * page).min(h.rows.len());
    let want: Vec<EventRef> = h.rows[h.offset.min(end)..end].iter().map(|r| r.r).collect();
    let missing: Vec<EventRef> = want
        .iter()
        .copied()
        .filter(|r| !app.cache.contains_key(r))
        .collect();
    if missing.is_empty() {
        return Vec::new();
    }
    if app.cache.len() + missing.len() > super::app::CACHE_LIMIT {
        app.cache.retain(|r, _| want.contains(r));
    }
    vec![Effect::Fetch(missing)]
}

/// A file-name form of a title: ASCII letters and digits lowercased, anything else `-`.
/// A file name from a title: letters and digits of any script kept (lowercased), every run of
/// anything else one `-`, at most 40 characters.
fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.chars().count() >= 40 {
            break;
        }
    }
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        "export".into()
    } else {
        out.into()
    }
}

/// Number of sparkline buckets (re-exported for views).
pub const BUCKETS: usize = SPARK_BUCKETS;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_bookmarks;
#[cfg(test)]
mod tests_correlations;
#[cfg(test)]
mod tests_finder;
#[cfg(test)]
mod tests_pivots;
#[cfg(test)]
mod tests_saving;
