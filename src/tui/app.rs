//! The workbench state: plain data, changed only by `update`, read by the views.

use super::action::{
    Around, BookmarkRow, CorrInputs, EditError, EditHits, EditTarget, FailedRule, InputProblem, Job,
};
use super::keymap::Keymap;
use crate::event::Event;
use crate::proctree::ProcTree;
use crate::sigma::{CompiledRule, Correlation, CorrelationHit, Filter, Level, MatchDetail};
use crate::store::EventRef;
use ratatui_textarea::TextArea;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Events kept for drawing; a hits window needs a screenful, so this bounds memory whatever
/// the number of hits.
pub const CACHE_LIMIT: usize = 4096;
/// The half spans `+`/`-` step through, in seconds: down to a second, since a burst of a
/// thousand events can last half a minute, and up to a day.
pub const AROUND_STEPS: &[i64] = &[
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 43200, 86400,
];

/// A half span as the around pivot's title says it (`30 s`, `5 min`, `2 h`).
pub fn span_label(secs: i64) -> String {
    match secs {
        s if s < 60 || s % 60 != 0 => format!("{s} s"),
        s if s < 3600 || s % 3600 != 0 => format!("{} min", s / 60),
        s => format!("{} h", s / 3600),
    }
}

/// Buckets of the per-rule sparkline and the hits histogram.
pub const SPARK_BUCKETS: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    Hits,
    Level,
    Title,
}

/// What the line editor at the bottom is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    Search,
    RuleFilter,
    SaveSearch,
    /// The level of the rule being saved from a search (after its title).
    SaveLevel,
    /// A field name (or part of one) to move the detail's cursor to.
    FindField,
    /// A query narrowing the list on screen.
    FilterList,
    /// Fields to stack by, separated by commas.
    StackFields,
    /// A bookmark's note, `#tag` words taken as tags (see `App::bookmark_target`).
    BookmarkNote,
}

/// What the bookmark note being typed is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BookmarkTarget {
    /// A new bookmark of an event (a hit of `rule`, if any).
    New { r: EventRef, rule: Option<usize> },
    /// The bookmark of this id, edited.
    Edit { id: String },
}

/// The case note in the editor.
pub struct NoteEditor {
    pub area: TextArea<'static>,
    /// The text as on disk (what leaving compares with, to save only a changed note).
    pub saved: String,
    /// Ctrl-C was pressed once with unsaved edits (a second press quits without them).
    pub quit_asked: bool,
}

impl NoteEditor {
    pub fn text(&self) -> String {
        self.area.lines().join("\n")
    }

    pub fn edited(&self) -> bool {
        self.text() != self.saved
    }
}

/// Why the search line did not parse: at `column` (1-based, in characters of the text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    pub column: usize,
    pub message: String,
}

/// A rule row: the compiled rule, whether it is enabled, and its hits (sorted by time).
#[derive(Clone)]
pub struct RuleRow {
    pub rule: Arc<CompiledRule>,
    pub enabled: bool,
    pub hits: Arc<Vec<EventRef>>,
    pub spark: Vec<u64>,
    /// Correlations (indices into `App::correlations`) that reference this rule with
    /// `generate: false`: its hits only feed them and are not alerts of their own.
    pub feeds: Vec<usize>,
}

impl RuleRow {
    /// Whether its hits count as alerts (totals, timeline, tree marks).
    pub fn alerts(&self) -> bool {
        self.enabled && self.feeds.is_empty()
    }
}

/// A correlation rule row: its hits over the base rules' hits (sorted by time).
#[derive(Clone)]
pub struct CorrRow {
    pub corr: Arc<Correlation>,
    pub hits: Arc<Vec<CorrelationHit<EventRef>>>,
    pub spark: Vec<u64>,
    /// `correlation: event_count` etc., for the list.
    pub kind: &'static str,
    /// Disabled correlations show no count (like disabled rules).
    pub enabled: bool,
    /// Outer correlations with `generate: false` that this one only feeds (as for rules).
    pub feeds: Vec<usize>,
}

/// What a position of the rules list stands for (see [`App::visible`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    Rule(usize),
    Corr(usize),
    Failed(usize),
}

/// One row of a hits list: the event and the rule that produced it (if any).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HitRow {
    pub r: EventRef,
    pub rule: Option<usize>,
}

