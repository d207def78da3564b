//! Sync runs: one row per unit of long or unattended work, so the liaison
//! can see what ran, when, and how it ended.

use sqlx::PgPool;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Succeeded,
    /// Finished, but some items were rejected.
    Partial,
    Failed,
}

impl RunStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Partial => "partial",
            Self::Failed => "failed",
        }
    }
}

/// `host:pid`, telling apart several instances on one database.
pub fn instance_name() -> String {
    let host = nix::unistd::gethostname().ok().and_then(|h| h.into_string().ok()).unwrap_or_else(|| "localhost".into());
    format!("{host}:{}", std::process::id())
}

pub async fn start(pool: &PgPool, kind: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("INSERT INTO sync_runs (kind, instance) VALUES ($1, $2) RETURNING id")
        .bind(kind)
        .bind(instance_name())
        .fetch_one(pool)
        .await
}

pub async fn finish(
    pool: &PgPool,
    id: i64,
    status: RunStatus,
    stats: serde_json::Value,
    error: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sync_runs SET finished_at = now(), status = $2, stats = $3, error = $4 WHERE id = $1")
        .bind(id)
        .bind(status.as_str())
        .bind(stats)
        .bind(error)
        .execute(pool)
        .await?;
    Ok(())
}
