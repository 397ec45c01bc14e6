//! Workbench latency and memory on a large case, for BENCHMARKS.md:
//!
//! ```sh
//! cargo run --release --example bench_tui -- --case /tmp/case-x70 ../shared/corpus/evtx 70
//! ```
//! Arguments: `--case DIR` (optional; an existing case there is reused, otherwise the
//! replicated corpus is ingested into it and kept), corpus directory, replication factor,
//! repetitions per measurement (default 11). `--rules PATH` adds rules to the bundled pack;
//! `--open-only` stops once the rules are listed (reopening a case). With the `remote`
//! feature, `--remote sc://HOST:PORT --table SOURCE` measures the same keys on the workbench
//! over a Spark Connect server instead of a case (corpus and factor are then ignored):
//!
//! ```sh
//! cargo run --release --features remote --example bench_tui -- --remote URL --table PARQUET
//! ```
//!
//! The workbench runs headless but otherwise as in a session: the same `App`, `update`,
//! keymap, background `Worker` and views, drawn on a 160x48 `TestBackend`. Each figure is the
//! wall time from handing a key to the keymap until a drawn frame shows the result, so it
//! includes the worker round trip (and, for rule edits, the editor's 150 ms debounce).

// The replicated-inputs helper is for the other benchmarks.
#[allow(dead_code)]
mod common;

use anyhow::{Context as _, bail};
use common::{dir_size, replicate, status_mb};
use crossbeam_channel::{Receiver, unbounded};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use huntbench::tui::action::{Action, Msg};
use huntbench::tui::app::{App, Entry, Screen};
use huntbench::tui::keymap::Keymap;
use huntbench::tui::theme::Theme;
use huntbench::tui::worker::{Ctx, Worker};
use huntbench::tui::{TuiOptions, update::update, views};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

const WMI_RULE: &str = "Process Started by the WMI Provider Host";
/// A search with a long result list (failed logons: 3,600 per copy of the corpus), to show
/// that memory does not follow the number of rows scrolled.
const SEARCH: &str = "EventID=4625";
const SIZE: (u16, u16) = (160, 48);
/// PageDowns timed per list over a remote store: enough for the figures, not the whole list.
const REMOTE_SCROLL_KEYS: usize = 100;
/// Longest wait for one frame; a result that never shows is a failure, not a figure.
const TIMEOUT: Duration = Duration::from_secs(300);

