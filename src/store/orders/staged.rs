//! INAPROC's product rows staged in PostgreSQL against the orders they
//! complete (`inaproc_line_stage`): each page is stored as it is read, so the
//! sync's memory does not grow with the feed; SQL says which orders are due,
//! and a claimed batch is read back, with its lines, as details to write.

use super::*;
use crate::domain::order::{OrderSource, OrderStatus, RemoteLine};

/// A product row of a page: the catalogue's order id, the status it was
/// listed under, and the line.
pub type StagedRow = (String, String, RemoteLine);

/// The (buyer, fiscal year, status) of the orders of `source` whose lines are
/// due, within the buyers and years asked for: what the product rows are
/// read by. A status with no due order is never read.
pub async fn due_queries(store: &Store, source: OrderSource, klpd: &[String], years: &[i32]) -> Result<Vec<(String, i32, String)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT DISTINCT kode_klpd, fiscal_year, status FROM purchase_orders
         WHERE source = $1 AND needs_detail AND kode_klpd = ANY($2) AND fiscal_year = ANY($3) ORDER BY 1, 2, 3",
    )
    .bind(source)
    .bind(klpd)
    .bind(years)
    .fetch_all(&store.pool)
    .await?)
}

/// The due orders of `source` listed at `status` among a page's product
/// rows (`counts`: each catalogue id with its rows in the page), by
/// catalogue id: (order id, complete), complete when the rows staged before
/// and the page's together make the package's `count_product` (decided in
/// SQL, on what is stored). An order with no plain count is never complete
/// here: its rows are staged, and the run's last pass says why.
pub async fn page_orders(store: &Store, source: OrderSource, status: &str, counts: &[(String, i64)]) -> Result<HashMap<String, (i64, bool)>, StoreError> {
    let ids: Vec<&str> = counts.iter().map(|(id, _)| id.as_str()).collect();
    let ns: Vec<i64> = counts.iter().map(|(_, n)| *n).collect();
    let rows: Vec<(String, i64, Option<bool>)> = sqlx::query_as(
        "SELECT k.remote_id, o.id,
                (SELECT count(*) FROM inaproc_line_stage s WHERE s.order_id = o.id AND s.status = o.status) + k.n
                    = o.expected_lines
         FROM unnest($2::text[], $3::bigint[]) AS k(remote_id, n)
         JOIN purchase_orders o ON o.source = $1 AND o.remote_order_id = k.remote_id AND o.needs_detail AND o.status = $4",
    )
    .bind(source)
    .bind(&ids)
    .bind(&ns)
    .bind(status)
    .fetch_all(&store.pool)
    .await?;
    Ok(rows.into_iter().map(|(remote, id, complete)| (remote, (id, complete == Some(true)))).collect())
}

/// Stages a page of product rows: only those of an order of `source` whose
/// lines are due, listed under the order's stored status; a row seen again
/// (a repeated page) replaces its copy. Returns the rows kept.
pub async fn stage_lines(store: &Store, source: OrderSource, rows: &[StagedRow]) -> Result<u64, StoreError> {
    // The last copy of each row: one statement may not touch a row twice.
    let mut last: HashMap<(&str, &str, &str), usize> = HashMap::new();
    for (i, (order, status, line)) in rows.iter().enumerate() {
        last.insert((order.as_str(), status.as_str(), line.line_id.as_str()), i);
    }
    let mut keep: Vec<usize> = last.into_values().collect();
    keep.sort_unstable();
    let pick = |f: &dyn Fn(&StagedRow) -> String| keep.iter().map(|&i| f(&rows[i])).collect::<Vec<String>>();
    let orders = pick(&|r| r.0.clone());
    let statuses = pick(&|r| r.1.clone());
    let line_ids = pick(&|r| r.2.line_id.clone());
    let names = pick(&|r| r.2.name.clone());
    let totals: Vec<Decimal> = keep.iter().map(|&i| rows[i].2.line_total).collect();
    let raws: Vec<String> = keep.iter().map(|&i| rows[i].2.raw.to_string()).collect();
    let mut tx = store.begin_recomputable().await?;
    let done = sqlx::query(
        "INSERT INTO inaproc_line_stage (order_id, status, line_id, name, line_total, raw)
         SELECT o.id, r.status, r.line_id, r.name, r.line_total, r.raw
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::numeric[], $7::json[]) AS r(remote_id, status, line_id, name, line_total, raw)
         JOIN purchase_orders o ON o.source = $1 AND o.remote_order_id = r.remote_id AND o.needs_detail AND o.status = r.status
         ON CONFLICT (order_id, status, line_id) DO UPDATE SET name = EXCLUDED.name, line_total = EXCLUDED.line_total, raw = EXCLUDED.raw",
    )
    .bind(source)
    .bind(&orders)
    .bind(&statuses)
    .bind(&line_ids)
    .bind(&names)
    .bind(&totals)
    .bind(&raws)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}

