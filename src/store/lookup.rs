//! Pivots as data: "events with this value", "events around this one", "what this process
//! did" and "this rule's hits with this value" are descriptions a store can answer itself
//! (push down), with a prefilter and an exact check both derived from the one description.

use crate::event::Event;
use crate::prefilter::Prefilter;
use crate::sigma::CompiledRule;
use std::sync::Arc;

/// A pivot's question.
#[derive(Clone, Debug)]
pub enum Lookup {
    /// Events with `value` in `field` (names compared ignoring case, values too). A GUID
    /// matches in either form, so a pivot on a process or logon GUID finds it in EVTX
    /// (`{5aa1…}`) and in other tools' exports (`5AA1…`) alike.
    SameValue { field: String, value: String },
    /// Events on `computer` (on every computer when `None`) within `span` microseconds of `t0`,
    /// either side.
    Around {
        computer: Option<String>,
        t0: i64,
        span: i64,
    },
    /// Everything one process did.
    Activity(Process),
    /// The events of one logon session: on `computer`, naming `logon_id` as the subject's,
    /// target's or process's logon, from `from` to `to` (its logoff, if known).
    Session {
        computer: String,
        logon_id: u64,
        from: i64,
        to: Option<i64>,
    },
    /// `rule`'s hits whose `field` (under the rule's own name for it, so `Image` finds a
    /// 4688's `NewProcessName`) has `value`.
    RuleValue {
        rule: Arc<CompiledRule>,
        field: String,
        value: String,
    },
    /// Events every one of these lookups finds (a stack's row of several fields).
    All(Vec<Lookup>),
}

/// A process, as its events name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Process {
    /// Sysmon events carrying its `ProcessGuid` (lowercase, without braces).
    Guid(String),
    /// Security events on `computer` naming its PID from `since` (its creation) on: PIDs are
    /// reused, so earlier events are another process's.
    Pid {
        computer: String,
        pid: u64,
        since: i64,
    },
}

impl Lookup {
    /// What the store may narrow to: a superset of what [`Lookup::matches`] accepts.
    pub fn prefilter(&self) -> Prefilter {
        match self {
            Lookup::SameValue { field, value } if is_guid(value) => {
                guid_equals(field, &guid_key(value))
            }
            Lookup::SameValue { field, value } => equals(field, value),
            Lookup::Around { computer, t0, span } => Prefilter::and(vec![
                computer
                    .as_deref()
                    .map_or(Prefilter::All, |c| equals("Computer", c)),
                Prefilter::TimeRange {
                    from: t0.saturating_sub(*span),
                    to: t0.saturating_add(*span),
                },
            ]),
            Lookup::Activity(Process::Guid(g)) => guid_equals("ProcessGuid", g),
            Lookup::Activity(Process::Pid { computer, pid, .. }) => {
                let hex = format!("{pid:#x}");
                Prefilter::and(vec![
                    equals("Computer", computer),
                    Prefilter::or(vec![
                        equals("ProcessId", &hex),
                        equals("NewProcessId", &hex),
                    ]),
                ])
            }
            Lookup::Session {
                computer,
                logon_id,
                from,
                to,
            } => {
                let hex = format!("{logon_id:#x}");
                Prefilter::and(vec![
                    equals("Computer", computer),
                    Prefilter::or(LOGON_FIELDS.iter().map(|f| equals(f, &hex)).collect()),
                    Prefilter::TimeRange {
                        from: *from,
                        to: to.unwrap_or(i64::MAX),
                    },
                ])
            }
            // The field may be read under other names per source, so only the rule narrows.
            Lookup::RuleValue { rule, .. } => rule.prefilter(),
            Lookup::All(parts) => Prefilter::and(parts.iter().map(Lookup::prefilter).collect()),
        }
    }

