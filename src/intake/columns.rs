//! Column specifications, header matching, and typed access to a row's cells
//! that reports problems by row and column.

use rust_decimal::Decimal;

use super::number::parse_decimal;
use super::source::{Cell, MAX_CELL_CHARS, RawRow};
use crate::domain::{DomainError, forbidden_char, tidy};

/// One column an import understands.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The header as the template writes it.
    pub header: &'static str,
    /// Other headers accepted for it.
    pub aliases: &'static [&'static str],
    pub required: bool,
    /// What to put in it, in the template's instructions and the README.
    pub help: &'static str,
}

pub use crate::mapping::table::header_key;

/// Where each known column is in the file.
#[derive(Debug, Clone)]
pub struct Header {
    /// Index in the file of each column of the spec, in spec order.
    positions: Vec<Option<usize>>,
    /// The header row as written.
    pub names: Vec<String>,
    pub row: u64,
}

/// The header problem in words, or the resolved header.
pub fn resolve(spec: &[Column], row: &RawRow) -> Result<Header, DomainError> {
    let names: Vec<String> = row.cells.iter().map(|c| c.display().trim().to_owned()).collect();
    let mut positions = vec![None; spec.len()];
    let (mut problems, mut masalah) = (Vec::new(), Vec::new());
    for (file_index, name) in names.iter().enumerate() {
        let key = header_key(name);
        if key.is_empty() {
            continue;
        }
        let found = spec.iter().position(|c| header_key(c.header) == key || c.aliases.iter().any(|a| header_key(a) == key));
        match found {
            Some(i) if positions[i].is_some() => {
                let (first, second) = (letter(positions[i].unwrap()), letter(file_index));
                problems.push(format!("has the column {} twice ({first} and {second})", spec[i].header));
                masalah.push(format!("kolom {} ada dua kali ({first} dan {second})", spec[i].header));
            }
            Some(i) => positions[i] = Some(file_index),
            None => {}
        }
    }
    let missing: Vec<&str> = spec.iter().zip(&positions).filter(|(c, p)| c.required && p.is_none()).map(|(c, _)| c.header).collect();
    if !missing.is_empty() {
        problems.insert(0, format!("lacks the required column{} {}", if missing.len() > 1 { "s" } else { "" }, missing.join(", ")));
        masalah.insert(0, format!("kolom wajib belum ada: {}", missing.join(", ")));
    }
    if problems.is_empty() { Ok(Header { positions, names, row: row.line }) } else { Err(DomainError::new("header", problems.join("; "), masalah.join("; "))) }
}

impl Header {
    /// Headers in the file that no column of the spec uses.
    pub fn unused(&self) -> Vec<&str> {
        self.names.iter().enumerate().filter(|(i, n)| !n.is_empty() && !self.positions.contains(&Some(*i))).map(|(_, n)| n.as_str()).collect()
    }

    pub fn has(&self, column: usize) -> bool {
        self.positions[column].is_some()
    }
}

/// `A`, `B`, ..., `Z`, `AA`: spreadsheet column letters for a 0-based index.
pub fn letter(mut index: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).expect("ASCII")
}

/// A problem with one cell (or the row as a whole, when `column` is empty):
/// its code, and the reason in English and in Bahasa Indonesia.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellIssue {
    /// `H (harga)`, or empty for the whole row.
    pub column: String,
    /// The column's header (`harga`), or empty for the whole row: where a
    /// form shows the problem.
    pub field: &'static str,
    pub problem: DomainError,
}

/// In `--json`: `{"column", "code", "reason", "reason_id"}`, the reason in
/// English and in Bahasa Indonesia.
impl serde::Serialize for CellIssue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = s.serialize_struct("CellIssue", 4)?;
        out.serialize_field("column", &self.column)?;
        out.serialize_field("code", self.problem.code)?;
        out.serialize_field("reason", &self.problem.english)?;
        out.serialize_field("reason_id", &self.problem.indonesian)?;
        out.end()
    }
}

