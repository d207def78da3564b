//! The catalogue formats: what each one's listing holds (its targets) and how
//! it is written. Only this folder knows wire field names and layouts.

pub mod client;
pub mod inaproc;
pub mod json_repair;
pub mod katalog_v6;
pub mod katalog_v6_xlsx;
pub mod leaves;
pub mod markup;
pub mod order_response;
pub mod orders;
mod part_file;
pub mod peppol;
pub mod ubl_order;

use std::io::Write;

pub use part_file::PartFile;

use crate::mapping::plan::{Mapped, Plan, Tables, Target, Value};
use crate::mapping::{MappingError, MappingSource};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Format {
    /// JSON listing of the version-6 catalogue API, one per line
    #[value(name = "katalog-v6")]
    KatalogV6,
    /// The bulk-upload workbook, one per level-3 category
    #[value(name = "katalog-v6-xlsx")]
    KatalogV6Xlsx,
    /// UBL 2.1 Catalogue per PEPPOL BIS Catalogue 3.0, one per cooperative
    #[value(name = "peppol-catalogue")]
    PeppolCatalogue,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::KatalogV6, Format::KatalogV6Xlsx, Format::PeppolCatalogue];

    pub fn name(self) -> &'static str {
        match self {
            Format::KatalogV6 => "katalog-v6",
            Format::KatalogV6Xlsx => "katalog-v6-xlsx",
            Format::PeppolCatalogue => "peppol-catalogue",
        }
    }

    pub fn targets(self) -> &'static [Target] {
        match self {
            Format::KatalogV6 => katalog_v6::TARGETS,
            Format::KatalogV6Xlsx => katalog_v6_xlsx::TARGETS,
            Format::PeppolCatalogue => peppol::TARGETS,
        }
    }

    /// Loads and compiles this format's mapping file, and checks that its
    /// `[document]` section has what this format's documents need.
    pub fn plan(self, source: &MappingSource, tables: &Tables) -> Result<Plan, MappingError> {
        let plan = Plan::load(source, self.name(), self.targets(), tables)?;
        let d = &plan.document;
        let invalid = |reason: String| MappingError::Invalid { path: plan.path.clone(), line: plan.document_line, reason };
        match self {
            Format::PeppolCatalogue => {
                for (key, value) in [("receiver_endpoint_id", &d.receiver_endpoint_id), ("receiver_name", &d.receiver_name)] {
                    if value.as_deref().is_none_or(|v| v.trim().is_empty()) {
                        return Err(invalid(format!("[document] needs {key}: every PEPPOL catalogue names its receiver")));
                    }
                }
                if let Some(days) = d.validity_days.filter(|d| !(1..=3660).contains(d)) {
                    return Err(invalid(format!("[document] validity_days is {days}; give 1-3660 days")));
                }
                if d.rows_per_workbook.is_some() {
                    return Err(invalid("[document] rows_per_workbook is a setting of katalog-v6-xlsx, not of peppol-catalogue".into()));
                }
            }
            Format::KatalogV6Xlsx => {
                if let Some(rows) = d.rows_per_workbook.filter(|r| *r == 0 || *r > katalog_v6_xlsx::EXCEL_DATA_ROWS) {
                    return Err(invalid(format!("[document] rows_per_workbook is {rows}; give 1-{}", katalog_v6_xlsx::EXCEL_DATA_ROWS)));
                }
            }
            Format::KatalogV6 => {}
        }
        Ok(plan)
    }
}

/// Loads every table and mapping, reporting the first mistake with its file and line.
pub fn check_all(source: &MappingSource) -> Result<Vec<Plan>, MappingError> {
    let tables = Tables::load(source)?;
    crate::mapping::units::UnitTable::load(source)?;
    Format::ALL.iter().map(|f| f.plan(source, &tables)).collect()
}

/// How the catalogue formats spell a product's origin.
pub fn origin_name(origin: crate::domain::product::Origin) -> &'static str {
    match origin {
        crate::domain::product::Origin::Lokal => "Lokal",
        crate::domain::product::Origin::Impor => "Impor",
    }
}

/// The UN/CEFACT 5305 code of a tax category, as PEPPOL writes it.
pub fn tax_category_code(category: crate::mapping::tax::TaxCategory) -> &'static str {
    use crate::mapping::tax::TaxCategory;
    match category {
        TaxCategory::Standard => "S",
        TaxCategory::Exempt => "E",
        TaxCategory::NotSubject => "O",
    }
}

/// The mapped listing as one JSON object (targets in order, missing ones
/// left out). This is the `katalog-v6` body and the stored payload of every format.
///
/// Written by hand because it is the hot path of `katalog-v6` (serde_json's
/// string escaper, byte by byte, took a third of the time): keys are the
/// targets' names (plain ASCII, checked by a test), a string goes out as is
/// unless it holds a character JSON escapes, and then serde_json writes it.
/// Numbers are exact decimals, never floats.
pub fn write_json(out: &mut impl Write, plan: &Plan, mapped: &Mapped<'_>) -> std::io::Result<()> {
    let mut separator: &[u8] = b"{\"";
    for (target, value) in plan.targets.iter().zip(&mapped.values) {
        if matches!(value, Value::Missing | Value::Text("")) {
            continue;
        }
        out.write_all(separator)?;
        separator = b",\"";
        out.write_all(target.name.as_bytes())?;
        out.write_all(b"\":")?;
        match value {
            Value::Missing => {}
            Value::Text(t) => json_string(out, t)?,
            Value::Origin(o) => json_string(out, origin_name(*o))?,
            Value::Tax(c) => json_string(out, tax_category_code(*c))?,
            Value::NetContent(n) => json_string(out, &n.to_string())?,
            Value::Bool(b) => out.write_all(if *b { b"true" } else { b"false" })?,
            Value::Decimal(d) => markup::write_decimal(out, *d)?,
            Value::List(items) => {
                out.write_all(b"[")?;
                for (i, item) in items.iter().take(plan.limits.photos_max).enumerate() {
                    if i > 0 {
                        out.write_all(b",")?;
                    }
                    json_string(out, item)?;
                }
                out.write_all(b"]")?;
            }
        }
    }
    out.write_all(if separator == b"{\"" { b"{}" } else { b"}" })
}

/// A JSON string: quoted as is when nothing in it needs escaping.
fn json_string(out: &mut impl Write, s: &str) -> std::io::Result<()> {
    // a fold without early exit: the compiler checks many bytes at a time
    let needs_escape = s.bytes().fold(false, |found, b| found | (b < 0x20) | (b == b'"') | (b == b'\\'));
    if needs_escape {
        serde_json::to_writer(&mut *out, s).map_err(std::io::Error::from)
    } else {
        out.write_all(b"\"")?;
        out.write_all(s.as_bytes())?;
        out.write_all(b"\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_names_are_json_keys_without_escaping() {
        for format in Format::ALL {
            for target in format.targets() {
                assert!(target.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'), "{}", target.name);
            }
        }
    }

    #[test]
    fn strings_are_escaped_only_when_needed_and_stay_valid_json() {
        for s in ["Beras 5 kg", "Kopi \"Jos\"", "a\\b", "baris\nbaru", "Teh \u{1} <&>", "Kerupuk Udang – Sidoarjo"] {
            let mut out = Vec::new();
            json_string(&mut out, s).unwrap();
            assert_eq!(serde_json::from_slice::<String>(&out).unwrap(), s);
            assert_eq!(out, serde_json::to_vec(s).unwrap(), "the same text as serde_json writes");
        }
    }
}
