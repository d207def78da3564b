//! Purchase orders: packages from the order feed upserted on their remote
//! ids (an older copy never overwrites a newer one), the cursor moved in the
//! same transaction; detail lines written in bulk and routed to the
//! publication, product and member they are for; each status change an event
//! once; answers through an outbox. Every bulk write is one statement over
//! `UNNEST` arrays, never a round trip per row.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

mod answers;
mod details;
mod fulfilment;
mod staged;
mod views;

pub use answers::*;
pub use details::*;
pub use fulfilment::*;
pub use staged::*;
pub use views::*;

use super::{Store, StoreError};
use crate::domain::calendar::WorkingCalendar;
use crate::domain::order::{AnswerState, OrderSource, OrderStatus, RemoteOrder};

/// Our sellers: kode_penyedia -> cooperative id.
pub async fn our_sellers(store: &Store) -> Result<HashMap<String, i64>, StoreError> {
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT kode_penyedia, id FROM cooperatives WHERE kode_penyedia IS NOT NULL").fetch_all(&store.pool).await?;
    Ok(rows.into_iter().collect())
}

/// What applying one page of the order feed did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PageCounts {
    pub new: u64,
    pub updated: u64,
    /// Copies older than (or the same as) what is stored: nothing written.
    pub unchanged: u64,
    /// Packages of sellers that are not our cooperatives.
    pub other_sellers: u64,
    /// Status changes recorded as events.
    pub events: u64,
}

summed!(PageCounts { new, updated, unchanged, other_sellers, events });

/// The arrays of an order upsert.
#[derive(Default)]
struct OrderRows {
    remote_id: Vec<String>,
    cooperative: Vec<Option<i64>>,
    klpd: Vec<String>,
    year: Vec<i32>,
    rup_code: Vec<Option<String>>,
    rup_name: Vec<Option<String>>,
    funding: Vec<Option<String>>,
    satker: Vec<Option<String>>,
    satker_name: Vec<Option<String>>,
    seller: Vec<String>,
    status: Vec<String>,
    shipment: Vec<Option<String>>,
    order_date: Vec<Option<DateTime<Utc>>>,
    confirm_by: Vec<Option<DateTime<Utc>>>,
    deadline: Vec<Option<DateTime<Utc>>>,
    ppk_deadline: Vec<Option<DateTime<Utc>>>,
    shipping: Vec<Decimal>,
    total: Vec<Decimal>,
    updated_at: Vec<DateTime<Utc>>,
    raw: Vec<serde_json::Value>,
    repaired: Vec<Option<String>>,
}

impl OrderRows {
    fn push(&mut self, o: &RemoteOrder, cooperative: Option<i64>, calendar: &WorkingCalendar, before: Option<&OrderStatus>) {
        self.remote_id.push(o.order_id.clone());
        self.cooperative.push(cooperative);
        self.klpd.push(o.kode_klpd.clone());
        self.year.push(o.fiscal_year);
        self.rup_code.push(o.rup_code.clone());
        self.rup_name.push(o.rup_name.clone());
        self.funding.push(o.funding_source.clone());
        self.satker.push(o.kode_satker.clone());
        self.satker_name.push(o.nama_satker.clone());
        self.seller.push(o.kode_penyedia.clone());
        self.status.push(o.status.as_str().to_owned());
        self.shipment.push(o.shipment_status.clone());
        self.order_date.push(o.order_date);
        self.confirm_by.push(o.confirm_by);
        let (seller, ppk) = crate::domain::order::deadlines(o, before, calendar);
        self.deadline.push(seller);
        self.ppk_deadline.push(ppk);
        self.shipping.push(o.shipping_fee);
        self.total.push(o.total);
        self.updated_at.push(o.updated_at);
        self.raw.push(o.raw.clone());
        self.repaired.push(repaired(o));
    }

