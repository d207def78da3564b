//! Answering an order: the one place its rules live, for the page's
//! buttons and for `orders respond`.

use super::Actor;
use crate::catalog::client::CatalogueClient;
use crate::domain::order::{AnswerState, NotAnswerable};
use crate::orders::OrderError;
use crate::orders::respond::RespondReport;
use crate::store::orders::{AnswerFor, QueueError};
use crate::store::{Store, StoreError};

/// Which order: its row (the pages), or the catalogue's id (the command line).
#[derive(Debug, Clone, Copy)]
pub enum OrderRef<'a> {
    Row(i64),
    Remote(&'a str),
}

impl OrderRef<'_> {
    /// The order as its user named it, for messages.
    pub(super) fn shown(self) -> String {
        match self {
            OrderRef::Row(id) => format!("#{id}"),
            OrderRef::Remote(remote) => remote.to_owned(),
        }
    }

    /// The order's head, when it is stored within the actor's scope (a
    /// catalogue id held by several sources names the oldest row; the
    /// answer refuses it as ambiguous).
    pub(super) async fn head(self, store: &Store, actor: &Actor) -> Result<Option<crate::store::dashboard::OrderHead>, StoreError> {
        let row = match self {
            OrderRef::Row(id) => Some(id),
            OrderRef::Remote(remote) => crate::store::orders::order_db_id(store, remote).await?,
        };
        match row {
            Some(id) => crate::store::dashboard::order(store, actor.scope, id).await,
            None => Ok(None),
        }
    }
}

/// The cooperative's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Accept,
    /// A rejection, with why (required: the buyer reads it).
    Reject(String),
}

/// What answering needs beside the store.
pub struct Answering<'a> {
    pub store: &'a Store,
    /// The catalogue the answer is sent to; `None` where no catalogue is
    /// configured (the page then offers no answer).
    pub client: Option<&'a CatalogueClient>,
    /// The orders come from INAPROC and are confirmed in its portal: none is
    /// answered over the API.
    pub in_portal: bool,
    /// Answer with a UBL OrderResponse even where the order did not come as
    /// UBL (`orders respond --ubl`).
    pub ubl: bool,
    /// Names the sender in the outbox's claims (`host:web`, `host:respond`).
    pub sender: &'a str,
}

/// How an answer ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answered {
    /// Sent now; the order's status after it, when the catalogue said.
    Sent { status: Option<String> },
    /// Recorded, and sent again by the next `orders respond` or `sync orders`.
    Later { why: String },
    /// The catalogue refused it, now or before; it stays refused, with why.
    Refused { why: String },
    /// The same answer was sent before: nothing more to do.
    AlreadySent,
}

/// The outcome, with the order it concerned.
#[derive(Debug, Clone)]
pub struct AnswerOutcome {
    pub order_db_id: i64,
    pub remote_order_id: String,
    pub answered: Answered,
}

#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    /// No such order within the actor's scope.
    #[error("no order {0} is stored within your cooperatives: run sync orders first, or check the id")]
    NotFound(String),
    #[error("a rejection needs its reason: the buyer reads it")]
    ReasonNeeded,
    #[error("order {order}: {why}")]
    NotAnswerable { order: String, why: NotAnswerable },
    #[error("order {order} was already answered ({decision}); an order is answered once")]
    AlreadyAnswered { order: String, decision: String },
    #[error("order {order} is stored under several sources ({sources}): answer it from its page on the dashboard")]
    Ambiguous { order: String, sources: String },
    #[error("no catalogue is configured to send the answer to")]
    NoCatalogue,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Send(#[from] OrderError),
}

/// A reason as kept: trimmed, at most 500 characters, none when blank.
fn kept_reason(reason: &str) -> Option<String> {
    Some(reason.trim()).filter(|r| !r.is_empty()).map(|r| r.chars().take(500).collect())
}

/// Answers an order for `actor`: found only within the actor's scope; a
/// rejection needs its reason; only an order waiting for the seller, and
/// never one confirmed in the INAPROC portal (`OrderStatus::answerable`).
/// The answer is committed to the outbox, the audit entry written, and then
/// the answer sent with the owning cooperative's account; a failed send is
/// kept and sent again later. An order imported as UBL is answered as UBL.
pub async fn answer(ctx: &Answering<'_>, actor: &Actor, order: OrderRef<'_>, decision: &Decision) -> Result<AnswerOutcome, AnswerError> {
    let shown = order.shown();
    let (accept, reason) = match decision {
        Decision::Accept => (true, None),
        Decision::Reject(why) => (false, Some(kept_reason(why).ok_or(AnswerError::ReasonNeeded)?)),
    };
    let Some(head) = order.head(ctx.store, actor).await? else { return Err(AnswerError::NotFound(shown)) };
    // Refused before anything is recorded, whoever asks.
    if let Err(why) = head.status.answerable(ctx.in_portal)
        && head.response_state.is_none()
    {
        return Err(AnswerError::NotAnswerable { order: head.order_id, why });
    }
    let Some(client) = ctx.client else { return Err(AnswerError::NoCatalogue) };
    let as_ubl = ctx.ubl || head.source == crate::domain::order::OrderSource::PeppolOrder;
    let target = match order {
        OrderRef::Row(id) => AnswerFor::Row { id, scope: actor.scope },
        OrderRef::Remote(remote) => AnswerFor::Remote(remote),
    };
    let queued = crate::store::orders::queue_response(ctx.store, target, accept, reason.as_deref(), as_ubl, ctx.in_portal).await.map_err(|e| match e {
        QueueError::UnknownOrder(_) => AnswerError::NotFound(shown.clone()),
        QueueError::AlreadyAnswered { order, decision, .. } => AnswerError::AlreadyAnswered { order, decision },
        QueueError::Ambiguous { order, sources } => AnswerError::Ambiguous { order, sources },
        QueueError::NotAnswerable { order, why } => AnswerError::NotAnswerable { order, why },
        QueueError::Store(e) => AnswerError::Store(e),
    })?;
    let outcome = |answered| AnswerOutcome { order_db_id: queued.order_db_id, remote_order_id: queued.remote_order_id.clone(), answered };
    match queued.state {
        AnswerState::Pending => {}
        AnswerState::Refused => {
            let why = queued.last_error.clone().unwrap_or_else(|| "no reason given".into());
            return Ok(outcome(Answered::Refused { why: format!("this answer was refused before: {why}") }));
        }
        AnswerState::Sent => return Ok(outcome(Answered::AlreadySent)),
    }
    crate::store::users::audit_as(
        ctx.store,
        (actor.user_id, &actor.name),
        Some(head.cooperative_id),
        if accept { "order.accept" } else { "order.reject" },
        Some(&queued.remote_order_id),
        serde_json::json!({"reason": reason}),
    )
    .await?;
    let report = crate::orders::respond::send_pending(ctx.store, client, ctx.sender, Some(queued.order_db_id)).await?;
    Ok(outcome(answered(report)))
}