/// A list of events (a rule's hits, a timeline, a search or a pivot).
#[derive(Clone)]
pub struct HitList {
    /// Tells this list from every other, so a worker's answer finds the list it was asked for.
    pub id: u64,
    pub title: String,
    pub rows: Arc<Vec<HitRow>>,
    pub sel: usize,
    pub offset: usize,
    pub hist: Vec<u64>,
    /// The rule whose hits these are (enables stacking and tuning).
    pub rule: Option<usize>,
    /// The query text when this is a search (enables saving it).
    pub query: Option<String>,
    /// The anchor when this is a time pivot (`+`/`-` re-run it).
    pub around: Option<Around>,
    /// The event a pivot came from: the list opens on it, and it is marked.
    pub origin: Option<EventRef>,
    /// Set when the list follows the timeline: the timeline itself (no filters), or the
    /// timeline narrowed by these filters in turn. Enabling a rule, and the timeline's level
    /// and order, re-derive it.
    pub timeline: Option<Vec<ListFilter>>,
}

/// A filter a list was narrowed by: the query as typed, and parsed.
#[derive(Clone)]
pub struct ListFilter {
    pub text: String,
    pub query: Arc<crate::query::Query>,
}

/// The title of a list narrowed by a filter: the counts first, since a long title is cut at
/// the screen's edge.
pub fn filter_title(of: &str, kept: usize, rows: usize, text: &str) -> String {
    format!("{of} · filter ({kept} of {rows}): {text}")
}

/// The event detail screen.
#[derive(Clone)]
pub struct Detail {
    pub r: EventRef,
    pub rule: Option<usize>,
    pub event: Option<Arc<Event>>,
    pub file: String,
    pub matched: Option<MatchDetail>,
    pub sel: usize,
}

#[derive(Clone)]
pub struct TreeView {
    pub tree: ProcTree,
    pub sel: usize,
    /// Per node: how many alerting rules (enabled, not only feeding a correlation) hit its
    /// creation event.
    pub marks: Vec<usize>,
}

/// The hits of a correlation rule: one row per correlation hit.
#[derive(Clone)]
pub struct CorrList {
    pub corr: usize,
    pub sel: usize,
    pub offset: usize,
}

/// The hosts and users summary (`report::summary`), one list at a time.
#[derive(Clone)]
pub struct SummaryView {
    pub data: Arc<crate::report::Summaries>,
    /// Users shown (else hosts).
    pub users: bool,
    pub sel: usize,
}

