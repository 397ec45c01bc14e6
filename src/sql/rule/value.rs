//! A test on one value as SQL: string matches, numbers, IP address ranges, comparisons.

use crate::sigma::matcher::{CmpOp, Position};
use crate::sigma::value::{Piece, StrMatcher};
use crate::sql::{lower, quote};

/// One value as a test reads it: its SQL, and its SQL lowercased (for a held value, the twin
/// column computed once per event).
#[derive(Clone, Debug)]
pub(super) struct Operand {
    pub(super) sql: String,
    pub(super) lower: String,
}

impl Operand {
    /// A value not held in a column (an array's element, `x`): lowered where it is read.
    pub(super) fn of(sql: &str) -> Operand {
        Operand {
            sql: sql.to_owned(),
            lower: format!("lower({sql})"),
        }
    }
}

pub(super) fn cmp_symbol(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Gt => ">",
        CmpOp::Gte => ">=",
        CmpOp::Lt => "<",
        CmpOp::Lte => "<=",
        CmpOp::Eq => "=",
    }
}

/// The value as a number the way the matcher parses it (`0x` hex or decimal integer, else a
/// float), `NULL` when it is not one.
pub(super) fn number(v: &str) -> String {
    let t = trimmed(v);
    format!(
        "(CASE WHEN {t} RLIKE '^0[xX][0-9a-fA-F]+$' THEN try_cast(conv(substr({t}, 3), 16, 10) AS DOUBLE) \
         ELSE try_cast({t} AS DOUBLE) END)"
    )
}

/// The value as an unsigned integer (`0x` hex or decimal digits), `NULL` when it is not one.
pub(super) fn integer(v: &str) -> String {
    let t = trimmed(v);
    format!(
        "(CASE WHEN {t} RLIKE '^0[xX][0-9a-fA-F]+$' THEN try_cast(conv(substr({t}, 3), 16, 10) AS DECIMAL(20,0)) \
         WHEN {t} RLIKE '^[0-9]+$' THEN try_cast({t} AS DECIMAL(20,0)) END)"
    )
}

/// What `str::trim` removes: the characters of Unicode's `White_Space`. SQL's `trim` removes
/// spaces only; `btrim` removes any of the characters it is given.
const WHITE_SPACE: &str = "\t\n\u{b}\u{c}\r \u{85}\u{a0}\u{1680}\u{2000}\u{2001}\u{2002}\u{2003}\u{2004}\u{2005}\u{2006}\u{2007}\u{2008}\u{2009}\u{200a}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}";

/// The value with what `str::trim` removes removed (the matcher trims before parsing an
/// address). The characters are in the literal as they are: both engines take them so.
pub(super) fn trimmed(v: &str) -> String {
    format!("btrim({v}, '{WHITE_SPACE}')")
}

/// One IPv4 octet as Rust parses it: decimal, at most 255, no leading zero.
const OCTET: &str = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";

/// Octet `i` (from 0) of `v`, known to be dotted-quad text, as a number.
fn octet(v: &str, i: usize) -> String {
    format!("try_cast(split({v}, '[.]')[{i}] AS BIGINT)")
}

/// Whether the value is an IPv4 address (as Rust parses one: four decimal octets, no leading
/// zeros) within `lo..=hi`.
pub(super) fn ipv4_in(v: &str, lo: u32, hi: u32) -> String {
    let v = trimmed(v);
    let shape = format!("^({OCTET}\\\\.){{3}}{OCTET}$");
    format!(
        "(CASE WHEN {v} RLIKE '{shape}' THEN ({} * 16777216 + {} * 65536 + {} * 256 + {}) BETWEEN {lo} AND {hi} ELSE false END)",
        octet(&v, 0),
        octet(&v, 1),
        octet(&v, 2),
        octet(&v, 3)
    )
}

