//! What can happen: user-level [`Action`]s (the keymap's vocabulary), [`Effect`]s that `update`
//! asks the worker to carry out, and [`Msg`]s the worker sends back.

use crate::bookmarks::{Bookmark, RuleRef};
use crate::event::Event;
use crate::overlay::Overlay;
use crate::proctree::ProcTree;
use crate::query::Query;
use crate::sigma::{CompiledRule, Correlation, CorrelationHit, Filter, MatchDetail};
use crate::store::{EventRef, Lookup};
use crossterm::event::KeyEvent;
use std::path::PathBuf;
use std::sync::Arc;

pub use super::job::Job;

/// A user intent or a worker result; `update` is the only consumer.
#[derive(Clone, Debug)]
pub enum Action {
    Quit,
    Help,
    Back,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    ToggleRule,
    CycleSort,
    CycleLevel,
    FilterRules,
    Search,
    AllHits,
    ProcTree,
    /// The logon session of the selected event (a process, a hit, a tree node).
    LogonSession,
    /// Host → host edges of lateral movement (Enter lists an edge's sessions).
    Lateral,
    PivotValue,
    PivotAround,
    /// Events around the selected one on every computer, not only its own.
    PivotAroundAll,
    /// Widen / narrow the ±span of the around pivot (a step of `AROUND_STEPS`).
    WiderAround,
    NarrowerAround,
    StackField,
    MarkBenign,
    Overlays,
    /// Lists what went wrong reading the input paths.
    InputProblems,
    Delete,
    EditRule,
    /// Saves the rule editor's buffer.
    SaveEdit,
    SaveSearch,
    ExportCsv,
    ExportJsonl,
    CopyValue,
    CopyEvent,
    /// In the detail: move to a field by (part of) its name.
    FindField,
    /// Narrow the list on screen to the rows a query matches.
    FilterList,
    /// Stack by several fields at once (value tuples with counts).
    StackFields,
    /// Bookmarks the selected event (asking for a note with `#tags`), or edits its bookmark.
    Bookmark,
    /// The case's bookmarks, in time order.
    Bookmarks,
    /// The case note, in the editor.
    CaseNote,
    /// Writes the case report (`<case>/report.md`, and as a page `<case>/report.html`).
    WriteReport,
    /// The hosts and users summary (on it: switches between hosts and users).
    Summaries,
    /// A key typed into the search/filter line or the rule editor.
    Key(KeyEvent),
    ScrollUp,
    ScrollDown,
    Click(u16, u16),
    Resize(u16, u16),
    Worker(Box<Msg>),
}

/// The anchor of a time pivot (events on `computer` around `t0`, in microseconds): kept on its
/// list so a new span re-runs it in place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Around {
    /// `None`: every computer.
    pub computer: Option<String>,
    pub t0: i64,
}

