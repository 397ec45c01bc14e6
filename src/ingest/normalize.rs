//! Flattens one record in the evtx_dump JSON shape into an [`Event`].
//!
//! The same shape comes from the `evtx` crate (`records_json_value`) and from JSON/JSONL
//! exports, so both paths share this code. Records that are already flat (an object without an
//! `Event` root, as some tools export) are taken field by field.

use crate::event::{Event, Value};
use serde_json::{Map, Value as Json};

/// Converts one JSON record into an event. Returns `None` when the value is not an object.
pub fn from_json(record: &Json) -> Option<Event> {
    let root = record.as_object()?;
    let mut event = Event::default();
    match root.get("Event").and_then(Json::as_object) {
        Some(ev) => {
            if let Some(system) = ev.get("System").and_then(Json::as_object) {
                flatten_system(system, &mut event);
            }
            for (key, section) in ev {
                match key.as_str() {
                    "System" | "#attributes" => {}
                    "UserData" => flatten_user_data(section, &mut event),
                    // EventData, and the rarer DebugData/ProcessingErrorData/BinaryEventData.
                    _ => flatten_data(section, &mut event),
                }
            }
        }
        None => {
            for (k, v) in root {
                flatten_value(&field_name(k), v, &mut event);
            }
            // Flat exports commonly name the time `TimeCreated`; it is the event's time when
            // the record has no `TimeCreated_SystemTime` of its own.
            if event.get_str(crate::event::names::TIME_CREATED).is_none()
                && let Some(t) = root.get("TimeCreated").and_then(Json::as_str)
            {
                event.push(crate::event::names::TIME_CREATED, Value::Str(t.into()));
            }
        }
    }
    Some(event)
}

/// System elements keep their names; their attributes become `Element_Attribute`.
fn flatten_system(system: &Map<String, Json>, event: &mut Event) {
    for (name, value) in system {
        match value {
            Json::Object(obj) => {
                if let Some(text) = obj.get("#text") {
                    flatten_value(name, text, event);
                }
                if let Some(Json::Object(attrs)) = obj.get("#attributes") {
                    for (attr, v) in attrs {
                        event.push(format!("{name}_{attr}"), scalar(v));
                    }
                }
            }
            other => event.push(name.clone(), scalar(other)),
        }
    }
}

/// EventData children: `Name → value`; unnamed `<Data>` elements become the list `Data`.
fn flatten_data(section: &Json, event: &mut Event) {
    let Json::Object(obj) = section else {
        if !section.is_null() {
            flatten_value("Data", section, event);
        }
        return;
    };
    for (key, value) in obj {
        if key == "#attributes" {
            if let Json::Object(attrs) = value {
                for (attr, v) in attrs {
                    if attr != "xmlns" {
                        event.push(format!("EventData_{attr}"), scalar(v));
                    }
                }
            }
            continue;
        }
        flatten_value(&field_name(key), value, event);
    }
}

/// UserData holds one wrapper element (e.g. `Operation_ClientFailure`) whose children are the
/// fields; Sigma rules name those children directly.
fn flatten_user_data(section: &Json, event: &mut Event) {
    let Json::Object(obj) = section else { return };
    for (key, wrapper) in obj {
        match wrapper {
            Json::Object(children) => {
                for (k, v) in children {
                    if k == "#attributes" {
                        continue; // the wrapper's xmlns
                    }
                    flatten_value(&field_name(k), v, event);
                }
            }
            other => flatten_value(&field_name(key), other, event),
        }
    }
}

/// Adds `value` under `name`, descending into nested objects and arrays.
fn flatten_value(name: &str, value: &Json, event: &mut Event) {
    match value {
        Json::Object(obj) => {
            if let Some(text) = obj.get("#text") {
                flatten_value(name, text, event);
            }
            for (k, v) in obj {
                match k.as_str() {
                    "#text" => {}
                    "#attributes" => {
                        if let Json::Object(attrs) = v {
                            for (attr, av) in attrs {
                                event.push(format!("{name}_{attr}"), scalar(av));
                            }
                        }
                    }
                    _ => flatten_value(&field_name(k), v, event),
                }
            }
        }
        Json::Array(items) => {
            let strings: Vec<String> = items.iter().filter_map(text_of).collect();
            event.push(name.to_owned(), Value::List(strings));
        }
        other => event.push(name.to_owned(), scalar(other)),
    }
}

