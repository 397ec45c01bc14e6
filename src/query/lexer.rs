//! Tokens of the search language. Bare words stop at whitespace, parentheses, commas, quotes
//! and comparison characters, except that a value right after an operator keeps balanced
//! parentheses (`CommandLine=*(x86)*`). Quoted strings keep everything (newlines included) with
//! `\"` for a quote. Backslashes are otherwise kept so the Sigma escapes (`\*`, `\?`, `\\`)
//! reach the value parser unchanged: `"C:\\"` is `C:\`, and so is `"C:\"` when no other quote
//! follows (it could not be anything else).

use super::QueryError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    LParen,
    RParen,
    Comma,
    Op(Op),
    Word(String),
    Quoted(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A token and its 0-based character column.
pub type Token = crate::descent::Spanned<Tok>;

pub fn lex(text: &str) -> Result<Vec<Token>, QueryError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i;
        let after_op = matches!(
            out.last(),
            Some(Token {
                tok: Tok::Op(_),
                ..
            })
        );
        // A regular expression may start with a parenthesis (`CommandLine|re=(a|b)c`).
        let regex_value = after_op
            && matches!(
                out.len().checked_sub(2).map(|i| &out[i].tok),
                Some(Tok::Word(w)) if w.contains('|')
            );
        let single = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' if regex_value => None,
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            ',' => Some(Tok::Comma),
            '=' => Some(Tok::Op(Op::Eq)),
            _ => None,
        };
        if let Some(tok) = single {
            out.push(Token { tok, at: col });
            i += 1;
            continue;
        }
        match c {
            '!' | '<' | '>' => {
                let eq = chars.get(i + 1) == Some(&'=');
                let op = match (c, eq) {
                    ('!', true) => Op::Ne,
                    ('<', false) => Op::Lt,
                    ('<', true) => Op::Le,
                    ('>', false) => Op::Gt,
                    ('>', true) => Op::Ge,
                    _ => return Err(QueryError::new(col, "`!` must be followed by `=`")),
                };
                out.push(Token {
                    tok: Tok::Op(op),
                    at: col,
                });
                i += 1 + usize::from(eq);
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(QueryError::new(col, "unterminated quoted string")),
                        Some('"') => break,
                        Some('\\') if chars.get(i + 1) == Some(&'\\') => {
                            s.push_str("\\\\");
                            i += 2;
                        }
                        Some('\\') if chars.get(i + 1) == Some(&'"') => {
                            if !chars[i + 2..].contains(&'"') {
                                s.push('\\');
                                i += 1;
                                break;
                            }
                            s.push('"');
                            i += 2;
                        }
                        Some(&ch) => {
                            s.push(ch);
                            i += 1;
                        }
                    }
                }
                i += 1;
                out.push(Token {
                    tok: Tok::Quoted(s),
                    at: col,
                });
            }
            _ => {
                let start = i;
                let is_value = after_op;
                let mut depth = 0usize;
                while i < chars.len() {
                    let ch = chars[i];
                    match ch {
                        '(' if is_value => depth += 1,
                        ')' if is_value && depth > 0 => depth -= 1,
                        _ if ch.is_whitespace()
                            || matches!(ch, '(' | ')' | ',' | '"' | '=' | '!' | '<' | '>') =>
                        {
                            break;
                        }
                        _ => {}
                    }
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Word(chars[start..i].iter().collect()),
                    at: col,
                });
            }
        }
    }
    Ok(out)
}
