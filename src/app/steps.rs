//! Recording what happened after an order (shipped, delivered, the BAST,
//! the tax invoice, the payment invoice, the money received, the way it is
//! paid): the one place its rules live, for `orders record` and the
//! order's page.

use chrono::NaiveDate;

use super::Actor;
use super::orders::OrderRef;
use crate::domain::fulfilment::{PaymentWay, Step};
use crate::store::orders::NewEntry;
use crate::store::{Store, StoreError};

/// The steps to record, as a person gave them: numbers as written, the
/// amount in Indonesian or plain notation.
#[derive(Debug, Clone, Default)]
pub struct Steps {
    /// The day they happened (Jakarta's).
    pub on: Option<NaiveDate>,
    /// The signed order letter, with its number if it has one (`""` for none).
    pub order_letter: Option<String>,
    pub shipped: bool,
    pub delivered: bool,
    pub bast: Option<String>,
    pub faktur: Option<String>,
    pub invoice: Option<String>,
    /// The shipping's invoice, with its number if it has one.
    pub logistics_invoice: Option<String>,
    /// The PPK's ticket for a payment outside the system: its number.
    pub ticket: Option<String>,
    pub paid: Option<String>,
    pub payment: Option<PaymentWay>,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// A field given that cannot be recorded, with why (`field` as named in `Steps`).
    #[error("{field}: {why}")]
    Invalid { field: &'static str, why: String },
    #[error("nothing to record: give order-letter, shipped, delivered, bast, faktur, invoice, logistics-invoice, ticket, paid or payment")]
    Nothing,
    /// The route does not take an order of this total (a card's ceiling), in words.
    #[error("payment: {0}")]
    Route(String),
    #[error("say who records this (by): at most 100 characters")]
    NoOne,
    #[error("no order {0} is stored within your cooperatives: run sync orders first, or check the id")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A document number as the work unit or the tax office wrote it (`None` when blank).
fn number(field: &'static str, raw: &str) -> Result<Option<String>, RecordError> {
    let t = crate::domain::tidy(raw);
    if t.is_empty() {
        return Ok(None);
    }
    crate::domain::text(&t, field, 100).map(Some).map_err(|e| RecordError::Invalid { field, why: e.to_string() })
}

/// The entries the steps make, each checked; on `today` unless a day is given.
pub fn entries(steps: &Steps, today: NaiveDate) -> Result<Vec<NewEntry>, RecordError> {
    let on = steps.on.unwrap_or(today);
    let entry = |step, number, amount, detail| NewEntry { step, number, on_date: Some(on), amount, detail };
    let mut entries = Vec::new();
    if let Some(n) = &steps.order_letter {
        entries.push(entry(Step::OrderLetter, number("order_letter", n)?, None, None));
    }
    if steps.shipped {
        entries.push(entry(Step::Shipped, None, None, None));
    }
    if steps.delivered {
        entries.push(entry(Step::Delivered, None, None, None));
    }
    let required = |field: &'static str, why: &str| RecordError::Invalid { field, why: why.to_owned() };
    if let Some(n) = &steps.bast {
        let n = number("bast", n)?.ok_or_else(|| required("bast", "needs the BAST's number, as the work unit wrote it"))?;
        entries.push(entry(Step::Bast, Some(n), None, None));
    }
    if let Some(n) = &steps.faktur {
        let n = number("faktur", n)?.ok_or_else(|| required("faktur", "needs the tax invoice's number"))?;
        entries.push(entry(Step::Faktur, Some(n), None, None));
    }
    if let Some(n) = &steps.invoice {
        entries.push(entry(Step::Invoice, number("invoice", n)?, None, None));
    }
    if let Some(n) = &steps.logistics_invoice {
        entries.push(entry(Step::LogisticsInvoice, number("logistics_invoice", n)?, None, None));
    }
    if let Some(n) = &steps.ticket {
        let n = number("ticket", n)?.ok_or_else(|| required("ticket", "needs the PPK's ticket number"))?;
        entries.push(entry(Step::Ticket, Some(n), None, None));
    }
    if let Some(raw) = &steps.paid {
        let amount = crate::domain::number::parse_decimal(raw).map_err(|e| RecordError::Invalid { field: "paid", why: e.to_string() })?;
        if amount < rust_decimal::Decimal::ZERO || amount.normalize().scale() > 2 || amount >= crate::domain::money::max_amount() {
            return Err(RecordError::Invalid { field: "paid", why: format!("{raw:?} is not an amount received (a positive number of rupiah)") });
        }
        entries.push(entry(Step::Paid, None, Some(amount.normalize()), None));
    }
    if let Some(way) = steps.payment {
        entries.push(entry(Step::PaymentWay, None, None, Some(way.as_str().to_owned())));
    }
    if entries.is_empty() {
        return Err(RecordError::Nothing);
    }
    Ok(entries)
}

/// Records the steps of an order for `actor` (found only within the
/// actor's scope), as made by `by`, in one transaction, and writes the
/// audit entry. A route that does not take an order of its total (the
/// card's ceiling, `payment.toml`) is refused. Returns the steps recorded.
pub async fn record(
    store: &Store,
    actor: &Actor,
    order: OrderRef<'_>,
    steps: &Steps,
    (by, routes): (&str, &crate::mapping::payment::Routes),
    today: NaiveDate,
) -> Result<Vec<Step>, RecordError> {
    // An order out of the actor's scope is not found, whatever was given.
    let Some(head) = order.head(store, actor).await? else { return Err(RecordError::NotFound(order.shown())) };
    let entries = entries(steps, today)?;
    if let Some(way) = steps.payment
        && let Some(below) = routes.route(way).below_total.filter(|b| head.total >= *b)
    {
        return Err(RecordError::Route(format!(
            "{} takes orders under {} only; this order is {}",
            routes.route(way).label,
            crate::domain::money::format_rupiah(below),
            crate::domain::money::format_rupiah(head.total)
        )));
    }
    let by = crate::domain::text(by, "by", 100).map_err(|_| RecordError::NoOne)?;
    crate::store::orders::record_entries(store, head.id, &entries, &by).await?;
    let kinds: Vec<&str> = entries.iter().map(|e| e.step.as_str()).collect();
    crate::store::users::audit_as(
        store,
        (actor.user_id, &actor.name),
        Some(head.cooperative_id),
        "order.record",
        Some(&head.order_id),
        serde_json::json!({"steps": kinds, "by": by, "on": entries[0].on_date}),
    )
    .await?;
    Ok(entries.into_iter().map(|e| e.step).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 1, 14).unwrap()
    }

    #[test]
    fn an_amount_is_read_as_indonesians_write_it_and_a_bad_one_names_its_field() {
        let paid = entries(&Steps { paid: Some("Rp131.439".into()), ..Default::default() }, day()).unwrap();
        assert_eq!(paid[0].amount, Some(rust_decimal::Decimal::from(131_439)));
        assert_eq!(paid[0].on_date, Some(day()));
        let bad = entries(&Steps { paid: Some("banyak".into()), ..Default::default() }, day()).unwrap_err();
        assert!(matches!(bad, RecordError::Invalid { field: "paid", .. }), "{bad}");
    }

    #[test]
    fn a_bast_needs_its_number_and_nothing_given_is_refused() {
        assert!(matches!(entries(&Steps { bast: Some("  ".into()), ..Default::default() }, day()), Err(RecordError::Invalid { field: "bast", .. })));
        assert!(matches!(entries(&Steps::default(), day()), Err(RecordError::Nothing)));
    }
}
