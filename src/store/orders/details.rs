//! Order details: claimed in batches, fetched elsewhere, written here with
//! their lines routed to the publications they are for.

use std::collections::HashMap;

use super::*;
use crate::domain::calendar::WorkingCalendar;
use crate::domain::order::{OrderSource, OrderStatus, RemoteOrder};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

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
pub async fn details_claimable(store: &Store, source: OrderSource) -> Result<bool, StoreError> {
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
pub async fn details_leased(store: &Store, source: OrderSource) -> Result<Option<f64>, StoreError> {
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
    source: OrderSource,
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
    let taken: std::collections::HashSet<i64> = claim_orders(store, instance, &ids, lease_secs).await?.into_iter().collect();
    let claims = due
        .into_iter()
        .filter(|d| taken.contains(&d.0))
        .map(|(id, remote_order_id, seller)| DetailClaim { id, remote_order_id, seller: seller.unwrap_or_default() })
        .collect();
    Ok((claims, Some(last)))
}

/// Takes the claims of the orders `ids` where free or expired: the claim
/// row's key decides between two claimers, so no order row is locked or
/// written. Returns the ids claimed.
pub async fn claim_orders(store: &Store, instance: &str, ids: &[i64], lease_secs: f64) -> Result<Vec<i64>, StoreError> {
    let mut tx = begin_refetchable(store).await?;
    let taken: Vec<i64> = sqlx::query_scalar(
        "INSERT INTO order_detail_claims (order_id, claimed_by, claimed_until)
         SELECT id, $2, now() + make_interval(secs => $3) FROM unnest($1::bigint[]) AS id
         ON CONFLICT (order_id) DO UPDATE SET claimed_by = EXCLUDED.claimed_by, claimed_until = EXCLUDED.claimed_until
             WHERE order_detail_claims.claimed_until IS NULL OR order_detail_claims.claimed_until <= now()
         RETURNING order_id",
    )
    .bind(ids)
    .bind(instance)
    .bind(lease_secs)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(taken)
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
    pub(super) fn count_flags(&mut self, flags: Vec<(bool, i32)>) {
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
        status: OrderStatus,
        remote_updated_at: Option<DateTime<Utc>>,
        detail_updated_at: Option<DateTime<Utc>>,
    }
    // Only orders whose claim this instance holds and whose detail is still
    // due: another instance may have stored it meanwhile (this one claimed it
    // from a list read before that write; checked again on the locked row).
    // Locked first, by a plain index lookup: a join in the update itself can
    // be planned badly on a table that has just grown (a first sync).
    let held: Vec<Held> = sqlx::query_as(
        "SELECT id, status, remote_updated_at, detail_updated_at FROM purchase_orders
         WHERE id = ANY($1) AND needs_detail
           AND EXISTS (SELECT 1 FROM order_detail_claims k WHERE k.order_id = purchase_orders.id AND k.claimed_by = $2)
         ORDER BY id FOR NO KEY UPDATE",
    )
    .bind(&ids)
    .bind(instance)
    .fetch_all(&mut *tx)
    .await?;
    let held: HashMap<i64, Held> = held.into_iter().map(|h| (h.id, h)).collect();
    let mut fresh: Vec<(i64, &RemoteOrder)> = Vec::new();
    for (id, d) in details {
        match held.get(id) {
            None => {}
            // Older than the package stored: due again at once (the sync's
            // pass after its feed, or the next run, fetches it again).
            Some(Held { remote_updated_at: Some(at), .. }) if d.updated_at < *at => counts.stale += 1,
            Some(_) => fresh.push((*id, *d)),
        }
    }
    let routes = Routes::load(&mut tx, &fresh).await?;
    let mut rows = DetailRows::default();
    let mut events = Events::default();
    let mut had_lines = Vec::new();
    for (id, d) in &fresh {
        let h = &held[id];
        rows.push(*id, d, calendar, routes.unrouted(d), &h.status);
        events.push(*id, Some(h.status.clone()), d);
        if h.detail_updated_at.is_some() {
            had_lines.push(*id);
        }
    }
    counts.events = events.insert(&mut tx).await?;
    counts.lines = copy_lines(&mut tx, &fresh, &routes, &had_lines).await?;
    // One update for the batch: the detail's fields (as new as the package
    // stored, or newer), the flags, the detail's mark.
    let flags: Vec<(bool, i32)> = sqlx::query_as(
        "UPDATE purchase_orders o SET status = d.status, shipment_status = d.shipment, shipping_fee = d.shipping, total = d.total,
                remote_updated_at = d.updated_at, order_date = COALESCE(d.order_date, o.order_date),
                confirm_by = COALESCE(d.confirm_by, o.confirm_by), deadline = COALESCE(d.deadline, o.deadline), updated_at = now(),
                ppk_deadline = COALESCE(d.ppk_deadline, o.ppk_deadline),
                confirmed_seen_at = COALESCE(o.confirmed_seen_at,
                    CASE WHEN o.status = 'WAITING_SELLER_CONFIRMATION' AND d.status IN ('ESIGN_IN_PROGRESS', 'ON_PROCESS') THEN now() END),
                needs_detail = false, detail_updated_at = d.updated_at, detail_error = NULL, next_detail_at = NULL,
                lines_total = d.lines_total, repaired = COALESCE(d.repaired, o.repaired),
                amount_mismatch = d.lines_total + d.shipping <> d.total, unrouted_lines = d.unrouted
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::numeric[], $5::numeric[], $6::timestamptz[], $7::timestamptz[],
                     $8::timestamptz[], $9::timestamptz[], $10::numeric[], $11::int[], $12::text[], $13::timestamptz[])
              AS d(id, status, shipment, shipping, total, updated_at, order_date, confirm_by, deadline, lines_total, unrouted, repaired, ppk_deadline)
         WHERE o.id = d.id AND o.id = ANY($1)
         RETURNING o.amount_mismatch, o.unrouted_lines",
    )
    .bind(&rows.id)
    .bind(&rows.status)
    .bind(&rows.shipment)
    .bind(&rows.shipping)
    .bind(&rows.total)
    .bind(&rows.updated_at)
    .bind(&rows.order_date)
    .bind(&rows.confirm_by)
    .bind(&rows.deadline)
    .bind(&rows.lines_total)
    .bind(&rows.unrouted)
    .bind(&rows.repaired)
    .bind(&rows.ppk_deadline)
    .fetch_all(&mut *tx)
    .await?;
    counts.count_flags(flags);
    // The claims let go: of the orders stored, the stale ones, and those no longer due.
    sqlx::query("DELETE FROM order_detail_claims WHERE order_id = ANY($1) AND claimed_by = $2").bind(&ids).bind(instance).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(counts)
}

