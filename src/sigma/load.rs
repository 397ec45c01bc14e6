//! Loading rule files and directories into a [`RuleSet`].
//!
//! Every document is handled on its own: a broken rule becomes a [`Rejected`] entry with
//! `file:line:column` and the reason, and loading goes on. Rules for other platforms are
//! [`Skipped`] (counted, not errors). Filters found anywhere in the load are applied to the rules
//! they target once everything has been read.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde::Serialize;

use super::correlation::{self, Correlation};
use super::detection;
use super::filter::{self, Filter};
use super::mapping::{LogsourceResolution, Mapping, RuleSources};
use super::modifiers::{DEFAULT_PLACEHOLDERS, ItemCtx, Placeholders};
use super::prefilter_build::rule_prefilter;
use super::rule::{CompiledRule, DocKind, RuleMeta, classify};
use super::skip4688;
use super::yaml::{self, Kind, Node};
use super::{ErrorKind, SigmaError};

/// A rule (or file) that did not load.
#[derive(Clone, Debug, Serialize)]
pub struct Rejected {
    pub origin: String,
    pub title: Option<String>,
    pub id: Option<String>,
    /// `name:`, by which correlations may reference the document.
    pub name: Option<String>,
    pub error: SigmaError,
    pub notes: Vec<String>,
}

/// A rule for another platform (not Windows event logs), or YAML that is not Sigma.
#[derive(Clone, Debug, Serialize)]
pub struct Skipped {
    pub origin: String,
    pub title: Option<String>,
    pub id: Option<String>,
    pub name: Option<String>,
    pub reason: String,
}

/// A rule or correlation rule left out because a later one has the same id (or name).
#[derive(Clone, Debug)]
pub struct Replaced {
    pub id: String,
    pub title: String,
    /// Where the rule left out came from.
    pub dropped: String,
    /// Where the rule that replaces it came from.
    pub by: String,
    /// The replacing rule was saved from the editor into the user's rules directory: the
    /// intended way to change a rule without rewriting its file.
    pub saved_edit: bool,
}

/// The result of a load.
#[derive(Debug, Default)]
pub struct RuleSet {
    pub rules: Vec<CompiledRule>,
    /// Valid Sigma this engine does not evaluate.
    pub unsupported: Vec<Rejected>,
    /// Broken YAML or invalid rules.
    pub errors: Vec<Rejected>,
    pub skipped: Vec<Skipped>,
    pub correlations: Vec<Correlation>,
    pub filters: Vec<Filter>,
    /// Rules left out for a later one of the same id (only the one that wins runs).
    pub replaced: Vec<Replaced>,
}

impl RuleSet {
    /// Records a rule file whose text cannot be used at all (not UTF-8), at `line:col`.
    pub fn reject_file(&mut self, origin: &str, line: usize, col: usize, message: &str) {
        let span = yaml::Span {
            line,
            col,
            start: 0,
            end: 0,
        };
        let e = SigmaError::new(ErrorKind::Yaml, message).at(span);
        self.errors.push(rejected(origin, None, e));
    }

    /// A rule by id (or name).
    pub fn rule(&self, id: &str) -> Option<&CompiledRule> {
        self.rules
            .iter()
            .find(|r| r.meta.id.as_deref() == Some(id) || r.meta.name.as_deref() == Some(id))
    }
}

/// Loads rules with a logsource mapping and placeholder values.
#[derive(Debug, Clone)]
pub struct Loader {
    mapping: Arc<Mapping>,
    placeholders: Placeholders,
    filters: Vec<Filter>,
    skip_impossible_4688: bool,
    /// Digests of the texts the mapping and the placeholders were read from: with a rule's
    /// own text and its filters', what its [`CompiledRule::fingerprint`] is made of.
    mapping_digest: [u8; 32],
    placeholders_digest: [u8; 32],
}

