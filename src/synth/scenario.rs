//! Scenario files: small YAML descriptions of an attack (or of benign noise) that render into
//! EVTX samples. The schema is documented in `samples/scenarios/README.md`.

use super::SynthError;
use super::profile;
use super::record::{SynthEvent, UserBody, UserElement};
use super::value::{self, DataValue};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The scenarios shipped with huntbench (`samples/scenarios/NAME.yml`).
const BUNDLED: &[(&str, &str)] = &[
    ("psexec", include_str!("../../samples/scenarios/psexec.yml")),
    (
        "wmiexec",
        include_str!("../../samples/scenarios/wmiexec.yml"),
    ),
    (
        "smbexec",
        include_str!("../../samples/scenarios/smbexec.yml"),
    ),
    (
        "wmi-spawned-process",
        include_str!("../../samples/scenarios/wmi-spawned-process.yml"),
    ),
    (
        "defender-asr-block",
        include_str!("../../samples/scenarios/defender-asr-block.yml"),
    ),
    (
        "benign-admin-baseline",
        include_str!("../../samples/scenarios/benign-admin-baseline.yml"),
    ),
];

/// A scenario file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// RFC 3339 time of offset 0.
    pub start: String,
    /// `EventRecordID` of the first record (default 1).
    #[serde(default)]
    pub first_record_id: Option<u64>,
    /// Host alias → computer name (`Computer`).
    #[serde(default)]
    pub hosts: BTreeMap<String, String>,
    pub events: Vec<ScenarioEvent>,
}

/// One event of a scenario. Everything but `at`, `host`, `id` and `data` has a per-source
/// default (see `profile.rs`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioEvent {
    /// Seconds after `start`.
    pub at: f64,
    /// A host alias from `hosts`, or a computer name.
    pub host: String,
    /// `security`, `sysmon`, `system-scm` or `defender`; omit it to give `provider` and
    /// `channel` yourself.
    #[serde(default)]
    pub source: Option<String>,
    pub id: u16,
    /// What the event stands for in the story (documentation only).
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub provider_guid: Option<String>,
    #[serde(default)]
    pub event_source_name: Option<String>,
    #[serde(default)]
    pub qualifiers: Option<u16>,
    #[serde(default)]
    pub version: Option<u8>,
    #[serde(default)]
    pub level: Option<u8>,
    #[serde(default)]
    pub task: Option<u16>,
    #[serde(default)]
    pub opcode: Option<u8>,
    /// `0x…` text.
    #[serde(default)]
    pub keywords: Option<String>,
    #[serde(default)]
    pub pid: Option<u32>,
    #[serde(default)]
    pub tid: Option<u32>,
    /// `Security/@UserID`; `""` removes the source's default.
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub activity_id: Option<String>,
    /// `<Data Name=…>` values in order. Text may use `{utc}` (Sysmon `UtcTime` form) and
    /// `{iso}` (RFC 3339, milliseconds) for the event's own time; YAML null writes an empty
    /// element.
    #[serde(default)]
    pub data: serde_json::Map<String, serde_json::Value>,
    /// `<UserData>` instead of `data`: a mapping of element names to a value (as in `data`) or
    /// to a mapping of child elements; keys starting with `@` are attributes of the enclosing
    /// element (`'@xmlns': …`).
    #[serde(default)]
    pub user_data: serde_json::Map<String, serde_json::Value>,
}

/// A bundled scenario's name and what it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioInfo {
    pub name: String,
    pub title: String,
    pub description: String,
    pub events: usize,
}

/// The bundled scenarios, in a stable order.
pub fn list_scenarios() -> Vec<ScenarioInfo> {
    BUNDLED
        .iter()
        .filter_map(|(_, text)| Scenario::from_yaml(text).ok())
        .map(|s| ScenarioInfo {
            name: s.name.clone(),
            title: s.title.clone(),
            description: s.description.trim().to_owned(),
            events: s.events.len(),
        })
        .collect()
}

/// The text of a bundled scenario file.
pub fn bundled_yaml(name: &str) -> Option<&'static str> {
    BUNDLED.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// Loads a bundled scenario by name, or a scenario file by path (anything that contains a
