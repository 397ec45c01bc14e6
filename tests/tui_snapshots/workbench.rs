//! Correlation hits, rules that only feed a correlation, the editor on a correlation rule,
//! cross-source stacking and tuning, saved searches, and keymap overrides.

use super::support::{chord, fixture_with, manifest_dir};
use huntbench::tui::action::Action;
use huntbench::tui::app::Screen;

#[test]
fn correlation_hits_open_to_their_events_and_on_to_detail() {
    let burst = manifest_dir().join("tests/fixtures/tui/wmi_burst.yml");
    let mut fx = fixture_with(|o| o.rule_paths = vec![burst]);
    assert_eq!(fx.app.correlations.len(), 1);
    let n = fx.app.correlations[0].hits.len();
    assert!(n >= 2, "{n} correlation hits");
    fx.select_rule("Burst of processes");
    snap!("correlation_rules", fx);
    fx.send(Action::Open);
    let Some(Screen::Correlation(_)) = fx.app.top() else {
        panic!("correlation hits")
    };
    snap!("correlation_hits", fx);
    fx.send(Action::Open);
    let Some(Screen::Hits(h)) = fx.app.top() else {
        panic!("contributing events")
    };
    let first = &fx.app.correlations[0].hits[0];
    assert_eq!(h.rows.len(), first.keys.len());
    assert!(h.rows.iter().all(|r| r.rule.is_some()));
    snap!("correlation_events", fx);
    fx.send(Action::Open);
    let Some(Screen::Detail(d)) = fx.app.top() else {
        panic!("detail")
    };
    assert!(d.matched.is_some(), "explained against the base rule");
    // Pivots work from there as from any hit.
    fx.send(Action::PivotAround);
    let Some(Screen::Hits(h)) = fx.app.top() else {
        panic!("around: {:?}", fx.app.message)
    };
    assert!(h.title.contains("±5 min"));
}

/// Moves the detail cursor to field `name`.
fn select_field(fx: &mut super::support::Fixture, name: &str) {
    let Some(Screen::Detail(d)) = fx.app.top() else {
        panic!("detail")
    };
    let fields = &d.event.as_ref().unwrap().fields;
    let pos = fields.iter().position(|(n, _)| n == name).unwrap();
    let delta = pos as i64 - d.sel as i64;
    for _ in 0..delta.unsigned_abs() {
        fx.send(if delta < 0 { Action::Up } else { Action::Down });
    }
}

#[test]
fn stacking_and_benign_use_the_sigma_name_across_sysmon_and_4688() {
    let dir = manifest_dir().join("tests/fixtures/tui");
    let mut fx = fixture_with(|o| {
        o.inputs = vec![dir.join("cross_source.jsonl")];
        o.rule_paths = vec![dir.join("rundll32.yml")];
        o.no_default_rules = true;
    });
    assert_eq!(fx.app.rules[0].hits.len(), 3);
    fx.send(Action::Open);
    // The 4688 hit: its NewProcessName is the rule's Image.
    fx.send(Action::Down);
    fx.send(Action::Open);
    select_field(&mut fx, "NewProcessName");
    fx.send(Action::StackField);
    let Some(Screen::Stack(s)) = fx.app.top() else {
        panic!("stack: {:?}", fx.app.message)
    };
    assert_eq!(s.field, "Image");
    let system32 = "C:\\Windows\\System32\\rundll32.exe".to_owned();
    assert_eq!(
        s.values,
        [(system32, 2), ("C:\\Users\\Public\\rundll32.exe".into(), 1)],
        "one Sysmon and one 4688 event stack together"
    );
    snap!("cross_source_stack", fx);
    // The hits with that value come from both sources.
    fx.send(Action::Open);
    let Some(Screen::Hits(h)) = fx.app.top() else {
        panic!("hits with the value: {:?}", fx.app.message)
    };
    assert_eq!(h.rows.len(), 2);
    fx.send(Action::Back);
    fx.send(Action::Back);
    // An overlay file put there behind the workbench's back is read at the next load, not by a
    // benign mark, which changes the overlays the workbench holds.
    let elsewhere = huntbench::overlay::overlay_dir(&fx.app.case_dir).join("zz-other.yml");
    std::fs::create_dir_all(elsewhere.parent().unwrap()).unwrap();
    std::fs::write(
        &elsewhere,
        "title: other\nfilter:\n    rules: [x]\n    sel:\n        A: b\n    condition: not sel\n",
    )
    .unwrap();
    // Marked benign on the 4688 field, the overlay names Image and removes both.
    fx.send(Action::MarkBenign);
    let overlays = &fx.app.overlays;
    assert_eq!(overlays.len(), 1, "{overlays:?}");
    assert_eq!(
        huntbench::overlay::load_overlays(&fx.app.case_dir)[0],
        overlays[0]
    );
    assert!(
        overlays[0].text.contains("\"Image\": "),
        "{}",
        overlays[0].text
    );
    assert!(!overlays[0].text.contains("NewProcessName"));
    assert_eq!(fx.app.rules[0].hits.len(), 1, "{:?}", fx.app.message);
}

