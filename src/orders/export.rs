//! `orders export`: a cooperative's orders and their lines, one row per line,
//! as CSV or XLSX for its staff. A text cell that a spreadsheet would take
//! for a formula (it begins with `=`, `+`, `-`, `@`, a tab or a carriage
//! return: the OWASP CSV-injection rules) is neutralised with a leading `'`,
//! in CSV and XLSX alike; amounts and quantities stay numbers.

use std::io::Write;
use std::path::Path;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::store::{Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write {path}: {detail}")]
    Write { path: String, detail: String },
}

/// One line of an order, with its order's fields.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub order_id: String,
    pub status: String,
    pub order_date: Option<chrono::DateTime<chrono::Utc>>,
    pub deadline: Option<chrono::DateTime<chrono::Utc>>,
    pub buyer: Option<String>,
    pub order_total: Decimal,
    pub line_id: Option<String>,
    pub sku: Option<String>,
    pub item: Option<String>,
    pub quantity: Option<Decimal>,
    pub unit: Option<String>,
    pub unit_price: Option<Decimal>,
    pub line_total: Option<Decimal>,
    pub member: Option<String>,
}

pub const HEADINGS: [&str; 14] = [
    "order_id", "status", "order_date", "confirm_by", "buyer", "order_total", "line_id", "sku", "item", "quantity", "unit", "unit_price",
    "line_total", "member",
];

/// A text as a spreadsheet must not take it for a formula.
pub fn neutralise(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

/// A cell: text (neutralised when written) or a number.
enum Cell<'a> {
    Text(std::borrow::Cow<'a, str>),
    Number(Decimal),
    Empty,
}

fn text(s: Option<&str>) -> Cell<'_> {
    s.map_or(Cell::Empty, |s| Cell::Text(s.into()))
}

fn cells(r: &Row) -> Vec<Cell<'_>> {
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| t.map_or(Cell::Empty, |t| Cell::Text(crate::domain::time::show(t).into()));
    let num = |d: Option<Decimal>| d.map_or(Cell::Empty, |d| Cell::Number(d.normalize()));
    vec![
        Cell::Text(r.order_id.as_str().into()),
        Cell::Text(r.status.as_str().into()),
        time(r.order_date),
        time(r.deadline),
        text(r.buyer.as_deref()),
        Cell::Number(r.order_total.normalize()),
        text(r.line_id.as_deref()),
        text(r.sku.as_deref()),
        text(r.item.as_deref()),
        num(r.quantity),
        text(r.unit.as_deref()),
        num(r.unit_price),
        num(r.line_total),
        text(r.member.as_deref()),
    ]
}

pub async fn rows(store: &Store, cooperative: &str, since: Option<NaiveDate>) -> Result<Vec<Row>, StoreError> {
    let since = since.and_then(|d| d.and_hms_opt(0, 0, 0)).and_then(|d| {
        use chrono::TimeZone;
        chrono_tz::Asia::Jakarta.from_local_datetime(&d).single().map(|t| t.with_timezone(&chrono::Utc))
    });
    Ok(sqlx::query_as(
        "SELECT o.remote_order_id AS order_id, o.status, o.order_date, o.deadline, o.nama_satker AS buyer, o.total AS order_total,
                l.remote_line_id AS line_id, l.sku, l.description AS item, l.quantity, l.unit, l.unit_price, l.line_total, m.code AS member
         FROM purchase_orders o JOIN cooperatives c ON c.id = o.cooperative_id
         LEFT JOIN order_lines l ON l.order_id = o.id LEFT JOIN members m ON m.id = l.member_id
         WHERE c.code = $1 AND ($2::timestamptz IS NULL OR o.order_date >= $2)
         ORDER BY o.order_date, o.remote_order_id, l.remote_line_id",
    )
    .bind(cooperative)
    .bind(since)
    .fetch_all(store.pool())
    .await?)
}

pub fn write_csv(out: impl Write, rows: &[Row]) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(HEADINGS)?;
    for r in rows {
        let record: Vec<String> = cells(r)
            .into_iter()
            .map(|c| match c {
                Cell::Text(t) => neutralise(&t).into_owned(),
                Cell::Number(d) => d.to_string(),
                Cell::Empty => String::new(),
            })
            .collect();
        w.write_record(&record)?;
    }
    w.flush()?;
    Ok(())
}

pub fn write_xlsx(path: &Path, rows: &[Row]) -> Result<(), rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
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
        for bad in ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(bad), format!("'{bad}"));
        }
        for ok in ["Beras 5 kg", "'already", " =spaced", ""] {
            assert_eq!(neutralise(ok), ok);
        }
    }
}
