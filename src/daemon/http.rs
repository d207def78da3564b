//! The daemon's health listener, on `[daemon] metrics_listen` (loopback by
//! default, apart from the dashboard): `/healthz` (the process answers,
//! without the database), `/readyz` (the database answers within a second;
//! the catalogue's last answer is reported, not asked for) and `/metrics`
//! (Prometheus text, the database's figures read at most every few
//! seconds). Served with `serve::serve`'s bounds; nothing in an answer
//! repeats a configured URL or secret.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::catalog::client::CatalogueClient;
use crate::domain::fulfilment::Step;
use crate::domain::publication::PublicationState;
use crate::store::Store;

/// How long a readiness check waits for the database.
pub const CHECK_TIMEOUT: Duration = Duration::from_millis(900);
/// How long the database's figures on `/metrics` are reused.
pub const FIGURES_FOR: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct HttpState {
    /// A pool of its own with a short wait for a connection.
    pub store: Arc<Store>,
    /// The catalogue client the jobs use: `/readyz` reports its last answer.
    pub client: CatalogueClient,
    pub metrics: PrometheusHandle,
    /// For the orders' steps after the order that are overdue.
    pub tax: Arc<crate::mapping::tax::TaxRules>,
    pub fulfilment: crate::config::FulfilmentSettings,
    /// When the database's figures were last read (one reading at a time).
    pub figures_read: Arc<tokio::sync::Mutex<Option<Instant>>>,
}

static RECORDER: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's Prometheus recorder, installed on first use.
pub fn metrics_handle() -> PrometheusHandle {
    RECORDER
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0])
                .map(PrometheusBuilder::build_recorder)
                .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed: /metrics shows only the database's figures");
            }
            let upkeep = handle.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    upkeep.run_upkeep();
                }
            });
            handle
        })
        .clone()
}

pub fn router(state: HttpState) -> Router {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).route("/metrics", get(metrics_text)).with_state(state)
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(state): State<HttpState>) -> Response {
    let database = match tokio::time::timeout(CHECK_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => "ok".to_owned(),
        Ok(Err(e)) => format!("error: {e}"),
        Err(_) => format!("no answer within {} ms", CHECK_TIMEOUT.as_millis()),
    };
    let catalogue = match state.client.last_answer() {
        Some((at, status)) => {
            let ago = (chrono::Utc::now() - at).num_seconds().max(0);
            format!("last answered HTTP {status} at {} ({ago} s ago)", crate::domain::time::show(at))
        }
        None => "not asked since the daemon started".to_owned(),
    };
    let ready = database == "ok";
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, axum::Json(serde_json::json!({"ready": ready, "database": database, "catalogue": catalogue}))).into_response()
}

/// The in-process counters, with the database's figures read again when
/// older than [`FIGURES_FOR`] (so every instance reports the same totals for
/// the shared state, and a flood of scrapes costs the database nothing more).
async fn metrics_text(State(state): State<HttpState>) -> Response {
    {
        let mut read = state.figures_read.lock().await;
        if read.is_none_or(|at| at.elapsed() >= FIGURES_FOR) {
            match refresh_gauges(&state).await {
                Ok(()) => {
                    metrics::gauge!("katalog_bridge_database_up").set(1.0);
                    *read = Some(Instant::now());
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the figures for /metrics");
                    metrics::gauge!("katalog_bridge_database_up").set(0.0);
                }
            }
        }
    }
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render()).into_response()
}

async fn refresh_gauges(state: &HttpState) -> Result<(), crate::store::StoreError> {
    let store = &state.store;
    let mut by_state: std::collections::BTreeMap<String, i64> = PublicationState::ALL.iter().map(|s| (s.as_str().to_owned(), 0)).collect();
    for (_, state, n) in crate::store::publications::counts_by_state(store, crate::publish::Channel::Api).await? {
        *by_state.entry(state).or_default() += n;
    }
    for (state, n) in by_state {
        metrics::gauge!("katalog_bridge_publications", "state" => state).set(n as f64);
    }
    let figures = crate::store::orders::figures(store).await?;
    metrics::gauge!("katalog_bridge_orders_waiting_confirmation").set(figures.waiting as f64);
    // +Inf when no deadline is ahead: an alert on "below N seconds" stays quiet.
    metrics::gauge!("katalog_bridge_seconds_to_nearest_deadline").set(figures.seconds_to_nearest_deadline.unwrap_or(f64::INFINITY));
    metrics::gauge!("katalog_bridge_orders_stored").set(figures.stored as f64);
    for (state, n) in crate::store::notifications::counts(store).await? {
        metrics::gauge!("katalog_bridge_notifications", "state" => state.as_str()).set(n as f64);
    }
    // Orders with a step after the order past its due date, by step.
    let overdue = crate::orders::fulfilment::overdue_orders(store, &state.tax, &state.fulfilment, None).await?;
    for step in [Step::Bast, Step::Faktur, Step::Invoice, Step::Paid, Step::Delivered, Step::Shipped] {
        let n = overdue.iter().filter(|s| s.overdue.iter().any(|o| o.step == step)).count();
        metrics::gauge!("katalog_bridge_orders_overdue", "step" => step.as_str()).set(n as f64);
    }
    Ok(())
}
