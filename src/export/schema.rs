//! The columns of an exported event (SCHEMA.md documents them) and the builder that turns
//! normalised events into Arrow record batches of that shape.

use crate::event::{Event, Value, is_system_field, names};
use arrow_array::builder::{
    Int32Builder, Int64Builder, MapBuilder, MapFieldNames, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};
use std::sync::{Arc, OnceLock};

/// Bumped whenever a column is added, removed, renamed or changes meaning.
pub const SCHEMA_VERSION: &str = "2";
/// Key-value metadata key holding [`SCHEMA_VERSION`].
pub const SCHEMA_VERSION_KEY: &str = "huntbench.schema_version";
/// Key-value metadata key holding the version of huntbench that wrote the file.
pub const PRODUCER_KEY: &str = "huntbench.version";

/// EventData fields most used by Sigma rules, copied into columns of their own (they stay in
/// `event_data` too): a search on one reads that column instead of the whole map, 12-14 times
/// faster in DuckDB for 4 % more bytes (BENCHMARKS.md).
pub const PROMOTED: [&str; 6] = [
    "Image",
    "CommandLine",
    "ParentImage",
    "ParentCommandLine",
    "TargetFilename",
    "TargetObject",
];

/// Where an event came from: the same for every event of one source file.
#[derive(Clone, Debug)]
pub struct Source {
    /// The id the case gives the file (in a raw export, the id a fresh case would give it).
    pub ingest_id: u64,
    /// The path the file was read from (the first of its paths).
    pub file: String,
    /// SHA-256 of the file's content, hex: the same file wherever it is found.
    pub sha256: String,
}

/// The Arrow schema of the export, with the version metadata.
pub fn arrow_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let text = |name: &str| Field::new(name, DataType::Utf8, true);
            let mut fields = vec![
                Field::new(
                    "time",
                    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                    true,
                ),
                Field::new("event_id", DataType::Int32, true),
                text("channel"),
                text("provider"),
                text("computer"),
                Field::new("record_id", DataType::Int64, true),
                Field::new("source_file", DataType::Utf8, false),
                Field::new("ingest_id", DataType::Int64, false),
                Field::new("source_sha256", DataType::Utf8, false),
                Field::new("system", map_type(), false),
                Field::new("event_data", map_type(), false),
                Field::new("event", DataType::Utf8, false),
                Field::new("event_key", DataType::Int64, false),
            ];
            fields.extend(PROMOTED.iter().map(|name| text(name)));
            let metadata = [
                (SCHEMA_VERSION_KEY.to_owned(), SCHEMA_VERSION.to_owned()),
                (
                    PRODUCER_KEY.to_owned(),
                    env!("CARGO_PKG_VERSION").to_owned(),
                ),
            ];
            Arc::new(Schema::new_with_metadata(
                fields,
                std::collections::HashMap::from(metadata),
            ))
        })
        .clone()
}

/// `map<string, string>` with the field names Parquet gives maps (keys non-null, values
/// nullable).
fn map_type() -> DataType {
    let entries = DataType::Struct(
        vec![
            Field::new("key", DataType::Utf8, false),
            Field::new("value", DataType::Utf8, true),
        ]
        .into(),
    );
    DataType::Map(Arc::new(Field::new("entries", entries, false)), false)
}

/// A value as map text: a single value as is, several (unnamed classic `<Data>`) as a JSON
/// array, an empty element as null.
fn value_text<'a>(value: &'a Value, buf: &'a mut String) -> Option<&'a str> {
    match value {
        Value::Null => None,
        Value::Str(s) => Some(s),
        Value::List(items) => {
            *buf = serde_json::to_string(items).unwrap_or_default();
            Some(buf)
        }
    }
}

/// The event time in microseconds since the epoch, if it has a valid one.
pub fn time_micros(event: &Event) -> Option<i64> {
    event.timestamp().map(|t| t.as_microsecond())
}

/// Rows being gathered for one record batch.
pub struct Rows {
    time: TimestampMicrosecondBuilder,
    event_id: Int32Builder,
    channel: StringBuilder,
    provider: StringBuilder,
    computer: StringBuilder,
    record_id: Int64Builder,
    source_file: StringBuilder,
    ingest_id: Int64Builder,
    source_sha256: StringBuilder,
    system: MapBuilder<StringBuilder, StringBuilder>,
    event_data: MapBuilder<StringBuilder, StringBuilder>,
    event: StringBuilder,
    event_key: Int64Builder,
    promoted: [StringBuilder; PROMOTED.len()],
    json: Vec<u8>,
    list: String,
    len: usize,
    /// Sizes of the last full batch, for the next one's builders.
    hint: Option<BatchSizes>,
}

/// The string columns' sizes in one full batch.
struct BatchSizes {
    rows: usize,
    strings: Vec<StringSize>,
    maps: [(StringSize, StringSize); 2],
}

