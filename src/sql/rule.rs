//! One compiled Sigma rule as a Spark SQL condition: exact where every part of it can be
//! written in SQL with the matcher's meaning, otherwise the rule's prefilter (a superset),
//! whose candidates the exact matcher confirms where they are fetched.

mod convert;
mod value;

use super::{Catalog, Val, and, or, quote};
use crate::sigma::CompiledRule;
use crate::sigma::mapping::{FieldRef, Source};
use crate::sigma::matcher::{Item, Node, Test};
use convert::converted;
use ipnet::IpNet;
use value::{
    Operand, cmp_symbol, ipv4_in, ipv6_hex, ipv6_in, number, position_sql, str_sql, trimmed,
};

/// How a rule runs remotely.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Path {
    /// The SQL decides: its rows are the rule's hits.
    Exact,
    /// The SQL narrows (the rule's prefilter); the exact matcher confirms each row, for this
    /// reason.
    Confirm(String),
}

/// A rule in SQL.
#[derive(Clone, Debug)]
pub struct RuleSql {
    /// The rule's logsource as plain column tests (no lambdas, no map reads): what may go in
    /// a WHERE clause to prune before anything else is read.
    pub sources: String,
    /// The whole condition, sources included; may hold lambdas (a SELECT list only). It reads
    /// the rule's fields from the columns `slots` names.
    pub condition: String,
    pub path: Path,
    /// The fields the condition reads, as (column, SQL over the table): computed once per
    /// event in an inner query, where rules of a batch share them (every process-creation rule
    /// reads `Image` through the same mapping, lowered once).
    pub slots: Vec<(String, String)>,
}

/// Fields read by a rule, named by a digest of their SQL so that equal reads of several
/// rules share a column.
#[derive(Default)]
struct Slots(Vec<(String, String)>);

impl Slots {
    fn name(expr: &str) -> String {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        expr.hash(&mut h);
        format!("{:016x}", h.finish())
    }

    fn define(&mut self, column: String, expr: String) {
        if !self.0.iter().any(|(c, _)| *c == column) {
            self.0.push((column, expr));
        }
    }

    /// The value as columns: `v_…` the value and `l_…` it lowered (for each of a few), or
    /// `a_…` the values.
    fn hold(&mut self, value: Val) -> Held {
        match value {
            Val::Absent => Held::Absent,
            Val::One(expr) => Held::One(self.operand(expr)),
            Val::Few(exprs) => Held::Few(exprs.into_iter().map(|e| self.operand(e)).collect()),
            Val::Many(expr) => {
                let column = format!("a_{}", Slots::name(&expr));
                self.define(column.clone(), expr);
                Held::Many(column)
            }
        }
    }

    fn operand(&mut self, expr: String) -> Operand {
        let h = Slots::name(&expr);
        self.define(format!("l_{h}"), format!("lower({expr})"));
        self.define(format!("v_{h}"), expr);
        Operand {
            sql: format!("v_{h}"),
            lower: format!("l_{h}"),
        }
    }

    /// The column holding `column`'s value as IPv6 digits ([`ipv6_hex`]), defined on first
    /// use: every rule of a batch that tests the field against IPv6 networks reads it.
    fn ipv6_of(&mut self, column: &str) -> String {
        let expr = (self.0.iter())
            .find(|(c, _)| c == column)
            .map(|(_, expr)| expr.clone())
            .unwrap_or_else(|| column.to_owned());
        let (kind, hash) = column.split_at(2);
        let digits = format!("x{kind}{hash}");
        if kind == "a_" {
            let each = ipv6_hex(&trimmed("lower(ip)"));
            self.define(digits.clone(), format!("transform({expr}, ip -> {each})"));
        } else {
            self.define(
                digits.clone(),
                ipv6_hex(&trimmed(&format!("lower({expr})"))),
            );
        }
        digits
    }
}

/// A field's value in the rule's columns ([`Slots::hold`]).
enum Held {
    Absent,
    One(Operand),
    /// The column of an array of values.
    Many(String),
    /// A value and other forms of it ([`Val::Few`]).
    Few(Vec<Operand>),
}

impl Held {
    fn val(&self) -> Val {
        match self {
            Held::Absent => Val::Absent,
            Held::One(o) => Val::One(o.sql.clone()),
            Held::Many(column) => Val::Many(column.clone()),
            Held::Few(ops) => Val::Few(ops.iter().map(|o| o.sql.clone()).collect()),
        }
    }

