//! The dashboard's reads: each page's query, limited in SQL to what the
//! signed-in user may see (`scope`: a cooperative's id, or `None` for the
//! liaison) and paginated, so no page loads a table whole. A row outside
//! the scope is simply not found: the page answers 404.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::orders::OrderLine;
use super::{Store, StoreError};

/// One cooperative on the overview.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CooperativeRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kode_penyedia: Option<String>,
    /// Publications by state, as `[state, count]` pairs.
    pub listings: serde_json::Value,
    /// Drafts held back by a blocking issue.
    pub held_back: i64,
    pub waiting: i64,
    pub nearest_deadline: Option<DateTime<Utc>>,
    pub waiting_ppk: i64,
}

/// The overview's rows: each cooperative in scope, with its listings by
/// state and its orders waiting for confirmation.
pub async fn cooperatives(store: &Store, scope: Option<i64>) -> Result<Vec<CooperativeRow>, StoreError> {
    Ok(sqlx::query_as(
        "WITH pubs AS (
             SELECT seller, jsonb_agg(jsonb_build_array(state, n) ORDER BY state) AS listings
             FROM (SELECT seller, state, count(*) AS n FROM publications GROUP BY seller, state) s GROUP BY seller
         ), held AS (
             SELECT p.cooperative_id, count(*) AS n FROM listings l JOIN products p ON p.id = l.product_id
             WHERE l.state = 'blocked' AND p.active AND l.format = 'katalog-v6' GROUP BY p.cooperative_id
         ), waiting AS (
             SELECT cooperative_id, count(*) FILTER (WHERE status = 'WAITING_SELLER_CONFIRMATION') AS waiting,
                    min(deadline) FILTER (WHERE status = 'WAITING_SELLER_CONFIRMATION') AS nearest,
                    count(*) FILTER (WHERE status = 'WAITING_PPK_REVIEW') AS ppk
             FROM purchase_orders WHERE status IN ('WAITING_SELLER_CONFIRMATION', 'WAITING_PPK_REVIEW') GROUP BY cooperative_id
         )
         SELECT c.id, c.code, c.name, c.kode_penyedia, COALESCE(pubs.listings, '[]') AS listings, COALESCE(held.n, 0) AS held_back,
                COALESCE(w.waiting, 0) AS waiting, w.nearest AS nearest_deadline, COALESCE(w.ppk, 0) AS waiting_ppk
         FROM cooperatives c LEFT JOIN pubs ON pubs.seller = c.kode_penyedia LEFT JOIN held ON held.cooperative_id = c.id
         LEFT JOIN waiting w ON w.cooperative_id = c.id
         WHERE $1::bigint IS NULL OR c.id = $1
         ORDER BY c.code",
    )
    .bind(scope)
    .fetch_all(&store.pool)
    .await?)
}

/// The last lead run of each job kind, and when orders were last synced.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LastRun {
    pub kind: String,
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
}

pub async fn last_runs(store: &Store, kinds: &[&str]) -> Result<Vec<LastRun>, StoreError> {
    let kinds: Vec<String> = kinds.iter().map(|k| (*k).to_owned()).collect();
    Ok(sqlx::query_as(
        "SELECT r.kind, r.status, r.started_at, r.finished_at, r.error
         FROM unnest($1::text[]) WITH ORDINALITY k(kind, n)
         JOIN LATERAL (SELECT * FROM sync_runs s WHERE s.kind = k.kind AND s.role = 'lead' ORDER BY s.started_at DESC LIMIT 1) r ON true
         ORDER BY k.n",
    )
    .bind(&kinds)
    .fetch_all(&store.pool)
    .await?)
}

/// When a run of one of `kinds` last ended well (succeeded or partial).
pub async fn last_good(store: &Store, kinds: &[&str]) -> Result<Option<DateTime<Utc>>, StoreError> {
    let kinds: Vec<String> = kinds.iter().map(|k| (*k).to_owned()).collect();
    Ok(sqlx::query_scalar(
        "SELECT max(finished_at) FROM (
             SELECT (SELECT finished_at FROM sync_runs s WHERE s.kind = k AND s.status IN ('succeeded', 'partial') AND s.role = 'lead'
                     ORDER BY s.started_at DESC LIMIT 1) AS finished_at
             FROM unnest($1::text[]) k) x",
    )
    .bind(&kinds)
    .fetch_one(&store.pool)
    .await?)
}

