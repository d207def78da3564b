//! After the order: the way it is paid, what the staff record of delivery,
//! hand-over (BAST), tax invoice (faktur), payment invoice and payment, and
//! which of these is due or overdue. No I/O.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::order::OrderStatus;

/// How an order is paid (its route), which decides who collects its tax
/// and which papers the payment needs (`mappings/payment.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum PaymentWay {
    /// Through the catalogue's own payment.
    InSystem,
    /// From petty cash (UP) with the government credit card (KKP).
    UpKkp,
    /// From petty cash by transfer to the order's virtual account (UP VA);
    /// `treasurer`, its name before the card and the transfer were told apart.
    #[serde(alias = "treasurer")]
    #[value(alias = "treasurer")]
    UpVa,
    /// Outside the system (`PAYMENT_OUTSIDE_SYSTEM`): SP2D through SIPD.
    OutsideSystem,
}

impl PaymentWay {
    pub const ALL: [PaymentWay; 4] = [PaymentWay::InSystem, PaymentWay::UpKkp, PaymentWay::UpVa, PaymentWay::OutsideSystem];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentWay::InSystem => "in_system",
            PaymentWay::UpKkp => "up_kkp",
            PaymentWay::UpVa => "up_va",
            PaymentWay::OutsideSystem => "outside_system",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.as_str() == s)
    }

    /// The way an order is paid: the staff's record when there is one, else
    /// outside the system when the catalogue says so, else `default`.
    pub fn of_order(recorded: Option<PaymentWay>, status: &OrderStatus, default: PaymentWay) -> PaymentWay {
        recorded.unwrap_or(if *status == OrderStatus::PaymentOutsideSystem { PaymentWay::OutsideSystem } else { default })
    }
}

/// What the catalogue reports of delivery: (delivered, shipped), from the
/// order's shipment status (`DELIVERED`, `SHIPPED`, `ON_DELIVERY`) and its
/// status (a completed order was delivered).
pub fn reported_delivery(shipment_status: Option<&str>, status: &OrderStatus) -> (bool, bool) {
    let delivered = shipment_status == Some("DELIVERED") || *status == OrderStatus::Completed;
    (delivered, delivered || matches!(shipment_status, Some("SHIPPED" | "ON_DELIVERY")))
}

/// What the staff record of an order (and, for delivery, what the catalogue
/// reports): delivery, the papers a payment needs, the payment, the route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// The order letter (surat pesanan), signed.
    OrderLetter,
    Shipped,
    Delivered,
    /// The buyer's hand-over record (berita acara serah terima).
    Bast,
    /// The tax invoice.
    Faktur,
    /// The payment invoice (tagihan) handed in.
    Invoice,
    /// The invoice for the shipping.
    LogisticsInvoice,
    /// The PPK's ticket for a payment outside the system.
    Ticket,
    /// Payment received: the amount received in all so far.
    Paid,
    /// How the order is paid (the staff's record).
    PaymentWay,
}

impl Step {
    pub const ALL: [Step; 10] = [
        Step::OrderLetter,
        Step::Shipped,
        Step::Delivered,
        Step::Bast,
        Step::Faktur,
        Step::Invoice,
        Step::LogisticsInvoice,
        Step::Ticket,
        Step::Paid,
        Step::PaymentWay,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::OrderLetter => "order_letter",
            Step::Shipped => "shipped",
            Step::Delivered => "delivered",
            Step::Bast => "bast",
            Step::Faktur => "faktur",
            Step::Invoice => "invoice",
            Step::LogisticsInvoice => "logistics_invoice",
            Step::Ticket => "ticket",
            Step::Paid => "paid",
            Step::PaymentWay => "payment_way",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// How the staff call it, in Bahasa Indonesia.
    pub fn label(self) -> &'static str {
        match self {
            Step::OrderLetter => "surat pesanan",
            Step::Shipped => "dikirim",
            Step::Delivered => "diterima pembeli",
            Step::Bast => "BAST",
            Step::Faktur => "faktur pajak",
            Step::Invoice => "tagihan",
            Step::LogisticsInvoice => "tagihan ongkos kirim",
            Step::Ticket => "tiket PPK",
            Step::Paid => "pembayaran",
            Step::PaymentWay => "cara bayar",
        }
    }

    /// A paper a payment may need (a route's checklist names these).
    pub fn is_paper(self) -> bool {
        matches!(self, Step::OrderLetter | Step::Bast | Step::Faktur | Step::Invoice | Step::LogisticsInvoice | Step::Ticket)
    }
}

/// One step in force: when, and its number or amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Done {
    pub on: Option<NaiveDate>,
    pub number: Option<String>,
    pub amount: Option<Decimal>,
}