#[test]
fn keymap_overrides_show_in_help_and_bad_entries_in_the_status_line() {
    use huntbench::tui::action::Msg;
    use huntbench::tui::keymap::Keymap;
    let mut fx = super::support::fixture();
    let text = "[detail]\nproc_tree = \"P\"\n\n[hits]\nteleport = \"z\"\n";
    let km = Keymap::parse(text, "config/keymap.toml");
    fx.send(Action::Worker(Box::new(Msg::Keymap(std::sync::Arc::new(
        km,
    )))));
    let status = fx.screen();
    assert!(
        status.contains("keymap: config/keymap.toml:5: no action `teleport` in [hits]"),
        "{status}"
    );
    fx.send(Action::Help);
    let help = fx.screen();
    assert!(help.contains("P       process tree"), "{help}");
    snap!("keymap_help", fx);
}

#[test]
fn a_rule_that_only_feeds_a_correlation_is_listed_apart_from_alerts() {
    let burst = manifest_dir().join("tests/fixtures/tui/wmi_burst.yml");
    let mut fx = fixture_with(|o| o.rule_paths = vec![burst.clone()]);
    // `generate` is not set, so the WMI child rule only feeds the burst correlation.
    let wmi = fx
        .app
        .rules
        .iter()
        .position(|r| r.rule.meta.title.contains("WMI Provider Host"))
        .unwrap();
    assert_eq!(fx.app.rules[wmi].feeds, [0]);
    let fed = fx.app.rules[wmi].hits.len();
    let all: usize = fx.app.rules.iter().map(|r| r.hits.len()).sum();
    assert_eq!(fx.app.total_hits(), all - fed);
    let screen = fx.screen();
    let row = screen
        .lines()
        .find(|l| l.contains("Process Started by the WMI Provider Host"))
        .unwrap();
    assert!(
        row.contains(&format!("({fed})")) && row.contains("↳ Burst"),
        "{row}"
    );
    assert!(
        screen.contains(&format!("{} hits (+{fed} only feeding", all - fed)),
        "{screen}"
    );
    // Not on the timeline of alerts, but its own hits still open, with a note.
    fx.send(Action::AllHits);
    let Some(Screen::Hits(h)) = fx.app.top() else {
        panic!("timeline")
    };
    assert_eq!(h.rows.len(), all - fed);
    fx.send(Action::Back);
    fx.select_rule("Process Started by the WMI Provider Host");
    fx.send(Action::Open);
    let Some(Screen::Hits(h)) = fx.app.top() else {
        panic!("hits")
    };
    assert_eq!(h.rows.len(), fed);
    snap!("feeding_rule_hits", fx);

    // With `generate: true` the rule alerts on its own as well.
    let dir = tempfile::tempdir().unwrap();
    let generating = dir.path().join("burst.yml");
    let text = std::fs::read_to_string(&burst).unwrap();
    std::fs::write(
        &generating,
        text.replace("correlation:\n", "correlation:\n    generate: true\n"),
    )
    .unwrap();
    let fx = fixture_with(|o| o.rule_paths = vec![generating]);
    assert!(fx.app.rules.iter().all(|r| r.feeds.is_empty()));
    assert_eq!(fx.app.total_hits(), all);
}

