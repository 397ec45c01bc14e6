//! Smaller screens: progress, stack, overlays, input line, status, help.

use super::clean;
use crate::overlay::Excludes;
use crate::tui::app::{App, InputKind, StackView};
use crate::tui::keymap::Scope;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

pub fn progress(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let text = vec![
        Line::from(""),
        Line::from(Span::styled(
            format!("  Opening case {}", app.case_name),
            theme.title,
        )),
        Line::from(""),
        Line::from(format!(
            "  {}",
            clean(app.progress.as_deref().unwrap_or(""), 200)
        )),
    ];
    f.render_widget(Paragraph::new(text), area);
}

pub(super) fn list_block<'a>(title: String, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::TOP)
        .title(Line::from(title).style(theme.title))
}

pub(super) fn selected(line: Line<'_>, yes: bool, theme: &Theme) -> Line<'static> {
    let line: Line<'static> = Line::from(
        line.spans
            .into_iter()
            .map(|s| Span::styled(s.content.into_owned(), s.style))
            .collect::<Vec<_>>(),
    );
    if yes {
        line.style(theme.selected)
    } else {
        line
    }
}

pub fn stack(f: &mut Frame, s: &StackView, theme: &Theme, area: Rect) {
    let page = usize::from(area.height.saturating_sub(1));
    let offset = s.sel.saturating_sub(page.saturating_sub(1));
    let lines: Vec<Line> = s
        .values
        .iter()
        .enumerate()
        .skip(offset)
        .take(page)
        .map(|(i, (v, n))| {
            selected(
                Line::from(format!(" {n:>7}  {}", clean(v, 200))),
                i == s.sel,
                theme,
            )
        })
        .collect();
    let missing = match s.missing {
        0 => String::new(),
        n => format!(" · {n} without it"),
    };
    let title = format!(
        " {} over {} · {} values{missing} ",
        s.field,
        clean(&s.of, 60),
        s.values.len()
    );
    f.render_widget(Paragraph::new(lines).block(list_block(title, theme)), area);
}

