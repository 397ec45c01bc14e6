//! One-line summaries of events: the workbench's lists and the CLI's tables say the same.

use super::Event;

/// The fields that say what an event is about, by event type.
const SUMMARY: &[&str] = &[
    "Image",
    "NewProcessName",
    "CommandLine",
    "ParentImage",
    "User",
    "SubjectUserName",
    "TargetUserName",
    "TargetFilename",
    "TargetObject",
    "ShareName",
    "RelativeTargetName",
    "PipeName",
    "ServiceName",
    "ImagePath",
    "DestinationIp",
    "DestinationPort",
    "QueryName",
    "IpAddress",
    "LogonType",
    "Path",
    "ThreatName",
    "ProcessName",
    "ObjectName",
    "ScriptBlockText",
    "Payload",
    "Data",
];

impl Event {
    /// The key fields of the event, most telling first, as `(name, values joined by ", ")`:
    /// the one choice behind the workbench's lists, the CLI's tables and a timeline's
    /// `Details` column.
    pub fn key_fields(&self) -> Vec<(&'static str, String)> {
        // A 4688's process runs as its TargetUserName (version 2) when that is set; the
        // SubjectUserName is only its creator (`HOST$` for a wmiexec shell run as `admmig`).
        let set = |f: &str| {
            self.get_str(f)
                .is_some_and(|v| !v.trim().is_empty() && v.trim() != "-")
        };
        let creator_only = self.event_id() == Some(4688) && set("TargetUserName");
        let mut out = Vec::new();
        for f in SUMMARY {
            if creator_only && *f == "SubjectUserName" {
                continue;
            }
            // Lists too: classic events keep their unnamed `<Data>` values in one list.
            let values: Vec<&str> = (self.get(f).into_iter())
                .flat_map(|v| v.strings())
                .filter(|v| !v.is_empty() && *v != "-")
                .collect();
            if !values.is_empty() {
                out.push((*f, values.join(", ")));
            }
        }
        out
    }

    /// The EventData/UserData fields [`Event::key_fields`] leaves out, in event order, as
    /// `(name, values joined by ", ")` (a timeline's `ExtraFieldInfo`); empty values are skipped.
    pub fn extra_fields(&self) -> Vec<(&str, String)> {
        let key = self.key_fields();
        (self.fields.iter())
            .filter(|(name, _)| !is_system_field(name))
            .filter(|(name, _)| !key.iter().any(|(k, _)| k.eq_ignore_ascii_case(name)))
            .filter_map(|(name, value)| {
                let values: Vec<&str> = value.strings().filter(|v| !v.is_empty()).collect();
                (!values.is_empty()).then(|| (name.as_str(), values.join(", ")))
            })
            .collect()
    }

    /// `Field=value` pairs of the key fields present, most telling first (lists and tables).
    pub fn summary(&self) -> String {
        let parts: Vec<String> = (self.key_fields().into_iter())
            .map(|(f, v)| format!("{f}={v}"))
            .collect();
        if parts.is_empty() {
            return self.provider().to_owned();
        }
        parts.join("  ")
    }
}

/// `Name: value ¦ Name: value`, the flattened form of a timeline's `Details` and
/// `ExtraFieldInfo` columns (Hayabusa's separator, so tools that split its columns split ours).
/// A Windows message code keeps its code and is followed by its text
/// (`ImpersonationLevel: %%1833 (Impersonation)`), so nothing is lost and a reader need not
/// look it up.
pub fn flatten_fields<N: AsRef<str>>(fields: &[(N, String)]) -> String {
    (fields.iter())
        .map(|(n, v)| match super::message_text(v) {
            Some(text) => format!("{}: {v} ({text})", n.as_ref()),
            None => format!("{}: {v}", n.as_ref()),
        })
        .collect::<Vec<_>>()
        .join(" ¦ ")
}

/// Whether a normalised field comes from the record's `<System>` element: one of its
/// elements, or an attribute joined to one with `_` (`Provider_Name`); every other field is
/// EventData/UserData.
pub fn is_system_field(name: &str) -> bool {
    const ELEMENTS: [&str; 14] = [
        "Provider",
        "EventID",
        "Version",
        "Level",
        "Task",
        "Opcode",
        "Keywords",
        "TimeCreated",
        "EventRecordID",
        "Correlation",
        "Execution",
        "Channel",
        "Computer",
        "Security",
    ];
    let element = name.split_once('_').map_or(name, |(element, _)| element);
    ELEMENTS.contains(&element)
}

