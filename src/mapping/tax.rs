//! PPN (VAT) from `mappings/tax.toml`: which products are taxed, at what
//! rate, on what base, and the one rounding rule. All `Decimal`, exact.

use rust_decimal::{Decimal, RoundingStrategy};
use rustc_hash::FxHashSet as HashSet;
use serde::Deserialize;

use super::{MappingError, MappingSource, line_of};
pub use crate::domain::fulfilment::PaymentWay;

pub const TAX_FILE: &str = "tax.toml";

/// The PEPPOL / UN/CEFACT 5305 tax category of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaxCategory {
    /// Standard rated (S).
    Standard,
    /// Exempt from tax (E): staples under PP 49/2022.
    Exempt,
    /// Not subject to VAT (O): the seller is not PKP.
    NotSubject,
}

/// A product's price in whole rupiah with its PPN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pricing {
    /// The price before PPN, rounded to whole rupiah.
    pub base: Decimal,
    pub tax: Decimal,
    /// `base + tax`: the "price shown incl. tax" of the catalogue form.
    pub with_tax: Decimal,
    pub category: TaxCategory,
    /// The rate the form shows: the headline rate, or 0.
    pub percent: Decimal,
    /// Luxury-goods tax applies.
    pub ppnbm: bool,
    /// The entered price had sen and was rounded.
    pub rounded: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTax {
    currency: String,
    rounding: String,
    headline_percent: Decimal,
    taxable_base: String,
    luxury_taxable_base: String,
    exempt_categories: Vec<String>,
    luxury_categories: Vec<String>,
    /// The ways of paying, now in `payment.toml`: refused here with where they went.
    #[serde(default)]
    payment: Option<toml::Value>,
}

/// A line of an order as its tax sees it: its total (PPN included) and the
/// local category of the product it was routed to (`None`: a line that
/// matches no listing of ours, taxed as ordinary goods).
#[derive(Debug, Clone)]
pub struct TaxedLine {
    pub amount: Decimal,
    pub category: Option<String>,
}

/// How a line of an order is taxed, for its tax invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LineTax {
    /// Taxed on 11/12 of its price (ordinary goods).
    Ordinary,
    /// Taxed on its whole price (luxury goods).
    Luxury,
    /// Exempt staples (PP 49/2022).
    Exempt,
    /// The seller is not PKP: no tax invoice.
    NotSubject,
}

/// A line's amounts on a tax invoice, whole rupiah: its value before PPN
/// (the tax base), the other tax base (11/12 of it for ordinary goods) and
/// the PPN on that. The lines of an order add up to its [`Breakdown`]
/// exactly: each is rounded, and the last of a kind takes what rounding
/// left over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceLine {
    pub tax: LineTax,
    pub base: Decimal,
    pub other_base: Decimal,
    pub vat: Decimal,
}

/// An order's money, whole rupiah: the `orders show --json` breakdown.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Breakdown {
    pub goods_before_ppn: Decimal,
    pub ppn_base: Decimal,
    pub ppn: Decimal,
    pub pph22: Decimal,
    pub pnbp: Decimal,
    pub shipping: Decimal,
    pub total: Decimal,
    /// What the collector keeps: PPh 22, the PPN where it collects it, the PNBP fee.
    pub withheld: Decimal,
    pub net_to_cooperative: Decimal,
    pub payment: PaymentWay,
    pub collector: String,
    /// Lines that match no product of ours, taxed as ordinary goods.
    pub unknown_lines: u32,
}

#[derive(Debug, Clone)]
pub struct TaxRules {
    /// The one currency of every amount (ISO 4217), from `tax.toml`.
    pub currency: String,
    /// The taxable base of ordinary goods as written in `tax.toml` (`11/12`).
    pub taxable_base_text: String,
    headline_percent: Decimal,
    base: (Decimal, Decimal),
    luxury_base: (Decimal, Decimal),
    exempt: HashSet<String>,
    luxury: HashSet<String>,
    /// The ways of paying (`payment.toml`).
    pub routes: super::payment::Routes,
}

/// Whole rupiah, half away from zero: 0.5 becomes 1, -0.5 becomes -1.
pub fn round_rupiah(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
}