/// A rule of when a step is due: `days` calendar days after `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DueRule {
    pub step: Step,
    pub after: Step,
    pub days: u32,
}

/// The rules by default: the BAST a week after delivery, the faktur, the
/// payment and shipping invoices and the PPK's ticket a week after the
/// BAST, payment 30 days after it. A paper the order's route does not need
/// is never due (`overdue`'s `needed`).
pub fn default_due_rules() -> Vec<DueRule> {
    vec![
        DueRule { step: Step::Bast, after: Step::Delivered, days: 7 },
        DueRule { step: Step::Faktur, after: Step::Bast, days: 7 },
        DueRule { step: Step::Invoice, after: Step::Bast, days: 7 },
        DueRule { step: Step::LogisticsInvoice, after: Step::Bast, days: 7 },
        DueRule { step: Step::Ticket, after: Step::Bast, days: 7 },
        DueRule { step: Step::Paid, after: Step::Bast, days: 30 },
    ]
}

/// A step past its due date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Overdue {
    pub step: Step,
    pub due: NaiveDate,
    pub days_late: i64,
}

/// The steps of an order past their due date on `today`: a step is due
/// `days` after the step it follows was done, and overdue when it is still
/// not done after that. A paper is due only when `needed` says the order's
/// route needs it. Payment counts as done once `paid` reaches `owed` (what
/// the cooperative is to receive).
pub fn overdue(done: &HashMap<Step, Done>, rules: &[DueRule], needed: impl Fn(Step) -> bool, owed: Decimal, today: NaiveDate) -> Vec<Overdue> {
    let finished = |step: Step| match (step, done.get(&step)) {
        (Step::Paid, Some(d)) => d.amount.is_some_and(|a| a >= owed),
        (_, Some(_)) => true,
        (_, None) => false,
    };
    let mut late = Vec::new();
    for rule in rules {
        let Some(since) = done.get(&rule.after).and_then(|d| d.on) else { continue };
        if finished(rule.step) || (rule.step.is_paper() && !needed(rule.step)) {
            continue;
        }
        let due = since + chrono::Duration::days(i64::from(rule.days));
        if today > due {
            late.push(Overdue { step: rule.step, due, days_late: (today - due).num_days() });
        }
    }
    late
}

super::named_by!(Step, "fulfilment step", as_str);
super::named_by!(PaymentWay, "payment way", as_str);

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: &str) -> NaiveDate {
        d.parse().unwrap()
    }

    #[test]
    fn a_step_is_overdue_the_day_after_its_due_date_until_it_is_done() {
        let rules = default_due_rules();
        let mut done = HashMap::from([(Step::Delivered, Done { on: Some(day("2026-11-02")), number: None, amount: None })]);
        assert_eq!(overdue(&done, &rules, |_| true, Decimal::from(100), day("2026-11-09")), vec![], "due on the 9th: not late yet");
        assert_eq!(
            overdue(&done, &rules, |_| true, Decimal::from(100), day("2026-11-10")),
            vec![Overdue { step: Step::Bast, due: day("2026-11-09"), days_late: 1 }]
        );
        done.insert(Step::Bast, Done { on: Some(day("2026-11-05")), number: Some("BAST-7".into()), amount: None });
        let late: Vec<Step> = overdue(&done, &rules, |_| true, Decimal::from(100), day("2026-12-06")).into_iter().map(|o| o.step).collect();
        assert_eq!(late, [Step::Faktur, Step::Invoice, Step::LogisticsInvoice, Step::Ticket, Step::Paid], "30 days after the 5th is the 5th of December");
        let in_system = [Step::OrderLetter, Step::Bast, Step::Invoice];
        let late: Vec<Step> = overdue(&done, &rules, |s| in_system.contains(&s), Decimal::from(100), day("2026-12-06")).into_iter().map(|o| o.step).collect();
        assert_eq!(late, [Step::Invoice, Step::Paid], "a paper the route does not need is never due; payment always is");
        done.insert(Step::Paid, Done { on: Some(day("2026-12-01")), number: None, amount: Some(Decimal::from(60)) });
        assert!(overdue(&done, &rules, |_| true, Decimal::from(100), day("2026-12-06")).iter().any(|o| o.step == Step::Paid), "part paid is still owed");
        done.insert(Step::Paid, Done { on: Some(day("2026-12-02")), number: None, amount: Some(Decimal::from(100)) });
        assert!(!overdue(&done, &rules, |_| true, Decimal::from(100), day("2026-12-06")).iter().any(|o| o.step == Step::Paid));
    }
}