#[test]
fn a_correlation_rule_is_edited_live_and_saved_beside_the_upstream_file() {
    use super::support::press;
    use crossterm::event::{KeyCode, KeyModifiers};
    use huntbench::tui::action::{EditHits, EditTarget};
    let burst = manifest_dir().join("tests/fixtures/tui/wmi_burst.yml");
    let upstream = std::fs::read_to_string(&burst).unwrap();
    let mut fx = fixture_with(|o| o.rule_paths = vec![burst.clone()]);
    let before = fx.app.correlations[0].hits.len();
    fx.select_rule("Burst of processes");
    fx.send(Action::EditRule);
    let Some(Screen::Editor(ed)) = fx.app.top() else {
        panic!("editor: {:?}", fx.app.message)
    };
    assert_eq!(ed.target, EditTarget::Corr(0));
    let lines = ed.area.lines().to_vec();
    let at = |what: &str| lines.iter().position(|l| l.contains(what)).unwrap();
    // A higher threshold: fewer windows, recounted as the key is typed.
    press(&mut fx, KeyCode::Down, at("gte: 3"));
    press(&mut fx, KeyCode::End, 1);
    press(&mut fx, KeyCode::Backspace, 1);
    fx.key('5');
    let Some(Screen::Editor(ed)) = fx.app.top() else {
        panic!("editor")
    };
    let Some(EditHits::Corr(hits)) = &ed.compiled else {
        panic!("recompiled: {:?}", ed.errors)
    };
    let new = hits.len();
    assert!(new < before, "{before} → {new}");
    // Windows of a group that still overlap a new window changed rather than went away
    // (the editor diffs windows by group and time overlap): 3 → 2 is 1 window gone, none new.
    assert_eq!(
        (before, new, ed.removed, ed.added),
        (3, 2, 1, 0),
        "{:?}",
        ed.diff
    );
    snap!("correlation_editor", fx);

    // A bad timespan is reported at its line, and marked there.
    press(&mut fx, KeyCode::Up, at("gte: 3") - at("timespan:"));
    press(&mut fx, KeyCode::End, 1);
    fx.key('x');
    let Some(Screen::Editor(ed)) = fx.app.top() else {
        panic!("editor")
    };
    let err = ed.errors.first().expect("invalid timespan");
    assert_eq!(err.line, at("timespan:") + 1, "{err:?}");
    assert!(ed.compiled.is_none());
    let marked = fx.screen_marked();
    assert!(marked.contains(&format!("✗{} ", err.line)), "{marked}");
    assert!(marked.contains("⟦"), "{marked}");
    press(&mut fx, KeyCode::Backspace, 1);

    // A reference to a rule that is not loaded compiles, with a note saying it cannot fire.
    press(&mut fx, KeyCode::Up, at("timespan:") - at("- dae3a3ff"));
    press(&mut fx, KeyCode::End, 1);
    fx.key('x');
    let Some(Screen::Editor(ed)) = fx.app.top() else {
        panic!("editor")
    };
    assert!(ed.compiled.as_ref().is_some_and(|h| h.is_empty()));
    assert!(
        ed.notes.iter().any(|n| n.contains("cannot fire")),
        "{:?}",
        ed.notes
    );
    assert!(fx.screen().contains("note: refers to `dae3a3ff"));
    press(&mut fx, KeyCode::Backspace, 1);

    // Saved to the user rules, never over the upstream file; the saved one replaces it.
    chord(&mut fx, KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert!(fx.app.screens.is_empty(), "the editor closes on save");
    assert!(crate::common::only_saved_rule(&fx.ctx.config_dir.join("rules")).contains("gte: 5"));
    assert_eq!(std::fs::read_to_string(&burst).unwrap(), upstream);
    assert_eq!(fx.app.correlations.len(), 1, "replaced, not duplicated");
    assert_eq!(fx.app.correlations[0].hits.len(), new);
    assert!(
        fx.app
            .message
            .as_deref()
            .is_some_and(|m| m.contains(&format!("{before} → {new}"))),
        "{:?}",
        fx.app.message
    );

    // `e` on the correlation's hits opens the editor on it too.
    fx.select_rule("Burst of processes");
    fx.send(Action::Open);
    fx.send(Action::EditRule);
    let Some(Screen::Editor(ed)) = fx.app.top() else {
        panic!("editor from the correlation hits: {:?}", fx.app.message)
    };
    assert_eq!(ed.target, EditTarget::Corr(0));
    assert!(ed.area.lines().iter().any(|l| l.contains("gte: 5")));
}

/// A saved search is named by its id: saving the same search again under another title, or
/// saving it from the editor, replaces its one file and its one rule.
#[test]
fn a_saved_search_is_replaced_not_duplicated() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut fx = fixture_with(|_| {});
    let saved = |fx: &super::support::Fixture| {
        let rules = fx.ctx.config_dir.join("rules");
        let text = crate::common::only_saved_rule(&rules);
        let searches = fx
            .app
            .rules
            .iter()
            .filter(|r| r.rule.meta.saved_search)
            .count();
        (text, searches)
    };
    for title in ["cmd shells", "cmd shells again"] {
        let search = "Image=*\\cmd.exe AND EventID=1 AND User!=\"nobody at all\"";
        fx.search(search);
        fx.send(Action::SaveSearch);
        let Some((_, buf)) = &mut fx.app.input else {
            panic!("title prompt")
        };
        assert_eq!(buf, search, "the whole search is proposed");
        buf.clear();
        for c in title.chars() {
            fx.key(c);
        }
        fx.send(Action::Key(KeyEvent::new(
            KeyCode::Enter,
            KeyModifiers::NONE,
        )));
        // Then its level: proposed medium, here high.
        let Some((_, level)) = &mut fx.app.input else {
            panic!("level prompt")
        };
        assert_eq!(level, "medium");
        level.clear();
        for c in "high".chars() {
            fx.key(c);
        }
        fx.send(Action::Key(KeyEvent::new(
            KeyCode::Enter,
            KeyModifiers::NONE,
        )));
        while !fx.app.screens.is_empty() {
            fx.send(Action::Back);
        }
        let (text, searches) = saved(&fx);
        assert!(text.contains(&format!("title: \"{title}\"")), "{text}");
        // `EventID=1` with Sysmon's field names: Sysmon's process creation.
        assert!(text.contains("  category: process_creation\n"), "{text}");
        assert!(text.contains("level: \"high\""), "{text}");
        assert!(text.contains("\nid: "), "{text}");
        assert_eq!(searches, 1, "{title}");
    }
    fx.select_rule("cmd shells again");
    fx.send(Action::EditRule);
    fx.send(Action::SaveEdit);
    assert!(fx.app.screens.is_empty(), "the editor closes on save");
    let (text, searches) = saved(&fx);
    assert!(text.contains("cmd shells again"), "{text}");
    assert_eq!(searches, 1, "still one saved search after the edit");
}

