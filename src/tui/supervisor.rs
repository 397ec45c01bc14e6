//! Restores the terminal however the workbench ends.
//!
//! The workbench's guard and panic hook cover every exit Rust sees. A signal (`kill`), an
//! abort (allocation failure, stack overflow) or `kill -9` ends the process without them and
//! would leave the shell raw, on the alternate screen. So the workbench runs as a child of a
//! small parent that saves the terminal's settings first and puts them back when the child
//! ends, whatever ended it. Signals sent to the parent are passed on to the child.

/// Set in the child's environment: this process is the workbench itself.
const CHILD: &str = "HUNTBENCH_WORKBENCH_CHILD";

/// Runs this same command as a supervised child and returns its exit code. `None` means
/// "run the workbench in this process": it is the child already, stdin is not a terminal,
/// or no child could be started.
#[cfg(unix)]
pub fn run_supervised() -> Option<u8> {
    use std::process::Command;
    if std::env::var_os(CHILD).is_some() {
        return None;
    }
    let stdin = std::io::stdin();
    let saved = rustix::termios::tcgetattr(&stdin).ok()?;
    let exe = std::env::current_exe().ok()?;
    let mut child = Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(CHILD, "1")
        .spawn()
        .ok()?;
    let forwarding = forward_signals(rustix::process::Pid::from_child(&child));
    let status = child.wait();
    if let Some(handle) = forwarding {
        handle.close();
    }
    // Put back what the shell had, whatever the child left (a no-op after a clean exit).
    let _ = rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, &saved);
    let status = match status {
        Ok(s) => s,
        Err(e) => {
            leave_screen();
            say(&format!("lost track of the workbench process: {e}"));
            return Some(1);
        }
    };
    if let Some(code) = status.code() {
        return Some(u8::try_from(code).unwrap_or(1));
    }
    use std::os::unix::process::ExitStatusExt;
    let signal = status.signal().unwrap_or(0);
    // Only a killed child left the alternate screen and mouse reporting on; after a clean
    // exit, leaving the alternate screen again would move the cursor back.
    leave_screen();
    say(&format!(
        "the workbench was ended by signal {signal}{}; the terminal is restored",
        signal_name(signal).map_or(String::new(), |n| format!(" ({n})"))
    ));
    Some(128u8.saturating_add(u8::try_from(signal).unwrap_or(0)))
}

#[cfg(not(unix))]
pub fn run_supervised() -> Option<u8> {
    None
}

/// Passes the signals that ask a process to end on to the child (which the parent outlives,
/// to restore the terminal). `None` when they cannot be caught; the parent then dies with
/// the child as before.
#[cfg(unix)]
fn forward_signals(child: rustix::process::Pid) -> Option<signal_hook::iterator::Handle> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    let mut signals =
        signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGINT, SIGQUIT]).ok()?;
    let handle = signals.handle();
    std::thread::spawn(move || {
        for sig in signals.forever() {
            if let Some(sig) = rustix::process::Signal::from_named_raw(sig) {
                let _ = rustix::process::kill_process(child, sig);
            }
        }
    });
    Some(handle)
}

/// To stderr, which may be gone with the terminal (a hang-up): `eprintln!` would panic.
#[cfg(unix)]
fn say(text: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "huntbench: {text}");
}

#[cfg(unix)]
fn leave_screen() {
    let _ = crossterm::execute!(
        std::io::stdout(),
        crossterm::event::DisableMouseCapture,
        crossterm::terminal::LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

#[cfg(unix)]
fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        6 => "SIGABRT",
        7 => "SIGBUS",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        15 => "SIGTERM",
        _ => return None,
    })
}
