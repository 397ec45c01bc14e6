//! Placeholder for the Sigma → Spark SQL compiler being written beside the remote store: the
//! names the remote store uses, with a prefilter that narrows only by time (sound: every event
//! is a candidate). Replaced by the compiler when it lands.

use crate::prefilter::Prefilter;

/// The map keys present in an exported table.
#[derive(Clone, Debug, Default)]
#[allow(dead_code)]
pub struct Catalog {
    keys: Vec<(String, String)>,
}

impl Catalog {
    pub fn keys_query(view: &str) -> String {
        format!(
            "SELECT DISTINCT 's' AS m, k FROM (SELECT explode(map_keys(system)) AS k FROM {view}) \
             UNION ALL SELECT DISTINCT 'd' AS m, k FROM (SELECT explode(map_keys(event_data)) AS k FROM {view})"
        )
    }

    pub fn from_rows<'a>(rows: impl IntoIterator<Item = (&'a str, &'a str)>) -> Catalog {
        Catalog {
            keys: (rows.into_iter())
                .map(|(m, k)| (m.to_owned(), k.to_owned()))
                .collect(),
        }
    }
}

/// `text` as an SQL string literal.
pub fn quote(text: &str) -> String {
    let mut out = String::from("'");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A sound superset of `p` as an SQL boolean.
#[allow(clippy::only_used_in_recursion)]
pub fn prefilter(p: &Prefilter, cat: &Catalog) -> String {
    match p {
        Prefilter::Nothing => "false".to_owned(),
        Prefilter::TimeRange { from, to } => {
            format!("coalesce(unix_micros(time) BETWEEN {from} AND {to}, false)")
        }
        Prefilter::And(parts) => {
            let parts: Vec<String> = parts.iter().map(|q| prefilter(q, cat)).collect();
            format!("({})", parts.join(" AND "))
        }
        _ => "true".to_owned(),
    }
}