/// A search with time bounds lists its events but is not saved as a rule (Sigma cannot hold
/// the bounds, and a rule without them would mean something else).
#[test]
fn a_search_with_time_bounds_is_not_saved_as_a_rule() {
    let mut fx = fixture_with(|_| {});
    fx.search("time>=2024-03-13 EventID=1");
    let Some(Screen::Hits(h)) = fx.app.top() else {
        panic!("search: {:?}", fx.app.message)
    };
    assert!(!h.rows.is_empty());
    assert!(
        h.rows.iter().all(|r| r.r.ts >= 1_710_288_000_000_000),
        "from 2024-03-13"
    );
    // Refused at once, before a title is asked for.
    fx.send(Action::SaveSearch);
    assert!(fx.app.input.is_none());
    assert!(
        fx.app
            .message
            .as_deref()
            .is_some_and(|m| m.contains("time bounds")),
        "{:?}",
        fx.app.message
    );
    let saved = std::fs::read_dir(fx.ctx.config_dir.join("rules")).map_or(0, Iterator::count);
    assert_eq!(saved, 0, "no rule file written");
}

/// Editing a correlation that another is built on says what the edit does to that one too.
#[test]
fn the_correlation_editor_previews_the_correlations_built_on_it() {
    use super::support::press;
    use crossterm::event::KeyCode;
    let dir = tempfile::tempdir().unwrap();
    let burst = manifest_dir().join("tests/fixtures/tui/wmi_burst.yml");
    let outer = dir.path().join("outer.yml");
    std::fs::write(
        &outer,
        "title: Bursts on two or more computers\nid: 0d3a1c2b-4e5f-4a6b-8c7d-9e0f1a2b3c4d\ncorrelation:\n    type: value_count\n    rules:\n        - 7f0c4d1e-5a39-4c8e-9b1f-2f6a1b7e0c11\n    group-by: []\n    timespan: 10d\n    condition:\n        field: Computer\n        gte: 2\nlevel: critical\n",
    )
    .unwrap();
    let mut fx = fixture_with(|o| o.rule_paths = vec![burst.clone(), outer.clone()]);
    assert_eq!(fx.app.correlations.len(), 2);
    fx.select_rule("Burst of processes");
    fx.send(Action::EditRule);
    let Some(Screen::Editor(ed)) = fx.app.top() else {
        panic!("editor: {:?}", fx.app.message)
    };
    let lines = ed.area.lines().to_vec();
    let at = |what: &str| lines.iter().position(|l| l.contains(what)).unwrap();
    // gte: 3 → gte: 30: no burst is that large, so the outer correlation has nothing to count.
    press(&mut fx, KeyCode::Down, at("gte: 3"));
    press(&mut fx, KeyCode::End, 1);
    fx.key('0');
    let Some(Screen::Editor(ed)) = fx.app.top() else {
        panic!("editor")
    };
    assert!(
        ed.notes.iter().any(|n| n
            == "`Bursts on two or more computers`, built on this one: 0 alert(s) with this edit"),
        "{:?}",
        ed.notes
    );
    // Back to gte: 3: the outer one alerts as loaded.
    press(&mut fx, KeyCode::Backspace, 1);
    let Some(Screen::Editor(ed)) = fx.app.top() else {
        panic!("editor")
    };
    let outer_row = (fx.app.correlations.iter())
        .find(|c| c.corr.meta.title.starts_with("Bursts on two"))
        .expect("the outer correlation");
    let loaded = outer_row.hits.len();
    assert!(loaded > 0);
    assert!(
        ed.notes.iter().any(|n| n.ends_with(&format!(
            "built on this one: {loaded} alert(s) with this edit"
        ))),
        "{:?}",
        ed.notes
    );
}

