//! Sync runs: one row per unit of long or unattended work, so the liaison
//! can see what ran, when, and how it ended.

use super::{Store, StoreError};
use crate::domain::job::Job;
pub use crate::domain::job::RunStatus;

/// `host:pid`, telling apart several instances on one database. With
/// `KATALOG_BRIDGE_INSTANCE` set, that name replaces the host's: its claims
/// are then never released early as those of a dead local process, only when
/// their lease runs out (as for an instance on another machine).
pub fn instance_name() -> String {
    let host = std::env::var("KATALOG_BRIDGE_INSTANCE").ok().filter(|n| !n.trim().is_empty() && n.len() <= 64).unwrap_or_else(host_name);
    format!("{host}:{}", std::process::id())
}

pub async fn start(store: &Store, kind: &str) -> Result<i64, StoreError> {
    start_as(store, kind, Role::Lead).await
}

/// A run that concerns one cooperative only (by its code): an import of its
/// file, a publish of its products. Its staff see it whole on the dashboard.
pub async fn start_for(store: &Store, kind: &str, cooperative: Option<&str>) -> Result<i64, StoreError> {
    let Some(code) = cooperative else { return start(store, kind).await };
    sqlx::query_scalar(
        "INSERT INTO sync_runs (kind, instance, role, cooperative_id) VALUES ($1, $2, 'lead', (SELECT id FROM cooperatives WHERE code = $3)) RETURNING id",
    )
    .bind(kind)
    .bind(instance_name())
    .bind(code)
    .fetch_one(&store.pool)
    .await
    .map_err(StoreError::from)
}

/// Whether a run does a job's whole work under its lock, or helps with the
/// claimable part while another instance leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Lead,
    Help,
}

pub async fn start_as(store: &Store, kind: &str, role: Role) -> Result<i64, StoreError> {
    sqlx::query_scalar("INSERT INTO sync_runs (kind, instance, role) VALUES ($1, $2, $3) RETURNING id")
        .bind(kind)
        .bind(instance_name())
        .bind(match role {
            Role::Lead => "lead",
            Role::Help => "help",
        })
        .fetch_one(&store.pool)
        .await
        .map_err(StoreError::from)
}

/// The advisory-lock class of the jobs (`pg_try_advisory_lock(JOB_LOCKS, job)`):
/// "KB" and 1, so it cannot meet another application's locks by chance.
pub const JOB_LOCKS: i32 = 0x4B42_0001;

/// A job's lock, held on a connection of its own for as long as this value
/// lives. Dropping it closes that connection, which releases the lock even
/// when the work was cancelled half-way; a killed process's lock goes with
/// its connection.
pub struct JobLock {
    conn: Option<sqlx::pool::PoolConnection<sqlx::Postgres>>,
}

impl JobLock {
    /// Runs `work` under the lock, then lets it go at once. (A lock only
    /// dropped goes with its connection, which the server notices a moment
    /// later: a run just after could still find it held.)
    pub async fn hold<T>(mut self, work: impl std::future::Future<Output = T>) -> T {
        let out = work.await;
        if let Some(mut conn) = self.conn.take() {
            let released = sqlx::query("SELECT pg_advisory_unlock_all()").execute(&mut *conn).await;
            if released.is_err() {
                // Not back to the pool unless surely unlocked.
                drop(conn.detach());
            }
        }
        out
    }
}

impl Drop for JobLock {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // Not back to the pool: a pooled connection would keep the lock.
            drop(conn.detach());
        }
    }
}

/// Takes the job's lock if no other process holds it.
pub async fn try_lock_job(store: &Store, job: Job) -> Result<Option<JobLock>, StoreError> {
    let id = job.lock_id();
    let mut conn = store.pool.acquire().await?;
    let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)").bind(JOB_LOCKS).bind(id).fetch_one(&mut *conn).await?;
    Ok(got.then_some(JobLock { conn: Some(conn) }))
}

