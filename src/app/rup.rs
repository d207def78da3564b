//! The city's purchase plan, as the liaison and the cooperatives' staff see
//! it: the packages with their matched cooperatives (`rup list`, "Rencana
//! belanja kota"), a cooperative's open opportunities ("Peluang"), and what
//! the city won (`rup report`). A staff member sees only their own
//! cooperative's matches, whatever they ask for.

use chrono::NaiveDate;

use super::Actor;
use crate::rup::report::{self, Line, Report};
use crate::rup::view::shape;
pub use crate::rup::view::{Match, Package, Product};
use crate::store::rup::{self as stored, Filter};
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
    /// Matches shown per package, with their products (the others counted).
    pub shown: Option<usize>,
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
        kd_rup: None,
    };
    let listed = stored::list(store, &filter).await?;
    Ok(shape(store, listed, actor.scope, ask.shown, today).await?)
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
    let mut packages = shape(store, listed, Some(id), None, today).await?;
    packages.retain(|p| p.open);
    Ok(packages)
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