/// One listing on the products page: a publication, or a draft held back.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListingRow {
    /// The publication's id; a held-back draft has none.
    pub id: Option<i64>,
    pub cooperative: String,
    pub member: String,
    pub sku: String,
    pub product: String,
    pub channel: Option<String>,
    pub state: String,
    pub since: DateTime<Utc>,
    /// A publication's reasons (sentences, or `{field, message}`), or a
    /// held-back draft's blocking issues (`{code, field, message}`).
    pub reasons: serde_json::Value,
    pub last_error: Option<String>,
    pub kd_produk: Option<String>,
    pub live: Option<bool>,
    pub status_produk: Option<String>,
    /// Whether resending on request applies (its content changed, for a live listing).
    pub changed: bool,
}

/// What the products page is filtered by.
#[derive(Debug, Clone, Default)]
pub struct ListingFilter {
    pub cooperative: Option<i64>,
    pub state: Option<String>,
    pub channel: Option<String>,
}

/// A page of listings in `scope` and `filter`: `limit` rows from `offset`,
/// and whether more follow. The state `blocked` names drafts held back.
pub async fn listings(store: &Store, scope: Option<i64>, filter: &ListingFilter, limit: i64, offset: i64) -> Result<(Vec<ListingRow>, bool), StoreError> {
    let mut rows: Vec<ListingRow> = sqlx::query_as(
        "SELECT * FROM (
             SELECT pb.id, c.code AS cooperative, m.code AS member, p.sku, p.name AS product, pb.channel, pb.state, pb.state_since AS since,
                    pb.reasons, pb.last_error, pb.kd_produk, pb.live, pb.status_produk, pb.want_hash IS DISTINCT FROM pb.sent_hash AS changed,
                    p.cooperative_id
             FROM publications pb JOIN products p ON p.id = pb.product_id
             JOIN members m ON m.id = p.member_id JOIN cooperatives c ON c.id = p.cooperative_id
             WHERE ($3::text IS NULL OR pb.channel = $3) AND ($4::text IS NULL OR pb.state = $4)
               AND ($1::bigint IS NULL OR p.cooperative_id = $1) AND ($2::bigint IS NULL OR p.cooperative_id = $2)
             UNION ALL
             SELECT NULL, c.code, m.code, p.sku, p.name, NULL, 'blocked', l.updated_at,
                    (SELECT COALESCE(jsonb_agg(i), '[]') FROM jsonb_array_elements(l.issues) i WHERE i->>'severity' = 'blocking'),
                    NULL, NULL, NULL, NULL, false, p.cooperative_id
             FROM listings l JOIN products p ON p.id = l.product_id
             JOIN members m ON m.id = p.member_id JOIN cooperatives c ON c.id = p.cooperative_id
             WHERE l.format = 'katalog-v6' AND l.state = 'blocked' AND p.active AND $3::text IS NULL AND ($4::text IS NULL OR $4 = 'blocked')
               AND ($1::bigint IS NULL OR p.cooperative_id = $1) AND ($2::bigint IS NULL OR p.cooperative_id = $2)
         ) v
         ORDER BY cooperative, member, sku, channel NULLS FIRST
         LIMIT $5 OFFSET $6",
    )
    .bind(scope)
    .bind(filter.cooperative)
    .bind(filter.channel.as_deref())
    .bind(filter.state.as_deref())
    .bind(limit + 1)
    .bind(offset)
    .fetch_all(&store.pool)
    .await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

/// A publication's cooperative, when it is in `scope` (else `None`: not found).
pub async fn publication_in_scope(store: &Store, scope: Option<i64>, id: i64) -> Result<Option<(i64, String, String)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT p.cooperative_id, p.sku, p.name FROM publications pb JOIN products p ON p.id = pb.product_id
         WHERE pb.id = $1 AND ($2::bigint IS NULL OR p.cooperative_id = $2)",
    )
    .bind(id)
    .bind(scope)
    .fetch_optional(&store.pool)
    .await?)
}

/// What the orders page is filtered by.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub cooperative: Option<i64>,
    /// Only those waiting for the seller's confirmation (or the PPK's review).
    pub waiting: bool,
    pub status: Option<String>,
}

