//! Stopping on SIGINT and SIGTERM: the first signal asks long work to stop at
//! its next batch boundary (it commits what is done and records the run as
//! interrupted); a second one ends the process at once.
//!
//! The request is process-wide, as a signal is: loops check [`requested`] at
//! their batch boundaries, and the command layer waits on [`wait`].

use std::sync::OnceLock;
use std::sync::atomic::{AtomicI32, Ordering};

use tokio::sync::watch;

static SIGNAL: AtomicI32 = AtomicI32::new(0);
static WATCH: OnceLock<watch::Sender<i32>> = OnceLock::new();

fn sender() -> &'static watch::Sender<i32> {
    WATCH.get_or_init(|| watch::channel(0).0)
}

/// Listens for SIGINT and SIGTERM from now on. Call once, inside the runtime.
pub fn install() -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    tokio::spawn(async move {
        loop {
            let number = tokio::select! {
                _ = int.recv() => nix::libc::SIGINT,
                _ = term.recv() => nix::libc::SIGTERM,
            };
            request(number);
        }
    });
    Ok(())
}

/// Records a stop request as if `signal` had arrived (the signal task, and tests).
/// A second request ends the process at once with the signal's exit status.
pub fn request(signal: i32) {
    if SIGNAL.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst).is_err() {
        eprintln!("second signal: stopping now");
        std::process::exit(exit_status(signal).into());
    }
    tracing::warn!(signal = signal_name(signal), "stop requested: finishing the current batch, then stopping");
    sender().send_replace(signal);
}

/// Whether a stop was requested.
pub fn requested() -> bool {
    SIGNAL.load(Ordering::SeqCst) != 0
}

/// The signal that asked to stop, if any.
pub fn signal() -> Option<i32> {
    Some(SIGNAL.load(Ordering::SeqCst)).filter(|s| *s != 0)
}

/// `Err` with the signal's name once a stop is requested: long work checks
/// it at each batch boundary (`stop_requested().map_err(MyError::Interrupted)?`).
pub fn stop_requested() -> Result<(), &'static str> {
    signal().map_or(Ok(()), |s| Err(signal_name(s)))
}

/// Resolves once a stop is requested.
pub async fn wait() {
    let mut rx = sender().subscribe();
    let _ = rx.wait_for(|s| *s != 0).await;
}

/// The shell's convention: 128 + the signal number (130 for SIGINT, 143 for SIGTERM).
pub fn exit_status(signal: i32) -> u8 {
    u8::try_from(128 + signal).unwrap_or(255)
}

pub fn signal_name(signal: i32) -> &'static str {
    match signal {
        nix::libc::SIGINT => "SIGINT",
        nix::libc::SIGTERM => "SIGTERM",
        _ => "signal",
    }
}
