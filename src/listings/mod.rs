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
use crate::catalog::{Format, PartFile, write_json};
use crate::mapping::plan::{Mapped, Plan};
use crate::mapping::rules::{Issue, Severity};
use crate::store::listings::{ListingUpdate, MappingRow, products_for_mapping, write_listings};
use crate::store::{self, Store};

const STORE_BATCH: usize = 2000;
/// A progress line is logged after this many products.
const PROGRESS_EVERY: u64 = 10_000;
/// Products whose issues a report keeps for display.
const SHOWN_ISSUES: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum ListingError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Workbook(#[from] crate::catalog::katalog_v6_xlsx::WorkbookError),
    #[error("{0} writes several files (one per {1}): give a folder with --out, or one cooperative with --cooperative")]
    NeedsFolder(&'static str, &'static str),
    #[error(
        "--out {1} looks like a file name, but {0} writes one file per cooperative into a folder: give a folder (e.g. out/{0}), or - with --cooperative for standard output"
    )]
    FileNameForFolder(&'static str, PathBuf),
    #[error("cooperative {0} is not registered: check the code (katalog-bridge import cooperatives FILE registers them)")]
    UnknownCooperative(String),
    #[error(
        "interrupted by {0}: listings stored so far are kept, and so are the files of the cooperatives already finished (the one in progress was not written); run the command again"
    )]
    Interrupted(&'static str),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Where documents go: a file or folder, or standard output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Stdout,
    Path(PathBuf),
    /// No documents: only the drafts are stored (the publisher maps this way).
    Discard,
}

#[derive(Debug, Clone)]
pub struct MapOptions {
    pub cooperative: Option<String>,
    pub out: Output,
    /// The catalogue's issue date (today in Jakarta; fixed in tests).
    pub issue_date: NaiveDate,
    /// Where the world fetches the dashboard's photos (`Settings::photo_base`).
    pub photo_base: String,
    /// Only these products (by id), e.g. one sent now from its page.
    pub products: Option<Vec<i64>>,
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

/// One seller's output of one format: every format writes each cooperative's
/// listings apart (on the catalogue each cooperative is its own seller, and
/// uploads its own), streamed as its products arrive.
enum SellerSink {
    /// `CODE.jsonl`, one listing per line.
    Json { out: BufWriter<Destination>, path: String },
    /// `CODE/` with one workbook per category.
    Xlsx { writer: BulkUploadWriter, dir: PathBuf },
    /// `CODE.xml`: opened at the first line to send, so a seller with nothing
    /// to send gets no document.
    Peppol { out: Option<(CatalogueWriter<Destination>, String)>, target: Option<PathBuf>, header_action: Action },
    /// Drafts only.
    Discard,
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> ListingError + '_ {
    move |source| ListingError::Io { path: path.to_owned(), source }
}

/// Names that look like a file, which a per-cooperative folder cannot be.
fn looks_like_a_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| ["xml", "json", "jsonl", "xlsx", "csv", "txt"].iter().any(|x| e.eq_ignore_ascii_case(x)))
}

impl SellerSink {
    fn open(format: Format, plan: &Plan, out: &Output, seller: &str, header_action: Action) -> Result<Self, ListingError> {
        Ok(match (format, out) {
            (_, Output::Discard) => SellerSink::Discard,
            (Format::KatalogV6, Output::Stdout) => SellerSink::Json { out: BufWriter::new(Destination::Stdout(std::io::stdout())), path: "-".into() },
            (Format::KatalogV6, Output::Path(dir)) => {
                let path = dir.join(format!("{seller}.jsonl"));
                let file = PartFile::create(&path).map_err(io_err(&path))?;
                SellerSink::Json { out: BufWriter::with_capacity(1 << 20, Destination::File(file)), path: path.display().to_string() }
            }
            (Format::KatalogV6Xlsx, Output::Path(dir)) => {
                let dir = dir.join(seller);
                std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
                SellerSink::Xlsx { writer: BulkUploadWriter::new(&dir, plan), dir }
            }
            (Format::KatalogV6Xlsx, Output::Stdout) => return Err(ListingError::NeedsFolder("katalog-v6-xlsx", "category")),
            (Format::PeppolCatalogue, Output::Stdout) => SellerSink::Peppol { out: None, target: None, header_action },
            (Format::PeppolCatalogue, Output::Path(dir)) => SellerSink::Peppol { out: None, target: Some(dir.join(format!("{seller}.xml"))), header_action },
        })
    }

    /// Commits the seller's files and names them in the report.
    fn finish(self, report: &mut MapReport) -> Result<(), ListingError> {
        match self {
            SellerSink::Json { out, path } => {
                let failed = io_err(Path::new(&path));
                out.into_inner().map_err(|e| failed(e.into_error()))?.finish().map_err(failed)?;
                report.outputs.push(path);
            }
            SellerSink::Xlsx { writer, dir } => {
                let books = writer.finish()?;
                if books.is_empty() {
                    let _ = std::fs::remove_dir(&dir);
                }
                report.outputs.extend(books.into_iter().map(|(p, _)| p.display().to_string()));
            }
            SellerSink::Peppol { out: Some((writer, path)), .. } => {
                writer.finish().and_then(Destination::finish).map_err(io_err(Path::new(&path)))?;
                report.outputs.push(path);
            }
            SellerSink::Peppol { out: None, .. } | SellerSink::Discard => {}
        }
        Ok(())
    }
}

