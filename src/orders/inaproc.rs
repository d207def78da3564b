//! The order sync from the INAPROC data API (`[orders] source = "inaproc"`).
//!
//! For each configured buyer (`kode_klpd`) and fiscal year, the packages of
//! `paket-e-purchasing` are read page by page from the stored cursor (each
//! page stored and the cursor moved in one transaction, as with the
//! catalogue's feed; the next page fetched while one is stored). INAPROC's
//! cursor pages one query; nothing says it is a change feed, so once a year
//! is read to its end its cursor is forgotten and the next run reads the year
//! again: a package whose `last_update_date` is not newer than the stored
//! copy costs no write.
//!
//! The packages of our sellers whose lines are due are then completed from
//! `e-purchasing-by-produk`, read per buyer, year and status among the due
//! orders in the store (the API answers one status at a time; a status with
//! no due order is not read): one line per product, its value
//! `nilai_transaksi`. Each page of product rows is staged in PostgreSQL
//! against its order as it is read (`store::orders::stage_lines`), so nothing
//! is kept for the whole run: memory is bounded by a page or two, whatever
//! the size of the feed. An order is written (in claimed batches read back
//! from the store) only when INAPROC lists as many products for it as the
//! package's `count_product` says, at the package's status; otherwise it is
//! tried again at the next run (INAPROC's data lags). A run cut short resumes
//! from what it stored.

use tracing::Instrument;

use super::{OrderError, SOURCE, SyncOptions, SyncReport, finish_run, stop_if_asked, store_alone, store_feed_page};
use crate::catalog::inaproc::{BY_PRODUK, InaprocClient, PAKET, Page, wire};
use crate::domain::calendar::WorkingCalendar;
use crate::domain::job::Job;
use crate::store::claims::{self, Retry};
use crate::store::orders::{self, DetailCounts};
use crate::store::{Store, runs};

/// Pages of one `e-purchasing-by-produk` query read at most (up to 1,000 rows each).
const MAX_PRODUCT_PAGES: u32 = 100_000;

/// The cursor of one buyer's packages for one fiscal year.
pub fn cursor_name(klpd: &str, year: i32) -> String {
    format!("orders:inaproc:{klpd}:{year}")
}

/// Syncs the orders of every configured buyer and year from INAPROC.
pub async fn sync(store: &Store, client: &InaprocClient, calendar: &WorkingCalendar, options: &SyncOptions) -> Result<SyncReport, OrderError> {
    if options.klpd.is_empty() {
        return Err(OrderError::NoBuyer);
    }
    super::warn_of_calendar_gap(calendar);
    let lock = runs::lock_lead(store, Job::Orders).await?.map_err(OrderError::Busy)?;
    lock.hold(async {
        let run = runs::start(store, Job::Orders.name()).await?;
        let claimant = claims::Claimant::for_run(store, run, options.lease);
        let mut report = SyncReport::default();
        let span = tracing::info_span!("run", job = Job::Orders.name(), run, source = "inaproc");
        let result = sync_all(store, client, calendar, options, &claimant.name, &mut report).instrument(span).await;
        finish_run(store, run, report, result).await
    })
    .await
}