    /// The exact answer for one event.
    pub fn matches(&self, ev: &Event) -> bool {
        match self {
            Lookup::SameValue { field, value } => {
                let mut values = (ev.fields.iter())
                    .filter(|(n, _)| n.eq_ignore_ascii_case(field))
                    .flat_map(|(_, v)| v.strings());
                if is_guid(value) {
                    let key = guid_key(value);
                    values.any(|s| guid_key(s) == key)
                } else {
                    values.any(|s| s.eq_ignore_ascii_case(value))
                }
            }
            Lookup::Around { computer, t0, span } => {
                computer
                    .as_deref()
                    .is_none_or(|c| ev.computer().eq_ignore_ascii_case(c))
                    && (ev.timestamp()).is_some_and(|t| (t.as_microsecond() - t0).abs() <= *span)
            }
            Lookup::Activity(Process::Guid(g)) => guid_is(ev, "ProcessGuid", g),
            Lookup::Activity(Process::Pid {
                computer,
                pid,
                since,
            }) => {
                let hex = format!("{pid:#x}");
                ev.computer().eq_ignore_ascii_case(computer)
                    && (eq_ci(ev, "ProcessId", &hex) || eq_ci(ev, "NewProcessId", &hex))
                    && ev.timestamp().is_some_and(|t| t.as_microsecond() >= *since)
            }
            Lookup::Session {
                computer,
                logon_id,
                from,
                to,
            } => {
                let names = |f: &&str| {
                    ev.get_str(f)
                        .and_then(hex_or_decimal)
                        .is_some_and(|id| id == *logon_id)
                };
                ev.computer().eq_ignore_ascii_case(computer)
                    && LOGON_FIELDS.iter().any(names)
                    && ev.timestamp().is_some_and(|t| {
                        let t = t.as_microsecond();
                        t >= *from && to.is_none_or(|to| t <= to)
                    })
            }
            Lookup::RuleValue { rule, field, value } => {
                rule.is_match(ev)
                    && (rule.field_values(ev, field).iter()).any(|v| v.eq_ignore_ascii_case(value))
            }
            Lookup::All(parts) => parts.iter().all(|l| l.matches(ev)),
        }
    }
}

/// Where Windows events name a logon session: the subject's (who acted), the target's (a
/// logon, a logoff, a new process's own logon) and Sysmon's process logon.
const LOGON_FIELDS: [&str; 3] = ["SubjectLogonId", "TargetLogonId", "LogonId"];

/// A number as Windows writes ids: `0x…` hex, or decimal.
pub(crate) fn hex_or_decimal(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

pub(crate) fn equals(field: &str, value: &str) -> Prefilter {
    Prefilter::Equals {
        field: field.into(),
        value: value.into(),
    }
}

pub(crate) fn eq_ci(ev: &Event, field: &str, want: &str) -> bool {
    ev.get(field)
        .is_some_and(|v| v.strings().any(|s| s.eq_ignore_ascii_case(want)))
}

/// A GUID as a key: lowercase, without braces. EVTX renders `{5aa1…}`, while exports by other
/// tools often write `5AA1…`; both name the same thing.
pub(crate) fn guid_key(s: &str) -> String {
    let t = s.trim();
    let t = t.strip_prefix('{').unwrap_or(t);
    t.strip_suffix('}').unwrap_or(t).to_ascii_lowercase()
}

/// Events whose `field` holds the GUID `key` in either form.
pub(crate) fn guid_equals(field: &str, key: &str) -> Prefilter {
    Prefilter::or(vec![
        equals(field, &format!("{{{key}}}")),
        equals(field, key),
    ])
}

pub(crate) fn guid_is(ev: &Event, field: &str, key: &str) -> bool {
    ev.get(field)
        .is_some_and(|v| v.strings().any(|s| guid_key(s) == key))
}

/// Whether `s` is a GUID, braced or bare (`8-4-4-4-12` hex digits).
pub(crate) fn is_guid(s: &str) -> bool {
    let key = guid_key(s);
    key.len() == 36
        && key.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}
