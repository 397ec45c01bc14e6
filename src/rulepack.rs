//! Where rules come from: the bundled pack (embedded in the binary, so an installed huntbench
//! works anywhere) plus rule files and directories named by the user.
//!
//! Not for: rule semantics (`sigma`) or running rules (`hunt`).

use crate::sigma::{Loader, RuleSet, SigmaError};
use include_dir::{Dir, include_dir};
use std::path::{Path, PathBuf};

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

/// Rule files under the given files/directories, as `(origin, text)`; unreadable ones are
/// returned as errors so they are reported, not dropped.
pub fn read_rule_files(paths: &[PathBuf]) -> (Vec<(String, String)>, Vec<String>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        walk(p, true, &mut files, &mut errors);
    }
    files.sort();
    files.dedup();
    let mut texts = Vec::new();
    for f in files {
        match std::fs::read_to_string(&f) {
            Ok(t) => texts.push((f.display().to_string(), t)),
            Err(e) => errors.push(format!("{}: cannot read: {e}", f.display())),
        }
    }
    (texts, errors)
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
    let (user, errors) = read_rule_files(paths);
    let texts = bundled
        .iter()
        .map(|(o, t)| (o.as_str(), *t))
        .chain(user.iter().map(|(o, t)| (o.as_str(), t.as_str())));
    Ok((loader.load_texts(texts), errors))
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

/// Everything an analyst's run uses, as one set so filters apply across files: the bundled
/// pack (unless `no_default`), the given paths, the user's rules directory, and the tuning
/// overlays of the case and of the user. A rule saved from the editor replaces the one it was
/// edited from: of two rules with the same id, the later one wins.
pub fn load_for_case(
    paths: &[PathBuf],
    no_default: bool,
    case_dir: &Path,
    config_dir: &Path,
) -> Result<(RuleSet, Vec<String>), SigmaError> {
    load_for_case_with(&Loader::new()?, paths, no_default, case_dir, config_dir)
}

/// [`load_for_case`] with a configured loader (e.g. `scan --skip-impossible-4688`).
pub fn load_for_case_with(
    loader: &Loader,
    paths: &[PathBuf],
    no_default: bool,
    case_dir: &Path,
    config_dir: &Path,
) -> Result<(RuleSet, Vec<String>), SigmaError> {
    let bundled = if no_default { Vec::new() } else { bundled() };
    let mut paths = paths.to_vec();
    let user_rules = config_dir.join("rules");
    if user_rules.is_dir() {
        paths.push(user_rules);
    }
    let (user, errors) = read_rule_files(&paths);
    let mut overlays = crate::overlay::load_overlays(case_dir);
    overlays.extend(crate::overlay::load_overlays(config_dir));
    let overlays: Vec<(String, String)> = overlays
        .into_iter()
        .map(|(p, t)| (p.display().to_string(), t))
        .collect();
    let texts = bundled.iter().map(|(o, t)| (o.as_str(), *t)).chain(
        user.iter()
            .chain(&overlays)
            .map(|(o, t)| (o.as_str(), t.as_str())),
    );
    let mut set = loader.load_texts(texts);
    let mut by_id: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut rules = Vec::with_capacity(set.rules.len());
    for rule in set.rules.drain(..) {
        match rule.meta.id.as_ref().and_then(|id| by_id.get(id).copied()) {
            Some(i) => rules[i] = rule,
            None => {
                if let Some(id) = &rule.meta.id {
                    by_id.insert(id.clone(), rules.len());
                }
                rules.push(rule);
            }
        }
    }
    set.rules = rules;
    Ok((set, errors))
}
