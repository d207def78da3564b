//! Errors that stop a whole import (as opposed to a bad row, which is reported
//! and skipped while the good rows go in).

use std::path::PathBuf;

use crate::mapping::MappingError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is empty: nothing to import")]
    Empty { path: PathBuf },
    #[error("{path} is {size} bytes, over the {limit}-byte limit (import.max_file_bytes): split it into smaller files")]
    TooLarge { path: PathBuf, size: u64, limit: u64 },
    #[error("{path} is not a CSV or XLSX file ({what}): save it from your spreadsheet as CSV UTF-8 or as an Excel workbook (.xlsx)")]
    NotASpreadsheet { path: PathBuf, what: &'static str },
    #[error("{path} is {what}, not a file: give the path of a CSV or XLSX file")]
    NotRegularFile { path: PathBuf, what: &'static str },
    #[error("{path}: cannot read the workbook: {reason}")]
    WorkbookRefused {
        path: PathBuf,
        #[source]
        reason: super::workbook::WorkbookRefused,
    },
    #[error("{path}: the header row (row {row}) is not valid UTF-8: save the file as CSV UTF-8")]
    HeaderNotUtf8 { path: PathBuf, row: u64 },
    #[error("{path}: the header row (row {row}) {problem}; found columns: {found}. Start from the template (katalog-bridge import template FILE)")]
    Headers { path: PathBuf, row: u64, problem: String, found: String },
    #[error("{path}: cannot read the workbook: {detail}")]
    Workbook { path: PathBuf, detail: String },
    #[error("{path}: there is no sheet named {sheet:?}; the sheets are: {available}")]
    NoSuchSheet { path: PathBuf, sheet: String, available: String },
    #[error("{path}: row {row}: {detail}")]
    Csv { path: PathBuf, row: u64, detail: String },
    #[error("cooperative {0} is not registered: import the cooperatives first (katalog-bridge import cooperatives FILE)")]
    UnknownCooperative(String),
    #[error("cannot write the rejects file {path}: {source}")]
    Rejects {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}: interrupted by {signal} after {rows} rows; the {accepted} accepted rows read so far are saved: import the file again to finish (saved rows are not written twice)"
    )]
    Interrupted { path: PathBuf, signal: &'static str, rows: u64, accepted: u64 },
    #[error("{path} already exists: not overwritten (it may be a filled-in sheet); choose another name, or add --force")]
    TemplateExists { path: PathBuf },
    #[error("{path}: a template is written as .csv or .xlsx; give a file name ending in one of them")]
    TemplateName { path: PathBuf },
    #[error(transparent)]
    Mapping(#[from] MappingError),
    #[error(transparent)]
    Store(#[from] StoreError),
}