/// The value, trimmed and lowercased (`t`, an expression read many times: a column or a
/// lambda's variable), as the 32 hex digits of the IPv6 address Rust parses from it, `NULL`
/// when Rust parses none. Rust reads up to eight groups of one to four hex digits; one `::`
/// stands for at least one group of zeros; the last two groups may be written as an IPv4
/// address (not before a `::`). The SQL rewrites a trailing IPv4 address as two groups, checks
/// the shape (the number of groups on each side of a `::` included), pads the groups on each
/// side of the `::` to four digits and fills the middle with zeros. No lambda: Sail runs a
/// lambda inside another one row by row, a hundred times slower.
pub(super) fn ipv6_hex(t: &str) -> String {
    const G: &str = "[0-9a-f]{1,4}";
    // `…:a.b.c.d` → `…:HHHH:HHHH`.
    let quad = format!("regexp_replace({t}, '^.*:', '')");
    let pair = |i: usize| {
        format!(
            "lpad(lower(hex({} * 256 + {})), 4, '0')",
            octet(&quad, i),
            octet(&quad, i + 1)
        )
    };
    let w = format!(
        "(CASE WHEN {t} RLIKE '^[0-9a-f:]*:({OCTET}\\\\.){{3}}{OCTET}$' \
         THEN concat(regexp_replace({t}, '[^:]*$', ''), {}, ':', {}) ELSE {t} END)",
        pair(0),
        pair(2)
    );
    // Eight groups, or `h` groups, `::` and at most `7 - h`.
    let mut forms = vec![format!("{G}(:{G}){{7}}")];
    for h in 0..=7 {
        let head = match h {
            0 => String::new(),
            h => format!("{G}(:{G}){{{}}}", h - 1),
        };
        let tail = match 7 - h {
            0 => String::new(),
            n => format!("({G}(:{G}){{0,{}}})?", n - 1),
        };
        forms.push(format!("{head}::{tail}"));
    }
    let shape = format!("^({})$", forms.join("|"));
    // Groups as four digits each, run together.
    let pad = |s: &str| {
        format!(
            "replace(regexp_replace(regexp_replace({s}, '([0-9a-f]+)', '000$1'), '0*([0-9a-f]{{4}})', '$1'), ':', '')"
        )
    };
    let head = pad(&format!("regexp_replace({w}, '::.*$', '')"));
    let tail = pad(&format!(
        "regexp_replace(regexp_replace(concat({w}, '::'), '^.*?::', ''), '::$', '')"
    ));
    format!(
        "(CASE WHEN {w} RLIKE '{shape}' THEN concat({head}, lpad({tail}, 32 - length({head}), '0')) END)"
    )
}

/// Whether the value's IPv6 digits (`hex`, from [`ipv6_hex`]) are within `lo..=hi`: as text,
/// which orders as the number does.
pub(super) fn ipv6_in(hex: &str, lo: u128, hi: u128) -> String {
    format!("coalesce({hex} BETWEEN '{lo:032x}' AND '{hi:032x}', false)")
}

/// A matcher whose value is one literal, whole or with a star before, after or both: where
/// the literal must be.
fn plain_shape(m: &StrMatcher) -> Option<(Position, &str)> {
    match m.pattern.pieces.as_slice() {
        [Piece::Lit(a)] => Some((Position::Equal, a)),
        [Piece::Lit(a), Piece::Star] => Some((Position::Prefix, a)),
        [Piece::Star, Piece::Lit(a)] => Some((Position::Suffix, a)),
        [Piece::Star, Piece::Lit(a), Piece::Star] => Some((Position::Contains, a)),
        _ => None,
    }
}

/// `text` holds `needle` (both SQL) where `pos` says.
pub(super) fn position_sql(pos: Position, text: &str, needle: &str) -> String {
    match pos {
        Position::Equal => format!("({text} = {needle})"),
        Position::Prefix => format!("startswith({text}, {needle})"),
        Position::Suffix => format!("endswith({text}, {needle})"),
        Position::Contains => format!("contains({text}, {needle})"),
    }
}

/// A Sigma string test on one value.
pub(super) fn str_sql(v: &Operand, m: &StrMatcher) -> String {
    let text = if m.is_cased() { &v.sql } else { &v.lower };
    let lit = |s: &str| {
        if m.is_cased() {
            quote(s)
        } else {
            quote(&lower(s))
        }
    };
    let pieces = m.pattern.pieces.as_slice();
    let test = match (pieces, plain_shape(m)) {
        ([], _) => format!("({} = '')", v.sql),
        ([Piece::Star], _) => "true".to_owned(),
        (_, Some((pos, a))) => position_sql(pos, text, &lit(a)),
        _ => {
            let mut like = String::new();
            for p in pieces {
                match p {
                    Piece::Star => like.push('%'),
                    Piece::One => like.push('_'),
                    Piece::Lit(l) => {
                        let l = if m.is_cased() { l.clone() } else { lower(l) };
                        for c in l.chars() {
                            if matches!(c, '%' | '_' | '!') {
                                like.push('!');
                            }
                            like.push(c);
                        }
                    }
                }
            }
            format!("({text} LIKE {} ESCAPE '!')", quote(&like))
        }
    };
    match m.int_value() {
        // Integer comparison when the value parses as one, else as text.
        Some(n) => format!("coalesce({} = {n}, {test})", integer(&v.sql)),
        None => test,
    }
}
