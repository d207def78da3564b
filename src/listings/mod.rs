//! The map job: every product of the store, mapped to one catalogue format,
//! validated, written out, and stored as a listing with its issues.
//! Products with blocking issues are not written; the others go ahead.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use futures_util::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::catalog::katalog_v6_xlsx::BulkUploadWriter;
use crate::catalog::peppol::{self, Action, CatalogueWriter};
use crate::catalog::{write_json, Format, PartFile};
use crate::mapping::plan::{Mapped, Plan};
use crate::mapping::rules::{Issue, Severity};
use crate::store::listings::{products_for_mapping, upsert_listings, ListingUpdate, MappingRow};
use crate::store::Store;

const STORE_BATCH: usize = 500;
/// A progress line is logged after this many products.
const PROGRESS_EVERY: u64 = 10_000;
/// Products whose issues a report keeps for display.
const SHOWN_ISSUES: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum ListingError {
    #[error("cannot write {path}: {source}")]
    Io { path: PathBuf, #[source] source: std::io::Error },
    #[error(transparent)]
    Workbook(#[from] crate::catalog::katalog_v6_xlsx::WorkbookError),
    #[error("{0} writes several files (one per {1}): give a folder with --out, or one cooperative with --cooperative")]
    NeedsFolder(&'static str, &'static str),
    #[error("interrupted by {0}: listings stored so far are kept, and no output file was written; run the command again")]
    Interrupted(&'static str),
    #[error("database query failed: {0}")]
    Store(#[from] sqlx::Error),
}

/// Where documents go: a file or folder, or standard output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Stdout,
    Path(PathBuf),
}

#[derive(Debug, Clone)]
pub struct MapOptions {
    pub cooperative: Option<String>,
    pub out: Output,
    /// The catalogue's issue date (today in Jakarta; fixed in tests).
    pub issue_date: NaiveDate,
}

/// The issues of one product.
#[derive(Debug, Clone, Serialize)]
pub struct ProductIssues {
    pub cooperative: String,
    pub member: String,
    pub sku: String,
    pub issues: Vec<Issue>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct MapReport {
    pub format: String,
    /// Products read (active and withdrawn).
    pub products: u64,
    /// Listings written to the output.
    pub written: u64,
    /// Products held back by a blocking issue.
    pub blocked: u64,
    /// Products with warnings only.
    pub with_warnings: u64,
    /// Withdrawn products sent as Delete lines (PEPPOL).
    pub deleted: u64,
    /// Products the catalogue already has as they are (PEPPOL: no line).
    pub unchanged: u64,
    pub outputs: Vec<String>,
    pub issues: Vec<ProductIssues>,
    pub products_with_issues: u64,
}

impl MapReport {
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{}: {} products, {} mapped, {} with blocking issues, {} with warnings",
            self.format, self.products, self.written, self.blocked, self.with_warnings
        );
        if self.deleted > 0 || self.unchanged > 0 {
            s.push_str(&format!(", {} withdrawn (Delete), {} unchanged", self.deleted, self.unchanged));
        }
        if !self.outputs.is_empty() {
            s.push_str(&format!("; written to {}", self.outputs.join(", ")));
        }
        s
    }

    /// `MJK-WATES WAT-01/BRS-5: blocking no_photo (foto): ...`, one line per issue.
    pub fn issue_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for p in &self.issues {
            for i in &p.issues {
                let level = match i.severity {
                    Severity::Blocking => "blocking",
                    Severity::Warning => "warning",
                };
                lines.push(format!("{} {}/{}: {level} {} ({}): {}", p.cooperative, p.member, p.sku, i.code.name(), i.field, i.message));
            }
        }
        if self.products_with_issues > self.issues.len() as u64 {
            lines.push(format!("... and {} more products with issues", self.products_with_issues - self.issues.len() as u64));
        }
        lines
    }
}

/// A document's destination: standard output, or a file that takes its name
/// only once complete.
enum Destination {
    Stdout(std::io::Stdout),
    File(PartFile),
}

impl Write for Destination {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Destination::Stdout(out) => out.write(buf),
            Destination::File(file) => file.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Destination::Stdout(out) => out.flush(),
            Destination::File(file) => file.flush(),
        }
    }
}