/// Editing a rule that correlations are built on (directly, or through another correlation)
/// says what the edit does to their alerts.
#[test]
fn the_rule_editor_previews_the_correlations_built_on_the_rule() {
    use super::support::press;
    use crossterm::event::KeyCode;
    let dir = tempfile::tempdir().unwrap();
    let burst = manifest_dir().join("tests/fixtures/tui/wmi_burst.yml");
    let outer = dir.path().join("outer.yml");
    std::fs::write(
        &outer,
        "title: Bursts on two or more computers\ncorrelation:\n    type: value_count\n    rules:\n        - 7f0c4d1e-5a39-4c8e-9b1f-2f6a1b7e0c11\n    group-by: []\n    timespan: 10d\n    condition:\n        field: Computer\n        gte: 1\nlevel: critical\n",
    )
    .unwrap();
    let mut fx = fixture_with(|o| o.rule_paths = vec![burst.clone(), outer.clone()]);
    let before: Vec<usize> = fx.app.correlations.iter().map(|c| c.hits.len()).collect();
    assert!(before.iter().all(|&n| n > 0), "{before:?}");
    fx.select_rule("Process Started by the WMI Provider Host");
    fx.send(Action::EditRule);
    let Some(Screen::Editor(ed)) = fx.app.top() else {
        panic!("editor: {:?}", fx.app.message)
    };
    let lines = ed.area.lines().to_vec();
    let at = lines
        .iter()
        .position(|l| l.contains("ParentImage|endswith"))
        .unwrap();
    // '\WmiPrvSE.exe' → '\WmiPrvSE.exex': no process has that parent.
    press(&mut fx, KeyCode::Down, at);
    press(&mut fx, KeyCode::End, 1);
    press(&mut fx, KeyCode::Left, 1);
    fx.key('x');
    let Some(Screen::Editor(ed)) = fx.app.top() else {
        panic!("editor")
    };
    for (c, n) in fx.app.correlations.iter().zip(&before) {
        let want = format!(
            "`{}`, built on this rule: 0 alert(s) with this edit ({n} before)",
            c.corr.meta.label()
        );
        assert!(ed.notes.contains(&want), "{want}\n{:?}", ed.notes);
    }
}

