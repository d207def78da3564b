//! `report monthly`: per cooperative, the month's orders, their value, PPN,
//! PPh 22, how many were delivered, what was paid and what is outstanding;
//! and for the liaison the city's spending through its cooperatives by work
//! unit. Each row also gives the purchase plan's figures of the month
//! (`store::rup::window_figures`): the budget of matched packages whose
//! choosing begins in it, the value won by our cooperatives and lost to
//! other sellers in it, and the share won. CSV or XLSX (headings in Bahasa Indonesia, amounts as numbers, text
//! neutralised as in the exports).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use super::export::neutralise;
use super::fulfilment::Standing;
use crate::domain::fulfilment::Step;

/// A month as `YYYY-MM`, with its bounds in Jakarta.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Month(pub NaiveDate);

impl std::str::FromStr for Month {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        NaiveDate::parse_from_str(&format!("{}-01", s.trim()), "%Y-%m-%d")
            .map(Month)
            .map_err(|_| format!("{s:?} is not a month: write it as YYYY-MM, e.g. 2026-11"))
    }
}

impl Month {
    /// `[first day 00.00 WIB, first day of the next month 00.00 WIB)` in UTC.
    pub fn bounds(self) -> (DateTime<Utc>, DateTime<Utc>) {
        let next =
            if self.0.month() == 12 { NaiveDate::from_ymd_opt(self.0.year() + 1, 1, 1) } else { NaiveDate::from_ymd_opt(self.0.year(), self.0.month() + 1, 1) }
                .unwrap_or(self.0);
        // Jakarta has no daylight saving: every midnight exists.
        let at = |d: NaiveDate| crate::domain::time::start_of_day(d).unwrap_or_else(Utc::now);
        (at(self.0), at(next))
    }

    pub fn label(self) -> String {
        self.0.format("%Y-%m").to_string()
    }
}

/// One row of the report: a cooperative, a work unit, or the total.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Row {
    /// `koperasi`, `satker` or `total`.
    pub part: &'static str,
    pub code: String,
    pub name: String,
    pub orders: u64,
    pub value: Decimal,
    pub goods_before_ppn: Decimal,
    pub ppn: Decimal,
    pub pph22: Decimal,
    pub delivered: u64,
    pub paid: Decimal,
    pub outstanding: Decimal,
    /// The plan's budget matched to the row, of packages whose choosing begins this month.
    pub rup_matched: Decimal,
    /// Orders of matched plan packages won by our cooperatives this month.
    pub rup_won: Decimal,
    /// Matched plan packages bought from other sellers this month.
    pub rup_lost: Decimal,
    /// Days from the BAST to the payment of each order paid.
    #[serde(skip)]
    pub days_to_pay: Vec<i64>,
}

impl Row {
    fn add(&mut self, s: &Standing) {
        self.orders += 1;
        self.value += s.money.total;
        self.goods_before_ppn += s.money.goods_before_ppn;
        self.ppn += s.money.ppn;
        self.pph22 += s.money.pph22;
        self.delivered += u64::from(s.steps.contains_key(&Step::Delivered));
        self.paid += s.steps.get(&Step::Paid).and_then(|d| d.amount).unwrap_or_default();
        self.outstanding += s.outstanding;
        self.days_to_pay.extend(s.days_to_pay);
    }

    /// The median and the longest days to pay of its orders paid.
    pub fn days(&self) -> Option<(Decimal, i64)> {
        days_summary(&self.days_to_pay)
    }
}

/// The median (the mean of the two middle ones for an even count) and the
/// longest of some days.
pub fn days_summary(days: &[i64]) -> Option<(Decimal, i64)> {
    let mut d = days.to_vec();
    d.sort_unstable();
    let n = d.len();
    let max = *d.last()?;
    let median = if n % 2 == 1 { Decimal::from(d[n / 2]) } else { (Decimal::from(d[n / 2 - 1]) + Decimal::from(d[n / 2])) / Decimal::TWO };
    Some((median, max))
}

