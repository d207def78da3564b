//! The INAPROC data API's read endpoints, as a data integrator sees them:
//! `paket-e-purchasing` (one row per package), `e-purchasing-by-produk` (one
//! row per order and product), `list-produk-penyedia`, `penyedia-detail` and
//! `list-kategori-produk`, paged with `meta.cursor` / `meta.has_more`, behind
//! the scenario's integrator token and its quota per minute and per hour
//! (429 with `Retry-After` beyond it, counted in `/admin/state`).

use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::get};
use chrono::{DateTime, Utc};
use chrono_tz::Asia::Jakarta;
use serde::Deserialize;
use serde_json::{Value, json};

use super::app::{ApiError, AppState};
use super::state::{ListingState, Mock, Order};

const MAX_PAGE: usize = 1000;

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get("authorization")?.to_str().ok()?.strip_prefix("Bearer ")
}

/// Whether a request carries the scenario's integrator token.
pub fn is_integrator(s: &AppState, headers: &HeaderMap) -> bool {
    let mock = s.mock();
    match (&mock.scenario.inaproc, bearer(headers)) {
        (Some(i), Some(token)) => constant_eq(i.token.as_bytes(), token.as_bytes()),
        _ => false,
    }
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// What Cloudflare answers in front of INAPROC when the caller's public
/// address is not registered: a 403 page of its own, before any token is read.
fn blocked_by_gateway() -> Box<Response> {
    let body = "<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title></head><body>\
                <h1>Sorry, you have been blocked</h1><p>You are unable to access inaproc.id</p>\
                <p>Cloudflare Ray ID: 8f1c2a3b4c5d6e7f</p></body></html>";
    let mut r = (StatusCode::FORBIDDEN, body).into_response();
    let h = r.headers_mut();
    h.insert("content-type", HeaderValue::from_static("text/html; charset=UTF-8"));
    h.insert("server", HeaderValue::from_static("cloudflare"));
    h.insert("cf-ray", HeaderValue::from_static("8f1c2a3b4c5d6e7f-SIN"));
    Box::new(r)
}

/// Lets a request through for the integrator: its address (the gateway), its token, then its quota.
pub(crate) fn admit(s: &AppState, headers: &HeaderMap, path: &str) -> Result<(), Box<Response>> {
    let (per_minute, per_hour) = match &s.mock().scenario.inaproc {
        None => return Err(Box::new(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route").into_response())),
        Some(i) => (i.per_minute, i.per_hour),
    };
    if s.ip_blocked.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(blocked_by_gateway());
    }
    if !is_integrator(s, headers) {
        return Err(Box::new(
            ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "a data integrator's token is required (Authorization: Bearer)").into_response(),
        ));
    }
    let forced = s.faults.lock().unwrap_or_else(|p| p.into_inner()).take_rate_limit(path);
    let mut meter = s.inaproc.lock().unwrap_or_else(|p| p.into_inner());
    meter.requests += 1;
    let refused = if forced {
        meter.refused_injected += 1;
        Some(Duration::from_secs(1))
    } else {
        meter.take(Instant::now(), per_minute, per_hour).err().inspect(|_| meter.refused_over_quota += 1)
    };
    match refused {
        None => Ok(()),
        Some(wait) => {
            let mut r = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "quota of the data integrator used up").into_response();
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            r.headers_mut().insert("retry-after", HeaderValue::from(secs.max(1)));
            Err(Box::new(r))
        }
    }
}

/// A time as INAPROC writes it: Jakarta wall time, without a zone.
fn wib(t: DateTime<Utc>) -> String {
    t.with_timezone(&Jakarta).format("%Y-%m-%d %H:%M:%S").to_string()
}

fn bad(message: impl Into<String>) -> Box<Response> {
    Box::new(ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message).into_response())
}

fn limit(l: Option<&str>) -> Result<usize, Box<Response>> {
    match l {
        None => Ok(100),
        Some(l) => l.parse::<usize>().ok().filter(|n| (1..=MAX_PAGE).contains(n)).ok_or_else(|| bad("limit must be 1-1000")),
    }
}

fn page(data: Vec<Value>, cursor: String, has_more: bool, limit: usize) -> Response {
    Json(json!({"data": data, "meta": {"cursor": cursor, "has_more": has_more, "limit": limit}})).into_response()
}

fn year(t: Option<&str>) -> Result<i32, Box<Response>> {
    t.and_then(|t| t.trim().parse().ok()).ok_or_else(|| bad("tahun is required"))
}

/// A change-number cursor (`""` is the start).
fn change_cursor(c: Option<&str>) -> Result<u64, Box<Response>> {
    match c.filter(|c| !c.is_empty()) {
        None => Ok(0),
        Some(c) => c.parse().map_err(|_| bad(format!("invalid cursor {c:?}"))),
    }
}

