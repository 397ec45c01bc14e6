//! Logon sessions: who ran it, from where. A Security 4624 opens a session on its computer
//! (`TargetLogonId`); the processes started in it (4688 `TargetLogonId`, or `SubjectLogonId`
//! when the new process keeps its creator's logon; Sysmon 1 `LogonId`), its special privileges
//! (4672), the shares it touched (5140/5145 `SubjectLogonId`) and its logoff (4634/4647) name
//! the same id on the same computer. Logon ids are reused across boots and hosts, so an event
//! belongs to the latest session of its (computer, id) that began at or before it and had not
//! ended. Everything is asked of the event store, so it works on any store.
//!
//! Not for: rendering (the CLI formats sessions and edges, `lateral.rs` builds the edges).

use crate::event::Event;
use crate::prefilter::Prefilter;
use crate::store::{EventRef, EventStore, StoreError};
use std::collections::HashMap;

pub mod lateral;

/// One logon session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub computer: String,
    pub logon_id: u64,
    /// `DOMAIN\user` (or the user alone).
    pub user: String,
    pub logon_type: Option<u32>,
    /// The address the logon came from ("" when local or not given).
    pub source_ip: String,
    /// The workstation name the logon gave ("" when none).
    pub workstation: String,
    pub auth_package: String,
    /// Given special privileges (4672) or an elevated token.
    pub elevated: bool,
    /// The 4624 that opened it.
    pub logon: EventRef,
    /// When it ended (4634/4647), if the case holds that.
    pub end: Option<i64>,
    /// Process creations in it.
    pub processes: u64,
    /// Share accesses in it (5140/5145).
    pub shares: u64,
}

impl Session {
    pub fn start(&self) -> i64 {
        self.logon.ts
    }

    /// Whether an event at `ts` falls in this session's lifetime.
    fn spans(&self, ts: i64) -> bool {
        ts >= self.start() && self.end.is_none_or(|end| ts <= end)
    }
}

/// A logon id as Windows writes it (`0x9a31f4e`), or decimal.
pub fn logon_id(s: &str) -> Option<u64> {
    crate::store::lookup::hex_or_decimal(s)
}

fn field_id(ev: &Event, field: &str) -> Option<u64> {
    ev.get_str(field).and_then(logon_id).filter(|id| *id != 0)
}

/// The session an event names, as `(logon id, what the event is to it)`.
fn member(ev: &Event) -> Option<(u64, Member)> {
    let security = ev.channel().eq_ignore_ascii_case("Security");
    match (security, ev.event_id()?) {
        // The new process's own logon when it has one, else its creator's.
        (true, 4688) => Some((
            field_id(ev, "TargetLogonId").or_else(|| field_id(ev, "SubjectLogonId"))?,
            Member::Process,
        )),
        (false, 1) if is_sysmon(ev) => Some((field_id(ev, "LogonId")?, Member::Process)),
        (true, 4672) => Some((field_id(ev, "SubjectLogonId")?, Member::Privileges)),
        (true, 5140 | 5145) => Some((field_id(ev, "SubjectLogonId")?, Member::Share)),
        (true, 4634 | 4647) => Some((field_id(ev, "TargetLogonId")?, Member::Logoff)),
        (true, 4648) => Some((field_id(ev, "SubjectLogonId")?, Member::Other)),
        _ => None,
    }
}

fn is_sysmon(ev: &Event) -> bool {
    ev.channel()
        .eq_ignore_ascii_case("Microsoft-Windows-Sysmon/Operational")
}

/// What an event is to the session it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Member {
    Process,
    Privileges,
    Share,
    Logoff,
    Other,
}

fn equals(field: &str, value: &str) -> Prefilter {
    Prefilter::Equals {
        field: field.into(),
        value: value.into(),
    }
}

/// Events of `ids` in `channel`.
fn of_ids(channel: &str, ids: &[u32]) -> Prefilter {
    Prefilter::and(vec![
        equals("Channel", channel),
        Prefilter::or(
            ids.iter()
                .map(|id| equals("EventID", &id.to_string()))
                .collect(),
        ),
    ])
}

/// Every event the prefilter admits, mapped by `keep` and handed to `visit` in time order,
/// read on all cores a chunk at a time (only one chunk's events are held).
fn each<T: Send>(
    store: &dyn EventStore,
    p: &Prefilter,
    keep: impl Fn(EventRef, Event) -> Option<T> + Sync,
    mut visit: impl FnMut(T),
) -> Result<(), StoreError> {
    let refs = store.candidates(p)?;
    for chunk in refs.chunks(8192) {
        let kept = crate::store::check(store, chunk, |r, ev, _| keep(r, ev))?;
        kept.into_iter().flatten().for_each(&mut visit);
    }
    Ok(())
}

