//! Sigma rules: loading, semantics, logsource mapping, exact matching and prefilters.
//!
//! Flow: YAML text → [`yaml`] (owned tree with spans; duplicate keys rejected) → [`rule`]
//! (metadata, document kind) → [`mapping`] (logsource → sources, fields → [`mapping::FieldRef`])
//! → [`detection`]/[`modifiers`]/[`condition`] → [`matcher::Detection`] (exact ground truth) and
//! [`compile`] (a sound [`crate::prefilter::Prefilter`] superset for the index).
//!
//! Semantics follow `docs/sigma-semantics.md` (spec v2.1 + pySigma 1.5 behaviour); every
//! deviation is either an explicit [`ErrorKind::Unsupported`] or a per-rule note.

pub mod check;
pub mod condition;
pub mod correlation;
pub mod detection;
pub mod filter;
pub mod level;
pub mod load;
pub mod mapping;
pub mod matcher;
pub mod modifiers;
pub mod prefilter_build;
pub mod rule;
pub mod skip4688;
pub mod value;
pub mod yaml;

use std::fmt;

use serde::Serialize;

pub use check::{CheckEntry, CheckOutcome, CheckReport};
pub use correlation::{BaseHit, Correlation, CorrelationHit};
pub use filter::Filter;
pub use level::Level;
pub use load::{Loader, Rejected, Replaced, RuleSet, Skipped};
pub use mapping::EventView;
pub use matcher::{FieldMatch, MatchDetail};
pub use rule::{CompiledRule, LogSource, RuleMeta};
pub use yaml::Span;

/// What kind of problem a rule has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Not valid YAML (or unreadable file).
    Yaml,
    /// Valid YAML but not a valid Sigma rule (per the spec / pySigma).
    Invalid,
    /// Valid Sigma that this engine does not evaluate (aggregations, unresolved placeholders…).
    Unsupported,
}

/// A rule problem with its position: `origin:line:column: message`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SigmaError {
    pub origin: String,
    pub span: Option<Span>,
    pub kind: ErrorKind,
    pub message: String,
}

impl SigmaError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> SigmaError {
        SigmaError {
            origin: String::new(),
            span: None,
            kind,
            message: message.into(),
        }
    }

    /// Sets the position unless a more precise one is already known.
    pub fn at(mut self, span: Span) -> SigmaError {
        if self.span.is_none() {
            self.span = Some(span);
        }
        self
    }

    pub fn with_origin(mut self, origin: &str) -> SigmaError {
        origin.clone_into(&mut self.origin);
        self
    }

    pub fn context(mut self, ctx: &str) -> SigmaError {
        self.message = format!("{ctx}: {}", self.message);
        self
    }
}

impl fmt::Display for SigmaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let origin = if self.origin.is_empty() {
            "<rule>"
        } else {
            &self.origin
        };
        match self.span {
            Some(s) => write!(f, "{origin}:{}:{}: {}", s.line, s.col, self.message),
            None => write!(f, "{origin}: {}", self.message),
        }
    }
}

impl std::error::Error for SigmaError {}

#[cfg(test)]
mod tests;
