//! Event detail: every field, the matched ones highlighted, the true selections named, and for
//! mapped events (4688) which Sigma fields read which event fields.

use super::clean;
use crate::report::why::WhyMatched;
use crate::tui::app::{App, Detail};
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

pub fn draw(f: &mut Frame, app: &App, d: &Detail, theme: &Theme, area: Rect) {
    let Some(event) = &d.event else {
        f.render_widget(Paragraph::new("loading event…").style(theme.dim), area);
        return;
    };
    let meta = d.rule.and_then(|i| app.rules.get(i)).map(|r| &r.rule.meta);
    // The words are the report's (`report::why`); the view styles them.
    let explained = d
        .matched
        .as_ref()
        .zip(meta)
        .map(|(m, meta)| WhyMatched::new(meta, m));
    let why_lines = explained.as_ref().map_or(0, |w| {
        2 + w.fields.len().min(6)
            + usize::from(!w.mapped.is_empty())
            + usize::from(!w.attack.is_empty())
    });
    let [why, fields] =
        Layout::vertical([Constraint::Length(why_lines as u16), Constraint::Min(1)]).areas(area);
    if let Some(w) = &explained {
        let mut lines = vec![Line::from(vec![
            Span::styled(" why it matched: ", theme.header),
            Span::raw(clean(&w.rule, 60)),
            Span::raw(" — true selections: "),
            Span::styled(w.selections.clone(), theme.matched_field),
        ])];
        for fm in w.fields.iter().take(6) {
            lines.push(Line::from(vec![
                Span::raw("   "),
                Span::styled(clean(&fm.rule_field, 40), theme.matched_field),
                Span::raw(format!(" {} ", clean(&fm.pattern, 40))),
                Span::styled("← ", theme.dim),
                Span::raw(format!("{} = ", fm.event_field)),
                Span::styled(clean(&fm.value, 80), theme.matched),
            ]));
        }
        if !w.attack.is_empty() {
            lines.push(Line::from(vec![
                Span::styled("   ATT&CK: ", theme.header),
                Span::raw(clean(&w.attack, 160)),
            ]));
        }
        if !w.mapped.is_empty() {
            lines.push(Line::from(vec![
                Span::styled("   mapped fields: ", theme.header),
                Span::raw(w.mapped.clone()),
            ]));
        }
        f.render_widget(
            Paragraph::new(lines).block(Block::default().borders(Borders::TOP)),
            why,
        );
    }
    let name_w = event
        .fields
        .iter()
        .map(|(n, _)| n.len())
        .max()
        .unwrap_or(8)
        .min(28);
    let page = usize::from(fields.height.saturating_sub(1));
    // The selected field's value is shown whole, wrapped (encoded command lines and scripts
    // are long), in at most half the page; the others take a line each.
    let width = usize::from(fields.width).saturating_sub(name_w + 3).max(10);
    let selected: Vec<String> = event.fields.get(d.sel).map_or_else(Vec::new, |(_, v)| {
        let raw = v.strings().collect::<Vec<_>>().join(" | ");
        // Escaped and cut to what fits (a value may be megabytes); the rest is counted.
        let max = width * (page / 2).max(1);
        let head: String = raw.chars().take(max + 1).collect();
        let text = crate::sanitize::for_terminal(&head);
        let copy = app.keymap.key_of(&crate::tui::action::Action::CopyValue);
        let mut lines = wrap(&text, width, (page / 2).max(1), &copy);
        let total = raw.chars().count();
        let shown = width * lines.len().saturating_sub(1);
        if total > max
            && let Some(last) = lines.last_mut()
        {
            *last = format!(
                "… {} more characters ({copy} copies the whole value)",
                total - shown
            );
        }
        lines
    });
    let tall = selected.len().max(1);
    let offset = d.sel.saturating_sub(page.saturating_sub(tall));
    let mut lines: Vec<Line> = Vec::new();
    for (i, (name, value)) in event.fields.iter().enumerate().skip(offset) {
        if lines.len() >= page {
            break;
        }
        let hit = d.matched.as_ref().is_some_and(|m| {
            m.fields
                .iter()
                .any(|fm| fm.event_field.eq_ignore_ascii_case(name))
        });
        let (ns, vs) = if hit {
            (theme.matched_field, theme.matched)
        } else {
            (theme.dim, theme.base)
        };
        let label = format!(
            " {}{:<name_w$} ",
            if hit { "▶" } else { " " },
            clean(name, name_w)
        );
        if i == d.sel {
            for (k, chunk) in selected.iter().enumerate() {
                let head = if k == 0 {
                    label.clone()
                } else {
                    " ".repeat(name_w + 3)
                };
                lines.push(
                    Line::from(vec![
                        Span::styled(head, ns),
                        Span::styled(chunk.clone(), vs),
                    ])
                    .style(theme.selected),
                );
            }
            continue;
        }
        let text = value.strings().collect::<Vec<_>>().join(" | ");
        let mut spans = vec![
            Span::styled(label, ns),
            Span::styled(clean(&text, width), vs),
        ];
        // `%%1833` reads as `%%1833 = Impersonation`, the text Windows' viewer shows.
        if let Some(meaning) = value.as_str().and_then(crate::event::message_text) {
            let room = width.saturating_sub(text.chars().count() + 3);
            spans.push(Span::styled(
                format!(" = {}", clean(&meaning, room)),
                theme.dim,
            ));
        }
        lines.push(Line::from(spans));
    }
    let title = format!(
        " {} fields · {} ",
        event.fields.len(),
        clean(d.file.rsplit(['/', '\\']).next().unwrap_or(&d.file), 60)
    );
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::TOP).title(title)),
        fields,
    );
}

/// `text` cut into lines of `width` characters, at most `max` of them; the last says how much
/// is left when it does not all fit.
fn wrap(text: &str, width: usize, max: usize, copy_key: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<String> = chars.chunks(width).map(|c| c.iter().collect()).collect();
    if out.is_empty() {
        out.push(String::new());
    }
    if out.len() > max {
        let shown = width * (max - 1);
        out.truncate(max - 1);
        out.push(format!(
            "… {} more characters ({copy_key} copies the whole value)",
            chars.len() - shown
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_long_value_wraps_and_says_what_is_left() {
        let text = "x".repeat(25);
        assert_eq!(
            super::wrap(&text, 10, 5, "y"),
            ["x".repeat(10), "x".repeat(10), "x".repeat(5)]
        );
        let cut = super::wrap(&text, 10, 2, "y");
        assert_eq!(cut[0], "x".repeat(10));
        assert_eq!(cut[1], "… 15 more characters (y copies the whole value)");
        assert_eq!(super::wrap("", 10, 2, "y"), [""]);
    }
}
