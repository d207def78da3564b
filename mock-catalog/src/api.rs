//! The mock catalogue's HTTP API (docs/catalogue-api.md), on axum. Handlers
//! lock the state briefly and never across an await.

use std::time::{Duration as StdDuration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::app::{ApiError, AppState};
use super::faults::{Fault, FaultKind};
use super::state::{MAX_AMOUNT, Mock, Stored};

const BODY_LIMIT: usize = 1024 * 1024;
const MAX_PAGE: usize = 1000;
/// A stored listing is at most this big (so a page of 1,000 is at most 16 MiB).
const MAX_LISTING_BYTES: usize = 16 * 1024;
const MAX_LISTING_KEYS: usize = 40;

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/listings", post(create_listing).get(list_listings))
        .route("/listings/{id}", get(get_listing).put(update_listing))
        .route("/listings/{id}/withdraw", post(withdraw_listing))
        .route("/catalogue", post(upload_catalogue))
        .route("/catalogue/{id}", get(get_upload))
        .route("/ekatalog/paket-e-purchasing", get(list_orders))
        .route("/ekatalog/paket-e-purchasing/{id}", get(get_order))
        .route("/ekatalog/paket-e-purchasing/{id}/response", post(respond_order))
        .layer(middleware::from_fn_with_state(state.clone(), rate_limit))
        .merge(super::inaproc::routes())
        .merge(super::rup::routes());
    Router::new()
        .route("/oauth/token", post(token))
        .nest("/api/v1", api)
        .route("/admin/clock", get(clock))
        .route("/admin/clock/advance", post(advance))
        .route("/admin/rules", post(set_rules))
        .route("/admin/state", get(ground_truth))
        .route("/admin/listings/{id}/state", post(set_state_unreported))
        .route("/admin/faults", post(add_fault).delete(clear_faults))
        .merge(super::inaproc::admin_routes())
        .merge(super::rup::admin_routes())
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route") })
        .layer(middleware::from_fn_with_state(state.clone(), inject_faults))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(json_errors))
        .with_state(state)
}

/// Every error answer carries the documented JSON body, also those that axum
/// makes itself (405, a path or query string that cannot be decoded, a body
/// over the limit): their text becomes the message.
async fn json_errors(request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response.headers().get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|c| c.starts_with("application/json"));
    if status.as_u16() < 400 || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 16 * 1024).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_owned();
    let code = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        s if s.is_server_error() => "server_error",
        _ => "bad_request",
    };
    let message = if !text.is_empty() {
        text
    } else if status == StatusCode::METHOD_NOT_ALLOWED {
        format!("{method} is not allowed on {path}; the Allow header lists the methods it takes")
    } else {
        status.canonical_reason().unwrap_or("error").to_owned()
    };
    let mut answer = ApiError::new(status, code, message).into_response();
    for (name, value) in &parts.headers {
        if name != "content-type" && name != "content-length" {
            answer.headers_mut().insert(name, value.clone());
        }
    }
    answer
}

// ---- auth ----

#[derive(Deserialize)]
struct TokenRequest {
    grant_type: String,
    client_id: String,
    client_secret: String,
}

async fn token(State(s): State<AppState>, form: Result<Form<TokenRequest>, axum::extract::rejection::FormRejection>) -> Response {
    let Ok(Form(req)) = form else {
        return ApiError::new(StatusCode::BAD_REQUEST, "bad_request", "send grant_type, client_id and client_secret form-encoded").into_response();
    };
    if req.grant_type != "client_credentials" {
        return ApiError::new(StatusCode::BAD_REQUEST, "bad_request", "grant_type must be client_credentials").into_response();
    }
    match s.mock().issue_token(&req.client_id, &req.client_secret) {
        Some((token, ttl)) => Json(json!({"access_token": token, "token_type": "Bearer", "expires_in": ttl})).into_response(),
        None => ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "unknown client or wrong secret").into_response(),
    }
}