impl SummaryView {
    /// Rows of the list shown.
    pub fn len(&self) -> usize {
        if self.users {
            self.data.users.len()
        } else {
            self.data.hosts.len()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Clone)]
pub struct StackView {
    /// The rule whose hits were stacked; None for the events of a search or pivot list.
    pub rule: Option<usize>,
    /// What was stacked, for the title.
    pub of: String,
    pub field: String,
    pub values: Vec<(String, u64)>,
    /// Events stacked that have no value for the field (not a value one can mark benign).
    pub missing: u64,
    pub sel: usize,
    /// A stack by several fields: `field` names them all, each row of `values` joins its
    /// tuple, and this holds the fields and each row's values apart.
    pub tuples: Option<StackTuples>,
}

/// The fields of a stack by several fields, and per row (as `StackView::values`) their values.
#[derive(Clone)]
pub struct StackTuples {
    pub fields: Vec<String>,
    pub values: Vec<Vec<String>>,
}

/// Host → host edges of lateral movement.
#[derive(Clone)]
pub struct LateralView {
    pub found: Arc<super::action::LateralFound>,
    pub sel: usize,
    pub offset: usize,
}

/// Logon sessions (those behind a lateral-movement edge), each with its rule hits.
#[derive(Clone)]
pub struct SessionList {
    pub title: String,
    pub found: Arc<super::action::LateralFound>,
    /// Indices into `found.sessions`.
    pub rows: Vec<usize>,
    pub sel: usize,
    pub offset: usize,
}

/// A hit that an edit adds (`true`) or removes, for the editor's preview.
#[derive(Clone, Debug)]
pub enum DiffRow {
    /// An event of a rule (drawn from the event cache).
    Event(bool, EventRef),
    /// A window of a correlation rule.
    Window(bool, CorrelationHit<EventRef>),
}

/// The live rule editor (detection and correlation rules alike).
pub struct Editor {
    pub target: EditTarget,
    pub area: TextArea<'static>,
    pub generation: u64,
    /// The hits before the edit: what the count and the diff compare with.
    pub old: EditHits,
    pub compiled: Option<EditHits>,
    pub errors: Vec<EditError>,
    /// What is worth knowing about a buffer that compiles (it refers to a rule not loaded…).
    pub notes: Vec<String>,
    pub added: usize,
    pub removed: usize,
    pub diff: Vec<DiffRow>,
    pub pending: bool,
    /// For a correlation rule: the hits it is re-evaluated over (taken when the editor opens).
    pub inputs: Option<Arc<CorrInputs>>,
    /// The text as opened, to tell whether closing would lose edits.
    pub original: String,
    /// Esc was pressed once with unsaved edits (a second Esc discards them).
    pub discard_asked: bool,
    /// Ctrl-C was pressed once with unsaved edits (a second Ctrl-C quits without them).
    pub quit_asked: bool,
    /// Ctrl-S was pressed while the buffer was compiling: saved once it is known to compile.
    pub save_pending: bool,
}

/// Screens stack: pivots push, Backspace pops; the rules list is always at the bottom.
pub enum Screen {
    Hits(HitList),
    Correlation(CorrList),
    Detail(Box<Detail>),
    Tree(TreeView),
    Stack(StackView),
    Lateral(LateralView),
    Sessions(SessionList),
    Overlays {
        sel: usize,
        /// The delete key was pressed once on `sel`: a second press removes the overlay.
        delete_asked: bool,
    },
    /// What went wrong reading the inputs.
    Problems {
        sel: usize,
    },
    Editor(Box<Editor>),
    /// The case's bookmarks (`App::bookmarks`).
    Bookmarks {
        sel: usize,
        /// The delete key was pressed once on `sel`: a second press removes the bookmark.
        delete_asked: bool,
    },
    /// The case note, edited.
    Note(Box<NoteEditor>),
    /// Hosts and users.
    Summary(SummaryView),
}

pub struct App {
    pub case_name: String,
    pub case_dir: PathBuf,
    pub events: u64,
    /// The case is open (its ingest, if any, is done): `events` holds its count.
    pub ready: bool,
    /// Events the case on disk holds when another process added some since it was opened.
    pub events_on_disk: Option<u64>,
    pub range: Option<(i64, i64)>,
    pub progress: Option<String>,
    pub rules: Vec<RuleRow>,
    /// The installed SigmaHQ release's share of `rules`, for the status line
    /// (`2865 SigmaHQ r2024-12-19`).
    pub installed_rules: Option<String>,
    /// The logsource mapping the rules were last read through (`None` before they load: the
    /// bundled one), which searches read fields through too ([`App::parse_query`]).
    pub mapping: Option<Arc<crate::sigma::mapping::Mapping>>,
    pub correlations: Vec<CorrRow>,
    pub failed: Vec<FailedRule>,
    /// Input paths that were missing, unreadable or read in part.
    pub input_problems: Vec<InputProblem>,
    pub filters: Vec<Filter>,
    pub overlays: Vec<crate::overlay::Overlay>,
    pub sort: Sort,
    /// The level filter of the rules list (`None`: every rule, and the failed ones).
    pub level_min: Option<Level>,
    /// The timeline's minimum level (`None`: every level) and whether it is ordered by level
    /// (highest first) rather than time.
    pub timeline_level: Option<Level>,
    pub timeline_by_level: bool,
    /// Stamps the latest re-derivation of the filtered timelines: older results are dropped.
    pub timeline_stamp: u64,
    pub rule_filter: String,
    /// Rows as shown: indices into `rules`, then `correlations` and `failed`, each offset by
    /// the lengths before it (decoded by [`App::entry`]).
    pub visible: Vec<usize>,
    pub rule_sel: usize,
    pub rule_offset: usize,
    pub screens: Vec<Screen>,
    pub cache: HashMap<EventRef, Arc<Event>>,
    pub input: Option<(InputKind, String)>,
    pub input_error: Option<InputError>,
    pub help: bool,
    /// Rows the help is scrolled by (it is taller than a small terminal).
    pub help_scroll: u16,
    pub message: Option<String>,
    /// Background work in flight, by label.
    pub busy: Vec<Job>,
    pub generation: u64,
    /// Lists pushed so far: the last one's [`HitList::id`].
    pub lists_made: u64,
    pub size: (u16, u16),
    pub quit: bool,
    /// Half the span of the around pivot, in seconds (one of [`AROUND_STEPS`]).
    pub around_secs: i64,
    /// The event the pivot of this generation came from (see `HitList::origin`).
    pub pivot_origin: Option<(u64, EventRef)>,
    /// The title given to a search being saved as a rule, while its level is asked.
    pub save_title: Option<String>,
    /// The effective key bindings (defaults plus the user's `keymap.toml`).
    pub keymap: Arc<Keymap>,
    /// The last field name looked for in a detail (`f` then ⏎ moves to its next match).
    pub field_find: String,
    /// The case's bookmarks in time order, each with its event in this session's view.
    pub bookmarks: Vec<BookmarkRow>,
    /// What the bookmark note being typed is for.
    pub bookmark_target: Option<BookmarkTarget>,
}

impl App {
    /// Parses a search, reading fields through the mapping the rules were read through.
    pub fn parse_query(&self, text: &str) -> Result<crate::query::Query, crate::query::QueryError> {
        match &self.mapping {
            Some(m) => crate::query::parse_with(text, Some(m)),
            None => crate::query::parse(text),
        }
    }