    /// Upserts the orders (a stored newer copy wins) and returns each written one's id by remote id.
    async fn upsert(&self, tx: &mut sqlx::PgConnection, source: OrderSource) -> Result<HashMap<String, i64>, StoreError> {
        if self.remote_id.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "INSERT INTO purchase_orders (source, remote_order_id, cooperative_id, kode_klpd, fiscal_year, rup_code, rup_name,
                 funding_source, kode_satker, nama_satker, kode_penyedia, status, shipment_status, order_date, confirm_by, deadline,
                 shipping_fee, total, remote_updated_at, raw, repaired, ppk_deadline, needs_detail, expected_lines)
             SELECT $1, o.*, true, CASE WHEN o.raw->>'count_product' ~ '^[0-9]{1,9}$' THEN (o.raw->>'count_product')::bigint END
             FROM unnest($2::text[], $3::bigint[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[],
                 $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::timestamptz[], $15::timestamptz[], $16::timestamptz[],
                 $17::numeric[], $18::numeric[], $19::timestamptz[], $20::jsonb[], $21::text[], $22::timestamptz[]) AS o(remote_order_id, cooperative_id, kode_klpd, fiscal_year, rup_code, rup_name, funding_source, kode_satker, nama_satker,
                   kode_penyedia, status, shipment_status, order_date, confirm_by, deadline, shipping_fee, total, remote_updated_at, raw,
                   repaired, ppk_deadline)
             ON CONFLICT (source, remote_order_id) DO UPDATE SET
                 cooperative_id = EXCLUDED.cooperative_id, kode_klpd = EXCLUDED.kode_klpd, fiscal_year = EXCLUDED.fiscal_year,
                 rup_code = EXCLUDED.rup_code, rup_name = EXCLUDED.rup_name, funding_source = EXCLUDED.funding_source,
                 kode_satker = EXCLUDED.kode_satker, nama_satker = EXCLUDED.nama_satker, kode_penyedia = EXCLUDED.kode_penyedia,
                 status = EXCLUDED.status, shipment_status = EXCLUDED.shipment_status, order_date = EXCLUDED.order_date,
                 confirm_by = EXCLUDED.confirm_by, deadline = COALESCE(EXCLUDED.deadline, purchase_orders.deadline),
                 ppk_deadline = COALESCE(EXCLUDED.ppk_deadline, purchase_orders.ppk_deadline),
                 confirmed_seen_at = COALESCE(purchase_orders.confirmed_seen_at,
                     CASE WHEN purchase_orders.status = 'WAITING_SELLER_CONFIRMATION' AND EXCLUDED.status IN ('ESIGN_IN_PROGRESS', 'ON_PROCESS')
                          THEN now() END),
                 shipping_fee = EXCLUDED.shipping_fee,
                 total = EXCLUDED.total, remote_updated_at = EXCLUDED.remote_updated_at, raw = EXCLUDED.raw, expected_lines = EXCLUDED.expected_lines,
                 repaired = EXCLUDED.repaired, updated_at = now(),
                 needs_detail = purchase_orders.needs_detail
                     OR EXCLUDED.remote_updated_at > COALESCE(purchase_orders.detail_updated_at, '-infinity'::timestamptz),
                 amount_mismatch = CASE WHEN purchase_orders.lines_total IS NULL THEN false
                     ELSE purchase_orders.lines_total + EXCLUDED.shipping_fee <> EXCLUDED.total END
             WHERE purchase_orders.remote_updated_at IS NULL OR purchase_orders.remote_updated_at < EXCLUDED.remote_updated_at
             RETURNING remote_order_id, id",
        )
        .bind(source)
        .bind(&self.remote_id)
        .bind(&self.cooperative)
        .bind(&self.klpd)
        .bind(&self.year)
        .bind(&self.rup_code)
        .bind(&self.rup_name)
        .bind(&self.funding)
        .bind(&self.satker)
        .bind(&self.satker_name)
        .bind(&self.seller)
        .bind(&self.status)
        .bind(&self.shipment)
        .bind(&self.order_date)
        .bind(&self.confirm_by)
        .bind(&self.deadline)
        .bind(&self.shipping)
        .bind(&self.total)
        .bind(&self.updated_at)
        .bind(&self.raw)
        .bind(&self.repaired)
        .bind(&self.ppk_deadline)
        .fetch_all(&mut *tx)
        .await?;
        Ok(rows.into_iter().collect())
    }
}

/// What was changed to store an order, in one text, or `None`.
fn repaired(o: &RemoteOrder) -> Option<String> {
    (!o.repaired.is_empty()).then(|| o.repaired.join("; "))
}

/// The stored copies of these orders: remote id -> (id, status, remote updated_at), locked.
async fn stored(
    tx: &mut sqlx::PgConnection,
    source: OrderSource,
    ids: &[String],
) -> Result<HashMap<String, (i64, OrderStatus, Option<DateTime<Utc>>)>, StoreError> {
    let rows: Vec<(String, i64, OrderStatus, Option<DateTime<Utc>>)> = sqlx::query_as(
        // Each id looked up through the unique index, however large the table and its statistics.
        "SELECT o.remote_order_id, o.id, o.status, o.remote_updated_at
         FROM unnest($2::text[]) AS k(remote_id) JOIN purchase_orders o ON o.source = $1 AND o.remote_order_id = k.remote_id
         ORDER BY o.id FOR UPDATE OF o",
    )
    .bind(source)
    .bind(ids)
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows.into_iter().map(|(r, id, s, u)| (r, (id, s, u))).collect())
}

