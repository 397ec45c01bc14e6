//! Binary XML encoding: template definitions and the chunk-relative name table.
//!
//! Windows writes every record as a `TemplateInstance` whose template (the XML skeleton) lives
//! once per chunk and whose values follow as typed substitutions. We do the same, because
//! readers only agree on element headers inside template definitions (with a dependency
//! identifier) and because typed values (uint16 EventID, FILETIME, SID…) can only be carried
//! by substitutions; a plain `Value` token holds text only.

use std::collections::HashMap;

/// BinXml token bytes (libyal "Binary XML" §tokens).
mod token {
    pub const END_OF_STREAM: u8 = 0x00;
    pub const OPEN_START_ELEMENT: u8 = 0x01;
    pub const CLOSE_START_ELEMENT: u8 = 0x02;
    pub const CLOSE_EMPTY_ELEMENT: u8 = 0x03;
    pub const CLOSE_ELEMENT: u8 = 0x04;
    pub const VALUE: u8 = 0x05;
    pub const ATTRIBUTE: u8 = 0x06;
    pub const TEMPLATE_INSTANCE: u8 = 0x0c;
    pub const NORMAL_SUBSTITUTION: u8 = 0x0d;
    pub const OPTIONAL_SUBSTITUTION: u8 = 0x0e;
    pub const FRAGMENT_HEADER: u8 = 0x0f;
    /// Flag on OpenStartElement (has attributes) and Attribute (another one follows).
    pub const MORE: u8 = 0x40;
}

/// Elements outside a dependency chain carry this dependency identifier.
const NO_DEPENDENCY: u16 = 0xffff;

/// Content of an attribute or element: literal text or substitution slot `index` of `ty`.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum Content {
    Text(String),
    Sub { index: u16, ty: u8, optional: bool },
}

/// A template element.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, Content)>,
    pub children: Vec<Node>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    Content(Content),
}

impl Element {
    pub fn new(name: &str) -> Self {
        Element {
            name: name.to_owned(),
            attrs: Vec::new(),
            children: Vec::new(),
        }
    }

    pub fn attr(mut self, name: &str, value: Content) -> Self {
        self.attrs.push((name.to_owned(), value));
        self
    }

    pub fn child(mut self, child: Element) -> Self {
        self.children.push(Node::Element(child));
        self
    }

    pub fn content(mut self, content: Content) -> Self {
        self.children.push(Node::Content(content));
        self
    }
}

/// The standard BinXml name hash: `h = h * 65599 + unit` over UTF-16 units, low 16 bits kept.
pub fn name_hash(name: &str) -> u16 {
    let h = name.encode_utf16().fold(0u32, |h, u| {
        h.wrapping_mul(65599).wrapping_add(u32::from(u))
    });
    (h & 0xffff) as u16
}

/// Bytes being laid out at a known chunk offset, with the chunk's name and template tables.
///
/// Names are written inline the first time a chunk needs them and referenced by offset after
/// that, as Windows does; the chunk-header hash tables stay empty (readers do not need them).
#[derive(Clone, Debug, Default)]
pub struct ChunkWriter {
    /// Chunk offset of `buf[0]`.
    pub base: u32,
    pub buf: Vec<u8>,
    pub names: HashMap<String, u32>,
    /// Template GUID → chunk offset of its definition.
    pub templates: HashMap<[u8; 16], u32>,
}

impl ChunkWriter {
    /// The chunk offset of the next byte written.
    pub fn pos(&self) -> u32 {
        // Chunks are 64 KiB; callers reject records that would not fit long before overflow.
        self.base
            .saturating_add(u32::try_from(self.buf.len()).unwrap_or(u32::MAX))
    }

    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// Reserves a u32 to patch later; returns its index in `buf`.
    fn placeholder(&mut self) -> usize {
        let at = self.buf.len();
        self.u32(0);
        at
    }

    /// Patches a placeholder with the number of bytes written after it.
    fn patch_size(&mut self, at: usize) {
        let size = u32::try_from(self.buf.len() - at - 4).unwrap_or(u32::MAX);
        self.buf[at..at + 4].copy_from_slice(&size.to_le_bytes());
    }

    fn utf16(&mut self, text: &str) {
        for unit in text.encode_utf16() {
            self.u16(unit);
        }
    }

    /// A name reference: an offset, followed by the name itself when this is its first use.
    fn name(&mut self, name: &str) {
        if let Some(&offset) = self.names.get(name) {
            self.u32(offset);
            return;
        }
        let offset = self.pos() + 4;
        self.u32(offset);
        self.names.insert(name.to_owned(), offset);
        self.u32(0); // next string in the same hash bucket: none
        self.u16(name_hash(name));
        self.u16(u16::try_from(name.encode_utf16().count()).unwrap_or(u16::MAX));
        self.utf16(name);
        self.u16(0);
    }

    fn fragment_header(&mut self) {
        self.buf
            .extend_from_slice(&[token::FRAGMENT_HEADER, 0x01, 0x01, 0x00]);
    }

