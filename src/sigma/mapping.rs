//! Logsource → event conditions, and per-source field resolution (Sysmon EID 1 ↔ Security 4688).
//!
//! The table lives in `rules/mappings/windows.yml` (embedded at build time). A rule's logsource
//! becomes a set of alternative [`Source`]s; a rule field becomes a [`FieldRef`] that, on each
//! event, reads the field natively if present and otherwise through the alias of the source the
//! event belongs to. Aliases marked `override` (4688's `ProcessId` is the *parent* PID) apply
//! only to rules written in the other source's dialect, which is inferred from the fields used.
//!
//! This file holds the mapping table and logsource resolution; [`fields`] resolves rule fields
//! per source and [`convert`] converts values read through an alias.

mod convert;
mod fields;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use serde::Deserialize;

use crate::event::Event;

pub use convert::{INTEGRITY, Transform};
pub use fields::{FieldRef, Resolved, lookup, lookup_idx};

/// The built-in mapping file.
pub const WINDOWS_MAPPING: &str = include_str!("../../rules/mappings/windows.yml");

#[derive(Debug, thiserror::Error)]
#[error("invalid logsource mapping: {0}")]
pub struct MappingError(String);

#[derive(Debug, Deserialize)]
struct MappingFile {
    #[serde(default)]
    products: Vec<String>,
    #[serde(default)]
    numeric_fields: Vec<String>,
    #[serde(default)]
    services: BTreeMap<String, SourceDef>,
    #[serde(default)]
    categories: BTreeMap<String, CategoryDef>,
}

#[derive(Debug, Deserialize)]
struct CategoryDef {
    #[serde(default)]
    product_optional: bool,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    sources: Vec<SourceDef>,
}

#[derive(Debug, Default, Deserialize)]
struct SourceDef {
    #[serde(default)]
    name: String,
    #[serde(default)]
    channel: Vec<String>,
    #[serde(default)]
    event_id: Vec<u64>,
    #[serde(default)]
    provider: Vec<String>,
    #[serde(default)]
    conditions: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    aliases: BTreeMap<String, AliasDef>,
    #[serde(default)]
    missing: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum AliasDef {
    Rename(String),
    Full {
        #[serde(default)]
        field: Option<String>,
        #[serde(default)]
        transform: Transform,
        #[serde(default, rename = "override")]
        force: bool,
    },
}

/// One alternative event source of a logsource (e.g. Sysmon EID 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub name: String,
    pub channels: Vec<String>,
    pub event_ids: Vec<u64>,
    pub providers: Vec<String>,
    pub conditions: Vec<(String, Vec<String>)>,
    aliases: Vec<(String, Alias)>,
    missing: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct Alias {
    field: Option<String>,
    transform: Transform,
    force: bool,
}

impl Source {
    fn from_def(def: &SourceDef) -> Source {
        Source {
            name: def.name.clone(),
            channels: def.channel.clone(),
            event_ids: def.event_id.clone(),
            providers: def.provider.clone(),
            conditions: def
                .conditions
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            aliases: def
                .aliases
                .iter()
                .map(|(k, a)| {
                    let alias = match a {
                        AliasDef::Rename(f) => Alias {
                            field: Some(f.clone()),
                            transform: Transform::None,
                            force: false,
                        },
                        AliasDef::Full {
                            field,
                            transform,
                            force,
                        } => Alias {
                            field: field.clone(),
                            transform: *transform,
                            force: *force,
                        },
                    };
                    (k.clone(), alias)
                })
                .collect(),
            missing: def.missing.clone(),
        }
    }

    /// Whether an event comes from this source.
    pub fn matches(&self, ev: &Event) -> bool {
        self.matches_view(&EventView::new(ev))
    }

    /// Same, with the System fields looked up once per event.
    pub fn matches_view(&self, view: &EventView<'_>) -> bool {
        let ev = view.event;
        if !self.event_ids.is_empty()
            && !view.event_id.is_some_and(|id| self.event_ids.contains(&id))
        {
            return false;
        }
        if !self.channels.is_empty()
            && !self
                .channels
                .iter()
                .any(|c| c.eq_ignore_ascii_case(view.channel))
        {
            return false;
        }
        if !self.providers.is_empty()
            && !self
                .providers
                .iter()
                .any(|x| x.eq_ignore_ascii_case(view.provider))
        {
            return false;
        }
        self.conditions.iter().all(|(field, values)| {
            lookup(ev, field).is_some_and(|(_, v)| {
                v.strings()
                    .any(|s| values.iter().any(|w| w.eq_ignore_ascii_case(s)))
            })
        })
    }

