//! The workbench: a ratatui TUI over a case.
//!
//! Layout follows the Elm-ish split of the architecture guide: `app` is plain state,
//! `update` the only mutator (returns `Effect`s, no I/O), `worker` runs effects on background
//! threads and answers with `Msg`s, `keymap` maps keys to actions (and generates help), and
//! `views` draw `&App`. The main thread owns the terminal; a guard restores it on every exit
//! path, including panics.

pub mod action;
pub mod app;
pub mod job;
pub mod keymap;
pub mod supervisor;
pub mod theme;
pub mod update;
pub mod views;
pub mod worker;

use action::{Action, Effect, Msg};
use app::App;
use crossbeam_channel::{Receiver, Sender, never, select, unbounded};
use crossterm::event::{self as ct, Event as TermEvent, KeyEventKind, MouseEventKind};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What the CLI passes to the workbench.
#[derive(Clone, Debug, Default)]
pub struct TuiOptions {
    pub case_dir: PathBuf,
    /// Files/directories to ingest first (with a progress screen).
    pub inputs: Vec<PathBuf>,
    pub rule_paths: Vec<PathBuf>,
    pub no_default_rules: bool,
    /// A theme name (`dark`, `light`) or a path to a theme file.
    pub theme: Option<String>,
}

/// Restores the terminal when dropped (normal exit, `?` errors and unwinding panics).
struct TerminalGuard;

impl TerminalGuard {
    fn enter() -> anyhow::Result<TerminalGuard> {
        crossterm::terminal::enable_raw_mode()?;
        let guard = TerminalGuard;
        crossterm::execute!(
            std::io::stdout(),
            crossterm::terminal::EnterAlternateScreen,
            ct::EnableMouseCapture
        )?;
        Ok(guard)
    }
}

fn restore_terminal() {
    let _ = crossterm::terminal::disable_raw_mode();
    let _ = crossterm::execute!(
        std::io::stdout(),
        ct::DisableMouseCapture,
        crossterm::terminal::LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Opens the workbench on a case and runs until the user quits.
pub fn run(store: Arc<dyn crate::store::Backend>, opts: TuiOptions) -> anyhow::Result<()> {
    let theme = theme::Theme::load(opts.theme.as_deref())?;
    // The panic hook restores the terminal before the message is printed, so it is readable.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        previous(info);
    }));
    let guard = TerminalGuard::enter()?;
    let backend = ratatui::backend::CrosstermBackend::new(std::io::stdout());
    let mut terminal = ratatui::Terminal::new(backend)?;
    let (tx, rx) = unbounded::<Msg>();
    let (key_tx, key_rx) = unbounded::<TermEvent>();
    std::thread::spawn(move || input_loop(&key_tx));
    let case_dir = opts.case_dir.clone();
    // Opening and ingesting happen off the UI thread; the worker starts once the case is ready.
    // `opened` says the attempt ended (either way): quitting before that interrupts the ingest.
    let opened = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (ctx_tx, ctx_rx) = unbounded::<Arc<worker::Ctx>>();
    {
        let tx = tx.clone();
        let opened = Arc::clone(&opened);
        std::thread::spawn(move || {
            let progress = |p: String| {
                let _ = tx.send(Msg::Progress(p));
            };
            match worker::Ctx::open(&*store, opts, &progress) {
                Ok(ctx) => {
                    let ctx = Arc::new(ctx);
                    let _ = tx.send(ctx.ready());
                    let _ = ctx_tx.send(ctx);
                }
                Err(e) => {
                    let _ = tx.send(Msg::Error(format!("cannot open case: {e:#}")));
                }
            }
            opened.store(true, std::sync::atomic::Ordering::SeqCst);
        });
    }
    let mut app = App::new(case_dir);
    if let Ok(size) = terminal.size() {
        app.size = (size.width, size.height);
    }
    let km = keymap::Keymap::load(&crate::rulepack::config_dir());
    update::update(
        &mut app,
        Action::Worker(Box::new(Msg::Keymap(Arc::new(km)))),
    );
    let mut worker: Option<worker::Worker> = None;
    let mut pending: Vec<Effect> = Vec::new();
    let mut sources = Sources {
        rx,
        keys: key_rx,
        ctx: ctx_rx,
    };
    let mut dirty = true;
    loop {
        if dirty {
            terminal.draw(|f| views::draw(f, &app, &theme))?;
            dirty = false;
        }
        let action = match sources.next(TICK) {
            Wake::Msg(m) => Some(Action::Worker(Box::new(m))),
            Wake::Term(ev) => term_action(&app, ev),
            Wake::Ctx(ctx) => {
                worker = Some(worker::Worker::start(ctx, tx.clone()));
                None
            }
            Wake::TermGone => break,
            Wake::Tick => {
                dirty = true;
                None
            }
        };
        if let Some(action) = action {
            pending.extend(update::update(&mut app, action));
            dirty = true;
        }
        for e in std::mem::take(&mut pending) {
            if let Effect::Copy { text, .. } = &e {
                osc52(text);
            }
            match &worker {
                Some(w) => w.submit(e),
                None => pending.push(e),
            }
        }
        if app.quit {
            break;
        }
    }
    let interrupted = !opened.load(std::sync::atomic::Ordering::SeqCst);
    if let Some(w) = worker {
        w.stop();
    }
    drop(guard);
    if interrupted {
        // Quit while the case was opening: what was committed stays and the files in flight
        // stay pending, so the next run completes them.
        anyhow::bail!(
            "quit before the case {} was ready: run the same command again to complete its ingest",
            app.case_dir.display()
        );
    }
    Ok(())
}

