//! Value conversions applied when a field is read through an alias (4688 ↔ Sysmon forms).

use std::borrow::Cow;

use serde::Deserialize;

use super::fields::{AliasUse, Resolved, lookup, lookup_idx};
use crate::event::{Event, Value};

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

/// Integrity level names and their mandatory label SIDs (also read by `sql::rule`, which says
/// the same conversion in SQL).
pub const INTEGRITY: [(&str, &str); 7] = [
    ("Untrusted", "S-1-16-0"),
    ("Low", "S-1-16-4096"),
    ("Medium", "S-1-16-8192"),
    ("MediumPlus", "S-1-16-8448"),
    ("High", "S-1-16-12288"),
    ("System", "S-1-16-16384"),
    ("Protected", "S-1-16-20480"),
];

pub(super) fn read_alias<'e>(a: &AliasUse, ev: &'e Event) -> Option<Resolved<'e>> {
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
