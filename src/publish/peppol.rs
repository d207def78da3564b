//! The PEPPOL channel: each seller's pending publications go out as UBL
//! Catalogue documents (Add, Update and Delete lines), and each document's
//! Catalogue Response is applied line by line to its publications.
//!
//! A document is built from claimed publications and committed, bytes and
//! lines, before it is sent (claim, commit, then call the network). A send
//! that fails or is cut off leaves the upload `sending`: the next run sends
//! the same bytes under the same idempotency key before anything new, and
//! its publications go into no other document meanwhile.

use std::collections::HashMap;

use futures_util::StreamExt;

use super::{Progress, PublishError, PublishOptions, PublishReport, Refusal, account_fault};
use crate::catalog::Format;
use crate::catalog::client::{Call, CatalogueClient, ClientError};
use crate::catalog::peppol::{Action, CatalogueWriter, Header};
use crate::domain::publication::PublicationState;
use crate::listings::draft_payload;
use crate::mapping::plan::Plan;
use crate::store::claims::Retry;
use crate::store::listings::products_for_mapping;
use crate::store::publications::{self, Claimed, SendResult};
use crate::store::uploads::{self, AnswerCounts, Sent, Unsent};
use crate::store::{Store, StoreError};

/// Publications claimed for one document.
const CLAIM: i64 = 500;
/// A document stops taking lines past this size. The catalogue takes bodies
/// of up to 1 MiB, and one line is at most a few tens of kilobytes (every
/// text it carries is bounded by the mapping's limits), so a document that
/// stops here always fits.
const DOCUMENT_BUDGET: usize = 768 * 1024;
/// At most this many lines per document (the catalogue's own limit is 10,000).
const MAX_LINES: usize = 10_000;

/// Sends every seller's uploads left unsent, then new documents for their
/// pending publications.
#[allow(clippy::too_many_arguments)]
pub(super) async fn send_all(
    store: &Store,
    plan: &Plan,
    client: &CatalogueClient,
    options: &PublishOptions,
    instance: &str,
    sellers: &[String],
    progress: &Progress,
    report: &mut PublishReport,
) -> Result<(), PublishError> {
    let lease = options.lease.as_secs_f64();
    while let Some(upload) = uploads::claim_unsent(store, instance, sellers, lease).await? {
        super::stop_if_asked()?;
        tracing::info!(seller = upload.seller, upload = upload.id, lines = upload.lines, "sending again a catalogue document not yet taken");
        send_upload(store, client, instance, &upload, progress, report).await?;
    }
    for seller in sellers {
        loop {
            super::stop_if_asked()?;
            let claimed =
                publications::claim(store, instance, super::Channel::Peppol, Format::PeppolCatalogue.name(), std::slice::from_ref(seller), CLAIM, lease, None)
                    .await?;
            if claimed.is_empty() {
                break;
            }
            if let Some(upload) = build(store, plan, options, instance, seller, claimed, progress, report).await? {
                send_upload(store, client, instance, &upload, progress, report).await?;
            }
        }
    }
    Ok(())
}

/// Writes one document from claimed publications, as many as fit, and
/// records it (the rest go back). A product that no longer maps as its draft
/// said (changed, or now blocked) waits for the next run's mapping.
#[allow(clippy::too_many_arguments)]
async fn build(
    store: &Store,
    plan: &Plan,
    options: &PublishOptions,
    instance: &str,
    seller: &str,
    claimed: Vec<Claimed>,
    progress: &Progress,
    report: &mut PublishReport,
) -> Result<Option<Unsent>, PublishError> {
    let id = uploads::next_id(store).await?;
    let product_ids: Vec<i64> = claimed.iter().map(|c| c.product_id).collect();
    let by_product: HashMap<i64, &Claimed> = claimed.iter().map(|c| (c.product_id, c)).collect();
    let header_action = if claimed.iter().any(|c| c.listed) { Action::Update } else { Action::Add };
    let mut writer: Option<CatalogueWriter<Vec<u8>>> = None;
    let mut document_id = String::new();
    let mut lines: Vec<uploads::Line> = Vec::new();
    let mut release: Vec<i64> = Vec::new();
    let mut stale: Vec<&Claimed> = Vec::new();
    let mut payload = Vec::with_capacity(4096);
    let mut rows = products_for_mapping(store, Format::PeppolCatalogue.name(), None, Some(&product_ids), &options.photo_base);
    while let Some(row) = rows.next().await {
        let row = row?;
        let Some(c) = by_product.get(&row.product.id).copied() else { continue };
        let full = writer.as_ref().is_some_and(|w| w.bytes() >= DOCUMENT_BUDGET || lines.len() >= MAX_LINES);
        if full {
            release.push(c.id);
            continue;
        }
        let mapped = plan.map_on(&row.product, &row.seller, options.issue_date);
        let action = match c.state {
            PublicationState::WithdrawPending => Action::Delete,
            _ if c.listed => Action::Update,
            _ => Action::Add,
        };
        let content_hash = if action == Action::Delete {
            None
        } else {
            let hash = draft_payload(plan, &mapped, &mut payload);
            if mapped.blocked() || c.want_hash.as_deref() != Some(hash.as_str()) {
                stale.push(c);
                continue;
            }
            Some(hash)
        };
        let w = match writer.as_mut() {
            Some(w) => w,
            None => {
                document_id = format!("{}-U{id}", row.seller.code);
                let name = format!("Katalog {}", row.seller.name);
                let header = Header { id: &document_id, name: &name, action: header_action, issue_date: options.issue_date };
                writer.insert(CatalogueWriter::start(Vec::with_capacity(DOCUMENT_BUDGET + 64 * 1024), plan, &header, &mapped).map_err(write_failed)?)
            }
        };
        w.line(plan, &mapped, action).map_err(write_failed)?;
        lines.push(uploads::Line { line_id: w.lines().to_string(), publication_id: c.id, action: action.code(), content_hash });
    }
    drop(rows);
    for c in stale {
        let error = "the product changed since it was mapped, or no longer maps: it goes with the next run".to_owned();
        publications::record(store, instance, c, "", &SendResult::Later { error, retry_in_secs: Retry::Transient.after_secs() }).await?;
        report.deferred += 1;
        progress.tick(report);
    }
    let Some(writer) = writer else {
        publications::release(store, instance, &release).await?;
        return Ok(None);
    };
    let document = writer.finish().map_err(write_failed)?;
    Ok(Some(uploads::create(store, instance, options.lease.as_secs_f64(), id, seller, &document_id, &document, &lines, &release).await?))
}

