//! Sigma rules and index prefilters as Spark SQL over the Parquet export (SCHEMA.md), for a
//! Spark Connect server (`remote`) to run where the events are.
//!
//! A field is read as [`crate::sigma`] reads it from an [`crate::event::Event`]: its exact
//! name first, then any case, `system` before `event_data`; an empty element is `NULL`, which
//! Sigma treats as absent; classic unnamed `<Data>` values (a JSON array in the map) are tested
//! one by one. Every expression built here is two-valued (never `NULL`), so `NOT` means what
//! the condition says.
//!
//! Engine facts the text follows (Spark 4 and Sail both): string literals take backslash
//! escapes; casts use `try_cast` (Spark 4 is ANSI); lambda functions (`filter(…, x -> …)`)
//! work only in a SELECT list (Sail), and a column the outer query filters on must not be pushed
//! down into its conditions: [`labels_holding`] builds the column callers test there.
//! Sail runs lambdas several times slower than plain expressions, so a single value and its
//! converted form are two values ([`Val::Few`]), not an array. There is no `exists(array, …)`
//! (Sail), so `size(filter(…)) > 0`.
//!
//! Not for: running anything (`remote` does), or deciding what matches (`sigma` does; a rule
//! that cannot be written exactly is marked for local confirmation, see [`rule`]).

pub mod rule;

use crate::prefilter::Prefilter;

/// The two maps of the export a field may live in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapColumn {
    System,
    EventData,
}

impl MapColumn {
    fn column(self) -> &'static str {
        match self {
            MapColumn::System => "system",
            MapColumn::EventData => "event_data",
        }
    }
}

/// The field name classic unnamed `<Data>` values share (a JSON array when several).
const LIST_FIELD: &str = "Data";

/// Columns the export copies some EventData fields into (faster to read than the map).
use crate::export::schema::PROMOTED;

/// The map keys present in an exported table: which fields exist, under which spelling.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    keys: Vec<(MapColumn, String)>,
    /// Keys some value of which is a JSON array: a field repeated in the record (classic
    /// unnamed `<Data>`, a UserData `Channel` beside the System one), whose values are tested
    /// one by one.
    lists: Vec<(MapColumn, String)>,
    /// Every field is taken to exist in `event_data` (for saying how rules compile, offline).
    open: bool,
}

impl Catalog {
    /// The query whose rows (`m` = `s` or `d`, `k` = key, `l` = `1` when some value of the
    /// key is a JSON array) [`Catalog::from_rows`] reads.
    pub fn keys_query(view: &str) -> String {
        let side = |m: &str, column: &str| {
            format!(
                "SELECT '{m}' AS m, key AS k, CASE WHEN startswith(value, '[') THEN 1 ELSE 0 END AS l \
                 FROM (SELECT explode({column}) AS (key, value) FROM {view})"
            )
        };
        format!(
            "SELECT m, k, CAST(max(l) AS STRING) AS l FROM ({} UNION ALL {}) GROUP BY m, k",
            side("s", "system"),
            side("d", "event_data")
        )
    }

    /// A catalog from (map, key) pairs; order does not matter.
    pub fn new(keys: impl IntoIterator<Item = (MapColumn, String)>) -> Catalog {
        let mut keys: Vec<(MapColumn, String)> = keys.into_iter().collect();
        keys.sort_by(|a, b| {
            (a.0 != MapColumn::System, &a.1).cmp(&(b.0 != MapColumn::System, &b.1))
        });
        keys.dedup();
        Catalog {
            keys,
            lists: Vec::new(),
            open: false,
        }
    }

    /// A catalog that takes every field to exist in `event_data`: how rules compile does not
    /// depend on which fields a table has, so `rules check --remote` needs no server.
    pub fn assuming_every_field() -> Catalog {
        Catalog {
            keys: Vec::new(),
            lists: Vec::new(),
            open: true,
        }
    }