fn seller(s: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
    let value = headers.get("authorization").ok_or_else(|| unauthorized("missing Authorization header: send `Bearer TOKEN`"))?;
    let value = value.to_str().map_err(|_| unauthorized("the Authorization header holds characters other than visible ASCII"))?;
    let token = value.strip_prefix("Bearer ").ok_or_else(|| unauthorized("the Authorization header must be `Bearer TOKEN`"))?;
    s.mock().seller_of(token).ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "invalid or expired token"))
}

// ---- idempotent writes ----

fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let bad = |m: &str| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", m);
    let key = headers.get("idempotency-key").ok_or_else(|| bad("the Idempotency-Key header is required"))?;
    let key = key.to_str().map_err(|_| bad("Idempotency-Key must be visible ASCII characters"))?;
    if key.is_empty() || key.len() > 200 {
        return Err(bad("Idempotency-Key must be 1-200 characters"));
    }
    Ok(key.to_owned())
}

/// What makes two bodies the same request: the parsed JSON value (so
/// formatting, key order and a trailing newline do not count), or for other
/// bodies the bytes without surrounding whitespace.
fn body_fingerprint(body: &Bytes) -> [u8; 32] {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => Sha256::digest(serde_json::to_vec(&v).unwrap_or_default()).into(),
        Err(_) => Sha256::digest(body.trim_ascii()).into(),
    }
}

/// Runs an idempotent write once per (client, method, path, key): a repeat
/// with the same body gets the stored answer, one with another body gets 409.
/// The same key on another route or resource is another request. `parse`
/// reads the body before the state is locked, so a slow document never holds
/// up other requests; `write` applies it under the lock.
fn idempotent<T>(
    s: &AppState,
    request: (&Method, &Uri, &HeaderMap),
    body: &Bytes,
    parse: impl FnOnce(&Bytes) -> Result<T, ApiError>,
    write: impl FnOnce(&mut Mock, &str, T) -> Result<(StatusCode, Value), ApiError>,
) -> Response {
    let (method, uri, headers) = request;
    let run = || -> Result<Response, ApiError> {
        let seller = seller(s, headers)?;
        let key = format!("{method} {} {}", uri.path(), idempotency_key(headers)?);
        let hash = body_fingerprint(body);
        // The stored answer to this key, or a conflict when its body differs.
        let replay = |mock: &Mock| -> Option<Result<Response, ApiError>> {
            let stored = mock.remembered(&seller, &key)?;
            Some(if stored.body_hash != hash {
                Err(ApiError::new(StatusCode::CONFLICT, "idempotency_conflict", "this Idempotency-Key was used with a different body"))
            } else {
                Ok((StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK), Json(stored.body.clone())).into_response())
            })
        };
        if let Some(answer) = replay(&s.mock()) {
            return answer;
        }
        let parsed = parse(body)?;
        let mut mock = s.mock();
        // Checked again under the lock: the same request may have raced this one.
        if let Some(answer) = replay(&mock) {
            return answer;
        }
        let (status, value) = write(&mut mock, &seller, parsed)?;
        mock.remember(&seller, &key, Stored { body_hash: hash, status: status.as_u16(), body: value.clone() });
        Ok((status, Json(value)).into_response())
    };
    run().unwrap_or_else(IntoResponse::into_response)
}

fn parse_json(body: &Bytes) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", format!("malformed JSON: {e}")))
}