impl TaxRules {
    pub fn load(source: &MappingSource) -> Result<Self, MappingError> {
        let (path, text) = source.read(TAX_FILE)?;
        let raw: RawTax = toml::from_str(&text).map_err(|e| MappingError::Invalid {
            path: path.clone(),
            line: e.span().map_or(0, |s| line_of(&text, s.start)),
            reason: e.message().to_owned(),
        })?;
        let invalid = |key: &str, reason: String| {
            let line = text.lines().position(|l| l.trim_start().starts_with(key)).map_or(0, |i| i as u64 + 1);
            MappingError::Invalid { path: path.clone(), line, reason }
        };
        if raw.rounding != "half-away-from-zero" {
            return Err(invalid("rounding", format!("rounding {:?} is not supported; use \"half-away-from-zero\"", raw.rounding)));
        }
        if raw.headline_percent <= Decimal::ZERO || raw.headline_percent >= Decimal::ONE_HUNDRED {
            return Err(invalid("headline_percent", "headline_percent must be between 0 and 100".into()));
        }
        let fraction = |key: &str, s: &str| -> Result<(Decimal, Decimal), MappingError> {
            let parsed = s.split_once('/').and_then(|(n, d)| Some((n.trim().parse::<Decimal>().ok()?, d.trim().parse::<Decimal>().ok()?)));
            match parsed {
                Some((n, d)) if n > Decimal::ZERO && d > Decimal::ZERO && n <= d => Ok((n, d)),
                _ => Err(invalid(key, format!("{key} {s:?} must be a fraction like \"11/12\", at most 1"))),
            }
        };
        if raw.payment.is_some() {
            return Err(invalid("[payment", format!("the [payment.*] rules moved to {}, with each route's papers", super::payment::PAYMENT_FILE)));
        }
        Ok(Self {
            routes: super::payment::Routes::load(source)?,
            currency: raw.currency,
            taxable_base_text: raw.taxable_base.trim().to_owned(),
            headline_percent: raw.headline_percent,
            base: fraction("taxable_base", &raw.taxable_base)?,
            luxury_base: fraction("luxury_taxable_base", &raw.luxury_taxable_base)?,
            exempt: raw.exempt_categories.iter().map(|c| super::table::normalise(c)).collect(),
            luxury: raw.luxury_categories.iter().map(|c| super::table::normalise(c)).collect(),
        })
    }

    /// Prices a product of `category` sold by a seller who is (or is not) PKP.
    pub fn price(&self, price: Decimal, category: &str, seller_pkp: bool) -> Pricing {
        let base = round_rupiah(price);
        let rounded = base != price;
        let untaxed = |category| Pricing { base, tax: Decimal::ZERO, with_tax: base, category, percent: Decimal::ZERO, ppnbm: false, rounded };
        if !seller_pkp {
            return untaxed(TaxCategory::NotSubject);
        }
        if self.exempt.contains(category) {
            return untaxed(TaxCategory::Exempt);
        }
        let ppnbm = self.luxury.contains(category);
        let (num, den) = if ppnbm { self.luxury_base } else { self.base };
        // base * num/den * percent/100, divided once at the end so it stays exact.
        let tax = round_rupiah(base * num * self.headline_percent / (den * Decimal::ONE_HUNDRED));
        Pricing { base, tax, with_tax: base + tax, category: TaxCategory::Standard, percent: self.headline_percent, ppnbm, rounded }
    }
}

impl TaxRules {
    /// The route of one way of paying (`payment.toml`).
    pub fn payment(&self, way: PaymentWay) -> &super::payment::Route {
        self.routes.route(way)
    }

    /// An amount with PPN taken back to its price before PPN, taxed on
    /// `num/den` of it: amount / (1 + h × num/den), divided once so it stays
    /// exact, then rounded.
    fn before_ppn(&self, amount: Decimal, (num, den): (Decimal, Decimal)) -> Decimal {
        let h = self.headline_percent / Decimal::ONE_HUNDRED;
        round_rupiah(amount * den / (den + h * num))
    }

    /// How a line is taxed: by its category, for a seller who is (or is not) PKP.
    fn line_tax(&self, line: &TaxedLine, seller_pkp: bool) -> LineTax {
        match line.category.as_deref().map(super::table::normalise) {
            _ if !seller_pkp => LineTax::NotSubject,
            Some(c) if self.exempt.contains(&c) => LineTax::Exempt,
            Some(c) if self.luxury.contains(&c) => LineTax::Luxury,
            _ => LineTax::Ordinary,
        }
    }

