//! Process trees over a case, built on demand from the index rather than from a full scan.
//!
//! A process is identified by its Sysmon `ProcessGuid` (EventID 1) or, for Security 4688, by
//! `(Computer, NewProcessId)`; PIDs are reused, so a 4688 parent is the *latest* creation of that
//! PID on the same computer at or before the child. Every lookup is an index prefilter
//! (`Equals` terms) confirmed by exact comparison, so building a tree touches only the few
//! events involved. A parent whose creation is not in the case is shown as a node built from
//! what its children say (`orphans`), with every child that shares it. Not for: rendering (the
//! TUI flattens [`ProcTree::lines`]).

mod orphans;

use crate::event::Event;
use crate::prefilter::Prefilter;
use crate::store::lookup::{equals, guid_equals, guid_is, guid_key};
use crate::store::{EventRef, EventStore, Lookup, StoreError};

const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";
/// Bounds so that a pathological case (a service spawning 100k children) stays responsive.
const MAX_DEPTH: usize = 64;
const MAX_CHILDREN: usize = 500;

/// How a process is identified.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ProcKey {
    Guid(String),
    Pid { computer: String, pid: u64 },
}

/// One process creation, or a parent known only from its children (`inferred`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcNode {
    /// The creation event; for an inferred parent, its first child's creation (the time and
    /// event its pivots start from).
    pub r: EventRef,
    pub key: ProcKey,
    pub parent: Option<ProcKey>,
    pub computer: String,
    pub image: String,
    pub cmdline: String,
    pub user: String,
    pub pid: Option<u64>,
    /// Built from what its children say: its own creation is not in the case.
    pub inferred: bool,
}

/// A lineage (root … focus) and the focus's descendants, flattened for display.
#[derive(Clone, Debug, Default)]
pub struct ProcTree {
    pub nodes: Vec<ProcNode>,
    /// `(depth, index into nodes)` in display order.
    pub lines: Vec<(usize, usize)>,
    /// Index into `lines` of the process the tree was opened on.
    pub focus: usize,
    /// The parent of the lineage was referenced but its creation is not in the case: the root
    /// is then a node inferred from its children (`ProcNode::inferred`), labelled by this.
    pub missing_parent: Option<String>,
}