pub fn overlays(f: &mut Frame, app: &App, sel: usize, theme: &Theme, area: Rect) {
    let mut lines = Vec::new();
    for (i, overlay) in app.overlays.iter().enumerate() {
        let name = (overlay.path.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Ours read as "rule: field = value"; any other shape shows its criteria as written.
        let what = match &overlay.excludes {
            Excludes::Value { rule, field, value } => {
                format!("{}: {field} = {value}", clean(rule, 50))
            }
            Excludes::Criteria(criteria) => criteria.clone(),
        };
        // Overlays in the config directory tune every case, not just this one.
        let scope = if app.overlay_is_case_own(&overlay.path) {
            "this case"
        } else {
            "all cases"
        };
        lines.push(selected(
            Line::from(format!(
                " {scope:<9}  {}  ({})",
                clean(&what, 150),
                clean(&name, 50)
            )),
            i == sel,
            theme,
        ));
    }
    if lines.is_empty() {
        lines.push(Line::from(Span::styled(
            " no overlays: mark a value benign (b) on a rule hit",
            theme.dim,
        )));
    }
    let title = format!(
        " Tuning overlays: {}/overlays (this case), then the user's (all cases) ",
        app.case_name
    );
    f.render_widget(Paragraph::new(lines).block(list_block(title, theme)), area);
}

pub fn problems(f: &mut Frame, app: &App, sel: usize, theme: &Theme, area: Rect) {
    let page = usize::from(area.height.saturating_sub(1)).max(1);
    let offset = sel.saturating_sub(page - 1);
    let lines: Vec<Line> = app
        .input_problems
        .iter()
        .enumerate()
        .skip(offset)
        .take(page)
        .map(|(i, p)| {
            let line = Line::from(vec![
                Span::styled(format!(" {:<8} ", p.kind), theme.error),
                // Whole paths (wrapped): a cut one could name several files of a collection.
                Span::raw(format!(
                    "{}: {}",
                    clean(&p.path, 4096),
                    clean(&p.reason, 4096)
                )),
            ]);
            selected(line, i == sel, theme)
        })
        .collect();
    let title = format!(" Input problems · {} ", app.input_problems.len());
    // Wrapped: a reason cut at the screen edge would hide what to fix.
    let list = Paragraph::new(lines).wrap(Wrap { trim: false });
    f.render_widget(list.block(list_block(title, theme)), area);
}

pub fn input(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let Some((kind, buf)) = &app.input else {
        return;
    };
    let label = match kind {
        InputKind::Search => "/",
        InputKind::RuleFilter => "filter rules: ",
        InputKind::SaveSearch => "save search as rule titled: ",
        InputKind::SaveLevel => "its level (informational, low, medium, high, critical): ",
        InputKind::FindField => "go to field: ",
        InputKind::FilterList => "filter this list (query): ",
        InputKind::StackFields => "stack by fields (up to 3, a,b,c): ",
        InputKind::BookmarkNote => "bookmark note (#tag words are tags): ",
    };
    let label_w = cells(label);
    let width = usize::from(area.width);
    // The cursor is at the end: show the tail that fits beside it.
    let shown = Shown::tail(buf, width.saturating_sub(label_w + 1));
    let mut lines = vec![Line::from(vec![
        Span::styled(label, theme.hint_key),
        Span::raw(shown.text.clone()),
        Span::styled("▏", theme.dim),
    ])];
    if let Some(err) = &app.input_error {
        let message = format!("column {}: {}", err.column, clean(&err.message, 200));
        // The caret under the column when that part of the text is on screen, before the
        // message when both fit, else after it; the message alone when the caret cannot fit.
        let caret = shown.cell_of(buf, err.column).map(|x| label_w + x);
        let msg_w = cells(&message);
        let text = match caret {
            Some(x) if x + 2 + msg_w <= width => format!("{}^ {message}", " ".repeat(x)),
            Some(x) if msg_w + 2 <= x && x < width => {
                format!(" {message}{}^", " ".repeat(x - msg_w - 1))
            }
            _ => format!(" {message}"),
        };
        lines.push(Line::from(Span::styled(text, theme.error)));
    }
    f.render_widget(Paragraph::new(lines), area);
}

/// Terminal cells a text takes.
fn cells(s: &str) -> usize {
    Span::raw(s).width()
}

/// The part of an input line on screen: its sanitized text from character `first` on, after
/// `…` when the start is cut.
struct Shown {
    text: String,
    first: usize,
    lead: usize,
}

impl Shown {
    /// The end of `buf` that fits `room` cells.
    fn tail(buf: &str, room: usize) -> Shown {
        let chars: Vec<char> = crate::sanitize::for_terminal(buf).chars().collect();
        let all: String = chars.iter().collect();
        if cells(&all) <= room {
            return Shown {
                text: all,
                first: 0,
                lead: 0,
            };
        }
        let (mut first, mut used) = (chars.len(), 1);
        while first > 0 {
            let w = cells(&chars[first - 1].to_string());
            if used + w > room {
                break;
            }
            used += w;
            first -= 1;
        }
        Shown {
            text: std::iter::once('…')
                .chain(chars[first..].iter().copied())
                .collect(),
            first,
            lead: 1,
        }
    }

    /// The cell (from the start of the text) of 1-based character `column` of `buf`, when on
    /// screen.
    fn cell_of(&self, buf: &str, column: usize) -> Option<usize> {
        let before: String = buf.chars().take(column.saturating_sub(1)).collect();
        let at = crate::sanitize::for_terminal(&before).chars().count();
        let skipped: String = self
            .text
            .chars()
            .skip(self.lead)
            .take(at.checked_sub(self.first)?)
            .collect();
        Some(self.lead + cells(&skipped))
    }
}

pub fn status(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let enabled = app.rules.iter().filter(|r| r.enabled).count();
    // The installed SigmaHQ release's share: `2876/2876 rules (2865 SigmaHQ r2024-12-19)`.
    let installed = (app.installed_rules.as_ref())
        .map(|i| format!(" ({i})"))
        .unwrap_or_default();
    let mut text = if app.ready {
        format!(
            " case {} │ {} events │ {enabled}/{} rules{installed} │ {} hits",
            app.case_name,
            app.events,
            app.rules.len(),
            app.total_hits()
        )
    } else {
        // Counts would read "0 events" while the case is still being opened.
        format!(" case {} │ opening…", app.case_name)
    };
    let feeding = app.feeding_hits();
    if feeding > 0 {
        text.push_str(&format!(" (+{feeding} only feeding correlations)"));
    }
    if let Some(n) = app.events_on_disk.filter(|&n| n != app.events) {
        // Another process ingested into the case (or the remote table grew): this session's
        // lists do not show those.
        text.push_str(&format!(" │ case now {n} events: reopen to include"));
    }
    if !app.input_problems.is_empty() {
        // Stays in the status line: problems with the inputs change what the hunt covers.
        // Folded duplicates are listed with them but are not problems.
        let folded = crate::store::ProblemKind::Folded;
        let n = (app.input_problems.iter())
            .filter(|p| p.kind != folded)
            .count();
        let key = app
            .keymap
            .key_of(&crate::tui::action::Action::InputProblems);
        if n > 0 {
            text.push_str(&format!(
                " │ {n} input problem{} (press {key})",
                if n == 1 { "" } else { "s" }
            ));
        } else {
            text.push_str(&format!(" │ duplicate records folded (press {key})"));
        }
    }
    if !app.busy.is_empty() {
        text.push_str(&format!(
            " │ working: {}",
            app.busy
                .iter()
                .map(|b| b.name())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    f.render_widget(Paragraph::new(text).style(theme.status), area);
}

/// The notes under the help's keys: the parts of each, and what joins them on one line.
const HELP_NOTES: [(&[&str], &str); 2] = [
    (
        &[
            "rule editor: Ctrl-C quits (asks first if edited)",
            "mouse: wheel scrolls, click selects",
        ],
        " · ",
    ),
    (
        &[
            "(n) ↳ X: only feeds correlation X (generate: false),",
            "so its hits are not alerts; ⏎ lists them",
        ],
        " ",
    ),
];

/// The help overlay, generated from the keymap.
pub fn help(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let w = area.width.min(110);
    let h = area.height.saturating_sub(2);
    let rect = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + 1,
        width: w,
        height: h,
    };
    let km = &app.keymap;
    // Wide enough for the longest key list (a keymap.toml may bind several keys).
    let key_width = (km.bindings.iter())
        .map(|b| Span::raw(b.label()).width())
        .max()
        .unwrap_or(0)
        .max(7)
        + 1;
    let mut lines = Vec::new();
    for scope in Scope::ALL {
        lines.push(Line::from(Span::styled(
            format!(" {}", scope.name()),
            theme.header,
        )));
        for b in km.bindings.iter().filter(|b| b.scope == scope) {
            lines.push(Line::from(vec![
                Span::styled(format!("   {:<key_width$}", b.label()), theme.hint_key),
                Span::raw(b.help),
            ]));
        }
    }
    // Notes under both columns, at full width; each note that does not fit a narrow terminal
    // (80 columns) goes on as many lines as it has parts.
    let inner_width = usize::from(rect.width.saturating_sub(2));
    let mut notes = Vec::new();
    for (parts, sep) in HELP_NOTES {
        let joined = format!(" {}", parts.join(sep));
        let texts = if Span::raw(joined.as_str()).width() <= inner_width {
            vec![joined]
        } else {
            parts.iter().map(|p| format!(" {p}")).collect()
        };
        notes.extend(
            texts
                .into_iter()
                .map(|t| Line::from(Span::styled(t, theme.dim))),
        );
    }
    for p in &km.problems {
        notes.push(Line::from(Span::styled(
            format!(" keymap: {}", clean(p, 200)),
            theme.error,
        )));
    }
    f.render_widget(Clear, rect);
    // Two columns, so the whole keymap fits a normal terminal, when both fit side by side
    // (not at 80 columns); else one. Either scrolls on a terminal too low for it.
    let widest = lines.iter().map(Line::width).max().unwrap_or(0);
    let two = usize::from(rect.width.saturating_sub(2)) / 2 > widest;
    let split = if two {
        lines.len().div_ceil(2)
    } else {
        lines.len()
    };
    let rows_free = usize::from(rect.height.saturating_sub(2)).saturating_sub(notes.len());
    let taller = split > rows_free;
    let title = if taller {
        " help (↓/↑ scroll, any other key closes) "
    } else {
        " help (any key closes) "
    };
    let block = Block::default().borders(Borders::ALL).title(title);
    let inner = block.inner(rect);
    f.render_widget(block, rect);
    let [keys, below] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(notes.len() as u16)]).areas(inner);
    f.render_widget(Paragraph::new(notes), below);
    let halves = if two { 50 } else { 100 };
    let [left, right] = Layout::horizontal([
        Constraint::Percentage(halves),
        Constraint::Percentage(100 - halves),
    ])
    .areas(keys);
    let most = split.saturating_sub(usize::from(keys.height)) as u16;
    let scroll = (app.help_scroll.min(most), 0);
    let second = lines.split_off(split);
    f.render_widget(Paragraph::new(lines).scroll(scroll), left);
    f.render_widget(Paragraph::new(second).scroll(scroll), right);
}

#[cfg(test)]
mod tests {
    use super::Shown;

    #[test]
    fn the_input_tail_fits_its_cells_with_wide_and_control_characters() {
        let short = Shown::tail("abc", 10);
        assert_eq!(
            (short.text.as_str(), short.cell_of("abc", 4)),
            ("abc", Some(3))
        );
        // Two cells per ideograph: `…` and `abc` fill 4 cells, `語` would not fit.
        let wide = Shown::tail("日本語abc", 5);
        assert_eq!(wide.text, "…abc");
        assert_eq!(wide.cell_of("日本語abc", 4), Some(1), "at `a`");
        assert_eq!(wide.cell_of("日本語abc", 2), None, "scrolled out");
        // A control character is shown escaped, and columns after it move with it.
        let ctl = Shown::tail("a\u{1b}b", 20);
        assert_eq!(ctl.text, "a\\u{1b}b");
        assert_eq!(ctl.cell_of("a\u{1b}b", 3), Some(7), "at `b`");
    }
}