    /// [`Val::any`], the test given each value as an [`Operand`].
    fn any(&self, test: impl Fn(&Operand) -> String) -> String {
        match self {
            Held::One(o) => format!("coalesce({}, false)", test(o)),
            Held::Few(ops) => any_of(ops, test),
            other => other.val().any(|v| test(&Operand::of(v))),
        }
    }

    /// [`Val::any_present`], the test given each value as an [`Operand`].
    fn any_present(&self, test: impl Fn(&Operand) -> String) -> String {
        match self {
            Held::One(o) => test(o),
            Held::Few(ops) => any_of(ops, test),
            other => other.val().any_present(|v| test(&Operand::of(v))),
        }
    }
}

/// True when some of `ops` is not `NULL` and satisfies `test` ([`Val::Few`]).
fn any_of(ops: &[Operand], test: impl Fn(&Operand) -> String) -> String {
    or((ops.iter())
        .map(|o| format!("coalesce({} IS NOT NULL AND {}, false)", o.sql, test(o)))
        .collect())
}

/// Compiles `rule` for a table whose keys `cat` lists.
pub fn compile(rule: &CompiledRule, cat: &Catalog) -> RuleSql {
    let sources = sources_sql(&rule.sources.sources, cat, false);
    let full_sources = sources_sql(&rule.sources.sources, cat, true);
    let detection = &rule.detection;
    let mut slots = Slots::default();
    let exact = node(&detection.condition, detection, cat, &mut slots, 0);
    match exact {
        Ok(body) => RuleSql {
            condition: and(vec![full_sources, body]),
            sources,
            path: Path::Exact,
            slots: slots.0,
        },
        Err(why) => RuleSql {
            condition: and(vec![full_sources, super::prefilter(&rule.prefilter, cat)]),
            sources,
            path: Path::Confirm(why),
            slots: Vec::new(),
        },
    }
}

/// A search of the query language as SQL, exact or not at all: its comparisons read fields as
/// the query reads them (a Sigma name on every source the bundled mapping knows it on), and no
/// logsource narrows it. Its time bounds are not in it ([`crate::query::Query::window`]).
pub fn search(q: &crate::query::Query, cat: &Catalog) -> Result<RuleSql, Unsupported> {
    let detection = q.detection();
    let mut slots = Slots::default();
    let condition = node(&detection.condition, detection, cat, &mut slots, 0)?;
    Ok(RuleSql {
        sources: "true".to_owned(),
        condition,
        path: Path::Exact,
        slots: slots.0,
    })
}

/// `rule` compiled (as [`compile`]) with the values of `fields` as the rule reads them
/// ([`CompiledRule::field_values`]: its mapping, aliases and case rules), each an SQL array
/// (`NULL` when the event lacks the field) over the columns of the rule's slots, which it
/// shares. `Err` when the rule is not exact in SQL, or a field has no exact SQL (see [`compile`]).
pub fn with_values(
    rule: &CompiledRule,
    fields: &[String],
    cat: &Catalog,
) -> Result<(RuleSql, Vec<String>), Unsupported> {
    let mut sql = compile(rule, cat);
    if let Path::Confirm(why) = &sql.path {
        return Err(why.clone());
    }
    let mut slots = Slots(std::mem::take(&mut sql.slots));
    let values = (fields.iter())
        .map(|name| {
            let field = rule.sources.field(name, &mut Vec::new());
            Ok(slots.hold(field_value(&field, cat)?).val().array())
        })
        .collect::<Result<Vec<_>, Unsupported>>()?;
    sql.slots = slots.0;
    Ok((sql, values))
}

/// A reason a part of a rule has no exact SQL.
pub type Unsupported = String;

/// Selections nest only through the condition; this bounds a malformed self-reference.
const MAX_DEPTH: usize = 64;

fn node(
    n: &Node,
    d: &crate::sigma::matcher::Detection,
    cat: &Catalog,
    slots: &mut Slots,
    depth: usize,
) -> Result<String, Unsupported> {
    if depth > MAX_DEPTH {
        return Err("the condition nests too deeply".into());
    }
    Ok(match n {
        Node::And(v) => and(v
            .iter()
            .map(|n| node(n, d, cat, slots, depth + 1))
            .collect::<Result<_, _>>()?),
        Node::Or(v) => or(v
            .iter()
            .map(|n| node(n, d, cat, slots, depth + 1))
            .collect::<Result<_, _>>()?),
        Node::Not(inner) => format!("(NOT {})", node(inner, d, cat, slots, depth + 1)?),
        Node::Item(item) => item_sql(item, cat, slots)?,
        Node::Sel(i) => match d.selections.get(*i) {
            Some((_, body)) => node(body, d, cat, slots, depth + 1)?,
            None => "false".to_owned(),
        },
        Node::Const(b) => b.to_string(),
    })
}