fn write_failed(e: std::io::Error) -> PublishError {
    PublishError::Store(StoreError::Inconsistent(format!("a catalogue document could not be written: {e}")))
}

/// Sends one document and records what came of it for each of its lines.
async fn send_upload(
    store: &Store,
    client: &CatalogueClient,
    instance: &str,
    upload: &Unsent,
    progress: &Progress,
    report: &mut PublishReport,
) -> Result<(), PublishError> {
    let call = Call::UploadCatalogue { xml: upload.document.clone(), key: upload.key.clone() };
    let sent = match client.send(&upload.seller, &call).await {
        Ok(answer) => match answer.upload_id() {
            Ok(id) => Sent::Taken { remote_id: id },
            Err(e) => Sent::Later { error: e.to_string(), retry_in_secs: Retry::Transient.after_secs() },
        },
        Err(e) if e.is_transient() => Sent::Later { error: e.to_string(), retry_in_secs: Retry::Transient.after_secs() },
        Err(e) if account_fault(&e) => Sent::Later { error: e.to_string(), retry_in_secs: Retry::Account.after_secs() },
        Err(e) => Sent::Refused { error: e.to_string() },
    };
    let counts = uploads::record_send(store, instance, upload, &sent).await?;
    report.sent += u64::try_from(upload.lines).unwrap_or(0);
    report.documents += 1;
    report.accepted += counts.taken;
    report.deferred += counts.later;
    if let Sent::Refused { error } = &sent {
        for sku in &counts.refused_skus {
            report.refused.push(Refusal { seller: upload.seller.clone(), sku: sku.clone(), error: error.clone() });
        }
    }
    for _ in 0..(counts.taken + counts.later + counts.refused_skus.len() as u64) {
        progress.tick(report);
    }
    Ok(())
}

/// Reads the answer of every upload of `sellers` the catalogue took and has
/// not answered for yet, and applies each processed one's line results.
/// Sellers whose answers could not be read are returned with why.
pub async fn poll_uploads(store: &Store, client: &CatalogueClient, sellers: &[String]) -> Result<(AnswerCounts, Vec<(String, String)>), StoreError> {
    let mut counts = AnswerCounts::default();
    let mut failed = Vec::new();
    for upload in uploads::waiting(store, sellers).await? {
        let answer = match client.send(&upload.seller, &Call::GetUpload { id: upload.remote_id.clone() }).await {
            Ok(a) => a,
            Err(e @ ClientError::Refused { status: 404, .. }) => {
                failed.push((upload.seller.clone(), format!("upload {}: {e}", upload.remote_id)));
                continue;
            }
            Err(e) => {
                failed.push((upload.seller.clone(), e.to_string()));
                continue;
            }
        };
        match answer.upload_results() {
            Ok(None) => {}
            Ok(Some(results)) => counts.add(uploads::apply_answer(store, &upload, &results).await?),
            Err(why) => failed.push((upload.seller.clone(), format!("upload {}: unreadable answer: {why}", upload.remote_id))),
        }
    }
    Ok((counts, failed))
}
