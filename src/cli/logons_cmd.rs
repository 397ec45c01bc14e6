//! `huntbench logons` and `huntbench lateral`: the case's logon sessions and the host → host
//! edges of lateral movement, each with the rule hits inside its sessions.

use super::{LogonsArgs, OutputFormat, case_dir, truncate};
use crate::logons::{self, Session, lateral::Edge};
use crate::rulepack;
use crate::sanitize::{for_terminal, json_text};
use crate::store::{Backend, EventRef, EventStore};
use std::io::Write;
use std::process::ExitCode;

/// The case's store, its sessions and the rule hits in each.
type Found = (std::sync::Arc<dyn EventStore>, Vec<Session>, Vec<u64>);

/// The sessions of the case and the rule hits in each.
fn sessions_and_hits(args: &LogonsArgs, backend: &dyn Backend) -> anyhow::Result<Found> {
    let dir = case_dir::resolve(backend, args.case.case.as_deref(), &[])?;
    let config = rulepack::config_dir();
    let loader = rulepack::loader(&config)?;
    let (set, read_errors) = rulepack::load_for_case_with(
        &loader,
        &args.rules.rules,
        args.rules.no_default_rules,
        Some(&dir),
        &config,
    )?;
    for e in &read_errors {
        eprintln!("error: cannot read rules: {e}");
    }
    let store = backend
        .open(&dir, &[], &Default::default(), &mut |_| {})?
        .case
        .snapshot();
    let sessions = logons::sessions(&*store)?;
    // Hits as a scan finds them (unchanged rules read back from the case's memo).
    let rules: Vec<&crate::sigma::CompiledRule> = set.rules.iter().collect();
    let memo = crate::hunt::Memo::open(&dir, &*store);
    let result = crate::hunt::run_memo(&*store, &rules, memo.as_ref())?;
    // Every rule's hits: an event two rules hit counts twice, as the hit lists show it.
    let mut hits: Vec<EventRef> = result.hits.into_iter().flatten().collect();
    hits.sort_unstable();
    let counts = logons::count_in_sessions(&*store, &sessions, &hits)?;
    Ok((store, sessions, counts))
}

fn time(us: i64) -> String {
    jiff::Timestamp::from_microsecond(us)
        .map_or_else(|_| "-".into(), crate::event::format_timestamp)
}

pub fn logons(args: &LogonsArgs, backend: &dyn Backend) -> anyhow::Result<ExitCode> {
    let (_, sessions, hits) = sessions_and_hits(args, backend)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        OutputFormat::Table => {
            writeln!(
                out,
                "{:<28} {:<24} {:>11} {:<24} {:>4} {:<18} {:<16} {:>5} {:>5}  END",
                "START",
                "COMPUTER",
                "LOGON ID",
                "USER",
                "TYPE",
                "FROM",
                "WORKSTATION",
                "PROCS",
                "HITS"
            )?;
            for (s, h) in sessions.iter().zip(&hits) {
                writeln!(
                    out,
                    "{:<28} {:<24} {:>11} {:<24} {:>4} {:<18} {:<16} {:>5} {:>5}  {}",
                    time(s.start()),
                    for_terminal(&truncate(&s.computer, 24)),
                    format!("{:#x}", s.logon_id),
                    for_terminal(&truncate(&s.user, 24)),
                    s.logon_type.map_or_else(|| "-".into(), |t| t.to_string()),
                    for_terminal(&truncate(&s.source_ip, 18)),
                    for_terminal(&truncate(&s.workstation, 16)),
                    s.processes,
                    h,
                    s.end.map_or_else(|| "-".into(), time),
                )?;
            }
        }
        OutputFormat::Jsonl => {
            for (s, h) in sessions.iter().zip(&hits) {
                let line = serde_json::json!({
                    "computer": s.computer,
                    "logon_id": format!("{:#x}", s.logon_id),
                    "user": s.user,
                    "logon_type": s.logon_type,
                    "source_ip": s.source_ip,
                    "workstation": s.workstation,
                    "authentication": s.auth_package,
                    "elevated": s.elevated,
                    "start": time(s.start()),
                    "end": s.end.map(time),
                    "processes": s.processes,
                    "share_accesses": s.shares,
                    "hits": h,
                });
                writeln!(out, "{}", json_text(line.to_string()))?;
            }
        }
        OutputFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record([
                "start",
                "computer",
                "logon_id",
                "user",
                "logon_type",
                "source_ip",
                "workstation",
                "authentication",
                "elevated",
                "end",
                "processes",
                "share_accesses",
                "hits",
            ])?;
            for (s, h) in sessions.iter().zip(&hits) {
                w.write_record([
                    time(s.start()),
                    crate::sanitize::csv_text(&s.computer),
                    format!("{:#x}", s.logon_id),
                    crate::sanitize::csv_text(&s.user),
                    s.logon_type.map(|t| t.to_string()).unwrap_or_default(),
                    crate::sanitize::csv_text(&s.source_ip),
                    crate::sanitize::csv_text(&s.workstation),
                    crate::sanitize::csv_text(&s.auth_package),
                    s.elevated.to_string(),
                    s.end.map(time).unwrap_or_default(),
                    s.processes.to_string(),
                    s.shares.to_string(),
                    h.to_string(),
                ])?;
            }
            w.flush()?;
            return Ok(ExitCode::SUCCESS);
        }
    }
    out.flush()?;
    eprintln!("{} logon session(s)", sessions.len());
    Ok(ExitCode::SUCCESS)
}

