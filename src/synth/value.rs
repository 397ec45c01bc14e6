//! Typed BinXml substitution values: their wire encoding and the text a reader renders.
//!
//! The text form follows what the `evtx` crate (and Windows' own XML rendering) prints, so a
//! value written from its canonical text reads back as the same text: GUIDs as lowercase
//! `{xxxxxxxx-…}`, hex integers as `0x…` lowercase without padding, SIDs as `S-1-…`.

use super::SynthError;

/// BinXml value type codes (libyal "Value types", MS-EVEN6 §2.2.12).
pub mod ty {
    pub const NULL: u8 = 0x00;
    pub const STRING: u8 = 0x01;
    pub const UINT8: u8 = 0x04;
    pub const UINT16: u8 = 0x06;
    pub const UINT32: u8 = 0x08;
    pub const UINT64: u8 = 0x0a;
    pub const BOOL: u8 = 0x0d;
    pub const GUID: u8 = 0x0f;
    pub const FILETIME: u8 = 0x11;
    pub const SID: u8 = 0x13;
    pub const HEXINT32: u8 = 0x14;
    pub const HEXINT64: u8 = 0x15;
}

/// One substitution value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataValue {
    /// No value: the element is written empty (readers report it as null/absent).
    Null,
    Str(String),
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    Bool(bool),
    HexI32(u32),
    HexI64(u64),
    /// A GUID in its 16-byte on-disk layout (first three groups little-endian).
    Guid([u8; 16]),
    /// Ticks of 100 ns since 1601-01-01 UTC.
    FileTime(u64),
    /// A SID in its binary layout.
    Sid(Vec<u8>),
}

impl DataValue {
    /// The BinXml type code.
    pub fn type_code(&self) -> u8 {
        match self {
            DataValue::Null => ty::NULL,
            DataValue::Str(_) => ty::STRING,
            DataValue::U8(_) => ty::UINT8,
            DataValue::U16(_) => ty::UINT16,
            DataValue::U32(_) => ty::UINT32,
            DataValue::U64(_) => ty::UINT64,
            DataValue::Bool(_) => ty::BOOL,
            DataValue::HexI32(_) => ty::HEXINT32,
            DataValue::HexI64(_) => ty::HEXINT64,
            DataValue::Guid(_) => ty::GUID,
            DataValue::FileTime(_) => ty::FILETIME,
            DataValue::Sid(_) => ty::SID,
        }
    }

    /// Appends the value bytes (no descriptor) to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            DataValue::Null => {}
            DataValue::Str(s) => {
                for unit in s.encode_utf16() {
                    out.extend_from_slice(&unit.to_le_bytes());
                }
            }
            DataValue::U8(v) => out.push(*v),
            DataValue::U16(v) => out.extend_from_slice(&v.to_le_bytes()),
            DataValue::U32(v) | DataValue::HexI32(v) => out.extend_from_slice(&v.to_le_bytes()),
            DataValue::U64(v) | DataValue::HexI64(v) | DataValue::FileTime(v) => {
                out.extend_from_slice(&v.to_le_bytes())
            }
            DataValue::Bool(b) => out.extend_from_slice(&u32::from(*b).to_le_bytes()),
            DataValue::Guid(g) => out.extend_from_slice(g),
            DataValue::Sid(s) => out.extend_from_slice(s),
        }
    }

    /// The encoded size in bytes; substitution descriptors hold it as a u16.
    pub fn encoded_len(&self) -> usize {
        match self {
            DataValue::Null => 0,
            DataValue::Str(s) => s.encode_utf16().count() * 2,
            DataValue::U8(_) => 1,
            DataValue::U16(_) => 2,
            DataValue::U32(_) | DataValue::HexI32(_) | DataValue::Bool(_) => 4,
            DataValue::U64(_) | DataValue::HexI64(_) | DataValue::FileTime(_) => 8,
            DataValue::Guid(_) => 16,
            DataValue::Sid(s) => s.len(),
        }
    }

    /// The text a reader renders for this value (`None` for `Null`).
    pub fn to_text(&self) -> Option<String> {
        Some(match self {
            DataValue::Null => return None,
            DataValue::Str(s) => s.clone(),
            DataValue::U8(v) => v.to_string(),
            DataValue::U16(v) => v.to_string(),
            DataValue::U32(v) => v.to_string(),
            DataValue::U64(v) => v.to_string(),
            DataValue::Bool(b) => b.to_string(),
            DataValue::HexI32(v) => format!("0x{v:x}"),
            DataValue::HexI64(v) => format!("0x{v:x}"),
            DataValue::Guid(g) => guid_text(g),
            DataValue::FileTime(t) => filetime_text(*t),
            DataValue::Sid(s) => sid_text(s)?,
        })
    }
}

/// FILETIME ticks between 1601-01-01 and 1970-01-01.
const FILETIME_UNIX_EPOCH: i128 = 116_444_736_000_000_000;

