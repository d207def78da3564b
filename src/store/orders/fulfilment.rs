//! After the order: the staff's entries (delivery, BAST, faktur, payment
//! invoice, payment, the way it is paid), only ever added, each with who made
//! it and when; and an order's money as its tax sees it (each line's total
//! and the category of the product it was routed to, the seller's PKP).

use std::collections::HashMap;

use super::*;
use crate::domain::fulfilment::{Done, PaymentWay, Step};
use crate::mapping::tax::TaxedLine;
use chrono::NaiveDate;

/// One entry as recorded.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Entry {
    pub kind: Step,
    pub number: Option<String>,
    pub on_date: Option<NaiveDate>,
    pub amount: Option<Decimal>,
    pub detail: Option<String>,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// An entry to record.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub step: Step,
    pub number: Option<String>,
    pub on_date: Option<NaiveDate>,
    pub amount: Option<Decimal>,
    pub detail: Option<String>,
}

/// The stored order of a catalogue order id (the oldest, should two sources hold it).
pub async fn order_db_id(store: &Store, remote_order_id: &str) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar("SELECT id FROM purchase_orders WHERE remote_order_id = $1 ORDER BY id LIMIT 1")
        .bind(remote_order_id)
        .fetch_optional(&store.pool)
        .await?)
}

/// Records entries for an order, in one transaction, as made by `by`.
pub async fn record_entries(store: &Store, order_db_id: i64, entries: &[NewEntry], by: &str) -> Result<(), StoreError> {
    let mut tx = store.pool.begin().await?;
    insert_entries(&mut tx, order_db_id, entries, by).await?;
    tx.commit().await?;
    Ok(())
}

