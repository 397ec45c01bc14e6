//! The report and the hosts and users summary: what `R` and `H` ask the worker for, the
//! summary screen's switch between hosts and users, and `⏎` on a host or user (a search of
//! its events).

use super::super::action::{Effect, Job, ReportJob, RuleHitsArc};
use super::super::app::{App, Screen, SummaryView};
use crate::report::{NotLoaded, RuleState};
use std::sync::Arc;

/// `R`: the report of the case as the workbench holds it (rules, their hits and states,
/// overlays, input problems), written on the worker to `<case>/report.md`.
pub fn write_report(app: &mut App) -> Vec<Effect> {
    if !app.ready {
        app.message = Some("the case is still opening".into());
        return Vec::new();
    }
    let state = |enabled: bool, feeds: &[usize]| match (enabled, feeds.is_empty()) {
        (false, _) => RuleState::Disabled,
        (true, true) => RuleState::Alerts,
        (true, false) => RuleState::FeedsOnly,
    };
    let rules = (app.rules.iter())
        .map(|r| {
            let s = state(r.enabled, &r.feeds);
            (Arc::clone(&r.rule), Arc::clone(&r.hits), s)
        })
        .collect();
    let correlations = (app.correlations.iter())
        .map(|c| {
            (
                Arc::clone(&c.corr),
                c.hits.len(),
                state(c.enabled, &c.feeds),
            )
        })
        .collect();
    let not_loaded = (app.failed.iter())
        .map(|f| NotLoaded {
            kind: f.kind.name().into(),
            title: f.title.clone(),
            origin: f.origin.clone(),
            reason: f.reason.clone(),
        })
        .collect();
    let mut sources = format!("{} rules loaded", app.rules.len());
    if let Some(installed) = &app.installed_rules {
        sources.push_str(&format!(" ({installed})"));
    }
    let job = ReportJob {
        rules,
        correlations,
        not_loaded,
        overlays: app.overlays.clone(),
        problems: app.input_problems.clone(),
        sources,
    };
    app.busy.push(Job::Report);
    vec![Effect::Report {
        path: app.case_dir.join("report.md"),
        job: Arc::new(job),
    }]
}

/// `H`: on the summary, switches between hosts and users; elsewhere asks for the summary.
pub fn summaries(app: &mut App) -> Vec<Effect> {
    if let Some(Screen::Summary(s)) = app.screens.last_mut() {
        s.users = !s.users;
        s.sel = 0;
        return Vec::new();
    }
    if !app.ready {
        app.message = Some("the case is still opening".into());
        return Vec::new();
    }
    let rules: Vec<RuleHitsArc> = (app.rules.iter())
        .filter(|r| r.alerts())
        .map(|r| (Arc::clone(&r.rule), Arc::clone(&r.hits)))
        .collect();
    app.busy.push(Job::Summaries);
    vec![Effect::Summaries {
        rules: Arc::new(rules),
    }]
}

/// The summary arrived: shown (in place of one already on top, keeping which list it shows).
pub fn summarised(app: &mut App, data: Arc<crate::report::Summaries>) {
    app.busy.retain(|&b| b != Job::Summaries);
    if let Some(Screen::Summary(s)) = app.screens.last_mut() {
        s.data = data;
        s.sel = s.sel.min(s.len().saturating_sub(1));
        return;
    }
    app.screens.push(Screen::Summary(SummaryView {
        data,
        users: false,
        sel: 0,
    }));
}

/// `⏎` on a host or user: a search of its events (a host's by `Computer`, a user's by the
/// fields that name an account).
pub fn open(app: &mut App) -> Vec<Effect> {
    let Some(Screen::Summary(s)) = app.top() else {
        return Vec::new();
    };
    let text = if s.users {
        let Some(u) = s.data.users.get(s.sel) else {
            return Vec::new();
        };
        let name = u.user.rsplit('\\').next().unwrap_or(&u.user);
        // `User` (Sysmon) holds `DOMAIN\user`, whichever domain.
        let (n, full) = (quoted(name), quoted(&u.user));
        let tail = escaped(name);
        format!("TargetUserName={n} OR SubjectUserName={n} OR User={full} OR User=\"*\\\\{tail}\"")
    } else {
        let Some(h) = s.data.hosts.get(s.sel) else {
            return Vec::new();
        };
        format!("Computer={}", quoted(&h.host))
    };
    match app.parse_query(&text) {
        Ok(q) => super::search(app, text, q),
        Err(e) => {
            app.message = Some(format!("cannot search for it: {e}"));
            Vec::new()
        }
    }
}

/// A value as a quoted search term matching it literally.
fn quoted(value: &str) -> String {
    format!("\"{}\"", escaped(value))
}

/// Sigma's wildcards and escapes, and the quote, escaped.
fn escaped(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        if matches!(c, '\\' | '*' | '?' | '"') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_quoted_value_matches_itself_only() {
        let q = crate::query::parse(&format!("User={}", super::quoted("CORP\\a*\"b"))).unwrap();
        let ev = |v: &str| crate::event::Event::from_pairs(&[("User", v)]);
        assert!(q.matches(&ev("CORP\\a*\"b")));
        assert!(!q.matches(&ev("CORP\\aX\"b")));
    }
}