/// Field-level checks of a katalog-v6 listing.
fn validate_listing(v: &Value) -> Result<(), ApiError> {
    let mut fields = Vec::new();
    let mut bad = |field: &str, message: &str| fields.push(json!({"field": field, "message": message}));
    if !v.is_object() {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_listing", "the listing must be a JSON object"));
    }
    let text = |k: &str| v[k].as_str().map(str::trim).filter(|s| !s.is_empty());
    for (k, max) in [("sku", 105), ("kode_anggota", 40), ("kategori_id", 64), ("kbki", 20), ("satuan", 40), ("pdn", 10)] {
        match text(k) {
            None => bad(k, "is required"),
            Some(t) if t.chars().count() > max => bad(k, &format!("must be at most {max} characters")),
            Some(_) => {}
        }
    }
    // The catalogue's own bounds on everything else, so no listing is larger than a few kilobytes.
    if let Some(map) = v.as_object() {
        if map.len() > MAX_LISTING_KEYS {
            bad("(listing)", &format!("has {} fields; at most {MAX_LISTING_KEYS}", map.len()));
        }
        for (k, value) in map {
            let long = match value {
                Value::String(t) => t.chars().count() > 2000,
                Value::Array(items) => items.len() > 20 || items.iter().any(|i| i.as_str().is_none_or(|t| t.len() > 2000)),
                Value::Object(_) => true,
                _ => false,
            };
            if long && !matches!(k.as_str(), "deskripsi" | "foto") {
                bad(k, "is too long, or not a plain value");
            }
        }
    }
    match text("nama_produk").map(|s| s.chars().count()) {
        Some(5..=250) => {}
        _ => bad("nama_produk", "must be 5-250 characters"),
    }
    if v["deskripsi"].as_str().is_some_and(|d| d.chars().count() > 2000) {
        bad("deskripsi", "must be at most 2000 characters");
    }
    match (v["harga"].as_i64(), v["harga_termasuk_pajak"].as_i64()) {
        (Some(p), Some(t)) if p > 0 && t >= p && t <= MAX_AMOUNT => {}
        (Some(p), Some(t)) if p > MAX_AMOUNT || t > MAX_AMOUNT => bad("harga", &format!("is above the catalogue's limit of Rp {MAX_AMOUNT}")),
        _ => bad("harga", "harga and harga_termasuk_pajak must be whole rupiah, harga above 0, incl. tax at least harga"),
    }
    if !matches!(v["ppn_persen"].as_i64(), Some(0 | 11 | 12)) {
        bad("ppn_persen", "must be 0 or 12");
    }
    if v["foto"].as_array().is_some_and(|a| a.len() > 5 || a.iter().any(|f| f.as_str().is_none_or(|u| u.len() > 500))) {
        bad("foto", "at most 5 photo addresses of at most 500 characters");
    }
    if serde_json::to_vec(v).map_or(true, |b| b.len() > MAX_LISTING_BYTES) {
        bad("(listing)", &format!("is larger than {MAX_LISTING_BYTES} bytes"));
    }
    if fields.is_empty() {
        Ok(())
    } else {
        let mut e = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_listing", format!("listing has {} invalid fields", fields.len()));
        e.fields = fields;
        Err(e)
    }
}

fn listing_json(l: &super::state::Listing) -> Value {
    serde_json::to_value(l).expect("listing serialises")
}

/// A listing body: parsed and checked before the state is locked.
fn listing_body(body: &Bytes) -> Result<Value, ApiError> {
    let v = parse_json(body)?;
    validate_listing(&v)?;
    Ok(v)
}

/// Photos a listing may carry that are fetched, and the bytes read of each.
const PHOTOS_FETCHED: usize = 5;
const PHOTO_BYTES: usize = 25 << 20;

/// With `rules.fetch_photos`, fetches each photo address of a listing sent,
/// as the curators' browsers would, before the listing is taken: the review
/// reads what each answered.
async fn fetch_photos(s: &AppState, body: &Bytes) {
    if !s.mock().scenario.rules.fetch_photos {
        return;
    }
    let Ok(listing) = listing_body(body) else { return };
    let urls: Vec<String> = listing["foto"].as_array().into_iter().flatten().filter_map(Value::as_str).take(PHOTOS_FETCHED).map(str::to_owned).collect();
    for url in urls {
        let seen = fetch_image(&url).await;
        s.mock().photo_checks.insert(url, seen);
    }
}

/// Whether `url` answers with an image: a 2xx, an `image/*` type, and the
/// first bytes of a JPEG, PNG or WebP, read within 10 s and 25 MB.
async fn fetch_image(url: &str) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::limited(3))
        .build()
        .map_err(|e| e.to_string())?;
    let mut response = client.get(url).send().await.map_err(|e| format!("tidak terjangkau ({})", e.without_url()))?;
    if !response.status().is_success() {
        return Err(format!("HTTP {}", response.status().as_u16()));
    }
    let kind = response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    if !kind.starts_with("image/") {
        return Err(format!("bukan gambar ({kind})"));
    }
    let mut head = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        head.extend_from_slice(&chunk);
        if head.len() > PHOTO_BYTES {
            return Err("lebih dari 25 MB".into());
        }
    }
    let image = head.starts_with(&[0xFF, 0xD8, 0xFF]) || head.starts_with(b"\x89PNG") || (head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WEBP"));
    if image { Ok(()) } else { Err("isinya bukan JPEG, PNG atau WebP".into()) }
}

