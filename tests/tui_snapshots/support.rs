//! The fixture shared by the snapshot tests: a case over the committed samples, driven through
//! `update` and the synchronous worker, drawn on `TestBackend`.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use huntbench::tui::action::Action;
use huntbench::tui::app::{App, Entry};
use huntbench::tui::theme::Theme;
use huntbench::tui::worker::{Ctx, execute};
use huntbench::tui::{TuiOptions, update::update, views};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Modifier;
use std::collections::VecDeque;
use std::path::PathBuf;

pub struct Fixture {
    pub _dir: tempfile::TempDir,
    pub ctx: Ctx,
    pub app: App,
}

pub fn fixture() -> Fixture {
    fixture_with(|_| {})
}

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The samples case with the bundled rules, after `adjust` changed the options.
pub fn fixture_with(adjust: impl FnOnce(&mut TuiOptions)) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let case_dir = dir.path().join("case");
    let mut opts = TuiOptions {
        case_dir: case_dir.clone(),
        inputs: vec![manifest_dir().join("samples")],
        ..TuiOptions::default()
    };
    adjust(&mut opts);
    let mut ctx = Ctx::open(&huntbench::index::IndexBackend, opts, &|_| {}).unwrap();
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
    pub fn send(&mut self, action: Action) {
        let mut queue: VecDeque<_> = update(&mut self.app, action).into();
        while let Some(e) = queue.pop_front() {
            for m in execute(&self.ctx, e) {
                queue.extend(update(&mut self.app, Action::Worker(Box::new(m))));
            }
        }
    }

    pub fn key(&mut self, c: char) {
        self.send(Action::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )));
    }

    /// Opens the search bar, types `text` and runs it with Enter.
    pub fn search(&mut self, text: &str) {
        self.send(Action::Search);
        for c in text.chars() {
            self.key(c);
        }
        self.send(Action::Key(KeyEvent::new(
            KeyCode::Enter,
            KeyModifiers::NONE,
        )));
    }

    pub fn screen(&self) -> String {
        self.render(false)
    }

    /// The screen with underlined runs of cells wrapped in `⟦…⟧`, so a text snapshot shows
    /// where a style marks something (the editor's inline errors).
    pub fn screen_marked(&self) -> String {
        self.render(true)
    }

    fn render(&self, mark_underlined: bool) -> String {
        let (w, h) = self.app.size;
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        let theme = Theme::load(None).unwrap();
        t.draw(|f| views::draw(f, &self.app, &theme)).unwrap();
        let buf = t.backend().buffer().clone();
        // Temporary directories differ per run.
        let tmp = regex::Regex::new(r"/tmp/\S*|\.tmp\w+").unwrap();
        let lines: Vec<String> = (0..buf.area.height)
            .map(|y| {
                let mut line = String::new();
                let mut open = false;
                for x in 0..buf.area.width {
                    let cell = &buf[(x, y)];
                    let under = mark_underlined && cell.modifier.contains(Modifier::UNDERLINED);
                    if under != open {
                        line.push(if under { '⟦' } else { '⟧' });
                        open = under;
                    }
                    line.push_str(cell.symbol());
                }
                if open {
                    line.push('⟧');
                }
                let line = tmp.replace_all(&line, "[TMP]");
                line.replace(env!("CARGO_MANIFEST_DIR"), "[ROOT]")
                    .trim_end()
                    .to_owned()
            })
            .collect();
        stable_ties(lines).join("\n") + "\n"
    }

    pub fn select_rule(&mut self, title: &str) {
        let pos = self
            .app
            .visible
            .iter()
            .position(|&i| {
                let meta = match self.app.entry(i) {
                    Entry::Rule(k) => &self.app.rules[k].rule.meta,
                    Entry::Corr(k) => &self.app.correlations[k].corr.meta,
                    Entry::Failed(_) => return false,
                };
                meta.title.contains(title)
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
pub fn stable_ties(mut lines: Vec<String>) -> Vec<String> {
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

pub fn press(fx: &mut Fixture, code: KeyCode, n: usize) {
    for _ in 0..n {
        chord(fx, code, KeyModifiers::NONE);
    }
}

/// A key as the terminal reports it, through the keymap as the workbench takes it.
pub fn chord(fx: &mut Fixture, code: KeyCode, mods: KeyModifiers) {
    if let Some(action) = (fx.app.keymap).action_for(&fx.app, KeyEvent::new(code, mods)) {
        fx.send(action);
    }
}
