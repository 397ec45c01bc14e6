//! Themes: named style slots loaded from `themes/*.toml` (embedded, so an installed binary
//! has them) or from a file path. A file may set only some slots; the rest keep defaults. A
//! slot is a field, so a misspelled slot in code does not compile, and one in a file is an
//! error naming the slots there are.

use crate::sigma::Level;
use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::str::FromStr;

const DARK: &str = include_str!("../../themes/dark.toml");
const LIGHT: &str = include_str!("../../themes/light.toml");

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct StyleDef {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    crossed_out: bool,
}

impl StyleDef {
    fn style(&self) -> anyhow::Result<Style> {
        let mut st = Style::default();
        if let Some(fg) = &self.fg {
            st = st.fg(color(fg)?);
        }
        if let Some(bg) = &self.bg {
            st = st.bg(color(bg)?);
        }
        if self.bold {
            st = st.add_modifier(Modifier::BOLD);
        }
        if self.crossed_out {
            st = st.add_modifier(Modifier::CROSSED_OUT);
        }
        Ok(st)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    #[serde(default)]
    styles: Slots,
}

/// The theme's slots, written once: the [`Theme`] fields and what a file may set.
macro_rules! slots {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// Every style the views draw with.
        #[derive(Clone, Debug, Default)]
        pub struct Theme {
            $($(#[$doc])* pub $name: Style,)*
        }

        /// The slots a theme file sets (the others keep the base theme's).
        #[derive(Deserialize, Default)]
        #[serde(deny_unknown_fields)]
        struct Slots {
            $(#[serde(default)] $name: Option<StyleDef>,)*
        }

        impl Theme {
            fn apply(&mut self, slots: &Slots) -> anyhow::Result<()> {
                $(if let Some(def) = &slots.$name {
                    self.$name = def.style().map_err(|e| {
                        anyhow::anyhow!("{}: {e}", stringify!($name))
                    })?;
                })*
                Ok(())
            }
        }

        #[cfg(test)]
        impl Slots {
            /// The slots left unset.
            fn missing(&self) -> Vec<&'static str> {
                let mut missing = Vec::new();
                $(if self.$name.is_none() {
                    missing.push(stringify!($name));
                })*
                missing
            }
        }
    };
}

slots! {
    /// Body text.
    base,
    /// Panel titles.
    title,
    /// Table headers and labels.
    header,
    /// The selected row.
    selected,
    /// Secondary text.
    dim,
    /// A matched value.
    matched,
    /// The name of a matched field.
    matched_field,
    error,
    /// The status line.
    status,
    /// Keys in the hint line.
    hint_key,
    /// Sparklines.
    spark,
    level_critical,
    level_high,
    level_medium,
    level_low,
    level_informational,
    /// A disabled rule.
    disabled,
    /// Marks (hits, tree nodes of interest).
    mark,
}

fn color(s: &str) -> anyhow::Result<Color> {
    Color::from_str(s).map_err(|_| anyhow::anyhow!("unknown colour {s:?}"))
}

impl Theme {
    fn parse(text: &str, base: Theme) -> anyhow::Result<Theme> {
        let file: ThemeFile = toml::from_str(text)?;
        let mut theme = base;
        theme.apply(&file.styles)?;
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
                Theme::parse(&text, dark).map_err(|e| anyhow::anyhow!("theme {path}: {e}"))
            }
        }
    }

    pub fn level(&self, level: Level) -> Style {
        match level {
            Level::Informational => self.level_informational,
            Level::Low => self.level_low,
            Level::Medium => self.level_medium,
            Level::High => self.level_high,
            Level::Critical => self.level_critical,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn builtin_themes_load_and_partial_files_override() {
        assert!(Theme::load(Some("light")).unwrap().selected.bg.is_some());
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.toml");
        std::fs::write(&p, "[styles]\nerror = { fg = \"blue\" }\n").unwrap();
        let t = Theme::load(Some(p.to_str().unwrap())).unwrap();
        assert_eq!(t.error.fg, Some(Color::Blue));
        assert!(t.selected.bg.is_some());
        assert!(Theme::load(Some("/nonexistent.toml")).is_err());
    }

    /// Every slot of the built-in themes is set: a slot missing from a file draws unstyled.
    #[test]
    fn builtin_themes_set_every_slot() {
        for text in [DARK, LIGHT] {
            let file: ThemeFile = toml::from_str(text).unwrap();
            assert_eq!(file.styles.missing(), Vec::<&str>::new(), "{text}");
        }
    }

    #[test]
    fn a_misspelled_slot_in_a_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.toml");
        std::fs::write(&p, "[styles]\nselectd = { bg = \"blue\" }\n").unwrap();
        let err = Theme::load(Some(p.to_str().unwrap()))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("selectd") && err.contains("selected"), "{err}");
        std::fs::write(&p, "[styles]\nerror = { fg = \"blue\", bolt = true }\n").unwrap();
        let err = Theme::load(Some(p.to_str().unwrap())).err().unwrap();
        assert!(err.to_string().contains("bolt"), "{err}");
    }
}
