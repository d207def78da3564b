//! A package of the plan as people are shown it: every field read, its
//! standing on a day, and each matched cooperative with its products that
//! fit and what each lacks (held back, not live, above the ceiling, no
//! stock). Shared by the use cases (`app::rup`) and the outbox's messages.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::domain::rup::Outcome;
use crate::store::rup::{self as stored, Filter, Fit, Listed};
use crate::store::{Store, StoreError};

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
    /// How many cooperatives it is matched to (`matches` may show fewer).
    pub matched: usize,
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

/// Packages with their matches' products (of `only` when given; the first
/// `shown` matches of each, by code, when given: the others only counted).
pub async fn shape(store: &Store, mut listed: Vec<Listed>, only: Option<i64>, shown: Option<usize>, today: NaiveDate) -> Result<Vec<Package>, StoreError> {
    let mut matched = Vec::with_capacity(listed.len());
    for l in &mut listed {
        l.matches.retain(|m| only.is_none_or(|o| o == m.0));
        matched.push(l.matches.len());
        l.matches.truncate(shown.unwrap_or(usize::MAX));
    }
    let mut cooperatives: Vec<i64> = listed.iter().flat_map(|l| l.matches.iter().map(|m| m.0)).collect();
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
        .zip(matched)
        .map(|(l, matched)| {
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
                matched,
                matches,
            }
        })
        .collect())
}

/// The package a notice is about, shaped for its cooperative, as of `today`.
pub async fn for_notice(store: &Store, kd_rup: &str, cooperative_id: i64, today: NaiveDate) -> Result<Option<Package>, StoreError> {
    let only = Filter { cooperative: Some(cooperative_id), kd_rup: Some(kd_rup.to_owned()), ..Default::default() };
    let mut packages = shape(store, stored::list(store, &only).await?, Some(cooperative_id), None, today).await?;
    Ok(packages.pop())
}
