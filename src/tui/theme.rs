//! Themes: semantic style slots loaded from `themes/*.toml` (embedded, so an installed binary
//! has them) or from a file path. A file may set only some slots; the rest keep defaults.

use crate::sigma::Level;
use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::collections::HashMap;
use std::str::FromStr;

const DARK: &str = include_str!("../../themes/dark.toml");
const LIGHT: &str = include_str!("../../themes/light.toml");

#[derive(Deserialize, Default)]
struct StyleDef {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    crossed_out: bool,
}

#[derive(Deserialize)]
struct ThemeFile {
    #[serde(default)]
    styles: HashMap<String, StyleDef>,
}

#[derive(Clone, Debug, Default)]
pub struct Theme {
    styles: HashMap<String, Style>,
}

fn color(s: &str) -> anyhow::Result<Color> {
    Color::from_str(s).map_err(|_| anyhow::anyhow!("unknown colour {s:?}"))
}

impl Theme {
    fn parse(text: &str, base: Theme) -> anyhow::Result<Theme> {
        let file: ThemeFile = toml::from_str(text)?;
        let mut theme = base;
        for (name, d) in file.styles {
            let mut st = Style::default();
            if let Some(fg) = &d.fg {
                st = st.fg(color(fg)?);
            }
            if let Some(bg) = &d.bg {
                st = st.bg(color(bg)?);
            }
            if d.bold {
                st = st.add_modifier(Modifier::BOLD);
            }
            if d.crossed_out {
                st = st.add_modifier(Modifier::CROSSED_OUT);
            }
            theme.styles.insert(name, st);
        }
        Ok(theme)
    }

    /// `None` or `dark`: the dark theme; `light`; otherwise a path to a TOML file applied over
    /// the dark theme.
    pub fn load(name: Option<&str>) -> anyhow::Result<Theme> {
        let dark = Theme::parse(DARK, Theme::default())?;
        match name {
            None | Some("dark") => Ok(dark),
            Some("light") => Theme::parse(LIGHT, Theme::default()),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("theme {path}: {e} (built-in: dark, light)"))?;
                Theme::parse(&text, dark)
            }
        }
    }

    /// The style of a slot (unknown slots are unstyled).
    pub fn get(&self, slot: &str) -> Style {
        self.styles.get(slot).copied().unwrap_or_default()
    }

    pub fn level(&self, level: Level) -> Style {
        self.get(&format!("level_{level}"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn builtin_themes_load_and_partial_files_override() {
        assert!(
            Theme::load(Some("light"))
                .unwrap()
                .get("selected")
                .bg
                .is_some()
        );
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.toml");
        std::fs::write(&p, "[styles]\nerror = { fg = \"blue\" }\n").unwrap();
        let t = Theme::load(Some(p.to_str().unwrap())).unwrap();
        assert_eq!(t.get("error").fg, Some(Color::Blue));
        assert!(t.get("selected").bg.is_some());
        assert!(Theme::load(Some("/nonexistent.toml")).is_err());
    }
}
