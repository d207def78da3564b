//! Order sync: every government order for one of our cooperatives lands in
//! PostgreSQL once, with its lines routed to the publication, product and
//! member they are for; and the cooperatives' answers go out through an
//! outbox.
//!
//! For each configured buyer (`kode_klpd`) and fiscal year, the feed is read
//! from its stored cursor; each page is applied and the cursor moved in one
//! transaction, so a crash anywhere resumes without losing or repeating work.
//! Then the orders whose detail is due are claimed in batches (committed
//! before anything is fetched), fetched with bounded concurrency under the
//! client's rate limit, and written in bulk.

pub mod export;
pub mod faktur;
pub mod fulfilment;
pub mod import;
pub mod inaproc;
pub mod issued;
pub mod report;
pub mod respond;

use std::time::Duration;

use futures_util::StreamExt;
use serde::Serialize;
use tracing::Instrument;

use crate::catalog::client::{Call, CatalogueClient};
use crate::domain::calendar::WorkingCalendar;
use crate::domain::job::Job;
use crate::domain::order::{OrderSource, RemoteOrder};
use crate::store::claims::{self, Retry};
use crate::store::orders::{self, DetailCounts, PageCounts};
use crate::store::{Store, StoreError, runs};

/// Where the orders come from (the `source` column): the catalogue's order API.
pub const SOURCE: OrderSource = OrderSource::Ekatalog;

#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no catalogue account is configured: the order feed is read with one ([[catalogue.sellers]])")]
    NoAccount,
    #[error("no buyer government is configured: set [orders] klpd = [\"D347\"] or give --klpd")]
    NoBuyer,
    #[error("interrupted by {0}: every page and order detail stored so far is kept; run the command again to finish")]
    Interrupted(&'static str),
    #[error("{0}")]
    Busy(String),
}

impl OrderError {
    /// The kind of error, as a run records it.
    pub fn run_error(&self) -> runs::RunError {
        let code = match self {
            Self::Store(_) => "database",
            Self::NoAccount | Self::NoBuyer => "configuration",
            Self::Interrupted(_) => "interrupted",
            Self::Busy(_) => "busy",
        };
        runs::RunError::new(code, self)
    }
}

#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// The buying governments (`kode_klpd`).
    pub klpd: Vec<String>,
    /// The fiscal years.
    pub years: Vec<i32>,
    /// Read every feed from its start (the cursors are forgotten first).
    pub full: bool,
    /// Packages per page (1-1000).
    pub page: u32,
    /// Orders whose detail is claimed at a time.
    pub detail_batch: i64,
    /// Detail requests in flight at once.
    pub concurrency: usize,
    pub lease: Duration,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self { klpd: Vec::new(), years: Vec::new(), full: false, page: 500, detail_batch: 500, concurrency: 8, lease: Duration::from_secs(300) }
    }
}

/// The fiscal years synced by default: this one and the one before (in Jakarta).
pub fn default_years(today: chrono::NaiveDate) -> Vec<i32> {
    use chrono::Datelike;
    vec![today.year() - 1, today.year()]
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    pub pages: u64,
    pub packages: PageCounts,
    /// Packages that could not be read (kept out, with why; the first few).
    pub unreadable: Vec<String>,
    pub unreadable_count: u64,
    pub details: DetailCounts,
    /// Orders whose detail could not be fetched this time (tried again next run), with why.
    pub detail_failures: Vec<(String, String)>,
    /// Feeds that could not be read to their end, with why.
    pub feed_failures: Vec<(String, String)>,
    /// Answers waiting in the outbox that were sent.
    pub answers_sent: u64,
    /// Orders whose detail is still due at the end: claimed by another
    /// instance, or waiting to be tried again after a failure.
    pub details_left: u64,
    /// Orders stored with a change, because the database refused a value as
    /// sent (a character replaced, a raw copy left out): each flagged in its
    /// `repaired` column. The first few, with what was changed.
    pub repaired: Vec<String>,
    pub repaired_count: u64,
    /// Orders the database refused even so (with why): the rest of their page
    /// was stored and the cursor moved on.
    pub refused: Vec<String>,
    /// The stock the orders accepted or cancelled took or gave back.
    pub stock: crate::store::stock::Settled,
}

