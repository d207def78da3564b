//! The dashboard's accounts, sessions, failed logins and audit log.
//!
//! A session's id lives only in its cookie; the table keeps its SHA-256, so
//! reading the table opens no session. Passwords are hashed (argon2id) by the
//! caller (`web::auth`); this module only stores the PHC string.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::{Store, StoreError};

/// What a user may see and do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The city's procurement liaison: everything.
    Liaison,
    /// A cooperative's staff: their own cooperative only.
    Cooperative,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Liaison => "liaison",
            Role::Cooperative => "cooperative",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "liaison" => Some(Role::Liaison),
            "cooperative" => Some(Role::Cooperative),
            _ => None,
        }
    }
}

/// A signed-in user, as a request sees them.
#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub role: Role,
    /// The cooperative's id and code, for a cooperative user.
    pub cooperative: Option<(i64, String)>,
}

impl User {
    /// The cooperative a query is limited to: `None` for the liaison (all).
    pub fn scope(&self) -> Option<i64> {
        self.cooperative.as_ref().map(|c| c.0)
    }

    pub fn is_liaison(&self) -> bool {
        self.role == Role::Liaison
    }
}

/// A line of `users list`.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Account {
    pub username: String,
    pub role: String,
    pub cooperative: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: Option<DateTime<Utc>>,
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("the user name {0:?} is not valid: use 2 to 40 lower-case letters, digits, dots, dashes or underscores, starting with a letter or digit")]
    BadName(String),
    #[error("a user named {0:?} already exists")]
    Exists(String),
    #[error("no user named {0:?}")]
    NotFound(String),
    #[error("no cooperative with the code {0:?} (see `katalog-bridge cooperatives list` or import cooperatives.csv)")]
    UnknownCooperative(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for UserError {
    fn from(e: sqlx::Error) -> Self {
        UserError::Store(e.into())
    }
}

/// Whether `name` is a valid user name (the table's check, said first).
pub fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    (2..=40).contains(&b.len())
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'-'))
}

/// Creates an account. `cooperative` is the cooperative's code, for a cooperative user.
pub async fn add(store: &Store, username: &str, role: Role, cooperative: Option<&str>, password_hash: &str) -> Result<(), UserError> {
    if !valid_name(username) {
        return Err(UserError::BadName(username.to_owned()));
    }
    let coop_id = match cooperative {
        Some(code) => Some(
            sqlx::query_scalar::<_, i64>("SELECT id FROM cooperatives WHERE code = $1")
                .bind(code)
                .fetch_optional(&store.pool)
                .await?
                .ok_or_else(|| UserError::UnknownCooperative(code.to_owned()))?,
        ),
        None => None,
    };
    let inserted = sqlx::query("INSERT INTO users (username, role, cooperative_id, password_hash) VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO NOTHING")
        .bind(username)
        .bind(role.as_str())
        .bind(coop_id)
        .bind(password_hash)
        .execute(&store.pool)
        .await?;
    if inserted.rows_affected() == 0 {
        return Err(UserError::Exists(username.to_owned()));
    }
    Ok(())
}

/// Every account, with when it was last active.
pub async fn list(store: &Store) -> Result<Vec<Account>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT u.username, u.role, c.code AS cooperative, u.disabled_at, u.created_at,
                (SELECT max(s.last_seen_at) FROM web_sessions s WHERE s.user_id = u.id) AS last_seen_at
         FROM users u LEFT JOIN cooperatives c ON c.id = u.cooperative_id ORDER BY u.username",
    )
    .fetch_all(&store.pool)
    .await?)
}

