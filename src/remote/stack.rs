//! Stacks counted on the server: how often each tuple of values of some fields occurs in a
//! list's events, by `GROUP BY` where the events are, so that only the counts cross the wire.
//!
//! Fields are read as the local count reads them: through the rule's mapping when the list is
//! a rule's hits (`sql::rule::with_values`, which shares the rule's slots), else every field of
//! that name in any case (`Catalog::values_any_case`). A field with several values counts
//! once per value, an event once per combination; an event lacking a field is `missing`.

use super::RecordBatch;
use super::columns::{ints, strings};
use super::table::Table;
use crate::sql::{Catalog, labels_holding, or};
use crate::store::{STACK_ROWS, StackQuery};
use std::collections::HashMap;

/// Keys one query names when a list is not a rule's hits. A list of any length is counted in
/// queries of this many events, each answering every tuple it saw (at most one row an event,
/// much less than the events themselves), merged here.
pub const KEYS_PER_QUERY: usize = 2048;

/// The queries that count `q` over `from`, whose answers [`read`] merges; `None` when the
/// store cannot count it exactly (the caller counts the fetched events).
pub fn queries(q: &StackQuery<'_>, cat: &Catalog, from: &Table) -> Option<Vec<String>> {
    let n = q.fields.len();
    if n == 0 || q.refs.is_empty() {
        return None;
    }
    let columns = |values: &[String]| -> String {
        let named: Vec<String> = (values.iter().enumerate())
            .map(|(i, v)| format!("{v} AS f{i}"))
            .collect();
        named.join(", ")
    };
    let arrays: Vec<String> = (0..n).map(|i| format!("f{i}")).collect();
    if let Some(rule) = q.rule {
        // The list is every hit of the rule: the rule's own condition finds them on the server
        // (its slots computed once, as in a scan), so no key crosses the wire. A rule that only
        // narrows in SQL (its hits are confirmed here) is counted from the fetched events.
        let (sql, values) = crate::sql::rule::with_values(rule, q.fields, cat).ok()?;
        let slots: String = (sql.slots.iter())
            .map(|(column, expr)| format!(", {expr} AS {column}"))
            .collect();
        // Lambdas stay in SELECT lists (Sail refuses them in WHERE).
        let read = columns(&values);
        let (hit, keep) = labels_holding(&[(&sql.condition, "1")], "huntbench_hit");
        let events = format!(
            "SELECT {} FROM (SELECT {read}, {hit} FROM (SELECT *{slots} FROM {from} WHERE {})) \
             WHERE {keep}",
            arrays.join(", "),
            sql.sources
        );
        return Some(vec![counts(&events, n, Some(STACK_ROWS))]);
    }
    // Any other list (a search, a pivot, a timeline) is named by its keys, a chunk per query,
    // rather than counted from its fetched events: a key costs some twenty bytes of SQL, an
    // event kilobytes of JSON. An event listed twice counts twice here, which a key filter
    // cannot say: such a list is counted from the fetched events.
    let mut refs = q.refs.to_vec();
    refs.sort_unstable();
    if refs.windows(2).any(|w| w[0] == w[1]) {
        return None;
    }
    let values: Vec<String> = (q.fields.iter()).map(|f| cat.values_any_case(f)).collect();
    let chunks = refs.chunks(KEYS_PER_QUERY).map(|chunk| {
        let keys: Vec<String> = chunk.iter().map(|r| r.key.to_string()).collect();
        let events = format!(
            "SELECT {} FROM {from} WHERE event_key IN ({}){}",
            columns(&values),
            keys.join(", "),
            from.time_within(chunk)
        );
        counts(&events, n, None)
    });
    Some(chunks.collect())
}

