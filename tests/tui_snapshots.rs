//! Snapshot tests of every TUI view over a fixture case (the committed samples with the
//! bundled rules), driven through `update` and the synchronous worker, drawn on `TestBackend`.
#![allow(clippy::unwrap_used)]

/// Every snapshot in `tests/snapshots`, also those of the submodules.
macro_rules! snap {
    ($name:expr, $fx:expr) => {
        insta::with_settings!({snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots")}, {
            insta::assert_snapshot!($name, $fx.screen());
        })
    };
}

#[path = "tui_snapshots/bookmarks.rs"]
mod bookmarks;
mod common;
#[path = "tui_snapshots/finding.rs"]
mod finding;
#[path = "tui_snapshots/inputs.rs"]
mod inputs;
#[path = "tui_snapshots/installed.rs"]
mod installed;
#[path = "tui_snapshots/lists.rs"]
mod lists;
#[path = "tui_snapshots/summary.rs"]
mod summary;
#[path = "tui_snapshots/support.rs"]
mod support;
#[path = "tui_snapshots/trees.rs"]
mod trees;
#[path = "tui_snapshots/workbench.rs"]
mod workbench;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use huntbench::tui::action::Action;
use huntbench::tui::app::{App, Screen};
use std::path::PathBuf;
use support::{chord, fixture, press};

#[test]
fn views() {
    let mut fx = fixture();
    assert!(fx.app.rules.len() >= 10, "bundled rules load");
    snap!("rules", fx);

    fx.select_rule("WMI Provider Host");
    fx.send(Action::Open);
    let Some(Screen::Hits(h)) = fx.app.top() else {
        panic!("hits screen")
    };
    assert!(!h.rows.is_empty());
    snap!("hits", fx);

    fx.send(Action::Open);
    let Some(Screen::Detail(d)) = fx.app.top() else {
        panic!("detail screen")
    };
    assert!(
        d.matched.as_ref().is_some_and(|m| !m.fields.is_empty()),
        "why it matched"
    );
    snap!("detail", fx);

    fx.send(Action::ProcTree);
    let Some(Screen::Tree(t)) = fx.app.top() else {
        panic!("tree screen: {:?}", fx.app.message)
    };
    assert!(
        t.tree
            .nodes
            .iter()
            .any(|n| n.image.ends_with("WmiPrvSE.exe"))
    );
    snap!("tree", fx);
    // On the process it was opened on, `p` says so instead of stacking the same tree again.
    let depth = fx.app.screens.len();
    fx.send(Action::ProcTree);
    assert_eq!(fx.app.screens.len(), depth);
    let said = fx.app.message.clone().unwrap_or_default();
    assert!(said.contains("already rooted"), "{said}");

    fx.send(Action::Back);
    fx.send(Action::Back);
    fx.send(Action::Back);
    fx.send(Action::Help);
    snap!("help", fx);
    fx.send(Action::Help);

    fx.send(Action::AllHits);
    snap!("timeline", fx);
    fx.send(Action::Back);

    fx.search("Image=*\\cmd.exe");
    let Some(Screen::Hits(h)) = fx.app.top() else {
        panic!("search hits: {:?}", fx.app.message)
    };
    assert!(!h.rows.is_empty());
    snap!("search", fx);
}

