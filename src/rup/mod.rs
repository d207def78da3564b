//! The city's purchase plan (RUP): `sync rup` and the daemon's `rup` job.
//!
//! For each configured buyer (`kode_klpd`) and fiscal year, the announced
//! packages are read from INAPROC's RUP endpoint page by page, under the
//! shared quota, and each page is saved in a transaction of its own (a
//! change of budget, date or standing is an event). Fetching, reading and
//! writing overlap, a page each (`read_all`). A year read to its end withdraws the
//! packages it no longer lists. Each package keeps the local categories its
//! name and description speak of (`mappings/rup-keywords.csv`), read as it
//! is saved (all of them again when the words change); it is an opportunity
//! for every cooperative with a product of one of them, so matches follow
//! the products. The cooperatives are then told of their open opportunities,
//! through the outbox, once each: when first seen, or `lead_days` before the
//! choosing begins, whichever comes later; a package moved or withdrawn
//! after that sends one short correction.
//!
//! Every step is idempotent: a run cut short is run again.

pub mod report;
pub mod view;

use std::collections::HashSet;

use chrono::NaiveDate;
use tracing::Instrument;

use crate::catalog::inaproc::{InaprocClient, InaprocError, Query, wire};
use crate::domain::job::Job;
use crate::domain::rup::NoticeKind;
use crate::mapping::rup_keywords::Keywords;
use crate::store::rup::{self as stored, SaveCounts};
use crate::store::{Store, StoreError, runs};

/// Packages whose categories are read again per transaction.
const CATEGORY_CHUNK: i64 = 2_000;
/// Pages of one buyer's year read at most.
const MAX_PAGES: u32 = 10_000;
/// Problems shown in a report (all are counted).
const SHOWN_PROBLEMS: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum RupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no buyer government is configured: set [orders] klpd = [\"D347\"] or give --klpd")]
    NoBuyer,
    #[error("interrupted by {0}: every page stored so far is kept; run the command again to finish")]
    Interrupted(&'static str),
    #[error("{0}")]
    Busy(String),
}

impl RupError {
    pub fn run_error(&self) -> runs::RunError {
        let code = match self {
            Self::Store(_) => "database",
            Self::NoBuyer => "configuration",
            Self::Interrupted(_) => "interrupted",
            Self::Busy(_) => "busy",
        };
        runs::RunError::new(code, self)
    }
}

#[derive(Debug, Clone)]
pub struct RupOptions {
    pub klpd: Vec<String>,
    pub years: Vec<i32>,
    /// Rows asked per page (1-1000).
    pub page: u32,
    /// The day by which "not begun" is judged (the adapter's clock; injected in tests).
    pub today: NaiveDate,
    /// How many days before the choosing begins a cooperative is told.
    pub lead_days: u32,
}

/// What a run did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RupReport {
    pub packages: SaveCounts,
    /// Packages no longer on the announced list.
    pub unlisted: u64,
    pub unreadable_count: u64,
    pub unreadable: Vec<String>,
    /// Reads that failed (buyer and year, why): the run is partial.
    pub failures: Vec<(String, String)>,
    /// Packages of the years read that fit at least one cooperative's products.
    pub matched_packages: u64,
    /// Packages whose categories were read again (the words changed).
    pub recategorized: u64,
    pub opportunities_told: u64,
    pub corrections_told: u64,
    /// How long reading (and categorising) took, and telling.
    pub read_seconds: f64,
    pub tell_seconds: f64,
}

impl RupReport {
    pub fn complete(&self) -> bool {
        self.failures.is_empty() && self.unreadable_count == 0
    }

    /// In a few lines, for the command line and the logs.
    pub fn summary(&self) -> String {
        let p = &self.packages;
        let mut s = format!(
            "plan packages: {} new, {} changed, {} unchanged, {} no longer listed; {} fit our cooperatives' products; \
             {} opportunities and {} corrections to tell",
            p.new, p.changed, p.unchanged, self.unlisted, self.matched_packages, self.opportunities_told, self.corrections_told
        );
        if self.unreadable_count > 0 {
            s.push_str(&format!("\n{} packages could not be read:", self.unreadable_count));
            for u in &self.unreadable {
                s.push_str(&format!("\n  - {u}"));
            }
        }
        for (what, why) in &self.failures {
            s.push_str(&format!("\nnot read: {what}: {why}"));
        }
        s
    }
}

