//! Keys → actions, per screen. The help overlay and the hint line are generated from this
//! table, so they cannot drift from what the keys do.

use super::action::Action;
use super::app::{App, InputKind, Screen};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Global,
    Rules,
    Hits,
    Correlation,
    Detail,
    Tree,
    Stack,
    Overlays,
}

impl Scope {
    pub fn name(self) -> &'static str {
        match self {
            Scope::Global => "everywhere",
            Scope::Rules => "rules",
            Scope::Hits => "hits",
            Scope::Correlation => "correlation hits",
            Scope::Detail => "event detail",
            Scope::Tree => "process tree",
            Scope::Stack => "stack",
            Scope::Overlays => "overlays",
        }
    }
}

pub struct Binding {
    pub scope: Scope,
    pub keys: &'static [KeyCode],
    pub label: &'static str,
    pub action: fn() -> Action,
    pub help: &'static str,
    /// Shown in the hint line.
    pub hint: bool,
}

use KeyCode::{Backspace, Char, Down, End, Enter, Esc, Home, PageDown, PageUp, Up};

macro_rules! b {
    ($scope:ident, [$($k:expr),*], $label:expr, $action:expr, $help:expr, $hint:expr) => {
        Binding { scope: Scope::$scope, keys: &[$($k),*], label: $label, action: || $action, help: $help, hint: $hint }
    };
}

pub fn bindings() -> Vec<Binding> {
    vec![
        b!(Global, [Char('q')], "q", Action::Quit, "quit", true),
        b!(
            Global,
            [Char('?')],
            "?",
            Action::Help,
            "help (this list)",
            true
        ),
        b!(
            Global,
            [Char('j'), Down],
            "j/↓",
            Action::Down,
            "move down",
            false
        ),
        b!(Global, [Char('k'), Up], "k/↑", Action::Up, "move up", false),
        b!(
            Global,
            [PageDown, Char('d')],
            "PgDn",
            Action::PageDown,
            "page down",
            false
        ),
        b!(
            Global,
            [PageUp, Char('u')],
            "PgUp",
            Action::PageUp,
            "page up",
            false
        ),
        b!(
            Global,
            [Char('g'), Home],
            "g",
            Action::Top,
            "first row",
            false
        ),
        b!(
            Global,
            [Char('G'), End],
            "G",
            Action::Bottom,
            "last row",
            false
        ),
        b!(
            Global,
            [Backspace, Esc],
            "⌫",
            Action::Back,
            "back (pop pivot)",
            true
        ),
        b!(
            Global,
            [Char('/')],
            "/",
            Action::Search,
            "search all events",
            true
        ),
        b!(
            Global,
            [Char('O')],
            "O",
            Action::Overlays,
            "tuning overlays",
            false
        ),
        b!(
            Global,
            [Char('+')],
            "+",
            Action::WiderAround,
            "double the ±N min window",
            false
        ),
        b!(
            Global,
            [Char('-')],
            "-",
            Action::NarrowerAround,
            "halve the ±N min window",
            false
        ),
        b!(Rules, [Enter], "⏎", Action::Open, "hits of the rule", true),
        b!(
            Rules,
            [Char(' ')],
            "space",
            Action::ToggleRule,
            "enable/disable rule",
            true
        ),
        b!(
            Rules,
            [Char('a')],
            "a",
            Action::AllHits,
            "timeline of all enabled rules",
            true
        ),
        b!(
            Rules,
            [Char('s')],
            "s",
            Action::CycleSort,
            "sort by hits/level/title",
            true
        ),
        b!(
            Rules,
            [Char('l')],
            "l",
            Action::CycleLevel,
            "minimum level filter",
            false
        ),
        b!(
            Rules,
            [Char('f')],
            "f",
            Action::FilterRules,
            "filter by text or tag",
            true
        ),
        b!(
            Rules,
            [Char('e')],
            "e",
            Action::EditRule,
            "edit rule live",
            true
        ),
        b!(Hits, [Enter], "⏎", Action::Open, "event detail", true),
        b!(
            Correlation,
            [Enter],
            "⏎",
            Action::Open,
            "the events of this hit",
            true
        ),
        b!(
            Hits,
            [Char(' ')],
            "space",
            Action::ToggleRule,
            "disable the rule of this hit",
            false
        ),
        b!(
            Hits,
            [Char('p')],
            "p",
            Action::ProcTree,
            "process tree",
            true
        ),
        b!(
            Hits,
            [Char('t')],
            "t",
            Action::PivotAround,
            "same computer ±N min",
            true
        ),
        b!(
            Hits,
            [Char('e')],
            "e",
            Action::EditRule,
            "edit this rule",
            false
        ),
        b!(
            Hits,
            [Char('S')],
            "S",
            Action::SaveSearch,
            "save search as rule",
            false
        ),
        b!(
            Hits,
            [Char('x')],
            "x",
            Action::ExportCsv,
            "export CSV",
            false
        ),
        b!(
            Hits,
            [Char('X')],
            "X",
            Action::ExportJsonl,
            "export JSONL",
            false
        ),
        b!(
            Hits,
            [Char('Y')],
            "Y",
            Action::CopyEvent,
            "copy event JSON",
            false
        ),
        b!(
            Detail,
            [Char('v')],
            "v",
            Action::PivotValue,
            "events with this field=value",
            true
        ),
        b!(
            Detail,
            [Char('p')],
            "p",
            Action::ProcTree,
            "process tree",
            true
        ),
        b!(
            Detail,
            [Char('t')],
            "t",
            Action::PivotAround,
            "same computer ±N min",
            true
        ),
        b!(
            Detail,
            [Char('s')],
            "s",
            Action::StackField,
            "stack field over rule hits",
            true
        ),
        b!(
            Detail,
            [Char('b')],
            "b",
            Action::MarkBenign,
            "mark field=value benign",
            true
        ),
        b!(
            Detail,
            [Char('y')],
            "y",
            Action::CopyValue,
            "copy value",
            false
        ),
        b!(
            Detail,
            [Char('Y')],
            "Y",
            Action::CopyEvent,
            "copy event JSON",
            false
        ),
        b!(
            Tree,
            [Enter],
            "⏎",
            Action::Open,
            "everything this process did",
            true
        ),
        b!(
            Tree,
            [Char('p')],
            "p",
            Action::ProcTree,
            "re-root tree here",
            false
        ),
        b!(
            Stack,
            [Char('b')],
            "b",
            Action::MarkBenign,
            "mark value benign",
            true
        ),
        b!(
            Stack,
            [Enter],
            "⏎",
            Action::Open,
            "hits with this value",
            true
        ),
        b!(
            Overlays,
            [Char('D'), KeyCode::Delete],
            "D",
            Action::Delete,
            "remove overlay",
            true
        ),
    ]
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
        Some(Screen::Overlays { .. }) => Scope::Overlays,
        Some(Screen::Editor(_)) => Scope::Global,
    }
}

