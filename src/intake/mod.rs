//! Intake: reading what cooperatives have (products, the cooperatives
//! themselves) from CSV and XLSX files into the store.
//!
//! A bad row is reported with file, row, column and reason and written to a
//! rejects file beside the input, while the good rows go in. Rows are upserted,
//! so importing the same file twice changes nothing.

pub mod columns;
pub mod cooperatives;
mod error;
pub use crate::domain::number;
pub mod products;
mod rejects;
pub mod source;
pub mod template;
pub mod workbook;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use serde::Serialize;

pub use error::ImportError;

use crate::config::ImportSettings;
use crate::store::products::{Present, UpsertCounts};
use crate::store::{Store, runs};
use columns::{CellIssue, Column, Header, RowView};
use rejects::RejectsWriter;
use source::FileKind;

/// A batch being written to the store while the next one is parsed.
type BatchWrite<'a> = Pin<Box<dyn Future<Output = Result<UpsertCounts, ImportError>> + 'a>>;

/// How many rejected rows a report keeps for display; all of them go to the rejects file.
const SHOWN_REJECTS: usize = 50;
const PROGRESS_EVERY: u64 = 10_000;

/// One kind of file an import understands.
pub(crate) trait RowImport {
    type Item;
    const KIND: &'static str;
    fn columns(&self) -> &'static [Column];
    /// The one cooperative every row is for, when the import is for one (its run concerns it).
    fn cooperative(&self) -> Option<String> {
        None
    }
    /// Checks the header beyond the required columns.
    fn check_header(&mut self, _header: &Header) -> Result<(), crate::domain::DomainError> {
        Ok(())
    }
    /// Parses a row; every problem goes into `view.issues`.
    fn parse(&mut self, view: &mut RowView<'_>) -> Option<Self::Item>;
    /// Writes a batch in one transaction. It takes no `self`, so the next
    /// batch can be parsed while this one is written.
    /// `present` names the columns the file has: a column it lacks leaves
    /// each stored value alone.
    fn write(store: &Store, present: &Present, batch: Vec<Self::Item>) -> impl Future<Output = Result<UpsertCounts, ImportError>>;
}

/// Options every import takes.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Validate and report only; write nothing to the database.
    pub dry_run: bool,
    /// The XLSX sheet to read; the first when unset.
    pub sheet: Option<String>,
}

/// A rejected row.
#[derive(Debug, Clone, Serialize)]
pub struct RejectedRow {
    pub row: u64,
    pub issues: Vec<CellIssue>,
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub file: PathBuf,
    pub dry_run: bool,
    pub rows: u64,
    pub accepted: u64,
    pub written: UpsertCounts,
    pub rejected: u64,
    /// The first rejected rows, for display.
    pub shown_rejects: Vec<RejectedRow>,
    pub rejects_file: Option<PathBuf>,
}

impl ImportReport {
    /// `file: row 12, column H (harga): price is negative`, one line per problem.
    pub fn reject_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for r in &self.shown_rejects {
            for issue in &r.issues {
                let at = if issue.column.is_empty() { String::new() } else { format!(", column {}", issue.column) };
                lines.push(format!("{}: row {}{at}: {}", self.file.display(), r.row, issue.problem));
            }
        }
        if self.rejected > self.shown_rejects.len() as u64 {
            lines.push(format!("... and {} more rejected rows", self.rejected - self.shown_rejects.len() as u64));
        }
        lines
    }

    /// Changes worth a look that are not errors: members renamed by the import.
    pub fn notice_lines(&self) -> Vec<String> {
        self.written
            .renamed
            .iter()
            .map(|r| {
                format!(
                    "{}: member {} of {} renamed from {:?} to {:?} (the name in the file wins; fix the file if that is wrong)",
                    self.file.display(),
                    r.member,
                    r.cooperative,
                    r.old_name,
                    r.new_name
                )
            })
            .collect()
    }

    /// The one-line summary with the counts.
    pub fn summary(&self) -> String {
        let w = &self.written;
        let done = if self.dry_run {
            format!("{} valid (dry run: nothing written)", self.accepted)
        } else {
            let cleared = if w.cleared > 0 { format!(", {} stored values cleared by empty cells", w.cleared) } else { String::new() };
            format!("{} imported ({} new, {} updated, {} unchanged{cleared})", self.accepted, w.inserted, w.updated, w.unchanged)
        };
        let rejects = match &self.rejects_file {
            Some(p) => format!("; rejected rows written to {}", p.display()),
            None => String::new(),
        };
        format!("{}: {} rows read, {done}, {} rejected{rejects}", self.file.display(), self.rows, self.rejected)
    }
}

