//! The SigmaHQ rule release installed in the config directory (`huntbench rules update`):
//! fetched or read locally, checked, put in place so that an interrupted or failed update
//! leaves the previous rules working, and which of its rules load by default.
//!
//! Layout: `<config>/sigma/release.json` describes the release and names its folder,
//! `<config>/sigma/<folder>/` (upstream's layout: `rules/`, `rules-emerging-threats/`, …). An
//! update unpacks into `<config>/sigma/.incoming-*`, renames that to its own folder when it is
//! complete and checked, and only then replaces `release.json` (written aside and renamed, so
//! it is always whole): until that rename the previous release is the one that loads.
//!
//! Not for: rule semantics (`sigma`), loading the rules with the others (`rulepack`).

mod fetch;
mod unpack;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::path::{Path, PathBuf};

/// SigmaHQ's latest release package of its generic and emerging-threat rules (status
/// experimental and up, level medium and up).
pub const DEFAULT_URL: &str =
    "https://github.com/SigmaHQ/sigma/releases/latest/download/sigma_all_rules.zip";

/// The installed folders that load by default: the Windows rules (plus the `antivirus`
/// category, read from Defender's log), the Windows threat-hunting rules and the emerging
/// threats (whose other products the loader skips). Placeholder rules need values in
/// `placeholders.yml` first, and other products never match Windows logs.
pub const DEFAULT_LOAD: &[&str] = &[
    "rules/windows",
    "rules/category",
    "rules-threat-hunting/windows",
    "rules-emerging-threats",
];

const RELEASE_FILE: &str = "release.json";

/// What `release.json` records about the installed release.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Release {
    /// The folder under `<config>/sigma/` holding the rules.
    pub folder: String,
    /// SigmaHQ's release tag (`r2024-12-19`), when the source named one.
    pub tag: Option<String>,
    /// The release date: the tag's, else the newest `date`/`modified` of its rules.
    pub date: Option<String>,
    /// The URL, archive or folder it was installed from.
    pub source: String,
    /// SHA-256 of the archive, when it came as one.
    pub sha256: Option<String>,
    /// When it was installed (UTC, RFC 3339).
    pub installed_at: String,
    /// Rule files installed (every product).
    pub rule_files: usize,
    /// Rules and correlations that load by default (the folders of [`DEFAULT_LOAD`]).
    pub default_rules: usize,
    /// Installed files that do not parse (`rules check` names them).
    pub broken: usize,
}

impl Release {
    /// How summaries name the release, with its date: `SigmaHQ r2024-12-19`, or
    /// `SigmaHQ v1 of 2024-12-19`, `SigmaHQ rules of 2024-12-19` (no tag: the newest rule's).
    pub fn label(&self) -> String {
        let tag_is_date = |t: &str, d: &str| t.strip_prefix('r') == Some(d);
        match (&self.tag, &self.date) {
            (Some(tag), Some(date)) if !tag_is_date(tag, date) => {
                format!("SigmaHQ {tag} of {date}")
            }
            (Some(tag), _) => format!("SigmaHQ {tag}"),
            (None, Some(date)) => format!("SigmaHQ rules of {date}"),
            (None, None) => "SigmaHQ rules (undated)".to_owned(),
        }
    }
}

/// The installed release and where its rules are.
#[derive(Clone, Debug)]
pub struct Installed {
    pub release: Release,
    pub root: PathBuf,
}

impl Installed {
    /// The folders that load by default (those the release has).
    pub fn default_paths(&self) -> Vec<PathBuf> {
        (DEFAULT_LOAD.iter())
            .map(|d| self.root.join(d))
            .filter(|p| p.is_dir())
            .collect()
    }

    /// Whether a rule's origin is a file of this release.
    pub fn holds(&self, origin: &str) -> bool {
        Path::new(origin).starts_with(&self.root)
    }
}

/// Where releases are installed.
pub fn sigma_dir(config_dir: &Path) -> PathBuf {
    config_dir.join("sigma")
}

/// The installed release, if any. An error (a `release.json` that cannot be read, or whose
/// folder is gone) says so and how to repair it.
pub fn installed(config_dir: &Path) -> Result<Option<Installed>, String> {
    let sigma = sigma_dir(config_dir);
    let file = sigma.join(RELEASE_FILE);
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(broken_install(&file, &e.to_string())),
    };
    let release: Release =
        serde_json::from_str(&text).map_err(|e| broken_install(&file, &e.to_string()))?;
    let root = sigma.join(&release.folder);
    if release.folder.contains(['/', '\\']) || !root.is_dir() {
        let why = format!("its folder {} is missing", root.display());
        return Err(broken_install(&file, &why));
    }
    Ok(Some(Installed { release, root }))
}

fn broken_install(file: &Path, why: &str) -> String {
    format!(
        "installed SigmaHQ rules: {}: {why} (run `huntbench rules update` again, or leave them out with --no-default-rules)",
        file.display()
    )
}

/// Where an update takes the rules from.
#[derive(Clone, Debug)]
pub enum Source {
    Url(String),
    /// A local zip archive (a release asset or a repository archive).
    Zip(PathBuf),
    /// A local checkout or unpacked release.
    Dir(PathBuf),
}

