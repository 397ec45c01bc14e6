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
    /// `Field=value` pairs of the summary fields present, most telling first.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        // A 4688's process runs as its TargetUserName (version 2) when that is set; the
        // SubjectUserName is only its creator (`HOST$` for a wmiexec shell run as `admmig`).
        let set = |f: &str| {
            self.get_str(f)
                .is_some_and(|v| !v.trim().is_empty() && v.trim() != "-")
        };
        let creator_only = self.event_id() == Some(4688) && set("TargetUserName");
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
                parts.push(format!("{f}={}", values.join(", ")));
            }
        }
        if parts.is_empty() {
            parts.push(self.provider().to_owned());
        }
        parts.join("  ")
    }
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
}
