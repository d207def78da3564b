//! The xlsx channel: the real version-6 portal has no write API, so the
//! liaison uploads bulk-upload workbooks by hand. `sync publish --channel
//! xlsx` writes workbooks holding only the publications that wait to be
//! handed over with their current content; `listings mark-uploaded FILE...`
//! then marks the rows of the workbooks the liaison uploaded as submitted.
//! Products the catalogue already lists (listed before, or handed over from
//! another channel) go into the bulk edit workbooks in `CODE/ubah/`, so that
//! the liaison updates them and never adds them again.
//!
//! A publication handed over in a workbook carries `xlsx:<content hash>` as
//! its key, so a rerun with nothing changed writes nothing, and a product
//! changed since goes into the next workbook.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use futures_util::StreamExt;

use super::{PublishError, PublishOptions, PublishReport, Refusal};
use crate::catalog::Format;
use crate::catalog::katalog_v6_xlsx::BulkUploadWriter;
use crate::domain::publication::PublicationState;
use crate::listings::draft_payload;
use crate::mapping::plan::Plan;
use crate::store::Store;
use crate::store::claims::Retry;
use crate::store::listings::products_for_mapping;
use crate::store::publications::{self, SendResult};

/// Publications claimed at a time.
const BATCH: i64 = 2000;
/// The folder, inside a cooperative's, of the workbooks that update listings
/// the catalogue already has (the portal's bulk edit, "ubah massal").
pub const UPDATE_FOLDER: &str = "ubah";

/// Writes the workbooks of every publication waiting to be handed over, one
/// folder per cooperative inside a folder for this run, and marks them handed over.
pub(super) async fn export(
    store: &Store,
    plan: &Plan,
    options: &PublishOptions,
    instance: &str,
    sellers: &[String],
    report: &mut PublishReport,
) -> Result<(), PublishError> {
    let stamp = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Jakarta).format("%Y%m%d-%H%M%S");
    let folder = options.out.join(stamp.to_string());
    let mut writers: HashMap<String, BulkUploadWriter> = HashMap::new();
    // Handed over once the workbooks are complete on disk.
    let mut exported: Vec<(i64, String)> = Vec::new();
    let mut payload = Vec::with_capacity(4096);
    loop {
        super::stop_if_asked()?;
        let batch =
            publications::claim(store, instance, super::Channel::Xlsx, Format::KatalogV6Xlsx.name(), sellers, BATCH, options.lease.as_secs_f64(), None).await?;
        if batch.is_empty() {
            break;
        }
        let ids: Vec<i64> = batch.iter().map(|c| c.product_id).collect();
        let by_product: HashMap<i64, &publications::Claimed> = batch.iter().map(|c| (c.product_id, c)).collect();
        let mut rows = products_for_mapping(store, Format::KatalogV6Xlsx.name(), None, Some(&ids), &options.photo_base);
        let mut stale = Vec::new();
        while let Some(row) = rows.next().await {
            let row = row?;
            let Some(c) = by_product.get(&row.product.id).copied() else { continue };
            if c.state == PublicationState::WithdrawPending {
                // Bulk upload cannot withdraw: the liaison does it on the portal.
                report.withdraw_by_hand.push(Refusal {
                    seller: c.seller.clone(),
                    sku: row.product.seller_item_id.clone(),
                    error: "withdraw by hand on the portal".into(),
                });
                exported.push((c.id, c.want_hash.clone().unwrap_or_default()));
                continue;
            }
            let mapped = plan.map_on(&row.product, &row.seller, options.issue_date);
            let hash = draft_payload(plan, &mapped, &mut payload);
            if mapped.blocked() || c.want_hash.as_deref() != Some(hash.as_str()) {
                stale.push(c.clone());
                continue;
            }
            // A product the catalogue already lists goes into the bulk edit
            // workbooks (`ubah`), never into those that add products.
            let key = if c.listed { format!("{}/{UPDATE_FOLDER}", row.seller.code) } else { row.seller.code.clone() };
            let writer = match writers.get_mut(&key) {
                Some(w) => w,
                None => {
                    let dir = folder.join(&key);
                    std::fs::create_dir_all(&dir).map_err(|e| PublishError::Workbook(format!("{}: {e}", dir.display())))?;
                    writers.entry(key).or_insert_with(|| BulkUploadWriter::new(&dir, plan))
                }
            };
            writer.write(plan, &mapped).map_err(|e| PublishError::Workbook(e.to_string()))?;
            exported.push((c.id, hash));
            report.sent += 1;
        }
        drop(rows);
        for c in stale {
            let error = "the product changed since it was mapped, or no longer maps: it goes with the next run".to_owned();
            publications::record(store, instance, &c, "", &SendResult::Later { error, retry_in_secs: Retry::Transient.after_secs() }).await?;
            report.deferred += 1;
        }
    }
    let mut codes: Vec<String> = writers.keys().cloned().collect();
    codes.sort();
    for code in codes {
        let Some(writer) = writers.remove(&code) else { continue };
        let books = writer.finish().map_err(|e| PublishError::Workbook(e.to_string()))?;
        report.outputs.extend(books.into_iter().map(|(p, _)| p.display().to_string()));
    }
    let handed = publications::mark_exported(store, instance, &exported, &folder.display().to_string()).await?;
    report.accepted += handed;
    Ok(())
}

