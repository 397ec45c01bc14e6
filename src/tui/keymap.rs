//! Keys → actions, per screen. The help overlay and the hint line are generated from the
//! effective [`Keymap`] (defaults plus the user's `keymap.toml`), so they cannot drift from
//! what the keys do.
//!
//! `keymap.toml` in the config directory has one table per screen (`[global]`, `[rules]`,
//! `[hits]`, `[correlation]`, `[detail]`, `[tree]`, `[stack]`, `[lateral]`, `[overlays]`, `[editor]`,
//! `[bookmarks]`, `[summary]`) mapping an action
//! name to a key or a list of keys: `proc_tree = "P"`, `down = ["j", "down", "ctrl-n"]`.
//! A bad entry is reported (file, line, reason) and skipped; the rest still applies.

use super::action::Action;
use super::app::{App, InputKind, Screen};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Global,
    Rules,
    Hits,
    Correlation,
    Detail,
    Tree,
    Stack,
    /// The lateral-movement edges and an edge's sessions.
    Lateral,
    Overlays,
    /// The rule editor (and the case note's): every key not bound here is typed into the
    /// buffer.
    Editor,
    Bookmarks,
    /// The hosts and users summary.
    Summary,
}

impl Scope {
    pub const ALL: [Scope; 12] = [
        Scope::Global,
        Scope::Rules,
        Scope::Hits,
        Scope::Correlation,
        Scope::Detail,
        Scope::Tree,
        Scope::Stack,
        Scope::Lateral,
        Scope::Overlays,
        Scope::Editor,
        Scope::Bookmarks,
        Scope::Summary,
    ];

    /// The heading in the help overlay.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Global => "everywhere",
            Scope::Rules => "rules",
            Scope::Hits => "hits",
            Scope::Correlation => "correlation hits",
            Scope::Detail => "event detail",
            Scope::Tree => "process tree",
            Scope::Stack => "stack",
            Scope::Lateral => "lateral movement",
            Scope::Overlays => "overlays",
            Scope::Editor => "rule editor",
            Scope::Bookmarks => "bookmarks",
            Scope::Summary => "hosts and users",
        }
    }

    /// The table name in `keymap.toml`.
    pub fn section(self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::Rules => "rules",
            Scope::Hits => "hits",
            Scope::Correlation => "correlation",
            Scope::Detail => "detail",
            Scope::Tree => "tree",
            Scope::Stack => "stack",
            Scope::Lateral => "lateral",
            Scope::Overlays => "overlays",
            Scope::Editor => "editor",
            Scope::Bookmarks => "bookmarks",
            Scope::Summary => "summary",
        }
    }
}

/// A key with the modifiers that distinguish bindings (Shift is part of the character).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    fn of(ev: KeyEvent) -> Key {
        Key {
            code: ev.code,
            mods: ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT),
        }
    }

    /// Parses `q`, `G`, `?`, `enter`, `pagedown`, `f5`, `ctrl-n`, `alt-x`.
    pub fn parse(spec: &str) -> Result<Key, String> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = spec;
        loop {
            let lower = rest.to_ascii_lowercase();
            if rest.len() > 1 && lower.starts_with("ctrl-") {
                mods |= KeyModifiers::CONTROL;
                rest = &rest[5..];
            } else if rest.len() > 1 && lower.starts_with("alt-") {
                mods |= KeyModifiers::ALT;
                rest = &rest[4..];
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCode::Char(c),
            _ => {
                named(&rest.to_ascii_lowercase()).ok_or_else(|| format!("unknown key `{spec}`"))?
            }
        };
        Ok(Key { code, mods })
    }

    /// How the help and the hint line show the key.
    pub fn label(self) -> String {
        let ctrl = self.mods.contains(KeyModifiers::CONTROL);
        let base = match self.code {
            KeyCode::Char(' ') => "space".to_owned(),
            // Terminals send Ctrl with a letter in one case; it is written in capitals.
            KeyCode::Char(c) if ctrl => c.to_ascii_uppercase().to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "⏎".into(),
            KeyCode::Backspace => "⌫".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Delete => "Del".into(),
            KeyCode::F(n) => format!("F{n}"),
            other => format!("{other:?}"),
        };
        let ctrl = if ctrl { "Ctrl-" } else { "" };
        let alt = if self.mods.contains(KeyModifiers::ALT) {
            "Alt-"
        } else {
            ""
        };
        format!("{ctrl}{alt}{base}")
    }
}

fn named(name: &str) -> Option<KeyCode> {
    Some(match name {
        "enter" | "return" => KeyCode::Enter,
        "esc" | "escape" => KeyCode::Esc,
        "backspace" => KeyCode::Backspace,
        "space" => KeyCode::Char(' '),
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "pageup" | "pgup" => KeyCode::PageUp,
        "pagedown" | "pgdn" => KeyCode::PageDown,
        "delete" | "del" => KeyCode::Delete,
        "insert" | "ins" => KeyCode::Insert,
        f => KeyCode::F(
            f.strip_prefix('f')?
                .parse()
                .ok()
                .filter(|n| (1..=12).contains(n))?,
        ),
    })
}

