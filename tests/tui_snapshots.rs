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
        let mut out = String::new();
        // Temporary directories differ per run.
        let tmp = regex::Regex::new(r"/tmp/\S*|\.tmp\w+").unwrap();
        for y in 0..buf.area.height {
            let line: String = (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_owned())
                .collect();
            let line = tmp.replace_all(&line, "[TMP]");
            let line = line.replace(env!("CARGO_MANIFEST_DIR"), "[ROOT]");
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
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
    assert_eq!(ed.removed, before, "every WmiPrvSE child is gone");
    snap!("editor", fx);

    // A broken condition is reported at its line.
    press(&mut fx, KeyCode::Backspace, 1);
    let Some(Screen::Editor(ed)) = fx.app.top() else {
        panic!("editor")
    };
    assert!(!ed.errors.is_empty() || ed.compiled.is_some());

    // Saving writes to the user rules dir (never the bundled file) and replaces the rule.
    fx.send(Action::Key(KeyEvent::new(
        KeyCode::Char('s'),
        KeyModifiers::CONTROL,
    )));
    let saved: Vec<_> = std::fs::read_dir(fx.ctx.config_dir.join("rules"))
        .unwrap()
        .collect();
    assert_eq!(saved.len(), 1);
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
