//! Putting the rule folders of an archive or a checkout into the staging directory.
//!
//! Only upstream's rule folders (and its licence) are taken, wherever they sit: at the top of
//! a release asset (`rules/windows/…`) or under the one folder of a repository archive
//! (`sigma-master/rules/windows/…`).

use anyhow::{Context, bail};
use std::path::{Component, Path, PathBuf};

/// SigmaHQ's rule folders.
pub const TREES: &[&str] = &[
    "rules",
    "rules-emerging-threats",
    "rules-threat-hunting",
    "rules-placeholder",
    "rules-compliance",
    "rules-dfir",
];

/// Files beside the folders that are kept: the Detection Rule License travels with the rules.
const KEPT_FILES: &[&str] = &["LICENSE", "LICENSE.Detection.Rules.md"];

/// What was unpacked.
#[derive(Default)]
pub struct Unpacked {
    pub files: usize,
    /// The folder the rule folders sat in, when one did (`sigma-r2024-12-19`).
    pub wrapper: Option<String>,
}

/// Where an archive member goes under the staging directory, if it is kept: its path from the
/// rule folder on, the rule folder at the top or under one wrapping folder.
fn kept_path(name: &Path) -> Option<(PathBuf, Option<String>)> {
    let parts: Vec<&str> = name
        .components()
        .map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    let at = usize::from(parts.len() > 1 && !is_kept_top(&parts, 0) && is_kept_top(&parts, 1));
    if !is_kept_top(&parts, at) {
        return None;
    }
    let wrapper = (at == 1).then(|| parts[0].to_owned());
    Some((parts[at..].iter().collect(), wrapper))
}

fn is_kept_top(parts: &[&str], at: usize) -> bool {
    match parts.get(at) {
        Some(top) if parts.len() == at + 1 => KEPT_FILES.contains(top),
        Some(top) => TREES.contains(top),
        None => false,
    }
}

/// Unpacks the kept members of the zip archive `archive` into `dest`, checking every member's
/// checksum as it is read. A damaged archive is an error naming what is wrong.
pub fn zip(archive: &Path, dest: &Path) -> anyhow::Result<Unpacked> {
    let file = std::fs::File::open(archive)
        .with_context(|| format!("{}: cannot open", archive.display()))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| anyhow::anyhow!("{}: not a readable zip archive ({e})", archive.display()))?;
    let mut out = Unpacked::default();
    for i in 0..zip.len() {
        let mut member = zip.by_index(i).with_context(|| {
            format!(
                "{}: member {i} cannot be read (damaged archive)",
                archive.display()
            )
        })?;
        if member.is_dir() {
            continue;
        }
        let name = String::from_utf8_lossy(member.name_raw()).into_owned();
        // Members whose names climb out of the archive (`../x`, absolute paths) are refused.
        let Some(inside) = member.enclosed_name() else {
            bail!("{}: member `{name}` has an unsafe path", archive.display());
        };
        let Some((path, wrapper)) = kept_path(&inside) else {
            continue;
        };
        let target = dest.join(&path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let mut file = std::fs::File::create(&target)
            .with_context(|| format!("creating {}", target.display()))?;
        std::io::copy(&mut member, &mut file).with_context(|| {
            format!(
                "{}: member `{name}` is damaged (its data or checksum does not read back)",
                archive.display()
            )
        })?;
        out.files += 1;
        out.wrapper = out.wrapper.or(wrapper);
    }
    Ok(out)
}

/// Copies the rule folders of a SigmaHQ checkout (or an unpacked release) at `src` into `dest`.
pub fn dir(src: &Path, dest: &Path) -> anyhow::Result<Unpacked> {
    let mut out = Unpacked::default();
    let mut stack: Vec<PathBuf> = Vec::new();
    for name in TREES.iter().chain(KEPT_FILES) {
        let p = src.join(name);
        if p.exists() {
            stack.push(p);
        }
    }
    if stack.is_empty() {
        bail!(
            "{}: no SigmaHQ rule folders (rules/, rules-emerging-threats/, …) in it: give the top folder of a checkout or an unpacked release",
            src.display()
        );
    }
    while let Some(p) = stack.pop() {
        let meta = std::fs::metadata(&p).with_context(|| format!("reading {}", p.display()))?;
        let link = std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink());
        if meta.is_dir() && link {
            // A linked folder could lead back up the tree; upstream's checkout has none.
            continue;
        }
        let rel = p.strip_prefix(src).unwrap_or(&p);
        let target = dest.join(rel);
        if meta.is_dir() {
            std::fs::create_dir_all(&target)
                .with_context(|| format!("creating {}", target.display()))?;
            for entry in
                std::fs::read_dir(&p).with_context(|| format!("reading {}", p.display()))?
            {
                stack.push(
                    entry
                        .with_context(|| format!("reading {}", p.display()))?
                        .path(),
                );
            }
        } else {
            std::fs::copy(&p, &target)
                .with_context(|| format!("copying {} to {}", p.display(), target.display()))?;
            out.files += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_folders_are_kept_at_the_top_or_under_one_wrapping_folder() {
        let kept = |s: &str| kept_path(Path::new(s)).map(|(p, w)| (p.display().to_string(), w));
        assert_eq!(
            kept("rules/windows/a.yml"),
            Some(("rules/windows/a.yml".into(), None))
        );
        assert_eq!(
            kept("sigma-master/rules-threat-hunting/windows/b.yml"),
            Some((
                "rules-threat-hunting/windows/b.yml".into(),
                Some("sigma-master".into())
            ))
        );
        assert_eq!(
            kept("sigma-master/LICENSE"),
            Some(("LICENSE".into(), Some("sigma-master".into())))
        );
        assert_eq!(kept("sigma-master/tests/test_rules.py"), None);
        assert_eq!(kept("a/b/rules/x.yml"), None);
        assert_eq!(kept("README.md"), None);
    }
}