/// Takes the job's lock for a lead run, marking abandoned any lead run left
/// running by a process that lost it. `Err(why)` when another process holds
/// it, saying which.
pub async fn lock_lead(store: &Store, job: Job) -> Result<Result<JobLock, String>, StoreError> {
    let Some(lock) = try_lock_job(store, job).await? else {
        let holder = lock_holder(store, job).await?.unwrap_or_else(|| "another process".into());
        return Ok(Err(format!("the {job} job is already running in {holder}; it takes one process at a time (a daemon helps with its claimable work)")));
    };
    let lost = abandon_lost_leads(store, job.name()).await?;
    if lost > 0 {
        tracing::warn!(job = job.name(), runs = lost, "runs of this job left running by a process that is gone are now marked abandoned");
    }
    Ok(Ok(lock))
}

/// Whether some process holds the job's lock now (the scheduler's, a
/// command's, or a run started from the dashboard).
pub async fn job_locked(store: &Store, job: Job) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar(
        // Advisory locks are per database; pg_locks shows the whole cluster's.
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::int::oid AND objid = $2::int::oid AND objsubid = 2 AND granted
                          AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))",
    )
    .bind(JOB_LOCKS)
    .bind(job.lock_id())
    .fetch_one(&store.pool)
    .await?)
}

/// Who holds a job's lock, as `instance` of its running lead run, if known.
pub async fn lock_holder(store: &Store, job: Job) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar("SELECT instance FROM sync_runs WHERE kind = $1 AND role = 'lead' AND status = 'running' ORDER BY id DESC LIMIT 1")
        .bind(job.name())
        .fetch_optional(&store.pool)
        .await?)
}

/// With the job's lock held: any other lead run of it still marked running
/// belongs to a process that died holding the lock. Marks them abandoned.
pub async fn abandon_lost_leads(store: &Store, job: &str) -> Result<u64, StoreError> {
    // This process's own included: holding the lock, it has no other lead run of the job.
    Ok(sqlx::query(
        "UPDATE sync_runs SET finished_at = now(), status = 'abandoned',
                error = COALESCE(error, 'its process lost the job lock without finishing it'),
                error_code = COALESCE(error_code, 'lost_lock')
         WHERE kind = $1 AND role = 'lead' AND status = 'running'",
    )
    .bind(job)
    .execute(&store.pool)
    .await?
    .rows_affected())
}

/// When the job last started a lead run that ended on its own, on any
/// instance. An interrupted or abandoned run does not count: its period's
/// work is not done, and a daemon starting up runs it again. Nor does one
/// still running: its instance may die (see [`running_since`]).
pub async fn last_started(store: &Store, job: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, StoreError> {
    Ok(sqlx::query_scalar("SELECT max(started_at) FROM sync_runs WHERE kind = $1 AND role = 'lead' AND status IN ('succeeded', 'partial', 'failed')")
        .bind(job)
        .fetch_one(&store.pool)
        .await?)
}

/// When the earliest lead run of the job still marked running started, on
/// any instance: a daemon starting meanwhile joins it (helps, and takes over
/// if its instance dies).
pub async fn running_since(store: &Store, job: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, StoreError> {
    Ok(sqlx::query_scalar("SELECT min(started_at) FROM sync_runs WHERE kind = $1 AND role = 'lead' AND status = 'running'")
        .bind(job)
        .fetch_one(&store.pool)
        .await?)
}

/// Whether a lead run of the job started at or after `since` and ended on
/// its own (not interrupted or abandoned): that period's work is done.
pub async fn done_since(store: &Store, job: &str, since: chrono::DateTime<chrono::Utc>) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sync_runs WHERE kind = $1 AND role = 'lead' AND started_at >= $2
                          AND status IN ('succeeded', 'partial', 'failed'))",
    )
    .bind(job)
    .bind(since)
    .fetch_one(&store.pool)
    .await?)
}