/// One order's send, as an outcome.
fn answered(report: RespondReport) -> Answered {
    if report.sent > 0 {
        return Answered::Sent { status: report.status };
    }
    if let Some((_, why)) = report.refused.into_iter().next() {
        return Answered::Refused { why };
    }
    match report.later.into_iter().next() {
        Some((_, why)) => Answered::Later { why },
        // Claimed by another sender at this moment: it sends it.
        None => Answered::Later { why: "another sender holds it now".into() },
    }
}

/// A status change: (when, from, to, kind).
pub type Change = (chrono::DateTime<chrono::Utc>, Option<crate::domain::order::OrderStatus>, Option<crate::domain::order::OrderStatus>, String);

/// One order as its page and `orders show` present it.
#[derive(Debug, Clone)]
pub struct OrderDetail {
    pub head: crate::store::dashboard::OrderHead,
    /// Its money, the steps in force and what is overdue; `None` where its
    /// facts cannot be read (no cooperative of ours holds it any more).
    pub standing: Option<crate::orders::fulfilment::Standing>,
    pub lines: Vec<crate::store::orders::ShownLine>,
    /// The steps recorded after the order, oldest first.
    pub entries: Vec<crate::store::orders::Entry>,
    pub history: Vec<Change>,
    pub notices: Vec<crate::store::notifications::Shown>,
    /// The products it asks more of than their stock, while it has not
    /// taken its quantities yet (before anyone accepts it).
    pub short: Vec<crate::store::stock::Short>,
}

/// What reading an order's detail needs beside the store.
pub struct Reading<'a> {
    pub store: &'a Store,
    pub tax: &'a crate::mapping::tax::TaxRules,
    pub fulfilment: &'a crate::config::FulfilmentSettings,
    /// Jakarta's day, against which steps are overdue.
    pub today: chrono::NaiveDate,
}

#[derive(Debug, thiserror::Error)]
pub enum DetailError {
    #[error("no order {0} is stored within your cooperatives: run sync orders first, or check the id")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An order's detail for `actor`, found only within the actor's scope.
pub async fn detail(ctx: &Reading<'_>, actor: &Actor, order: OrderRef<'_>) -> Result<OrderDetail, DetailError> {
    let Some(head) = order.head(ctx.store, actor).await? else { return Err(DetailError::NotFound(order.shown())) };
    let filter = crate::store::orders::FactsFilter { order_db_id: Some(head.id), ..Default::default() };
    let standing =
        crate::store::orders::facts(ctx.store, &filter).await?.first().map(|f| crate::orders::fulfilment::standing(f, ctx.tax, ctx.fulfilment, ctx.today));
    let lines = crate::store::orders::order_lines(ctx.store, head.id).await?;
    let entries = crate::store::orders::entries(ctx.store, head.id).await?;
    let history = crate::store::orders::history(ctx.store, head.id).await?;
    let notices = crate::store::notifications::of_order(ctx.store, head.id).await?;
    let short = crate::store::stock::short(ctx.store, &[head.id]).await?;
    Ok(OrderDetail { head, standing, lines, entries, history, notices, short })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_trimmed_cut_at_500_characters_and_none_when_blank() {
        assert_eq!(kept_reason("  stok habis \n"), Some("stok habis".into()));
        assert_eq!(kept_reason(" \t "), None);
        assert_eq!(kept_reason(&"é".repeat(600)).map(|r| r.chars().count()), Some(500));
    }

    #[test]
    fn a_send_counts_first_then_a_refusal_then_a_delay() {
        let refused = RespondReport { refused: vec![("EP-1".into(), "no".into())], later: vec![("EP-1".into(), "429".into())], ..Default::default() };
        assert_eq!(answered(refused), Answered::Refused { why: "no".into() });
        let sent = RespondReport { sent: 1, status: Some("ON_PROCESS".into()), ..Default::default() };
        assert_eq!(answered(sent), Answered::Sent { status: Some("ON_PROCESS".into()) });
        assert!(matches!(answered(RespondReport::default()), Answered::Later { .. }));
    }
}
