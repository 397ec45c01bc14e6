//! Sigma filter documents (meta filters), with pySigma semantics: a filter applies to a rule when
//! every logsource attribute the filter sets equals the rule's and the rule is listed (by id or
//! name) or the list is `any`/empty; the rule's condition becomes `(orig) and (filter condition)`.
//! Filter conditions are therefore written as exclusions (`not selection`).

use std::sync::Arc;

use super::matcher::{Detection, Node};
use super::rule::{LogSource, RuleMeta};
use super::yaml::{Kind, Node as Y};
use super::{ErrorKind, SigmaError};

#[derive(Clone, Debug)]
pub struct Filter {
    pub meta: RuleMeta,
    /// Rule ids or names; empty = every rule with a matching logsource.
    pub rules: Vec<String>,
    /// The `filter:` block minus `rules`, i.e. identifiers and `condition`.
    pub(crate) detection: Y,
}

impl Filter {
    pub fn from_node(doc: &Y, origin: &str, source: Arc<str>) -> Result<Filter, SigmaError> {
        let meta = RuleMeta::from_node(doc, origin, source);
        let block = doc.get("filter").filter(|b| b.is_map()).ok_or_else(|| {
            SigmaError::new(ErrorKind::Invalid, "`filter` must be a map").at(doc.span)
        })?;
        let Kind::Map(entries) = &block.kind else {
            return Err(
                SigmaError::new(ErrorKind::Invalid, "`filter` must be a map").at(block.span),
            );
        };
        let rules = match block.get("rules") {
            Some(r) if r.as_str() == Some("any") => Vec::new(),
            Some(r) => r.string_list(),
            None => Vec::new(),
        };
        if block.get("condition").is_none() {
            return Err(
                SigmaError::new(ErrorKind::Invalid, "filter has no `condition`").at(block.span),
            );
        }
        let detection = Y {
            span: block.span,
            kind: Kind::Map(
                entries
                    .iter()
                    .filter(|(k, _)| k.as_str() != Some("rules"))
                    .cloned()
                    .collect(),
            ),
        };
        Ok(Filter {
            meta,
            rules,
            detection,
        })
    }

    /// Whether this filter applies to a rule.
    pub fn applies_to(&self, rule: &RuleMeta) -> bool {
        let ls = &self.meta.logsource;
        let same = |f: &Option<String>, r: &Option<String>| f.is_none() || f == r;
        let LogSource {
            product,
            category,
            service,
            ..
        } = &rule.logsource;
        if !(same(&ls.product, product)
            && same(&ls.category, category)
            && same(&ls.service, service))
        {
            return false;
        }
        self.rules.is_empty()
            || self.rules.iter().any(|r| {
                rule.id.as_deref() == Some(r.as_str()) || rule.name.as_deref() == Some(r.as_str())
            })
    }
}

/// ANDs a compiled filter detection into a rule detection (selections appended, renamed so they
/// cannot collide with the rule's own identifiers).
pub fn merge(rule: &mut Detection, filter: Detection, tag: usize) {
    let offset = rule.selections.len();
    for (name, body) in filter.selections {
        rule.selections.push((format!("_filter{tag}_{name}"), body));
    }
    let cond = shift(filter.condition, offset);
    let orig = std::mem::replace(&mut rule.condition, Node::Const(true));
    rule.condition = Node::And(vec![orig, cond]);
}

fn shift(n: Node, by: usize) -> Node {
    match n {
        Node::And(v) => Node::And(v.into_iter().map(|c| shift(c, by)).collect()),
        Node::Or(v) => Node::Or(v.into_iter().map(|c| shift(c, by)).collect()),
        Node::Not(c) => Node::Not(Box::new(shift(*c, by))),
        Node::Sel(i) => Node::Sel(i + by),
        other => other,
    }
}