impl Destination {
    /// Flushes standard output, or gives the file its name.
    fn finish(self) -> std::io::Result<()> {
        match self {
            Destination::Stdout(mut out) => out.flush(),
            Destination::File(file) => file.commit().map(drop),
        }
    }
}

/// The sink of one format.
enum Sink {
    Json { out: BufWriter<Destination>, path: String },
    Xlsx(BulkUploadWriter),
    /// One file per cooperative in `dir`; standard output when `None`.
    Peppol { dir: Option<PathBuf> },
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> ListingError + '_ {
    move |source| ListingError::Io { path: path.to_owned(), source }
}

/// Maps every product (or one cooperative's) to `format`.
pub async fn map_products(store: &Store, plan: &Plan, format: Format, options: &MapOptions) -> Result<MapReport, ListingError> {
    let mut sink = match (format, &options.out) {
        (Format::KatalogV6, Output::Stdout) => Sink::Json { out: BufWriter::new(Destination::Stdout(std::io::stdout())), path: "-".into() },
        (Format::KatalogV6, Output::Path(p)) => {
            if let Some(parent) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(io_err(parent))?;
            }
            let file = PartFile::create(p).map_err(io_err(p))?;
            Sink::Json { out: BufWriter::with_capacity(1 << 20, Destination::File(file)), path: p.display().to_string() }
        }
        (Format::KatalogV6Xlsx, Output::Stdout) => return Err(ListingError::NeedsFolder("katalog-v6-xlsx", "category")),
        (Format::KatalogV6Xlsx, Output::Path(dir)) => {
            std::fs::create_dir_all(dir).map_err(io_err(dir))?;
            Sink::Xlsx(BulkUploadWriter::new(dir, plan))
        }
        (Format::PeppolCatalogue, Output::Stdout) if options.cooperative.is_none() => {
            return Err(ListingError::NeedsFolder("peppol-catalogue", "cooperative"))
        }
        (Format::PeppolCatalogue, Output::Stdout) => Sink::Peppol { dir: None },
        (Format::PeppolCatalogue, Output::Path(dir)) => {
            std::fs::create_dir_all(dir).map_err(io_err(dir))?;
            Sink::Peppol { dir: Some(dir.clone()) }
        }
    };
    let mut report = MapReport { format: format.name().into(), ..Default::default() };
    let mut updates: Vec<ListingUpdate> = Vec::with_capacity(STORE_BATCH);
    let mut seller_rows: Vec<MappingRow> = Vec::new();
    let mut rows = products_for_mapping(&store.pool, format.name(), options.cooperative.as_deref());
    let mut payload = Vec::with_capacity(1024);
    while let Some(row) = rows.next().await {
        let row = row?;
        report.products += 1;
        if report.products.is_multiple_of(PROGRESS_EVERY) {
            tracing::info!(format = format.name(), products = report.products, written = report.written, blocked = report.blocked, "mapping");
        }
        if matches!(sink, Sink::Peppol { .. }) {
            // A PEPPOL document holds one seller: gather its products first.
            if seller_rows.first().is_some_and(|r| r.seller.code != row.seller.code) {
                write_peppol_document(plan, &mut sink, &seller_rows, options, &mut report, &mut updates)?;
                seller_rows.clear();
            }
            seller_rows.push(row);
        } else if row.product.active {
            let mapped = plan.map(&row.product, &row.seller);
            let update = record(plan, &row, &mapped, &mut payload, &mut report);
            if !mapped.blocked() {
                report.written += 1;
                match &mut sink {
                    Sink::Json { out, path } => {
                        out.write_all(&payload).and_then(|()| out.write_all(b"\n")).map_err(io_err(Path::new(path)))?
                    }
                    Sink::Xlsx(w) => w.write(plan, &mapped)?,
                    Sink::Peppol { .. } => unreachable!("handled above"),
                }
            }
            updates.push(update);
        }
        if updates.len() >= STORE_BATCH {
            let mut conn = store.pool.acquire().await?;
            upsert_listings(&mut conn, format.name(), &updates).await?;
            updates.clear();
            if let Some(signal) = crate::shutdown::signal() {
                return Err(ListingError::Interrupted(crate::shutdown::signal_name(signal)));
            }
        }
    }
    drop(rows);
    if !seller_rows.is_empty() {
        write_peppol_document(plan, &mut sink, &seller_rows, options, &mut report, &mut updates)?;
    }
    let mut conn = store.pool.acquire().await?;
    upsert_listings(&mut conn, format.name(), &updates).await?;
    match sink {
        Sink::Json { out, path } => {
            let failed = io_err(Path::new(&path));
            out.into_inner().map_err(|e| failed(e.into_error()))?.finish().map_err(failed)?;
            report.outputs.push(path);
        }
        Sink::Xlsx(w) => report.outputs.extend(w.finish()?.into_iter().map(|(p, _)| p.display().to_string())),
        Sink::Peppol { .. } => {}
    }
    Ok(report)
}