#[derive(Deserialize)]
pub struct PaketQuery {
    pub kode_klpd: Option<String>,
    pub tahun: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<String>,
}

fn paket_row(o: &Order) -> Value {
    json!({
        "kode_klpd": o.kode_klpd,
        "fiscal_year": o.fiscal_year,
        "order_id": o.order_id,
        "product_id": o.lines.first().map(|l| l.kd_produk.clone()),
        "kode_penyedia": o.kode_penyedia,
        "rekan_id": null,
        "kode_satker": o.kode_satker,
        "nama_satker": o.nama_satker,
        "rup_code": o.rup_code,
        "rup_name": o.rup_name,
        "rup_desc": format!("{} ({} produk)", o.rup_name, o.count_product),
        "mak": format!("5.1.02.01.01.0024.{}", &o.kode_satker),
        "funding_source": o.funding_source,
        "status": o.status,
        "shipment_status": o.shipment_status,
        "shipping_fee": o.shipping_fee,
        "total": o.total,
        "total_qty": o.total_qty.normalize().to_string(),
        "count_product": o.count_product,
        "is_swasta": false,
        "order_date": wib(o.order_date),
        "last_update_date": wib(o.updated_at),
    })
}

/// `GET /api/v1/ekatalog/paket-e-purchasing?kode_klpd=&tahun=`: packages by their last change.
pub async fn paket(s: &AppState, headers: &HeaderMap, q: PaketQuery) -> Response {
    let run = || -> Result<Response, Box<Response>> {
        admit(s, headers, "/api/v1/ekatalog/paket-e-purchasing")?;
        let klpd = q.kode_klpd.as_deref().filter(|k| !k.is_empty()).ok_or_else(|| bad("kode_klpd is required"))?;
        let year = year(q.tahun.as_deref())?;
        let limit = limit(q.limit.as_deref())?;
        let after = change_cursor(q.cursor.as_deref())?;
        let mock = s.mock();
        let (orders, has_more) = mock.order_page(klpd, year, after, limit);
        let cursor = orders.last().map_or(after, |o| o.change);
        Ok(page(orders.iter().map(|o| paket_row(o)).collect(), cursor.to_string(), has_more, limit))
    };
    run().unwrap_or_else(|r| *r)
}

#[derive(Deserialize)]
struct ByProdukQuery {
    tahun: Option<String>,
    kode_klpd: Option<String>,
    kd_kategori_1: Option<String>,
    status: Option<String>,
    kd_product: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

/// `GET /api/v1/ekatalog/e-purchasing-by-produk`: one row per order and
/// product, of one status (`COMPLETED` when unsaid). The cursor is
/// `CHANGE:LINE`, the last row given.
async fn by_produk(State(s): State<AppState>, headers: HeaderMap, Query(q): Query<ByProdukQuery>) -> Response {
    let run = || -> Result<Response, Box<Response>> {
        admit(&s, &headers, "/api/v1/ekatalog/e-purchasing-by-produk")?;
        let year = year(q.tahun.as_deref())?;
        let klpd = q.kode_klpd.as_deref().filter(|k| !k.is_empty());
        if klpd.is_none() && q.kd_kategori_1.as_deref().is_none_or(str::is_empty) {
            return Err(bad("kode_klpd or kd_kategori_1 is required"));
        }
        let status = q.status.as_deref().filter(|s| !s.is_empty()).unwrap_or("COMPLETED");
        let limit = limit(q.limit.as_deref())?;
        let (after, after_line) = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => (0, None),
            Some(c) => {
                let (a, b) = c.split_once(':').ok_or_else(|| bad(format!("invalid cursor {c:?}")))?;
                (
                    a.parse::<u64>().map_err(|_| bad(format!("invalid cursor {c:?}")))?,
                    Some(b.parse::<usize>().map_err(|_| bad(format!("invalid cursor {c:?}")))?),
                )
            }
        };
        let mock = s.mock();
        let buyers: Vec<&super::scenario::Buyer> = mock.scenario.buyers.iter().filter(|b| klpd.is_none_or(|k| k == b.kode_klpd)).collect();
        let mut rows = Vec::new();
        let mut last = q.cursor.clone().unwrap_or_default();
        let mut has_more = false;
        'buyers: for buyer in buyers {
            let start = if after_line.is_some() { after.saturating_sub(1) } else { after };
            for (change, o) in mock.orders_changed_after(&buyer.kode_klpd, year, start) {
                if o.status != status {
                    continue;
                }
                for (n, line) in o.lines.iter().enumerate() {
                    if change == after && after_line.is_some_and(|k| n <= k) {
                        continue;
                    }
                    if q.kd_product.as_deref().is_some_and(|p| p != line.kd_produk) || !in_category(&mock, line, q.kd_kategori_1.as_deref()) {
                        continue;
                    }
                    if rows.len() == limit {
                        has_more = true;
                        break 'buyers;
                    }
                    rows.push(by_produk_row(&mock, buyer, o, line));
                    last = format!("{change}:{n}");
                }
            }
        }
        Ok(page(rows, last, has_more, limit))
    };
    run().unwrap_or_else(|r| *r)
}

