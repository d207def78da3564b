//! What people read of the orders: lists, exports, figures, parties.

use std::collections::HashMap;

use super::*;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// One line of an order, with its order's fields (`orders export`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExportRow {
    pub order_id: String,
    pub status: OrderStatus,
    pub order_date: Option<DateTime<Utc>>,
    pub deadline: Option<DateTime<Utc>>,
    pub buyer: Option<String>,
    pub order_total: Decimal,
    pub line_id: Option<String>,
    pub sku: Option<String>,
    pub item: Option<String>,
    pub quantity: Option<Decimal>,
    pub unit: Option<String>,
    pub unit_price: Option<Decimal>,
    pub line_total: Option<Decimal>,
    pub member: Option<String>,
    /// The order's money (the same on each of its lines), filled in by the caller.
    #[sqlx(skip)]
    pub money: Option<crate::mapping::tax::Breakdown>,
}

/// A cooperative's orders and their lines, one row per line, those made
/// from the start of `since` (a day in Jakarta) on.
pub async fn export_rows(store: &Store, cooperative: &str, since: Option<chrono::NaiveDate>) -> Result<Vec<ExportRow>, StoreError> {
    let since = since.and_then(crate::domain::time::start_of_day);
    Ok(sqlx::query_as(
        "SELECT o.remote_order_id AS order_id, o.status, o.order_date, o.deadline, o.nama_satker AS buyer, o.total AS order_total,
                l.remote_line_id AS line_id, l.sku, l.description AS item, l.quantity, l.unit, l.unit_price, l.line_total, m.code AS member
         FROM purchase_orders o JOIN cooperatives c ON c.id = o.cooperative_id
         LEFT JOIN order_lines l ON l.order_id = o.id LEFT JOIN members m ON m.id = l.member_id
         WHERE c.code = $1 AND ($2::timestamptz IS NULL OR o.order_date >= $2)
         ORDER BY o.order_date, o.remote_order_id, l.remote_line_id",
    )
    .bind(cooperative)
    .bind(since)
    .fetch_all(&store.pool)
    .await?)
}

/// Our sellers by GLN: gln -> kode_penyedia (to find the cooperative a document is for).
pub async fn sellers_by_gln(store: &Store) -> Result<HashMap<String, String>, StoreError> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT gln, kode_penyedia FROM cooperatives WHERE gln IS NOT NULL AND kode_penyedia IS NOT NULL").fetch_all(&store.pool).await?;
    Ok(rows.into_iter().collect())
}

/// The parties of an answer: the seller's GLN and name, the buyer's name.
pub async fn answer_parties(store: &Store, order_db_id: i64) -> Result<(Option<String>, String, Option<String>), StoreError> {
    Ok(sqlx::query_as("SELECT c.gln, c.name, o.nama_satker FROM purchase_orders o JOIN cooperatives c ON c.id = o.cooperative_id WHERE o.id = $1")
        .bind(order_db_id)
        .fetch_one(&store.pool)
        .await?)
}

/// The orders' figures for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    /// Orders waiting for the seller's confirmation.
    pub waiting: i64,
    /// Seconds to the nearest deadline still ahead, if any.
    pub seconds_to_nearest_deadline: Option<f64>,
    /// Orders stored in all.
    pub stored: i64,
}

pub async fn figures(store: &Store) -> Result<Figures, StoreError> {
    let (waiting, seconds_to_nearest_deadline, stored): (i64, Option<f64>, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'WAITING_SELLER_CONFIRMATION'),
                EXTRACT(EPOCH FROM min(deadline) FILTER (WHERE status = 'WAITING_SELLER_CONFIRMATION' AND deadline > now()) - now())::float8,
                count(*)
         FROM purchase_orders",
    )
    .fetch_one(&store.pool)
    .await?;
    Ok(Figures { waiting, seconds_to_nearest_deadline, stored })
}

/// The status stored for an order, by its id on the catalogue.
pub async fn status(store: &Store, remote_order_id: &str) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar("SELECT status FROM purchase_orders WHERE remote_order_id = $1 ORDER BY id LIMIT 1")
        .bind(remote_order_id)
        .fetch_optional(&store.pool)
        .await?)
}

/// One order as the liaison and the cooperatives see it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct OrderLine {
    #[serde(skip)]
    pub id: i64,
    pub order_id: String,
    pub cooperative: String,
    pub status: OrderStatus,
    pub buyer: Option<String>,
    pub total: Decimal,
    pub lines: i64,
    /// `name × quantity unit; ...`, the first lines.
    pub items: Option<String>,
    #[serde(skip)]
    pub deadline: Option<DateTime<Utc>>,
    /// The buyer's PPK's deadline, while the order waits for its review.
    #[serde(skip)]
    pub ppk_deadline: Option<DateTime<Utc>>,
    pub amount_mismatch: bool,
    pub unrouted_lines: i32,
    /// The answer sent or waiting to be sent, if any: `accept`/`reject` and its state.
    pub response: Option<String>,
}

impl OrderLine {
    pub fn status(&self) -> &OrderStatus {
        &self.status
    }
}

/// The columns of an [`OrderLine`], over `purchase_orders o` joined to `cooperatives c`.
pub(crate) const ORDER_LINE_COLUMNS: &str = "o.id, o.remote_order_id AS order_id, c.code AS cooperative, o.status, o.nama_satker AS buyer, o.total,
    (SELECT count(*) FROM order_lines l WHERE l.order_id = o.id) AS lines,
    (SELECT string_agg(x.t, '; ') FROM (SELECT l.description || COALESCE(' × ' || trim_scale(l.quantity) || COALESCE(' ' || l.unit, ''), '') AS t
            FROM order_lines l WHERE l.order_id = o.id ORDER BY l.remote_line_id LIMIT 3) x) AS items,
    o.deadline, o.ppk_deadline, o.amount_mismatch, o.unrouted_lines,
    (SELECT r.decision || ' ' || r.state FROM order_responses r WHERE r.order_id = o.id) AS response";

/// Orders, filtered by cooperative and status; waiting ones by soonest deadline first.
pub async fn list(store: &Store, cooperative: Option<&str>, status: Option<&str>, waiting_only: bool) -> Result<Vec<OrderLine>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_LINE_COLUMNS}
         FROM purchase_orders o JOIN cooperatives c ON c.id = o.cooperative_id
         WHERE ($1::text IS NULL OR c.code = $1) AND ($2::text IS NULL OR o.status = $2)
           AND (NOT $3 OR o.status = 'WAITING_SELLER_CONFIRMATION')
         ORDER BY CASE WHEN $3 THEN o.deadline END NULLS LAST, o.ppk_deadline NULLS LAST, c.code, o.remote_order_id"
    )))
    .bind(cooperative)
    .bind(status)
    .bind(waiting_only)
    .fetch_all(&store.pool)
    .await?)
}
