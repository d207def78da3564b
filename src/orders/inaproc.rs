//! The order sync from the INAPROC data API (`[orders] source = "inaproc"`).
//!
//! For each configured buyer (`kode_klpd`) and fiscal year, the packages of
//! `paket-e-purchasing` are read page by page from the stored cursor (two
//! pages stored side by side, then the cursor moved past both; the next two
//! fetched and read meanwhile). A package of another seller, or no newer than its stored
//! copy, is skipped on its id, seller and date, never parsed whole. INAPROC's
//! cursor pages one query; nothing says it is a change feed, so once a year
//! is read to its end its cursor is forgotten and the next run reads the year
//! again: a package whose `last_update_date` is not newer than the stored
//! copy costs no write.
//!
//! The packages of our sellers whose lines are due are then completed from
//! `e-purchasing-by-produk`, read per buyer, year and status among the due
//! orders in the store (the API answers one status at a time; a status with
//! no due order is not read): one line per product, its value
//! `nilai_transaksi`. For each page of product rows, SQL says which of its
//! orders are complete: the rows staged before and the page's together make
//! as many lines as the package's `count_product`, at the package's status.
//! Those are written (in claimed batches, by writers beside the readers)
//! with the page's lines, never staged; the rows of the others are staged in
//! PostgreSQL against their order (`store::orders::stage_lines`), to be
//! completed by a later page. Nothing is kept for the whole run: memory is
//! bounded by a few pages, whatever the size of the feed. An order still
//! incomplete when every page is read is tried again at the next run
//! (INAPROC's data lags). A run cut short resumes from what it stored: an
//! order is written whole in one transaction, or not at all.

use tracing::Instrument;

use super::{OrderError, SOURCE, SyncOptions, SyncReport, finish_run, stop_if_asked, store_feed_page};
use crate::catalog::inaproc::{InaprocClient, Page, Query, wire};
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
            read_year(store, client, calendar, options, (klpd, year), &ours, report).await?;
        }
    }
    // The product rows are joined against the packages just stored.
    crate::store::analyze_if_grown(store, "purchase_orders", report.packages.new).await?;
    orders::forget_stale_staged(store, SOURCE).await?;
    read_lines(store, client, calendar, options, instance, report).await?;
    // The due orders left: written if complete, otherwise tried again at the next run.
    write_lines(store, calendar, options, instance, report).await?;
    report.details_left = orders::details_left(store, SOURCE).await?;
    Ok(())
}

/// Reads one buyer's packages of one year from the stored cursor, page by
/// page: PAGES_AT_ONCE pages are stored side by side (each in a transaction
/// of its own) while the next ones are fetched and read, then the cursor is
/// moved past the last of them. A run cut short between the two reads those
/// pages again, finds their packages stored and skips them unread.
async fn read_year(
    store: &Store,
    client: &InaprocClient,
    calendar: &WorkingCalendar,
    options: &SyncOptions,
    (klpd, year): (&str, i32),
    ours: &std::collections::HashMap<String, i64>,
    report: &mut SyncReport,
) -> Result<(), OrderError> {
    let name = cursor_name(klpd, year);
    let from = crate::store::publications::cursor(store, &name).await?;
    let query = Query::packages(klpd, year);
    let pager = Pager { client, query: &query, limit: options.page };
    let mut failure = None;
    let mut ready = match client.page(&query, from.as_deref(), options.page).await {
        Ok(page) => vec![prepare(store, &pager, page, from.as_deref(), ours).await?],
        Err(e) => {
            failure = Some(e);
            Vec::new()
        }
    };
    while !ready.is_empty() {
        stop_if_asked()?;
        let mut batch = std::mem::take(&mut ready);
        let ahead = batch.last_mut().and_then(|p| p.ahead.take());
        let at_end = ahead.is_none();
        let last_cursor = batch.last().and_then(|p| p.cursor.clone());
        let stores = batch.into_iter().map(|p| async move {
            let mut part = SyncReport::default();
            store_feed_page(store, &mut part, (klpd, year), None, &p.packages, p.unreadable, ours, calendar).await?;
            part.packages.add(p.skipped);
            Ok::<_, OrderError>(part)
        });
        let (stored, next) = tokio::join!(futures_util::future::try_join_all(stores), prepare_next(store, &pager, ahead, last_cursor.clone(), ours));
        for part in stored? {
            report.absorb(part);
            report.log_progress(klpd, year);
        }
        orders::apply_order_page(store, SOURCE, &[], ours, calendar, Some((&name, last_cursor.as_deref().unwrap_or_default()))).await?;
        let (next, error) = next?;
        failure = failure.or(error);
        if at_end && failure.is_none() {
            // Read to its end: the next run reads the year again from its start.
            orders::reset_cursors(store, &name).await?;
        }
        ready = next;
    }
    if let Some(e) = failure {
        report.feed_failures.push((format!("INAPROC packages {klpd} {year}"), e.to_string()));
    }
    Ok(())
}

