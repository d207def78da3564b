//! The unit vocabulary (`mappings/tables/units.csv`): what cooperative
//! spreadsheets write (`Kg`, `sak`, `pcs`), resolved to one local unit code,
//! with that unit's code in each target vocabulary.

use super::table::LookupTable;
use super::{MappingError, MappingSource};

pub const UNITS_TABLE: &str = "units";

#[derive(Debug, Clone)]
pub struct UnitTable {
    table: LookupTable,
}

impl UnitTable {
    pub fn load(source: &MappingSource) -> Result<Self, MappingError> {
        let table = LookupTable::load(source, UNITS_TABLE)?;
        for required in ["unit", "rec20", "peppol"] {
            if table.column(required).is_none() {
                return Err(MappingError::Invalid { path: table.path.clone(), line: 1, reason: format!("lacks the column {required}") });
            }
        }
        Ok(Self { table })
    }

    /// The local unit code for what a user typed (any case, stray spaces, trailing dot).
    pub fn resolve(&self, raw: &str) -> Option<&str> {
        self.table.resolve(raw).map(|row| row[0].as_str())
    }

    /// A column of a unit's row, e.g. `peppol` of `karung` is `XBG`.
    pub fn code(&self, unit: &str, column: &str) -> Option<&str> {
        let c = self.table.column(column)?;
        self.table.row(unit).map(|row| row[c].as_str()).filter(|v| !v.is_empty())
    }

    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.table.keys()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_spellings_to_one_unit() {
        let t = UnitTable::load(&MappingSource::BuiltIn).unwrap();
        assert_eq!(t.resolve("  KG "), Some("kg"));
        assert_eq!(t.code(t.resolve("Sak").unwrap(), "peppol"), Some("XBG"));
        assert_eq!(t.resolve("Kardus"), Some("dus"));
        assert_eq!(t.code(t.resolve("pcs.").unwrap(), "rec20"), Some("H87"));
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
        assert!(err.ends_with("units.csv:3: name \"kilo\" already belongs to \"kg\""), "{err}");
    }
}