#[test]
fn live_edit_changes_the_count_and_shows_the_diff() {
    let mut fx = fixture();
    fx.select_rule("WMI Provider Host");
    let before = fx.app.rules[fx.app.selected_rule().unwrap()].hits.len();
    fx.send(Action::EditRule);
    let Some(Screen::Editor(ed)) = fx.app.top() else {
        panic!("editor")
    };
    let line = ed
        .area
        .lines()
        .iter()
        .position(|l| l.contains("ParentImage|endswith"))
        .unwrap();
    press(&mut fx, KeyCode::Down, line);
    press(&mut fx, KeyCode::End, 1);
    press(&mut fx, KeyCode::Backspace, "WmiPrvSE.exe'".len());
    for c in "svchost.exe'".chars() {
        fx.key(c);
    }
    let Some(Screen::Editor(ed)) = fx.app.top() else {
        panic!("editor")
    };
    let hits = ed.compiled.as_ref().expect("recompiled");
    assert_ne!(hits.len(), before);
    let new = hits.len();
    assert_eq!(ed.removed, before, "every WmiPrvSE child is gone");
    snap!("editor", fx);

    // A broken condition is reported at its line.
    press(&mut fx, KeyCode::Backspace, 1);
    let Some(Screen::Editor(ed)) = fx.app.top() else {
        panic!("editor")
    };
    assert!(ed.compiled.is_none());
    assert!(!ed.errors.is_empty());
    // Marked in place: `✗` in the gutter, the text from the error's column underlined.
    let marked = fx.screen_marked();
    let err = &ed.errors[0];
    let line = marked
        .lines()
        .find(|l| l.starts_with(&format!("✗{} ", err.line)))
        .unwrap_or_else(|| panic!("gutter mark for line {}:\n{marked}", err.line));
    assert!(line.contains('⟦'), "{line}");
    insta::with_settings!({snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots")}, {
        insta::assert_snapshot!("editor_error", marked);
    });

    fx.key('\'');
    // A condition error is marked on the condition line too.
    press(&mut fx, KeyCode::Down, 3);
    press(&mut fx, KeyCode::End, 1);
    fx.key('x');
    let Some(Screen::Editor(ed)) = fx.app.top() else {
        panic!("editor")
    };
    let err = ed.errors.first().expect("unknown identifier");
    assert!(
        ed.area.lines()[err.line - 1].contains("condition:"),
        "{err:?}"
    );
    let marked = fx.screen_marked();
    assert!(marked.contains(&format!("✗{} ", err.line)), "{marked}");
    assert!(marked.contains('⟦'), "{marked}");
    press(&mut fx, KeyCode::Backspace, 1);
    // Saving writes to the user rules dir (never the bundled file) and replaces the rule.
    chord(&mut fx, KeyCode::Char('s'), KeyModifiers::CONTROL);
    let saved = common::only_saved_rule(&fx.ctx.config_dir.join("rules"));
    assert!(saved.contains("WMI Provider Host"), "{saved}");
    assert!(fx.app.screens.is_empty(), "the editor closes on save");
    let row = fx
        .app
        .rules
        .iter()
        .find(|r| r.rule.meta.title.contains("WMI Provider Host"))
        .unwrap();
    assert_eq!(
        row.hits.len(),
        new,
        "the saved rule replaces the bundled one"
    );
    assert_eq!(fx.app.rules.len(), 17, "replaced, not duplicated");
}

#[test]
fn stacking_and_marking_benign_writes_an_overlay_and_reruns() {
    let mut fx = fixture();
    fx.select_rule("WMI Provider Host");
    let rule = fx.app.selected_rule().unwrap();
    let before = fx.app.rules[rule].hits.len();
    fx.send(Action::Open);
    fx.send(Action::Open);
    let Some(Screen::Detail(d)) = fx.app.top() else {
        panic!("detail")
    };
    let fields = &d.event.as_ref().unwrap().fields;
    let image = fields.iter().position(|(n, _)| n == "Image").unwrap();
    let delta = image as i64 - d.sel as i64;
    for _ in 0..delta.unsigned_abs() {
        fx.send(if delta < 0 { Action::Up } else { Action::Down });
    }
    fx.send(Action::StackField);
    let Some(Screen::Stack(s)) = fx.app.top() else {
        panic!("stack: {:?}", fx.app.message)
    };
    assert_eq!(s.field, "Image");
    assert!(!s.values.is_empty());
    snap!("stack", fx);
    fx.send(Action::Back);

    fx.send(Action::MarkBenign);
    let overlays = huntbench::overlay::load_overlays(&fx.app.case_dir);
    assert_eq!(overlays.len(), 1, "overlay file written");
    let after = fx.app.rules[rule].hits.len();
    assert!(after < before, "{before} → {after}");
    assert!(fx.app.message.as_deref().is_some_and(|m| m.contains('→')));

    fx.send(Action::Overlays);
    snap!("overlays", fx);
    // The first press asks (the overlay may hold a long tuning session's work).
    fx.send(Action::Delete);
    assert_eq!(huntbench::overlay::load_overlays(&fx.app.case_dir).len(), 1);
    let asked = fx.app.message.clone().unwrap_or_default();
    assert!(
        asked.contains("again removes this overlay from this case:") && asked.contains("Image ="),
        "{asked}"
    );
    fx.send(Action::Delete);
    assert!(huntbench::overlay::load_overlays(&fx.app.case_dir).is_empty());
    assert_eq!(fx.app.rules[rule].hits.len(), before);
}

