//! Counting a case's detections and summarising it per host and per user: hits by level and
//! by ATT&CK tactic with their hosts, and for each host and user its events or logons, hits by
//! level and first and last time. Hits are read a chunk at a time (only their computer, user
//! and time are kept), so memory follows the number of hosts, users and rules, not of events.

use crate::event::Event;
use crate::logons::Session;
use crate::prefilter::Prefilter;
use crate::sigma::{CompiledRule, Level};
use crate::store::{EventRef, EventStore, StoreError};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Hits read at a time.
const CHUNK: usize = 4096;

/// Levels as the report lists them, most severe first.
pub const LEVELS: [Level; 5] = [
    Level::Critical,
    Level::High,
    Level::Medium,
    Level::Low,
    Level::Informational,
];

/// Counts per level, in the order of [`LEVELS`].
pub type ByLevel = [u64; 5];

fn level_slot(level: Level) -> usize {
    LEVELS.iter().position(|l| *l == level).unwrap_or(4)
}

/// A rule that ran with its hits (sorted by time), as the report and the summaries take it.
#[derive(Clone, Copy)]
pub struct RuleHits<'a> {
    pub rule: &'a CompiledRule,
    pub hits: &'a [EventRef],
}

/// Rules and hits of one level or tactic, and the hosts the hits are on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Group {
    pub rules: u64,
    pub hits: u64,
    pub hosts: BTreeMap<String, u64>,
}

/// The detections of a case, counted.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    /// By level, in the order of [`LEVELS`].
    pub levels: [Group; 5],
    /// By ATT&CK tactic name (rules without a tactic under "").
    pub tactics: BTreeMap<String, Group>,
    /// Per rule given (same order): its hits by host.
    pub rules: Vec<BTreeMap<String, u64>>,
    hosts: HashMap<String, HostHits>,
    users: HashMap<String, UserHits>,
}

#[derive(Clone, Debug, Default)]
struct HostHits {
    hits: ByLevel,
}

#[derive(Clone, Debug, Default)]
struct UserHits {
    name: String,
    hits: ByLevel,
    hosts: BTreeSet<String>,
    first: Option<i64>,
    last: Option<i64>,
}

/// The account an event is about, `DOMAIN\user` when it names the domain: a process's own
/// account (4688's `TargetUserName` or its creator's, Sysmon's `User`), else the target's or
/// the subject's of a logon or other Security event.
pub fn event_user(ev: &Event) -> Option<String> {
    let set = |f: &str| {
        ev.get_str(f)
            .map(str::trim)
            .filter(|v| !v.is_empty() && *v != "-")
    };
    let joined = |domain: Option<&str>, name: &str| match domain {
        Some(d) => format!("{d}\\{name}"),
        None => name.to_owned(),
    };
    if let Some(u) = set("User") {
        return Some(u.to_owned());
    }
    if let Some(name) = set("TargetUserName") {
        return Some(joined(set("TargetDomainName"), name));
    }
    set("SubjectUserName").map(|name| joined(set("SubjectDomainName"), name))
}

/// What users are told apart by: the name without its domain, ignoring case (`LARKSPUR\admmig`
/// and `admmig` are one user).
pub fn user_key(user: &str) -> String {
    user.rsplit('\\').next().unwrap_or(user).to_lowercase()
}

/// Counts the hits of `rules` (each rule by its own level and tactics) by level, tactic, host
/// and user, reading the hit events a chunk at a time.
pub fn tally(store: &dyn EventStore, rules: &[RuleHits<'_>]) -> Result<Tally, StoreError> {
    let mut t = Tally::default();
    for rh in rules {
        let slot = level_slot(rh.rule.meta.rank());
        let mut tactics = crate::attack::RuleAttack::from_tags(&rh.rule.meta.tags).tactics;
        if tactics.is_empty() {
            tactics.push(String::new());
        }
        let mut by_host: BTreeMap<String, u64> = BTreeMap::new();
        for chunk in rh.hits.chunks(CHUNK) {
            let seen = crate::store::check(store, chunk, |r, ev, _| {
                Some((r.ts, ev.computer().to_owned(), event_user(&ev)))
            })?;
            for (ts, host, user) in seen.into_iter().flatten() {
                *by_host.entry(host.clone()).or_default() += 1;
                t.hosts.entry(host.clone()).or_default().hits[slot] += 1;
                if let Some(user) = user {
                    let u = t.users.entry(user_key(&user)).or_default();
                    if user.len() > u.name.len() {
                        u.name = user;
                    }
                    u.hits[slot] += 1;
                    u.hosts.insert(host);
                    widen(&mut u.first, &mut u.last, ts);
                }
            }
        }
        let hits = rh.hits.len() as u64;
        let add = |g: &mut Group| {
            if hits > 0 {
                g.rules += 1;
            }
            g.hits += hits;
            for (h, n) in &by_host {
                *g.hosts.entry(h.clone()).or_default() += n;
            }
        };
        add(&mut t.levels[slot]);
        for tactic in tactics {
            add(t.tactics.entry(tactic).or_default());
        }
        t.rules.push(by_host);
    }
    Ok(t)
}

fn widen(first: &mut Option<i64>, last: &mut Option<i64>, ts: i64) {
    if ts == i64::MIN {
        return;
    }
    *first = Some(first.map_or(ts, |f| f.min(ts)));
    *last = Some(last.map_or(ts, |l| l.max(ts)));
}

/// One host of the case.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostSummary {
    pub host: String,
    pub events: u64,
    pub hits: ByLevel,
    pub first: Option<i64>,
    pub last: Option<i64>,
    /// Logon sessions on it.
    pub logons: u64,
}