fn main() -> anyhow::Result<()> {
    let started = Instant::now();
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    // `--open-only`: stop once the rules are listed (how long reopening a case takes).
    let open_only = args.iter().any(|a| a == "--open-only");
    args.retain(|a| a != "--open-only");
    let case_arg = match args.iter().position(|a| a == "--case") {
        Some(i) if i + 1 < args.len() => {
            let dir = PathBuf::from(args.remove(i + 1));
            args.remove(i);
            Some(dir)
        }
        Some(_) => bail!("--case needs a directory"),
        None => None,
    };
    let remote = take_remote(&mut args)?;
    let rule_paths: Vec<PathBuf> = match args.iter().position(|a| a == "--rules") {
        Some(i) if i + 1 < args.len() => {
            let dir = PathBuf::from(args.remove(i + 1));
            args.remove(i);
            vec![dir]
        }
        Some(_) => bail!("--rules needs a file or directory"),
        None => Vec::new(),
    };
    let corpus = PathBuf::from(args.first().map_or("../shared/corpus/evtx", String::as_str));
    let factor: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    let runs: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(11);
    let tmp = tempfile::tempdir()?;
    let case_dir = case_arg.unwrap_or_else(|| tmp.path().join("case"));
    let config = tmp.path().join("config");
    let mut ctx = match &remote {
        Some((url, table)) => open_remote(url, table, &case_dir)?,
        None => open_case(&case_dir, &corpus, factor, tmp.path())?,
    };
    ctx.opts.rule_paths = rule_paths.clone();
    let store = match &remote {
        Some((url, table)) => format!("{table} on {url}"),
        None => format!(
            "index {:.1} MB",
            dir_size(&case_dir.join("index")) as f64 / 1e6
        ),
    };
    println!(
        "case: {} events, {store}; rules: bundled{}; screen {}x{}; {runs} runs",
        ctx.snap().num_events(),
        rule_paths
            .iter()
            .map(|p| format!(" + {}", p.display()))
            .collect::<String>(),
        SIZE.0,
        SIZE.1
    );
    println!(
        "memory after opening the case: RSS {} MB, peak {} MB",
        status_mb("VmRSS"),
        status_mb("VmHWM")
    );

    let mut b = Bench::start(ctx, case_dir, &config)?;
    if remote.is_some() {
        b.max_keys = REMOTE_SCROLL_KEYS;
    }
    let t = b.measure_ready()?;
    println!(
        "run all {} rules and list them: {:.0} ms",
        b.app.rules.len(),
        ms(t)
    );
    println!(
        "memory with rules loaded: RSS {} MB, peak {} MB",
        status_mb("VmRSS"),
        status_mb("VmHWM")
    );
    if open_only {
        println!(
            "from start to the rules listed (open the case, load, run and list the rules): {:.0} ms",
            ms(started.elapsed())
        );
        b.worker.stop();
        return Ok(());
    }
    println!();
    println!("| action (key) | median | p95 | result |");
    println!("|---|---|---|---|");
    b.rule_edit(runs)?;
    b.tuning(runs)?;
    b.pivots(runs)?;
    println!();
    println!(
        "| scrolling (PageDown) | rows | keys | p50 | p95 | max | RSS before, then after each quarter | peak RSS |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    b.scroll_timeline()?;
    b.scroll_top_rule()?;
    b.scroll_search(SEARCH)?;
    b.worker.stop();
    Ok(())
}

/// `--remote URL --table SOURCE`, taken out of the arguments.
fn take_remote(args: &mut Vec<String>) -> anyhow::Result<Option<(String, String)>> {
    let mut take = |flag: &str| -> anyhow::Result<Option<String>> {
        match args.iter().position(|a| a == flag) {
            Some(i) if i + 1 < args.len() => {
                let value = args.remove(i + 1);
                args.remove(i);
                Ok(Some(value))
            }
            Some(_) => bail!("{flag} needs a value"),
            None => Ok(None),
        }
    };
    match (take("--remote")?, take("--table")?) {
        (Some(url), Some(table)) => Ok(Some((url, table))),
        (None, None) => Ok(None),
        _ => bail!("--remote and --table go together"),
    }
}

/// The workbench over a Spark Connect server, its state (overlays, rule counts) in `state`.
#[cfg(feature = "remote")]
fn open_remote(url: &str, table: &str, state: &Path) -> anyhow::Result<Ctx> {
    use huntbench::remote::store::{RemoteBackend, TableSource};
    let backend = RemoteBackend {
        url: url.to_owned(),
        source: TableSource::parse(table),
        watch: huntbench::remote::store::WATCH,
    };
    let opts = TuiOptions {
        case_dir: state.to_owned(),
        ..TuiOptions::default()
    };
    Ctx::open(&backend, opts, &|_| {})
}

#[cfg(not(feature = "remote"))]
fn open_remote(_: &str, _: &str, _: &Path) -> anyhow::Result<Ctx> {
    bail!("--remote needs a build with `--features remote`")
}

/// Opens the case, first ingesting the replicated corpus into it when it is empty.
fn open_case(case_dir: &Path, corpus: &Path, factor: usize, tmp: &Path) -> anyhow::Result<Ctx> {
    let opts = |inputs: Vec<PathBuf>| TuiOptions {
        case_dir: case_dir.to_owned(),
        inputs,
        ..TuiOptions::default()
    };
    // Opening without inputs is only for an existing case (the workbench makes none for nothing).
    if huntbench::index::Case::exists(case_dir) {
        let ctx = Ctx::open(&huntbench::index::IndexBackend, opts(Vec::new()), &|_| {})?;
        if ctx.snap().num_events() > 0 {
            println!("reusing the case in {}", case_dir.display());
            return Ok(ctx);
        }
    }
    let inputs = tmp.join("inputs");
    let bytes = replicate(corpus, factor, &inputs)?;
    // The replicas hold the same records: the case keeps every copy (an ingest of nothing
    // records the setting), so it has the size asked for.
    let keep = huntbench::index::IngestOptions {
        keep_duplicates: true,
        ..Default::default()
    };
    huntbench::index::Case::open_or_create(case_dir)?.ingest(&[], &keep, &mut |_| {})?;
    let t = Instant::now();
    // The workbench's own open path: ingest with progress, then a fresh snapshot.
    let ctx = Ctx::open(
        &huntbench::index::IndexBackend,
        opts(vec![inputs.clone()]),
        &|_| {},
    )?;
    println!(
        "ingested {:.1} MB of EVTX (x{factor}) in {:.0} s",
        bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    // Only the index is needed from here on; the copies can be large.
    std::fs::remove_dir_all(&inputs)?;
    Ok(ctx)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Median, 95th percentile and maximum of durations, in ms.
fn percentiles(times: &[Duration]) -> (f64, f64, f64) {
    let mut v: Vec<f64> = times.iter().map(|&d| ms(d)).collect();
    v.sort_by(f64::total_cmp);
    let at = |p: usize| v.get((v.len() * p / 100).min(v.len().saturating_sub(1)));
    (
        at(50).copied().unwrap_or(0.0),
        at(95).copied().unwrap_or(0.0),
        v.last().copied().unwrap_or(0.0),
    )
}

fn row(action: &str, times: &[Duration], result: &str) {
    let (p50, p95, _) = percentiles(times);
    println!("| {action} | {p50:.1} ms | {p95:.1} ms | {result} |");
}

fn press_key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// The rows of the top hits list that are on screen are all loaded (no `…` placeholders).
fn page_loaded(app: &App) -> bool {
    let Some(Screen::Hits(h)) = app.top() else {
        return false;
    };
    let end = (h.offset + app.page()).min(h.rows.len());
    h.rows[h.offset.min(end)..end]
        .iter()
        .all(|r| app.cache.contains_key(&r.r))
}

fn hits_title(app: &App) -> Option<(String, usize)> {
    match app.top() {
        Some(Screen::Hits(h)) => Some((h.title.clone(), h.rows.len())),
        _ => None,
    }
}

/// The workbench's main loop without a terminal: keys go through the keymap, effects to the
/// worker threads, worker messages back into `update`, and every change is drawn.
struct Bench {
    app: App,
    term: Terminal<TestBackend>,
    theme: Theme,
    worker: Worker,
    rx: Receiver<Msg>,
    ctx: Arc<Ctx>,
    /// Most PageDowns timed per list (a remote store fetches each page over the network).
    max_keys: usize,
}

impl Bench {
    fn start(mut ctx: Ctx, case_dir: PathBuf, config: &Path) -> anyhow::Result<Bench> {
        // No user rules, overlays or key bindings from the machine running the benchmark.
        ctx.config_dir = config.to_owned();
        let ctx = Arc::new(ctx);
        let (tx, rx) = unbounded::<Msg>();
        let worker = Worker::start(Arc::clone(&ctx), tx);
        let mut app = App::new(case_dir);
        app.size = SIZE;
        let mut b = Bench {
            app,
            term: Terminal::new(TestBackend::new(SIZE.0, SIZE.1))?,
            theme: Theme::load(None)?,
            worker,
            rx,
            ctx,
            max_keys: usize::MAX,
        };
        let km = Keymap::load(config);
        b.apply(Action::Worker(Box::new(Msg::Keymap(Arc::new(km)))))?;
        Ok(b)
    }

    /// One turn of the loop: update, hand the effects to the worker, draw.
    fn apply(&mut self, action: Action) -> anyhow::Result<()> {
        for e in update(&mut self.app, action) {
            self.worker.submit(e);
        }
        let (app, theme) = (&self.app, &self.theme);
        self.term.draw(|f| views::draw(f, app, theme))?;
        Ok(())
    }

    fn screen(&self) -> String {
        let buf = self.term.backend().buffer();
        let mut s = String::new();
        for y in 0..buf.area.height {
            for x in 0..buf.area.width {
                s.push_str(buf[(x, y)].symbol());
            }
            s.push('\n');
        }
        s
    }

    /// Runs the loop on worker messages until a drawn frame satisfies `done`.
    fn settle(
        &mut self,
        start: Instant,
        what: &str,
        done: &dyn Fn(&App, &str) -> bool,
    ) -> anyhow::Result<Duration> {
        loop {
            if done(&self.app, &self.screen()) {
                return Ok(start.elapsed());
            }
            let left = TIMEOUT.saturating_sub(start.elapsed());
            let Ok(m) = self.rx.recv_timeout(left) else {
                bail!("timed out waiting for {what}:\n{}", self.screen());
            };
            self.apply(Action::Worker(Box::new(m)))?;
        }
    }

    /// Presses a key as the terminal delivers it and times it until `done` shows.
    fn press(
        &mut self,
        code: KeyCode,
        what: &str,
        done: &dyn Fn(&App, &str) -> bool,
    ) -> anyhow::Result<Duration> {
        let start = Instant::now();
        if let Some(a) = self.app.keymap.action_for(&self.app, press_key(code)) {
            self.apply(a)?;
        }
        self.settle(start, what, done)
    }

    /// Lets late results (prefetches of the next page) land, so a measurement starts idle.
    fn quiesce(&mut self) -> anyhow::Result<()> {
        while let Ok(m) = self.rx.recv_timeout(Duration::from_millis(300)) {
            self.apply(Action::Worker(Box::new(m)))?;
        }
        Ok(())
    }

    fn measure_ready(&mut self) -> anyhow::Result<Duration> {
        let start = Instant::now();
        let ready = self.ctx.ready();
        self.apply(Action::Worker(Box::new(ready)))?;
        self.settle(start, "the rules list", &|app, s| {
            app.progress.is_none() && s.contains(WMI_RULE)
        })
    }

    /// Puts the rules list cursor on the rule whose title contains `title`.
    fn select_rule(&mut self, title: &str) -> anyhow::Result<usize> {
        let app = &self.app;
        let pos = app
            .visible
            .iter()
            .position(|&i| matches!(app.entry(i), Entry::Rule(k) if app.rules[k].rule.meta.title == title))
            .context("rule not listed")?;
        self.press(KeyCode::Home, "top", &|_, _| true)?;
        for _ in 0..pos {
            self.press(KeyCode::Down, "down", &|_, _| true)?;
        }
        self.app.selected_rule().context("no rule selected")
    }

    /// Types a character into the WMI rule's selection (`'\WmiPrvSE.exe'` → `'\WmiPrvSE.exex'`)
    /// and deletes it again, timing each until the editor shows the recomputed count.
    fn rule_edit(&mut self, runs: usize) -> anyhow::Result<()> {
        let rule = self.select_rule(WMI_RULE)?;
        let old = self.app.rules[rule].hits.len();
        self.press(KeyCode::Char('e'), "the editor", &|_, s| {
            s.contains("Editing")
        })?;
        let Some(Screen::Editor(ed)) = self.app.top() else {
            bail!("the editor did not open");
        };
        let line = ed
            .area
            .lines()
            .iter()
            .position(|l| l.contains("ParentImage|endswith"))
            .context("no ParentImage selection in the WMI rule")?;
        for _ in 0..line {
            self.press(KeyCode::Down, "down", &|_, _| true)?;
        }
        self.press(KeyCode::End, "end", &|_, _| true)?;
        self.press(KeyCode::Left, "left", &|_, _| true)?;
        let shown = format!("hits {old} → ");
        let counted = |app: &App, s: &str| {
            matches!(app.top(), Some(Screen::Editor(e)) if !e.pending) && s.contains(&shown)
        };
        let new_count = |app: &App| match app.top() {
            Some(Screen::Editor(e)) => e.compiled.as_ref().map_or(0, |h| h.len()),
            _ => 0,
        };
        let (mut typed, mut deleted) = (Vec::new(), Vec::new());
        let (mut n_typed, mut n_deleted) = (0, 0);
        for _ in 0..runs {
            self.quiesce()?;
            typed.push(self.press(KeyCode::Char('x'), "the edited count", &counted)?);
            n_typed = new_count(&self.app);
            self.quiesce()?;
            deleted.push(self.press(KeyCode::Backspace, "the restored count", &counted)?);
            n_deleted = new_count(&self.app);
        }
        if n_deleted != old {
            bail!("deleting the typed character gave {n_deleted} hits, not {old}");
        }
        row(
            "rule edit: type a character into the WMI rule's selection",
            &typed,
            &format!("editor shows hits {old} → {n_typed}"),
        );
        row(
            "rule edit: delete it again (Backspace)",
            &deleted,
            &format!("editor shows hits {old} → {n_deleted}"),
        );
        self.press(KeyCode::Esc, "the rules list", &|app, _| {
            app.top().is_none()
        })?;
        Ok(())
    }

    /// From the WMI rule's hits: process tree, detail, same-value and ±N-minute pivots, each
    /// on a different hit per run.
    fn pivots(&mut self, runs: usize) -> anyhow::Result<()> {
        self.select_rule(WMI_RULE)?;
        let mut t = Times::default();
        for run in 0..runs {
            self.quiesce()?;
            t.open
                .push(self.press(KeyCode::Enter, "the rule's hits", &|app, s| {
                    hits_title(app).is_some_and(|(t, _)| t == WMI_RULE)
                        && page_loaded(app)
                        && s.contains("hits over time")
                })?);
            for _ in 0..run {
                self.press(KeyCode::Down, "down", &|_, _| true)?;
            }
            self.quiesce()?;
            t.tree
                .push(self.press(KeyCode::Char('p'), "the tree", &|app, s| {
                    matches!(app.top(), Some(Screen::Tree(_))) && s.contains("Process tree on")
                })?);
            t.tree_n = match self.app.top() {
                Some(Screen::Tree(tv)) => tv.tree.nodes.len(),
                _ => 0,
            };
            self.back()?;
            self.quiesce()?;
            t.detail
                .push(self.press(KeyCode::Enter, "the detail", &|app, s| {
                    matches!(app.top(), Some(Screen::Detail(d)) if d.event.is_some())
                        && s.contains("why it matched")
                })?);
            self.quiesce()?;
            // A pivot's list replaced the detail (an empty list counts as loaded).
            let pivoted = |app: &App, s: &str| {
                hits_title(app).is_some_and(|(t, _)| t != WMI_RULE)
                    && app.busy.is_empty()
                    && page_loaded(app)
                    && s.contains("hits over time")
            };
            t.value
                .push(self.press(KeyCode::Char('v'), "the value pivot", &pivoted)?);
            t.value_n = hits_title(&self.app).map_or(0, |(_, n)| n);
            self.back()?;
            self.quiesce()?;
            t.around
                .push(self.press(KeyCode::Char('t'), "the around pivot", &pivoted)?);
            t.around_n = hits_title(&self.app).map_or(0, |(_, n)| n);
            self.back()?;
            self.back()?;
            self.back()?;
        }
        let span = huntbench::tui::app::span_label(self.app.around_secs);
        row("open the rule's hits (Enter)", &t.open, "first page drawn");
        row(
            "pivot: process tree of a hit (p)",
            &t.tree,
            &format!("tree drawn ({} processes, last run)", t.tree_n),
        );
        row("open a hit's detail (Enter)", &t.detail, "detail drawn");
        row(
            "pivot: same field=value from the detail (v)",
            &t.value,
            &format!("ParentImage pivot, {} events, first page drawn", t.value_n),
        );
        row(
            &format!("pivot: same computer ±{span} (t)"),
            &t.around,
            &format!("{} events, first page drawn", t.around_n),
        );
        Ok(())
    }

    /// Marks the WMI rule's first hit's `Image` benign from its detail (`b`) and undoes it from
    /// the overlays list (`O`, `D` twice), timing each until the rules list shows the new count.
    fn tuning(&mut self, runs: usize) -> anyhow::Result<()> {
        let rule = self.select_rule(WMI_RULE)?;
        let old = self.app.rules[rule].hits.len();
        self.press(KeyCode::Enter, "the hits", &|app, _| page_loaded(app))?;
        self.press(
            KeyCode::Enter,
            "the detail",
            &|app, _| matches!(app.top(), Some(Screen::Detail(d)) if d.event.is_some()),
        )?;
        let Some(Screen::Detail(d)) = self.app.top() else {
            bail!("no detail");
        };
        let fields = &d.event.as_ref().context("no event")?.fields;
        let pos = (fields.iter())
            .position(|(n, _)| n == "Image" || n == "NewProcessName")
            .context("no Image field")?;
        for _ in 0..pos.saturating_sub(d.sel) {
            self.press(KeyCode::Down, "down", &|_, _| true)?;
        }
        let idle = |app: &App| app.busy.is_empty();
        let (mut marked, mut undone) = (Vec::new(), Vec::new());
        let mut left = old;
        for _ in 0..runs {
            self.quiesce()?;
            marked.push(
                self.press(KeyCode::Char('b'), "the tuned count", &|app, _| {
                    idle(app) && app.rules[rule].hits.len() < old
                })?,
            );
            left = self.app.rules[rule].hits.len();
            self.press(KeyCode::Char('O'), "the overlays", &|app, _| {
                matches!(app.top(), Some(Screen::Overlays { .. }))
            })?;
            self.press(KeyCode::Char('D'), "the question", &|_, _| true)?;
            self.quiesce()?;
            undone.push(
                self.press(KeyCode::Char('D'), "the restored count", &|app, _| {
                    idle(app) && app.rules[rule].hits.len() == old
                })?,
            );
            self.back()?;
        }
        let n = self.app.rules.len();
        row(
            "tuning: mark the hit's Image benign (b)",
            &marked,
            &format!("{old} → {left} hits, {n} rules loaded"),
        );
        row(
            "tuning: remove that overlay (O, D, D)",
            &undone,
            &format!("{left} → {old} hits"),
        );
        self.back()?;
        self.back()?;
        Ok(())
    }

    fn back(&mut self) -> anyhow::Result<()> {
        let depth = self.app.screens.len();
        self.press(KeyCode::Backspace, "the previous screen", &|app, _| {
            app.screens.len() + 1 == depth
        })?;
        Ok(())
    }

    fn scroll_timeline(&mut self) -> anyhow::Result<()> {
        self.quiesce()?;
        let open = self.press(KeyCode::Char('a'), "the timeline", &|app, _| {
            page_loaded(app)
        })?;
        self.scroll_all(&format!(
            "timeline of all rules (opened in {:.0} ms)",
            ms(open)
        ))?;
        self.back()
    }

    /// The rules list is sorted by hits, so its first row is the rule with most hits.
    fn scroll_top_rule(&mut self) -> anyhow::Result<()> {
        self.press(KeyCode::Home, "top", &|_, _| true)?;
        let title = self
            .app
            .selected_rule()
            .map(|i| self.app.rules[i].rule.meta.title.clone())
            .unwrap_or_default();
        self.quiesce()?;
        let open = self.press(KeyCode::Enter, "the rule's hits", &|app, _| {
            page_loaded(app)
        })?;
        self.scroll_all(&format!(
            "{title}, the rule with most hits (opened in {:.0} ms)",
            ms(open)
        ))?;
        self.back()
    }

    /// Types a query into the search bar; Enter is timed until the first page is drawn.
    fn scroll_search(&mut self, query: &str) -> anyhow::Result<()> {
        self.press(KeyCode::Char('/'), "the search bar", &|app, _| {
            app.input.is_some()
        })?;
        for c in query.chars() {
            self.press(KeyCode::Char(c), "typing", &|_, _| true)?;
        }
        self.quiesce()?;
        let open = self.press(KeyCode::Enter, "the search results", &|app, _| {
            hits_title(app).is_some_and(|(t, _)| t.starts_with("search: "))
                && app.busy.is_empty()
                && page_loaded(app)
        })?;
        self.scroll_all(&format!("search `{query}` (results in {:.0} ms)", ms(open)))?;
        self.back()
    }

    /// PageDown until the last hit, each key timed until its page is drawn in full.
    fn scroll_all(&mut self, what: &str) -> anyhow::Result<()> {
        self.quiesce()?;
        let hits = hits_title(&self.app).map_or(0, |(_, n)| n);
        // RSS before scrolling and after each quarter of the list.
        let mut rss = vec![status_mb("VmRSS").to_string()];
        let mut times = Vec::new();
        let sel = |app: &App| match app.top() {
            Some(Screen::Hits(h)) => h.sel + 1,
            _ => usize::MAX,
        };
        while sel(&self.app) < hits && times.len() < self.max_keys {
            let quarter = sel(&self.app) * 4 / hits;
            times.push(self.press(KeyCode::PageDown, "a page", &|app, _| page_loaded(app))?);
            if sel(&self.app) * 4 / hits > quarter {
                rss.push(status_mb("VmRSS").to_string());
            }
        }
        let (p50, p95, max) = percentiles(&times);
        println!(
            "| {what} | {hits} | {} | {p50:.2} ms | {p95:.2} ms | {max:.1} ms | {} MB (cache {} events) | {} MB |",
            times.len(),
            rss.join(" → "),
            self.app.cache.len(),
            status_mb("VmHWM")
        );
        Ok(())
    }
}

#[derive(Default)]
struct Times {
    open: Vec<Duration>,
    tree: Vec<Duration>,
    detail: Vec<Duration>,
    value: Vec<Duration>,
    around: Vec<Duration>,
    tree_n: usize,
    value_n: usize,
    around_n: usize,
}
