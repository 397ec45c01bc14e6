//! Carries out [`Effect`]s off the UI thread and reports [`Msg`]s.
//!
//! Each lane ([`Job::LANES`]: fetch, detail, query, compile, stack, filter) is a single slot: a new
//! request replaces a queued one (newest wins); results carry the generation of their request
//! so `update` drops stale ones. Writes (rules, overlays, exports) queue in order and are never dropped.
//! [`execute`] is synchronous so tests can drive the whole loop without threads.

use super::TuiOptions;
use super::action::{Effect, FailKind, FailedRule, Job, Msg, RulesLoaded};
use crate::overlay::Overlay;
use crate::sigma::RuleSet;
use crate::store::{Backend, CaseStore, EventStore, InputProblem, ProblemKind};
use crossbeam_channel::Sender;
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

mod bookmarks;
mod compile;
mod effects;
mod export;
mod finder;
mod retune;

/// Debounce for rule recompiles while typing.
const DEBOUNCE: Duration = Duration::from_millis(150);

/// The engine side: the case, a view of it and where rules come from.
pub struct Ctx {
    pub case: Arc<dyn CaseStore>,
    pub snapshot: RwLock<Arc<dyn EventStore>>,
    pub opts: TuiOptions,
    pub config_dir: PathBuf,
    /// Source file id → path shown in the detail view; read once, as the manifest of a large
    /// case is megabytes of JSON.
    files: HashMap<u64, String>,
    /// What went wrong reading `opts.inputs`.
    pub problems: Vec<InputProblem>,
    /// The rule loader with the user's mapping and placeholders, read when the rules load and
    /// kept for the live editor and tuning (which recompile on every pause in typing).
    loader: RwLock<Option<Arc<crate::sigma::Loader>>>,
}

/// The user's configuration directory (see [`crate::rulepack::config_dir`]).
pub fn config_dir() -> PathBuf {
    crate::rulepack::config_dir()
}

impl Ctx {
    /// Opens the case and ingests the inputs, reporting progress. Without inputs the case
    /// must exist (an empty one is never created for a mistyped directory).
    pub fn open(
        backend: &dyn Backend,
        opts: TuiOptions,
        progress: &dyn Fn(String),
    ) -> anyhow::Result<Ctx> {
        let mut last = Instant::now() - Duration::from_secs(1);
        let opened = backend.open(
            &opts.case_dir,
            &opts.inputs,
            &Default::default(),
            &mut |p| {
                // A store that reads no files (a remote one) says what it does instead.
                if p.files_total == 0
                    && let Some(doing) = &p.current
                {
                    progress(doing.display().to_string());
                    return;
                }
                if last.elapsed() >= Duration::from_millis(100) {
                    last = Instant::now();
                    let cur = p
                        .current
                        .as_ref()
                        .map(|c| c.display().to_string())
                        .unwrap_or_default();
                    progress(format!(
                        "ingesting: {}/{} files, {} events ({:.0}/s) {cur}",
                        p.files_done,
                        p.files_total,
                        p.events,
                        p.events_per_sec()
                    ));
                }
            },
        )?;
        let problems = (opened.ingest.as_ref()).map_or_else(Vec::new, |s| s.problems());
        let case = opened.case;
        let snap = case.snapshot();
        let sources = snap.sources()?;
        // Files read in part stay listed when the case is reopened (the warnings are recorded
        // in the case); a bad path or a skipped file is about this run only.
        let recorded = sources.iter().flat_map(|f| {
            let path = f.paths.first().cloned().unwrap_or_default();
            f.warnings.iter().map(move |w| InputProblem {
                kind: ProblemKind::Warning,
                path: path.clone(),
                reason: w.clone(),
            })
        });
        let (errors, others): (Vec<InputProblem>, Vec<InputProblem>) = (problems.into_iter())
            .filter(|p| p.kind != ProblemKind::Warning)
            .partition(|p| p.kind == ProblemKind::Error);
        let files = crate::store::first_paths(&sources);
        // Not problems, but what the counts mean: records counted once across sources.
        let folded = crate::store::folded_notes(&sources, &files);
        let problems: Vec<InputProblem> = (errors.into_iter().chain(recorded).chain(others))
            .chain(folded)
            .collect();
        let snapshot = RwLock::new(snap);
        Ok(Ctx {
            case,
            snapshot,
            opts,
            config_dir: config_dir(),
            files,
            problems,
            loader: RwLock::new(None),
        })
    }

