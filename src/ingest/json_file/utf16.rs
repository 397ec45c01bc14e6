//! UTF-16 text (with a byte order mark) decoded to UTF-8 as it is read, so a UTF-16 export is
//! streamed like any other. Unpaired surrogates become U+FFFD, as a lossy UTF-8 read would.

use std::io::Read;

/// `Some(big_endian)` when `head` starts with a UTF-16 byte order mark.
pub fn bom(head: &[u8]) -> Option<bool> {
    match head {
        // FF FE 00 00 is the UTF-32 LE mark, which this does not decode.
        [0xFF, 0xFE, 0, 0, ..] => None,
        [0xFF, 0xFE, ..] => Some(false),
        [0xFE, 0xFF, ..] => Some(true),
        _ => None,
    }
}

/// The characters of whole UTF-16 code units in `bytes`.
pub fn chars(bytes: &[u8], big_endian: bool) -> impl Iterator<Item = char> + '_ {
    char::decode_utf16(units(bytes, big_endian)).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
}

fn units(bytes: &[u8], big_endian: bool) -> impl Iterator<Item = u16> + '_ {
    bytes.chunks_exact(2).map(move |p| {
        let pair = [p[0], p[1]];
        if big_endian {
            u16::from_be_bytes(pair)
        } else {
            u16::from_le_bytes(pair)
        }
    })
}

/// Reads UTF-16 from `inner` (after its byte order mark) and yields UTF-8.
pub struct Decoder<R> {
    inner: R,
    big_endian: bool,
    raw: Vec<u8>,
    /// Bytes of `raw` carried over to the next read: an odd byte, or a high surrogate whose
    /// low half has not been read yet.
    carry: usize,
    out: Vec<u8>,
    at: usize,
    done: bool,
}

impl<R: Read> Decoder<R> {
    pub fn new(inner: R, big_endian: bool) -> Self {
        Decoder {
            inner,
            big_endian,
            raw: vec![0; 64 * 1024],
            carry: 0,
            out: Vec::new(),
            at: 0,
            done: false,
        }
    }

    /// Decodes the next block into `out`; at the end of the input, what was carried over.
    fn refill(&mut self) -> std::io::Result<()> {
        self.out.clear();
        self.at = 0;
        let n = loop {
            match self.inner.read(&mut self.raw[self.carry..]) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                other => break other?,
            }
        };
        let mut end = self.carry + n;
        if n == 0 {
            // A dangling odd byte or high surrogate at the end of the file.
            self.done = true;
            if self.carry > 0 {
                self.carry = 0;
                self.push(char::REPLACEMENT_CHARACTER);
            }
            return Ok(());
        }
        let whole = end & !1;
        let last = units(&self.raw[..whole], self.big_endian).last();
        if last.is_some_and(|u| (0xD800..0xDC00).contains(&u)) {
            end = whole - 2; // keep the high surrogate for the next block
        } else {
            end = whole;
        }
        let (big_endian, mut out) = (self.big_endian, std::mem::take(&mut self.out));
        let mut utf8 = [0u8; 4];
        for c in chars(&self.raw[..end], big_endian) {
            out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
        }
        self.out = out;
        self.raw.copy_within(end..self.carry + n, 0);
        self.carry = self.carry + n - end;
        Ok(())
    }

    fn push(&mut self, c: char) {
        let mut utf8 = [0u8; 4];
        self.out
            .extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
    }
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.out.len() {
            if self.done {
                return Ok(0);
            }
            self.refill()?;
        }
        let n = buf.len().min(self.out.len() - self.at);
        buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(text: &str, big_endian: bool) -> Vec<u8> {
        let mut out = if big_endian {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for u in text.encode_utf16() {
            out.extend(if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            });
        }
        out
    }

    /// Reads through a reader that hands out `step` bytes at a time, so blocks end inside code
    /// units and surrogate pairs.
    fn decode(bytes: &[u8], step: usize) -> String {
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.1.min(buf.len()).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let big_endian = bom(bytes).expect("a byte order mark");
        let mut out = String::new();
        Decoder::new(Trickle(&bytes[2..], step), big_endian)
            .read_to_string(&mut out)
            .expect("utf-8");
        out
    }

    #[test]
    fn decodes_both_byte_orders_across_block_boundaries() {
        let text = "{\"Image\": \"C:\\\\é\\\\😀.exe\"}\r\n{\"a\": \"ü\"}";
        for big_endian in [false, true] {
            let bytes = encode(text, big_endian);
            for step in [1, 2, 3, 5, 4096] {
                assert_eq!(decode(&bytes, step), text, "step {step}");
            }
        }
    }

    #[test]
    fn unpaired_halves_become_replacement_characters() {
        let mut bytes = encode("a", false);
        bytes.extend(0xD83Du16.to_le_bytes()); // a high surrogate, then a plain unit
        bytes.extend(u16::from(b'b').to_le_bytes());
        bytes.extend(0xD83Du16.to_le_bytes()); // and one at the very end, then an odd byte
        bytes.push(b'x');
        assert_eq!(decode(&bytes, 3), "a\u{FFFD}b\u{FFFD}");
    }
}
