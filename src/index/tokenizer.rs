//! The `ng` field's tokenizer: given `field<SEP>value` (value already folded) it emits
//! `field<SEP>abc` for every character trigram of the value, reusing one token buffer.
//! Doing this inside tantivy's tokenizer rather than adding each trigram as its own value
//! avoids one `String` per trigram, the largest cost of ingest.

use super::schema::NG_SEP;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

pub const NAME: &str = "huntbench_field_trigram";

#[derive(Clone, Default)]
pub struct FieldTrigramTokenizer {
    token: Token,
}

pub struct FieldTrigramStream<'a> {
    /// `field<SEP>` prefix length within `token.text`.
    prefix_len: usize,
    chars: std::str::CharIndices<'a>,
    window: [char; 3],
    filled: usize,
    token: &'a mut Token,
}

impl Tokenizer for FieldTrigramTokenizer {
    type TokenStream<'a> = FieldTrigramStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> FieldTrigramStream<'a> {
        let (prefix, value) = match text.find(NG_SEP) {
            Some(i) => (
                &text[..i + NG_SEP.len_utf8()],
                &text[i + NG_SEP.len_utf8()..],
            ),
            None => ("", text),
        };
        self.token.text.clear();
        self.token.text.push_str(prefix);
        self.token.position = usize::MAX;
        FieldTrigramStream {
            prefix_len: prefix.len(),
            chars: value.char_indices(),
            window: ['\0'; 3],
            filled: 0,
            token: &mut self.token,
        }
    }
}

impl TokenStream for FieldTrigramStream<'_> {
    fn advance(&mut self) -> bool {
        for (_, c) in self.chars.by_ref() {
            self.window = [self.window[1], self.window[2], c];
            self.filled += 1;
            if self.filled >= 3 {
                self.token.text.truncate(self.prefix_len);
                self.token.text.extend(self.window);
                self.token.position = self.token.position.wrapping_add(1);
                return true;
            }
        }
        false
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::tokenizer::TextAnalyzer;

    #[test]
    fn emits_field_scoped_trigrams() {
        let mut a = TextAnalyzer::from(FieldTrigramTokenizer::default());
        let mut stream = a.token_stream("image\u{1f}cmd.é");
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        let want: Vec<String> = super::super::schema::trigrams("cmd.é")
            .map(|g| super::super::schema::ng_term("image", &g))
            .collect();
        assert_eq!(out, want);
    }
}
