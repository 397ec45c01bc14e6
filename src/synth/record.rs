//! One event to write, and its template + substitution values.

use super::SynthError;
use super::binxml::{Content, Element};
use super::value::{self, DataValue};

const EVENT_XMLNS: &str = "http://schemas.microsoft.com/win/2004/08/events/event";

/// An event as the writer takes it: the `<System>` values and the `<EventData>` pairs.
///
/// The record identifier (`EventRecordID`) is assigned by the writer in write order.
#[derive(Clone, Debug, PartialEq)]
pub struct SynthEvent {
    pub provider: String,
    /// `{xxxxxxxx-…}`; omitted from the XML when `None` (classic providers have none).
    pub provider_guid: Option<String>,
    /// Classic providers (Service Control Manager) also carry `EventSourceName`.
    pub event_source_name: Option<String>,
    pub event_id: u16,
    pub qualifiers: Option<u16>,
    pub version: u8,
    pub level: u8,
    pub task: u16,
    pub opcode: u8,
    pub keywords: u64,
    pub time: jiff::Timestamp,
    pub activity_id: Option<String>,
    pub process_id: u32,
    pub thread_id: u32,
    pub channel: String,
    pub computer: String,
    /// `Security/@UserID` as `S-1-…`.
    pub user_id: Option<String>,
    /// `<Data Name="…">` children of `<EventData>`, in order.
    pub data: Vec<(String, DataValue)>,
    /// Children of `<UserData>`, written instead of `<EventData>` when not empty (`data` must
    /// then be empty). Windows puts one wrapper element here, e.g. WMI-Activity 5861's
    /// `Operation_ESStoConsumerBinding` with its `xmlns`.
    pub user_data: Vec<UserElement>,
}

/// An element under `<UserData>`: literal attributes, then a value or child elements.
#[derive(Clone, Debug, PartialEq)]
pub struct UserElement {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub body: UserBody,
}

#[derive(Clone, Debug, PartialEq)]
pub enum UserBody {
    /// A substitution value, like a `<Data>` element's.
    Value(DataValue),
    Children(Vec<UserElement>),
}

impl UserElement {
    /// A leaf element holding `value`.
    pub fn value(name: &str, value: DataValue) -> Self {
        UserElement {
            name: name.to_owned(),
            attrs: Vec::new(),
            body: UserBody::Value(value),
        }
    }

    /// An element holding `children`.
    pub fn parent(name: &str, children: Vec<UserElement>) -> Self {
        UserElement {
            name: name.to_owned(),
            attrs: Vec::new(),
            body: UserBody::Children(children),
        }
    }

    pub fn attr(mut self, name: &str, value: &str) -> Self {
        self.attrs.push((name.to_owned(), value.to_owned()));
        self
    }
}

impl SynthEvent {
    /// A minimal event; callers fill in the rest.
    pub fn new(provider: &str, channel: &str, event_id: u16, computer: &str) -> Self {
        SynthEvent {
            provider: provider.to_owned(),
            provider_guid: None,
            event_source_name: None,
            event_id,
            qualifiers: None,
            version: 0,
            level: 4,
            task: 0,
            opcode: 0,
            keywords: 0x8000_0000_0000_0000,
            time: jiff::Timestamp::UNIX_EPOCH,
            activity_id: None,
            process_id: 4,
            thread_id: 4,
            channel: channel.to_owned(),
            computer: computer.to_owned(),
            user_id: None,
            data: Vec::new(),
            user_data: Vec::new(),
        }
    }
}

/// A record ready for a chunk: template identity, skeleton and values.
pub struct Encoded {
    pub guid: [u8; 16],
    pub root: Element,
    pub values: Vec<DataValue>,
    pub filetime: u64,
}

/// Collects substitution values while the template skeleton is built.
struct Subs(Vec<DataValue>);

impl Subs {
    fn add(&mut self, v: DataValue, optional: bool) -> Content {
        let index = u16::try_from(self.0.len()).unwrap_or(u16::MAX);
        let ty = v.type_code();
        self.0.push(v);
        Content::Sub {
            index,
            ty,
            optional,
        }
    }
}

fn guid_value(what: &str, text: &str) -> Result<DataValue, SynthError> {
    value::parse_guid(text)
        .map(DataValue::Guid)
        .ok_or_else(|| SynthError::Invalid(format!("{what} is not a GUID: {text:?}")))
}

