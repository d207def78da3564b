//! The order sync from the INAPROC data API (`[orders] source = "inaproc"`).
//!
//! For each configured buyer (`kode_klpd`) and fiscal year, the packages of
//! `paket-e-purchasing` are read page by page from the stored cursor (each
//! page stored and the cursor moved in one transaction, as with the
//! catalogue's feed). INAPROC's cursor pages one query; nothing says it is a
//! change feed, so once a year is read to its end its cursor is forgotten and
//! the next run reads the year again: a package whose `last_update_date` is
//! not newer than the stored copy costs no write.
//!
//! The packages of our sellers whose lines are due are then completed from
//! `e-purchasing-by-produk`, read once per buyer, year and status among them
//! (the API answers one status at a time): one line per product, its value
//! `nilai_transaksi`. An order is written only when INAPROC lists as many
//! products for it as the package's `count_product` says, at the package's
//! status; otherwise it is tried again at the next run (INAPROC's data lags).

use std::collections::{BTreeSet, HashMap};

use tracing::Instrument;

use super::{OrderError, SOURCE, SyncOptions, SyncReport, finish_run, stop_if_asked, store_alone, store_feed_page};
use crate::catalog::inaproc::{BY_PRODUK, InaprocClient, PAKET, wire};
use crate::domain::calendar::WorkingCalendar;
use crate::domain::job::Job;
use crate::domain::order::{RemoteLine, RemoteOrder};
use crate::store::claims::{self, Retry};
use crate::store::orders::{self, DetailCounts};
use crate::store::{Store, runs};

/// Pages of one `e-purchasing-by-produk` query read at most (1,000 rows each).
const MAX_PRODUCT_PAGES: u32 = 1000;

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
    // Our packages read in this run whose lines are due, the newest copy of each.
    let mut due: HashMap<String, RemoteOrder> = HashMap::new();
    for klpd in &options.klpd {
        for &year in &options.years {
            let name = cursor_name(klpd, year);
            let mut cursor = crate::store::publications::cursor(store, &name).await?;
            let query = [("kode_klpd", klpd.clone()), ("tahun", year.to_string())];
            loop {
                stop_if_asked()?;
                let page = match client.page(PAKET, &query, cursor.as_deref(), options.page).await {
                    Ok(p) => p,
                    Err(e) => {
                        report.feed_failures.push((format!("INAPROC packages {klpd} {year}"), e.to_string()));
                        break;
                    }
                };
                let mut packages = Vec::with_capacity(page.rows.len());
                let mut unreadable = Vec::new();
                for row in &page.rows {
                    match wire::package(row) {
                        Ok(p) => packages.push(p),
                        Err(why) => unreadable.push(why),
                    }
                }
                let next = page.cursor.clone().unwrap_or_default();
                store_feed_page(store, report, (klpd, year, &name), &next, &packages, unreadable, &ours, calendar).await?;
                let mine: Vec<String> = packages.iter().filter(|p| ours.contains_key(&p.kode_penyedia)).map(|p| p.order_id.clone()).collect();
                let now_due = orders::due_among(store, SOURCE, &mine).await?;
                for p in packages.into_iter().filter(|p| now_due.contains(&p.order_id)) {
                    if due.get(&p.order_id).is_none_or(|seen| seen.updated_at <= p.updated_at) {
                        due.insert(p.order_id.clone(), p);
                    }
                }
                if !page.has_more || page.cursor.is_none() || page.cursor == cursor {
                    // Read to its end: the next run reads the year again from its start.
                    orders::reset_cursors(store, &name).await?;
                    break;
                }
                cursor = page.cursor;
            }
        }
    }
    let lines = read_lines(client, &due, report).await?;
    write_lines(store, calendar, options, instance, report, &due, &lines).await?;
    report.details_left = orders::details_left(store, SOURCE).await?;
    Ok(())
}

