//! `huntbench stats`.

use super::CaseArgs;
use crate::index::Case;
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: &CaseArgs) -> anyhow::Result<ExitCode> {
    let dir = super::case_dir::resolve(args.case.as_deref(), &[])?;
    let case = Case::open(&dir)?;
    let stats = case.snapshot().stats()?;
    let manifest = case.manifest()?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "case      {}", dir.display())?;
    writeln!(out, "files     {}", manifest.files.len())?;
    writeln!(out, "events    {}", stats.events)?;
    let fmt = |t: Option<i64>| {
        t.and_then(|us| jiff::Timestamp::from_microsecond(us).ok())
            .map_or_else(|| "-".to_owned(), crate::event::format_timestamp)
    };
    writeln!(out, "first     {}", fmt(stats.first))?;
    writeln!(out, "last      {}", fmt(stats.last))?;
    writeln!(out, "\nevents by channel")?;
    for (name, n) in &stats.by_channel {
        writeln!(out, "{n:>10}  {}", crate::sanitize::for_terminal(name))?;
    }
    writeln!(out, "\nevents by EventID")?;
    for (eid, n) in &stats.by_event_id {
        writeln!(out, "{n:>10}  {eid}")?;
    }
    writeln!(out, "\nevents by computer")?;
    for (name, n) in &stats.by_computer {
        writeln!(out, "{n:>10}  {}", crate::sanitize::for_terminal(name))?;
    }
    Ok(ExitCode::SUCCESS)
}