/// `GROUP BY` over `events`, a query whose columns `f0…` are the fields' values as arrays
/// (`NULL` when absent): rows `v0…, n`, where the row whose values are `NULL` counts the events
/// lacking some field. With `limit`, that row comes first, then the `limit` commonest tuples
/// (ties by values, as the local count orders them: Spark and Sail compare text by bytes).
fn counts(events: &str, n: usize, limit: Option<usize>) -> String {
    let (arrays, values): (Vec<String>, Vec<String>) =
        (0..n).map(|i| (format!("f{i}"), format!("v{i}"))).unzip();
    let lacking = or((arrays.iter())
        .map(|f| format!("({f} IS NULL OR size({f}) = 0)"))
        .collect());
    // An event lacking a field becomes one row of NULLs; the others one row per combination.
    let marked: Vec<String> = (arrays.iter())
        .map(|f| format!("IF(huntbench_lacks, array(CAST(NULL AS STRING)), {f}) AS {f}"))
        .collect();
    let mut rows = format!(
        "SELECT {} FROM (SELECT {}, {lacking} AS huntbench_lacks FROM ({events}))",
        marked.join(", "),
        arrays.join(", ")
    );
    // One generator per SELECT list (Spark's rule): a level per field.
    for i in 0..n {
        let kept: Vec<String> = (0..n)
            .map(|j| match j.cmp(&i) {
                std::cmp::Ordering::Less => values[j].clone(),
                std::cmp::Ordering::Equal => format!("explode({}) AS {}", arrays[j], values[j]),
                std::cmp::Ordering::Greater => arrays[j].clone(),
            })
            .collect();
        rows = format!("SELECT {} FROM ({rows})", kept.join(", "));
    }
    let values = values.join(", ");
    let order = limit.map_or_else(String::new, |limit| {
        format!(
            " ORDER BY (v0 IS NULL) DESC, huntbench_n DESC, {values} LIMIT {}",
            limit + 1
        )
    });
    format!("SELECT {values}, count(*) AS huntbench_n FROM ({rows}) GROUP BY {values}{order}")
}

/// Adds the rows of one answer of [`queries`] (`n` fields) to `tuples` and `missing`.
pub fn read(
    batch: &RecordBatch,
    n: usize,
    tuples: &mut HashMap<Vec<String>, u64>,
    missing: &mut u64,
) -> Result<(), super::columns::ColumnError> {
    let columns: Vec<Vec<Option<String>>> = (0..n)
        .map(|i| strings(batch, i))
        .collect::<Result<_, _>>()?;
    let counts = ints(batch, n)?;
    for (row, count) in counts.into_iter().enumerate() {
        let count = count.unwrap_or(0).max(0) as u64;
        let tuple: Option<Vec<String>> = columns.iter().map(|c| c[row].clone()).collect();
        match tuple {
            Some(tuple) => *tuples.entry(tuple).or_default() += count,
            None => *missing += count,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::EventRef;

    #[test]
    fn each_field_is_exploded_at_its_own_level() {
        let sql = counts("SELECT a AS f0, b AS f1 FROM t", 2, Some(500));
        assert_eq!(sql.matches("explode(").count(), 2);
        assert!(sql.ends_with("LIMIT 501"), "{sql}");
        assert!(!counts("SELECT a AS f0 FROM t", 1, None).contains("LIMIT"));
    }

    #[test]
    fn a_list_naming_an_event_twice_is_counted_locally() {
        let fields = ["Image".to_owned()];
        let cat = Catalog::assuming_every_field();
        let q = |refs: &'static [EventRef]| StackQuery {
            refs,
            fields: &fields,
            rule: None,
        };
        static TWICE: [EventRef; 2] = [EventRef { ts: 5, key: 7 }, EventRef { ts: 5, key: 7 }];
        assert!(queries(&q(&TWICE), &cat, &Table::named("t")).is_none());
        static ONCE: [EventRef; 1] = [EventRef { ts: 5, key: 7 }];
        let once = queries(&q(&ONCE), &cat, &Table::named("t")).unwrap_or_default();
        assert_eq!(once.len(), 1);
        assert!(once[0].contains("event_key IN (7)"), "{}", once[0]);
    }
}