async fn create_listing(State(s): State<AppState>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    fetch_photos(&s, &body).await;
    idempotent(&s, (&method, &uri, &headers), &body, listing_body, |mock, seller, v| {
        // One listing per item and seller, whichever path made it.
        if let Some(existing) = mock.listed_item(seller, &v) {
            let mut e = ApiError::new(
                StatusCode::CONFLICT,
                "already_listed",
                format!("item {} is already listed as {}: update that listing", super::state::item_id(&v, &existing.sku), existing.listing_id),
            );
            e.listing_id = Some(existing.listing_id.clone());
            return Err(e);
        }
        Ok((StatusCode::CREATED, listing_json(&mock.create_listing(seller, v))))
    })
}

async fn update_listing(State(s): State<AppState>, Path(id): Path<String>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    fetch_photos(&s, &body).await;
    idempotent(&s, (&method, &uri, &headers), &body, listing_body, |mock, seller, v| {
        let index = mock.listing_index(seller, &id).ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no listing {id}")))?;
        Ok((StatusCode::OK, listing_json(&mock.update_listing(index, v))))
    })
}

async fn withdraw_listing(State(s): State<AppState>, Path(id): Path<String>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    idempotent(
        &s,
        (&method, &uri, &headers),
        &body,
        |_| Ok(()),
        |mock, seller, ()| {
            let index = mock.listing_index(seller, &id).ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no listing {id}")))?;
            Ok((StatusCode::OK, listing_json(&mock.withdraw_listing(index))))
        },
    )
}

async fn get_listing(State(s): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let seller = seller(&s, &headers)?;
    let mock = s.mock();
    let index = mock.listing_index(&seller, &id).ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no listing {id}")))?;
    Ok(Json(listing_json(&mock.listings[index])))
}

#[derive(Deserialize)]
struct PageQuery {
    cursor: Option<String>,
    limit: Option<String>,
    kode_klpd: Option<String>,
    tahun: Option<String>,
}

fn page_args(q: &PageQuery) -> Result<(u64, usize), ApiError> {
    let after = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => 0,
        Some(c) => c.parse().map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", format!("invalid cursor {c:?}")))?,
    };
    let limit = match q.limit.as_deref() {
        None => 100,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => return Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_request", "limit must be 1-1000")),
        },
    };
    Ok((after, limit))
}

async fn list_listings(State(s): State<AppState>, headers: HeaderMap, Query(q): Query<PageQuery>) -> Result<Json<Value>, ApiError> {
    let seller = seller(&s, &headers)?;
    let (after, limit) = page_args(&q)?;
    let mock = s.mock();
    let (items, has_more) = mock.listing_changes(&seller, after, limit);
    let cursor = items.last().map_or(after, |l| l.change);
    Ok(Json(json!({"data": items, "meta": {"cursor": cursor.to_string(), "has_more": has_more, "limit": limit}})))
}

// ---- catalogue upload (UBL) ----

async fn upload_catalogue(State(s): State<AppState>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let read = |body: &Bytes| super::ubl_catalogue::read(body).map_err(|m| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", m));
    idempotent(&s, (&method, &uri, &headers), &body, read, |mock, seller, (document_id, lines)| {
        let upload = mock.receive_upload(seller, document_id, lines);
        Ok((StatusCode::ACCEPTED, json!({"upload_id": upload.upload_id, "state": upload.state, "lines": upload.lines.len()})))
    })
}

async fn get_upload(State(s): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    let seller = seller(&s, &headers)?;
    let mock = s.mock();
    let upload = mock.upload(&seller, &id).ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no upload {id}")))?;
    if headers.get("accept").and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("xml")) {
        let buyer = &mock.scenario.buyers[0];
        let client = mock.scenario.clients.iter().find(|c| c.kode_penyedia == seller);
        let xml = super::ubl_catalogue::response(
            &upload.upload_id,
            &upload.document_id,
            mock.now,
            &upload.lines,
            (buyer.gln.as_deref().unwrap_or("8990000000013"), &buyer.name),
            (client.and_then(|c| c.gln.as_deref()).unwrap_or("8990000001003"), client.and_then(|c| c.name.as_deref()).unwrap_or(&seller)),
        );
        return Ok(([("content-type", "application/xml")], xml).into_response());
    }
    Ok(Json(serde_json::to_value(upload).expect("upload serialises")).into_response())
}