impl Source {
    fn describe(&self) -> String {
        match self {
            Source::Url(u) => u.clone(),
            Source::Zip(p) | Source::Dir(p) => std::path::absolute(p)
                .unwrap_or_else(|_| p.clone())
                .display()
                .to_string(),
        }
    }
}

/// The outcome of an update.
pub struct UpdateReport {
    pub release: Release,
    pub root: PathBuf,
    /// The release it replaced.
    pub previous: Option<Release>,
    /// `file:line:column: reason` of the installed files that do not parse.
    pub broken: Vec<String>,
    /// Rules that parse but use what huntbench does not support (`rules check` says what).
    pub unsupported: usize,
}

/// Installs the rules of `source` as the release of `config_dir`. On any error the previous
/// release stays installed and nothing of the new one is left behind (a killed update may
/// leave an `.incoming-*` folder, removed by the next update).
pub fn update(
    config_dir: &Path,
    source: &Source,
    progress: &mut dyn FnMut(&str),
) -> anyhow::Result<UpdateReport> {
    let sigma = sigma_dir(config_dir);
    std::fs::create_dir_all(&sigma).with_context(|| format!("creating {}", sigma.display()))?;
    // Checked before anything is fetched: a broken placeholders.yml or mapping.yml would fail
    // every rule of the release.
    let loader = crate::rulepack::loader(config_dir)?;
    let previous = installed(config_dir).ok().flatten().map(|i| i.release);
    let staging = tempfile::Builder::new()
        .prefix(".incoming-")
        .tempdir_in(&sigma)
        .with_context(|| format!("creating a folder in {}", sigma.display()))?;
    let (unpacked, tag, sha256) = match source {
        Source::Url(url) => {
            progress(&format!("downloading {url}"));
            let mut download = tempfile::Builder::new()
                .prefix(".download-")
                .suffix(".zip")
                .tempfile_in(&sigma)
                .with_context(|| format!("creating a file in {}", sigma.display()))?;
            let fetched = fetch::download(url, download.as_file_mut())?;
            progress(&format!("downloaded {} bytes; unpacking", fetched.bytes));
            let unpacked = unpack::zip(download.path(), staging.path())?;
            let tag = fetch::release_tag(&fetched.urls);
            (unpacked, tag, Some(sha256_of(download.path())?))
        }
        Source::Zip(path) => {
            progress(&format!("unpacking {}", path.display()));
            (
                unpack::zip(path, staging.path())?,
                None,
                Some(sha256_of(path)?),
            )
        }
        Source::Dir(path) => {
            progress(&format!("copying the rules of {}", path.display()));
            (unpack::dir(path, staging.path())?, None, None)
        }
    };
    let tag = tag.or_else(|| unpacked.wrapper.as_deref().and_then(tag_of_wrapper));
    progress("checking every rule file");
    let checked = check(&loader, staging.path());
    if checked.rule_files == 0 {
        bail!(
            "{}: no Sigma rule files in it (expected SigmaHQ's rules/… folders)",
            source.describe()
        );
    }
    if checked.loaded == 0 {
        bail!(
            "{}: none of its {} rule files loads",
            source.describe(),
            checked.rule_files
        );
    }
    let date = tag.as_deref().and_then(date_of_tag).or(checked.newest_date);
    let installed_at = jiff::Timestamp::now();
    let folder = unique_folder(&sigma, tag.as_deref().or(date.as_deref()), installed_at);
    let release = Release {
        folder: folder.clone(),
        tag,
        date,
        source: source.describe(),
        sha256,
        installed_at: installed_at.round(jiff::Unit::Second)?.to_string(),
        rule_files: checked.rule_files,
        default_rules: checked.default_rules,
        broken: checked.broken.len(),
    };
    let root = sigma.join(&folder);
    let incoming = staging.keep();
    if let Err(e) = std::fs::rename(&incoming, &root) {
        let _ = std::fs::remove_dir_all(&incoming);
        return Err(e).with_context(|| format!("moving the rules into {}", root.display()));
    }
    if let Err(e) = write_release(&sigma, &release) {
        let _ = std::fs::remove_dir_all(&root);
        return Err(e);
    }
    remove_stale(&sigma, &folder);
    Ok(UpdateReport {
        release,
        root,
        previous,
        broken: checked.broken,
        unsupported: checked.unsupported,
    })
}

/// Replaces `release.json` whole: written to a temporary file beside it, then renamed.
fn write_release(sigma: &Path, release: &Release) -> anyhow::Result<()> {
    let mut tmp = tempfile::Builder::new()
        .prefix(".release-")
        .tempfile_in(sigma)
        .with_context(|| format!("creating a file in {}", sigma.display()))?;
    serde_json::to_writer_pretty(tmp.as_file_mut(), release)?;
    tmp.as_file_mut().sync_all()?;
    let target = sigma.join(RELEASE_FILE);
    tmp.persist(&target)
        .with_context(|| format!("writing {}", target.display()))?;
    Ok(())
}