    /// The loader as the rules were last loaded (read from the config directory if not yet).
    pub fn loader(&self) -> anyhow::Result<Arc<crate::sigma::Loader>> {
        if let Some(l) = self.loader.read().ok().and_then(|l| l.clone()) {
            return Ok(l);
        }
        self.reload_loader()
    }

    /// Reads the user's mapping and placeholders again (as every load of the rules does).
    fn reload_loader(&self) -> anyhow::Result<Arc<crate::sigma::Loader>> {
        let loader = Arc::new(crate::rulepack::loader(&self.config_dir)?);
        if let Ok(mut slot) = self.loader.write() {
            *slot = Some(Arc::clone(&loader));
        }
        Ok(loader)
    }

    pub fn snap(&self) -> Arc<dyn EventStore> {
        self.snapshot
            .read()
            .map_or_else(|p| Arc::clone(&p.into_inner()), |s| Arc::clone(&s))
    }

    pub fn ready(&self) -> Msg {
        let stats = self.snap().stats().ok();
        Msg::Ready {
            case_name: self.case.name(),
            events: self.snap().num_events(),
            first: stats.as_ref().and_then(|s| s.first),
            last: stats.as_ref().and_then(|s| s.last),
            problems: self.problems.clone(),
        }
    }

    fn user_rules(&self) -> PathBuf {
        crate::rulepack::user_rules_dir(&self.config_dir)
    }
}

fn failed(set: &RuleSet) -> Vec<FailedRule> {
    // Short forms for the list: the file name (not the whole path) and `line:col: message`.
    let rej = |kind: FailKind| {
        move |r: &crate::sigma::Rejected| {
            let file = Path::new(&r.origin)
                .file_name()
                .map_or_else(|| r.origin.clone(), |n| n.to_string_lossy().into_owned());
            let at = r
                .error
                .span
                .map(|s| format!("{}:{}: ", s.line, s.col))
                .unwrap_or_default();
            FailedRule {
                title: r
                    .title
                    .clone()
                    .filter(|t| !t.is_empty())
                    .unwrap_or_else(|| file.clone()),
                origin: file,
                kind,
                reason: format!("{at}{}", r.error.message),
            }
        }
    };
    // A saved edit replacing its original is the editor's intent; any other pair is not.
    let replaced = (set.replaced.iter())
        .filter(|r| !r.saved_edit)
        .map(|r| FailedRule {
            title: r.title.clone(),
            origin: r.dropped.clone(),
            kind: FailKind::Replaced,
            reason: format!("not run: {} has the same id (the later path wins)", r.by),
        });
    set.errors
        .iter()
        .map(rej(FailKind::Error))
        .chain(set.unsupported.iter().map(rej(FailKind::Unsupported)))
        .chain(replaced)
        .collect()
}