impl SyncReport {
    pub fn summary(&self) -> String {
        let p = &self.packages;
        let d = &self.details;
        let mut s = format!(
            "{} pages: {} new orders, {} updated, {} unchanged, {} of other sellers skipped, {} status changes; {} order details with {} lines ({} lines match no listing of ours, {} orders whose lines and shipping differ from the total)",
            self.pages,
            p.new,
            p.updated,
            p.unchanged,
            p.other_sellers,
            p.events + d.events,
            d.orders,
            d.lines,
            d.unrouted,
            d.mismatched
        );
        if self.details_left > 0 {
            s.push_str(&format!("; {} order details still due (another instance holds them, or they are tried again later)", self.details_left));
        }
        if self.answers_sent > 0 {
            s.push_str(&format!("; {} answers sent", self.answers_sent));
        }
        if self.stock.taken + self.stock.returned > 0 {
            s.push_str(&format!("; stock: {} accepted orders took their quantities, {} cancelled ones gave them back", self.stock.taken, self.stock.returned));
        }
        if !self.stock.low.is_empty() {
            s.push_str(&format!("; {} products at or below their cooperative's stock threshold", self.stock.low.len()));
        }
        if self.repaired_count > 0 {
            s.push_str(&format!("; {} orders stored with a value changed (first: {})", self.repaired_count, self.repaired.join(" | ")));
        }
        if !self.refused.is_empty() {
            s.push_str(&format!(
                "; {} orders refused by the database (first: {})",
                self.refused.len(),
                self.refused.iter().take(SHOWN_PROBLEMS).cloned().collect::<Vec<_>>().join(" | ")
            ));
        }
        if self.unreadable_count > 0 {
            s.push_str(&format!("; {} packages unreadable (first: {})", self.unreadable_count, self.unreadable.join(" | ")));
        }
        for (what, why) in self.feed_failures.iter().chain(self.detail_failures.iter().take(5)) {
            s.push_str(&format!("; {what}: {why}"));
        }
        if self.detail_failures.len() > 5 {
            s.push_str(&format!("; ... {} order details not fetched in all", self.detail_failures.len()));
        }
        s
    }

    pub fn complete(&self) -> bool {
        self.detail_failures.is_empty() && self.feed_failures.is_empty() && self.unreadable_count == 0 && self.refused.is_empty()
    }

    /// Says how far a feed's reading has come, every 20 pages.
    fn log_progress(&self, klpd: &str, year: i32) {
        if self.pages.is_multiple_of(20) {
            tracing::info!(klpd, year, pages = self.pages, new = self.packages.new, updated = self.packages.updated, "reading orders");
        }
    }

    /// Takes in the counts and findings of work done alongside: details
    /// fetched beside the feed, or pages stored side by side.
    fn absorb(&mut self, details: SyncReport) {
        self.pages += details.pages;
        self.packages.add(details.packages);
        self.unreadable_count += details.unreadable_count;
        self.unreadable.extend(details.unreadable.into_iter().take(SHOWN_PROBLEMS.saturating_sub(self.unreadable.len())));
        self.feed_failures.extend(details.feed_failures);
        self.details.add(details.details);
        self.detail_failures.extend(details.detail_failures);
        self.details_left = details.details_left;
        self.repaired_count += details.repaired_count;
        self.repaired.extend(details.repaired.into_iter().take(SHOWN_PROBLEMS.saturating_sub(self.repaired.len())));
        self.refused.extend(details.refused);
    }

    fn note_repaired<'a>(&mut self, orders: impl IntoIterator<Item = &'a RemoteOrder>) {
        for o in orders.into_iter().filter(|o| !o.repaired.is_empty()) {
            self.repaired_count += 1;
            if self.repaired.len() < SHOWN_PROBLEMS {
                self.repaired.push(format!("order {}: {}", o.order_id, o.repaired.join(", ")));
            }
        }
    }
}

/// The cursor of one buyer's feed for one fiscal year.
pub fn cursor_name(klpd: &str, year: i32) -> String {
    format!("orders:{SOURCE}:{klpd}:{year}")
}

