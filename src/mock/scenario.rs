//! A mock catalogue scenario (`fixtures/scenarios/*.toml`).

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub seed: u64,
    pub start: DateTime<Utc>,
    #[serde(default = "default_review_hours")]
    pub review_hours: i64,
    #[serde(default = "default_ttl")]
    pub token_ttl_seconds: i64,
    #[serde(default = "default_rate")]
    pub rate_limit_per_minute: u32,
    #[serde(default)]
    pub orders_per_day: u32,
    /// Lines an order has on average (at least 1; at most the seller's live listings).
    #[serde(default = "default_lines_mean")]
    pub lines_per_order_mean: u32,
    /// Orders made at the start, before the clock moves: exactly this many,
    /// dated over the days before `start`, for sellers of `clients`. Their
    /// lines name listings the catalogue made up for them (unknown to a seller's
    /// store), so any count is quick to make.
    #[serde(default)]
    pub initial_orders: u32,
    /// The fiscal year orders belong to (by default the year of their date in Jakarta).
    #[serde(default)]
    pub fiscal_year: Option<i32>,
    /// Working days after which an order in process is completed.
    #[serde(default = "default_complete_days")]
    pub complete_after_working_days: u32,
    /// Chance per working day (percent) that a buyer cancels an order still waiting for the seller.
    #[serde(default)]
    pub buyer_cancel_percent_per_day: u32,
    /// Whether cuti bersama counts as a working day for the confirmation deadline.
    #[serde(default)]
    pub cuti_bersama_is_working_day: bool,
    #[serde(default)]
    pub takedown_percent_per_day: u32,
    /// Share of new orders (percent) that wait for the buyer's PPK first
    /// (`WAITING_PPK_REVIEW`): approved within 3 working days, or lapsed.
    #[serde(default)]
    pub ppk_review_percent: u32,
    /// The INAPROC data API: served only when set, to its integrator token.
    #[serde(default)]
    pub inaproc: Option<InaprocScenario>,
    #[serde(default)]
    pub rules: ReviewRules,
    /// Price ceilings (HET) per kg, liter or piece, that the review rule
    /// `reject_above_ceiling` checks a listing's price per unit against.
    #[serde(default)]
    pub ceilings: Vec<ScenarioCeiling>,
    pub clients: Vec<Client>,
    pub buyers: Vec<Buyer>,
    /// Faults in force from the start (the same shape as `POST /admin/faults`).
    #[serde(default)]
    pub faults: Vec<super::faults::Fault>,
}

fn default_lines_mean() -> u32 {
    2
}
fn default_complete_days() -> u32 {
    5
}
fn default_review_hours() -> i64 {
    24
}
fn default_ttl() -> i64 {
    3600
}
fn default_rate() -> u32 {
    1000
}

/// The INAPROC data API's side of the story: who may read it and how often.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InaprocScenario {
    /// The data integrator's token (`Authorization: Bearer`).
    pub token: String,
    /// Requests taken in any 60 seconds; more get 429 with `Retry-After`.
    #[serde(default = "default_inaproc_minute")]
    pub per_minute: u32,
    /// Requests taken in any hour.
    #[serde(default = "default_inaproc_hour")]
    pub per_hour: u32,
    /// Categories of the tree renamed since the mapping was made: v6 category id -> new name.
    #[serde(default)]
    pub renamed_categories: std::collections::BTreeMap<String, String>,
    /// Categories of the tree removed since (by v6 category id).
    #[serde(default)]
    pub removed_categories: Vec<String>,
}

fn default_inaproc_minute() -> u32 {
    1000
}
fn default_inaproc_hour() -> u32 {
    5000
}

/// A price ceiling as the catalogue's curators apply it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioCeiling {
    /// The v6 category id of the listings it applies to (`kategori_id`).
    pub kategori_id: String,
    /// The same category's UNSPSC code, as a PEPPOL line classifies it.
    #[serde(default)]
    pub unspsc: Option<String>,
    /// Only for listings whose name has this word (a grade, e.g. premium).
    #[serde(default)]
    pub name_contains: Option<String>,
    /// `kg`, `liter` or `butir`.
    pub per: String,
    /// Whole rupiah per unit, PPN included.
    pub price: i64,
    pub from: chrono::NaiveDate,
    pub source: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewRules {
    #[serde(default)]
    pub tkdn_requires_certificate: bool,
    #[serde(default)]
    pub reject_above_ceiling: bool,
    #[serde(default)]
    pub revision_without_photo: bool,
}

impl Scenario {
    /// The seller accounts a client needs to talk to this scenario's
    /// catalogue, one per client (the demo, tests and benchmarks use them).
    pub fn seller_accounts(&self) -> Vec<crate::config::SellerAccount> {
        self.clients
            .iter()
            .map(|c| crate::config::SellerAccount {
                kode_penyedia: c.kode_penyedia.clone(),
                client_id: c.client_id.clone(),
                client_secret: Some(c.client_secret.clone().into()),
                client_secret_file: None,
                channel: Default::default(),
            })
            .collect()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    pub client_id: String,
    pub client_secret: String,
    pub kode_penyedia: String,
    /// The seller's name and GLN, for UBL documents.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub gln: Option<String>,
    /// What INAPROC's penyedia-detail says of the seller.
    #[serde(default)]
    pub nib: Option<String>,
    #[serde(default)]
    pub npwp: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Buyer {
    pub kode_klpd: String,
    pub name: String,
    /// The buyer's GLN, its PEPPOL endpoint.
    #[serde(default)]
    pub gln: Option<String>,
    pub satker: Vec<Satker>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Satker {
    pub kode: String,
    pub nama: String,
}

impl Scenario {
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let s: Self = toml::from_str(text).map_err(|e| e.to_string().replace('\n', " "))?;
        if s.clients.is_empty() || s.buyers.is_empty() || s.buyers.iter().any(|b| b.satker.is_empty()) {
            return Err("a scenario needs at least one client and one buyer with a satker".into());
        }
        Ok(s)
    }
}
