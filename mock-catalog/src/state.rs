//! The mock catalogue's state and story: a simulated clock, listings under
//! review, orders that arrive and expire. No HTTP here; `api.rs` calls in.
//! Everything random comes from one seeded generator, so the same scenario and
//! the same calls give the same story.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Datelike, Duration, Utc};
use chrono_tz::Asia::Jakarta;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use sha2::Digest;

use super::scenario::Scenario;

/// Idempotency answers kept; the oldest are forgotten first.
const IDEMPOTENCY_CAP: usize = 100_000;
/// Bytes of idempotent answers kept; the oldest are forgotten first.
const IDEMPOTENCY_BYTES: usize = 64 * 1024 * 1024;
/// Live tokens one client may hold; its oldest go first, never another client's.
const TOKENS_PER_CLIENT: usize = 100;
pub use super::vocab::MAX_AMOUNT;
use crate::calendar::{CONFIRM_WORKING_DAYS, Calendar};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListingState {
    Submitted,
    UnderCuration,
    Live,
    Rejected,
    RevisionRequested,
    TakenDown,
    Withdrawn,
}

#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    pub listing_id: String,
    /// The product's code on the catalogue (INAPROC's `kd_produk`), another
    /// number than the listing id the seller API uses.
    pub kd_produk: String,
    pub kode_penyedia: String,
    pub sku: String,
    pub kode_anggota: String,
    pub state: ListingState,
    /// Whether the product is live ("tayang"): the state is `live`.
    pub live: bool,
    pub reasons: Vec<String>,
    pub updated_at: DateTime<Utc>,
    pub change: u64,
    pub listing: Value,
    #[serde(skip)]
    next_step_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderLine {
    pub line_id: String,
    pub listing_id: String,
    /// The listing's product code (INAPROC's `product_id`).
    pub kd_produk: String,
    pub sku: String,
    pub name: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub quantity: Decimal,
    pub unit: String,
    pub unit_price: i64,
    pub line_total: i64,
    /// Price before PPN, and the tax category and rate, for the UBL Order.
    #[serde(skip)]
    pub unit_price_excl_tax: i64,
    #[serde(skip)]
    pub tax_percent: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Order {
    pub order_id: String,
    pub rup_code: String,
    pub rup_name: String,
    pub fiscal_year: i32,
    pub funding_source: String,
    pub kode_klpd: String,
    pub kode_satker: String,
    pub nama_satker: String,
    pub kode_penyedia: String,
    pub count_product: usize,
    #[serde(with = "rust_decimal::serde::str")]
    pub total_qty: Decimal,
    pub shipping_fee: i64,
    pub total: i64,
    pub order_date: DateTime<Utc>,
    pub confirm_by: DateTime<Utc>,
    /// The buyer's contracting officer's deadline, for an order made at
    /// `WAITING_PPK_REVIEW` (3 working days; the order lapses after it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ppk_review_by: Option<DateTime<Utc>>,
    pub status: String,
    pub shipment_status: String,
    pub updated_at: DateTime<Utc>,
    /// Who cancelled it, when cancelled: `seller`, `buyer` or `deadline`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled_by: Option<&'static str>,
    #[serde(skip)]
    pub change: u64,
    /// When an order in process is completed.
    #[serde(skip)]
    complete_at: Option<DateTime<Utc>>,
    /// When the PPK approves an order waiting for review (None: it lapses).
    #[serde(skip)]
    ppk_approves_at: Option<DateTime<Utc>>,
    pub lines: Vec<OrderLine>,
}

/// A stored answer to an idempotent write.
#[derive(Debug, Clone)]
pub struct Stored {
    pub body_hash: [u8; 32],
    pub status: u16,
    pub body: Value,
}

pub struct Mock {
    pub scenario: Scenario,
    pub now: DateTime<Utc>,
    rng: ChaCha8Rng,
    /// token -> (seller, expiry)
    tokens: HashMap<String, (String, DateTime<Utc>)>,
    /// Each client's tokens, oldest first.
    client_tokens: HashMap<String, VecDeque<String>>,
    token_seq: u64,
    pub listings: Vec<Listing>,
    /// (seller, item id) -> index of the listing not withdrawn: one listing
    /// per item, whichever path created it.
    by_sku: HashMap<(String, String), usize>,
    /// order id -> index in `orders`.
    order_ids: HashMap<String, usize>,
    /// (buyer, fiscal year) -> the orders by their last change, for the feed's pages.
    order_feed: HashMap<(String, i32), std::collections::BTreeMap<u64, usize>>,
    /// Orders waiting for the seller, by index.
    waiting: std::collections::BTreeSet<usize>,
    /// Orders in process, by index.
    in_process: std::collections::BTreeSet<usize>,
    /// Orders waiting for the buyer's PPK, by index.
    ppk_waiting: std::collections::BTreeSet<usize>,
    /// The confirmation deadlines' calendar.
    pub calendar: Calendar,
    change: u64,
    pub orders: Vec<Order>,
    order_change: u64,
    idempotency: HashMap<(String, String), Stored>,
    idempotency_order: VecDeque<(String, String)>,
    /// Bytes of the stored answers, bounded by [`IDEMPOTENCY_BYTES`].
    idempotency_bytes: usize,
    pub uploads: Vec<Upload>,
    /// Each photo address fetched (`rules.fetch_photos`): an image, or why not.
    pub photo_checks: HashMap<String, Result<(), String>>,
    /// The buyers' planned packages (RUP), when the scenario plans.
    pub rup: Vec<super::plan::Package>,
}

/// A catalogue document uploaded by a seller; processed at the next clock step.
#[derive(Debug, Clone, Serialize)]
pub struct Upload {
    pub upload_id: String,
    pub kode_penyedia: String,
    pub document_id: String,
    pub received_at: DateTime<Utc>,
    pub state: &'static str,
    pub lines: Vec<super::ubl_catalogue::UploadLine>,
}

/// The catalogue's product code of the `n`th listing.
pub fn kd_produk(n: usize) -> String {
    format!("{}", 6_100_000 + n)
}

/// The seller's item id a listing carries: `MEMBER/SKU`, as PEPPOL's
/// `SellersItemIdentification` and the workbook's `sku` have it; a listing
/// whose `sku` is the bare SKU names its member in `kode_anggota`.
pub fn item_id(body: &Value, sku: &str) -> String {
    match body["kode_anggota"].as_str().filter(|m| !m.is_empty() && !sku.contains('/')) {
        Some(member) => format!("{member}/{sku}"),
        None => sku.to_owned(),
    }
}

impl Mock {
    pub fn new(scenario: Scenario) -> Self {
        let calendar = Calendar::new(scenario.cuti_bersama_is_working_day);
        let mut mock = Self {
            calendar,
            order_feed: HashMap::new(),
            waiting: Default::default(),
            in_process: Default::default(),
            ppk_waiting: Default::default(),
            now: scenario.start,
            rng: ChaCha8Rng::seed_from_u64(scenario.seed),
            scenario,
            tokens: HashMap::new(),
            client_tokens: HashMap::new(),
            token_seq: 0,
            listings: Vec::new(),
            by_sku: HashMap::new(),
            order_ids: HashMap::new(),
            change: 0,
            orders: Vec::new(),
            order_change: 0,
            idempotency: HashMap::new(),
            idempotency_order: VecDeque::new(),
            idempotency_bytes: 0,
            uploads: Vec::new(),
            photo_checks: HashMap::new(),
            rup: Vec::new(),
        };
        let year = mock.scenario.fiscal_year.unwrap_or_else(|| mock.now.with_timezone(&Jakarta).year());
        mock.plan(year);
        mock.initial_orders();
        mock
    }

    pub fn receive_upload(&mut self, seller: &str, document_id: String, lines: Vec<super::ubl_catalogue::UploadLine>) -> Upload {
        let upload = Upload {
            upload_id: format!("U{:06}", self.uploads.len() + 1),
            kode_penyedia: seller.to_owned(),
            document_id,
            received_at: self.now,
            state: "received",
            lines,
        };
        self.uploads.push(upload.clone());
        upload
    }

    /// Applies each waiting upload's lines: Add creates, Update replaces,
    /// Delete withdraws the seller's listing with that SKU.
    fn process_uploads(&mut self) {
        for u in 0..self.uploads.len() {
            if self.uploads[u].state != "received" {
                continue;
            }
            let seller = self.uploads[u].kode_penyedia.clone();
            for l in 0..self.uploads[u].lines.len() {
                let line = self.uploads[u].lines[l].clone();
                let existing = self.by_sku.get(&(seller.clone(), item_id(&line.body, &line.sku))).copied();
                let outcome = match (super::ubl_catalogue::check_line(&line), line.action.as_str(), existing) {
                    (Some(reason), _, _) => Err(reason),
                    (None, "Add", Some(i)) => Err(format!("item {} is already listed as {}: send Update", line.sku, self.listings[i].listing_id)),
                    (None, "Add", None) => Ok(self.create_listing(&seller, line.body.clone()).listing_id),
                    (None, _, None) => Err(format!("SKU {} is not listed", line.sku)),
                    (None, "Update", Some(i)) => Ok(self.update_listing(i, line.body.clone()).listing_id),
                    (None, _, Some(i)) => Ok(self.withdraw_listing(i).listing_id),
                };
                let target = &mut self.uploads[u].lines[l];
                match outcome {
                    Ok(id) => {
                        target.accepted = Some(true);
                        target.listing_id = Some(id);
                    }
                    Err(reason) => {
                        target.accepted = Some(false);
                        target.reason = Some(reason);
                    }
                }
            }
            self.uploads[u].state = "processed";
        }
    }

    fn random(&mut self, below: u64) -> u64 {
        if below == 0 { 0 } else { self.rng.next_u64() % below }
    }

    // ---- auth ----

    /// A token for valid client credentials.
    pub fn issue_token(&mut self, client_id: &str, secret: &str) -> Option<(String, i64)> {
        let client = self.scenario.clients.iter().find(|c| c.client_id == client_id && c.client_secret == secret)?;
        let seller = client.kode_penyedia.clone();
        let ttl = self.scenario.token_ttl_seconds;
        // Only this client's tokens are evicted: its expired ones, then its oldest over the cap.
        let now = self.now;
        let mine = self.client_tokens.entry(client_id.to_owned()).or_default();
        while let Some(oldest) = mine.front() {
            let expired = self.tokens.get(oldest).is_none_or(|(_, exp)| *exp <= now);
            if !expired && mine.len() < TOKENS_PER_CLIENT {
                break;
            }
            if let Some(old) = mine.pop_front() {
                self.tokens.remove(&old);
            }
        }
        self.token_seq += 1;
        // Not from the story's generator: how often a client logs in must not change the story.
        let digest = sha2::Sha256::digest(format!("{}:{}", self.scenario.seed, self.token_seq));
        let token = format!("tok-{}-{}", hex::encode(&digest[..8]), self.token_seq);
        self.tokens.insert(token.clone(), (seller, self.now + Duration::seconds(ttl)));
        self.client_tokens.entry(client_id.to_owned()).or_default().push_back(token.clone());
        Some((token, ttl))
    }

    /// The seller a token belongs to, if it is valid now.
    pub fn seller_of(&self, token: &str) -> Option<String> {
        self.tokens.get(token).filter(|(_, exp)| *exp > self.now).map(|(s, _)| s.clone())
    }

    pub fn expire_tokens(&mut self) {
        let now = self.now;
        for (_, exp) in self.tokens.values_mut() {
            *exp = now;
        }
    }

    // ---- idempotency ----

    pub fn remembered(&self, client: &str, key: &str) -> Option<&Stored> {
        self.idempotency.get(&(client.to_owned(), key.to_owned()))
    }

    pub fn remember(&mut self, client: &str, key: &str, stored: Stored) {
        let k = (client.to_owned(), key.to_owned());
        let size = |k: &(String, String), s: &Stored| k.0.len() + k.1.len() + 64 + serde_json::to_vec(&s.body).map_or(0, |b| b.len());
        self.idempotency_bytes += size(&k, &stored);
        match self.idempotency.insert(k.clone(), stored) {
            None => self.idempotency_order.push_back(k),
            Some(old) => self.idempotency_bytes = self.idempotency_bytes.saturating_sub(size(&k, &old)),
        }
        while self.idempotency_order.len() > IDEMPOTENCY_CAP || self.idempotency_bytes > IDEMPOTENCY_BYTES {
            let Some(old) = self.idempotency_order.pop_front() else { break };
            if let Some(gone) = self.idempotency.remove(&old) {
                self.idempotency_bytes = self.idempotency_bytes.saturating_sub(size(&old, &gone));
            }
        }
    }

    // ---- listings ----

    fn next_change(&mut self) -> u64 {
        self.change += 1;
        self.change
    }

    pub fn create_listing(&mut self, seller: &str, body: Value) -> Listing {
        let change = self.next_change();
        let listing = Listing {
            listing_id: format!("L{:06}", self.listings.len() + 1),
            kd_produk: kd_produk(self.listings.len() + 1),
            kode_penyedia: seller.to_owned(),
            sku: body["sku"].as_str().unwrap_or_default().to_owned(),
            kode_anggota: body["kode_anggota"].as_str().unwrap_or_default().to_owned(),
            state: ListingState::Submitted,
            live: false,
            reasons: Vec::new(),
            updated_at: self.now,
            change,
            listing: body,
            next_step_at: Some(self.now + Duration::hours(1)),
        };
        self.by_sku.insert((listing.kode_penyedia.clone(), item_id(&listing.listing, &listing.sku)), self.listings.len());
        self.listings.push(listing.clone());
        listing
    }

    /// The seller's listing, not withdrawn, of the item a listing body names.
    pub fn listed_item(&self, seller: &str, body: &Value) -> Option<&Listing> {
        let sku = body["sku"].as_str().unwrap_or_default();
        self.by_sku.get(&(seller.to_owned(), item_id(body, sku))).map(|&i| &self.listings[i])
    }

    /// Sets a listing's state without a feed entry: a change made on the
    /// portal, by hand, that the change feed never reports (for drift tests).
    pub fn set_state_unreported(&mut self, id: &str, state: ListingState) -> Option<Listing> {
        let index = self.listings.iter().position(|l| l.listing_id == id)?;
        let l = &mut self.listings[index];
        l.state = state;
        l.live = l.state == ListingState::Live;
        l.next_step_at = None;
        if state != ListingState::Rejected && state != ListingState::RevisionRequested {
            l.reasons.clear();
        }
        Some(l.clone())
    }

    /// The index of a seller's listing from its id (`L000042` is the 42nd).
    pub fn listing_index(&self, seller: &str, id: &str) -> Option<usize> {
        let n: usize = id.strip_prefix('L').filter(|d| d.bytes().all(|b| b.is_ascii_digit()))?.parse().ok()?;
        let index = n.checked_sub(1)?;
        self.listings.get(index).filter(|l| l.listing_id == id && l.kode_penyedia == seller).map(|_| index)
    }

    /// A seller's upload by id (`U000007` is the 7th).
    pub fn upload(&self, seller: &str, id: &str) -> Option<&Upload> {
        let n: usize = id.strip_prefix('U').filter(|d| d.bytes().all(|b| b.is_ascii_digit()))?.parse().ok()?;
        self.uploads.get(n.checked_sub(1)?).filter(|u| u.upload_id == id && u.kode_penyedia == seller)
    }

    pub fn update_listing(&mut self, index: usize, body: Value) -> Listing {
        let change = self.next_change();
        let now = self.now;
        let l = &mut self.listings[index];
        // The item id stays the listing's (a create refuses a second one); how it is spelt may change.
        if let Some(sku) = body["sku"].as_str().filter(|sku| item_id(&body, sku) == item_id(&l.listing, &l.sku)) {
            l.sku = sku.to_owned();
        }
        l.listing = body;
        l.state = ListingState::Submitted;
        l.live = l.state == ListingState::Live;
        l.reasons.clear();
        l.updated_at = now;
        l.change = change;
        l.next_step_at = Some(now + Duration::hours(1));
        l.clone()
    }

    pub fn withdraw_listing(&mut self, index: usize) -> Listing {
        let change = self.next_change();
        let now = self.now;
        let l = &mut self.listings[index];
        let item = (l.kode_penyedia.clone(), item_id(&l.listing, &l.sku));
        if self.by_sku.get(&item) == Some(&index) {
            self.by_sku.remove(&item);
        }
        l.state = ListingState::Withdrawn;
        l.live = l.state == ListingState::Live;
        l.updated_at = now;
        l.change = change;
        l.next_step_at = None;
        l.clone()
    }

    /// Listings of a seller changed after `after`, in change order.
    pub fn listing_changes(&self, seller: &str, after: u64, limit: usize) -> (Vec<Listing>, bool) {
        let mut changed: Vec<&Listing> = self.listings.iter().filter(|l| l.kode_penyedia == seller && l.change > after).collect();
        changed.sort_by_key(|l| l.change);
        let has_more = changed.len() > limit;
        (changed.into_iter().take(limit).cloned().collect(), has_more)
    }

    /// The curators' decision on a listing.
    fn review(&self, listing: &Value) -> (ListingState, Vec<String>) {
        let rules = &self.scenario.rules;
        let mut rejected = Vec::new();
        if rules.tkdn_requires_certificate && !listing["tkdn_persen"].is_null() && listing["tkdn_sertifikat"].as_str().is_none_or(|s| s.trim().is_empty()) {
            rejected.push("klaim TKDN tanpa nomor sertifikat".to_owned());
        }
        if rules.reject_above_ceiling
            && let Some(reason) = self.above_ceiling(listing)
        {
            rejected.push(reason);
        }
        if !rejected.is_empty() {
            return (ListingState::Rejected, rejected);
        }
        if rules.revision_without_photo && listing["foto"].as_array().is_none_or(|a| a.is_empty()) {
            return (ListingState::RevisionRequested, vec!["foto produk belum ada".to_owned()]);
        }
        if rules.fetch_photos {
            let unseen: Vec<String> = listing["foto"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter_map(|url| match self.photo_checks.get(url) {
                    Some(Ok(())) => None,
                    Some(Err(why)) => Some(format!("foto {url} tidak dapat dibuka: {why}")),
                    None => Some(format!("foto {url} tidak dapat dibuka")),
                })
                .collect();
            if !unseen.is_empty() {
                return (ListingState::RevisionRequested, unseen);
            }
        }
        (ListingState::Live, Vec::new())
    }

    /// Why a listing's price per kg, liter or piece (PPN included) is above
    /// the ceiling in force today for its category and grade, if it is. A
    /// listing that does not say its net content (`isi_bersih`) is not
    /// checked: curators ask for it by other means.
    fn above_ceiling(&self, listing: &Value) -> Option<String> {
        let today = self.now.with_timezone(&Jakarta).date_naive();
        let name = listing["nama_produk"].as_str().unwrap_or_default().to_lowercase();
        let category = listing["kategori_id"].as_str();
        let unspsc = listing["unspsc"].as_str();
        let ceiling = self
            .scenario
            .ceilings
            .iter()
            .filter(|c| Some(c.kategori_id.as_str()) == category || (c.unspsc.is_some() && c.unspsc.as_deref() == unspsc))
            .filter(|c| c.from <= today && c.name_contains.as_deref().is_none_or(|w| name.contains(&w.to_lowercase())))
            .max_by_key(|c| (c.name_contains.is_some(), c.from))?;
        let (amount, per) = net_content(listing["isi_bersih"].as_str()?)?;
        if per != ceiling.per {
            return None;
        }
        let price = Decimal::from(listing["harga_termasuk_pajak"].as_i64().or(listing["harga"].as_i64())?);
        let per_unit = (price / amount).round_dp(2);
        (per_unit > Decimal::from(ceiling.price)).then(|| {
            format!(
                "harga {}/{} di atas HET {}/{} ({})",
                format_rupiah(per_unit),
                ceiling.per,
                format_rupiah(Decimal::from(ceiling.price)),
                ceiling.per,
                ceiling.source
            )
        })
    }

    // ---- the clock ----

    /// Moves simulated time forward an hour at a time, so reviews finish,
    /// orders arrive and deadlines expire in order.
    pub fn advance(&mut self, by: Duration) {
        let end = self.now + by;
        while self.now < end {
            let step = (self.now + Duration::hours(1)).min(end);
            let crossed_day = step.with_timezone(&Jakarta).date_naive() != self.now.with_timezone(&Jakarta).date_naive();
            self.now = step;
            self.process_uploads();
            self.step_listings();
            self.expire_orders();
            if crossed_day {
                self.new_day();
            }
        }
    }

    fn step_listings(&mut self) {
        let now = self.now;
        let review_hours = self.scenario.review_hours;
        for i in 0..self.listings.len() {
            let Some(at) = self.listings[i].next_step_at.filter(|at| *at <= now) else { continue };
            let (state, reasons, next) = match self.listings[i].state {
                ListingState::Submitted => (ListingState::UnderCuration, Vec::new(), Some(at + Duration::hours(review_hours))),
                ListingState::UnderCuration => {
                    let (s, r) = self.review(&self.listings[i].listing);
                    (s, r, None)
                }
                _ => continue,
            };
            let change = self.next_change();
            let l = &mut self.listings[i];
            l.state = state;
            l.live = l.state == ListingState::Live;
            l.live = l.state == ListingState::Live;
            l.reasons = reasons;
            l.updated_at = now;
            l.change = change;
            l.next_step_at = next;
        }
    }

    fn new_day(&mut self) {
        let percent = u64::from(self.scenario.takedown_percent_per_day);
        if percent > 0 {
            for i in 0..self.listings.len() {
                if self.listings[i].state == ListingState::Live && self.random(100) < percent {
                    let change = self.next_change();
                    let now = self.now;
                    let l = &mut self.listings[i];
                    l.state = ListingState::TakenDown;
                    l.live = l.state == ListingState::Live;
                    l.reasons = vec!["diturunkan oleh pengelola katalog".into()];
                    l.updated_at = now;
                    l.change = change;
                }
            }
        }
        if !self.calendar.is_working_day(self.now.with_timezone(&Jakarta).date_naive()) {
            return;
        }
        self.buyer_cancellations();
        let mean = u64::from(self.scenario.orders_per_day);
        let count = if mean == 0 { 0 } else { self.random(2 * mean + 1) };
        for _ in 0..count {
            self.new_order();
        }
    }

    /// A number of lines around the scenario's mean (1 to twice the mean less one).
    fn line_count(&mut self, available: usize) -> usize {
        let mean = u64::from(self.scenario.lines_per_order_mean.max(1));
        (1 + self.random(2 * mean - 1) as usize).min(available.max(1))
    }

    /// The scenario's orders made at the start: spread over the 30 days before
    /// it, each seller's lines on listings made up for them.
    fn initial_orders(&mut self) {
        let count = self.scenario.initial_orders;
        if count == 0 || self.scenario.clients.is_empty() || self.scenario.buyers.is_empty() {
            return;
        }
        let start = self.now;
        for n in 0..count {
            let client = self.random(self.scenario.clients.len() as u64) as usize;
            let seller = self.scenario.clients[client].kode_penyedia.clone();
            let lines = self.line_count(usize::MAX);
            let made_up: Vec<(String, String, Value)> = (0..lines)
                .map(|k| {
                    let id = format!("S{:07}-{k}", n + 1);
                    let price = 5_000 + self.random(200) as i64 * 500;
                    let body = serde_json::json!({"nama_produk": format!("Barang {id}"), "satuan": "Kilogram", "harga": price, "harga_termasuk_pajak": price, "ppn_persen": 0});
                    (id.clone(), format!("SKU-{id}"), body)
                })
                .collect();
            // Back in time from the start, so later orders are newer.
            let at = start - Duration::minutes(i64::from(count - n) * 30 * 24 * 60 / i64::from(count).max(1));
            self.now = at;
            self.push_order(seller, made_up);
        }
        self.now = start;
    }

    fn new_order(&mut self) {
        // In the order of seller and SKU, not of arrival: sellers publish
        // concurrently, and the same seed must tell the same story.
        let mut live: Vec<usize> = (0..self.listings.len()).filter(|&i| self.listings[i].state == ListingState::Live).collect();
        live.sort_by(|&a, &b| (&self.listings[a].kode_penyedia, &self.listings[a].sku).cmp(&(&self.listings[b].kode_penyedia, &self.listings[b].sku)));
        if live.is_empty() {
            return;
        }
        let first = live[self.random(live.len() as u64) as usize];
        let seller = self.listings[first].kode_penyedia.clone();
        let same_seller: Vec<usize> = live.iter().copied().filter(|&i| self.listings[i].kode_penyedia == seller).collect();
        let line_count = self.line_count(same_seller.len());
        let mut chosen: Vec<usize> = vec![first];
        while chosen.len() < line_count {
            let candidate = same_seller[self.random(same_seller.len() as u64) as usize];
            if !chosen.contains(&candidate) {
                chosen.push(candidate);
            } else if same_seller.len() <= chosen.len() {
                break;
            }
        }
        let picked =
            chosen.into_iter().map(|i| (self.listings[i].listing_id.clone(), self.listings[i].sku.clone(), self.listings[i].listing.clone())).collect();
        self.push_order(seller, picked);
    }

    /// A new order of `seller` for these listings (id, SKU, body), waiting for the seller from now.
    fn push_order(&mut self, seller: String, picked: Vec<(String, String, Value)>) {
        let buyer_index = self.random(self.scenario.buyers.len() as u64) as usize;
        let satker_index = self.random(self.scenario.buyers[buyer_index].satker.len() as u64) as usize;
        let buyer = self.scenario.buyers[buyer_index].clone();
        let satker = buyer.satker[satker_index].clone();
        let number = self.orders.len() + 1;
        let mut lines = Vec::new();
        for (n, (listing_id, sku, body)) in picked.into_iter().enumerate() {
            let whole = Decimal::from(1 + self.random(40));
            let half = self.random(2) == 0;
            let body = &body;
            let unit = body["satuan"].as_str().unwrap_or("Buah").to_owned();
            let unit_price = body["harga_termasuk_pajak"].as_i64().or(body["harga"].as_i64()).unwrap_or(0);
            let excl = body["harga"].as_i64().unwrap_or(unit_price);
            let tax_percent = body["ppn_persen"].as_i64().unwrap_or(0);
            // Goods sold by weight may be ordered in halves (12.5 kg) where the amounts stay whole rupiah.
            let halves_ok = unit == "Kilogram" && unit_price % 2 == 0 && excl % 2 == 0;
            let quantity = if halves_ok && half { whole + Decimal::new(5, 1) } else { whole };
            let Some(line_total) = quantity.checked_mul(Decimal::from(unit_price)).map(|t| t.round()) else { return };
            let kd_produk = match listing_id.strip_prefix('L').and_then(|n| n.parse::<usize>().ok()) {
                Some(n) => kd_produk(n),
                // A listing made up for an order of the story's start.
                None => format!("X{listing_id}"),
            };
            lines.push(OrderLine {
                line_id: format!("{number:06}-{}", n + 1),
                kd_produk,
                listing_id,
                sku,
                name: body["nama_produk"].as_str().unwrap_or_default().to_owned(),
                quantity,
                unit,
                unit_price,
                line_total: match i64::try_from(line_total.normalize().mantissa()).ok().filter(|_| line_total.normalize().scale() == 0) {
                    Some(t) => t,
                    None => return,
                },
                unit_price_excl_tax: excl,
                tax_percent,
            });
        }
        let shipping_fee: i64 = if self.random(3) == 0 { 25_000 } else { 0 };
        // Checked: amounts are bounded where listings come in, and an order that would overflow is not made.
        let Some(total) = lines.iter().try_fold(shipping_fee, |sum, l| sum.checked_add(l.line_total)) else { return };
        let year = self.scenario.fiscal_year.unwrap_or_else(|| self.now.with_timezone(&Jakarta).year());
        let index = self.orders.len();
        // Some orders wait for the buyer's PPK first: approved within its 3
        // working days, or left to lapse.
        let ppk = self.scenario.ppk_review_percent > 0 && self.random(100) < u64::from(self.scenario.ppk_review_percent);
        let (ppk_review_by, ppk_approves_at) = if ppk {
            let by = self.calendar.add_working_days(self.now, CONFIRM_WORKING_DAYS);
            let approves = (self.random(2) == 0).then(|| self.now + Duration::hours(1 + self.random(30) as i64)).filter(|at| *at < by);
            (Some(by), approves)
        } else {
            (None, None)
        };
        let first_name = lines.first().map(|l| l.name.clone()).unwrap_or_default();
        self.plan(year);
        let today = self.now.with_timezone(&Jakarta).date_naive();
        let (rup_code, rup_name) = super::plan::package_for(&self.scenario, &mut self.rup, (&buyer.kode_klpd, year), satker_index, &first_name, total, today)
            .unwrap_or_else(|| (format!("RUP-{year}-{:05}", 10_000 + number), format!("Belanja bahan makanan dan barang {}", satker.nama)));
        self.order_ids.insert(format!("EP-{year}-{number:06}"), index);
        self.orders.push(Order {
            order_id: format!("EP-{year}-{number:06}"),
            rup_code,
            rup_name,
            fiscal_year: year,
            funding_source: "APBD".into(),
            kode_klpd: buyer.kode_klpd.clone(),
            kode_satker: satker.kode.clone(),
            nama_satker: satker.nama.clone(),
            kode_penyedia: seller,
            count_product: lines.len(),
            total_qty: lines.iter().map(|l| l.quantity).sum(),
            shipping_fee,
            total,
            order_date: self.now,
            confirm_by: self.calendar.add_working_days(ppk_review_by.unwrap_or(self.now), CONFIRM_WORKING_DAYS),
            ppk_review_by,
            status: if ppk { "WAITING_PPK_REVIEW" } else { "WAITING_SELLER_CONFIRMATION" }.into(),
            shipment_status: "NOT_SHIPPED".into(),
            updated_at: self.now,
            cancelled_by: None,
            change: 0,
            complete_at: None,
            ppk_approves_at,
            lines,
        });
        if ppk {
            self.ppk_waiting.insert(index);
        } else {
            self.waiting.insert(index);
        }
        self.touch_order(index);
    }

    /// The buyers' plans for `year`, made once; the packages a seller not in
    /// the scenario bought before the story are recorded as its orders.
    pub fn plan(&mut self, year: i32) {
        for (package, seller, total) in super::plan::plan_year(&self.scenario, &mut self.rup, year) {
            self.push_bought_elsewhere(package, seller, total);
        }
    }

    /// Package `package` of the plan bought from `seller` (not one of the
    /// scenario's) for `total`: a completed order of one line, dated a few
    /// days after its choosing began (before the story's start).
    pub(crate) fn push_bought_elsewhere(&mut self, package: usize, seller: &str, total: i64) {
        let p = self.rup[package].clone();
        let Some(buyer) = self.scenario.buyers.iter().find(|b| b.kode_klpd == p.kode_klpd) else { return };
        let Some(satker) = buyer.satker.iter().find(|s| s.nama == p.nama_satker).cloned() else { return };
        let index = self.orders.len();
        let id = format!("EP-{}-L{:05}", p.tahun, index + 1);
        let at = p
            .tgl_awal_pemilihan
            .and_hms_opt(10, 0, 0)
            .and_then(|t| chrono::TimeZone::from_local_datetime(&Jakarta, &t).single())
            .map(|t| t.with_timezone(&Utc));
        let at = at.unwrap_or(self.now).min(self.now);
        let line = OrderLine {
            line_id: format!("L{:05}-1", index + 1),
            listing_id: format!("XL{:05}", index + 1),
            kd_produk: format!("X{:07}", index + 1),
            sku: format!("LAIN-{}", index + 1),
            name: p.nama_paket.clone(),
            quantity: Decimal::ONE,
            unit: "Paket".into(),
            unit_price: total,
            line_total: total,
            unit_price_excl_tax: total,
            tax_percent: 0,
        };
        self.order_ids.insert(id.clone(), index);
        self.orders.push(Order {
            order_id: id,
            rup_code: p.kd_rup.clone(),
            rup_name: p.nama_paket.clone(),
            fiscal_year: p.tahun,
            funding_source: p.sumber_dana.clone(),
            kode_klpd: p.kode_klpd.clone(),
            kode_satker: satker.kode.clone(),
            nama_satker: satker.nama.clone(),
            kode_penyedia: seller.to_owned(),
            count_product: 1,
            total_qty: Decimal::ONE,
            shipping_fee: 0,
            total,
            order_date: at,
            confirm_by: at,
            ppk_review_by: None,
            status: "COMPLETED".into(),
            shipment_status: "DELIVERED".into(),
            updated_at: at,
            cancelled_by: None,
            change: 0,
            complete_at: None,
            ppk_approves_at: None,
            lines: vec![line],
        });
        let now = std::mem::replace(&mut self.now, at);
        self.touch_order(index);
        self.now = now;
    }

    /// Records a change of order `index`: a new change number, and its place in the feed.
    fn touch_order(&mut self, index: usize) {
        self.order_change += 1;
        let change = self.order_change;
        let o = &mut self.orders[index];
        let old = std::mem::replace(&mut o.change, change);
        o.updated_at = self.now;
        let feed = self.order_feed.entry((o.kode_klpd.clone(), o.fiscal_year)).or_default();
        feed.remove(&old);
        feed.insert(change, index);
    }

    /// Moves order `index` to `status`.
    fn set_order_status(&mut self, index: usize, status: &str, cancelled_by: Option<&'static str>) {
        self.waiting.remove(&index);
        self.in_process.remove(&index);
        self.ppk_waiting.remove(&index);
        match status {
            "WAITING_SELLER_CONFIRMATION" => {
                self.waiting.insert(index);
                self.orders[index].confirm_by = self.calendar.add_working_days(self.now, CONFIRM_WORKING_DAYS);
            }
            "ON_PROCESS" => {
                self.in_process.insert(index);
                let done = self.calendar.add_working_days(self.now, self.scenario.complete_after_working_days.max(1));
                self.orders[index].complete_at = Some(done);
            }
            "COMPLETED" => self.orders[index].shipment_status = "DELIVERED".into(),
            _ => {}
        }
        self.orders[index].status = status.into();
        self.orders[index].cancelled_by = cancelled_by;
        self.touch_order(index);
    }

    /// Deadlines passed cancel, and orders in process whose time has come complete.
    fn expire_orders(&mut self) {
        let now = self.now;
        let expired: Vec<usize> = self.waiting.iter().copied().filter(|&i| self.orders[i].confirm_by <= now).collect();
        for i in expired {
            self.set_order_status(i, "CANCELLED", Some("deadline"));
        }
        let done: Vec<usize> = self.in_process.iter().copied().filter(|&i| self.orders[i].complete_at.is_some_and(|t| t <= now)).collect();
        for i in done {
            self.set_order_status(i, "COMPLETED", None);
        }
        let approved: Vec<usize> = self.ppk_waiting.iter().copied().filter(|&i| self.orders[i].ppk_approves_at.is_some_and(|t| t <= now)).collect();
        for i in approved {
            self.set_order_status(i, "WAITING_SELLER_CONFIRMATION", None);
        }
        let lapsed: Vec<usize> = self.ppk_waiting.iter().copied().filter(|&i| self.orders[i].ppk_review_by.is_some_and(|t| t <= now)).collect();
        for i in lapsed {
            self.set_order_status(i, "CANCELLED_ON_REVIEW", Some("ppk_deadline"));
        }
    }

    /// Each working day, a buyer may cancel an order still waiting for the seller.
    fn buyer_cancellations(&mut self) {
        let percent = u64::from(self.scenario.buyer_cancel_percent_per_day);
        if percent == 0 {
            return;
        }
        let waiting: Vec<usize> = self.waiting.iter().copied().collect();
        for i in waiting {
            if self.random(100) < percent {
                self.set_order_status(i, "CANCELLED", Some("buyer"));
            }
        }
    }

    // ---- orders ----

    /// Orders of a buying government and year changed after `after`, oldest change first.
    pub fn order_page(&self, kode_klpd: &str, year: i32, after: u64, limit: usize) -> (Vec<&Order>, bool) {
        let Some(feed) = self.order_feed.get(&(kode_klpd.to_owned(), year)) else { return (Vec::new(), false) };
        let mut page: Vec<&Order> =
            feed.range((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded)).take(limit + 1).map(|(_, &i)| &self.orders[i]).collect();
        let has_more = page.len() > limit;
        page.truncate(limit);
        (page, has_more)
    }

    /// Orders of a buying government and year changed after `after`, oldest change first, with their change numbers.
    pub fn orders_changed_after(&self, kode_klpd: &str, year: i32, after: u64) -> impl Iterator<Item = (u64, &Order)> {
        self.order_feed
            .get(&(kode_klpd.to_owned(), year))
            .into_iter()
            .flat_map(move |feed| feed.range((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded)))
            .map(|(&change, &i)| (change, &self.orders[i]))
    }

    pub fn order_index(&self, id: &str) -> Option<usize> {
        self.order_ids.get(id).copied()
    }

    /// The seller's answer; `Err` when the order is no longer waiting.
    pub fn respond(&mut self, index: usize, accept: bool) -> Result<Order, String> {
        if self.orders[index].status != "WAITING_SELLER_CONFIRMATION" {
            return Err(format!("order {} is {}, not waiting for confirmation", self.orders[index].order_id, self.orders[index].status));
        }
        if accept {
            self.set_order_status(index, "ON_PROCESS", None);
        } else {
            self.set_order_status(index, "CANCELLED", Some("seller"));
        }
        Ok(self.orders[index].clone())
    }
}

/// A listing's net content as the curator reads it: an amount and a unit,
/// in kg, liter or butir (`250 gram` is 0.25 kg). `None` for anything else.
fn net_content(text: &str) -> Option<(Decimal, &'static str)> {
    let text = text.trim().to_lowercase();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))?;
    let amount: Decimal = text[..split].replace(',', ".").parse().ok()?;
    let (per, factor) = match text[split..].trim() {
        "kg" | "kilogram" => ("kg", Decimal::ONE),
        "gram" | "g" | "gr" => ("kg", Decimal::new(1, 3)),
        "liter" | "l" | "litre" => ("liter", Decimal::ONE),
        "ml" | "mililiter" => ("liter", Decimal::new(1, 3)),
        "butir" | "pcs" | "buah" => ("butir", Decimal::ONE),
        _ => return None,
    };
    let amount = amount * factor;
    (amount > Decimal::ZERO).then_some((amount, per))
}

/// `Rp12.500` or `Rp12.500,50`, as the catalogue's curators write prices.
fn format_rupiah(value: Decimal) -> String {
    let value = value.round_dp(2);
    let whole: Vec<char> = value.trunc().abs().to_string().chars().collect();
    let grouped = whole.rchunks(3).rev().map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join(".");
    let cents = (value.fract().abs() * Decimal::ONE_HUNDRED).trunc();
    let sign = if value < Decimal::ZERO { "-" } else { "" };
    if cents.is_zero() { format!("{sign}Rp{grouped}") } else { format!("{sign}Rp{grouped},{cents:02}") }
}
