//! Recursive descent over condition tokens. Precedence, loosest first:
//! `or` < `and` < `not` < `x of` < parentheses; binary operators associate left.

use super::lexer::{Tok, Token};
use super::{ConditionError, Expr, Quantifier, Target};
use crate::descent::{Cursor, ParseError};

pub struct Parser {
    c: Cursor<Tok>,
}

impl ParseError for ConditionError {
    fn at(pos: usize, message: String) -> ConditionError {
        ConditionError { pos, message }
    }
}

/// How deep parentheses and `not` may nest in a condition.
pub const MAX_NESTING: usize = 64;
/// How many tokens a condition may have (`and` chains nest as deep as they are long).
pub const MAX_TOKENS: usize = 2000;

impl Parser {
    /// Conditions are evaluated recursively, so past [`MAX_NESTING`] (or [`MAX_TOKENS`] in
    /// all) a condition is an error, not a stack overflow that would take the whole run down.
    pub fn new(toks: Vec<Token>, text_len: usize) -> Parser {
        Parser {
            c: Cursor::new(toks, text_len, MAX_NESTING),
        }
    }

    fn peek(&self) -> Option<&Tok> {
        self.c.peek()
    }

    fn err(&self, message: impl Into<String>) -> ConditionError {
        self.c.err(message)
    }

    pub fn parse(mut self) -> Result<Expr, ConditionError> {
        if let Some(t) = self.c.tokens().iter().find(|t| t.tok == Tok::Pipe) {
            return Err(ConditionError {
                pos: t.at,
                message: "aggregation (`|`) is deprecated and unsupported; use a correlation rule"
                    .into(),
            });
        }
        if self.c.tokens().len() > MAX_TOKENS {
            return Err(ConditionError {
                pos: 0,
                message: format!("more than {MAX_TOKENS} tokens"),
            });
        }
        let e = self.or_expr()?;
        match self.peek() {
            None => Ok(e),
            Some(Tok::Ident(w))
                if matches!(w.to_ascii_lowercase().as_str(), "and" | "or" | "not") =>
            {
                Err(self.err(format!("`{w}`: condition operators are lowercase")))
            }
            Some(t) => Err(self.err(format!("unexpected {}", describe(t)))),
        }
    }

    fn or_expr(&mut self) -> Result<Expr, ConditionError> {
        let mut left = self.and_expr()?;
        while self.peek() == Some(&Tok::Or) {
            self.c.skip(1);
            let right = self.and_expr()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, ConditionError> {
        let mut left = self.not_expr()?;
        while self.peek() == Some(&Tok::And) {
            self.c.skip(1);
            let right = self.not_expr()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not_expr(&mut self) -> Result<Expr, ConditionError> {
        if self.peek() == Some(&Tok::Not) {
            self.c.skip(1);
            self.c.deeper()?;
            let inner = self.not_expr()?;
            self.c.shallower();
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Expr, ConditionError> {
        let Some(tok) = self.peek().cloned() else {
            return Err(self.err("unexpected end of condition"));
        };
        match tok {
            Tok::LParen => {
                self.c.skip(1);
                self.c.deeper()?;
                let e = self.or_expr()?;
                if self.peek() != Some(&Tok::RParen) {
                    return Err(self.err("expected `)`"));
                }
                self.c.skip(1);
                self.c.shallower();
                Ok(e)
            }
            Tok::Quant(q) if self.c.peek_nth(1) == Some(&Tok::Of) => {
                self.c.skip(2);
                let quant = if q == "all" {
                    Quantifier::All
                } else {
                    Quantifier::Any
                };
                let target = match self.peek().cloned() {
                    Some(Tok::Them) => Target::Them,
                    Some(Tok::Ident(p)) => Target::Pattern(p),
                    Some(Tok::Quant(p)) => Target::Pattern(p),
                    _ => {
                        return Err(self.err("expected `them` or an identifier pattern after `of`"));
                    }
                };
                self.c.skip(1);
                Ok(Expr::Of(quant, target))
            }
            Tok::Ident(name) | Tok::Quant(name) => {
                if name.contains('*') {
                    return Err(self.err(format!("wildcard `{name}` needs `1 of` or `all of`")));
                }
                self.c.skip(1);
                Ok(Expr::Ident(name))
            }
            t => Err(self.err(format!("unexpected {}", describe(&t)))),
        }
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::And => "`and`".into(),
        Tok::Or => "`or`".into(),
        Tok::Not => "`not`".into(),
        Tok::Of => "`of`".into(),
        Tok::Them => "`them`".into(),
        Tok::Quant(q) => format!("`{q}`"),
        Tok::Ident(i) => format!("identifier `{i}`"),
        Tok::Pipe => "`|`".into(),
    }
}
