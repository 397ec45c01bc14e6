//! Recursive descent: `OR` < `AND` (also implicit, by juxtaposition) < `NOT` < comparisons and
//! parentheses. `AND`/`OR`/`NOT`/`IN` are case-insensitive keywords when bare.

use super::lexer::{Op, Tok, Token};
use super::{Ast, CmpKind, QueryError};
use crate::descent::{Cursor, ParseError};

pub struct Parser {
    c: Cursor<Tok>,
}

impl ParseError for QueryError {
    fn at(col0: usize, message: String) -> QueryError {
        QueryError::new(col0, message)
    }
}

/// How deep parentheses and `NOT` may nest.
pub const MAX_NESTING: usize = 64;

fn is_kw(t: Option<&Tok>, kw: &str) -> bool {
    matches!(t, Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
}

impl Parser {
    /// Past [`MAX_NESTING`] levels of parentheses or `NOT` a query is an error, not a stack
    /// overflow that would take the workbench (and the terminal) down.
    pub fn new(toks: Vec<Token>, end: usize) -> Parser {
        Parser {
            c: Cursor::new(toks, end, MAX_NESTING),
        }
    }

    fn peek(&self) -> Option<&Tok> {
        self.c.peek()
    }

    fn col(&self) -> usize {
        self.c.offset()
    }

    fn err(&self, msg: impl Into<String>) -> QueryError {
        self.c.err(msg)
    }

    pub fn parse(mut self) -> Result<Ast, QueryError> {
        if self.c.tokens().is_empty() {
            return Err(self.err("empty query"));
        }
        let ast = self.or()?;
        if !self.c.is_done() {
            return Err(self.err("unexpected `)`"));
        }
        Ok(ast)
    }

    fn or(&mut self) -> Result<Ast, QueryError> {
        let mut parts = vec![self.and()?];
        while is_kw(self.peek(), "or") {
            self.c.skip(1);
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Ast::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Ast, QueryError> {
        let mut parts = vec![self.not()?];
        loop {
            if is_kw(self.peek(), "and") {
                self.c.skip(1);
            } else if self.peek().is_none()
                || self.peek() == Some(&Tok::RParen)
                || is_kw(self.peek(), "or")
            {
                break;
            }
            parts.push(self.not()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Ast::And(parts)
        })
    }

    fn not(&mut self) -> Result<Ast, QueryError> {
        if is_kw(self.peek(), "not") && !matches!(self.c.peek_nth(1), Some(Tok::Op(_))) {
            self.c.skip(1);
            self.c.deeper()?;
            let inner = self.not()?;
            self.c.shallower();
            return Ok(Ast::Not(Box::new(inner)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Ast, QueryError> {
        let col = self.col();
        match self.peek().cloned() {
            None => Err(self.err("unexpected end of query")),
            Some(Tok::LParen) => {
                self.c.skip(1);
                self.c.deeper()?;
                let inner = self.or()?;
                if self.peek() != Some(&Tok::RParen) {
                    return Err(self.err("expected `)`"));
                }
                self.c.skip(1);
                self.c.shallower();
                Ok(inner)
            }
            Some(Tok::Word(w)) if w.contains('|') => {
                self.c.skip(1);
                self.regex(w, col)
            }
            Some(Tok::Word(w)) => {
                self.c.skip(1);
                match self.peek().cloned() {
                    Some(Tok::Op(op)) => {
                        self.c.skip(1);
                        let (value, vcol) = self.value()?;
                        let kind = match op {
                            Op::Eq => CmpKind::Eq,
                            Op::Ne => CmpKind::Ne,
                            Op::Lt | Op::Le | Op::Gt | Op::Ge if w.eq_ignore_ascii_case("time") => {
                                let at = super::parse_time(&value).ok_or_else(|| {
                                    QueryError::new(
                                        vcol,
                                        format!("`{value}` is not a time (e.g. 2024-03-12T07:40:00Z, 2024-03-12)"),
                                    )
                                })?;
                                return Ok(Ast::Time { op, at, col });
                            }
                            Op::Lt | Op::Le | Op::Gt | Op::Ge => {
                                let n: f64 = (value.trim().parse().ok())
                                    .or_else(|| {
                                        crate::sigma::value::parse_int(&value).map(|n| n as f64)
                                    })
                                    .ok_or_else(|| {
                                        QueryError::new(vcol, format!("`{value}` is not a number"))
                                    })?;
                                return Ok(Ast::Num {
                                    field: w,
                                    op,
                                    n,
                                    text: value,
                                });
                            }
                        };
                        Ok(Ast::Cmp {
                            field: w,
                            kind,
                            values: vec![value],
                        })
                    }
                    _ if is_kw(self.peek(), "in") && self.c.peek_nth(1) == Some(&Tok::LParen) => {
                        self.c.skip(2);
                        let mut values = vec![self.value()?.0];
                        while self.peek() == Some(&Tok::Comma) {
                            self.c.skip(1);
                            values.push(self.value()?.0);
                        }
                        if self.peek() != Some(&Tok::RParen) {
                            return Err(self.err("expected `,` or `)` in the IN list"));
                        }
                        self.c.skip(1);
                        Ok(Ast::Cmp {
                            field: w,
                            kind: CmpKind::Eq,
                            values,
                        })
                    }
                    _ if ["and", "or", "not", "in"]
                        .iter()
                        .any(|k| w.eq_ignore_ascii_case(k)) =>
                    {
                        Err(QueryError::new(col, format!("`{w}` needs an operand")))
                    }
                    _ => Ok(Ast::Keyword(w)),
                }
            }
            Some(Tok::Quoted(s)) => {
                self.c.skip(1);
                Ok(Ast::Keyword(s))
            }
            Some(Tok::RParen) => Err(self.err("unexpected `)`")),
            Some(Tok::Comma) => Err(self.err("unexpected `,`")),
            Some(Tok::Op(_)) => Err(self.err("a comparison needs a field name before it")),
        }
    }

    /// `field|re=…`, `field|re!=…`, `field|re IN (…)`: the one modifier the search takes.
    fn regex(&mut self, word: String, col: usize) -> Result<Ast, QueryError> {
        let (field, modifier) = word.split_once('|').unwrap_or((&word, ""));
        if field.is_empty() {
            return Err(QueryError::new(
                col,
                "a modifier needs a field name before it",
            ));
        }
        if !modifier.eq_ignore_ascii_case("re") {
            return Err(QueryError::new(
                col + field.chars().count(),
                format!(
                    "unknown modifier `|{modifier}`: the search takes `|re` (a regular expression)"
                ),
            ));
        }
        let (negate, values) = match self.peek().cloned() {
            Some(Tok::Op(op @ (Op::Eq | Op::Ne))) => {
                self.c.skip(1);
                (op == Op::Ne, vec![self.value()?])
            }
            _ if is_kw(self.peek(), "in") && self.c.peek_nth(1) == Some(&Tok::LParen) => {
                self.c.skip(2);
                let mut values = vec![self.value()?];
                while self.peek() == Some(&Tok::Comma) {
                    self.c.skip(1);
                    values.push(self.value()?);
                }
                if self.peek() != Some(&Tok::RParen) {
                    return Err(self.err("expected `,` or `)` in the IN list"));
                }
                self.c.skip(1);
                (false, values)
            }
            _ => return Err(self.err(format!("`{word}` takes `=`, `!=` or `IN (…)`"))),
        };
        for (pattern, vcol) in &values {
            super::search_regex(pattern).map_err(|e| QueryError::new(*vcol, e))?;
        }
        Ok(Ast::Regex {
            field: field.to_owned(),
            negate,
            patterns: values.into_iter().map(|(p, _)| p).collect(),
        })
    }

    fn value(&mut self) -> Result<(String, usize), QueryError> {
        let col = self.col();
        match self.peek().cloned() {
            Some(Tok::Word(w)) => {
                self.c.skip(1);
                Ok((w, col))
            }
            Some(Tok::Quoted(s)) => {
                self.c.skip(1);
                Ok((s, col))
            }
            _ => Err(self.err("expected a value")),
        }
    }
}
