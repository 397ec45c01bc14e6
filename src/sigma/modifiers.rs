//! Detection items: `field|mod|mod: value(s)` → [`Item`] (spec v2.1 modifiers, pySigma rules).
//!
//! Modifiers apply left to right. Value modifiers transform each value (possibly into several
//! variants, ORed); `all` and `neq` act on the whole item. Anything outside the allowlist is an
//! error, so no modifier is ever silently ignored.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ipnet::IpNet;

use super::mapping::{FieldRef, RuleSources};
use super::matcher::{CmpOp, Item, Position, Test, TimePart};
use super::value::{SigmaString, StrMatcher};
use super::yaml::{Kind, Node};
use super::{ErrorKind, SigmaError};

/// Values for `|expand` placeholders (`%name%` → any of the values, in Sigma string syntax).
#[derive(Clone, Debug, Default)]
pub struct Placeholders(pub BTreeMap<String, Vec<String>>);

/// The built-in (empty, documented) placeholder file.
pub const DEFAULT_PLACEHOLDERS: &str = include_str!("../../rules/mappings/placeholders.yml");

impl Placeholders {
    pub fn from_yaml(text: &str) -> Result<Placeholders, SigmaError> {
        let map: Option<BTreeMap<String, Vec<String>>> = serde_saphyr::from_str(text)
            .map_err(|e| SigmaError::new(ErrorKind::Invalid, format!("placeholders: {e}")))?;
        Ok(Placeholders(map.unwrap_or_default()))
    }