/// A claimed order read back as a detail: the package as stored (without its
/// raw copy, which stays as stored), with the lines staged at its status, and
/// how many lines the package says it has.
pub struct StagedDetail {
    pub id: i64,
    pub order: RemoteOrder,
    /// `count_product` of the package, when it gives one.
    pub expected: Option<u64>,
}

/// The claimed orders `ids` as details, each with the lines staged for it at
/// its stored status (in the order of their product ids).
pub async fn staged_details(store: &Store, ids: &[i64]) -> Result<Vec<StagedDetail>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        remote_order_id: String,
        kode_klpd: String,
        fiscal_year: i32,
        kode_penyedia: Option<String>,
        kode_satker: Option<String>,
        nama_satker: Option<String>,
        status: String,
        shipment_status: Option<String>,
        shipping_fee: Decimal,
        total: Decimal,
        order_date: Option<DateTime<Utc>>,
        confirm_by: Option<DateTime<Utc>>,
        remote_updated_at: Option<DateTime<Utc>>,
        expected: Option<i64>,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, remote_order_id, kode_klpd, fiscal_year, kode_penyedia, kode_satker, nama_satker, status, shipment_status, shipping_fee, total,
                order_date, confirm_by, remote_updated_at, expected_lines AS expected
         FROM purchase_orders WHERE id = ANY($1) ORDER BY id",
    )
    .bind(ids)
    .fetch_all(&store.pool)
    .await?;
    let lines: Vec<(i64, String, String, Decimal, String)> = sqlx::query_as(
        // From the ids, by the two primary keys: the stage is read while it
        // is written, long before its size is known to the planner.
        "SELECT s.order_id, s.line_id, s.name, s.line_total, s.raw::text
         FROM unnest($1::bigint[]) AS k(id) JOIN purchase_orders o ON o.id = k.id
         JOIN inaproc_line_stage s ON s.order_id = o.id AND s.status = o.status
         ORDER BY s.order_id, s.line_id",
    )
    .bind(ids)
    .fetch_all(&store.pool)
    .await?;
    let mut by_order: HashMap<i64, Vec<RemoteLine>> = HashMap::new();
    for (order, line_id, name, line_total, raw) in lines {
        by_order.entry(order).or_default().push(RemoteLine {
            listing_id: Some(line_id.clone()),
            line_id,
            sku: None,
            name,
            quantity: None,
            unit: None,
            unit_price: None,
            line_total,
            // Our own writing of a value read before: it reads back.
            raw: serde_json::from_str(&raw).unwrap_or_default(),
        });
    }
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let updated_at = r.remote_updated_at?;
            Some(StagedDetail {
                id: r.id,
                expected: r.expected.and_then(|c| u64::try_from(c).ok()),
                order: RemoteOrder {
                    order_id: r.remote_order_id,
                    rup_code: None,
                    rup_name: None,
                    fiscal_year: r.fiscal_year,
                    funding_source: None,
                    kode_klpd: r.kode_klpd,
                    kode_satker: r.kode_satker,
                    nama_satker: r.nama_satker,
                    kode_penyedia: r.kode_penyedia.unwrap_or_default(),
                    status: OrderStatus::parse(&r.status),
                    shipment_status: r.shipment_status,
                    shipping_fee: r.shipping_fee,
                    total: r.total,
                    order_date: r.order_date,
                    confirm_by: r.confirm_by,
                    updated_at,
                    // Stored with the package; the detail's write does not need it again.
                    raw: serde_json::Value::Null,
                    lines: Some(by_order.remove(&r.id).unwrap_or_default()),
                    repaired: Vec::new(),
                },
            })
        })
        .collect())
}

/// Forgets the staged rows of `ids` (their orders written).
pub async fn forget_staged(store: &Store, ids: &[i64]) -> Result<u64, StoreError> {
    Ok(sqlx::query("DELETE FROM inaproc_line_stage WHERE order_id = ANY($1)").bind(ids).execute(&store.pool).await?.rows_affected())
}

/// Forgets the staged rows of the orders of `source` no longer due, or
/// listed now under another status than the one they were staged at.
pub async fn forget_stale_staged(store: &Store, source: OrderSource) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "DELETE FROM inaproc_line_stage s USING purchase_orders o
         WHERE o.id = s.order_id AND o.source = $1 AND (NOT o.needs_detail OR o.status <> s.status)",
    )
    .bind(source)
    .execute(&store.pool)
    .await?
    .rows_affected())
}
