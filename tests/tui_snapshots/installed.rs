//! The installed SigmaHQ release in the workbench: its rules load with the bundled pack and
//! the status line gives their count and the release's date.

use crate::support::fixture;
use huntbench::ruleinstall::{Source, update};
use huntbench::tui::action::{Action, Effect};
use huntbench::tui::worker::execute;

const RULE: &str = "title: Upstream Wmic\nid: 0f0e0000-0000-4000-8000-000000000001\ndate: 2024-05-01\nmodified: 2024-06-30\nlevel: high\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    sel:\n        Image|endswith: '\\wmic.exe'\n    condition: sel\n";

#[test]
fn the_status_line_gives_the_installed_release_rule_count_and_date() {
    let mut fx = fixture();
    let before = fx.screen();
    assert!(!before.contains("SigmaHQ"), "{before}");
    let upstream = fx.ctx.config_dir.with_file_name("upstream");
    std::fs::create_dir_all(upstream.join("rules/windows")).unwrap();
    std::fs::write(upstream.join("rules/windows/wmic.yml"), RULE).unwrap();
    update(&fx.ctx.config_dir, &Source::Dir(upstream), &mut |_| {}).unwrap();
    for msg in execute(&fx.ctx, Effect::LoadRules) {
        fx.send(Action::Worker(Box::new(msg)));
    }
    let screen = fx.screen();
    assert!(
        screen.contains(" rules (1 SigmaHQ rules of 2024-06-30) │"),
        "{screen}"
    );
    assert!(screen.contains("Upstream Wmic"), "{screen}");
}