/// Maps every product (or one cooperative's) to `format`, one output per
/// cooperative: `DIR/CODE.jsonl`, `DIR/CODE/CATEGORY.xlsx`, `DIR/CODE.xml`.
pub async fn map_products(store: &Store, plan: &Plan, format: Format, options: &MapOptions) -> Result<MapReport, ListingError> {
    map_with(store, plan, format, options, Drafts::Record).await
}

/// As [`map_products`], writing the files only: the drafts stored for the
/// products are read, never changed (a download by GET changes nothing).
pub async fn map_products_read_only(store: &Store, plan: &Plan, format: Format, options: &MapOptions) -> Result<MapReport, ListingError> {
    map_with(store, plan, format, options, Drafts::Leave).await
}

/// Whether a mapping records its drafts (and forgets orphaned ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Drafts {
    Record,
    Leave,
}

async fn map_with(store: &Store, plan: &Plan, format: Format, options: &MapOptions, drafts: Drafts) -> Result<MapReport, ListingError> {
    if let Some(code) = &options.cooperative
        && !store::products::cooperative_ids(store).await?.contains_key(code)
    {
        return Err(ListingError::UnknownCooperative(code.clone()));
    }
    match &options.out {
        Output::Stdout if options.cooperative.is_none() && format != Format::KatalogV6Xlsx => {
            return Err(ListingError::NeedsFolder(format.name(), "cooperative"));
        }
        Output::Path(dir) if looks_like_a_file(dir) => return Err(ListingError::FileNameForFolder(format.name(), dir.clone())),
        Output::Path(dir) => std::fs::create_dir_all(dir).map_err(io_err(dir))?,
        Output::Stdout | Output::Discard => {}
    }
    let resubmitting = if format == Format::PeppolCatalogue { store::listings::sellers_with_submitted(store).await? } else { Default::default() };
    // Drafts are written while the next batch is mapped, so PostgreSQL's work and ours overlap.
    let (batches, mut to_write) = tokio::sync::mpsc::channel::<Vec<ListingUpdate>>(1);
    let writer = async {
        while let Some(batch) = to_write.recv().await {
            if drafts == Drafts::Record {
                write_listings(store, format.name(), &batch).await?;
            }
        }
        Ok::<(), ListingError>(())
    };
    let mapper = async {
        // Moved in: the writer finishes when the mapping drops it.
        let batches = batches;
        map_rows(store, plan, format, options, &resubmitting, &batches).await
    };
    let (mapped, written) = tokio::join!(mapper, writer);
    written?;
    let report = mapped?;
    if drafts == Drafts::Record {
        store::listings::forget_orphans(store, format.name()).await?;
    }
    Ok(report)
}

/// Hands a batch of drafts to the writer.
async fn hand(batches: &tokio::sync::mpsc::Sender<Vec<ListingUpdate>>, updates: &mut Vec<ListingUpdate>) -> Result<(), ListingError> {
    let batch = std::mem::replace(updates, Vec::with_capacity(STORE_BATCH));
    // Fails only when the writer stopped on an error, which is the one reported.
    batches.send(batch).await.map_err(|_| ListingError::Store(crate::store::StoreError::Inconsistent("the draft writer stopped".into())))
}