/// What an action is called in `keymap.toml`: its variant name in snake case.
pub fn action_name(action: &Action) -> String {
    let mut out = String::new();
    for (i, c) in format!("{action:?}").chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

pub struct Binding {
    pub scope: Scope,
    pub name: String,
    pub action: Action,
    pub keys: Vec<Key>,
    pub help: &'static str,
    /// Shown in the hint line.
    pub hint: bool,
}

impl Binding {
    /// Every key, for the help overlay (`j/↓`).
    pub fn label(&self) -> String {
        let keys: Vec<String> = self.keys.iter().map(|k| k.label()).collect();
        keys.join("/")
    }
}

/// The effective bindings, and what was wrong with the user's file.
pub struct Keymap {
    pub bindings: Vec<Binding>,
    /// `file:line: reason` per rejected entry.
    pub problems: Vec<String>,
}

impl Default for Keymap {
    fn default() -> Keymap {
        let bindings = defaults()
            .into_iter()
            .map(|(scope, action, keys, help, hint)| Binding {
                scope,
                name: action_name(&action),
                action,
                keys: keys.split(' ').filter_map(|k| Key::parse(k).ok()).collect(),
                help,
                hint,
            })
            .collect();
        Keymap {
            bindings,
            problems: Vec::new(),
        }
    }
}

impl Keymap {
    /// The defaults with `<dir>/keymap.toml` applied, when there is one.
    pub fn load(dir: &Path) -> Keymap {
        let path = dir.join("keymap.toml");
        match std::fs::read_to_string(&path) {
            Ok(text) => Keymap::parse(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Keymap::default(),
            Err(e) => Keymap {
                problems: vec![format!("{}: cannot read: {e}", path.display())],
                ..Keymap::default()
            },
        }
    }

    /// The defaults with the overrides in `text` (named `file` in problems).
    pub fn parse(text: &str, file: &str) -> Keymap {
        let mut km = Keymap::default();
        let table: toml::Table = match text.parse() {
            Ok(t) => t,
            Err(e) => {
                let line = e.span().map_or(1, |s| line_of(text, s.start));
                let reason = e.message().trim().to_owned();
                km.problems.push(format!("{file}:{line}: {reason}"));
                return km;
            }
        };
        // (line, reason), reported in file order (tables iterate sorted by name).
        let mut found: Vec<(usize, String)> = Vec::new();
        for (section, entries) in &table {
            let at = |key: Option<&str>| entry_line(text, section, key);
            let Some(scope) = Scope::ALL.into_iter().find(|s| s.section() == section) else {
                let known: Vec<&str> = Scope::ALL.iter().map(|s| s.section()).collect();
                let reason = format!("unknown table [{section}] (one of {})", known.join(", "));
                found.push((at(None), reason));
                continue;
            };
            let Some(entries) = entries.as_table() else {
                found.push((at(None), format!("`{section}` must be a table [{section}]")));
                continue;
            };
            for (name, value) in entries {
                if let Err(reason) = km.rebind(scope, name, value) {
                    found.push((at(Some(name)), reason));
                }
            }
        }
        found.sort();
        km.problems = found
            .into_iter()
            .map(|(line, reason)| format!("{file}:{line}: {reason}"))
            .collect();
        km
    }

    /// Gives action `name` of `scope` the keys in `value`; a key another action of the scope
    /// has is an error (the entry is skipped, so no binding silently loses its key).
    fn rebind(&mut self, scope: Scope, name: &str, value: &toml::Value) -> Result<(), String> {
        let section = scope.section();
        let specs: Vec<&str> = match value {
            toml::Value::String(s) => vec![s.as_str()],
            toml::Value::Array(a) => a.iter().filter_map(toml::Value::as_str).collect(),
            _ => Vec::new(),
        };
        if specs.is_empty() || matches!(value, toml::Value::Array(a) if a.len() != specs.len()) {
            return Err(format!("`{name}` needs a key or a list of keys"));
        }
        let keys = specs
            .iter()
            .map(|s| Key::parse(s))
            .collect::<Result<Vec<Key>, String>>()?;
        let Some(i) = self
            .bindings
            .iter()
            .position(|b| b.scope == scope && b.name == name)
        else {
            let names: Vec<&str> = self
                .bindings
                .iter()
                .filter(|b| b.scope == scope)
                .map(|b| b.name.as_str())
                .collect();
            return Err(format!(
                "no action `{name}` in [{section}] (one of {})",
                names.join(", ")
            ));
        };
        for k in &keys {
            if let Some(other) = self
                .bindings
                .iter()
                .enumerate()
                .find(|(j, b)| *j != i && b.scope == scope && b.keys.contains(k))
            {
                return Err(format!(
                    "`{}` is already {} in [{section}]",
                    k.label(),
                    other.1.name
                ));
            }
        }
        self.bindings[i].keys = keys;
        Ok(())
    }

    /// The action for a key: text inputs and the editor take raw keys first.
    pub fn action_for(&self, app: &App, key: KeyEvent) -> Option<Action> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && key.code == KeyCode::Char('c') {
            return Some(Action::Quit);
        }
        if app.input.is_some() {
            return Some(Action::Key(key));
        }
        if matches!(app.top(), Some(Screen::Editor(_) | Screen::Note(_))) {
            // Only the editor's own bindings: every other key is text.
            let k = Key::of(key);
            let bound =
                (self.bindings.iter()).find(|b| b.scope == Scope::Editor && b.keys.contains(&k));
            return Some(bound.map_or(Action::Key(key), |b| b.action.clone()));
        }
        let key = Key::of(key);
        if app.help {
            // Movement keys scroll the help; any other key closes it.
            let moves = (self.bindings.iter())
                .filter(|b| b.scope == Scope::Global && b.keys.contains(&key))
                .map(|b| b.action.clone())
                .find(|a| {
                    matches!(
                        a,
                        Action::Down | Action::Up | Action::PageDown | Action::PageUp
                    )
                });
            return Some(moves.unwrap_or(Action::Help));
        }
        let hit = |s: Scope| {
            self.bindings
                .iter()
                .find(|b| b.scope == s && b.keys.contains(&key))
                .map(|b| b.action.clone())
        };
        hit(scope(app)).or_else(|| hit(Scope::Global))
    }

    /// The label of the first key bound to `action` (on any screen), for messages.
    pub fn key_of(&self, action: &Action) -> String {
        self.label_where(action, |_| true)
    }

    /// The label of the first key bound to `action` on one screen (the editor's `back` is
    /// Esc, the global one ⌫).
    pub fn key_in(&self, scope: Scope, action: &Action) -> String {
        self.label_where(action, |s| s == scope)
    }

    fn label_where(&self, action: &Action, scope: impl Fn(Scope) -> bool) -> String {
        let name = action_name(action);
        self.bindings
            .iter()
            .find(|b| b.name == name && scope(b.scope))
            .and_then(|b| b.keys.first())
            .map_or_else(|| "?".into(), |k| k.label())
    }

    /// `key label` pairs for the hint line of the current screen (first key of each).
    pub fn hints(&self, app: &App) -> Vec<(String, &'static str)> {
        if let Some((kind, _)) = &app.input {
            let what = match kind {
                InputKind::Search => "run search",
                InputKind::RuleFilter => "apply filter",
                InputKind::SaveSearch => "next: its level",
                InputKind::SaveLevel => "save rule",
                InputKind::FindField => "go to the (next) field",
                InputKind::FilterList => "narrow this list",
                InputKind::StackFields => "stack",
                InputKind::BookmarkNote => "save bookmark (#word: a tag)",
            };
            return vec![("⏎".into(), what), ("Esc".into(), "cancel")];
        }
        if let Some(Screen::Note(_)) = app.top() {
            let key = |a: &Action| self.key_in(Scope::Editor, a);
            return vec![
                (key(&Action::SaveEdit), "save the case note"),
                (key(&Action::Back), "save and close"),
            ];
        }
        if let Some(Screen::Editor(ed)) = app.top() {
            return (self.bindings.iter())
                .filter(|b| b.scope == Scope::Editor)
                .filter_map(|b| {
                    let help = match b.action {
                        Action::Back if ed.discard_asked => "discard changes",
                        Action::Back => "close editor",
                        _ => b.help,
                    };
                    Some((b.keys.first()?.label(), help))
                })
                .collect();
        }
        let sc = scope(app);
        self.bindings
            .iter()
            .filter(|b| b.hint && (b.scope == sc || b.scope == Scope::Global))
            .filter_map(|b| Some((b.keys.first()?.label(), b.help)))
            .collect()
    }
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(1, |t| t.matches('\n').count() + 1)
}

/// The line of `[section]` (`key` = None) or of `key = …` inside it (1 when not found).
fn entry_line(text: &str, section: &str, key: Option<&str>) -> usize {
    let mut current = String::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
            current = name.trim().trim_matches('"').to_owned();
            if key.is_none() && current == section {
                return n + 1;
            }
        } else if current == section
            && let Some(k) = key
            && let Some((lhs, _)) = line.split_once('=')
            && lhs.trim().trim_matches('"') == k
        {
            return n + 1;
        }
    }
    1
}

/// The scope of the screen on top.
pub fn scope(app: &App) -> Scope {
    match app.top() {
        None => Scope::Rules,
        Some(Screen::Hits(_)) => Scope::Hits,
        Some(Screen::Correlation(_)) => Scope::Correlation,
        Some(Screen::Detail(_)) => Scope::Detail,
        Some(Screen::Tree(_)) => Scope::Tree,
        Some(Screen::Stack(_)) => Scope::Stack,
        Some(Screen::Lateral(_) | Screen::Sessions(_)) => Scope::Lateral,
        Some(Screen::Overlays { .. }) => Scope::Overlays,
        Some(Screen::Problems { .. }) => Scope::Global,
        Some(Screen::Editor(_) | Screen::Note(_)) => Scope::Editor,
        Some(Screen::Bookmarks { .. }) => Scope::Bookmarks,
        Some(Screen::Summary(_)) => Scope::Summary,
    }
}

mod defaults;
use defaults::defaults;

#[cfg(test)]
mod tests;