fn stop_if_asked() -> Result<(), RupError> {
    crate::shutdown::stop_requested().map_err(RupError::Interrupted)
}

/// Reads, matches and tells: one run of the `rup` job.
pub async fn sync(store: &Store, client: &InaprocClient, keywords: &Keywords, options: &RupOptions) -> Result<RupReport, RupError> {
    if options.klpd.is_empty() {
        return Err(RupError::NoBuyer);
    }
    let lock = runs::lock_lead(store, Job::Rup).await?.map_err(RupError::Busy)?;
    lock.hold(async {
        let run = runs::start(store, Job::Rup.name()).await?;
        let mut report = RupReport::default();
        let span = tracing::info_span!("run", job = Job::Rup.name(), run);
        let result = sync_all(store, client, keywords, options, run, &mut report).instrument(span).await;
        let status = match &result {
            Err(RupError::Interrupted(_)) => runs::RunStatus::Interrupted,
            Err(_) => runs::RunStatus::Failed,
            Ok(()) if report.complete() => runs::RunStatus::Succeeded,
            Ok(()) => runs::RunStatus::Partial,
        };
        let error = result.as_ref().err().map(RupError::run_error);
        runs::finish(store, run, status, serde_json::to_value(&report).unwrap_or_default(), error).await?;
        result.map(|()| report)
    })
    .await
}

async fn sync_all(store: &Store, client: &InaprocClient, keywords: &Keywords, options: &RupOptions, run: i64, report: &mut RupReport) -> Result<(), RupError> {
    // Words changed since the categories were read: every package is read again first.
    if stored::keywords_read_with(store).await?.as_deref() != Some(keywords.fingerprint.as_str()) {
        report.recategorized = recategorize(store, keywords).await?;
        stored::set_keywords_read_with(store, &keywords.fingerprint).await?;
    }
    let started = std::time::Instant::now();
    read_all(store, client, keywords, options, run, report).await?;
    if report.packages.new + report.packages.changed + report.unlisted + report.recategorized > 0 {
        stored::analyze(store).await?;
    }
    for &year in &options.years {
        report.matched_packages += u64::try_from(stored::count(store, year).await?.1).unwrap_or(0);
    }
    report.read_seconds = started.elapsed().as_secs_f64();
    let telling = std::time::Instant::now();
    let (opportunities, corrections) = queue_notices(store, options.today, options.lead_days).await?;
    report.tell_seconds = telling.elapsed().as_secs_f64();
    report.opportunities_told = opportunities;
    report.corrections_told = corrections;
    Ok(())
}

/// What the fetcher hands on, in order: each page of a buyer's year, then
/// how the year's reading ended (`Ok` read to its end).
enum Fetched {
    Page(crate::catalog::inaproc::Page),
    End(Result<(), InaprocError>),
}

/// What the writer is given, in order.
enum Write {
    Page(Vec<stored::Read>),
    /// A year read to its end: the packages it did not list are withdrawn.
    Close {
        klpd: String,
        year: i32,
        seen: HashSet<String>,
    },
}

