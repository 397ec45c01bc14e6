//! Where rules come from: the bundled pack (embedded in the binary, so an installed huntbench
//! works anywhere) plus rule files and directories named by the user.
//!
//! Not for: rule semantics (`sigma`) or running rules (`hunt`).

use crate::sigma::{Loader, Replaced, RuleMeta, RuleSet, SigmaError};

use include_dir::{Dir, include_dir};
use std::path::{Path, PathBuf};

mod sources;
pub use sources::{Sources, sources};

static BUNDLED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/rules");

/// Bundled rule documents as `(origin, text)`; mapping and placeholder data files are not rules.
pub fn bundled() -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    collect_embedded(&BUNDLED, &mut out);
    out.sort();
    out
}

fn collect_embedded(dir: &'static Dir<'static>, out: &mut Vec<(String, &'static str)>) {
    for file in dir.files() {
        let path = file.path();
        if path.starts_with("mappings") || !is_rule_file(path) {
            continue;
        }
        if let Some(text) = file.contents_utf8() {
            out.push((format!("<bundled>/rules/{}", path.display()), text));
        }
    }
    for sub in dir.dirs() {
        collect_embedded(sub, out);
    }
}

fn is_rule_file(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
}

/// The rule files under some files/directories.
#[derive(Default)]
pub struct RuleFiles {
    /// `(origin, text)`.
    pub texts: Vec<(String, String)>,
    /// Paths that could not be read (missing, no permission): reported, never dropped.
    pub unreadable: Vec<String>,
    /// Files read whose text is not UTF-8: broken rules, at `(origin, line, col, why)`.
    pub not_text: Vec<(String, usize, usize, String)>,
}

impl RuleFiles {
    fn extend(&mut self, other: RuleFiles) {
        self.texts.extend(other.texts);
        self.unreadable.extend(other.unreadable);
        self.not_text.extend(other.not_text);
    }

    /// Records the files that are not text among the set's errors.
    fn reject_not_text(&self, set: &mut RuleSet) {
        for (origin, line, col, why) in &self.not_text {
            set.reject_file(origin, *line, *col, why);
        }
    }
}

/// Rule files under the given files/directories.
pub fn read_rule_files(paths: &[PathBuf]) -> RuleFiles {
    let mut files = Vec::new();
    let mut out = RuleFiles::default();
    for p in paths {
        walk(p, true, &mut files, &mut out.unreadable);
    }
    files.sort();
    files.dedup();
    for f in files {
        let origin = f.display().to_string();
        match std::fs::read(&f).map(String::from_utf8) {
            Ok(Ok(t)) => out.texts.push((origin, t)),
            Ok(Err(e)) => {
                let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
                let valid = String::from_utf8_lossy(valid);
                let line = valid.matches('\n').count() + 1;
                let col = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                let why = "not UTF-8 text (Sigma rules are UTF-8 YAML)".to_owned();
                out.not_text.push((origin, line, col, why));
            }
            Err(e) => out.unreadable.push(format!("{origin}: cannot read: {e}")),
        }
    }
    out
}

fn walk(path: &Path, top: bool, files: &mut Vec<PathBuf>, errors: &mut Vec<String>) {
    match std::fs::metadata(path) {
        Err(e) => errors.push(format!("{}: {e}", path.display())),
        Ok(m) if m.is_dir() => match std::fs::read_dir(path) {
            Ok(entries) => {
                for entry in entries.flatten() {
                    walk(&entry.path(), false, files, errors);
                }
            }
            Err(e) => errors.push(format!("{}: {e}", path.display())),
        },
        // A file named explicitly is read whatever its extension.
        Ok(_) if top || is_rule_file(path) => files.push(path.to_owned()),
        Ok(_) => {}
    }
}

/// Loads the bundled pack (unless `no_default`) and the user's rule paths as one set.
/// Returns the set and the paths that could not be read.
pub fn load(paths: &[PathBuf], no_default: bool) -> Result<(RuleSet, Vec<String>), SigmaError> {
    let loader = Loader::new()?;
    let bundled = if no_default { Vec::new() } else { bundled() };
    let user = read_rule_files(paths);
    let texts = bundled
        .iter()
        .map(|(o, t)| (o.as_str(), *t))
        .chain(user.texts.iter().map(|(o, t)| (o.as_str(), t.as_str())));
    let mut set = loader.load_texts(texts);
    user.reject_not_text(&mut set);
    Ok((set, user.unreadable))
}

/// The user's configuration directory (`HUNTBENCH_CONFIG_DIR`, else the platform's): edited
/// rules and saved searches live in its `rules/`, organisation-wide tuning in its `overlays/`.
pub fn config_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("HUNTBENCH_CONFIG_DIR") {
        return PathBuf::from(d);
    }
    directories::ProjectDirs::from("", "", "huntbench").map_or_else(
        || PathBuf::from(".huntbench"),
        |p| p.config_dir().to_owned(),
    )
}

