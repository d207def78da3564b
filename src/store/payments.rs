//! Bank statements in the store: each credit kept once, the order it pays
//! recorded as a `paid` step in the same transaction, and the credits left
//! for the staff to assign.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::{Store, StoreError};
use crate::domain::fulfilment::Step;
use crate::domain::payments::CreditState;

/// A credit read from a statement, with what was decided of it.
#[derive(Debug, Clone)]
pub struct NewCredit {
    pub line_key: String,
    /// Its row in the file.
    pub line: i32,
    pub booked_on: NaiveDate,
    pub amount: Decimal,
    pub description: String,
    pub reference: Option<String>,
    pub state: CreditState,
    pub order_id: Option<i64>,
    pub fee: Decimal,
    pub candidates: Vec<i64>,
    pub why: Option<String>,
}

/// Holds the import lock of a cooperative's statements for a transaction:
/// two imports of one cooperative never decide against the same payments.
pub async fn lock(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, cooperative_id: i64) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(7301, $1::int)").bind(i32::try_from(cooperative_id).unwrap_or(i32::MAX)).execute(&mut **tx).await?;
    Ok(())
}

/// Of these line keys, those a cooperative already has.
pub async fn known(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, cooperative_id: i64, keys: &[String]) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar("SELECT line_key FROM bank_credits WHERE cooperative_id = $1 AND line_key = ANY($2)")
        .bind(cooperative_id)
        .bind(keys)
        .fetch_all(&mut **tx)
        .await?)
}

/// What the staff see of a statement's import.
pub struct Statement<'a> {
    pub cooperative_id: i64,
    pub bank: &'a str,
    pub file_name: &'a str,
    pub credits: usize,
    pub by: &'a str,
}

/// Keeps a statement and its new credits; a credit matched to an order
/// records the order's payment (what it had received, plus this credit and
/// the fee the bank kept) on the day it was booked, with the bank's
/// reference. Returns the statement's id.
pub async fn save(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, statement: &Statement<'_>, credits: &[NewCredit]) -> Result<i64, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO bank_statements (cooperative_id, bank, file_name, credits, new_credits, imported_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(statement.cooperative_id)
    .bind(statement.bank)
    .bind(statement.file_name)
    .bind(i32::try_from(statement.credits).unwrap_or(i32::MAX))
    .bind(i32::try_from(credits.len()).unwrap_or(i32::MAX))
    .bind(statement.by)
    .fetch_one(&mut **tx)
    .await?;
    for c in credits {
        sqlx::query(
            "INSERT INTO bank_credits (cooperative_id, line_key, statement_id, line, booked_on, amount, description, reference, state, order_id, fee,
                                       candidates, why, decided_by, decided_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, CASE WHEN $10::bigint IS NULL THEN NULL ELSE $14 END,
                     CASE WHEN $10::bigint IS NULL THEN NULL ELSE now() END)",
        )
        .bind(statement.cooperative_id)
        .bind(&c.line_key)
        .bind(id)
        .bind(c.line)
        .bind(c.booked_on)
        .bind(c.amount)
        .bind(&c.description)
        .bind(&c.reference)
        .bind(c.state)
        .bind(c.order_id)
        .bind(c.fee)
        .bind(&c.candidates)
        .bind(&c.why)
        .bind(statement.by)
        .execute(&mut **tx)
        .await?;
        if let Some(order) = c.order_id {
            record_paid(tx, order, c, statement.by).await?;
        }
    }
    Ok(id)
}

/// Records a credit as an order's payment: the amount received in all so
/// far grows by the credit and the fee the bank kept.
async fn record_paid(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, order: i64, c: &NewCredit, by: &str) -> Result<(), StoreError> {
    let before: Option<Decimal> = sqlx::query_scalar("SELECT amount FROM order_fulfilment WHERE order_id = $1 AND kind = 'paid' ORDER BY id DESC LIMIT 1")
        .bind(order)
        .fetch_optional(&mut **tx)
        .await?
        .flatten();
    let detail = if c.fee > Decimal::ZERO {
        format!("rekening koran: diterima {}, biaya bank {}", crate::domain::money::format_rupiah(c.amount), crate::domain::money::format_rupiah(c.fee))
    } else {
        format!("rekening koran: diterima {}", crate::domain::money::format_rupiah(c.amount))
    };
    let entry = super::orders::NewEntry {
        step: Step::Paid,
        number: c.reference.clone().map(|r| r.chars().take(100).collect()),
        on_date: Some(c.booked_on),
        amount: Some(before.unwrap_or_default() + c.amount + c.fee),
        detail: Some(detail),
    };
    super::orders::insert_entries(tx, order, std::slice::from_ref(&entry), by).await
}

/// A credit as the staff see it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct CreditRow {
    pub id: i64,
    pub cooperative: String,
    pub booked_on: NaiveDate,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    pub description: String,
    pub reference: Option<String>,
    pub state: CreditState,
    /// The catalogue's id of the order it pays.
    pub order: Option<String>,
    #[serde(with = "rust_decimal::serde::str")]
    pub fee: Decimal,
    /// The catalogue's ids of the orders that fit (ambiguous).
    pub candidates: Vec<String>,
    pub why: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub bank: String,
    pub file_name: String,
    pub line: i32,
}

/// The credits of a cooperative (or all), the open ones only when asked, newest first.
pub async fn list(store: &Store, cooperative_id: Option<i64>, open_only: bool, limit: i64) -> Result<Vec<CreditRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT b.id, c.code AS cooperative, b.booked_on, b.amount, b.description, b.reference, b.state, o.remote_order_id AS \"order\", b.fee,
                coalesce((SELECT array_agg(x.remote_order_id ORDER BY x.remote_order_id) FROM purchase_orders x WHERE x.id = ANY(b.candidates)), '{}') AS candidates,
                b.why, b.decided_by, b.decided_at, s.bank, s.file_name, b.line
         FROM bank_credits b JOIN cooperatives c ON c.id = b.cooperative_id JOIN bank_statements s ON s.id = b.statement_id
         LEFT JOIN purchase_orders o ON o.id = b.order_id
         WHERE ($1::bigint IS NULL OR b.cooperative_id = $1) AND (NOT $2 OR b.state IN ('ambiguous', 'unmatched'))
         ORDER BY b.booked_on DESC, b.id DESC LIMIT $3",
    )
    .bind(cooperative_id)
    .bind(open_only)
    .bind(limit)
    .fetch_all(&store.pool)
    .await?)
}

/// A credit waiting for the staff: (cooperative id, the credit).
pub async fn open_credit(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, id: i64) -> Result<Option<(i64, NewCredit)>, StoreError> {
    type Row = (i64, String, i32, NaiveDate, Decimal, String, Option<String>, CreditState);
    let row: Option<Row> =
        sqlx::query_as("SELECT cooperative_id, line_key, line, booked_on, amount, description, reference, state FROM bank_credits WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.map(|(coop, line_key, line, booked_on, amount, description, reference, state)| {
        (
            coop,
            NewCredit {
                line_key,
                line,
                booked_on,
                amount,
                description,
                reference,
                state,
                order_id: None,
                fee: Decimal::ZERO,
                candidates: Vec::new(),
                why: None,
            },
        )
    }))
}

/// Assigns an open credit to an order and records the order's payment.
pub async fn assign(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, id: i64, credit: &NewCredit, order: i64, by: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE bank_credits SET state = 'assigned', order_id = $2, decided_by = $3, decided_at = now() WHERE id = $1")
        .bind(id)
        .bind(order)
        .bind(by)
        .execute(&mut **tx)
        .await?;
    record_paid(tx, order, credit, by).await
}
