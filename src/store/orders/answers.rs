//! Answers to orders, through an outbox: recorded before they are sent,
//! claimed, and their outcome recorded.

use sqlx::Row;

use super::*;
use crate::store::claims::{self, Attempt, Claims};

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
    pub state: AnswerState,
    /// Why the last send failed, if it did.
    pub last_error: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("no order {0} is stored: run sync orders first, or check the id")]
    UnknownOrder(String),
    #[error("order {order} was already answered ({decision}, {state}); an order is answered once")]
    AlreadyAnswered { order: String, decision: String, state: String },
    #[error("order {order} is stored under several sources ({sources}): answer it from its page on the dashboard")]
    Ambiguous { order: String, sources: String },
    #[error("order {order}: {why}")]
    NotAnswerable { order: String, why: crate::domain::order::NotAnswerable },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Which stored order an answer is for.
#[derive(Debug, Clone, Copy)]
pub enum AnswerFor<'a> {
    /// The order's own row, found only within `scope` (a cooperative; `None`
    /// for every cooperative) in the same statement: the pages.
    Row { id: i64, scope: Option<i64> },
    /// The catalogue's order id: the command line. Refused where more than
    /// one source holds it (the id is unique only per source).
    Remote(&'a str),
}

/// Records the answer to an order (committed before it is sent). Asking
/// again with the same decision returns the stored answer (to be sent again
/// if it was not sent); a different decision is refused. A new answer is
/// refused where the order may not be answered over the API
/// (`OrderStatus::answerable`: `in_portal` when the orders come from INAPROC).
pub async fn queue_response(
    store: &Store,
    order: AnswerFor<'_>,
    accept: bool,
    reason: Option<&str>,
    as_ubl: bool,
    in_portal: bool,
) -> Result<Response, QueueError> {
    let mut tx = store.pool.begin().await.map_err(StoreError::from)?;
    let found: Vec<(i64, Option<String>, String, String, String)> = match order {
        AnswerFor::Row { id, scope } => sqlx::query_as(
            "SELECT id, kode_penyedia, remote_order_id, source, status FROM purchase_orders
             WHERE id = $1 AND ($2::bigint IS NULL OR cooperative_id = $2) FOR UPDATE",
        )
        .bind(id)
        .bind(scope),
        AnswerFor::Remote(remote) => {
            sqlx::query_as("SELECT id, kode_penyedia, remote_order_id, source, status FROM purchase_orders WHERE remote_order_id = $1 ORDER BY id FOR UPDATE")
                .bind(remote)
        }
    }
    .fetch_all(&mut *tx)
    .await
    .map_err(StoreError::from)?;
    let shown = match order {
        AnswerFor::Row { id, .. } => format!("#{id}"),
        AnswerFor::Remote(remote) => remote.to_owned(),
    };
    let (order_db_id, seller, remote_order_id, status) = match found.as_slice() {
        [] => return Err(QueueError::UnknownOrder(shown)),
        [(id, seller, remote, _, status)] => (*id, seller.clone(), remote.clone(), status.clone()),
        several => {
            let sources = several.iter().map(|r| r.3.as_str()).collect::<Vec<_>>().join(", ");
            return Err(QueueError::Ambiguous { order: shown, sources });
        }
    };
    let remote_order_id = remote_order_id.as_str();
    let decision = if accept { "accept" } else { "reject" };
    let inserted = sqlx::query(
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
    // A new answer only where the rule allows one (an answer recorded before
    // is returned as it stands); refused, nothing is recorded.
    if inserted.rows_affected() == 1
        && let Err(why) = crate::domain::order::OrderStatus::parse(&status).answerable(in_portal)
    {
        return Err(QueueError::NotAnswerable { order: shown, why });
    }
    #[allow(clippy::type_complexity)]
    let (id, stored_decision, stored_reason, stored_ubl, key, state, last_error): (i64, String, Option<String>, bool, String, AnswerState, Option<String>) =
        sqlx::query_as("SELECT id, decision, reason, as_ubl, idempotency_key, state, last_error FROM order_responses WHERE order_id = $1")
            .bind(order_db_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::from)?;
    if stored_decision != decision {
        return Err(QueueError::AlreadyAnswered { order: remote_order_id.to_owned(), decision: stored_decision, state: state.to_string() });
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
    let attempt = Attempt { state: Some(state), error, retry_secs: retry, counted: true };
    let ours = claims::record_attempt(&mut tx, Claims::Answers, response.id, instance, attempt).await?;
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
