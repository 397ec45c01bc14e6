//! Making log content safe to print: event values are attacker-controlled, so control
//! characters (ESC, CR, BEL, …) are shown escaped and never reach the terminal as such, and
//! neither do the invisible characters that change how text reads (bidirectional overrides
//! that show `invoice\u{202e}gpj.exe` as `invoiceexe.jpg`, zero-width characters).

/// Characters shown escaped: controls, and the invisible formatting characters that make
/// text read other than it is.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061c}' // Arabic letter mark
            | '\u{200b}'..='\u{200f}' // zero-width space/joiners, left-to-right/right-to-left marks
            | '\u{202a}'..='\u{202e}' // bidirectional embeddings and overrides
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}' // bidirectional isolates
            | '\u{feff}' // zero-width no-break space
        )
}

/// `s` with every control or invisible formatting character replaced by its escaped form
/// (`\u{1b}`, `\r`, `\n`, `\u{202e}`).
pub fn for_terminal(s: &str) -> String {
    if !s.chars().any(hidden) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if hidden(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A CSV cell as written: a value that a spreadsheet would run as a formula (it starts with
/// `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`, as OWASP advises; log
/// values are attacker-controlled and analysts open these files in spreadsheets.
pub fn csv_cell(s: &str) -> std::borrow::Cow<'_, str> {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}").into(),
        _ => s.into(),
    }
}

/// A CSV cell of log content: [`for_terminal`] (the file is often printed or piped) then
/// [`csv_cell`]. The event's JSON column needs neither: JSON escapes controls, starts with `{`.
pub fn csv_text(s: &str) -> String {
    csv_cell(&for_terminal(s)).into_owned()
}

/// JSON text with the invisible formatting characters written as `\uXXXX` escapes: the same
/// JSON value, but printed it reads as it is. (serde_json already escapes controls.)
pub fn json_text(json: String) -> String {
    if !json.chars().any(hidden) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if hidden(c) && !c.is_control() {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_control_characters() {
        assert_eq!(super::for_terminal("a\u{1b}[2Jb\r\n"), "a\\u{1b}[2Jb\\r\\n");
        assert_eq!(super::for_terminal("plain ü"), "plain ü");
        assert_eq!(
            super::for_terminal("invoice\u{202e}gpj.exe"),
            "invoice\\u{202e}gpj.exe"
        );
        assert_eq!(super::for_terminal("a\u{200b}b"), "a\\u{200b}b");
    }

    #[test]
    fn json_text_escapes_invisible_characters_and_keeps_the_value() {
        let json = serde_json::json!({"Image": "a\u{202e}gpj.exe"}).to_string();
        let shown = super::json_text(json.clone());
        assert!(
            !shown.contains('\u{202e}') && shown.contains("\\u202e"),
            "{shown}"
        );
        let back: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(back.to_string(), json);
    }

    #[test]
    fn csv_cells_that_a_spreadsheet_would_run_are_quoted() {
        assert_eq!(super::csv_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(super::csv_cell("@SUM(1)"), "'@SUM(1)");
        assert_eq!(super::csv_cell("C:\\a=b"), "C:\\a=b");
        assert_eq!(super::csv_cell(""), "");
    }
}