fn map_names() -> MapFieldNames {
    MapFieldNames {
        entry: "entries".into(),
        key: "key".into(),
        value: "value".into(),
    }
}

fn map_builder(
    rows: usize,
    keys: &StringSize,
    values: &StringSize,
) -> MapBuilder<StringBuilder, StringBuilder> {
    MapBuilder::with_capacity(Some(map_names()), keys.builder(), values.builder(), rows)
}

/// How many values and bytes a string column held in the last full batch: the next batch's
/// builder starts that large, so a busy partition's buffers are allocated once per batch
/// rather than grown by doubling (each step a copy and fresh pages). Applied when the next
/// batch's first row arrives, so a partition that waits holds no empty buffers.
#[derive(Clone, Copy, Default)]
struct StringSize {
    values: usize,
    bytes: usize,
}

impl StringSize {
    fn of(builder: &StringBuilder) -> StringSize {
        StringSize {
            values: arrow_array::builder::ArrayBuilder::len(builder),
            bytes: builder.values_slice().len(),
        }
    }

    fn builder(&self) -> StringBuilder {
        // A little room over the last batch, so a slightly larger one does not double.
        StringBuilder::with_capacity(self.values, self.bytes + self.bytes / 8)
    }
}

impl Default for Rows {
    fn default() -> Self {
        let small = StringSize::default();
        Rows {
            time: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            event_id: Int32Builder::new(),
            channel: StringBuilder::new(),
            provider: StringBuilder::new(),
            computer: StringBuilder::new(),
            record_id: Int64Builder::new(),
            source_file: StringBuilder::new(),
            ingest_id: Int64Builder::new(),
            source_sha256: StringBuilder::new(),
            system: map_builder(0, &small, &small),
            event_data: map_builder(0, &small, &small),
            event: StringBuilder::new(),
            event_key: Int64Builder::new(),
            promoted: std::array::from_fn(|_| StringBuilder::new()),
            json: Vec::new(),
            list: String::new(),
            len: 0,
            hint: None,
        }
    }
}

impl Rows {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds one event as a row: one pass over its fields fills the two maps and finds the
    /// promoted ones.
    pub fn push(&mut self, event: &Event, time: Option<i64>, key: i64, source: &Source) {
        if self.len == 0
            && let Some(hint) = self.hint.take()
        {
            self.presize(&hint);
        }
        self.time.append_option(time);
        self.event_id
            .append_option((event.event_id()).and_then(|id| i32::try_from(id).ok()));
        self.channel.append_option(event.get_str(names::CHANNEL));
        self.provider.append_option(event.get_str(names::PROVIDER));
        self.computer.append_option(event.get_str(names::COMPUTER));
        self.record_id
            .append_option(event.record_id().and_then(|id| i64::try_from(id).ok()));
        self.source_file.append_value(&source.file);
        self.ingest_id
            .append_value(i64::try_from(source.ingest_id).unwrap_or(i64::MAX));
        self.source_sha256.append_value(&source.sha256);
        let mut promoted: [Option<&Value>; PROMOTED.len()] = [None; PROMOTED.len()];
        for (name, value) in &event.fields {
            let map = if is_system_field(name) {
                &mut self.system
            } else {
                // Names are unique within an event (`Event::push` merges repeats).
                if let Some(i) = PROMOTED.iter().position(|p| p == name) {
                    promoted[i] = Some(value);
                }
                &mut self.event_data
            };
            map.keys().append_value(name);
            map.values()
                .append_option(value_text(value, &mut self.list));
        }
        // Building a map row only fails when keys and values differ in length; they cannot.
        let _ = self.system.append(true);
        let _ = self.event_data.append(true);
        self.json.clear();
        event.write_json(&mut self.json);
        self.event
            .append_value(std::str::from_utf8(&self.json).unwrap_or("{}"));
        self.event_key.append_value(key);
        for (value, column) in promoted.into_iter().zip(&mut self.promoted) {
            column.append_option(value.and_then(|v| value_text(v, &mut self.list)));
        }
        self.len += 1;
    }

    /// The string builders, in a fixed order.
    fn strings(&mut self) -> impl Iterator<Item = &mut StringBuilder> {
        [
            &mut self.channel,
            &mut self.provider,
            &mut self.computer,
            &mut self.source_file,
            &mut self.source_sha256,
            &mut self.event,
        ]
        .into_iter()
        .chain(self.promoted.iter_mut())
    }

    fn sizes(&mut self) -> BatchSizes {
        let map = |m: &mut MapBuilder<StringBuilder, StringBuilder>| {
            (StringSize::of(m.keys()), StringSize::of(m.values()))
        };
        let maps = [map(&mut self.system), map(&mut self.event_data)];
        BatchSizes {
            rows: self.len,
            strings: self.strings().map(|b| StringSize::of(b)).collect(),
            maps,
        }
    }

