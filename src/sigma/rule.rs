//! Rule documents: metadata, logsource, and the compiled rule the engine runs.

use std::sync::Arc;

use serde::Serialize;

use super::level::Level;
use super::mapping::{EventView, RuleSources};
use super::matcher::{Detection, MatchDetail};
use super::yaml::{Kind, Node, Span};
use super::{ErrorKind, SigmaError};
use crate::event::Event;
use crate::prefilter::Prefilter;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LogSource {
    pub product: Option<String>,
    pub category: Option<String>,
    pub service: Option<String>,
    pub definition: Option<String>,
}

impl LogSource {
    pub fn from_node(node: Option<&Node>) -> LogSource {
        let get = |k: &str| node.and_then(|n| n.get(k)).and_then(Node::scalar_text);
        LogSource {
            product: get("product"),
            category: get("category"),
            service: get("service"),
            definition: get("definition"),
        }
    }
}

/// A `related:` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Related {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// The custom attribute (key, value) that marks a rule as a saved search.
pub const SAVED_SEARCH: (&str, &str) = ("huntbench", "saved-search");

/// Rule metadata, kept for the UI and for re-loading a single edited rule.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RuleMeta {
    pub id: Option<String>,
    /// `name:` (used by correlation rules to reference rules).
    pub name: Option<String>,
    pub title: String,
    pub status: Option<String>,
    /// `level:`; `None` when absent or not one of Sigma's five (see `unknown_level`).
    pub level: Option<Level>,
    /// A `level:` Sigma does not know (noted when loading; the rule ranks as informational).
    #[serde(skip)]
    pub unknown_level: Option<String>,
    pub description: Option<String>,
    pub author: Option<String>,
    pub date: Option<String>,
    pub modified: Option<String>,
    pub tags: Vec<String>,
    pub references: Vec<String>,
    pub falsepositives: Vec<String>,
    pub related: Vec<Related>,
    pub logsource: LogSource,
    /// Written from the search bar: marked `huntbench: saved-search` ([`SAVED_SEARCH`]), or, as
    /// searches were saved before the mark, read from a file named `search-*`.
    pub saved_search: bool,
    /// The file path (or the origin given to `load_str`).
    pub origin: String,
    /// Where the document sits in its source text.
    pub span: Span,
    /// The whole source text the document came from (shared by its documents).
    #[serde(skip)]
    pub source: Arc<str>,
}

impl RuleMeta {
    pub fn from_node(doc: &Node, origin: &str, source: Arc<str>) -> RuleMeta {
        let s = |k: &str| doc.get(k).and_then(Node::scalar_text);
        let list = |k: &str| doc.get(k).map(Node::string_list).unwrap_or_default();
        let related = match doc.get("related").map(|n| &n.kind) {
            Some(Kind::Seq(items)) => items
                .iter()
                .map(|r| Related {
                    id: r.get("id").and_then(Node::scalar_text).unwrap_or_default(),
                    kind: r
                        .get("type")
                        .and_then(Node::scalar_text)
                        .unwrap_or_default(),
                })
                .collect(),
            _ => Vec::new(),
        };
        let level_text = s("level");
        RuleMeta {
            id: s("id"),
            name: s("name"),
            title: s("title").unwrap_or_default(),
            status: s("status"),
            level: level_text.as_deref().and_then(Level::parse),
            unknown_level: level_text.filter(|t| Level::parse(t).is_none()),
            description: s("description"),
            author: s("author"),
            date: s("date"),
            modified: s("modified"),
            tags: list("tags"),
            references: list("references"),
            falsepositives: list("falsepositives"),
            related,
            logsource: LogSource::from_node(doc.get("logsource")),
            saved_search: s("huntbench").as_deref() == Some(SAVED_SEARCH.1)
                || std::path::Path::new(origin)
                    .file_stem()
                    .is_some_and(|n| n.to_string_lossy().starts_with("search-")),
            origin: origin.to_owned(),
            span: doc.span,
            source,
        }
    }

    /// The document's own text (for an editor).
    pub fn text(&self) -> String {
        self.source
            .chars()
            .skip(self.span.start)
            .take(self.span.end.saturating_sub(self.span.start))
            .collect()
    }

    /// The level the rule ranks at: informational when it has none or an unknown one.
    pub fn rank(&self) -> Level {
        self.level.unwrap_or_default()
    }

    /// The level as the rule writes it (a known one in Sigma's spelling), for output.
    pub fn level_text(&self) -> Option<&str> {
        self.level
            .map(Level::name)
            .or(self.unknown_level.as_deref())
    }

    /// A label for lists: title, else id, else origin.
    pub fn label(&self) -> &str {
        if !self.title.is_empty() {
            &self.title
        } else {
            self.id.as_deref().unwrap_or(&self.origin)
        }
    }
}

