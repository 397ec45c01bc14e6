//! The normalised event: the one vocabulary shared by ingest, index, sigma and the TUI.
//!
//! An EVTX record (or a JSON export of one) becomes a flat, ordered list of `name → value`
//! pairs. System elements keep their names (`EventID`, `Channel`, `Computer`, `Version`, …),
//! System attributes are joined to their element with `_` (`Provider_Name`,
//! `TimeCreated_SystemTime`, `Execution_ProcessID`, `Security_UserID`), and EventData/UserData
//! children are flattened to their `Name` with spaces removed (`Threat Name` → `ThreatName`), as
//! the Sigma specification prescribes for Windows logs. Unnamed classic `<Data>` elements form
//! the multi-valued field `Data`.
//!
//! Every value is kept as text: Sigma compares event values as strings, and numbers are
//! rendered the way the log renders them. A JSON/XML null (empty element) is `Value::Null`,
//! which Sigma treats as *absent*; an empty substitution is `Value::Str("")`.

mod message_codes;
mod summary;

pub use message_codes::message_text;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
pub use summary::{flatten_fields, is_system_field, short_channel};

/// One field value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// An empty element (`<Data Name="X"/>` or JSON `null`): treated as absent by Sigma.
    Null,
    /// A single value, as text.
    Str(String),
    /// Several values under one name (unnamed classic `<Data>` elements).
    List(Vec<String>),
}

impl Value {
    /// The values to test, one per element; empty for `Null`.
    pub fn strings(&self) -> impl Iterator<Item = &str> {
        let slice: &[String] = match self {
            Value::Null => &[],
            Value::Str(s) => std::slice::from_ref(s),
            Value::List(v) => v,
        };
        slice.iter().map(String::as_str)
    }

    /// The first (or only) value, if any.
    pub fn as_str(&self) -> Option<&str> {
        self.strings().next()
    }
}

/// Standard field names, so no module spells them differently.
pub mod names {
    pub const EVENT_ID: &str = "EventID";
    pub const CHANNEL: &str = "Channel";
    pub const COMPUTER: &str = "Computer";
    pub const PROVIDER: &str = "Provider_Name";
    pub const RECORD_ID: &str = "EventRecordID";
    pub const TIME_CREATED: &str = "TimeCreated_SystemTime";
    pub const VERSION: &str = "Version";
    pub const LEVEL: &str = "Level";
}

/// A normalised event: ordered fields, System first, then EventData/UserData.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Event {
    pub fields: Vec<(String, Value)>,
}

impl Event {
    /// The value of a field by its exact name, falling back to an ASCII case-insensitive match
    /// (field names in logs and rules disagree on case now and then, e.g. `SubjectUserSid`).
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .or_else(|| {
                self.fields
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
            })
            .map(|(_, v)| v)
    }

    /// The first string value of a field.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }

    /// An event from `(name, value)` text pairs, in order (tests and hand-built fixtures).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Event {
        let mut e = Event::default();
        for (k, v) in pairs {
            e.push(*k, Value::Str((*v).into()));
        }
        e
    }

    /// Adds a field; a repeated name turns the value into a list, so nothing is lost.
    pub fn push(&mut self, name: impl Into<String>, value: Value) {
        let name = name.into();
        if let Some((_, existing)) = self.fields.iter_mut().find(|(n, _)| *n == name) {
            let mut merged: Vec<String> = existing.strings().map(str::to_owned).collect();
            merged.extend(value.strings().map(str::to_owned));
            *existing = Value::List(merged);
        } else {
            self.fields.push((name, value));
        }
    }

    pub fn event_id(&self) -> Option<u64> {
        self.get_str(names::EVENT_ID)?.trim().parse().ok()
    }

    pub fn channel(&self) -> &str {
        self.get_str(names::CHANNEL).unwrap_or("")
    }

    pub fn computer(&self) -> &str {
        self.get_str(names::COMPUTER).unwrap_or("")
    }

    pub fn provider(&self) -> &str {
        self.get_str(names::PROVIDER).unwrap_or("")
    }

    pub fn record_id(&self) -> Option<u64> {
        self.get_str(names::RECORD_ID)?.trim().parse().ok()
    }

    /// The event time (`TimeCreated_SystemTime`), if present and valid.
    pub fn timestamp(&self) -> Option<jiff::Timestamp> {
        parse_timestamp(self.get_str(names::TIME_CREATED)?)
    }

    /// Compact JSON, fields in order; the form stored in the case index.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// [`Event::to_json`] appended to a reused buffer.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        // Writing to a Vec cannot fail, and an Event always serializes.
        let _ = serde_json::to_writer(out, self);
    }

    pub fn from_json(text: &str) -> serde_json::Result<Event> {
        serde_json::from_str(text)
    }
}

/// RFC 3339 in UTC with the 7 fractional digits of Windows' 100 ns clock, always: output of
/// one width sorts as text in time order (`…:29Z` would sort after `…:29.48Z`).
pub fn format_timestamp(ts: jiff::Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S.%7fZ").to_string()
}

/// Parses the timestamps found in event logs: RFC 3339 (`2019-03-19T23:34:25.123Z`), and the
/// space-separated form some exports use (`2019-03-19 23:34:25.123 UTC`).
pub fn parse_timestamp(text: &str) -> Option<jiff::Timestamp> {
    let t = text.trim();
    if let Ok(ts) = t.parse::<jiff::Timestamp>() {
        return Some(ts);
    }
    let t = t.trim_end_matches(" UTC").replacen(' ', "T", 1);
    t.parse::<jiff::Timestamp>()
        .ok()
        .or_else(|| format!("{t}Z").parse().ok())
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_none(),
            Value::Str(v) => s.serialize_str(v),
            Value::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let json = serde_json::Value::deserialize(d)?;
        Ok(match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::String(s) => Value::Str(s),
            serde_json::Value::Array(items) => Value::List(
                items
                    .into_iter()
                    .map(|v| match v {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    })
                    .collect(),
            ),
            other => Value::Str(other.to_string()),
        })
    }
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.fields.len()))?;
        for (k, v) in &self.fields {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        let mut event = Event::default();
        for (k, v) in map {
            let value = Value::deserialize(v).map_err(serde::de::Error::custom)?;
            event.fields.push((k, value));
        }
        Ok(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_keeps_order_and_kinds() {
        let mut e = Event::default();
        e.push("EventID", Value::Str("4688".into()));
        e.push("Data", Value::Str("a".into()));
        e.push("Data", Value::Str("b".into()));
        e.push("Empty", Value::Null);
        let json = e.to_json();
        assert_eq!(json, r#"{"EventID":"4688","Data":["a","b"],"Empty":null}"#);
        assert_eq!(Event::from_json(&json).unwrap(), e);
        assert_eq!(e.event_id(), Some(4688));
    }

    #[test]
    fn get_falls_back_to_case_insensitive_name() {
        let mut e = Event::default();
        e.push("SubjectUserSid", Value::Str("S-1-5-18".into()));
        assert_eq!(e.get_str("SubjectUserSID"), Some("S-1-5-18"));
    }

    #[test]
    fn timestamps_in_both_forms() {
        assert!(parse_timestamp("2019-03-19T23:34:25.123456Z").is_some());
        assert!(parse_timestamp("2019-03-19 23:34:25.123 UTC").is_some());
        assert!(parse_timestamp("yesterday").is_none());
    }
}
