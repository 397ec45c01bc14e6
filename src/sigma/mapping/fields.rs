//! Rule fields resolved against a rule's sources: native name first, else the alias of the
//! source the event belongs to.

use std::borrow::Cow;
use std::sync::Arc;

use super::convert::{Transform, read_alias};
use super::{EventView, RuleSources, Source};
use crate::event::{Event, Value};

impl RuleSources {
    /// Sources with no mapping at all (`product: windows` only): every event qualifies.
    pub fn any() -> RuleSources {
        RuleSources::default()
    }

    /// Whether an event belongs to one of the sources.
    pub fn matches(&self, ev: &Event) -> bool {
        self.matches_view(&EventView::new(ev))
    }

    pub fn matches_view(&self, view: &EventView<'_>) -> bool {
        self.sources.is_empty() || self.sources.iter().any(|s| s.matches_view(view))
    }

    /// Infers which source's field names the rule uses (for `override` aliases): a field that is
    /// an alias key of source *t* is foreign to *t*, i.e. native to the others.
    pub fn set_dialect<'a>(&mut self, fields: impl Iterator<Item = &'a str>) {
        if self.sources.len() < 2 {
            return;
        }
        let mut votes = vec![0usize; self.sources.len()];
        for f in fields {
            for (t, src) in self.sources.iter().enumerate() {
                if src.alias(f).is_some_and(|a| !a.force) {
                    for (s, v) in votes.iter_mut().enumerate() {
                        if s != t {
                            *v += 1;
                        }
                    }
                }
            }
        }
        let best = votes.iter().copied().max().unwrap_or(0);
        self.dialect = votes.iter().position(|&v| v == best);
    }

    /// The name a rule of this logsource uses for event field `field` of `ev`: the field itself
    /// on the source whose names the rule follows, else the name that a plain rename reads it
    /// under (`NewProcessName` of a 4688 event is `Image` for a rule in Sysmon's names).
    pub fn sigma_name(&self, ev: &Event, field: &str) -> String {
        let src = self.sources.iter().position(|s| s.matches(ev));
        let Some(i) = src.filter(|&i| self.sources.len() > 1 && self.dialect != Some(i)) else {
            return field.to_owned();
        };
        self.sources[i]
            .aliases
            .iter()
            .find(|(_, a)| {
                a.transform == Transform::None
                    && a.field
                        .as_deref()
                        .is_some_and(|f| f.eq_ignore_ascii_case(field))
            })
            .map_or_else(|| field.to_owned(), |(k, _)| k.clone())
    }

    /// Resolves one rule field; notes fields that cannot exist on some source.
    pub fn field(&self, name: &str, notes: &mut Vec<String>) -> FieldRef {
        let mut alts = Vec::new();
        for (i, src) in self.sources.iter().enumerate() {
            if let Some(a) = src.alias(name) {
                if a.force && self.dialect == Some(i) {
                    continue;
                }
                alts.push(AliasUse {
                    source: Arc::clone(src),
                    field: a.field.clone(),
                    transform: a.transform,
                    force: a.force,
                });
            }
            if src.missing.iter().any(|m| m.eq_ignore_ascii_case(name)) && self.sources.len() > 1 {
                let note = format!(
                    "field `{name}` does not exist on {} events (EventID {}): a test on it is false there, and `not` of it is true",
                    src.name,
                    src.event_ids
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join("/")
                );
                if !notes.contains(&note) {
                    notes.push(note);
                }
            }
        }
        let numeric = self.numeric.contains(&name.to_ascii_lowercase())
            || alts.iter().any(|a| {
                a.field
                    .as_ref()
                    .is_some_and(|f| self.numeric.contains(&f.to_ascii_lowercase()))
            });
        FieldRef {
            name: name.to_owned(),
            numeric,
            alts,
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct AliasUse {
    pub(super) source: Arc<Source>,
    pub(super) field: Option<String>,
    pub(super) transform: Transform,
    pub(super) force: bool,
}

/// A rule field resolved against the rule's sources.
#[derive(Debug, Clone)]
pub struct FieldRef {
    pub name: String,
    /// Compare plain numbers as integers (hex or decimal).
    pub numeric: bool,
    alts: Vec<AliasUse>,
}

/// A field value as read from an event, with the event field it came from.
#[derive(Debug, Clone)]
pub struct Resolved<'e> {
    pub name: Cow<'e, str>,
    pub value: Cow<'e, Value>,
    /// Position in `Event::fields` when the value is the event's own (not converted).
    pub index: Option<usize>,
}

impl FieldRef {
    /// A field read by name only (search queries, keywords).
    pub fn plain(name: &str) -> FieldRef {
        FieldRef {
            name: name.to_owned(),
            numeric: false,
            alts: Vec::new(),
        }
    }

    /// Whether the field may be read under another name (the prefilter must allow for it).
    pub fn aliases(&self) -> impl Iterator<Item = (Option<&str>, Transform)> {
        self.alts.iter().map(|a| (a.field.as_deref(), a.transform))
    }

    /// How the field is read on each source that names it otherwise, in the order tried:
    /// (source, field read, conversion, read even when the event has the field itself).
    pub fn alternatives(&self) -> impl Iterator<Item = (&Source, Option<&str>, Transform, bool)> {
        (self.alts.iter()).map(|a| (a.source.as_ref(), a.field.as_deref(), a.transform, a.force))
    }

    /// The sources on which the field is read through a converted value (a value the index
    /// never holds): an event matched that way belongs to one of them.
    pub fn converting_sources(&self) -> impl Iterator<Item = &Source> {
        (self.alts.iter())
            .filter(|a| a.transform != Transform::None)
            .map(|a| a.source.as_ref())
    }

    /// The field's value on this event; `None` when absent or null.
    pub fn resolve<'e>(&self, ev: &'e Event) -> Option<Resolved<'e>> {
        for a in &self.alts {
            if (a.force || lookup(ev, &self.name).is_none()) && a.source.matches(ev) {
                return read_alias(a, ev);
            }
        }
        lookup_idx(ev, &self.name).map(|(i, n, v)| Resolved {
            index: Some(i),
            name: Cow::Borrowed(n),
            value: Cow::Borrowed(v),
        })
    }
}

