//! Tokens of a Sigma condition. Keywords are whole, lowercase words only (pySigma rejects
//! `AND`), so `notepad` is an identifier and never `not epad`.

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Not,
    Of,
    Them,
    /// `1`, `all` or `any` (only special in front of `of`).
    Quant(String),
    /// An identifier or an identifier pattern (may hold `*`).
    Ident(String),
    /// `|`: legacy aggregation, unsupported.
    Pipe,
}

/// A token with its 0-based character offset.
pub type Token = crate::descent::Spanned<Tok>;

pub fn lex(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let pos = i;
        match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => out.push(Token {
                tok: Tok::LParen,
                at: pos,
            }),
            ')' => out.push(Token {
                tok: Tok::RParen,
                at: pos,
            }),
            '|' => out.push(Token {
                tok: Tok::Pipe,
                at: pos,
            }),
            _ => {
                let start = i;
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !matches!(chars[i], '(' | ')' | '|')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let tok = match word.as_str() {
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    "of" => Tok::Of,
                    "them" => Tok::Them,
                    "1" | "all" | "any" => Tok::Quant(word),
                    _ => Tok::Ident(word),
                };
                out.push(Token { tok, at: start });
                continue;
            }
        }
        i += 1;
    }
    out
}