async fn sync_all(
    store: &Store,
    client: &InaprocClient,
    calendar: &WorkingCalendar,
    options: &SyncOptions,
    instance: &str,
    report: &mut SyncReport,
) -> Result<(), OrderError> {
    let released = claims::release_dead_local_claims(store, claims::Claims::OrderDetails).await?;
    if released > 0 {
        tracing::warn!(released, "claims left by a process that is gone are released");
    }
    if options.full {
        orders::reset_cursors(store, "orders:inaproc:").await?;
    }
    let ours = orders::our_sellers(store).await?;
    for klpd in &options.klpd {
        for &year in &options.years {
            let name = cursor_name(klpd, year);
            let cursor = crate::store::publications::cursor(store, &name).await?;
            let query = [("kode_klpd", klpd.clone()), ("tahun", year.to_string())];
            let pager = Pager { client, path: PAKET, query: &query, limit: options.page };
            let mut page = client.page(PAKET, &query, cursor.as_deref(), options.page).await;
            let mut cursor = cursor;
            loop {
                stop_if_asked()?;
                let current = match page {
                    Ok(p) => p,
                    Err(e) => {
                        report.feed_failures.push((format!("INAPROC packages {klpd} {year}"), e.to_string()));
                        break;
                    }
                };
                let mut packages = Vec::with_capacity(current.rows.len());
                let mut unreadable = Vec::new();
                for row in &current.rows {
                    match wire::package(row) {
                        Ok(p) => packages.push(p),
                        Err(why) => unreadable.push(why),
                    }
                }
                let next_cursor = current.cursor.clone().unwrap_or_default();
                // The next page is fetched while this one is stored.
                let (stored, next) = tokio::join!(
                    store_feed_page(store, report, (klpd, year, &name), &next_cursor, &packages, unreadable, &ours, calendar),
                    pager.after(&current, &cursor)
                );
                stored?;
                match next {
                    Some(next) => {
                        cursor = current.cursor;
                        page = next;
                    }
                    None => {
                        // Read to its end: the next run reads the year again from its start.
                        orders::reset_cursors(store, &name).await?;
                        break;
                    }
                }
            }
        }
    }
    orders::forget_stale_staged(store, SOURCE).await?;
    read_lines(store, client, options, report).await?;
    write_lines(store, calendar, options, instance, report).await?;
    report.details_left = orders::details_left(store, SOURCE).await?;
    Ok(())
}

/// One list of the API read page by page: the page after one is fetched
/// while that one is stored, so at most two pages are held at once.
struct Pager<'a> {
    client: &'a InaprocClient,
    path: &'static str,
    query: &'a [(&'a str, String)],
    limit: u32,
}

impl Pager<'_> {
    /// The page after `page` (read from `cursor`), or `None` at the list's end.
    async fn after(&self, page: &Page, cursor: &Option<String>) -> Option<Result<Page, crate::catalog::inaproc::InaprocError>> {
        let next = page.next_cursor(cursor.as_deref())?;
        Some(self.client.page(self.path, self.query, Some(next), self.limit).await)
    }
}

/// Stages the product rows of the due orders: `e-purchasing-by-produk` read
/// once per buyer, year and status among the due orders in the store, each
/// page stored as it is read (the next one fetched meanwhile); only the rows
/// of a due order at its stored status are kept, one per product.
async fn read_lines(store: &Store, client: &InaprocClient, options: &SyncOptions, report: &mut SyncReport) -> Result<(), OrderError> {
    use futures_util::StreamExt;
    let queries = orders::due_queries(store, SOURCE, &options.klpd, &options.years).await?;
    // The statuses are read side by side, within the shared quota (the client
    // waits for its slots): at most STATUSES_AT_ONCE × two pages held.
    let outcomes: Vec<Result<StatusRead, OrderError>> = futures_util::stream::iter(queries)
        .map(|(klpd, year, status)| read_status(store, client, options, klpd, year, status))
        .buffer_unordered(STATUSES_AT_ONCE)
        .collect()
        .await;
    for outcome in outcomes {
        let read = outcome?;
        report.feed_failures.extend(read.failure);
        report.unreadable_count += read.unreadable_count;
        for why in read.unreadable {
            if report.unreadable.len() < super::SHOWN_PROBLEMS {
                report.unreadable.push(why);
            }
        }
    }
    stop_if_asked()?;
    Ok(())
}

/// Product queries (buyer, year, status) read at once.
const STATUSES_AT_ONCE: usize = 3;

/// What reading one status's product rows found besides the rows it staged.
#[derive(Default)]
struct StatusRead {
    failure: Option<(String, String)>,
    unreadable_count: u64,
    unreadable: Vec<String>,
}