/// Disables an account and ends its sessions.
pub async fn disable(store: &Store, username: &str) -> Result<(), UserError> {
    let mut tx = store.pool.begin().await?;
    let id: Option<i64> =
        sqlx::query_scalar("UPDATE users SET disabled_at = coalesce(disabled_at, now()), updated_at = now() WHERE username = $1 RETURNING id")
            .bind(username)
            .fetch_optional(&mut *tx)
            .await?;
    let id = id.ok_or_else(|| UserError::NotFound(username.to_owned()))?;
    sqlx::query("DELETE FROM web_sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Sets a new password (and enables the account again); its sessions end.
pub async fn set_password(store: &Store, username: &str, password_hash: &str) -> Result<(), UserError> {
    let mut tx = store.pool.begin().await?;
    let id: Option<i64> = sqlx::query_scalar("UPDATE users SET password_hash = $2, disabled_at = NULL, updated_at = now() WHERE username = $1 RETURNING id")
        .bind(username)
        .bind(password_hash)
        .fetch_optional(&mut *tx)
        .await?;
    let id = id.ok_or_else(|| UserError::NotFound(username.to_owned()))?;
    sqlx::query("DELETE FROM web_sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM login_failures WHERE username = $1").bind(username).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// What a login checks: the id and password hash of an enabled account.
pub async fn credentials(store: &Store, username: &str) -> Result<Option<(i64, String)>, StoreError> {
    Ok(sqlx::query_as("SELECT id, password_hash FROM users WHERE username = $1 AND disabled_at IS NULL").bind(username).fetch_optional(&store.pool).await?)
}

fn hash_id(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// Starts a session for `user_id` with the cookie's `id` and its CSRF token.
pub async fn start_session(store: &Store, id: &str, user_id: i64, csrf: &str, address: &str) -> Result<(), StoreError> {
    let mut tx = store.pool.begin().await?;
    sqlx::query("INSERT INTO web_sessions (id_hash, user_id, csrf_token, address) VALUES ($1, $2, $3, $4)")
        .bind(hash_id(id))
        .bind(user_id)
        .bind(csrf)
        .bind(address)
        .execute(&mut *tx)
        .await?;
    // A successful login forgives the account's failures (not those of the
    // address, with other accounts) and its own check.
    sqlx::query("DELETE FROM login_failures WHERE username = (SELECT username FROM users WHERE id = $1)").bind(user_id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// A live session: its user and CSRF token. A session idle longer than
/// `idle_secs`, or older than `max_secs`, is over (and removed); one seen
/// again has its last-seen time moved on (at most once a minute).
pub async fn session(store: &Store, id: &str, idle_secs: f64, max_secs: f64) -> Result<Option<(User, String)>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        username: String,
        role: String,
        cooperative_id: Option<i64>,
        code: Option<String>,
        csrf_token: String,
        live: bool,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT u.id, u.username, u.role, u.cooperative_id, c.code, s.csrf_token,
                (s.last_seen_at > now() - make_interval(secs => $2) AND s.created_at > now() - make_interval(secs => $3)) AS live
         FROM web_sessions s JOIN users u ON u.id = s.user_id LEFT JOIN cooperatives c ON c.id = u.cooperative_id
         WHERE s.id_hash = $1 AND u.disabled_at IS NULL",
    )
    .bind(hash_id(id))
    .bind(idle_secs)
    .bind(max_secs)
    .fetch_optional(&store.pool)
    .await?;
    let Some(Row { id: user_id, username, role, cooperative_id: coop_id, code: coop_code, csrf_token: csrf, live }) = row else { return Ok(None) };
    if !live {
        end_session(store, id).await?;
        return Ok(None);
    }
    sqlx::query("UPDATE web_sessions SET last_seen_at = now() WHERE id_hash = $1 AND last_seen_at < now() - interval '1 minute'")
        .bind(hash_id(id))
        .execute(&store.pool)
        .await?;
    let Some(role) = Role::parse(&role) else { return Ok(None) };
    let cooperative = coop_id.zip(coop_code);
    Ok(Some((User { id: user_id, username, role, cooperative }, csrf)))
}

/// Ends a session (logout).
pub async fn end_session(store: &Store, id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM web_sessions WHERE id_hash = $1").bind(hash_id(id)).execute(&store.pool).await?;
    Ok(())
}

/// Removes sessions idle longer than `idle_secs` and failed logins older than a day.
pub async fn sweep(store: &Store, idle_secs: f64) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM web_sessions WHERE last_seen_at < now() - make_interval(secs => $1)").bind(idle_secs).execute(&store.pool).await?;
    sqlx::query("DELETE FROM login_failures WHERE at < now() - interval '1 day'").execute(&store.pool).await?;
    Ok(())
}

/// The failed logins (and checks under way) that bear on one attempt:
/// those of the account from the same address and those of the address
/// (within the throttle's window, each with its last; tries held back
/// included), and the checked ones of the account from every address in the
/// last hour.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoginCounts {
    pub pair: i64,
    pub pair_last: Option<DateTime<Utc>>,
    pub address: i64,
    pub address_last: Option<DateTime<Utc>>,
    pub account_hour: i64,
}

/// An attempt allowed to check its password: its row counts as a failure
/// until [`login_checked`] says otherwise.
#[derive(Debug, Clone, Copy)]
pub struct Attempt(i64);

/// Counts what bears on an attempt and records it, all under the account's
/// lock: to be checked if `allow` lets it (it counts as a failure until
/// [`login_failed`] or [`start_session`] settles it), else held back (it
/// lengthens its address's wait, not the account's count across addresses).
/// However many attempts come at once, no more are checked than the counts
/// allow. The lock is held for two short statements, never across the check.
pub async fn reserve_login(
    store: &Store,
    username: &str,
    address: &str,
    window_secs: f64,
    allow: impl FnOnce(&LoginCounts) -> bool,
) -> Result<(LoginCounts, Option<Attempt>), StoreError> {
    let username: String = username.chars().take(80).collect();
    let mut tx = store.pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('katalog-bridge login ' || $1, 0))").bind(&username).execute(&mut *tx).await?;
    let (pair, pair_last, address_n, address_last, account_hour): (i64, Option<DateTime<Utc>>, i64, Option<DateTime<Utc>>, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE username = $1 AND address = $2 AND at > now() - make_interval(secs => $3)),
                max(at) FILTER (WHERE username = $1 AND address = $2 AND at > now() - make_interval(secs => $3)),
                count(*) FILTER (WHERE address = $2 AND at > now() - make_interval(secs => $3)),
                max(at) FILTER (WHERE address = $2 AND at > now() - make_interval(secs => $3)),
                count(*) FILTER (WHERE username = $1 AND outcome <> 'held' AND at > now() - interval '1 hour')
         FROM login_failures
         WHERE (username = $1 AND at > now() - greatest(interval '1 hour', make_interval(secs => $3)))
            OR (address = $2 AND at > now() - make_interval(secs => $3))",
    )
    .bind(&username)
    .bind(address)
    .bind(window_secs)
    .fetch_one(&mut *tx)
    .await?;
    let counts = LoginCounts { pair, pair_last, address: address_n, address_last, account_hour };
    let allowed = allow(&counts);
    let id: i64 = sqlx::query_scalar("INSERT INTO login_failures (username, address, outcome) VALUES ($1, $2, $3) RETURNING id")
        .bind(&username)
        .bind(address)
        .bind(if allowed { "checking" } else { "held" })
        .fetch_one(&mut *tx)
        .await?;
    let attempt = allowed.then_some(Attempt(id));
    tx.commit().await?;
    Ok((counts, attempt))
}

