//! Declarative mappings and lookup tables from `mappings/`.
//!
//! The files in the repository's `mappings/` folder are compiled into the
//! binary as the default; `mappings_dir` in the configuration points at an
//! edited copy instead.

pub mod units;

use std::path::{Path, PathBuf};

/// A problem in a mapping file or table, with where it is.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, #[source] source: std::io::Error },
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
                let text = BUILT_IN
                    .iter()
                    .find(|(name, _)| *name == relative)
                    .map(|(_, text)| (*text).to_owned())
                    .ok_or_else(|| MappingError::Read {
                        path: PathBuf::from("mappings").join(relative),
                        source: std::io::ErrorKind::NotFound.into(),
                    })?;
                Ok((PathBuf::from("mappings").join(relative), text))
            }
            Self::Dir(dir) => {
                let path = dir.join(relative);
                let text = std::fs::read_to_string(&path).map_err(|source| MappingError::Read { path: path.clone(), source })?;
                Ok((path, text))
            }
        }
    }
}

const BUILT_IN: &[(&str, &str)] = &[("tables/units.csv", include_str!("../../mappings/tables/units.csv"))];