/// [`each`], collected.
fn read_all<T: Send>(
    store: &dyn EventStore,
    p: &Prefilter,
    keep: impl Fn(EventRef, Event) -> Option<T> + Sync,
) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::new();
    each(store, p, keep, |t| out.push(t))?;
    Ok(out)
}

fn session_of_logon(r: EventRef, ev: &Event) -> Option<Session> {
    if !ev.channel().eq_ignore_ascii_case("Security") || ev.event_id() != Some(4624) {
        return None;
    }
    let get = |f: &str| {
        ev.get_str(f)
            .map(str::trim)
            .filter(|v| !v.is_empty() && *v != "-")
            .unwrap_or("")
            .to_owned()
    };
    let (domain, name) = (get("TargetDomainName"), get("TargetUserName"));
    let user = if domain.is_empty() {
        name
    } else {
        format!("{domain}\\{name}")
    };
    let ip = get("IpAddress");
    let local = matches!(ip.as_str(), "127.0.0.1" | "::1");
    Some(Session {
        computer: ev.computer().to_owned(),
        logon_id: field_id(ev, "TargetLogonId")?,
        user,
        logon_type: ev.get_str("LogonType").and_then(|t| t.trim().parse().ok()),
        source_ip: if local { String::new() } else { ip },
        workstation: get("WorkstationName"),
        auth_package: get("AuthenticationPackageName"),
        // %%1842: "Yes" in the ElevatedToken field.
        elevated: ev
            .get_str("ElevatedToken")
            .is_some_and(|v| v.trim() == "%%1842"),
        logon: r,
        end: None,
        processes: 0,
        shares: 0,
    })
}

/// Sessions of one (computer, logon id), ordered by start.
type ByKey = HashMap<(String, u64), Vec<Session>>;

/// The session of `(computer, id)` an event at `ts` belongs to.
fn find<'a>(by_key: &'a mut ByKey, computer: &str, id: u64, ts: i64) -> Option<&'a mut Session> {
    let list = by_key.get_mut(&(computer.to_ascii_lowercase(), id))?;
    (list.iter_mut())
        .rev()
        .find(|s| s.start() <= ts)
        .filter(|s| s.spans(ts))
}

/// Every logon session of the case, with its end, privileges and the processes and share
/// accesses in it, in time order.
pub fn sessions(store: &dyn EventStore) -> Result<Vec<Session>, StoreError> {
    let logons = read_all(store, &of_ids("Security", &[4624]), |r, ev| {
        session_of_logon(r, &ev)
    })?;
    let mut by_key: ByKey = HashMap::new();
    for s in logons {
        (by_key.entry((s.computer.to_ascii_lowercase(), s.logon_id)))
            .or_default()
            .push(s);
    }
    let named = |r: EventRef, ev: Event| {
        let (id, what) = member(&ev)?;
        Some((ev.computer().to_owned(), id, what, r.ts))
    };
    // Logoffs first, so the lifetimes are known before members are placed.
    each(
        store,
        &of_ids("Security", &[4634, 4647]),
        named,
        |(computer, id, _, ts)| {
            if let Some(s) = find(&mut by_key, &computer, id, ts)
                && s.end.is_none()
            {
                s.end = Some(ts);
            }
        },
    )?;
    let members = Prefilter::or(vec![
        of_ids("Security", &[4688, 4672, 5140, 5145]),
        of_ids("Microsoft-Windows-Sysmon/Operational", &[1]),
    ]);
    each(store, &members, named, |(computer, id, what, ts)| {
        let Some(s) = find(&mut by_key, &computer, id, ts) else {
            return;
        };
        match what {
            Member::Process => s.processes += 1,
            Member::Share => s.shares += 1,
            Member::Privileges => s.elevated = true,
            Member::Logoff | Member::Other => {}
        }
    })?;
    let mut all: Vec<Session> = by_key.into_values().flatten().collect();
    all.sort_by_key(|s| s.logon);
    Ok(all)
}