    /// From the rows of [`Catalog::keys_query`]: `("s" | "d", key, "1" when a list)`.
    pub fn from_rows<'a>(rows: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>) -> Catalog {
        let map = |m: &str| {
            if m == "s" {
                MapColumn::System
            } else {
                MapColumn::EventData
            }
        };
        let rows: Vec<(MapColumn, String, bool)> = (rows.into_iter())
            .map(|(m, k, l)| (map(m), k.to_owned(), l == "1"))
            .collect();
        let mut cat = Catalog::new(rows.iter().map(|(m, k, _)| (*m, k.clone())));
        cat.lists = (rows.into_iter())
            .filter(|(_, _, list)| *list)
            .map(|(m, k, _)| (m, k))
            .collect();
        cat
    }

    fn is_list(&self, map: MapColumn, key: &str) -> bool {
        (self.open && key == LIST_FIELD) || self.lists.iter().any(|(m, k)| *m == map && k == key)
    }

    /// Every key spelled like `name` in any case, the exact spelling first (system, then
    /// event data), as `lookup` tries them.
    fn spellings<'a>(&'a self, name: &'a str) -> Vec<(MapColumn, &'a str)> {
        if self.open {
            return vec![(MapColumn::EventData, name)];
        }
        let exact = (self.keys.iter()).filter(|(_, k)| k == name);
        let other = (self.keys.iter()).filter(|(_, k)| k != name && k.eq_ignore_ascii_case(name));
        exact.chain(other).map(|(m, k)| (*m, k.as_str())).collect()
    }

    /// Whether the table has the key anywhere (exactly as spelled).
    pub fn has(&self, map: MapColumn, key: &str) -> bool {
        self.keys.iter().any(|(m, k)| *m == map && k == key)
    }

    /// The value of field `name` as the matcher reads it (see the module documentation).
    pub fn value(&self, name: &str) -> Val {
        let spellings = self.spellings(name);
        let read = |(map, key): (MapColumn, &str)| -> String {
            let promoted = map == MapColumn::EventData
                && PROMOTED.contains(&key)
                && !self
                    .keys
                    .iter()
                    .any(|(m, k)| *m == MapColumn::System && k == key);
            if promoted {
                format!("`{key}`")
            } else {
                format!("{}[{}]", map.column(), quote(key))
            }
        };
        let (expr, list) = match spellings.as_slice() {
            [] => return Val::Absent,
            [one] => (read(*one), self.is_list(one.0, one.1)),
            many => {
                // The first spelling the event has wins, even when its value is empty.
                let arms: Vec<String> = (many.iter())
                    .map(|&(map, key)| {
                        format!(
                            "WHEN map_contains_key({}, {}) THEN {}",
                            map.column(),
                            quote(key),
                            read((map, key))
                        )
                    })
                    .collect();
                let list = many.iter().any(|(m, k)| self.is_list(*m, k));
                (format!("(CASE {} END)", arms.join(" ")), list)
            }
        };
        if list {
            Val::Many(list_values(&expr))
        } else {
            Val::One(expr)
        }
    }

    /// Every value of every field named `name` in any case, as an SQL array (empty or `NULL`
    /// when there is none): how a list that is not a rule's hits reads a field to stack it,
    /// each spelling the event has counted.
    pub fn values_any_case(&self, name: &str) -> String {
        let arrays: Vec<String> = (self.spellings(name).into_iter())
            .map(|(map, key)| {
                let one = format!("{}[{}]", map.column(), quote(key));
                let val = match self.is_list(map, key) {
                    true => Val::Many(list_values(&one)),
                    false => Val::One(one),
                };
                format!("coalesce({}, array())", val.array())
            })
            .collect();
        match arrays.as_slice() {
            [] => Val::Absent.array(),
            _ => format!("concat({})", arrays.join(", ")),
        }
    }

    /// Every value of the event, one by one (keywords), `NULL`s included.
    pub fn all_values(&self) -> String {
        let mut parts = Vec::new();
        for map in [MapColumn::System, MapColumn::EventData] {
            let column = map.column();
            let lists: Vec<&str> = (self.lists.iter())
                .filter(|(m, _)| *m == map)
                .map(|(_, k)| k.as_str())
                .collect();
            if lists.is_empty() {
                parts.push(format!("map_values({column})"));
                continue;
            }
            let names: Vec<String> = lists.iter().map(|k| quote(k)).collect();
            parts.push(format!(
                "map_values(map_filter({column}, (k, v) -> NOT k IN ({})))",
                names.join(", ")
            ));
            for key in lists {
                let one = format!("{column}[{}]", quote(key));
                parts.push(format!("coalesce({}, array())", list_values(&one)));
            }
        }
        format!("concat({})", parts.join(", "))
    }
}

/// The values of a field that may hold a JSON array (several unnamed `<Data>`), as an array;
/// `NULL` when the field is.
fn list_values(expr: &str) -> String {
    format!(
        "(CASE WHEN {expr} IS NULL THEN NULL WHEN startswith({expr}, '[') THEN coalesce(from_json({expr}, 'array<string>'), array({expr})) ELSE array({expr}) END)"
    )
}