/// The columns of a batch of details, as arrays for one `UPDATE ... FROM unnest`.
#[derive(Default)]
struct DetailRows {
    id: Vec<i64>,
    status: Vec<String>,
    shipment: Vec<Option<String>>,
    shipping: Vec<Decimal>,
    total: Vec<Decimal>,
    updated_at: Vec<DateTime<Utc>>,
    order_date: Vec<Option<DateTime<Utc>>>,
    confirm_by: Vec<Option<DateTime<Utc>>>,
    deadline: Vec<Option<DateTime<Utc>>>,
    ppk_deadline: Vec<Option<DateTime<Utc>>>,
    lines_total: Vec<Decimal>,
    unrouted: Vec<i32>,
    repaired: Vec<Option<String>>,
}

impl DetailRows {
    fn push(&mut self, id: i64, d: &RemoteOrder, calendar: &WorkingCalendar, unrouted: i32, before: &OrderStatus) {
        self.id.push(id);
        self.status.push(d.status.as_str().to_owned());
        self.shipment.push(d.shipment_status.clone());
        self.shipping.push(d.shipping_fee);
        self.total.push(d.total);
        self.updated_at.push(d.updated_at);
        self.order_date.push(d.order_date);
        self.confirm_by.push(d.confirm_by);
        let (seller, ppk) = crate::domain::order::deadlines(d, Some(before), calendar);
        self.deadline.push(seller);
        self.ppk_deadline.push(ppk);
        self.lines_total.push(d.lines_total().unwrap_or_default());
        self.unrouted.push(unrouted);
        self.repaired.push(repaired(d));
    }
}

