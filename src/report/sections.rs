//! The report's sections, each appended to the document in turn.

use super::markdown::{code_block, table, text};
use super::summary::{Group, LEVELS, RuleHits, Summaries, Tally, levels_text};
use super::{DETAILED_RULES, Input, RuleState, time};
use crate::logons::{Session, lateral::Edge};
use crate::sigma::Level;
use crate::store::StoreError;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Rows of a long table written at most (inputs, sessions, rules with hits…); the rest counted.
const MAX_ROWS: usize = 500;

/// Hosts named in a cell at most (the busiest first).
const CELL_HOSTS: usize = 8;

/// `rows` cut to [`MAX_ROWS`], with a line saying how many were left out.
fn bounded_table(out: &mut String, header: &[&str], mut rows: Vec<Vec<String>>) {
    let more = rows.len().saturating_sub(MAX_ROWS);
    rows.truncate(MAX_ROWS);
    out.push_str(&table(header, &rows));
    if more > 0 {
        let _ = writeln!(out, "\n… and {more} more.");
    }
    out.push('\n');
}

/// The case: its name, inputs, hosts, time range and input problems.
pub fn case(out: &mut String, input: &Input<'_>, sums: &Summaries) -> Result<(), StoreError> {
    let name = (input.case_dir.file_name()).map_or_else(
        || input.case_dir.display().to_string(),
        |n| n.to_string_lossy().into(),
    );
    let store = input.store;
    let stats = store.stats()?;
    let _ = writeln!(out, "# huntbench report: {}\n", text(&name));
    let _ = writeln!(
        out,
        "Written {} by huntbench {} from the case in {}.\n",
        time(Some(jiff::Timestamp::now().as_microsecond())),
        env!("CARGO_PKG_VERSION"),
        text(&input.case_dir.display().to_string())
    );
    out.push_str("## Case summary\n\n");
    let alerts: usize = (input.rules.iter())
        .filter(|r| r.state == RuleState::Alerts)
        .map(|r| r.hits.len())
        .sum();
    let with_hits = (input.rules.iter())
        .filter(|r| r.state == RuleState::Alerts && !r.hits.is_empty())
        .count();
    let _ = writeln!(out, "- Events: {}", stats.events);
    let _ = writeln!(
        out,
        "- Time range: {} to {}",
        time(stats.first),
        time(stats.last)
    );
    let hosts: Vec<String> = sums.hosts.iter().map(|h| text(&h.host)).collect();
    let _ = writeln!(out, "- Hosts ({}): {}", hosts.len(), hosts.join(", "));
    let _ = writeln!(
        out,
        "- Detections: {alerts} hit(s) of {with_hits} rule(s), of {} rule(s) run",
        input.rules.len()
    );
    let _ = writeln!(out, "- Rule sources: {}\n", text(rule_sources(input)));
    out.push_str("### Inputs\n\n");
    let sources = store.sources()?;
    let rows = (sources.iter())
        .map(|s| {
            vec![
                text(s.paths.first().map_or("", String::as_str)),
                text(&s.sha256),
                s.events.to_string(),
                s.warnings.len().to_string(),
            ]
        })
        .collect();
    bounded_table(out, &["File", "SHA-256", "Events", "Warnings"], rows);
    out.push_str("### Input problems\n\n");
    let mut rows: Vec<Vec<String>> = Vec::new();
    for p in input.problems {
        rows.push(vec![p.kind.to_string(), text(&p.path), text(&p.reason)]);
    }
    // The warnings the case records, unless the caller listed them already (the workbench
    // does).
    for s in &sources {
        let path = s.paths.first().map_or("", String::as_str);
        for w in &s.warnings {
            let listed = (input.problems.iter()).any(|p| p.path == path && p.reason == *w);
            if !listed {
                rows.push(vec!["warning".into(), text(path), text(w)]);
            }
        }
    }
    if rows.is_empty() {
        out.push_str("None: every input was read whole.\n\n");
    } else {
        bounded_table(out, &["Kind", "Path", "Reason"], rows);
    }
    Ok(())
}

