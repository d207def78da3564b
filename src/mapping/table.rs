//! Lookup tables: CSV files under `mappings/tables/`. The first column is the
//! key; an `aliases` column, when present, adds other spellings of the key
//! (separated by `|`). Keys match ignoring case, spacing and a trailing dot.

use std::path::PathBuf;

use rustc_hash::FxHashMap;

use super::{MappingError, MappingSource};
use crate::domain::tidy;

#[derive(Debug, Clone)]
pub struct LookupTable {
    pub name: String,
    pub path: PathBuf,
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
    index: FxHashMap<String, usize>,
}

impl LookupTable {
    /// Loads `tables/{name}.csv`.
    pub fn load(source: &MappingSource, name: &str) -> Result<Self, MappingError> {
        let (path, text) = source.read(&format!("tables/{name}.csv"))?;
        let invalid = |line: u64, reason: String| MappingError::Invalid { path: path.clone(), line, reason };
        let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
        let columns: Vec<String> = reader.headers().map_err(|e| invalid(1, format!("bad header: {e}")))?.iter().map(str::to_owned).collect();
        if columns.is_empty() || columns[0].is_empty() {
            return Err(invalid(1, "the first column must name the key".into()));
        }
        let aliases = columns.iter().position(|c| c == "aliases");
        let mut table = Self { name: name.to_owned(), path: path.clone(), columns, rows: Vec::new(), index: FxHashMap::default() };
        for record in reader.records() {
            let record = record.map_err(|e| invalid(e.position().map_or(0, |p| p.line()), format!("bad row: {e}")))?;
            let line = record.position().map_or(0, |p| p.line());
            if record.len() != table.columns.len() {
                return Err(invalid(line, format!("has {} fields, the header has {}", record.len(), table.columns.len())));
            }
            let row: Vec<String> = record.iter().map(str::to_owned).collect();
            let at = table.rows.len();
            let names = std::iter::once(row[0].as_str()).chain(aliases.map_or("", |a| row[a].as_str()).split('|'));
            for name in names {
                let key = normalise(name);
                if key.is_empty() {
                    continue;
                }
                if let Some(&other) = table.index.get(&key)
                    && other != at
                {
                    return Err(invalid(line, format!("name {key:?} already belongs to {:?}", table.rows[other][0])));
                }
                table.index.insert(key, at);
            }
            if normalise(&row[0]).is_empty() {
                return Err(invalid(line, format!("the key ({}) is empty", table.columns[0])));
            }
            table.rows.push(row);
        }
        Ok(table)
    }

    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// The row of an already normalised key (as products store units and categories).
    pub fn row(&self, key: &str) -> Option<&[String]> {
        self.index.get(key).map(|&i| self.rows[i].as_slice())
    }

    /// The row for what a user typed.
    pub fn resolve(&self, raw: &str) -> Option<&[String]> {
        self.row(&normalise(raw))
    }

    /// The keys (first column), in file order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.rows.iter().map(|r| r[0].as_str())
    }
}

/// A spreadsheet's header as it is matched: case, spaces and punctuation
/// ignored, so `Nama Produk`, `nama_produk` and `NAMA-PRODUK` are one header.
pub fn header_key(raw: &str) -> String {
    raw.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// The headers a column may have, compared as `table::header_key` does.
#[derive(Debug, Clone, Default)]
pub struct Headers(Vec<String>);

impl Headers {
    pub fn of(names: &[String]) -> Self {
        Self(names.iter().map(|n| header_key(n)).filter(|k| !k.is_empty()).collect())
    }

    /// Whether a header cell, as written, is this column.
    pub fn matches(&self, cell: &str) -> bool {
        let key = header_key(cell);
        !key.is_empty() && self.0.contains(&key)
    }
}

/// A day written in one of `formats` (chrono's strftime notation; the
/// first that reads it), a time of day after it ignored.
pub fn date_in(text: &str, formats: &[String]) -> Option<chrono::NaiveDate> {
    let t = text.trim();
    formats.iter().find_map(|f| chrono::NaiveDate::parse_from_str(t, f).ok().or_else(|| chrono::NaiveDateTime::parse_from_str(t, f).ok().map(|d| d.date())))
}

/// How keys are compared: tidied, lower-case, without a trailing dot.
pub fn normalise(raw: &str) -> String {
    tidy(raw).trim_end_matches('.').to_lowercase()
}
