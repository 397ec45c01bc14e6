//! Sigma string values: escape handling, wildcards, and the compiled string matcher.
//!
//! A Sigma string is read character by character (pySigma `SigmaString`): `\*`, `\?` and `\\`
//! give the literal character, `\` before anything else stays a literal backslash, `*` matches any
//! sequence (newlines included) and `?` exactly one character. Matching is whole-value and
//! case-insensitive unless `cased`; both sides are lowercased with `str::to_lowercase`, so one
//! policy holds everywhere (patterns are lowercased once, at compile time).

use std::borrow::Cow;

/// One element of a parsed Sigma string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    Lit(String),
    /// `*`: any sequence of characters.
    Star,
    /// `?`: exactly one character.
    One,
}

/// A Sigma string value after escape processing.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SigmaString {
    pub pieces: Vec<Piece>,
}

impl SigmaString {
    /// Parses a value with Sigma's wildcard and escape rules.
    pub fn parse(text: &str) -> SigmaString {
        let mut out = SigmaString::default();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.peek() {
                    Some(&n @ ('*' | '?' | '\\')) => {
                        chars.next();
                        out.push_char(n);
                    }
                    // Any other escape keeps the backslash (and the next char is read normally).
                    _ => out.push_char('\\'),
                },
                '*' => out.push(Piece::Star),
                '?' => out.push(Piece::One),
                c => out.push_char(c),
            }
        }
        out
    }

    /// A value taken literally, without wildcard or escape processing.
    pub fn literal(text: &str) -> SigmaString {
        let mut out = SigmaString::default();
        if !text.is_empty() {
            out.pieces.push(Piece::Lit(text.to_owned()));
        }
        out
    }

    pub fn push_char(&mut self, c: char) {
        if let Some(Piece::Lit(s)) = self.pieces.last_mut() {
            s.push(c);
        } else {
            self.pieces.push(Piece::Lit(c.to_string()));
        }
    }

    pub fn push_str(&mut self, text: &str) {
        for c in text.chars() {
            self.push_char(c);
        }
    }

    pub fn push(&mut self, piece: Piece) {
        match piece {
            Piece::Lit(s) => self.push_str(&s),
            // Consecutive stars mean the same as one.
            Piece::Star if self.pieces.last() == Some(&Piece::Star) => {}
            p => self.pieces.push(p),
        }
    }

    pub fn has_wildcards(&self) -> bool {
        self.pieces.iter().any(|p| !matches!(p, Piece::Lit(_)))
    }

    pub fn starts_with_star(&self) -> bool {
        self.pieces.first() == Some(&Piece::Star)
    }

    pub fn ends_with_star(&self) -> bool {
        self.pieces.last() == Some(&Piece::Star)
    }

    pub fn prepend_star(&mut self) {
        if !self.starts_with_star() {
            self.pieces.insert(0, Piece::Star);
        }
    }

    pub fn append_star(&mut self) {
        if !self.ends_with_star() {
            self.pieces.push(Piece::Star);
        }
    }

    /// The text when there are no wildcards.
    pub fn plain(&self) -> Option<String> {
        let mut s = String::new();
        for p in &self.pieces {
            match p {
                Piece::Lit(l) => s.push_str(l),
                _ => return None,
            }
        }
        Some(s)
    }

    /// The value written back in Sigma syntax, as a rule author writes it: wildcards bare,
    /// literal `*` and `?` escaped, and a backslash escaped only where it would otherwise
    /// escape what follows (`'*\WmiPrvSE.exe'`, not `'*\\WmiPrvSE.exe'`).
    pub fn to_sigma(&self) -> String {
        // A literal character, or a wildcard as written.
        enum Out {
            Lit(char),
            Wild(char),
        }
        let flat: Vec<Out> = (self.pieces.iter())
            .flat_map(|p| match p {
                Piece::Lit(l) => l.chars().map(Out::Lit).collect::<Vec<_>>(),
                Piece::Star => vec![Out::Wild('*')],
                Piece::One => vec![Out::Wild('?')],
            })
            .collect();
        let mut s = String::new();
        for (i, c) in flat.iter().enumerate() {
            match c {
                Out::Wild(w) => s.push(*w),
                Out::Lit(c @ ('*' | '?')) => {
                    s.push('\\');
                    s.push(*c);
                }
                Out::Lit('\\') => {
                    // Read back, `\` escapes a following wildcard or backslash only.
                    if matches!(
                        flat.get(i + 1),
                        Some(Out::Wild(_) | Out::Lit('*' | '?' | '\\'))
                    ) {
                        s.push('\\');
                    }
                    s.push('\\');
                }
                Out::Lit(c) => s.push(*c),
            }
        }
        s
    }

    /// The literal runs, in order (what an index can use to narrow).
    pub fn literals(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Lit(l) => Some(l.as_str()),
            _ => None,
        })
    }

    /// pySigma `windash`: every `-` or `/` that is not preceded by a word character and is
    /// followed by one (regex `\B[-/]\b`, evaluated per literal run) becomes each of
    /// `-`, `/`, `–`, `—`, `―`; all permutations are returned.
    pub fn windash_variants(&self) -> Vec<SigmaString> {
        const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];
        let mut variants = vec![SigmaString::default()];
        for piece in &self.pieces {
            let Piece::Lit(lit) = piece else {
                for v in &mut variants {
                    v.push(piece.clone());
                }
                continue;
            };
            let chars: Vec<char> = lit.chars().collect();
            for (i, &c) in chars.iter().enumerate() {
                let prev_word = i > 0 && is_word(chars[i - 1]);
                let next_word = chars.get(i + 1).is_some_and(|&n| is_word(n));
                if matches!(c, '-' | '/') && !prev_word && next_word {
                    let mut next = Vec::with_capacity(variants.len() * DASHES.len());
                    for v in &variants {
                        for d in DASHES {
                            let mut nv = v.clone();
                            nv.push_char(d);
                            next.push(nv);
                        }
                    }
                    variants = next;
                } else {
                    for v in &mut variants {
                        v.push_char(c);
                    }
                }
            }
        }
        variants
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Lowercases for case-insensitive comparison, borrowing when nothing changes.
pub fn lower(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        if s.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(s.to_ascii_lowercase())
        } else {
            Cow::Borrowed(s)
        }
    } else {
        Cow::Owned(s.to_lowercase())
    }
}