/// Days to pay per work unit, slowest first: (work unit, orders paid, median, longest).
pub fn days_to_pay_by_unit(standings: &[Standing]) -> Vec<(String, usize, Decimal, i64)> {
    let mut by: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for s in standings {
        if let Some(d) = s.days_to_pay {
            by.entry(s.buyer.clone().unwrap_or_else(|| "(tanpa nama satker)".into())).or_default().push(d);
        }
    }
    let mut rows: Vec<(String, usize, Decimal, i64)> =
        by.into_iter().filter_map(|(unit, days)| days_summary(&days).map(|(median, max)| (unit, days.len(), median, max))).collect();
    rows.sort_by(|a, b| b.2.cmp(&a.2).then(b.3.cmp(&a.3)).then(a.0.cmp(&b.0)));
    rows
}

/// The month's report of `cooperative` (or all) as stored, on `today`:
/// its rows and how many orders they cover.
pub async fn month(
    store: &crate::store::Store,
    rules: &crate::mapping::tax::TaxRules,
    settings: &crate::config::FulfilmentSettings,
    month: Month,
    cooperative: Option<&str>,
) -> Result<(Vec<Row>, usize), crate::store::StoreError> {
    let filter = crate::store::orders::FactsFilter { cooperative, made: Some(month.bounds()), live_only: true, ..Default::default() };
    let facts = crate::store::orders::facts(store, &filter).await?;
    let today = crate::domain::time::today();
    let standings: Vec<_> =
        facts.iter().map(|f| (super::fulfilment::standing(f, rules, settings, today), f.cooperative_name.clone(), f.buyer_code.clone())).collect();
    let mut rows = monthly(&standings);
    let figures = crate::store::rup::window_figures(store, month.bounds(), cooperative).await?;
    with_plan(&mut rows, figures);
    Ok((rows, facts.len()))
}

/// Adds the plan's figures to their rows (by part and code, a work unit by
/// its name), a row made for a cooperative or work unit with figures but no
/// order this month; the total last.
fn with_plan(rows: &mut Vec<Row>, figures: Vec<crate::store::rup::WindowFigures>) {
    for f in figures {
        let empty = f.matched.is_zero() && f.won.is_zero() && f.lost.is_zero();
        let part: &'static str = match f.part.as_str() {
            "koperasi" => "koperasi",
            "satker" => "satker",
            _ => "total",
        };
        let found =
            rows.iter().position(|r| r.part == part && (part == "total" || (part == "satker" && r.name == f.key) || (part == "koperasi" && r.code == f.key)));
        let at = match found {
            Some(i) => i,
            None if empty => continue,
            None => {
                let before = rows.iter().position(|r| r.part == "total" || (part == "koperasi" && r.part == "satker")).unwrap_or(rows.len());
                let code = if part == "koperasi" { f.key.clone() } else { String::new() };
                rows.insert(before, Row { part, code, name: f.name.clone(), ..Row::default() });
                before
            }
        };
        rows[at].rup_matched = f.matched;
        rows[at].rup_won = f.won;
        rows[at].rup_lost = f.lost;
    }
}

/// The month's rows: each cooperative (with its name), then each work unit, then the total.
pub fn monthly(orders: &[(Standing, String, Option<String>)]) -> Vec<Row> {
    let mut cooperatives: BTreeMap<String, Row> = BTreeMap::new();
    let mut buyers: BTreeMap<String, Row> = BTreeMap::new();
    let mut total = Row { part: "total", code: String::new(), name: "Jumlah".into(), ..Row::default() };
    for (s, cooperative_name, buyer_code) in orders {
        cooperatives
            .entry(s.cooperative.clone())
            .or_insert_with(|| Row { part: "koperasi", code: s.cooperative.clone(), name: cooperative_name.clone(), ..Row::default() })
            .add(s);
        let buyer = s.buyer.clone().unwrap_or_else(|| "(tanpa nama satker)".into());
        buyers
            .entry(buyer.clone())
            .or_insert_with(|| Row { part: "satker", code: buyer_code.clone().unwrap_or_default(), name: buyer, ..Row::default() })
            .add(s);
        total.add(s);
    }
    cooperatives.into_values().chain(buyers.into_values()).chain(std::iter::once(total)).collect()
}

