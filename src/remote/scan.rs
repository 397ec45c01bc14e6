//! Many Sigma rules over a remote table in few passes: the rules of one logsource go into one
//! query that returns the key and time of each matching event with the indexes of the rules
//! it matched. The events themselves are read afterwards by key, a chunk at a time
//! ([`fetch_hits`]), so neither the client nor the server ever holds every hit's event at once.
//!
//! A batch that does not finish within its bound is run again rule by rule, so a rule that
//! cannot finish (a regex that backtracks for hours on Java) is reported as timed out alone
//! and the others still count. A batch the server refuses is split the same way, so one rule
//! the engine cannot run does not cost the others. Rules whose SQL only narrows
//! ([`Path::Confirm`]) answer candidates, confirmed with the exact matcher when their events
//! are fetched.

use super::columns::{ints, texts};
use super::table::Table;
use super::{RecordBatch, Remote, RemoteError};
use crate::event::Event;
use crate::sigma::CompiledRule;
use crate::sql::rule::{Path, RuleSql};
use crate::sql::{Catalog, labels_holding};
use crate::store::EventRef;
use std::collections::{BTreeMap, HashMap, HashSet};
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

/// Runs the rules compiled as `sqls` over `view`. `on_row(rule, event)` gets every row a
/// rule's SQL selects, in no particular order, as the event's time and `event_key`: the rule's
/// hits, or for a rule confirmed here its candidates ([`fetch_hits`] confirms them). Only keys
/// cross the wire, so an answer stays small however many events match. Fails only when the
/// server cannot be reached.
pub fn run(
    remote: &Remote,
    view: &str,
    sqls: &[RuleSql],
    opts: &ScanOptions,
    mut on_row: impl FnMut(usize, EventRef),
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
                for (at, matched) in rows {
                    matched.into_iter().for_each(|i| on_row(i, at));
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
) -> Result<Vec<(EventRef, Vec<usize>)>, RemoteError> {
    let batches = remote.sql(&batch_query(view, members, sqls), timeout)?;
    let mut out = Vec::new();
    for b in &batches {
        let (times, keys) = (
            ints(b, 0).map_err(unreadable)?,
            ints(b, 1).map_err(unreadable)?,
        );
        let mut row = 0;
        let mut bad = None;
        texts(b, 2, |ids| {
            let (key, ts) = (keys[row], times[row]);
            row += 1;
            let Some(key) = key else {
                bad = Some("an event without an event_key");
                return;
            };
            let matched = (ids.unwrap_or_default().split(','))
                .filter_map(|s| s.parse::<usize>().ok())
                .filter(|i| members.contains(i))
                .collect();
            out.push((EventRef::new(ts.unwrap_or(i64::MIN), key as u64), matched));
        })
        .map_err(unreadable)?;
        if let Some(e) = bad {
            return Err(unreadable(e));
        }
    }
    Ok(out)
}

/// The query of a batch: time, `event_key` and the matched rules' indexes of each event some
/// of `members` match.
fn batch_query(view: &str, members: &[usize], sqls: &[RuleSql]) -> String {
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
    format!(
        "SELECT unix_micros(time), event_key, r FROM (\
         SELECT {matched}, event_key, time \
         FROM (SELECT *{fields} FROM {view} WHERE {prune})) WHERE {keep}"
    )
}

/// Keys one [`fetch`] query names: its SQL stays some hundred kilobytes, its answer some tens
/// of megabytes of events.
pub const FETCH_KEYS: usize = 8192;

/// Reads the events `refs` name (by `event_key`), [`FETCH_KEYS`] a query, in time order so
/// that each query's time bounds let the server skip files. `each(at, event, source_file)`
/// gets every event found, once. Returns the queries sent.
fn fetch(
    remote: &Remote,
    view: &Table,
    refs: &[EventRef],
    timeout: Duration,
    mut each: impl FnMut(EventRef, Event, &str),
) -> Result<usize, RemoteError> {
    let mut refs = refs.to_vec();
    refs.sort_unstable();
    refs.dedup();
    let mut queries = 0;
    for chunk in refs.chunks(FETCH_KEYS) {
        let keys: Vec<String> = chunk.iter().map(|r| r.key.to_string()).collect();
        let query = format!(
            "SELECT unix_micros(time), event_key, source_file, event FROM {view} \
             WHERE event_key IN ({}){}",
            keys.join(", "),
            view.time_within(chunk)
        );
        queries += 1;
        for b in &remote.sql(&query, timeout)? {
            let (times, keys) = (
                ints(b, 0).map_err(unreadable)?,
                ints(b, 1).map_err(unreadable)?,
            );
            let files = strings(b, 2)?;
            let mut row = 0;
            let mut bad = None;
            texts(b, 3, |json| {
                match (keys[row], Event::from_json(json.unwrap_or("{}"))) {
                    (Some(key), Ok(event)) => {
                        let at = EventRef::new(times[row].unwrap_or(i64::MIN), key as u64);
                        each(at, event, files[row].as_deref().unwrap_or(""));
                    }
                    (None, _) => bad = Some("an event without an event_key".to_owned()),
                    (_, Err(e)) => bad = Some(e.to_string()),
                }
                row += 1;
            })
            .map_err(unreadable)?;
            if let Some(e) = bad {
                return Err(unreadable(e));
            }
        }
    }
    Ok(queries)
}

/// Fetches the events of `rows` by key, each once, and confirms candidates: `rows[i]` is what
/// [`run`] answered for rule `i` (its hits; for a rule confirmed here, its candidates, of which
/// only those its exact matcher accepts stay). `keep(at, event, source_file)` gets every event
/// that is some rule's hit; with `exact_too` false the events only exact rules hit are not
/// fetched (for a caller who needs only their keys). Returns the queries sent.
pub fn fetch_hits(
    remote: &Remote,
    view: &Table,
    (rules, sqls): (&[&CompiledRule], &[RuleSql]),
    rows: &mut [Vec<EventRef>],
    exact_too: bool,
    timeout: Duration,
    mut keep: impl FnMut(EventRef, Event, &str),
) -> Result<usize, RemoteError> {
    let mut hit: HashSet<u64> = HashSet::new();
    let mut candidates: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut wanted: Vec<EventRef> = Vec::new();
    for (i, list) in rows.iter_mut().enumerate() {
        if sqls[i].path == Path::Exact {
            if exact_too {
                wanted.extend(list.iter().copied().filter(|at| hit.insert(at.key)));
            }
        } else {
            for at in list.drain(..) {
                let rules = candidates.entry(at.key).or_default();
                if rules.is_empty() {
                    wanted.push(at);
                }
                rules.push(i);
            }
        }
    }
    wanted.sort_unstable();
    wanted.dedup();
    let mut found = 0;
    let queries = fetch(remote, view, &wanted, timeout, |at, event, file| {
        found += 1;
        let mut is_hit = hit.contains(&at.key);
        for &i in candidates.get(&at.key).into_iter().flatten() {
            if rules[i].is_match(&event) {
                rows[i].push(at);
                is_hit = true;
            }
        }
        if is_hit {
            keep(at, event, file);
        }
    })?;
    // `event_key` is the table's key: an event the scan found is there to fetch, unless the
    // table changed in between.
    if found < wanted.len() {
        return Err(RemoteError::Failed {
            what: "fetching the hits' events".into(),
            message: format!(
                "{} of the {} matched events were not found again by event_key: did the table \
                 change during the scan?",
                wanted.len() - found,
                wanted.len()
            ),
        });
    }
    Ok(queries)
}

fn unreadable(e: impl std::fmt::Display) -> RemoteError {
    RemoteError::Failed {
        what: "reading an answer".into(),
        message: e.to_string(),
    }
}

/// Column `i` of a batch as text, whichever string encoding the server chose.
fn strings(batch: &RecordBatch, i: usize) -> Result<Vec<Option<String>>, RemoteError> {
    super::columns::strings(batch, i).map_err(unreadable)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(condition: &str, path: Path) -> RuleSql {
        RuleSql {
            sources: "event_id IN (1)".into(),
            condition: condition.into(),
            path,
            slots: vec![("a_1".into(), "lower(x)".into())],
        }
    }

    #[test]
    fn a_batch_answers_keys_not_events_and_reads_a_shared_field_once() {
        let sqls = [
            rule("a_1 = 'x'", Path::Exact),
            rule("a_1 LIKE '%y%'", Path::Confirm("a regex".into())),
        ];
        let query = batch_query("t", &[0, 1], &sqls);
        assert!(
            query.starts_with("SELECT unix_micros(time), event_key, r FROM"),
            "{query}"
        );
        assert!(
            !query.contains("event,") && !query.contains(", event "),
            "{query}"
        );
        assert_eq!(query.matches("lower(x) AS a_1").count(), 1, "{query}");
    }
}
