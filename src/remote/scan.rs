//! Many Sigma rules over a remote table in few passes: the rules of one logsource go into one
//! query that returns each matching event with the indexes of the rules it matched.
//!
//! A batch that does not finish within its bound is run again rule by rule, so a rule that
//! cannot finish (a regex that backtracks for hours on Java) is reported as timed out alone
//! and the others still count. A batch the server refuses is split the same way, so one rule
//! the engine cannot run does not cost the others. Rules whose SQL only narrows
//! ([`Path::Confirm`]) are confirmed here with the exact matcher, on the fetched event.

use super::{RecordBatch, Remote, RemoteError};
use crate::event::Event;
use crate::sigma::CompiledRule;
use crate::sql::rule::{Path, RuleSql};
use crate::sql::{Catalog, labels_holding};
use spark_arrow::Array;
use std::collections::BTreeMap;
use std::time::Duration;

/// How a remote scan runs.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// Rules per query, at most.
    pub batch: usize,
    /// The bound on one query (a batch, or one rule run alone after its batch timed out).
    pub timeout: Duration,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            batch: 25,
            timeout: Duration::from_secs(300),
        }
    }
}

/// A matched event as fetched: the event and the source file it was read from.
#[derive(Clone, Debug)]
pub struct Fetched {
    pub event: Event,
    pub file: String,
    /// The event's `event_key` and time (microseconds), where the remote store finds it again.
    pub key: Option<i64>,
    pub ts: Option<i64>,
}

/// What a scan did besides finding hits.
#[derive(Debug, Default)]
pub struct ScanReport {
    /// Per rule, how it ran.
    pub paths: Vec<Path>,
    /// Rules that did not finish within the bound, with the error.
    pub timed_out: Vec<(usize, String)>,
    /// Rules the server could not run, with its message.
    pub failed: Vec<(usize, String)>,
    /// Queries sent.
    pub queries: usize,
    /// Rows the exact matcher turned down (candidates of rules that only narrow remotely).
    pub not_confirmed: usize,
}

/// Reads which map keys the table has.
pub fn catalog(remote: &Remote, view: &str, timeout: Duration) -> Result<Catalog, RemoteError> {
    let batches = remote.sql(&Catalog::keys_query(view), timeout)?;
    let mut rows = Vec::new();
    for b in &batches {
        let (m, k, l) = (strings(b, 0)?, strings(b, 1)?, strings(b, 2)?);
        let triples = m.into_iter().zip(k).zip(l);
        rows.extend(triples.filter_map(|((m, k), l)| Some((m?, k?, l.unwrap_or_default()))));
    }
    Ok(Catalog::from_rows(
        (rows.iter()).map(|(m, k, l)| (m.as_str(), k.as_str(), l.as_str())),
    ))
}

/// Compiles every rule for the table `cat` describes.
pub fn compile(rules: &[&CompiledRule], cat: &Catalog) -> Vec<RuleSql> {
    (rules.iter())
        .map(|r| crate::sql::rule::compile(r, cat))
        .collect()
}

/// Runs `rules` (compiled as `sqls`) over `view`. `on_hit(rule, event)` gets every hit, in no
/// particular order. Fails only when the server cannot be reached.
pub fn run(
    remote: &Remote,
    view: &str,
    rules: &[&CompiledRule],
    sqls: &[RuleSql],
    opts: &ScanOptions,
    mut on_hit: impl FnMut(usize, &Fetched),
) -> Result<ScanReport, RemoteError> {
    let mut report = ScanReport {
        paths: sqls.iter().map(|s| s.path.clone()).collect(),
        ..ScanReport::default()
    };
    // Rules of one logsource share the pruning their WHERE clause can do.
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, s) in sqls.iter().enumerate() {
        if s.condition != "false" {
            groups.entry(s.sources.as_str()).or_default().push(i);
        }
    }
    let mut work: Vec<(Vec<usize>, bool)> = Vec::new();
    for (_, members) in groups {
        for chunk in members.chunks(opts.batch.max(1)) {
            work.push((chunk.to_vec(), false));
        }
    }
    while let Some((chunk, alone)) = work.pop() {
        report.queries += 1;
        match run_batch(remote, view, &chunk, sqls, opts.timeout) {
            Ok(rows) => {
                for (fetched, matched) in rows {
                    for i in matched {
                        let confirmed = match &sqls[i].path {
                            Path::Exact => true,
                            Path::Confirm(_) => rules[i].is_match(&fetched.event),
                        };
                        if confirmed {
                            on_hit(i, &fetched);
                        } else {
                            report.not_confirmed += 1;
                        }
                    }
                }
            }
            Err(e) => {
                // A server that no longer answers ends the scan, clearly, instead of each
                // remaining rule failing on its own. After a timeout the session's client
                // waits for the server to end the interrupted call, which a task stuck in a
                // Java regex (deaf to interrupts) may not do for long: go on in a new session,
                // given as long as a query to come up.
                let alive = match e {
                    RemoteError::TimedOut { .. } => remote.renew(opts.timeout),
                    _ => remote.sql("SELECT 1", Duration::from_secs(20)).map(drop),
                };
                if let Err(gone) = alive {
                    return Err(RemoteError::Failed {
                        what: "the scan".into(),
                        message: format!("{e}; the server no longer answers: {gone}"),
                    });
                }
                if chunk.len() > 1 && !alone {
                    work.extend(chunk.iter().map(|&i| (vec![i], true)));
                } else if let Some(&i) = chunk.first() {
                    match e {
                        RemoteError::TimedOut { .. } => report.timed_out.push((i, e.to_string())),
                        e => report.failed.push((i, e.to_string())),
                    }
                }
            }
        }
    }
    Ok(report)
}