/// Where the rules came from, without the summary line's `rules: ` label.
fn rule_sources<'a>(input: &'a Input<'_>) -> &'a str {
    input
        .sources
        .strip_prefix("rules: ")
        .unwrap_or(&input.sources)
}

/// `HOST-A (3), HOST-B (1)`: the busiest hosts first.
fn hosts_cell(hosts: &BTreeMap<String, u64>) -> String {
    let mut list: Vec<(&String, &u64)> = hosts.iter().collect();
    list.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let mut parts: Vec<String> = (list.iter().take(CELL_HOSTS))
        .map(|(h, n)| format!("{} ({n})", text(h)))
        .collect();
    if list.len() > CELL_HOSTS {
        parts.push(format!("… {} more", list.len() - CELL_HOSTS));
    }
    parts.join(", ")
}

fn group_row(name: String, g: &Group) -> Vec<String> {
    vec![
        name,
        g.rules.to_string(),
        g.hits.to_string(),
        hosts_cell(&g.hosts),
    ]
}

/// Detections by level, by ATT&CK tactic, and the rules with hits.
pub fn detections(out: &mut String, input: &Input<'_>, alerting: &[RuleHits<'_>], t: &Tally) {
    out.push_str("## Detections\n\n### By level\n\n");
    let rows = (LEVELS.iter().zip(&t.levels))
        .filter(|(_, g)| g.hits > 0)
        .map(|(l, g)| group_row(l.name().into(), g))
        .collect();
    bounded_table(out, &["Level", "Rules", "Hits", "Hosts"], rows);
    out.push_str("### By ATT&CK tactic\n\n");
    let rows = (t.tactics.iter())
        .filter(|(_, g)| g.hits > 0)
        .map(|(tactic, g)| {
            let name = if tactic.is_empty() {
                "(no tactic)".into()
            } else {
                text(tactic)
            };
            group_row(name, g)
        })
        .collect();
    bounded_table(out, &["Tactic", "Rules", "Hits", "Hosts"], rows);
    let _ = writeln!(
        out,
        "Tactic and technique names from MITRE ATT&CK {}.\n",
        crate::attack::version()
    );
    out.push_str("### Rules with hits\n\n");
    let mut order: Vec<usize> = (0..alerting.len())
        .filter(|&i| !alerting[i].hits.is_empty())
        .collect();
    order.sort_by_key(|&i| {
        let r = &alerting[i];
        (
            std::cmp::Reverse(r.rule.meta.rank()),
            std::cmp::Reverse(r.hits.len()),
            i,
        )
    });
    let rows = (order.iter())
        .map(|&i| {
            let r = &alerting[i];
            vec![
                text(r.rule.meta.level_text().unwrap_or("-")),
                text(r.rule.title()),
                r.hits.len().to_string(),
                hosts_cell(&t.rules[i]),
                text(&super::why::attack_text(&r.rule.meta)),
            ]
        })
        .collect();
    bounded_table(out, &["Level", "Rule", "Hits", "Hosts", "ATT&CK"], rows);
    let corr: Vec<Vec<String>> = (input.correlations.iter())
        .filter(|c| c.state == RuleState::Alerts && c.hits > 0)
        .map(|c| {
            vec![
                text(c.meta.level_text().unwrap_or("-")),
                text(c.meta.label()),
                c.hits.to_string(),
            ]
        })
        .collect();
    if !corr.is_empty() {
        out.push_str("### Correlation alerts\n\n");
        bounded_table(out, &["Level", "Correlation", "Alerts"], corr);
    }
}

