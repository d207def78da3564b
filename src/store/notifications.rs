//! The notifications outbox: one row per order, kind and channel (unique),
//! queued when an order is seen waiting, claimed with a lease, sent, and
//! retried with backoff when sending fails.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::claims::{self, Attempt, Claims};
use super::{Store, StoreError};
use crate::domain::notification::{NotificationChannel, NotificationKind, NotificationState};
use crate::domain::order::OrderStatus;

/// An order waiting for its seller's confirmation, with what decides its notifications.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Waiting {
    pub order_id: i64,
    pub deadline: Option<DateTime<Utc>>,
    pub email: Option<String>,
    pub whatsapp: Option<String>,
}

/// Orders waiting for confirmation whose lines are stored (a notification
/// says what was ordered) and whose deadline has not passed.
pub async fn waiting(store: &Store, now: DateTime<Utc>) -> Result<Vec<Waiting>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT o.id AS order_id, o.deadline, NULLIF(trim(c.email), '') AS email, c.whatsapp
         FROM purchase_orders o JOIN cooperatives c ON c.id = o.cooperative_id
         WHERE o.status = 'WAITING_SELLER_CONFIRMATION' AND NOT o.needs_detail AND o.deadline > $1",
    )
    .bind(now)
    .fetch_all(&store.pool)
    .await?)
}

/// Queues notifications (order, kind, channel, recipient; for a kind about
/// the plan, the plan notice instead of the order); those queued before are
/// left as they are. Returns how many are new.
pub async fn queue(store: &Store, rows: &[(i64, NotificationKind, NotificationChannel, String)]) -> Result<u64, StoreError> {
    let (plan, rows): (Vec<_>, Vec<_>) = rows.iter().cloned().partition(|r| r.1.about_plan());
    let told = queue_plan(store, &plan).await?;
    if rows.is_empty() {
        return Ok(told);
    }
    let orders: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let kinds: Vec<&str> = rows.iter().map(|r| r.1.name()).collect();
    let channels: Vec<&str> = rows.iter().map(|r| r.2.name()).collect();
    let recipients: Vec<&str> = rows.iter().map(|r| r.3.as_str()).collect();
    Ok(sqlx::query(
        "INSERT INTO notifications (order_id, kind, channel, recipient)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])
         ON CONFLICT (order_id, kind, channel) WHERE member_id IS NULL DO NOTHING",
    )
    .bind(&orders)
    .bind(&kinds)
    .bind(&channels)
    .bind(&recipients)
    .execute(&store.pool)
    .await?
    .rows_affected()
        + told)
}

async fn queue_plan(store: &Store, rows: &[(i64, NotificationKind, NotificationChannel, String)]) -> Result<u64, StoreError> {
    if rows.is_empty() {
        return Ok(0);
    }
    Ok(sqlx::query(
        "INSERT INTO notifications (rup_notice_id, kind, channel, recipient)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])
         ON CONFLICT (rup_notice_id, channel) WHERE rup_notice_id IS NOT NULL DO NOTHING",
    )
    .bind(rows.iter().map(|r| r.0).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.1.name()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.2.name()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.3.as_str()).collect::<Vec<_>>())
    .execute(&store.pool)
    .await?
    .rows_affected())
}

/// A claimed notification, with the order it is about (for one about the
/// plan: `rup_notice_id`, the package's code in `remote_order_id`, its work
/// unit in `buyer` and its budget in `total`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Due {
    pub id: i64,
    pub kind: NotificationKind,
    pub channel: NotificationChannel,
    pub recipient: String,
    pub attempts: i32,
    /// `None` for a notification about the plan.
    pub order_status: Option<OrderStatus>,
    pub remote_order_id: String,
    pub cooperative: String,
    pub cooperative_name: String,
    pub buyer: Option<String>,
    pub total: Decimal,
    pub deadline: Option<DateTime<Utc>>,
    /// The member it is for, when it is for a member (`member_order`).
    pub member_id: Option<i64>,
    /// The plan notice it tells, for a notification about the plan.
    pub rup_notice_id: Option<i64>,
}

