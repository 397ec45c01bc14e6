//! A remote table opened as the workbench opens a case: the view ([`RemoteStore`]), the
//! local directory the workbench keeps its state in, and the watch that says when the table
//! grew.

use super::Remote;
use super::store::{RemoteStore, TableSource, failed};
use crate::store::{Backend, CaseStore, EventStore, IngestOptions, Opened, Progress, StoreError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How often the workbench's watch asks the server how many events the table holds now.
pub const WATCH: Duration = Duration::from_secs(30);

/// A remote table as the workbench opens a case: the view, and a local directory for what
/// the workbench keeps (overlays, bookmarks, remembered hits).
pub struct RemoteCase {
    name: String,
    dir: PathBuf,
    store: Arc<RemoteStore>,
    source: TableSource,
    watch: Duration,
    /// When the server was last asked how many events the table holds, and its answer.
    counted: std::sync::Mutex<(std::time::Instant, u64)>,
}

impl CaseStore for RemoteCase {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn dir(&self) -> &Path {
        &self.dir
    }

    fn snapshot(&self) -> Arc<dyn EventStore> {
        Arc::clone(&self.store) as Arc<dyn EventStore>
    }

    fn refresh(&self) -> Result<u64, StoreError> {
        // The view stays as opened; the table is counted again at most every `watch` (the
        // workbench asks every few seconds, and each answer is a query or two).
        let mut counted = self.counted.lock().unwrap_or_else(|p| p.into_inner());
        if counted.0.elapsed() >= self.watch {
            let now = self.store.count_now(&self.source)?;
            *counted = (std::time::Instant::now(), now);
        }
        Ok(counted.1)
    }
}

/// Opens the one remote table it was made for; the directory given is where the workbench
/// keeps its state.
pub struct RemoteBackend {
    pub url: String,
    pub source: TableSource,
    /// How often an open case asks whether the table grew ([`WATCH`]).
    pub watch: Duration,
}

impl Backend for RemoteBackend {
    fn open(
        &self,
        dir: &Path,
        inputs: &[PathBuf],
        _opts: &IngestOptions,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<Opened, StoreError> {
        self.check(dir, inputs)?;
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::new(format!(
                "cannot create {} for the workbench: {e}",
                dir.display()
            ))
        })?;
        let say = |progress: &mut dyn FnMut(&Progress), what: String| {
            progress(&Progress {
                current: Some(PathBuf::from(what)),
                ..Progress::default()
            })
        };
        say(progress, format!("connecting to {}", self.url));
        let remote = Arc::new(Remote::connect(&self.url).map_err(failed)?);
        say(
            progress,
            format!("reading {} on {}", self.source, remote.url()),
        );
        let store = Arc::new(RemoteStore::open(Arc::clone(&remote), &self.source)?);
        let events = store.num_events();
        let case = RemoteCase {
            name: format!("{} on {}", self.source, remote.url()),
            dir: dir.to_owned(),
            store,
            source: self.source.clone(),
            watch: self.watch,
            counted: std::sync::Mutex::new((std::time::Instant::now(), events)),
        };
        Ok(Opened {
            case: Arc::new(case),
            ingest: None,
        })
    }

    fn check(&self, _dir: &Path, inputs: &[PathBuf]) -> Result<(), StoreError> {
        match inputs {
            [] => Ok(()),
            _ => Err(StoreError::new(
                "--remote reads the events the server holds: export logs with `huntbench \
                 export` and pass the export as --table, not as paths",
            )),
        }
    }

    fn is_outdated(&self, _dir: &Path) -> bool {
        false
    }
}
