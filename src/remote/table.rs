//! A remote table as queries name it, and whether its events are partitioned by day as
//! `huntbench export` writes them (`day=YYYY-MM-DD`, the UTC day of `time`). Then a query
//! bounded in time names its days too, so the server skips every other day's files without
//! opening them: a `time` bound alone prunes by row-group statistics, after every file's footer
//! is read. At ×70 a fetch of 8,192 keys took 3.4 s on a Spark cluster by `time` alone and
//! 0.9 s with the days (Sail: 0.5 s and 0.18 s; BENCHMARKS.md).

use super::store::TableSource;
use super::{Remote, RemoteError};
use crate::export::{day_of, day_text};
use crate::store::EventRef;
use std::time::Duration;

/// The view a Parquet location is registered as.
pub const VIEW: &str = "huntbench_events";

/// What queries read `FROM`.
#[derive(Clone, Debug)]
pub struct Table {
    name: String,
    /// Whether `day` is the day partition of `time`.
    days: bool,
}

impl Table {
    /// A table the server knows by name: queried by `time` alone, since its `day`, if it has
    /// one, is not known to be `time`'s.
    pub fn named(name: &str) -> Table {
        Table {
            name: name.to_owned(),
            days: false,
        }
    }

    /// Registers a Parquet location as [`VIEW`], or names a table. A location is partitioned
    /// by day unless it holds one day's directory or plain files (it has no `day` then).
    pub fn open(
        remote: &Remote,
        source: &TableSource,
        timeout: Duration,
    ) -> Result<Table, RemoteError> {
        let location = match source {
            TableSource::Table(name) => return Ok(Table::named(name)),
            TableSource::Parquet(location) => location,
        };
        remote.register_parquet(VIEW, location, timeout)?;
        let probe =
            format!("SELECT count(*) FROM {VIEW} WHERE day BETWEEN '1970-01-01' AND '1970-01-01'");
        let days = match remote.sql(&probe, timeout) {
            Ok(_) => true,
            Err(RemoteError::Failed { .. }) => false,
            Err(e) => return Err(e),
        };
        Ok(Table {
            name: VIEW.to_owned(),
            days,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The condition (` AND …`) that bounds a query for `refs` to their time range, and with
    /// days, to their days. Untimed events are in a partition engines read as a null or a
    /// literal day, so a range that includes them names no days.
    pub fn time_within(&self, refs: &[EventRef]) -> String {
        let timed = refs.iter().map(|r| r.ts).filter(|&t| t != i64::MIN);
        let (from, to) = (timed.clone().min(), timed.max());
        let untimed = refs.iter().any(|r| r.ts == i64::MIN);
        match (from.zip(to), untimed) {
            (Some((from, to)), false) => {
                let days = (self.days)
                    .then(|| day_text(day_of(Some(from))?).zip(day_text(day_of(Some(to))?)))
                    .flatten()
                    .map(|(a, b)| format!(" AND day BETWEEN '{a}' AND '{b}'"))
                    .unwrap_or_default();
                format!(
                    " AND time BETWEEN timestamp_micros({from}) AND timestamp_micros({to}){days}"
                )
            }
            (Some((from, to)), true) => format!(
                " AND (time IS NULL OR time BETWEEN timestamp_micros({from}) AND \
                 timestamp_micros({to}))"
            ),
            (None, _) => " AND time IS NULL".to_owned(),
        }
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_range_names_its_days_only_in_a_day_partitioned_table() {
        let day = 86_400_000_000;
        let refs = [EventRef::new(day + 5, 1), EventRef::new(3 * day - 1, 2)];
        let by_day = Table {
            name: VIEW.into(),
            days: true,
        };
        assert_eq!(
            by_day.time_within(&refs),
            format!(
                " AND time BETWEEN timestamp_micros({}) AND timestamp_micros({}) \
                 AND day BETWEEN '1970-01-02' AND '1970-01-03'",
                day + 5,
                3 * day - 1
            )
        );
        assert!(!Table::named("events").time_within(&refs).contains("day"));
        let untimed = [EventRef::new(i64::MIN, 3), refs[0]];
        assert!(!by_day.time_within(&untimed).contains("day"));
        assert_eq!(by_day.time_within(&untimed[..1]), " AND time IS NULL");
    }
}