/// Adds entries to an order's record within a transaction.
pub async fn insert_entries(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, order_db_id: i64, entries: &[NewEntry], by: &str) -> Result<(), StoreError> {
    for e in entries {
        sqlx::query("INSERT INTO order_fulfilment (order_id, kind, number, on_date, amount, detail, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(order_db_id)
            .bind(e.step.as_str())
            .bind(&e.number)
            .bind(e.on_date)
            .bind(e.amount)
            .bind(&e.detail)
            .bind(by)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Every entry of an order, oldest first.
pub async fn entries(store: &Store, order_db_id: i64) -> Result<Vec<Entry>, StoreError> {
    Ok(sqlx::query_as("SELECT kind, number, on_date, amount, detail, recorded_by, recorded_at FROM order_fulfilment WHERE order_id = $1 ORDER BY id")
        .bind(order_db_id)
        .fetch_all(&store.pool)
        .await?)
}

/// An order as its money and its steps after the order see it.
#[derive(Debug, Clone)]
pub struct OrderFacts {
    pub id: i64,
    pub order_id: String,
    pub cooperative: String,
    pub cooperative_name: String,
    pub pkp: bool,
    pub status: OrderStatus,
    pub shipment_status: Option<String>,
    pub buyer: Option<String>,
    pub buyer_code: Option<String>,
    pub order_date: Option<DateTime<Utc>>,
    pub shipping: Decimal,
    pub total: Decimal,
    pub lines: Vec<TaxedLine>,
    /// The step of each kind in force (the newest entry), with what the
    /// catalogue reports filling in delivery where the staff recorded none.
    pub done: HashMap<Step, Done>,
    /// The way of paying the staff recorded, if any.
    pub payment_way: Option<PaymentWay>,
}

/// Which orders [`facts`] reads.
#[derive(Debug, Clone, Default)]
pub struct FactsFilter<'a> {
    pub order_db_id: Option<i64>,
    pub cooperative: Option<&'a str>,
    /// Orders made in `[from, to)`.
    pub made: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Leave out cancelled orders.
    pub live_only: bool,
    /// Only orders under way after the order: delivered, or with a step
    /// recorded, and not paid their whole total.
    pub under_way: bool,
}

/// A row of [`facts`]: the order, its lines' amounts and categories, and
/// the newest entry of each step recorded after it, as arrays.
#[derive(sqlx::FromRow)]
struct FactsRow {
    id: i64,
    order_id: String,
    cooperative: String,
    cooperative_name: String,
    pkp: bool,
    status: OrderStatus,
    shipment_status: Option<String>,
    buyer: Option<String>,
    buyer_code: Option<String>,
    order_date: Option<DateTime<Utc>>,
    shipping: Decimal,
    total: Decimal,
    /// Jakarta's day of the last change the catalogue reported.
    changed_on: Option<NaiveDate>,
    line_amounts: Vec<Decimal>,
    line_categories: Vec<Option<String>>,
    entry_kinds: Vec<String>,
    entry_dates: Vec<Option<NaiveDate>>,
    entry_numbers: Vec<Option<String>>,
    entry_amounts: Vec<Option<Decimal>>,
    entry_details: Vec<Option<String>>,
}

impl From<FactsRow> for OrderFacts {
    fn from(r: FactsRow) -> Self {
        let mut done = HashMap::new();
        let mut payment_way = None;
        for (i, kind) in r.entry_kinds.iter().enumerate() {
            let Some(step) = Step::parse(kind) else { continue };
            if step == Step::PaymentWay {
                payment_way = r.entry_details.get(i).cloned().flatten().as_deref().and_then(PaymentWay::parse);
                continue;
            }
            let entry = Done {
                on: r.entry_dates.get(i).copied().flatten(),
                number: r.entry_numbers.get(i).cloned().flatten(),
                amount: r.entry_amounts.get(i).copied().flatten(),
            };
            done.insert(step, entry);
        }
        // What the catalogue reports: delivered (and so shipped) once its
        // shipment status says so or the order is completed, on the day of that change.
        let (delivered, shipped) = crate::domain::fulfilment::reported_delivery(r.shipment_status.as_deref(), &r.status);
        for (step, reported) in [(Step::Delivered, delivered), (Step::Shipped, shipped)] {
            if reported {
                done.entry(step).or_insert(Done { on: r.changed_on, number: None, amount: None });
            }
        }
        let lines = r.line_amounts.into_iter().zip(r.line_categories).map(|(amount, category)| TaxedLine { amount, category }).collect();
        OrderFacts {
            id: r.id,
            order_id: r.order_id,
            cooperative: r.cooperative,
            cooperative_name: r.cooperative_name,
            pkp: r.pkp,
            status: r.status,
            shipment_status: r.shipment_status,
            buyer: r.buyer,
            buyer_code: r.buyer_code,
            order_date: r.order_date,
            shipping: r.shipping,
            total: r.total,
            lines,
            done,
            payment_way,
        }
    }
}

/// The facts of the orders `filter` selects, in order of cooperative and order id.
pub async fn facts(store: &Store, filter: &FactsFilter<'_>) -> Result<Vec<OrderFacts>, StoreError> {
    let rows: Vec<FactsRow> = sqlx::query_as(
        "SELECT o.id, o.remote_order_id AS order_id, c.code AS cooperative, c.name AS cooperative_name, c.pkp, o.status, o.shipment_status,
                o.nama_satker AS buyer, o.kode_satker AS buyer_code, o.order_date, o.shipping_fee AS shipping, o.total,
                (o.remote_updated_at AT TIME ZONE 'Asia/Jakarta')::date AS changed_on,
                COALESCE((SELECT array_agg(l.line_total ORDER BY l.id) FROM order_lines l WHERE l.order_id = o.id), '{}') AS line_amounts,
                COALESCE((SELECT array_agg(p.category ORDER BY l.id) FROM order_lines l LEFT JOIN products p ON p.id = l.product_id
                          WHERE l.order_id = o.id), '{}') AS line_categories,
                COALESCE(f.kinds, '{}') AS entry_kinds, COALESCE(f.dates, '{}') AS entry_dates, COALESCE(f.numbers, '{}') AS entry_numbers,
                COALESCE(f.amounts, '{}') AS entry_amounts, COALESCE(f.details, '{}') AS entry_details
         FROM purchase_orders o JOIN cooperatives c ON c.id = o.cooperative_id
         LEFT JOIN LATERAL (
             SELECT array_agg(kind) AS kinds, array_agg(on_date) AS dates, array_agg(number) AS numbers, array_agg(amount) AS amounts,
                    array_agg(detail) AS details
             FROM (SELECT DISTINCT ON (kind) kind, on_date, number, amount, detail FROM order_fulfilment e
                   WHERE e.order_id = o.id ORDER BY kind, id DESC) newest
         ) f ON true
         WHERE ($1::bigint IS NULL OR o.id = $1) AND ($2::text IS NULL OR c.code = $2)
           AND ($3::timestamptz IS NULL OR o.order_date >= $3) AND ($4::timestamptz IS NULL OR o.order_date < $4)
           AND (NOT $5 OR o.status NOT LIKE 'CANCELLED%')
           AND (NOT $6 OR ((o.shipment_status = 'DELIVERED' OR o.status = 'COMPLETED' OR f.kinds IS NOT NULL)
                           AND NOT EXISTS (SELECT 1 FROM order_fulfilment p WHERE p.order_id = o.id AND p.kind = 'paid' AND p.amount >= o.total
                                             AND p.id = (SELECT max(id) FROM order_fulfilment q WHERE q.order_id = o.id AND q.kind = 'paid'))))
         ORDER BY c.code, o.remote_order_id",
    )
    .bind(filter.order_db_id)
    .bind(filter.cooperative)
    .bind(filter.made.map(|m| m.0))
    .bind(filter.made.map(|m| m.1))
    .bind(filter.live_only)
    .bind(filter.under_way)
    .fetch_all(&store.pool)
    .await?;
    Ok(rows.into_iter().map(OrderFacts::from).collect())
}

/// An order's status history: (when, from, to, kind).
pub async fn history(store: &Store, order_db_id: i64) -> Result<Vec<(DateTime<Utc>, Option<OrderStatus>, Option<OrderStatus>, String)>, StoreError> {
    Ok(sqlx::query_as("SELECT at, from_status, to_status, kind FROM order_events WHERE order_id = $1 ORDER BY at, id")
        .bind(order_db_id)
        .fetch_all(&store.pool)
        .await?)
}

/// A line of one order as `orders show` prints it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ShownLine {
    pub line_id: String,
    pub sku: Option<String>,
    pub item: Option<String>,
    pub quantity: Option<Decimal>,
    pub unit: Option<String>,
    pub unit_price: Option<Decimal>,
    pub line_total: Decimal,
    pub member: Option<String>,
    pub category: Option<String>,
    /// The local unit of the product it was routed to.
    pub product_unit: Option<String>,
}

/// The lines of one order, in their order.
pub async fn order_lines(store: &Store, order_db_id: i64) -> Result<Vec<ShownLine>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT l.remote_line_id AS line_id, l.sku, l.description AS item, l.quantity, l.unit, l.unit_price, l.line_total, m.code AS member, p.category, p.unit AS product_unit
         FROM order_lines l LEFT JOIN members m ON m.id = l.member_id LEFT JOIN products p ON p.id = l.product_id
         WHERE l.order_id = $1 ORDER BY l.id",
    )
    .bind(order_db_id)
    .fetch_all(&store.pool)
    .await?)
}

