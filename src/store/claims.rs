//! Claimed work: the tables whose rows are claimed (`claimed_by`,
//! `claimed_until`, a lease), the claimant that renews a run's leases while
//! it lives, the release of claims whose process died, the recording of an
//! attempt (which lets go of the claim), and the one policy of when failed
//! work is tried again. Each table's own claim query stays with its rows
//! (`publications`, `uploads`, `orders`, `notifications`), and so do the
//! columns only one table has.

use super::runs::{dead_local, host_name, instance_name};
use super::{Store, StoreError};

/// When work that failed is tried again, by why it failed: the one place
/// these waits are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// A fault that may pass by itself: a timeout, a 5xx, a 429 after its
    /// wait, a cut connection, a catalogue that took a document but said nothing.
    Transient,
    /// The account is refused or not configured: a person must act first.
    Account,
    /// An order's detail could not be fetched or read.
    Unreadable,
    /// A value the database refuses even without its raw copy: only a change
    /// at the source helps (which brings the order back sooner).
    Refused,
}

impl Retry {
    /// Seconds until the next try.
    pub const fn after_secs(self) -> f64 {
        match self {
            Retry::Transient => 60.0,
            Retry::Account => 600.0,
            Retry::Unreadable => 300.0,
            Retry::Refused => 86_400.0,
        }
    }

    /// A delivery's wait after `attempt` failed attempts: 30 s doubling, at most an hour.
    pub fn backoff_secs(attempt: i32) -> i64 {
        (30_i64 << attempt.clamp(0, 12)).min(3600)
    }
}

/// The tables whose rows are claimed (`claimed_by`, `claimed_until`).
#[derive(Debug, Clone, Copy)]
pub enum Claims {
    Publications,
    Uploads,
    OrderDetails,
    Notifications,
    Answers,
}

impl Claims {
    pub const ALL: [Claims; 5] = [Claims::Publications, Claims::Uploads, Claims::OrderDetails, Claims::Answers, Claims::Notifications];

    /// The state that means done and sent (its time kept in `sent_at`), for
    /// the tables that keep one.
    fn sent_state(self) -> Option<&'static str> {
        match self {
            Claims::Uploads => Some("received"),
            Claims::Answers | Claims::Notifications => Some("sent"),
            Claims::Publications | Claims::OrderDetails => None,
        }
    }

    fn table(self) -> &'static str {
        match self {
            Claims::Publications => "publications",
            Claims::Uploads => "catalogue_uploads",
            Claims::OrderDetails => "order_detail_claims",
            Claims::Answers => "order_responses",
            Claims::Notifications => "notifications",
        }
    }
}

/// The name a run's claims carry in `claimed_by`, and, while it lives, the
/// renewal of their leases every third of a lease: a batch slower than its
/// lease (a slow catalogue) is not taken over by another instance while this
/// one still works on it. Dropped (the run over, or the process dead), the
/// renewal stops and the leases run out.
#[derive(Debug)]
pub struct Claimant {
    pub name: String,
    renewal: tokio::task::JoinHandle<()>,
}

impl Claimant {
    pub fn for_run(store: &Store, run: i64, lease: std::time::Duration) -> Self {
        Self::named(store, format!("{}:run{run}", instance_name()), lease)
    }

    /// A claimant for work done outside a run (a notification pass): a name
    /// of its own, unique in this process, so two passes at once never take
    /// each other's claims for their own.
    pub fn for_pass(store: &Store, what: &str, lease: std::time::Duration) -> Self {
        static PASSES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let n = PASSES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Self::named(store, format!("{}:{what}{n}", instance_name()), lease)
    }

    fn named(store: &Store, name: String, lease: std::time::Duration) -> Self {
        let renewal = tokio::spawn(renew_leases(store.handle(), name.clone(), lease));
        Self { name, renewal }
    }
}

impl Drop for Claimant {
    fn drop(&mut self) {
        self.renewal.abort();
    }
}

async fn renew_leases(store: Store, claimant: String, lease: std::time::Duration) {
    let every = (lease / 3).max(std::time::Duration::from_millis(100));
    loop {
        tokio::time::sleep(every).await;
        for claims in Claims::ALL {
            if let Err(e) = renew_claims(&store, claims, &claimant, lease).await {
                tracing::warn!(error = %e, ?claims, "could not renew this run's leases");
            }
        }
    }
}

/// Extends to `lease` from now the leases `claimant` still holds on `claims`
/// (one already run out may have been taken by another instance: left alone).
pub async fn renew_claims(store: &Store, claims: Claims, claimant: &str, lease: std::time::Duration) -> Result<u64, StoreError> {
    let table = claims.table();
    Ok(sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {table} SET claimed_until = now() + make_interval(secs => $2) WHERE claimed_by = $1 AND claimed_until > now()"
    )))
    .bind(claimant)
    .bind(lease.as_secs_f64())
    .execute(&store.pool)
    .await?
    .rows_affected())
}

/// What one attempt at a claimed row came to, in the columns every table of
/// claimed work shares (`state`, `attempts`, `last_error`, `next_attempt_at`).
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// The row's new state; `None` leaves it.
    pub state: Option<&'a str>,
    /// Why it failed; `None` clears the last error.
    pub error: Option<&'a str>,
    /// Tried again after this many seconds; `None`: not due again (a
    /// notification keeps its time, the one column that cannot be empty).
    pub retry_secs: Option<f64>,
    /// Whether it counts as an attempt (an answer made moot does not).
    pub counted: bool,
}

/// Records an attempt on row `id` of `claims` and lets go of its claim, only
/// while `claimant` still holds it (a claim that ran out may be someone
/// else's now). Returns whether it was recorded; the caller then writes the
/// columns only its table has, in the same transaction.
pub async fn record_attempt(conn: &mut sqlx::PgConnection, claims: Claims, id: i64, claimant: &str, attempt: Attempt<'_>) -> Result<bool, StoreError> {
    let table = claims.table();
    let sent = claims.sent_state().map_or_else(String::new, |sent| format!(", sent_at = CASE WHEN $3 = '{sent}' THEN now() ELSE sent_at END"));
    let idle = if matches!(claims, Claims::Notifications) { "next_attempt_at" } else { "NULL" };
    let touched = if matches!(claims, Claims::Publications) { ", updated_at = now()" } else { "" };
    Ok(sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {table} SET state = COALESCE($3, state), last_error = $4,
                next_attempt_at = CASE WHEN $5::float8 IS NULL THEN {idle} ELSE now() + make_interval(secs => $5::float8) END,
                attempts = attempts + $6, claimed_by = NULL, claimed_until = NULL{sent}{touched}
         WHERE id = $1 AND claimed_by = $2"
    )))
    .bind(id)
    .bind(claimant)
    .bind(attempt.state)
    .bind(attempt.error)
    .bind(attempt.retry_secs)
    .bind(i32::from(attempt.counted))
    .execute(&mut *conn)
    .await?
    .rows_affected()
        > 0)
}

/// Releases the claims of processes of this host that are gone (killed
/// mid-run), so their work is picked up at once rather than when the lease
/// runs out. Claims of live processes, and of other hosts, wait for their lease.
pub async fn release_dead_local_claims(store: &Store, claims: Claims) -> Result<u64, StoreError> {
    let table = claims.table();
    let holders: Vec<String> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT DISTINCT claimed_by FROM {table} WHERE claimed_by LIKE $1 || ':%' AND claimed_until > now()")))
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