    /// Replaces the (empty) string builders with ones sized like the last full batch.
    fn presize(&mut self, hint: &BatchSizes) {
        for (builder, size) in self.strings().zip(&hint.strings) {
            *builder = size.builder();
        }
        let [(system_keys, system_values), (data_keys, data_values)] = &hint.maps;
        self.system = map_builder(hint.rows, system_keys, system_values);
        self.event_data = map_builder(hint.rows, data_keys, data_values);
    }

    /// The rows gathered so far as a batch; the builders start over, empty. After a full
    /// batch, the next one's builders are sized like it when its first row arrives.
    pub fn take_batch(&mut self, full: bool) -> Result<RecordBatch, ArrowError> {
        self.hint = full.then(|| self.sizes());
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(self.time.finish()),
            Arc::new(self.event_id.finish()),
            Arc::new(self.channel.finish()),
            Arc::new(self.provider.finish()),
            Arc::new(self.computer.finish()),
            Arc::new(self.record_id.finish()),
            Arc::new(self.source_file.finish()),
            Arc::new(self.ingest_id.finish()),
            Arc::new(self.source_sha256.finish()),
            Arc::new(self.system.finish()),
            Arc::new(self.event_data.finish()),
            Arc::new(self.event.finish()),
            Arc::new(self.event_key.finish()),
        ];
        columns.extend((self.promoted.iter_mut()).map(|c| Arc::new(c.finish()) as ArrayRef));
        self.len = 0;
        RecordBatch::try_new(arrow_schema(), columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_a_batch_of_the_schema() {
        let mut e = Event::from_pairs(&[
            ("EventID", "4688"),
            ("Channel", "Security"),
            ("TimeCreated_SystemTime", "2024-03-12T07:40:01.1234567Z"),
            ("NewProcessName", "C:\\Windows\\System32\\cmd.exe"),
        ]);
        e.push("Data", Value::Str("a".into()));
        e.push("Data", Value::Str("b".into()));
        e.push("Empty", Value::Null);
        let source = Source {
            ingest_id: 3,
            file: "a.evtx".into(),
            sha256: "00".into(),
        };
        let mut rows = Rows::default();
        rows.push(&e, time_micros(&e), 42, &source);
        let batch = rows.take_batch(false).expect("a batch of the schema");
        assert_eq!(batch.num_rows(), 1);
        assert!(rows.is_empty());
        let data = batch
            .column_by_name("event_data")
            .and_then(|c| c.as_any().downcast_ref::<arrow_array::MapArray>())
            .expect("a map column");
        let values = data.value(0);
        let keys = values
            .column(0)
            .as_any()
            .downcast_ref::<arrow_array::StringArray>()
            .expect("string keys");
        let vals = values
            .column(1)
            .as_any()
            .downcast_ref::<arrow_array::StringArray>()
            .expect("string values");
        assert_eq!(keys.value(0), "NewProcessName");
        assert_eq!(vals.value(1), r#"["a","b"]"#);
        assert!(
            arrow_array::Array::is_null(vals, 2),
            "an empty element is null"
        );
    }

    #[test]
    fn system_fields_are_told_from_event_data() {
        assert!(is_system_field("Provider_Name"));
        assert!(is_system_field("TimeCreated_SystemTime"));
        assert!(is_system_field("EventID"));
        assert!(
            is_system_field("Correlation"),
            "an empty element keeps its own name"
        );
        assert!(!is_system_field("EventData_Name"));
        assert!(!is_system_field("ProviderGuid"));
        assert!(!is_system_field("CommandLine"));
    }

    #[test]
    fn a_batch_after_a_full_one_holds_its_own_rows() {
        let source = Source {
            ingest_id: 1,
            file: "a.evtx".into(),
            sha256: "00".into(),
        };
        let event = |n: usize| {
            Event::from_pairs(&[
                ("EventID", "1"),
                ("CommandLine", &format!("cmd /c {n}")),
                ("Other", "x"),
            ])
        };
        let mut rows = Rows::default();
        for n in 0..3 {
            rows.push(&event(n), None, n as i64, &source);
        }
        let first = rows.take_batch(true).expect("a batch");
        assert_eq!(first.num_rows(), 3);
        rows.push(&event(7), None, 7, &source);
        let second = rows.take_batch(true).expect("a batch");
        assert_eq!(second.num_rows(), 1);
        let text = |batch: &RecordBatch, name: &str| {
            (batch.column_by_name(name))
                .and_then(|c| c.as_any().downcast_ref::<arrow_array::StringArray>())
                .map(|a| a.value(0).to_owned())
        };
        assert_eq!(text(&second, "CommandLine").as_deref(), Some("cmd /c 7"));
        assert_eq!(
            text(&second, "event"),
            Some(event(7).to_json()),
            "the whole event as JSON"
        );
        let data = (second.column_by_name("event_data"))
            .and_then(|c| c.as_any().downcast_ref::<arrow_array::MapArray>())
            .expect("a map column");
        assert_eq!(data.value_length(0), 2, "CommandLine and Other");
    }
}
