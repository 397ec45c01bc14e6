//! The case report: a Markdown document that demonstrates what was found and how, rendering on
//! GitHub and GitLab alike. Sections: the case (inputs, hosts, time range, input problems),
//! detections by level and ATT&CK tactic with their hosts, lateral movement and the logon
//! sessions holding hits, per-host and per-user summaries, the first hit of each high and
//! critical rule in detail (key fields, why it matched, process tree), each bookmark with its
//! note and its event in the same detail, the case note, and the rules and tuning overlays in
//! effect, so the tuning is auditable.
//!
//! Everything is asked of the event store, so it works on any store; hits are read a chunk at
//! a time. Log text only reaches the document through `markdown::text` (or a fenced block).
//!
//! Not for: running rules (the caller passes their hits), or the workbench's screens.

mod bookmarks;
pub mod event;
pub mod html;
pub mod markdown;
mod sections;
pub mod summary;
pub mod why;

use crate::overlay::Overlay;
use crate::sigma::{CompiledRule, RuleMeta};
use crate::store::{EventRef, EventStore, InputProblem, StoreError};
use std::path::Path;

pub use event::{EventSections, event_section};
pub use summary::{RuleHits, Summaries};

/// Rules shown in "Detections in detail" at most (their first hit each).
pub const DETAILED_RULES: usize = 20;

/// Hits placed in sessions at a time.
const HIT_CHUNK: usize = 4096;

/// How a rule ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleState {
    /// Its hits are alerts.
    Alerts,
    /// Disabled for the session (the workbench's `space`): its hits are not counted.
    Disabled,
    /// It only feeds a correlation (`generate: false`): its hits are not alerts of their own.
    FeedsOnly,
}

/// A rule that was loaded, with its hits (in time order).
pub struct RuleRun<'a> {
    pub rule: &'a CompiledRule,
    pub hits: &'a [EventRef],
    pub state: RuleState,
}

/// A correlation rule and how many alerts it raised.
pub struct CorrelationRun<'a> {
    pub meta: &'a RuleMeta,
    pub hits: usize,
    pub state: RuleState,
}

/// A rule file or document that did not run, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotLoaded {
    /// `error`, `unsupported`, `replaced`, `unreadable`.
    pub kind: String,
    pub title: String,
    pub origin: String,
    pub reason: String,
}

/// What a report is written from.
pub struct Input<'a> {
    pub store: &'a dyn EventStore,
    pub case_dir: &'a Path,
    pub rules: Vec<RuleRun<'a>>,
    pub correlations: Vec<CorrelationRun<'a>>,
    pub not_loaded: Vec<NotLoaded>,
    /// The tuning overlays the rules were loaded with.
    pub overlays: &'a [Overlay],
    /// Problems reading the inputs beyond those the case's files record (missing paths…).
    pub problems: &'a [InputProblem],
    /// Where the rules came from, in a line (`rules: 11 bundled, …`).
    pub sources: String,
}

impl Input<'_> {
    /// The alerting rules with their hits.
    fn alerting(&self) -> Vec<RuleHits<'_>> {
        (self.rules.iter())
            .filter(|r| r.state == RuleState::Alerts)
            .map(|r| RuleHits {
                rule: r.rule,
                hits: r.hits,
            })
            .collect()
    }
}

/// The report as Markdown.
pub fn render(input: &Input<'_>) -> Result<String, StoreError> {
    let alerting = input.alerting();
    let tally = summary::tally(input.store, &alerting)?;
    let sessions = crate::logons::sessions(input.store)?;
    // Hits in each session, counted rule by rule (no list of every hit is built).
    let mut in_sessions = vec![0u64; sessions.len()];
    for chunk in alerting.iter().flat_map(|rh| rh.hits.chunks(HIT_CHUNK)) {
        let counts = crate::logons::count_in_sessions(input.store, &sessions, chunk)?;
        for (total, n) in in_sessions.iter_mut().zip(counts) {
            *total += n;
        }
    }
    let edges = crate::logons::lateral::edges(input.store, &sessions, &in_sessions)?;
    let summaries = summary::summaries(input.store, &tally, &sessions)?;
    let mut out = String::new();
    sections::case(&mut out, input, &summaries)?;
    sections::detections(&mut out, input, &alerting, &tally);
    sections::lateral(&mut out, &edges, &sessions, &in_sessions);
    sections::hosts_and_users(&mut out, &summaries);
    sections::in_detail(&mut out, input, &alerting)?;
    bookmarks::sections(&mut out, input)?;
    sections::rules_in_effect(&mut out, input);
    Ok(out)
}

/// The report of the case in `case_dir` as a standalone HTML page, titled by the case's name.
pub fn html_page(case_dir: &Path, markdown: &str) -> String {
    let name = (case_dir.file_name()).map_or_else(String::new, |n| n.to_string_lossy().into());
    html::page(&format!("huntbench report: {name}"), markdown)
}

/// Writes `text` to `path` whole or not at all: into a temporary file beside it, renamed over
/// it when complete.
pub fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".report-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A time as the report writes it (`2024-05-02T10:00:01.0000000Z`; `-` when unknown).
fn time(us: Option<i64>) -> String {
    us.filter(|t| *t != i64::MIN)
        .and_then(|t| jiff::Timestamp::from_microsecond(t).ok())
        .map_or_else(|| "-".into(), crate::event::format_timestamp)
}
