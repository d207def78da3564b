//! Reading a cooperative's bank statement (CSV or XLSX from its internet
//! banking) as its bank writes it (`mappings/banks/`): the header found below
//! any lines above it, each credit with its day, amount, words and
//! reference; debits passed over; a row that cannot be read reported with
//! its row and column while the others are read. The file is checked as any
//! import is (`intake::source`: size, kind, a workbook's parts) and read on
//! a blocking thread.

use std::path::Path;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::domain::payments::Credit;
use crate::intake::ImportError;
use crate::intake::source::{Cell, RawRow};
use crate::mapping::banks::BankFormat;

/// Rows searched for the header.
const HEADER_WITHIN: u64 = 50;
/// Credits read from one statement at most (a cooperative's year is a few hundred).
pub const MAX_CREDITS: usize = 50_000;
/// Characters of a description and a reference kept.
const MAX_WORDS: usize = 1000;
const MAX_REFERENCE: usize = 200;

/// A credit of a statement, where it is, and the key that finds it again.
#[derive(Debug, Clone)]
pub struct StatementCredit {
    pub line: u64,
    pub booked_on: NaiveDate,
    pub credit: Credit,
    /// The same line of the same bank read again has the same key.
    pub key: String,
}

/// A row that could not be read: its row and column, and why (in Bahasa Indonesia).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowProblem {
    pub line: u64,
    pub column: String,
    pub why: String,
}

/// What a statement holds.
#[derive(Debug, Default)]
pub struct Statement {
    pub credits: Vec<StatementCredit>,
    pub problems: Vec<RowProblem>,
    /// Rows with no credit (debits, balances).
    pub passed_over: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum StatementError {
    #[error(transparent)]
    File(#[from] ImportError),
    #[error(
        "{path}: no header row naming a date and a credit column in its first {HEADER_WITHIN} rows ({bank}: {label}); name the bank's format with --bank, or add one under mappings/banks/"
    )]
    NoHeader { path: String, bank: String, label: String },
    #[error("{path}: more than {MAX_CREDITS} credits: split the statement by month")]
    TooManyCredits { path: String },
}

impl StatementError {
    /// In Bahasa Indonesia, for the page.
    pub fn in_indonesian(&self, file: &str) -> String {
        match self {
            Self::File(e) => e.in_indonesian(file),
            Self::NoHeader { bank, label, .. } => format!(
                "{file}: tidak ada baris judul dengan kolom tanggal dan kredit di {HEADER_WITHIN} baris pertama (format {bank}: {label}). Pilih format bank yang sesuai."
            ),
            Self::TooManyCredits { .. } => format!("{file}: lebih dari {MAX_CREDITS} kredit: pisahkan rekening koran per bulan."),
        }
    }
}

/// Where the columns are.
struct Columns {
    date: usize,
    description: usize,
    credit: Option<usize>,
    amount: Option<(usize, usize)>,
    reference: Option<usize>,
    names: Vec<String>,
}

fn find_columns(format: &BankFormat, row: &RawRow) -> Option<Columns> {
    let names: Vec<String> = row.cells.iter().map(|c| c.display().trim().to_owned()).collect();
    let at = |h: &crate::mapping::table::Headers| names.iter().position(|n| h.matches(n));
    let date = at(&format.date)?;
    let credit = at(&format.credit);
    let amount = at(&format.amount).zip(at(&format.direction));
    if credit.is_none() && amount.is_none() {
        return None;
    }
    Some(Columns { date, description: at(&format.description)?, credit, amount, reference: at(&format.reference), names })
}

/// Reads a statement: every credit, the rows that cannot be read, and how
/// many rows were passed over.
pub async fn read(path: &Path, format: &BankFormat, settings: &crate::config::ImportSettings) -> Result<Statement, StatementError> {
    let shown = path.display().to_string();
    let limits = crate::intake::workbook::WorkbookLimits::from_settings(settings);
    let (_, mut rows) = crate::intake::source::open(path, None, settings.max_file_bytes, limits)?;
    let mut columns: Option<Columns> = None;
    let mut statement = Statement::default();
    let mut seen: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    while let Some(row) = rows.recv().await {
        let row = row?;
        let Some(c) = &columns else {
            columns = find_columns(format, &row);
            if columns.is_none() && row.line >= HEADER_WITHIN {
                return Err(StatementError::NoHeader { path: shown, bank: format.name.clone(), label: format.label.clone() });
            }
            continue;
        };
        if row.cells.iter().all(Cell::is_blank) {
            continue;
        }
        match credit_of(format, c, &row) {
            Ok(None) => statement.passed_over += 1,
            Ok(Some((booked_on, credit))) => {
                if statement.credits.len() >= MAX_CREDITS {
                    return Err(StatementError::TooManyCredits { path: shown });
                }
                let same = format!(
                    "{}\u{1f}{booked_on}\u{1f}{}\u{1f}{}\u{1f}{}",
                    format.name,
                    credit.amount.normalize(),
                    credit.description,
                    credit.reference.as_deref().unwrap_or("")
                );
                let n = seen.entry(same.clone()).or_default();
                *n += 1;
                statement.credits.push(StatementCredit { line: row.line, booked_on, key: key_of(&same, *n), credit });
            }
            Err((column, why)) => statement.problems.push(RowProblem { line: row.line, column: column_name(c, column), why }),
        }
    }
    if columns.is_none() {
        return Err(StatementError::NoHeader { path: shown, bank: format.name.clone(), label: format.label.clone() });
    }
    Ok(statement)
}

