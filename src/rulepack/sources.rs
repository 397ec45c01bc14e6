//! Where the loaded rules came from, for the summaries of `scan`, `rules check` and the
//! workbench: the bundled pack, the installed SigmaHQ release, given paths, and the user's own
//! rules directory (whose rules run in every scan, so they are always counted and can be named).

use crate::ruleinstall::{Installed, Release};
use crate::sigma::{RuleMeta, RuleSet};
use std::path::Path;

/// Counts of loaded rules and correlation rules by source.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    pub bundled: usize,
    /// The installed release and how many of its rules loaded.
    pub installed: Option<(Release, usize)>,
    /// From `--rules` paths.
    pub given: usize,
    /// From the user's rules directory, as `(title, file)`.
    pub own: Vec<(String, String)>,
}

impl Sources {
    /// One line: `rules: 11 bundled, 2865 from SigmaHQ r2024-12-19 (2024-12-19), …`.
    pub fn summary(&self) -> String {
        let mut parts = vec![format!("{} bundled", self.bundled)];
        if let Some((release, n)) = &self.installed {
            parts.push(format!("{n} from {}", release.label()));
        }
        if self.given > 0 {
            parts.push(format!("{} from --rules", self.given));
        }
        parts.push(format!("{} of your own", self.own.len()));
        format!("rules: {}", parts.join(", "))
    }
}

/// Counts the rules and correlation rules of `set` by where they came from.
pub fn sources(set: &RuleSet, config_dir: &Path) -> Sources {
    let installed = crate::ruleinstall::installed(config_dir).ok().flatten();
    let own_dir = super::user_rules_dir(config_dir);
    let mut out = Sources {
        installed: installed.as_ref().map(|i| (i.release.clone(), 0)),
        ..Sources::default()
    };
    let metas = (set.rules.iter().map(|r| &r.meta)).chain(set.correlations.iter().map(|c| &c.meta));
    for meta in metas {
        count(meta, installed.as_ref(), &own_dir, &mut out);
    }
    // Left out (`--no-default-rules`): not named as if it had run.
    out.installed = out.installed.filter(|(_, n)| *n > 0);
    out
}

fn count(meta: &RuleMeta, installed: Option<&Installed>, own_dir: &Path, out: &mut Sources) {
    if meta.origin.starts_with("<bundled>/") {
        out.bundled += 1;
    } else if let (Some(i), Some((_, n))) = (installed, out.installed.as_mut())
        && i.holds(&meta.origin)
    {
        *n += 1;
    } else if Path::new(&meta.origin).starts_with(own_dir) {
        let file = Path::new(&meta.origin)
            .file_name()
            .map_or_else(|| meta.origin.clone(), |f| f.to_string_lossy().into_owned());
        out.own.push((meta.title.clone(), file));
    } else {
        out.given += 1;
    }
}

/// An installed rule replaced by a given rule of the same id is the user's choice, not a
/// conflict: it is left out without a warning, as otherwise passing upstream's folder with
/// `--rules` would warn about every rule. Upstream's non-Windows rules, which the loader
/// skips, are not listed either: the user did not choose them.
pub(super) fn quiet_installed(set: &mut RuleSet, installed: &Installed) {
    set.replaced
        .retain(|r| r.saved_edit || !installed.holds(&r.dropped));
    set.skipped.retain(|s| !installed.holds(&s.origin));
}