/// Host → host edges and the logon sessions that hold rule hits.
pub fn lateral(out: &mut String, edges: &[Edge], sessions: &[Session], hits: &[u64]) {
    out.push_str("## Lateral movement\n\n");
    if edges.is_empty() {
        out.push_str(
            "No network, remote-interactive or explicit-credential logons between hosts.\n\n",
        );
    } else {
        let rows = (edges.iter())
            .map(|e| {
                let from = if e.from_ip.is_empty() || e.from == e.from_ip {
                    text(&e.from)
                } else {
                    format!("{} ({})", text(&e.from), text(&e.from_ip))
                };
                let types: Vec<String> = e.logon_types.iter().map(u32::to_string).collect();
                vec![
                    from,
                    format!("→ {}", text(&e.to)),
                    text(&e.user),
                    types.join(", "),
                    e.count.to_string(),
                    e.hits.to_string(),
                    time(Some(e.first)),
                    time(Some(e.last)),
                ]
            })
            .collect();
        bounded_table(
            out,
            &[
                "From",
                "To",
                "User",
                "Logon types",
                "Logons",
                "Hits",
                "First",
                "Last",
            ],
            rows,
        );
        out.push_str("Logon type 3 is a network logon, 10 remote interactive, 0 explicit credentials (4648) on the source host.\n\n");
    }
    out.push_str("### Logon sessions with hits\n\n");
    let rows: Vec<Vec<String>> = (sessions.iter().zip(hits))
        .filter(|(_, h)| **h > 0)
        .map(|(s, h)| {
            let from = match (s.source_ip.as_str(), s.workstation.as_str()) {
                ("", ws) => text(ws),
                (ip, "") => text(ip),
                (ip, ws) => format!("{} ({})", text(ip), text(ws)),
            };
            vec![
                time(Some(s.start())),
                text(&s.computer),
                format!("{:#x}", s.logon_id),
                text(&s.user),
                s.logon_type.map_or_else(|| "-".into(), |t| t.to_string()),
                from,
                s.processes.to_string(),
                h.to_string(),
                time(s.end),
            ]
        })
        .collect();
    if rows.is_empty() {
        out.push_str("No rule hit falls inside a logon session the case holds.\n\n");
    } else {
        bounded_table(
            out,
            &[
                "Start",
                "Computer",
                "Logon ID",
                "User",
                "Type",
                "From",
                "Processes",
                "Hits",
                "End",
            ],
            rows,
        );
    }
}

/// The per-host and per-user summaries.
pub fn hosts_and_users(out: &mut String, sums: &Summaries) {
    out.push_str("## Hosts\n\n");
    let rows = (sums.hosts.iter())
        .map(|h| {
            vec![
                text(if h.host.is_empty() { "(none)" } else { &h.host }),
                h.events.to_string(),
                levels_text(&h.hits),
                time(h.first),
                time(h.last),
                h.logons.to_string(),
            ]
        })
        .collect();
    bounded_table(
        out,
        &[
            "Host",
            "Events",
            "Hits by level",
            "First seen",
            "Last seen",
            "Logons",
        ],
        rows,
    );
    out.push_str("## Users\n\n");
    let list = |v: &[String]| {
        let mut parts: Vec<String> = v.iter().take(CELL_HOSTS).map(|s| text(s)).collect();
        if v.len() > CELL_HOSTS {
            parts.push(format!("… {} more", v.len() - CELL_HOSTS));
        }
        parts.join(", ")
    };
    let rows = (sums.users.iter())
        .map(|u| {
            vec![
                text(&u.user),
                levels_text(&u.hits),
                list(&u.hosts),
                u.logons.to_string(),
                list(&u.sources),
                time(u.first),
                time(u.last),
            ]
        })
        .collect();
    bounded_table(
        out,
        &[
            "User",
            "Hits by level",
            "Hosts",
            "Logons",
            "Source addresses",
            "First seen",
            "Last seen",
        ],
        rows,
    );
}