/// Every rule's hit list and correlation count, for comparing reloads.
fn counts(fx: &super::support::Fixture) -> (Vec<(String, usize)>, Vec<usize>) {
    let rules = (fx.app.rules.iter())
        .map(|r| (r.rule.meta.title.clone(), r.hits.len()))
        .collect();
    let corrs = fx.app.correlations.iter().map(|c| c.hits.len()).collect();
    (rules, corrs)
}

#[test]
fn marking_benign_and_undoing_it_rerun_only_the_rule_the_overlay_names() {
    use huntbench::tui::action::Effect;
    use huntbench::tui::worker::execute;
    use std::sync::Arc;
    let burst = manifest_dir().join("tests/fixtures/tui/wmi_burst.yml");
    let mut fx = fixture_with(|o| o.rule_paths = vec![burst]);
    let wmi = (fx.app.rules.iter())
        .position(|r| r.rule.meta.title.contains("WMI Provider Host"))
        .unwrap();
    let loaded: Vec<_> = fx.app.rules.iter().map(|r| Arc::clone(&r.hits)).collect();
    let (before, corr_before) = counts(&fx);
    fx.select_rule("Process Started by the WMI Provider Host");
    fx.send(Action::Open);
    fx.send(Action::Open);
    let Some(Screen::Detail(d)) = fx.app.top() else {
        panic!("detail")
    };
    let fields = &d.event.as_ref().unwrap().fields;
    let field = ["Image", "NewProcessName"]
        .into_iter()
        .find(|f| fields.iter().any(|(n, _)| n == f))
        .unwrap();
    select_field(&mut fx, field);
    fx.send(Action::MarkBenign);
    assert!(fx.app.busy.is_empty(), "{:?}", fx.app.busy);
    let after = fx.app.rules[wmi].hits.len();
    assert!(after < before[wmi].1, "{:?}", fx.app.message);
    // The other rules were not run again: they hold the very lists loaded at first.
    for (i, row) in fx.app.rules.iter().enumerate() {
        assert_eq!(Arc::ptr_eq(&row.hits, &loaded[i]), i != wmi, "rule {i}");
    }
    // What a full reload gives.
    let tuned = counts(&fx);
    for m in execute(&fx.ctx, Effect::LoadRules) {
        fx.send(Action::Worker(Box::new(m)));
    }
    assert_eq!(counts(&fx), tuned);
    assert_ne!(
        tuned.1, corr_before,
        "the correlation on the rule was evaluated again"
    );

    // Undone from the overlays list, the rule alone runs again and has its hits back.
    let loaded: Vec<_> = fx.app.rules.iter().map(|r| Arc::clone(&r.hits)).collect();
    fx.send(Action::Overlays);
    fx.send(Action::Delete);
    fx.send(Action::Delete);
    assert!(huntbench::overlay::load_overlays(&fx.app.case_dir).is_empty());
    assert_eq!(counts(&fx), (before, corr_before));
    for (i, row) in fx.app.rules.iter().enumerate() {
        assert_eq!(Arc::ptr_eq(&row.hits, &loaded[i]), i != wmi, "rule {i}");
    }
}