/// Work for the background threads.
#[derive(Clone)]
pub enum Effect {
    LoadRules,
    /// Stop what the store runs for the lists (a remote query): run at once, not queued.
    Interrupt,
    Fetch(Vec<EventRef>),
    Detail {
        r: EventRef,
        rule: Option<Arc<CompiledRule>>,
    },
    Tree {
        generation: u64,
        r: EventRef,
    },
    /// The events of the logon session `r` belongs to.
    Session {
        generation: u64,
        r: EventRef,
    },
    /// The case's logon sessions and lateral-movement edges, with the hits of `hits` (every
    /// alerting rule's, each sorted) counted in each session.
    Lateral {
        generation: u64,
        hits: Vec<Arc<Vec<EventRef>>>,
    },
    Pivot {
        generation: u64,
        title: String,
        /// The question, as data: the store may answer it itself.
        lookup: Lookup,
        /// Set for a time pivot (its result replaces a list of the same anchor).
        around: Option<Around>,
    },
    Search {
        generation: u64,
        text: String,
        query: Arc<Query>,
    },
    Compile {
        generation: u64,
        rule: usize,
        text: String,
        origin: String,
        filters: Vec<Filter>,
        /// The loaded rules, hits and correlations, when a correlation is built on this rule
        /// (the preview then says what the edit does to its alerts).
        feeds: Option<Arc<CorrInputs>>,
    },
    /// Re-evaluates an edited correlation rule over the hits the workbench holds.
    CompileCorrelation {
        generation: u64,
        corr: usize,
        text: String,
        origin: String,
        inputs: Arc<CorrInputs>,
    },
    SaveRule {
        name: String,
        text: String,
    },
    /// Counts the values of `field` over `refs`: a rule's hits, with `field` a Sigma field read
    /// through the rule's mapping, or any list's events (`rule` None), with `field` the event's.
    Stack {
        rule: Option<(usize, Arc<CompiledRule>)>,
        of: String,
        field: String,
        refs: Arc<Vec<EventRef>>,
    },
    /// Counts the tuples of values of `fields` over `refs`, read as [`Effect::Stack`] reads one.
    StackTuples {
        rule: Option<(usize, Arc<CompiledRule>)>,
        of: String,
        fields: Vec<String>,
        refs: Arc<Vec<EventRef>>,
    },
    /// The rows of a list (titled `of`) whose events `query` (`text`) matches, in its order.
    FilterList {
        generation: u64,
        /// The list's [`HitList::id`](crate::tui::app::HitList::id), and its title.
        list: u64,
        of: String,
        text: String,
        rows: Arc<Vec<crate::tui::app::HitRow>>,
        query: Arc<Query>,
    },
    /// Narrows the timeline's rows (`base`) again for each list that follows it (by its id)
    /// with that list's filters in turn.
    Refilter {
        stamp: u64,
        base: Arc<Vec<crate::tui::app::HitRow>>,
        lists: Vec<(u64, Vec<Arc<Query>>)>,
    },
    /// Writes an overlay, then re-runs only the loaded rules it applies to (see [`Tuning`]).
    AddOverlay {
        rule: Arc<CompiledRule>,
        field: String,
        value: String,
        tuning: Arc<Tuning>,
    },
    /// Removes an overlay, then re-runs only the loaded rules it applied to.
    RemoveOverlay {
        overlay: Overlay,
        tuning: Arc<Tuning>,
    },
    /// Writes one row per listed row (an event two rules hit is two rows of a timeline).
    Export {
        path: PathBuf,
        jsonl: bool,
        rows: Vec<ExportRow>,
    },
    /// Writes a stack (values, count) to a new file, with the events that lack the field: a
    /// row's values are one per field of `fields` (one, or a tuple's).
    ExportStack {
        path: PathBuf,
        jsonl: bool,
        fields: Vec<String>,
        values: Vec<(Vec<String>, u64)>,
        missing: u64,
    },
    /// Write text to a file under the case and to the clipboard (OSC 52, done by the UI thread).
    Copy {
        label: String,
        text: String,
    },
    /// Reads the case's bookmarks and finds their events in the view.
    LoadBookmarks,
    /// Bookmarks the event `r` (or replaces its bookmark).
    AddBookmark {
        r: EventRef,
        rule: Option<RuleRef>,
        note: String,
        tags: Vec<String>,
    },
    /// A new note and tags for a bookmark.
    EditBookmark {
        id: String,
        note: String,
        tags: Vec<String>,
    },
    RemoveBookmark {
        id: String,
    },
    /// Reads the case note for the editor.
    LoadCaseNote,
    SaveCaseNote {
        text: String,
    },
    /// Writes the case report to `path` (replaced whole when complete).
    Report {
        path: PathBuf,
        job: Arc<ReportJob>,
    },
    /// Summarises the case per host and per user over the alerting rules' hits.
    Summaries {
        rules: Arc<Vec<RuleHitsArc>>,
    },
}

