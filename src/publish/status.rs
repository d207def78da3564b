//! Review tracking: each seller's listing change feed, read from its stored
//! cursor, every change passed through the publication state machine, the
//! cursor committed with the changes it covers. Then the drift check: every
//! listing the catalogue has not spoken of for a while is read back, and a
//! local state that drifted from the catalogue's is corrected.

use std::time::Duration;

use futures_util::StreamExt;
use serde::Serialize;
use tracing::Instrument;

use super::{Channel, PublishError};
use crate::catalog::client::{Call, CatalogueClient, ClientError};
use crate::domain::job::Job;
use crate::store::publications::{self, FeedCounts, ReadOutcome};
use crate::store::{Store, runs};

/// Entries read per page, unless told otherwise.
pub const PAGE: u32 = 500;

/// How the status job reads.
#[derive(Debug, Clone)]
pub struct StatusOptions {
    /// Feed entries asked for per page (1-1000).
    pub page_size: u32,
    /// A listing the catalogue has not spoken of for this long is read back.
    pub drift_after: Duration,
    /// Listings read back per run at most (the oldest news first).
    pub drift_max: i64,
    /// Reads in flight at once.
    pub concurrency: usize,
}

impl Default for StatusOptions {
    fn default() -> Self {
        Self { page_size: PAGE, drift_after: Duration::from_secs(24 * 3600), drift_max: 2000, concurrency: 8 }
    }
}

impl StatusOptions {
    pub fn from_settings(settings: &crate::config::ListingSettings) -> Self {
        Self { drift_after: Duration::from_secs(settings.drift_check_hours.saturating_mul(3600)), drift_max: settings.drift_check_max, ..Self::default() }
    }
}

/// What the drift check found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DriftCounts {
    /// Listings read back.
    pub checked: u64,
    /// Whose local state differed and now follows the catalogue.
    pub corrected: u64,
    /// That the catalogue no longer has.
    pub missing: u64,
    /// That could not be read this time.
    pub failed: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct StatusReport {
    pub sellers: u64,
    pub pages: u64,
    pub changes: FeedCounts,
    /// Entries in a state this version does not know.
    pub unknown_states: u64,
    /// Catalogue documents (PEPPOL channel) whose answers were applied.
    pub uploads: crate::store::uploads::AnswerCounts,
    /// Sellers whose feed could not be read this time, and why.
    pub failed: Vec<(String, String)>,
    /// The listings read back because the feed had not mentioned them for a while.
    pub drift: DriftCounts,
}

impl StatusReport {
    pub fn summary(&self) -> String {
        let c = &self.changes;
        let mut s = format!(
            "{} sellers, {} pages: {} changes applied, {} already recorded, {} not allowed (recorded only), {} for unknown listings",
            self.sellers, self.pages, c.applied, c.repeated, c.not_allowed, c.unknown
        );
        let u = &self.uploads;
        if u.uploads > 0 {
            s.push_str(&format!("; {} catalogue documents answered: {} lines taken, {} refused", u.uploads, u.accepted, u.refused));
        }
        if self.unknown_states > 0 {
            s.push_str(&format!(", {} in states this version does not know", self.unknown_states));
        }
        let d = &self.drift;
        if d.checked > 0 {
            s.push_str(&format!(
                "; {} listings not heard of for a while read back: {} corrected to the catalogue's state, {} no longer there, {} not read",
                d.checked, d.corrected, d.missing, d.failed
            ));
        }
        for (seller, why) in &self.failed {
            s.push_str(&format!("; {seller} not read: {why}"));
        }
        s
    }
}

/// The cursor of one seller's feed on one channel.
pub fn cursor_name(channel: Channel, seller: &str) -> String {
    format!("listings:{}:{seller}", channel.name())
}