/// A field's value in SQL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Val {
    /// No event of the table has the field.
    Absent,
    /// One text value, `NULL` when the event lacks it.
    One(String),
    /// An array of text values, `NULL` when the event lacks the field.
    Many(String),
    /// A value and other forms of it (a conversion's), each `NULL` where there is none; the
    /// first is `NULL` exactly when the event lacks the field. Tested one by one, with no
    /// lambda function: Sail runs an array's lambdas several times slower.
    Few(Vec<String>),
}

impl Val {
    /// True when some value satisfies `test` (given the SQL of one value); false when absent.
    pub fn any(&self, test: impl Fn(&str) -> String) -> String {
        match self {
            Val::Absent => "false".to_owned(),
            Val::One(v) => format!("coalesce({}, false)", test(v)),
            Val::Many(arr) => format!(
                "coalesce(size(filter({arr}, x -> x IS NOT NULL AND {})) > 0, false)",
                test("x")
            ),
            Val::Few(values) => any_of(values, test),
        }
    }

    /// [`Val::any`] where the value is known to be present (the test then needs no guard
    /// against `NULL`, as long as `test` is never `NULL` on a value).
    pub fn any_present(&self, test: impl Fn(&str) -> String) -> String {
        match self {
            Val::Absent => "false".to_owned(),
            Val::One(v) => test(v),
            Val::Many(arr) => format!(
                "(size(filter({arr}, x -> x IS NOT NULL AND {})) > 0)",
                test("x")
            ),
            Val::Few(values) => any_of(values, test),
        }
    }

    /// True when the event has the field with a value (not empty-element null).
    pub fn present(&self) -> String {
        match self {
            Val::Absent => "false".to_owned(),
            Val::One(v) | Val::Many(v) => format!("({v} IS NOT NULL)"),
            Val::Few(values) => Val::first(values).present(),
        }
    }

    /// Every value as an SQL array, `NULL` when the event lacks the field.
    pub fn array(&self) -> String {
        match self {
            Val::Absent => "CAST(NULL AS ARRAY<STRING>)".to_owned(),
            Val::One(e) => format!("(CASE WHEN {e} IS NULL THEN NULL ELSE array({e}) END)"),
            Val::Many(arr) => arr.clone(),
            // The first value leads; the others follow where they are not NULL.
            Val::Few(values) => {
                let first = Val::first(values);
                let rest: Vec<String> = (values.iter().skip(1))
                    .map(|v| format!(", coalesce({}, array())", Val::One(v.clone()).array()))
                    .collect();
                format!(
                    "(CASE WHEN {} THEN concat(array({}){}) END)",
                    first.present(),
                    first.expr(),
                    rest.concat()
                )
            }
        }
    }

    /// The SQL of the value itself (`NULL` when absent).
    pub fn expr(&self) -> &str {
        match self {
            Val::Absent => "CAST(NULL AS STRING)",
            Val::One(v) | Val::Many(v) => v,
            Val::Few(values) => values
                .first()
                .map_or("CAST(NULL AS STRING)", String::as_str),
        }
    }

    /// How many forms of the value there are (one but for [`Val::Few`]).
    pub fn width(&self) -> usize {
        match self {
            Val::Few(values) => values.len(),
            _ => 1,
        }
    }

    /// The `i`-th form of a single value (the value itself first), `NULL` past the last.
    pub fn form(&self, i: usize) -> String {
        match self {
            Val::Few(values) => values.get(i).cloned(),
            other => (i == 0).then(|| other.expr().to_owned()),
        }
        .unwrap_or_else(|| Val::Absent.expr().to_owned())
    }

    /// The first of a [`Val::Few`]'s values, which says whether the field is there.
    fn first(values: &[String]) -> Val {
        values.first().map_or(Val::Absent, |v| Val::One(v.clone()))
    }
}

/// True when some of `values` is not `NULL` and satisfies `test`.
fn any_of(values: &[String], test: impl Fn(&str) -> String) -> String {
    or((values.iter())
        .map(|v| format!("coalesce({v} IS NOT NULL AND {}, false)", test(v)))
        .collect())
}