    /// Whether events of this source never have the field.
    pub fn lacks(&self, field: &str) -> bool {
        self.missing.iter().any(|m| m.eq_ignore_ascii_case(field))
    }

    fn alias(&self, field: &str) -> Option<&Alias> {
        self.aliases
            .iter()
            .find(|(k, _)| k == field)
            .map(|(_, a)| a)
    }
}

/// An event with the fields every logsource test needs looked up once (rules are many,
/// events are millions: this keeps the per-rule source check to a few comparisons).
/// Lowercased field values are computed lazily, once per event, and shared by all rules.
#[derive(Debug)]
pub struct EventView<'e> {
    pub event: &'e Event,
    pub channel: &'e str,
    pub event_id: Option<u64>,
    pub provider: &'e str,
    lowered: std::cell::OnceCell<Vec<Vec<Cow<'e, str>>>>,
}

impl<'e> EventView<'e> {
    pub fn new(event: &'e Event) -> EventView<'e> {
        EventView {
            event,
            channel: event.channel(),
            event_id: event.event_id(),
            provider: event.provider(),
            lowered: std::cell::OnceCell::new(),
        }
    }

    /// The lowercased values of field number `index` of the event.
    pub fn lowered(&self, index: usize) -> &[Cow<'e, str>] {
        let all = self.lowered.get_or_init(|| {
            self.event
                .fields
                .iter()
                .map(|(_, v)| v.strings().map(crate::sigma::value::lower).collect())
                .collect()
        });
        all.get(index).map_or(&[], Vec::as_slice)
    }
}

/// The parsed mapping table.
#[derive(Debug)]
pub struct Mapping {
    file: MappingFile,
    numeric: HashSet<String>,
}

/// What a rule's logsource means for Windows event logs.
#[derive(Debug, Clone)]
pub enum LogsourceResolution {
    /// Not a Windows event log rule (skipped and counted, not an error).
    NotWindows(String),
    /// A Windows logsource this mapping cannot serve.
    Unsupported(String),
    Windows(RuleSources),
}

/// The event sources a rule applies to (empty `sources` = every event).
#[derive(Debug, Clone, Default)]
pub struct RuleSources {
    pub sources: Vec<Arc<Source>>,
    pub notes: Vec<String>,
    numeric: Arc<HashSet<String>>,
    /// Index into `sources` of the dialect the rule's field names follow.
    dialect: Option<usize>,
}

/// Whether the bundled mapping compares `name` as an integer (decimal or `0x` hex), as rules
/// do: a search must match what the rule saved from it matches.
pub fn is_numeric_field(name: &str) -> bool {
    static NUMERIC: std::sync::OnceLock<HashSet<String>> = std::sync::OnceLock::new();
    NUMERIC
        .get_or_init(|| Mapping::builtin().map(|m| m.numeric).unwrap_or_default())
        .contains(&name.to_ascii_lowercase())
}

/// The bundled mapping, parsed once: the search language reads field names through it.
pub fn builtin_shared() -> Option<&'static Mapping> {
    static BUILTIN: std::sync::OnceLock<Option<Mapping>> = std::sync::OnceLock::new();
    BUILTIN.get_or_init(|| Mapping::builtin().ok()).as_ref()
}

impl Mapping {
    pub fn builtin() -> Result<Mapping, MappingError> {
        Mapping::from_yaml(WINDOWS_MAPPING)
    }

    pub fn from_yaml(text: &str) -> Result<Mapping, MappingError> {
        let file: MappingFile =
            serde_saphyr::from_str(text).map_err(|e| MappingError(e.to_string()))?;
        let numeric = file
            .numeric_fields
            .iter()
            .map(|f| f.to_ascii_lowercase())
            .collect();
        Ok(Mapping { file, numeric })
    }