/// Claims up to `limit` notifications due now, for `lease_secs`.
pub async fn claim_due(store: &Store, instance: &str, limit: i64, lease_secs: f64) -> Result<Vec<Due>, StoreError> {
    Ok(sqlx::query_as(
        "WITH claimed AS (
             UPDATE notifications n SET claimed_by = $1, claimed_until = now() + make_interval(secs => $2)
             WHERE n.id IN (SELECT id FROM notifications
                            WHERE state = 'pending' AND next_attempt_at <= now()
                              AND (claimed_until IS NULL OR claimed_until < now())
                            ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
             RETURNING n.*)
         SELECT n.id, n.kind, n.channel, n.recipient, n.attempts, o.status AS order_status,
                COALESCE(o.remote_order_id, r.kd_rup) AS remote_order_id, c.code AS cooperative, c.name AS cooperative_name,
                COALESCE(o.nama_satker, p.nama_satker) AS buyer, COALESCE(o.total, p.pagu) AS total, o.deadline, n.member_id, n.rup_notice_id
         FROM claimed n LEFT JOIN purchase_orders o ON o.id = n.order_id
         LEFT JOIN rup_notices r ON r.id = n.rup_notice_id LEFT JOIN rup_packages p ON p.kd_rup = r.kd_rup
         JOIN cooperatives c ON c.id = COALESCE(o.cooperative_id, r.cooperative_id)
         ORDER BY n.id",
    )
    .bind(instance)
    .bind(lease_secs)
    .bind(limit)
    .fetch_all(&store.pool)
    .await?)
}

/// A member to tell of an order that took their products' stock lately.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberToTell {
    pub order_id: i64,
    pub member_id: i64,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// The members with a phone or an e-mail whose products are in an order
/// accepted (its stock taken) in the last three days, and who have not
/// been told of it.
pub async fn members_to_tell(store: &Store) -> Result<Vec<MemberToTell>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT DISTINCT o.id AS order_id, m.id AS member_id, NULLIF(trim(m.phone), '') AS phone, NULLIF(trim(m.email), '') AS email
         FROM stock_moves s JOIN purchase_orders o ON o.id = s.order_id
         JOIN order_lines l ON l.order_id = o.id JOIN members m ON m.id = l.member_id
         WHERE s.kind = 'taken' AND s.at > now() - interval '3 days' AND o.stock_state = 'taken'
           AND (NULLIF(trim(m.phone), '') IS NOT NULL OR NULLIF(trim(m.email), '') IS NOT NULL)
           AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.order_id = o.id AND n.kind = 'member_order' AND n.member_id = m.id)
         ORDER BY o.id, m.id",
    )
    .fetch_all(&store.pool)
    .await?)
}

/// Queues member notifications (order, member, channel, recipient), each
/// member told of an order once. Returns how many are new.
pub async fn queue_for_members(store: &Store, rows: &[(i64, i64, NotificationChannel, String)]) -> Result<u64, StoreError> {
    if rows.is_empty() {
        return Ok(0);
    }
    Ok(sqlx::query(
        "INSERT INTO notifications (order_id, member_id, kind, channel, recipient)
         SELECT o, m, 'member_order', c, r FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) AS t(o, m, c, r)
         ON CONFLICT (order_id, kind, member_id) WHERE member_id IS NOT NULL DO NOTHING",
    )
    .bind(rows.iter().map(|r| r.0).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.1).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.2.name()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.3.as_str()).collect::<Vec<_>>())
    .execute(&store.pool)
    .await?
    .rows_affected())
}

/// Orders that brought products to their threshold in the last three days,
/// whose cooperative has not been told: with the cooperative's e-mail and
/// WhatsApp number.
pub async fn stock_low_to_tell(store: &Store) -> Result<Vec<Waiting>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT DISTINCT o.id AS order_id, NULL::timestamptz AS deadline, NULLIF(trim(c.email), '') AS email, c.whatsapp
         FROM stock_moves s JOIN purchase_orders o ON o.id = s.order_id JOIN cooperatives c ON c.id = o.cooperative_id
         WHERE s.fell AND s.kind = 'taken' AND s.at > now() - interval '3 days'
           AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.order_id = o.id AND n.kind = 'stock_low')
         ORDER BY o.id",
    )
    .fetch_all(&store.pool)
    .await?)
}