/// The cooperative a workbook is for: named with `--cooperative`, or the
/// folder it lies in (`sync publish --channel xlsx` writes `RUN/CODE/*.xlsx`).
pub fn cooperative_of(file: &Path, named: Option<&str>) -> Option<String> {
    let folder = |dir: &Path| dir.file_name()?.to_str().map(str::to_owned);
    named.map(str::to_owned).or_else(|| {
        let parent = file.parent()?;
        match folder(parent)? {
            name if name == UPDATE_FOLDER => folder(parent.parent()?),
            name => Some(name),
        }
    })
}

/// What marking one workbook's rows did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Marked {
    pub file: PathBuf,
    pub cooperative: String,
    /// Rows whose publication is now submitted.
    pub submitted: u64,
    /// Rows whose product changed after the workbook was written: the change
    /// goes into the next workbook.
    pub changed_since: u64,
    /// Rows already marked before.
    pub already: u64,
    /// Rows naming no publication waiting in a workbook, with their row number.
    pub unknown: Vec<(u64, String)>,
}

impl Marked {
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{} ({}): {} rows marked submitted, {} changed since the workbook was written (in the next one), {} already marked",
            self.file.display(),
            self.cooperative,
            self.submitted,
            self.changed_since,
            self.already
        );
        if !self.unknown.is_empty() {
            let shown: Vec<String> = self.unknown.iter().take(20).map(|(row, sku)| format!("row {row} ({sku})")).collect();
            s.push_str(&format!("; {} rows name no listing waiting in a workbook: {}", self.unknown.len(), shown.join(", ")));
            if self.unknown.len() > 20 {
                s.push_str(", ...");
            }
        }
        s
    }
}

/// The column that names each row's listing.
const SKU_HEADING: &str = "sku";

/// Reads a workbook's SKUs: (row number, the seller's item id).
pub async fn workbook_skus(file: &Path, settings: &crate::config::ImportSettings) -> Result<Vec<(u64, String)>, crate::intake::ImportError> {
    use crate::intake::source::{self, Cell};
    let (_, mut rows) = source::open(file, None, settings.max_file_bytes, crate::intake::workbook::WorkbookLimits::from_settings(settings))?;
    let mut column = None;
    let mut skus = Vec::new();
    while let Some(row) = rows.recv().await {
        let row = row?;
        let Some(col) = column else {
            let found = row.cells.iter().position(|c| matches!(c, Cell::Text(t) if t.trim() == SKU_HEADING));
            column = Some(found.ok_or_else(|| crate::intake::ImportError::Headers {
                path: file.to_owned(),
                row: row.line,
                problem: crate::domain::DomainError::new(
                    "header",
                    format!("has no {SKU_HEADING} column (is this a workbook that sync publish --channel xlsx wrote?)"),
                    format!("kolom {SKU_HEADING} tidak ada (apakah ini buku kerja dari sync publish --channel xlsx?)"),
                ),
                found: row.cells.iter().take(30).map(Cell::display).collect::<Vec<_>>().join(", "),
            })?);
            continue;
        };
        match row.cells.get(col) {
            Some(Cell::Text(t)) if !t.trim().is_empty() => skus.push((row.line, t.trim().to_owned())),
            Some(c) if !c.is_blank() => skus.push((row.line, c.display())),
            _ => {}
        }
    }
    Ok(skus)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workbook_belongs_to_the_cooperative_of_its_folder_or_the_one_above_a_bulk_edit_folder() {
        let of = |p: &str, named: Option<&str>| cooperative_of(Path::new(p), named);
        assert_eq!(of("out/upload/20261202-101500/MJK-WATES/beras-f5b59e59.xlsx", None).as_deref(), Some("MJK-WATES"));
        assert_eq!(of("out/upload/20261202-101500/MJK-WATES/ubah/beras-f5b59e59.xlsx", None).as_deref(), Some("MJK-WATES"));
        assert_eq!(of("ubah/beras.xlsx", Some("MJK-MERI")).as_deref(), Some("MJK-MERI"), "--cooperative wins");
        assert_eq!(of("beras.xlsx", None), None, "no folder, no cooperative");
    }
}
