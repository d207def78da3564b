//! Review tracking: each seller's listing change feed, read from its stored
//! cursor, every change passed through the publication state machine, the
//! cursor committed with the changes it covers.

use serde::Serialize;
use tracing::Instrument;

use super::{Channel, PublishError};
use crate::catalog::client::request::feed_page;
use crate::catalog::client::{Call, CatalogueClient};
use crate::store::publications::{self, FeedCounts};
use crate::store::{Store, runs};

/// Entries read per page, unless told otherwise.
pub const PAGE: u32 = 500;

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
    page_size: u32,
) -> Result<StatusReport, PublishError> {
    let sellers: Vec<String> = {
        let ids = crate::store::products::seller_ids(store).await?;
        let mut v: Vec<String> = ids.into_iter().filter(|(_, code)| cooperative.is_none_or(|c| c == code)).map(|(seller, _)| seller).collect();
        v.sort();
        v
    };
    let lock = runs::lock_lead(store, "status").await?.map_err(PublishError::Busy)?;
    let run = runs::start(store, "status").await?;
    let span = tracing::info_span!("run", job = "status", run);
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
                    let page = match feed_page(&answer.body) {
                        Ok(p) => p,
                        Err(why) => {
                            report.failed.push((seller.clone(), format!("unreadable page: {why}")));
                            break;
                        }
                    };
                    report.pages += 1;
                    report.unknown_states += page.unknown_states;
                    let counts = publications::apply_feed_page(store, channel.name(), seller, &page.changes, &name, &page.cursor).await?;
                    report.changes.add(counts);
                    // A page that does not move the cursor cannot be followed further.
                    if !page.has_more || cursor.as_deref() == Some(page.cursor.as_str()) {
                        break;
                    }
                    cursor = Some(page.cursor);
                }
            }
            let status = match (&outcome, report.failed.is_empty()) {
                (Err(_), _) => runs::RunStatus::Interrupted,
                (Ok(()), true) => runs::RunStatus::Succeeded,
                (Ok(()), false) => runs::RunStatus::Partial,
            };
            let error = outcome.as_ref().err().map(ToString::to_string);
            runs::finish(store, run, status, serde_json::to_value(&report).unwrap_or_default(), error.as_deref()).await?;
            outcome.map(|()| report)
        }
        .instrument(span),
    )
    .await
}