/// The listing an order line is for, when the catalogue has it.
fn listing_of<'a>(mock: &'a Mock, line: &super::state::OrderLine) -> Option<&'a super::state::Listing> {
    let n: usize = line.listing_id.strip_prefix('L')?.parse().ok()?;
    mock.listings.get(n.checked_sub(1)?)
}

fn in_category(mock: &Mock, line: &super::state::OrderLine, kd_kategori_1: Option<&str>) -> bool {
    match kd_kategori_1.filter(|k| !k.is_empty()) {
        None => true,
        Some(k) => listing_of(mock, line).and_then(|l| l.listing["kategori_id"].as_str()).is_some_and(|c| c.split('-').next() == Some(k)),
    }
}

fn by_produk_row(mock: &Mock, buyer: &super::scenario::Buyer, o: &Order, line: &super::state::OrderLine) -> Value {
    let category = listing_of(mock, line).and_then(|l| l.listing["kategori_id"].as_str()).map(str::to_owned);
    json!({
        "order_id": o.order_id,
        "product_id": line.kd_produk,
        "nama_produk": line.name,
        "kd_kategori_1": category.as_deref().and_then(|c| c.split('-').next()),
        "kd_kategori_2": null,
        "kd_kategori_3": category,
        "kategori_1": null,
        "kategori_2": null,
        "kategori_3": null,
        "kode_klpd": o.kode_klpd,
        "nama_klpd": buyer.name,
        "kode_satker": o.kode_satker,
        "nama_satker": o.nama_satker,
        "status": o.status,
        "nilai_transaksi": line.line_total,
    })
}

