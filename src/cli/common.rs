//! What every command group uses: the store opened, watched and closed
//! around a command's work, and the `--cooperative` argument.

use anyhow::Context;

use crate::config::Settings;
use crate::domain::cooperative::CooperativeCode;
use crate::store::{Store, runs};

/// Who does it: `--by NAME`, else the login name; `does` says what, for the error.
pub(super) fn who(by: Option<String>, does: &str) -> anyhow::Result<String> {
    by.or_else(|| std::env::var("USER").ok()).or_else(|| std::env::var("LOGNAME").ok()).ok_or_else(|| anyhow::anyhow!("say who {does} with --by NAME"))
}

/// A `--cooperative CODE` argument, checked.
pub(super) fn cooperative_arg(code: Option<String>) -> anyhow::Result<Option<CooperativeCode>> {
    code.map(|c| CooperativeCode::parse(&c)).transpose().map_err(|e| anyhow::anyhow!("--cooperative: {e}"))
}

/// How long work may take to reach its next batch boundary after a stop
/// request before it is abandoned (its open transaction then rolls back).
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(20);

/// Opens and migrates the store, runs `work`, and always closes the store
/// (stopping the embedded PostgreSQL it started), also on SIGINT and SIGTERM.
/// However the work ended, no run of this process is left marked running.
pub(super) async fn with_store(settings: &Settings, work: impl AsyncFnOnce(&Store) -> anyhow::Result<u8>) -> anyhow::Result<u8> {
    let store = Store::open_migrated(&settings.database).await.context("opening the database")?;
    let abandoned = match runs::abandon_dead_local(&store).await {
        Ok(n) => runs::abandon_stale(&store, runs::ABANDONED_AFTER).await.map(|m| n + m),
        Err(e) => Err(e),
    };
    match abandoned {
        Ok(0) => {}
        Ok(n) => tracing::warn!(runs = n, "runs left running by processes that are gone (or whose heartbeat stopped) are now marked abandoned"),
        Err(e) => tracing::warn!(error = %e, "could not check for abandoned runs"),
    }
    let heartbeat = runs::spawn_heartbeat(&store);
    let result = tokio::select! {
        r = work(&store) => r,
        _ = async { crate::shutdown::wait().await; tokio::time::sleep(STOP_GRACE).await } => {
            Err(anyhow::anyhow!("stopped without reaching a batch boundary within {} s; work committed so far is kept", STOP_GRACE.as_secs()))
        }
    };
    let (status, why) = match (&result, crate::shutdown::signal()) {
        (_, Some(signal)) => {
            (runs::RunStatus::Interrupted, runs::RunError::new("interrupted", &format!("interrupted by {}", crate::shutdown::signal_name(signal))))
        }
        (Err(e), None) => (runs::RunStatus::Failed, runs::RunError::new("failed", &format!("{e:#}"))),
        (Ok(_), None) => (runs::RunStatus::Failed, runs::RunError::new("process_ended", &"the command ended without finishing this run")),
    };
    heartbeat.abort();
    if let Err(e) = runs::settle_unfinished(&store, status, &why).await {
        tracing::error!(error = %e, "could not record the end of this process's runs");
    }
    let closed = store.close().await.context("stopping the database");
    let code = result?;
    closed?;
    Ok(code)
}