// ---- orders ----

async fn list_orders(State(s): State<AppState>, headers: HeaderMap, Query(q): Query<PageQuery>) -> Result<Response, ApiError> {
    if super::inaproc::is_integrator(&s, &headers) {
        let q = super::inaproc::PaketQuery { kode_klpd: q.kode_klpd, tahun: q.tahun, cursor: q.cursor, limit: q.limit };
        return Ok(super::inaproc::paket(&s, &headers, q).await);
    }
    seller(&s, &headers)?;
    let klpd = q.kode_klpd.clone().filter(|k| !k.is_empty()).ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", "kode_klpd is required"))?;
    let year: i32 = q
        .tahun
        .as_deref()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", "tahun (fiscal year) is required"))?;
    let (after, limit) = page_args(&q)?;
    let mock = s.mock();
    let (orders, has_more) = mock.order_page(&klpd, year, after, limit);
    let cursor = orders.last().map_or(after, |o| o.change);
    let data: Vec<Value> = orders
        .iter()
        .map(|o| {
            let mut v = serde_json::to_value(o).expect("order serialises");
            v.as_object_mut().expect("object").remove("lines");
            v
        })
        .collect();
    Ok(Json(json!({"data": data, "meta": {"cursor": cursor.to_string(), "has_more": has_more, "limit": limit}})).into_response())
}

async fn get_order(State(s): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    seller(&s, &headers)?;
    let mock = s.mock();
    let index = mock.order_index(&id).ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no order {id}")))?;
    let wants_xml = headers.get("accept").and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("xml"));
    if wants_xml {
        let xml = super::ubl_order::write(&mock.orders[index], &mock.scenario, &s.units);
        return Ok(([("content-type", "application/xml")], xml).into_response());
    }
    Ok(Json(serde_json::to_value(&mock.orders[index]).expect("order serialises")).into_response())
}

async fn respond_order(State(s): State<AppState>, Path(id): Path<String>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let is_xml = headers.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|c| c.contains("xml"));
    let decide = |body: &Bytes| -> Result<bool, ApiError> {
        if is_xml {
            // A UBL OrderResponse (PEPPOL BIS Ordering 3): AP accepts, RE rejects.
            let d = super::ubl_order::read_response(body).map_err(|m| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", m))?;
            if d.order_id != id {
                return Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_request", format!("the OrderResponse refers to order {}, not {id}", d.order_id)));
            }
            Ok(d.accept)
        } else {
            match parse_json(body)?["decision"].as_str() {
                Some("accept") => Ok(true),
                Some("reject") => Ok(false),
                _ => Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_request", "decision must be accept or reject")),
            }
        }
    };
    idempotent(&s, (&method, &uri, &headers), &body, decide, |mock, seller, accept| {
        let index = mock.order_index(&id).filter(|&i| mock.orders[i].kode_penyedia == seller);
        let index = index.ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no order {id} for {seller}")))?;
        let order = mock.respond(index, accept).map_err(|m| ApiError::new(StatusCode::CONFLICT, "invalid_state", m))?;
        Ok((StatusCode::OK, serde_json::to_value(order).expect("order serialises")))
    })
}

// ---- admin ----

async fn clock(State(s): State<AppState>) -> Json<Value> {
    Json(json!({"now": s.mock().now}))
}

#[derive(Deserialize)]
struct Advance {
    hours: i64,
}

