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