/// One user: what the case's logons and rule hits say of them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserSummary {
    /// As the events name them, with the domain when one does.
    pub user: String,
    pub hits: ByLevel,
    /// Computers they logged on to or that hit events of theirs are on.
    pub hosts: Vec<String>,
    pub logons: u64,
    /// Addresses their logons came from.
    pub sources: Vec<String>,
    pub first: Option<i64>,
    pub last: Option<i64>,
}

/// The per-host and per-user summaries of a case.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summaries {
    /// By events, most first.
    pub hosts: Vec<HostSummary>,
    /// By hits (most severe level first), then logons.
    pub users: Vec<UserSummary>,
}

/// The summaries from the case's statistics, its sessions and the counted hits. Each host's
/// first and last event are looked up by its name (its events' references, 16 bytes each,
/// held while it is).
pub fn summaries(
    store: &dyn EventStore,
    tally: &Tally,
    sessions: &[Session],
) -> Result<Summaries, StoreError> {
    let stats = store.stats()?;
    let mut hosts = Vec::new();
    for (host, events) in &stats.by_computer {
        let (mut first, mut last) = (None, None);
        if !host.is_empty() {
            let refs = store.candidates(&Prefilter::Equals {
                field: "Computer".into(),
                value: host.clone(),
            })?;
            for r in [refs.iter().find(|r| r.ts != i64::MIN), refs.last()]
                .into_iter()
                .flatten()
            {
                widen(&mut first, &mut last, r.ts);
            }
        }
        hosts.push(HostSummary {
            host: host.clone(),
            events: *events,
            hits: tally.hosts.get(host).map(|h| h.hits).unwrap_or_default(),
            first,
            last,
            logons: sessions.iter().filter(|s| s.computer == *host).count() as u64,
        });
    }
    let mut users: BTreeMap<String, UserSummary> = BTreeMap::new();
    for (key, u) in &tally.users {
        users.insert(
            key.clone(),
            UserSummary {
                user: u.name.clone(),
                hits: u.hits,
                hosts: u.hosts.iter().cloned().collect(),
                first: u.first,
                last: u.last,
                ..UserSummary::default()
            },
        );
    }
    for s in sessions.iter().filter(|s| !s.user.is_empty()) {
        let u = users.entry(user_key(&s.user)).or_default();
        if s.user.len() > u.user.len() {
            u.user = s.user.clone();
        }
        u.logons += 1;
        push_new(&mut u.hosts, &s.computer);
        if !s.source_ip.is_empty() {
            push_new(&mut u.sources, &s.source_ip);
        }
        widen(&mut u.first, &mut u.last, s.start());
        if let Some(end) = s.end {
            widen(&mut u.first, &mut u.last, end);
        }
    }
    let mut users: Vec<UserSummary> = users.into_values().collect();
    for u in &mut users {
        u.hosts.sort();
        u.sources.sort();
    }
    users.sort_by(|a, b| {
        (b.hits, b.logons)
            .cmp(&(a.hits, a.logons))
            .then_with(|| a.user.cmp(&b.user))
    });
    Ok(Summaries { hosts, users })
}

fn push_new(list: &mut Vec<String>, value: &str) {
    if !list.iter().any(|v| v == value) {
        list.push(value.to_owned());
    }
}

/// The summaries of a case for `rules` (the alerting rules and their hits): its sessions read,
/// its hits counted.
pub fn compute(store: &dyn EventStore, rules: &[RuleHits<'_>]) -> Result<Summaries, StoreError> {
    let tally = tally(store, rules)?;
    let sessions = crate::logons::sessions(store)?;
    summaries(store, &tally, &sessions)
}

/// `crit 1 · high 2 · med 3` (levels without hits left out; `-` for none).
pub fn levels_text(hits: &ByLevel) -> String {
    let parts: Vec<String> = (LEVELS.iter().zip(hits))
        .filter(|(_, n)| **n > 0)
        .map(|(l, n)| format!("{} {n}", l.short()))
        .collect();
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(" · ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_names_the_account_it_is_about() {
        let ev = |pairs: &[(&str, &str)]| event_user(&Event::from_pairs(pairs));
        // A wmiexec shell runs as admmig, created by the machine account.
        let shell = [
            ("SubjectUserName", "SRV$"),
            ("SubjectDomainName", "CORP"),
            ("TargetUserName", "admmig"),
            ("TargetDomainName", "CORP"),
        ];
        assert_eq!(ev(&shell).as_deref(), Some("CORP\\admmig"));
        assert_eq!(ev(&[("User", "CORP\\bob")]).as_deref(), Some("CORP\\bob"));
        let creator = [("SubjectUserName", "alice"), ("TargetUserName", "-")];
        assert_eq!(ev(&creator).as_deref(), Some("alice"));
        assert_eq!(ev(&[("Image", "x")]), None);
        assert_eq!(user_key("CORP\\AdmMig"), user_key("admmig"));
    }

    #[test]
    fn levels_are_written_most_severe_first() {
        assert_eq!(levels_text(&[0, 2, 1, 0, 0]), "high 2 · med 1");
        assert_eq!(levels_text(&[0; 5]), "-");
    }
}
