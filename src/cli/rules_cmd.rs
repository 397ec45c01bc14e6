//! `huntbench rules check`: which rules load, which are unsupported or broken, and why;
//! `huntbench rules update`: installs SigmaHQ's rule release.

use super::{CheckFormat, RulesCheckArgs, RulesUpdateArgs};
use crate::ruleinstall::{self, Source};
use crate::rulepack;
use crate::sanitize::for_terminal;
use crate::sigma::{CheckOutcome, CheckReport};
use crate::sql::rule::Path;
use std::io::Write;
use std::process::ExitCode;

pub fn check(args: &RulesCheckArgs) -> anyhow::Result<ExitCode> {
    // As `scan` and the workbench load them: with the user's rules directory, where a saved
    // edit replaces its original.
    let (set, read_errors) = rulepack::load_for_case_with(
        &rulepack::loader(&rulepack::config_dir())?,
        &args.rules.rules,
        args.rules.no_default_rules,
        None,
        &rulepack::config_dir(),
    )?;
    let mut report = CheckReport::from_rules(&set);
    // A path that could not be read is an error too (the run fails for it), in both formats.
    report.totals.error += read_errors.len();
    let mut out = std::io::stdout().lock();
    let remote = args.remote.then(|| remote_paths(&set));
    match args.format {
        CheckFormat::Json => {
            let mut value = serde_json::json!({"report": report, "unreadable": read_errors});
            if let Some(paths) = &remote {
                value["remote"] = serde_json::Value::Array(
                    (paths.iter())
                        .map(|(rule, path)| {
                            let (how, why) = match path {
                                Path::Exact => ("exact", None),
                                Path::Confirm(why) => ("confirm", Some(why)),
                            };
                            serde_json::json!({"id": rule.id(), "title": rule.title(),
                                "origin": rule.meta.origin, "path": how, "reason": why})
                        })
                        .collect(),
                );
            }
            writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        }
        CheckFormat::Table => {
            for e in &read_errors {
                writeln!(out, "error        {}", for_terminal(e))?;
            }
            for entry in &report.entries {
                let shown =
                    !matches!(entry.outcome, CheckOutcome::Loaded) || !entry.notes.is_empty();
                if !shown && !args.all {
                    continue;
                }
                let outcome = format!("{:?}", entry.outcome).to_lowercase();
                let title = entry.title.as_deref().unwrap_or("");
                writeln!(
                    out,
                    "{outcome:<12} {}  {}",
                    for_terminal(title),
                    for_terminal(&entry.origin)
                )?;
                if let Some(reason) = &entry.reason {
                    writeln!(out, "             {}", for_terminal(reason))?;
                }
                for note in &entry.notes {
                    writeln!(out, "             note: {}", for_terminal(note))?;
                }
            }
            let sources = rulepack::sources(&set, &rulepack::config_dir());
            writeln!(out, "\n{}", for_terminal(&sources.summary()))?;
            let t = &report.totals;
            writeln!(
                out,
                "{} loaded, {} unsupported, {} error(s), {} skipped (not for Windows event logs, or not Sigma), {} correlation(s), {} filter(s), {} replaced (same id); {} loaded with notes",
                t.loaded,
                t.unsupported,
                t.error,
                t.skipped,
                t.correlations,
                t.filters,
                t.replaced,
                t.with_notes
            )?;
            if let Some(paths) = &remote {
                write_remote_paths(&mut out, paths, args.all)?;
            }
        }
    }
    let failed = report.totals.error > 0;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub fn update(args: &RulesUpdateArgs) -> anyhow::Result<ExitCode> {
    let source = match (&args.from, &args.url) {
        (Some(path), _) if path.is_dir() => Source::Dir(path.clone()),
        (Some(path), _) => Source::Zip(path.clone()),
        (None, Some(url)) => Source::Url(url.clone()),
        (None, None) => Source::Url(ruleinstall::DEFAULT_URL.to_owned()),
    };
    let config = rulepack::config_dir();
    let report = ruleinstall::update(&config, &source, &mut |step| {
        eprintln!("{}", for_terminal(step));
    })
    .map_err(|e| e.context("rules update failed; the installed rules are unchanged"))?;
    for line in &report.broken {
        eprintln!("broken upstream rule (not loaded): {}", for_terminal(line));
    }
    let r = &report.release;
    if let Some(old) = &report.previous {
        eprintln!("replaced {} ({} rules)", old.label(), old.default_rules);
    }
    let broken = if r.broken > 0 {
        format!(
            ", {} that do not parse (listed above; `rules check` names them too)",
            r.broken
        )
    } else {
        String::new()
    };
    println!(
        "installed {} in {}: {} rule files{broken}; {} rules load by default (Windows rules; {} unsupported by huntbench, see `rules check`)",
        r.label(),
        report.root.display(),
        r.rule_files,
        r.default_rules,
        report.unsupported,
    );
    Ok(ExitCode::SUCCESS)
}

/// How each loaded rule runs remotely (see `sql::rule`).
fn remote_paths(set: &crate::sigma::RuleSet) -> Vec<(&crate::sigma::CompiledRule, Path)> {
    let catalog = crate::sql::Catalog::assuming_every_field();
    (set.rules.iter())
        .map(|r| (r, crate::sql::rule::compile(r, &catalog).path))
        .collect()
}

/// The remote paths as the table lists them: rules confirmed locally (every rule with `all`).
fn write_remote_paths(
    out: &mut impl Write,
    paths: &[(&crate::sigma::CompiledRule, Path)],
    all: bool,
) -> anyhow::Result<()> {
    writeln!(out)?;
    for (rule, path) in paths {
        match path {
            Path::Exact if all => writeln!(out, "remote exact  {}", for_terminal(rule.title()))?,
            Path::Exact => {}
            Path::Confirm(why) => writeln!(
                out,
                "remote confirm {}  {}\n               {}",
                for_terminal(rule.title()),
                for_terminal(&rule.meta.origin),
                for_terminal(why)
            )?,
        }
    }
    let exact = paths.iter().filter(|(_, p)| *p == Path::Exact).count();
    writeln!(
        out,
        "remote (scan --remote): {exact} rule(s) run as exact SQL; {} narrowed in SQL and confirmed here by the exact matcher",
        paths.len() - exact
    )?;
    Ok(())
}