/// The mapping loop of [`map_products`]: drafts go to `batches`.
async fn map_rows(
    store: &Store,
    plan: &Plan,
    format: Format,
    options: &MapOptions,
    resubmitting: &std::collections::HashSet<String>,
    batches: &tokio::sync::mpsc::Sender<Vec<ListingUpdate>>,
) -> Result<MapReport, ListingError> {
    let mut report = MapReport { format: format.name().into(), ..Default::default() };
    let mut updates: Vec<ListingUpdate> = Vec::with_capacity(STORE_BATCH);
    let mut rows = products_for_mapping(store, format.name(), options.cooperative.as_deref(), options.products.as_deref(), &options.photo_base);
    let mut payload = Vec::with_capacity(1024);
    let mut current: Option<(String, SellerSink)> = None;
    while let Some(row) = rows.next().await {
        let row = row?;
        report.products += 1;
        if report.products.is_multiple_of(PROGRESS_EVERY) {
            tracing::info!(format = format.name(), products = report.products, written = report.written, blocked = report.blocked, "mapping");
        }
        if current.as_ref().is_none_or(|(code, _)| *code != row.seller.code) {
            if let Some((_, sink)) = current.take() {
                sink.finish(&mut report)?;
            }
            let action = if resubmitting.contains(&row.seller.code) { Action::Update } else { Action::Add };
            current = Some((row.seller.code.clone(), SellerSink::open(format, plan, &options.out, &row.seller.code, action)?));
        }
        let Some((_, sink)) = current.as_mut() else { continue };
        if !row.product.active {
            // A withdrawn product: a Delete line where the catalogue has it (PEPPOL); nothing elsewhere.
            if let (SellerSink::Peppol { .. }, Some(_)) = (&*sink, &row.submitted_hash) {
                let mapped = plan.map_on(&row.product, &row.seller, options.issue_date);
                peppol_line(plan, sink, &row, &mapped, Action::Delete, options)?;
                report.deleted += 1;
            }
        } else {
            let mapped = plan.map_on(&row.product, &row.seller, options.issue_date);
            let (update, changed) = record(plan, &row, &mapped, &mut payload, &mut report);
            if !mapped.blocked() {
                match sink {
                    SellerSink::Json { out, path } => {
                        report.written += 1;
                        out.write_all(&payload).and_then(|()| out.write_all(b"\n")).map_err(io_err(Path::new(path)))?
                    }
                    SellerSink::Xlsx { writer, .. } => {
                        report.written += 1;
                        writer.write(plan, &mapped)?
                    }
                    SellerSink::Discard => report.written += 1,
                    SellerSink::Peppol { .. } => {
                        let action = match &row.submitted_hash {
                            None => Some(Action::Add),
                            Some(h) if *h != update.content_hash => Some(Action::Update),
                            Some(_) => None,
                        };
                        match action {
                            Some(action) => {
                                peppol_line(plan, sink, &row, &mapped, action, options)?;
                                report.written += 1;
                            }
                            None => report.unchanged += 1,
                        }
                    }
                }
            }
            if changed {
                updates.push(update);
            }
        }
        if updates.len() >= STORE_BATCH {
            hand(batches, &mut updates).await?;
        }
        // A batch boundary: what is stored so far stays; a stop request ends the run here.
        if report.products.is_multiple_of(STORE_BATCH as u64)
            && let Some(signal) = crate::shutdown::signal()
        {
            hand(batches, &mut updates).await?;
            return Err(ListingError::Interrupted(crate::shutdown::signal_name(signal)));
        }
    }
    drop(rows);
    if let Some((_, sink)) = current.take() {
        sink.finish(&mut report)?;
    }
    if !updates.is_empty() {
        hand(batches, &mut updates).await?;
    }
    Ok(report)
}

/// The draft of a mapped product (its JSON goes into `payload`), and whether the stored one differs (only
/// then is it written: an unchanged draft costs no database write).
fn record(plan: &Plan, row: &MappingRow, mapped: &Mapped<'_>, payload: &mut Vec<u8>, report: &mut MapReport) -> (ListingUpdate, bool) {
    let content_hash = draft_payload(plan, mapped, payload);
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
    let issues_json = serde_json::to_vec(&mapped.issues).unwrap_or_default();
    let state = if blocked { "blocked" } else { "draft" };
    let draft_hash = {
        let mut h = Sha256::new();
        h.update(content_hash.as_bytes());
        h.update([0]);
        h.update(&issues_json);
        h.update([0]);
        h.update(state.as_bytes());
        hex::encode(h.finalize())
    };
    let changed = row.draft_hash.as_deref() != Some(draft_hash.as_str());
    // The payload is copied only when it is written.
    let payload = if changed { payload.clone() } else { Vec::new() };
    let stored = row.content_hash.is_some() || row.draft_hash.is_some();
    (ListingUpdate { product_id: row.product.id, payload, content_hash, draft_hash, issues: issues_json, state, stored }, changed)
}

/// A mapped product's draft payload (written into `payload`) and its content
/// hash: what a publication compares to know whether the catalogue has it as it is.
pub fn draft_payload(plan: &Plan, mapped: &Mapped<'_>, payload: &mut Vec<u8>) -> String {
    payload.clear();
    write_json(payload, plan, mapped).expect("writing to memory");
    hex::encode(Sha256::digest(&payload[..]))
}

/// One line of a cooperative's catalogue; the document is opened at its first line.
fn peppol_line(plan: &Plan, sink: &mut SellerSink, row: &MappingRow, mapped: &Mapped<'_>, action: Action, options: &MapOptions) -> Result<(), ListingError> {
    let SellerSink::Peppol { out, target, header_action } = sink else { return Ok(()) };
    if out.is_none() {
        let seller = &row.seller;
        let id = format!("{}-{}", seller.code, options.issue_date.format("%Y%m%d"));
        let name = format!("Katalog {}", seller.name);
        let header = peppol::Header { id: &id, name: &name, action: *header_action, issue_date: options.issue_date };
        let (dest, path) = match target {
            Some(path) => (Destination::File(PartFile::create(path).map_err(io_err(path))?), path.display().to_string()),
            None => (Destination::Stdout(std::io::stdout()), "-".to_owned()),
        };
        let writer = CatalogueWriter::start(dest, plan, &header, mapped).map_err(io_err(Path::new(&path)))?;
        *out = Some((writer, path));
    }
    if let Some((writer, path)) = out.as_mut() {
        writer.line(plan, mapped, action).map_err(io_err(Path::new(path.as_str())))?;
    }
    Ok(())
}
