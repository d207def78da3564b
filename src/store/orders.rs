//! Purchase orders: packages from the order feed upserted on their remote
//! ids (an older copy never overwrites a newer one), the cursor moved in the
//! same transaction; detail lines written in bulk and routed to the
//! publication, product and member they are for; each status change an event
//! once; answers through an outbox. Every bulk write is one statement over
//! `UNNEST` arrays, never a round trip per row.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::Row;

use super::{Store, StoreError};
use crate::domain::calendar::{CONFIRM_WORKING_DAYS, WorkingCalendar};
use crate::domain::order::{OrderStatus, RemoteOrder};

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
    shipping: Vec<Decimal>,
    total: Vec<Decimal>,
    updated_at: Vec<DateTime<Utc>>,
    raw: Vec<serde_json::Value>,
    repaired: Vec<Option<String>>,
}

impl OrderRows {
    fn push(&mut self, o: &RemoteOrder, cooperative: Option<i64>, calendar: &WorkingCalendar) {
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
        self.deadline.push(o.order_date.map(|d| calendar.add_working_days(d, CONFIRM_WORKING_DAYS)));
        self.shipping.push(o.shipping_fee);
        self.total.push(o.total);
        self.updated_at.push(o.updated_at);
        self.raw.push(o.raw.clone());
        self.repaired.push(repaired(o));
    }

