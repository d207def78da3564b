//! Tax invoices for Coretax, as data: `coretax.toml` (the file's limit and
//! fixed fields, the transaction code of each case, the unit and goods
//! codes) and `coretax-buyers.csv` (each work unit's TIN and IDTKU, which
//! the orders do not carry).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::table::Headers;
use super::{MappingError, MappingSource, line_of};

pub const CORETAX_FILE: &str = "coretax.toml";
pub const BUYERS_FILE: &str = "coretax-buyers.csv";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Code {
    pub trx_code: String,
    pub add_info: String,
    pub facility_stamp: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCoretax {
    max_invoices_per_file: usize,
    invoice_option: String,
    buyer_document: String,
    buyer_country: String,
    vat_rate: rust_decimal::Decimal,
    codes: RawCodes,
    units: BTreeMap<String, String>,
    goods: BTreeMap<String, String>,
    export: RawExport,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExport {
    issued: Vec<String>,
    number_digits: Vec<usize>,
    date_formats: Vec<String>,
    columns: RawExportColumns,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExportColumns {
    number: Vec<String>,
    reference: Vec<String>,
    status: Vec<String>,
    #[serde(default)]
    date: Vec<String>,
}

/// How Coretax's list of issued invoices is read (`[export]`).
#[derive(Debug, Clone)]
pub struct Export {
    /// The statuses of an issued invoice, compared as headers are.
    issued: Vec<String>,
    pub number_digits: Vec<usize>,
    pub date_formats: Vec<String>,
    pub number: Headers,
    pub reference: Headers,
    pub status: Headers,
    pub date: Headers,
}

impl Export {
    /// Whether a status, as written, is an issued invoice's.
    pub fn is_issued(&self, status: &str) -> bool {
        let key = super::table::header_key(status);
        self.issued.contains(&key)
    }

    /// A tax invoice's number as Coretax gives it: its digits, or what is wrong with it.
    pub fn number(&self, raw: &str) -> Result<String, String> {
        let digits: String = raw.chars().filter(|c| !c.is_whitespace() && !matches!(c, '.' | '-')).collect();
        if digits.is_empty() {
            return Err("nomor faktur kosong".into());
        }
        if !digits.chars().all(|c| c.is_ascii_digit()) || !self.number_digits.contains(&digits.chars().count()) {
            let allowed: Vec<String> = self.number_digits.iter().map(ToString::to_string).collect();
            return Err(format!("{:?} bukan nomor faktur pajak: {} digit angka", raw.chars().take(40).collect::<String>(), allowed.join(" atau ")));
        }
        Ok(digits)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCodes {
    taxable: Code,
    exempt: Code,
}

/// A work unit that buys, as its tax invoices name it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Buyer {
    pub kode_satker: String,
    pub nama: String,
    pub npwp: String,
    pub idtku: String,
    #[serde(default)]
    pub alamat: String,
    #[serde(default)]
    pub email: String,
}

#[derive(Debug, Clone)]
pub struct Coretax {
    pub max_invoices_per_file: usize,
    pub invoice_option: String,
    pub buyer_document: String,
    pub buyer_country: String,
    pub vat_rate: rust_decimal::Decimal,
    pub taxable: Code,
    pub exempt: Code,
    units: BTreeMap<String, String>,
    goods: BTreeMap<String, String>,
    /// By `kode_satker`.
    buyers: BTreeMap<String, Buyer>,
    pub export: Export,
}

impl Coretax {
    pub fn load(source: &MappingSource) -> Result<Self, MappingError> {
        let (path, text) = source.read(CORETAX_FILE)?;
        let invalid = |line, reason| MappingError::Invalid { path: path.clone(), line, reason };
        let raw: RawCoretax = toml::from_str(&text).map_err(|e| invalid(e.span().map_or(0, |s| line_of(&text, s.start)), e.message().to_owned()))?;
        if raw.max_invoices_per_file == 0 || raw.max_invoices_per_file > 1000 {
            return Err(invalid(0, "max_invoices_per_file must be between 1 and 1000 (Coretax's limit)".into()));
        }
        if !raw.goods.contains_key("default") {
            return Err(invalid(0, "[goods] needs a default code".into()));
        }
        let e = &raw.export;
        if e.issued.is_empty() || e.number_digits.is_empty() || e.date_formats.is_empty() {
            return Err(invalid(0, "[export] needs issued, number_digits and date_formats".into()));
        }
        if e.columns.number.is_empty() || e.columns.reference.is_empty() || e.columns.status.is_empty() {
            return Err(invalid(0, "[export.columns] needs the headers of number, reference and status".into()));
        }
        let export = Export {
            issued: e.issued.iter().map(|s| super::table::header_key(s)).collect(),
            number_digits: e.number_digits.clone(),
            date_formats: e.date_formats.clone(),
            number: Headers::of(&e.columns.number),
            reference: Headers::of(&e.columns.reference),
            status: Headers::of(&e.columns.status),
            date: Headers::of(&e.columns.date),
        };
        let (buyers_path, buyers_text) = source.read(BUYERS_FILE)?;
        let mut buyers = BTreeMap::new();
        let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(buyers_text.as_bytes());
        for row in reader.deserialize::<Buyer>() {
            let buyer = row.map_err(|e| MappingError::Invalid {
                path: buyers_path.clone(),
                line: e.position().map_or(0, |p| p.line()),
                reason: format!("{e}: the columns are kode_satker,nama,npwp,idtku,alamat,email"),
            })?;
            buyers.insert(buyer.kode_satker.clone(), buyer);
        }
        Ok(Self {
            max_invoices_per_file: raw.max_invoices_per_file,
            invoice_option: raw.invoice_option,
            buyer_document: raw.buyer_document,
            buyer_country: raw.buyer_country,
            vat_rate: raw.vat_rate,
            taxable: raw.codes.taxable,
            exempt: raw.codes.exempt,
            units: raw.units,
            goods: raw.goods,
            buyers,
            export,
        })
    }

    /// Coretax's code of a local unit.
    pub fn unit(&self, unit: &str) -> Option<&str> {
        self.units.get(&super::table::normalise(unit)).map(String::as_str)
    }

    /// Coretax's goods code of a local category (its own, or the default).
    pub fn goods(&self, category: Option<&str>) -> &str {
        category.and_then(|c| self.goods.get(&super::table::normalise(c))).or_else(|| self.goods.get("default")).map_or("000000", String::as_str)
    }

    pub fn buyer(&self, kode_satker: &str) -> Option<&Buyer> {
        self.buyers.get(kode_satker)
    }
}

/// What is wrong with a TIN or an IDTKU, as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdProblem {
    #[error("{0:?} is not a TIN: digits only")]
    TinNotDigits(String),
    #[error("{0:?} has {1} digits; a TIN has 16 (or an old NPWP 15)")]
    TinDigits(String, usize),
    #[error("{0:?} is not an IDTKU: digits only")]
    IdtkuNotDigits(String),
    #[error("{0:?} has {1} digits; an IDTKU has 22 (the 16 of the TIN, then 6 for the place of business)")]
    IdtkuDigits(String, usize),
    #[error("{0:?} does not begin with its TIN {1}")]
    IdtkuNotOfTin(String, String),
}

impl IdProblem {
    pub fn in_indonesian(&self) -> String {
        match self {
            Self::TinNotDigits(raw) => format!("{raw:?} bukan NPWP: hanya angka"),
            Self::TinDigits(raw, n) => format!("{raw:?} berisi {n} digit; NPWP 16 digit (atau NPWP lama 15)"),
            Self::IdtkuNotDigits(raw) => format!("{raw:?} bukan IDTKU: hanya angka"),
            Self::IdtkuDigits(raw, n) => format!("{raw:?} berisi {n} digit; IDTKU 22 digit (16 digit NPWP, lalu 6 digit tempat usaha)"),
            Self::IdtkuNotOfTin(raw, tin) => format!("{raw:?} tidak diawali NPWP-nya {tin}"),
        }
    }
}

/// A TIN as Coretax takes it: 16 digits (an old 15-digit NPWP with a 0
/// before it), or what is wrong with it.
pub fn tin(raw: &str) -> Result<String, IdProblem> {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    if raw.chars().any(|c| c.is_ascii_alphabetic()) {
        return Err(IdProblem::TinNotDigits(raw.to_owned()));
    }
    match digits.len() {
        16 => Ok(digits),
        15 => Ok(format!("0{digits}")),
        n => Err(IdProblem::TinDigits(raw.to_owned(), n)),
    }
}

/// An IDTKU as Coretax takes it: 22 digits, the TIN's 16 then the place of
/// business's 6; or what is wrong with it.
pub fn idtku(raw: &str, tin: &str) -> Result<String, IdProblem> {
    let digits: String = raw.chars().filter(|c| !c.is_whitespace() && *c != '.' && *c != '-').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(IdProblem::IdtkuNotDigits(raw.to_owned()));
    }
    if digits.len() != 22 {
        return Err(IdProblem::IdtkuDigits(raw.to_owned(), digits.len()));
    }
    if !digits.starts_with(tin) {
        return Err(IdProblem::IdtkuNotOfTin(raw.to_owned(), tin.to_owned()));
    }
    Ok(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tin_has_16_digits_and_an_idtku_22_beginning_with_it() {
        assert_eq!(tin("01.234.567.8-901.000").unwrap(), "0012345678901000");
        assert_eq!(tin("3576014403910003").unwrap(), "3576014403910003");
        assert!(tin("1234").unwrap_err().to_string().contains("4 digits"));
        assert!(tin("1234").unwrap_err().in_indonesian().contains("4 digit"));
        assert!(tin("12A4567890123456").is_err());
        assert_eq!(idtku("3576014403910003000000", "3576014403910003").unwrap(), "3576014403910003000000");
        assert!(idtku("357601440391000300000", "3576014403910003").unwrap_err().to_string().contains("21 digits"));
        assert!(idtku("9576014403910003000000", "3576014403910003").unwrap_err().to_string().contains("does not begin"));
    }

    #[test]
    fn the_shipped_file_reads_with_its_codes() {
        let c = Coretax::load(&MappingSource::BuiltIn).unwrap();
        assert_eq!((c.taxable.trx_code.as_str(), c.exempt.trx_code.as_str(), c.exempt.add_info.as_str()), ("02", "08", "TD.00510"));
        assert_eq!((c.unit("kg"), c.unit("Liter"), c.unit("butir")), (Some("UM.0003"), Some("UM.0007"), None));
        assert_eq!(c.goods(Some("beras")), "000000");
        assert_eq!(c.max_invoices_per_file, 1000);
        assert!(c.export.is_issued("APPROVED") && c.export.is_issued("Disetujui") && !c.export.is_issued("CREATED"));
        assert!(c.export.number.matches("Nomor Faktur Pajak") && c.export.reference.matches("Referensi") && c.export.status.matches("Status Faktur"));
    }

    #[test]
    fn a_tax_invoice_number_has_the_digits_coretax_gives() {
        let c = Coretax::load(&MappingSource::BuiltIn).unwrap();
        assert_eq!(c.export.number("04002500123456789").unwrap(), "04002500123456789", "Coretax's 17 digits");
        assert_eq!(c.export.number("010.000-25.12345678").unwrap(), "0100002512345678", "e-Faktur's 16, written with its dots");
        assert!(c.export.number("0400250012345").unwrap_err().contains("17"));
        assert!(c.export.number("04A02500123456789").is_err());
        assert!(c.export.number(" ").is_err());
    }
}