fn pid_value(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// The account a 4688 process runs as: the new process's (`TargetUserName`, version 2 events)
/// when set, else its creator's (`SubjectUserName`), which is the same account unless the
/// process was started for another user (wmiexec's `cmd.exe` is created by `HOST$` for the
/// attacker's account).
pub fn account_4688(ev: &Event) -> String {
    let set = |f: &str| {
        ev.get_str(f)
            .map(str::trim)
            .filter(|v| !v.is_empty() && *v != "-")
    };
    set("TargetUserName")
        .or_else(|| set("SubjectUserName"))
        .unwrap_or_default()
        .to_owned()
}

/// The creation this event describes, if it is a Sysmon 1 or Security 4688 event.
pub fn creation(ev: &Event, r: EventRef) -> Option<ProcNode> {
    let s = |f: &str| ev.get_str(f).unwrap_or_default().to_owned();
    let computer = ev.computer().to_owned();
    match ev.event_id() {
        Some(1) if ev.channel().eq_ignore_ascii_case(SYSMON) => Some(ProcNode {
            r,
            key: ProcKey::Guid(guid_key(ev.get_str("ProcessGuid")?)),
            parent: ev
                .get_str("ParentProcessGuid")
                .map(|g| ProcKey::Guid(guid_key(g))),
            image: s("Image"),
            cmdline: s("CommandLine"),
            user: s("User"),
            pid: ev.get_str("ProcessId").and_then(pid_value),
            computer,
            inferred: false,
        }),
        Some(4688) if ev.channel().eq_ignore_ascii_case("Security") => {
            let pid = pid_value(ev.get_str("NewProcessId")?)?;
            let parent = ev.get_str("ProcessId").and_then(pid_value);
            Some(ProcNode {
                r,
                key: ProcKey::Pid {
                    computer: computer.clone(),
                    pid,
                },
                parent: parent.map(|pid| ProcKey::Pid {
                    computer: computer.clone(),
                    pid,
                }),
                image: s("NewProcessName"),
                cmdline: s("CommandLine"),
                user: account_4688(ev),
                pid: Some(pid),
                computer,
                inferred: false,
            })
        }
        _ => None,
    }
}

/// Events the prefilter proposes that `keep` confirms, in time order.
fn confirmed(
    snap: &dyn EventStore,
    p: &Prefilter,
    keep: &dyn Fn(&Event) -> bool,
    limit: usize,
) -> Result<Vec<(EventRef, Event)>, StoreError> {
    let mut out = Vec::new();
    for r in snap.candidates(p)? {
        let (ev, _) = snap.event(r)?;
        if keep(&ev) {
            out.push((r, ev));
            if out.len() >= limit {
                break;
            }
        }
    }
    Ok(out)
}

/// The creation event of `key` (for PIDs, the latest one at or before `before`).
fn find_creation(
    snap: &dyn EventStore,
    key: &ProcKey,
    before: i64,
) -> Result<Option<ProcNode>, StoreError> {
    match key {
        ProcKey::Guid(g) => {
            let p = Prefilter::and(vec![guid_equals("ProcessGuid", g), equals("EventID", "1")]);
            let found = confirmed(snap, &p, &|ev| guid_is(ev, "ProcessGuid", g), 1)?;
            Ok(found.into_iter().find_map(|(r, ev)| creation(&ev, r)))
        }
        ProcKey::Pid { computer, pid } => {
            let p = Prefilter::and(vec![
                equals("EventID", "4688"),
                equals("Computer", computer),
                equals("NewProcessId", &format!("{pid:#x}")),
                Prefilter::TimeRange {
                    from: i64::MIN,
                    to: before,
                },
            ]);
            // PIDs are reused: the latest creation at or before `before`, newest first, so
            // only the events up to the answer are read.
            for r in snap.candidates(&p)?.into_iter().rev() {
                let (ev, _) = snap.event(r)?;
                if !ev.computer().eq_ignore_ascii_case(computer) {
                    continue;
                }
                if let Some(n) = creation(&ev, r).filter(|n| &n.key == key) {
                    return Ok(Some(n));
                }
            }
            Ok(None)
        }
    }
}

/// Direct children of `node`.
fn children(snap: &dyn EventStore, node: &ProcNode) -> Result<Vec<ProcNode>, StoreError> {
    Ok((children_each(snap, std::slice::from_ref(node))?.pop()).unwrap_or_default())
}

/// Direct children of the 4688 process `node` (PID `pid` on `computer`): those created after
/// it and before its PID was reused.
fn pid_children_of(
    snap: &dyn EventStore,
    node: &ProcNode,
    computer: &str,
    pid: u64,
) -> Result<Vec<ProcNode>, StoreError> {
    let p = Prefilter::and(vec![
        equals("EventID", "4688"),
        equals("Computer", computer),
        equals("ProcessId", &format!("{pid:#x}")),
    ]);
    let found = confirmed(
        snap,
        &p,
        &|ev| ev.computer().eq_ignore_ascii_case(computer),
        MAX_CHILDREN,
    )?;
    let mut out = Vec::new();
    for (r, ev) in found {
        let Some(child) = creation(&ev, r) else {
            continue;
        };
        // Only children created after this process and before its PID was reused.
        if r.ts < node.r.ts || child.parent.as_ref() != Some(&node.key) {
            continue;
        }
        let creator = find_creation(snap, &node.key, r.ts)?;
        if creator.is_some_and(|c| c.r == node.r) {
            out.push(child);
        }
    }
    Ok(out)
}

/// The tree around the process of `ev`: its creation (for any Sysmon event with a
/// `ProcessGuid`, the creation of that process), ancestors to the root and descendants. When
/// the root's parent is named but its creation is not in the case, the root is that parent as
/// its children describe it, with every child of it the case holds.
pub fn build(
    snap: &dyn EventStore,
    r: EventRef,
    ev: &Event,
) -> Result<Option<ProcTree>, StoreError> {
    let focus = match creation(ev, r) {
        Some(n) => n,
        None => match ev.get_str("ProcessGuid") {
            Some(g) => match find_creation(snap, &ProcKey::Guid(guid_key(g)), r.ts)? {
                Some(n) => n,
                None => return Ok(None),
            },
            None => return Ok(None),
        },
    };
    let mut lineage = vec![focus];
    let mut missing = None;
    while lineage.len() < MAX_DEPTH {
        let Some(top) = lineage.last() else { break };
        let Some(pk) = top.parent.clone() else { break };
        let found = match find_creation(snap, &pk, top.r.ts)? {
            Some(p) => Some(p),
            // Security may lack a creation that Sysmon holds, and the other way round.
            None => orphans::other_source_creation(snap, top)?,
        };
        match found {
            Some(p) if !lineage.iter().any(|n| n.key == p.key) => lineage.push(p),
            Some(_) => break,
            None => {
                missing = Some(pk);
                break;
            }
        }
    }
    lineage.reverse();
    let mut tree = ProcTree::default();
    let mut budget = MAX_CHILDREN;
    let mut lines = Vec::new();
    // The lineage's root and, under an inferred parent, its siblings, in time order.
    let mut tops = Vec::new();
    let mut depth0 = 0;
    if let Some(pk) = &missing {
        tree.missing_parent = Some(match pk {
            ProcKey::Guid(g) => format!("{{{g}}}"),
            ProcKey::Pid { pid, .. } => format!("pid {pid}"),
        });
    }
    // The null GUID and PID 0 name no process: nothing to build a parent from.
    if let Some(pk) = missing.filter(|pk| !orphans::names_no_process(pk)) {
        let root = &lineage[0];
        let (parent, siblings) = orphans::inferred_parent(snap, root, &pk)?;
        tree.nodes.push(parent);
        lines.push((0, 0));
        depth0 = 1;
        for s in siblings {
            if s.r != root.r && budget > 0 {
                budget -= 1;
                tree.nodes.push(s);
                tops.push(tree.nodes.len() - 1);
            }
        }
    }
    let first = tree.nodes.len();
    let chain = lineage.len();
    tree.nodes.extend(lineage);
    tops.push(first);
    tops.sort_by_key(|&i| tree.nodes[i].r);
    let focus = first + chain - 1;
    let starts: Vec<usize> = (tops.iter())
        .map(|&t| if t == first { focus } else { t })
        .collect();
    let kids_of = descendants(snap, &mut tree, &starts, &mut budget)?;
    for top in tops {
        if top != first {
            lines.push((depth0, top));
            push_lines(&kids_of, top, depth0, &mut lines);
            continue;
        }
        for k in 0..chain {
            lines.push((depth0 + k, first + k));
        }
        tree.focus = lines.len() - 1;
        push_lines(&kids_of, focus, depth0 + chain - 1, &mut lines);
    }
    tree.lines = lines;
    Ok(Some(tree))
}

/// The descendants of the nodes `starts` (added to the tree, at most `budget` of them), as
/// each node's children in time order. The tree is read a level at a time, every node of a
/// level (the root's siblings' included) asked for its children in one `children_each` call,
/// so a remote store answers a tree in a query per level rather than one per process.
fn descendants(
    snap: &dyn EventStore,
    tree: &mut ProcTree,
    starts: &[usize],
    budget: &mut usize,
) -> Result<std::collections::HashMap<usize, Vec<usize>>, StoreError> {
    let mut kids_of: std::collections::HashMap<usize, Vec<usize>> = Default::default();
    let mut level = starts.to_vec();
    for _ in 0..MAX_DEPTH {
        if level.is_empty() || *budget == 0 {
            break;
        }
        let parents: Vec<ProcNode> = level.iter().map(|&i| tree.nodes[i].clone()).collect();
        let mut next = Vec::new();
        for (&i, kids) in level.iter().zip(children_each(snap, &parents)?) {
            let mut ids = Vec::new();
            for k in kids.into_iter().take(*budget) {
                if tree.nodes.iter().any(|n| n.key == k.key && n.r == k.r) {
                    continue;
                }
                *budget -= 1;
                tree.nodes.push(k);
                ids.push(tree.nodes.len() - 1);
            }
            next.extend(&ids);
            kids_of.insert(i, ids);
        }
        level = next;
    }
    Ok(kids_of)
}

/// Appends the descendants of node `idx` (at `depth`) to `lines`, depth first, with an
/// explicit stack so deep chains cannot overflow the call stack.
fn push_lines(
    kids_of: &std::collections::HashMap<usize, Vec<usize>>,
    idx: usize,
    depth: usize,
    lines: &mut Vec<(usize, usize)>,
) {
    let kids = |i: usize| kids_of.get(&i).into_iter().flatten().rev();
    let mut stack: Vec<(usize, usize)> = kids(idx).map(|&k| (k, depth + 1)).collect();
    while let Some((i, d)) = stack.pop() {
        lines.push((d, i));
        stack.extend(kids(i).map(|&k| (k, d + 1)));
    }
}

/// Direct children of each of `nodes`: the GUID-keyed ones in one store call, with the events
/// they need fetched together; PID-keyed ones (whose parents need the PID's latest creation
/// found per child) one by one.
fn children_each(
    snap: &dyn EventStore,
    nodes: &[ProcNode],
) -> Result<Vec<Vec<ProcNode>>, StoreError> {
    let guid = |n: &ProcNode| match &n.key {
        ProcKey::Guid(g) => Some(g.clone()),
        ProcKey::Pid { .. } => None,
    };
    // Each GUID asked once (a level may hold the same process twice, e.g. in two copies of
    // a log kept side by side).
    let mut guids: Vec<String> = nodes.iter().filter_map(guid).collect();
    guids.sort();
    guids.dedup();
    let prefilters: Vec<Prefilter> = (guids.iter())
        .map(|g| {
            Prefilter::and(vec![
                guid_equals("ParentProcessGuid", g),
                equals("EventID", "1"),
            ])
        })
        .collect();
    let lists = snap.candidates_each(&prefilters)?;
    snap.prefetch(&lists.concat());
    let mut kids: std::collections::HashMap<&str, Vec<ProcNode>> = Default::default();
    for (g, refs) in guids.iter().zip(lists) {
        let found = kids.entry(g).or_default();
        for r in refs {
            let (ev, _) = snap.event(r)?;
            if guid_is(&ev, "ParentProcessGuid", g)
                && let Some(child) = creation(&ev, r)
            {
                found.push(child);
                if found.len() >= MAX_CHILDREN {
                    break;
                }
            }
        }
    }
    let mut out: Vec<Vec<ProcNode>> = (nodes.iter())
        .map(|n| guid(n).and_then(|g| kids.get(g.as_str()).cloned()))
        .map(Option::unwrap_or_default)
        .collect();
    for (i, n) in nodes.iter().enumerate() {
        if let ProcKey::Pid { computer, pid } = &n.key {
            out[i] = pid_children_of(snap, n, computer, *pid)?;
        }
    }
    Ok(out)
}

/// "Everything this process did": Sysmon events carrying its `ProcessGuid`, or for a 4688
/// process, Security events on its computer naming its PID from its creation on.
pub fn activity(node: &ProcNode) -> Lookup {
    Lookup::Activity(match &node.key {
        ProcKey::Guid(g) => crate::store::lookup::Process::Guid(g.clone()),
        ProcKey::Pid { computer, pid } => crate::store::lookup::Process::Pid {
            computer: computer.clone(),
            pid: *pid,
            since: node.r.ts,
        },
    })
}

/// The connector drawn before each line of a tree (the workbench's and the report's) given
/// as `(depth, _)` in display order
/// (a node's descendants follow it, deeper): `■ ` for a root, else the ancestors' bars and
/// `├─ ` or, for the last child of its parent, `└─ `.
pub fn guides(lines: &[(usize, usize)]) -> Vec<String> {
    let mut out = vec![String::new(); lines.len()];
    // `later[k]`: a line of depth k comes after this one before any shallower line.
    let mut later: Vec<bool> = Vec::new();
    for (i, &(depth, _)) in lines.iter().enumerate().rev() {
        if later.len() <= depth {
            later.resize(depth + 1, false);
        }
        out[i] = if depth == 0 {
            "■ ".into()
        } else {
            let mut g = String::from("  ");
            for &bar in &later[1..depth] {
                g.push_str(if bar { "│ " } else { "  " });
            }
            g.push_str(if later[depth] { "├─ " } else { "└─ " });
            g
        };
        later[depth] = true;
        later.truncate(depth + 1);
    }
    out
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod guide_tests {
    use super::guides;

    #[test]
    fn siblings_join_with_tees_and_the_last_with_an_elbow() {
        // root › a (› a1, a2), b
        let lines = [(0, 0), (1, 1), (2, 2), (2, 3), (1, 4)];
        assert_eq!(
            guides(&lines),
            ["■ ", "  ├─ ", "  │ ├─ ", "  │ └─ ", "  └─ "]
        );
        // A chain has no bar past its only child.
        assert_eq!(
            guides(&[(0, 0), (1, 1), (2, 2)]),
            ["■ ", "  └─ ", "    └─ "]
        );
    }
}
