//! Logsource → event conditions, and per-source field resolution (Sysmon EID 1 ↔ Security 4688).
//!
//! The table lives in `rules/mappings/windows.yml` (embedded at build time). A rule's logsource
//! becomes a set of alternative [`Source`]s; a rule field becomes a [`FieldRef`] that, on each
//! event, reads the field natively if present and otherwise through the alias of the source the
//! event belongs to. Aliases marked `override` (4688's `ProcessId` is the *parent* PID) apply
//! only to rules written in the other source's dialect, which is inferred from the fields used.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use serde::Deserialize;

use crate::event::{Event, Value};

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

/// A value conversion applied when a field is read through an alias.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    #[default]
    None,
    /// Integrity level name ↔ mandatory label SID; both forms are offered.
    Integrity,
    /// The part after the last `\` of `DOMAIN\user`.
    UserName,
    /// The part before the last `\`.
    UserDomain,
    /// `TargetDomainName\TargetUserName`, or the Subject pair when the target user is `-`.
    DomainUser,
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
struct AliasUse {
    source: Arc<Source>,
    field: Option<String>,
    transform: Transform,
    force: bool,
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

const INTEGRITY: [(&str, &str); 7] = [
    ("Untrusted", "S-1-16-0"),
    ("Low", "S-1-16-4096"),
    ("Medium", "S-1-16-8192"),
    ("MediumPlus", "S-1-16-8448"),
    ("High", "S-1-16-12288"),
    ("System", "S-1-16-16384"),
    ("Protected", "S-1-16-20480"),
];

fn read_alias<'e>(a: &AliasUse, ev: &'e Event) -> Option<Resolved<'e>> {
    if a.transform == Transform::DomainUser {
        let target = lookup(ev, "TargetUserName")
            .and_then(|(_, v)| v.as_str())
            .filter(|u| *u != "-");
        let (dom, user, name) = match target {
            Some(u) => (
                lookup(ev, "TargetDomainName"),
                u,
                "TargetDomainName\\TargetUserName",
            ),
            None => (
                lookup(ev, "SubjectDomainName"),
                lookup(ev, "SubjectUserName").and_then(|(_, v)| v.as_str())?,
                "SubjectDomainName\\SubjectUserName",
            ),
        };
        let joined = match dom.and_then(|(_, v)| v.as_str()) {
            Some(d) if !d.is_empty() => format!("{d}\\{user}"),
            _ => user.to_owned(),
        };
        return Some(Resolved {
            name: Cow::Borrowed(name),
            value: Cow::Owned(Value::Str(joined)),
            index: None,
        });
    }
    let target = a.field.as_deref()?;
    let (index, name, value) = lookup_idx(ev, target)?;
    let converted: Vec<String> = match a.transform {
        Transform::None | Transform::DomainUser => {
            return Some(Resolved {
                name: Cow::Borrowed(name),
                value: Cow::Borrowed(value),
                index: Some(index),
            });
        }
        Transform::Integrity => value
            .strings()
            .flat_map(|s| {
                let other = INTEGRITY.iter().find_map(|(n, sid)| {
                    if s.eq_ignore_ascii_case(n) {
                        Some(*sid)
                    } else if s.eq_ignore_ascii_case(sid) {
                        Some(*n)
                    } else {
                        None
                    }
                });
                std::iter::once(s.to_owned()).chain(other.map(str::to_owned))
            })
            .collect(),
        Transform::UserName => value
            .strings()
            .map(|s| s.rsplit('\\').next().unwrap_or(s).to_owned())
            .collect(),
        Transform::UserDomain => value
            .strings()
            .filter_map(|s| s.rsplit_once('\\').map(|(d, _)| d.to_owned()))
            .collect(),
    };
    if converted.is_empty() {
        return None;
    }
    Some(Resolved {
        name: Cow::Borrowed(name),
        value: Cow::Owned(Value::List(converted)),
        index: None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ev(pairs: &[(&str, &str)]) -> Event {
        Event::from_pairs(pairs)
    }

    fn sources(cat: &str) -> RuleSources {
        match Mapping::builtin()
            .unwrap()
            .resolve(Some("windows"), Some(cat), None)
        {
            LogsourceResolution::Windows(s) => s,
            other => panic!("{other:?}"),
        }
    }

    fn sec4688() -> Event {
        ev(&[
            ("EventID", "4688"),
            ("Channel", "Security"),
            ("NewProcessName", "C:\\Windows\\cmd.exe"),
            ("NewProcessId", "0x116c"),
            ("ProcessId", "0x378"),
            ("MandatoryLabel", "S-1-16-12288"),
            ("SubjectUserName", "HOST$"),
            ("SubjectDomainName", "CORP"),
            ("TargetUserName", "-"),
        ])
    }

    fn sysmon1() -> Event {
        ev(&[
            ("EventID", "1"),
            ("Channel", "Microsoft-Windows-Sysmon/Operational"),
            ("Image", "C:\\Windows\\cmd.exe"),
            ("ProcessId", "4460"),
            ("ParentProcessId", "888"),
            ("IntegrityLevel", "High"),
            ("User", "NT AUTHORITY\\SYSTEM"),
        ])
    }

    fn get(s: &RuleSources, f: &str, e: &Event) -> Option<Vec<String>> {
        s.field(f, &mut Vec::new())
            .resolve(e)
            .map(|r| r.value.strings().map(str::to_owned).collect())
    }

    #[test]
    fn logsources() {
        let m = Mapping::builtin().unwrap();
        assert!(matches!(
            m.resolve(Some("linux"), Some("process_creation"), None),
            LogsourceResolution::NotWindows(_)
        ));
        assert!(matches!(
            m.resolve(None, Some("proxy"), None),
            LogsourceResolution::NotWindows(_)
        ));
        assert!(matches!(
            m.resolve(None, Some("antivirus"), None),
            LogsourceResolution::Windows(_)
        ));
        assert!(matches!(
            m.resolve(Some("windows"), Some("nope"), None),
            LogsourceResolution::Unsupported(_)
        ));
        let LogsourceResolution::Windows(s) = m.resolve(Some("windows"), None, Some("security"))
        else {
            panic!()
        };
        assert!(s.matches(&sec4688()));
        assert!(!s.matches(&sysmon1()));
        let pc = sources("process_creation");
        assert!(pc.matches(&sec4688()) && pc.matches(&sysmon1()));
        let rd = sources("registry_delete");
        let mut e = ev(&[
            ("EventID", "12"),
            ("Channel", "Microsoft-Windows-Sysmon/Operational"),
        ]);
        assert!(!rd.matches(&e));
        e.push("EventType", Value::Str("DeleteValue".into()));
        assert!(rd.matches(&e));
    }

    #[test]
    fn sysmon_rule_on_4688() {
        let mut s = sources("process_creation");
        s.set_dialect(["Image", "ProcessId"].into_iter());
        let e = sec4688();
        assert_eq!(get(&s, "Image", &e).unwrap(), vec!["C:\\Windows\\cmd.exe"]);
        // ProcessId is the child on Sysmon: NewProcessId on 4688, never 4688's own ProcessId.
        assert_eq!(get(&s, "ProcessId", &e).unwrap(), vec!["0x116c"]);
        assert_eq!(get(&s, "ParentProcessId", &e).unwrap(), vec!["0x378"]);
        assert_eq!(
            get(&s, "IntegrityLevel", &e).unwrap(),
            vec!["S-1-16-12288", "High"]
        );
        assert_eq!(get(&s, "User", &e).unwrap(), vec!["CORP\\HOST$"]);
        assert_eq!(get(&s, "OriginalFileName", &e), None);
        let mut notes = Vec::new();
        s.field("OriginalFileName", &mut notes);
        assert_eq!(notes.len(), 1, "{notes:?}");
        // Native names still work on Sysmon.
        assert_eq!(get(&s, "ProcessId", &sysmon1()).unwrap(), vec!["4460"]);
    }

    #[test]
    fn security_rule_on_sysmon() {
        let mut s = sources("process_creation");
        s.set_dialect(["NewProcessName", "ProcessId"].into_iter());
        let e = sysmon1();
        assert_eq!(
            get(&s, "NewProcessName", &e).unwrap(),
            vec!["C:\\Windows\\cmd.exe"]
        );
        // In a 4688-style rule ProcessId is the parent.
        assert_eq!(get(&s, "ProcessId", &e).unwrap(), vec!["888"]);
        assert_eq!(get(&s, "ProcessId", &sec4688()).unwrap(), vec!["0x378"]);
        assert_eq!(get(&s, "NewProcessId", &e).unwrap(), vec!["4460"]);
        assert_eq!(
            get(&s, "MandatoryLabel", &e).unwrap(),
            vec!["High", "S-1-16-12288"]
        );
        assert_eq!(get(&s, "SubjectUserName", &e).unwrap(), vec!["SYSTEM"]);
        assert_eq!(
            get(&s, "SubjectDomainName", &e).unwrap(),
            vec!["NT AUTHORITY"]
        );
        assert!(s.field("NewProcessId", &mut Vec::new()).numeric);
    }
}
