//! Coretax's list of a cooperative's output tax invoices (e-Faktur > Pajak
//! Keluaran, downloaded as XLSX or CSV), read as `coretax.toml [export]`
//! says: each row's number, reference (the order's catalogue id, which
//! `orders faktur` writes as `RefDesc`), status and day. A row that cannot
//! be read is reported with its row and column while the others are read.
//! The file is checked as any import is (`intake::source`) and read on a
//! blocking thread.

use std::path::Path;

use chrono::NaiveDate;

use crate::intake::ImportError;
use crate::intake::source::{Cell, RawRow};
use crate::mapping::coretax::Export;
use crate::payments::RowProblem;

/// Rows searched for the header.
const HEADER_WITHIN: u64 = 50;
/// Rows read from one list at most (a cooperative's year is a few hundred invoices).
pub const MAX_ROWS: usize = 50_000;

/// A tax invoice as the list gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedRow {
    pub line: u64,
    /// Its digits.
    pub number: String,
    /// The order's catalogue id, as the reference was written.
    pub reference: String,
    pub status: String,
    pub issued: bool,
    pub on: Option<NaiveDate>,
}

/// What the list holds.
#[derive(Debug, Default)]
pub struct IssuedList {
    pub rows: Vec<IssuedRow>,
    pub problems: Vec<RowProblem>,
    /// The number's and the reference's columns as a problem names them.
    pub number_column: String,
    pub reference_column: String,
}

#[derive(Debug, thiserror::Error)]
pub enum IssuedError {
    #[error(transparent)]
    File(#[from] ImportError),
    #[error(
        "{path}: no header row naming a tax invoice number, a reference and a status in its first {HEADER_WITHIN} rows; download the list from Coretax's e-Faktur > Pajak Keluaran, or add its headers to coretax.toml [export.columns]"
    )]
    NoHeader { path: String },
    #[error("{path}: more than {MAX_ROWS} rows: download the list one tax period at a time")]
    TooMany { path: String },
}

impl IssuedError {
    /// In Bahasa Indonesia, for the page; the file named as the user knows it.
    pub fn in_indonesian(&self, file: &str) -> String {
        match self {
            Self::File(e) => e.in_indonesian(file),
            Self::NoHeader { .. } => format!(
                "{file}: tidak ada baris judul dengan kolom nomor faktur, referensi dan status di {HEADER_WITHIN} baris pertama. Unduh daftar dari Coretax (e-Faktur > Pajak Keluaran)."
            ),
            Self::TooMany { .. } => format!("{file}: lebih dari {MAX_ROWS} baris: unduh daftar per masa pajak."),
        }
    }
}

struct Columns {
    number: usize,
    reference: usize,
    status: usize,
    date: Option<usize>,
    names: Vec<String>,
}

fn find_columns(export: &Export, row: &RawRow) -> Option<Columns> {
    let names: Vec<String> = row.cells.iter().map(|c| c.display().trim().to_owned()).collect();
    let at = |h: &crate::mapping::table::Headers| names.iter().position(|n| h.matches(n));
    Some(Columns { number: at(&export.number)?, reference: at(&export.reference)?, status: at(&export.status)?, date: at(&export.date), names })
}

impl Columns {
    fn name(&self, column: usize) -> String {
        format!("{} ({})", crate::intake::columns::letter(column), self.names.get(column).map_or("", String::as_str))
    }
}

/// Reads the list: every row with a number, the rows that cannot be read.
pub async fn read(path: &Path, export: &Export, settings: &crate::config::ImportSettings) -> Result<IssuedList, IssuedError> {
    let shown = path.display().to_string();
    let limits = crate::intake::workbook::WorkbookLimits::from_settings(settings);
    let (_, mut rows) = crate::intake::source::open(path, None, settings.max_file_bytes, limits)?;
    let mut columns: Option<Columns> = None;
    let mut list = IssuedList::default();
    while let Some(row) = rows.recv().await {
        let row = row?;
        let Some(c) = &columns else {
            columns = find_columns(export, &row);
            if let Some(c) = &columns {
                (list.number_column, list.reference_column) = (c.name(c.number), c.name(c.reference));
            } else if row.line >= HEADER_WITHIN {
                return Err(IssuedError::NoHeader { path: shown });
            }
            continue;
        };
        if row.cells.iter().all(Cell::is_blank) {
            continue;
        }
        if list.rows.len() + list.problems.len() >= MAX_ROWS {
            return Err(IssuedError::TooMany { path: shown });
        }
        match row_of(export, c, &row) {
            Ok(r) => list.rows.push(r),
            Err((column, why)) => list.problems.push(RowProblem { line: row.line, column: c.name(column), why }),
        }
    }
    if columns.is_none() {
        return Err(IssuedError::NoHeader { path: shown });
    }
    Ok(list)
}