/// A value given twice in one file.
pub fn duplicate(english: String, indonesian: String) -> DomainError {
    DomainError::new("duplicate", english, indonesian)
}

/// Typed reading of one row's cells; problems are collected, not returned
/// one at a time, so the user sees every fault of a row at once.
pub struct RowView<'a> {
    spec: &'a [Column],
    header: &'a Header,
    row: &'a RawRow,
    pub issues: Vec<CellIssue>,
}

impl<'a> RowView<'a> {
    pub fn new(spec: &'a [Column], header: &'a Header, row: &'a RawRow) -> Self {
        Self { spec, header, row, issues: Vec::new() }
    }

    pub fn line(&self) -> u64 {
        self.row.line
    }

    fn cell(&self, column: usize) -> &'a Cell {
        self.header.positions[column].and_then(|i| self.row.cells.get(i)).unwrap_or(&Cell::Empty)
    }

    /// Records a problem with a column.
    pub fn fail(&mut self, column: usize, problem: DomainError) {
        let name = self.spec[column].header;
        let at = self.header.positions[column].map_or_else(|| "(missing)".to_owned(), letter);
        self.issues.push(CellIssue { column: format!("{at} ({name})"), field: name, problem });
    }

    /// Records that a required cell is blank.
    pub fn fail_empty(&mut self, column: usize) {
        self.fail(column, DomainError::new("empty", "is empty", "wajib diisi, tetapi kosong"));
    }

    /// The cell as trimmed text, `None` when blank or invalid (invalid cells are recorded).
    pub fn text(&mut self, column: usize) -> Option<String> {
        self.read_text(column).ok().flatten()
    }

    /// A required text; records "is empty" when blank.
    pub fn required_text(&mut self, column: usize) -> Option<String> {
        match self.read_text(column) {
            Ok(None) => {
                self.fail_empty(column);
                None
            }
            Ok(value) => value,
            Err(()) => None,
        }
    }

    /// `Err` when the cell is unreadable (and the issue is recorded).
    fn read_text(&mut self, column: usize) -> Result<Option<String>, ()> {
        match self.cell(column) {
            Cell::Empty => Ok(None),
            Cell::Text(t) => {
                // Every text is tidied the same way: trimmed, whitespace runs (line breaks included) made one space.
                let t = tidy(t);
                if t.is_empty() {
                    return Ok(None);
                }
                if let Some(c) = forbidden_char(&t) {
                    let mut problem = crate::domain::control_char("", c);
                    problem.english = format!("contains an invisible control character (U+{:04X}); remove it", c as u32);
                    self.fail(column, problem);
                    return Err(());
                }
                Ok(Some(t))
            }
            Cell::TooLong { chars, .. } => {
                let mut problem = crate::domain::too_long("", *chars, MAX_CELL_CHARS);
                problem.english = format!("is {chars} characters long; a cell may hold at most {MAX_CELL_CHARS}");
                self.fail(column, problem);
                Err(())
            }
            Cell::Number(n) => Ok(Some(n.to_string())),
            Cell::BadUtf8(_) => {
                self.fail(
                    column,
                    DomainError::new("not_utf8", "is not valid UTF-8 text: save the file as CSV UTF-8", "bukan teks UTF-8: simpan berkas sebagai CSV UTF-8"),
                );
                Err(())
            }
            Cell::Error(e) => {
                self.fail(
                    column,
                    DomainError::new(
                        "spreadsheet_error",
                        format!("holds the spreadsheet error {e}"),
                        format!("berisi galat rumus spreadsheet {e}: perbaiki rumusnya atau tulis nilainya"),
                    ),
                );
                Err(())
            }
        }
    }

    /// A number: an Excel number cell, or text in Indonesian or plain notation.
    pub fn decimal(&mut self, column: usize) -> Option<Decimal> {
        match self.cell(column) {
            Cell::Number(n) => match decimal_from_sheet_number(*n) {
                Some(d) => Some(d),
                None => {
                    self.fail(column, DomainError::new("not_a_number", format!("{n} is not a usable number"), format!("{n} bukan angka yang dapat dipakai")));
                    None
                }
            },
            _ => {
                let text = self.text(column)?;
                match parse_decimal(&text) {
                    Ok(d) => Some(d),
                    Err(reason) => {
                        self.fail(column, reason);
                        None
                    }
                }
            }
        }
    }

    /// A required number; records "is empty" when blank.
    pub fn required_decimal(&mut self, column: usize) -> Option<Decimal> {
        let before = self.issues.len();
        let value = self.decimal(column);
        if value.is_none() && self.issues.len() == before {
            self.fail_empty(column);
        }
        value
    }

    /// Applies a domain parser to a value, recording its error.
    pub fn check<T>(&mut self, column: usize, result: Result<T, DomainError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(column, e);
                None
            }
        }
    }

    /// All cells as the file held them, for the rejects file.
    pub fn raw_values(&self) -> Vec<std::borrow::Cow<'a, [u8]>> {
        self.row.cells.iter().map(Cell::raw).collect()
    }
}

