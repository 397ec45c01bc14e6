//! Parents whose creation is not in the case. Real collections rarely hold the creation of the
//! process an attack came through (WmiPrvSE.exe, PSEXESVC.exe), but its children name it:
//! Security 4688 v2 gives `ParentProcessName` and the parent PID, Sysmon 1 `ParentImage`,
//! `ParentCommandLine`, `ParentProcessId` and `ParentProcessGuid`. From those a parent node is
//! built, and every child that shares it is grouped under it: the same `ParentProcessGuid`, or
//! for 4688 the same computer and parent PID within the parent's plausible lifetime (after the
//! PID's last exit before the child, up to its first exit or re-creation after it) and, when
//! both name it, the same parent image.

use super::{MAX_CHILDREN, ProcKey, ProcNode, SYSMON, children, confirmed, creation, pid_value};
use crate::event::Event;
use crate::prefilter::Prefilter;
use crate::store::lookup::equals;
use crate::store::{EventStore, StoreError};

/// What a child's creation says of its parent.
struct Said {
    image: String,
    cmdline: String,
    user: String,
    pid: Option<u64>,
}

fn said_by(ev: &Event) -> Said {
    let s = |f: &str| ev.get_str(f).unwrap_or_default().trim().to_owned();
    if ev.event_id() == Some(4688) {
        Said {
            image: s("ParentProcessName"),
            cmdline: String::new(),
            user: String::new(),
            pid: ev.get_str("ProcessId").and_then(pid_value),
        }
    } else {
        Said {
            image: s("ParentImage"),
            cmdline: s("ParentCommandLine"),
            user: s("ParentUser"),
            pid: ev.get_str("ParentProcessId").and_then(pid_value),
        }
    }
}

/// Whether a parent key is the null GUID or PID 0, which Windows writes when no parent is
/// known.
pub(super) fn names_no_process(key: &ProcKey) -> bool {
    match key {
        ProcKey::Guid(g) => g.chars().all(|c| c == '0' || c == '-'),
        ProcKey::Pid { pid, .. } => *pid == 0,
    }
}

/// Whether two image paths may name one process (either unknown, or equal ignoring case).
fn same_image(a: &str, b: &str) -> bool {
    a.is_empty() || b.is_empty() || a.eq_ignore_ascii_case(b)
}

/// The parent `key` of `child` as the child's creation describes it (marked `inferred`), and
/// every child of it the case holds, in time order (`child` among them).
pub(super) fn inferred_parent(
    snap: &dyn EventStore,
    child: &ProcNode,
    key: &ProcKey,
) -> Result<(ProcNode, Vec<ProcNode>), StoreError> {
    let (ev, _) = snap.event(child.r)?;
    let said = said_by(&ev);
    let mut parent = ProcNode {
        r: child.r,
        key: key.clone(),
        parent: None,
        computer: child.computer.clone(),
        image: said.image,
        cmdline: said.cmdline,
        user: said.user,
        pid: said.pid,
        inferred: true,
    };
    let mut kids = match key {
        ProcKey::Guid(_) => children(snap, &parent)?,
        ProcKey::Pid { computer, pid } => pid_children(snap, computer, *pid, &parent.image, child)?,
    };
    if !kids.iter().any(|k| k.r == child.r) {
        kids.push(child.clone());
    }
    kids.sort_by_key(|k| k.r);
    if let Some(first) = kids.first() {
        parent.r = first.r;
    }
    Ok((parent, kids))
}

/// The time of the first (or, `newest`, the last) Security event `id` on `computer` whose
/// `field` is the PID `hex`, within `from..=to`.
fn pid_event(
    snap: &dyn EventStore,
    computer: &str,
    (id, field, hex): (&str, &str, &str),
    (from, to): (i64, i64),
    newest: bool,
) -> Result<Option<i64>, StoreError> {
    let p = Prefilter::and(vec![
        equals("EventID", id),
        equals("Computer", computer),
        equals(field, hex),
        Prefilter::TimeRange { from, to },
    ]);
    let mut refs = snap.candidates(&p)?;
    if newest {
        refs.reverse();
    }
    for r in refs {
        let (ev, _) = snap.event(r)?;
        if ev.computer().eq_ignore_ascii_case(computer)
            && ev.channel().eq_ignore_ascii_case("Security")
            && ev.get_str(field).and_then(pid_value) == pid_value(hex)
        {
            return Ok(Some(r.ts));
        }
    }
    Ok(None)
}