/// An item: its field's value (or every value, for keywords) against its tests.
fn item_sql(item: &Item, cat: &Catalog, slots: &mut Slots) -> Result<String, Unsupported> {
    let value = slots.hold(match &item.field {
        Some(f) => field_value(f, cat)?,
        None => Val::Many(cat.all_values()),
    });
    let mut on_value = Vec::new();
    for t in &item.tests {
        on_value.push(match t {
            Test::Null => "false".to_owned(),
            Test::Exists(b) => b.to_string(),
            Test::Cidr(IpNet::V6(net)) => {
                let (lo, hi) = (u128::from(net.network()), u128::from(net.broadcast()));
                ipv6_sql(&value, slots, lo, hi)
            }
            t => {
                if matches!(t, Test::FieldRef { .. })
                    && matches!(value, Held::Many(_) | Held::Few(_))
                {
                    return Err("fieldref on a field with several values".into());
                }
                let test = test_sql(t, cat, slots)?;
                match &item.field {
                    // Read under `CASE WHEN present`: no value is NULL there.
                    Some(_) => value.any_present(|v| test(v)),
                    None => value.any(|v| test(v)),
                }
            }
        });
    }
    let combine = |parts: Vec<String>| if item.all { and(parts) } else { or(parts) };
    // Absent: only `null` and `exists: false` hold (decided here, as the matcher does).
    let absent = if item.all {
        item.tests
            .iter()
            .all(|t| matches!(t, Test::Null | Test::Exists(false)))
    } else {
        item.tests
            .iter()
            .any(|t| matches!(t, Test::Null | Test::Exists(false)))
    };
    let body = match (&item.field, &value) {
        (None, _) => combine(on_value),
        (Some(_), Held::Absent) => absent.to_string(),
        (Some(_), _) => format!(
            "(CASE WHEN {} THEN {} ELSE {absent} END)",
            value.val().present(),
            combine(on_value)
        ),
    };
    Ok(if item.negate {
        format!("(NOT {body})")
    } else {
        body
    })
}

/// Whether some value of `value` is an IPv6 address within `lo..=hi`, read from the value's
/// IPv6 columns ([`Slots::ipv6_of`]).
fn ipv6_sql(value: &Held, slots: &mut Slots, lo: u128, hi: u128) -> String {
    match value {
        Held::Absent => "false".to_owned(),
        Held::One(o) => ipv6_in(&slots.ipv6_of(&o.sql), lo, hi),
        Held::Few(ops) => or((ops.iter())
            .map(|o| ipv6_in(&slots.ipv6_of(&o.sql), lo, hi))
            .collect()),
        Held::Many(column) => {
            let digits = slots.ipv6_of(column);
            format!(
                "coalesce(size(filter({digits}, y -> {})) > 0, false)",
                ipv6_in("y", lo, hi)
            )
        }
    }
}

/// A rule field as the matcher resolves it: an alias on events of a source that names the
/// field otherwise (when the event lacks the field, or always for an override), else the
/// event's own field.
fn field_value(f: &FieldRef, cat: &Catalog) -> Result<Val, Unsupported> {
    let native = cat.value(&f.name);
    let mut arms: Vec<(String, Val)> = Vec::new();
    for (source, field, transform, force) in f.alternatives() {
        let read = converted(field, transform, cat).map_err(|why| {
            format!(
                "`{}` is read through a {transform:?} conversion on {}: {why}",
                f.name, source.name
            )
        })?;
        let when = if force {
            source_sql(source, cat)
        } else {
            and(vec![
                format!("(NOT {})", native.present()),
                source_sql(source, cat),
            ])
        };
        arms.push((when, read));
    }
    if arms.is_empty() {
        return Ok(native);
    }
    let all = || std::iter::once(&native).chain(arms.iter().map(|(_, v)| v));
    let choose = |read: &dyn Fn(&Val) -> String| {
        let whens: Vec<String> = (arms.iter())
            .map(|(when, v)| format!("WHEN {when} THEN {}", read(v)))
            .collect();
        format!("(CASE {} ELSE {} END)", whens.join(" "), read(&native))
    };
    if all().any(|v| matches!(v, Val::Many(_))) {
        return Ok(Val::Many(choose(&Val::array)));
    }
    // Some arm offers other forms: each form is chosen as the value is (`NULL` where an arm
    // has fewer).
    let width = all().map(Val::width).max().unwrap_or(1);
    if width > 1 {
        let forms = (0..width).map(|i| choose(&|v: &Val| v.form(i))).collect();
        return Ok(Val::Few(forms));
    }
    Ok(Val::One(choose(&|v: &Val| v.expr().to_owned())))
}