/// Reads every buyer's year in three stages that overlap, each page passed
/// on through a channel of one: the fetcher (a task of its own) reads the
/// pages of one year after another; this thread reads each page (its rows,
/// digests and categories); the writer (a task of its own) saves the pages
/// one at a time, in order, and closes each year read to its end. So at
/// most a few pages are held, and a year's end does not stop the stream. A
/// year that could not be read to its end is a failure of the run and
/// withdraws nothing.
async fn read_all(store: &Store, client: &InaprocClient, keywords: &Keywords, options: &RupOptions, run: i64, report: &mut RupReport) -> Result<(), RupError> {
    let years: Vec<(String, i32)> = options.klpd.iter().flat_map(|k| options.years.iter().map(move |&y| (k.clone(), y))).collect();
    let (pages_tx, mut pages) = tokio::sync::mpsc::channel::<Fetched>(1);
    let _fetcher = crate::task::spawned(fetch_years(client.clone(), years.clone(), options.page, pages_tx));
    let (writes_tx, writes) = tokio::sync::mpsc::channel::<Write>(1);
    let writer = crate::task::spawned(write_pages(store.handle(), run, writes));
    let mut left = years.into_iter();
    let mut current = left.next();
    let mut seen = HashSet::new();
    // The digests of the year being read, loaded at its first page.
    let mut known: Option<std::collections::HashMap<String, String>> = None;
    let mut stopped = Ok(());
    while let Some(fetched) = pages.recv().await {
        if let Err(e) = stop_if_asked() {
            stopped = Err(e);
            break;
        }
        let Some((klpd, year)) = current.clone() else { break };
        let write = match fetched {
            Fetched::Page(page) => {
                let known = match &mut known {
                    Some(k) => k,
                    None => known.insert(stored::listed_digests(store, (&klpd, year)).await?),
                };
                let (packages, unchanged) = read_page(page, (keywords, known), &klpd, &mut seen, report);
                report.packages.unchanged += unchanged;
                if packages.is_empty() {
                    continue;
                }
                Write::Page(packages)
            }
            Fetched::End(ended) => {
                current = left.next();
                known = None;
                let seen = std::mem::take(&mut seen);
                match ended {
                    Ok(()) => Write::Close { klpd, year, seen },
                    Err(e) => {
                        report.failures.push((format!("RUP {klpd} {year}"), e.to_string()));
                        continue;
                    }
                }
            }
        };
        if writes_tx.send(write).await.is_err() {
            // The writer stopped: its error says why.
            break;
        }
    }
    drop(writes_tx);
    let (counts, unlisted) = writer.await?;
    report.packages.add(counts);
    report.unlisted += unlisted;
    stopped
}

/// The fetcher: every page of each year in turn, under the shared quota; a
/// page that cannot be fetched ends its year (what came before is kept).
async fn fetch_years(client: InaprocClient, years: Vec<(String, i32)>, limit: u32, to: tokio::sync::mpsc::Sender<Fetched>) {
    for (klpd, year) in years {
        let query = Query::plan_packages(&klpd, year);
        let mut cursor: Option<String> = None;
        let mut ended = Err(InaprocError::Unreadable { path: crate::catalog::inaproc::RUP_PAKET, why: format!("more than {MAX_PAGES} pages") });
        for _ in 0..MAX_PAGES {
            match client.page(&query, cursor.as_deref(), limit).await {
                Err(e) => {
                    ended = Err(e);
                    break;
                }
                Ok(page) => {
                    let next = page.next_cursor(cursor.as_deref()).map(str::to_owned);
                    if to.send(Fetched::Page(page)).await.is_err() {
                        return;
                    }
                    match next {
                        Some(next) => cursor = Some(next),
                        None => {
                            ended = Ok(());
                            break;
                        }
                    }
                }
            }
        }
        if to.send(Fetched::End(ended)).await.is_err() {
            return;
        }
    }
}

/// The writer: saves each page and closes each year, in order. Returns
/// what was saved and how many packages were no longer listed.
async fn write_pages(store: Store, run: i64, mut writes: tokio::sync::mpsc::Receiver<Write>) -> Result<(SaveCounts, u64), StoreError> {
    let (mut counts, mut unlisted) = (SaveCounts::default(), 0);
    while let Some(write) = writes.recv().await {
        match write {
            Write::Page(packages) => counts.add(stored::save_page(&store, run, &packages).await?),
            Write::Close { klpd, year, seen } => unlisted += stored::close_unseen(&store, (&klpd, year), &seen, run).await?,
        }
    }
    Ok((counts, unlisted))
}