/// Which of `arms` (condition, label) hold for a row: an expression to select as `column`, the
/// labels of the arms that hold joined by commas, and the test on `column` that keeps the rows
/// where some arm holds.
///
/// The column is computed behind a volatile guard (`rand() >= 0` always holds), which neither
/// Spark nor Sail pushes a filter through. Without it they push the test on the column down
/// through the projections, writing each field column the conditions read (a query's shared
/// slots) into every test that reads it: a keyword list of 131 values over every field of an
/// event then builds that list 131 times per event (a batch of SigmaHQ's Application-log rules
/// took 55 s on Sail instead of 1 s). Kept in its own SELECT list, the column may also be
/// built from conditions with lambda functions (Sail, pushing the test down, failed on them
/// with "No field named ?table?.event_data").
pub fn labels_holding(arms: &[(&str, &str)], column: &str) -> (String, String) {
    let ifs: Vec<String> = (arms.iter())
        .map(|(cond, label)| format!("IF({cond}, {}, NULL)", quote(label)))
        .collect();
    (
        format!(
            "IF(rand() >= 0, concat_ws(',', {}), NULL) AS {column}",
            ifs.join(", ")
        ),
        format!("{column} <> ''"),
    )
}

/// `text` as an SQL string literal (backslash escapes, as Spark and Sail read them).
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Lowercases as the matcher does (both sides of a case-insensitive comparison).
pub fn lower(text: &str) -> String {
    crate::sigma::value::lower(text).into_owned()
}

/// A sound superset of `p` (true for every event `p` accepts) as a two-valued SQL boolean.
/// Regular expressions are not pushed (Java's regex can run for hours on some patterns and
/// reads some syntax differently): they answer true, which the contract allows.
pub fn prefilter(p: &Prefilter, cat: &Catalog) -> String {
    // Every spelling of the field, any of them: the contract reads names in any case.
    let any_spelling = |field: &str, test: &dyn Fn(&str) -> String| -> String {
        let mut parts = Vec::new();
        for (map, key) in cat.spellings(field) {
            let one = format!("{}[{}]", map.column(), quote(key));
            let val = if cat.is_list(map, key) {
                Val::Many(list_values(&one))
            } else {
                Val::One(one)
            };
            parts.push(val.any(test));
        }
        or(parts)
    };
    match p {
        Prefilter::All | Prefilter::Regex { .. } => "true".to_owned(),
        Prefilter::Nothing => "false".to_owned(),
        Prefilter::Equals { field, value } => {
            let want = quote(&value.to_lowercase());
            any_spelling(field, &|v| format!("lower({v}) = {want}"))
        }
        Prefilter::Prefix { field, prefix } => {
            let want = quote(&prefix.to_lowercase());
            any_spelling(field, &|v| format!("startswith(lower({v}), {want})"))
        }
        Prefilter::Suffix { field, suffix } => {
            let want = quote(&suffix.to_lowercase());
            any_spelling(field, &|v| format!("endswith(lower({v}), {want})"))
        }
        Prefilter::Contains { field, needle } => {
            let want = quote(&needle.to_lowercase());
            any_spelling(field, &|v| format!("contains(lower({v}), {want})"))
        }
        Prefilter::Exists { field } => any_spelling(field, &|_| "true".to_owned()),
        Prefilter::AnyContains { needle } => {
            let want = quote(&needle.to_lowercase());
            Val::Many(cat.all_values()).any(|v: &str| format!("contains(lower({v}), {want})"))
        }
        Prefilter::TimeRange { from, to } => {
            format!("coalesce(unix_micros(time) BETWEEN {from} AND {to}, false)")
        }
        Prefilter::And(parts) => and(parts.iter().map(|q| prefilter(q, cat)).collect()),
        Prefilter::Or(parts) => or(parts.iter().map(|q| prefilter(q, cat)).collect()),
    }
}

/// `a AND b AND …` (true when empty).
pub fn and(parts: Vec<String>) -> String {
    join(parts, "AND", "true")
}

/// `a OR b OR …` (false when empty).
pub fn or(parts: Vec<String>) -> String {
    join(parts, "OR", "false")
}

/// Joins with `op` as a balanced tree: a flat chain of hundreds of terms (a rule listing
/// every emoji) parses into a tree as deep as it is long, which overflows an engine's stack.
fn join(mut parts: Vec<String>, op: &str, empty: &str) -> String {
    const FLAT: usize = 8;
    match parts.len() {
        0 => empty.to_owned(),
        1 => parts.pop().unwrap_or_default(),
        n if n <= FLAT => format!("({})", parts.join(&format!(" {op} "))),
        n => {
            let right = parts.split_off(n / 2);
            format!(
                "({} {op} {})",
                join(parts, op, empty),
                join(right, op, empty)
            )
        }
    }
}

#[cfg(test)]
mod tests;