    fn content(&mut self, content: &Content) {
        match content {
            Content::Text(text) => {
                self.u8(token::VALUE);
                self.u8(super::value::ty::STRING);
                self.u16(u16::try_from(text.encode_utf16().count()).unwrap_or(u16::MAX));
                self.utf16(text);
            }
            Content::Sub {
                index,
                ty,
                optional,
            } => {
                self.u8(if *optional {
                    token::OPTIONAL_SUBSTITUTION
                } else {
                    token::NORMAL_SUBSTITUTION
                });
                self.u16(*index);
                self.u8(*ty);
            }
        }
    }

    pub(super) fn element(&mut self, el: &Element) {
        let flags = if el.attrs.is_empty() { 0 } else { token::MORE };
        self.u8(token::OPEN_START_ELEMENT | flags);
        self.u16(NO_DEPENDENCY);
        let data_size = self.placeholder();
        self.name(&el.name);
        if !el.attrs.is_empty() {
            let attr_size = self.placeholder();
            for (i, (name, value)) in el.attrs.iter().enumerate() {
                let more = if i + 1 < el.attrs.len() {
                    token::MORE
                } else {
                    0
                };
                self.u8(token::ATTRIBUTE | more);
                self.name(name);
                self.content(value);
            }
            self.patch_size(attr_size);
        }
        if el.children.is_empty() {
            self.u8(token::CLOSE_EMPTY_ELEMENT);
        } else {
            self.u8(token::CLOSE_START_ELEMENT);
            for child in &el.children {
                match child {
                    Node::Element(e) => self.element(e),
                    Node::Content(c) => self.content(c),
                }
            }
            self.u8(token::CLOSE_ELEMENT);
        }
        self.patch_size(data_size);
    }

    /// Writes a template definition (header + fragment) at the current position.
    fn template_definition(&mut self, guid: &[u8; 16], root: &Element) {
        self.u32(0); // next template in the same hash bucket: none
        self.buf.extend_from_slice(guid);
        let data_size = self.placeholder();
        self.fragment_header();
        self.element(root);
        self.u8(token::END_OF_STREAM);
        self.patch_size(data_size);
    }

    /// Writes a record's BinXml: fragment header, a template instance (with the definition
    /// inline on its first use in this chunk), the substitution values and EndOfStream.
    pub fn template_instance(
        &mut self,
        guid: &[u8; 16],
        root: &Element,
        values: &[super::value::DataValue],
    ) -> Result<(), super::SynthError> {
        self.fragment_header();
        self.u8(token::TEMPLATE_INSTANCE);
        self.u8(0x01);
        // Readers take the template id from the first four GUID bytes.
        self.u32(u32::from_le_bytes([guid[0], guid[1], guid[2], guid[3]]));
        match self.templates.get(guid) {
            Some(&offset) => self.u32(offset),
            None => {
                let offset = self.pos() + 4;
                self.u32(offset);
                self.templates.insert(*guid, offset);
                self.template_definition(guid, root);
            }
        }
        self.u32(u32::try_from(values.len()).unwrap_or(u32::MAX));
        for v in values {
            let len = u16::try_from(v.encoded_len()).map_err(|_| {
                super::SynthError::Invalid(format!(
                    "a value of {} bytes exceeds the 65535-byte substitution limit",
                    v.encoded_len()
                ))
            })?;
            self.u16(len);
            self.u8(v.type_code());
            self.u8(0);
        }
        for v in values {
            v.encode(&mut self.buf);
        }
        // libevtx reads one more token after the values and needs EndOfStream there; without
        // it, a record whose length is already 8-aligned (no zero padding) fails to parse.
        self.u8(token::END_OF_STREAM);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_hash_matches_windows_sample() {
        // Values seen in a Windows-written chunk.
        assert_eq!(name_hash("Event"), 0x0cba);
        assert_eq!(name_hash("xmlns"), 0x0fbc);
    }

    #[test]
    fn names_are_inline_once_then_referenced() {
        let mut w = ChunkWriter {
            base: 512,
            ..Default::default()
        };
        w.name("Data");
        assert_eq!(&w.buf[..4], &516u32.to_le_bytes());
        let first_len = w.buf.len();
        w.name("Data");
        assert_eq!(w.buf.len(), first_len + 4);
        assert_eq!(&w.buf[first_len..], &516u32.to_le_bytes());
    }

    #[test]
    fn element_sizes_cover_the_element_body() {
        let mut w = ChunkWriter::default();
        w.element(&Element::new("A").attr("b", Content::Text("c".into())));
        // token, dependency, then the size counts everything after the size field.
        let size = u32::from_le_bytes([w.buf[3], w.buf[4], w.buf[5], w.buf[6]]) as usize;
        assert_eq!(size, w.buf.len() - 7);
        assert_eq!(w.buf.last(), Some(&token::CLOSE_EMPTY_ELEMENT));
    }
}
