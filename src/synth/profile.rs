//! Per-source defaults (provider, channel, System values) and EventData typing, so scenario
//! files only state what differs between events.

use super::value::{self, DataValue};

/// Defaults for one log source.
pub struct Profile {
    pub channel: &'static str,
    pub provider: &'static str,
    pub provider_guid: Option<&'static str>,
    pub event_source_name: Option<&'static str>,
    pub qualifiers: Option<u16>,
    pub keywords: u64,
    pub level: u8,
    pub process_id: u32,
    pub thread_id: u32,
    pub user_id: Option<&'static str>,
}

const SYSMON_CHANNEL: &str = "Microsoft-Windows-Sysmon/Operational";

/// The sources scenario files may name in `source:`.
pub const SOURCES: &[&str] = &["security", "sysmon", "system-scm", "defender", "wmi"];

pub fn profile(source: &str) -> Option<Profile> {
    Some(match source {
        "security" => Profile {
            channel: "Security",
            provider: "Microsoft-Windows-Security-Auditing",
            provider_guid: Some("{54849625-5478-4994-a5ba-3e3b0328c30d}"),
            event_source_name: None,
            qualifiers: None,
            keywords: 0x8020_0000_0000_0000, // Audit Success
            level: 0,
            process_id: 4,
            thread_id: 1148,
            user_id: None,
        },
        "sysmon" => Profile {
            channel: SYSMON_CHANNEL,
            provider: "Microsoft-Windows-Sysmon",
            provider_guid: Some("{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"),
            event_source_name: None,
            qualifiers: None,
            keywords: 0x8000_0000_0000_0000,
            level: 4,
            process_id: 3164,
            thread_id: 4388,
            user_id: Some("S-1-5-18"),
        },
        "system-scm" => Profile {
            channel: "System",
            provider: "Service Control Manager",
            provider_guid: Some("{555908d1-a6d7-4695-8e1e-26931d2012f4}"),
            event_source_name: Some("Service Control Manager"),
            qualifiers: Some(16384),
            keywords: 0x8080_0000_0000_0000, // Classic
            level: 4,
            process_id: 748,
            thread_id: 7020,
            user_id: None,
        },
        "defender" => Profile {
            channel: "Microsoft-Windows-Windows Defender/Operational",
            provider: "Microsoft-Windows-Windows Defender",
            provider_guid: Some("{11cd958a-c507-4ef3-b3f2-5fd9dfbd2c78}"),
            event_source_name: None,
            qualifiers: None,
            keywords: 0x8000_0000_0000_0000,
            level: 4,
            process_id: 3412,
            thread_id: 5532,
            user_id: Some("S-1-5-18"),
        },
        "wmi" => Profile {
            channel: "Microsoft-Windows-WMI-Activity/Operational",
            provider: "Microsoft-Windows-WMI-Activity",
            provider_guid: Some("{1418ef04-b0b4-4623-bf7e-d74ab47bbdaa}"),
            event_source_name: None,
            qualifiers: None,
            keywords: 0x4000_0000_0000_0000, // the Operational channel's bit
            level: 0,
            process_id: 1460, // the svchost hosting Winmgmt
            thread_id: 2212,
            user_id: Some("S-1-5-18"),
        },
        _ => return None,
    })
}

/// (version, level override, task) that Windows writes for a source's event id.
pub fn event_defaults(source: &str, id: u16) -> (u8, Option<u8>, u16) {
    match (source, id) {
        ("security", 4688) => (2, None, 13312),
        ("security", 4689) => (0, None, 13313),
        ("security", 4624) => (2, None, 12544),
        ("security", 4625) => (0, None, 12544),
        ("security", 4634) => (0, None, 12545),
        ("security", 4648) => (0, None, 12544),
        ("security", 4672) => (0, None, 12548),
        ("security", 4697) => (1, None, 12289),
        ("security", 5140) => (1, None, 12808),
        ("security", 5145) => (0, None, 12811),
        ("sysmon", 1 | 3 | 22) => (5, None, id),
        ("sysmon", 5 | 7 | 10 | 19 | 20 | 21) => (3, None, id),
        ("sysmon", 17 | 18) => (1, None, id),
        ("sysmon", _) => (2, None, id),
        ("defender", 1116 | 1117 | 1121) => (0, Some(3), 0),
        _ => (0, None, 0),
    }
}

/// The typed form of an EventData value when Windows types that field and the text is in
/// the canonical form a reader renders back identically; otherwise the text as a string.
pub fn typed_value(channel: &str, name: &str, text: &str) -> DataValue {
    let sysmon = channel == SYSMON_CHANNEL;
    let security = channel == "Security";
    let canonical = |v: DataValue| (v.to_text().as_deref() == Some(text)).then_some(v);
    let typed = if name.ends_with("Guid") {
        value::parse_guid(text)
            .map(DataValue::Guid)
            .and_then(canonical)
    } else if name.ends_with("Sid") || name == "MandatoryLabel" {
        value::parse_sid(text)
            .map(DataValue::Sid)
            .and_then(canonical)
    } else if (security && matches!(name, "ProcessId" | "NewProcessId"))
        || ((security || sysmon) && name.ends_with("LogonId"))
    {
        value::parse_hex(text)
            .map(DataValue::HexI64)
            .and_then(canonical)
    } else if sysmon
        && matches!(
            name,
            "ProcessId"
                | "ParentProcessId"
                | "TerminalSessionId"
                | "SourceProcessId"
                | "TargetProcessId"
                | "SourceThreadId"
        )
    {
        text.parse().ok().map(DataValue::U32).and_then(canonical)
    } else if sysmon && matches!(name, "SourcePort" | "DestinationPort") {
        text.parse().ok().map(DataValue::U16).and_then(canonical)
    } else if sysmon && matches!(name, "Initiated" | "SourceIsIpv6" | "DestinationIsIpv6") {
        text.parse().ok().map(DataValue::Bool).and_then(canonical)
    } else {
        None
    };
    typed.unwrap_or_else(|| DataValue::Str(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_only_canonical_text() {
        assert_eq!(
            typed_value("Security", "NewProcessId", "0x1a2c"),
            DataValue::HexI64(0x1a2c)
        );
        assert_eq!(
            typed_value("Security", "NewProcessId", "0x1A2C"),
            DataValue::Str("0x1A2C".into())
        );
        assert_eq!(
            typed_value(SYSMON_CHANNEL, "ProcessId", "6700"),
            DataValue::U32(6700)
        );
        assert_eq!(
            typed_value("Security", "SubjectUserSid", "-"),
            DataValue::Str("-".into())
        );
        assert!(matches!(
            typed_value(
                SYSMON_CHANNEL,
                "ProcessGuid",
                "{8a3f5c21-1b2c-65f0-2a01-000000001d00}"
            ),
            DataValue::Guid(_)
        ));
    }
}
