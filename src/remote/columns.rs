//! Reading the columns of a server's answer: servers differ in the Arrow types they answer in
//! (Spark sends `Utf8`, Sail may send `Utf8View` or `LargeUtf8`; counts are `Int64`, some
//! numbers `Int32`), so columns are read by what they hold, not by one exact type.

use super::arrow::cast::AsArray;
use super::arrow::types::{Int32Type, Int64Type, TimestampMicrosecondType};
use super::arrow::{Array, RecordBatch};

/// A column of an answer that is not of the kind asked for.
#[derive(Debug, thiserror::Error)]
#[error("the server answered column {index} as {found}, expected {wanted}")]
pub struct ColumnError {
    index: usize,
    found: String,
    wanted: &'static str,
}

fn column(batch: &RecordBatch, index: usize) -> Result<&dyn Array, ColumnError> {
    if index >= batch.num_columns() {
        return Err(ColumnError {
            index,
            found: format!("missing ({} columns)", batch.num_columns()),
            wanted: "a column",
        });
    }
    Ok(batch.column(index).as_ref())
}

/// Column `index` as numbers (64- or 32-bit integers, or microsecond timestamps).
pub fn ints(batch: &RecordBatch, index: usize) -> Result<Vec<Option<i64>>, ColumnError> {
    let col = column(batch, index)?;
    let get = |i: usize| col.is_valid(i);
    if let Some(a) = col.as_primitive_opt::<Int64Type>() {
        return Ok((0..a.len()).map(|i| get(i).then(|| a.value(i))).collect());
    }
    if let Some(a) = col.as_primitive_opt::<Int32Type>() {
        return Ok((0..a.len())
            .map(|i| get(i).then(|| i64::from(a.value(i))))
            .collect());
    }
    if let Some(a) = col.as_primitive_opt::<TimestampMicrosecondType>() {
        return Ok((0..a.len()).map(|i| get(i).then(|| a.value(i))).collect());
    }
    if col.null_count() == col.len() {
        return Ok(vec![None; col.len()]);
    }
    Err(ColumnError {
        index,
        found: col.data_type().to_string(),
        wanted: "integers",
    })
}

/// Column `index` as text, each value handed to `each` (`None` for a null).
pub fn texts(
    batch: &RecordBatch,
    index: usize,
    mut each: impl FnMut(Option<&str>),
) -> Result<(), ColumnError> {
    let col = column(batch, index)?;
    if let Some(a) = col.as_string_opt::<i32>() {
        (0..a.len()).for_each(|i| each(a.is_valid(i).then(|| a.value(i))));
    } else if let Some(a) = col.as_string_opt::<i64>() {
        (0..a.len()).for_each(|i| each(a.is_valid(i).then(|| a.value(i))));
    } else if let Some(a) = col.as_string_view_opt() {
        (0..a.len()).for_each(|i| each(a.is_valid(i).then(|| a.value(i))));
    } else if col.null_count() == col.len() {
        (0..col.len()).for_each(|_| each(None));
    } else {
        return Err(ColumnError {
            index,
            found: col.data_type().to_string(),
            wanted: "text",
        });
    }
    Ok(())
}

/// Column `index` as owned text.
pub fn strings(batch: &RecordBatch, index: usize) -> Result<Vec<Option<String>>, ColumnError> {
    let mut out = Vec::with_capacity(batch.num_rows());
    texts(batch, index, |v| out.push(v.map(str::to_owned)))?;
    Ok(out)
}