/// Removes earlier releases' folders and what killed updates left, once the new release is
/// in place. A folder another update is still writing is younger than an hour and kept.
fn remove_stale(sigma: &Path, current: &str) {
    let Ok(entries) = std::fs::read_dir(sigma) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let leftover = name.starts_with(".incoming-") || name.starts_with(".download-");
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age.as_secs() > 3600));
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if name == current || name.starts_with(".release-") || (leftover && !old) {
            continue;
        }
        if is_dir && (leftover || name.starts_with("sigma-")) {
            let _ = std::fs::remove_dir_all(entry.path());
        } else if leftover {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A folder name for a release not yet used: `sigma-<tag or date>-<install time>`.
fn unique_folder(sigma: &Path, name: Option<&str>, now: jiff::Timestamp) -> String {
    let name: String = (name.unwrap_or("rules").chars())
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let base = format!("sigma-{name}-{}", now.as_second());
    let mut folder = base.clone();
    let mut n = 1;
    while sigma.join(&folder).exists() {
        n += 1;
        folder = format!("{base}-{n}");
    }
    folder
}

/// The tag in a repository archive's folder name (`sigma-r2024-12-19`).
fn tag_of_wrapper(wrapper: &str) -> Option<String> {
    let tag = wrapper.strip_prefix("sigma-")?;
    date_of_tag(tag).map(|_| tag.to_owned())
}

/// The date of a release tag `rYYYY-MM-DD`.
fn date_of_tag(tag: &str) -> Option<String> {
    let date = tag.strip_prefix('r')?;
    date.parse::<jiff::civil::Date>()
        .ok()
        .map(|d| d.to_string())
}

fn sha256_of(path: &Path) -> anyhow::Result<String> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let mut hasher = sha2::Sha256::new();
    std::io::copy(&mut file, &mut hasher).with_context(|| format!("reading {}", path.display()))?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// What parsing every installed file gave.
struct Checked {
    rule_files: usize,
    loaded: usize,
    default_rules: usize,
    unsupported: usize,
    broken: Vec<String>,
    newest_date: Option<String>,
}

/// Parses every rule file under `root` with the user's loader.
fn check(loader: &crate::sigma::Loader, root: &Path) -> Checked {
    let files = crate::rulepack::read_rule_files(&[root.to_owned()]);
    let mut set = loader.load_texts(files.texts.iter().map(|(o, t)| (o.as_str(), t.as_str())));
    for (origin, line, col, why) in &files.not_text {
        set.reject_file(origin, *line, *col, why);
    }
    let relative = |origin: &str| {
        Path::new(origin)
            .strip_prefix(root)
            .map_or_else(|_| origin.to_owned(), |p| p.display().to_string())
    };
    let by_default = |origin: &str| {
        let rel = Path::new(origin)
            .strip_prefix(root)
            .unwrap_or(Path::new(origin));
        DEFAULT_LOAD.iter().any(|d| rel.starts_with(d))
    };
    let metas =
        || (set.rules.iter().map(|r| &r.meta)).chain(set.correlations.iter().map(|c| &c.meta));
    let newest_date = metas()
        .flat_map(|m| [m.date.as_deref(), m.modified.as_deref()])
        .flatten()
        .filter_map(|d| d.replace('/', "-").parse::<jiff::civil::Date>().ok())
        .max()
        .map(|d| d.to_string());
    let broken = (set.errors.iter())
        .map(|r| {
            let at = r
                .error
                .span
                .map(|s| format!(":{}:{}", s.line, s.col))
                .unwrap_or_default();
            format!("{}{at}: {}", relative(&r.origin), r.error.message)
        })
        .collect();
    Checked {
        rule_files: files.texts.len() + files.not_text.len(),
        loaded: set.rules.len() + set.correlations.len(),
        default_rules: metas().filter(|m| by_default(&m.origin)).count(),
        unsupported: set.unsupported.len(),
        broken,
        newest_date,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn release_dates_come_from_tags_and_repository_folders() {
        assert_eq!(date_of_tag("r2024-12-19").as_deref(), Some("2024-12-19"));
        assert_eq!(date_of_tag("v1.0"), None);
        assert_eq!(
            tag_of_wrapper("sigma-r2025-01-02").as_deref(),
            Some("r2025-01-02")
        );
        assert_eq!(tag_of_wrapper("sigma-master"), None);
    }

    /// A `release.json` naming a folder that is gone is an error saying how to repair it.
    #[test]
    fn an_install_whose_folder_is_gone_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        assert!(installed(dir.path()).unwrap().is_none());
        let sigma = sigma_dir(dir.path());
        std::fs::create_dir_all(&sigma).unwrap();
        let release = Release {
            folder: "sigma-gone".into(),
            tag: None,
            date: None,
            source: "x".into(),
            sha256: None,
            installed_at: "2026-01-01T00:00:00Z".into(),
            rule_files: 1,
            default_rules: 1,
            broken: 0,
        };
        write_release(&sigma, &release).unwrap();
        let err = installed(dir.path()).unwrap_err();
        assert!(err.contains("rules update"), "{err}");
    }
}