    /// Upserts the orders (a stored newer copy wins) and returns each written one's id by remote id.
    async fn upsert(&self, tx: &mut sqlx::PgConnection, source: &str) -> Result<HashMap<String, i64>, StoreError> {
        if self.remote_id.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "INSERT INTO purchase_orders (source, remote_order_id, cooperative_id, kode_klpd, fiscal_year, rup_code, rup_name,
                 funding_source, kode_satker, nama_satker, kode_penyedia, status, shipment_status, order_date, confirm_by, deadline,
                 shipping_fee, total, remote_updated_at, raw, repaired, needs_detail)
             SELECT $1, o.*, true FROM unnest($2::text[], $3::bigint[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[],
                 $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::timestamptz[], $15::timestamptz[], $16::timestamptz[],
                 $17::numeric[], $18::numeric[], $19::timestamptz[], $20::jsonb[], $21::text[]) AS o
             ON CONFLICT (source, remote_order_id) DO UPDATE SET
                 cooperative_id = EXCLUDED.cooperative_id, kode_klpd = EXCLUDED.kode_klpd, fiscal_year = EXCLUDED.fiscal_year,
                 rup_code = EXCLUDED.rup_code, rup_name = EXCLUDED.rup_name, funding_source = EXCLUDED.funding_source,
                 kode_satker = EXCLUDED.kode_satker, nama_satker = EXCLUDED.nama_satker, kode_penyedia = EXCLUDED.kode_penyedia,
                 status = EXCLUDED.status, shipment_status = EXCLUDED.shipment_status, order_date = EXCLUDED.order_date,
                 confirm_by = EXCLUDED.confirm_by, deadline = EXCLUDED.deadline, shipping_fee = EXCLUDED.shipping_fee,
                 total = EXCLUDED.total, remote_updated_at = EXCLUDED.remote_updated_at, raw = EXCLUDED.raw,
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
async fn stored(tx: &mut sqlx::PgConnection, source: &str, ids: &[String]) -> Result<HashMap<String, (i64, String, Option<DateTime<Utc>>)>, StoreError> {
    let rows: Vec<(String, i64, String, Option<DateTime<Utc>>)> = sqlx::query_as(
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

/// Status changes to record: (order id, from, to, at, remote change).
#[derive(Default)]
struct Events {
    order: Vec<i64>,
    from: Vec<Option<String>>,
    to: Vec<String>,
    at: Vec<DateTime<Utc>>,
    change: Vec<String>,
}

impl Events {
    fn push(&mut self, order: i64, from: Option<String>, o: &RemoteOrder) {
        if from.as_deref() == Some(o.status.as_str()) {
            return;
        }
        self.order.push(order);
        self.from.push(from);
        self.to.push(o.status.as_str().to_owned());
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
    source: &str,
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
    let before = stored(&mut tx, source, &ids).await?;
    let mut rows = OrderRows::default();
    for o in &page {
        match before.get(&o.order_id) {
            Some((_, _, Some(at))) if *at >= o.updated_at => counts.unchanged += 1,
            Some(_) => {
                counts.updated += 1;
                rows.push(o, ours.get(&o.kode_penyedia).copied(), calendar);
            }
            None => {
                counts.new += 1;
                rows.push(o, ours.get(&o.kode_penyedia).copied(), calendar);
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

/// An order whose lines are to be fetched.
#[derive(Debug, Clone)]
pub struct DetailClaim {
    pub id: i64,
    pub remote_order_id: String,
    pub seller: String,
}

/// Claims up to `limit` orders whose detail is due, of ids above `after`,
/// for `lease_secs` (committed before any is fetched; a dead instance's
/// claims expire). Claiming on from the last id claimed keeps each claim
/// from walking over the index entries of the orders already done.
/// Whether [`claim_details`] would find an order to fetch now.
pub async fn details_claimable(store: &Store, source: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM purchase_orders o WHERE needs_detail AND source = $1
                          AND (next_detail_at IS NULL OR next_detail_at <= now())
                          AND NOT EXISTS (SELECT 1 FROM order_detail_claims k WHERE k.order_id = o.id AND k.claimed_until > now()))",
    )
    .bind(source)
    .fetch_one(&store.pool)
    .await?)
}

/// Seconds until the first lease on an order detail still to fetch runs out, if any is held.
pub async fn details_leased(store: &Store, source: &str) -> Result<Option<f64>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT EXTRACT(EPOCH FROM min(k.claimed_until) - now())::float8
         FROM order_detail_claims k JOIN purchase_orders o ON o.id = k.order_id
         WHERE o.needs_detail AND o.source = $1 AND k.claimed_until > now()",
    )
    .bind(source)
    .fetch_one(&store.pool)
    .await?)
}

pub async fn claim_details(
    store: &Store,
    instance: &str,
    source: &str,
    after: i64,
    limit: i64,
    lease_secs: f64,
) -> Result<(Vec<DetailClaim>, Option<i64>), StoreError> {
    // The next orders due after `after`, in the index's order (a batch reads
    // only its own rows), then their claims taken where free or expired: the
    // claim row's key decides between two claimers, so no order row is
    // locked or written. Returns the claims and the last id looked at (None
    // when nothing is due past `after`).
    let due: Vec<(i64, String, Option<String>)> = sqlx::query_as(
        "SELECT id, remote_order_id, kode_penyedia FROM purchase_orders
         WHERE needs_detail AND source = $1 AND id > $2 AND (next_detail_at IS NULL OR next_detail_at <= now())
         ORDER BY source, id LIMIT $3",
    )
    .bind(source)
    .bind(after)
    .bind(limit)
    .fetch_all(&store.pool)
    .await?;
    let Some(last) = due.last().map(|d| d.0) else { return Ok((Vec::new(), None)) };
    let ids: Vec<i64> = due.iter().map(|d| d.0).collect();
    let mut tx = begin_refetchable(store).await?;
    let taken: Vec<i64> = sqlx::query_scalar(
        "INSERT INTO order_detail_claims (order_id, claimed_by, claimed_until)
         SELECT id, $2, now() + make_interval(secs => $3) FROM unnest($1::bigint[]) AS id
         ON CONFLICT (order_id) DO UPDATE SET claimed_by = EXCLUDED.claimed_by, claimed_until = EXCLUDED.claimed_until
             WHERE order_detail_claims.claimed_until IS NULL OR order_detail_claims.claimed_until <= now()
         RETURNING order_id",
    )
    .bind(&ids)
    .bind(instance)
    .bind(lease_secs)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let taken: std::collections::HashSet<i64> = taken.into_iter().collect();
    let claims = due
        .into_iter()
        .filter(|d| taken.contains(&d.0))
        .map(|(id, remote_order_id, seller)| DetailClaim { id, remote_order_id, seller: seller.unwrap_or_default() })
        .collect();
    Ok((claims, Some(last)))
}

/// What writing a batch of details did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DetailCounts {
    pub orders: u64,
    pub lines: u64,
    /// Lines that match no publication of ours: kept, flagged for the liaison.
    pub unrouted: u64,
    /// Orders whose lines plus shipping differ from the total: kept, flagged.
    pub mismatched: u64,
    /// Details older than the package stored: not written, fetched again later.
    pub stale: u64,
    pub events: u64,
}

summed!(DetailCounts { orders, lines, unrouted, mismatched, stale, events });

impl DetailCounts {
    /// Counts the orders just flagged: (amounts differ, lines unrouted) each.
    fn count_flags(&mut self, flags: Vec<(bool, i32)>) {
        for (mismatch, unrouted) in flags {
            self.orders += 1;
            self.mismatched += u64::from(mismatch);
            self.unrouted += u64::try_from(unrouted).unwrap_or(0);
        }
    }
}

/// Writes fetched details (`(order id, detail)`) while `instance` holds their
/// claims: the order's fields (a newer copy than stored), its lines replaced
/// and routed, its flags, and its status change; one transaction, a handful
/// of statements whatever the count.
pub async fn write_details(store: &Store, instance: &str, details: &[(i64, &RemoteOrder)], calendar: &WorkingCalendar) -> Result<DetailCounts, StoreError> {
    let mut counts = DetailCounts::default();
    let mut tx = begin_refetchable(store).await?;
    let ids: Vec<i64> = details.iter().map(|(id, _)| *id).collect();
    #[derive(sqlx::FromRow)]
    struct Held {
        id: i64,
        status: String,
        remote_updated_at: Option<DateTime<Utc>>,
        cooperative_id: Option<i64>,
        detail_updated_at: Option<DateTime<Utc>>,
    }
    // Only orders whose claim this instance holds and whose detail is still
    // due: another instance may have stored it meanwhile (this one claimed it
    // from a list read before that write; checked again on the locked row).
    let held: Vec<Held> = sqlx::query_as(
        "SELECT id, status, remote_updated_at, cooperative_id, detail_updated_at FROM purchase_orders
         WHERE id = ANY($1) AND needs_detail
           AND EXISTS (SELECT 1 FROM order_detail_claims k WHERE k.order_id = purchase_orders.id AND k.claimed_by = $2)
         ORDER BY id FOR UPDATE",
    )
    .bind(&ids)
    .bind(instance)
    .fetch_all(&mut *tx)
    .await?;
    let held: HashMap<i64, Held> = held.into_iter().map(|h| (h.id, h)).collect();
    let mut fresh: Vec<(i64, &RemoteOrder)> = Vec::new();
    let mut stale: Vec<i64> = Vec::new();
    for (id, d) in details {
        match held.get(id) {
            None => {}
            Some(Held { remote_updated_at: Some(at), .. }) if d.updated_at < *at => stale.push(*id),
            Some(_) => fresh.push((*id, d)),
        }
    }
    counts.stale = stale.len() as u64;
    // The order's own fields, from the detail (as new as the package stored, or newer).
    let mut rows = OrderRows::default();
    let mut events = Events::default();
    for (id, d) in &fresh {
        let h = &held[id];
        rows.push(d, h.cooperative_id, calendar);
        events.push(*id, Some(h.status.clone()), d);
    }
    counts.events = events.insert(&mut tx).await?;
    // Only orders whose detail was stored before have lines to replace.
    let had_lines: Vec<i64> = fresh.iter().map(|(id, _)| *id).filter(|id| held[id].detail_updated_at.is_some()).collect();
    let (lines, unrouted) = replace_lines(&mut tx, &fresh, &had_lines).await?;
    counts.lines = lines;
    // One update per order: the detail's fields (as new as the package stored, or newer),
    // the flags, the detail's mark, the claim let go.
    let ids: Vec<i64> = fresh.iter().map(|(id, _)| *id).collect();
    let lines_total: Vec<Decimal> = fresh.iter().map(|(_, d)| d.lines_total().unwrap_or_default()).collect();
    let flags: Vec<(bool, i32)> = sqlx::query_as(
        "UPDATE purchase_orders o SET status = d.status, shipment_status = d.shipment, shipping_fee = d.shipping, total = d.total,
                remote_updated_at = d.updated_at, order_date = COALESCE(d.order_date, o.order_date),
                confirm_by = COALESCE(d.confirm_by, o.confirm_by), deadline = COALESCE(d.deadline, o.deadline), updated_at = now(),
                needs_detail = false, detail_updated_at = d.updated_at, detail_error = NULL, next_detail_at = NULL,
                lines_total = d.lines_total, repaired = COALESCE(d.repaired, o.repaired),
                amount_mismatch = d.lines_total + d.shipping <> d.total, unrouted_lines = d.unrouted
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::numeric[], $5::numeric[], $6::timestamptz[], $7::timestamptz[],
                     $8::timestamptz[], $9::timestamptz[], $10::numeric[], $11::int[], $12::text[])
              AS d(id, status, shipment, shipping, total, updated_at, order_date, confirm_by, deadline, lines_total, unrouted, repaired)
         WHERE o.id = d.id AND o.id = ANY($1)
         RETURNING o.amount_mismatch, o.unrouted_lines",
    )
    .bind(&ids)
    .bind(&rows.status)
    .bind(&rows.shipment)
    .bind(&rows.shipping)
    .bind(&rows.total)
    .bind(&rows.updated_at)
    .bind(&rows.order_date)
    .bind(&rows.confirm_by)
    .bind(&rows.deadline)
    .bind(&lines_total)
    .bind(&unrouted)
    .bind(&rows.repaired)
    .fetch_all(&mut *tx)
    .await?;
    counts.count_flags(flags);
    sqlx::query("UPDATE purchase_orders SET next_detail_at = now() + interval '1 minute' WHERE id = ANY($1)").bind(&stale).execute(&mut *tx).await?;
    // The claims let go: of the orders stored, the stale ones, and those no longer due.
    sqlx::query("DELETE FROM order_detail_claims WHERE order_id = ANY($1) AND claimed_by = $2")
        .bind(details.iter().map(|(id, _)| *id).collect::<Vec<i64>>())
        .bind(instance)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(counts)
}

/// Replaces the lines of these orders, each routed through the publication
/// the listing id names (to its product and member); returns the lines
/// written and, per order, those that match no publication. The routes are
/// read in one query and the lines streamed in with `COPY`.
async fn replace_lines(tx: &mut sqlx::PgConnection, fresh: &[(i64, &RemoteOrder)], had_lines: &[i64]) -> Result<(u64, Vec<i32>), StoreError> {
    // The routes: (seller, listing id) -> (publication, product, member).
    let mut sellers = Vec::new();
    let mut listings = Vec::new();
    for (_, d) in fresh {
        for line in d.lines.iter().flatten() {
            if let Some(listing) = &line.listing_id {
                sellers.push(d.kode_penyedia.as_str());
                listings.push(listing.as_str());
            }
        }
    }
    let routes: Vec<(String, String, i64, i64, i64)> = sqlx::query_as(
        "SELECT DISTINCT ON (pb.seller, pb.remote_id) pb.seller, pb.remote_id, pb.id, pb.product_id, p.member_id
         FROM publications pb JOIN products p ON p.id = pb.product_id
         WHERE (pb.seller, pb.remote_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
         ORDER BY pb.seller, pb.remote_id, pb.id",
    )
    .bind(&sellers)
    .bind(&listings)
    .fetch_all(&mut *tx)
    .await?;
    let routes: HashMap<(&str, &str), (i64, i64, i64)> = routes.iter().map(|(s, r, p, pr, m)| ((s.as_str(), r.as_str()), (*p, *pr, *m))).collect();
    // Replaced whole: the old lines go (looked up by order through the lines' index), the new ones are copied in.
    if !had_lines.is_empty() {
        sqlx::query("DELETE FROM order_lines ol USING unnest($1::bigint[]) AS k(order_id) WHERE ol.order_id = k.order_id")
            .bind(had_lines)
            .execute(&mut *tx)
            .await?;
    }
    let mut data = Vec::with_capacity(fresh.len() * 4096);
    let mut unrouted = Vec::with_capacity(fresh.len());
    let mut lines = 0u64;
    for (id, d) in fresh {
        let mut missing = 0i32;
        for line in d.lines.iter().flatten() {
            lines += 1;
            let route = line.listing_id.as_deref().and_then(|l| routes.get(&(d.kode_penyedia.as_str(), l)));
            if route.is_none() {
                missing += 1;
            }
            let number = |v: Option<i64>| v.map_or_else(|| b"\\N".to_vec(), |v| v.to_string().into_bytes());
            let text = |data: &mut Vec<u8>, v: Option<&str>| match v {
                Some(v) => super::listings::copy_text(data, v.as_bytes()),
                None => data.extend_from_slice(b"\\N"),
            };
            data.extend_from_slice(id.to_string().as_bytes());
            for field in [Some(line.line_id.as_str()), line.listing_id.as_deref(), line.sku.as_deref(), Some(line.name.as_str())] {
                data.push(b'\t');
                text(&mut data, field);
            }
            for (n, field) in [(0, line.quantity), (1, line.unit_price), (2, line.line_total)] {
                data.push(b'\t');
                data.extend_from_slice(field.to_string().as_bytes());
                if n == 0 {
                    data.push(b'\t');
                    text(&mut data, line.unit.as_deref());
                }
            }
            data.push(b'\t');
            text(&mut data, Some(&line.raw.to_string()));
            for v in [route.map(|r| r.0), route.map(|r| r.1), route.map(|r| r.2)] {
                data.push(b'\t');
                data.extend_from_slice(&number(v));
            }
            data.push(b'\n');
        }
        unrouted.push(missing);
    }
    if lines > 0 {
        let mut copy = tx
            .copy_in_raw(
                "COPY order_lines (order_id, remote_line_id, listing_remote_id, sku, description, quantity, unit, unit_price, line_total, raw,
                                   publication_id, product_id, member_id) FROM STDIN",
            )
            .await?;
        copy.send(data).await?;
        copy.finish().await?;
    }
    Ok((lines, unrouted))
}

/// Stores orders read from documents (`orders import-ubl`): each upserted on
/// (source, id) with its lines, in one transaction for all of them.
/// `cooperatives` finds the cooperative of a seller id (kode_penyedia).
pub async fn import_orders(
    store: &Store,
    source: &str,
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
        rows.push(o, cooperatives.get(&o.kode_penyedia).copied(), calendar);
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

/// Orders whose detail is still due.
pub async fn details_left(store: &Store, source: &str) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM purchase_orders WHERE needs_detail AND source = $1").bind(source).fetch_one(&store.pool).await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// One line of an order, with its order's fields (`orders export`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExportRow {
    pub order_id: String,
    pub status: String,
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
}

/// A cooperative's orders and their lines, one row per line, those made
/// from the start of `since` (a day in Jakarta) on.
pub async fn export_rows(store: &Store, cooperative: &str, since: Option<chrono::NaiveDate>) -> Result<Vec<ExportRow>, StoreError> {
    let since = since.and_then(|d| d.and_hms_opt(0, 0, 0)).and_then(|d| {
        use chrono::TimeZone;
        chrono_tz::Asia::Jakarta.from_local_datetime(&d).single().map(|t| t.with_timezone(&Utc))
    });
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

/// The status stored for an order, by its id on the catalogue.
pub async fn status(store: &Store, remote_order_id: &str) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar("SELECT status FROM purchase_orders WHERE remote_order_id = $1 ORDER BY id LIMIT 1")
        .bind(remote_order_id)
        .fetch_optional(&store.pool)
        .await?)
}

