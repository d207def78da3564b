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
    Headers { path: PathBuf, row: u64, problem: crate::domain::DomainError, found: String },
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

impl ImportError {
    /// The kind of error, as a run records it.
    pub fn run_error(&self) -> crate::store::runs::RunError {
        let code = match self {
            Self::Store(_) => "database",
            Self::Mapping(_) => "mapping",
            Self::Interrupted { .. } => "interrupted",
            Self::UnknownCooperative(_) => "configuration",
            _ => "file",
        };
        crate::store::runs::RunError::new(code, self)
    }

    /// The error in Bahasa Indonesia, for the dashboard's upload page, with
    /// `file` (the name the person gave the file) in place of the path.
    pub fn in_indonesian(&self, file: &str) -> String {
        use super::workbook::WorkbookRefused as W;
        match self {
            Self::Io { .. } | Self::Rejects { .. } => format!("{file} tidak dapat dibaca atau ditulis di server; coba lagi, atau hubungi penghubung kota"),
            Self::Empty { .. } => format!("{file} kosong: tidak ada yang diimpor"),
            Self::TooLarge { size, limit, .. } => {
                format!(
                    "{file} berukuran {} bita, melebihi batas {} bita: bagi menjadi beberapa berkas",
                    crate::domain::count_id(*size),
                    crate::domain::count_id(*limit)
                )
            }
            Self::NotASpreadsheet { .. } | Self::NotRegularFile { .. } => {
                format!("{file} bukan berkas CSV atau XLSX: simpan dari spreadsheet sebagai CSV UTF-8 atau buku kerja Excel (.xlsx)")
            }
            Self::WorkbookRefused { reason, .. } => {
                let why = match reason {
                    W::NotZip(_) | W::BadPart { .. } | W::BadSharedStrings(_) => "berkasnya rusak atau bukan buku kerja .xlsx",
                    W::TooManyParts(..) | W::TooLarge { .. } | W::SharedStringsTooLarge { .. } | W::TooManySharedStrings { .. } => {
                        "isinya terlalu besar untuk daftar produk: bagi menjadi beberapa berkas atau simpan sebagai CSV"
                    }
                };
                format!("{file}: buku kerja tidak dapat dibaca: {why}")
            }
            Self::Workbook { .. } => format!("{file}: buku kerja tidak dapat dibaca: simpan ulang dari spreadsheet sebagai .xlsx atau CSV UTF-8"),
            Self::HeaderNotUtf8 { row, .. } => format!("{file}: baris judul (baris {row}) bukan teks UTF-8: simpan berkas sebagai CSV UTF-8"),
            Self::Headers { row, problem, found, .. } => {
                format!("{file}: baris judul (baris {row}): {}; kolom yang ada: {found}. Mulailah dari templat di halaman ini", problem.indonesian)
            }
            Self::NoSuchSheet { sheet, available, .. } => format!("{file}: tidak ada lembar bernama {sheet:?}; lembar yang ada: {available}"),
            Self::Csv { row, .. } => format!("{file}: baris {row} tidak dapat dibaca sebagai CSV: periksa tanda kutipnya"),
            Self::UnknownCooperative(code) => format!("koperasi {code} belum terdaftar: impor daftar koperasi lebih dahulu"),
            Self::Interrupted { rows, accepted, .. } => format!(
                "{file}: impor dihentikan setelah {rows} baris; {accepted} baris yang diterima sudah tersimpan: unggah berkas itu lagi untuk menyelesaikannya"
            ),
            Self::TemplateExists { .. } | Self::TemplateName { .. } => format!("{file}: templat tidak dapat ditulis"),
            Self::Mapping(_) => "tabel pemetaan tidak dapat dibaca: hubungi penghubung kota".to_owned(),
            Self::Store(_) => "basis data sebentar tidak tersedia: coba lagi sebentar lagi".to_owned(),
        }
    }
}