    /// Whether an overlay file is this case's own (the others, in the config directory,
    /// apply to every case).
    pub fn overlay_is_case_own(&self, path: &std::path::Path) -> bool {
        path.starts_with(&self.case_dir)
    }

    pub fn new(case_dir: PathBuf) -> App {
        let case_name = case_dir.file_name().map_or_else(
            || case_dir.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        App {
            case_name,
            case_dir,
            events: 0,
            ready: false,
            events_on_disk: None,
            range: None,
            progress: Some("opening case".into()),
            rules: Vec::new(),
            installed_rules: None,
            mapping: None,
            correlations: Vec::new(),
            failed: Vec::new(),
            input_problems: Vec::new(),
            filters: Vec::new(),
            overlays: Vec::new(),
            sort: Sort::Hits,
            level_min: None,
            timeline_level: None,
            timeline_by_level: false,
            timeline_stamp: 0,
            rule_filter: String::new(),
            visible: Vec::new(),
            rule_sel: 0,
            rule_offset: 0,
            screens: Vec::new(),
            cache: HashMap::new(),
            input: None,
            input_error: None,
            help: false,
            help_scroll: 0,
            message: None,
            busy: Vec::new(),
            generation: 0,
            lists_made: 0,
            size: (120, 36),
            quit: false,
            around_secs: 300,
            pivot_origin: None,
            save_title: None,
            keymap: Arc::new(Keymap::default()),
            field_find: String::new(),
            bookmarks: Vec::new(),
            bookmark_target: None,
        }
    }

    /// Rows available to a list body (screen minus frame, header, histogram, status lines).
    pub fn page(&self) -> usize {
        usize::from(self.size.1.saturating_sub(10)).max(1)
    }

    /// Hits of the enabled rules that alert on their own.
    pub fn total_hits(&self) -> usize {
        self.rules
            .iter()
            .filter(|r| r.alerts())
            .map(|r| r.hits.len())
            .sum()
    }

    /// Hits of enabled rules that only feed correlations (`generate: false`).
    pub fn feeding_hits(&self) -> usize {
        self.rules
            .iter()
            .filter(|r| r.enabled && !r.feeds.is_empty())
            .map(|r| r.hits.len())
            .sum()
    }

    /// Titles of the correlations a rule or correlation only feeds, joined for display.
    pub fn fed_titles(&self, feeds: &[usize]) -> String {
        let titles: Vec<&str> = feeds
            .iter()
            .filter_map(|&k| self.correlations.get(k))
            .map(|c| c.corr.meta.label())
            .collect();
        titles.join(", ")
    }

    pub fn top(&self) -> Option<&Screen> {
        self.screens.last()
    }

    pub fn selected_rule(&self) -> Option<usize> {
        match self.entry(*self.visible.get(self.rule_sel)?) {
            Entry::Rule(i) => Some(i),
            _ => None,
        }
    }

    /// The bookmark of an event, if it has one.
    pub fn bookmark_of(&self, r: EventRef) -> Option<&BookmarkRow> {
        self.bookmarks.iter().find(|b| b.r == Some(r))
    }

    /// Decodes a position of `visible`.
    pub fn entry(&self, i: usize) -> Entry {
        let (r, c) = (self.rules.len(), self.correlations.len());
        if i < r {
            Entry::Rule(i)
        } else if i < r + c {
            Entry::Corr(i - r)
        } else {
            Entry::Failed(i - r - c)
        }
    }
}