/// Records a failed detail fetch: tried again after `retry_secs`.
pub async fn detail_failed(store: &Store, instance: &str, id: i64, error: &str, retry_secs: f64) -> Result<(), StoreError> {
    sqlx::query(
        "WITH released AS (DELETE FROM order_detail_claims WHERE order_id = $1 AND claimed_by = $2 RETURNING order_id)
         UPDATE purchase_orders SET detail_attempts = detail_attempts + 1, detail_error = $3,
                next_detail_at = now() + make_interval(secs => $4)
         WHERE id IN (SELECT order_id FROM released)",
    )
    .bind(id)
    .bind(instance)
    .bind(error)
    .bind(retry_secs)
    .execute(&store.pool)
    .await?;
    Ok(())
}

/// One order as the liaison and the cooperatives see it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct OrderLine {
    #[serde(skip)]
    pub id: i64,
    pub order_id: String,
    pub cooperative: String,
    pub status: String,
    pub buyer: Option<String>,
    pub total: Decimal,
    pub lines: i64,
    /// `name × quantity unit; ...`, the first lines.
    pub items: Option<String>,
    #[serde(skip)]
    pub deadline: Option<DateTime<Utc>>,
    pub amount_mismatch: bool,
    pub unrouted_lines: i32,
    /// The answer sent or waiting to be sent, if any: `accept`/`reject` and its state.
    pub response: Option<String>,
}