/// The part of a channel name that tells channels apart in a narrow column
/// (`Microsoft-Windows-TaskScheduler/Operational` → `TaskScheduler`).
pub fn short_channel(c: &str) -> &str {
    match c {
        "Microsoft-Windows-Windows Defender/Operational" => "Defender",
        other => {
            let c = other.strip_prefix("Microsoft-Windows-").unwrap_or(other);
            c.strip_suffix("/Operational").unwrap_or(c)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Value;

    #[test]
    fn summaries_name_script_blocks_and_classic_data_and_channels_are_short() {
        let mut classic = Event::from_pairs(&[("Provider_Name", "Application Error")]);
        let data = vec!["evil.exe".to_owned(), "1.0".to_owned()];
        classic.push("Data", Value::List(data));
        assert_eq!(classic.summary(), "Data=evil.exe, 1.0");
        let block = Event::from_pairs(&[("ScriptBlockText", "IEX (New-Object Net.WebClient)")]);
        assert_eq!(
            block.summary(),
            "ScriptBlockText=IEX (New-Object Net.WebClient)"
        );
        assert_eq!(
            short_channel("Microsoft-Windows-TaskScheduler/Operational"),
            "TaskScheduler"
        );
        assert_eq!(
            short_channel("Microsoft-Windows-Sysmon/Operational"),
            "Sysmon"
        );
        assert_eq!(short_channel("Security"), "Security");
    }

    #[test]
    fn flattened_fields_follow_message_codes_with_their_text() {
        let fields = [
            ("ImpersonationLevel", "%%1833".to_owned()),
            ("AccessList", "%%1538 %%1541".to_owned()),
            ("Status", "%%99999999".to_owned()),
        ];
        assert_eq!(
            flatten_fields(&fields),
            "ImpersonationLevel: %%1833 (Impersonation) ¦ AccessList: %%1538 %%1541 (READ_CONTROL, SYNCHRONIZE) ¦ Status: %%99999999"
        );
    }

    #[test]
    fn a_4688_is_summarised_with_the_account_it_runs_as() {
        let pairs = [
            ("EventID", "4688"),
            ("NewProcessName", "C:\\Windows\\System32\\cmd.exe"),
            ("SubjectUserName", "HOST$"),
            ("TargetUserName", "admmig"),
        ];
        let v2 = Event::from_pairs(&pairs);
        assert_eq!(
            v2.summary(),
            "NewProcessName=C:\\Windows\\System32\\cmd.exe  TargetUserName=admmig"
        );
        let v1 = Event::from_pairs(&[pairs[0], pairs[1], pairs[2], ("TargetUserName", "-")]);
        assert!(
            v1.summary().contains("SubjectUserName=HOST$"),
            "{}",
            v1.summary()
        );
    }

    #[test]
    fn details_are_the_key_fields_and_extra_fields_the_rest_of_the_event_data() {
        let e = Event::from_pairs(&[
            ("EventID", "4688"),
            ("Computer", "SRV-SQL-01"),
            ("EventRecordID", "12"),
            ("NewProcessName", "C:\\Windows\\System32\\cmd.exe"),
            ("CommandLine", "cmd.exe /Q /c whoami"),
            ("SubjectUserName", "SRV-SQL-01$"),
            ("TargetUserName", "svc-backup"),
            ("NewProcessId", "0x1a4"),
            ("TokenElevationType", ""),
        ]);
        assert_eq!(
            flatten_fields(&e.key_fields()),
            "NewProcessName: C:\\Windows\\System32\\cmd.exe ¦ CommandLine: cmd.exe /Q /c whoami ¦ TargetUserName: svc-backup"
        );
        // The creator left out of the details is not lost; System fields are not repeated.
        assert_eq!(
            flatten_fields(&e.extra_fields()),
            "SubjectUserName: SRV-SQL-01$ ¦ NewProcessId: 0x1a4"
        );
        // The summary is the same choice of fields.
        assert_eq!(
            e.summary(),
            "NewProcessName=C:\\Windows\\System32\\cmd.exe  CommandLine=cmd.exe /Q /c whoami  TargetUserName=svc-backup"
        );
    }
}
