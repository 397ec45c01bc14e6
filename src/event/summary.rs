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
        for f in SUMMARY {
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
}