/// Stages the product rows of one buyer, year and status, page by page.
async fn read_status(store: &Store, client: &InaprocClient, options: &SyncOptions, klpd: String, year: i32, status: String) -> Result<StatusRead, OrderError> {
    let mut read = StatusRead::default();
    let what = || format!("INAPROC products {klpd} {year} {status}");
    let query = [("tahun", year.to_string()), ("kode_klpd", klpd.clone()), ("status", status.clone())];
    let pager = Pager { client, path: BY_PRODUK, query: &query, limit: options.page };
    let mut page = client.page(BY_PRODUK, &query, None, options.page).await;
    let mut cursor: Option<String> = None;
    for n in 0.. {
        stop_if_asked()?;
        let current = match page {
            Ok(_) if n >= MAX_PRODUCT_PAGES => {
                read.failure = Some((what(), format!("more than {MAX_PRODUCT_PAGES} pages")));
                break;
            }
            Ok(p) => p,
            Err(e) => {
                read.failure = Some((what(), e.to_string()));
                break;
            }
        };
        let mut rows = Vec::with_capacity(current.rows.len());
        for row in &current.rows {
            match wire::product_row(row) {
                Ok(r) if r.status == status => rows.push((r.order_id, r.status, r.line)),
                Ok(_) => {}
                Err(why) => {
                    read.unreadable_count += 1;
                    if read.unreadable.len() < super::SHOWN_PROBLEMS {
                        read.unreadable.push(why);
                    }
                }
            }
        }
        let (stored, next) = tokio::join!(orders::stage_lines(store, SOURCE, &rows), pager.after(&current, &cursor));
        stored?;
        match next {
            Some(next) => {
                cursor = current.cursor;
                page = next;
            }
            None => break,
        }
    }
    Ok(read)
}

/// Writes the due orders that have all their lines staged, in claimed
/// batches read back from the store; the others are tried again at the next run.
async fn write_lines(store: &Store, calendar: &WorkingCalendar, options: &SyncOptions, instance: &str, report: &mut SyncReport) -> Result<(), OrderError> {
    let mut after = 0;
    loop {
        stop_if_asked()?;
        let (batch, last) = orders::claim_details(store, instance, SOURCE, after, options.detail_batch, options.lease.as_secs_f64()).await?;
        let Some(last) = last else { break };
        after = last;
        let ids: Vec<i64> = batch.iter().map(|c| c.id).collect();
        let mut ready: Vec<(i64, crate::domain::order::RemoteOrder)> = Vec::new();
        for staged in orders::staged_details(store, &ids).await? {
            if !options.klpd.contains(&staged.order.kode_klpd) || !options.years.contains(&staged.order.fiscal_year) {
                // A buyer or year this run does not read: left for a run that does.
                continue;
            }
            let found = staged.order.lines.as_ref().map_or(0, Vec::len);
            if found == 0 || staged.expected.is_some_and(|n| n != found as u64) {
                let why = format!(
                    "INAPROC lists {found} of {} products of this order at status {} so far: tried again at the next run",
                    staged.expected.map_or_else(|| "its".to_owned(), |n| n.to_string()),
                    staged.order.status.as_str()
                );
                orders::detail_failed(store, instance, staged.id, &why, Retry::Transient.after_secs()).await?;
                report.detail_failures.push((staged.order.order_id.clone(), why));
                continue;
            }
            ready.push((staged.id, staged.order));
        }
        // Claimed but not read by this run (another buyer or year), or gone meanwhile: let go.
        let unread: Vec<i64> = ids.iter().copied().filter(|id| !ready.iter().any(|(r, _)| r == id)).collect();
        if !unread.is_empty() {
            orders::let_go_details(store, instance, &unread).await?;
        }
        if ready.is_empty() {
            continue;
        }
        let refs: Vec<(i64, &crate::domain::order::RemoteOrder)> = ready.iter().map(|(id, o)| (*id, o)).collect();
        let counts = match orders::write_details(store, instance, &refs, calendar).await {
            Ok(c) => c,
            Err(e) if e.is_data_error() => {
                let mut counts = DetailCounts::default();
                for (id, o) in &ready {
                    let id = *id;
                    match store_alone(report, o, |o| async move { orders::write_details(store, instance, &[(id, &o)], calendar).await }).await? {
                        Some(c) => counts.add(c),
                        None => orders::detail_failed(store, instance, id, "refused by the database", Retry::Refused.after_secs()).await?,
                    }
                }
                counts
            }
            Err(e) => return Err(e.into()),
        };
        let written: Vec<i64> = ready.iter().map(|(id, _)| *id).collect();
        orders::forget_staged(store, &written).await?;
        report.note_repaired(ready.iter().map(|(_, o)| o));
        report.details.add(counts);
    }
    Ok(())
}
