//! MITRE ATT&CK names for Sigma rule tags: `attack.lateral_movement` → tactic "Lateral
//! Movement", `attack.t1021.002` → technique "Remote Services: SMB/Windows Admin Shares".
//!
//! The id → name table is data (`rules/mappings/attack-enterprise.tsv`, its ATT&CK version in its header,
//! written by `scripts/attack-table.py` from MITRE's STIX bundle), compiled in. An id the table
//! lacks is kept as the id, so a newer rule never loses its tag.
//!
//! Not for: rule loading or matching (`sigma`); how a timeline lays the tags out (`cli::timeline`).

use std::collections::HashMap;
use std::sync::OnceLock;

const TABLE: &str = include_str!("../rules/mappings/attack-enterprise.tsv");

/// The ATT&CK tactics, techniques, groups and software a rule's tags name, and its other tags.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleAttack {
    /// Tactic names ("Lateral Movement"), or the tag's text for a tactic the table lacks.
    pub tactics: Vec<String>,
    /// Technique ids ("T1021.002"), then group and software ids ("G0007", "S0029"), upper case.
    pub ids: Vec<String>,
    /// Every other tag as written (`cve.2021-1675`, `detection.threat-hunting`).
    pub other: Vec<String>,
}

impl RuleAttack {
    /// Sorts a rule's `tags:`; tags are compared without case, and hyphens in tactic names
    /// (`attack.lateral-movement`, Sigma's newer spelling) read as underscores.
    pub fn from_tags(tags: &[String]) -> RuleAttack {
        let mut out = RuleAttack::default();
        for tag in tags {
            let lower = tag.trim().to_ascii_lowercase();
            let Some(rest) = lower.strip_prefix("attack.") else {
                push_new(&mut out.other, tag.trim().to_owned());
                continue;
            };
            if is_attack_id(rest) {
                push_new(&mut out.ids, rest.to_ascii_uppercase());
            } else {
                let short = rest.replace('-', "_");
                let name = tactic_name(&short).map_or(short, str::to_owned);
                push_new(&mut out.tactics, name);
            }
        }
        out
    }

    /// Technique ids with their names (`T1047 Windows Management Instrumentation`); an id the
    /// table lacks stands alone. Groups and software are left out (the table names techniques).
    pub fn named_techniques(&self) -> Vec<String> {
        (self.ids.iter())
            .filter(|id| id.starts_with('T'))
            .map(|id| match technique_name(id) {
                Some(name) => format!("{id} {name}"),
                None => id.clone(),
            })
            .collect()
    }
}

fn push_new(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// `t1021.002`, `g0007`, `s0029`: a letter and four digits, optionally `.` and three digits.
fn is_attack_id(s: &str) -> bool {
    let mut chars = s.chars();
    let kind = chars.next();
    let (number, sub) = chars
        .as_str()
        .split_once('.')
        .unwrap_or((chars.as_str(), ""));
    let digits = |t: &str, n: usize| t.len() == n && t.bytes().all(|b| b.is_ascii_digit());
    matches!(kind, Some('t' | 'g' | 's'))
        && digits(number, 4)
        && (sub.is_empty() || (kind == Some('t') && digits(sub, 3)))
}

struct Table {
    version: String,
    /// Tactic short name (`lateral_movement`) → name.
    tactics: HashMap<String, String>,
    /// Tactic and technique id (`TA0008`, `T1021.002`) → name.
    ids: HashMap<String, String>,
}

fn table() -> &'static Table {
    static TABLE_CELL: OnceLock<Table> = OnceLock::new();
    TABLE_CELL.get_or_init(|| parse(TABLE))
}

fn parse(text: &str) -> Table {
    let mut t = Table {
        version: String::new(),
        tactics: HashMap::new(),
        ids: HashMap::new(),
    };
    for line in text.lines() {
        if let Some(comment) = line.strip_prefix('#') {
            if let Some(v) = comment.trim().strip_prefix("attack-version") {
                t.version = v.trim().to_owned();
            }
            continue;
        }
        let mut cols = line.split('\t');
        let (Some(id), Some(short), Some(name)) = (cols.next(), cols.next(), cols.next()) else {
            continue;
        };
        if !short.is_empty() {
            t.tactics.insert(short.to_owned(), name.to_owned());
        }
        t.ids.insert(id.to_ascii_uppercase(), name.to_owned());
    }
    t
}

/// The ATT&CK version the bundled table was taken from.
pub fn version() -> &'static str {
    &table().version
}

/// A tactic's name by its tag short name (`lateral_movement`) or id (`TA0008`).
pub fn tactic_name(short_or_id: &str) -> Option<&'static str> {
    let t = table();
    (t.tactics.get(short_or_id))
        .or_else(|| t.ids.get(&short_or_id.to_ascii_uppercase()))
        .map(String::as_str)
}

/// A technique's name by its id (`T1021.002`, any case); sub-techniques as "Parent: Sub".
pub fn technique_name(id: &str) -> Option<&'static str> {
    table()
        .ids
        .get(&id.to_ascii_uppercase())
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn tactics_are_named_and_techniques_keep_their_ids() {
        let a = RuleAttack::from_tags(&tags(&[
            "attack.lateral_movement",
            "attack.T1021.002",
            "attack.execution",
            "attack.t1569.002",
            "attack.s0029",
            "attack.g0007",
            "car.2013-05-005",
        ]));
        assert_eq!(a.tactics, ["Lateral Movement", "Execution"]);
        assert_eq!(a.ids, ["T1021.002", "T1569.002", "S0029", "G0007"]);
        assert_eq!(a.other, ["car.2013-05-005"]);
        assert_eq!(
            a.named_techniques(),
            [
                "T1021.002 Remote Services: SMB/Windows Admin Shares",
                "T1569.002 System Services: Service Execution"
            ]
        );
    }

    #[test]
    fn newer_hyphenated_tactics_are_named_and_unknown_ids_are_kept() {
        let a = RuleAttack::from_tags(&tags(&[
            "attack.privilege-escalation",
            "attack.command-and-control",
            "attack.some_future_tactic",
            "attack.t9999.001",
            "attack.t1047",
            "attack.t1047",
        ]));
        assert_eq!(
            a.tactics,
            [
                "Privilege Escalation",
                "Command and Control",
                "some_future_tactic"
            ]
        );
        assert_eq!(a.ids, ["T9999.001", "T1047"]);
        assert_eq!(
            a.named_techniques(),
            ["T9999.001", "T1047 Windows Management Instrumentation"]
        );
    }

    #[test]
    fn the_table_states_its_version_and_names_every_tactic_and_bundled_technique() {
        assert!(!version().is_empty());
        assert_eq!(tactic_name("TA0008"), Some("Lateral Movement"));
        assert_eq!(tactic_name("defense_evasion"), Some("Defense Evasion"));
        assert_eq!(table().tactics.len(), 14);
        // Every technique the bundled rules tag has a name.
        let bundled = crate::rulepack::bundled();
        for (file, text) in bundled {
            for word in text.split(|c: char| c.is_whitespace() || c == '[' || c == ',') {
                let tag = word.trim_matches(|c| c == '\'' || c == '"' || c == ']');
                if let Some(id) = tag.strip_prefix("attack.t") {
                    assert!(technique_name(&format!("T{id}")).is_some(), "{file}: {tag}");
                }
            }
        }
    }
}