    /// Adds or replaces entries by name.
    pub fn extend(&mut self, other: Placeholders) {
        self.0.extend(other.0);
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mod {
    Contains,
    StartsWith,
    EndsWith,
    All,
    Base64,
    Base64Offset,
    Utf16Le,
    Utf16Be,
    Utf16,
    Windash,
    Re,
    ReFlag(char),
    Cidr,
    Exists,
    FieldRef,
    Cmp(CmpOp),
    Cased,
    Neq,
    Expand,
    Time(TimePart),
}

impl Mod {
    fn cmp(self) -> Option<CmpOp> {
        if let Mod::Cmp(op) = self {
            Some(op)
        } else {
            None
        }
    }

    fn time(self) -> Option<TimePart> {
        if let Mod::Time(p) = self {
            Some(p)
        } else {
            None
        }
    }

    fn re_flag(self) -> Option<char> {
        if let Mod::ReFlag(c) = self {
            Some(c)
        } else {
            None
        }
    }
}

/// The first modifier of `mods` that is not in `allowed`.
fn first_outside(mods: &[Mod], allowed: impl Fn(&Mod) -> bool) -> Option<Mod> {
    mods.iter().copied().find(|m| !allowed(m))
}

fn parse_mod(name: &str) -> Option<Mod> {
    Some(match name {
        "contains" => Mod::Contains,
        "startswith" => Mod::StartsWith,
        "endswith" => Mod::EndsWith,
        "all" => Mod::All,
        "base64" => Mod::Base64,
        "base64offset" => Mod::Base64Offset,
        // pySigma only knows `wide`; the spec's `utf16le` is the same encoding.
        "wide" | "utf16le" => Mod::Utf16Le,
        "utf16be" => Mod::Utf16Be,
        "utf16" => Mod::Utf16,
        "windash" => Mod::Windash,
        "re" => Mod::Re,
        "i" | "ignorecase" => Mod::ReFlag('i'),
        "m" | "multiline" => Mod::ReFlag('m'),
        "s" | "dotall" => Mod::ReFlag('s'),
        "cidr" => Mod::Cidr,
        "exists" => Mod::Exists,
        "fieldref" => Mod::FieldRef,
        "gt" => Mod::Cmp(CmpOp::Gt),
        "gte" => Mod::Cmp(CmpOp::Gte),
        "lt" => Mod::Cmp(CmpOp::Lt),
        "lte" => Mod::Cmp(CmpOp::Lte),
        "cased" => Mod::Cased,
        "neq" => Mod::Neq,
        "expand" => Mod::Expand,
        "minute" => Mod::Time(TimePart::Minute),
        "hour" => Mod::Time(TimePart::Hour),
        "day" => Mod::Time(TimePart::Day),
        "week" => Mod::Time(TimePart::Week),
        "month" => Mod::Time(TimePart::Month),
        "year" => Mod::Time(TimePart::Year),
        _ => return None,
    })
}

/// Context for compiling the items of one rule.
pub struct ItemCtx<'a> {
    pub sources: &'a RuleSources,
    pub placeholders: &'a Placeholders,
    pub notes: &'a mut Vec<String>,
}

fn invalid(node: &Node, msg: impl Into<String>) -> SigmaError {
    SigmaError::new(ErrorKind::Invalid, msg).at(node.span)
}

/// Builds the item for `key: value` (key = `field|mods`, or `|mods` / no key for keywords).
pub fn build_item(
    key: Option<&str>,
    value: &Node,
    key_node: Option<&Node>,
    ctx: &mut ItemCtx<'_>,
) -> Result<Item, SigmaError> {
    let at = key_node.unwrap_or(value);
    let mut parts = key.unwrap_or("").split('|');
    let field_name = parts.next().unwrap_or("").trim();
    let mods: Vec<Mod> = parts
        .map(|m| parse_mod(m).ok_or_else(|| invalid(at, format!("unknown modifier `{m}`"))))
        .collect::<Result<_, _>>()?;
    check_order(&mods, at)?;
    let all = mods.contains(&Mod::All);
    let negate = mods.contains(&Mod::Neq);
    let cased = mods.contains(&Mod::Cased);
    let field = (!field_name.is_empty()).then(|| ctx.sources.field(field_name, ctx.notes));
    let label = key.unwrap_or("keywords").to_owned();

    let values: Vec<&Node> = match &value.kind {
        Kind::Seq(items) => items.iter().collect(),
        _ => vec![value],
    };
    if values.is_empty() {
        // `F: []` is `F is null` in pySigma.
        return Ok(Item::new(field, label, vec![Test::Null], all, negate));
    }
    let mut tests = Vec::with_capacity(values.len());
    for v in values {
        if matches!(v.kind, Kind::Seq(_) | Kind::Map(_)) {
            return Err(invalid(v, "a value must be a scalar"));
        }
        tests.push(build_test(field.as_ref(), &mods, cased, v, ctx)?);
    }
    Ok(Item::new(field, label, tests, all, negate))
}

fn check_order(mods: &[Mod], at: &Node) -> Result<(), SigmaError> {
    for (i, m) in mods.iter().enumerate() {
        match m {
            Mod::Re | Mod::Cidr if i != 0 => {
                return Err(invalid(
                    at,
                    format!(
                        "`{}` must be the first modifier",
                        if *m == Mod::Re { "re" } else { "cidr" }
                    ),
                ));
            }
            Mod::ReFlag(c) if !mods.contains(&Mod::Re) => {
                return Err(invalid(at, format!("regex flag `{c}` needs `re`")));
            }
            Mod::Exists if mods.len() != 1 => {
                return Err(invalid(at, "`exists` must be the only modifier"));
            }
            _ => {}
        }
    }
    Ok(())
}

fn build_test(
    field: Option<&FieldRef>,
    mods: &[Mod],
    cased: bool,
    v: &Node,
    ctx: &ItemCtx<'_>,
) -> Result<Test, SigmaError> {
    let first = mods.first().copied();
    if first == Some(Mod::Exists) {
        return match (&v.kind, field) {
            (Kind::Bool(b), Some(_)) => Ok(Test::Exists(*b)),
            (_, None) => Err(invalid(v, "`exists` needs a field")),
            _ => Err(invalid(v, "`exists` takes true or false")),
        };
    }
    if first == Some(Mod::Re) {
        let allowed = |m: &Mod| {
            matches!(
                m,
                Mod::Re
                    | Mod::ReFlag(_)
                    | Mod::Contains
                    | Mod::StartsWith
                    | Mod::EndsWith
                    | Mod::All
                    | Mod::Neq
                    | Mod::Cased
            )
        };
        if let Some(m) = first_outside(mods, allowed) {
            return Err(invalid(v, format!("modifier {m:?} cannot follow `re`")));
        }
        let src = v
            .scalar_text()
            .ok_or_else(|| invalid(v, "`re` needs a string"))?;
        let flags: String = mods.iter().filter_map(|m| m.re_flag()).collect();
        // contains/startswith/endswith add `.*`, a no-op for an unanchored search.
        let full = if flags.is_empty() {
            src.clone()
        } else {
            format!("(?{flags}){src}")
        };
        let re = regex::Regex::new(&full).map_err(|e| invalid(v, format!("invalid regex: {e}")))?;
        return Ok(Test::Regex { re, source: src });
    }
    if first == Some(Mod::Cidr) {
        let text = v
            .as_str()
            .ok_or_else(|| invalid(v, "`cidr` needs a network string"))?;
        let net: IpNet = match text.trim().parse::<IpNet>() {
            Ok(n) => n,
            Err(_) => text
                .trim()
                .parse::<std::net::IpAddr>()
                .map(IpNet::from)
                .map_err(|_| invalid(v, format!("invalid network `{text}`")))?,
        };
        if net.trunc() != net {
            return Err(invalid(v, format!("`{text}` has host bits set")));
        }
        return Ok(Test::Cidr(net));
    }
    let cmp = mods.iter().find_map(|m| m.cmp());
    if let Some(part) = mods.iter().find_map(|m| m.time()) {
        let n = number(v).ok_or_else(|| invalid(v, "a time-part modifier needs a number"))?;
        let op = cmp.unwrap_or(CmpOp::Eq);
        return Ok(Test::TimePart { part, op, n });
    }
    if let Some(op) = cmp {
        let n = number(v).ok_or_else(|| {
            invalid(
                v,
                format!("`{}` needs a YAML number, not a string", op.symbol()),
            )
        })?;
        return Ok(Test::Cmp(op, n));
    }
    if mods.contains(&Mod::FieldRef) {
        let name = v
            .as_str()
            .ok_or_else(|| invalid(v, "`fieldref` needs a field name"))?;
        if field.is_none() {
            return Err(invalid(v, "`fieldref` needs a field"));
        }
        let pos = if mods.contains(&Mod::Contains) {
            Position::Contains
        } else if mods.contains(&Mod::StartsWith) {
            Position::Prefix
        } else if mods.contains(&Mod::EndsWith) {
            Position::Suffix
        } else {
            Position::Equal
        };
        return Ok(Test::FieldRef {
            other: ctx.sources.field(name, &mut Vec::new()),
            pos,
            cased,
        });
    }
    string_test(field, mods, cased, v, ctx)
}

/// A YAML number (int or float) as `f64`; strings are not numbers here.
pub(crate) fn number(v: &Node) -> Option<f64> {
    match &v.kind {
        Kind::Int(i) => Some(*i as f64),
        Kind::Float(f) => f.parse().ok(),
        _ => None,
    }
}

enum Stage {
    Str(Vec<SigmaString>),
    Bytes(Vec<Vec<u8>>),
}

fn string_test(
    field: Option<&FieldRef>,
    mods: &[Mod],
    cased: bool,
    v: &Node,
    ctx: &ItemCtx<'_>,
) -> Result<Test, SigmaError> {
    let text = match &v.kind {
        Kind::Null => {
            if let Some(m) = first_outside(mods, |m| matches!(m, Mod::All | Mod::Neq)) {
                return Err(invalid(v, format!("null cannot take modifier {m:?}")));
            }
            return Ok(match field {
                Some(_) => Test::Null,
                None => Test::Str(StrMatcher::new(SigmaString::literal("null"), false)),
            });
        }
        Kind::Str(s) => s.clone(),
        _ => {
            // Numbers and booleans compare as their text and take no string modifiers.
            if let Some(m) = first_outside(mods, |m| matches!(m, Mod::All | Mod::Neq | Mod::Cased))
            {
                return Err(invalid(
                    v,
                    format!(
                        "a {} value cannot take modifier {m:?}",
                        if matches!(v.kind, Kind::Bool(_)) {
                            "boolean"
                        } else {
                            "numeric"
                        }
                    ),
                ));
            }
            let t = v.scalar_text().unwrap_or_default();
            return Ok(Test::Str(matcher(field, SigmaString::literal(&t), cased)));
        }
    };
    let mut stage = if mods.contains(&Mod::Expand) {
        Stage::Str(
            expand(&text, ctx.placeholders)
                .map_err(|m| SigmaError::new(ErrorKind::Unsupported, m).at(v.span))?,
        )
    } else {
        Stage::Str(vec![SigmaString::parse(&text)])
    };
    for m in mods {
        stage = match (m, stage) {
            (Mod::Contains | Mod::StartsWith | Mod::EndsWith, Stage::Str(mut vs)) => {
                for s in &mut vs {
                    if matches!(m, Mod::Contains | Mod::EndsWith) {
                        s.prepend_star();
                    }
                    if matches!(m, Mod::Contains | Mod::StartsWith) {
                        s.append_star();
                    }
                }
                Stage::Str(vs)
            }
            (Mod::Windash, Stage::Str(vs)) => {
                Stage::Str(vs.iter().flat_map(SigmaString::windash_variants).collect())
            }
            (Mod::Utf16Le | Mod::Utf16Be | Mod::Utf16, Stage::Str(vs)) => {
                let mut out = Vec::new();
                for s in vs {
                    out.push(encode_utf16(&plain(&s, v, "encoding")?, *m));
                }
                Stage::Bytes(out)
            }
            (Mod::Base64 | Mod::Base64Offset, st) => {
                let bytes = match st {
                    Stage::Bytes(b) => b,
                    Stage::Str(vs) => vs
                        .iter()
                        .map(|s| plain(s, v, "base64").map(String::into_bytes))
                        .collect::<Result<_, _>>()?,
                };
                let encoded = bytes.iter().flat_map(|b| {
                    if *m == Mod::Base64 {
                        vec![STANDARD.encode(b)]
                    } else {
                        base64_offsets(b)
                    }
                });
                Stage::Str(encoded.map(|e| SigmaString::literal(&e)).collect())
            }
            (Mod::Contains | Mod::StartsWith | Mod::EndsWith | Mod::Windash, Stage::Bytes(_)) => {
                return Err(invalid(
                    v,
                    "an encoding modifier must be followed by base64 or base64offset",
                ));
            }
            (_, st) => st,
        };
    }
    let Stage::Str(variants) = stage else {
        return Err(SigmaError::new(
            ErrorKind::Unsupported,
            "utf16/wide without base64: matching raw UTF-16 bytes is unsupported",
        )
        .at(v.span));
    };
    let ms = variants
        .into_iter()
        .map(|s| matcher(field, s, cased))
        .collect();
    Ok(one_or_many(ms))
}

/// A wildcard-free value for an encoding modifier (`what`: which kind, for the message).
fn plain(s: &SigmaString, v: &Node, what: &str) -> Result<String, SigmaError> {
    s.plain()
        .ok_or_else(|| invalid(v, format!("{what} modifiers do not take wildcards")))
}

/// The matcher for one value: a keyword (no field) is a contains search; a numeric field also
/// compares numbers by value.
fn matcher(field: Option<&FieldRef>, s: SigmaString, cased: bool) -> StrMatcher {
    match field {
        None => keyword(s, cased),
        Some(f) if f.numeric => StrMatcher::new(s, cased).with_numeric(),
        Some(_) => StrMatcher::new(s, cased),
    }
}

fn one_or_many(mut ms: Vec<StrMatcher>) -> Test {
    if ms.len() == 1
        && let Some(m) = ms.pop()
    {
        return Test::Str(m);
    }
    Test::AnyStr(ms)
}

/// Keywords are a contains search over every value of the event.
fn keyword(mut s: SigmaString, cased: bool) -> StrMatcher {
    s.prepend_star();
    s.append_star();
    StrMatcher::new(s, cased)
}

fn encode_utf16(s: &str, m: Mod) -> Vec<u8> {
    let units = s.encode_utf16();
    match m {
        Mod::Utf16Be => units.flat_map(u16::to_be_bytes).collect(),
        Mod::Utf16 => [0xFF, 0xFE]
            .into_iter()
            .chain(units.flat_map(u16::to_le_bytes))
            .collect(),
        _ => units.flat_map(u16::to_le_bytes).collect(),
    }
}

/// The three base64 renderings of `v` at byte offsets 0, 1 and 2 (pySigma `base64offset`).
fn base64_offsets(v: &[u8]) -> Vec<String> {
    const START: [usize; 3] = [0, 2, 3];
    const END: [usize; 3] = [0, 3, 2];
    (0..3)
        .map(|i| {
            let mut padded = vec![b' '; i];
            padded.extend_from_slice(v);
            let enc = STANDARD.encode(&padded);
            let cut = END[(v.len() + i) % 3];
            let end = enc.len().saturating_sub(cut);
            enc.get(START[i]..end).unwrap_or_default().to_owned()
        })
        .collect()
}

/// Replaces `%name%` placeholders (not preceded by `\`) with every combination of values.
fn expand(text: &str, ph: &Placeholders) -> Result<Vec<SigmaString>, String> {
    let mut variants = vec![String::new()];
    let mut rest = text;
    while let Some(start) = find_placeholder(rest) {
        let after = &rest[start + 1..];
        let Some(len) = after.find('%') else { break };
        let name = &after[..len];
        let values = ph.0.get(name).filter(|v| !v.is_empty()).ok_or_else(|| {
            format!("placeholder `%{name}%` has no values (add it to placeholders.yml in the huntbench config directory)")
        })?;
        let prefix = &rest[..start];
        variants = variants
            .iter()
            .flat_map(|v| values.iter().map(move |x| format!("{v}{prefix}{x}")))
            .collect();
        rest = &after[len + 1..];
    }
    Ok(variants
        .into_iter()
        .map(|v| SigmaString::parse(&format!("{v}{rest}").replace("\\%", "%")))
        .collect())
}

fn find_placeholder(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    (0..b.len()).find(|&i| {
        b[i] == b'%' && (i == 0 || b[i - 1] != b'\\') && s[i + 1..].find('%').is_some_and(|l| l > 0)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn base64offset_variants() {
        assert_eq!(
            base64_offsets(b"IEX (["),
            vec!["SUVYIChb", "lFWCAoW", "JRVggKF"]
        );
    }

    #[test]
    fn expand_placeholders() {
        let mut ph = Placeholders::default();
        ph.0.insert("DCs".into(), vec!["dc1$".into(), "dc2$".into()]);
        let v = expand("x%DCs%y", &ph).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[1].plain().unwrap(), "xdc2$y");
        assert!(expand("%nope%", &ph).is_err());
        assert_eq!(
            expand(r"a\%DCs%", &ph).unwrap()[0].plain().unwrap(),
            "a%DCs%"
        );
    }

    #[test]
    fn default_placeholders_parse() {
        assert!(
            Placeholders::from_yaml(DEFAULT_PLACEHOLDERS)
                .unwrap()
                .0
                .is_empty()
        );
    }
}
