//! Ringkasan: per cooperative, its listings by state and its orders waiting
//! for confirmation with the nearest deadline (marked when under one working
//! day is left); the last run of each job; how fresh the orders are.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;

use super::format::{self, when};
use super::{Auth, Layout, WebError, WebState, render};
use crate::domain::Named;
use crate::domain::publication::Standing;
use crate::store::dashboard;

pub struct CoopView {
    pub code: String,
    pub name: String,
    pub listings: Vec<(String, i64)>,
    pub held_back: i64,
    pub waiting: i64,
    pub nearest: Option<String>,
    pub left: Option<String>,
    pub urgent: bool,
    pub waiting_ppk: i64,
    pub orders_href: String,
}

pub struct RunView {
    pub job: String,
    pub status: String,
    pub bad: bool,
    pub started: String,
    pub finished: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    l: Layout,
    coops: Vec<CoopView>,
    runs: Vec<RunView>,
    freshness: String,
    /// Days from the BAST to the payment per work unit, slowest first: (unit, orders paid, median, longest).
    payers: Vec<(String, usize, String, i64)>,
}

/// The jobs whose last runs the overview shows.
const JOBS: [&str; 5] = ["publish", "status", "status-inaproc", "orders", "rup"];

/// How long the overview's figures are reused before they are read again:
/// counting every listing and waiting order for each of 20 users at once
/// would cost more than the page may take, and the figures change only when
/// a job runs.
const FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(15);

/// The overview's figures of one scope, as last read.
pub struct Figures {
    coops: Vec<dashboard::CooperativeRow>,
    runs: Vec<dashboard::LastRun>,
    orders_synced: Option<chrono::DateTime<Utc>>,
    payers: Vec<(String, usize, rust_decimal::Decimal, i64)>,
}

/// The overview's figures per scope (the liaison's, or a cooperative's).
pub type Cache = super::fresh::Fresh<Option<i64>, Figures>;

pub fn cache() -> Cache {
    Cache::new("the overview's figures", FRESH_FOR)
}

async fn read(state: &WebState, scope: Option<i64>) -> Result<Figures, WebError> {
    Ok(Figures {
        coops: dashboard::cooperatives(&state.store, scope).await?,
        runs: dashboard::last_runs(&state.store, scope, &JOBS).await?,
        orders_synced: dashboard::last_good(&state.store, &["orders"]).await?,
        payers: days_to_pay(state, scope).await?,
    })
}

/// How long each work unit takes to pay, over the orders in scope paid in full.
async fn days_to_pay(state: &WebState, scope: Option<i64>) -> Result<Vec<(String, usize, rust_decimal::Decimal, i64)>, WebError> {
    let code = match scope {
        Some(id) => Some(dashboard::cooperative_code(&state.store, id).await?.unwrap_or_default()),
        None => None,
    };
    let filter = crate::store::orders::FactsFilter { cooperative: code.as_deref(), live_only: true, ..Default::default() };
    let facts = crate::store::orders::facts(&state.store, &filter).await?;
    let today = crate::domain::time::today();
    let standings: Vec<_> = facts.iter().map(|f| crate::orders::fulfilment::standing(f, &state.tax, &state.fulfilment, today)).collect();
    Ok(crate::orders::report::days_to_pay_by_unit(&standings))
}

pub async fn page(State(state): State<WebState>, auth: Auth) -> Result<Response, WebError> {
    let lang = auth.lang;
    let t = auth.t();
    let now = Utc::now();
    let scope = auth.user.scope();
    let reading = state.clone();
    let figures = state.overview.get(scope, move || async move { read(&reading, scope).await }).await?;
    let coops = figures
        .coops
        .iter()
        .map(|c| {
            let listings = c
                .listings
                .as_array()
                .map(|a| a.iter().filter_map(|p| Some((format::listing_state(p[0].as_str().and_then(Standing::from_name)?, lang), p[1].as_i64()?))).collect())
                .unwrap_or_default();
            let (nearest, left, urgent) = super::orders::deadline_view(&state, c.nearest_deadline, lang);
            CoopView {
                orders_href: format!("/pesanan?koperasi={}&menunggu=1", url::form_urlencoded::byte_serialize(c.code.as_bytes()).collect::<String>()),
                code: c.code.clone(),
                name: c.name.clone(),
                listings,
                held_back: c.held_back,
                waiting: c.waiting,
                nearest,
                urgent,
                left,
                waiting_ppk: c.waiting_ppk,
            }
        })
        .collect();
    let runs = figures
        .runs
        .iter()
        .map(|r| RunView {
            job: format::job(&r.kind, lang),
            bad: r.status.is_bad(),
            status: format::run_status(r.status, lang),
            started: when(r.started_at, lang),
            finished: r.finished_at.map(|f| when(f, lang)).unwrap_or_default(),
            error: format::run_error(r.error_code.as_deref(), r.error.as_deref(), lang),
        })
        .collect();
    let freshness = match figures.orders_synced {
        Some(at) => format!("{} {}", t.orders_synced, format::clock_or_when(at, now, lang)),
        None => format!("{}: {}", t.orders_synced, t.never),
    };
    let payers = figures.payers.iter().map(|(unit, n, median, max)| (unit.clone(), *n, median.normalize().to_string().replace('.', ","), *max)).collect();
    render(&OverviewPage { l: auth.layout("overview", t.overview, "/"), coops, runs, freshness, payers })
}
