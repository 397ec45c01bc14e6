//! Resolving the case directory.

use anyhow::Context;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The case directory for a set of inputs when no `--case` is given: under the user's cache
/// directory, keyed by the canonical input paths, so the same inputs reopen the same case.
pub fn default_case_dir(
    backend: &dyn crate::store::Backend,
    inputs: &[PathBuf],
) -> anyhow::Result<PathBuf> {
    let mut canon: Vec<String> = inputs
        .iter()
        .map(|p| {
            p.canonicalize()
                .unwrap_or_else(|_| p.clone())
                .display()
                .to_string()
        })
        .collect();
    canon.sort();
    canon.dedup();
    let digest = Sha256::digest(canon.join("\n").as_bytes());
    let key: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let stem = inputs
        .first()
        .and_then(|p| p.canonicalize().ok())
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "case".into());
    let base = cache_root()?;
    let dir = base
        .join("cases")
        .join(format!("{}-{key}", sanitize(&stem)));
    // A cached case is derived data: one from an older index format is rebuilt, not refused.
    if backend.is_outdated(&dir) {
        std::fs::remove_dir_all(&dir)
            .with_context(|| format!("removing outdated cached case {}", dir.display()))?;
    }
    Ok(dir)
}

/// Where the workbench keeps its state (overlays, bookmarks, remembered hits) for a table on
/// a Spark Connect server when no `--case` is given: under the user's cache directory, named
/// from the table and keyed by the URL (without its token) and the table.
pub fn remote_state_dir(url: &str, table: &str) -> anyhow::Result<PathBuf> {
    let shown = url.split_once("/;").map_or(url, |(base, _)| base);
    let digest = Sha256::digest(format!("{shown}\n{table}").as_bytes());
    let key: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let stem = Path::new(table.trim_end_matches('/'))
        .file_name()
        .map_or_else(|| "table".to_owned(), |n| n.to_string_lossy().into_owned());
    Ok(cache_root()?
        .join("remote")
        .join(format!("{}-{key}", sanitize(&stem))))
}

fn cache_root() -> anyhow::Result<PathBuf> {
    if let Ok(dir) = std::env::var("HUNTBENCH_CACHE_DIR") {
        return Ok(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("", "", "huntbench")
        .map(|d| d.cache_dir().to_owned())
        .context("no cache directory for this user; pass --case DIR")
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The case directory from `--case`, else keyed by inputs; errors when neither is available.
pub fn resolve(
    backend: &dyn crate::store::Backend,
    case: Option<&Path>,
    inputs: &[PathBuf],
) -> anyhow::Result<PathBuf> {
    match case {
        Some(dir) => Ok(dir.to_owned()),
        None if !inputs.is_empty() => default_case_dir(backend, inputs),
        None => anyhow::bail!("no case: pass --case DIR or input paths"),
    }
}