/// When each of `ids` (of `source`) stored last changed at the catalogue,
/// for those stored: a feed page's unchanged packages are known before they
/// are read whole.
pub async fn stored_versions(store: &Store, source: OrderSource, ids: &[&str]) -> Result<HashMap<String, DateTime<Utc>>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT o.remote_order_id, o.remote_updated_at
         FROM unnest($2::text[]) AS k(remote_id) JOIN purchase_orders o ON o.source = $1 AND o.remote_order_id = k.remote_id
         WHERE o.remote_updated_at IS NOT NULL",
    )
    .bind(source)
    .bind(ids)
    .fetch_all(&store.pool)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Status changes to record: (order id, from, to, at, remote change).
#[derive(Default)]
struct Events {
    order: Vec<i64>,
    from: Vec<Option<OrderStatus>>,
    to: Vec<OrderStatus>,
    at: Vec<DateTime<Utc>>,
    change: Vec<String>,
}

impl Events {
    fn push(&mut self, order: i64, from: Option<OrderStatus>, o: &RemoteOrder) {
        if from.as_ref() == Some(&o.status) {
            return;
        }
        self.order.push(order);
        self.from.push(from);
        self.to.push(o.status.clone());
        self.at.push(o.updated_at);
        // One per order and remote change: the status it reached and when.
        self.change.push(format!("{}@{}", o.status.as_str(), o.updated_at.to_rfc3339()));
    }

    async fn insert(&self, tx: &mut sqlx::PgConnection) -> Result<u64, StoreError> {
        if self.order.is_empty() {
            return Ok(0);
        }
        Ok(sqlx::query(
            "INSERT INTO order_events (order_id, kind, from_status, to_status, at, remote_change)
             SELECT e.order_id, 'status', e.from_status, e.to_status, e.at, e.change
             FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::text[]) AS e(order_id, from_status, to_status, at, change)
             ON CONFLICT (order_id, remote_change) DO NOTHING",
        )
        .bind(&self.order)
        .bind(&self.from)
        .bind(&self.to)
        .bind(&self.at)
        .bind(&self.change)
        .execute(&mut *tx)
        .await?
        .rows_affected())
    }
}

/// A transaction for what the order sync writes: all of it can be fetched
/// again from the catalogue. A crash loses at most the last moment's
/// commits, the feed cursor and the detail marks with their rows, so the
/// next sync fetches them again. (Answers, which a person decided, and
/// imported documents keep durable commits.)
async fn begin_refetchable(store: &Store) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
    store.begin_recomputable().await
}

/// Applies one page of the order feed and moves its cursor (when given as
/// (name, value)), in one transaction: only our cooperatives' packages are kept (the rest counted),
/// a package appearing twice in a page counts once (its newest copy), and a
/// stored newer copy is never overwritten.
#[allow(clippy::too_many_arguments)]
pub async fn apply_order_page(
    store: &Store,
    source: OrderSource,
    orders: &[RemoteOrder],
    ours: &HashMap<String, i64>,
    calendar: &WorkingCalendar,
    cursor: Option<(&str, &str)>,
) -> Result<PageCounts, StoreError> {
    let mut counts = PageCounts::default();
    let mut newest: HashMap<&str, &RemoteOrder> = HashMap::new();
    for o in orders {
        if !ours.contains_key(&o.kode_penyedia) {
            counts.other_sellers += 1;
            continue;
        }
        match newest.get(o.order_id.as_str()) {
            Some(seen) if seen.updated_at > o.updated_at => counts.unchanged += 1,
            Some(_) => {
                counts.unchanged += 1;
                newest.insert(&o.order_id, o);
            }
            None => {
                newest.insert(&o.order_id, o);
            }
        }
    }
    let mut page: Vec<&RemoteOrder> = newest.into_values().collect();
    page.sort_by(|a, b| a.order_id.cmp(&b.order_id));
    let mut tx = begin_refetchable(store).await?;
    let ids: Vec<String> = page.iter().map(|o| o.order_id.clone()).collect();
    let before = if ids.is_empty() { HashMap::new() } else { stored(&mut tx, source, &ids).await? };
    let mut rows = OrderRows::default();
    for o in &page {
        match before.get(&o.order_id) {
            Some((_, _, Some(at))) if *at >= o.updated_at => counts.unchanged += 1,
            Some((_, status, _)) => {
                counts.updated += 1;
                rows.push(o, ours.get(&o.kode_penyedia).copied(), calendar, Some(status));
            }
            None => {
                counts.new += 1;
                rows.push(o, ours.get(&o.kode_penyedia).copied(), calendar, None);
            }
        }
    }
    let written = rows.upsert(&mut tx, source).await?;
    let mut events = Events::default();
    for o in &page {
        if let Some(id) = written.get(&o.order_id) {
            events.push(*id, before.get(&o.order_id).map(|(_, s, _)| s.clone()), o);
        }
    }
    counts.events = events.insert(&mut tx).await?;
    if let Some((name, value)) = cursor {
        set_cursor(&mut tx, name, value).await?;
    }
    tx.commit().await?;
    Ok(counts)
}

