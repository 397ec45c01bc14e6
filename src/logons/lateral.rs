//! Lateral movement: host → host edges from network and remote-interactive logons (types 3
//! and 10) and from explicit-credential logons (4648 on the source host naming its target),
//! with the user, how often, first and last time, and the rule hits inside those sessions.
//! A source address is named by a computer where the case holds evidence: that host's own
//! Sysmon 3 connections from (or to) the address, else the workstation name the logon gave.

use super::{Session, equals, of_ids, read_all};
use crate::event::Event;
use crate::prefilter::Prefilter;
use crate::store::{EventStore, StoreError};
use std::collections::{BTreeMap, HashMap};

/// Logons from another host.
const REMOTE_TYPES: [u32; 2] = [3, 10];

/// One host → host edge for one user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    /// The source host: a computer name when the case names the address, else the
    /// workstation name or the address itself.
    pub from: String,
    /// The address the logons came from ("" for explicit-credential edges).
    pub from_ip: String,
    pub to: String,
    pub user: String,
    /// Logon types seen (10 remote interactive, 3 network; 0 for explicit credentials).
    pub logon_types: Vec<u32>,
    /// Sessions on `to` (logons) plus explicit-credential uses on `from`.
    pub count: u64,
    pub first: i64,
    pub last: i64,
    /// Rule hits inside those sessions.
    pub hits: u64,
    /// Indices into the sessions given of the sessions behind this edge.
    pub sessions: Vec<usize>,
}

/// Which computer each address belongs to, from the hosts' own Sysmon 3 network events.
pub fn address_names(store: &dyn EventStore) -> Result<HashMap<String, String>, StoreError> {
    let p = of_ids("Microsoft-Windows-Sysmon/Operational", &[3]);
    let seen = read_all(store, &p, |_, ev| {
        let initiated = ev
            .get_str("Initiated")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let own = if initiated {
            "SourceIp"
        } else {
            "DestinationIp"
        };
        let ip = ev.get_str(own)?.trim().to_owned();
        (!ip.is_empty() && !is_loopback(&ip)).then(|| (ip, ev.computer().to_owned()))
    })?;
    Ok(seen.into_iter().collect())
}

fn is_loopback(ip: &str) -> bool {
    ip.starts_with("127.") || ip == "::1" || ip == "-"
}

/// The edges of `sessions` (as [`super::sessions`] returns them, with `hits[i]` rule hits in
/// session `i`) and of the case's explicit-credential logons, sorted by first time.
pub fn edges(
    store: &dyn EventStore,
    sessions: &[Session],
    hits: &[u64],
) -> Result<Vec<Edge>, StoreError> {
    let names = address_names(store)?;
    let mut edges = Edges::new();
    for (i, s) in sessions.iter().enumerate() {
        let Some(t) = s.logon_type.filter(|t| REMOTE_TYPES.contains(t)) else {
            continue;
        };
        if s.source_ip.is_empty() && s.workstation.is_empty() {
            continue;
        }
        let from = (names.get(&s.source_ip).cloned())
            .or_else(|| (!s.workstation.is_empty()).then(|| s.workstation.clone()))
            .unwrap_or_else(|| s.source_ip.clone());
        if same_host(&from, &s.computer) {
            continue;
        }
        let (ip, to, user) = (s.source_ip.clone(), s.computer.clone(), s.user.clone());
        let e = add(
            &mut edges,
            Ends {
                from,
                from_ip: ip,
                to,
                user,
            },
            t,
            s.start(),
        );
        e.hits += hits.get(i).copied().unwrap_or(0);
        e.sessions.push(i);
    }
    let explicit = read_all(store, &explicit_credentials(), |r, ev| {
        let target = target_server(&ev)?;
        Some((ev.computer().to_owned(), target, user_of(&ev), r.ts))
    })?;
    for (from, to, user, ts) in explicit {
        if !same_host(&from, &to) {
            let from_ip = String::new();
            add(
                &mut edges,
                Ends {
                    from,
                    from_ip,
                    to,
                    user,
                },
                0,
                ts,
            );
        }
    }
    let mut out: Vec<Edge> = edges.into_values().collect();
    out.sort_by(|a, b| (a.first, &a.from, &a.to).cmp(&(b.first, &b.from, &b.to)));
    Ok(out)
}

/// Who went where: what keys an edge.
struct Ends {
    from: String,
    from_ip: String,
    to: String,
    user: String,
}

type Edges = BTreeMap<(String, String, String), Edge>;

/// Counts one logon (of type `t`, at `ts`) on its edge.
fn add(edges: &mut Edges, ends: Ends, t: u32, ts: i64) -> &mut Edge {
    let key = (
        ends.from.to_lowercase(),
        ends.to.to_lowercase(),
        ends.user.to_lowercase(),
    );
    let e = edges.entry(key).or_insert_with(|| Edge {
        from: ends.from,
        from_ip: ends.from_ip,
        to: ends.to,
        user: ends.user,
        logon_types: Vec::new(),
        count: 0,
        first: ts,
        last: ts,
        hits: 0,
        sessions: Vec::new(),
    });
    if !e.logon_types.contains(&t) {
        e.logon_types.push(t);
        e.logon_types.sort_unstable();
    }
    e.count += 1;
    e.first = e.first.min(ts);
    e.last = e.last.max(ts);
    e
}

fn explicit_credentials() -> Prefilter {
    Prefilter::and(vec![
        equals("Channel", "Security"),
        equals("EventID", "4648"),
    ])
}

fn target_server(ev: &Event) -> Option<String> {
    let t = ev.get_str("TargetServerName")?.trim();
    let local = t.is_empty() || t == "-" || t.eq_ignore_ascii_case("localhost");
    (!local).then(|| t.to_owned())
}

fn user_of(ev: &Event) -> String {
    let get = |f: &str| {
        ev.get_str(f)
            .map(str::trim)
            .filter(|v| !v.is_empty() && *v != "-")
    };
    match (get("TargetDomainName"), get("TargetUserName")) {
        (Some(d), Some(u)) => format!("{d}\\{u}"),
        (None, Some(u)) => u.to_owned(),
        _ => String::new(),
    }
}

/// Whether two names are one host: equal ignoring case, or one is the other's first label
/// (`SRV-FILE-02` and `SRV-FILE-02.corp.example`).
pub fn same_host(a: &str, b: &str) -> bool {
    let is_ip = |s: &str| s.parse::<std::net::IpAddr>().is_ok();
    if is_ip(a) || is_ip(b) {
        return a.eq_ignore_ascii_case(b);
    }
    let short = |s: &str| s.split('.').next().unwrap_or(s).to_ascii_lowercase();
    short(a) == short(b)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_host_is_itself_under_its_short_name() {
        assert!(super::same_host("SRV-FILE-02", "srv-file-02.corp.example"));
        assert!(!super::same_host("WS-07", "SRV-FILE-02.corp.example"));
        assert!(!super::same_host("10.0.0.1", "10.0.0.2"));
    }
}