/// 4688 children of the parent PID `pid` whose creation is not in the case: within the
/// lifetime that PID can have had around `child` (no creation of it at or before `child`,
/// or `find_creation` would have found it).
fn pid_children(
    snap: &dyn EventStore,
    computer: &str,
    pid: u64,
    image: &str,
    child: &ProcNode,
) -> Result<Vec<ProcNode>, StoreError> {
    let hex = format!("{pid:#x}");
    let t = child.r.ts;
    // A process with this PID that exited before the child was another process.
    let exited = pid_event(
        snap,
        computer,
        ("4689", "ProcessId", &hex),
        (i64::MIN, t.saturating_sub(1)),
        true,
    )?;
    let exits = pid_event(
        snap,
        computer,
        ("4689", "ProcessId", &hex),
        (t, i64::MAX),
        false,
    )?;
    let reused = pid_event(
        snap,
        computer,
        ("4688", "NewProcessId", &hex),
        (t.saturating_add(1), i64::MAX),
        false,
    )?;
    let from = exited.map_or(i64::MIN, |e| e.saturating_add(1));
    let to = match (exits, reused) {
        (Some(e), Some(c)) => e.min(c.saturating_sub(1)),
        (Some(e), None) => e,
        (None, Some(c)) => c.saturating_sub(1),
        (None, None) => i64::MAX,
    };
    let p = Prefilter::and(vec![
        equals("EventID", "4688"),
        equals("Computer", computer),
        equals("ProcessId", &hex),
        Prefilter::TimeRange { from, to },
    ]);
    let keep = |ev: &Event| {
        ev.computer().eq_ignore_ascii_case(computer)
            && same_image(ev.get_str("ParentProcessName").unwrap_or_default(), image)
    };
    let key = ProcKey::Pid {
        computer: computer.to_owned(),
        pid,
    };
    Ok(confirmed(snap, &p, &keep, MAX_CHILDREN)?
        .into_iter()
        .filter_map(|(r, ev)| creation(&ev, r))
        .filter(|n| n.parent.as_ref() == Some(&key))
        .collect())
}

/// The parent of `child` from the other source when its own does not hold it: the Sysmon 1
/// creation of a 4688 process's parent PID, or the 4688 of a Sysmon process's parent, on the
/// same computer, the latest at or before the child, with the image the child names.
pub(super) fn other_source_creation(
    snap: &dyn EventStore,
    child: &ProcNode,
) -> Result<Option<ProcNode>, StoreError> {
    let (ev, _) = snap.event(child.r)?;
    let said = said_by(&ev);
    let Some(pid) = said.pid else {
        return Ok(None);
    };
    let (id, field, value) = match child.key {
        ProcKey::Pid { .. } => ("1", "ProcessId", pid.to_string()),
        ProcKey::Guid(_) => ("4688", "NewProcessId", format!("{pid:#x}")),
    };
    let p = Prefilter::and(vec![
        equals("EventID", id),
        equals("Computer", &child.computer),
        equals(field, &value),
        Prefilter::TimeRange {
            from: i64::MIN,
            to: child.r.ts,
        },
    ]);
    for r in snap.candidates(&p)?.into_iter().rev() {
        let (ev, _) = snap.event(r)?;
        let Some(n) = creation(&ev, r) else { continue };
        let other = match child.key {
            ProcKey::Pid { .. } => ev.channel().eq_ignore_ascii_case(SYSMON),
            ProcKey::Guid(_) => matches!(n.key, ProcKey::Pid { .. }),
        };
        if other
            && n.pid == Some(pid)
            && n.computer.eq_ignore_ascii_case(&child.computer)
            && same_image(&n.image, &said.image)
        {
            return Ok(Some(n));
        }
    }
    Ok(None)
}