fn scalar(value: &Json) -> Value {
    match value {
        Json::Null => Value::Null,
        Json::String(s) => Value::Str(s.clone()),
        Json::Array(items) => Value::List(items.iter().filter_map(text_of).collect()),
        other => Value::Str(other.to_string()),
    }
}

fn text_of(value: &Json) -> Option<String> {
    match value {
        Json::Null => None,
        Json::String(s) => Some(s.clone()),
        Json::Object(obj) => obj.get("#text").and_then(text_of),
        other => Some(other.to_string()),
    }
}

/// Sigma names EventData fields without spaces (`Threat Name` → `ThreatName`).
fn field_name(raw: &str) -> String {
    if raw.contains(' ') {
        raw.replace(' ', "")
    } else {
        raw.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn system_attributes_and_event_data() {
        let rec = json!({"Event": {
            "#attributes": {"xmlns": "x"},
            "System": {
                "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon", "Guid": "{5770}"}},
                "EventID": {"#attributes": {"Qualifiers": 16384}, "#text": 7045},
                "TimeCreated": {"#attributes": {"SystemTime": "2019-03-19T23:34:25.123Z"}},
                "Correlation": null,
                "Channel": "System",
                "Version": 0
            },
            "EventData": {"Threat Name": "EICAR", "ProcessId": 4460, "Empty": null, "Blank": ""}
        }});
        let e = from_json(&rec).unwrap();
        assert_eq!(e.get_str("Provider_Name"), Some("Microsoft-Windows-Sysmon"));
        assert_eq!(e.event_id(), Some(7045));
        assert_eq!(e.get_str("EventID_Qualifiers"), Some("16384"));
        assert_eq!(
            e.get_str("TimeCreated_SystemTime"),
            Some("2019-03-19T23:34:25.123Z")
        );
        assert_eq!(e.get("Correlation"), Some(&Value::Null));
        assert_eq!(e.get_str("ThreatName"), Some("EICAR"));
        assert_eq!(e.get_str("ProcessId"), Some("4460"));
        assert_eq!(e.get("Empty"), Some(&Value::Null));
        assert_eq!(e.get_str("Blank"), Some(""));
        assert_eq!(e.get_str("Version"), Some("0"));
    }

    #[test]
    fn unnamed_data_and_user_data() {
        let rec = json!({"Event": {
            "System": {"EventID": 400, "Channel": "Windows PowerShell"},
            "EventData": {"Data": {"#text": ["Available", "HostApplication=powershell"]}, "Binary": "00"}
        }});
        let e = from_json(&rec).unwrap();
        assert_eq!(
            e.get("Data"),
            Some(&Value::List(vec![
                "Available".into(),
                "HostApplication=powershell".into()
            ]))
        );
        let rec = json!({"Event": {
            "System": {"EventID": 5858},
            "UserData": {"Operation_ClientFailure": {"#attributes": {"xmlns": "y"}, "Operation": "Start"}}
        }});
        let e = from_json(&rec).unwrap();
        assert_eq!(e.get_str("Operation"), Some("Start"));
        assert!(e.get("xmlns").is_none());
    }

    #[test]
    fn flat_records_are_taken_as_they_are() {
        let e = from_json(&json!({"EventID": 1, "Image": "C:\\a.exe"})).unwrap();
        assert_eq!(e.event_id(), Some(1));
        assert_eq!(e.get_str("Image"), Some("C:\\a.exe"));
        // A flat `TimeCreated` is the event's time.
        let e = from_json(&json!({"EventID": 1, "TimeCreated": "2024-03-13T10:00:00Z"})).unwrap();
        assert!(e.timestamp().is_some());
        assert_eq!(e.get_str("TimeCreated"), Some("2024-03-13T10:00:00Z"));
    }
}
