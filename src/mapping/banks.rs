//! How a bank's statement export is read, from `mappings/banks/NAME.toml`:
//! the headers of its date, description, credit and reference columns (or
//! one amount column with a debit/credit mark), the date formats it writes,
//! and the fees it is known to keep from a transfer. `generic` ships; the
//! liaison adds a bank by adding a file.

use rust_decimal::Decimal;
use serde::Deserialize;

use super::table::Headers;
use super::{MappingError, MappingSource, line_of};

/// The mapping used when no bank is named.
pub const GENERIC: &str = "generic";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBank {
    label: String,
    date_formats: Vec<String>,
    #[serde(default)]
    transfer_fees: Vec<Decimal>,
    columns: RawColumns,
    #[serde(default)]
    credit_marks: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumns {
    date: Vec<String>,
    description: Vec<String>,
    #[serde(default)]
    credit: Vec<String>,
    #[serde(default)]
    amount: Vec<String>,
    #[serde(default)]
    direction: Vec<String>,
    #[serde(default)]
    reference: Vec<String>,
}

/// The banks whose formats are at hand: those shipped, and the files under
/// the mappings folder's `banks/`, by name.
pub fn names(source: &MappingSource) -> Vec<String> {
    let mut names: Vec<String> = match source {
        MappingSource::BuiltIn => super::built_in_names().filter_map(|n| n.strip_prefix("banks/")?.strip_suffix(".toml").map(str::to_owned)).collect(),
        MappingSource::Dir(dir) => std::fs::read_dir(dir.join("banks"))
            .map(|entries| entries.flatten().filter_map(|e| e.file_name().to_str()?.strip_suffix(".toml").map(str::to_owned)).collect())
            .unwrap_or_default(),
    };
    names.sort();
    names
}

/// One bank's export, read.
#[derive(Debug, Clone)]
pub struct BankFormat {
    pub name: String,
    pub label: String,
    pub date_formats: Vec<String>,
    pub transfer_fees: Vec<Decimal>,
    pub date: Headers,
    pub description: Headers,
    /// A column of credits only (empty cells or zero on debit rows)...
    pub credit: Headers,
    /// ...or one amount column with a debit/credit mark column.
    pub amount: Headers,
    pub direction: Headers,
    /// The marks of a credit in the direction column (compared in upper case).
    pub credit_marks: Vec<String>,
    pub reference: Headers,
}

impl BankFormat {
    /// The format of bank `name` (`generic` when none is given).
    pub fn load(source: &MappingSource, name: Option<&str>) -> Result<Self, MappingError> {
        let name = name.unwrap_or(GENERIC).trim().to_lowercase();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(MappingError::Invalid {
                path: format!("banks/{name}.toml").into(),
                line: 0,
                reason: "a bank's name is letters, digits, - and _ only (the file mappings/banks/NAME.toml)".into(),
            });
        }
        let (path, text) = source.read(&format!("banks/{name}.toml"))?;
        Self::parse(&name, &text).map_err(|(line, reason)| MappingError::Invalid { path, line, reason })
    }

    pub fn parse(name: &str, text: &str) -> Result<Self, (u64, String)> {
        let raw: RawBank = toml::from_str(text).map_err(|e| (e.span().map_or(0, |s| line_of(text, s.start)), e.message().to_owned()))?;
        let c = &raw.columns;
        if c.date.is_empty() || c.description.is_empty() {
            return Err((0, "[columns] needs the headers of date and description".into()));
        }
        if c.credit.is_empty() == (c.amount.is_empty() || c.direction.is_empty() || raw.credit_marks.is_empty()) {
            return Err((0, "[columns] needs either credit, or amount with direction and credit_marks (not both)".into()));
        }
        if raw.date_formats.is_empty() {
            return Err((0, "date_formats is empty".into()));
        }
        if raw.transfer_fees.iter().any(|f| *f <= Decimal::ZERO) {
            return Err((0, "each of transfer_fees must be above zero".into()));
        }
        Ok(Self {
            name: name.to_owned(),
            label: raw.label,
            date_formats: raw.date_formats,
            transfer_fees: raw.transfer_fees,
            date: Headers::of(&c.date),
            description: Headers::of(&c.description),
            credit: Headers::of(&c.credit),
            amount: Headers::of(&c.amount),
            direction: Headers::of(&c.direction),
            credit_marks: raw.credit_marks.iter().map(|m| m.trim().to_uppercase()).collect(),
            reference: Headers::of(&c.reference),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generic_format_reads_its_headers_and_dates() {
        let b = BankFormat::load(&MappingSource::BuiltIn, None).unwrap();
        assert!(b.date.matches("Tanggal Transaksi") && b.credit.matches("KREDIT") && b.reference.matches("No. Referensi"));
        let date = |t: &str| crate::mapping::table::date_in(t, &b.date_formats);
        assert_eq!(date("07/12/2026"), chrono::NaiveDate::from_ymd_opt(2026, 12, 7));
        assert_eq!(date("2026-12-07"), chrono::NaiveDate::from_ymd_opt(2026, 12, 7));
        assert_eq!(date("kemarin"), None);
        assert!(BankFormat::load(&MappingSource::BuiltIn, Some("../tax")).is_err(), "a name is never a path");
        assert!(BankFormat::load(&MappingSource::BuiltIn, Some("bank-antah-berantah")).is_err());
    }

    #[test]
    fn a_format_needs_a_credit_column_or_an_amount_with_its_mark() {
        let base = "label = \"x\"\ndate_formats = [\"%d/%m/%Y\"]\n[columns]\ndate = [\"tgl\"]\ndescription = [\"ket\"]\n";
        assert!(BankFormat::parse("x", base).unwrap_err().1.contains("either credit"));
        assert!(BankFormat::parse("x", &format!("{base}amount = [\"mutasi\"]\n")).is_err(), "an amount needs its mark");
        let marked = "label = \"x\"\ndate_formats = [\"%d/%m/%Y\"]\ncredit_marks = [\"cr\"]\n[columns]\ndate = [\"tgl\"]\ndescription = [\"ket\"]\namount = [\"mutasi\"]\ndirection = [\"db/cr\"]\n";
        assert_eq!(BankFormat::parse("x", marked).unwrap().credit_marks, ["CR"]);
    }
}