/// Follows the change feed of every seller that has publications and an account.
pub async fn sync_status(
    store: &Store,
    client: &CatalogueClient,
    channel: Channel,
    cooperative: Option<&str>,
    options: &StatusOptions,
) -> Result<StatusReport, PublishError> {
    let page_size = options.page_size;
    let sellers: Vec<String> = {
        let ids = crate::store::products::seller_ids(store).await?;
        // Each seller is followed on its own channel only: its publications are there.
        let mut v: Vec<String> = ids
            .into_iter()
            .filter(|(seller, code)| cooperative.is_none_or(|c| c == code) && client.allows(seller, channel))
            .map(|(seller, _)| seller)
            .collect();
        v.sort();
        v
    };
    let lock = runs::lock_lead(store, Job::Status).await?.map_err(PublishError::Busy)?;
    let run = runs::start(store, Job::Status.name()).await?;
    let span = tracing::info_span!("run", job = Job::Status.name(), run);
    lock.hold(
        async move {
            let mut report = StatusReport::default();
            let mut outcome = Ok(());
            if channel == Channel::Peppol {
                // The documents' answers first: they name the listings the feed then reports on.
                let with_account: Vec<String> = sellers.iter().filter(|s| client.has_account(s)).cloned().collect();
                let (counts, failed) = super::peppol::poll_uploads(store, client, &with_account).await?;
                report.uploads = counts;
                report.failed.extend(failed);
            }
            for seller in sellers.iter().filter(|s| client.has_account(s)) {
                if let Err(signal) = crate::shutdown::stop_requested() {
                    outcome = Err(PublishError::Interrupted(signal));
                    break;
                }
                report.sellers += 1;
                let name = cursor_name(channel, seller);
                let mut cursor = publications::cursor(store, &name).await?;
                loop {
                    let answer = match client.send(seller, &Call::ListingChanges { cursor: cursor.clone(), limit: page_size.clamp(1, 1000) }).await {
                        Ok(a) => a,
                        Err(e) => {
                            report.failed.push((seller.clone(), e.to_string()));
                            break;
                        }
                    };
                    let page = match answer.feed_page() {
                        Ok(p) => p,
                        Err(why) => {
                            report.failed.push((seller.clone(), format!("unreadable page: {why}")));
                            break;
                        }
                    };
                    report.pages += 1;
                    report.unknown_states += page.unknown_states;
                    let counts = publications::apply_feed_page(store, channel, seller, &page.changes, &name, &page.cursor).await?;
                    report.changes.add(counts);
                    // A page that does not move the cursor cannot be followed further.
                    if !page.has_more || cursor.as_deref() == Some(page.cursor.as_str()) {
                        break;
                    }
                    cursor = Some(page.cursor);
                }
            }
            if outcome.is_ok() {
                let readable: Vec<String> = sellers.iter().filter(|s| client.has_account(s)).cloned().collect();
                report.drift = check_drift(store, client, channel, &readable, options).await?;
            }
            let status = match (&outcome, report.failed.is_empty() && report.drift.failed == 0) {
                (Err(_), _) => runs::RunStatus::Interrupted,
                (Ok(()), true) => runs::RunStatus::Succeeded,
                (Ok(()), false) => runs::RunStatus::Partial,
            };
            let error = outcome.as_ref().err().map(PublishError::run_error);
            runs::finish(store, run, status, serde_json::to_value(&report).unwrap_or_default(), error).await?;
            outcome.map(|()| report)
        }
        .instrument(span),
    )
    .await
}

/// Reads back every listing of `sellers` the catalogue has not spoken of for
/// `options.drift_after` (at most `drift_max`, the longest unheard first),
/// and brings each local state in line with what the catalogue answers.
pub async fn check_drift(
    store: &Store,
    client: &CatalogueClient,
    channel: Channel,
    sellers: &[String],
    options: &StatusOptions,
) -> Result<DriftCounts, PublishError> {
    let due = publications::unheard(store, channel, sellers, options.drift_after.as_secs_f64(), options.drift_max).await?;
    let mut counts = DriftCounts::default();
    if due.is_empty() {
        return Ok(counts);
    }
    tracing::info!(listings = due.len(), "reading back listings the catalogue has not mentioned for a while");
    enum Read {
        Applied(ReadOutcome),
        Missing,
        Failed,
    }
    let results: Vec<Result<Read, PublishError>> = futures_util::stream::iter(due)
        .map(|p| async move {
            Ok(match client.send(&p.seller, &Call::GetListing { id: p.remote_id.clone() }).await {
                Ok(answer) => match answer.listing_written().review {
                    Some((state, reasons)) => Read::Applied(publications::apply_read(store, p.id, state, &reasons).await?),
                    None => {
                        tracing::warn!(publication = p.id, listing = %p.remote_id, "the listing read back has no state this version knows");
                        Read::Failed
                    }
                },
                Err(ClientError::Refused { status: 404, .. }) => {
                    let error = format!("the catalogue has no listing {} any more (read back on {})", p.remote_id, crate::domain::time::today());
                    publications::listing_missing(store, p.id, &error).await?;
                    Read::Missing
                }
                Err(e) => {
                    tracing::warn!(publication = p.id, listing = %p.remote_id, error = %e, "could not read the listing back");
                    Read::Failed
                }
            })
        })
        .buffer_unordered(options.concurrency.max(1))
        .collect()
        .await;
    for r in results {
        counts.checked += 1;
        match r? {
            Read::Applied(ReadOutcome::Corrected { from, to }) => {
                counts.corrected += 1;
                tracing::info!(from = from.as_str(), to = to.as_str(), "a listing's local state drifted from the catalogue's and is corrected");
            }
            Read::Applied(_) => {}
            Read::Missing => counts.missing += 1,
            Read::Failed => counts.failed += 1,
        }
    }
    Ok(counts)
}