/// Reads the header: the first row that is not blank, its columns resolved
/// against the import's (every one it needs present), and the columns the
/// file has.
async fn read_header<I: RowImport>(
    import: &mut I,
    rows: &mut tokio::sync::mpsc::Receiver<Result<source::RawRow, ImportError>>,
    path: &Path,
) -> Result<(columns::Header, Present), ImportError> {
    let header_row = loop {
        match rows.recv().await {
            None => return Err(ImportError::Empty { path: path.to_owned() }),
            Some(row) => {
                let row = row?;
                if !row.cells.iter().all(source::Cell::is_blank) {
                    break row;
                }
            }
        }
    };
    if header_row.cells.iter().any(|c| matches!(c, source::Cell::BadUtf8(_))) {
        return Err(ImportError::HeaderNotUtf8 { path: path.to_owned(), row: header_row.line });
    }
    let spec = import.columns();
    let header_error = |problem: crate::domain::DomainError, header: &source::RawRow| ImportError::Headers {
        path: path.to_owned(),
        row: header.line,
        problem,
        found: header.cells.iter().map(|c| format!("{:?}", c.display().trim())).collect::<Vec<_>>().join(", "),
    };
    let header = columns::resolve(spec, &header_row).map_err(|p| header_error(p, &header_row))?;
    import.check_header(&header).map_err(|p| header_error(p, &header_row))?;
    let present = Present(spec.iter().enumerate().filter(|(i, _)| header.has(*i)).map(|(_, c)| c.header.to_owned()).collect());
    let unused = header.unused();
    if !unused.is_empty() {
        tracing::info!(file = %path.display(), columns = ?unused, "ignoring columns this import does not use");
    }
    Ok((header, present))
}