fn digest(parts: &[&[u8]]) -> [u8; 32] {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    for p in parts {
        // Length-prefixed, so that no two lists of parts hash alike.
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().into()
}

struct Pending {
    meta: RuleMeta,
    sources: RuleSources,
    detection: Node,
}

#[derive(Default)]
struct Collected {
    pending: Vec<Pending>,
    set: RuleSet,
}

impl Collected {
    /// Adds what another text held, after what this one holds.
    fn append(&mut self, other: Collected) {
        self.pending.extend(other.pending);
        let (set, more) = (&mut self.set, other.set);
        set.errors.extend(more.errors);
        set.unsupported.extend(more.unsupported);
        set.skipped.extend(more.skipped);
        set.correlations.extend(more.correlations);
        set.filters.extend(more.filters);
    }
}

impl Loader {
    /// The built-in Windows mapping and the default (empty) placeholders.
    pub fn new() -> Result<Loader, SigmaError> {
        let mapping =
            Mapping::builtin().map_err(|e| SigmaError::new(ErrorKind::Invalid, e.to_string()))?;
        Ok(Loader {
            mapping: Arc::new(mapping),
            placeholders: Placeholders::from_yaml(DEFAULT_PLACEHOLDERS)?,
            filters: Vec::new(),
            skip_impossible_4688: false,
            mapping_digest: digest(&[super::mapping::WINDOWS_MAPPING.as_bytes()]),
            placeholders_digest: digest(&[DEFAULT_PLACEHOLDERS.as_bytes()]),
        })
    }

    /// The logsource mapping rules are read through.
    pub fn mapping(&self) -> &Arc<Mapping> {
        &self.mapping
    }

    /// Replaces the logsource mapping (same format as `rules/mappings/windows.yml`).
    pub fn with_mapping_yaml(mut self, text: &str) -> Result<Loader, SigmaError> {
        self.mapping = Arc::new(
            Mapping::from_yaml(text)
                .map_err(|e| SigmaError::new(ErrorKind::Invalid, e.to_string()))?,
        );
        self.mapping_digest = digest(&[text.as_bytes()]);
        Ok(self)
    }

    /// Adds placeholder values (a YAML map `name: [values]`), replacing entries by name.
    pub fn with_placeholders_yaml(mut self, text: &str) -> Result<Loader, SigmaError> {
        self.placeholders.extend(Placeholders::from_yaml(text)?);
        self.placeholders_digest = digest(&[&self.placeholders_digest, text.as_bytes()]);
        Ok(self)
    }

    /// Filters applied on top of those found in the loaded files (e.g. when re-loading one
    /// edited rule from a string).
    pub fn with_filters(mut self, filters: Vec<Filter>) -> Loader {
        self.filters = filters;
        self
    }

    /// Opt-in and inexact: skip `process_creation` rules on 4688 events when a positive
    /// selection needs a field 4688 lacks (see [`super::skip4688`]).
    pub fn with_skip_impossible_4688(mut self, on: bool) -> Loader {
        self.skip_impossible_4688 = on;
        self
    }

    /// Loads files and directories (recursively, `.yml`/`.yaml`, sorted by path).
    pub fn load_paths<P: AsRef<Path>>(&self, paths: &[P]) -> RuleSet {
        let mut files = Vec::new();
        let mut acc = Collected::default();
        for p in paths {
            collect_files(p.as_ref(), true, &mut files, &mut acc.set.errors);
        }
        files.sort();
        for f in files {
            let origin = f.display().to_string();
            match std::fs::read_to_string(&f) {
                Ok(text) => {
                    self.collect(&text, &origin, &mut acc);
                }
                Err(e) => acc.set.errors.push(rejected(
                    &origin,
                    None,
                    SigmaError::new(ErrorKind::Yaml, format!("cannot read: {e}")),
                )),
            }
        }
        self.finish(acc)
    }

    /// Loads the documents of one text (an editor buffer); `origin` names it in errors.
    pub fn load_str(&self, text: &str, origin: &str) -> RuleSet {
        let mut acc = Collected::default();
        self.collect(text, origin, &mut acc);
        self.finish(acc)
    }

    /// Loads several texts as one set (e.g. rule files embedded in the binary), so filters in
    /// one apply to rules in the others.
    pub fn load_texts<'a>(&self, texts: impl IntoIterator<Item = (&'a str, &'a str)>) -> RuleSet {
        let texts: Vec<(&str, &str)> = texts.into_iter().collect();
        // Texts are parsed on all cores (thousands of files in a SigmaHQ release), then put
        // together in the order given.
        let parts: Vec<Collected> = texts
            .par_iter()
            .map(|&(origin, text)| {
                let mut acc = Collected::default();
                if self.collect(text, origin, &mut acc) == 0 {
                    // An editor buffer may be empty; a rule file should not be.
                    let e = SigmaError::new(ErrorKind::Invalid, "no YAML document in the file");
                    acc.set.errors.push(rejected(origin, None, e));
                }
                acc
            })
            .collect();
        let mut acc = Collected::default();
        for part in parts {
            acc.append(part);
        }
        self.finish(acc)
    }

    /// Collects the documents of one text; returns how many there were (broken ones included).
    fn collect(&self, text: &str, origin: &str, acc: &mut Collected) -> usize {
        let (docs, yaml_errors) = yaml::parse_documents_each(text);
        let count = yaml_errors.len()
            + docs
                .iter()
                .filter(|d| !matches!(d.kind, Kind::Null))
                .count();
        // The line of an `action:` document: the documents after it belong to its collection.
        let mut collection: Option<usize> = None;
        for e in yaml_errors {
            acc.set.errors.push(rejected(
                origin,
                None,
                SigmaError::new(ErrorKind::Yaml, e.message).at(e.span),
            ));
        }
        let source: Arc<str> = Arc::from(text);
        for doc in docs {
            if matches!(doc.kind, Kind::Null) {
                continue;
            }
            let meta = RuleMeta::from_node(&doc, origin, Arc::clone(&source));
            if let Some(line) = collection {
                let e = SigmaError::new(
                    ErrorKind::Unsupported,
                    format!("part of the rule collection begun at line {line} (`action:` collections are unsupported)"),
                )
                .at(doc.span);
                push_rejected(&mut acc.set, rejected(origin, Some(&meta), e));
                continue;
            }
            if doc.get("action").and_then(Node::as_str).is_some() {
                collection = Some(doc.span.line);
            }
            let kind = match classify(&doc) {
                Ok(k) => k,
                Err(e) => {
                    push_rejected(&mut acc.set, rejected(origin, Some(&meta), e));
                    continue;
                }
            };
            match kind {
                DocKind::NotSigma => acc.set.skipped.push(Skipped {
                    origin: origin.to_owned(),
                    title: None,
                    id: meta.id.clone(),
                    name: meta.name.clone(),
                    reason: "not a Sigma document (no `title`, `logsource` or `detection`)".into(),
                }),
                DocKind::Correlation => {
                    match Correlation::from_node(&doc, origin, Arc::clone(&source)) {
                        Ok(c) => acc.set.correlations.push(c),
                        Err(e) => push_rejected(&mut acc.set, rejected(origin, Some(&meta), e)),
                    }
                }
                DocKind::Filter => match Filter::from_node(&doc, origin, Arc::clone(&source)) {
                    Ok(f) => acc.set.filters.push(f),
                    Err(e) => push_rejected(&mut acc.set, rejected(origin, Some(&meta), e)),
                },
                DocKind::Rule => {
                    let ls = &meta.logsource;
                    match self.mapping.resolve(
                        ls.product.as_deref(),
                        ls.category.as_deref(),
                        ls.service.as_deref(),
                    ) {
                        LogsourceResolution::NotWindows(reason) => acc.set.skipped.push(Skipped {
                            origin: origin.to_owned(),
                            title: Some(meta.title.clone()),
                            id: meta.id.clone(),
                            name: meta.name.clone(),
                            reason,
                        }),
                        LogsourceResolution::Unsupported(reason) => {
                            let span = doc.get("logsource").map_or(doc.span, |n| n.span);
                            push_rejected(
                                &mut acc.set,
                                rejected(
                                    origin,
                                    Some(&meta),
                                    SigmaError::new(ErrorKind::Unsupported, reason).at(span),
                                ),
                            );
                        }
                        LogsourceResolution::Windows(sources) => {
                            let detection = doc.get("detection").cloned().unwrap_or(Node {
                                span: doc.span,
                                kind: Kind::Null,
                            });
                            acc.pending.push(Pending {
                                meta,
                                sources,
                                detection,
                            });
                        }
                    }
                }
            }
        }
        count
    }

    fn finish(&self, mut acc: Collected) -> RuleSet {
        let mut filters = acc.set.filters.clone();
        filters.extend(self.filters.iter().cloned());
        let loader_digest = digest(&[
            &self.mapping_digest,
            &self.placeholders_digest,
            &[u8::from(self.skip_impossible_4688)],
        ]);
        let results: Vec<Result<CompiledRule, Box<Rejected>>> = acc
            .pending
            .par_iter()
            .map(|p| self.compile(p, &filters, &loader_digest))
            .collect();
        for r in results {
            match r {
                Ok(rule) => acc.set.rules.push(rule),
                Err(rej) => push_rejected(&mut acc.set, *rej),
            }
        }
        reject_broken_chains(&mut acc.set);
        acc.set
    }

    fn compile(
        &self,
        p: &Pending,
        filters: &[Filter],
        loader_digest: &[u8; 32],
    ) -> Result<CompiledRule, Box<Rejected>> {
        let mut sources = p.sources.clone();
        let fields = detection_fields(&p.detection);
        sources.set_dialect(fields.iter().map(String::as_str));
        let mut notes = sources.notes.clone();
        notes.extend(level_note(p.meta.unknown_level.as_deref()));
        notes.extend(meta_notes(&p.meta));
        let fail = |e: SigmaError, notes: &[String]| {
            Box::new(Rejected {
                notes: notes.to_vec(),
                ..rejected(&p.meta.origin, Some(&p.meta), e)
            })
        };
        let mut ctx = ItemCtx {
            sources: &sources,
            placeholders: &self.placeholders,
            notes: &mut notes,
        };
        let mut det = match detection::compile(&p.detection, &mut ctx) {
            Ok(d) => d,
            Err(e) => return Err(fail(e, ctx.notes)),
        };
        let text = p.meta.text();
        let mut fingerprint_parts: Vec<String> = vec![text];
        for (i, f) in filters.iter().filter(|f| f.applies_to(&p.meta)).enumerate() {
            match detection::compile(&f.detection, &mut ctx) {
                Ok(fd) => {
                    fingerprint_parts.push(f.meta.text());
                    filter::merge(&mut det, fd, i);
                    ctx.notes.push(format!(
                        "filter `{}` ({}) applied",
                        f.meta.label(),
                        f.meta.origin
                    ));
                }
                Err(e) => {
                    let e = e.context(&format!("filter `{}`", f.meta.label()));
                    return Err(fail(e, ctx.notes));
                }
            }
        }
        if self.skip_impossible_4688 {
            notes.extend(skip4688::prune(&mut sources, &det));
        }
        let prefilter = rule_prefilter(&sources, &det);
        let mut parts: Vec<&[u8]> = vec![loader_digest];
        parts.extend(fingerprint_parts.iter().map(|t| t.as_bytes()));
        Ok(CompiledRule {
            meta: p.meta.clone(),
            notes,
            sources,
            detection: det,
            prefilter,
            fingerprint: digest(&parts),
        })
    }
}

