//! The kinds of background work the workbench tracks, and the worker's lanes.

/// A kind of background work: what the status line says is running, and, for those with a
/// worker lane of their own ([`Job::LANES`]), the lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Job {
    /// Events of a list's page.
    Fetch,
    Detail,
    /// Searches and pivots (a process tree shares their lane).
    Query,
    Tree,
    /// Live-edit recompiles.
    Compile,
    Stack,
    /// Loading and running rules, saving them, tuning.
    Rules,
    Export,
    /// Writing the case report.
    Report,
    /// Summarising hosts and users.
    Summaries,
    /// Re-deriving filtered timelines after a rule is enabled or disabled.
    Refilter,
}

impl Job {
    /// The single-slot lanes, one thread each.
    pub const LANES: [Job; 6] = [
        Job::Fetch,
        Job::Detail,
        Job::Query,
        Job::Compile,
        Job::Stack,
        Job::Refilter,
    ];

    /// As the status line says it.
    pub fn name(self) -> &'static str {
        match self {
            Job::Fetch => "fetch",
            Job::Detail => "detail",
            Job::Query => "query",
            Job::Tree => "tree",
            Job::Compile => "compile",
            Job::Stack => "stack",
            Job::Rules => "rules",
            Job::Export => "export",
            Job::Report => "report",
            Job::Summaries => "summaries",
            Job::Refilter => "filter",
        }
    }
}