pub fn lateral(args: &LogonsArgs, backend: &dyn Backend) -> anyhow::Result<ExitCode> {
    let (store, sessions, hits) = sessions_and_hits(args, backend)?;
    let edges = logons::lateral::edges(&*store, &sessions, &hits)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let types = |e: &Edge| {
        let t: Vec<String> = e.logon_types.iter().map(u32::to_string).collect();
        t.join(",")
    };
    match args.format {
        OutputFormat::Table => {
            writeln!(
                out,
                "{:<28} {:<28} {:<24} {:<6} {:>6} {:>5}  {:<28} LAST",
                "FROM", "TO", "USER", "TYPES", "COUNT", "HITS", "FIRST"
            )?;
            for e in &edges {
                let from = if e.from_ip.is_empty() || e.from == e.from_ip {
                    e.from.clone()
                } else {
                    format!("{} ({})", e.from, e.from_ip)
                };
                writeln!(
                    out,
                    "{:<28} {:<28} {:<24} {:<6} {:>6} {:>5}  {:<28} {}",
                    for_terminal(&truncate(&from, 28)),
                    for_terminal(&truncate(&e.to, 28)),
                    for_terminal(&truncate(&e.user, 24)),
                    types(e),
                    e.count,
                    e.hits,
                    time(e.first),
                    time(e.last),
                )?;
            }
        }
        OutputFormat::Jsonl => {
            for e in &edges {
                let line = serde_json::json!({
                    "from": e.from,
                    "from_ip": e.from_ip,
                    "to": e.to,
                    "user": e.user,
                    "logon_types": e.logon_types,
                    "count": e.count,
                    "hits": e.hits,
                    "first": time(e.first),
                    "last": time(e.last),
                });
                writeln!(out, "{}", json_text(line.to_string()))?;
            }
        }
        OutputFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record([
                "from",
                "from_ip",
                "to",
                "user",
                "logon_types",
                "count",
                "hits",
                "first",
                "last",
            ])?;
            for e in &edges {
                w.write_record([
                    crate::sanitize::csv_text(&e.from),
                    crate::sanitize::csv_text(&e.from_ip),
                    crate::sanitize::csv_text(&e.to),
                    crate::sanitize::csv_text(&e.user),
                    types(e),
                    e.count.to_string(),
                    e.hits.to_string(),
                    time(e.first),
                    time(e.last),
                ])?;
            }
            w.flush()?;
            return Ok(ExitCode::SUCCESS);
        }
    }
    out.flush()?;
    eprintln!("{} edge(s) between hosts", edges.len());
    Ok(ExitCode::SUCCESS)
}
