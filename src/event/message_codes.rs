//! Windows writes some Security event fields as message-table codes (`%%1833`,
//! `%%1538 %%1541`) that its viewer replaces by text. The table is our data file
//! (`rules/mappings/message-codes.tsv`); a code it lacks is left as it is.

use std::collections::HashMap;
use std::sync::OnceLock;

const TABLE: &str = include_str!("../../rules/mappings/message-codes.tsv");

fn table() -> &'static HashMap<u32, &'static str> {
    static PARSED: OnceLock<HashMap<u32, &'static str>> = OnceLock::new();
    PARSED.get_or_init(|| {
        (TABLE.lines())
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let (code, text) = l.split_once('\t')?;
                Some((code.trim().parse().ok()?, text.trim()))
            })
            .collect()
    })
}

/// The text of a value made only of message codes (`%%1538 %%1541` → `READ_CONTROL,
/// SYNCHRONIZE`); `None` when the value holds anything else or a code the table lacks.
pub fn message_text(value: &str) -> Option<String> {
    let codes: Vec<&str> = value.split_whitespace().collect();
    if codes.is_empty() {
        return None;
    }
    let texts = codes
        .iter()
        .map(|c| table().get(&c.strip_prefix("%%")?.parse().ok()?).copied())
        .collect::<Option<Vec<&str>>>()?;
    Some(texts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::message_text;

    #[test]
    fn codes_read_as_their_text_and_anything_else_is_left() {
        assert_eq!(message_text("%%1833").as_deref(), Some("Impersonation"));
        assert_eq!(
            message_text("%%1538 %%1541 %%4416").as_deref(),
            Some("READ_CONTROL, SYNCHRONIZE, ReadData (or ListDirectory)")
        );
        assert_eq!(
            message_text("%%1937").as_deref(),
            Some("TokenElevationTypeFull (2)")
        );
        assert_eq!(message_text("%%9999"), None);
        assert_eq!(message_text("0x1"), None);
        assert_eq!(message_text(""), None);
    }
}
