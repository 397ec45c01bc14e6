//! The process tree of wmiexec commands whose WmiPrvSE.exe parent is not in the log, on a
//! Security 4688 version 2 scenario written by our EVTX writer.

use super::{Session, usable};
use std::path::Path;

#[test]
fn a_parent_not_in_the_log_groups_its_children() {
    if !usable() {
        return;
    }
    let s = Session::start("orphans");
    let evtx = s.case().with_extension("evtx");
    let scenario =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tui/wmiexec_orphans.yml");
    huntbench::synth::render_scenario(scenario.to_str().unwrap(), &evtx).unwrap();
    s.open(&[&evtx]);
    s.wait_for(super::WMI_RULE);
    // Only that rule listed, then its first hit's tree.
    s.keys(&["f"]);
    s.literal("WMI Provider Host");
    s.keys(&["Enter", "g", "Enter"]);
    s.wait_for("hits over time");
    s.keys(&["p"]);
    let tree = s.wait("the tree", |sc| {
        sc.contains("Process tree on") && sc.contains("└─ cmd.exe")
    });
    let line = |what: &str| {
        (tree.lines())
            .position(|l| l.contains(what))
            .unwrap_or_else(|| panic!("{what}:\n{tree}"))
    };
    let parent = line("■ WmiPrvSE.exe  pid 2760");
    assert!(
        tree.lines()
            .nth(parent)
            .unwrap()
            .contains("creation not in case"),
        "{tree}"
    );
    let first = line("├─ cmd.exe  pid 6732  admmig");
    let conhost = line("│ └─ conhost.exe  pid 6736  admmig");
    let second = line("└─ cmd.exe  pid 6928  admmig");
    assert!(
        parent < first && first < conhost && conhost < second,
        "{tree}"
    );
    assert!(
        !tree.contains("HOST$"),
        "the account run as, not the creator:\n{tree}"
    );
    s.quit_and_check_terminal();
}
