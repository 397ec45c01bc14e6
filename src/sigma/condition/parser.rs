//! Recursive descent over condition tokens. Precedence, loosest first:
//! `or` < `and` < `not` < `x of` < parentheses; binary operators associate left.

use super::lexer::{Tok, Token};
use super::{ConditionError, Expr, Quantifier, Target};

pub struct Parser {
    toks: Vec<Token>,
    at: usize,
    end: usize,
    depth: usize,
}

/// How deep parentheses and `not` may nest in a condition.
pub const MAX_NESTING: usize = 64;
/// How many tokens a condition may have (`and` chains nest as deep as they are long).
pub const MAX_TOKENS: usize = 2000;

impl Parser {
    pub fn new(toks: Vec<Token>, text_len: usize) -> Parser {
        Parser {
            toks,
            at: 0,
            end: text_len,
            depth: 0,
        }
    }

    /// Counts one more level of parentheses or `not`; conditions are evaluated recursively, so
    /// past [`MAX_NESTING`] (or [`MAX_TOKENS`] in all) a condition is an error, not a stack
    /// overflow that would take the whole run down.
    fn deeper(&mut self) -> Result<(), ConditionError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.err(format!("nested more than {MAX_NESTING} levels deep")));
        }
        Ok(())
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|t| &t.tok)
    }

    fn pos(&self) -> usize {
        self.toks.get(self.at).map_or(self.end, |t| t.pos)
    }

    fn err(&self, message: impl Into<String>) -> ConditionError {
        ConditionError {
            pos: self.pos(),
            message: message.into(),
        }
    }

    pub fn parse(mut self) -> Result<Expr, ConditionError> {
        if let Some(t) = self.toks.iter().find(|t| t.tok == Tok::Pipe) {
            return Err(ConditionError {
                pos: t.pos,
                message: "aggregation (`|`) is deprecated and unsupported; use a correlation rule"
                    .into(),
            });
        }
        if self.toks.len() > MAX_TOKENS {
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
            self.at += 1;
            let right = self.and_expr()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, ConditionError> {
        let mut left = self.not_expr()?;
        while self.peek() == Some(&Tok::And) {
            self.at += 1;
            let right = self.not_expr()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not_expr(&mut self) -> Result<Expr, ConditionError> {
        if self.peek() == Some(&Tok::Not) {
            self.at += 1;
            self.deeper()?;
            let inner = self.not_expr()?;
            self.depth -= 1;
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
                self.at += 1;
                self.deeper()?;
                let e = self.or_expr()?;
                if self.peek() != Some(&Tok::RParen) {
                    return Err(self.err("expected `)`"));
                }
                self.at += 1;
                self.depth -= 1;
                Ok(e)
            }
            Tok::Quant(q) if self.toks.get(self.at + 1).map(|t| &t.tok) == Some(&Tok::Of) => {
                self.at += 2;
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
                self.at += 1;
                Ok(Expr::Of(quant, target))
            }
            Tok::Ident(name) | Tok::Quant(name) => {
                if name.contains('*') {
                    return Err(self.err(format!("wildcard `{name}` needs `1 of` or `all of`")));
                }
                self.at += 1;
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
