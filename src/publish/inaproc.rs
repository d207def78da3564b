//! Listing status from INAPROC (`sync status --source inaproc`): each
//! cooperative's products from `list-produk-penyedia`, whatever channel put
//! them there (the API, PEPPOL, or the bulk workbook uploaded by hand).
//!
//! A product is matched to a publication of the same seller by, in turn: the
//! `kd_produk` it learned before; its remote id, where the channel's listing
//! id is the product code; its SKU written in the product's name; its name,
//! normalised (case, spaces and punctuation aside). A name that fits more
//! than one publication, or more than one product, is not guessed: it is
//! reported for the liaison. What INAPROC says is recorded as "live or not"
//! plus the catalogue's own words (`status_produk`), with an event for each
//! change ("tayang", "turun tayang"); the publication's own state, which the
//! channel's answers and feed move, is left as it is.

use std::collections::{HashMap, HashSet};

use crate::catalog::inaproc::{InaprocClient, Query, wire};
use crate::domain::product::comparable_name as normalised;
use crate::store::Store;
use crate::store::live::{self, Applied, Candidate, Seen};

/// Pages of one seller's products read at most (1,000 each).
const MAX_PAGES: u32 = 100;
/// Problems named in a report at most.
const SHOWN: usize = 10;

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct LiveReport {
    pub sellers: u64,
    /// Products INAPROC listed for them.
    pub products: u64,
    /// Products matched to a publication.
    pub matched: u64,
    pub applied: Applied,
    /// Products that fit more than one publication, or share a name with another (the first few).
    pub ambiguous: Vec<String>,
    pub ambiguous_count: u64,
    /// Products of ours that match no publication (listed by hand elsewhere, or renamed).
    pub unmatched: u64,
    pub unreadable: u64,
    /// Sellers whose products could not be read, with why.
    pub failed: Vec<(String, String)>,
}

impl LiveReport {
    pub fn summary(&self) -> String {
        let a = &self.applied;
        let mut s = format!(
            "{} sellers, {} products on INAPROC: {} matched ({} product codes learned), {} went live (tayang), {} taken down (turun tayang), {} with new catalogue words; {} match no publication",
            self.sellers, self.products, self.matched, a.learned, a.went_live, a.went_down, a.text_changed, self.unmatched
        );
        if self.ambiguous_count > 0 {
            s.push_str(&format!("; {} ambiguous, left for the liaison (first: {})", self.ambiguous_count, self.ambiguous.join(" | ")));
        }
        if self.unreadable > 0 {
            s.push_str(&format!("; {} rows unreadable", self.unreadable));
        }
        for (seller, why) in &self.failed {
            s.push_str(&format!("; {seller}: {why}"));
        }
        s
    }
}

/// Whether `sku` is written in `name` as a word of its own.
fn names_sku(name: &str, sku: &str) -> bool {
    !sku.is_empty() && name.split(|c: char| c.is_whitespace() || "()[],;:".contains(c)).any(|w| w.eq_ignore_ascii_case(sku))
}

/// Matches a seller's products to its publications; returns what was seen
/// and the ambiguous products, with why.
pub fn match_products(products: &[wire::SellerProduct], candidates: &[Candidate]) -> (Vec<Seen>, Vec<String>) {
    let mut seen = Vec::new();
    let mut ambiguous = Vec::new();
    let mut taken: HashSet<i64> = HashSet::new();
    let mut open: Vec<&wire::SellerProduct> = Vec::new();
    let mut see = |p: &wire::SellerProduct, c: &Candidate, by: &'static str, taken: &mut HashSet<i64>| {
        taken.insert(c.id);
        seen.push(Seen { publication: c.id, kd_produk: p.kd_produk.clone(), live: p.live, status_produk: p.status_produk.clone(), matched_by: by });
    };
    // By what identifies it: the code learned before, then the remote id.
    let by_kd: HashMap<&str, &Candidate> = candidates.iter().filter_map(|c| Some((c.kd_produk.as_deref()?, c))).collect();
    let by_remote: HashMap<&str, &Candidate> = candidates.iter().filter_map(|c| Some((c.remote_id.as_deref()?, c))).collect();
    for p in products {
        match (by_kd.get(p.kd_produk.as_str()), by_remote.get(p.kd_produk.as_str())) {
            (Some(c), _) if !taken.contains(&c.id) => see(p, c, "kd_produk", &mut taken),
            (None, Some(c)) if !taken.contains(&c.id) && c.kd_produk.is_none() => see(p, c, "remote_id", &mut taken),
            _ => open.push(p),
        }
    }
    // By SKU written in the name, then by the name itself: only where one fits one.
    let mut left = Vec::new();
    for p in open {
        let fits: Vec<&Candidate> = candidates
            .iter()
            .filter(|c| {
                !taken.contains(&c.id)
                    && c.kd_produk.is_none()
                    && (names_sku(&p.nama_produk, &c.sku) || names_sku(&p.nama_produk, &format!("{}/{}", c.member, c.sku)))
            })
            .collect();
        match fits.as_slice() {
            [c] => see(p, c, "sku", &mut taken),
            [] => left.push(p),
            many => ambiguous.push(format!("{} {:?}: its name carries the SKU of {} publications", p.kd_produk, p.nama_produk, many.len())),
        }
    }
    let mut names: HashMap<String, usize> = HashMap::new();
    for p in &left {
        *names.entry(normalised(&p.nama_produk)).or_default() += 1;
    }
    for p in left {
        let name = normalised(&p.nama_produk);
        if name.is_empty() {
            continue;
        }
        let fits: Vec<&Candidate> = candidates.iter().filter(|c| !taken.contains(&c.id) && c.kd_produk.is_none() && normalised(&c.name) == name).collect();
        match (fits.as_slice(), names[&name]) {
            ([c], 1) => see(p, c, "name", &mut taken),
            ([], _) => {}
            (fits, products) => ambiguous.push(format!(
                "{} {:?}: the name fits {} publications and {} products of this seller",
                p.kd_produk,
                p.nama_produk,
                fits.len(),
                products
            )),
        }
    }
    (seen, ambiguous)
}