async fn advance(State(s): State<AppState>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let a: Advance = serde_json::from_slice(&body).map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", "send {\"hours\": N}"))?;
    if !(1..=24 * 366).contains(&a.hours) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_request", "hours must be 1-8784"));
    }
    let mut mock = s.mock();
    mock.advance(chrono::Duration::hours(a.hours));
    Ok(Json(json!({"now": mock.now})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rules {
    fetch_photos: Option<bool>,
}

/// Changes the curators' rules while the story runs: `{"fetch_photos": true}`.
async fn set_rules(State(s): State<AppState>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let r: Rules = serde_json::from_slice(&body).map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", "send {\"fetch_photos\": true|false}"))?;
    let mut mock = s.mock();
    if let Some(on) = r.fetch_photos {
        mock.scenario.rules.fetch_photos = on;
    }
    Ok(Json(json!({"fetch_photos": mock.scenario.rules.fetch_photos})))
}

#[derive(Debug, Deserialize)]
struct StateQuery {
    kind: Option<String>,
    offset: Option<usize>,
    limit: Option<usize>,
}

/// The most items of one kind on one page of `/admin/state?kind=...`.
const STATE_PAGE_MAX: usize = 10_000;

/// The ground truth: everything at once (for small stories), or one kind a
/// page at a time (`?kind=orders&offset=N&limit=M`), written straight from the
/// state without an intermediate document, so a large story costs the page only.
async fn ground_truth(State(s): State<AppState>, Query(q): Query<StateQuery>) -> Result<Response, ApiError> {
    let mock = s.mock();
    let Some(kind) = q.kind else {
        let inaproc = s.inaproc.lock().unwrap_or_else(|p| p.into_inner()).clone();
        return Ok(
            Json(json!({"now": mock.now, "listings": mock.listings, "orders": mock.orders, "uploads": mock.uploads, "inaproc": inaproc})).into_response()
        );
    };
    let offset = q.offset.unwrap_or(0);
    let limit = q.limit.unwrap_or(1000).clamp(1, STATE_PAGE_MAX);
    fn page<T: Serialize>(items: &[T], offset: usize, limit: usize, now: chrono::DateTime<chrono::Utc>) -> Vec<u8> {
        let slice = items.get(offset.min(items.len())..).unwrap_or_default();
        let slice = &slice[..slice.len().min(limit)];
        let next = (offset + slice.len() < items.len()).then_some(offset + slice.len());
        #[derive(Serialize)]
        struct Page<'a, T> {
            now: chrono::DateTime<chrono::Utc>,
            total: usize,
            next_offset: Option<usize>,
            items: &'a [T],
        }
        serde_json::to_vec(&Page { now, total: items.len(), next_offset: next, items: slice }).expect("state serialises")
    }
    let body = match kind.as_str() {
        "listings" => page(&mock.listings, offset, limit, mock.now),
        "orders" => page(&mock.orders, offset, limit, mock.now),
        "uploads" => page(&mock.uploads, offset, limit, mock.now),
        other => return Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_request", format!("kind {other:?} must be listings, orders or uploads"))),
    };
    Ok(([("content-type", "application/json")], body).into_response())
}

#[derive(Deserialize)]
struct SetState {
    state: super::state::ListingState,
}

/// Changes a listing's state as a hand edit on the portal would: no entry in
/// the change feed (what the drift check is for).
async fn set_state_unreported(State(s): State<AppState>, Path(id): Path<String>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let SetState { state } =
        serde_json::from_slice(&body).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", format!("send {{\"state\": \"live\"}}: {e}")))?;
    let listing = s.mock().set_state_unreported(&id, state).ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no listing {id}")))?;
    Ok(Json(listing_json(&listing)))
}