/// A test as SQL over one value.
type ValueTest = Box<dyn Fn(&Operand) -> String>;

fn test_sql(t: &Test, cat: &Catalog, slots: &mut Slots) -> Result<ValueTest, Unsupported> {
    Ok(match t {
        Test::Null => Box::new(|_| "false".to_owned()),
        Test::Exists(b) => {
            let b = *b;
            Box::new(move |_| b.to_string())
        }
        Test::Str(m) => {
            let m = m.clone();
            Box::new(move |v| str_sql(v, &m))
        }
        Test::AnyStr(ms) => {
            let ms = ms.clone();
            Box::new(move |v| or(ms.iter().map(|m| str_sql(v, m)).collect()))
        }
        Test::Regex { re, .. } => {
            let pattern = quote(re.as_str());
            Box::new(move |v| format!("({} RLIKE {pattern})", v.sql))
        }
        Test::Cidr(IpNet::V4(net)) => {
            let (lo, hi) = (u32::from(net.network()), u32::from(net.broadcast()));
            Box::new(move |v| ipv4_in(&v.sql, lo, hi))
        }
        // Read from the value's IPv6 column, in `item_sql`.
        Test::Cidr(IpNet::V6(net)) => return Err(format!("cidr {net} on no field")),
        Test::Cmp(op, n) => {
            let (op, n) = (*op, *n);
            if !n.is_finite() {
                return Err("a comparison with a number that is not finite".into());
            }
            Box::new(move |v| {
                let number = number(&v.sql);
                format!("coalesce({number} {} {n:?}, false)", cmp_symbol(op))
            })
        }
        Test::FieldRef { other, pos, cased } => {
            let Held::One(o) = slots.hold(field_value(other, cat)?) else {
                return Err(format!(
                    "fieldref to `{}`, absent or several values",
                    other.name
                ));
            };
            let (pos, cased) = (*pos, *cased);
            Box::new(move |v| {
                let (a, b) = if cased {
                    (&v.sql, &o.sql)
                } else {
                    (&v.lower, &o.lower)
                };
                let test = position_sql(pos, a, b);
                // The other field may be absent.
                format!("coalesce({test}, false)")
            })
        }
        Test::TimePart { .. } => return Err("a time-part comparison".into()),
    })
}

/// Whether an event belongs to one of `sources` (none: every event). Without `full`, only the
/// System columns are tested (a superset, for pruning in WHERE).
fn sources_sql(sources: &[std::sync::Arc<Source>], cat: &Catalog, full: bool) -> String {
    if sources.is_empty() {
        return "true".to_owned();
    }
    or(sources
        .iter()
        .map(|s| {
            let mut parts = vec![columns_sql(s)];
            if full {
                parts.push(conditions_sql(s, cat));
            }
            and(parts)
        })
        .collect())
}

fn source_sql(s: &Source, cat: &Catalog) -> String {
    and(vec![columns_sql(s), conditions_sql(s, cat)])
}

/// A source's EventID, channel and provider tests, on the export's typed columns. `NULL` (a
/// missing column value) only where false would do: these tests are only ever conjoined at
/// the top of a condition or a CASE arm, never negated. Bare, the EventID test reaches the
/// Parquet reader, which skips row groups by their statistics.
fn columns_sql(s: &Source) -> String {
    let mut parts = Vec::new();
    if !s.event_ids.is_empty() {
        let ids: Vec<String> = s.event_ids.iter().map(u64::to_string).collect();
        parts.push(format!("event_id IN ({})", ids.join(", ")));
    }
    let text_in = |column: &str, values: &[String]| {
        let values: Vec<String> = (values.iter())
            .map(|c| quote(&c.to_ascii_lowercase()))
            .collect();
        format!("lower({column}) IN ({})", values.join(", "))
    };
    if !s.channels.is_empty() {
        parts.push(text_in("channel", &s.channels));
    }
    if !s.providers.is_empty() {
        parts.push(text_in("provider", &s.providers));
    }
    and(parts)
}

/// A source's conditions on other fields (any value equal to one of the listed, any case).
fn conditions_sql(s: &Source, cat: &Catalog) -> String {
    and(s
        .conditions
        .iter()
        .map(|(field, values)| {
            let values: Vec<String> = values.iter().map(|w| quote(&w.to_lowercase())).collect();
            let list = values.join(", ");
            cat.value(field).any(|v| format!("lower({v}) IN ({list})"))
        })
        .collect())
}