/// The rule loader with the user's own data from the config directory: `placeholders.yml`
/// (values for `|expand` placeholders, merged over the bundled empty list) and `mapping.yml`
/// (a whole logsource mapping replacing the bundled one). A broken file is an error naming it.
pub fn loader(config_dir: &Path) -> Result<Loader, SigmaError> {
    let mut loader = Loader::new()?;
    let read = |name: &str| -> Result<Option<String>, SigmaError> {
        let path = config_dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(SigmaError::new(
                crate::sigma::ErrorKind::Invalid,
                format!("{}: cannot read: {e}", path.display()),
            )),
        }
    };
    let named = |name: &str, e: SigmaError| {
        let path = config_dir.join(name);
        SigmaError::new(e.kind, format!("{}: {}", path.display(), e.message))
    };
    if let Some(text) = read("mapping.yml")? {
        loader = loader
            .with_mapping_yaml(&text)
            .map_err(|e| named("mapping.yml", e))?;
    }
    if let Some(text) = read("placeholders.yml")? {
        loader = loader
            .with_placeholders_yaml(&text)
            .map_err(|e| named("placeholders.yml", e))?;
    }
    Ok(loader)
}

/// The user's rules directory: rules saved from the editor and saved searches.
pub fn user_rules_dir(config_dir: &Path) -> PathBuf {
    config_dir.join("rules")
}

/// Everything an analyst's run uses, as one set so filters apply across files: the bundled
/// pack (unless `no_default`), the given paths, the user's rules directory, and the tuning
/// overlays of the case (if any) and of the user. A rule saved from the editor replaces the
/// one it was edited from: of two rules with the same id (or two correlation rules with the
/// same id, else name), the later one wins, and [`RuleSet::replaced`] says which lost.
pub fn load_for_case(
    paths: &[PathBuf],
    no_default: bool,
    case_dir: &Path,
    config_dir: &Path,
) -> Result<(RuleSet, Vec<String>), SigmaError> {
    load_for_case_with(
        &loader(config_dir)?,
        paths,
        no_default,
        Some(case_dir),
        config_dir,
    )
}

/// [`load_for_case`] with a configured loader (e.g. `scan --skip-impossible-4688`); without a
/// case (`rules check`), only the user's overlays apply.
pub fn load_for_case_with(
    loader: &Loader,
    paths: &[PathBuf],
    no_default: bool,
    case_dir: Option<&Path>,
    config_dir: &Path,
) -> Result<(RuleSet, Vec<String>), SigmaError> {
    let overlays = crate::overlay::load_all(case_dir, config_dir);
    load_with_overlays(loader, paths, no_default, config_dir, &overlays)
}

/// [`load_for_case_with`] with the overlays already read (the workbench lists them too).
pub fn load_with_overlays(
    loader: &Loader,
    paths: &[PathBuf],
    no_default: bool,
    config_dir: &Path,
    overlays: &[crate::overlay::Overlay],
) -> Result<(RuleSet, Vec<String>), SigmaError> {
    let bundled = if no_default { Vec::new() } else { bundled() };
    // The installed SigmaHQ release comes before the given paths: a given rule of the same id
    // replaces its installed copy.
    let (installed, mut user) = if no_default {
        (None, RuleFiles::default())
    } else {
        installed_rules(config_dir)
    };
    user.extend(read_rule_files(paths));
    // Read after the given paths (each call sorts its files), so saved edits come later and win.
    let user_rules = user_rules_dir(config_dir);
    if user_rules.is_dir() {
        user.extend(read_rule_files(std::slice::from_ref(&user_rules)));
    }
    let overlays: Vec<(String, String)> = overlays
        .iter()
        .map(|o| (o.path.display().to_string(), o.text.clone()))
        .collect();
    let texts = bundled.iter().map(|(o, t)| (o.as_str(), *t)).chain(
        (user.texts.iter())
            .chain(&overlays)
            .map(|(o, t)| (o.as_str(), t.as_str())),
    );
    let mut set = loader.load_texts(texts);
    user.reject_not_text(&mut set);
    let saved_prefix = user_rules.display().to_string();
    let mut replaced = Vec::new();
    set.rules = keep_last(
        std::mem::take(&mut set.rules),
        |r| &r.meta,
        |m| m.id.clone(),
        &saved_prefix,
        &mut replaced,
    );
    // Likewise for correlation rules, which chains may reference by name instead of id.
    set.correlations = keep_last(
        std::mem::take(&mut set.correlations),
        |c| &c.meta,
        |m| m.id.clone().or_else(|| m.name.clone()),
        &saved_prefix,
        &mut replaced,
    );
    set.replaced = replaced;
    if let Some(release) = &installed {
        sources::quiet_installed(&mut set, release);
    }
    Ok((set, user.unreadable))
}