    /// Each line's amounts on a tax invoice, in the order's line order. The
    /// lines' tax bases, other tax bases and PPN add up to what
    /// [`TaxRules::order`] gives the order (its value before PPN, its PPN
    /// base and its PPN): each total is taken as `order` rounds it, and
    /// shared out line by line, the last line of it taking what rounding
    /// left. An exempt line's other base is 11/12 of its price and its PPN
    /// the PPN it is exempt from (`order` counts it as none); a line of a
    /// seller that is not PKP has neither.
    pub fn invoice_lines(&self, lines: &[TaxedLine], seller_pkp: bool) -> Vec<InvoiceLine> {
        let h = self.headline_percent / Decimal::ONE_HUNDRED;
        let kinds: Vec<LineTax> = lines.iter().map(|l| self.line_tax(l, seller_pkp)).collect();
        let fraction = |k: LineTax| if k == LineTax::Luxury { self.luxury_base } else { self.base };
        let before = |amount: Decimal, fraction: (Decimal, Decimal)| self.before_ppn(amount, fraction);
        let of = |wanted: &[LineTax]| (0..lines.len()).filter(|i| wanted.contains(&kinds[*i])).collect::<Vec<usize>>();
        // Shares `total` out over `at` by each line's own rounded figure, the last taking the rest.
        let share = |at: &[usize], total: Decimal, each: &dyn Fn(usize) -> Decimal| -> Vec<Decimal> {
            let mut left = total;
            at.iter()
                .enumerate()
                .map(|(n, i)| {
                    let v = if n + 1 == at.len() { left } else { each(*i) };
                    left -= v;
                    v
                })
                .collect()
        };
        let mut out: Vec<InvoiceLine> =
            kinds.iter().map(|k| InvoiceLine { tax: *k, base: Decimal::ZERO, other_base: Decimal::ZERO, vat: Decimal::ZERO }).collect();
        // Taxed lines: each kind's base and other base as `order` rounds them, then the PPN of both together.
        for kind in [LineTax::Ordinary, LineTax::Luxury] {
            let at = of(&[kind]);
            let (num, den) = fraction(kind);
            let amount: Decimal = at.iter().map(|i| lines[*i].amount).sum();
            let base_total = before(amount, (num, den));
            let bases = share(&at, base_total, &|i| before(lines[i].amount, (num, den)));
            for (i, b) in at.iter().zip(&bases) {
                out[*i].base = *b;
            }
            let others = share(&at, round_rupiah(base_total * num / den), &|i| round_rupiah(out[i].base * num / den));
            for (i, o) in at.iter().zip(others) {
                out[*i].other_base = o;
            }
        }
        let taxed = of(&[LineTax::Ordinary, LineTax::Luxury]);
        let other_total: Decimal = taxed.iter().map(|i| out[*i].other_base).sum();
        let vats = share(&taxed, round_rupiah(other_total * h), &|i| round_rupiah(out[i].other_base * h));
        for (i, v) in taxed.iter().zip(vats) {
            out[*i].vat = v;
        }
        for i in of(&[LineTax::Exempt, LineTax::NotSubject]) {
            out[i].base = lines[i].amount;
            if kinds[i] == LineTax::Exempt {
                out[i].other_base = round_rupiah(lines[i].amount * self.base.0 / self.base.1);
                out[i].vat = round_rupiah(out[i].other_base * h);
            }
        }
        out
    }

