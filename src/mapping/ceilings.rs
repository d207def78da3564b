//! Price ceilings (HET) per kilogram, litre or piece, as data
//! (`mappings/ceilings.toml`): per local category, optionally per grade (a
//! word the product's name carries), per zone, from the day each applies.
//! A regulation that changes adds a row with a new date; the one in force
//! on the day is used.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use toml::Spanned;

use super::{MappingError, MappingSource, line_of};
use crate::domain::product::Measure;

/// One ceiling as the file writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCeiling {
    category: String,
    #[serde(default)]
    name_contains: Option<String>,
    per: String,
    price: String,
    #[serde(default)]
    zone: Option<String>,
    from: String,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    zone: String,
    #[serde(default)]
    ceiling: Vec<Spanned<RawCeiling>>,
}

/// A ceiling in force from a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ceiling {
    /// The local category (lower case).
    pub category: String,
    /// Only for products whose name has this word (lower case): a grade.
    pub name_contains: Option<String>,
    pub per: Measure,
    /// Whole rupiah per `per`, PPN included (a retail price).
    pub price: Decimal,
    /// `None`: nationwide.
    pub zone: Option<String>,
    pub from: NaiveDate,
    /// The regulation, as messages name it.
    pub source: String,
    /// `HET Rp14.900/kg (Perbadan 5/2024, berlaku sejak 1 Juni 2024)`:
    /// written once, when the file is read, for the messages that name it.
    pub het: String,
    /// The warning of a product whose net content is unknown, written once.
    pub unknown_message: String,
}

/// Every ceiling, for the zone this deployment sells in.
#[derive(Debug, Clone, Default)]
pub struct Ceilings {
    pub zone: String,
    pub rows: Vec<Ceiling>,
}

impl Ceilings {
    pub fn load(source: &MappingSource) -> Result<Self, MappingError> {
        let (path, text) = source.read("ceilings.toml")?;
        Self::parse(&text).map_err(|(offset, reason)| MappingError::Invalid { path, line: line_of(&text, offset), reason })
    }

    /// Reads the file; the error has the byte offset of the row at fault.
    pub fn parse(text: &str) -> Result<Self, (usize, String)> {
        let raw: RawFile = toml::from_str(text).map_err(|e| (e.span().map_or(0, |s| s.start), e.message().trim().to_owned()))?;
        let mut rows = Vec::with_capacity(raw.ceiling.len());
        for row in &raw.ceiling {
            let at = |reason: String| (row.span().start, reason);
            let r = row.get_ref();
            let per = Measure::parse(&r.per).ok_or_else(|| at(format!("per {:?} must be kg, liter or butir", r.per)))?;
            let price: Decimal = r.price.trim().parse().map_err(|_| at(format!("price {:?} is not a whole number of rupiah", r.price)))?;
            if price <= Decimal::ZERO || !price.fract().is_zero() {
                return Err(at(format!("price {:?} must be whole rupiah above 0", r.price)));
            }
            let from = NaiveDate::parse_from_str(&r.from, "%Y-%m-%d").map_err(|_| at(format!("from {:?} must be a date, YYYY-MM-DD", r.from)))?;
            if r.source.trim().is_empty() {
                return Err(at("source must name the regulation".into()));
            }
            let het = format!(
                "HET {}/{} ({}, berlaku sejak {})",
                crate::domain::money::format_rupiah(price),
                per.as_str(),
                r.source.trim(),
                crate::domain::time::show_date(from)
            );
            let unknown_message = format!("isi bersih tidak diketahui: {het} tidak bisa dicek; isi kolom isi_bersih, mis. 25 kg");
            rows.push(Ceiling {
                het,
                unknown_message,
                category: r.category.trim().to_lowercase(),
                name_contains: r.name_contains.as_deref().map(|w| w.trim().to_lowercase()).filter(|w| !w.is_empty()),
                per,
                price,
                zone: r.zone.clone().filter(|z| !z.trim().is_empty()),
                from,
                source: r.source.trim().to_owned(),
            });
        }
        Ok(Self { zone: raw.zone, rows })
    }

    /// The ceiling in force on `day` for a product of `category` named
    /// `name`, in this deployment's zone: of the rows of the category and
    /// zone (or nationwide) that apply by then, those of a grade the name
    /// has come before those without a grade; then the latest.
    pub fn in_force(&self, category: &str, name: &str, day: NaiveDate) -> Option<&Ceiling> {
        let mut rows = self.rows.iter().filter(|c| c.category == category && c.from <= day && c.zone.as_deref().is_none_or(|z| z == self.zone)).peekable();
        // Most products are in no category with a ceiling: their name is not even looked at.
        rows.peek()?;
        let name = name.to_lowercase();
        rows.filter(|c| c.name_contains.as_deref().is_none_or(|w| name.contains(w))).max_by_key(|c| (c.name_contains.is_some(), c.from))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
zone = "1"
[[ceiling]]
category = "beras"
name_contains = "premium"
per = "kg"
price = "13900"
zone = "1"
from = "2023-03-01"
source = "old rule"
[[ceiling]]
category = "beras"
name_contains = "premium"
per = "kg"
price = "14900"
zone = "1"
from = "2024-06-01"
source = "new rule"
[[ceiling]]
category = "beras"
name_contains = "premium"
per = "kg"
price = "15400"
zone = "2"
from = "2024-06-01"
source = "zone 2"
[[ceiling]]
category = "beras"
per = "kg"
price = "12500"
zone = "1"
from = "2024-06-01"
source = "medium"
"#;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_ceiling_in_force_follows_the_date_the_zone_and_the_grade() {
        let c = Ceilings::parse(FILE).unwrap();
        let price = |name: &str, d: &str| c.in_force("beras", name, day(d)).map(|c| c.price.to_string());
        assert_eq!(price("Beras Premium 25 kg", "2024-05-31").as_deref(), Some("13900"), "the day before the change");
        assert_eq!(price("Beras Premium 25 kg", "2024-06-01").as_deref(), Some("14900"), "from the day of the change");
        assert_eq!(price("Beras Medium 5 kg", "2024-06-01").as_deref(), Some("12500"), "a name without the grade gets the row without one");
        assert_eq!(price("Beras Premium", "2023-01-01"), None, "nothing in force yet");
        assert_eq!(c.in_force("gula pasir", "Gula 1 kg", day("2025-01-01")), None);
    }

    #[test]
    fn a_bad_row_is_named_by_its_place() {
        let bad = FILE.replace("price = \"14900\"", "price = \"14.900,5\"");
        let (offset, reason) = Ceilings::parse(&bad).unwrap_err();
        assert!(reason.contains("14.900,5"), "{reason}");
        assert_eq!(line_of(&bad, offset), 11, "the row's table header line");
        assert!(Ceilings::parse(&FILE.replace("per = \"kg\"", "per = \"karung\"")).unwrap_err().1.contains("kg, liter or butir"));
    }
}