/// One query for the rules `members`: the events some of them match, with their indexes.
fn run_batch(
    remote: &Remote,
    view: &str,
    members: &[usize],
    sqls: &[RuleSql],
    timeout: Duration,
) -> Result<Vec<(Fetched, Vec<usize>)>, RemoteError> {
    let labels: Vec<String> = members.iter().map(|i| i.to_string()).collect();
    let arms: Vec<(&str, &str)> = (members.iter().zip(&labels))
        .map(|(&i, label)| (sqls[i].condition.as_str(), label.as_str()))
        .collect();
    let prune = members
        .first()
        .map_or("true", |&i| sqls[i].sources.as_str());
    // Each field the batch reads, once per event (rules share them).
    let mut slots: Vec<String> = Vec::new();
    for &i in members {
        for (column, expr) in &sqls[i].slots {
            let def = format!("{expr} AS {column}");
            if !slots.contains(&def) {
                slots.push(def);
            }
        }
    }
    let fields: String = slots.iter().map(|d| format!(", {d}")).collect();
    let (matched, keep) = labels_holding(&arms, "r");
    let query = format!(
        "SELECT event, source_file, r, event_key, unix_micros(time) FROM (\
         SELECT event, source_file, {matched}, event_key, time \
         FROM (SELECT *{fields} FROM {view} WHERE {prune})) WHERE {keep}"
    );
    let batches = remote.sql(&query, timeout)?;
    let mut out = Vec::new();
    for b in &batches {
        let (events, files, ids) = (strings(b, 0)?, strings(b, 1)?, strings(b, 2)?);
        let (keys, times) = (longs(b, 3)?, longs(b, 4)?);
        for (((event, file), ids), (key, ts)) in
            (events.into_iter().zip(files).zip(ids)).zip(keys.into_iter().zip(times))
        {
            let text = event.unwrap_or_default();
            let event = Event::from_json(&text).map_err(|e| RemoteError::Failed {
                what: "reading a fetched event".into(),
                message: e.to_string(),
            })?;
            let matched = (ids.unwrap_or_default().split(','))
                .filter_map(|s| s.parse::<usize>().ok())
                .filter(|i| members.contains(i))
                .collect();
            let file = file.unwrap_or_default();
            out.push((
                Fetched {
                    event,
                    file,
                    key,
                    ts,
                },
                matched,
            ));
        }
    }
    Ok(out)
}

/// Column `i` of a batch as 64-bit integers.
fn longs(batch: &RecordBatch, i: usize) -> Result<Vec<Option<i64>>, RemoteError> {
    super::columns::ints(batch, i).map_err(|e| RemoteError::Failed {
        what: "reading an answer".into(),
        message: e.to_string(),
    })
}

/// Column `i` of a batch as text values, whichever string encoding the server chose.
pub fn strings(batch: &RecordBatch, i: usize) -> Result<Vec<Option<String>>, RemoteError> {
    use spark_arrow::{LargeStringArray, StringArray, StringViewArray};
    let column = batch.column(i);
    let any = column.as_any();
    let collect = |get: &dyn Fn(usize) -> String| {
        (0..column.len())
            .map(|r| (!column.is_null(r)).then(|| get(r)))
            .collect()
    };
    if let Some(a) = any.downcast_ref::<StringArray>() {
        Ok(collect(&|r| a.value(r).to_owned()))
    } else if let Some(a) = any.downcast_ref::<LargeStringArray>() {
        Ok(collect(&|r| a.value(r).to_owned()))
    } else if let Some(a) = any.downcast_ref::<StringViewArray>() {
        Ok(collect(&|r| a.value(r).to_owned()))
    } else {
        Err(RemoteError::Failed {
            what: "reading an answer".into(),
            message: format!("column {i} is {}, not text", column.data_type()),
        })
    }
}
