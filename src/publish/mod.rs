//! The publisher: each cooperative's ready products listed once on the
//! catalogue under its own seller account, changed ones updated, deactivated
//! ones withdrawn.
//!
//! It maps (drafts), plans (publications pending), then works in claimed
//! batches: a batch is claimed and committed before anything is sent, each
//! publication is sent with an idempotency key made from it and its send
//! round, and each result is recorded with the claim released. No
//! transaction is open across an HTTP call; two publishers on one database
//! never send the same publication at once, and a rerun after a crash sends
//! the same key again, which the catalogue answers without a second listing.
//! What an answer says of the listing's state moves the publication, as a
//! feed entry would.

pub mod inaproc;
pub mod peppol;
pub mod status;
pub mod xlsx;

use std::time::Duration;

use futures_util::StreamExt;
use serde::Serialize;
use tracing::Instrument;

use crate::catalog::Format;
use crate::catalog::client::{Call, CatalogueClient, ClientError};
use crate::domain::job::Job;
use crate::domain::publication::{Change, PublicationState, RemoteState};
use crate::listings::{ListingError, MapOptions, Output, map_products};
use crate::mapping::plan::Plan;
use crate::store::claims::{Claimant, Retry};
use crate::store::publications::{self, Answered, Claimed, PlanCounts, SendResult};
use crate::store::{Store, StoreError, runs};

pub use crate::domain::publication::Channel;

impl Channel {
    /// The catalogue format the channel sends.
    pub fn format(self) -> Format {
        match self {
            Channel::Api => Format::KatalogV6,
            Channel::Peppol => Format::PeppolCatalogue,
            Channel::Xlsx => Format::KatalogV6Xlsx,
        }
    }
}

/// The channels a run goes through: the one asked for; else the channel of
/// the cooperative named (its account's, the API without one); else the API
/// then PEPPOL when a cooperative is set to it, each for the cooperatives set
/// to it. Workbooks are written only when asked for (`--channel xlsx`).
pub async fn channels_to_run(store: &Store, client: &CatalogueClient, cooperative: Option<&str>, asked: Option<Channel>) -> Result<Vec<Channel>, PublishError> {
    if let Some(channel) = asked {
        return Ok(vec![channel]);
    }
    let Some(code) = cooperative else { return Ok(sending_channels(client)) };
    let seller = crate::store::products::seller_ids(store).await?.into_iter().find(|(_, c)| c == code).map(|(seller, _)| seller);
    Ok(vec![seller.and_then(|s| client.channel(&s)).unwrap_or(Channel::Api)])
}

/// The channels that send (the workbooks are written by hand): the API, and
/// PEPPOL when a cooperative is set to it (mapping every product for nobody
/// would be waste).
pub fn sending_channels(client: &CatalogueClient) -> Vec<Channel> {
    let peppol = client.sellers().iter().any(|s| client.channel(s) == Some(Channel::Peppol));
    if peppol { vec![Channel::Api, Channel::Peppol] } else { vec![Channel::Api] }
}

#[derive(Debug, Clone)]
pub struct PublishOptions {
    pub channel: Channel,
    pub cooperative: Option<String>,
    /// Map and plan, report what would be sent, send nothing.
    pub dry_run: bool,
    /// Publications claimed at a time.
    pub batch: i64,
    /// How long a claim holds before another publisher may take it over.
    pub lease: Duration,
    /// Sends in flight at once (the client also bounds its own).
    pub concurrency: usize,
    pub issue_date: chrono::NaiveDate,
    /// Where the xlsx channel writes its workbooks (a folder per run inside).
    pub out: std::path::PathBuf,
    /// Where the world fetches the dashboard's photos (`Settings::photo_base`).
    pub photo_base: String,
    /// Only these products (by id): one product sent now from its page.
    /// The API channel only; the others send a seller's whole document.
    pub products: Option<Vec<i64>>,
}

