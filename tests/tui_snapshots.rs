//! Snapshot tests of every TUI view over a fixture case (the committed samples with the
//! bundled rules), driven through `update` and the synchronous worker, drawn on `TestBackend`.
#![allow(clippy::unwrap_used)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use huntbench::tui::action::Action;
use huntbench::tui::app::{App, Screen};
use huntbench::tui::theme::Theme;
use huntbench::tui::worker::{Ctx, execute};
use huntbench::tui::{TuiOptions, update::update, views};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::collections::VecDeque;
use std::path::PathBuf;

struct Fixture {
    _dir: tempfile::TempDir,
    ctx: Ctx,
    app: App,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let case_dir = dir.path().join("case");
    let opts = TuiOptions {
        case_dir: case_dir.clone(),
        inputs: vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples")],
        ..TuiOptions::default()
    };
    let mut ctx = Ctx::open(opts, &|_| {}).unwrap();
    ctx.config_dir = dir.path().join("config");
    let mut app = App::new(case_dir);
    app.size = (120, 36);
    let mut fx = Fixture {
        _dir: dir,
        ctx,
        app,
    };
    let ready = fx.ctx.ready();
    fx.send(Action::Worker(Box::new(ready)));
    fx
}

impl Fixture {
    /// Runs the action and every effect it causes to completion.
    fn send(&mut self, action: Action) {
        let mut queue: VecDeque<_> = update(&mut self.app, action).into();
        while let Some(e) = queue.pop_front() {
            for m in execute(&self.ctx, e) {
                queue.extend(update(&mut self.app, Action::Worker(Box::new(m))));
            }
        }
    }

    fn key(&mut self, c: char) {
        self.send(Action::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )));
    }

    fn screen(&self) -> String {
        let mut t = Terminal::new(TestBackend::new(120, 36)).unwrap();
        let theme = Theme::load(None).unwrap();
        t.draw(|f| views::draw(f, &self.app, &theme)).unwrap();
        let buf = t.backend().buffer().clone();
        // Temporary directories differ per run.
        let tmp = regex::Regex::new(r"/tmp/\S*|\.tmp\w+").unwrap();
        let lines: Vec<String> = (0..buf.area.height)
            .map(|y| {
                let line: String = (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol().to_owned())
                    .collect();
                let line = tmp.replace_all(&line, "[TMP]");
                line.replace(env!("CARGO_MANIFEST_DIR"), "[ROOT]")
                    .trim_end()
                    .to_owned()
            })
            .collect();
        stable_ties(lines).join("\n") + "\n"
    }

    fn select_rule(&mut self, title: &str) {
        let pos = self
            .app
            .visible
            .iter()
            .position(|&i| {
                self.app
                    .rules
                    .get(i)
                    .is_some_and(|r| r.rule.meta.title.contains(title))
            })
            .unwrap();
        self.send(Action::Top);
        for _ in 0..pos {
            self.send(Action::Down);
        }
    }
}

/// Events with the same timestamp are ordered by their place in the index, which parallel
/// ingest does not fix; sort runs of rows with equal times so snapshots are stable.
fn stable_ties(mut lines: Vec<String>) -> Vec<String> {
    let time = |l: &str| {
        l.get(..23)
            .filter(|t| t.starts_with("20"))
            .map(str::to_owned)
    };
    let mut i = 0;
    while i < lines.len() {
        let Some(t) = time(&lines[i]) else {
            i += 1;
            continue;
        };
        let mut j = i + 1;
        while j < lines.len() && time(&lines[j]).as_deref() == Some(t.as_str()) {
            j += 1;
        }
        lines[i..j].sort();
        i = j;
    }
    lines
}

macro_rules! snap {
    ($name:expr, $fx:expr) => {
        insta::assert_snapshot!($name, $fx.screen());
    };
}

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

    fx.send(Action::Back);
    fx.send(Action::Back);
    fx.send(Action::Back);
    fx.send(Action::Help);
    snap!("help", fx);
    fx.send(Action::Help);

    fx.send(Action::AllHits);
    snap!("timeline", fx);
    fx.send(Action::Back);

    fx.send(Action::Search);
    for c in "Image=*\\cmd.exe".chars() {
        fx.key(c);
    }
    fx.send(Action::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    let Some(Screen::Hits(h)) = fx.app.top() else {
        panic!("search hits: {:?}", fx.app.message)
    };
    assert!(!h.rows.is_empty());
    snap!("search", fx);
}

fn press(fx: &mut Fixture, code: KeyCode, n: usize) {
    for _ in 0..n {
        fx.send(Action::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }
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
    let (_, hits) = ed.compiled.as_ref().expect("recompiled");
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
    assert!(fx.screen().contains(" │ "), "the offending line is shown");
    snap!("editor_error", fx);

    fx.key('\'');
    // Saving writes to the user rules dir (never the bundled file) and replaces the rule.
    fx.send(Action::Key(KeyEvent::new(
        KeyCode::Char('s'),
        KeyModifiers::CONTROL,
    )));
    let saved: Vec<_> = std::fs::read_dir(fx.ctx.config_dir.join("rules"))
        .unwrap()
        .collect();
    assert_eq!(saved.len(), 1);
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
    assert_eq!(fx.app.rules.len(), 11, "replaced, not duplicated");
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
    fx.send(Action::Search);
    for c in "Image=*\\cmd.exe AND EventID=1".chars() {
        fx.key(c);
    }
    fx.send(Action::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
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
    fx.send(Action::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    let row = fx
        .app
        .rules
        .iter()
        .find(|r| r.rule.meta.title == "cmd shells")
        .expect("saved search loaded");
    assert!(row.saved_search);
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
    let dir = tempfile::tempdir().unwrap();
    let invalid = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules/invalid");
    let opts = TuiOptions {
        case_dir: dir.path().join("case"),
        inputs: vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples")],
        rule_paths: vec![invalid],
        no_default_rules: true,
        theme: None,
    };
    let mut ctx = Ctx::open(opts, &|_| {}).unwrap();
    ctx.config_dir = dir.path().join("config");
    let mut app = App::new(dir.path().join("case"));
    app.size = (120, 36);
    let mut fx = Fixture {
        _dir: dir,
        ctx,
        app,
    };
    let ready = fx.ctx.ready();
    fx.send(Action::Worker(Box::new(ready)));
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