impl OrderLine {
    pub fn status(&self) -> OrderStatus {
        OrderStatus::parse(&self.status)
    }
}

/// Orders, filtered by cooperative and status; waiting ones by soonest deadline first.
pub async fn list(store: &Store, cooperative: Option<&str>, status: Option<&str>, waiting_only: bool) -> Result<Vec<OrderLine>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT o.id, o.remote_order_id AS order_id, c.code AS cooperative, o.status, o.nama_satker AS buyer, o.total,
                (SELECT count(*) FROM order_lines l WHERE l.order_id = o.id) AS lines,
                (SELECT string_agg(x.t, '; ') FROM (SELECT l.description || ' × ' || trim_scale(l.quantity) || COALESCE(' ' || l.unit, '') AS t
                        FROM order_lines l WHERE l.order_id = o.id ORDER BY l.remote_line_id LIMIT 3) x) AS items,
                o.deadline, o.amount_mismatch, o.unrouted_lines,
                (SELECT r.decision || ' ' || r.state FROM order_responses r WHERE r.order_id = o.id) AS response
         FROM purchase_orders o JOIN cooperatives c ON c.id = o.cooperative_id
         WHERE ($1::text IS NULL OR c.code = $1) AND ($2::text IS NULL OR o.status = $2)
           AND (NOT $3 OR o.status = 'WAITING_SELLER_CONFIRMATION')
         ORDER BY CASE WHEN $3 THEN o.deadline END NULLS LAST, c.code, o.remote_order_id",
    )
    .bind(cooperative)
    .bind(status)
    .bind(waiting_only)
    .fetch_all(&store.pool)
    .await?)
}

