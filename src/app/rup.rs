//! The city's purchase plan, as the liaison and the cooperatives' staff see
//! it: the packages with their matched cooperatives (`rup list`, "Rencana
//! belanja kota"), a cooperative's open opportunities ("Peluang"), and what
//! the city won (`rup report`). A staff member sees only their own
//! cooperative's matches, whatever they ask for.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use super::Actor;
use crate::domain::rup::Outcome;
use crate::rup::report::{self, Line, Report};
use crate::store::rup::{self as stored, Filter, Fit, Listed};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum RupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("tidak ada koperasi {0}")]
    UnknownCooperative(String),
}

/// What the caller asks to list.
#[derive(Debug, Clone, Default)]
pub struct Ask {
    pub tahun: Option<i32>,
    /// A cooperative's code (the staff's own is used whatever is asked).
    pub cooperative: Option<String>,
    /// The month the choosing begins in.
    pub month: Option<NaiveDate>,
    pub satker: Option<String>,
    pub category: Option<String>,
    pub ukm_only: bool,
    pub matched: Option<bool>,
    /// The choosing begins on or after this day.
    pub from: Option<NaiveDate>,
    pub limit: Option<i64>,
}

/// A product of a matched cooperative that fits the package, and what it lacks.
#[derive(Debug, Clone, Serialize)]
pub struct Product {
    pub id: i64,
    pub name: String,
    pub category: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub price: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub stock: Decimal,
    /// What keeps it from being sold to the package, in Bahasa Indonesia; empty when ready.
    pub missing: Vec<&'static str>,
}

impl Product {
    fn of(f: &Fit) -> Self {
        let mut missing = Vec::new();
        if !f.active {
            missing.push("ditahan (tidak dijual)");
        } else if !f.live {
            missing.push("belum tayang di katalog");
        }
        if f.above_ceiling {
            missing.push("harga di atas HET");
        }
        if f.stock <= Decimal::ZERO {
            missing.push("stok habis");
        }
        Self { id: f.product_id, name: f.name.clone(), category: f.category.clone(), price: f.price, stock: f.stock, missing }
    }

    pub fn ready(&self) -> bool {
        self.missing.is_empty()
    }
}

/// A cooperative a package is matched to, with its products that fit.
#[derive(Debug, Clone, Serialize)]
pub struct Match {
    pub cooperative: String,
    pub name: String,
    pub categories: Vec<String>,
    pub products: Vec<Product>,
    /// Orders of this cooperative that bought the package.
    #[serde(with = "rust_decimal::serde::str")]
    pub won: Decimal,
}

/// A package as listed: every field read, its standing, and its matches.
#[derive(Debug, Clone, Serialize)]
pub struct Package {
    #[serde(flatten)]
    pub package: crate::domain::rup::PlanPackage,
    /// Still on the announced list.
    pub listed: bool,
    pub withdrawn: bool,
    /// An open opportunity on the day asked.
    pub open: bool,
    pub outcome: Outcome,
    #[serde(with = "rust_decimal::serde::str")]
    pub won: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub lost: Decimal,
    pub matches: Vec<Match>,
}

impl Package {
    /// The goods missing across its matches, in a few words (for a message).
    pub fn missing_for(&self, cooperative: &str) -> Vec<String> {
        self.matches
            .iter()
            .filter(|m| m.cooperative == cooperative)
            .flat_map(|m| m.products.iter().filter(|p| !p.ready()).map(|p| format!("{}: {}", p.name, p.missing.join(", "))))
            .collect()
    }
}

async fn scope(store: &Store, actor: &Actor, asked: Option<&str>) -> Result<Option<i64>, RupError> {
    if let Some(own) = actor.scope {
        return Ok(Some(own));
    }
    match asked {
        None => Ok(None),
        Some(code) => stored::cooperative_id(store, code).await?.map(Some).ok_or_else(|| RupError::UnknownCooperative(code.to_owned())),
    }
}

/// The packages asked for, judged open or not on `today`. A staff member
/// gets the packages of their cooperative only, with its match only.
pub async fn list(store: &Store, actor: &Actor, ask: &Ask, today: NaiveDate) -> Result<Vec<Package>, RupError> {
    let cooperative = scope(store, actor, ask.cooperative.as_deref()).await?;
    let filter = Filter {
        tahun: ask.tahun,
        cooperative,
        month: ask.month,
        satker: ask.satker.clone(),
        category: ask.category.clone(),
        ukm_only: ask.ukm_only,
        matched: if cooperative.is_some() { Some(true) } else { ask.matched },
        from: ask.from,
        limit: ask.limit,
    };
    let listed = stored::list(store, &filter).await?;
    shape(store, listed, actor.scope, today).await
}