async fn set_cursor(tx: &mut sqlx::PgConnection, name: &str, cursor: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sync_cursors (name, cursor, updated_at) VALUES ($1, $2, now())
         ON CONFLICT (name) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now()",
    )
    .bind(name)
    .bind(cursor)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Forgets the cursors whose names start with `prefix` (`sync orders --full`).
pub async fn reset_cursors(store: &Store, prefix: &str) -> Result<u64, StoreError> {
    Ok(sqlx::query("DELETE FROM sync_cursors WHERE starts_with(name, $1)").bind(prefix).execute(&store.pool).await?.rows_affected())
}

/// Stores orders read from documents (`orders import-ubl`): each upserted on
/// (source, id) with its lines, in one transaction for all of them.
/// `cooperatives` finds the cooperative of a seller id (kode_penyedia).
pub async fn import_orders(
    store: &Store,
    source: OrderSource,
    documents: &[RemoteOrder],
    cooperatives: &HashMap<String, i64>,
    calendar: &WorkingCalendar,
) -> Result<DetailCounts, StoreError> {
    let mut counts = DetailCounts::default();
    let mut tx = store.pool.begin().await?;
    let ids: Vec<String> = documents.iter().map(|o| o.order_id.clone()).collect();
    let before = stored(&mut tx, source, &ids).await?;
    let mut rows = OrderRows::default();
    for o in documents {
        rows.push(o, cooperatives.get(&o.kode_penyedia).copied(), calendar, before.get(&o.order_id).map(|(_, s, _)| s));
    }
    // A document imported again replaces the stored copy (not only a newer one).
    sqlx::query("UPDATE purchase_orders SET remote_updated_at = NULL WHERE source = $1 AND remote_order_id = ANY($2)")
        .bind(source)
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
    let written = rows.upsert(&mut tx, source).await?;
    let mut events = Events::default();
    let mut fresh = Vec::new();
    for o in documents {
        if let Some(id) = written.get(&o.order_id) {
            events.push(*id, before.get(&o.order_id).map(|(_, s, _)| s.clone()), o);
            fresh.push((*id, o));
        }
    }
    counts.events = events.insert(&mut tx).await?;
    // A document imported again replaces the lines stored with it.
    let ids: Vec<i64> = fresh.iter().map(|(id, _)| *id).collect();
    let (lines, unrouted) = replace_lines(&mut tx, &fresh, &ids).await?;
    counts.lines = lines;
    // A document's lines add up to its own line total (its payable amount adds tax and charges).
    let lines_total: Vec<Decimal> = fresh.iter().map(|(_, d)| d.lines_total().unwrap_or_default()).collect();
    let flags: Vec<(bool, i32)> = sqlx::query_as(
        "UPDATE purchase_orders o SET needs_detail = false, detail_updated_at = o.remote_updated_at, lines_total = t.sum, unrouted_lines = t.unrouted,
                amount_mismatch = t.sum IS DISTINCT FROM (o.raw->>'line_extension_amount')::numeric
         FROM unnest($1::bigint[], $2::numeric[], $3::int[]) AS t(id, sum, unrouted)
         WHERE o.id = t.id RETURNING o.amount_mismatch, o.unrouted_lines",
    )
    .bind(&ids)
    .bind(&lines_total)
    .bind(&unrouted)
    .fetch_all(&mut *tx)
    .await?;
    counts.count_flags(flags);
    tx.commit().await?;
    Ok(counts)
}
