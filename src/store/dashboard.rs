//! The dashboard's reads: each page's query, limited in SQL to what the
//! signed-in user may see (`scope`: a cooperative's id, or `None` for the
//! liaison) and paginated, so no page loads a table whole. A row outside
//! the scope is simply not found: the page answers 404.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::orders::OrderLine;
use super::{Store, StoreError};
use crate::domain::job::RunStatus;
use crate::domain::order::{AnswerState, OrderSource, OrderStatus};
use crate::domain::publication::{Channel, Standing};

/// The one cooperative a list is limited to, given the user's scope and the
/// cooperative a filter chose (`Some(None)`: every cooperative); `None` when
/// the filter chose one outside the scope, so the list is empty.
fn narrowed(scope: Option<i64>, chosen: Option<i64>) -> Option<Option<i64>> {
    match (scope, chosen) {
        (Some(a), Some(b)) if a != b => None,
        (a, b) => Some(a.or(b)),
    }
}

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
    pub status: RunStatus,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
    pub error_code: Option<String>,
}

/// The last run of each of `kinds`, as `scope` (a cooperative; `None`: the
/// liaison) may see it: a cooperative's staff see the runs for their
/// cooperative and the city-wide ones, the latter without their error
/// (which may name other cooperatives).
pub async fn last_runs(store: &Store, scope: Option<i64>, kinds: &[&str]) -> Result<Vec<LastRun>, StoreError> {
    let kinds: Vec<String> = kinds.iter().map(|k| (*k).to_owned()).collect();
    Ok(sqlx::query_as(
        "SELECT r.kind, r.status, r.started_at, r.finished_at, CASE WHEN $2::bigint IS NULL OR r.cooperative_id = $2 THEN r.error END AS error, r.error_code
         FROM unnest($1::text[]) WITH ORDINALITY k(kind, n)
         JOIN LATERAL (SELECT * FROM sync_runs s WHERE s.kind = k.kind AND s.role = 'lead'
                         AND ($2::bigint IS NULL OR s.cooperative_id IS NULL OR s.cooperative_id = $2)
                       ORDER BY s.started_at DESC LIMIT 1) r ON true
         ORDER BY k.n",
    )
    .bind(&kinds)
    .bind(scope)
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
    pub cooperative_id: i64,
    pub member_id: i64,
    pub product_id: i64,
    /// The publication's channel; none for a held-back draft.
    pub channel: Option<Channel>,
    pub state: Standing,
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
    pub state: Option<Standing>,
    pub channel: Option<Channel>,
}

/// Where a page of listings starts: after the listing with this sort key
/// (cooperative, member, SKU, channel; a held-back draft's channel is "").
/// Keyset pages walk the products' (cooperative, member, SKU) index, so the
/// thousandth page costs what the first does.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ListingKey {
    pub cooperative_id: i64,
    pub member_id: i64,
    pub sku: String,
    pub channel: String,
}

/// A page of listings in `scope` and `filter`: `limit` rows after `after`,
/// and the key to start the next page from, when there is one. The state
/// `blocked` names drafts held back. Publications and held-back drafts are
/// read by two index-ordered statements and merged.
pub async fn listings(
    store: &Store,
    scope: Option<i64>,
    filter: &ListingFilter,
    after: Option<&ListingKey>,
    limit: i64,
) -> Result<(Vec<ListingRow>, Option<ListingKey>), StoreError> {
    let Some(cooperative) = narrowed(scope, filter.cooperative) else { return Ok((Vec::new(), None)) };
    let mut common = vec!["true"];
    if cooperative.is_some() {
        common.push("p.cooperative_id = $1");
    }
    if after.is_some() {
        common.push("(p.cooperative_id, p.member_id, p.sku) >= ($4, $5, $6)");
    }
    let columns = "c.code AS cooperative, m.code AS member, p.sku, p.name AS product, p.cooperative_id, p.member_id, p.id AS product_id";
    let joins = "JOIN members m ON m.id = p.member_id JOIN cooperatives c ON c.id = p.cooperative_id";
    // ($1-$7 are named in every statement, so each always has a type.)
    let typed = "($1::bigint IS NULL OR true) AND ($2::text IS NULL OR true) AND ($3::text IS NULL OR true) AND ($4::bigint IS NULL OR true) \
                 AND ($5::bigint IS NULL OR true) AND ($6::text IS NULL OR true) AND ($7::text IS NULL OR true)";
    let mut statements = Vec::new();
    if filter.state != Some(Standing::Blocked) {
        let mut w = common.clone();
        if filter.channel.is_some() {
            w.push("pb.channel = $2");
        }
        if filter.state.is_some() {
            w.push("pb.state = $3");
        }
        if after.is_some() {
            w.push("NOT ((p.cooperative_id, p.member_id, p.sku) = ($4, $5, $6) AND pb.channel <= $7)");
        }
        statements.push(format!(
            "SELECT pb.id, {columns}, pb.channel, pb.state, pb.state_since AS since, pb.reasons, pb.last_error, pb.kd_produk, pb.live, pb.status_produk,
                    pb.want_hash IS DISTINCT FROM pb.sent_hash AS changed
             FROM products p JOIN publications pb ON pb.product_id = p.id {joins}
             WHERE {} AND {typed}
             ORDER BY p.cooperative_id, p.member_id, p.sku, pb.channel LIMIT $8",
            w.join(" AND ")
        ));
    }
    if filter.channel.is_none() && filter.state.is_none_or(|s| s == Standing::Blocked) {
        let mut w = common.clone();
        w.push("l.format = 'katalog-v6' AND l.state = 'blocked' AND p.active");
        if after.is_some() {
            w.push("NOT ((p.cooperative_id, p.member_id, p.sku) = ($4, $5, $6) AND '' <= $7)");
        }
        statements.push(format!(
            "SELECT NULL::bigint AS id, {columns}, NULL::text AS channel, 'blocked'::text AS state, l.updated_at AS since,
                    (SELECT COALESCE(jsonb_agg(i), '[]') FROM jsonb_array_elements(l.issues) i WHERE i->>'severity' = 'blocking') AS reasons,
                    NULL::text AS last_error, NULL::text AS kd_produk, NULL::boolean AS live, NULL::text AS status_produk, false AS changed
             FROM products p JOIN listings l ON l.product_id = p.id {joins}
             WHERE {} AND {typed}
             ORDER BY p.cooperative_id, p.member_id, p.sku LIMIT $8",
            w.join(" AND ")
        ));
    }
    let mut rows: Vec<ListingRow> = Vec::new();
    for sql in statements {
        let part: Vec<ListingRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(cooperative)
            .bind(filter.channel)
            .bind(filter.state.map(Standing::as_str))
            .bind(after.map(|k| k.cooperative_id))
            .bind(after.map(|k| k.member_id))
            .bind(after.map(|k| k.sku.as_str()))
            .bind(after.map(|k| k.channel.as_str()))
            .bind(limit + 1)
            .fetch_all(&store.pool)
            .await?;
        rows.extend(part);
    }
    rows.sort_by_key(ListingRow::key);
    let next = (rows.len() as i64 > limit).then(|| rows[limit as usize - 1].key());
    rows.truncate(limit as usize);
    Ok((rows, next))
}