/// A line's key: what it says, and which of the identical lines it is.
fn key_of(same: &str, occurrence: u32) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(same.as_bytes());
    h.update([0x1f]);
    h.update(occurrence.to_string().as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn column_name(c: &Columns, column: usize) -> String {
    format!("{} ({})", crate::intake::columns::letter(column), c.names.get(column).map_or("", String::as_str))
}

fn text(row: &RawRow, column: usize) -> String {
    row.cells.get(column).map(|c| crate::domain::tidy(&c.display())).unwrap_or_default()
}

/// A row's credit: `None` for a row with none (a debit); `Err` with the
/// column and why when it cannot be read.
fn credit_of(format: &BankFormat, c: &Columns, row: &RawRow) -> Result<Option<(NaiveDate, Credit)>, (usize, String)> {
    let (column, amount) = match (c.credit, c.amount) {
        (Some(col), _) => (col, amount_of(row.cells.get(col)).map_err(|why| (col, why))?),
        (None, Some((col, mark))) => {
            let marked = text(row, mark).to_uppercase();
            if !format.credit_marks.contains(&marked) {
                return Ok(None);
            }
            (col, amount_of(row.cells.get(col)).map_err(|why| (col, why))?)
        }
        (None, None) => return Ok(None),
    };
    let Some(amount) = amount else { return Ok(None) };
    if amount < Decimal::ZERO {
        return Err((column, format!("{} bukan kredit (negatif)", crate::domain::money::format_rupiah(amount))));
    }
    if amount == Decimal::ZERO {
        return Ok(None);
    }
    let booked_on = row.cells.get(c.date).and_then(|cell| cell.day(&format.date_formats)).ok_or_else(|| {
        (
            c.date,
            format!(
                "tanggal {:?} tidak terbaca; format yang dikenal: {}",
                text(row, c.date).chars().take(40).collect::<String>(),
                format.date_formats.join(", ")
            ),
        )
    })?;
    let description: String = text(row, c.description).chars().take(MAX_WORDS).collect();
    let reference = c.reference.map(|r| text(row, r).chars().take(MAX_REFERENCE).collect::<String>()).filter(|r| !r.is_empty());
    Ok(Some((booked_on, Credit { amount, description, reference })))
}

/// An amount cell: `None` when empty; whole rupiah and sen at most.
fn amount_of(cell: Option<&Cell>) -> Result<Option<Decimal>, String> {
    let d = match cell {
        None | Some(Cell::Empty) => return Ok(None),
        Some(Cell::Number(n)) if n.is_finite() => n.to_string().parse::<Decimal>().map_err(|_| format!("{n} bukan jumlah rupiah"))?,
        Some(cell) => {
            let t = cell.display();
            if t.trim().is_empty() || t.trim() == "-" {
                return Ok(None);
            }
            crate::domain::number::parse_decimal(&t).map_err(|e| e.indonesian.clone())?
        }
    };
    let d = d.round_dp(2);
    if d.abs() >= crate::domain::money::max_amount() {
        return Err(format!("{d} terlalu besar untuk jumlah rupiah"));
    }
    Ok(Some(d.normalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_amount_is_read_as_banks_write_it() {
        let text = |s: &str| Some(Cell::Text(s.into()));
        assert_eq!(amount_of(text("1.250.000,00").as_ref()), Ok(Some(Decimal::from(1_250_000))));
        assert_eq!(amount_of(text("1,250,000.00").as_ref()), Ok(Some(Decimal::from(1_250_000))));
        assert_eq!(amount_of(Some(&Cell::Number(131_439.0))), Ok(Some(Decimal::from(131_439))));
        assert_eq!(amount_of(text(" - ").as_ref()), Ok(None));
        assert!(amount_of(text("seratus").as_ref()).is_err());
    }
}
