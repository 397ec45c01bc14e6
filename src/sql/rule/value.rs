//! A test on one value as SQL: string matches, numbers, IPv4 ranges, comparisons.

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
    format!(
        "(CASE WHEN trim({v}) RLIKE '^0[xX][0-9a-fA-F]+$' THEN try_cast(conv(substr(trim({v}), 3), 16, 10) AS DOUBLE) \
         ELSE try_cast(trim({v}) AS DOUBLE) END)"
    )
}

/// The value as an unsigned integer (`0x` hex or decimal digits), `NULL` when it is not one.
pub(super) fn integer(v: &str) -> String {
    format!(
        "(CASE WHEN trim({v}) RLIKE '^0[xX][0-9a-fA-F]+$' THEN try_cast(conv(substr(trim({v}), 3), 16, 10) AS DECIMAL(20,0)) \
         WHEN trim({v}) RLIKE '^[0-9]+$' THEN try_cast(trim({v}) AS DECIMAL(20,0)) END)"
    )
}

/// Whether the value is an IPv4 address (as Rust parses one: four decimal octets, no leading
/// zeros) within `lo..=hi`.
pub(super) fn ipv4_in(v: &str, lo: u32, hi: u32) -> String {
    const OCTET: &str = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
    let shape = format!("^({OCTET}\\\\.){{3}}{OCTET}$");
    let part = |i: usize| format!("try_cast(split(trim({v}), '[.]')[{i}] AS BIGINT)");
    format!(
        "(CASE WHEN trim({v}) RLIKE '{shape}' THEN ({} * 16777216 + {} * 65536 + {} * 256 + {}) BETWEEN {lo} AND {hi} ELSE false END)",
        part(0),
        part(1),
        part(2),
        part(3)
    )
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