impl Default for PublishOptions {
    fn default() -> Self {
        Self {
            channel: Channel::Api,
            cooperative: None,
            dry_run: false,
            batch: 200,
            lease: Duration::from_secs(300),
            concurrency: 8,
            issue_date: crate::domain::time::today(),
            out: std::path::PathBuf::from("out/upload"),
            photo_base: crate::config::Settings::default().photo_base(),
            products: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("mapping before publishing failed: {0}")]
    Map(#[from] ListingError),
    #[error("interrupted by {0}: every publication sent so far is recorded; run the command again to finish")]
    Interrupted(&'static str),
    #[error("cannot write the upload workbooks: {0}")]
    Workbook(String),
    #[error("{0}")]
    Busy(String),
    #[error(
        "{cooperative} publishes through {configured}, not {asked}: one channel per cooperative keeps each product listed once. \
         To hand its listings over, set channel = \"{asked}\" in its [[catalogue.sellers]] entry ({seller})"
    )]
    WrongChannel { cooperative: String, seller: String, configured: &'static str, asked: &'static str },
}

impl PublishError {
    /// The kind of error, as a run records it.
    pub fn run_error(&self) -> runs::RunError {
        let code = match self {
            Self::Store(_) => "database",
            Self::Map(_) => "mapping",
            Self::Interrupted(_) => "interrupted",
            Self::Workbook(_) => "file",
            Self::Busy(_) => "busy",
            Self::WrongChannel { .. } => "configuration",
        };
        runs::RunError::new(code, self)
    }
}

/// A publication refused for good.
#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    pub seller: String,
    pub sku: String,
    pub error: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PublishReport {
    pub planned: PlanCounts,
    /// Writes sent (creates, updates, withdrawals; lines of catalogue documents).
    pub sent: u64,
    /// Catalogue documents sent (the PEPPOL channel).
    pub documents: u64,
    pub accepted: u64,
    pub refused: Vec<Refusal>,
    /// Not done this time (retries spent); pending for the next run.
    pub deferred: u64,
    /// Sellers with work but no usable account: reported and skipped.
    pub sellers_without_account: Vec<String>,
    /// Files written (the xlsx channel's workbooks).
    pub outputs: Vec<String>,
    /// Listings to withdraw by hand on the portal (the xlsx channel cannot).
    pub withdraw_by_hand: Vec<Refusal>,
    pub dry_run: bool,
}

impl PublishReport {
    /// Every publication sent ended in a known state: none refused, none left for later.
    pub fn complete(&self) -> bool {
        self.refused.is_empty() && self.deferred == 0
    }

