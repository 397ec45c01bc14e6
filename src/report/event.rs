//! One event in detail, as Markdown: where it was recorded, its key fields, why it matched its
//! rule and its process tree as indented text. The report's "Detections in detail" lists hits
//! with it; any list of events (bookmarks) can.

use super::markdown::{code_block, table, text, text_max};
use super::why::WhyMatched;
use crate::sigma::CompiledRule;
use crate::store::{EventRef, EventStore, StoreError};
use std::collections::HashMap;

/// Longest key field value written, in characters (command lines and scripts are long).
const VALUE_MAX: usize = 1000;
/// Longest command line in a process tree line.
const TREE_CMD_MAX: usize = 200;

/// Writes event sections for one store, reading its source files' names once.
pub struct EventSections<'a> {
    store: &'a dyn EventStore,
    paths: HashMap<u64, String>,
}

impl<'a> EventSections<'a> {
    pub fn new(store: &'a dyn EventStore) -> Result<EventSections<'a>, StoreError> {
        let paths = crate::store::first_paths(&store.sources()?);
        Ok(EventSections { store, paths })
    }

    /// The section of event `r`: a `###` heading (the rule's title when it is a hit, else what
    /// the event is), where and when it was recorded, its key fields, why it matched `rule`
    /// (when given and it matches) and its process tree (when it is, or names, a process).
    pub fn section(&self, r: EventRef, rule: Option<&CompiledRule>) -> Result<String, StoreError> {
        let (ev, file) = self.store.event(r)?;
        let when = ev
            .timestamp()
            .map_or_else(|| "-".into(), crate::event::format_timestamp);
        let what = match rule {
            Some(rule) => rule.title().to_owned(),
            None => format!("{} {}", ev.channel(), ev.event_id().unwrap_or_default()),
        };
        let mut out = format!(
            "### {} — {} on {}\n\n",
            text(&what),
            text(&when),
            text(ev.computer())
        );
        let num = |n: Option<u64>| n.map_or_else(|| "-".into(), |n| n.to_string());
        out.push_str(&table(
            &["Time", "Computer", "Channel", "EventID", "Record", "File"],
            &[vec![
                text(&when),
                text(ev.computer()),
                text(ev.channel()),
                num(ev.event_id()),
                num(ev.record_id()),
                text(self.paths.get(&file).map_or("", String::as_str)),
            ]],
        ));
        let key = ev.key_fields();
        if !key.is_empty() {
            out.push_str("\n**Key fields**\n\n");
            let rows: Vec<Vec<String>> = (key.iter())
                .map(|(name, value)| vec![text(name), text_max(value, VALUE_MAX)])
                .collect();
            out.push_str(&table(&["Field", "Value"], &rows));
        }
        if let Some(rule) = rule
            && let Some(m) = rule.matches(&ev)
        {
            out.push('\n');
            out.push_str(&why_matched(&WhyMatched::new(&rule.meta, &m), rule));
        }
        if let Some(tree) = crate::proctree::build(self.store, r, &ev)? {
            out.push_str("\n**Process tree**\n\n");
            out.push_str(&code_block(&tree_lines(&tree)));
        }
        Ok(out)
    }
}

/// The section of one event (see [`EventSections::section`]), for a caller writing few.
pub fn event_section(
    store: &dyn EventStore,
    r: EventRef,
    rule: Option<&CompiledRule>,
) -> Result<String, StoreError> {
    EventSections::new(store)?.section(r, rule)
}

/// "Why it matched" as a Markdown paragraph and list.
fn why_matched(w: &WhyMatched, rule: &CompiledRule) -> String {
    let level = rule.meta.level_text().unwrap_or("no level");
    let mut out = format!(
        "**Why it matched**: {} ({}) — true selections: {}\n\n",
        text(&w.rule),
        text(level),
        text(&w.selections)
    );
    for f in &w.fields {
        out.push_str(&format!(
            "- {} {} ← {} = {}\n",
            text(&f.rule_field),
            text(&f.pattern),
            text(&f.event_field),
            text_max(&f.value, VALUE_MAX)
        ));
    }
    if !w.attack.is_empty() {
        out.push_str(&format!("- ATT&CK: {}\n", text(&w.attack)));
    }
    if !w.mapped.is_empty() {
        out.push_str(&format!("- mapped fields: {}\n", text(&w.mapped)));
    }
    out
}

/// The tree as indented lines: each process's image, PID, user and command line, the event's
/// own process marked `◀`.
pub fn tree_lines(tree: &crate::proctree::ProcTree) -> Vec<String> {
    let guides = crate::proctree::guides(&tree.lines);
    (tree.lines.iter().enumerate())
        .map(|(pos, &(_, idx))| {
            let n = &tree.nodes[idx];
            let name = n.image.rsplit('\\').next().unwrap_or(&n.image);
            let name = if name.is_empty() { "(unnamed)" } else { name };
            let pid = n.pid.map_or_else(|| "?".into(), |p| p.to_string());
            let mut line = format!("{}{name}  pid {pid}", guides[pos]);
            if !n.user.is_empty() {
                line.push_str(&format!("  {}", n.user));
            }
            if n.inferred {
                line.push_str("  (creation not in case)");
            }
            let cmd = if n.cmdline.is_empty() {
                &n.image
            } else {
                &n.cmdline
            };
            let cut: String = cmd.chars().take(TREE_CMD_MAX).collect();
            line.push_str(&format!("  {cut}"));
            if cmd.chars().count() > TREE_CMD_MAX {
                line.push('…');
            }
            if pos == tree.focus {
                line.push_str("  ◀ this event");
            }
            line
        })
        .collect()
}