/// The loop redraws at least this often when nothing happens.
const TICK: Duration = Duration::from_millis(250);

/// What woke the loop.
enum Wake<C> {
    Msg(Msg),
    Term(TermEvent),
    Ctx(C),
    /// The terminal can no longer be read (it was closed): nobody is left to quit.
    TermGone,
    Tick,
}

/// The channels the loop waits on. A receiver whose senders are all gone is always ready
/// (with an error), so it is swapped for `never()`: otherwise the loop would spin and redraw
/// without pause (the case-opening thread drops its sender after its one message).
struct Sources<C> {
    rx: Receiver<Msg>,
    keys: Receiver<TermEvent>,
    ctx: Receiver<C>,
}

impl<C> Sources<C> {
    fn next(&mut self, tick: Duration) -> Wake<C> {
        loop {
            let closed = select! {
                recv(self.rx) -> m => match m {
                    Ok(m) => return Wake::Msg(m),
                    Err(_) => 0,
                },
                recv(self.keys) -> ev => match ev {
                    Ok(ev) => return Wake::Term(ev),
                    Err(_) => {
                        self.keys = never();
                        return Wake::TermGone;
                    }
                },
                recv(self.ctx) -> c => match c {
                    Ok(c) => return Wake::Ctx(c),
                    Err(_) => 2,
                },
                default(tick) => return Wake::Tick,
            };
            if closed == 0 {
                self.rx = never();
            } else {
                self.ctx = never();
            }
        }
    }
}

fn term_action(app: &App, ev: TermEvent) -> Option<Action> {
    match ev {
        TermEvent::Key(k) if k.kind != KeyEventKind::Release => app.keymap.action_for(app, k),
        TermEvent::Mouse(m) => match m.kind {
            MouseEventKind::ScrollUp => Some(Action::ScrollUp),
            MouseEventKind::ScrollDown => Some(Action::ScrollDown),
            MouseEventKind::Down(_) => Some(Action::Click(m.column, m.row)),
            _ => None,
        },
        TermEvent::Resize(w, h) => Some(Action::Resize(w, h)),
        _ => None,
    }
}

fn input_loop(tx: &Sender<TermEvent>) {
    while let Ok(ev) = ct::read() {
        if tx.send(ev).is_err() {
            return;
        }
    }
}

/// Puts text on the clipboard of the terminal (and across SSH) with OSC 52.
fn osc52(text: &str) {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(text);
    let mut out = std::io::stdout();
    let _ = write!(out, "\x1b]52;c;{b64}\x07");
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn closed_channels_do_not_wake_the_loop() {
        let (tx, rx) = unbounded::<Msg>();
        let (key_tx, keys) = unbounded::<TermEvent>();
        let (ctx_tx, ctx) = unbounded::<u8>();
        let mut sources = Sources { rx, keys, ctx };
        ctx_tx.send(7).expect("send");
        drop(ctx_tx);
        assert!(matches!(sources.next(TICK), Wake::Ctx(7)));
        // The terminal's input ended: said once, so the loop can end.
        drop(key_tx);
        assert!(matches!(sources.next(TICK), Wake::TermGone));
        // Both closed channels are now quiet: the loop waits for its tick, every time.
        for _ in 0..3 {
            let started = Instant::now();
            assert!(matches!(
                sources.next(Duration::from_millis(50)),
                Wake::Tick
            ));
            assert!(started.elapsed() >= Duration::from_millis(45));
        }
        tx.send(Msg::Info("x".into())).expect("send");
        assert!(matches!(sources.next(TICK), Wake::Msg(Msg::Info(_))));
    }
}