impl ListingRow {
    /// Its place in the list.
    pub fn key(&self) -> ListingKey {
        ListingKey {
            cooperative_id: self.cooperative_id,
            member_id: self.member_id,
            sku: self.sku.clone(),
            channel: self.channel.map_or("", Channel::name).to_owned(),
        }
    }
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
    pub status: Option<OrderStatus>,
}

/// A page of orders in `scope`: waiting ones by nearest deadline, else newest
/// first. The statement holds only the conditions given, so each variant
/// gets a plan of its own (the newest-first page walks an index on the order
/// date instead of sorting every order).
pub async fn orders(store: &Store, scope: Option<i64>, filter: &OrderFilter, limit: i64, offset: i64) -> Result<(Vec<OrderLine>, bool), StoreError> {
    let Some(cooperative) = narrowed(scope, filter.cooperative) else { return Ok((Vec::new(), false)) };
    // Orders of no registered cooperative are nobody's page.
    let mut conditions = vec!["o.cooperative_id IS NOT NULL"];
    if cooperative.is_some() {
        conditions.push("o.cooperative_id = $1");
    }
    if filter.waiting {
        conditions.push("o.status IN ('WAITING_SELLER_CONFIRMATION', 'WAITING_PPK_REVIEW')");
    }
    if filter.status.is_some() {
        conditions.push("o.status = $2");
    }
    let order = if filter.waiting { "COALESCE(o.deadline, o.ppk_deadline) NULLS LAST, o.id" } else { "o.order_date DESC NULLS LAST, o.id DESC" };
    let sql = format!(
        "SELECT {columns}
         -- ($1, $2 are named below even where unused, so both always have a type.)
         FROM (SELECT * FROM purchase_orders o WHERE {} AND ($1::bigint IS NULL OR true) AND ($2::text IS NULL OR true)
               ORDER BY {order} LIMIT $3 OFFSET $4) o
         JOIN cooperatives c ON c.id = o.cooperative_id
         ORDER BY {order}",
        conditions.join(" AND "),
        columns = super::orders::ORDER_LINE_COLUMNS
    );
    let mut rows: Vec<OrderLine> =
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(cooperative).bind(filter.status.as_ref()).bind(limit + 1).bind(offset).fetch_all(&store.pool).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

/// One order's head, as its page shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderHead {
    pub id: i64,
    pub source: OrderSource,
    pub order_id: String,
    pub cooperative_id: i64,
    pub cooperative: String,
    pub cooperative_name: String,
    pub status: OrderStatus,
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
    pub response_state: Option<AnswerState>,
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

/// A cooperative's code by its id.
pub async fn cooperative_code(store: &Store, id: i64) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar("SELECT code FROM cooperatives WHERE id = $1").bind(id).fetch_optional(&store.pool).await?)
}

/// The cooperative with the most orders waiting for confirmation (then the
/// most orders, then the first by code): the demo's cooperative login.
pub async fn busiest_cooperative(store: &Store) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT c.code FROM cooperatives c LEFT JOIN purchase_orders o ON o.cooperative_id = c.id GROUP BY c.code
         ORDER BY count(*) FILTER (WHERE o.status = 'WAITING_SELLER_CONFIRMATION') DESC, count(o.id) DESC, c.code LIMIT 1",
    )
    .fetch_optional(&store.pool)
    .await?)
}