#[test]
fn security_4688_hits_show_mapped_fields_and_their_own_process_tree() {
    let mut fx = fixture();
    fx.select_rule("WMI Provider Host");
    fx.send(Action::Open);
    let Some(Screen::Hits(h)) = fx.app.top() else {
        panic!("hits")
    };
    let pos = h
        .rows
        .iter()
        .position(|r| {
            fx.app
                .cache
                .get(&r.r)
                .is_some_and(|e| e.event_id() == Some(4688))
        })
        .unwrap();
    for _ in 0..pos {
        fx.send(Action::Down);
    }
    fx.send(Action::Open);
    let Some(Screen::Detail(d)) = fx.app.top() else {
        panic!("detail")
    };
    let m = d.matched.as_ref().unwrap();
    assert!(
        m.mapped
            .iter()
            .any(|(s, e)| s == "ParentImage" && e == "ParentProcessName"),
        "{:?}",
        m.mapped
    );
    assert!(fx.screen().contains("ParentImage → ParentProcessName"));
    snap!("detail_4688", fx);

    fx.send(Action::ProcTree);
    let Some(Screen::Tree(t)) = fx.app.top() else {
        panic!("tree: {:?}", fx.app.message)
    };
    let focus = &t.tree.nodes[t.tree.lines[t.tree.focus].1];
    assert!(matches!(
        focus.key,
        huntbench::proctree::ProcKey::Pid { .. }
    ));
    let parent = &t.tree.nodes[t.tree.lines[t.tree.focus - 1].1];
    assert!(parent.image.ends_with("WmiPrvSE.exe"), "{}", parent.image);
    assert!(t.marks.iter().any(|&m| m > 0), "nodes with hits are marked");
}

#[test]
fn pivots_stack_and_go_back() {
    let mut fx = fixture();
    fx.select_rule("WMI Provider Host");
    fx.send(Action::Open);
    fx.send(Action::Open);
    // Same value: the selected (matched) field ParentImage.
    fx.send(Action::PivotValue);
    let Some(Screen::Hits(h)) = fx.app.top() else {
        panic!("same value: {:?}", fx.app.message)
    };
    assert!(h.title.starts_with("ParentImage = "));
    assert!(h.rows.len() >= 2);
    fx.send(Action::Back);
    fx.send(Action::PivotAround);
    let Some(Screen::Hits(h)) = fx.app.top() else {
        panic!("around")
    };
    assert!(h.title.contains("±5 min"));
    let n_around = h.rows.len();
    assert!(n_around >= 2);
    snap!("around", fx);
    // The process tree of the around view's hit, then everything that process did.
    fx.send(Action::Back);
    fx.send(Action::ProcTree);
    fx.send(Action::Open);
    let Some(Screen::Hits(h)) = fx.app.top() else {
        panic!("activity: {:?}", fx.app.message)
    };
    assert!(h.title.starts_with("activity of "));
    assert!(!h.rows.is_empty());
    assert_eq!(
        fx.app.screens.len(),
        4,
        "hits › detail › tree › activity stacked on rules"
    );
    for _ in 0..4 {
        fx.send(Action::Back);
    }
    assert!(fx.app.screens.is_empty());
}