#[derive(Clone, Debug)]
enum Kind {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
    PrefixSuffix(String, String),
    Any,
    Glob(regex::Regex),
}

/// A compiled whole-value string pattern.
#[derive(Clone, Debug)]
pub struct StrMatcher {
    kind: Kind,
    cased: bool,
    /// For fields the mapping marks numeric (PIDs, logon ids): compare as integers when both
    /// sides parse (decimal or `0x` hex).
    int_eq: Option<u64>,
    pub pattern: SigmaString,
}

impl StrMatcher {
    pub fn new(pattern: SigmaString, cased: bool) -> StrMatcher {
        let norm = |s: &str| {
            if cased {
                s.to_owned()
            } else {
                lower(s).into_owned()
            }
        };
        let p = &pattern.pieces;
        let kind = match p.as_slice() {
            [] => Kind::Exact(String::new()),
            [Piece::Lit(a)] => Kind::Exact(norm(a)),
            [Piece::Star] => Kind::Any,
            [Piece::Lit(a), Piece::Star] => Kind::Prefix(norm(a)),
            [Piece::Star, Piece::Lit(a)] => Kind::Suffix(norm(a)),
            [Piece::Star, Piece::Lit(a), Piece::Star] => Kind::Contains(norm(a)),
            [Piece::Lit(a), Piece::Star, Piece::Lit(b)] => Kind::PrefixSuffix(norm(a), norm(b)),
            _ => Kind::Glob(glob_regex(&pattern, cased)),
        };
        StrMatcher {
            kind,
            cased,
            int_eq: None,
            pattern,
        }
    }

    /// Enables integer comparison when the pattern is a plain number.
    pub fn with_numeric(mut self) -> StrMatcher {
        if let Some(text) = self.pattern.plain() {
            self.int_eq = parse_int(&text);
        }
        self
    }

    /// Whether integer comparison is on (string prefilters are then unsound).
    pub fn is_numeric(&self) -> bool {
        self.int_eq.is_some()
    }

    pub fn is_cased(&self) -> bool {
        self.cased
    }

    /// The integer a numeric field's value is compared with, when integer comparison is on.
    pub fn int_value(&self) -> Option<u64> {
        self.int_eq
    }

    /// The lowercased needle when this is a case-insensitive, wildcard-free `contains`.
    pub fn contains_needle(&self) -> Option<&str> {
        match (&self.kind, self.cased, self.int_eq) {
            (Kind::Contains(n), false, None) => Some(n),
            _ => None,
        }
    }

    /// Tests one event value; `low` is `lower(orig)`.
    pub fn matches(&self, orig: &str, low: &str) -> bool {
        if let Some(want) = self.int_eq
            && let Some(have) = parse_int(orig)
        {
            return want == have;
        }
        let hay = if self.cased { orig } else { low };
        match &self.kind {
            Kind::Exact(s) => hay == s,
            Kind::Prefix(s) => hay.starts_with(s.as_str()),
            Kind::Suffix(s) => hay.ends_with(s.as_str()),
            Kind::Contains(s) => hay.contains(s.as_str()),
            Kind::PrefixSuffix(a, b) => {
                hay.len() >= a.len() + b.len()
                    && hay.starts_with(a.as_str())
                    && hay.ends_with(b.as_str())
            }
            Kind::Any => true,
            Kind::Glob(re) => re.is_match(hay),
        }
    }

    /// Convenience for one-off tests.
    pub fn matches_str(&self, value: &str) -> bool {
        self.matches(value, &lower(value))
    }
}

/// Parses `123` or `0x7b` (any case) as an integer.
pub fn parse_int(text: &str) -> Option<u64> {
    let t = text.trim();
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()
    } else if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        t.parse().ok()
    } else {
        None
    }
}