/// Shows this process alive on its running runs.
pub async fn heartbeat(store: &Store) -> Result<u64, StoreError> {
    record_unrecorded(store).await?;
    Ok(sqlx::query("UPDATE sync_runs SET heartbeat_at = now() WHERE instance = $1 AND status = 'running'")
        .bind(instance_name())
        .execute(&store.pool)
        .await?
        .rows_affected())
}

/// How often a process shows life on its running runs, and how long without
/// it makes a run abandoned (on any host).
pub const HEARTBEAT_EVERY: std::time::Duration = std::time::Duration::from_secs(15);
pub const ABANDONED_AFTER: std::time::Duration = std::time::Duration::from_secs(120);

/// Marks `abandoned` the running runs whose heartbeat stopped `after` ago.
pub async fn abandon_stale(store: &Store, after: std::time::Duration) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "UPDATE sync_runs SET finished_at = now(), status = 'abandoned',
                error = COALESCE(error, 'its heartbeat stopped: the process or its machine went away'),
                error_code = COALESCE(error_code, 'heartbeat_stopped')
         WHERE status = 'running' AND heartbeat_at < now() - make_interval(secs => $1)",
    )
    .bind(after.as_secs_f64())
    .execute(&store.pool)
    .await?
    .rows_affected())
}

/// Keeps this process's running runs' heartbeat fresh until the task is dropped.
pub fn spawn_heartbeat(store: &Store) -> tokio::task::JoinHandle<()> {
    let store = store.handle();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(HEARTBEAT_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if let Err(e) = heartbeat(&store).await {
                tracing::warn!(error = %e, "could not record the runs' heartbeat");
            }
        }
    })
}

/// Finishes every run of this process still marked running: the command
/// layer calls it however the work ended, so no early return leaves one behind.
/// Returns how many it finished.
pub async fn settle_unfinished(store: &Store, status: RunStatus, error: &RunError) -> Result<u64, StoreError> {
    // Endings known but not yet written first: they say more than `status`.
    record_unrecorded(store).await?;
    let done = sqlx::query(
        "UPDATE sync_runs SET finished_at = now(), status = $2, error = COALESCE(error, $3), error_code = COALESCE(error_code, $4)
         WHERE instance = $1 AND status = 'running'",
    )
    .bind(instance_name())
    .bind(status.as_str())
    .bind(&error.text)
    .bind(error.code)
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
    /// `lead` (the job's whole work, under its lock) or `help` (claims taken while another instance led).
    pub role: String,
    pub instance: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    pub status: RunStatus,
    pub stats: serde_json::Value,
    pub error: Option<String>,
    /// What kind of error (see [`RunError::CODES`]).
    pub error_code: Option<String>,
}

/// Runs, newest first: of one job, and only those that did not succeed.
pub async fn history(store: &Store, job: Option<&str>, failed_only: bool, limit: i64) -> Result<Vec<RunLine>, StoreError> {
    scoped_history(store, None, job, failed_only, limit).await
}

/// As [`history`], as a cooperative's staff may see it (`scope`: their
/// cooperative; `None`: everything): the runs for their cooperative whole,
/// and the city-wide jobs' runs as a summary (when and how they ended, no
/// error or figures, which may name other cooperatives). Other runs (another
/// cooperative's import, an import of many) are left out.
pub async fn scoped_history(store: &Store, scope: Option<i64>, job: Option<&str>, failed_only: bool, limit: i64) -> Result<Vec<RunLine>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, kind AS job, role, instance, started_at, finished_at, status,
                CASE WHEN $4::bigint IS NULL OR cooperative_id = $4 THEN stats ELSE '{}'::jsonb END AS stats,
                CASE WHEN $4::bigint IS NULL OR cooperative_id = $4 THEN error END AS error, error_code
         FROM sync_runs
         WHERE ($1::text IS NULL OR kind = $1) AND (NOT $2 OR status NOT IN ('succeeded', 'running'))
           AND ($4::bigint IS NULL OR cooperative_id = $4 OR (cooperative_id IS NULL AND kind = ANY($5)))
         ORDER BY started_at DESC, id DESC LIMIT $3",
    )
    .bind(job)
    .bind(failed_only)
    .bind(limit.clamp(1, 100_000))
    .bind(scope)
    // The jobs whose runs serve every cooperative at once.
    .bind(Job::ALL.map(|j| j.name().to_owned()).to_vec())
    .fetch_all(&store.pool)
    .await?)
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
                error = COALESCE(error, 'its process ended without finishing it'),
                error_code = COALESCE(error_code, 'process_ended')
         WHERE status = 'running' AND instance = ANY($1)",
    )
    .bind(&dead)
    .execute(&store.pool)
    .await?;
    Ok(done.rows_affected())
}

