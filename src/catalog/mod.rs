//! The catalogue formats: what each one's listing holds (its targets) and how
//! it is written. Only this folder knows wire field names and layouts.

pub mod katalog_v6;
pub mod katalog_v6_xlsx;
pub mod leaves;
pub mod markup;
mod part_file;
pub mod peppol;

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

    /// Loads and compiles this format's mapping file.
    pub fn plan(self, source: &MappingSource, tables: &Tables) -> Result<Plan, MappingError> {
        Plan::load(source, self.name(), self.targets(), tables)
    }
}

/// Loads every table and mapping, reporting the first mistake with its file and line.
pub fn check_all(source: &MappingSource) -> Result<Vec<Plan>, MappingError> {
    let tables = Tables::load(source)?;
    crate::mapping::units::UnitTable::load(source)?;
    Format::ALL.iter().map(|f| f.plan(source, &tables)).collect()
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