    pub fn summary(&self) -> String {
        let p = &self.planned;
        let head = format!(
            "planned: {} new, {} changed, {} to withdraw; {} held back by blocking issues, {} of cooperatives without a seller id",
            p.new, p.changed, p.to_withdraw, p.blocked, p.no_seller_id
        );
        if self.dry_run {
            return format!("{head} (dry run: nothing sent)");
        }
        let mut s = format!("{head}; sent {}: {} accepted, {} refused, {} to retry later", self.sent, self.accepted, self.refused.len(), self.deferred);
        if self.documents > 0 {
            s.push_str(&format!(" (in {} catalogue documents; each line's result comes with sync status --channel peppol)", self.documents));
        }
        if !self.sellers_without_account.is_empty() {
            s.push_str(&format!("; skipped, no catalogue account: {}", self.sellers_without_account.join(", ")));
        }
        if !self.outputs.is_empty() {
            s.push_str(&format!("; written to {}", self.outputs.join(", ")));
        }
        if !self.withdraw_by_hand.is_empty() {
            s.push_str(&format!("; {} listings to withdraw by hand on the portal", self.withdraw_by_hand.len()));
        }
        s
    }
}

/// Maps, plans, and sends every publication that needs it.
pub async fn publish(store: &Store, plan: &Plan, client: &CatalogueClient, options: &PublishOptions) -> Result<PublishReport, PublishError> {
    let lock = runs::lock_lead(store, Job::Publish).await?.map_err(PublishError::Busy)?;
    lock.hold(async {
        if options.dry_run {
            let sellers = sellers_for(store, client, options).await?;
            let planned = plan_publications(store, plan, options, &sellers).await?;
            return Ok(PublishReport { planned, dry_run: true, ..Default::default() });
        }
        // The run is recorded from the start: a failure while mapping is one too,
        // and every line logged from here on names the run.
        let run = runs::start_for(store, Job::Publish.name(), options.cooperative.as_deref()).await?;
        let span = tracing::info_span!("run", job = Job::Publish.name(), run);
        let mut report = PublishReport::default();
        let result = publish_run(store, plan, client, options, run, &mut report).instrument(span).await;
        finish_run(store, run, &report, result).await
    })
    .await
}

/// The sellers a run is for: every cooperative's whose listings go through
/// the run's channel, or the one asked for, refused when it uses another.
async fn sellers_for(store: &Store, client: &CatalogueClient, options: &PublishOptions) -> Result<Vec<String>, PublishError> {
    let mut sellers = Vec::new();
    for (seller, code) in crate::store::products::seller_ids(store).await? {
        if options.cooperative.as_deref().is_some_and(|c| c != code) {
            continue;
        }
        if client.allows(&seller, options.channel) {
            sellers.push(seller);
        } else if options.cooperative.is_some() {
            let configured = client.channel(&seller).unwrap_or_default().name();
            return Err(PublishError::WrongChannel { cooperative: code, seller, configured, asked: options.channel.name() });
        }
    }
    sellers.sort();
    Ok(sellers)
}

/// Maps the products to the channel's format and plans what to publish for
/// `sellers`, handing over to this channel what they listed through another.
async fn plan_publications(store: &Store, plan: &Plan, options: &PublishOptions, sellers: &[String]) -> Result<publications::PlanCounts, PublishError> {
    let format = options.channel.format();
    let map_options = MapOptions {
        cooperative: options.cooperative.clone(),
        out: Output::Discard,
        issue_date: options.issue_date,
        photo_base: options.photo_base.clone(),
        products: options.products.clone(),
    };
    map_products(store, plan, format, &map_options).await?;
    Ok(publications::plan(store, options.channel, format.name(), options.cooperative.as_deref(), sellers, options.products.as_deref()).await?)
}

/// The lead run `run` of [`publish`]: plan, then send (or export) what is due.
async fn publish_run(
    store: &Store,
    plan: &Plan,
    client: &CatalogueClient,
    options: &PublishOptions,
    run: i64,
    report: &mut PublishReport,
) -> Result<(), PublishError> {
    let channel = options.channel;
    let sellers = sellers_for(store, client, options).await?;
    report.planned = plan_publications(store, plan, options, &sellers).await?;
    // Claims name the run, so two publishers in one process are told apart too.
    let claimant = Claimant::for_run(store, run, options.lease);
    let instance = claimant.name.as_str();

    if channel == Channel::Xlsx {
        // No account needed: the liaison uploads the workbooks by hand.
        return xlsx::export(store, plan, options, instance, &sellers, report).await;
    }
    // Publications with something to send, by seller.
    let mut pending: std::collections::HashMap<String, i64> = Default::default();
    for (seller, state, n) in publications::counts_by_state(store, channel).await? {
        if PublicationState::parse(&state).is_some_and(PublicationState::needs_sending) {
            *pending.entry(seller).or_default() += n;
        }
    }
    let (with_account, without): (Vec<String>, Vec<String>) = sellers.into_iter().partition(|s| client.has_account(s));
    report.sellers_without_account = without.into_iter().filter(|s| pending.contains_key(s)).collect();
    report.sellers_without_account.sort();
    let to_send: i64 = with_account.iter().filter_map(|s| pending.get(s)).sum();
    for seller in &report.sellers_without_account {
        tracing::warn!(seller, "no catalogue account configured for this seller: its listings are not sent");
    }
    let released = publications::release_dead_local_claims(store).await?;
    if released > 0 {
        tracing::warn!(publications = released, "claims left by a publisher that is gone are released");
    }
    let progress = Progress::new(u64::try_from(to_send).unwrap_or(0));
    let result = match channel {
        Channel::Peppol => peppol::send_all(store, plan, client, options, instance, &with_account, &progress, report).await,
        _ => send_all(store, client, options, instance, &with_account, &progress, report).await,
    };
    progress.finish();
    result
}

/// Sends the publications still to send while another process leads the
/// publish job (the daemon's helpers): the claimable part of the job only,
/// through the API channel. `None` when there was nothing to take.
pub async fn help(store: &Store, client: &CatalogueClient, options: &PublishOptions) -> Result<Option<PublishReport>, PublishError> {
    if options.channel != Channel::Api {
        return Ok(None);
    }
    let sellers: Vec<String> =
        crate::store::products::seller_ids(store).await?.into_keys().filter(|s| client.has_account(s) && client.allows(s, options.channel)).collect();
    if !publications::claimable(store, options.channel, &sellers).await? {
        return Ok(None);
    }
    let run = runs::start_as(store, Job::Publish.name(), runs::Role::Help).await?;
    let span = tracing::info_span!("run", job = Job::Publish.name(), run, role = "help");
    let claimant = Claimant::for_run(store, run, options.lease);
    let mut report = PublishReport::default();
    let progress = Progress { bar: None };
    let result = send_all(store, client, options, &claimant.name, &sellers, &progress, &mut report).instrument(span).await;
    finish_run(store, run, &report, result).await.map(Some)
}

async fn finish_run(store: &Store, run: i64, report: &PublishReport, result: Result<(), PublishError>) -> Result<PublishReport, PublishError> {
    let status = match &result {
        Err(PublishError::Interrupted(_)) => runs::RunStatus::Interrupted,
        Err(_) => runs::RunStatus::Failed,
        Ok(()) if report.complete() => runs::RunStatus::Succeeded,
        Ok(()) => runs::RunStatus::Partial,
    };
    let stats = serde_json::to_value(report).unwrap_or_default();
    let error = result.as_ref().err().map(PublishError::run_error);
    runs::finish(store, run, status, stats, error).await?;
    result.map(|()| report.clone())
}

async fn send_all(
    store: &Store,
    client: &CatalogueClient,
    options: &PublishOptions,
    instance: &str,
    sellers: &[String],
    progress: &Progress,
    report: &mut PublishReport,
) -> Result<(), PublishError> {
    let channel = options.channel;
    loop {
        stop_if_asked()?;
        let batch = publications::claim(
            store,
            instance,
            channel,
            channel.format().name(),
            sellers,
            options.batch,
            options.lease.as_secs_f64(),
            options.products.as_deref(),
        )
        .await?;
        if batch.is_empty() {
            return Ok(());
        }
        let results: Vec<Result<(Claimed, String, SendResult), StoreError>> = futures_util::stream::iter(batch)
            .map(|claimed| async move {
                let (key, result) = send_one(client, &claimed).await;
                publications::record(store, instance, &claimed, &key, &result).await?;
                Ok((claimed, key, result))
            })
            .buffer_unordered(options.concurrency.max(1))
            .collect()
            .await;
        for r in results {
            let (claimed, _, result) = r?;
            report.sent += 1;
            match result {
                SendResult::Accepted { .. } => report.accepted += 1,
                SendResult::Refused { error, .. } => report.refused.push(Refusal { seller: claimed.seller, sku: claimed.sku, error }),
                SendResult::Later { .. } => report.deferred += 1,
            }
            progress.tick(report);
        }
    }
}

/// Stops at a batch boundary when a signal asked for it.
fn stop_if_asked() -> Result<(), PublishError> {
    crate::shutdown::stop_requested().map_err(PublishError::Interrupted)
}

/// Whether the seller's account, not what was sent, is at fault: the work
/// stays pending until the configuration is fixed.
fn account_fault(e: &ClientError) -> bool {
    matches!(e, ClientError::Unauthorized { .. } | ClientError::NoAccount(_) | ClientError::Account { .. })
}

/// A progress bar on a terminal; a log line every [`LOG_EVERY`] sends otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

const LOG_EVERY: u64 = 500;

impl Progress {
    fn new(total: u64) -> Self {
        let bar = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
            let bar = indicatif::ProgressBar::new(total);
            if let Ok(style) = indicatif::ProgressStyle::with_template("publishing {bar:40} {pos}/{len} ({per_sec}, {eta} left) {msg}") {
                bar.set_style(style);
            }
            bar
        });
        Self { bar }
    }

    fn tick(&self, report: &PublishReport) {
        match &self.bar {
            Some(bar) => {
                bar.inc(1);
                if !report.refused.is_empty() || report.deferred > 0 {
                    bar.set_message(format!("{} refused, {} to retry", report.refused.len(), report.deferred));
                }
            }
            None if report.sent.is_multiple_of(LOG_EVERY) => {
                tracing::info!(sent = report.sent, accepted = report.accepted, refused = report.refused.len(), deferred = report.deferred, "publishing");
            }
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The idempotency key of a write: the publication, what it does, and its
/// round. A retry of the same attempt sends the same key, so the catalogue
/// answers it without doing it twice; a deliberate new send (new content,
/// a resubmit, a withdrawal) is a new round and a new request. Never the
/// content: a create whose answer was lost and whose content changed since
/// is recognised by its item id instead ([`send_one`] adopts the listing).
pub fn idempotency_key(claimed: &Claimed) -> String {
    let what = if claimed.state == PublicationState::WithdrawPending { "withdraw" } else { "put" };
    format!("kb-{}-{what}-r{}", claimed.id, claimed.round)
}

/// Sends one publication and says what came of it.
async fn send_one(client: &CatalogueClient, claimed: &Claimed) -> (String, SendResult) {
    let key = idempotency_key(claimed);
    let call = match (claimed.state, &claimed.remote_id, &claimed.payload) {
        (PublicationState::WithdrawPending, Some(id), _) => Call::WithdrawListing { id: id.clone(), key: key.clone() },
        (PublicationState::WithdrawPending, None, _) => {
            let error = "cannot withdraw: the catalogue's listing id is not known".to_owned();
            return (key, SendResult::Refused { state: PublicationState::Failed, error, reasons: serde_json::json!([]) });
        }
        (_, None, Some(body)) => Call::CreateListing { body: body.clone(), key: key.clone() },
        (_, Some(id), Some(body)) => Call::UpdateListing { id: id.clone(), body: body.clone(), key: key.clone() },
        _ => {
            let error = "nothing to send: the draft has no payload".to_owned();
            return (key, SendResult::Refused { state: PublicationState::Failed, error, reasons: serde_json::json!([]) });
        }
    };
    let mut outcome = client.send(&claimed.seller, &call).await;
    // A create for an item the seller already lists (our own earlier create,
    // whose answer was lost): that listing is this publication's, and is
    // updated to the content now wanted instead of being listed twice.
    if let (Call::CreateListing { body, .. }, Err(ClientError::Refused { status: 409, existing: Some(existing), .. })) = (&call, &outcome) {
        tracing::info!(publication = claimed.id, listing = %existing, "the catalogue already lists this item: adopting its listing");
        let adopt = Call::UpdateListing { id: existing.to_string(), body: body.clone(), key: format!("{key}-adopt") };
        outcome = client.send(&claimed.seller, &adopt).await;
    }
    let accepted_change = if claimed.state == PublicationState::WithdrawPending { Change::WithdrawAccepted } else { Change::Accepted };
    match outcome {
        Ok(answer) => {
            let state = claimed.state.apply(accepted_change).unwrap_or(claimed.state);
            let written = answer.listing_written();
            let (sent_hash, sent_payload) = match &call {
                Call::WithdrawListing { .. } => (None, None),
                _ => (claimed.want_hash.clone(), claimed.payload.clone()),
            };
            (key, SendResult::Accepted { state, remote_id: written.listing_id, sent_hash, sent_payload, answered: answered(state, written.review) })
        }
        Err(e) if e.is_transient() => (key, SendResult::Later { error: e.to_string(), retry_in_secs: Retry::Transient.after_secs() }),
        Err(e) if account_fault(&e) => (key, SendResult::Later { error: e.to_string(), retry_in_secs: Retry::Account.after_secs() }),
        Err(e) => {
            let reasons = match &e {
                ClientError::Refused { fields, .. } => serde_json::to_value(fields).unwrap_or_default(),
                _ => serde_json::json!([]),
            };
            let state = claimed.state.apply(Change::Refused).unwrap_or(PublicationState::Failed);
            (key, SendResult::Refused { state, error: e.to_string(), reasons })
        }
    }
}

/// The state a listing answer reports (`state`, with its `reasons`), taken
/// through the state machine from `after` (where accepting the write led):
/// `None` when the answer says no state, one this version does not know, or
/// one the machine does not allow from there.
pub fn answered(after: PublicationState, review: Option<(RemoteState, Vec<String>)>) -> Option<Answered> {
    let (remote, reasons) = review?;
    let state = after.apply(Change::Remote(remote)).ok()?;
    Some(Answered { state, reasons })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::client::request::listing_state;
    use serde_json::json;

    #[test]
    fn an_answer_moves_the_publication_as_far_as_it_says() {
        use PublicationState as S;
        // A write taken (submitted) whose answer already says live: live, with no reasons.
        assert_eq!(answered(S::Submitted, listing_state(&json!({"state": "live", "reasons": []}))), Some(Answered { state: S::Live, reasons: vec![] }));
        // The answer says what taking it means: no further move, but heard.
        assert_eq!(answered(S::Submitted, listing_state(&json!({"state": "submitted"}))).map(|a| a.state), Some(S::Submitted));
        let sent_back = answered(S::Submitted, listing_state(&json!({"state": "revision_requested", "reasons": ["foto", 7]}))).unwrap();
        assert_eq!((sent_back.state, sent_back.reasons), (S::RevisionRequested, vec!["foto".to_owned()]));
        // No state, one unknown here, or one the machine does not allow: nothing from the answer.
        assert_eq!(answered(S::Submitted, listing_state(&json!({"listing_id": "L1"}))), None);
        assert_eq!(answered(S::Submitted, listing_state(&json!({"state": "tayang"}))), None);
        assert_eq!(answered(S::Withdrawn, listing_state(&json!({"state": "live"}))), None);
    }
}
