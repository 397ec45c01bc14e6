//! What the hand-written recursive-descent parsers share (the search language, `query`, and
//! Sigma conditions, `sigma::condition`): a cursor over positioned tokens that peeks, advances,
//! places errors at the next token (or the end of the text), and bounds nesting, so a deeply
//! nested input is an error rather than a stack overflow that would take the process (and the
//! workbench's terminal) down. The grammars, tokens and error types stay each parser's own.

/// A token and the 0-based character offset where it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned<T> {
    pub tok: T,
    pub at: usize,
}

/// An error a parser reports at a character offset.
pub trait ParseError {
    fn at(offset: usize, message: String) -> Self;
}

pub struct Cursor<T> {
    toks: Vec<Spanned<T>>,
    next: usize,
    /// The offset of the end of the text (where "unexpected end" errors point).
    end: usize,
    depth: usize,
    max_depth: usize,
}

impl<T> Cursor<T> {
    pub fn new(toks: Vec<Spanned<T>>, end: usize, max_depth: usize) -> Cursor<T> {
        Cursor {
            toks,
            next: 0,
            end,
            depth: 0,
            max_depth,
        }
    }

    pub fn tokens(&self) -> &[Spanned<T>] {
        &self.toks
    }

    /// The next token.
    pub fn peek(&self) -> Option<&T> {
        self.peek_nth(0)
    }

    /// The token `n` places after the next one.
    pub fn peek_nth(&self, n: usize) -> Option<&T> {
        self.toks.get(self.next + n).map(|t| &t.tok)
    }

    /// Moves past `n` tokens.
    pub fn skip(&mut self, n: usize) {
        self.next = (self.next + n).min(self.toks.len());
    }

    pub fn is_done(&self) -> bool {
        self.next >= self.toks.len()
    }

    /// Where the next token starts, or the end of the text.
    pub fn offset(&self) -> usize {
        self.toks.get(self.next).map_or(self.end, |t| t.at)
    }

    /// An error at the next token.
    pub fn err<E: ParseError>(&self, message: impl Into<String>) -> E {
        E::at(self.offset(), message.into())
    }

    /// Counts one more level of nesting (parentheses, negation): past the limit it is an
    /// error. Each successful call is paired with [`Self::shallower`].
    pub fn deeper<E: ParseError>(&mut self) -> Result<(), E> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(self.err(format!("nested more than {} levels deep", self.max_depth)));
        }
        Ok(())
    }

    pub fn shallower(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Err(usize, String);

    impl ParseError for Err {
        fn at(offset: usize, message: String) -> Err {
            Err(offset, message)
        }
    }

    #[test]
    fn errors_point_at_the_next_token_or_the_end_and_nesting_is_bounded() {
        let toks = vec![Spanned { tok: 'a', at: 0 }, Spanned { tok: 'b', at: 2 }];
        let mut c = Cursor::new(toks, 3, 1);
        assert_eq!((c.peek(), c.peek_nth(1)), (Some(&'a'), Some(&'b')));
        c.skip(1);
        assert_eq!(c.err::<Err>("x"), Err(2, "x".into()));
        c.skip(5);
        assert!(c.is_done());
        assert_eq!(c.err::<Err>("end"), Err(3, "end".into()));
        assert!(c.deeper::<Err>().is_ok());
        assert!(c.deeper::<Err>().is_err());
        c.shallower();
        c.shallower();
        assert!(c.deeper::<Err>().is_ok());
    }
}
