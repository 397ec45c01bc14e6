//! Writing events as Hive-partitioned Parquet files (`day=YYYY-MM-DD/part-NNNNN.parquet`):
//! the only code that uses the `parquet` crate.
//!
//! Memory is bounded: each writer keeps at most [`MAX_OPEN`] partition files in progress, each
//! holding at most one record batch of rows and one row group being encoded, and the row groups
//! being encoded by one writer at most [`BUFFERED_BYTES`] together. A file's descriptor is open
//! only while a row group is written to it ([`DayFile`]).

use super::key::EventKeys;
use super::schema::{self, Rows, Source};
use crate::event::Event;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Rows per row group: about the 122,880 DuckDB and Spark aim for, many megabytes of
/// compressed column data (reads of a column are long sequential runs, and a scan has one
/// row group per core to work on in any file of a busy day) while the one row group a writer
/// holds in memory stays tens of megabytes.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;
/// A row group is also closed at this many encoded bytes, whatever its row count, so events
/// with huge fields cannot make one unbounded.
pub const ROW_GROUP_BYTES: usize = 64 << 20;
/// Rows gathered in Arrow builders before they are handed to the Parquet encoder.
const BATCH_ROWS: usize = 1024;
/// Partition files one writer keeps in progress; the least recently used one is finished when
/// another is needed. Events mostly arrive in time order (one day at a time), but logs whose
/// days interleave, or one log spanning months read after another, must not finish a file per
/// event or per pass: each finished file is a footer, a compression context per column and a
/// worse ratio. On the benchmark corpus at ×70, 64 instead of 32 wrote 539 files instead of
/// 3,443 and 28.5 MB instead of 68.5 MB; 128 saved only 33 more files for 240 MB more peak
/// memory (BENCHMARKS.md).
pub const MAX_OPEN: usize = 64;
/// Encoded row-group bytes one writer holds across its open files; past it, the largest
/// row group is written out early (smaller row groups, bounded memory, when days interleave).
pub const BUFFERED_BYTES: usize = 96 << 20;
/// The partition of events without a valid time: Hive's name for a null partition value,
/// which pyarrow, DuckDB and Spark read as null.
pub const UNTIMED_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// Something went wrong writing the export.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}")]
    Parquet {
        path: PathBuf,
        source: parquet::errors::ParquetError,
    },
    #[error("building a record batch")]
    Arrow(#[from] arrow_schema::ArrowError),
}

/// The day partition of a time in microseconds: days since the epoch (`None`: untimed).
pub fn day_of(time: Option<i64>) -> Option<i64> {
    time.map(|us| us.div_euclid(86_400_000_000))
}

/// The value a day partition's directory names (`2024-03-13`), if the day can be written.
pub fn day_text(day: i64) -> Option<String> {
    (day.checked_mul(86_400))
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .map(|t| t.strftime("%Y-%m-%d").to_string())
}

/// The directory name of a day partition.
pub fn partition_dir(day: Option<i64>) -> String {
    let date = day.and_then(day_text);
    format!("day={}", date.as_deref().unwrap_or(UNTIMED_PARTITION))
}

/// Leaf columns written without min/max statistics: no reader prunes row groups or pages by
/// the smallest and largest whole-event JSON or map entry, and comparing every long value for
/// them was a measurable part of encoding.
const NO_STATISTICS: [&[&str]; 5] = [
    &["event"],
    &["system", "entries", "key"],
    &["system", "entries", "value"],
    &["event_data", "entries", "key"],
    &["event_data", "entries", "value"],
];

