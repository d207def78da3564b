//! Stock that follows the orders: an order accepted by the seller takes its
//! routed lines' quantities off the products' stock, and a cancelled one
//! gives back what it took. Each move is a row keyed by (order, product,
//! kind), written in the same statement as the stock it changes, so an
//! order moves stock once however often it is synced, killed mid-way, or
//! seen through both sources (a second row with the same catalogue order id
//! takes nothing once the first has).

use rust_decimal::Decimal;

use super::{Store, StoreError};
use crate::domain::order::OrderStatus;

/// What one settling did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Settled {
    /// Orders whose quantities came off the stock.
    pub taken: u64,
    /// Orders that gave their quantities back.
    pub returned: u64,
    /// Products whose stock this settling brought to their cooperative's
    /// threshold or below: (product id, stock).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub low: Vec<(i64, String)>,
}

/// Orders settled per statement.
const BATCH: i64 = 2000;

fn names(keep: fn(&OrderStatus) -> bool) -> Vec<String> {
    OrderStatus::known().filter(keep).map(|s| s.to_string()).collect()
}

/// Takes and gives back stock for every order due, in batches.
pub async fn settle(store: &Store) -> Result<Settled, StoreError> {
    let accepted = names(OrderStatus::accepted_by_seller);
    let cancelled = names(OrderStatus::is_cancelled);
    let mut settled = Settled::default();
    // Cancelled before it was ever accepted: nothing to take, nothing to watch.
    sqlx::query("UPDATE purchase_orders SET stock_state = 'closed' WHERE stock_state = 'open' AND status = ANY($1)")
        .bind(&cancelled)
        .execute(&store.pool)
        .await?;
    loop {
        let (orders, low): (i64, Vec<(i64, Decimal)>) = take(store, &accepted).await?;
        settled.taken += orders as u64;
        settled.low.extend(low.into_iter().map(|(id, stock)| (id, stock.normalize().to_string())));
        if orders < BATCH {
            break;
        }
    }
    loop {
        let orders = give_back(store, &cancelled).await?;
        settled.returned += orders as u64;
        if orders < BATCH {
            break;
        }
    }
    settled.low.sort();
    settled.low.dedup_by_key(|(id, _)| *id);
    Ok(settled)
}

/// One batch of accepted orders takes its quantities; returns the orders
/// taken and the products it brought to their threshold or below.
async fn take(store: &Store, accepted: &[String]) -> Result<(i64, Vec<(i64, Decimal)>), StoreError> {
    let mut tx = store.pool.begin().await?;
    let orders: Vec<i64> = sqlx::query_scalar(
        // Only orders whose lines are stored (a detail still due would take nothing).
        "SELECT o.id FROM purchase_orders o
         WHERE o.stock_state = 'open' AND o.status = ANY($1) AND NOT o.needs_detail
           AND NOT EXISTS (SELECT 1 FROM purchase_orders t WHERE t.remote_order_id = o.remote_order_id AND t.id <> o.id
                           AND t.stock_state IN ('taken', 'returned'))
         ORDER BY o.id LIMIT $2 FOR UPDATE SKIP LOCKED",
    )
    .bind(accepted)
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    if orders.is_empty() {
        return Ok((0, Vec::new()));
    }
    let low: Vec<(i64, Decimal, i64)> = sqlx::query_as(
        "WITH moved AS (
             INSERT INTO stock_moves (order_id, product_id, kind, quantity)
             SELECT l.order_id, l.product_id, 'taken', sum(l.quantity) FROM order_lines l
             WHERE l.order_id = ANY($1) AND l.product_id IS NOT NULL AND l.quantity > 0
             GROUP BY l.order_id, l.product_id
             ON CONFLICT DO NOTHING
             RETURNING order_id, product_id, quantity
         ), before AS (
             -- The statement's snapshot: the stock before this batch.
             SELECT id, stock FROM products WHERE id IN (SELECT product_id FROM moved)
         ), changed AS (
             UPDATE products p SET stock = GREATEST(p.stock - m.quantity, 0), updated_at = now()
             FROM (SELECT product_id, sum(quantity) AS quantity FROM moved GROUP BY product_id) m, cooperatives c
             WHERE p.id = m.product_id AND c.id = p.cooperative_id
             RETURNING p.id, p.stock, c.stock_threshold
         )
         -- With the first order of the batch that took it: the move to mark.
         SELECT ch.id, ch.stock, (SELECT min(m.order_id) FROM moved m WHERE m.product_id = ch.id)
         FROM changed ch JOIN before b USING (id)
         WHERE b.stock > ch.stock_threshold AND ch.stock <= ch.stock_threshold",
    )
    .bind(&orders)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE stock_moves s SET fell = true FROM unnest($1::bigint[], $2::bigint[]) AS f(order_id, product_id)
         WHERE s.order_id = f.order_id AND s.product_id = f.product_id AND s.kind = 'taken'",
    )
    .bind(low.iter().map(|l| l.2).collect::<Vec<_>>())
    .bind(low.iter().map(|l| l.0).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE purchase_orders SET stock_state = 'taken' WHERE id = ANY($1)").bind(&orders).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok((orders.len() as i64, low.into_iter().map(|(id, stock, _)| (id, stock)).collect()))
}

