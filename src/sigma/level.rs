//! Sigma's rule levels, ordered by severity.

use serde::Serialize;

/// A rule's `level:`, lowest first, so thresholds and sorts compare levels directly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    #[default]
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 5] = [
        Level::Informational,
        Level::Low,
        Level::Medium,
        Level::High,
        Level::Critical,
    ];

    /// The level Sigma spells `text` (in any case), if it is one of the five.
    pub fn parse(text: &str) -> Option<Level> {
        Level::ALL
            .into_iter()
            .find(|l| l.name().eq_ignore_ascii_case(text.trim()))
    }

    /// Sigma's spelling.
    pub fn name(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }

    /// The short form Hayabusa's timelines use (`crit`, `high`, `med`, `low`, `info`), for
    /// narrow columns and timelines other tools load.
    pub fn short(self) -> &'static str {
        match self {
            Level::Informational => "info",
            Level::Low => "low",
            Level::Medium => "med",
            Level::High => "high",
            Level::Critical => "crit",
        }
    }

    /// The next level up; `None` after critical.
    pub fn next(self) -> Option<Level> {
        Level::ALL.into_iter().find(|&l| l > self)
    }

    /// The five spellings, for messages.
    pub fn names() -> String {
        Level::ALL.map(Level::name).join(", ")
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_order_by_severity_and_parse_in_any_case() {
        assert!(Level::Informational < Level::Low && Level::High < Level::Critical);
        assert_eq!(Level::parse("HIGH"), Some(Level::High));
        assert_eq!(Level::parse("crtical"), None);
        assert_eq!(Level::Critical.next(), None);
        assert_eq!(Level::Informational.next(), Some(Level::Low));
    }
}