/// Pages stored side by side.
const PAGES_AT_ONCE: usize = 2;

/// The next PAGES_AT_ONCE pages (fewer at the list's end, or before a fetch
/// that failed, given with them), made ready one after another from the
/// fetch under way (`ahead`, read from `from`); the last keeps the fetch of
/// the page after it.
async fn prepare_next(
    store: &Store,
    pager: &Pager<'_>,
    ahead: Option<PageFetch>,
    mut from: Option<String>,
    ours: &std::collections::HashMap<String, i64>,
) -> Result<(Vec<Prepared>, Option<crate::catalog::inaproc::InaprocError>), OrderError> {
    let mut next = Vec::with_capacity(PAGES_AT_ONCE);
    let mut fetch = ahead;
    while let Some(f) = fetch.take() {
        match f.page().await {
            Ok(page) => {
                let mut p = prepare(store, pager, page, from.as_deref(), ours).await?;
                from = p.cursor.clone();
                if next.len() + 1 < PAGES_AT_ONCE {
                    fetch = p.ahead.take();
                }
                next.push(p);
            }
            Err(e) => return Ok((next, Some(e))),
        }
    }
    Ok((next, None))
}

/// A page of packages made ready to store.
struct Prepared {
    /// The page's cursor, stored with it.
    cursor: Option<String>,
    packages: Vec<crate::domain::order::RemoteOrder>,
    unreadable: Vec<String>,
    /// Packages counted and left unread.
    skipped: orders::PageCounts,
    /// The fetch of the page after it, under way; `None` at the list's end.
    ahead: Option<PageFetch>,
}

/// Starts the fetch of the page after `page` (read from `from`), then reads `page`'s packages.
async fn prepare(
    store: &Store,
    pager: &Pager<'_>,
    page: Page,
    from: Option<&str>,
    ours: &std::collections::HashMap<String, i64>,
) -> Result<Prepared, OrderError> {
    let ahead = pager.spawn_after(&page, from);
    let (packages, unreadable, skipped) = read_packages(store, &page.rows, ours).await?;
    Ok(Prepared { cursor: page.cursor, packages, unreadable, skipped, ahead })
}

/// The packages of a page to store, and why others could not be read. A
/// package of another seller, or one no newer than its stored copy, is
/// counted and left unread: a rerun that finds nothing new reads each
/// package's id, seller and date only.
async fn read_packages(
    store: &Store,
    rows: &[Box<serde_json::value::RawValue>],
    ours: &std::collections::HashMap<String, i64>,
) -> Result<(Vec<crate::domain::order::RemoteOrder>, Vec<String>, orders::PageCounts), OrderError> {
    let versions: Vec<_> = rows.iter().map(|r| wire::package_glance(r)).collect();
    let ids: Vec<&str> = versions.iter().flatten().filter(|g| ours.contains_key(&g.seller)).map(|g| g.id.as_str()).collect();
    let known = orders::stored_versions(store, SOURCE, &ids).await?;
    let (mut packages, mut unreadable, mut skipped) = (Vec::with_capacity(rows.len()), Vec::new(), orders::PageCounts::default());
    // Another seller's package that bought a package of a purchase plan: kept for the plan's report.
    let mut elsewhere = Vec::new();
    for (row, version) in rows.iter().zip(&versions) {
        match version {
            Some(g) if !ours.contains_key(&g.seller) => {
                skipped.other_sellers += 1;
                if let (Some(rup_code), Some(total), Some(status)) = (&g.rup_code, g.total, &g.status) {
                    elsewhere.push(crate::store::rup::Purchase {
                        order_id: g.id.clone(),
                        rup_code: rup_code.clone(),
                        seller: g.seller.clone(),
                        total,
                        status: status.clone(),
                        updated_at: g.at,
                    });
                }
                continue;
            }
            Some(g) if known.get(&g.id).is_some_and(|stored| *stored >= g.at) => {
                skipped.unchanged += 1;
                continue;
            }
            _ => {}
        }
        match wire::row(row).and_then(wire::package) {
            Ok(p) => packages.push(p),
            Err(why) => unreadable.push(why),
        }
    }
    crate::store::rup::save_purchases(store, &elsewhere).await?;
    Ok((packages, unreadable, skipped))
}