fn properties() -> WriterProperties {
    let metadata = vec![
        KeyValue::new(
            schema::SCHEMA_VERSION_KEY.to_owned(),
            schema::SCHEMA_VERSION.to_owned(),
        ),
        KeyValue::new(
            schema::PRODUCER_KEY.to_owned(),
            env!("CARGO_PKG_VERSION").to_owned(),
        ),
    ];
    // Level 3 is zstd's default: most of level 9's ratio on event text at a fraction of its
    // time, so writing keeps up with reading.
    let zstd = ZstdLevel::try_new(3).unwrap_or_default();
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::ZSTD(zstd))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_max_row_group_bytes(Some(ROW_GROUP_BYTES))
        .set_key_value_metadata(Some(metadata))
        .set_created_by(format!("huntbench {}", env!("CARGO_PKG_VERSION")));
    for path in NO_STATISTICS {
        let path = ColumnPath::new(path.iter().map(|p| (*p).to_owned()).collect());
        builder = builder.set_column_statistics_enabled(path, EnabledStatistics::None);
    }
    builder.build()
}

/// A partition file's bytes as the Parquet writer hands them over: the file is opened (for
/// appending) only while bytes arrive and closed again once a row group is out, so a writer can
/// keep hundreds of day partitions in progress with few descriptors open. The Parquet writer
/// buffers small writes itself.
struct DayFile {
    path: PathBuf,
    file: Option<File>,
}

impl DayFile {
    /// Creates the (empty) file, so an unwritable output fails at once, and leaves it closed.
    fn create(path: PathBuf) -> std::io::Result<DayFile> {
        File::create(&path)?;
        Ok(DayFile { path, file: None })
    }

    fn is_open(&self) -> bool {
        self.file.is_some()
    }

    fn close(&mut self) {
        self.file = None;
    }
}

impl Write for DayFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let file = match &mut self.file {
            Some(file) => file,
            None => (self.file).insert(OpenOptions::new().append(true).open(&self.path)?),
        };
        file.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.as_mut().map_or(Ok(()), Write::flush)
    }
}

/// One partition file being written.
struct Part {
    day: Option<i64>,
    path: PathBuf,
    rows: Rows,
    writer: ArrowWriter<DayFile>,
    last_used: u64,
}

impl Part {
    fn parquet_error(&self) -> impl FnOnce(parquet::errors::ParquetError) -> WriteError {
        let path = self.path.clone();
        move |source| WriteError::Parquet { path, source }
    }

    /// Hands the gathered rows to the encoder; if that wrote a row group, closes the file.
    fn flush_rows(&mut self) -> Result<(), WriteError> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let full = self.rows.len() >= BATCH_ROWS;
        let batch = self.rows.take_batch(full)?;
        self.writer.write(&batch).map_err(self.parquet_error())?;
        self.release_file()
    }

    /// Writes the row group being encoded out now.
    fn flush_row_group(&mut self) -> Result<(), WriteError> {
        self.writer.flush().map_err(self.parquet_error())?;
        self.release_file()
    }

    /// Closes the file descriptor if a write opened it, after the buffered bytes are out.
    fn release_file(&mut self) -> Result<(), WriteError> {
        if self.writer.inner().is_open() {
            self.writer.sync().map_err(|source| WriteError::Io {
                path: self.path.clone(),
                source,
            })?;
            self.writer.inner_mut().close();
        }
        Ok(())
    }

    fn close(mut self) -> Result<(), WriteError> {
        self.flush_rows()?;
        let path = self.path;
        let mut file = (self.writer.into_inner()).map_err(|source| WriteError::Parquet {
            path: path.clone(),
            source,
        })?;
        // Flushed to the operating system, not synced: the rename into place guards against a
        // killed export, and a sync per file cost more than the encoding (many small days).
        file.flush()
            .map_err(|source| WriteError::Io { path, source })
    }
}

/// What the writers wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub rows: u64,
    pub files: u64,
}

/// Writes events into day partitions under `root`. One per thread; file numbers are drawn from
/// a counter shared by all of them so no two write the same file.
pub struct PartitionWriter<'a> {
    root: &'a Path,
    numbers: &'a AtomicU64,
    keys: &'a EventKeys,
    properties: WriterProperties,
    open: Vec<Part>,
    clock: u64,
    written: Written,
}