/// A rule with its hits, as the report and the summaries take them from the workbench.
pub type RuleHitsArc = (Arc<CompiledRule>, Arc<Vec<EventRef>>);

/// What the report is written from: the workbench's rules as they are (disabled ones too),
/// its correlations, the rules that did not load, the overlays and the input problems.
pub struct ReportJob {
    pub rules: Vec<(
        Arc<CompiledRule>,
        Arc<Vec<EventRef>>,
        crate::report::RuleState,
    )>,
    pub correlations: Vec<(Arc<Correlation>, usize, crate::report::RuleState)>,
    pub not_loaded: Vec<crate::report::NotLoaded>,
    pub overlays: Vec<Overlay>,
    pub problems: Vec<InputProblem>,
    /// Where the rules came from, in a line.
    pub sources: String,
}

/// A bookmark with the event it names in this session's view (`None`: not in the case).
#[derive(Clone, Debug)]
pub struct BookmarkRow {
    pub mark: Bookmark,
    pub r: Option<EventRef>,
}

impl Effect {
    /// Effects of the same lane replace each other while queued (newest request wins); `None`
    /// means every request runs (writes must not be dropped).
    pub fn lane(&self) -> Option<Job> {
        match self {
            Effect::Fetch(_) => Some(Job::Fetch),
            Effect::Detail { .. } => Some(Job::Detail),
            Effect::Tree { .. }
            | Effect::Session { .. }
            | Effect::Lateral { .. }
            | Effect::Pivot { .. }
            | Effect::Search { .. }
            | Effect::FilterList { .. } => Some(Job::Query),
            Effect::Compile { .. } | Effect::CompileCorrelation { .. } => Some(Job::Compile),
            Effect::Stack { .. } | Effect::StackTuples { .. } => Some(Job::Stack),
            Effect::Refilter { .. } => Some(Job::Refilter),
            _ => None,
        }
    }
}

/// What the lateral-movement screen shows: the edges, and every session with its hits
/// (`Edge::sessions` index `sessions`).
#[derive(Clone, Debug)]
pub struct LateralFound {
    pub edges: Vec<crate::logons::lateral::Edge>,
    pub sessions: Vec<crate::logons::Session>,
    pub hits: Vec<u64>,
}

/// A row of an exported list: the event and the rule whose hit it is, if any.
#[derive(Clone)]
pub struct ExportRow {
    pub r: EventRef,
    pub rule: Option<Arc<CompiledRule>>,
}

/// A rule that did not load, with why.
#[derive(Clone, Debug)]
pub struct FailedRule {
    pub title: String,
    pub origin: String,
    pub kind: FailKind,
    pub reason: String,
}

/// Why a rule is in the list of failed ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailKind {
    /// It does not parse or compile.
    Error,
    /// It uses what the engine does not support.
    Unsupported,
    /// Another rule with its id loaded after it.
    Replaced,
    /// Its file could not be read.
    Unreadable,
}

impl FailKind {
    /// As the rules list shows it.
    pub fn name(self) -> &'static str {
        match self {
            FailKind::Error => "error",
            FailKind::Unsupported => "unsupported",
            FailKind::Replaced => "replaced",
            FailKind::Unreadable => "unreadable",
        }
    }
}

pub use crate::store::InputProblem;

/// The outcome of loading and running every rule.
#[derive(Clone)]
pub struct RulesLoaded {
    pub rules: Vec<Arc<CompiledRule>>,
    pub hits: Vec<Arc<Vec<EventRef>>>,
    pub correlations: Vec<Arc<Correlation>>,
    /// Per correlation, its hits (in time order).
    pub corr_hits: Vec<Arc<Vec<CorrelationHit<EventRef>>>>,
    pub failed: Vec<FailedRule>,
    pub filters: Vec<Filter>,
    pub overlays: Vec<Overlay>,
    pub elapsed_ms: u128,
    /// How many rules the installed SigmaHQ release gave, and which release.
    pub installed: Option<String>,
    /// The logsource mapping the rules were read through, for the searches to read alike.
    pub mapping: Arc<crate::sigma::mapping::Mapping>,
}

