//! Markdown that log text cannot break. Event values are attacker-controlled: a `|` would end
//! a table cell, a newline the table, a backtick or `*` would start formatting, `<script>` or
//! `&lt;` would be HTML, `$` math on GitHub. Every piece of log text goes through [`text`] (or,
//! inside a fenced block, [`code_block`]); the report's own words and numbers do not need to.

/// Longest log value written in a table cell or list item, in characters.
pub const CELL_MAX: usize = 300;

/// Log text for inline use (a table cell, a list item, a heading): control and invisible
/// characters escaped as the terminal shows them (`\n`, `\u{1b}`), HTML-significant characters
/// as entities, Markdown punctuation backslash-escaped, cut to `max` characters.
pub fn text_max(s: &str, max: usize) -> String {
    let shown = crate::sanitize::for_terminal(s);
    let mut out = String::with_capacity(shown.len() + 8);
    for (n, c) in shown.chars().enumerate() {
        if n == max {
            out.push('…');
            break;
        }
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '$' | '#' | '!' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// [`text_max`] at [`CELL_MAX`].
pub fn text(s: &str) -> String {
    text_max(s, CELL_MAX)
}

/// A fenced code block of log text, one line per entry (a process tree): each line's controls
/// escaped (a newline inside one stays `\n`), and a fence longer than any run of backticks
/// inside, so no line of it can close the block early.
pub fn code_block<S: AsRef<str>>(lines: &[S]) -> String {
    let lines: Vec<String> = (lines.iter())
        .map(|l| crate::sanitize::for_terminal(l.as_ref()))
        .collect();
    let longest = (lines.iter())
        .flat_map(|l| l.split(|c| c != '`'))
        .map(str::len)
        .max()
        .unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}text\n{}\n{fence}\n", lines.join("\n"))
}

/// A table: a header row, a separator, one row per entry; cells are written as given, so log
/// text in them must already have gone through [`text`].
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    out.push_str(&row(header.iter().copied()));
    out.push_str(&row(header.iter().map(|_| "---")));
    for r in rows {
        out.push_str(&row(r.iter().map(String::as_str)));
    }
    out
}

fn row<'a>(cells: impl Iterator<Item = &'a str>) -> String {
    let mut line = String::from("|");
    for c in cells {
        line.push(' ');
        line.push_str(if c.is_empty() { " " } else { c });
        line.push_str(" |");
    }
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_text_cannot_leave_its_cell() {
        let hostile = "a|b\nc\u{1b}[2J`x`<script>&lt;*y*";
        let cell = text(hostile);
        assert!(!cell.contains('\n') && !cell.contains('\u{1b}'), "{cell}");
        assert!(!cell.contains('<') && !cell.contains('>'), "{cell}");
        // Every `|` and backtick is escaped.
        assert_eq!(cell.matches('|').count(), cell.matches("\\|").count());
        assert_eq!(cell.matches('`').count(), cell.matches("\\`").count());
        assert!(cell.contains("&amp;lt;"), "{cell}");
        assert_eq!(text_max("abcdef", 3), "abc…");
    }

    #[test]
    fn a_code_block_outlasts_any_fence_inside_it() {
        let block = code_block(&["cmd.exe /c ```` echo", "next\nline"]);
        assert!(block.starts_with("`````text\n"), "{block}");
        assert!(block.ends_with("\n`````\n"), "{block}");
        assert!(block.contains("echo\nnext\\nline\n"), "{block}");
    }
}