async fn add_fault(State(s): State<AppState>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let fault: Fault = serde_json::from_slice(&body).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", format!("invalid fault: {e}")))?;
    if matches!(fault.kind, FaultKind::ExpireTokens) {
        s.mock().expire_tokens();
        return Ok(Json(json!({"applied": "expire_tokens"})));
    }
    let mut faults = s.faults.lock().unwrap_or_else(|p| p.into_inner());
    faults.add(fault).map_err(|m| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", m))?;
    Ok(Json(json!({"faults": faults.len()})))
}

async fn clear_faults(State(s): State<AppState>) -> Json<Value> {
    s.faults.lock().unwrap_or_else(|p| p.into_inner()).clear();
    Json(json!({"faults": 0}))
}

// ---- middleware ----

/// Rewrites a `{data, meta}` page: puts the last item of the route's previous
/// page first (as a catalogue whose pages shift under concurrent changes does)
/// and/or reverses the page.
async fn reshape_page(s: &AppState, path: &str, response: Response, duplicate: bool, reorder: bool) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, BODY_LIMIT * 16).await.unwrap_or_default();
    let Ok(mut page) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    if let Some(items) = page.get_mut("data").and_then(Value::as_array_mut) {
        let mut last = s.last_items.lock().unwrap_or_else(|p| p.into_inner());
        let previous = match items.last() {
            Some(item) => last.insert(path.to_owned(), item.clone()),
            None => last.remove(path),
        };
        if let (true, Some(item)) = (duplicate, previous) {
            items.insert(0, item);
        }
        if reorder {
            items.reverse();
        }
    }
    let mut r = Response::from_parts(parts, Body::from(serde_json::to_vec(&page).expect("JSON")));
    r.headers_mut().remove("content-length");
    r
}

async fn rate_limit(State(s): State<AppState>, request: Request, next: Next) -> Response {
    // The data integrator keeps to its own quota (`inaproc.rs`).
    if super::inaproc::is_integrator(&s, request.headers()) {
        return next.run(request).await;
    }
    let limit = s.mock().scenario.rate_limit_per_minute;
    // The full path: inside the nested /api/v1 router the request's own URI has lost its prefix.
    let path = request.extensions().get::<axum::extract::OriginalUri>().map_or_else(|| request.uri().path().to_owned(), |u| u.path().to_owned());
    let forced = s.faults.lock().unwrap_or_else(|p| p.into_inner()).take_rate_limit(&path);
    let (count, reset) = {
        let mut rate = s.rate.lock().unwrap_or_else(|p| p.into_inner());
        if rate.0.elapsed() >= StdDuration::from_secs(60) {
            *rate = (Instant::now(), 0);
        }
        rate.1 = rate.1.saturating_add(1);
        (rate.1, 60u64.saturating_sub(rate.0.elapsed().as_secs()).max(1))
    };
    let remaining = limit.saturating_sub(count);
    let over = forced || count > limit;
    let mut response = if over {
        let mut r = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many requests").into_response();
        r.headers_mut().insert("retry-after", HeaderValue::from(if forced { 1 } else { reset }));
        r
    } else {
        next.run(request).await
    };
    let h = response.headers_mut();
    h.insert("x-ratelimit-limit", HeaderValue::from(limit));
    h.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
    h.insert("x-ratelimit-reset", HeaderValue::from(reset));
    response
}

async fn inject_faults(State(s): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if path.starts_with("/admin") {
        return next.run(request).await;
    }
    let action = s.faults.lock().unwrap_or_else(|p| p.into_inner()).take(&path);
    if let Some(ms) = action.latency_ms {
        tokio::time::sleep(StdDuration::from_millis(ms)).await;
    }
    if let Some(status) = action.status {
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return ApiError::new(code, "unavailable", "injected failure").into_response();
    }
    let mut response = next.run(request).await;
    if action.duplicate || action.reorder {
        response = reshape_page(&s, &path, response, action.duplicate, action.reorder).await;
    }
    if action.malformed || action.drop {
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, BODY_LIMIT * 16).await.unwrap_or_default();
        let half = bytes.slice(..bytes.len() / 2);
        if action.drop {
            // Send half the body, then fail the stream: the connection is cut mid-body.
            let stream = futures_util::stream::iter(vec![
                Ok::<Bytes, std::io::Error>(half),
                Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "injected drop")),
            ]);
            let mut r = Response::from_parts(parts, Body::from_stream(stream));
            r.headers_mut().remove("content-length");
            return r;
        }
        let mut r = Response::from_parts(parts, Body::from(half));
        r.headers_mut().remove("content-length");
        return r;
    }
    response
}