fn text(row: &RawRow, column: usize) -> String {
    row.cells.get(column).map(|c| crate::domain::tidy(&c.display())).unwrap_or_default()
}

/// A row, or the column that cannot be read and why (in Bahasa Indonesia).
fn row_of(export: &Export, c: &Columns, row: &RawRow) -> Result<IssuedRow, (usize, String)> {
    let number = match row.cells.get(c.number) {
        // A workbook's number holds 15 or 16 digits at most, and drops a leading zero.
        Some(Cell::Number(_)) => {
            return Err((c.number, "nomor faktur tersimpan sebagai angka (digit depan atau belakang bisa hilang): simpan kolom ini sebagai teks".into()));
        }
        _ => export.number(&text(row, c.number)).map_err(|why| (c.number, why))?,
    };
    let reference: String = text(row, c.reference).chars().take(100).collect();
    if reference.is_empty() {
        return Err((c.reference, "referensi kosong: tidak diketahui faktur ini untuk pesanan mana".into()));
    }
    let status: String = text(row, c.status).chars().take(60).collect();
    let on = match c.date {
        Some(d) if !row.cells.get(d).is_none_or(Cell::is_blank) => Some(row.cells[d].day(&export.date_formats).ok_or_else(|| {
            (
                d,
                format!(
                    "tanggal {:?} tidak terbaca; format yang dikenal: {}",
                    text(row, d).chars().take(40).collect::<String>(),
                    export.date_formats.join(", ")
                ),
            )
        })?),
        _ => None,
    };
    Ok(IssuedRow { line: row.line, number, reference, issued: export.is_issued(&status), status, on })
}

/// What becomes of a row of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The number is recorded on this order.
    Record(i64),
    /// The number is on this order already.
    Already,
    /// The invoice is not issued (its status said): nothing recorded.
    NotIssued,
    /// The row's order is not the cooperative's, in words.
    NoOrder(String),
    /// The number is another order's, in words.
    Taken(String),
}

/// Each row's verdict. `orders` are the cooperative's stored orders by
/// catalogue id; `recorded`, each number on the orders it is recorded on
/// already. A number belongs to one order; an order may have several (one
/// invoice per transaction code). The rows are taken in turn, so a number
/// given twice in the list is recorded once.
pub fn decide(rows: &[IssuedRow], orders: &std::collections::HashMap<String, i64>, recorded: &[(String, i64)], code: &str) -> Vec<Verdict> {
    let mut owner: std::collections::HashMap<&str, i64> = recorded.iter().map(|(n, o)| (n.as_str(), *o)).collect();
    rows.iter()
        .map(|r| {
            if !r.issued {
                return Verdict::NotIssued;
            }
            let Some(&order) = orders.get(&r.reference) else {
                return Verdict::NoOrder(format!(
                    "referensi {:?} bukan pesanan {code} yang tersimpan (jalankan sync orders dulu, atau periksa koperasinya)",
                    r.reference
                ));
            };
            match owner.get(r.number.as_str()) {
                Some(&o) if o == order => Verdict::Already,
                Some(_) => Verdict::Taken(format!("nomor faktur {} sudah tercatat untuk pesanan lain", r.number)),
                None => {
                    owner.insert(&r.number, order);
                    Verdict::Record(order)
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(number: &str, reference: &str, issued: bool) -> IssuedRow {
        IssuedRow { line: 2, number: number.into(), reference: reference.into(), status: String::new(), issued, on: None }
    }

    #[test]
    fn a_number_goes_to_one_order_and_an_order_may_take_one_per_invoice() {
        let orders = [("PO-1".to_owned(), 1), ("PO-2".to_owned(), 2)].into_iter().collect();
        let recorded = vec![("04002500000000009".to_owned(), 2)];
        let rows = [
            row("04002500000000001", "PO-1", true),
            row("04002500000000002", "PO-1", true),
            row("04002500000000001", "PO-1", true),
            row("04002500000000001", "PO-2", true),
            row("04002500000000009", "PO-2", true),
            row("04002500000000009", "PO-1", true),
            row("04002500000000003", "PO-9", true),
            row("04002500000000004", "PO-2", false),
        ];
        let v = decide(&rows, &orders, &recorded, "K");
        assert_eq!(&v[..3], [Verdict::Record(1), Verdict::Record(1), Verdict::Already]);
        assert!(matches!(&v[3], Verdict::Taken(w) if w.contains("pesanan lain")));
        assert_eq!(v[4], Verdict::Already);
        assert!(matches!(v[5], Verdict::Taken(_)));
        assert!(matches!(&v[6], Verdict::NoOrder(w) if w.contains("PO-9") && w.contains(" K ")));
        assert_eq!(v[7], Verdict::NotIssued);
    }
}