    /// The logsource of events from `channel` with one of `event_ids`, the reverse of
    /// [`Self::resolve`], for a search saved as a rule: the one category with a source on
    /// that channel (any, when none is named) taking every one of those EventIDs and reading
    /// none of `fields` through a forced alias (which would change what the search matched),
    /// else the service of the channel. `("category", "process_creation")`, `("service",
    /// "security")`; `None` when neither is known.
    pub fn logsource_of(
        &self,
        channel: Option<&str>,
        event_ids: &[u64],
        fields: &[&str],
    ) -> Option<(&'static str, String)> {
        let on_channel = |chans: &[String]| {
            channel.is_none_or(|c| chans.iter().any(|x| x.eq_ignore_ascii_case(c)))
        };
        let fits = |src: &SourceDef| {
            !src.event_id.is_empty()
                && event_ids.iter().all(|id| src.event_id.contains(id))
                && on_channel(&src.channel)
                && src.conditions.is_empty()
                && !(src.aliases.iter()).any(|(name, alias)| {
                    matches!(alias, AliasDef::Full { force: true, .. })
                        && fields.iter().any(|f| f.eq_ignore_ascii_case(name))
                })
        };
        let mut categories = (self.file.categories.iter())
            .filter(|(_, def)| !event_ids.is_empty() && def.sources.iter().any(fits));
        if let (Some((name, _)), None) = (categories.next(), categories.next()) {
            return Some(("category", name.clone()));
        }
        // A service is a channel: without one named, none.
        channel?;
        let mut services = (self.file.services.iter())
            .filter(|(_, def)| !def.channel.is_empty() && on_channel(&def.channel));
        match (services.next(), services.next()) {
            (Some((name, _)), None) => Some(("service", name.clone())),
            _ => None,
        }
    }

    /// Resolves `product`/`category`/`service` to event sources.
    pub fn resolve(
        &self,
        product: Option<&str>,
        category: Option<&str>,
        service: Option<&str>,
    ) -> LogsourceResolution {
        let product = product.map(str::to_ascii_lowercase);
        let cat = category.map(|c| (c, self.file.categories.get(c)));
        let is_windows = match &product {
            Some(p) => self.file.products.iter().any(|w| w == p),
            None => matches!(cat, Some((_, Some(def))) if def.product_optional),
        };
        if !is_windows {
            let what = match (&product, category, service) {
                (Some(p), _, _) => format!("product `{p}`"),
                (None, Some(c), _) => format!("category `{c}` without a product"),
                (None, None, Some(s)) => format!("service `{s}` without a product"),
                (None, None, None) => "no product".to_owned(),
            };
            return LogsourceResolution::NotWindows(format!("{what} is not a Windows event log"));
        }
        let mut out = RuleSources {
            numeric: Arc::new(self.numeric.clone()),
            ..RuleSources::default()
        };
        let mut sources: Vec<Source> = Vec::new();
        if let Some((name, def)) = cat {
            let Some(def) = def else {
                return LogsourceResolution::Unsupported(format!("unknown category `{name}`"));
            };
            out.notes.extend(def.note.clone());
            sources = def.sources.iter().map(Source::from_def).collect();
        }
        if let Some(s) = service {
            let Some(def) = self.file.services.get(s) else {
                return LogsourceResolution::Unsupported(format!("unknown service `{s}`"));
            };
            let svc = Source::from_def(def);
            if sources.is_empty() {
                sources.push(Source {
                    name: s.to_owned(),
                    ..svc
                });
            } else {
                // Category and service together: keep the category's sources on the service's channels.
                sources.retain_mut(|src| {
                    if src.channels.is_empty() {
                        src.channels = svc.channels.clone();
                    } else {
                        src.channels
                            .retain(|c| svc.channels.iter().any(|x| x.eq_ignore_ascii_case(c)));
                    }
                    !src.channels.is_empty()
                });
                if sources.is_empty() {
                    out.notes.push(format!(
                        "service `{s}` and category never coincide: the rule cannot match"
                    ));
                    sources.push(Source {
                        name: "none".into(),
                        ..svc
                    });
                    sources[0].event_ids = vec![u64::MAX];
                }
            }
        }
        out.sources = sources.into_iter().map(Arc::new).collect();
        LogsourceResolution::Windows(out)
    }
}
