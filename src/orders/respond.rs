//! Answering orders: the decision is committed to the outbox first, then sent
//! with the owning cooperative's account under an idempotency key made from
//! the answer, so a crash between deciding and sending neither loses the
//! answer nor sends it twice (the next `orders respond` or `sync orders`
//! sends what is still pending, with the same key). Recording an answer
//! and its rules are the use case's (`app::orders::answer`).

use serde::Serialize;

use super::OrderError;
use crate::catalog::client::request::ResponseBody;
use crate::catalog::client::{Call, CatalogueClient};
use crate::store::Store;
use crate::store::claims::Retry;
use crate::store::orders::{self, Answered, Response};

/// How long a claimed answer is held before another instance may send it.
const LEASE_SECS: f64 = 120.0;

#[derive(Debug, Clone, Default, Serialize)]
pub struct RespondReport {
    pub sent: u64,
    /// Answers the catalogue refused for good, with why.
    pub refused: Vec<(String, String)>,
    /// Answers to send again later, with why.
    pub later: Vec<(String, String)>,
    /// The order's status after an answer was taken.
    pub status: Option<String>,
}

/// Sends the answers waiting in the outbox (one order's, or all).
pub async fn send_pending(store: &Store, client: &CatalogueClient, instance: &str, order_db_id: Option<i64>) -> Result<RespondReport, OrderError> {
    let mut report = RespondReport::default();
    for response in orders::claim_responses(store, instance, order_db_id, LEASE_SECS).await? {
        let answered = send(store, client, &response).await?;
        orders::record_response(store, instance, &response, &answered).await?;
        match answered {
            Answered::Sent { status } => {
                report.sent += 1;
                report.status = status;
            }
            Answered::Refused { error } => report.refused.push((response.remote_order_id.clone(), error)),
            Answered::Later { error, .. } => report.later.push((response.remote_order_id.clone(), error)),
        }
    }
    Ok(report)
}

async fn send(store: &Store, client: &CatalogueClient, r: &Response) -> Result<Answered, OrderError> {
    let body = if r.as_ubl {
        let (seller_gln, seller_name, buyer) = orders::answer_parties(store, r.order_db_id).await?;
        let id = format!("R-{}", r.remote_order_id);
        ResponseBody::Ubl(crate::catalog::order_response::write(&crate::catalog::order_response::Answer {
            id: &id,
            order_id: &r.remote_order_id,
            accept: r.accept,
            reason: r.reason.as_deref(),
            issued: chrono::Utc::now(),
            seller: crate::catalog::order_response::Party { gln: seller_gln.as_deref(), name: &seller_name },
            buyer: crate::catalog::order_response::Party { gln: None, name: buyer.as_deref().unwrap_or("-") },
        }))
    } else {
        ResponseBody::Json(crate::catalog::client::order_decision(r.accept, r.reason.as_deref()))
    };
    let call = Call::RespondOrder { id: r.remote_order_id.clone(), body, key: r.key.clone() };
    Ok(match client.send(&r.seller, &call).await {
        Ok(answer) => Answered::Sent { status: answer.order_answer_status() },
        Err(e) if e.is_transient() => Answered::Later { error: e.to_string(), retry_secs: Retry::Transient.after_secs() },
        Err(
            e @ (crate::catalog::client::ClientError::NoAccount(_)
            | crate::catalog::client::ClientError::Unauthorized { .. }
            | crate::catalog::client::ClientError::Account { .. }),
        ) => Answered::Later { error: e.to_string(), retry_secs: Retry::Account.after_secs() },
        Err(e) => Answered::Refused { error: e.to_string() },
    })
}
