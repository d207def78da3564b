//! INAPROC's RUP endpoint and the plans' admin calls, over the plans the
//! story keeps (`plan.rs`, in `state::Mock::rup`):
//! - `GET /api/v1/rup/paket-penyedia-terumumkan`, in RUP's own envelope:
//!   `{"success": true, "data": [...], "next_cursor": "..." | null}`, no `meta`;
//! - `POST /admin/rup` moves a package's date or budget, withdraws it, or
//!   takes it off the list; `GET /admin/rup` is the ground truth.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::get};
use chrono::{Datelike, Duration};
use chrono_tz::Asia::Jakarta;
use serde::Deserialize;
use serde_json::{Value, json};

use super::app::{ApiError, AppState};
use super::plan::{BOUGHT, Package};

#[derive(Deserialize)]
struct RupQuery {
    kode_klpd: Option<String>,
    tahun: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

/// `GET /api/v1/rup/paket-penyedia-terumumkan?kode_klpd=&tahun=`: the
/// announced packages with a supplier, by `kd_rup`; the cursor is the last
/// `kd_rup` given.
async fn paket(State(s): State<AppState>, headers: HeaderMap, Query(q): Query<RupQuery>) -> Response {
    let run = || -> Result<Response, Box<Response>> {
        super::inaproc::admit(&s, &headers, "/api/v1/rup/paket-penyedia-terumumkan")?;
        let bad = |m: String| Box::new(ApiError::new(StatusCode::BAD_REQUEST, "bad_request", m).into_response());
        let klpd = q.kode_klpd.as_deref().filter(|k| !k.is_empty()).ok_or_else(|| bad("kode_klpd is required".into()))?;
        let year: i32 = q.tahun.as_deref().and_then(|t| t.trim().parse().ok()).ok_or_else(|| bad("tahun is required".into()))?;
        let limit = match q.limit.as_deref() {
            None => 100,
            Some(l) => l.parse::<usize>().ok().filter(|n| (1..=1000).contains(n)).ok_or_else(|| bad("limit must be 1-1000".into()))?,
        };
        let after: i64 = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => 0,
            Some(c) => c.parse().map_err(|_| bad(format!("invalid cursor {c:?}")))?,
        };
        let mut mock = s.mock();
        mock.plan(year);
        let mut rows: Vec<&Package> =
            mock.rup.iter().filter(|p| p.kode_klpd == klpd && p.tahun == year && !p.removed && p.kd_rup.parse::<i64>().is_ok_and(|n| n > after)).collect();
        rows.sort_by_key(|p| p.kd_rup.parse::<i64>().unwrap_or(0));
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = more.then(|| rows.last().map(|p| p.kd_rup.clone())).flatten();
        Ok(Json(json!({"success": true, "data": rows.iter().map(|p| p.row()).collect::<Vec<_>>(), "next_cursor": next})).into_response())
    };
    run().unwrap_or_else(|r| *r)
}

#[derive(Deserialize)]
struct TruthQuery {
    tahun: Option<i32>,
}

/// `GET /admin/rup?tahun=`: every package of the year as served (also those
/// withdrawn, and those taken off the list, marked `removed`), each with the
/// orders that bought it: `{order_id, kode_penyedia, ours, total, status,
/// bought, order_date, updated_at}`.
async fn truth(State(s): State<AppState>, Query(q): Query<TruthQuery>) -> Response {
    let mut mock = s.mock();
    let year = q.tahun.unwrap_or_else(|| mock.now.with_timezone(&Jakarta).year());
    mock.plan(year);
    let ours: std::collections::HashSet<&str> = mock.scenario.clients.iter().map(|c| c.kode_penyedia.as_str()).collect();
    let packages: Vec<Value> = mock
        .rup
        .iter()
        .filter(|p| p.tahun == year)
        .map(|p| {
            let mut row = p.row();
            row["removed"] = Value::Bool(p.removed);
            row["orders"] = mock
                .orders
                .iter()
                .filter(|o| o.rup_code == p.kd_rup)
                .map(|o| {
                    json!({"order_id": o.order_id, "kode_penyedia": o.kode_penyedia, "ours": ours.contains(o.kode_penyedia.as_str()),
                           "total": o.total, "status": o.status, "bought": BOUGHT.contains(&o.status.as_str()),
                           "order_date": o.order_date, "updated_at": o.updated_at})
                })
                .collect();
            row
        })
        .collect();
    Json(json!({"tahun": year, "packages": packages})).into_response()
}

/// A change to one package (`POST /admin/rup`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Change {
    kd_rup: String,
    #[serde(default)]
    move_days: Option<i64>,
    #[serde(default)]
    pagu: Option<i64>,
    /// `false`: withdrawn (served with `status_aktif_rup` false).
    #[serde(default)]
    aktif: Option<bool>,
    /// Taken off the announced list.
    #[serde(default)]
    remove: bool,
}

async fn change(State(s): State<AppState>, Json(c): Json<Change>) -> Response {
    let mut mock = s.mock();
    let Some(p) = mock.rup.iter_mut().find(|p| p.kd_rup == c.kd_rup) else {
        return ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no package {}", c.kd_rup)).into_response();
    };
    if let Some(days) = c.move_days {
        let by = Duration::days(days);
        p.tgl_awal_pemilihan += by;
        p.tgl_akhir_pemilihan += by;
        p.tgl_awal_kontrak += by;
        p.tgl_akhir_kontrak += by;
    }
    if let Some(pagu) = c.pagu {
        p.pagu = pagu;
    }
    if let Some(aktif) = c.aktif {
        p.status_aktif_rup = aktif;
    }
    p.removed |= c.remove;
    let mut row = p.row();
    row["removed"] = Value::Bool(p.removed);
    Json(row).into_response()
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/rup/paket-penyedia-terumumkan", get(paket))
}

pub fn admin_routes() -> Router<AppState> {
    Router::new().route("/admin/rup", get(truth).post(change))
}
