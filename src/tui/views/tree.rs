//! The process tree: one line per process, siblings joined by `├─`, the last by `└─`, with `│`
//! carrying an ancestor's line past its subtree. A parent known only from its children is
//! drawn as such ("creation not in case").

use super::clean;
use super::small_screens::{list_block, selected};
use crate::proctree::guides;
use crate::tui::app::TreeView;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn draw(f: &mut Frame, t: &TreeView, theme: &Theme, area: Rect) {
    let page = usize::from(area.height.saturating_sub(1));
    let offset = t.sel.saturating_sub(page.saturating_sub(1));
    let guides = guides(&t.tree.lines);
    let mut lines = Vec::new();
    for (pos, &(_, idx)) in t.tree.lines.iter().enumerate().skip(offset).take(page) {
        let n = &t.tree.nodes[idx];
        let name = n.image.rsplit('\\').next().unwrap_or(&n.image);
        let name = if name.is_empty() { "(unnamed)" } else { name };
        let marks = t.marks.get(idx).copied().unwrap_or(0);
        let style = if pos == t.tree.focus {
            theme.header
        } else {
            theme.base
        };
        let mut spans = vec![
            Span::raw(guides[pos].clone()),
            Span::styled(clean(name, 40), style),
        ];
        let pid = n.pid.map_or_else(|| "?".into(), |p| p.to_string());
        let user = match clean(&n.user, 30) {
            u if u.is_empty() => u,
            u => format!("{u}  "),
        };
        spans.push(Span::styled(format!("  pid {pid}  {user}"), theme.dim));
        if n.inferred {
            spans.push(Span::styled("creation not in case  ", theme.matched_field));
        }
        if marks > 0 {
            spans.push(Span::styled(
                format!("[{marks} hit{}] ", if marks == 1 { "" } else { "s" }),
                theme.mark,
            ));
        }
        // An inferred parent's command line is unknown (4688) or told by its children
        // (Sysmon's ParentCommandLine); else its path says where it ran from.
        let cmd = if n.cmdline.is_empty() {
            &n.image
        } else {
            &n.cmdline
        };
        spans.push(Span::raw(clean(cmd, 160)));
        lines.push(selected(Line::from(spans), pos == t.sel, theme));
    }
    let computer = (t.tree.nodes.first())
        .map(|n| n.computer.clone())
        .unwrap_or_default();
    let mut title = format!(
        " Process tree on {} · {} processes ",
        clean(&computer, 40),
        t.tree.nodes.len()
    );
    if let Some(p) = &t.tree.missing_parent {
        let root_inferred = (t.tree.lines.first()).is_some_and(|&(_, i)| t.tree.nodes[i].inferred);
        let what = if root_inferred {
            "known from its children"
        } else {
            "not in case"
        };
        title.push_str(&format!("· parent {} {what} ", clean(p, 40)));
    }
    f.render_widget(Paragraph::new(lines).block(list_block(title, theme)), area);
}
