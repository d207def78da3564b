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

/// A paper the order's route needs, done or not.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PaperState {
    pub paper: Step,
    /// What it is, in Bahasa Indonesia (`payment.toml`).
    pub label: String,
    pub done: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

/// An order's money, steps in force, its route's papers, the next step and
/// overdue steps.
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
    /// Who withholds what on the order's route, in words.
    pub withholds: String,
    /// The papers its route needs for this order, in order, done or not.
    pub papers: Vec<PaperState>,
    /// What to do next, in Bahasa Indonesia (`None`: cancelled, or paid in full with every paper).
    pub next_step: Option<String>,
    /// The same, for a page to say in its language.
    #[serde(skip)]
    pub next: Option<Next>,
    /// What is wrong with the route for this order (a card's limits), in words.
    pub route_problems: Vec<String>,
    /// Days from the BAST to the payment in full, once paid.
    pub days_to_pay: Option<i64>,
    pub overdue: Vec<Overdue>,
}

/// The standing of one order on `today` (Jakarta's day).
pub fn standing(order: &OrderFacts, rules: &TaxRules, settings: &FulfilmentSettings, today: NaiveDate) -> Standing {
    let way = PaymentWay::of_order(order.payment_way, &order.status, settings.payment);
    let money = rules.order(&order.lines, order.pkp, order.shipping, order.total, way);
    let paid = order.done.get(&Step::Paid).and_then(|d| d.amount).unwrap_or_default();
    let cancelled = order.status.is_cancelled();
    let papers: Vec<PaperState> = rules
        .routes
        .papers_for(way, order.pkp, order.shipping > rust_decimal::Decimal::ZERO)
        .into_iter()
        .map(|p| {
            let done = order.done.get(&p.step);
            PaperState {
                paper: p.step,
                label: p.label.clone(),
                done: done.is_some(),
                on: done.and_then(|d| d.on),
                number: done.and_then(|d| d.number.clone()).filter(|n| !n.is_empty()),
            }
        })
        .collect();
    let needed = |step: Step| papers.iter().any(|p| p.paper == step);
    let overdue = if cancelled { Vec::new() } else { fulfilment::overdue(&order.done, &settings.due, needed, money.net_to_cooperative, today) };
    let outstanding = if cancelled { rust_decimal::Decimal::ZERO } else { (money.net_to_cooperative - paid).max(rust_decimal::Decimal::ZERO).normalize() };
    let route = rules.payment(way);
    let next = if cancelled { None } else { next(&papers, order.done.contains_key(&Step::Delivered), outstanding) };
    Standing {
        id: order.id,
        order_id: order.order_id.clone(),
        cooperative: order.cooperative.clone(),
        status: order.status.clone(),
        buyer: order.buyer.clone(),
        next_step: next.map(|n| next_in_words(n, &papers, outstanding, &route.label)),
        next,
        route_problems: rules.routes.limits(way, money.total),
        days_to_pay: days_to_pay(&order.done, money.net_to_cooperative),
        withholds: route.withholds.clone(),
        outstanding,
        money,
        steps: order.done.iter().map(|(k, v)| (*k, v.clone())).collect(),
        papers,
        overdue,
    }
}

/// Days from the BAST to the payment, when the amount received reaches what
/// the cooperative is to receive (the day of the entry that made it so).
fn days_to_pay(done: &std::collections::HashMap<Step, Done>, owed: rust_decimal::Decimal) -> Option<i64> {
    let bast = done.get(&Step::Bast)?.on?;
    let paid = done.get(&Step::Paid).filter(|d| d.amount.is_some_and(|a| a >= owed))?.on?;
    Some((paid - bast).num_days())
}

/// What an order waits for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// A paper of its route (its order: the order letter first, the others after delivery).
    Paper(Step),
    Delivery,
    /// The payment of what is outstanding.
    Payment,
}

/// What to do next: the order letter first, then delivery, then each
/// missing paper in its route's order, then the payment.
fn next(papers: &[PaperState], delivered: bool, outstanding: rust_decimal::Decimal) -> Option<Next> {
    let missing = |p: &&PaperState| !p.done;
    if papers.iter().filter(missing).any(|p| p.paper == Step::OrderLetter) {
        return Some(Next::Paper(Step::OrderLetter));
    }
    if !delivered {
        return Some(Next::Delivery);
    }
    if let Some(p) = papers.iter().find(missing) {
        return Some(Next::Paper(p.paper));
    }
    (outstanding > rust_decimal::Decimal::ZERO).then_some(Next::Payment)
}

/// The next step in Bahasa Indonesia.
fn next_in_words(next: Next, papers: &[PaperState], outstanding: rust_decimal::Decimal, route: &str) -> String {
    match next {
        Next::Paper(step) => format!("Lengkapi: {}", papers.iter().find(|p| p.paper == step).map_or(step.label(), |p| p.label.as_str())),
        Next::Delivery => "Kirim barang, lalu catat saat diterima pembeli".into(),
        Next::Payment => {
            format!("Tunggu pembayaran {} ({route}); catat saat masuk, atau impor rekening koran", crate::domain::money::format_rupiah(outstanding))
        }
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
