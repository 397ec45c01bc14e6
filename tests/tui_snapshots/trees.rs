//! Process trees whose root's creation is not in the case, and the lists at 80 columns.

use super::support::{fixture_with, manifest_dir};
use huntbench::proctree::ProcNode;
use huntbench::tui::action::Action;
use huntbench::tui::app::Screen;

/// The case of `tests/fixtures/tui/wmiexec_orphans.yml` (rendered by our EVTX writer): two
/// wmiexec `cmd.exe` children of WmiPrvSE.exe (PID 0xac8), whose own creation is not logged.
fn orphans() -> super::support::Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let evtx = tmp.path().join("wmiexec_orphans.evtx");
    let scenario = manifest_dir().join("tests/fixtures/tui/wmiexec_orphans.yml");
    huntbench::synth::render_scenario(scenario.to_str().unwrap(), &evtx).unwrap();
    fixture_with(|o| o.inputs = vec![evtx])
}

#[test]
fn a_parent_not_in_the_case_is_drawn_from_its_children() {
    let mut fx = orphans();
    fx.select_rule("WMI Provider Host");
    fx.send(Action::Open);
    fx.send(Action::Down);
    fx.send(Action::ProcTree);
    let Some(Screen::Tree(t)) = fx.app.top() else {
        panic!("tree: {:?}", fx.app.message)
    };
    let rows: Vec<(usize, &ProcNode)> = (t.tree.lines.iter())
        .map(|&(d, i)| (d, &t.tree.nodes[i]))
        .collect();
    let [(0, root), (1, first), (2, conhost), (1, second)] = rows[..] else {
        panic!("{rows:#?}")
    };
    assert!(root.inferred && root.image.ends_with("WmiPrvSE.exe"));
    assert_eq!(root.pid, Some(0xac8));
    assert_eq!((first.pid, second.pid), (Some(0x1a4c), Some(0x1b10)));
    assert!(conhost.image.ends_with("conhost.exe"));
    assert_eq!(t.tree.focus, 3, "opened on the second command");
    for n in [first, second] {
        assert_eq!(n.user, "admmig", "the account it ran as, not its creator's");
    }
    assert_eq!(
        t.marks[t.tree.lines[0].1], 0,
        "the parent has no event of its own"
    );
    snap!("tree_parent_not_in_case", fx);

    // Nothing is known above it.
    fx.send(Action::Top);
    fx.send(Action::ProcTree);
    let said = fx.app.message.clone().unwrap_or_default();
    assert!(said.contains("not in the case"), "{said}");
    assert!(matches!(fx.app.top(), Some(Screen::Tree(_))));
}

/// At 80 columns the timeline shows the rule title and the details on a second line.
#[test]
fn the_timeline_fits_80_columns() {
    let mut fx = fixture_with(|_| {});
    fx.app.size = (80, 24);
    fx.send(Action::AllHits);
    let screen = fx.screen();
    assert!(
        screen.contains("Process Started by the WMI Provider Host"),
        "{screen}"
    );
    assert!(screen.contains("Sysmon 1  Image=C:\\Windows"), "{screen}");
    snap!("timeline_80", fx);
}

/// At 80 columns every key's help is shown whole (one column, scrolled).
#[test]
fn the_help_fits_80_columns() {
    let mut fx = fixture_with(|_| {});
    fx.app.size = (80, 24);
    fx.send(Action::Help);
    let mut seen = String::new();
    for _ in 0..12 {
        seen.push_str(&fx.screen());
        fx.send(Action::PageDown);
    }
    for b in &fx.app.keymap.bindings {
        assert!(
            seen.contains(b.help),
            "{:?} cut or missing:\n{seen}",
            b.help
        );
    }
    // The notes under the keys too (they ran off the right edge).
    for note in [
        "mouse: wheel scrolls, click selects",
        "so its hits are not alerts; ⏎ lists them",
    ] {
        assert!(seen.contains(note), "{note:?} cut or missing:\n{seen}");
    }
}