/// Builds the template and values for `ev` written as record `record_id`.
pub fn encode(ev: &SynthEvent, record_id: u64) -> Result<Encoded, SynthError> {
    if ev.data.len() > 4000 {
        return Err(SynthError::Invalid("too many EventData values".into()));
    }
    let filetime = value::filetime_from(ev.time)?;
    let mut s = Subs(Vec::new());

    let mut provider =
        Element::new("Provider").attr("Name", s.add(DataValue::Str(ev.provider.clone()), false));
    if let Some(g) = &ev.provider_guid {
        provider = provider.attr("Guid", s.add(guid_value("provider GUID", g)?, false));
    }
    if let Some(n) = &ev.event_source_name {
        provider = provider.attr("EventSourceName", s.add(DataValue::Str(n.clone()), false));
    }
    let mut event_id = Element::new("EventID");
    if let Some(q) = ev.qualifiers {
        event_id = event_id.attr("Qualifiers", s.add(DataValue::U16(q), false));
    }
    let event_id = event_id.content(s.add(DataValue::U16(ev.event_id), false));
    let mut correlation = Element::new("Correlation");
    if let Some(a) = &ev.activity_id {
        correlation = correlation.attr("ActivityID", s.add(guid_value("activity id", a)?, false));
    }
    let mut security = Element::new("Security");
    if let Some(u) = &ev.user_id {
        let sid = value::parse_sid(u)
            .ok_or_else(|| SynthError::Invalid(format!("user id is not a SID: {u:?}")))?;
        security = security.attr("UserID", s.add(DataValue::Sid(sid), false));
    }

    let system = Element::new("System")
        .child(provider)
        .child(event_id)
        .child(Element::new("Version").content(s.add(DataValue::U8(ev.version), false)))
        .child(Element::new("Level").content(s.add(DataValue::U8(ev.level), false)))
        .child(Element::new("Task").content(s.add(DataValue::U16(ev.task), false)))
        .child(Element::new("Opcode").content(s.add(DataValue::U8(ev.opcode), false)))
        .child(Element::new("Keywords").content(s.add(DataValue::HexI64(ev.keywords), false)))
        .child(
            Element::new("TimeCreated")
                .attr("SystemTime", s.add(DataValue::FileTime(filetime), false)),
        )
        .child(Element::new("EventRecordID").content(s.add(DataValue::U64(record_id), false)))
        .child(correlation)
        .child(
            Element::new("Execution")
                .attr("ProcessID", s.add(DataValue::U32(ev.process_id), false))
                .attr("ThreadID", s.add(DataValue::U32(ev.thread_id), false)),
        )
        .child(Element::new("Channel").content(s.add(DataValue::Str(ev.channel.clone()), false)))
        .child(Element::new("Computer").content(s.add(DataValue::Str(ev.computer.clone()), false)))
        .child(security);

    let payload = if ev.user_data.is_empty() {
        let mut event_data = Element::new("EventData");
        for (name, v) in &ev.data {
            if name.is_empty() {
                return Err(SynthError::Invalid("an EventData name is empty".into()));
            }
            // Windows marks Data substitutions optional: a null value leaves the element empty.
            let data = Element::new("Data")
                .attr("Name", Content::Text(name.clone()))
                .content(s.add(v.clone(), true));
            event_data = event_data.child(data);
        }
        event_data
    } else if ev.data.is_empty() {
        let mut user_data = Element::new("UserData");
        for el in &ev.user_data {
            user_data = user_data.child(user_element(el, &mut s, 0)?);
        }
        user_data
    } else {
        return Err(SynthError::Invalid(
            "an event has either EventData or UserData, not both".into(),
        ));
    };

    let root = Element::new("Event")
        .attr("xmlns", Content::Text(EVENT_XMLNS.into()))
        .child(system)
        .child(payload);
    Ok(Encoded {
        guid: template_guid(&root),
        root,
        values: s.0,
        filetime,
    })
}

/// Nesting this deep is surely a mistake in the input, and recursion needs a bound.
const MAX_USER_DATA_DEPTH: usize = 16;

/// A `<UserData>` element for the template: attributes stay literal text (they are part of the
/// event's schema, like the wrapper's `xmlns`), leaf values become substitutions.
fn user_element(el: &UserElement, s: &mut Subs, depth: usize) -> Result<Element, SynthError> {
    if el.name.is_empty() || el.attrs.iter().any(|(n, _)| n.is_empty()) {
        return Err(SynthError::Invalid("a UserData name is empty".into()));
    }
    if depth >= MAX_USER_DATA_DEPTH {
        return Err(SynthError::Invalid("UserData is nested too deeply".into()));
    }
    let mut out = Element::new(&el.name);
    for (name, text) in &el.attrs {
        out = out.attr(name, Content::Text(text.clone()));
    }
    match &el.body {
        UserBody::Value(v) => Ok(out.content(s.add(v.clone(), true))),
        UserBody::Children(children) => {
            for child in children {
                out = out.child(user_element(child, s, depth + 1)?);
            }
            Ok(out)
        }
    }
}

/// A stable GUID for a template skeleton (same skeleton, same GUID, in every run).
fn template_guid(root: &Element) -> [u8; 16] {
    let mut w = super::binxml::ChunkWriter::default();
    w.element(root);
    let a = fnv1a(&w.buf, 0xcbf2_9ce4_8422_2325);
    let b = fnv1a(&w.buf, 0x6c62_272e_07bb_0142);
    let mut guid = [0u8; 16];
    guid[..8].copy_from_slice(&a.to_le_bytes());
    guid[8..].copy_from_slice(&b.to_le_bytes());
    guid
}

fn fnv1a(bytes: &[u8], basis: u64) -> u64 {
    bytes.iter().fold(basis, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
