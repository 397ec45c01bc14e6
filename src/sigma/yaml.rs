//! An owned YAML tree with source spans, converted from saphyr's `MarkedYaml`.
//!
//! saphyr rejects duplicate keys and gives every node a start/end marker; owning the tree frees
//! the rest of the engine from saphyr's borrow lifetimes and lets a rule keep its detection for
//! later re-compilation (filters, edits).

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

/// A position range in the source text (line and column are 1-based; offsets count chars).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Span {
    pub line: usize,
    pub col: usize,
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    Int(i64),
    /// A float, kept with the text pySigma would render it as.
    Float(String),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub span: Span,
    pub kind: Kind,
}

/// A YAML syntax error with its position.
#[derive(Clone, Debug)]
pub struct YamlError {
    pub span: Span,
    pub message: String,
}

/// Parses every document of a YAML stream.
pub fn parse_documents(text: &str) -> Result<Vec<Node>, YamlError> {
    let docs = MarkedYaml::load_from_str(text).map_err(|e| YamlError {
        span: Span {
            line: e.marker().line(),
            col: e.marker().col() + 1,
            start: e.marker().index(),
            end: e.marker().index(),
        },
        message: e.info().to_owned(),
    })?;
    let chars: Vec<char> = text.chars().collect();
    docs.iter().map(|d| convert(d, &chars)).collect()
}

/// Every document of a stream that parses, and an error for each one that does not: one
/// broken document does not lose the others of its file. Each document is parsed on its own
/// from a copy of the text with the other documents blanked (newlines kept), so its spans
/// are those of the whole text.
pub fn parse_documents_each(text: &str) -> (Vec<Node>, Vec<YamlError>) {
    let error = match parse_documents(text) {
        Ok(docs) => return (docs, Vec::new()),
        Err(e) => e,
    };
    // Document starts: `---` at the start of a line, alone or before a space.
    let mut starts = vec![0];
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let rest = line.strip_prefix("---");
        if at > 0 && rest.is_some_and(|r| r.is_empty() || r.starts_with(char::is_whitespace)) {
            starts.push(at);
        }
        at += line.len();
    }
    if starts.len() < 2 {
        return (Vec::new(), vec![error]);
    }
    starts.push(text.len());
    let (mut docs, mut errors) = (Vec::new(), Vec::new());
    for w in starts.windows(2) {
        let masked: String = (text.char_indices())
            .map(|(i, c)| {
                if (w[0]..w[1]).contains(&i) || c == '\n' {
                    c
                } else {
                    ' '
                }
            })
            .collect();
        match parse_documents(&masked) {
            Ok(d) => docs.extend(d),
            Err(e) => errors.push(e),
        }
    }
    (docs, errors)
}

fn span_of(m: &MarkedYaml<'_>) -> Span {
    Span {
        line: m.span.start.line(),
        col: m.span.start.col() + 1,
        start: m.span.start.index(),
        end: m.span.end.index(),
    }
}

fn convert(m: &MarkedYaml<'_>, src: &[char]) -> Result<Node, YamlError> {
    let span = span_of(m);
    let kind = match &m.data {
        YamlData::Value(Scalar::Integer(_)) if leading_zero(src, span) => {
            // YAML 1.2 reads `00000409` as 409; PyYAML (YAML 1.1, what SigmaHQ is written
            // for) keeps it a string. Keep the text.
            Kind::Str(
                src.get(span.start..span.end)
                    .unwrap_or_default()
                    .iter()
                    .collect(),
            )
        }
        YamlData::Value(s) => scalar(s),
        YamlData::Representation(text, _, _) => Kind::Str(text.to_string()),
        YamlData::Sequence(items) => Kind::Seq(
            items
                .iter()
                .map(|i| convert(i, src))
                .collect::<Result<_, _>>()?,
        ),
        YamlData::Mapping(map) => Kind::Map(
            map.iter()
                .map(|(k, v)| Ok((convert(k, src)?, convert(v, src)?)))
                .collect::<Result<_, YamlError>>()?,
        ),
        YamlData::Tagged(_, inner) => return convert(inner, src),
        YamlData::Alias(_) | YamlData::BadValue => {
            return Err(YamlError {
                span,
                message: "invalid YAML value".into(),
            });
        }
    };
    Ok(Node { span, kind })
}

