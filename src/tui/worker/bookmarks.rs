//! Bookmark and case-note effects: the files in the case directory read and written here,
//! off the UI thread, and each bookmark's event found in the session's view.

use super::Ctx;
use crate::bookmarks::{Bookmark, Bookmarks, RuleRef};
use crate::store::{EventRef, EventStore};
use crate::tui::action::{BookmarkRow, Msg};

/// Every bookmark of the case with its event in `snap` (`None` when the case lacks it).
pub(super) fn load(ctx: &Ctx, snap: &dyn EventStore) -> anyhow::Result<Msg> {
    let (marks, warnings) = Bookmarks::load(&ctx.opts.case_dir)?;
    let rows = (marks.resolve_all(snap)?.into_iter())
        .map(|(mark, r)| BookmarkRow {
            mark: mark.clone(),
            r,
        })
        .collect();
    Ok(Msg::Bookmarks { rows, warnings })
}

/// Bookmarks the event `r`, on disk before this returns.
pub(super) fn add(
    ctx: &Ctx,
    snap: &dyn EventStore,
    r: EventRef,
    rule: Option<RuleRef>,
    note: String,
    tags: Vec<String>,
) -> anyhow::Result<Msg> {
    let (event, _) = snap.event(r)?;
    let mark = Bookmark::new(&event, rule, note, tags);
    let (mut marks, _) = Bookmarks::load(&ctx.opts.case_dir)?;
    marks.add(mark.clone())?;
    Ok(Msg::BookmarkSaved(Box::new(BookmarkRow {
        mark,
        r: Some(r),
    })))
}

/// A bookmark's new note and tags, on disk before this returns.
pub(super) fn edit(ctx: &Ctx, id: &str, note: String, tags: Vec<String>) -> anyhow::Result<Msg> {
    let (mut marks, _) = Bookmarks::load(&ctx.opts.case_dir)?;
    match marks.update(id, note, tags)? {
        // The list keeps the event it found for this bookmark.
        Some(mark) => Ok(Msg::BookmarkSaved(Box::new(BookmarkRow { mark, r: None }))),
        None => Ok(Msg::BookmarkRemoved(id.to_owned())),
    }
}

pub(super) fn remove(ctx: &Ctx, id: &str) -> anyhow::Result<Msg> {
    let (mut marks, _) = Bookmarks::load(&ctx.opts.case_dir)?;
    marks.remove(id)?;
    Ok(Msg::BookmarkRemoved(id.to_owned()))
}

pub(super) fn note(ctx: &Ctx) -> anyhow::Result<Msg> {
    Ok(Msg::CaseNote(crate::bookmarks::case_note(
        &ctx.opts.case_dir,
    )?))
}

/// Writes the note (with a final line end) and says what is on disk.
pub(super) fn save_note(ctx: &Ctx, text: String) -> anyhow::Result<Msg> {
    let file = if text.is_empty() || text.ends_with('\n') {
        text.clone()
    } else {
        format!("{text}\n")
    };
    crate::bookmarks::save_case_note(&ctx.opts.case_dir, &file)?;
    Ok(Msg::CaseNoteSaved(text))
}