// ---- answers (the outbox) ----

/// An answer to send.
#[derive(Debug, Clone)]
pub struct Response {
    pub id: i64,
    pub order_db_id: i64,
    pub remote_order_id: String,
    pub seller: String,
    pub accept: bool,
    pub reason: Option<String>,
    pub as_ubl: bool,
    pub key: String,
    pub state: String,
    /// Why the last send failed, if it did.
    pub last_error: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("no order {0} is stored: run sync orders first, or check the id")]
    UnknownOrder(String),
    #[error("order {order} was already answered ({decision}, {state}); an order is answered once")]
    AlreadyAnswered { order: String, decision: String, state: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Records the answer to an order (committed before it is sent). Asking
/// again with the same decision returns the stored answer (to be sent again
/// if it was not sent); a different decision is refused.
pub async fn queue_response(store: &Store, remote_order_id: &str, accept: bool, reason: Option<&str>, as_ubl: bool) -> Result<Response, QueueError> {
    let mut tx = store.pool.begin().await.map_err(StoreError::from)?;
    let order: Option<(i64, Option<String>)> =
        sqlx::query_as("SELECT id, kode_penyedia FROM purchase_orders WHERE remote_order_id = $1 ORDER BY id LIMIT 1 FOR UPDATE")
            .bind(remote_order_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::from)?;
    let (order_db_id, seller) = order.ok_or_else(|| QueueError::UnknownOrder(remote_order_id.to_owned()))?;
    let decision = if accept { "accept" } else { "reject" };
    sqlx::query(
        "INSERT INTO order_responses (order_id, decision, reason, as_ubl, idempotency_key) VALUES ($1, $2, $3, $4, 'kb-answer-' || $1)
         ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(order_db_id)
    .bind(decision)
    .bind(reason)
    .bind(as_ubl)
    .execute(&mut *tx)
    .await
    .map_err(StoreError::from)?;
    #[allow(clippy::type_complexity)]
    let (id, stored_decision, stored_reason, stored_ubl, key, state, last_error): (i64, String, Option<String>, bool, String, String, Option<String>) =
        sqlx::query_as("SELECT id, decision, reason, as_ubl, idempotency_key, state, last_error FROM order_responses WHERE order_id = $1")
            .bind(order_db_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::from)?;
    if stored_decision != decision {
        return Err(QueueError::AlreadyAnswered { order: remote_order_id.to_owned(), decision: stored_decision, state });
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Response {
        id,
        order_db_id,
        remote_order_id: remote_order_id.to_owned(),
        seller: seller.unwrap_or_default(),
        accept,
        reason: stored_reason,
        as_ubl: stored_ubl,
        key,
        state,
        last_error,
    })
}

/// Claims answers waiting to be sent (all, or one order's).
pub async fn claim_responses(store: &Store, instance: &str, order_db_id: Option<i64>, lease_secs: f64) -> Result<Vec<Response>, StoreError> {
    let rows = sqlx::query(
        "UPDATE order_responses r SET claimed_by = $1, claimed_until = now() + make_interval(secs => $2)
         FROM purchase_orders o
         WHERE o.id = r.order_id AND r.id IN (SELECT id FROM order_responses
                        WHERE state = 'pending' AND ($3::bigint IS NULL OR order_id = $3)
                          AND (claimed_until IS NULL OR claimed_until < now())
                          AND ($3::bigint IS NOT NULL OR next_attempt_at IS NULL OR next_attempt_at <= now())
                        ORDER BY id FOR UPDATE SKIP LOCKED)
         RETURNING r.id, r.order_id, o.remote_order_id, o.kode_penyedia, r.decision, r.reason, r.as_ubl, r.idempotency_key, r.state",
    )
    .bind(instance)
    .bind(lease_secs)
    .bind(order_db_id)
    .fetch_all(&store.pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Response {
                id: r.try_get("id")?,
                order_db_id: r.try_get("order_id")?,
                remote_order_id: r.try_get("remote_order_id")?,
                seller: r.try_get::<Option<String>, _>("kode_penyedia")?.unwrap_or_default(),
                accept: r.try_get::<String, _>("decision")? == "accept",
                reason: r.try_get("reason")?,
                as_ubl: r.try_get("as_ubl")?,
                key: r.try_get("idempotency_key")?,
                state: r.try_get("state")?,
                last_error: None,
            })
        })
        .collect()
}

