//! The unit vocabulary: what cooperative spreadsheets write (`Kg`, `sak`,
//! `pcs`), resolved to one local unit code, with that unit's codes in each
//! target vocabulary (UN/ECE Rec 20/21, PEPPOL, katalog v6).

use std::collections::HashMap;
use std::path::PathBuf;

use super::{MappingError, MappingSource};
use crate::domain::tidy;

pub const UNITS_TABLE: &str = "tables/units.csv";

#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Unit {
    /// The local unit code products are stored with.
    pub unit: String,
    /// Other spellings, separated by `|`.
    pub aliases: String,
    /// UN/ECE Recommendation 20 or 21 code (KGM, H87, BG, ...).
    pub rec20: String,
    /// The code PEPPOL accepts (Rec 21 codes take an X prefix: XBG).
    pub peppol: String,
    /// The unit name on the katalog v6 form.
    pub v6_unit: String,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct UnitTable {
    units: Vec<Unit>,
    by_name: HashMap<String, usize>,
    pub path: PathBuf,
}

impl UnitTable {
    pub fn load(source: &MappingSource) -> Result<Self, MappingError> {
        let (path, text) = source.read(UNITS_TABLE)?;
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let mut table = Self { units: Vec::new(), by_name: HashMap::new(), path: path.clone() };
        for record in reader.deserialize::<Unit>() {
            let invalid = |line, reason: String| MappingError::Invalid { path: path.clone(), line, reason };
            let unit = record.map_err(|e| {
                invalid(e.position().map_or(0, |p| p.line()), format!("bad row: {e}"))
            })?;
            let line = table.units.len() as u64 + 2;
            if unit.unit.trim().is_empty() || unit.rec20.trim().is_empty() || unit.peppol.trim().is_empty() {
                return Err(invalid(line, "unit, rec20 and peppol must not be empty".into()));
            }
            let index = table.units.len();
            for name in std::iter::once(unit.unit.as_str()).chain(unit.aliases.split('|')) {
                let key = normalise(name);
                if key.is_empty() {
                    continue;
                }
                if let Some(&other) = table.by_name.get(&key) {
                    if other != index {
                        return Err(invalid(line, format!("name {key:?} already belongs to unit {:?}", table.units[other].unit)));
                    }
                }
                table.by_name.insert(key, index);
            }
            table.units.push(unit);
        }
        Ok(table)
    }

    /// Resolves what a user typed (any case, stray spaces, trailing dot).
    pub fn resolve(&self, raw: &str) -> Option<&Unit> {
        self.by_name.get(&normalise(raw)).map(|&i| &self.units[i])
    }

    pub fn get(&self, code: &str) -> Option<&Unit> {
        self.by_name.get(code).map(|&i| &self.units[i])
    }

    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.units.iter().map(|u| u.unit.as_str())
    }
}

fn normalise(raw: &str) -> String {
    tidy(raw).trim_end_matches('.').to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_spellings_to_one_unit() {
        let t = UnitTable::load(&MappingSource::BuiltIn).unwrap();
        assert_eq!(t.resolve("  KG ").unwrap().unit, "kg");
        assert_eq!(t.resolve("Sak").unwrap().peppol, "XBG");
        assert_eq!(t.resolve("Kardus").unwrap().unit, "dus");
        assert_eq!(t.resolve("pcs.").unwrap().rec20, "H87");
        assert!(t.resolve("gantang").is_none());
    }

    #[test]
    fn a_name_used_twice_is_reported_with_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("tables")).unwrap();
        std::fs::write(
            dir.path().join("tables/units.csv"),
            "unit,aliases,rec20,peppol,v6_unit,description\nkg,kilo,KGM,KGM,Kilogram,x\ngram,kilo,GRM,GRM,Gram,y\n",
        )
        .unwrap();
        let err = UnitTable::load(&MappingSource::Dir(dir.path().to_owned())).unwrap_err().to_string();
        assert!(err.ends_with("units.csv:3: name \"kilo\" already belongs to unit \"kg\""), "{err}");
    }
}