/// One list of the API read page by page: the page after one is fetched
/// (and parsed) on a task of its own while that one is stored, so a list
/// holds two pages at once (the packages three: see `read_year`).
struct Pager<'a> {
    client: &'a InaprocClient,
    query: &'a Query,
    limit: u32,
}

impl Pager<'_> {
    /// The page after `page` (read from `cursor`), or `None` at the list's end.
    async fn after(&self, page: &Page, cursor: &Option<String>) -> Option<Result<Page, crate::catalog::inaproc::InaprocError>> {
        Some(self.spawn_after(page, cursor.as_deref())?.page().await)
    }

    /// Starts fetching the page after `page` (read from `from`) on a task of
    /// its own; `None` at the list's end.
    fn spawn_after(&self, page: &Page, from: Option<&str>) -> Option<PageFetch> {
        let next = page.next_cursor(from)?.to_owned();
        let (client, limit) = (self.client.clone(), self.limit);
        let query = self.query.clone();
        Some(PageFetch(tokio::spawn(async move { client.page(&query, Some(&next), limit).await })))
    }
}

/// A page being fetched; dropped, the fetch stops.
struct PageFetch(tokio::task::JoinHandle<Result<Page, crate::catalog::inaproc::InaprocError>>);

impl Drop for PageFetch {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl PageFetch {
    /// The page, once fetched.
    async fn page(mut self) -> Result<Page, crate::catalog::inaproc::InaprocError> {
        (&mut self.0).await.unwrap_or_else(|e| Err(crate::catalog::inaproc::InaprocError::Build(format!("the page's fetch stopped: {e}"))))
    }
}

/// Reads the product rows of the due orders: `e-purchasing-by-produk` read
/// once per buyer, year and status among the due orders in the store, each
/// page kept as it is read (the next one fetched meanwhile); only the rows
/// of a due order at its stored status count, one per product. The orders a
/// page completes are written meanwhile, in claimed batches, by writers
/// beside the readers; the rows of the others are staged.
async fn read_lines(
    store: &Store,
    client: &InaprocClient,
    calendar: &WorkingCalendar,
    options: &SyncOptions,
    instance: &str,
    report: &mut SyncReport,
) -> Result<(), OrderError> {
    use futures_util::StreamExt;
    let queries = orders::due_queries(store, SOURCE, &options.klpd, &options.years).await?;
    // A few batches of ids in flight at most: the readers wait for the writer.
    let (complete, to_write) = tokio::sync::mpsc::channel::<Vec<Complete>>(2);
    // The statuses are read side by side, within the shared quota (the client
    // waits for its slots): at most STATUSES_AT_ONCE × two pages held.
    let reading = async move {
        let outcomes: Vec<Result<StatusRead, OrderError>> = futures_util::stream::iter(queries)
            .map(|(klpd, year, status)| read_status(store, client, options, (klpd, year, status), complete.clone()))
            .buffer_unordered(STATUSES_AT_ONCE)
            .collect()
            .await;
        // `complete` is dropped here: the writer ends once it has written the last batch sent.
        outcomes
    };
    let (outcomes, written) = tokio::join!(reading, write_completed(store, calendar, options, instance, to_write));
    let mut staged = 0;
    for outcome in outcomes {
        let read = outcome?;
        staged += read.staged;
        report.feed_failures.extend(read.failure);
        report.unreadable_count += read.unreadable_count;
        for why in read.unreadable {
            if report.unreadable.len() < super::SHOWN_PROBLEMS {
                report.unreadable.push(why);
            }
        }
    }
    report.absorb(written?);
    stop_if_asked()?;
    // What is left staged is read back by order: planned for the table's real size.
    crate::store::analyze_if_grown(store, "inaproc_line_stage", staged).await?;
    Ok(())
}

/// An order a page of product rows completes: its id, and the page's lines
/// for it (those staged before are read back when it is written).
type Complete = (i64, Vec<crate::domain::order::RemoteLine>);

/// Writes the orders the readers found complete as they come, in claimed
/// batches of up to `detail_batch`, WRITERS batches at once, until the
/// readers are done.
async fn write_completed(
    store: &Store,
    calendar: &WorkingCalendar,
    options: &SyncOptions,
    instance: &str,
    mut to_write: tokio::sync::mpsc::Receiver<Vec<Complete>>,
) -> Result<SyncReport, OrderError> {
    use futures_util::StreamExt;
    let batch = usize::try_from(options.detail_batch).unwrap_or(500).max(1);
    let lease = options.lease.as_secs_f64();
    let write = |mut lines: std::collections::HashMap<i64, Vec<crate::domain::order::RemoteLine>>| async move {
        let ids: Vec<i64> = lines.keys().copied().collect();
        // Claimed by another instance meanwhile: left to it (its lines are read again).
        let claimed = orders::claim_orders(store, instance, &ids, lease).await?;
        let taken: std::collections::HashSet<i64> = claimed.iter().copied().collect();
        lines.retain(|id, _| taken.contains(id));
        if claimed.is_empty() {
            return Ok(SyncReport::default());
        }
        write_batch(store, calendar, options, instance, claimed, lines).await
    };
    let mut report = SyncReport::default();
    let mut pending: Vec<Complete> = Vec::new();
    let mut writing = futures_util::stream::FuturesUnordered::new();
    let mut reading = true;
    loop {
        // A batch starts when it is full, or with what is left once the readers are done.
        while writing.len() < WRITERS && (pending.len() >= batch || (!reading && !pending.is_empty())) {
            writing.push(write(pending.drain(..pending.len().min(batch)).collect()));
        }
        if !reading && writing.is_empty() {
            return Ok(report);
        }
        tokio::select! {
            more = to_write.recv(), if reading && pending.len() < batch => match more {
                Some(more) => pending.extend(more),
                None => reading = false,
            },
            Some(done) = writing.next(), if !writing.is_empty() => report.absorb(done?),
        }
    }
}

/// Product queries (buyer, year, status) read at once.
const STATUSES_AT_ONCE: usize = 3;

/// What reading one status's product rows found besides the rows it staged.
#[derive(Default)]
struct StatusRead {
    /// Product rows staged.
    staged: u64,
    failure: Option<(String, String)>,
    unreadable_count: u64,
    unreadable: Vec<String>,
}

/// Keeps a page's product rows (by catalogue order id) of the due orders at
/// `status`: those of an order they complete are returned with its id, to
/// be written; those of the others are staged. Returns (rows staged, orders
/// complete).
async fn keep_page(
    store: &Store,
    status: &str,
    by_order: std::collections::BTreeMap<String, Vec<crate::domain::order::RemoteLine>>,
) -> Result<(u64, Vec<Complete>), OrderError> {
    let counts: Vec<(String, i64)> = by_order.iter().map(|(id, lines)| (id.clone(), lines.len() as i64)).collect();
    let due = orders::page_orders(store, SOURCE, status, &counts).await?;
    let (mut complete, mut partial) = (Vec::new(), Vec::new());
    for (remote, lines) in by_order {
        match due.get(&remote) {
            Some(&(id, true)) => complete.push((id, lines)),
            Some(&(_, false)) => partial.extend(lines.into_iter().map(|l| (remote.clone(), status.to_owned(), l))),
            // Not due, or not at this status: nothing to keep.
            None => {}
        }
    }
    let staged = if partial.is_empty() { 0 } else { orders::stage_lines(store, SOURCE, &partial).await? };
    Ok((staged, complete))
}

/// Reads the product rows of one buyer, year and status, page by page: the
/// orders each page completes are sent to the writer with their lines, the
/// rows of the others are staged.
async fn read_status(
    store: &Store,
    client: &InaprocClient,
    options: &SyncOptions,
    (klpd, year, status): (String, i32, String),
    to_write: tokio::sync::mpsc::Sender<Vec<Complete>>,
) -> Result<StatusRead, OrderError> {
    let mut read = StatusRead::default();
    let what = || format!("INAPROC products {klpd} {year} {status}");
    let query = Query::package_products(&klpd, year, &status);
    let pager = Pager { client, query: &query, limit: options.page };
    let mut page = client.page(&query, None, options.page).await;
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
        // The page's rows at this status, each order's in one place, a row
        // repeated kept once (its last copy).
        let mut by_order: std::collections::BTreeMap<String, Vec<crate::domain::order::RemoteLine>> = Default::default();
        for row in &current.rows {
            match wire::row(row).and_then(wire::product_row) {
                Ok(r) if r.status == status => {
                    let lines = by_order.entry(r.order_id).or_default();
                    lines.retain(|l| l.line_id != r.line.line_id);
                    lines.push(r.line);
                }
                Ok(_) => {}
                Err(why) => {
                    read.unreadable_count += 1;
                    if read.unreadable.len() < super::SHOWN_PROBLEMS {
                        read.unreadable.push(why);
                    }
                }
            }
        }
        let (stored, next) = tokio::join!(keep_page(store, &status, by_order), pager.after(&current, &cursor));
        let (staged, complete) = stored?;
        read.staged += staged;
        // The writer gone (it failed): its error is the run's; reading on would be for nothing.
        if !complete.is_empty() && to_write.send(complete).await.is_err() {
            break;
        }
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
/// batches read back from the store, WRITERS batches at a time (PostgreSQL
/// works on one while the next is read back); the others are tried again at
/// the next run.
async fn write_lines(store: &Store, calendar: &WorkingCalendar, options: &SyncOptions, instance: &str, report: &mut SyncReport) -> Result<(), OrderError> {
    use futures_util::StreamExt;
    let lease = options.lease.as_secs_f64();
    let mut writing = futures_util::stream::FuturesUnordered::new();
    // Claimed one batch after another, in the order of the orders' ids.
    let mut after = Some(0);
    loop {
        while writing.len() < WRITERS
            && let Some(from) = after
        {
            stop_if_asked()?;
            let (batch, last) = orders::claim_details(store, instance, SOURCE, from, options.detail_batch, lease).await?;
            after = last;
            if last.is_some() {
                writing.push(write_batch(store, calendar, options, instance, batch.iter().map(|c| c.id).collect(), Default::default()));
            }
        }
        match writing.next().await {
            Some(done) => report.absorb(done?),
            None => return Ok(()),
        }
    }
}

/// Batches of staged orders written at once.
const WRITERS: usize = 3;

/// Writes the claimed orders `ids` that have all their lines, staged or in
/// `read` (lines just read, by order id); lets go of the others. What it did, as a report to absorb.
async fn write_batch(
    store: &Store,
    calendar: &WorkingCalendar,
    options: &SyncOptions,
    instance: &str,
    ids: Vec<i64>,
    mut read: std::collections::HashMap<i64, Vec<crate::domain::order::RemoteLine>>,
) -> Result<SyncReport, OrderError> {
    let mut report = SyncReport::default();
    let mut ready: Vec<(i64, crate::domain::order::RemoteOrder)> = Vec::new();
    for mut staged in orders::staged_details(store, &ids).await? {
        if let (Some(page), Some(lines)) = (read.remove(&staged.id), staged.order.lines.as_mut()) {
            // A line read again replaces its staged copy.
            lines.retain(|l| !page.iter().any(|p| p.line_id == l.line_id));
            lines.extend(page);
            lines.sort_by(|a, b| a.line_id.cmp(&b.line_id));
        }
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
    let written: Vec<i64> = ready.iter().map(|(id, _)| *id).collect();
    let kept: std::collections::HashSet<i64> = written.iter().copied().collect();
    let unread: Vec<i64> = ids.iter().copied().filter(|id| !kept.contains(id)).collect();
    if !unread.is_empty() {
        orders::let_go_details(store, instance, &unread).await?;
    }
    if ready.is_empty() {
        return Ok(report);
    }
    let mut counts = DetailCounts::default();
    super::write_detail_batch(store, instance, calendar, &ready, &mut counts, &mut report).await?;
    orders::forget_staged(store, &written).await?;
    report.note_repaired(ready.iter().map(|(_, o)| o));
    report.details.add(counts);
    Ok(report)
}