/// Syncs the orders of every configured buyer and year, then their details.
pub async fn sync_orders(store: &Store, client: &CatalogueClient, calendar: &WorkingCalendar, options: &SyncOptions) -> Result<SyncReport, OrderError> {
    if options.klpd.is_empty() {
        return Err(OrderError::NoBuyer);
    }
    warn_of_calendar_gap(calendar);
    // The feed lists every seller's packages: any of our accounts reads it.
    let reader = client.sellers().into_iter().next().ok_or(OrderError::NoAccount)?;
    let lock = runs::lock_lead(store, Job::Orders).await?.map_err(OrderError::Busy)?;
    lock.hold(async {
        let run = runs::start(store, Job::Orders.name()).await?;
        let claimant = claims::Claimant::for_run(store, run, options.lease);
        let mut report = SyncReport::default();
        let span = tracing::info_span!("run", job = Job::Orders.name(), run);
        let result = sync_all(store, client, calendar, options, &reader, &claimant.name, &mut report).instrument(span).await;
        finish_run(store, run, report, result).await
    })
    .await
}

/// Fetches the order details still due while another process leads the
/// orders job (the daemon's helpers). `None` when there was nothing to take.
/// Says, once a run, that the working-day calendar lacks a year its
/// deadlines may reach (they are then counted over weekends only).
pub fn warn_of_calendar_gap(calendar: &WorkingCalendar) {
    if let Some(gap) = calendar.gap(crate::domain::time::today()) {
        tracing::warn!(year = gap.year, "{gap}");
    }
}

pub async fn help(store: &Store, client: &CatalogueClient, calendar: &WorkingCalendar, options: &SyncOptions) -> Result<Option<SyncReport>, OrderError> {
    if client.sellers().is_empty() || !orders::details_claimable(store, SOURCE).await? {
        return Ok(None);
    }
    let run = runs::start_as(store, Job::Orders.name(), runs::Role::Help).await?;
    let claimant = claims::Claimant::for_run(store, run, options.lease);
    let mut report = SyncReport::default();
    let span = tracing::info_span!("run", job = Job::Orders.name(), run, role = "help");
    let result = fetch_details(store, client, calendar, options, &claimant.name, &mut report, None).instrument(span).await;
    finish_run(store, run, report, result).await.map(Some)
}

async fn finish_run(store: &Store, run: i64, mut report: SyncReport, mut result: Result<(), OrderError>) -> Result<SyncReport, OrderError> {
    // The orders accepted or cancelled since take or give back their stock, whatever the source.
    if result.is_ok() {
        match crate::store::stock::settle(store).await {
            Ok(settled) => report.stock = settled,
            Err(e) => result = Err(e.into()),
        }
    }
    let status = match &result {
        Err(OrderError::Interrupted(_)) => runs::RunStatus::Interrupted,
        Err(_) => runs::RunStatus::Failed,
        Ok(()) if report.complete() => runs::RunStatus::Succeeded,
        Ok(()) => runs::RunStatus::Partial,
    };
    let error = result.as_ref().err().map(OrderError::run_error);
    runs::finish(store, run, status, serde_json::to_value(&report).unwrap_or_default(), error).await?;
    result.map(|()| report)
}

fn stop_if_asked() -> Result<(), OrderError> {
    crate::shutdown::stop_requested().map_err(OrderError::Interrupted)
}

const SHOWN_PROBLEMS: usize = 5;

async fn sync_all(
    store: &Store,
    client: &CatalogueClient,
    calendar: &WorkingCalendar,
    options: &SyncOptions,
    reader: &str,
    instance: &str,
    report: &mut SyncReport,
) -> Result<(), OrderError> {
    for kind in [claims::Claims::OrderDetails, claims::Claims::Answers] {
        let released = claims::release_dead_local_claims(store, kind).await?;
        if released > 0 {
            tracing::warn!(released, claims = ?kind, "claims left by a process that is gone are released");
        }
    }
    // Answers decided before a crash go out first.
    report.answers_sent += respond::send_pending(store, client, instance, None).await?.sent;
    if options.full {
        orders::reset_cursors(store, &format!("orders:{SOURCE}:")).await?;
    }
    // The details of the orders stored are fetched while the feed is still read.
    let (feed_moved, feed) = tokio::sync::watch::channel(Feed::Reading(0));
    let mut details = SyncReport::default();
    let (read, fetched) = tokio::join!(
        async {
            let read = read_feeds(store, client, calendar, options, reader, report, &feed_moved).await;
            feed_moved.send_replace(Feed::Done);
            read
        },
        fetch_details(store, client, calendar, options, instance, &mut details, Some(feed))
    );
    report.absorb(details);
    read.and(fetched)
}

/// How far the feed is: pages stored so far, or all read (or given up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Feed {
    Reading(u64),
    Done,
}