/// Rejects correlations whose chain cannot be evaluated, then those that take hits from a
/// rejected correlation, until none is left to reject.
fn reject_broken_chains(set: &mut RuleSet) {
    loop {
        let mut problems = correlation::chain_problems(&set.correlations);
        // (id, name) of every document that did not load or was skipped.
        let gone: Vec<(Option<&str>, Option<&str>)> = set
            .errors
            .iter()
            .chain(&set.unsupported)
            .map(|r| (r.id.as_deref(), r.name.as_deref()))
            .chain(
                set.skipped
                    .iter()
                    .map(|s| (s.id.as_deref(), s.name.as_deref())),
            )
            .collect();
        for (i, c) in set.correlations.iter().enumerate() {
            let dead = gone.iter().find(|(id, name)| c.references(*id, *name));
            if let Some((id, name)) = dead
                && !problems.iter().any(|(j, _)| *j == i)
            {
                let what = name.or(*id).unwrap_or_default();
                let msg = format!(
                    "takes hits from `{what}`, which did not load (rejected, or not a Windows event log rule)"
                );
                problems.push((
                    i,
                    SigmaError::new(ErrorKind::Unsupported, msg).at(c.meta.span),
                ));
            }
        }
        if problems.is_empty() {
            return;
        }
        problems.sort_by_key(|(i, _)| std::cmp::Reverse(*i));
        for (i, e) in problems {
            let c = set.correlations.remove(i);
            push_rejected(set, rejected(&c.meta.origin, Some(&c.meta), e));
        }
    }
}

