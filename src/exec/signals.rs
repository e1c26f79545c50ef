//! Signal forwarding for `exec`: SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to awsguard go to the
//! command, and awsguard keeps running until the command exits (so it can still summarise).
//!
//! A Ctrl-C typed at the terminal already reaches the command (same foreground process group),
//! so SIGINT is forwarded only when awsguard is not the terminal's foreground group (CI runners,
//! `kill -INT`, no terminal); forwarding it again would interrupt the command's own cleanup.

use rustix::process::{kill_process, Pid, Signal};
use tokio::signal::unix::{signal, SignalKind};

/// The installed handlers.
pub(crate) struct Handlers {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
    quit: tokio::signal::unix::Signal,
}

impl Handlers {
    /// Installs the handlers: from now on these signals no longer terminate awsguard.
    pub(crate) fn install() -> std::io::Result<Handlers> {
        Ok(Handlers {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
            quit: signal(SignalKind::quit())?,
        })
    }

    /// The next signal received, as the signal to forward (`None` for a terminal Ctrl-C).
    pub(crate) async fn next(&mut self) -> Option<Signal> {
        tokio::select! {
            Some(()) = self.int.recv() => (!terminal_foreground()).then_some(Signal::INT),
            Some(()) = self.term.recv() => Some(Signal::TERM),
            Some(()) = self.hup.recv() => Some(Signal::HUP),
            Some(()) = self.quit.recv() => Some(Signal::QUIT),
            else => std::future::pending().await,
        }
    }
}

/// Sends `signal` to the child `pid` (a child that already exited is not an error).
pub(crate) fn forward(pid: Option<u32>, signal: Option<Signal>) {
    let target = pid
        .and_then(|p| i32::try_from(p).ok())
        .and_then(Pid::from_raw);
    if let (Some(pid), Some(signal)) = (target, signal) {
        if let Err(error) = kill_process(pid, signal) {
            tracing::debug!(%error, "cannot forward a signal to the command");
        }
    }
}

/// Whether awsguard's process group is the foreground group of the terminal on stdin.
fn terminal_foreground() -> bool {
    rustix::termios::tcgetpgrp(std::io::stdin())
        .is_ok_and(|foreground| foreground == rustix::process::getpgrp())
}