/// Loads bundled + user rules + the user rules dir + case overlays, and runs them.
fn load_rules(ctx: &Ctx) -> anyhow::Result<RulesLoaded> {
    let started = Instant::now();
    // Read once: applied by the loader and listed in the overlays view (case ones first, then
    // the user's).
    let overlays = crate::overlay::load_all(Some(&ctx.opts.case_dir), &ctx.config_dir);
    let loader = ctx.reload_loader()?;
    let (set, read_errors) = crate::rulepack::load_with_overlays(
        &loader,
        &ctx.opts.rule_paths,
        ctx.opts.no_default_rules,
        &ctx.config_dir,
        &overlays,
    )?;
    let installed = (crate::rulepack::sources(&set, &ctx.config_dir).installed)
        .map(|(release, n)| format!("{n} {}", release.label()));
    let rules: Vec<Arc<crate::sigma::CompiledRule>> =
        set.rules.iter().cloned().map(Arc::new).collect();
    let snap = ctx.snap();
    let refs: Vec<&crate::sigma::CompiledRule> = rules.iter().map(|r| r.as_ref()).collect();
    // Rules unchanged since the last load over this case are read back, not evaluated.
    let memo = crate::hunt::Memo::open(&ctx.opts.case_dir, &*snap);
    let result = crate::hunt::run_memo(&*snap, &refs, memo.as_ref())?;
    let corr_hits = crate::hunt::correlate(&*snap, &set.correlations, &refs, &result)?;
    let mut failed = failed(&set);
    failed.extend(read_errors.into_iter().map(|e| FailedRule {
        title: e.clone(),
        origin: String::new(),
        kind: FailKind::Unreadable,
        reason: e,
    }));
    Ok(RulesLoaded {
        rules,
        hits: result.hits.into_iter().map(Arc::new).collect(),
        correlations: set.correlations.into_iter().map(Arc::new).collect(),
        corr_hits: corr_hits.into_iter().map(Arc::new).collect(),
        failed,
        filters: set.filters,
        overlays,
        elapsed_ms: started.elapsed().as_millis(),
        installed,
        mapping: Arc::clone(loader.mapping()),
    })
}

/// The rules a changed overlay applies to, run again with `overlays` (every overlay after the
/// change); every rule when that cannot be done.
fn retuned(
    ctx: &Ctx,
    snap: &dyn EventStore,
    changed: &Overlay,
    overlays: Vec<Overlay>,
    tuning: &crate::tui::action::Tuning,
) -> anyhow::Result<Msg> {
    Ok(match retune::rerun(ctx, snap, changed, overlays, tuning)? {
        Some(done) => Msg::Retuned(Box::new(done)),
        None => Msg::Rules(Box::new(load_rules(ctx)?)),
    })
}

/// A path for the status line: under the home directory written `~/…`, so the part that
/// names the file is less often cut off.
pub(crate) fn short_path(path: &Path) -> String {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .filter(|h| h.parent().is_some());
    match home.as_deref().and_then(|h| path.strip_prefix(h).ok()) {
        Some(rest) if !rest.as_os_str().is_empty() => format!("~/{}", rest.display()),
        _ => path.display().to_string(),
    }
}

fn unique_path(base: &Path, ext: &str) -> PathBuf {
    let mut n = 1;
    loop {
        let p = base.with_file_name(format!(
            "{}-{n}.{ext}",
            base.file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default()
        ));
        if !p.exists() {
            return p;
        }
        n += 1;
    }
}

/// Runs one effect to completion.
pub fn execute(ctx: &Ctx, effect: Effect) -> Vec<Msg> {
    match effects::run(ctx, effect) {
        Ok(msgs) => msgs,
        Err(e) => vec![Msg::Error(format!("{e:#}"))],
    }
}

/// Single-slot lanes plus an ordered queue, served by background threads.
pub struct Worker {
    state: Arc<(Mutex<Queues>, Condvar)>,
    ctx: Arc<Ctx>,
}

#[derive(Default)]
struct Queues {
    slots: HashMap<Job, Effect>,
    ordered: VecDeque<Effect>,
    stop: bool,
}