/// The kind of its runs in `sync_runs` (`runs --job status-inaproc`).
pub const RUN_KIND: &str = "status-inaproc";

/// Reads every cooperative's products (or one's) from INAPROC and records
/// what it says of each publication, as a run of its own (`status-inaproc`).
pub async fn sync_live(store: &Store, client: &InaprocClient, cooperative: Option<&str>) -> Result<LiveReport, super::PublishError> {
    use crate::store::runs;
    let run = runs::start(store, RUN_KIND).await?;
    let mut report = LiveReport::default();
    let result = read_all(store, client, cooperative, &mut report).await;
    let status = match &result {
        Err(super::PublishError::Interrupted(_)) => runs::RunStatus::Interrupted,
        Err(_) => runs::RunStatus::Failed,
        Ok(()) if report.failed.is_empty() && report.unreadable == 0 => runs::RunStatus::Succeeded,
        Ok(()) => runs::RunStatus::Partial,
    };
    let error = result.as_ref().err().map(super::PublishError::run_error);
    runs::finish(store, run, status, serde_json::to_value(&report).unwrap_or_default(), error).await?;
    result.map(|()| report)
}

async fn read_all(store: &Store, client: &InaprocClient, cooperative: Option<&str>, report: &mut LiveReport) -> Result<(), super::PublishError> {
    let mut sellers: Vec<(String, String)> = crate::store::products::seller_ids(store).await?.into_iter().collect();
    sellers.sort();
    for (seller, code) in sellers {
        if cooperative.is_some_and(|c| c != code) {
            continue;
        }
        crate::shutdown::stop_requested().map_err(super::PublishError::Interrupted)?;
        report.sellers += 1;
        let rows = match client.all(&Query::seller_products(&seller), 1000, MAX_PAGES).await {
            Ok(rows) => rows,
            Err(e) => {
                report.failed.push((code.clone(), e.to_string()));
                continue;
            }
        };
        let mut products = Vec::with_capacity(rows.len());
        for row in &rows {
            match wire::seller_product(row) {
                Ok(p) => products.push(p),
                Err(_) => report.unreadable += 1,
            }
        }
        // A product repeated across pages counts once, its last reading.
        let mut unique: HashMap<String, wire::SellerProduct> = HashMap::new();
        for p in products {
            unique.insert(p.kd_produk.clone(), p);
        }
        let mut products: Vec<wire::SellerProduct> = unique.into_values().collect();
        products.sort_by(|a, b| a.kd_produk.cmp(&b.kd_produk));
        report.products += products.len() as u64;
        let candidates = live::candidates(store, &seller).await?;
        let (seen, ambiguous) = match_products(&products, &candidates);
        report.matched += seen.len() as u64;
        report.unmatched += (products.len() - seen.len() - ambiguous.len()) as u64;
        report.ambiguous_count += ambiguous.len() as u64;
        for a in ambiguous {
            if report.ambiguous.len() < SHOWN {
                report.ambiguous.push(format!("{code}: {a}"));
            }
        }
        let applied = live::apply(store, &seen).await?;
        report.applied.learned += applied.learned;
        report.applied.went_live += applied.went_live;
        report.applied.went_down += applied.went_down;
        report.applied.text_changed += applied.text_changed;
    }
    Ok(())
}