/// Where a line goes: (publication, product, member).
type Route = (i64, i64, i64);

/// The publications order lines are routed through: (seller, listing id) ->
/// (publication, product, member), read in one query.
pub(super) struct Routes(HashMap<String, HashMap<String, Route>>);

impl Routes {
    pub(super) async fn load(tx: &mut sqlx::PgConnection, details: &[(i64, &RemoteOrder)]) -> Result<Self, StoreError> {
        let mut sellers = Vec::new();
        let mut listings = Vec::new();
        for (_, d) in details {
            for line in d.lines.iter().flatten() {
                if let Some(listing) = &line.listing_id {
                    sellers.push(d.kode_penyedia.as_str());
                    listings.push(listing.as_str());
                }
            }
        }
        let routes: Vec<(String, String, i64, i64, i64)> = sqlx::query_as(
            // A line names a listing by the channel's listing id, or by INAPROC's product code (preferred).
            "SELECT DISTINCT ON (seller, listing) seller, listing, id, product_id, member_id FROM (
                 SELECT pb.seller, pb.remote_id AS listing, pb.id, pb.product_id, p.member_id, 1 AS pref
                 FROM publications pb JOIN products p ON p.id = pb.product_id
                 WHERE (pb.seller, pb.remote_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
                 UNION ALL
                 SELECT pb.seller, pb.kd_produk, pb.id, pb.product_id, p.member_id, 0
                 FROM publications pb JOIN products p ON p.id = pb.product_id
                 WHERE (pb.seller, pb.kd_produk) IN (SELECT * FROM unnest($1::text[], $2::text[]))
             ) r ORDER BY seller, listing, pref, id",
        )
        .bind(&sellers)
        .bind(&listings)
        .fetch_all(&mut *tx)
        .await?;
        let mut by_seller: HashMap<String, HashMap<String, (i64, i64, i64)>> = HashMap::new();
        for (seller, listing, publication, product, member) in routes {
            by_seller.entry(seller).or_default().insert(listing, (publication, product, member));
        }
        // Lines that name a product code no publication has learned yet, and
        // no SKU (INAPROC's): by the product's name, where exactly one of the
        // seller's publications has it; a name that fits several is left
        // unrouted (and counted as such on its order), never guessed.
        let mut by_name: Vec<(&str, &str, String)> = Vec::new();
        for (_, d) in details {
            for line in d.lines.iter().flatten().filter(|l| l.sku.is_none()) {
                if let Some(listing) = &line.listing_id
                    && !by_seller.get(&d.kode_penyedia).is_some_and(|m| m.contains_key(listing))
                {
                    by_name.push((d.kode_penyedia.as_str(), listing.as_str(), crate::domain::product::comparable_name(&line.name)));
                }
            }
        }
        if !by_name.is_empty() {
            let sellers: Vec<&str> = by_name.iter().map(|n| n.0).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
            let named: Vec<(String, String, i64, i64, i64)> = sqlx::query_as(
                "SELECT pb.seller, p.name, pb.id, pb.product_id, p.member_id FROM publications pb JOIN products p ON p.id = pb.product_id
                 WHERE pb.seller = ANY($1) ORDER BY pb.id",
            )
            .bind(&sellers)
            .fetch_all(&mut *tx)
            .await?;
            let mut fits: HashMap<(&str, String), Vec<Route>> = HashMap::new();
            for (seller, name, publication, product, member) in &named {
                fits.entry((seller.as_str(), crate::domain::product::comparable_name(name))).or_default().push((*publication, *product, *member));
            }
            for (seller, listing, name) in by_name {
                if let Some([only]) = fits.get(&(seller, name)).map(Vec::as_slice) {
                    by_seller.entry(seller.to_owned()).or_default().insert(listing.to_owned(), *only);
                }
            }
        }
        Ok(Self(by_seller))
    }