#[test]
fn saved_search_shows_in_rules_with_its_count_and_exports_work() {
    let mut fx = fixture();
    fx.search("Image=*\\cmd.exe AND EventID=1");
    let Some(Screen::Hits(h)) = fx.app.top() else {
        panic!("search")
    };
    let n = h.rows.len();
    assert!(n > 0);
    fx.send(Action::ExportCsv);
    fx.send(Action::ExportJsonl);
    let exports: Vec<_> = std::fs::read_dir(fx.app.case_dir.join("exports"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(exports.len(), 2);
    let csv = exports
        .iter()
        .find(|e| e.path().extension().is_some_and(|x| x == "csv"))
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(csv.path()).unwrap().lines().count(),
        n + 1
    );

    fx.send(Action::SaveSearch);
    fx.send(Action::Key(KeyEvent::new(
        KeyCode::Backspace,
        KeyModifiers::NONE,
    )));
    let Some((_, buf)) = &mut fx.app.input else {
        panic!("title prompt")
    };
    buf.clear();
    for c in "cmd shells".chars() {
        fx.key(c);
    }
    // The title, then the level (medium as proposed).
    for _ in 0..2 {
        fx.send(Action::Key(KeyEvent::new(
            KeyCode::Enter,
            KeyModifiers::NONE,
        )));
    }
    let row = fx
        .app
        .rules
        .iter()
        .find(|r| r.rule.meta.title == "cmd shells")
        .expect("saved search loaded");
    assert!(row.rule.meta.saved_search);
    assert_eq!(row.hits.len(), n);
    fx.send(Action::Back);
    assert!(fx.screen().contains("cmd shells [search]"));
}

#[test]
fn progress_screen_and_mouse() {
    let mut fx = fixture();
    fx.send(Action::Click(10, 5));
    assert_eq!(fx.app.rule_sel, 2, "row 5 is the third rule");
    fx.send(Action::ScrollDown);
    assert_eq!(fx.app.rule_sel, 5);
    let mut app = App::new(PathBuf::from("/cases/big"));
    app.progress = Some("ingesting: 3/10 files, 120000 events (40000/s) big.evtx".into());
    std::mem::swap(&mut fx.app, &mut app);
    snap!("progress", fx);
}

#[test]
fn rules_that_do_not_load_are_listed_with_their_reason() {
    let invalid = support::manifest_dir().join("tests/fixtures/rules/invalid");
    let mut fx = support::fixture_with(|o| {
        o.rule_paths = vec![invalid];
        o.no_default_rules = true;
    });
    assert!(fx.app.rules.is_empty());
    assert_eq!(fx.app.failed.len(), 4);
    fx.send(Action::Bottom);
    fx.send(Action::Open);
    assert!(
        fx.app
            .message
            .as_deref()
            .is_some_and(|m| m.contains(".yml:") && !m.contains('/')),
        "{:?}",
        fx.app.message
    );
    snap!("failed_rules", fx);
}

#[test]
fn a_hit_opens_to_its_logon_session() {
    let mut fx = fixture();
    fx.select_rule("WMI Provider Host");
    fx.send(Action::Open);
    let Some(Screen::Hits(h)) = fx.app.top() else {
        panic!("hits")
    };
    // wmiexec's shell on SRV-SQL-01: a 4688 created in svc-backup's network logon.
    let pos = (h.rows.iter())
        .position(|r| {
            fx.app.cache.get(&r.r).is_some_and(|e| {
                e.event_id() == Some(4688) && e.get_str("SubjectLogonId") == Some("0x9a31f4e")
            })
        })
        .unwrap();
    for _ in 0..pos {
        fx.send(Action::Down);
    }
    fx.send(Action::LogonSession);
    let Some(Screen::Hits(h)) = fx.app.top() else {
        panic!("session: {:?}", fx.app.message)
    };
    assert_eq!(
        h.title,
        "logon 0x9a31f4e of LARKSPUR\\svc-backup type 3 from 10.20.4.66 on SRV-SQL-01"
    );
    let ids: Vec<u64> = (h.rows.iter())
        .filter_map(|r| fx.app.cache.get(&r.r).and_then(|e| e.event_id()))
        .collect();
    for want in [4624, 4672, 4688, 5145] {
        assert!(ids.contains(&want), "{want} in {ids:?}");
    }
    snap!("logon_session", fx);
}

#[test]
fn lateral_movement_lists_edges_then_an_edges_sessions_then_its_events() {
    let mut fx = fixture();
    fx.send(Action::Lateral);
    let Some(Screen::Lateral(v)) = fx.app.top() else {
        panic!("lateral: {:?}", fx.app.message)
    };
    // wmiexec from WS-FIN-07's address to SRV-SQL-01 as svc-backup, with its hits.
    let pos = (v.found.edges.iter())
        .position(|e| e.to.starts_with("SRV-SQL-01") && e.user.ends_with("svc-backup"))
        .unwrap_or_else(|| panic!("{:#?}", v.found.edges));
    assert!(v.found.edges[pos].hits > 0, "{:?}", v.found.edges[pos]);
    snap!("lateral_edges", fx);
    for _ in 0..pos {
        fx.send(Action::Down);
    }
    fx.send(Action::Open);
    let Some(Screen::Sessions(l)) = fx.app.top() else {
        panic!("sessions: {:?}", fx.app.message)
    };
    assert!(!l.rows.is_empty());
    snap!("lateral_sessions", fx);
    fx.send(Action::Open);
    let Some(Screen::Hits(h)) = fx.app.top() else {
        panic!("events: {:?}", fx.app.message)
    };
    assert!(h.title.starts_with("logon 0x"), "{}", h.title);
    assert!(!h.rows.is_empty());
    fx.send(Action::Back);
    fx.send(Action::Back);
    assert!(matches!(fx.app.top(), Some(Screen::Lateral(_))));
}
