//! `orders export`: a cooperative's orders and their lines, one row per line,
//! as CSV or XLSX for its staff. A text cell that a spreadsheet would take
//! for a formula (it begins with `=`, `+`, `-`, `@`, a tab, a carriage
//! return or a line feed, or with one of the four signs after leading
//! spaces, or with their full-width forms `＝＋－＠`, which spreadsheets
//! also read as formula starts: the OWASP CSV-injection rules and beyond) is
//! neutralised with a leading `'`, in CSV and XLSX alike; amounts and
//! quantities stay numbers.

use std::io::Write;
use std::path::Path;

use rust_decimal::Decimal;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

pub use crate::store::orders::ExportRow as Row;

pub const HEADINGS: [&str; 20] = [
    "order_id",
    "status",
    "order_date",
    "confirm_by",
    "buyer",
    "order_total",
    "line_id",
    "sku",
    "item",
    "quantity",
    "unit",
    "unit_price",
    "line_total",
    "member",
    "goods_before_ppn",
    "ppn_base",
    "ppn",
    "pph22",
    "shipping",
    "net_to_cooperative",
];

/// A cooperative's export rows (orders made since `since`, when given), each
/// with its order's money: what `orders export` and the dashboard's download write.
pub async fn rows(
    store: &crate::store::Store,
    rules: &crate::mapping::tax::TaxRules,
    fulfilment: &crate::config::FulfilmentSettings,
    cooperative: &str,
    since: Option<chrono::NaiveDate>,
) -> Result<Vec<Row>, crate::store::StoreError> {
    let mut rows = crate::store::orders::export_rows(store, cooperative, since).await?;
    let money = super::fulfilment::money_by_order(store, rules, fulfilment, Some(cooperative)).await?;
    for r in &mut rows {
        r.money = money.get(&r.order_id).cloned();
    }
    Ok(rows)
}

/// A text as a spreadsheet must not take it for a formula.
pub fn neutralise(text: &str) -> std::borrow::Cow<'_, str> {
    const SIGNS: [char; 8] = ['=', '+', '-', '@', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}'];
    // Spaces (any Unicode white space, the ideographic one included) before a
    // sign do not stop a spreadsheet from reading a formula.
    let first_visible = text.trim_start_matches(|c: char| c.is_whitespace() && !matches!(c, '\t' | '\r' | '\n'));
    if text.starts_with(['\t', '\r', '\n']) || first_visible.starts_with(SIGNS) { format!("'{text}").into() } else { text.into() }
}

/// A cell: text (neutralised when written), a number, an amount of rupiah
/// or a moment (in Jakarta time).
enum Cell<'a> {
    Text(std::borrow::Cow<'a, str>),
    Number(Decimal),
    Rupiah(Decimal),
    Time(chrono::DateTime<chrono::Utc>),
    Empty,
}

fn text(s: Option<&str>) -> Cell<'_> {
    s.map_or(Cell::Empty, |s| Cell::Text(s.into()))
}

fn cells(r: &Row) -> Vec<Cell<'_>> {
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| t.map_or(Cell::Empty, Cell::Time);
    let num = |d: Option<Decimal>| d.map_or(Cell::Empty, |d| Cell::Number(d.normalize()));
    let rupiah = |d: Option<Decimal>| d.map_or(Cell::Empty, |d| Cell::Rupiah(d.normalize()));
    vec![
        Cell::Text(r.order_id.as_str().into()),
        Cell::Text(r.status.as_str().into()),
        time(r.order_date),
        time(r.deadline),
        text(r.buyer.as_deref()),
        Cell::Rupiah(r.order_total.normalize()),
        text(r.line_id.as_deref()),
        text(r.sku.as_deref()),
        text(r.item.as_deref()),
        num(r.quantity),
        text(r.unit.as_deref()),
        rupiah(r.unit_price),
        rupiah(r.line_total),
        text(r.member.as_deref()),
        rupiah(r.money.as_ref().map(|m| m.goods_before_ppn)),
        rupiah(r.money.as_ref().map(|m| m.ppn_base)),
        rupiah(r.money.as_ref().map(|m| m.ppn)),
        rupiah(r.money.as_ref().map(|m| m.pph22)),
        rupiah(r.money.as_ref().map(|m| m.shipping)),
        rupiah(r.money.as_ref().map(|m| m.net_to_cooperative)),
    ]
}

