//! Printing to a standard output that may be a closed pipe (`hposim run x.toml | head -1`).
//!
//! Rust ignores SIGPIPE, so a write to a closed pipe fails with `EPIPE` and `println!` panics.
//! Commands that only compute and print get the Unix default back ([`end_quietly_on_closed_pipe`]):
//! the process ends at the first write, silently, as `cat` and `ls` do; their results are
//! written to files before anything is printed, so nothing is lost. Live studies keep SIGPIPE
//! ignored, since dying mid-study would leave trial processes behind: they print with [`say`],
//! and a closed stdout ends the study as Ctrl-C does (running trials ended, journal complete,
//! resumable).

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static CLOSED: AtomicBool = AtomicBool::new(false);

/// Restores SIGPIPE's default action, so that writing to a closed stdout ends the process
/// quietly instead of panicking. The one `unsafe` of the binary: the standard library offers no
/// safe way to set a signal's disposition.
#[allow(unsafe_code)]
pub fn end_quietly_on_closed_pipe() {
    use nix::sys::signal::{SigHandler, Signal, signal};
    // SAFETY: SIG_DFL installs no handler code; it is called at start-up, before any thread.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
}

/// Writes `args` to stdout and flushes; `false` once stdout is closed (then and after, nothing
/// is written).
pub fn say(args: fmt::Arguments<'_>) -> bool {
    if CLOSED.load(Ordering::Relaxed) {
        return false;
    }
    let mut out = std::io::stdout().lock();
    if out.write_fmt(args).and_then(|()| out.flush()).is_err() {
        CLOSED.store(true, Ordering::Relaxed);
        return false;
    }
    true
}

/// Whether a [`say`] found stdout closed.
pub fn stdout_closed() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

/// `println!` through [`say`]; evaluates to `false` once stdout is closed.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::output::say(format_args!("{}\n", format_args!($($arg)*)))
    };
}