fn push_rejected(set: &mut RuleSet, r: Rejected) {
    if r.error.kind == ErrorKind::Unsupported {
        set.unsupported.push(r);
    } else {
        set.errors.push(r);
    }
}

fn rejected(origin: &str, meta: Option<&RuleMeta>, e: SigmaError) -> Rejected {
    Rejected {
        origin: origin.to_owned(),
        title: meta.map(|m| m.title.clone()).filter(|t| !t.is_empty()),
        id: meta.and_then(|m| m.id.clone()),
        name: meta.and_then(|m| m.name.clone()),
        error: e.with_origin(origin),
        notes: Vec::new(),
    }
}

/// Directories are walked for `.yml`/`.yaml`; a file named explicitly is always read.
fn collect_files(p: &Path, top: bool, out: &mut Vec<PathBuf>, errors: &mut Vec<Rejected>) {
    if p.is_dir() {
        match std::fs::read_dir(p) {
            Ok(entries) => {
                for e in entries.flatten() {
                    collect_files(&e.path(), false, out, errors);
                }
            }
            Err(e) => errors.push(rejected(
                &p.display().to_string(),
                None,
                SigmaError::new(ErrorKind::Yaml, format!("cannot read directory: {e}")),
            )),
        }
    } else if top || p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
        out.push(p.to_path_buf());
    }
}