/// The rule files of the installed SigmaHQ release that load by default, and the release
/// (none when none is installed, or when its `release.json` is broken: that is then an
/// unreadable path, as a `--rules` path that cannot be read).
fn installed_rules(config_dir: &Path) -> (Option<crate::ruleinstall::Installed>, RuleFiles) {
    match crate::ruleinstall::installed(config_dir) {
        Ok(None) => (None, RuleFiles::default()),
        Ok(Some(release)) => {
            let files = read_rule_files(&release.default_paths());
            (Some(release), files)
        }
        Err(e) => {
            let files = RuleFiles {
                unreadable: vec![e],
                ..RuleFiles::default()
            };
            (None, files)
        }
    }
}

/// What `scan` and `rules check` say about rules left out for a later one of the same id: a
/// saved edit replacing its original is a note (so a scan says which version ran), any other
/// pair a warning (two files claim one id; only the later path runs).
pub fn replacement_notes(replaced: &[Replaced]) -> Vec<String> {
    (replaced.iter())
        .map(|r| {
            if r.saved_edit {
                format!(
                    "note: `{}` runs as saved in {} (your rules directory), not as in {}",
                    r.title, r.by, r.dropped
                )
            } else {
                format!(
                    "warning: `{}` in {} not run: {} has the same id `{}` (the later path wins)",
                    r.title, r.dropped, r.by, r.id
                )
            }
        })
        .collect()
}

/// Keeps the last of the items that share a key (in the place of the first), recording the
/// ones left out.
fn keep_last<T>(
    items: Vec<T>,
    meta: impl Fn(&T) -> &RuleMeta,
    key: impl Fn(&RuleMeta) -> Option<String>,
    saved_prefix: &str,
    replaced: &mut Vec<Replaced>,
) -> Vec<T> {
    let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut kept: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        let k = key(meta(&item));
        match k.as_ref().and_then(|k| at.get(k).copied()) {
            Some(i) => {
                let (old, new) = (meta(&kept[i]), meta(&item));
                replaced.push(Replaced {
                    id: k.unwrap_or_default(),
                    title: old.title.clone(),
                    dropped: old.origin.clone(),
                    by: new.origin.clone(),
                    saved_edit: new.origin.starts_with(saved_prefix),
                });
                kept[i] = item;
            }
            None => {
                if let Some(k) = k {
                    at.insert(k, kept.len());
                }
                kept.push(item);
            }
        }
    }
    kept
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const RULE: &str = "title: Rule\nid: r-1\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    sel:\n        Image|endswith: a.exe\n    condition: sel\n";
    const CORR: &str = "title: Burst\nid: c-1\ncorrelation:\n    type: event_count\n    rules: [r-1]\n    group-by: [Computer]\n    timespan: 10m\n    condition:\n        gte: 3\n";

    /// Rules and correlations saved from the editor replace the loaded ones of the same id,
    /// whatever the paths (the user rules directory here sorts before the upstream file).
    #[test]
    fn rules_saved_in_the_user_rules_replace_the_ones_they_were_edited_from() {
        let dir = tempfile::tempdir().unwrap();
        let upstream = dir.path().join("upstream.yml");
        let text = format!("{RULE}---\n{CORR}");
        std::fs::write(&upstream, &text).unwrap();
        let user = dir.path().join("config/rules");
        std::fs::create_dir_all(&user).unwrap();
        std::fs::write(user.join("c-1.yml"), CORR.replace("gte: 3", "gte: 5")).unwrap();
        std::fs::write(user.join("r-1.yml"), RULE.replace("a.exe", "b.exe")).unwrap();
        let case = dir.path().join("case");
        let config = dir.path().join("config");
        let (set, errors) =
            load_for_case(std::slice::from_ref(&upstream), true, &case, &config).unwrap();
        assert_eq!(set.replaced.len(), 2, "{:?}", set.replaced);
        assert!(
            set.replaced
                .iter()
                .all(|r| r.saved_edit && r.dropped.contains("upstream"))
        );
        assert!(errors.is_empty() && set.errors.is_empty(), "{errors:?}");
        assert_eq!(set.correlations.len(), 1, "replaced, not duplicated");
        assert_eq!(set.correlations[0].condition.gte, Some(5.0));
        assert_eq!(set.rules.len(), 1);
        assert!(set.rules[0].meta.text().contains("b.exe"));
        assert_eq!(std::fs::read_to_string(&upstream).unwrap(), text);
        // A different id is another correlation.
        std::fs::write(user.join("c-1.yml"), CORR.replace("id: c-1", "id: c-2")).unwrap();
        let (set, _) = load_for_case(&[upstream], true, &case, &config).unwrap();
        assert_eq!(set.correlations.len(), 2);
    }
}