/// What came of sending an answer.
#[derive(Debug, Clone)]
pub enum Answered {
    /// The catalogue took it; the order's new status.
    Sent {
        status: Option<String>,
    },
    Refused {
        error: String,
    },
    Later {
        error: String,
        retry_secs: f64,
    },
}

/// Records what came of sending an answer (while `instance` holds its claim).
pub async fn record_response(store: &Store, instance: &str, response: &Response, answered: &Answered) -> Result<(), StoreError> {
    let mut tx = store.pool.begin().await?;
    let (state, error, retry) = match answered {
        Answered::Sent { .. } => ("sent", None, None),
        Answered::Refused { error } => ("refused", Some(error.as_str()), None),
        Answered::Later { error, retry_secs } => ("pending", Some(error.as_str()), Some(*retry_secs)),
    };
    let ours = sqlx::query(
        "UPDATE order_responses SET state = $3, last_error = $4, attempts = attempts + 1,
                next_attempt_at = CASE WHEN $5::float8 IS NULL THEN NULL ELSE now() + make_interval(secs => $5::float8) END,
                sent_at = CASE WHEN $3 = 'sent' THEN now() ELSE sent_at END, claimed_by = NULL, claimed_until = NULL
         WHERE id = $1 AND claimed_by = $2",
    )
    .bind(response.id)
    .bind(instance)
    .bind(state)
    .bind(error)
    .bind(retry)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        > 0;
    if ours && let Answered::Sent { status: Some(status) } = answered {
        sqlx::query(
            "WITH old AS (SELECT id, status FROM purchase_orders WHERE id = $1 FOR UPDATE),
                  up AS (UPDATE purchase_orders o SET status = $2, updated_at = now() FROM old WHERE o.id = old.id AND old.status <> $2
                         RETURNING o.id, old.status AS from_status)
             INSERT INTO order_events (order_id, kind, from_status, to_status, detail)
             SELECT id, 'answered', from_status, $2, $3 FROM up",
        )
        .bind(response.order_db_id)
        .bind(status)
        .bind(serde_json::json!({"decision": if response.accept { "accept" } else { "reject" }}))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
