//! The analyst's part of the report: each bookmark (in time order) with its note and tags,
//! then its event in detail (key fields, why it matched, process tree), and the case note.

use super::markdown::{code_block, text};
use super::{EventSections, Input, RuleState};
use crate::bookmarks::{Bookmark, Bookmarks};
use crate::sigma::CompiledRule;
use crate::store::{EventRef, StoreError};
use std::fmt::Write;

/// The "Bookmarks" and "Case note" sections.
pub fn sections(out: &mut String, input: &Input<'_>) -> Result<(), StoreError> {
    out.push_str("## Bookmarks\n\n");
    match Bookmarks::load(input.case_dir) {
        Ok((marks, warnings)) => {
            for w in &warnings {
                let _ = writeln!(out, "> Warning: {}\n", text(w));
            }
            listed(out, input, &marks)?;
        }
        Err(e) => {
            let _ = writeln!(
                out,
                "The bookmarks could not be read: {}.\n",
                text(&e.to_string())
            );
        }
    }
    match crate::bookmarks::case_note(input.case_dir) {
        Ok(note) if note.trim().is_empty() => {}
        // The analyst's words, shown as written: in a fenced block, since a note may quote
        // log text.
        Ok(note) => {
            out.push_str("## Case note\n\n");
            out.push_str(&code_block(&note.lines().collect::<Vec<_>>()));
            out.push('\n');
        }
        Err(e) => {
            let _ = writeln!(
                out,
                "## Case note\n\nThe case note could not be read: {}.\n",
                text(&e.to_string())
            );
        }
    }
    Ok(())
}

fn listed(out: &mut String, input: &Input<'_>, marks: &Bookmarks) -> Result<(), StoreError> {
    let found = marks.resolve_all(input.store)?;
    if found.is_empty() {
        out.push_str("No bookmarks.\n\n");
        return Ok(());
    }
    let _ = writeln!(out, "{} bookmark(s), in time order.\n", found.len());
    let sections = EventSections::new(input.store)?;
    for (mark, r) in found {
        let Some(r) = r else {
            let _ = writeln!(
                out,
                "### {} — not in the case\n",
                text(&format!(
                    "{} {}",
                    mark.event.time.as_deref().unwrap_or("-"),
                    mark.event.computer
                ))
            );
            note(out, mark);
            let _ = writeln!(out, "{}\n", text(&mark.summary));
            continue;
        };
        let section = sections.section(r, rule_of(input, mark, r))?;
        // The note goes right under the event's heading.
        let (heading, rest) = section.split_once("\n\n").unwrap_or((&section, ""));
        out.push_str(heading);
        out.push_str("\n\n");
        note(out, mark);
        out.push_str(rest);
        out.push('\n');
    }
    Ok(())
}

fn note(out: &mut String, mark: &Bookmark) {
    if !mark.note.is_empty() {
        let _ = writeln!(out, "**Note:** {}\n", text(&mark.note));
    }
    if !mark.tags.is_empty() {
        let tags: Vec<String> = mark.tags.iter().map(|t| text(&format!("#{t}"))).collect();
        let _ = writeln!(out, "**Tags:** {}\n", tags.join(" "));
    }
}

/// The rule the bookmark was made from, else the first alerting rule that hit the event, so
/// the section says why it matched.
fn rule_of<'a>(input: &Input<'a>, mark: &Bookmark, r: EventRef) -> Option<&'a CompiledRule> {
    let named = mark.rule.as_ref().and_then(|want| {
        (input.rules.iter()).find(|run| match &want.id {
            Some(id) => run.rule.id() == Some(id.as_str()),
            None => run.rule.title() == want.title,
        })
    });
    let hit = || {
        (input.rules.iter())
            .find(|run| run.state == RuleState::Alerts && run.hits.binary_search(&r).is_ok())
    };
    named.or_else(hit).map(|run| run.rule)
}
