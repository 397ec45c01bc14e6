//! The Sigma condition grammar: parsing to [`Expr`] and resolving identifiers to [`Cond`].
//!
//! pySigma quirks kept on purpose: identifiers starting with `_` are left out of `them` and of
//! patterns that do not start with `_`; a `1 of`/`all of` selector that matches no identifier
//! is dropped together with an enclosing `not` (not read as false/true). pySigma's `notepad` →
//! `not epad` bug is *not* kept: keywords are whole words.

mod lexer;
mod parser;

use std::fmt;

/// A parsed condition, before identifiers are resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Ident(String),
    Of(Quantifier, Target),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantifier {
    /// `1 of` / `any of`
    Any,
    /// `all of`
    All,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Them,
    Pattern(String),
}

/// A condition over selection indices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cond {
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Sel(usize),
}

/// A condition syntax or reference error at a character offset of the condition text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionError {
    pub pos: usize,
    pub message: String,
}

impl fmt::Display for ConditionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "condition, column {}: {}", self.pos + 1, self.message)
    }
}

pub fn parse(text: &str) -> Result<Expr, ConditionError> {
    parser::Parser::new(lexer::lex(text), text.chars().count()).parse()
}

/// Resolves identifiers against the selection names. `Ok(None)` means everything was dropped
/// (pySigma emits no query for such a condition).
pub fn resolve(expr: &Expr, names: &[String]) -> Result<Option<Cond>, ConditionError> {
    Ok(match expr {
        Expr::Ident(name) => match names.iter().position(|n| n == name) {
            Some(i) => Some(Cond::Sel(i)),
            None => {
                return Err(ConditionError {
                    pos: 0,
                    message: format!("unknown identifier `{name}`"),
                });
            }
        },
        Expr::Not(inner) => resolve(inner, names)?.map(|c| Cond::Not(Box::new(c))),
        Expr::And(a, b) => join(resolve(a, names)?, resolve(b, names)?, Cond::And),
        Expr::Or(a, b) => join(resolve(a, names)?, resolve(b, names)?, Cond::Or),
        Expr::Of(q, target) => {
            let picked: Vec<Cond> = names
                .iter()
                .enumerate()
                .filter(|(_, n)| selects(target, n))
                .map(|(i, _)| Cond::Sel(i))
                .collect();
            match (picked.len(), q) {
                (0, _) => None,
                (1, _) => picked.into_iter().next(),
                (_, Quantifier::Any) => Some(Cond::Or(picked)),
                (_, Quantifier::All) => Some(Cond::And(picked)),
            }
        }
    })
}

/// The `1 of x*` / `all of x*` patterns that select no identifier: dropped by [`resolve`] as
/// pySigma does, but more often a typo than intended (`not 1 of filter_*` then excludes nothing).
pub fn unmatched_patterns(expr: &Expr, names: &[String]) -> Vec<String> {
    match expr {
        Expr::Ident(_) => Vec::new(),
        Expr::Not(inner) => unmatched_patterns(inner, names),
        Expr::And(a, b) | Expr::Or(a, b) => {
            let mut v = unmatched_patterns(a, names);
            v.extend(unmatched_patterns(b, names));
            v
        }
        Expr::Of(_, target @ Target::Pattern(p)) if !names.iter().any(|n| selects(target, n)) => {
            vec![p.clone()]
        }
        Expr::Of(..) => Vec::new(),
    }
}

fn join(a: Option<Cond>, b: Option<Cond>, make: fn(Vec<Cond>) -> Cond) -> Option<Cond> {
    match (a, b) {
        (Some(a), Some(b)) => {
            // Flatten chains of the same operator.
            let mut parts = Vec::new();
            for c in [a, b] {
                match (c, make(Vec::new())) {
                    (Cond::And(v), Cond::And(_)) | (Cond::Or(v), Cond::Or(_)) => parts.extend(v),
                    (c, _) => parts.push(c),
                }
            }
            Some(make(parts))
        }
        (a, None) => a,
        (None, b) => b,
    }
}

fn selects(target: &Target, name: &str) -> bool {
    match target {
        Target::Them => !name.starts_with('_'),
        Target::Pattern(p) => {
            (p.starts_with('_') || !name.starts_with('_'))
                && glob_full(p.as_bytes(), name.as_bytes())
        }
    }
}

/// Full match of `*`-only globs (identifier patterns).
fn glob_full(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) => (0..=s.len()).any(|i| glob_full(rest, &s[i..])),
        Some((c, rest)) => s.first() == Some(c) && glob_full(rest, &s[1..]),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    fn res(cond: &str, n: &[&str]) -> Option<Cond> {
        resolve(&parse(cond).unwrap(), &names(n)).unwrap()
    }

    #[test]
    fn precedence() {
        // a or (b and (not c))
        assert_eq!(
            res("a or b and not c", &["a", "b", "c"]).unwrap(),
            Cond::Or(vec![
                Cond::Sel(0),
                Cond::And(vec![Cond::Sel(1), Cond::Not(Box::new(Cond::Sel(2)))])
            ])
        );
        assert_eq!(
            res("(a or b) and c", &["a", "b", "c"]).unwrap(),
            Cond::And(vec![
                Cond::Or(vec![Cond::Sel(0), Cond::Sel(1)]),
                Cond::Sel(2)
            ])
        );
        assert_eq!(
            res("not a and b", &["a", "b"]).unwrap(),
            Cond::And(vec![Cond::Not(Box::new(Cond::Sel(0))), Cond::Sel(1)])
        );
    }

    #[test]
    fn identifier_starting_with_keyword() {
        assert_eq!(
            res("selection and notepad", &["selection", "notepad"]).unwrap(),
            Cond::And(vec![Cond::Sel(0), Cond::Sel(1)])
        );
        assert_eq!(
            res("order or android", &["order", "android"]).unwrap(),
            Cond::Or(vec![Cond::Sel(0), Cond::Sel(1)])
        );
    }

    #[test]
    fn empty_selector_is_dropped() {
        assert_eq!(
            res("selection and not 1 of filter_*", &["selection"]).unwrap(),
            Cond::Sel(0)
        );
        assert_eq!(res("1 of x*", &["selection"]), None);
    }

    #[test]
    fn them_and_underscore() {
        assert_eq!(res("1 of them", &["a", "_b"]).unwrap(), Cond::Sel(0));
        assert_eq!(
            res("all of _*", &["a", "_b", "_c"]).unwrap(),
            Cond::And(vec![Cond::Sel(1), Cond::Sel(2)])
        );
        assert_eq!(
            res("any of sel*", &["sel1", "sel2", "x"]).unwrap(),
            Cond::Or(vec![Cond::Sel(0), Cond::Sel(1)])
        );
        assert_eq!(res("1 of sel", &["sel", "sel2"]).unwrap(), Cond::Sel(0));
    }

    #[test]
    fn errors() {
        assert!(parse("a AND b").unwrap_err().message.contains("lowercase"));
        assert!(
            parse("a | count() > 5")
                .unwrap_err()
                .message
                .contains("aggregation")
        );
        assert!(parse("(a or b").is_err());
        assert!(parse("a and").is_err());
        assert!(parse("sel*").is_err());
        let e = resolve(&parse("a and missing").unwrap(), &names(&["a"])).unwrap_err();
        assert!(e.message.contains("missing"));
        assert_eq!(parse("a b").unwrap_err().pos, 2);
    }
}
