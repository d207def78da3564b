//! A request quota shared by every job and every daemon on this database: a
//! sliding window per minute and per hour, kept as the times of the requests
//! sent (`api_requests`), taken under a transaction-scoped advisory lock so
//! two takers never both see the last free slot.

use std::time::Duration;

use super::{Store, StoreError};

/// The advisory-lock class of quotas ("KB" and 2; the key is the API's name hashed).
const QUOTA_LOCKS: i32 = 0x4B42_0002;

/// Margins on each window: a request counted here may reach the server a
/// little later, so a window is held a little longer than the server's.
const MINUTE: f64 = 62.0;
const HOUR: f64 = 3602.0;

/// A quota: at most `per_minute` requests in any minute and `per_hour` in any hour.
#[derive(Debug, Clone)]
pub struct Quota {
    pub api: String,
    pub per_minute: u32,
    pub per_hour: u32,
}

/// A quota and the database it is kept in, to be held by a client that
/// outlives any one borrow of the store (the pool is shared, not copied).
#[derive(Debug, Clone)]
pub struct Shared {
    pool: sqlx::PgPool,
    pub quota: Quota,
}

impl Shared {
    pub fn new(store: &Store, quota: Quota) -> Self {
        Self { pool: store.pool.clone(), quota }
    }

    /// Takes a slot for one request now, or says how long until one may free.
    pub async fn take(&self) -> Result<Option<Duration>, StoreError> {
        take(&self.pool, &self.quota).await
    }
}

async fn take(pool: &sqlx::PgPool, quota: &Quota) -> Result<Option<Duration>, StoreError> {
    let mut tx = pool.begin().await?;
    // A request counted and lost in a crash costs nothing (the server keeps its own
    // count): the commit does not wait for the WAL flush, once per request.
    sqlx::query("SET LOCAL synchronous_commit = off").execute(&mut *tx).await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))").bind(QUOTA_LOCKS).bind(&quota.api).execute(&mut *tx).await?;
    let (minute, hour, minute_frees, hour_frees): (i64, i64, Option<f64>, Option<f64>) = sqlx::query_as(
        "WITH w AS (SELECT at FROM api_requests WHERE api = $1 AND at > clock_timestamp() - make_interval(secs => $3))
         SELECT count(*) FILTER (WHERE at > clock_timestamp() - make_interval(secs => $2)),
                count(*),
                EXTRACT(EPOCH FROM min(at) FILTER (WHERE at > clock_timestamp() - make_interval(secs => $2)) + make_interval(secs => $2) - clock_timestamp())::float8,
                EXTRACT(EPOCH FROM min(at) + make_interval(secs => $3) - clock_timestamp())::float8
         FROM w",
    )
    .bind(&quota.api)
    .bind(MINUTE)
    .bind(HOUR)
    .fetch_one(&mut *tx)
    .await?;
    let wait = if minute >= i64::from(quota.per_minute.max(1)) {
        Some(minute_frees.unwrap_or(1.0))
    } else if hour >= i64::from(quota.per_hour.max(1)) {
        Some(hour_frees.unwrap_or(1.0))
    } else {
        None
    };
    if let Some(secs) = wait {
        tx.rollback().await?;
        return Ok(Some(Duration::from_secs_f64(secs.clamp(0.05, HOUR))));
    }
    sqlx::query("INSERT INTO api_requests (api, at) VALUES ($1, clock_timestamp())").bind(&quota.api).execute(&mut *tx).await?;
    // The oldest rows go now and then (one request in a hundred), by the index.
    if hour % 100 == 0 {
        sqlx::query("DELETE FROM api_requests WHERE api = $1 AND at < clock_timestamp() - interval '2 hours'").bind(&quota.api).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(None)
}

/// Requests counted in the last minute and the last hour (for reports and tests).
pub async fn used(store: &Store, api: &str) -> Result<(i64, i64), StoreError> {
    Ok(sqlx::query_as(
        "SELECT count(*) FILTER (WHERE at > clock_timestamp() - interval '60 seconds'), count(*)
         FROM api_requests WHERE api = $1 AND at > clock_timestamp() - interval '1 hour'",
    )
    .bind(api)
    .fetch_one(&store.pool)
    .await?)
}
