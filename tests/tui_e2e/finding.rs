//! The search bar's Sigma field names, and a list narrowed by a query, in the real binary.

use super::Session;

#[test]
fn image_finds_a_4688_process_and_a_filter_narrows_the_list() {
    let Some(s) = Session::on_samples("finding") else {
        return;
    };
    // `Image` is Sysmon's name; a 4688 holds the path as `NewProcessName`.
    s.keys(&["/"]);
    s.literal("Image=*\\OUTLOOK.EXE");
    s.keys(&["Enter"]);
    // The title comes before the rows' events are fetched: wait for both.
    s.wait(
        "both process creations, the 4688 by its NewProcessName",
        |sc| {
            sc.contains("search: Image=*\\OUTLOOK.EXE · 1 of 2")
                && (sc.lines()).any(|l| l.contains("4688") && l.contains("NewProcessName="))
        },
    );
    s.keys(&["F"]);
    s.literal("EventID=4688");
    s.keys(&["Enter"]);
    let narrowed = s.wait_for("filter (1 of 2): EventID=4688");
    assert!(
        !narrowed
            .lines()
            .any(|l| l.contains("Sysmon") && l.contains("OUTLOOK")),
        "{narrowed}"
    );
    // ⌫ gives the whole list back.
    s.keys(&["BSpace"]);
    s.wait("the search again", |sc| {
        sc.contains("· 1 of 2") && !sc.contains("filter (")
    });
    s.quit_and_check_terminal();
}