fn glob_regex(pattern: &SigmaString, cased: bool) -> regex::Regex {
    let mut re = String::from("(?s)^");
    for p in &pattern.pieces {
        match p {
            Piece::Lit(l) => {
                let l = if cased {
                    Cow::Borrowed(l.as_str())
                } else {
                    lower(l)
                };
                re.push_str(&regex::escape(&l));
            }
            Piece::Star => re.push_str(".*"),
            Piece::One => re.push('.'),
        }
    }
    re.push('$');
    // Escaped literals and `.`/`.*` always form a valid regex; the fallback never matches.
    regex::Regex::new(&re).unwrap_or_else(|_| never_regex())
}

/// A regex that matches nothing (used only as an unreachable fallback).
pub fn never_regex() -> regex::Regex {
    #[allow(clippy::unwrap_used)] // a constant, valid pattern
    regex::Regex::new(r"[^\s\S]").unwrap()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn to_sigma_is_minimal_and_reads_back_the_same() {
        let cases = [
            (r"*\WmiPrvSE.exe", r"*\WmiPrvSE.exe"),
            (r"C:\Windows\", r"C:\Windows\"),
            (r"C:\\*", r"C:\\*"),
            (r"\\\\server\share", r"\\\server\share"),
            (r"a\*b\?", r"a\*b\?"),
            (r"x\\\*", r"x\\\*"),
            (r"\\\", r"\\\"),
        ];
        for (text, shown) in cases {
            let v = SigmaString::parse(text);
            assert_eq!(v.to_sigma(), shown, "{text}");
            assert_eq!(SigmaString::parse(&v.to_sigma()), v, "{text} reads back");
        }
    }

    fn m(p: &str, v: &str) -> bool {
        StrMatcher::new(SigmaString::parse(p), false).matches_str(v)
    }

    #[test]
    fn escapes() {
        assert_eq!(
            SigmaString::parse(r"C:\Windows\").plain().unwrap(),
            r"C:\Windows\"
        );
        assert_eq!(
            SigmaString::parse(r"\\127.0.0.1\").plain().unwrap(),
            r"\127.0.0.1\"
        );
        assert_eq!(
            SigmaString::parse(r"(objectclass=\*)").plain().unwrap(),
            "(objectclass=*)"
        );
        assert_eq!(
            SigmaString::parse(r"\\\\\*\IPC$").plain().unwrap(),
            r"\\*\IPC$"
        );
        assert_eq!(SigmaString::parse(r"\.ps").plain().unwrap(), r"\.ps");
        let s = SigmaString::parse(r"C:\\*");
        assert_eq!(s.pieces, vec![Piece::Lit("C:\\".into()), Piece::Star]);
        let s = SigmaString::parse(r" ?:\\\*.");
        assert_eq!(
            s.pieces,
            vec![
                Piece::Lit(" ".into()),
                Piece::One,
                Piece::Lit(r":\*.".into())
            ]
        );
    }

    #[test]
    fn round_trip_to_sigma() {
        for t in [r"a\*b*c?d\\e", r"C:\\*", r"x\?"] {
            let s = SigmaString::parse(t);
            assert_eq!(SigmaString::parse(&s.to_sigma()), s);
        }
    }

    #[test]
    fn whole_value_case_insensitive() {
        assert!(m(
            r"C:\Windows\System32\CMD.EXE",
            r"c:\windows\system32\cmd.exe"
        ));
        assert!(!m("cmd.exe", r"C:\Windows\System32\cmd.exe"));
        assert!(m(r"*\cmd.exe", r"C:\Windows\System32\cmd.exe"));
        assert!(m("*password*.txt", r"notepad C:\x\password_list.txt"));
        assert!(!m("*password*.txt", "notepad password.txt.bak"));
        assert!(!m(
            "*adlog.php?*",
            "x http://ad.foxitsoftware.com/adlog.php"
        ));
        assert!(m("*1?", "0x10"));
        assert!(m("a*", "a\nb"));
        assert!(!m("ab?c", "ac"));
        assert!(m("ΟΔΟΣ", "οδος"));
        assert!(!StrMatcher::new(SigmaString::parse("*IEX*"), true).matches_str("iex x"));
    }

    #[test]
    fn windash() {
        let v = SigmaString::parse(" -enc ").windash_variants();
        assert_eq!(v.len(), 5);
        assert!(v.iter().any(|s| s.plain().unwrap() == " /enc "));
        assert_eq!(
            SigmaString::parse("set-mppreference")
                .windash_variants()
                .len(),
            1
        );
        assert_eq!(SigmaString::parse("-a -b").windash_variants().len(), 25);
    }

    #[test]
    fn numeric_compare() {
        let s = StrMatcher::new(SigmaString::parse("4460"), false).with_numeric();
        assert!(s.matches_str("0x116c"));
        assert!(s.matches_str("4460"));
        assert!(!s.matches_str("0x116d"));
    }
}