/// A plain decimal integer written with leading zeros (`007`), not `0`, `0x…` or `0o…`.
fn leading_zero(src: &[char], span: Span) -> bool {
    let raw = src.get(span.start..span.end).unwrap_or_default();
    let digits = raw
        .strip_prefix(&['-'])
        .or_else(|| raw.strip_prefix(&['+']))
        .unwrap_or(raw);
    digits.len() > 1 && digits[0] == '0' && digits.iter().all(char::is_ascii_digit)
}

fn scalar(s: &Scalar<'_>) -> Kind {
    match s {
        Scalar::Null => Kind::Null,
        Scalar::Boolean(b) => Kind::Bool(*b),
        Scalar::Integer(i) => Kind::Int(*i),
        Scalar::FloatingPoint(f) => Kind::Float(float_text(f.into_inner())),
        Scalar::String(s) => Kind::Str(s.to_string()),
    }
}

/// Renders a float like Python's `str(float)`, which is what pySigma compares against.
fn float_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e16 {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}

impl Node {
    /// The text of a scalar (numbers and booleans rendered as Sigma compares them).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.kind {
            Kind::Bool(b) => Some(b.to_string()),
            Kind::Int(i) => Some(i.to_string()),
            Kind::Float(f) => Some(f.clone()),
            Kind::Str(s) => Some(s.clone()),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value under `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Mapping entries with their keys as text (non-scalar keys are skipped).
    pub fn entries(&self) -> Vec<(String, &Node, &Node)> {
        match &self.kind {
            Kind::Map(entries) => entries
                .iter()
                .filter_map(|(k, v)| k.scalar_text().map(|t| (t, k, v)))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// A string, or every string of a list of scalars (for `tags`, `references`, …).
    pub fn string_list(&self) -> Vec<String> {
        match &self.kind {
            Kind::Seq(items) => items.iter().filter_map(Node::scalar_text).collect(),
            Kind::Null => Vec::new(),
            _ => self.scalar_text().into_iter().collect(),
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.kind, Kind::Map(_))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn scalars_and_spans() {
        let docs =
            parse_documents("a: 1\nb: '2'\nc: 2.0\nd: 0x17\ne: ~\nf: true\ng: 00000409\n").unwrap();
        assert_eq!(docs[0].get("g").unwrap().kind, Kind::Str("00000409".into()));
        let d = &docs[0];
        assert_eq!(d.get("a").unwrap().kind, Kind::Int(1));
        assert_eq!(d.get("b").unwrap().kind, Kind::Str("2".into()));
        assert_eq!(d.get("c").unwrap().scalar_text().unwrap(), "2.0");
        assert_eq!(d.get("d").unwrap().kind, Kind::Int(23));
        assert_eq!(d.get("e").unwrap().kind, Kind::Null);
        assert_eq!(d.get("f").unwrap().scalar_text().unwrap(), "true");
        assert_eq!(d.get("b").unwrap().span.line, 2);
        assert_eq!(d.get("b").unwrap().span.col, 4);
    }

    #[test]
    fn duplicate_keys_rejected_with_position() {
        let e = parse_documents("a: 1\nb:\n  x: 1\n  x: 2\n").unwrap_err();
        assert_eq!(e.span.line, 4);
        assert!(e.message.contains("duplicate"), "{}", e.message);
    }

    #[test]
    fn multi_document() {
        assert_eq!(parse_documents("a: 1\n---\nb: 2\n").unwrap().len(), 2);
    }
}