/// Reads a page: each row's `kd_rup` and digest first; a row stored with
/// the same digest (`known`) is not read further (counted as unchanged); the
/// others are read whole, with their categories, to be saved. `seen`
/// gathers the packages listed (a row that cannot be read but names its
/// package keeps that package listed; with nothing stored of the year there
/// is nothing to keep, and the id is not read alone); those that cannot be
/// read are counted, the first few said.
fn read_page(
    page: crate::catalog::inaproc::Page,
    (keywords, known): (&Keywords, &std::collections::HashMap<String, String>),
    klpd: &str,
    seen: &mut HashSet<String>,
    report: &mut RupReport,
) -> (Vec<stored::Read>, u64) {
    let mut packages = Vec::with_capacity(page.rows.len());
    let mut unchanged = 0;
    for row in page.rows {
        let digest = stored::digest_of(klpd, row.get());
        // Nothing stored of the year (its first reading): every row is read whole.
        if !known.is_empty()
            && let Some(id) = wire::plan_package_id(&row)
        {
            let same = known.get(&id).is_some_and(|d| *d == digest);
            seen.insert(id);
            if same {
                unchanged += 1;
                continue;
            }
        }
        match wire::plan_package(&row) {
            Ok(mut package) => {
                seen.insert(package.kd_rup.clone());
                if package.kode_klpd.is_empty() {
                    package.kode_klpd = klpd.to_owned();
                }
                let categories = keywords.of_package(&package.nama_paket, &package.uraian);
                packages.push(stored::Read { package, categories, raw: row, digest });
            }
            Err(why) => {
                report.unreadable_count += 1;
                if report.unreadable.len() < SHOWN_PROBLEMS {
                    report.unreadable.push(why);
                }
            }
        }
    }
    (packages, unchanged)
}

/// Reads every stored package's categories again with `keywords`, chunk by
/// chunk. Returns how many packages were read.
pub async fn recategorize(store: &Store, keywords: &Keywords) -> Result<u64, RupError> {
    let (mut read, mut after) = (0, String::new());
    loop {
        let chunk = stored::texts_after(store, &after, CATEGORY_CHUNK).await?;
        let Some(last) = chunk.last() else { return Ok(read) };
        after = last.0.clone();
        read += chunk.len() as u64;
        let rows: Vec<(String, Vec<String>)> = chunk
            .into_iter()
            .map(|(k, name, description)| {
                let categories = keywords.of_package(&name, &description);
                (k, categories)
            })
            .collect();
        stored::set_categories(store, &rows).await?;
        stop_if_asked()?;
    }
}

/// Records what each cooperative is to be told, as of `today`: an open
/// opportunity once, when its choosing begins within `lead_days`; after
/// that, one correction per news (moved, withdrawn). The outbox sends them.
pub async fn queue_notices(store: &Store, today: NaiveDate, lead_days: u32) -> Result<(u64, u64), RupError> {
    let lead = i32::try_from(lead_days).unwrap_or(i32::MAX);
    let open: Vec<String> =
        stored::in_window(store, today, lead).await?.into_iter().filter(|row| row.package().open_on(row.listed, today)).map(|row| row.kd_rup).collect();
    let opportunities = stored::tell_open(store, &open.iter().map(String::as_str).collect::<Vec<_>>()).await?;
    let mut corrections = Vec::new();
    // The packages changed since the last pass, among those told of.
    let (after, upto) = stored::events_told(store).await?;
    for t in stored::told(store, after).await? {
        let p = t.package.package();
        if p.withdrawn(t.package.listed) {
            if !t.withdrawal_told {
                corrections.push((p.kd_rup, t.cooperative_id, NoticeKind::Withdrawn, None));
            }
        } else if p.tgl_awal_pemilihan != t.last_date && p.tgl_awal_pemilihan.is_some() {
            corrections.push((p.kd_rup, t.cooperative_id, NoticeKind::Moved, p.tgl_awal_pemilihan));
        }
    }
    let corrections = stored::add_notices(store, &corrections).await?;
    stored::set_events_told(store, upto).await?;
    Ok((opportunities, corrections))
}