/// A page of orders in `scope`: waiting ones by nearest deadline, else newest first.
pub async fn orders(store: &Store, scope: Option<i64>, filter: &OrderFilter, limit: i64, offset: i64) -> Result<(Vec<OrderLine>, bool), StoreError> {
    let mut rows: Vec<OrderLine> = sqlx::query_as(
        "SELECT o.id, o.remote_order_id AS order_id, c.code AS cooperative, o.status, o.nama_satker AS buyer, o.total,
                (SELECT count(*) FROM order_lines l WHERE l.order_id = o.id) AS lines,
                (SELECT string_agg(x.t, '; ') FROM (SELECT l.description || COALESCE(' × ' || trim_scale(l.quantity) || COALESCE(' ' || l.unit, ''), '') AS t
                        FROM order_lines l WHERE l.order_id = o.id ORDER BY l.id LIMIT 3) x) AS items,
                o.deadline, o.ppk_deadline, o.amount_mismatch, o.unrouted_lines,
                (SELECT r.decision || ' ' || r.state FROM order_responses r WHERE r.order_id = o.id) AS response
         FROM purchase_orders o JOIN cooperatives c ON c.id = o.cooperative_id
         WHERE ($1::bigint IS NULL OR o.cooperative_id = $1) AND ($2::bigint IS NULL OR o.cooperative_id = $2)
           AND (NOT $3 OR o.status IN ('WAITING_SELLER_CONFIRMATION', 'WAITING_PPK_REVIEW'))
           AND ($4::text IS NULL OR o.status = $4)
         ORDER BY CASE WHEN $3 THEN COALESCE(o.deadline, o.ppk_deadline) END NULLS LAST, o.order_date DESC NULLS LAST, o.id DESC
         LIMIT $5 OFFSET $6",
    )
    .bind(scope)
    .bind(filter.cooperative)
    .bind(filter.waiting)
    .bind(filter.status.as_deref())
    .bind(limit + 1)
    .bind(offset)
    .fetch_all(&store.pool)
    .await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

/// One order's head, as its page shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderHead {
    pub id: i64,
    pub source: String,
    pub order_id: String,
    pub cooperative_id: i64,
    pub cooperative: String,
    pub cooperative_name: String,
    pub status: String,
    pub shipment_status: Option<String>,
    pub buyer: Option<String>,
    pub buyer_code: Option<String>,
    pub kode_klpd: String,
    pub rup_name: Option<String>,
    pub order_date: Option<DateTime<Utc>>,
    pub deadline: Option<DateTime<Utc>>,
    pub ppk_deadline: Option<DateTime<Utc>>,
    pub confirmed_seen_at: Option<DateTime<Utc>>,
    pub total: Decimal,
    pub amount_mismatch: bool,
    pub unrouted_lines: i32,
    pub needs_detail: bool,
    /// The answer queued or sent: decision, state, reason, last error.
    pub response: Option<String>,
    pub response_state: Option<String>,
    pub response_reason: Option<String>,
    pub response_error: Option<String>,
}

/// An order by its stored id, when it is in `scope`.
pub async fn order(store: &Store, scope: Option<i64>, id: i64) -> Result<Option<OrderHead>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT o.id, o.source, o.remote_order_id AS order_id, o.cooperative_id, c.code AS cooperative, c.name AS cooperative_name, o.status,
                o.shipment_status, o.nama_satker AS buyer, o.kode_satker AS buyer_code, o.kode_klpd, o.rup_name, o.order_date, o.deadline,
                o.ppk_deadline, o.confirmed_seen_at, o.total, o.amount_mismatch, o.unrouted_lines, o.needs_detail,
                r.decision AS response, r.state AS response_state, r.reason AS response_reason, r.last_error AS response_error
         FROM purchase_orders o JOIN cooperatives c ON c.id = o.cooperative_id LEFT JOIN order_responses r ON r.order_id = o.id
         WHERE o.id = $1 AND ($2::bigint IS NULL OR o.cooperative_id = $2)",
    )
    .bind(id)
    .bind(scope)
    .fetch_optional(&store.pool)
    .await?)
}

/// The cooperatives in `scope`, by code: (id, code, name), for the filters.
pub async fn cooperative_choices(store: &Store, scope: Option<i64>) -> Result<Vec<(i64, String, String)>, StoreError> {
    Ok(sqlx::query_as("SELECT id, code, name FROM cooperatives WHERE $1::bigint IS NULL OR id = $1 ORDER BY code").bind(scope).fetch_all(&store.pool).await?)
}

/// The cooperative with `code`, when it is in `scope`: (id, code).
pub async fn cooperative_by_code(store: &Store, scope: Option<i64>, code: &str) -> Result<Option<(i64, String)>, StoreError> {
    Ok(sqlx::query_as("SELECT id, code FROM cooperatives WHERE code = $1 AND ($2::bigint IS NULL OR id = $2)")
        .bind(code)
        .bind(scope)
        .fetch_optional(&store.pool)
        .await?)
}