impl<'a> PartitionWriter<'a> {
    pub fn new(root: &'a Path, numbers: &'a AtomicU64, keys: &'a EventKeys) -> Self {
        PartitionWriter {
            root,
            numbers,
            keys,
            properties: properties(),
            open: Vec::with_capacity(MAX_OPEN),
            clock: 0,
            written: Written::default(),
        }
    }

    /// Adds one event to its day's partition.
    pub fn push(&mut self, event: &Event, source: &Source) -> Result<(), WriteError> {
        self.push_digested(event, crate::index::dedup::record_digest(event), source)
    }

    /// [`push`](Self::push) for a caller that has the event's record digest already.
    pub fn push_digested(
        &mut self,
        event: &Event,
        digest: Option<u128>,
        source: &Source,
    ) -> Result<(), WriteError> {
        let time = schema::time_micros(event);
        let day = day_of(time);
        self.clock += 1;
        let i = match self.open.iter().position(|p| p.day == day) {
            Some(i) => i,
            None => self.open_part(day)?,
        };
        let key = self.keys.claim(event, digest);
        let part = &mut self.open[i];
        part.last_used = self.clock;
        part.rows.push(event, time, key, source);
        self.written.rows += 1;
        if part.rows.len() >= BATCH_ROWS {
            part.flush_rows()?;
            self.bound_buffered()?;
        }
        Ok(())
    }

    /// Writes out the largest row group being encoded while the writer holds too much.
    fn bound_buffered(&mut self) -> Result<(), WriteError> {
        let buffered: usize = self.open.iter().map(|p| p.writer.in_progress_size()).sum();
        if buffered <= BUFFERED_BYTES {
            return Ok(());
        }
        if let Some(part) = (self.open.iter_mut()).max_by_key(|p| p.writer.in_progress_size()) {
            part.flush_row_group()?;
        }
        Ok(())
    }

