//! Extended `temporal` conditions: a boolean expression over the referenced rules
//! (`recon_a and (recon_b or not recon_c)`), as pySigma accepts in place of a count condition.
//! A rule term is true when the rule has a hit in the window of the group.

use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum RuleExpr {
    Rule(String),
    Not(Box<RuleExpr>),
    And(Vec<RuleExpr>),
    Or(Vec<RuleExpr>),
}

#[derive(Debug, PartialEq)]
enum Tok {
    Word(String),
    Open,
    Close,
}

impl RuleExpr {
    /// Parses with pySigma's grammar: identifiers `[A-Za-z_][A-Za-z0-9_]*`, lowercase
    /// `and`/`or`/`not`, parentheses; precedence `not` > `and` > `or`.
    pub fn parse(text: &str) -> Result<RuleExpr, String> {
        let toks = tokenize(text)?;
        let mut p = Parser { toks, pos: 0 };
        let e = p.or()?;
        match p.toks.get(p.pos) {
            None => Ok(e),
            Some(t) => Err(format!("unexpected {} in `{text}`", describe(t))),
        }
    }

    /// The rules named, in order of first appearance.
    pub fn rules(&self) -> Vec<String> {
        fn walk(e: &RuleExpr, out: &mut Vec<String>) {
            match e {
                RuleExpr::Rule(r) if !out.contains(r) => out.push(r.clone()),
                RuleExpr::Rule(_) => {}
                RuleExpr::Not(x) => walk(x, out),
                RuleExpr::And(xs) | RuleExpr::Or(xs) => xs.iter().for_each(|x| walk(x, out)),
            }
        }
        let mut out = Vec::new();
        walk(self, &mut out);
        out
    }

    pub fn eval(&self, seen: &impl Fn(&str) -> bool) -> bool {
        match self {
            RuleExpr::Rule(r) => seen(r),
            RuleExpr::Not(x) => !x.eval(seen),
            RuleExpr::And(xs) => xs.iter().all(|x| x.eval(seen)),
            RuleExpr::Or(xs) => xs.iter().any(|x| x.eval(seen)),
        }
    }

    /// Without `not`, more hits can only make the expression true (sliding windows apply).
    pub fn monotone(&self) -> bool {
        match self {
            RuleExpr::Rule(_) => true,
            RuleExpr::Not(_) => false,
            RuleExpr::And(xs) | RuleExpr::Or(xs) => xs.iter().all(RuleExpr::monotone),
        }
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Word(w) => format!("`{w}`"),
        Tok::Open => "`(`".into(),
        Tok::Close => "`)`".into(),
    }
}

fn tokenize(text: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '(' => out.push(Tok::Open),
            ')' => out.push(Tok::Close),
            c if c.is_whitespace() => {}
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut end = i + c.len_utf8();
                while let Some(&(j, d)) = chars.peek() {
                    if !(d.is_ascii_alphanumeric() || d == '_') {
                        break;
                    }
                    end = j + d.len_utf8();
                    chars.next();
                }
                out.push(Tok::Word(text[i..end].to_owned()));
            }
            c => {
                return Err(format!(
                    "unexpected `{c}` in `{text}` (rule names are [A-Za-z_][A-Za-z0-9_]*)"
                ));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn keyword(&mut self, k: &str) -> bool {
        let hit = matches!(self.toks.get(self.pos), Some(Tok::Word(w)) if w == k);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn or(&mut self) -> Result<RuleExpr, String> {
        let mut xs = vec![self.and()?];
        while self.keyword("or") {
            xs.push(self.and()?);
        }
        Ok(if xs.len() == 1 {
            xs.remove(0)
        } else {
            RuleExpr::Or(xs)
        })
    }

    fn and(&mut self) -> Result<RuleExpr, String> {
        let mut xs = vec![self.not()?];
        while self.keyword("and") {
            xs.push(self.not()?);
        }
        Ok(if xs.len() == 1 {
            xs.remove(0)
        } else {
            RuleExpr::And(xs)
        })
    }

    fn not(&mut self) -> Result<RuleExpr, String> {
        if self.keyword("not") {
            return Ok(RuleExpr::Not(Box::new(self.not()?)));
        }
        match self.toks.get(self.pos) {
            Some(Tok::Open) => {
                self.pos += 1;
                let e = self.or()?;
                if self.toks.get(self.pos) != Some(&Tok::Close) {
                    return Err("missing `)`".into());
                }
                self.pos += 1;
                Ok(e)
            }
            Some(Tok::Word(w)) if !matches!(w.as_str(), "and" | "or" | "not") => {
                self.pos += 1;
                Ok(RuleExpr::Rule(w.clone()))
            }
            Some(t) => Err(format!("expected a rule name, found {}", describe(t))),
            None => Err("the condition ends too early".into()),
        }
    }
}
