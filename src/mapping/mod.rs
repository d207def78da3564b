//! Declarative mappings from `mappings/`: lookup tables, tax rules, and one
//! mapping file per catalogue format, compiled once into a [`plan::Plan`].
//!
//! The files in the repository's `mappings/` folder are compiled into the
//! binary as the default; `mappings_dir` in the configuration points at an
//! edited copy instead.

pub mod banks;
pub mod ceilings;
pub mod coretax;
pub mod input;
pub mod payment;
pub mod plan;
pub mod rules;
pub mod rup_keywords;
pub mod table;
pub mod tax;
pub mod units;
pub mod vocab;

use std::path::{Path, PathBuf};

/// A problem in a mapping file or table, with where it is.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: {reason}")]
    Invalid { path: PathBuf, line: u64, reason: String },
}

/// Where the mapping files come from.
#[derive(Debug, Clone, Default)]
pub enum MappingSource {
    /// The copy compiled into the binary.
    #[default]
    BuiltIn,
    Dir(PathBuf),
}

impl MappingSource {
    pub fn from_config(dir: Option<&Path>) -> Self {
        dir.map_or(Self::BuiltIn, |d| Self::Dir(d.to_owned()))
    }

    /// The text of a file under `mappings/`, and the path to report it by.
    pub fn read(&self, relative: &str) -> Result<(PathBuf, String), MappingError> {
        match self {
            Self::BuiltIn => {
                let path = PathBuf::from("mappings").join(relative);
                let text = BUILT_IN
                    .iter()
                    .find(|(name, _)| *name == relative)
                    .map(|(_, text)| (*text).to_owned())
                    .ok_or(MappingError::Read { path: path.clone(), source: std::io::ErrorKind::NotFound.into() })?;
                Ok((path, text))
            }
            Self::Dir(dir) => {
                let path = dir.join(relative);
                let text = std::fs::read_to_string(&path).map_err(|source| MappingError::Read { path: path.clone(), source })?;
                Ok((path, text))
            }
        }
    }

    /// The names of the lookup tables available (`units`, `categories`, ...).
    pub fn table_names(&self) -> Vec<String> {
        match self {
            Self::BuiltIn => BUILT_IN.iter().filter_map(|(n, _)| n.strip_prefix("tables/").and_then(|n| n.strip_suffix(".csv"))).map(str::to_owned).collect(),
            Self::Dir(dir) => std::fs::read_dir(dir.join("tables"))
                .map(|entries| {
                    let mut names: Vec<String> = entries.flatten().filter_map(|e| e.file_name().to_str()?.strip_suffix(".csv").map(str::to_owned)).collect();
                    names.sort();
                    names
                })
                .unwrap_or_default(),
        }
    }
}

/// The names of the shipped mapping files.
pub(crate) fn built_in_names() -> impl Iterator<Item = &'static str> {
    BUILT_IN.iter().map(|(name, _)| *name)
}

const BUILT_IN: &[(&str, &str)] = &[
    ("tables/categories.csv", include_str!("../../mappings/tables/categories.csv")),
    ("calendar/holidays-id.csv", include_str!("../../mappings/calendar/holidays-id.csv")),
    ("tables/units.csv", include_str!("../../mappings/tables/units.csv")),
    ("tax.toml", include_str!("../../mappings/tax.toml")),
    ("payment.toml", include_str!("../../mappings/payment.toml")),
    ("coretax.toml", include_str!("../../mappings/coretax.toml")),
    ("coretax-buyers.csv", include_str!("../../mappings/coretax-buyers.csv")),
    ("banks/generic.toml", include_str!("../../mappings/banks/generic.toml")),
    ("ceilings.toml", include_str!("../../mappings/ceilings.toml")),
    ("rup-keywords.csv", include_str!("../../mappings/rup-keywords.csv")),
    ("katalog-v6.toml", include_str!("../../mappings/katalog-v6.toml")),
    ("katalog-v6-xlsx.toml", include_str!("../../mappings/katalog-v6-xlsx.toml")),
    ("peppol-catalogue.toml", include_str!("../../mappings/peppol-catalogue.toml")),
];

/// 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> u64 {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|b| **b == b'\n').count() as u64 + 1
}

/// The working-day calendar (`calendar/holidays-id.csv`).
pub fn working_calendar(source: &MappingSource, cuti_bersama_is_working_day: bool) -> Result<crate::domain::calendar::WorkingCalendar, MappingError> {
    let (path, text) = source.read("calendar/holidays-id.csv")?;
    let origin = crate::domain::calendar::CalendarOrigin { path: path.display().to_string(), built_in: matches!(source, MappingSource::BuiltIn) };
    crate::domain::calendar::WorkingCalendar::parse(&text, cuti_bersama_is_working_day).map(|c| c.from(origin)).map_err(|(line, e)| MappingError::Invalid {
        path,
        line,
        reason: e.english,
    })
}
