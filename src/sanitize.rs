//! Making log content safe to print: event values are attacker-controlled, so control
//! characters (ESC, CR, BEL, …) are shown escaped and never reach the terminal as such.

/// `s` with every control character replaced by its escaped form (`\u{1b}`, `\r`, `\n`).
pub fn for_terminal(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
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
    }
}