/// Field names used by a detection block (for dialect inference).
fn detection_fields(det: &Node) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(n: &Node, out: &mut Vec<String>) {
        match &n.kind {
            Kind::Map(entries) => {
                for (k, _) in entries {
                    if let Some(key) = k.as_str() {
                        let f = key.split('|').next().unwrap_or_default();
                        if !f.is_empty() {
                            out.push(f.to_owned());
                        }
                    }
                }
            }
            Kind::Seq(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    for (k, _, v) in det.entries() {
        if k != "condition" {
            walk(v, &mut out);
        }
    }
    out
}

/// A `level` outside Sigma's five is ranked as `informational`, and said so (a typo such as
/// `crtical` would otherwise pass unnoticed and rank the rule last).
fn level_note(unknown: Option<&str>) -> Option<String> {
    unknown.map(|level| {
        format!(
            "unknown level `{level}` (one of {}): ranked as informational",
            crate::sigma::Level::names()
        )
    })
}

/// `status` outside Sigma's values and dates not written `YYYY-MM-DD` (or the older
/// `YYYY/MM/DD`): harmless to matching, but likely typos worth seeing in `rules check`.
fn meta_notes(meta: &RuleMeta) -> Vec<String> {
    let mut notes = Vec::new();
    let statuses = [
        "stable",
        "test",
        "experimental",
        "deprecated",
        "unsupported",
    ];
    if let Some(status) = &meta.status
        && !statuses.iter().any(|k| k.eq_ignore_ascii_case(status))
    {
        notes.push(format!(
            "unknown status `{status}` (one of {})",
            statuses.join(", ")
        ));
    }
    for (key, value) in [("date", &meta.date), ("modified", &meta.modified)] {
        let Some(v) = value else { continue };
        let iso = v.replace('/', "-");
        if iso.parse::<jiff::civil::Date>().is_err() {
            notes.push(format!("`{key}: {v}` is not a date (YYYY-MM-DD)"));
        }
    }
    notes
}
