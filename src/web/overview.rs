//! Ringkasan: per cooperative, its listings by state and its orders waiting
//! for confirmation with the nearest deadline (marked when under one working
//! day is left); the last run of each job; how fresh the orders are.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;

use super::format::{self, when};
use super::{Auth, Layout, WebError, WebState, render};
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
}

/// The jobs whose last runs the overview shows.
const JOBS: [&str; 4] = ["publish", "status", "status-inaproc", "orders"];

pub async fn page(State(state): State<WebState>, auth: Auth) -> Result<Response, WebError> {
    let lang = auth.lang;
    let t = auth.t();
    let now = Utc::now();
    let rows = dashboard::cooperatives(&state.store, auth.user.scope()).await?;
    let coops = rows
        .into_iter()
        .map(|c| {
            let listings = c
                .listings
                .as_array()
                .map(|a| a.iter().filter_map(|p| Some((format::listing_state(p[0].as_str()?, lang), p[1].as_i64()?))).collect())
                .unwrap_or_default();
            let left = c.nearest_deadline.map(|d| if d > now { state.calendar.working_time_left(now, d) } else { chrono::Duration::zero() });
            CoopView {
                orders_href: format!("/pesanan?koperasi={}&menunggu=1", url::form_urlencoded::byte_serialize(c.code.as_bytes()).collect::<String>()),
                code: c.code,
                name: c.name,
                listings,
                held_back: c.held_back,
                waiting: c.waiting,
                nearest: c.nearest_deadline.map(|d| when(d, lang)),
                urgent: left.is_some_and(|l| l < chrono::Duration::hours(24)),
                left: left.map(|l| if l.is_zero() { t.passed.to_owned() } else { format::working_left(l, lang) }),
                waiting_ppk: c.waiting_ppk,
            }
        })
        .collect();
    let runs = dashboard::last_runs(&state.store, &JOBS)
        .await?
        .into_iter()
        .map(|r| RunView {
            job: format::job(&r.kind, lang),
            bad: !matches!(r.status.as_str(), "succeeded" | "running"),
            status: format::run_status(&r.status, lang),
            started: when(r.started_at, lang),
            finished: r.finished_at.map(|f| when(f, lang)).unwrap_or_default(),
            error: r.error.map(|e| e.chars().take(300).collect()),
        })
        .collect();
    let freshness = match dashboard::last_good(&state.store, &["orders"]).await? {
        Some(at) => format!("{} {}", t.orders_synced, format::clock_or_when(at, now, lang)),
        None => format!("{}: {}", t.orders_synced, t.never),
    };
    render(&OverviewPage { l: auth.layout("overview", t.overview, "/"), coops, runs, freshness })
}