/// Reads `path` and imports it with `import`. `None` for `store` validates only.
pub(crate) async fn run<I: RowImport>(
    import: &mut I,
    store: Option<&Store>,
    path: &Path,
    options: &ImportOptions,
    settings: &ImportSettings,
) -> Result<ImportReport, ImportError> {
    let (kind, mut rows) =
        source::open(path, options.sheet.as_deref(), settings.max_file_bytes, crate::intake::workbook::WorkbookLimits::from_settings(settings))?;
    let (header, present) = read_header(import, &mut rows, path).await?;
    let spec = import.columns();

    // The input's own separator, so the rejects open as the input did; `;` for
    // workbooks, as Excel in Indonesian locales expects.
    let delimiter = match kind {
        FileKind::Csv { delimiter } => delimiter,
        FileKind::Xlsx => b';',
    };
    // A dry run writes nothing at all: no rejects file, and an old one stays.
    let rejects_path = (!options.dry_run).then(|| source::rejects_path(path));
    let mut rejects = RejectsWriter::new(rejects_path, delimiter, header.names.clone());
    let mut report = ImportReport {
        file: path.to_owned(),
        dry_run: options.dry_run,
        rows: 0,
        accepted: 0,
        written: UpsertCounts::default(),
        rejected: 0,
        shown_rejects: Vec::new(),
        rejects_file: None,
    };
    let run_id = match store {
        Some(s) => Some(runs::start_for(s, I::KIND, import.cooperative().as_deref()).await?),
        None => None,
    };
    let batch_size = settings.batch_size.max(1);
    let mut input = Input { rows, spec, header: &header, path, rejects: &mut rejects, batch_size };
    let result: Result<(), ImportError> = async {
        // Parse batch n+1 while batch n is being written.
        let mut writing: Option<BatchWrite<'_>> = None;
        loop {
            let fill = input.next_batch(import, &mut report);
            let (batch, more) = match writing.take() {
                Some(write) => {
                    let (filled, written) = tokio::join!(fill, write);
                    report.written.add(written?);
                    filled?
                }
                None => fill.await?,
            };
            if let (Some(store), false) = (store, batch.is_empty()) {
                writing = Some(Box::pin(I::write(store, &present, batch)));
            }
            // A stop request ends the import at this batch boundary, once the batch in hand is written.
            let stop = crate::shutdown::signal();
            if !more || stop.is_some() {
                if let Some(write) = writing.take() {
                    report.written.add(write.await?);
                }
                return match stop {
                    Some(signal) if more => Err(ImportError::Interrupted {
                        path: path.to_owned(),
                        signal: crate::shutdown::signal_name(signal),
                        rows: report.rows,
                        accepted: report.accepted,
                    }),
                    _ => Ok(()),
                };
            }
        }
    }
    .await;
    // The run is finished whatever happens next, even when the rejects file cannot be written.
    let rejects_result = rejects.finish();
    let result = match (result, rejects_result) {
        (Ok(()), Ok(file)) => {
            report.rejects_file = file;
            Ok(())
        }
        (Ok(()), Err(e)) | (Err(e), _) => Err(e),
    };
    if let (Some(store), Some(id)) = (store, run_id) {
        let status = match (&result, report.rejected) {
            (Err(ImportError::Interrupted { .. }), _) => runs::RunStatus::Interrupted,
            (Err(_), _) => runs::RunStatus::Failed,
            (Ok(()), 0) => runs::RunStatus::Succeeded,
            (Ok(()), _) => runs::RunStatus::Partial,
        };
        let stats = serde_json::json!({
            "file": path.display().to_string(), "rows": report.rows, "accepted": report.accepted,
            "rejected": report.rejected, "written": report.written,
        });
        let error = result.as_ref().err().map(ImportError::run_error);
        runs::finish(store, id, status, stats, error).await?;
    }
    result.map(|()| report)
}

/// The rows still to read, and where rejected ones go.
struct Input<'a> {
    rows: tokio::sync::mpsc::Receiver<Result<source::RawRow, ImportError>>,
    spec: &'static [Column],
    header: &'a Header,
    path: &'a Path,
    rejects: &'a mut RejectsWriter,
    batch_size: usize,
}

impl Input<'_> {
    /// Parses rows until a batch is full; `false` once the file is done.
    async fn next_batch<I: RowImport>(&mut self, import: &mut I, report: &mut ImportReport) -> Result<(Vec<I::Item>, bool), ImportError> {
        let mut batch = Vec::with_capacity(self.batch_size);
        while batch.len() < self.batch_size {
            let Some(row) = self.rows.recv().await else { return Ok((batch, false)) };
            let row = row?;
            if row.cells.iter().all(source::Cell::is_blank) {
                continue;
            }
            report.rows += 1;
            let mut view = RowView::new(self.spec, self.header, &row);
            match import.parse(&mut view) {
                Some(item) if view.issues.is_empty() => {
                    report.accepted += 1;
                    batch.push(item);
                }
                _ => reject(report, self.rejects, &view)?,
            }
            if report.rows.is_multiple_of(PROGRESS_EVERY) {
                tracing::info!(file = %self.path.display(), rows = report.rows, accepted = report.accepted, rejected = report.rejected, "importing");
            }
        }
        Ok((batch, true))
    }
}

fn reject(report: &mut ImportReport, rejects: &mut RejectsWriter, view: &RowView<'_>) -> Result<(), ImportError> {
    let issues: Vec<CellIssue> = if view.issues.is_empty() {
        let problem = crate::domain::DomainError::new("unreadable_row", "row could not be read", "baris tidak dapat dibaca");
        vec![CellIssue { column: String::new(), field: "", problem }]
    } else {
        view.issues.clone()
    };
    report.rejected += 1;
    rejects.write(view.line(), &issues, &view.raw_values())?;
    if report.shown_rejects.len() < SHOWN_REJECTS {
        report.shown_rejects.push(RejectedRow { row: view.line(), issues });
    }
    Ok(())
}
