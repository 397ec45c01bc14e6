//! Tuning overlays: local exclusions kept *beside* the rules, never written into them, so an
//! upstream rule update does not lose them.
//!
//! Each overlay is one Sigma filter document in `<case>/overlays/*.yml`, keyed by rule id:
//! `filter: {rules: [id], benign: {Field: value}, condition: not benign}`. The loader applies
//! filters found with the rules (pySigma semantics), so `scan` and the TUI only need to pass
//! these texts along with the rule files.

use crate::sigma::RuleMeta;
use std::path::{Path, PathBuf};

/// The overlay directory of a case.
pub fn overlay_dir(case_dir: &Path) -> PathBuf {
    case_dir.join("overlays")
}

/// An overlay file as read once: its text (what the rule loader applies) and what it
/// excludes (what the workbench lists).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overlay {
    pub path: PathBuf,
    pub text: String,
    pub excludes: Excludes,
}

/// What an overlay excludes, as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Excludes {
    /// One [`exclusion_yaml`] wrote: the rule's title, the field and the value as the event
    /// shows it.
    Value {
        rule: String,
        field: String,
        value: String,
    },
    /// Any other shape: its criteria as written, on one line.
    Criteria(String),
}

impl Overlay {
    pub fn new(path: PathBuf, text: String) -> Overlay {
        let excludes = match describe(&text) {
            Some((rule, field, value)) => Excludes::Value { rule, field, value },
            None => Excludes::Criteria(
                (text.lines())
                    .filter(|l| l.starts_with("        ") && l.contains(':'))
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        };
        Overlay {
            path,
            text,
            excludes,
        }
    }
}

/// Every overlay file under `<dir>/overlays` (a case directory, or the user config directory
/// for overlays shared by all cases), sorted by path; unreadable files are skipped (they are
/// the user's files, and a missing directory simply means no overlays).
pub fn load_overlays(case_dir: &Path) -> Vec<Overlay> {
    let Ok(entries) = std::fs::read_dir(overlay_dir(case_dir)) else {
        return Vec::new();
    };
    let mut out: Vec<(PathBuf, String)> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .filter_map(|p| std::fs::read_to_string(&p).ok().map(|t| (p, t)))
        .collect();
    out.sort();
    out.into_iter().map(|(p, t)| Overlay::new(p, t)).collect()
}

/// The overlays of a case (if any), then the user's, which apply to every case.
pub fn load_all(case_dir: Option<&Path>, config_dir: &Path) -> Vec<Overlay> {
    let mut overlays = case_dir.map(load_overlays).unwrap_or_default();
    overlays.extend(load_overlays(config_dir));
    overlays
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "''".into())
}