/// Reads every configured buyer's feed for every year from its cursor,
/// storing each page and moving its cursor in one transaction; `moved` is
/// told of each page stored.
async fn read_feeds(
    store: &Store,
    client: &CatalogueClient,
    calendar: &WorkingCalendar,
    options: &SyncOptions,
    reader: &str,
    report: &mut SyncReport,
    moved: &tokio::sync::watch::Sender<Feed>,
) -> Result<(), OrderError> {
    let ours = orders::our_sellers(store).await?;
    for klpd in &options.klpd {
        for &year in &options.years {
            let name = cursor_name(klpd, year);
            let mut cursor = crate::store::publications::cursor(store, &name).await?;
            // The next page is read (and parsed) while this one is stored.
            let read = |cursor: Option<String>| {
                let call = Call::ListOrders { klpd: klpd.clone(), year, cursor, limit: options.page.clamp(1, 1000) };
                crate::task::spawned(read_page(client.clone(), reader.to_owned(), call))
            };
            let mut next = Some(read(cursor.clone()));
            while let Some(reading) = next.take() {
                stop_if_asked()?;
                let page = match reading.await {
                    Ok(p) => p,
                    Err(why) => {
                        report.feed_failures.push((format!("{klpd} {year}"), why));
                        break;
                    }
                };
                // A page that does not move the cursor cannot be followed further.
                if page.has_more && cursor.as_deref() != Some(page.cursor.as_str()) {
                    next = Some(read(Some(page.cursor.clone())));
                }
                store_feed_page(store, report, (klpd, year), Some((&name, &page.cursor)), &page.orders, page.unreadable, &ours, calendar).await?;
                report.log_progress(klpd, year);
                moved.send_replace(Feed::Reading(report.pages));
                cursor = Some(page.cursor);
            }
        }
    }
    Ok(())
}

/// Stores one page of a feed and moves its cursor (when given as (name,
/// value)) in one transaction; a page the database refuses for a value is
/// stored order by order, then the cursor moved, so one bad value never
/// stops the feed.
#[allow(clippy::too_many_arguments)]
async fn store_feed_page(
    store: &Store,
    report: &mut SyncReport,
    (klpd, year): (&str, i32),
    cursor: Option<(&str, &str)>,
    page: &[RemoteOrder],
    unreadable: Vec<String>,
    ours: &std::collections::HashMap<String, i64>,
    calendar: &WorkingCalendar,
) -> Result<(), OrderError> {
    report.pages += 1;
    report.unreadable_count += unreadable.len() as u64;
    for why in unreadable {
        if report.unreadable.len() < SHOWN_PROBLEMS {
            report.unreadable.push(why);
        }
    }
    let counts = match orders::apply_order_page(store, SOURCE, page, ours, calendar, cursor).await {
        Ok(counts) => counts,
        // One value the database refuses must not stop the feed: each
        // order alone, then the cursor.
        Err(e) if e.is_data_error() => {
            tracing::warn!(klpd, year, error = %e, "the database refused a value of this page: storing its orders one by one");
            let mut counts = PageCounts::default();
            for o in page {
                let stored =
                    store_alone(report, o, |o| async move { orders::apply_order_page(store, SOURCE, std::slice::from_ref(&o), ours, calendar, None).await })
                        .await?;
                counts.add(stored.unwrap_or_default());
            }
            counts.add(orders::apply_order_page(store, SOURCE, &[], ours, calendar, cursor).await?);
            counts
        }
        Err(e) => return Err(e.into()),
    };
    report.note_repaired(page.iter().filter(|o| ours.contains_key(&o.kode_penyedia)));
    report.packages.add(counts);
    Ok(())
}