/// What a YAML document is.
pub enum DocKind {
    Rule,
    Correlation,
    Filter,
    /// YAML with none of a Sigma document's keys (e.g. test metadata beside rules).
    NotSigma,
}

pub fn classify(doc: &Node) -> Result<DocKind, SigmaError> {
    if !doc.is_map() {
        return Err(
            SigmaError::new(ErrorKind::Invalid, "a Sigma document must be a map").at(doc.span),
        );
    }
    let sigma_keys = [
        "title",
        "logsource",
        "detection",
        "correlation",
        "filter",
        "action",
    ];
    if !sigma_keys.iter().any(|k| doc.get(k).is_some()) {
        return Ok(DocKind::NotSigma);
    }
    if doc.get("correlation").is_some() {
        return Ok(DocKind::Correlation);
    }
    if doc.get("filter").is_some() {
        return Ok(DocKind::Filter);
    }
    if doc.get("action").and_then(Node::as_str).is_some() {
        return Err(SigmaError::new(
            ErrorKind::Unsupported,
            "rule collections (`action:`) are unsupported",
        )
        .at(doc.span));
    }
    if doc.get("detection").is_none() {
        return Err(SigmaError::new(ErrorKind::Invalid, "missing `detection`").at(doc.span));
    }
    match doc.get("title") {
        None => return Err(SigmaError::new(ErrorKind::Invalid, "missing `title`").at(doc.span)),
        Some(t) if t.scalar_text().is_none() => {
            return Err(SigmaError::new(ErrorKind::Invalid, "`title` must be a string").at(t.span));
        }
        Some(_) => {}
    }
    if doc.get("logsource").is_none_or(|l| !l.is_map()) {
        return Err(
            SigmaError::new(ErrorKind::Invalid, "missing or invalid `logsource`").at(doc.span),
        );
    }
    Ok(DocKind::Rule)
}

/// A rule ready to run.
#[derive(Clone, Debug)]
pub struct CompiledRule {
    pub meta: RuleMeta,
    /// Remarks for `rules check` (fields that cannot exist on a source, applied filters, …).
    pub notes: Vec<String>,
    pub(crate) sources: RuleSources,
    pub(crate) detection: Detection,
    pub(crate) prefilter: Prefilter,
    /// Digest of everything the rule's matches depend on: its text, the filters applied to it,
    /// the logsource mapping, the placeholders and the loader's options. Equal fingerprints
    /// match the same events (for this build of huntbench).
    pub(crate) fingerprint: [u8; 32],
}

impl CompiledRule {
    /// Exact evaluation: `Some(detail)` when the event matches.
    pub fn matches(&self, ev: &Event) -> Option<MatchDetail> {
        self.is_match(ev).then(|| self.detection.explain(ev))
    }

    /// Exact evaluation without the explanation (the hot path).
    pub fn is_match(&self, ev: &Event) -> bool {
        self.is_match_view(&EventView::new(ev))
    }

    /// The hot path when many rules run over one event: build the [`EventView`] once.
    pub fn is_match_view(&self, view: &EventView<'_>) -> bool {
        self.sources.matches_view(view) && self.detection.is_match_view(view)
    }

    /// `matches` over a prepared view.
    pub fn matches_view(&self, view: &EventView<'_>) -> Option<MatchDetail> {
        self.is_match_view(view)
            .then(|| self.detection.explain(view.event))
    }

    /// A sound superset for the index (logsource terms and positive narrowing).
    pub fn prefilter(&self) -> Prefilter {
        self.prefilter.clone()
    }

    /// See the field: what a memo of the rule's hits is keyed by.
    pub fn fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }

    pub fn id(&self) -> Option<&str> {
        self.meta.id.as_deref()
    }

    pub fn title(&self) -> &str {
        &self.meta.title
    }

    /// The Sigma name this rule reads event field `field` of `ev` under (mapped per source, so
    /// Sysmon's `Image` and 4688's `NewProcessName` are both `Image`).
    pub fn sigma_field(&self, ev: &Event, field: &str) -> String {
        self.sources.sigma_name(ev, field)
    }

    /// The values of Sigma field `name` on `ev` as this rule reads them (through the mapping).
    pub fn field_values(&self, ev: &Event, name: &str) -> Vec<String> {
        self.sources
            .field(name, &mut Vec::new())
            .resolve(ev)
            .map(|r| r.value.strings().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// The identifiers (selection names) of the detection, in order.
    pub fn identifiers(&self) -> impl Iterator<Item = &str> {
        self.detection.selections.iter().map(|(n, _)| n.as_str())
    }
}
