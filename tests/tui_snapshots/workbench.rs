//! Correlation hits, cross-source stacking and tuning, inline editor errors and keymap
//! overrides.

use super::support::{fixture_with, manifest_dir};
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