pub fn write_csv(out: impl Write, rows: &[Row]) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(HEADINGS)?;
    for r in rows {
        let record: Vec<String> = cells(r)
            .into_iter()
            .map(|c| match c {
                Cell::Text(t) => neutralise(&t).into_owned(),
                Cell::Number(d) | Cell::Rupiah(d) => d.to_string(),
                Cell::Time(t) => crate::domain::time::show(t),
                Cell::Empty => String::new(),
            })
            .collect();
        w.write_record(&record)?;
    }
    w.flush()?;
    Ok(())
}

/// How an amount of rupiah shows: whole rupiah with thousands grouped (the
/// cell keeps its exact value).
pub const RUPIAH_FORMAT: &str = "#,##0";
/// How a moment shows: a date and time in Jakarta (the cell is a date).
pub const TIME_FORMAT: &str = "yyyy-mm-dd hh:mm";

/// A moment as a spreadsheet date: its date and time in Jakarta.
fn excel_time(t: chrono::DateTime<chrono::Utc>) -> Result<rust_xlsxwriter::ExcelDateTime, rust_xlsxwriter::XlsxError> {
    use chrono::{Datelike, Timelike};
    let local = t.with_timezone(&chrono_tz::Asia::Jakarta);
    let year = u16::try_from(local.year()).map_err(|_| rust_xlsxwriter::XlsxError::ParameterError(format!("year {} out of range", local.year())))?;
    rust_xlsxwriter::ExcelDateTime::from_ymd(year, local.month() as u8, local.day() as u8)?.and_hms(local.hour() as u16, local.minute() as u8, local.second())
}

pub fn write_xlsx(path: &Path, rows: &[Row]) -> Result<(), rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let rupiah = rust_xlsxwriter::Format::new().set_num_format(RUPIAH_FORMAT);
    let moment = rust_xlsxwriter::Format::new().set_num_format(TIME_FORMAT);
    let sheet = book.add_worksheet_with_constant_memory()?;
    sheet.set_name("Pesanan")?;
    for (col, h) in HEADINGS.iter().enumerate() {
        sheet.write_string(0, col as u16, *h)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
        for (col, c) in cells(r).into_iter().enumerate() {
            match c {
                Cell::Text(t) => {
                    sheet.write_string(row, col as u16, neutralise(&t))?;
                }
                Cell::Number(d) => {
                    sheet.write(row, col as u16, d)?;
                }
                Cell::Rupiah(d) => {
                    sheet.write_with_format(row, col as u16, d, &rupiah)?;
                }
                Cell::Time(t) => {
                    sheet.write_datetime_with_format(row, col as u16, excel_time(t)?, &moment)?;
                }
                Cell::Empty => {}
            }
        }
    }
    book.save(path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::neutralise;

    #[test]
    fn formulas_are_neutralised_and_other_text_kept() {
        for bad in [
            "=HYPERLINK(\"http://x\")",
            "+1+1",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "\nx",
            " =spaced",
            "   +1",
            "\u{3000}=CMD()",
            "\u{FF1D}HYPERLINK(\"http://x\")",
            " \u{FF0B}1",
            "\u{FF0D}1",
            "\u{FF20}SUM(A1)",
        ] {
            assert_eq!(neutralise(bad), format!("'{bad}"), "{bad:?}");
        }
        for ok in ["Beras 5 kg", "'already", "a =b", "Rp 12.500", "  Beras", ""] {
            assert_eq!(neutralise(ok), ok);
        }
    }
}