impl super::Mapping {
    /// A field as the search language reads it: the event's own field of that name, else, on
    /// an event of a source the mapping gives an alias of the name for, that alias, as a rule of
    /// that source reads it (`Image` is a 4688's `NewProcessName`). Unlike a rule's, an
    /// `override` alias is read only when the event lacks the field: a search has no dialect,
    /// so an event's own field comes first (a 4688's `ProcessId` stays its own).
    pub fn search_field(&self, name: &str) -> FieldRef {
        let mut alts: Vec<AliasUse> = Vec::new();
        let defs = (self.file.categories.values()).flat_map(|c| c.sources.iter());
        for def in defs.chain(self.file.services.values()) {
            let Some((_, alias)) = (def.aliases.iter()).find(|(k, _)| k.eq_ignore_ascii_case(name))
            else {
                continue;
            };
            let source = Source::from_def(def);
            let (field, transform) = match alias {
                super::AliasDef::Rename(f) => (Some(f.clone()), Transform::None),
                super::AliasDef::Full {
                    field, transform, ..
                } => (field.clone(), *transform),
            };
            let seen = alts
                .iter()
                .any(|a| a.field == field && a.transform == transform && *a.source == source);
            if !seen {
                alts.push(AliasUse {
                    source: Arc::new(source),
                    field,
                    transform,
                    force: false,
                });
            }
        }
        let numeric = |f: &str| self.numeric.contains(&f.to_ascii_lowercase());
        FieldRef {
            name: name.to_owned(),
            numeric: numeric(name) || alts.iter().any(|a| a.field.as_deref().is_some_and(numeric)),
            alts,
        }
    }
}

/// Exact name first, then ASCII case-insensitive (as `Event::get`); null counts as absent.
pub fn lookup<'e>(ev: &'e Event, name: &str) -> Option<(&'e str, &'e Value)> {
    lookup_idx(ev, name).map(|(_, n, v)| (n, v))
}

/// [`lookup`] with the field's position.
pub fn lookup_idx<'e>(ev: &'e Event, name: &str) -> Option<(usize, &'e str, &'e Value)> {
    let i = ev.fields.iter().position(|(n, _)| n == name).or_else(|| {
        ev.fields
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name))
    })?;
    let (n, v) = &ev.fields[i];
    match v {
        Value::Null => None,
        v => Some((i, n.as_str(), v)),
    }
}