/// The first hit of each high and critical rule (most severe, then most hits, first).
pub fn in_detail(
    out: &mut String,
    input: &Input<'_>,
    alerting: &[RuleHits<'_>],
) -> Result<(), StoreError> {
    out.push_str("## Detections in detail\n\n");
    let mut chosen: Vec<&RuleHits<'_>> = (alerting.iter())
        .filter(|r| r.rule.meta.rank() >= Level::High && !r.hits.is_empty())
        .collect();
    chosen.sort_by_key(|r| {
        (
            std::cmp::Reverse(r.rule.meta.rank()),
            std::cmp::Reverse(r.hits.len()),
        )
    });
    if chosen.is_empty() {
        out.push_str("No high or critical rule has hits.\n\n");
        return Ok(());
    }
    let more = chosen.len().saturating_sub(DETAILED_RULES);
    let _ = writeln!(
        out,
        "The first hit of each high and critical rule{}.\n",
        if more > 0 {
            format!(" ({DETAILED_RULES} rules; {more} more are in the table above)")
        } else {
            String::new()
        }
    );
    let sections = super::EventSections::new(input.store)?;
    for r in chosen.into_iter().take(DETAILED_RULES) {
        if let Some(&first) = r.hits.first() {
            out.push_str(&sections.section(first, Some(r.rule))?);
            out.push('\n');
        }
    }
    Ok(())
}

/// The rules that ran, those that did not, and the tuning overlays with what they exclude.
pub fn rules_in_effect(out: &mut String, input: &Input<'_>) {
    out.push_str("## Rules and overlays in effect\n\n");
    let _ = writeln!(out, "Rule sources: {}.\n", text(rule_sources(input)));
    let state = |s: RuleState| match s {
        RuleState::Alerts => "ran",
        RuleState::Disabled => "disabled",
        RuleState::FeedsOnly => "feeds a correlation",
    };
    let disabled: Vec<Vec<String>> = (input.rules.iter())
        .filter(|r| r.state == RuleState::Disabled)
        .map(|r| vec![text(r.rule.title()), text(r.rule.id().unwrap_or("-"))])
        .collect();
    out.push_str("### Disabled rules\n\n");
    if disabled.is_empty() {
        out.push_str("None.\n\n");
    } else {
        bounded_table(out, &["Rule", "ID"], disabled);
    }
    out.push_str("### Tuning overlays\n\n");
    if input.overlays.is_empty() {
        out.push_str("None: every rule ran as written.\n\n");
    }
    for o in input.overlays {
        let scope = if o.path.starts_with(input.case_dir) {
            "this case"
        } else {
            "every case (config directory)"
        };
        let what = match &o.excludes {
            crate::overlay::Excludes::Value { rule, field, value } => format!(
                "excludes {} = {} from {}",
                text(field),
                text(value),
                text(rule)
            ),
            crate::overlay::Excludes::Criteria(c) => format!("excludes {}", text(c)),
        };
        let _ = writeln!(
            out,
            "- {} (applies to {scope}): {what}\n",
            text(&o.path.display().to_string())
        );
        let lines: Vec<&str> = o.text.lines().collect();
        out.push_str(&code_block(&lines));
        out.push('\n');
    }
    if !input.not_loaded.is_empty() {
        out.push_str("### Rules not run\n\n");
        let rows = (input.not_loaded.iter())
            .map(|n| {
                vec![
                    text(&n.kind),
                    text(&n.title),
                    text(&n.origin),
                    text(&n.reason),
                ]
            })
            .collect();
        bounded_table(out, &["Kind", "Rule", "File", "Why"], rows);
    }
    out.push_str("### Rules loaded\n\n");
    let mut rows: Vec<Vec<String>> = (input.rules.iter())
        .map(|r| {
            let m = &r.rule.meta;
            vec![
                text(m.level_text().unwrap_or("-")),
                text(&m.title),
                text(m.id.as_deref().unwrap_or("-")),
                text(&m.origin),
                state(r.state).into(),
                r.hits.len().to_string(),
            ]
        })
        .collect();
    rows.extend((input.correlations.iter()).map(|c| {
        vec![
            text(c.meta.level_text().unwrap_or("-")),
            text(c.meta.label()),
            text(c.meta.id.as_deref().unwrap_or("-")),
            text(&c.meta.origin),
            format!("correlation, {}", state(c.state)),
            c.hits.to_string(),
        ]
    }));
    // Every rule is listed, however many: this is what the tuning is audited against.
    out.push_str(&table(
        &["Level", "Rule", "ID", "File", "State", "Hits"],
        &rows,
    ));
}