/// The logon session an event belongs to (a process, a share access, the logon or logoff
/// itself…), with its logoff; `None` when the event names no session or the case does not hold
/// its logon.
pub fn session_of(
    store: &dyn EventStore,
    ev: &Event,
    at: i64,
) -> Result<Option<Session>, StoreError> {
    let Some(id) = member(ev).map(|(id, _)| id).or_else(|| {
        ["TargetLogonId", "SubjectLogonId", "LogonId"]
            .iter()
            .find_map(|f| field_id(ev, f))
    }) else {
        return Ok(None);
    };
    let hex = format!("{id:#x}");
    let on_computer = |ids: &[u32]| {
        Prefilter::and(vec![
            of_ids("Security", ids),
            equals("Computer", ev.computer()),
            equals("TargetLogonId", &hex),
        ])
    };
    let same = |e: &Event| {
        e.computer().eq_ignore_ascii_case(ev.computer()) && field_id(e, "TargetLogonId") == Some(id)
    };
    let logons = read_all(store, &on_computer(&[4624]), |r, e| {
        (same(&e) && r.ts <= at)
            .then(|| session_of_logon(r, &e))
            .flatten()
    })?;
    let Some(mut session) = logons.into_iter().last() else {
        return Ok(None);
    };
    let ends = read_all(store, &on_computer(&[4634, 4647]), |r, e| {
        (same(&e) && r.ts >= session.start()).then_some(r.ts)
    })?;
    session.end = ends.into_iter().next();
    if session.end.is_some_and(|end| end < at) {
        return Ok(None);
    }
    Ok(Some(session))
}

impl Session {
    /// Every event of this session, as a pivot.
    pub fn lookup(&self) -> crate::store::Lookup {
        crate::store::Lookup::Session {
            computer: self.computer.clone(),
            logon_id: self.logon_id,
            from: self.start(),
            to: self.end,
        }
    }

    /// One line naming the session: who, how, from where, on which computer.
    pub fn title(&self) -> String {
        let kind = self
            .logon_type
            .map_or_else(String::new, |t| format!(" type {t}"));
        let from = match (self.source_ip.as_str(), self.workstation.as_str()) {
            ("", "") => String::new(),
            (ip, "") => format!(" from {ip}"),
            ("", ws) => format!(" from {ws}"),
            (ip, ws) => format!(" from {ip} ({ws})"),
        };
        let host = self.computer.split('.').next().unwrap_or(&self.computer);
        format!(
            "logon {:#x} of {}{kind}{from} on {host}",
            self.logon_id, self.user
        )
    }
}

/// Places events (rule hits) in their sessions: per session index in `sessions`, how many of
/// `refs` it holds. An event is in a session when it names the session's logon id on its
/// computer within its lifetime (or is the logon itself).
pub fn count_in_sessions(
    store: &dyn EventStore,
    sessions: &[Session],
    refs: &[EventRef],
) -> Result<Vec<u64>, StoreError> {
    let mut index: HashMap<(String, u64), Vec<usize>> = HashMap::new();
    for (i, s) in sessions.iter().enumerate() {
        (index.entry((s.computer.to_ascii_lowercase(), s.logon_id)))
            .or_default()
            .push(i);
    }
    let mut counts = vec![0; sessions.len()];
    let named = crate::store::check(store, refs, |r, ev, _| {
        let id = member(&ev).map(|(id, _)| id).or_else(|| {
            ["TargetLogonId", "SubjectLogonId", "LogonId"]
                .iter()
                .find_map(|f| field_id(&ev, f))
        })?;
        Some((ev.computer().to_ascii_lowercase(), id, r.ts))
    })?;
    for (computer, id, ts) in named.into_iter().flatten() {
        let Some(list) = index.get(&(computer, id)) else {
            continue;
        };
        let within = (list.iter().rev()).find(|&&i| sessions[i].start() <= ts);
        if let Some(&i) = within.filter(|&&i| sessions[i].spans(ts)) {
            counts[i] += 1;
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logon_ids_read_hex_and_decimal() {
        assert_eq!(logon_id("0x9a31f4e"), Some(0x9a31f4e));
        assert_eq!(logon_id("999"), Some(999));
        assert_eq!(logon_id("-"), None);
    }

    #[test]
    fn a_4688_belongs_to_its_own_logon_else_its_creators() {
        let ev = |target: &str| {
            Event::from_pairs(&[
                ("Channel", "Security"),
                ("EventID", "4688"),
                ("SubjectLogonId", "0x9a31f4e"),
                ("TargetLogonId", target),
            ])
        };
        assert_eq!(member(&ev("0x0")), Some((0x9a31f4e, Member::Process)));
        assert_eq!(member(&ev("0x3e4")), Some((0x3e4, Member::Process)));
    }
}