    fn open_part(&mut self, day: Option<i64>) -> Result<usize, WriteError> {
        if self.open.len() >= MAX_OPEN
            && let Some(oldest) = (0..self.open.len()).min_by_key(|&i| self.open[i].last_used)
        {
            self.open.swap_remove(oldest).close()?;
        }
        let dir = self.root.join(partition_dir(day));
        std::fs::create_dir_all(&dir).map_err(|source| WriteError::Io {
            path: dir.clone(),
            source,
        })?;
        let number = self.numbers.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("part-{number:05}.parquet"));
        let file = DayFile::create(path.clone()).map_err(|source| WriteError::Io {
            path: path.clone(),
            source,
        })?;
        let writer =
            ArrowWriter::try_new(file, schema::arrow_schema(), Some(self.properties.clone()))
                .map_err(|source| WriteError::Parquet {
                    path: path.clone(),
                    source,
                })?;
        self.written.files += 1;
        self.open.push(Part {
            day,
            path,
            rows: Rows::default(),
            writer,
            last_used: self.clock,
        });
        Ok(self.open.len() - 1)
    }

    /// Closes every open file; what was written.
    pub fn finish(mut self) -> Result<Written, WriteError> {
        for part in self.open.drain(..) {
            part.close()?;
        }
        Ok(self.written.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_utc_days_and_untimed_events_have_their_own() {
        let us = |t: &str| {
            Some(
                t.parse::<jiff::Timestamp>()
                    .expect("a time")
                    .as_microsecond(),
            )
        };
        assert_eq!(
            partition_dir(day_of(us("2024-03-12T23:59:59.999999Z"))),
            "day=2024-03-12"
        );
        assert_eq!(
            partition_dir(day_of(us("1969-12-31T23:00:00Z"))),
            "day=1969-12-31"
        );
        assert_eq!(
            partition_dir(day_of(None)),
            format!("day={UNTIMED_PARTITION}")
        );
    }

    fn event_on_day(day: i64) -> Event {
        let t = jiff::Timestamp::from_second(day * 86_400).expect("a time");
        Event::from_pairs(&[("TimeCreated_SystemTime", t.to_string().as_str())])
    }

    fn source() -> Source {
        Source {
            ingest_id: 0,
            file: "x".into(),
            sha256: "00".into(),
        }
    }

    #[test]
    fn a_writer_keeps_few_files_open_and_numbers_them_apart() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let numbers = AtomicU64::new(0);
        let keys = EventKeys::default();
        let mut writer = PartitionWriter::new(dir.path(), &numbers, &keys);
        for day in 0..(MAX_OPEN as i64 + 2) {
            writer.push(&event_on_day(day), &source()).expect("written");
            assert!(writer.open.len() <= MAX_OPEN);
        }
        let written = writer.finish().expect("closed");
        assert_eq!(written.rows as usize, MAX_OPEN + 2);
        assert_eq!(written.files as usize, MAX_OPEN + 2);
        assert!(
            dir.path()
                .join("day=1970-01-06/part-00005.parquet")
                .is_file()
        );
    }

    #[test]
    fn interleaved_days_do_not_make_a_file_per_event() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let numbers = AtomicU64::new(0);
        let keys = EventKeys::default();
        let mut writer = PartitionWriter::new(dir.path(), &numbers, &keys);
        for n in 0..3000 {
            writer
                .push(&event_on_day(n % 10), &source())
                .expect("written");
        }
        let written = writer.finish().expect("closed");
        assert_eq!(
            written,
            Written {
                rows: 3000,
                files: 10
            }
        );
    }

    #[test]
    fn a_day_file_is_closed_between_writes_and_appends_on_reopening() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("f.parquet");
        let mut file = DayFile::create(path.clone()).expect("created");
        assert!(path.is_file() && !file.is_open());
        file.write_all(b"PAR1").expect("written");
        assert!(file.is_open());
        file.close();
        file.write_all(b"rest").expect("written");
        file.close();
        assert_eq!(std::fs::read(&path).expect("read"), b"PAR1rest");
    }

    #[test]
    fn writing_a_row_group_leaves_no_descriptor_open_and_the_file_whole() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let numbers = AtomicU64::new(0);
        let keys = EventKeys::default();
        let mut writer = PartitionWriter::new(dir.path(), &numbers, &keys);
        for day in 0..3 {
            for _ in 0..BATCH_ROWS + 1 {
                writer.push(&event_on_day(day), &source()).expect("written");
            }
        }
        for part in &mut writer.open {
            part.flush_rows().expect("rows encoded");
            part.flush_row_group().expect("row group written");
            assert!(!part.writer.inner().is_open());
            assert_eq!(part.writer.flushed_row_groups().len(), 1);
        }
        writer.push(&event_on_day(0), &source()).expect("written");
        let written = writer.finish().expect("closed");
        assert_eq!(written.files, 3);
        let first = dir.path().join("day=1970-01-01/part-00000.parquet");
        let bytes = std::fs::read(first).expect("read");
        assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"));
        let reader = parquet::file::reader::SerializedFileReader::new(
            std::fs::File::open(dir.path().join("day=1970-01-01/part-00000.parquet"))
                .expect("opened"),
        )
        .expect("a whole Parquet file");
        let meta = parquet::file::reader::FileReader::metadata(&reader);
        assert_eq!(meta.file_metadata().num_rows() as usize, BATCH_ROWS + 2);
        assert_eq!(meta.num_row_groups(), 2);
        let group = meta.row_group(0);
        let statistics = |name: &str| {
            (group.columns().iter())
                .find(|c| c.column_path().string() == name)
                .map(|c| c.statistics().is_some())
        };
        assert_eq!(statistics("time"), Some(true));
        assert_eq!(
            statistics("event"),
            Some(false),
            "no min/max of whole events"
        );
        assert_eq!(statistics("event_data.entries.value"), Some(false));
    }
}