/// A cooperative's id, NPWP, PKP and IDTKU by its code.
pub async fn cooperative_tax(store: &Store, code: &str) -> Result<Option<(i64, Option<String>, bool, Option<String>)>, StoreError> {
    Ok(sqlx::query_as("SELECT id, npwp, pkp, idtku FROM cooperatives WHERE code = $1").bind(code).fetch_optional(&store.pool).await?)
}

/// Of these orders, those a tax invoice file holds.
pub async fn invoiced(store: &Store, orders: &[i64]) -> Result<std::collections::HashSet<i64>, StoreError> {
    let held: Vec<i64> = sqlx::query_scalar("SELECT order_id FROM tax_invoice_orders WHERE order_id = ANY($1)").bind(orders).fetch_all(&store.pool).await?;
    Ok(held.into_iter().collect())
}

/// A tax invoice file written: the file and the orders it holds, once each.
pub struct InvoiceFile<'a> {
    pub cooperative_id: i64,
    pub month: NaiveDate,
    pub file_name: &'a str,
    pub invoices: usize,
    pub by: &'a str,
}

/// Records a tax invoice file and its orders in one transaction; an order
/// another file holds already refuses the whole (two writers at once).
pub async fn record_invoice_file(store: &Store, file: &InvoiceFile<'_>, orders: &[i64]) -> Result<i64, StoreError> {
    let mut tx = store.pool.begin().await?;
    let id: i64 =
        sqlx::query_scalar("INSERT INTO tax_invoice_files (cooperative_id, month, file_name, invoices, written_by) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(file.cooperative_id)
            .bind(file.month)
            .bind(file.file_name)
            .bind(i32::try_from(file.invoices).unwrap_or(i32::MAX))
            .bind(file.by)
            .fetch_one(&mut *tx)
            .await?;
    sqlx::query("INSERT INTO tax_invoice_orders (order_id, file_id) SELECT DISTINCT unnest($1::bigint[]), $2").bind(orders).bind(id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(id)
}

/// Holds the lock of a cooperative's tax invoice numbers for a transaction:
/// two readings of Coretax's list never record one number twice.
pub async fn lock_faktur_numbers(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, cooperative_id: i64) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(7302, $1::int)").bind(i32::try_from(cooperative_id).unwrap_or(i32::MAX)).execute(&mut **tx).await?;
    Ok(())
}

/// Of these catalogue order ids, the stored orders of a cooperative (the oldest of each).
pub async fn orders_by_remote_id(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    cooperative_id: i64,
    remote_ids: &[String],
) -> Result<HashMap<String, i64>, StoreError> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT remote_order_id, min(id) FROM purchase_orders WHERE cooperative_id = $1 AND remote_order_id = ANY($2) GROUP BY remote_order_id")
            .bind(cooperative_id)
            .bind(remote_ids)
            .fetch_all(&mut **tx)
            .await?;
    Ok(rows.into_iter().collect())
}

/// Of these tax invoice numbers (digits only), the orders each is recorded
/// on already, however it was written (dots and dashes ignored).
pub async fn faktur_numbers_recorded(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, numbers: &[String]) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT DISTINCT regexp_replace(number, '[^0-9]', '', 'g'), order_id FROM order_fulfilment
          WHERE kind = 'faktur' AND number IS NOT NULL AND regexp_replace(number, '[^0-9]', '', 'g') = ANY($1)",
    )
    .bind(numbers)
    .fetch_all(&mut **tx)
    .await?)
}