/// Writes one batch of details (fetched from the catalogue, or completed
/// from INAPROC's product rows); a value the database refuses costs its own
/// order's detail (stored again one by one, or marked failed with why), not
/// the batch's.
pub(super) async fn write_detail_batch(
    store: &Store,
    instance: &str,
    calendar: &WorkingCalendar,
    batch: &[(i64, RemoteOrder)],
    counts: &mut DetailCounts,
    notes: &mut SyncReport,
) -> Result<(), OrderError> {
    let refs: Vec<(i64, &RemoteOrder)> = batch.iter().map(|(id, o)| (*id, o)).collect();
    match orders::write_details(store, instance, &refs, calendar).await {
        Ok(c) => counts.add(c),
        // A value the database refuses costs its own order's detail, not the batch's.
        Err(e) if e.is_data_error() => {
            tracing::warn!(error = %e, "the database refused a value of this batch: storing its details one by one");
            for (id, o) in batch {
                let id = *id;
                let stored = store_alone(notes, o, |o| async move { orders::write_details(store, instance, &[(id, &o)], calendar).await }).await?;
                match stored {
                    Some(c) => counts.add(c),
                    None => {
                        orders::detail_failed(
                            store,
                            instance,
                            id,
                            notes.refused.last().map_or("refused by the database", String::as_str),
                            Retry::Refused.after_secs(),
                        )
                        .await?
                    }
                }
            }
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// Fetches and stores the lines of every order whose detail is due. The
/// details of the next batch are fetched while the last batch is written.
/// While a `feed` is being read, the orders its pages store are taken as
/// they come; once it is done, one more pass from the first order takes
/// those that a later page made due again.
async fn fetch_details(
    store: &Store,
    client: &CatalogueClient,
    calendar: &WorkingCalendar,
    options: &SyncOptions,
    instance: &str,
    report: &mut SyncReport,
    mut feed: Option<tokio::sync::watch::Receiver<Feed>>,
) -> Result<(), OrderError> {
    let (batches, to_write) = tokio::sync::mpsc::channel::<Batch>(1);
    // Batches written so far: the pass after the feed waits for the writer,
    // whose claims would otherwise hide the orders it still holds.
    let (written_tx, mut written_rx) = tokio::sync::watch::channel(0u64);
    let fetcher = async {
        let batches = batches;
        let mut sent = 0u64;
        let mut failures = Vec::new();
        let mut after = 0;
        loop {
            stop_if_asked()?;
            let (batch, last) = orders::claim_details(store, instance, SOURCE, after, options.detail_batch, options.lease.as_secs_f64()).await?;
            let Some(last) = last else {
                match feed.as_mut() {
                    None => return Ok::<_, OrderError>(failures),
                    Some(reading) => {
                        // Nothing due past `after` yet: wait for the next page, or the end.
                        let done = *reading.borrow_and_update() == Feed::Done;
                        if done || reading.changed().await.is_err() {
                            feed = None;
                            after = 0;
                            if written_rx.wait_for(|written| *written >= sent).await.is_err() {
                                // The writer stopped on an error, which is the one reported.
                                return Ok(failures);
                            }
                        }
                        continue;
                    }
                }
            };
            after = last;
            if batch.is_empty() {
                // All taken by other instances: on to the next ones.
                continue;
            }
            // Written in batches bounded by count (the claim) and by the
            // bytes the details came in: a few huge details are a batch each.
            let mut good = Vec::new();
            let mut shares = Vec::new();
            let mut bytes = 0;
            let mut fetched = fetch_batch(client, batch, options.concurrency);
            while let Some((claim, result)) = fetched.next().await {
                match result {
                    Ok((o, size, share)) => {
                        good.push((claim.id, o));
                        shares.push(share);
                        bytes += size;
                    }
                    Err(why) => {
                        orders::detail_failed(store, instance, claim.id, &why, Retry::Unreadable.after_secs()).await?;
                        failures.push((claim.remote_order_id, why));
                    }
                }
                if bytes >= DETAIL_BATCH_BYTES {
                    sent += 1;
                    if batches.send((std::mem::take(&mut good), std::mem::take(&mut shares))).await.is_err() {
                        return Ok(failures);
                    }
                    bytes = 0;
                }
            }
            if good.is_empty() {
                continue;
            }
            sent += 1;
            if batches.send((good, shares)).await.is_err() {
                // The writer stopped on an error, which is the one reported.
                return Ok(failures);
            }
        }
    };
    let writer = write_batches(store, instance, calendar, to_write, written_tx);
    let (fetched, written) = tokio::join!(fetcher, writer);
    let (written, notes) = written?;
    report.details.add(written);
    report.repaired_count += notes.repaired_count;
    report.repaired.extend(notes.repaired.into_iter().take(SHOWN_PROBLEMS.saturating_sub(report.repaired.len())));
    report.refused.extend(notes.refused);
    report.detail_failures.extend(fetched?);
    report.details_left = orders::details_left(store, SOURCE).await?;
    Ok(())
}

/// Stores one order with `write`; when the database refuses a value of it,
/// once more without its raw copies (the typed fields are bounded by the
/// reader; a raw copy may hold anything, a number beyond what `jsonb` takes
/// among them), flagged as such. `None` when it was refused even so: the
/// order is then named in the report.
async fn store_alone<T, F, Fut>(report: &mut SyncReport, order: &RemoteOrder, write: F) -> Result<Option<T>, OrderError>
where
    F: Fn(RemoteOrder) -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let first = match write(order.clone()).await {
        Ok(t) => return Ok(Some(t)),
        Err(e) if e.is_data_error() => e,
        Err(e) => return Err(e.into()),
    };
    let note = format!("raw copy refused by the database ({first}); kept without it");
    let mut bare = order.clone();
    bare.raw = serde_json::json!({"_refused": note});
    for line in bare.lines.iter_mut().flatten() {
        line.raw = serde_json::json!({});
    }
    bare.repaired.push(note);
    match write(bare).await {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.is_data_error() => {
            report.refused.push(format!("order {}: {e}", order.order_id));
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// A batch of details with its answers' shares of the client's budget, let go once written.
type Batch = (Vec<(i64, RemoteOrder)>, Vec<crate::catalog::client::Share>);

/// Writes the batches the fetcher sends, counting each on `written_tx`.
/// A batch's memory is handed back to the system before its shares of the
/// budget are let go, so the next large answer is not read beside what the
/// allocator kept of this one.
async fn write_batches(
    store: &Store,
    instance: &str,
    calendar: &WorkingCalendar,
    mut to_write: tokio::sync::mpsc::Receiver<Batch>,
    written_tx: tokio::sync::watch::Sender<u64>,
) -> Result<(DetailCounts, SyncReport), OrderError> {
    let mut counts = DetailCounts::default();
    let mut notes = SyncReport::default();
    while let Some((batch, shares)) = to_write.recv().await {
        write_detail_batch(store, instance, calendar, &batch, &mut counts, &mut notes).await?;
        notes.note_repaired(batch.iter().map(|(_, o)| o));
        drop(batch);
        if !shares.is_empty() {
            crate::alloc::give_back_freed();
        }
        drop(shares);
        written_tx.send_modify(|written| *written += 1);
    }
    Ok((counts, notes))
}

/// The bytes of detail answers written in one transaction at most (besides
/// the count of a claim): holds memory to a few batches of this size.
const DETAIL_BATCH_BYTES: usize = 16 * 1024 * 1024;

/// Reads one page of the order feed into domain types.
async fn read_page(client: CatalogueClient, reader: String, call: Call) -> Result<crate::catalog::orders::OrderPage, String> {
    let answer = client.send(&reader, &call).await.map_err(|e| e.to_string())?;
    answer.order_page().map_err(|e| e.to_string())
}

/// Fetches the details of a batch of claimed orders, `concurrency` at a
/// time, each with the size of the answer it came in and its share of the
/// client's budget (held until the order is written). Each request, with the
/// reading of its answer, is a task of its own ([`crate::task::spawned`]).
fn fetch_batch(
    client: &CatalogueClient,
    batch: Vec<orders::DetailClaim>,
    concurrency: usize,
) -> impl futures_util::Stream<Item = (orders::DetailClaim, Result<(RemoteOrder, usize, crate::catalog::client::Share), String>)> + '_ {
    let any_reader = client.sellers().first().cloned().unwrap_or_default();
    futures_util::stream::iter(batch)
        .map(move |claim| {
            // The order's own seller reads it where it has an account; any account otherwise.
            let reader = if client.has_account(&claim.seller) { claim.seller.clone() } else { any_reader.clone() };
            let client = client.clone();
            let id = claim.remote_order_id.clone();
            let reading = crate::task::spawned(async move {
                match client.send(&reader, &Call::GetOrder { id: id.clone() }).await {
                    Ok(answer) => answer.order().map_err(|e| e.to_string()).and_then(|o| {
                        if o.order_id != id {
                            Err(format!("asked for order {id}, the catalogue answered with {}", o.order_id))
                        } else if o.lines.is_none() {
                            Err(format!("order {id}: the detail has no lines"))
                        } else {
                            Ok((o, answer.bytes, answer.share()))
                        }
                    }),
                    Err(e) => Err(e.to_string()),
                }
            });
            async move { (claim, reading.await) }
        })
        .buffer_unordered(concurrency.max(1))
}
