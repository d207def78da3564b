//! After the order: each order's money (value before PPN, PPN, PPh 22, what
//! the cooperative receives) from `mappings/tax.toml`, its steps (delivery,
//! BAST, faktur, payment invoice, payment) and which of them are overdue.

use chrono::NaiveDate;
use serde::Serialize;

use crate::config::FulfilmentSettings;
use crate::domain::fulfilment::{self, Done, Overdue, PaymentWay, Step};
use crate::domain::order::OrderStatus;
use crate::mapping::tax::{Breakdown, TaxRules};
use crate::store::orders::OrderFacts;

/// An order's money, steps in force and overdue steps.
#[derive(Debug, Clone, Serialize)]
pub struct Standing {
    /// The stored order's id.
    #[serde(skip)]
    pub id: i64,
    pub order_id: String,
    pub cooperative: String,
    pub status: OrderStatus,
    pub buyer: Option<String>,
    #[serde(flatten)]
    pub money: Breakdown,
    /// What is still to be received: `net_to_cooperative` less what was paid.
    pub outstanding: rust_decimal::Decimal,
    pub steps: std::collections::BTreeMap<Step, Done>,
    pub overdue: Vec<Overdue>,
}

/// The standing of one order on `today` (Jakarta's day).
pub fn standing(order: &OrderFacts, rules: &TaxRules, settings: &FulfilmentSettings, today: NaiveDate) -> Standing {
    let way = PaymentWay::of_order(order.payment_way, &order.status, settings.payment);
    let money = rules.order(&order.lines, order.pkp, order.shipping, order.total, way);
    let paid = order.done.get(&Step::Paid).and_then(|d| d.amount).unwrap_or_default();
    let cancelled = order.status.is_cancelled();
    let overdue = if cancelled { Vec::new() } else { fulfilment::overdue(&order.done, &settings.due, money.net_to_cooperative, today) };
    Standing {
        id: order.id,
        order_id: order.order_id.clone(),
        cooperative: order.cooperative.clone(),
        status: order.status.clone(),
        buyer: order.buyer.clone(),
        outstanding: if cancelled { rust_decimal::Decimal::ZERO } else { (money.net_to_cooperative - paid).max(rust_decimal::Decimal::ZERO).normalize() },
        money,
        steps: order.done.iter().map(|(k, v)| (*k, v.clone())).collect(),
        overdue,
    }
}

/// Each order's money by its id, for the orders of `cooperative` (or all), today.
pub async fn money_by_order(
    store: &crate::store::Store,
    rules: &TaxRules,
    settings: &FulfilmentSettings,
    cooperative: Option<&str>,
) -> Result<std::collections::HashMap<String, crate::mapping::tax::Breakdown>, crate::store::StoreError> {
    let facts = crate::store::orders::facts(store, &crate::store::orders::FactsFilter { cooperative, ..Default::default() }).await?;
    let today = crate::domain::time::today();
    Ok(facts.iter().map(|f| (f.order_id.clone(), standing(f, rules, settings, today).money)).collect())
}

/// The orders of `cooperative` (or all) with a step past its due date today,
/// most overdue first. Only orders under way are read: delivered (or with a
/// step recorded) and not paid in full.
pub async fn overdue_orders(
    store: &crate::store::Store,
    rules: &TaxRules,
    settings: &FulfilmentSettings,
    cooperative: Option<&str>,
) -> Result<Vec<Standing>, crate::store::StoreError> {
    let filter = crate::store::orders::FactsFilter { cooperative, live_only: true, under_way: true, ..Default::default() };
    let facts = crate::store::orders::facts(store, &filter).await?;
    let today = crate::domain::time::today();
    let mut late: Vec<Standing> = facts.iter().map(|f| standing(f, rules, settings, today)).filter(|s| !s.overdue.is_empty()).collect();
    late.sort_by_key(|s| std::cmp::Reverse(s.overdue.iter().map(|o| o.days_late).max().unwrap_or(0)));
    Ok(late)
}