/// The products an order brought to their threshold or below, with their stock now.
pub async fn fallen(store: &Store, remote_order_id: &str) -> Result<Vec<(String, Decimal)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT p.name, p.stock FROM stock_moves s JOIN products p ON p.id = s.product_id JOIN purchase_orders o ON o.id = s.order_id
         WHERE o.remote_order_id = $1 AND s.fell AND s.kind = 'taken' ORDER BY p.name LIMIT 100",
    )
    .bind(remote_order_id)
    .fetch_all(&store.pool)
    .await?)
}

/// A member's name and their lines of an order: description, quantity, unit.
pub async fn member_items(
    store: &Store,
    remote_order_id: &str,
    member_id: i64,
) -> Result<(String, Vec<(String, Option<Decimal>, Option<String>)>), StoreError> {
    let name: String = sqlx::query_scalar("SELECT name FROM members WHERE id = $1").bind(member_id).fetch_optional(&store.pool).await?.unwrap_or_default();
    let items = sqlx::query_as(
        "SELECT l.description, l.quantity, l.unit FROM order_lines l JOIN purchase_orders o ON o.id = l.order_id
         WHERE o.remote_order_id = $1 AND l.member_id = $2 ORDER BY l.remote_line_id LIMIT 200",
    )
    .bind(remote_order_id)
    .bind(member_id)
    .fetch_all(&store.pool)
    .await?;
    Ok((name, items))
}

/// An order's lines for a notification: description, quantity, unit, line total.
pub async fn items(store: &Store, remote_order_id: &str) -> Result<Vec<(String, Option<Decimal>, Option<String>, Decimal)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT l.description, l.quantity, l.unit, l.line_total FROM order_lines l JOIN purchase_orders o ON o.id = l.order_id
         WHERE o.remote_order_id = $1 ORDER BY l.remote_line_id LIMIT 200",
    )
    .bind(remote_order_id)
    .fetch_all(&store.pool)
    .await?)
}

/// How a send attempt ended.
#[derive(Debug, Clone)]
pub enum Sent {
    Sent,
    /// Failed; tried again after `retry_secs`, or given up when `None`.
    Failed {
        error: String,
        retry_secs: Option<f64>,
    },
    /// The order is no longer waiting: nothing to say.
    Moot,
}

/// Records an attempt and releases the claim (only this claimant's).
pub async fn record(store: &Store, instance: &str, id: i64, sent: &Sent) -> Result<(), StoreError> {
    let attempt = match sent {
        Sent::Sent => Attempt { state: Some("sent"), error: None, retry_secs: None, counted: true },
        Sent::Moot => Attempt { state: Some("moot"), error: None, retry_secs: None, counted: false },
        Sent::Failed { error, retry_secs: Some(secs) } => Attempt { state: Some("pending"), error: Some(error), retry_secs: Some(*secs), counted: true },
        Sent::Failed { error, retry_secs: None } => Attempt { state: Some("failed"), error: Some(error), retry_secs: None, counted: true },
    };
    let mut conn = store.pool.acquire().await?;
    claims::record_attempt(&mut conn, Claims::Notifications, id, instance, attempt).await?;
    Ok(())
}

/// Notifications by state (for `/metrics`).
pub async fn counts(store: &Store) -> Result<Vec<(NotificationState, i64)>, StoreError> {
    Ok(sqlx::query_as("SELECT state, count(*) FROM notifications GROUP BY state").fetch_all(&store.pool).await?)
}

/// A notification of one order, as `orders show` lists it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Shown {
    pub kind: NotificationKind,
    pub channel: NotificationChannel,
    pub recipient: String,
    pub state: NotificationState,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The notifications of an order, oldest first.
pub async fn of_order(store: &Store, order_db_id: i64) -> Result<Vec<Shown>, StoreError> {
    Ok(sqlx::query_as("SELECT kind, channel, recipient, state, attempts, last_error, sent_at FROM notifications WHERE order_id = $1 ORDER BY id")
        .bind(order_db_id)
        .fetch_all(&store.pool)
        .await?)
}

/// Each cooperative's contacts by its code: (e-mail, WhatsApp).
pub async fn contacts(store: &Store) -> Result<std::collections::HashMap<String, (Option<String>, Option<String>)>, StoreError> {
    let rows: Vec<(String, Option<String>, Option<String>)> =
        sqlx::query_as("SELECT code, NULLIF(trim(email), ''), whatsapp FROM cooperatives").fetch_all(&store.pool).await?;
    Ok(rows.into_iter().map(|(code, email, whatsapp)| (code, (email, whatsapp))).collect())
}
