//! Sync runs: one row per unit of long or unattended work, so the liaison
//! can see what ran, when, and how it ended.

use super::{Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Succeeded,
    /// Finished, but some items were rejected.
    Partial,
    Failed,
    /// Stopped by a signal at a batch boundary; what was done is committed.
    Interrupted,
}

impl RunStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Partial => "partial",
            Self::Failed => "failed",
            Self::Interrupted => "interrupted",
        }
    }
}

/// `host:pid`, telling apart several instances on one database.
pub fn instance_name() -> String {
    format!("{}:{}", host_name(), std::process::id())
}

pub async fn start(store: &Store, kind: &str) -> Result<i64, StoreError> {
    sqlx::query_scalar("INSERT INTO sync_runs (kind, instance) VALUES ($1, $2) RETURNING id")
        .bind(kind)
        .bind(instance_name())
        .fetch_one(&store.pool)
        .await
        .map_err(StoreError::from)
}

/// Finishes every run of this process still marked running: the command
/// layer calls it however the work ended, so no early return leaves one behind.
/// Returns how many it finished.
pub async fn settle_unfinished(store: &Store, status: RunStatus, error: &str) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE sync_runs SET finished_at = now(), status = $2, error = COALESCE(error, $3)
         WHERE instance = $1 AND status = 'running'",
    )
    .bind(instance_name())
    .bind(status.as_str())
    .bind(error)
    .execute(&store.pool)
    .await?;
    Ok(done.rows_affected())
}

/// This host's name, as instance names start with it.
pub fn host_name() -> String {
    nix::unistd::gethostname().ok().and_then(|h| h.into_string().ok()).unwrap_or_else(|| "localhost".into())
}

/// Of `names` (`host:pid`, or `host:pid:...`), those of processes of this
/// host that no longer exist.
pub fn dead_local(names: Vec<String>) -> Vec<String> {
    let host = host_name();
    names
        .into_iter()
        .filter(|name| {
            let pid = name.strip_prefix(host.as_str()).and_then(|rest| rest.strip_prefix(':')).and_then(|rest| rest.split(':').next());
            pid.and_then(|p| p.parse::<u32>().ok()).is_some_and(|p| !std::path::Path::new(&format!("/proc/{p}")).exists())
        })
        .collect()
}

/// One run, for `katalog-bridge runs`.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct RunLine {
    pub id: i64,
    pub job: String,
    pub instance: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    pub status: String,
    pub stats: serde_json::Value,
    pub error: Option<String>,
}

/// Runs, newest first: of one job, and only those that did not succeed.
pub async fn history(store: &Store, job: Option<&str>, failed_only: bool, limit: i64) -> Result<Vec<RunLine>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, kind AS job, instance, started_at, finished_at, status, stats, error FROM sync_runs
         WHERE ($1::text IS NULL OR kind = $1) AND (NOT $2 OR status NOT IN ('succeeded', 'running'))
         ORDER BY started_at DESC, id DESC LIMIT $3",
    )
    .bind(job)
    .bind(failed_only)
    .bind(limit.clamp(1, 100_000))
    .fetch_all(&store.pool)
    .await?)
}

/// The tables whose rows are claimed (`claimed_by`, `claimed_until`).
#[derive(Debug, Clone, Copy)]
pub enum Claims {
    Publications,
    Uploads,
    OrderDetails,
    Answers,
}

impl Claims {
    fn table(self) -> &'static str {
        match self {
            Claims::Publications => "publications",
            Claims::Uploads => "catalogue_uploads",
            Claims::OrderDetails => "purchase_orders",
            Claims::Answers => "order_responses",
        }
    }
}

/// Releases the claims of processes of this host that are gone (killed
/// mid-run), so their work is picked up at once rather than when the lease
/// runs out. Claims of live processes, and of other hosts, wait for their lease.
pub async fn release_dead_local_claims(store: &Store, claims: Claims) -> Result<u64, StoreError> {
    let table = claims.table();
    let holders: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT DISTINCT claimed_by FROM {table} WHERE claimed_by LIKE $1 || ':%' AND claimed_until > now()"
    )))
    .bind(host_name())
    .fetch_all(&store.pool)
    .await?;
    let dead = dead_local(holders);
    if dead.is_empty() {
        return Ok(0);
    }
    Ok(sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE {table} SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = ANY($1)")))
        .bind(&dead)
        .execute(&store.pool)
        .await?
        .rows_affected())
}

/// Marks `abandoned` the runs left `running` by processes of this host that
/// no longer exist (killed, or the machine stopped). Returns how many.
pub async fn abandon_dead_local(store: &Store) -> Result<u64, StoreError> {
    let running: Vec<String> = sqlx::query_scalar("SELECT DISTINCT instance FROM sync_runs WHERE status = 'running' AND instance LIKE $1 || ':%'")
        .bind(host_name())
        .fetch_all(&store.pool)
        .await?;
    let dead = dead_local(running);
    if dead.is_empty() {
        return Ok(0);
    }
    let done = sqlx::query(
        "UPDATE sync_runs SET finished_at = now(), status = 'abandoned',
                error = COALESCE(error, 'its process ended without finishing it')
         WHERE status = 'running' AND instance = ANY($1)",
    )
    .bind(&dead)
    .execute(&store.pool)
    .await?;
    Ok(done.rows_affected())
}

pub async fn finish(
    store: &Store,
    id: i64,
    status: RunStatus,
    stats: serde_json::Value,
    error: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE sync_runs SET finished_at = now(), heartbeat_at = now(), status = $2, stats = $3, error = $4 WHERE id = $1")
        .bind(id)
        .bind(status.as_str())
        .bind(stats)
        .bind(error)
        .execute(&store.pool)
        .await?;
    Ok(())
}
