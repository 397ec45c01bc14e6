//! `huntbench scan --remote sc://HOST:PORT --table SOURCE`: the scan's rules run on a Spark
//! Connect server over an exported table, and the hits are written exactly as a local scan
//! writes them (same formats, same rows).
//!
//! The scan answers keys; the hit events are then fetched by key, a chunk at a time, into a
//! temporary file ([`SpillStore`]) where they wait until they are written. Correlations count
//! them with the local correlation engine, over that store of the fetched hits only.

use super::scan_cmd::{HitWriter, format_hit, print_sources, write_correlations};
use super::{ScanArgs, rules_for};
use crate::hunt;
use crate::remote::Remote;
use crate::remote::scan::{self as remote_scan, ScanOptions};
use crate::remote::store::TableSource;
use crate::remote::table::Table;
use crate::sanitize::for_terminal;
use crate::sigma::{CompiledRule, Correlation, correlation};
use crate::sql::rule::Path;
use crate::store::spill::SpillStore;
use crate::store::{EventRef, EventStore, Source};
use anyhow::Context;
use std::collections::HashMap;
use std::process::ExitCode;
use std::time::Duration;

pub fn run(args: &ScanArgs, url: &str, table: &str) -> anyhow::Result<ExitCode> {
    let (set, read_errors) = rules_for(
        &args.rules,
        args.case.case.as_deref(),
        args.skip_impossible_4688,
    )?;
    if !read_errors.is_empty() {
        for e in &read_errors {
            eprintln!("error: cannot read rules: {e}");
        }
        eprintln!("huntbench: not scanning: fix or leave out the rule paths above");
        return Ok(ExitCode::from(2));
    }
    for r in set.errors.iter().chain(&set.unsupported) {
        eprintln!("rule not loaded: {}", for_terminal(&r.error.to_string()));
    }
    print_sources(
        &crate::rulepack::sources(&set, &crate::rulepack::config_dir()),
        args.verbose,
    );
    let sel = hunt::select_by_level(&set.rules, &set.correlations, args.min_level);
    let rules: Vec<&CompiledRule> = sel.rules.iter().map(|&i| &set.rules[i]).collect();
    let correlations: Vec<Correlation> = (sel.correlations.iter())
        .map(|&i| set.correlations[i].clone())
        .collect();
    let timeout = Duration::from_secs(args.remote_timeout.max(1));
    let started = std::time::Instant::now();
    let remote = Remote::connect(url)?;
    let view = Table::open(&remote, &TableSource::parse(table), timeout)?;
    let catalog = remote_scan::catalog(&remote, view.name(), timeout)?;
    let sqls = remote_scan::compile(&rules, &catalog);
    let confirm = sqls.iter().filter(|s| s.path != Path::Exact).count();
    eprintln!(
        "{} rule(s) on {}: {} as exact SQL, {confirm} narrowed remotely and confirmed here (`rules check --remote` says why)",
        rules.len(),
        remote.url(),
        rules.len() - confirm
    );
    let opts = ScanOptions {
        timeout,
        batch: args.remote_batch,
    };
    let mut hits: Vec<Vec<EventRef>> = vec![Vec::new(); rules.len()];
    let report = remote_scan::run(&remote, view.name(), &sqls, &opts, |i, at| hits[i].push(at))
        .map_err(|e| anyhow::anyhow!(e))
        .context("the remote scan stopped")?;
    // Then each hit event once (several rules may match it), by key, into a temporary file
    // rather than memory: a scan can find hundreds of thousands.
    let mut store = SpillStore::new()?;
    let mut files: Vec<String> = Vec::new();
    let mut file_ids: HashMap<String, u64> = HashMap::new();
    let mut spilled: HashMap<u64, u64> = HashMap::new();
    let mut spill_error = None;
    let fetches = remote_scan::fetch_hits(
        &remote,
        &view,
        (&rules, &sqls),
        &mut hits,
        true,
        timeout,
        |at, event, file| {
            let file = match file_ids.get(file) {
                Some(&id) => id,
                None => {
                    files.push(file.to_owned());
                    file_ids.insert(file.to_owned(), files.len() as u64 - 1);
                    files.len() as u64 - 1
                }
            };
            match store.push(&event, file) {
                Ok(k) => drop(spilled.insert(at.key, k)),
                Err(e) => spill_error = spill_error.take().or(Some(e)),
            }
        },
    )
    .map_err(|e| anyhow::anyhow!(e))
    .context("fetching the hits' events")?;
    if let Some(e) = spill_error {
        return Err(e.into());
    }
    drop(file_ids);
    let elapsed = started.elapsed();
    // The fetched hits as a store, so output and correlations read them as a local scan does.
    let sources: Vec<Source> = (files.iter().enumerate())
        .map(|(id, path)| Source {
            id: id as u64,
            paths: vec![path.clone()],
            ..Source::default()
        })
        .collect();
    store.set_sources(sources);
    let silenced =
        |id: Option<&str>, name: Option<&str>| correlation::silenced(&set.correlations, id, name);
    let out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut writer = HitWriter::new(args.format, out)?;
    let (mut written, mut fed) = (0, 0);
    let mut kept: Vec<Vec<EventRef>> = vec![Vec::new(); rules.len()];
    for (i, rule) in rules.iter().enumerate() {
        // In time order, then by `event_key`: the same order whichever engine answered.
        hits[i].sort_unstable();
        hits[i].dedup();
        let refs: Vec<EventRef> = (hits[i].iter())
            .filter_map(|at| spilled.get(&at.key))
            .map(|&k| store.reference(k))
            .collect();
        let meta = &rule.meta;
        if sel.rules_shown[i] && silenced(meta.id.as_deref(), meta.name.as_deref()) {
            fed += refs.len();
        } else if sel.rules_shown[i] {
            for r in &refs {
                let (event, file) = store.event(*r)?;
                let path = files.get(file as usize).map_or("", String::as_str);
                let line = format_hit(args.format, rule, &event, path, rule.matches(&event))?;
                writer.write(event.timestamp(), line)?;
            }
            written += refs.len();
        }
        kept[i] = refs;
    }
    let kept: Vec<&[EventRef]> = kept.iter().map(Vec::as_slice).collect();
    let (corr_hits, corr_fed) = write_correlations(
        &mut writer,
        args.format,
        &store,
        (&rules, &kept),
        (&correlations, &sel.correlations_shown),
        &silenced,
    )?;
    fed += corr_fed;
    writer.finish()?;
    let shown = sel.rules_shown.iter().filter(|s| **s).count();
    let mut summary = format!(
        "{shown} rule(s) on {}: {written} hit(s), {corr_hits} correlation hit(s) in {elapsed:.0?}, {} quer(ies)",
        remote.url(),
        report.queries + fetches
    );
    if fed > 0 {
        summary.push_str(&format!(
            "; {fed} more hit(s) not output: they only feed correlations (generate: false)"
        ));
    }
    eprintln!("{summary}");
    for (i, why) in report.timed_out.iter().chain(&report.failed) {
        eprintln!(
            "rule not completed: {}: {}",
            for_terminal(rules[*i].title()),
            for_terminal(why)
        );
    }
    let incomplete = !report.timed_out.is_empty() || !report.failed.is_empty();
    Ok(ExitCode::from(if incomplete { 3 } else { 0 }))
}