/// The listing row for a mapped product; fills `payload` with its JSON.
fn record(plan: &Plan, row: &MappingRow, mapped: &Mapped<'_>, payload: &mut Vec<u8>, report: &mut MapReport) -> ListingUpdate {
    payload.clear();
    write_json(payload, plan, mapped).expect("writing to memory");
    let blocked = mapped.blocked();
    if blocked {
        report.blocked += 1;
    } else if !mapped.issues.is_empty() {
        report.with_warnings += 1;
    }
    if !mapped.issues.is_empty() {
        report.products_with_issues += 1;
        if report.issues.len() < SHOWN_ISSUES {
            report.issues.push(ProductIssues {
                cooperative: row.seller.code.clone(),
                member: row.product.member_code.clone(),
                sku: row.product.sku.clone(),
                issues: mapped.issues.clone(),
            });
        }
    }
    ListingUpdate {
        product_id: row.product.id,
        payload: serde_json::from_slice(payload).expect("our own JSON"),
        content_hash: hex::encode(Sha256::digest(&payload[..])),
        issues: serde_json::to_value(&mapped.issues).expect("issues serialise"),
        state: if blocked { "blocked" } else { "draft" },
    }
}

/// One cooperative's catalogue: Add lines for new products, Update for
/// changed ones, Delete for withdrawn ones the catalogue has; nothing for the rest.
fn write_peppol_document(
    plan: &Plan,
    sink: &mut Sink,
    rows: &[MappingRow],
    options: &MapOptions,
    report: &mut MapReport,
    updates: &mut Vec<ListingUpdate>,
) -> Result<(), ListingError> {
    let Sink::Peppol { dir } = sink else { return Ok(()) };
    let mut payload = Vec::with_capacity(1024);
    let mut lines: Vec<(usize, Action)> = Vec::new();
    let mapped: Vec<Mapped<'_>> = rows.iter().map(|r| plan.map(&r.product, &r.seller)).collect();
    for (i, (row, m)) in rows.iter().zip(&mapped).enumerate() {
        if !row.product.active {
            if row.submitted_hash.is_some() {
                lines.push((i, Action::Delete));
                report.deleted += 1;
            }
            continue;
        }
        let update = record(plan, row, m, &mut payload, report);
        if !m.blocked() {
            match &row.submitted_hash {
                None => lines.push((i, Action::Add)),
                Some(h) if *h != update.content_hash => lines.push((i, Action::Update)),
                Some(_) => report.unchanged += 1,
            }
        }
        updates.push(update);
    }
    let Some(&(first, _)) = lines.first() else { return Ok(()) };
    let seller = &rows[0].seller;
    let header_action = if rows.iter().any(|r| r.submitted_hash.is_some()) { Action::Update } else { Action::Add };
    let id = format!("{}-{}", seller.code, options.issue_date.format("%Y%m%d"));
    let name = format!("Katalog {}", seller.name);
    let header = peppol::Header { id: &id, name: &name, action: header_action, issue_date: options.issue_date };
    let (out, path) = match dir {
        Some(d) => {
            let path = d.join(format!("{}.xml", seller.code));
            (Destination::File(PartFile::create(&path).map_err(io_err(&path))?), path.display().to_string())
        }
        None => (Destination::Stdout(std::io::stdout()), "-".into()),
    };
    let p = PathBuf::from(&path);
    let mut writer = CatalogueWriter::start(out, plan, &header, &mapped[first]).map_err(io_err(&p))?;
    for &(i, action) in &lines {
        writer.line(plan, &mapped[i], action, "IDR").map_err(io_err(&p))?;
        if action != Action::Delete {
            report.written += 1;
        }
    }
    writer.finish().and_then(Destination::finish).map_err(io_err(&p))?;
    report.outputs.push(path);
    Ok(())
}
