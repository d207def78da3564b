//! How a government order is paid, from `mappings/payment.toml`: the
//! routes, who withholds what on each, the papers each needs, and the
//! per-transaction limits a card route's banks set. All `Decimal`, exact.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Deserialize;

use super::{MappingError, MappingSource, line_of};
use crate::domain::fulfilment::{PaymentWay, Step};

pub const PAYMENT_FILE: &str = "payment.toml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    papers: BTreeMap<String, RawPaper>,
    payment: BTreeMap<String, RawRoute>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPaper {
    label: String,
    when: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    label: String,
    collector: String,
    pph22_percent: Decimal,
    pph22_above: Decimal,
    ppn_withheld: bool,
    pnbp_percent: Decimal,
    papers: Vec<String>,
    withholds: String,
    #[serde(default)]
    below_total: Option<Decimal>,
    #[serde(default)]
    banks: Vec<BankLimit>,
}

/// When a route's paper applies to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Always,
    /// The cooperative is PKP and issues its own tax invoice.
    Pkp,
    /// The order has a shipping fee.
    Shipping,
}

/// A paper a payment may need: the step the staff record for it.
#[derive(Debug, Clone)]
pub struct Paper {
    pub step: Step,
    /// What it is, in Bahasa Indonesia.
    pub label: String,
    pub when: When,
}

/// A bank's per-transaction limit on a card route, with where it is from.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct BankLimit {
    pub bank: String,
    pub limit: Decimal,
    pub source: String,
}

/// One route: who collects the tax and at what rates, the papers, in words.
#[derive(Debug, Clone)]
pub struct Route {
    /// How it is called, in Bahasa Indonesia.
    pub label: String,
    pub collector: String,
    pub pph22_percent: Decimal,
    pub pph22_above: Decimal,
    pub ppn_withheld: bool,
    pub pnbp_percent: Decimal,
    /// The papers, in the order they are made (before `When` is applied).
    pub papers: Vec<Step>,
    /// Who withholds what, in words.
    pub withholds: String,
    /// The route takes only orders whose total is below this.
    pub below_total: Option<Decimal>,
    pub banks: Vec<BankLimit>,
}

/// Every route and paper of `payment.toml`.
#[derive(Debug, Clone)]
pub struct Routes {
    papers: Vec<Paper>,
    routes: Vec<(PaymentWay, Route)>,
}

impl Routes {
    pub fn load(source: &MappingSource) -> Result<Self, MappingError> {
        let (path, text) = source.read(PAYMENT_FILE)?;
        Self::parse(&text).map_err(|(line, reason)| MappingError::Invalid { path, line, reason })
    }

    /// The file's routes and papers, or the line (0: unknown) and what is wrong.
    pub fn parse(text: &str) -> Result<Self, (u64, String)> {
        let raw: RawFile = toml::from_str(text).map_err(|e| (e.span().map_or(0, |s| line_of(text, s.start)), e.message().to_owned()))?;
        let at = |needle: &str| text.lines().position(|l| l.contains(needle)).map_or(0, |i| i as u64 + 1);
        let mut papers = Vec::new();
        for (name, p) in raw.papers {
            let here = format!("[papers.{name}]");
            let step = Step::parse(&name)
                .filter(|s| s.is_paper())
                .ok_or_else(|| (at(&here), format!("{here} is not a paper; use order_letter, bast, faktur, invoice, logistics_invoice or ticket")))?;
            let when = match p.when.as_str() {
                "always" => When::Always,
                "pkp" => When::Pkp,
                "shipping" => When::Shipping,
                other => return Err((at(&here), format!("{here} when = {other:?}: use \"always\", \"pkp\" or \"shipping\""))),
            };
            papers.push(Paper { step, label: p.label, when });
        }
        let mut routes = Vec::new();
        for (name, r) in raw.payment {
            let here = format!("[payment.{name}]");
            let way = PaymentWay::parse(&name)
                .ok_or_else(|| (at(&here), format!("{here} is not a way of paying; use in_system, up_kkp, up_va or outside_system")))?;
            for (key, percent) in [("pph22_percent", r.pph22_percent), ("pnbp_percent", r.pnbp_percent)] {
                if percent < Decimal::ZERO || percent >= Decimal::ONE_HUNDRED {
                    return Err((at(&here), format!("{here} {key} must be between 0 and 100")));
                }
            }
            if r.pph22_above < Decimal::ZERO || r.below_total.is_some_and(|b| b <= Decimal::ZERO) || r.banks.iter().any(|b| b.limit <= Decimal::ZERO) {
                return Err((at(&here), format!("{here}: pph22_above must not be negative, and below_total and each bank's limit must be above zero")));
            }
            let mut steps = Vec::new();
            for p in &r.papers {
                let step = Step::parse(p)
                    .filter(|s| papers.iter().any(|paper| paper.step == *s))
                    .ok_or_else(|| (at(&here), format!("{here} papers: {p:?} is not one of the [papers.*] above")))?;
                if steps.contains(&step) {
                    return Err((at(&here), format!("{here} papers: {p:?} is named twice")));
                }
                steps.push(step);
            }
            routes.push((
                way,
                Route {
                    label: r.label,
                    collector: r.collector,
                    pph22_percent: r.pph22_percent,
                    pph22_above: r.pph22_above,
                    ppn_withheld: r.ppn_withheld,
                    pnbp_percent: r.pnbp_percent,
                    papers: steps,
                    withholds: r.withholds,
                    below_total: r.below_total,
                    banks: r.banks,
                },
            ));
        }
        if let Some(way) = PaymentWay::ALL.into_iter().find(|w| !routes.iter().any(|(r, _)| r == w)) {
            return Err((0, format!("[payment.{}] is missing: every way of paying needs its route", way.as_str())));
        }
        Ok(Self { papers, routes })
    }