/// The lines INAPROC lists for the due packages: `e-purchasing-by-produk`
/// read once per buyer, year and status among them; only the rows of a due
/// order at its package's status are kept, one per product.
async fn read_lines(
    client: &InaprocClient,
    due: &HashMap<String, RemoteOrder>,
    report: &mut SyncReport,
) -> Result<HashMap<String, Vec<RemoteLine>>, OrderError> {
    let queries: BTreeSet<(String, i32, String)> = due.values().map(|o| (o.kode_klpd.clone(), o.fiscal_year, o.status.as_str().to_owned())).collect();
    let mut lines: HashMap<String, Vec<RemoteLine>> = HashMap::new();
    for (klpd, year, status) in queries {
        stop_if_asked()?;
        let query = [("tahun", year.to_string()), ("kode_klpd", klpd.clone()), ("status", status.clone())];
        let rows = match client.all(BY_PRODUK, &query, 1000, MAX_PRODUCT_PAGES).await {
            Ok(rows) => rows,
            Err(e) => {
                report.feed_failures.push((format!("INAPROC products {klpd} {year} {status}"), e.to_string()));
                continue;
            }
        };
        for row in rows {
            let r = match wire::product_row(&row) {
                Ok(r) => r,
                Err(why) => {
                    report.unreadable_count += 1;
                    if report.unreadable.len() < super::SHOWN_PROBLEMS {
                        report.unreadable.push(why);
                    }
                    continue;
                }
            };
            if r.status != status || due.get(&r.order_id).is_none_or(|o| o.status.as_str() != status) {
                continue;
            }
            let order = lines.entry(r.order_id).or_default();
            match order.iter_mut().find(|l| l.line_id == r.line.line_id) {
                Some(same) => *same = r.line,
                None => order.push(r.line),
            }
        }
    }
    Ok(lines)
}

/// Writes the due packages that have all their lines, in claimed batches;
/// the others are tried again at the next run.
async fn write_lines(
    store: &Store,
    calendar: &WorkingCalendar,
    options: &SyncOptions,
    instance: &str,
    report: &mut SyncReport,
    due: &HashMap<String, RemoteOrder>,
    lines: &HashMap<String, Vec<RemoteLine>>,
) -> Result<(), OrderError> {
    let mut after = 0;
    loop {
        stop_if_asked()?;
        let (batch, last) = orders::claim_details(store, instance, SOURCE, after, options.detail_batch, options.lease.as_secs_f64()).await?;
        let Some(last) = last else { break };
        after = last;
        let mut ready: Vec<(i64, RemoteOrder)> = Vec::new();
        let mut not_read = Vec::new();
        for claim in batch {
            let Some(package) = due.get(&claim.remote_order_id) else {
                // Not among the packages read in this run (another year, or a run cut short).
                not_read.push(claim.id);
                continue;
            };
            let found = lines.get(&claim.remote_order_id).map_or(0, Vec::len);
            let expected = package.raw["count_product"].as_u64().or_else(|| package.raw["count_product"].as_str().and_then(|c| c.trim().parse().ok()));
            if found == 0 || expected.is_some_and(|n| n != found as u64) {
                let why = format!(
                    "INAPROC lists {found} of {} products of this order at status {} so far: tried again at the next run",
                    expected.map_or_else(|| "its".to_owned(), |n| n.to_string()),
                    package.status.as_str()
                );
                orders::detail_failed(store, instance, claim.id, &why, Retry::Transient.after_secs()).await?;
                report.detail_failures.push((claim.remote_order_id.clone(), why));
                continue;
            }
            let mut detail = package.clone();
            detail.lines = Some(lines[&claim.remote_order_id].clone());
            ready.push((claim.id, detail));
        }
        if !not_read.is_empty() {
            orders::let_go_details(store, instance, &not_read).await?;
        }
        if ready.is_empty() {
            continue;
        }
        let refs: Vec<(i64, &RemoteOrder)> = ready.iter().map(|(id, o)| (*id, o)).collect();
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
        report.note_repaired(ready.iter().map(|(_, o)| o));
        report.details.add(counts);
    }
    Ok(())
}