/// A compile error positioned in the editor buffer (1-based line/column).
#[derive(Clone, Debug)]
pub struct EditError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

/// What the editor edits: a rule or a correlation rule (indices into the lists of `App`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EditTarget {
    Rule(usize),
    Corr(usize),
}

/// Hits of an edited rule (events) or correlation rule (windows), in time order.
#[derive(Clone, Debug)]
pub enum EditHits {
    Rule(Arc<Vec<EventRef>>),
    Corr(Arc<Vec<CorrelationHit<EventRef>>>),
}

impl EditHits {
    pub fn len(&self) -> usize {
        match self {
            EditHits::Rule(h) => h.len(),
            EditHits::Corr(h) => h.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What an edited correlation is evaluated over: every loaded rule with its hits (as when
/// rules load, disabled ones included) and the loaded correlations it may chain onto.
pub struct CorrInputs {
    pub rules: Vec<Arc<CompiledRule>>,
    pub hits: Vec<Arc<Vec<EventRef>>>,
    pub correlations: Vec<Arc<Correlation>>,
}

/// What a tuning change is applied to: the loaded rules with their hits and correlations, and
/// the filters they were loaded with. Only the rules an overlay applies to are compiled and run
/// again; the others keep their hits.
pub struct Tuning {
    pub loaded: CorrInputs,
    pub filters: Vec<Filter>,
    /// The overlays as loaded (the change is made to these, not read from disk again).
    pub overlays: Vec<Overlay>,
}

/// A rule a tuning change re-ran.
#[derive(Clone)]
pub struct RerunRule {
    /// Its place among the loaded rules.
    pub index: usize,
    /// The rule as loaded: tells `update` whether the list still holds it (a full reload in
    /// between moves indices).
    pub loaded: Arc<CompiledRule>,
    /// The rule as now compiled, with its hits.
    pub rule: Arc<CompiledRule>,
    pub hits: Arc<Vec<EventRef>>,
}

/// The rules a tuning change re-ran, in place of the loaded ones.
#[derive(Clone)]
pub struct Retuned {
    pub rules: Vec<RerunRule>,
    /// Every correlation's hits again, when one takes hits from a re-run rule.
    pub corr_hits: Option<Vec<Arc<Vec<CorrelationHit<EventRef>>>>>,
    pub filters: Vec<Filter>,
    pub overlays: Vec<Overlay>,
    pub elapsed_ms: u128,
}

/// The hits of a recompiled rule or correlation with notes (e.g. references to rules that are
/// not loaded), or why it does not compile.
pub type Compiled = Result<(EditHits, Vec<String>), Vec<EditError>>;

/// A list following the timeline, narrowed again ([`Effect::Refilter`]).
#[derive(Clone)]
pub struct Refiltered {
    /// Its [`HitList::id`](crate::tui::app::HitList::id).
    pub list: u64,
    /// Its rows, and how many rows each filter kept.
    pub found: Result<(Vec<crate::tui::app::HitRow>, Vec<usize>), String>,
}

/// Results from the worker.
#[derive(Clone)]
pub enum Msg {
    Progress(String),
    Ready {
        case_name: String,
        events: u64,
        first: Option<i64>,
        last: Option<i64>,
        /// What went wrong reading the inputs given on the command line.
        problems: Vec<InputProblem>,
    },
    Rules(Box<RulesLoaded>),
    /// Rules re-run after a tuning overlay was written or removed.
    Retuned(Box<Retuned>),
    Events(Vec<(EventRef, Arc<Event>)>),
    Detail {
        r: EventRef,
        event: Arc<Event>,
        file: String,
        matched: Option<MatchDetail>,
    },
    Tree {
        generation: u64,
        tree: Result<Option<ProcTree>, String>,
    },
    /// The lateral-movement edges and the sessions behind them.
    Lateral {
        generation: u64,
        found: Result<Box<LateralFound>, String>,
    },
    Hits {
        generation: u64,
        title: String,
        /// The search's text, when the list is a search's results (not a pivot's).
        query: Option<String>,
        refs: Result<Vec<EventRef>, String>,
        around: Option<Around>,
    },
    Compiled {
        generation: u64,
        target: EditTarget,
        result: Compiled,
    },
    Stack {
        rule: Option<usize>,
        of: String,
        field: String,
        values: Vec<(String, u64)>,
        missing: u64,
    },
    /// A stack by several fields: per row, the values of `fields` and how many events hold them.
    StackTuples {
        rule: Option<usize>,
        of: String,
        fields: Vec<String>,
        tuples: Vec<(Vec<String>, u64)>,
        missing: u64,
    },
    /// A list narrowed by a query (the rows kept, of `of`).
    Filtered {
        generation: u64,
        /// The list filtered.
        list: u64,
        title: String,
        /// The filter's query.
        text: String,
        query: Arc<Query>,
        /// The rows filtered (the list's rows when it was asked).
        over: Arc<Vec<crate::tui::app::HitRow>>,
        rows: Result<Vec<crate::tui::app::HitRow>, String>,
    },
    /// The lists that follow the timeline, narrowed again from `base` timeline rows.
    Refiltered {
        stamp: u64,
        base: usize,
        lists: Vec<Refiltered>,
    },
    /// The key bindings to use (read at startup, with any problems of the user's file).
    Keymap(Arc<super::keymap::Keymap>),
    /// An export finished (what was written where).
    Exported(String),
    /// The report was written (where), or why not.
    Reported(String),
    /// The hosts and users summary.
    Summaries(Arc<crate::report::Summaries>),
    Info(String),
    /// Events in the case on disk now: another process ingested into it since it was opened.
    CaseGrew(u64),
    /// The case's bookmarks as read, with what could not be read in their journal.
    Bookmarks {
        rows: Vec<BookmarkRow>,
        warnings: Vec<String>,
    },
    /// A bookmark written (added, or its note edited).
    BookmarkSaved(Box<BookmarkRow>),
    /// A bookmark removed (by id).
    BookmarkRemoved(String),
    /// The case note as read, for the editor.
    CaseNote(String),
    /// The case note was written: the text now on disk.
    CaseNoteSaved(String),
    Error(String),
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            Msg::Progress(_) => "Progress",
            Msg::Ready { .. } => "Ready",
            Msg::Rules(_) => "Rules",
            Msg::Retuned(_) => "Retuned",
            Msg::Events(_) => "Events",
            Msg::Detail { .. } => "Detail",
            Msg::Tree { .. } => "Tree",
            Msg::Lateral { .. } => "Lateral",
            Msg::Hits { .. } => "Hits",
            Msg::Compiled { .. } => "Compiled",
            Msg::Stack { .. } => "Stack",
            Msg::StackTuples { .. } => "StackTuples",
            Msg::Filtered { .. } => "Filtered",
            Msg::Refiltered { .. } => "Refiltered",
            Msg::Keymap(_) => "Keymap",
            Msg::Exported(_) => "Exported",
            Msg::Reported(_) => "Reported",
            Msg::Summaries(_) => "Summaries",
            Msg::Info(_) => "Info",
            Msg::CaseGrew(_) => "CaseGrew",
            Msg::Bookmarks { .. } => "Bookmarks",
            Msg::BookmarkSaved(_) => "BookmarkSaved",
            Msg::BookmarkRemoved(_) => "BookmarkRemoved",
            Msg::CaseNote(_) => "CaseNote",
            Msg::CaseNoteSaved(_) => "CaseNoteSaved",
            Msg::Error(_) => "Error",
        };
        f.write_str(name)
    }
}