/// One batch of cancelled orders gives back what they took.
async fn give_back(store: &Store, cancelled: &[String]) -> Result<i64, StoreError> {
    let mut tx = store.pool.begin().await?;
    let orders: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM purchase_orders WHERE stock_state = 'taken' AND status = ANY($1) ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED")
            .bind(cancelled)
            .bind(BATCH)
            .fetch_all(&mut *tx)
            .await?;
    if orders.is_empty() {
        return Ok(0);
    }
    sqlx::query(
        "WITH moved AS (
             INSERT INTO stock_moves (order_id, product_id, kind, quantity)
             SELECT order_id, product_id, 'returned', quantity FROM stock_moves WHERE order_id = ANY($1) AND kind = 'taken'
             ON CONFLICT DO NOTHING
             RETURNING product_id, quantity
         )
         UPDATE products p SET stock = p.stock + m.quantity, updated_at = now()
         FROM (SELECT product_id, sum(quantity) AS quantity FROM moved GROUP BY product_id) m
         WHERE p.id = m.product_id",
    )
    .bind(&orders)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE purchase_orders SET stock_state = 'returned' WHERE id = ANY($1)").bind(&orders).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(orders.len() as i64)
}

/// A product an order asks more of than the stock holds, while the order
/// has not taken its quantities yet.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct Short {
    pub order_id: i64,
    pub product_id: i64,
    pub name: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub asked: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub stock: Decimal,
}

/// The products each of `orders` (by row id) asks more of than their stock,
/// for the orders still open (not yet accepted, so not yet taken).
pub async fn short(store: &Store, orders: &[i64]) -> Result<Vec<Short>, StoreError> {
    let rows: Vec<Short> = sqlx::query_as(
        "SELECT l.order_id, p.id AS product_id, p.name, sum(l.quantity) AS asked, p.stock
         FROM order_lines l JOIN purchase_orders o ON o.id = l.order_id JOIN products p ON p.id = l.product_id
         WHERE l.order_id = ANY($1) AND o.stock_state = 'open' AND l.quantity IS NOT NULL
         GROUP BY l.order_id, p.id, p.name, p.stock
         HAVING sum(l.quantity) > p.stock
         ORDER BY l.order_id, p.name",
    )
    .bind(orders)
    .fetch_all(&store.pool)
    .await?;
    Ok(rows.into_iter().map(|s| Short { asked: s.asked.normalize(), stock: s.stock.normalize(), ..s }).collect())
}

/// As [`short`], for the orders stored under a catalogue order id.
pub async fn short_of_remote(store: &Store, remote_order_id: &str) -> Result<Vec<Short>, StoreError> {
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM purchase_orders WHERE remote_order_id = $1").bind(remote_order_id).fetch_all(&store.pool).await?;
    short(store, &ids).await
}