/// Converts a timestamp to FILETIME ticks; times before 1601 are rejected.
pub fn filetime_from(ts: jiff::Timestamp) -> Result<u64, SynthError> {
    let ticks = ts.as_nanosecond().div_euclid(100) + FILETIME_UNIX_EPOCH;
    u64::try_from(ticks).map_err(|_| SynthError::Invalid(format!("time {ts} is before 1601")))
}

/// Renders FILETIME ticks the way the `evtx` crate does (`2024-03-12T09:14:05.1234567Z`).
pub fn filetime_text(ticks: u64) -> String {
    let nanos = (i128::from(ticks) - FILETIME_UNIX_EPOCH) * 100;
    match jiff::Timestamp::from_nanosecond(nanos) {
        Ok(ts) => format!("{}", ts.strftime("%Y-%m-%dT%H:%M:%S.%7fZ")),
        Err(_) => ticks.to_string(),
    }
}

/// Parses `{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}` (braces optional) into on-disk layout.
pub fn parse_guid(text: &str) -> Option<[u8; 16]> {
    let t = text.trim();
    let t = t
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(t);
    let groups: Vec<&str> = t.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    if groups.len() != 5 || groups.iter().zip(lens).any(|(g, n)| g.len() != n) {
        return None;
    }
    let hex: String = groups.concat();
    let mut raw = [0u8; 16];
    for (i, b) in raw.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    // Data1..Data3 are stored little-endian, Data4 as bytes.
    raw[0..4].reverse();
    raw[4..6].reverse();
    raw[6..8].reverse();
    Some(raw)
}

/// Renders an on-disk GUID as Windows does: lowercase, with braces.
pub fn guid_text(g: &[u8; 16]) -> String {
    let d1 = u32::from_le_bytes([g[0], g[1], g[2], g[3]]);
    let d2 = u16::from_le_bytes([g[4], g[5]]);
    let d3 = u16::from_le_bytes([g[6], g[7]]);
    let tail: String = g[8..].iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{{{d1:08x}-{d2:04x}-{d3:04x}-{}-{}}}",
        &tail[..4],
        &tail[4..]
    )
}

/// Parses `S-1-<authority>-<sub>…` into the binary SID layout.
pub fn parse_sid(text: &str) -> Option<Vec<u8>> {
    let mut parts = text.trim().split('-');
    if !parts.next()?.eq_ignore_ascii_case("S") {
        return None;
    }
    let revision: u8 = parts.next()?.parse().ok()?;
    let authority: u64 = parts.next()?.parse().ok()?;
    if authority >= 1 << 48 {
        return None;
    }
    let subs: Vec<u32> = parts.map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let count = u8::try_from(subs.len()).ok().filter(|c| *c <= 15)?;
    let mut out = vec![revision, count];
    out.extend_from_slice(&authority.to_be_bytes()[2..]);
    for s in subs {
        out.extend_from_slice(&s.to_le_bytes());
    }
    Some(out)
}

/// Renders a binary SID as `S-1-5-…`.
pub fn sid_text(sid: &[u8]) -> Option<String> {
    let (&revision, rest) = sid.split_first()?;
    let (&count, rest) = rest.split_first()?;
    let auth = rest.get(..6)?;
    let mut authority = [0u8; 8];
    authority[2..].copy_from_slice(auth);
    let mut text = format!("S-{revision}-{}", u64::from_be_bytes(authority));
    let subs = rest.get(6..6 + usize::from(count) * 4)?;
    for chunk in subs.chunks_exact(4) {
        let v = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        text.push_str(&format!("-{v}"));
    }
    Some(text)
}

/// Parses `0x…` hex (as written in logs) into a number.
pub fn parse_hex(text: &str) -> Option<u64> {
    let digits = text.strip_prefix("0x")?;
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    u64::from_str_radix(digits, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_round_trips_in_windows_layout() {
        let text = "{54849625-5478-4994-a5ba-3e3b0328c30d}";
        let raw = parse_guid(text).expect("guid");
        assert_eq!(&raw[..4], &[0x25, 0x96, 0x84, 0x54]);
        assert_eq!(guid_text(&raw), text);
    }

    #[test]
    fn sid_round_trips() {
        for text in [
            "S-1-5-18",
            "S-1-5-21-3623811015-3361044348-30300820-1013",
            "S-1-16-12288",
        ] {
            let raw = parse_sid(text).expect("sid");
            assert_eq!(sid_text(&raw).as_deref(), Some(text));
        }
        assert!(parse_sid("-").is_none());
    }

    #[test]
    fn filetime_renders_seven_digits() {
        let ts: jiff::Timestamp = "2024-03-12T09:14:05.123Z".parse().expect("ts");
        let ft = filetime_from(ts).expect("ft");
        assert_eq!(filetime_text(ft), "2024-03-12T09:14:05.1230000Z");
    }
}