    /// An order's money from its lines (PPN included), its shipping and its
    /// total, for a seller who is (or is not) PKP, paid `way`.
    pub fn order(&self, lines: &[TaxedLine], seller_pkp: bool, shipping: Decimal, total: Decimal, way: PaymentWay) -> Breakdown {
        let (mut untaxed, mut ordinary, mut luxury, mut unknown_lines) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, 0u32);
        for line in lines {
            match self.line_tax(line, seller_pkp) {
                LineTax::NotSubject | LineTax::Exempt => untaxed += line.amount,
                LineTax::Luxury => luxury += line.amount,
                LineTax::Ordinary => {
                    unknown_lines += u32::from(line.category.is_none());
                    ordinary += line.amount;
                }
            }
        }
        let h = self.headline_percent / Decimal::ONE_HUNDRED;
        let ordinary_before = self.before_ppn(ordinary, self.base);
        let luxury_before = self.before_ppn(luxury, self.luxury_base);
        let goods_before_ppn = untaxed + ordinary_before + luxury_before;
        let ppn_base = round_rupiah(ordinary_before * self.base.0 / self.base.1) + round_rupiah(luxury_before * self.luxury_base.0 / self.luxury_base.1);
        let ppn = round_rupiah(ppn_base * h);
        let rule = self.payment(way);
        let pph22 =
            if goods_before_ppn > rule.pph22_above { round_rupiah(goods_before_ppn * rule.pph22_percent / Decimal::ONE_HUNDRED) } else { Decimal::ZERO };
        let pnbp = round_rupiah(goods_before_ppn * rule.pnbp_percent / Decimal::ONE_HUNDRED);
        let withheld = pph22 + pnbp + if rule.ppn_withheld { ppn } else { Decimal::ZERO };
        // Whole rupiah, written without decimals.
        let whole = |d: Decimal| round_rupiah(d).normalize();
        let (shipping, total) = (whole(shipping), whole(total));
        Breakdown {
            goods_before_ppn: whole(goods_before_ppn),
            ppn_base: whole(ppn_base),
            ppn: whole(ppn),
            pph22: whole(pph22),
            pnbp: whole(pnbp),
            shipping,
            total,
            withheld: whole(withheld),
            net_to_cooperative: whole(total - withheld),
            payment: way,
            collector: rule.collector.clone(),
            unknown_lines,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn rules() -> TaxRules {
        TaxRules::load(&MappingSource::BuiltIn).unwrap()
    }

    #[test]
    fn rounding_is_half_away_from_zero_at_the_half_rupiah() {
        assert_eq!(round_rupiah(dec!(12500.50)), dec!(12501));
        assert_eq!(round_rupiah(dec!(12500.49)), dec!(12500));
        assert_eq!(round_rupiah(dec!(12499.5)), dec!(12500));
        assert_eq!(round_rupiah(dec!(-0.5)), dec!(-1));
    }

    #[test]
    fn pkp_seller_pays_12_percent_on_eleven_twelfths() {
        let p = rules().price(dec!(18000), "minyak goreng", true);
        assert_eq!((p.base, p.tax, p.with_tax, p.category, p.percent), (dec!(18000), dec!(1980), dec!(19980), TaxCategory::Standard, dec!(12)));
        // 4550 * 11% = 500.5: the tax itself rounds half away from zero
        assert_eq!(rules().price(dec!(4550), "kecap", true).tax, dec!(501));
        // a price with sen is rounded first, and flagged
        let p = rules().price(dec!(12500.50), "kecap", true);
        assert_eq!((p.base, p.rounded), (dec!(12501), true));
    }

    /// Cases worked by hand from the rules (PPN 12 % on a base of 11/12 of the
    /// price; exempt staples; non-PKP sellers; whole rupiah, half away from zero).
    #[test]
    fn hand_computed_prices() {
        let r = rules();
        // (price, category, PKP) -> (price incl. tax, tax, category)
        let cases = [
            // 18000 * 11/12 = 16500; 16500 * 12 % = 1980
            (dec!(18000), "minyak goreng", true, dec!(19980), dec!(1980), TaxCategory::Standard),
            // 4550 * 11/12 = 4170.83..; * 12 % = 500.5 -> 501
            (dec!(4550), "kecap", true, dec!(5051), dec!(501), TaxCategory::Standard),
            // 1 * 11 % = 0.11 -> 0: the smallest price carries no tax
            (dec!(1), "kecap", true, dec!(1), dec!(0), TaxCategory::Standard),
            // 5 * 11 % = 0.55 -> 1
            (dec!(5), "kecap", true, dec!(6), dec!(1), TaxCategory::Standard),
            // 475000 * 11 % = 52250
            (dec!(475000), "batik tulis", true, dec!(527250), dec!(52250), TaxCategory::Standard),
            // 999999999999 * 11 % = 109999999999.89 -> 110000000000
            (dec!(999999999999), "sepatu kulit", true, dec!(1109999999999), dec!(110000000000), TaxCategory::Standard),
            // rice and sugar are exempt staples, whoever sells them
            (dec!(74500), "beras", true, dec!(74500), dec!(0), TaxCategory::Exempt),
            (dec!(17500), "gula pasir", true, dec!(17500), dec!(0), TaxCategory::Exempt),
            // a non-PKP seller charges no PPN on anything
            (dec!(18000), "minyak goreng", false, dec!(18000), dec!(0), TaxCategory::NotSubject),
            // a price with sen is rounded to the rupiah first: 12500.50 -> 12501; * 11 % = 1375.11 -> 1375
            (dec!(12500.50), "kecap", true, dec!(13876), dec!(1375), TaxCategory::Standard),
        ];
        for (price, category, pkp, with_tax, tax, kind) in cases {
            let p = r.price(price, category, pkp);
            assert_eq!((p.with_tax, p.tax, p.category), (with_tax, tax, kind), "{price} {category} pkp={pkp}");
        }
        // An order of 3 x 18000 (taxed) and 2.5 kg x 17500 (exempt), by hand: 3 * 19980 + 2.5 * 17500 = 103690.
        let total = dec!(3) * r.price(dec!(18000), "minyak goreng", true).with_tax + dec!(2.5) * r.price(dec!(17500), "gula pasir", true).with_tax;
        assert_eq!(total, dec!(103690));
    }

    #[test]
    fn staples_are_exempt_and_non_pkp_sellers_charge_nothing() {
        let p = rules().price(dec!(74500), "beras", true);
        assert_eq!((p.tax, p.category, p.percent), (dec!(0), TaxCategory::Exempt, dec!(0)));
        let p = rules().price(dec!(18000), "minyak goreng", false);
        assert_eq!((p.tax, p.category), (dec!(0), TaxCategory::NotSubject));
    }

    fn money() -> impl Strategy<Value = Decimal> {
        (1i64..100_000_000_000, 0u32..=2).prop_map(|(units, scale)| Decimal::new(units, scale))
    }

    const CATEGORIES: &[&str] = &["beras", "gula pasir", "minyak goreng", "batik tulis", "telur", "sepatu kulit"];

    proptest! {
        #[test]
        fn price_with_tax_is_never_below_the_base(price in money(), cat in 0..CATEGORIES.len(), pkp: bool) {
            let p = rules().price(price, CATEGORIES[cat], pkp);
            prop_assert!(p.with_tax >= p.base);
            prop_assert!(p.tax >= Decimal::ZERO);
            // never more than the headline 12 % of the price, rounding included
            prop_assert!(p.tax <= (p.base * dec!(0.12)).ceil());
            prop_assert_eq!(p.base.fract(), Decimal::ZERO);
            prop_assert_eq!(p.with_tax.fract(), Decimal::ZERO);
            prop_assert_eq!(p.tax.fract(), Decimal::ZERO);
        }

        #[test]
        fn exempt_and_non_pkp_add_no_tax(price in money(), cat in 0..CATEGORIES.len()) {
            let r = rules();
            let p = r.price(price, CATEGORIES[cat], false);
            prop_assert_eq!(p.tax, Decimal::ZERO);
            for exempt in ["beras", "gula pasir", "telur"] {
                prop_assert_eq!(r.price(price, exempt, true).tax, Decimal::ZERO);
            }
        }

        #[test]
        fn standard_tax_is_eleven_percent_within_half_a_rupiah(price in money()) {
            let p = rules().price(price, "minyak goreng", true);
            let exact = p.base * dec!(0.11);
            prop_assert!((p.tax - exact).abs() <= dec!(0.5));
        }

        /// An order's invoice lines add up to its breakdown, computed by
        /// `order` over the whole order at once.
        #[test]
        fn invoice_lines_add_up_to_the_orders_breakdown(
            lines in proptest::collection::vec((1i64..50_000_000, 0..CATEGORIES.len() + 1), 1..12),
            pkp: bool,
        ) {
            let r = rules();
            let taxed: Vec<TaxedLine> = lines
                .iter()
                .map(|(amount, c)| TaxedLine { amount: Decimal::from(*amount), category: CATEGORIES.get(*c).map(|c| (*c).to_owned()) })
                .collect();
            let b = r.order(&taxed, pkp, Decimal::ZERO, taxed.iter().map(|l| l.amount).sum(), PaymentWay::UpVa);
            let inv = r.invoice_lines(&taxed, pkp);
            let sum = |f: &dyn Fn(&InvoiceLine) -> Decimal, kinds: &[LineTax]| inv.iter().filter(|l| kinds.contains(&l.tax)).map(f).sum::<Decimal>();
            let all = [LineTax::Ordinary, LineTax::Luxury, LineTax::Exempt, LineTax::NotSubject];
            prop_assert_eq!(sum(&|l| l.base, &all), b.goods_before_ppn);
            prop_assert_eq!(sum(&|l| l.other_base, &[LineTax::Ordinary, LineTax::Luxury]), b.ppn_base);
            prop_assert_eq!(sum(&|l| l.vat, &[LineTax::Ordinary, LineTax::Luxury]), b.ppn);
            prop_assert!(inv.iter().all(|l| l.base.fract().is_zero() && l.other_base.fract().is_zero() && l.vat.fract().is_zero()));
            prop_assert!(inv.iter().all(|l| l.vat >= Decimal::ZERO && l.other_base <= l.base));
        }
    }
}
