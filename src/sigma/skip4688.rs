//! Opt-in, inexact (Hayabusa-like) pruning: a `process_creation` rule is not evaluated on
//! Security 4688 events when a selection the condition uses positively (not under `not`) can
//! only hold with a field 4688 does not have (`ParentCommandLine`, `OriginalFileName`…).
//!
//! By the spec such a selection is simply false on 4688, so the rule could still match there
//! through its other branches; skipping trades those matches for fewer false positives from
//! filters that cannot apply on 4688. Off by default: the default stays exact.

use std::sync::Arc;

use super::mapping::{RuleSources, Source};
use super::matcher::{Detection, Item, Node, Test};

/// Drops the 4688 source from `sources` when the detection needs a field it lacks; returns the
/// note to record.
pub fn prune(sources: &mut RuleSources, det: &Detection) -> Option<String> {
    if sources.sources.len() < 2 {
        return None;
    }
    let pos = sources.sources.iter().position(|s| is_4688(s))?;
    let src = Arc::clone(&sources.sources[pos]);
    let mut sels = Vec::new();
    positive(&det.condition, &mut sels);
    let (name, field) = sels.into_iter().find_map(|i| {
        let (name, node) = det.selections.get(i)?;
        Some((name, needs(node, &src)?))
    })?;
    sources.sources.remove(pos);
    Some(format!(
        "--skip-impossible-4688: not evaluated on Security 4688 events (selection `{name}` needs `{field}`, which 4688 does not have)"
    ))
}

fn is_4688(s: &Source) -> bool {
    s.event_ids.contains(&4688)
        && s.channels
            .iter()
            .any(|c| c.eq_ignore_ascii_case("Security"))
}

/// Selections referenced outside any `not`.
fn positive(n: &Node, out: &mut Vec<usize>) {
    match n {
        Node::And(xs) | Node::Or(xs) => xs.iter().for_each(|x| positive(x, out)),
        Node::Sel(i) => out.push(*i),
        Node::Not(_) | Node::Item(_) | Node::Const(_) => {}
    }
}

/// A field `src` lacks without which `n` cannot be true.
fn needs(n: &Node, src: &Source) -> Option<String> {
    match n {
        Node::And(xs) => xs.iter().find_map(|x| needs(x, src)),
        Node::Or(xs) => {
            let all: Option<Vec<String>> = xs.iter().map(|x| needs(x, src)).collect();
            all.and_then(|v| v.into_iter().next())
        }
        Node::Item(item) => item_needs(item, src),
        Node::Not(_) | Node::Sel(_) | Node::Const(_) => None,
    }
}

fn item_needs(item: &Item, src: &Source) -> Option<String> {
    let field = item.field.as_ref()?;
    // Tests that can hold on an absent field.
    let on_absent = |t: &Test| matches!(t, Test::Null | Test::Exists(false));
    let needs_value = if item.all {
        !item.tests.iter().all(on_absent)
    } else {
        !item.tests.iter().any(on_absent)
    };
    (needs_value && !item.negate && src.lacks(&field.name)).then(|| field.name.clone())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::event::Event;
    use crate::sigma::Loader;

    const RULE: &str = "title: t
logsource: {product: windows, category: process_creation}
detection:
  sel_parent:
    ParentCommandLine|contains: evil
  sel_image:
    Image|endswith: '\\cmd.exe'
  filter:
    OriginalFileName: x.exe
  condition: (sel_parent or sel_image) and not filter
";

    fn sec4688() -> Event {
        Event::from_pairs(&[
            ("EventID", "4688"),
            ("Channel", "Security"),
            ("NewProcessName", "C:\\Windows\\cmd.exe"),
        ])
    }

    fn sysmon1() -> Event {
        Event::from_pairs(&[
            ("EventID", "1"),
            ("Channel", "Microsoft-Windows-Sysmon/Operational"),
            ("Image", "C:\\Windows\\cmd.exe"),
        ])
    }

    #[test]
    fn off_by_default_and_prunes_when_asked() {
        let exact = Loader::new().unwrap().load_str(RULE, "r.yml");
        let r = &exact.rules[0];
        assert!(r.is_match(&sec4688()), "exact: sel_image holds on 4688");
        assert!(!r.notes.iter().any(|n| n.contains("skip-impossible")));

        let skip = Loader::new()
            .unwrap()
            .with_skip_impossible_4688(true)
            .load_str(RULE, "r.yml");
        let r = &skip.rules[0];
        assert!(!r.is_match(&sec4688()));
        assert!(r.is_match(&sysmon1()));
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("`sel_parent` needs `ParentCommandLine`")),
            "{:?}",
            r.notes
        );

        // A field only used under `not` does not prune.
        let filter_only = RULE.replace("(sel_parent or sel_image)", "sel_image");
        let set = Loader::new()
            .unwrap()
            .with_skip_impossible_4688(true)
            .load_str(&filter_only, "r.yml");
        assert!(set.rules[0].is_match(&sec4688()));
    }
}