    fn get(&self, seller: &str, listing: Option<&str>) -> Option<(i64, i64, i64)> {
        self.0.get(seller).and_then(|listings| listings.get(listing?)).copied()
    }

    /// The lines of an order that match no publication.
    pub(super) fn unrouted(&self, d: &RemoteOrder) -> i32 {
        let missing = d.lines.iter().flatten().filter(|l| self.get(&d.kode_penyedia, l.listing_id.as_deref()).is_none()).count();
        i32::try_from(missing).unwrap_or(i32::MAX)
    }
}

/// Replaces the lines of these orders, each routed through the publication
/// the listing id names (to its product and member); returns the lines
/// written and, per order, those that match no publication.
pub(super) async fn replace_lines(tx: &mut sqlx::PgConnection, fresh: &[(i64, &RemoteOrder)], had_lines: &[i64]) -> Result<(u64, Vec<i32>), StoreError> {
    let routes = Routes::load(&mut *tx, fresh).await?;
    let lines = copy_lines(&mut *tx, fresh, &routes, had_lines).await?;
    Ok((lines, fresh.iter().map(|(_, d)| routes.unrouted(d)).collect()))
}

/// Replaces the lines of these orders (the old ones of `had_lines` deleted,
/// through the lines' index by order), the new ones streamed in with `COPY`.
async fn copy_lines(tx: &mut sqlx::PgConnection, fresh: &[(i64, &RemoteOrder)], routes: &Routes, had_lines: &[i64]) -> Result<u64, StoreError> {
    if !had_lines.is_empty() {
        sqlx::query("DELETE FROM order_lines ol USING unnest($1::bigint[]) AS k(order_id) WHERE ol.order_id = k.order_id")
            .bind(had_lines)
            .execute(&mut *tx)
            .await?;
    }
    let mut data = Vec::with_capacity(fresh.len() * 4096);
    let mut lines = 0u64;
    for (id, d) in fresh {
        for line in d.lines.iter().flatten() {
            lines += 1;
            let route = routes.get(&d.kode_penyedia, line.listing_id.as_deref());
            let number = |v: Option<i64>| v.map_or_else(|| b"\\N".to_vec(), |v| v.to_string().into_bytes());
            let text = |data: &mut Vec<u8>, v: Option<&str>| match v {
                Some(v) => crate::store::listings::copy_text(data, v.as_bytes()),
                None => data.extend_from_slice(b"\\N"),
            };
            data.extend_from_slice(id.to_string().as_bytes());
            for field in [Some(line.line_id.as_str()), line.listing_id.as_deref(), line.sku.as_deref(), Some(line.name.as_str())] {
                data.push(b'\t');
                text(&mut data, field);
            }
            for (n, field) in [(0, line.quantity), (1, line.unit_price), (2, Some(line.line_total))] {
                data.push(b'\t');
                match field {
                    Some(v) => data.extend_from_slice(v.to_string().as_bytes()),
                    None => data.extend_from_slice(b"\\N"),
                }
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
    Ok(lines)
}

/// Orders whose detail is still due.
pub async fn details_left(store: &Store, source: OrderSource) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM purchase_orders WHERE needs_detail AND source = $1").bind(source).fetch_one(&store.pool).await?;
    Ok(u64::try_from(n).unwrap_or(0))
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

/// Lets go of detail claims without an attempt (the detail was not read this time, through no fault).
pub async fn let_go_details(store: &Store, instance: &str, ids: &[i64]) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM order_detail_claims WHERE order_id = ANY($1) AND claimed_by = $2").bind(ids).bind(instance).execute(&store.pool).await?;
    Ok(())
}
