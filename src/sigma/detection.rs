//! `detection:` → [`Detection`]: search identifiers, their definitions, and the condition.
//!
//! Definitions (pySigma `SigmaDetection.from_definition`): a map is an AND of items; a list of
//! scalars is an OR of keywords; a list of maps (or a mixed list) is an OR of sub-definitions;
//! a scalar is one keyword.

use super::condition::{self, Cond};
use super::matcher::{Detection, Node};
use super::modifiers::{ItemCtx, build_item};
use super::yaml::{Kind, Node as Y};
use super::{ErrorKind, SigmaError};

/// Compiles a detection block (a YAML map with `condition`).
pub fn compile(det: &Y, ctx: &mut ItemCtx<'_>) -> Result<Detection, SigmaError> {
    let Kind::Map(_) = det.kind else {
        return Err(SigmaError::new(ErrorKind::Invalid, "`detection` must be a map").at(det.span));
    };
    let mut selections = Vec::new();
    let mut condition_node = None;
    for (key, knode, value) in det.entries() {
        match key.as_str() {
            "condition" => condition_node = Some(value),
            "timeframe" => {
                ctx.notes
                    .push("`timeframe` (legacy aggregation) is ignored".into());
            }
            _ => {
                let body = definition(value, ctx).map_err(|e| e.context(&format!("in `{key}`")))?;
                let _ = knode;
                selections.push((key, body));
            }
        }
    }
    let cond_node = condition_node.ok_or_else(|| {
        SigmaError::new(ErrorKind::Invalid, "`detection` has no `condition`").at(det.span)
    })?;
    let names: Vec<String> = selections.iter().map(|(n, _)| n.clone()).collect();
    let texts: Vec<(String, &Y)> = match &cond_node.kind {
        Kind::Seq(items) => items
            .iter()
            .map(|n| (n.scalar_text().unwrap_or_default(), n))
            .collect(),
        _ => vec![(cond_node.scalar_text().unwrap_or_default(), cond_node)],
    };
    let mut parts = Vec::new();
    for (text, node) in texts {
        let expr = condition::parse(&text).map_err(|e| cond_error(e, node, &text))?;
        for p in condition::unmatched_patterns(&expr, &names) {
            ctx.notes.push(format!(
                "condition: `{p}` names no selection, so that part of the condition is dropped"
            ));
        }
        if let Some(c) =
            condition::resolve(&expr, &names).map_err(|e| cond_error(e, node, &text))?
        {
            parts.push(to_node(c));
        }
    }
    let condition = match parts.len() {
        0 => {
            return Err(SigmaError::new(
                ErrorKind::Unsupported,
                "the condition is empty once `1 of`/`all of` selectors matching no identifier are dropped (pySigma emits no query)",
            )
            .at(cond_node.span));
        }
        1 => parts.remove(0),
        // A condition list means OR (spec).
        _ => Node::Or(parts),
    };
    Ok(Detection {
        selections,
        condition,
    })
}

fn cond_error(e: condition::ConditionError, node: &Y, text: &str) -> SigmaError {
    let kind = if e.message.contains("aggregation") {
        ErrorKind::Unsupported
    } else {
        ErrorKind::Invalid
    };
    let mut span = node.span;
    // Point into the condition text when it sits on one line.
    if !text.contains('\n') {
        span.col += e.pos
            + usize::from(
                matches!(node.kind, Kind::Str(_)) && span.end > span.start + text.chars().count(),
            );
    }
    SigmaError::new(kind, format!("condition: {}", e.message)).at(span)
}

pub fn to_node(c: Cond) -> Node {
    match c {
        Cond::And(v) => Node::And(v.into_iter().map(to_node).collect()),
        Cond::Or(v) => Node::Or(v.into_iter().map(to_node).collect()),
        Cond::Not(c) => Node::Not(Box::new(to_node(*c))),
        Cond::Sel(i) => Node::Sel(i),
    }
}

/// One search-identifier definition.
pub fn definition(value: &Y, ctx: &mut ItemCtx<'_>) -> Result<Node, SigmaError> {
    match &value.kind {
        Kind::Map(_) => {
            let entries = value.entries();
            if entries.is_empty() {
                return Err(SigmaError::new(ErrorKind::Invalid, "empty selection").at(value.span));
            }
            let mut items = Vec::with_capacity(entries.len());
            for (key, knode, v) in entries {
                items.push(Node::Item(Box::new(build_item(
                    Some(&key),
                    v,
                    Some(knode),
                    ctx,
                )?)));
            }
            Ok(if items.len() == 1 {
                items.remove(0)
            } else {
                Node::And(items)
            })
        }
        Kind::Seq(elems) => {
            if elems.is_empty() {
                return Err(SigmaError::new(ErrorKind::Invalid, "empty selection").at(value.span));
            }
            if elems
                .iter()
                .all(|e| !matches!(e.kind, Kind::Map(_) | Kind::Seq(_)))
            {
                // Plain keyword list: one item, values ORed.
                return Ok(Node::Item(Box::new(build_item(None, value, None, ctx)?)));
            }
            let mut alts = Vec::with_capacity(elems.len());
            for e in elems {
                alts.push(definition(e, ctx)?);
            }
            Ok(Node::Or(alts))
        }
        Kind::Null => Err(SigmaError::new(ErrorKind::Invalid, "empty selection").at(value.span)),
        _ => Ok(Node::Item(Box::new(build_item(None, value, None, ctx)?))),
    }
}