/// path separator or ends in `.yml`/`.yaml`, or an existing file).
pub fn load_scenario(path_or_name: &str) -> Result<Scenario, SynthError> {
    let looks_like_path = path_or_name.contains(['/', '\\'])
        || path_or_name.ends_with(".yml")
        || path_or_name.ends_with(".yaml");
    if !looks_like_path && let Some(text) = bundled_yaml(path_or_name) {
        return Scenario::from_yaml(text);
    }
    let path = Path::new(path_or_name);
    if looks_like_path || path.is_file() {
        let text = std::fs::read_to_string(path).map_err(|source| SynthError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        return Scenario::from_yaml(&text);
    }
    let names: Vec<&str> = BUNDLED.iter().map(|(n, _)| *n).collect();
    Err(SynthError::UnknownScenario(
        path_or_name.to_owned(),
        names.join(", "),
    ))
}

impl Scenario {
    pub fn from_yaml(text: &str) -> Result<Scenario, SynthError> {
        serde_saphyr::from_str(text).map_err(|e| SynthError::Scenario {
            name: "(parse)".into(),
            message: e.to_string(),
        })
    }

    pub fn first_record_id(&self) -> u64 {
        self.first_record_id.unwrap_or(1)
    }

    fn err(&self, index: usize, message: impl Into<String>) -> SynthError {
        SynthError::Scenario {
            name: self.name.clone(),
            message: format!("event #{index}: {}", message.into()),
        }
    }

    /// The events to write, ordered by time (stable, so equal times keep file order).
    pub fn events(&self) -> Result<Vec<SynthEvent>, SynthError> {
        let start =
            crate::event::parse_timestamp(&self.start).ok_or_else(|| SynthError::Scenario {
                name: self.name.clone(),
                message: format!("start is not an RFC 3339 time: {:?}", self.start),
            })?;
        let mut out = Vec::with_capacity(self.events.len());
        for (i, se) in self.events.iter().enumerate() {
            out.push(self.event(i, se, start)?);
        }
        out.sort_by_key(|e| e.time);
        Ok(out)
    }

    fn event(
        &self,
        i: usize,
        se: &ScenarioEvent,
        start: jiff::Timestamp,
    ) -> Result<SynthEvent, SynthError> {
        if !se.at.is_finite() || se.at < 0.0 || se.at > 1.0e9 {
            return Err(self.err(i, format!("`at` must be seconds >= 0, got {}", se.at)));
        }
        // Millisecond resolution keeps offsets exact in binary floating point.
        let offset = jiff::SignedDuration::from_millis((se.at * 1000.0).round() as i64);
        let time = start
            .checked_add(offset)
            .map_err(|e| self.err(i, e.to_string()))?;
        let source = se.source.as_deref().unwrap_or("");
        let prof = match se.source.as_deref() {
            Some(s) => Some(profile::profile(s).ok_or_else(|| {
                self.err(
                    i,
                    format!(
                        "unknown source {s:?} (known: {})",
                        profile::SOURCES.join(", ")
                    ),
                )
            })?),
            None => None,
        };
        let channel = se
            .channel
            .clone()
            .or_else(|| prof.as_ref().map(|p| p.channel.to_owned()))
            .ok_or_else(|| self.err(i, "needs `source` or `channel`"))?;
        let provider = se
            .provider
            .clone()
            .or_else(|| prof.as_ref().map(|p| p.provider.to_owned()))
            .ok_or_else(|| self.err(i, "needs `source` or `provider`"))?;
        let computer = self.hosts.get(&se.host).unwrap_or(&se.host).clone();
        let mut ev = SynthEvent::new(&provider, &channel, se.id, &computer);
        ev.time = time;
        let (version, level, task) = profile::event_defaults(source, se.id);
        if let Some(p) = &prof {
            ev.provider_guid = p.provider_guid.map(str::to_owned);
            ev.event_source_name = p.event_source_name.map(str::to_owned);
            ev.qualifiers = p.qualifiers;
            ev.keywords = p.keywords;
            ev.level = level.unwrap_or(p.level);
            ev.process_id = p.process_id;
            ev.thread_id = p.thread_id;
            ev.user_id = p.user_id.map(str::to_owned);
        }
        ev.version = se.version.unwrap_or(version);
        ev.task = se.task.unwrap_or(task);
        override_opt(&mut ev.provider_guid, &se.provider_guid);
        override_opt(&mut ev.event_source_name, &se.event_source_name);
        override_opt(&mut ev.user_id, &se.user);
        override_opt(&mut ev.activity_id, &se.activity_id);
        ev.qualifiers = se.qualifiers.or(ev.qualifiers);
        ev.level = se.level.unwrap_or(ev.level);
        ev.opcode = se.opcode.unwrap_or(0);
        ev.process_id = se.pid.unwrap_or(ev.process_id);
        ev.thread_id = se.tid.unwrap_or(ev.thread_id);
        if let Some(k) = &se.keywords {
            ev.keywords = value::parse_hex(k)
                .ok_or_else(|| self.err(i, format!("keywords must be 0x… hex, got {k:?}")))?;
        }
        for (name, v) in &se.data {
            let dv = scalar_value(&channel, name, v, time)
                .ok_or_else(|| self.err(i, format!("data {name}: not a scalar: {v}")))?;
            ev.data.push((name.clone(), dv));
        }
        if !se.user_data.is_empty() && !se.data.is_empty() {
            return Err(self.err(i, "give `data` or `user_data`, not both"));
        }
        let user = |name: &str, v| self.user_element(i, &channel, time, name, v, 0);
        ev.user_data = se
            .user_data
            .iter()
            .map(|(name, v)| user(name, v))
            .collect::<Result<_, _>>()?;
        Ok(ev)
    }

    /// One `user_data` entry as an element (see [`ScenarioEvent::user_data`]).
    fn user_element(
        &self,
        i: usize,
        channel: &str,
        time: jiff::Timestamp,
        name: &str,
        v: &serde_json::Value,
        depth: usize,
    ) -> Result<UserElement, SynthError> {
        if name.starts_with('@') {
            return Err(self.err(
                i,
                format!("user_data {name}: an attribute needs an element"),
            ));
        }
        let serde_json::Value::Object(map) = v else {
            let dv = scalar_value(channel, name, v, time)
                .ok_or_else(|| self.err(i, format!("user_data {name}: a list: {v}")))?;
            return Ok(UserElement::value(name, dv));
        };
        let mut el = UserElement::parent(name, Vec::new());
        let mut children = Vec::new();
        for (key, child) in map {
            match (key.strip_prefix('@'), child) {
                (Some(attr), serde_json::Value::String(text)) => el = el.attr(attr, text),
                (Some(_), other) => {
                    let msg = format!("user_data {name}/{key}: attribute is not text: {other}");
                    return Err(self.err(i, msg));
                }
                // Depth is checked again by the writer; this keeps the recursion bounded.
                (None, _) if depth > 16 => return Err(self.err(i, "user_data nests too deep")),
                (None, _) => {
                    children.push(self.user_element(i, channel, time, key, child, depth + 1)?)
                }
            }
        }
        el.body = UserBody::Children(children);
        Ok(el)
    }
}

/// A scalar `data`/`user_data` value, typed like Windows types that field; `None` for lists
/// and mappings.
fn scalar_value(
    channel: &str,
    name: &str,
    v: &serde_json::Value,
    time: jiff::Timestamp,
) -> Option<DataValue> {
    Some(match v {
        serde_json::Value::Null => DataValue::Null,
        serde_json::Value::String(s) => profile::typed_value(channel, name, &expand(s, time)),
        serde_json::Value::Bool(b) => profile::typed_value(channel, name, &b.to_string()),
        serde_json::Value::Number(n) => profile::typed_value(channel, name, &n.to_string()),
        _ => return None,
    })
}

/// `Some("")` clears a default, `Some(x)` replaces it, `None` keeps it.
fn override_opt(slot: &mut Option<String>, over: &Option<String>) {
    match over.as_deref() {
        Some("") => *slot = None,
        Some(v) => *slot = Some(v.to_owned()),
        None => {}
    }
}

/// Expands `{utc}` and `{iso}` to the event time.
fn expand(text: &str, time: jiff::Timestamp) -> String {
    if !text.contains('{') {
        return text.to_owned();
    }
    text.replace("{utc}", &time.strftime("%Y-%m-%d %H:%M:%S%.3f").to_string())
        .replace(
            "{iso}",
            &time.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_scenarios_parse_and_render_events() {
        assert_eq!(list_scenarios().len(), BUNDLED.len());
        for (name, text) in BUNDLED {
            let s = Scenario::from_yaml(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&s.name, name);
            let events = s.events().unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!events.is_empty(), "{name}");
        }
    }

    #[test]
    fn unknown_names_list_the_bundled_ones() {
        let err = load_scenario("nope").expect_err("unknown");
        assert!(err.to_string().contains("psexec"), "{err}");
    }

    #[test]
    fn placeholders_expand_to_event_time() {
        let ts: jiff::Timestamp = "2024-03-12T09:14:05.120Z".parse().expect("ts");
        assert_eq!(expand("{utc}", ts), "2024-03-12 09:14:05.120");
        assert_eq!(expand("at {iso}", ts), "at 2024-03-12T09:14:05.120Z");
    }

    #[test]
    fn user_data_nests_elements_and_attributes() {
        let yaml = r#"
name: t
title: t
start: '2024-03-14T10:41:27.905Z'
events:
  - at: 0
    host: H
    source: wmi
    id: 5861
    user_data:
      Wrapper:
        '@xmlns': 'urn:x'
        Namespace: '//./root/subscription'
        Inner:
          Leaf: ~
"#;
        let ev = &Scenario::from_yaml(yaml)
            .expect("parses")
            .events()
            .expect("events")[0];
        let inner = UserElement::parent("Inner", vec![UserElement::value("Leaf", DataValue::Null)]);
        let want = UserElement::parent(
            "Wrapper",
            vec![
                UserElement::value("Namespace", DataValue::Str("//./root/subscription".into())),
                inner,
            ],
        )
        .attr("xmlns", "urn:x");
        assert_eq!(ev.user_data, vec![want]);
        assert!(ev.data.is_empty());

        let both = yaml.replace("    user_data:", "    data: {A: 'b'}\n    user_data:");
        let err = Scenario::from_yaml(&both)
            .expect("parses")
            .events()
            .expect_err("both");
        assert!(err.to_string().contains("not both"), "{err}");
    }
}
