//! Event detail: every field, the matched ones highlighted, the true selections named, and for
//! mapped events (4688) which Sigma fields read which event fields.

use super::clean;
use crate::tui::app::{App, Detail};
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

pub fn draw(f: &mut Frame, app: &App, d: &Detail, theme: &Theme, area: Rect) {
    let Some(event) = &d.event else {
        f.render_widget(
            Paragraph::new("loading event…").style(theme.get("dim")),
            area,
        );
        return;
    };
    let why_lines = d.matched.as_ref().map_or(0, |m| {
        2 + m.fields.len().min(6) + usize::from(!m.mapped.is_empty())
    });
    let [why, fields] =
        Layout::vertical([Constraint::Length(why_lines as u16), Constraint::Min(1)]).areas(area);
    if let Some(m) = &d.matched {
        let rule = d
            .rule
            .and_then(|i| app.rules.get(i))
            .map(|r| r.rule.meta.title.clone())
            .unwrap_or_default();
        let mut lines = vec![Line::from(vec![
            Span::styled(" why it matched: ", theme.get("header")),
            Span::raw(clean(&rule, 60)),
            Span::raw(" — true selections: "),
            Span::styled(m.identifiers.join(", "), theme.get("matched_field")),
        ])];
        for fm in m.fields.iter().take(6) {
            lines.push(Line::from(vec![
                Span::raw("   "),
                Span::styled(clean(&fm.rule_field, 40), theme.get("matched_field")),
                Span::raw(format!(" {} ", clean(&fm.pattern, 40))),
                Span::styled("← ", theme.get("dim")),
                Span::raw(format!("{} = ", fm.event_field)),
                Span::styled(clean(&fm.value, 80), theme.get("matched")),
            ]));
        }
        if !m.mapped.is_empty() {
            let map: Vec<String> = m.mapped.iter().map(|(s, e)| format!("{s} → {e}")).collect();
            lines.push(Line::from(vec![
                Span::styled("   mapped fields: ", theme.get("header")),
                Span::raw(map.join(", ")),
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
    let offset = d.sel.saturating_sub(page.saturating_sub(1));
    let lines: Vec<Line> = event
        .fields
        .iter()
        .enumerate()
        .skip(offset)
        .take(page)
        .map(|(i, (name, value))| {
            let hit = d.matched.as_ref().is_some_and(|m| {
                m.fields
                    .iter()
                    .any(|fm| fm.event_field.eq_ignore_ascii_case(name))
            });
            let text = value.strings().collect::<Vec<_>>().join(" | ");
            let (ns, vs) = if hit {
                (theme.get("matched_field"), theme.get("matched"))
            } else {
                (theme.get("dim"), theme.get("base"))
            };
            let mut line = Line::from(vec![
                Span::styled(
                    format!(
                        " {}{:<name_w$} ",
                        if hit { "▶" } else { " " },
                        clean(name, name_w)
                    ),
                    ns,
                ),
                Span::styled(clean(&text, 400), vs),
            ]);
            if i == d.sel {
                line = line.style(theme.get("selected"));
            }
            line
        })
        .collect();
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