/// The action for a key: text inputs and the editor take raw keys first.
pub fn action_for(app: &App, key: KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == Char('c') {
        return Some(Action::Quit);
    }
    if app.input.is_some() || matches!(app.top(), Some(Screen::Editor(_))) {
        return Some(Action::Key(key));
    }
    if app.help {
        return Some(Action::Help);
    }
    let sc = scope(app);
    let table = bindings();
    let hit = |s: Scope| {
        table
            .iter()
            .find(|b| b.scope == s && b.keys.contains(&key.code))
            .map(|b| (b.action)())
    };
    hit(sc).or_else(|| hit(Scope::Global))
}

/// `key label` pairs for the hint line of the current screen.
pub fn hints(app: &App) -> Vec<(&'static str, &'static str)> {
    if let Some((kind, _)) = &app.input {
        let what = match kind {
            InputKind::Search => "run search",
            InputKind::RuleFilter => "apply filter",
            InputKind::SaveSearch => "save rule",
        };
        return vec![("⏎", what), ("Esc", "cancel")];
    }
    if matches!(app.top(), Some(Screen::Editor(_))) {
        return vec![("Ctrl-S", "save to user rules"), ("Esc", "close editor")];
    }
    let sc = scope(app);
    bindings()
        .into_iter()
        .filter(|b| b.hint && (b.scope == sc || b.scope == Scope::Global))
        .map(|b| (b.label, b.help))
        .collect()
}