/// A workbook number cell is a binary float. Its shortest decimal form is
/// what the spreadsheet shows; rounding to 6 places drops formula noise such
/// as `11000.000000000002`.
fn decimal_from_sheet_number(n: f64) -> Option<Decimal> {
    if !n.is_finite() {
        return None;
    }
    n.to_string().parse::<Decimal>().ok().map(|d| d.round_dp(6).normalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &[Column] = &[
        Column { header: "sku", aliases: &["kode produk"], required: true, help: "" },
        Column { header: "harga", aliases: &["harga (rp)"], required: true, help: "" },
        Column { header: "merek", aliases: &[], required: false, help: "" },
    ];

    fn row(cells: &[&str]) -> RawRow {
        RawRow { line: 1, cells: cells.iter().map(|c| Cell::Text((*c).into())).collect() }
    }

    #[test]
    fn headers_match_loosely_and_report_what_is_missing() {
        let h = resolve(SPEC, &row(&["No.", " Kode-Produk ", "HARGA (Rp)"])).unwrap();
        assert_eq!(h.unused(), vec!["No."]);
        assert!(!h.has(2));
        let err = resolve(SPEC, &row(&["Beras", "12500"])).unwrap_err();
        assert_eq!(err.english, "lacks the required columns sku, harga");
        assert_eq!(err.indonesian, "kolom wajib belum ada: sku, harga");
        let err = resolve(SPEC, &row(&["sku", "harga", "Harga"])).unwrap_err();
        assert_eq!(err.english, "has the column harga twice (B and C)");
        assert_eq!(err.indonesian, "kolom harga ada dua kali (B dan C)");
    }

    #[test]
    fn column_letters() {
        assert_eq!(letter(0), "A");
        assert_eq!(letter(25), "Z");
        assert_eq!(letter(26), "AA");
        assert_eq!(letter(27), "AB");
        assert_eq!(letter(701), "ZZ");
        assert_eq!(letter(702), "AAA");
    }

    #[test]
    fn sheet_numbers_lose_float_noise_only() {
        assert_eq!(decimal_from_sheet_number(11000.000000000002), Some(Decimal::from(11000)));
        assert_eq!(decimal_from_sheet_number(0.1), Some("0.1".parse().unwrap()));
        assert_eq!(decimal_from_sheet_number(f64::NAN), None);
    }

    #[test]
    fn cell_problems_name_column_letter_and_header() {
        let h = resolve(SPEC, &row(&["sku", "harga"])).unwrap();
        let r = row(&["", "dua ribu"]);
        let mut v = RowView::new(SPEC, &h, &r);
        assert_eq!(v.required_text(0), None);
        assert_eq!(v.decimal(1), None);
        assert_eq!(v.issues[0].column, "A (sku)");
        assert_eq!((v.issues[0].problem.code, v.issues[0].problem.english.as_str()), ("empty", "is empty"));
        assert_eq!(v.issues[1].column, "B (harga)");
        assert_eq!(v.issues[1].problem.code, "not_a_number");
        assert!(v.issues[1].problem.indonesian.contains("bukan angka"));
    }
}
