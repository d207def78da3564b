//! Payments from the bank, for `payments import|list|assign` and the
//! "Pembayaran" page: a cooperative's statement read; each new credit
//! matched to the order it pays and recorded as paid, or listed for the
//! staff; a listed credit assigned by them. A statement imported again
//! records nothing twice.

use std::path::Path;

use rust_decimal::Decimal;

use super::Actor;
use crate::domain::payments::{Candidate, CreditState, Decision};
use crate::mapping::banks::BankFormat;
use crate::payments::{RowProblem, StatementError};
use crate::store::payments::{self as stored, CreditRow, NewCredit};
use crate::store::{Store, StoreError};

/// What an import and an assignment need besides the store.
pub struct Paying<'a> {
    pub store: &'a Store,
    pub tax: &'a crate::mapping::tax::TaxRules,
    pub fulfilment: &'a crate::config::FulfilmentSettings,
    pub import: &'a crate::config::ImportSettings,
    pub today: chrono::NaiveDate,
}

#[derive(Debug, thiserror::Error)]
pub enum PaymentsError {
    #[error("name the cooperative whose statement this is (--cooperative CODE)")]
    NoCooperative,
    #[error("no cooperative {0}")]
    UnknownCooperative(String),
    #[error(transparent)]
    Statement(#[from] StatementError),
    #[error(transparent)]
    Mapping(#[from] crate::mapping::MappingError),
    #[error("no credit {0} waits to be assigned within your cooperatives (see payments list --open)")]
    NoCredit(i64),
    #[error("no order {0} of the credit's cooperative is stored")]
    NoOrder(String),
    #[error("say who does this (by): at most 100 characters")]
    NoOne,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an import did.
#[derive(Debug, Default, serde::Serialize)]
pub struct ImportReport {
    pub cooperative: String,
    pub bank: String,
    /// Credits in the file.
    pub credits: usize,
    /// Of them, imported before: nothing done.
    pub already: usize,
    /// Matched and recorded as paid: (row, order, amount).
    pub matched: Vec<(u64, String, Decimal)>,
    pub ambiguous: usize,
    pub unmatched: usize,
    /// Rows with no credit (debits, balances).
    pub passed_over: u64,
    pub problems: Vec<RowProblem>,
}

/// The cooperative the actor acts for: their own, or the one asked (the liaison, the operator).
async fn cooperative(store: &Store, actor: &Actor, asked: Option<&str>) -> Result<(i64, String), PaymentsError> {
    actor.cooperative(store, asked).await?.ok_or_else(|| asked.map_or(PaymentsError::NoCooperative, |c| PaymentsError::UnknownCooperative(c.to_owned())))
}

/// Every order of a cooperative (of all, when `None`) not cancelled, with
/// its cooperative and what is still to be received.
async fn owed(ctx: &Paying<'_>, code: Option<&str>) -> Result<Vec<(String, Candidate)>, StoreError> {
    let filter = crate::store::orders::FactsFilter { cooperative: code, live_only: true, ..Default::default() };
    let facts = crate::store::orders::facts(ctx.store, &filter).await?;
    Ok(facts
        .iter()
        .map(|f| {
            let s = crate::orders::fulfilment::standing(f, ctx.tax, ctx.fulfilment, ctx.today);
            (f.cooperative.clone(), Candidate { order: f.id, remote_id: f.order_id.clone(), outstanding: s.outstanding })
        })
        .collect())
}

/// Every order of a cooperative not cancelled, with what is still to be received.
async fn candidates(ctx: &Paying<'_>, code: &str) -> Result<Vec<Candidate>, StoreError> {
    Ok(owed(ctx, Some(code)).await?.into_iter().map(|(_, c)| c).collect())
}

/// Imports a statement of `cooperative` (the actor's own for staff) read
/// as bank `bank` writes it (`generic` when none).
pub async fn import(
    ctx: &Paying<'_>,
    actor: &Actor,
    (path, file_name): (&Path, &str),
    (asked, bank): (Option<&str>, Option<&str>),
    by: &str,
    mappings: &crate::mapping::MappingSource,
) -> Result<ImportReport, PaymentsError> {
    let by = crate::domain::text(by, "by", 100).map_err(|_| PaymentsError::NoOne)?;
    let (cooperative_id, code) = cooperative(ctx.store, actor, asked).await?;
    let format = BankFormat::load(mappings, bank)?;
    let statement = crate::payments::read(path, &format, ctx.import).await?;
    let mut report = ImportReport {
        cooperative: code.clone(),
        bank: format.name.clone(),
        credits: statement.credits.len(),
        passed_over: statement.passed_over,
        problems: statement.problems,
        ..Default::default()
    };
    let mut tx = ctx.store.begin().await?;
    stored::lock(&mut tx, cooperative_id).await?;
    let keys: Vec<String> = statement.credits.iter().map(|c| c.key.clone()).collect();
    let known: std::collections::HashSet<String> = stored::known(&mut tx, cooperative_id, &keys).await?.into_iter().collect();
    let new: Vec<&crate::payments::StatementCredit> = statement.credits.iter().filter(|c| !known.contains(&c.key)).collect();
    report.already = statement.credits.len() - new.len();
    let mut orders = candidates(ctx, &code).await?;
    let ids: std::collections::HashMap<i64, String> = orders.iter().map(|o| (o.order, o.remote_id.clone())).collect();
    let decisions = crate::domain::payments::decide_all(&new.iter().map(|c| c.credit.clone()).collect::<Vec<_>>(), &mut orders, &format.transfer_fees);
    let mut credits = Vec::with_capacity(new.len());
    for (c, d) in new.iter().zip(decisions) {
        let (state, order_id, fee, candidates, why) = match d {
            Decision::Paid { order, fee } => {
                report.matched.push((c.line, ids.get(&order).cloned().unwrap_or_default(), c.credit.amount));
                (CreditState::Matched, Some(order), fee, Vec::new(), None)
            }
            Decision::Ambiguous(orders) => {
                report.ambiguous += 1;
                (CreditState::Ambiguous, None, Decimal::ZERO, orders, Some("lebih dari satu pesanan sebesar ini".to_owned()))
            }
            Decision::Unmatched(why) => {
                report.unmatched += 1;
                (CreditState::Unmatched, None, Decimal::ZERO, Vec::new(), Some(why))
            }
        };
        credits.push(NewCredit {
            line_key: c.key.clone(),
            line: i32::try_from(c.line).unwrap_or(i32::MAX),
            booked_on: c.booked_on,
            amount: c.credit.amount,
            description: c.credit.description.clone(),
            reference: c.credit.reference.clone(),
            state,
            order_id,
            fee,
            candidates,
            why,
        });
    }
    let statement = stored::Statement { cooperative_id, bank: &format.name, file_name, credits: report.credits, by: &by };
    stored::save(&mut tx, &statement, &credits).await?;
    tx.commit().await.map_err(StoreError::from)?;
    let detail = serde_json::json!({
        "file": file_name, "bank": format.name, "credits": report.credits, "already": report.already,
        "matched": report.matched.len(), "ambiguous": report.ambiguous, "unmatched": report.unmatched, "by": by,
    });
    crate::store::users::audit_as(ctx.store, (actor.user_id, &actor.name), Some(cooperative_id), "payments.import", Some(file_name), detail).await?;
    Ok(report)
}

/// The credits of the actor's cooperatives (of one, when asked), the open ones only when asked.
pub async fn list(store: &Store, actor: &Actor, asked: Option<&str>, open_only: bool, limit: i64) -> Result<Vec<CreditRow>, PaymentsError> {
    let scope = match (actor.scope, asked) {
        (Some(own), _) => Some(own),
        (None, None) => None,
        (None, Some(_)) => Some(cooperative(store, actor, asked).await?.0),
    };
    Ok(stored::list(store, scope, open_only, limit).await?)
}

/// The orders of the actor's cooperatives still to be paid: (cooperative, order, outstanding).
pub async fn unpaid(ctx: &Paying<'_>, actor: &Actor) -> Result<Vec<(String, String, Decimal)>, PaymentsError> {
    let code = match actor.scope {
        Some(own) => Some(crate::store::dashboard::cooperative_code(ctx.store, own).await?.unwrap_or_default()),
        None => None,
    };
    let mut unpaid: Vec<(String, String, Decimal)> = owed(ctx, code.as_deref())
        .await?
        .into_iter()
        .filter(|(_, c)| c.outstanding > Decimal::ZERO)
        .map(|(coop, c)| (coop, c.remote_id, c.outstanding))
        .collect();
    unpaid.sort();
    Ok(unpaid)
}

/// Assigns a credit waiting for the staff to an order of its cooperative,
/// and records the order's payment. Returns the order's id.
pub async fn assign(ctx: &Paying<'_>, actor: &Actor, credit: i64, order: &str, by: &str) -> Result<String, PaymentsError> {
    let by = crate::domain::text(by, "by", 100).map_err(|_| PaymentsError::NoOne)?;
    let mut tx = ctx.store.begin().await?;
    let Some((cooperative_id, found)) = stored::open_credit(&mut tx, credit).await? else { return Err(PaymentsError::NoCredit(credit)) };
    if !found.state.open() || actor.scope.is_some_and(|own| own != cooperative_id) {
        return Err(PaymentsError::NoCredit(credit));
    }
    stored::lock(&mut tx, cooperative_id).await?;
    let code = crate::store::dashboard::cooperative_code(ctx.store, cooperative_id).await?.unwrap_or_default();
    let orders = candidates(ctx, &code).await?;
    let wanted = crate::domain::payments::id_key(order);
    let Some(target) = orders.iter().find(|o| crate::domain::payments::id_key(&o.remote_id) == wanted) else {
        return Err(PaymentsError::NoOrder(order.to_owned()));
    };
    stored::assign(&mut tx, credit, &found, target.order, &by).await?;
    tx.commit().await.map_err(StoreError::from)?;
    let detail = serde_json::json!({"credit": credit, "order": target.remote_id, "amount": found.amount, "by": by});
    crate::store::users::audit_as(ctx.store, (actor.user_id, &actor.name), Some(cooperative_id), "payments.assign", Some(&target.remote_id), detail).await?;
    Ok(target.remote_id.clone())
}
