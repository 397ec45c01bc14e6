//! `huntbench stats`.

use super::CaseArgs;
use crate::store::Backend;
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: &CaseArgs, backend: &dyn Backend) -> anyhow::Result<ExitCode> {
    let dir = super::case_dir::resolve(backend, args.case.as_deref(), &[])?;
    let store = backend
        .open(&dir, &[], &Default::default(), &mut |_| {})?
        .case
        .snapshot();
    let stats = store.stats()?;
    let sources = store.sources()?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "case      {}", dir.display())?;
    writeln!(out, "files     {}", sources.len())?;
    writeln!(out, "events    {}", stats.events)?;
    let folded: u64 = sources.iter().map(|s| s.folded).sum();
    if folded > 0 {
        writeln!(
            out,
            "folded    {folded} duplicate record(s) counted once (the same record in several inputs)"
        )?;
    }
    let fmt = |t: Option<i64>| {
        t.and_then(|us| jiff::Timestamp::from_microsecond(us).ok())
            .map_or_else(|| "-".to_owned(), crate::event::format_timestamp)
    };
    writeln!(out, "first     {}", fmt(stats.first))?;
    writeln!(out, "last      {}", fmt(stats.last))?;
    // Each section adds up to the events: those without the value are a row of their own.
    let section = |out: &mut dyn Write, title: &str, missing: &str, rows: Vec<(String, u64)>| {
        writeln!(out, "\nevents by {title}")?;
        let rows: Vec<&(String, u64)> = rows.iter().filter(|(name, _)| !name.is_empty()).collect();
        let listed: u64 = rows.iter().map(|(_, n)| n).sum();
        for (name, n) in rows {
            writeln!(out, "{n:>10}  {}", crate::sanitize::for_terminal(name))?;
        }
        match stats.events.saturating_sub(listed) {
            0 => Ok(()),
            n => writeln!(out, "{n:>10}  ({missing})"),
        }
    };
    let named = |rows: &[(String, u64)]| rows.to_vec();
    section(&mut out, "channel", "no channel", named(&stats.by_channel))?;
    // An EventID means something only within its channel (Sysmon 1 is not System's 1).
    let eids = (stats.by_event_id.iter())
        .map(|((channel, e), n)| {
            let channel = if channel.is_empty() {
                "(no channel)"
            } else {
                channel
            };
            (format!("{e:>5}  {channel}"), *n)
        })
        .collect();
    section(&mut out, "EventID and channel", "no EventID", eids)?;
    section(
        &mut out,
        "computer",
        "no computer",
        named(&stats.by_computer),
    )?;
    Ok(ExitCode::SUCCESS)
}
