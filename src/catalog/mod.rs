//! The catalogue formats: what each one's listing holds (its targets) and how
//! it is written. Only this folder knows wire field names and layouts.

pub mod katalog_v6;
pub mod katalog_v6_xlsx;
pub mod markup;
pub mod peppol;

use std::io::Write;

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
pub fn write_json(out: &mut impl Write, plan: &Plan, mapped: &Mapped<'_>) -> std::io::Result<()> {
    use serde::ser::{SerializeMap, Serializer};
    let mut ser = serde_json::Serializer::new(out);
    let mut map = ser.serialize_map(None)?;
    for (target, value) in plan.targets.iter().zip(&mapped.values) {
        match value {
            Value::Missing => {}
            Value::Text(t) if t.is_empty() => {}
            Value::Text(t) => map.serialize_entry(target.name, t)?,
            Value::Bool(b) => map.serialize_entry(target.name, b)?,
            Value::Decimal(d) => match whole(*d) {
                Some(n) => map.serialize_entry(target.name, &n)?,
                None => map.serialize_entry(target.name, &json_number(*d))?,
            },
            Value::List(items) => map.serialize_entry(target.name, &items[..items.len().min(plan.limits.photos_max)])?,
        }
    }
    map.end()?;
    Ok(())
}

/// A whole number (most prices and quantities) as an integer, without formatting it.
fn whole(d: rust_decimal::Decimal) -> Option<i64> {
    use rust_decimal::prelude::ToPrimitive;
    if d.fract().is_zero() { d.to_i64() } else { None }
}

/// A decimal as an exact JSON number (serde_json's arbitrary precision), never through a float.
fn json_number(d: rust_decimal::Decimal) -> serde_json::Number {
    d.normalize().to_string().parse().expect("a decimal's text is a JSON number")
}