/// Packages with their matches' products (of `only` when given).
async fn shape(store: &Store, listed: Vec<Listed>, only: Option<i64>, today: NaiveDate) -> Result<Vec<Package>, RupError> {
    let mut cooperatives: Vec<i64> = listed.iter().flat_map(|l| l.matches.iter().map(|m| m.0)).filter(|c| only.is_none_or(|o| o == *c)).collect();
    cooperatives.sort_unstable();
    cooperatives.dedup();
    let mut categories: Vec<String> = listed.iter().flat_map(|l| l.matches.iter().flat_map(|m| m.3.iter().cloned())).collect();
    categories.sort_unstable();
    categories.dedup();
    let mut fits: HashMap<(i64, String), Vec<Product>> = HashMap::new();
    for f in stored::fits(store, &cooperatives, &categories).await? {
        fits.entry((f.cooperative_id, f.category.clone())).or_default().push(Product::of(&f));
    }
    Ok(listed
        .into_iter()
        .map(|l| {
            let package = l.package.package();
            let won: Decimal = l.won.iter().map(|w| w.2).sum();
            let lost: Decimal = l.lost.iter().map(|w| w.2).sum();
            let outcome = if won > Decimal::ZERO {
                Outcome::Won
            } else if lost > Decimal::ZERO {
                Outcome::Lost
            } else {
                Outcome::NotYet
            };
            let matches = l
                .matches
                .iter()
                .filter(|m| only.is_none_or(|o| o == m.0))
                .map(|(id, code, name, cats)| Match {
                    cooperative: code.clone(),
                    name: name.clone(),
                    categories: cats.clone(),
                    products: cats.iter().flat_map(|c| fits.get(&(*id, c.clone())).cloned().unwrap_or_default()).collect(),
                    won: l.won.iter().filter(|w| w.0 == *id).map(|w| w.2).sum(),
                })
                .collect();
            Package {
                open: package.open_on(l.package.listed, today),
                withdrawn: package.withdrawn(l.package.listed),
                listed: l.package.listed,
                package,
                outcome,
                won,
                lost,
                matches,
            }
        })
        .collect())
}

/// The open opportunities a cooperative is shown at most, nearest first.
const OPPORTUNITIES_SHOWN: i64 = 50;

/// A cooperative's open opportunities on `today`, nearest first: the staff's
/// own, or the one the liaison names.
pub async fn opportunities(store: &Store, actor: &Actor, cooperative: Option<&str>, today: NaiveDate) -> Result<Vec<Package>, RupError> {
    let Some(id) = scope(store, actor, cooperative).await? else { return Ok(Vec::new()) };
    // Those whose choosing begins after today, the nearest first.
    let from = today.succ_opt();
    let listed =
        stored::list(store, &Filter { cooperative: Some(id), matched: Some(true), from, limit: Some(OPPORTUNITIES_SHOWN), ..Default::default() }).await?;
    let mut packages = shape(store, listed, Some(id), today).await?;
    packages.retain(|p| p.open);
    Ok(packages)
}

/// The package a notice is about, shaped for its cooperative, as of `today`.
pub async fn for_notice(store: &Store, kd_rup: &str, cooperative_id: i64, today: NaiveDate) -> Result<Option<Package>, RupError> {
    let listed = stored::list(store, &Filter { cooperative: Some(cooperative_id), ..Default::default() }).await?;
    let mut packages = shape(store, listed.into_iter().filter(|l| l.package.kd_rup == kd_rup).collect(), Some(cooperative_id), today).await?;
    Ok(packages.pop())
}

/// What the city won of its year's plan: per work unit and for the city,
/// and per cooperative (the staff's own only) when `per_cooperative`.
pub async fn report(store: &Store, actor: &Actor, tahun: i32, cooperative: Option<&str>, per_cooperative: bool) -> Result<Report, RupError> {
    let id = scope(store, actor, cooperative).await?;
    let (per_coop, per_unit, city) = stored::figures(store, tahun, id, per_cooperative).await?;
    let (read, matched) = stored::count(store, tahun).await?;
    Ok(Report {
        tahun,
        packages_read: read,
        packages_matched: matched,
        target_percent: report::TARGET_PERCENT,
        cooperatives: per_coop.into_iter().map(Line::from).collect(),
        work_units: per_unit.into_iter().map(Line::from).collect(),
        city: Line::from(city),
    })
}