    /// The route of one way of paying.
    pub fn route(&self, way: PaymentWay) -> &Route {
        // Every way has its route: `parse` refuses a file without one.
        &self.routes.iter().find(|(w, _)| *w == way).expect("every way of paying has a route").1
    }

    /// The papers an order paid `way` needs, in order: its route's, of
    /// those that apply to a cooperative that is (or is not) PKP and an
    /// order with (or without) shipping.
    pub fn papers_for(&self, way: PaymentWay, pkp: bool, shipping: bool) -> Vec<&Paper> {
        self.route(way)
            .papers
            .iter()
            .filter_map(|step| self.papers.iter().find(|p| p.step == *step))
            .filter(|p| match p.when {
                When::Always => true,
                When::Pkp => pkp,
                When::Shipping => shipping,
            })
            .collect()
    }

    /// What is wrong with paying an order of `total` by `way`, in words: a
    /// total at or above the route's ceiling, or above a bank's limit.
    pub fn limits(&self, way: PaymentWay, total: Decimal) -> Vec<String> {
        let route = self.route(way);
        let mut said = Vec::new();
        if let Some(below) = route.below_total.filter(|b| total >= *b) {
            said.push(format!("{} hanya untuk pesanan di bawah {}", route.label, crate::domain::money::format_rupiah(below)));
        }
        for b in route.banks.iter().filter(|b| total > b.limit) {
            said.push(format!("melebihi batas transaksi {} ({}; {})", b.bank, crate::domain::money::format_rupiah(b.limit), b.source));
        }
        said
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_file_gives_every_route_its_papers() {
        let r = Routes::load(&MappingSource::BuiltIn).unwrap();
        let steps = |way, pkp, shipping| r.papers_for(way, pkp, shipping).iter().map(|p| p.step).collect::<Vec<_>>();
        assert_eq!(
            steps(PaymentWay::InSystem, true, true),
            [Step::OrderLetter, Step::Bast, Step::Invoice, Step::LogisticsInvoice],
            "the catalogue's invoice is the faktur"
        );
        assert_eq!(steps(PaymentWay::UpVa, true, false), [Step::OrderLetter, Step::Bast, Step::Faktur, Step::Invoice]);
        assert_eq!(steps(PaymentWay::UpKkp, false, false), [Step::OrderLetter, Step::Bast, Step::Invoice], "no faktur from a cooperative that is not PKP");
        assert!(steps(PaymentWay::OutsideSystem, false, true).ends_with(&[Step::LogisticsInvoice, Step::Ticket]));
        assert!(r.limits(PaymentWay::UpKkp, Decimal::from(49_000_000)).is_empty());
        let said = r.limits(PaymentWay::UpKkp, Decimal::from(60_000_000));
        assert_eq!(said.len(), 1, "above BNI's limit only: {said:?}");
        assert!(said[0].contains("BNI") && said[0].contains("Rp50.000.000"), "{said:?}");
        assert_eq!(r.limits(PaymentWay::UpKkp, Decimal::from(200_000_000)).len(), 2, "the route's ceiling, and BNI's");
        assert!(r.limits(PaymentWay::UpVa, Decimal::from(900_000_000)).is_empty());
    }

    #[test]
    fn a_bad_file_names_its_line_and_what_is_wrong() {
        let text = include_str!("../../mappings/payment.toml");
        let (line, why) = Routes::parse(&text.replace("[papers.ticket]", "[papers.kwitansi]")).unwrap_err();
        assert!(line > 0 && why.contains("[papers.kwitansi] is not a paper"), "{line}: {why}");
        let (_, why) = Routes::parse(&text.replace("\"logistics_invoice\", \"ticket\"]", "\"logistics_invoice\", \"ticket\", \"bast\"]")).unwrap_err();
        assert!(why.contains("named twice"), "{why}");
        let (line, why) = Routes::parse(&text.replace("pph22_percent = \"0.5\"", "pph22_percent = \"100\"")).unwrap_err();
        assert!(line > 0 && why.contains("[payment.in_system] pph22_percent"), "{why}");
        let (_, why) = Routes::parse(&text.replace("[payment.up_va]", "[payment.treasurer]")).unwrap_err();
        assert!(why.contains("[payment.treasurer] is not a way of paying"), "{why}");
    }
}