/// A Sigma value matching `value` literally: every backslash, `*` and `?` escaped.
fn sigma_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 4);
    for c in value.chars() {
        if matches!(c, '\\' | '*' | '?') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// How a filter names the rule: its id, else its name (what `Filter::applies_to` matches).
fn rule_key(rule: &RuleMeta) -> Option<&str> {
    rule.id.as_deref().or(rule.name.as_deref())
}

/// The filter document excluding `field = value` from the rule; `None` when the rule has
/// neither id nor name, as a filter naming it any other way would never apply.
pub fn exclusion_yaml(rule: &RuleMeta, field: &str, value: &str) -> Option<String> {
    let key = rule_key(rule)?;
    let mut y = format!(
        "title: {}\nlogsource:\n",
        quoted(&format!("benign for {}", rule.title))
    );
    let ls = &rule.logsource;
    for (k, v) in [
        ("product", &ls.product),
        ("category", &ls.category),
        ("service", &ls.service),
    ] {
        if let Some(v) = v {
            y.push_str(&format!("    {k}: {}\n", quoted(v)));
        }
    }
    // The field name is quoted too: log field names are attacker-controlled (`[x]` would be
    // a YAML list; a name with `|` is refused by `field_problem`).
    y.push_str(&format!(
        "filter:\n    rules:\n        - {}\n    benign:\n        {}: {}\n    condition: not benign\n",
        quoted(key),
        quoted(field),
        quoted(&sigma_literal(value)),
    ));
    Some(y)
}

/// What an overlay written by [`exclusion_yaml`] excludes, for listing: the rule's title, the
/// field and the value as the event shows it. `None` for overlays of another shape.
fn describe(text: &str) -> Option<(String, String, String)> {
    let unquote = |s: &str| serde_json::from_str::<String>(s.trim()).ok();
    let title = text.lines().find_map(|l| l.strip_prefix("title: "))?;
    let rule = unquote(title)?.strip_prefix("benign for ")?.to_owned();
    let mut lines = text.lines().skip_while(|l| l.trim() != "benign:").skip(1);
    let line = lines.next()?.trim();
    let (field, value) = if line.starts_with('"') {
        let mut de = serde_json::Deserializer::from_str(line).into_iter::<String>();
        let field = de.next()?.ok()?;
        (field, line.get(de.byte_offset()..)?.strip_prefix(": ")?)
    } else {
        // Overlays written before field names were quoted.
        let (field, value) = line.split_once(": ")?;
        (field.to_owned(), value)
    };
    let value = crate::sigma::value::SigmaString::parse(&unquote(value)?);
    Some((rule, field, value.plain()?))
}

/// Why `field` cannot be named in an exclusion: Sigma reads `|` in a field name as the start
/// of its modifiers, so `CommandLine|contains` (a name a log can hold) would exclude far more.
pub fn field_problem(field: &str) -> Option<String> {
    if field.is_empty() {
        return Some("an empty field name cannot be excluded".into());
    }
    field.contains('|').then(|| {
        format!(
            "field `{field}` holds `|`, which Sigma reads as a modifier: an overlay cannot name it"
        )
    })
}

/// Writes a new overlay file for the exclusion and returns it.
pub fn add_exclusion(
    case_dir: &Path,
    rule: &RuleMeta,
    field: &str,
    value: &str,
) -> std::io::Result<Overlay> {
    if let Some(why) = field_problem(field) {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, why));
    }
    let yaml = exclusion_yaml(rule, field, value).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "rule \"{}\" has no id or name for an overlay to name it by; give it an `id:`",
                rule.title
            ),
        )
    })?;
    let dir = overlay_dir(case_dir);
    std::fs::create_dir_all(&dir)?;
    let key: String = rule_key(rule)
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    let mut n = 1;
    let path = loop {
        let p = dir.join(format!("{key}-{n}.yml"));
        if !p.exists() {
            break p;
        }
        n += 1;
    };
    std::fs::write(&path, &yaml)?;
    Ok(Overlay::new(path, yaml))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_overlay_lists_as_its_rule_field_and_value() {
        let meta = RuleMeta {
            id: Some("r-1".into()),
            title: "WMI \"child\"".into(),
            ..RuleMeta::default()
        };
        let value = r"C:\Windows\System32\wbem\WMIADAP.exe *?";
        let text = exclusion_yaml(&meta, "Image", value).unwrap();
        let (rule, field, shown) = describe(&text).unwrap();
        assert_eq!((rule.as_str(), field.as_str()), ("WMI \"child\"", "Image"));
        assert_eq!(shown, value);
        assert!(describe("title: mine\nfilter:\n    x: 1\n").is_none());
        let other = Overlay::new(
            "o.yml".into(),
            "title: mine\nfilter:\n    sel:\n        x: 1\n".into(),
        );
        assert_eq!(other.excludes, Excludes::Criteria("x: 1".into()));
    }
    use crate::sigma::Loader;

    const RULE: &str = "title: T\nid: r-1\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    sel:\n        Image|endswith: '.exe'\n    condition: sel\nlevel: low\n";

    #[test]
    fn exclusion_overlay_removes_only_that_value() {
        let set = Loader::new().unwrap().load_str(RULE, "r.yml");
        let meta = &set.rules[0].meta;
        let dir = tempfile::tempdir().unwrap();
        let written = add_exclusion(dir.path(), meta, "Image", "C:\\a*b.exe").unwrap();
        assert!(written.path.starts_with(dir.path().join("overlays")));
        let overlays = load_overlays(dir.path());
        assert_eq!(overlays, [written], "read back as written");
        let texts = [("r.yml", RULE), ("o.yml", overlays[0].text.as_str())];
        let set = Loader::new().unwrap().load_texts(texts);
        assert!(set.errors.is_empty(), "{:?}", set.errors);
        let rule = &set.rules[0];
        assert!(!rule.is_match(&process("C:\\a*b.exe")));
        assert!(rule.is_match(&process("C:\\aXb.exe")));
    }

    fn process(img: &str) -> crate::event::Event {
        let mut e = crate::event::Event::default();
        e.push("EventID", crate::event::Value::Str("1".into()));
        e.push(
            "Channel",
            crate::event::Value::Str("Microsoft-Windows-Sysmon/Operational".into()),
        );
        e.push("Image", crate::event::Value::Str(img.into()));
        e
    }

    /// A rule saved from a search carries an id, so an overlay for it names it and applies.
    #[test]
    fn an_overlay_for_a_saved_search_applies() {
        let saved = crate::query::parse("Image=*.exe")
            .unwrap()
            .to_sigma_yaml("exes", crate::sigma::Level::Medium);
        let set = Loader::new().unwrap().load_str(&saved, "search-x.yml");
        let meta = &set.rules[0].meta;
        let dir = tempfile::tempdir().unwrap();
        add_exclusion(dir.path(), meta, "Image", "C:\\noisy.exe").unwrap();
        let overlays = load_overlays(dir.path());
        let texts = [
            ("search-x.yml", saved.as_str()),
            ("o.yml", &overlays[0].text),
        ];
        let set = Loader::new().unwrap().load_texts(texts);
        assert!(set.errors.is_empty(), "{:?}", set.errors);
        assert_eq!(set.filters.len(), 1);
        assert!(set.filters[0].applies_to(&set.rules[0].meta));
        assert!(!set.rules[0].is_match(&process("C:\\noisy.exe")));
        assert!(set.rules[0].is_match(&process("C:\\other.exe")));
    }

    /// Log field names are attacker-controlled: one that YAML would read as something else
    /// stays a plain field, and one with Sigma's modifier separator is refused.
    #[test]
    fn hostile_field_names_cannot_turn_an_overlay_into_something_else() {
        let set = Loader::new().unwrap().load_str(RULE, "r.yml");
        let meta = &set.rules[0].meta;
        let dir = tempfile::tempdir().unwrap();
        let err = add_exclusion(dir.path(), meta, "Image|contains", "exe").unwrap_err();
        assert!(err.to_string().contains("modifier"), "{err}");
        assert!(load_overlays(dir.path()).is_empty());
        add_exclusion(dir.path(), meta, "[x]: y", "bracket").unwrap();
        let overlays = load_overlays(dir.path());
        let texts = [("r.yml", RULE), ("o.yml", overlays[0].text.as_str())];
        let set = Loader::new().unwrap().load_texts(texts);
        assert!(set.errors.is_empty(), "{:?}", set.errors);
        let mut odd = process("C:\\a.exe");
        assert!(
            set.rules[0].is_match(&odd),
            "the rule still loads and matches"
        );
        odd.push("[x]: y", crate::event::Value::Str("bracket".into()));
        assert!(
            !set.rules[0].is_match(&odd),
            "and excludes exactly that field"
        );
        let Excludes::Value { field, value, .. } = &overlays[0].excludes else {
            panic!("{:?}", overlays[0].excludes)
        };
        assert_eq!((field.as_str(), value.as_str()), ("[x]: y", "bracket"));
    }

    /// An overlay is never written for a rule it could not name (it would never apply).
    #[test]
    fn no_overlay_for_a_rule_without_id_or_name() {
        let anonymous = RULE.replace("id: r-1\n", "");
        let set = Loader::new().unwrap().load_str(&anonymous, "r.yml");
        let meta = &set.rules[0].meta;
        assert!(exclusion_yaml(meta, "Image", "a.exe").is_none());
        let dir = tempfile::tempdir().unwrap();
        let err = add_exclusion(dir.path(), meta, "Image", "a.exe").unwrap_err();
        assert!(err.to_string().contains("no id or name"), "{err}");
        assert!(load_overlays(dir.path()).is_empty());
    }
}