pub const HEADINGS: [&str; 17] = [
    "Bagian",
    "Kode",
    "Nama",
    "Pesanan",
    "Nilai pesanan",
    "Nilai sebelum PPN",
    "PPN",
    "PPh 22",
    "Diterima pembeli",
    "Dibayar",
    "Belum dibayar",
    "Pagu RUP cocok",
    "RUP dimenangkan",
    "RUP dibeli dari penyedia lain",
    "Porsi koperasi (%)",
    "Hari BAST sampai bayar (median)",
    "Hari BAST sampai bayar (terlama)",
];

enum Cell {
    Text(String),
    Number(Decimal),
    /// A percentage (not rupiah).
    Percent(Decimal),
    /// A count of days.
    Days(Decimal),
}

fn cells(r: &Row) -> [Cell; 17] {
    let days = r.days();
    [
        Cell::Text(r.part.into()),
        Cell::Text(r.code.clone()),
        Cell::Text(r.name.clone()),
        Cell::Number(Decimal::from(r.orders)),
        Cell::Number(r.value),
        Cell::Number(r.goods_before_ppn),
        Cell::Number(r.ppn),
        Cell::Number(r.pph22),
        Cell::Number(Decimal::from(r.delivered)),
        Cell::Number(r.paid),
        Cell::Number(r.outstanding),
        Cell::Number(r.rup_matched),
        Cell::Number(r.rup_won),
        Cell::Number(r.rup_lost),
        match crate::rup::report::share(r.rup_won, r.rup_lost) {
            Some(s) => Cell::Percent(s),
            None => Cell::Text(String::new()),
        },
        days.map_or(Cell::Text(String::new()), |d| Cell::Days(d.0)),
        days.map_or(Cell::Text(String::new()), |d| Cell::Days(Decimal::from(d.1))),
    ]
}

pub fn write_csv(out: impl Write, rows: &[Row]) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(HEADINGS)?;
    for r in rows {
        w.write_record(cells(r).iter().map(|c| match c {
            Cell::Text(t) => neutralise(t).into_owned(),
            Cell::Number(d) | Cell::Percent(d) | Cell::Days(d) => d.normalize().to_string(),
        }))?;
    }
    w.flush()?;
    Ok(())
}

pub fn write_xlsx(path: &Path, month: Month, rows: &[Row]) -> Result<(), rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(format!("Laporan {}", month.label()))?;
    let money = rust_xlsxwriter::Format::new().set_num_format(super::export::RUPIAH_FORMAT);
    let percent = rust_xlsxwriter::Format::new().set_num_format("0.0");
    for (col, h) in HEADINGS.iter().enumerate() {
        sheet.write_string(0, col as u16, *h)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
        for (col, c) in cells(r).iter().enumerate() {
            match c {
                Cell::Text(t) => {
                    sheet.write_string(row, col as u16, neutralise(t))?;
                }
                Cell::Number(d) => {
                    sheet.write_with_format(row, col as u16, *d, &money)?;
                }
                Cell::Percent(d) | Cell::Days(d) => {
                    sheet.write_with_format(row, col as u16, *d, &percent)?;
                }
            }
        }
    }
    sheet.autofit();
    book.save(path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_the_middle_day_or_the_mean_of_the_two_middle_ones() {
        assert_eq!(days_summary(&[]), None);
        assert_eq!(days_summary(&[30, 3, 12]), Some((Decimal::from(12), 30)));
        assert_eq!(days_summary(&[40, 3, 12, 7]), Some((Decimal::new(95, 1), 40)), "(7 + 12) / 2");
    }
}