/// The password of a recorded attempt was wrong: it stays a failure. (A
/// right one is forgiven by [`start_session`].)
pub async fn login_failed(store: &Store, attempt: Attempt) -> Result<(), StoreError> {
    sqlx::query("UPDATE login_failures SET outcome = 'failed' WHERE id = $1").bind(attempt.0).execute(&store.pool).await?;
    Ok(())
}

/// Lifts a lock on an account that many addresses failed to log in to:
/// forgets its failed logins. Returns how many were forgotten.
pub async fn unlock(store: &Store, username: &str) -> Result<u64, StoreError> {
    Ok(sqlx::query("DELETE FROM login_failures WHERE username = $1").bind(username).execute(&store.pool).await?.rows_affected())
}

/// Writes an audit entry for a login refused or held back, by the name tried
/// (the account's, when it exists) and the address it came from.
pub async fn audit_login(store: &Store, username: &str, address: &str, action: &str, detail: serde_json::Value) -> Result<(), StoreError> {
    let username: String = username.chars().take(80).collect();
    let mut detail = detail;
    if let Some(map) = detail.as_object_mut() {
        map.insert("address".into(), serde_json::Value::String(address.to_owned()));
    }
    sqlx::query(
        "INSERT INTO audit_log (user_id, username, cooperative_id, action, subject, detail)
         SELECT u.id, $1, u.cooperative_id, $2, $3, $4 FROM (SELECT 1) one LEFT JOIN users u ON u.username = $1",
    )
    .bind(&username)
    .bind(action)
    .bind(address)
    .bind(detail)
    .execute(&store.pool)
    .await?;
    Ok(())
}

/// One entry of the audit log.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub username: String,
    pub cooperative: Option<String>,
    pub action: String,
    pub subject: Option<String>,
    pub detail: serde_json::Value,
}

/// Writes an audit entry for an action `user` took.
pub async fn audit(
    store: &Store,
    user: &User,
    cooperative_id: Option<i64>,
    action: &str,
    subject: Option<&str>,
    detail: serde_json::Value,
) -> Result<(), StoreError> {
    audit_as(store, (Some(user.id), &user.username), cooperative_id, action, subject, detail).await
}

/// Writes an audit entry for an action taken by `(user row, name)`: a
/// dashboard user, or the operator at the command line (no user row).
pub async fn audit_as(
    store: &Store,
    (user_id, name): (Option<i64>, &str),
    cooperative_id: Option<i64>,
    action: &str,
    subject: Option<&str>,
    detail: serde_json::Value,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO audit_log (user_id, username, cooperative_id, action, subject, detail) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(user_id)
        .bind(name)
        .bind(cooperative_id)
        .bind(action)
        .bind(subject)
        .bind(detail)
        .execute(&store.pool)
        .await?;
    Ok(())
}

/// The newest audit entries within `scope` (a cooperative, or all), `limit` from `offset`.
pub async fn audit_log(store: &Store, scope: Option<i64>, limit: i64, offset: i64) -> Result<Vec<AuditEntry>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT a.at, a.username, c.code AS cooperative, a.action, a.subject, a.detail
         FROM audit_log a LEFT JOIN cooperatives c ON c.id = a.cooperative_id
         WHERE $1::bigint IS NULL OR a.cooperative_id = $1
         ORDER BY a.at DESC, a.id DESC LIMIT $2 OFFSET $3",
    )
    .bind(scope)
    .bind(limit)
    .bind(offset)
    .fetch_all(&store.pool)
    .await?)
}