impl Worker {
    /// Starts one thread per lane plus one for ordered work once `ctx` is available.
    pub fn start(ctx: Arc<Ctx>, tx: Sender<Msg>) -> Worker {
        let state = Arc::new((Mutex::new(Queues::default()), Condvar::new()));
        for lane in std::iter::once(None).chain(Job::LANES.map(Some)) {
            let (state, ctx, tx) = (Arc::clone(&state), Arc::clone(&ctx), tx.clone());
            std::thread::spawn(move || serve(lane, &state, &ctx, &tx));
        }
        // Another huntbench may ingest into the case meanwhile: say so (this session keeps
        // its snapshot, so its lists and event references stay consistent).
        let (watch_state, watch_ctx) = (Arc::clone(&state), Arc::clone(&ctx));
        std::thread::spawn(move || watch_case(&watch_state, &watch_ctx, &tx));
        Worker { state, ctx }
    }

    pub fn submit(&self, effect: Effect) {
        if let Effect::Interrupt = effect {
            // The lanes are busy with what is to be stopped, and asking the server may take a
            // while: on a thread of its own.
            let ctx = Arc::clone(&self.ctx);
            std::thread::spawn(move || execute(&ctx, Effect::Interrupt));
            return;
        }
        let (lock, cv) = &*self.state;
        if let Ok(mut q) = lock.lock() {
            match effect.lane() {
                Some(lane) => {
                    q.slots.insert(lane, effect);
                }
                None => q.ordered.push_back(effect),
            }
            cv.notify_all();
        }
    }

    pub fn stop(&self) {
        let (lock, cv) = &*self.state;
        if let Ok(mut q) = lock.lock() {
            q.stop = true;
            cv.notify_all();
        }
    }
}

/// Every few seconds until the worker stops: the case's event count on disk, sent when it
/// differs from the snapshot's.
fn watch_case(state: &Arc<(Mutex<Queues>, Condvar)>, ctx: &Ctx, tx: &Sender<Msg>) {
    let (lock, cv) = &**state;
    let opened = ctx.snap().num_events();
    let mut told = opened;
    loop {
        let Ok(q) = lock.lock() else { return };
        let Ok((q, _)) = cv.wait_timeout_while(q, CASE_WATCH, |q| !q.stop) else {
            return;
        };
        if q.stop {
            return;
        }
        drop(q);
        // The reader moves on; the snapshot the lists use does not.
        if let Ok(now) = ctx.case.refresh()
            && now != told
        {
            told = now;
            if tx.send(Msg::CaseGrew(now)).is_err() {
                return;
            }
        }
    }
}

/// How often [`watch_case`] looks.
const CASE_WATCH: Duration = Duration::from_secs(3);

fn take(lane: Option<Job>, q: &mut Queues) -> Option<Effect> {
    match lane {
        Some(l) => q.slots.remove(&l),
        None => q.ordered.pop_front(),
    }
}

fn serve(lane: Option<Job>, state: &(Mutex<Queues>, Condvar), ctx: &Ctx, tx: &Sender<Msg>) {
    let (lock, cv) = state;
    loop {
        let job = {
            let Ok(mut q) = lock.lock() else { return };
            loop {
                if q.stop {
                    return;
                }
                if let Some(job) = take(lane, &mut q) {
                    break job;
                }
                q = match cv.wait(q) {
                    Ok(q) => q,
                    Err(_) => return,
                };
            }
        };
        if lane == Some(Job::Compile) {
            std::thread::sleep(DEBOUNCE);
            // A newer keystroke arrived meanwhile: skip this one.
            if lock
                .lock()
                .is_ok_and(|q| q.slots.contains_key(&Job::Compile))
            {
                continue;
            }
        }
        for m in execute(ctx, job) {
            if tx.send(m).is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_under_home_are_shortened() {
        let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
        let Some(home) = home.filter(|h| h.parent().is_some()) else {
            return; // no home, or `/`: nothing is shortened
        };
        let p = home.join(".config/huntbench/rules/x.yml");
        assert_eq!(super::short_path(&p), "~/.config/huntbench/rules/x.yml");
        assert_eq!(
            super::short_path(std::path::Path::new("/elsewhere/x")),
            "/elsewhere/x"
        );
    }
}
