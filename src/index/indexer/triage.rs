//! Triage of an ingest's input files: which are new, which the case holds already (by path
//! and unchanged, or by content), and which repeat another input of the same run.

use super::NewFile;
use crate::index::manifest::{Manifest, SourceFile};
use crate::ingest::Format;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// What the parallel part of triage learns about one input file.
enum Probe {
    Unreadable(String),
    Unchanged,
    Hashed { size: u64, mtime: i64, sha: String },
}

/// Splits discovered files into new ones (with fresh ids) and skipped ones. Hashing runs on
/// all cores (it reads every new byte once and would otherwise hold up the readers); ids and
/// duplicate decisions are then made in input order.
pub(in crate::index) fn triage(
    files: Vec<(PathBuf, Format)>,
    manifest: &mut Manifest,
    skipped: &mut Vec<(PathBuf, String)>,
) -> Vec<NewFile> {
    use rayon::prelude::*;
    // Lookups by path and by content, so triage stays linear in the number of files.
    let by_path: HashMap<&str, &SourceFile> = manifest
        .files
        .iter()
        .flat_map(|f| f.paths.iter().map(move |p| (p.as_str(), f)))
        .collect();
    let probes: Vec<Probe> = files
        .par_iter()
        .map(|(path, _)| probe(path, &by_path))
        .collect();
    drop(by_path);
    let mut ids_by_path: HashMap<String, Vec<u64>> = HashMap::new();
    for f in &manifest.files {
        for p in &f.paths {
            ids_by_path.entry(p.clone()).or_default().push(f.id);
        }
    }
    let earlier_of = |shown: &str| ids_by_path.get(shown).cloned().unwrap_or_default();
    let known_sha: HashMap<String, usize> = (manifest.files.iter().enumerate())
        .map(|(i, f)| (f.sha256.clone(), i))
        .collect();
    let mut new_sha: HashMap<String, usize> = HashMap::new();
    let mut next_id = manifest.next_id();
    let mut out: Vec<NewFile> = Vec::new();
    for ((path, format), probe) in files.into_iter().zip(probes) {
        let shown = path.display().to_string();
        let (size, mtime, sha) = match probe {
            Probe::Unreadable(why) => {
                skipped.push((path, format!("cannot read: {why}")));
                continue;
            }
            Probe::Unchanged => {
                skipped.push((path, "already indexed".into()));
                continue;
            }
            Probe::Hashed { size, mtime, sha } => (size, mtime, sha),
        };
        if let Some(&i) = known_sha.get(&sha) {
            let existing = &mut manifest.files[i];
            // Say which file it duplicates, unless it is that file itself (touched, unchanged).
            let why = match existing.paths.first() {
                Some(first) if !existing.paths.contains(&shown) => {
                    format!("already indexed (same content as {first})")
                }
                _ => "already indexed (same content)".into(),
            };
            if !existing.paths.contains(&shown) {
                existing.paths.push(shown);
            }
            skipped.push((path, why));
            continue;
        }
        if let Some(&i) = new_sha.get(&sha) {
            let first = out[i].path.display().to_string();
            out[i].record.paths.push(shown);
            skipped.push((path, format!("duplicate of {first}")));
            continue;
        }
        let earlier = earlier_of(&shown);
        let record = SourceFile {
            id: next_id,
            paths: vec![shown],
            size,
            mtime,
            sha256: sha,
            ..SourceFile::default()
        };
        next_id += 1;
        new_sha.insert(record.sha256.clone(), out.len());
        out.push(NewFile {
            path,
            format,
            record,
            earlier,
        });
    }
    out
}

/// A file at a known path with the same size and mtime is taken as unchanged (no re-hash).
fn probe(path: &Path, by_path: &HashMap<&str, &SourceFile>) -> Probe {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return Probe::Unreadable(e.to_string()),
    };
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64);
    let shown = path.display().to_string();
    if by_path
        .get(shown.as_str())
        .is_some_and(|f| f.size == meta.len() && f.mtime == mtime)
    {
        return Probe::Unchanged;
    }
    match sha256_file(path) {
        Ok(sha) => Probe::Hashed {
            size: meta.len(),
            mtime,
            sha,
        },
        Err(e) => Probe::Unreadable(e.to_string()),
    }
}

fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}