#[derive(Deserialize)]
struct PenyediaQuery {
    kode_penyedia: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

/// What the catalogue says of a listing's state, in its words.
fn status_text(state: ListingState, reasons: &[String]) -> String {
    let base = match state {
        ListingState::Submitted => "Menunggu verifikasi",
        ListingState::UnderCuration => "Dalam kurasi",
        ListingState::Live => "Tayang",
        ListingState::Rejected => "Ditolak",
        ListingState::RevisionRequested => "Perlu perbaikan",
        ListingState::TakenDown => "Diturunkan",
        ListingState::Withdrawn => "Dinonaktifkan penyedia",
    };
    if reasons.is_empty() { base.to_owned() } else { format!("{base}: {}", reasons.join("; ")) }
}

/// `GET /api/v1/ekatalog/list-produk-penyedia?kode_penyedia=`: a seller's
/// products in the order they were made (the cursor is the last one's number).
async fn produk_penyedia(State(s): State<AppState>, headers: HeaderMap, Query(q): Query<PenyediaQuery>) -> Response {
    let run = || -> Result<Response, Box<Response>> {
        admit(&s, &headers, "/api/v1/ekatalog/list-produk-penyedia")?;
        let seller = q.kode_penyedia.as_deref().filter(|k| !k.is_empty()).ok_or_else(|| bad("kode_penyedia is required"))?;
        let limit = limit(q.limit.as_deref())?;
        let after = change_cursor(q.cursor.as_deref())? as usize;
        let mock = s.mock();
        let mut rows = Vec::new();
        let mut last = after;
        let mut has_more = false;
        for (i, l) in mock.listings.iter().enumerate().skip(after).filter(|(_, l)| l.kode_penyedia == seller) {
            if rows.len() == limit {
                has_more = true;
                break;
            }
            rows.push(json!({
                "kd_produk": l.kd_produk,
                "nama_produk": l.listing["nama_produk"],
                "status_produk": status_text(l.state, &l.reasons),
                "status_produk_tayang": l.live,
            }));
            last = i + 1;
        }
        Ok(page(rows, last.to_string(), has_more, limit))
    };
    run().unwrap_or_else(|r| *r)
}

#[derive(Deserialize)]
struct DetailQuery {
    kode_penyedia: Option<String>,
}

/// `GET /api/v1/ekatalog/penyedia-detail?kode_penyedia=`: the seller as
/// INAPROC registered it (from the scenario's clients); 404 for another.
async fn penyedia_detail(State(s): State<AppState>, headers: HeaderMap, Query(q): Query<DetailQuery>) -> Response {
    let run = || -> Result<Response, Box<Response>> {
        admit(&s, &headers, "/api/v1/ekatalog/penyedia-detail")?;
        let seller = q.kode_penyedia.as_deref().filter(|k| !k.is_empty()).ok_or_else(|| bad("kode_penyedia is required"))?;
        let mock = s.mock();
        let Some(c) = mock.scenario.clients.iter().find(|c| c.kode_penyedia == seller) else {
            return Err(Box::new(ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no seller {seller}")).into_response()));
        };
        Ok(Json(json!({"data": {
            "kode_penyedia": c.kode_penyedia,
            "nama_penyedia": c.name,
            "nib": c.nib,
            "npwp_penyedia": c.npwp,
            "bentuk_usaha": "Koperasi",
            "status_aktif": true,
            "status_umkk": "Usaha Mikro",
            "kbli_id": "47111",
            "kbli_name": "Perdagangan Eceran Berbagai Macam Barang yang Utamanya Makanan, Minuman atau Tembakau di Minimarket/Supermarket/Hypermarket",
            "email": format!("{}@koperasi.example", c.client_id),
            "telepon": null,
        }}))
        .into_response())
    };
    run().unwrap_or_else(|r| *r)
}

/// The category tree the mock serves: the built-in mapping's categories, as
/// the catalogue had them, less the scenario's removals and with its renames.
/// (level-1 name, level-2 name, level-3 id, level-3 name)
fn category_tree(mock: &Mock) -> Vec<(String, String, String, String)> {
    let changes = mock.scenario.inaproc.as_ref();
    crate::tables::categories()
        .into_iter()
        .filter(|c| changes.is_none_or(|ch| !ch.removed_categories.contains(&c.2)))
        .map(|(l1, l2, id, name)| {
            let name = changes.and_then(|ch| ch.renamed_categories.get(&id).cloned()).unwrap_or(name);
            (l1, l2, id, name)
        })
        .collect()
}

/// A stable code for a level-1 or level-2 name.
fn code(prefix: &str, name: &str) -> String {
    use sha2::Digest;
    format!("{prefix}{}", &hex::encode(sha2::Sha256::digest(name.as_bytes()))[..8])
}

#[derive(Deserialize)]
struct CategoryQuery {
    kd_kategori_1: Option<String>,
    kd_kategori_2: Option<String>,
}

/// `GET /api/v1/ekatalog/list-kategori-produk`: level 1; with
/// `kd_kategori_1`, its level 2; with `kd_kategori_2`, its level 3.
async fn kategori(State(s): State<AppState>, headers: HeaderMap, Query(q): Query<CategoryQuery>) -> Response {
    let run = || -> Result<Response, Box<Response>> {
        admit(&s, &headers, "/api/v1/ekatalog/list-kategori-produk")?;
        let tree = category_tree(&s.mock());
        let mut rows: Vec<Value> = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for (n1, n2, id3, n3) in &tree {
            let (k1, k2) = (code("K1-", n1), code("K2-", &format!("{n1}/{n2}")));
            let row = match (q.kd_kategori_1.as_deref(), q.kd_kategori_2.as_deref()) {
                (_, Some(want)) if want == k2 => json!({"kd_kategori_3": id3, "nama_kategori_3": n3, "kd_kategori_2": k2}),
                (_, Some(_)) => continue,
                (Some(want), None) if want == k1 => json!({"kd_kategori_2": k2, "nama_kategori_2": n2, "kd_kategori_1": k1}),
                (Some(_), None) => continue,
                (None, None) => json!({"kd_kategori_1": k1, "nama_kategori_1": n1}),
            };
            if seen.insert(row.to_string()) {
                rows.push(row);
            }
        }
        let n = rows.len();
        Ok(page(rows, String::new(), false, n.max(1)))
    };
    run().unwrap_or_else(|r| *r)
}

/// The integrator's routes besides `paket-e-purchasing` (which shares its
/// path with the seller API's order feed, and is dispatched there).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GatewayRules {
    block_ip: bool,
}

/// `POST /admin/inaproc {"block_ip": true}`: INAPROC's gateway refuses the caller's address from now on.
async fn gateway(State(s): State<AppState>, Json(rules): Json<GatewayRules>) -> Response {
    s.ip_blocked.store(rules.block_ip, std::sync::atomic::Ordering::Relaxed);
    Json(json!({"block_ip": rules.block_ip})).into_response()
}

pub fn admin_routes() -> Router<AppState> {
    Router::new().route("/admin/inaproc", axum::routing::post(gateway))
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ekatalog/e-purchasing-by-produk", get(by_produk))
        .route("/ekatalog/list-produk-penyedia", get(produk_penyedia))
        .route("/ekatalog/penyedia-detail", get(penyedia_detail))
        .route("/ekatalog/list-kategori-produk", get(kategori))
}
