//! `huntbench report`: the case's report as Markdown, from the rules `scan` runs (unchanged
//! rules' hits read back from the case's memo), written whole or not at all.

use super::{ReportArgs, ReportFormat, case_dir};
use crate::report::{self, CorrelationRun, NotLoaded, RuleRun, RuleState};
use crate::sigma::{CompiledRule, correlation};
use crate::store::{Backend, EventRef};
use std::process::ExitCode;

pub fn run(args: &ReportArgs, backend: &dyn Backend) -> anyhow::Result<ExitCode> {
    let dir = case_dir::resolve(backend, args.case.case.as_deref(), &[])?;
    let (set, read_errors) = super::case_rules(&args.rules, &dir, false)?;
    if !read_errors.is_empty() {
        for e in &read_errors {
            eprintln!("error: cannot read rules: {e}");
        }
        eprintln!("huntbench: no report: fix or leave out the rule paths above");
        return Ok(ExitCode::from(2));
    }
    let store = backend
        .open(&dir, &[], &Default::default(), &mut |_| {})?
        .case
        .snapshot();
    let rules: Vec<&CompiledRule> = set.rules.iter().collect();
    let memo = crate::hunt::Memo::open(&dir, &*store);
    let result = crate::hunt::run_memo(&*store, &rules, memo.as_ref())?;
    let corr_hits = crate::hunt::correlate(&*store, &set.correlations, &rules, &result)?;
    let silenced = |m: &crate::sigma::RuleMeta| {
        correlation::silenced(&set.correlations, m.id.as_deref(), m.name.as_deref())
    };
    let state = |m: &crate::sigma::RuleMeta| {
        if silenced(m) {
            RuleState::FeedsOnly
        } else {
            RuleState::Alerts
        }
    };
    let runs = (rules.iter().zip(&result.hits))
        .map(|(rule, hits): (&&CompiledRule, &Vec<EventRef>)| RuleRun {
            rule,
            hits,
            state: state(&rule.meta),
        })
        .collect();
    let correlations = (set.correlations.iter().zip(&corr_hits))
        .map(|(c, hits)| CorrelationRun {
            meta: &c.meta,
            hits: hits.len(),
            state: state(&c.meta),
        })
        .collect();
    let config = crate::rulepack::config_dir();
    let overlays = crate::overlay::load_all(Some(&dir), &config);
    let input = report::Input {
        store: &*store,
        case_dir: &dir,
        rules: runs,
        correlations,
        not_loaded: not_loaded(&set),
        overlays: &overlays,
        problems: &[],
        sources: crate::rulepack::sources(&set, &config).summary(),
    };
    let mut text = report::render(&input)?;
    let html_named = |p: &std::path::Path| {
        p.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"))
    };
    let html = match args.format {
        Some(f) => f == ReportFormat::Html,
        None => args.output.as_deref().is_some_and(html_named),
    };
    let default = if html { "report.html" } else { "report.md" };
    let path = args.output.clone().unwrap_or_else(|| dir.join(default));
    if html {
        text = report::html_page(&dir, &text);
    }
    report::write_atomic(&path, &text)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    eprintln!("report written to {}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// The rules of the set that did not run, and why.
fn not_loaded(set: &crate::sigma::RuleSet) -> Vec<NotLoaded> {
    let rejected = |kind: &str, r: &crate::sigma::Rejected| NotLoaded {
        kind: kind.into(),
        title: r.title.clone().unwrap_or_default(),
        origin: r.origin.clone(),
        reason: r.error.to_string(),
    };
    let mut out: Vec<NotLoaded> = (set.errors.iter().map(|r| rejected("error", r)))
        .chain(set.unsupported.iter().map(|r| rejected("unsupported", r)))
        .collect();
    out.extend(set.replaced.iter().map(|r| NotLoaded {
        kind: "replaced".into(),
        title: r.title.clone(),
        origin: r.dropped.clone(),
        reason: format!("replaced by {}", r.by),
    }));
    out
}