/// Records how a run ended. An ending that cannot be written (the database
/// away for a moment) is kept and written by this process's next
/// [`heartbeat`] or [`settle_unfinished`], so a run whose work is over does
/// not stay `running` while its process lives on (a daemon).
pub async fn finish(store: &Store, id: i64, status: RunStatus, stats: serde_json::Value, error: Option<RunError>) -> Result<(), StoreError> {
    let ending = Ending { id, status, stats, error };
    let written = write_ending(store, &ending).await;
    if written.is_err() {
        tracing::warn!(run = id, "the run's end could not be recorded: it is recorded again with the next heartbeat");
        if let Ok(mut unrecorded) = UNRECORDED.lock() {
            unrecorded.push(ending);
        }
    }
    written
}

/// A run's end, as [`finish`] records it.
#[derive(Debug)]
struct Ending {
    id: i64,
    status: RunStatus,
    stats: serde_json::Value,
    error: Option<RunError>,
}

/// Why a run ended badly: a code (one of [`RunError::CODES`]) that the
/// dashboard says in the page's language, and the error as the command line
/// says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunError {
    pub code: &'static str,
    pub text: String,
}

impl RunError {
    /// Every code a run's error may carry.
    pub const CODES: [&'static str; 10] =
        ["interrupted", "busy", "database", "configuration", "file", "mapping", "lost_lock", "heartbeat_stopped", "process_ended", "failed"];

    pub fn new(code: &'static str, error: &impl std::fmt::Display) -> Self {
        debug_assert!(Self::CODES.contains(&code), "{code}");
        Self { code, text: error.to_string() }
    }
}

/// This process's run endings not yet written.
static UNRECORDED: std::sync::Mutex<Vec<Ending>> = std::sync::Mutex::new(Vec::new());

async fn write_ending(store: &Store, e: &Ending) -> Result<(), StoreError> {
    sqlx::query("UPDATE sync_runs SET finished_at = now(), heartbeat_at = now(), status = $2, stats = $3, error = $4, error_code = $5 WHERE id = $1")
        .bind(e.id)
        .bind(e.status.as_str())
        .bind(&e.stats)
        .bind(e.error.as_ref().map(|e| e.text.as_str()))
        .bind(e.error.as_ref().map(|e| e.code))
        .execute(&store.pool)
        .await?;
    Ok(())
}

/// Writes the run endings [`finish`] could not; those still failing stay kept.
async fn record_unrecorded(store: &Store) -> Result<(), StoreError> {
    let mut pending = UNRECORDED.lock().map(|mut u| std::mem::take(&mut *u)).unwrap_or_default().into_iter();
    while let Some(ending) = pending.next() {
        if let Err(e) = write_ending(store, &ending).await {
            if let Ok(mut u) = UNRECORDED.lock() {
                u.extend(std::iter::once(ending).chain(pending));
            }
            return Err(e);
        }
        tracing::info!(run = ending.id, status = ending.status.as_str(), "the run's end is now recorded");
    }
    Ok(())
}
