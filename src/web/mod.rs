//! The dashboard: server-rendered pages for the procurement liaison and the
//! cooperatives' staff, in Bahasa Indonesia (English by a switch), served by
//! the daemon on `[daemon] listen` (its health and metrics answer on a
//! listener of their own).
//!
//! - this file: the shared state, the routes, the page layout, the session
//!   extractor ([`Auth`]), the CSRF check and the error pages;
//! - `auth.rs`: login (argon2id, throttled), logout, password hashing;
//! - `overview.rs`, `listings.rs`, `orders.rs`, `uploads.rs` (upload,
//!   templates, downloads), `runs.rs` (run now, history): one page group each.
//!   A handler reads through `store::dashboard` (scoped to the user's
//!   cooperative in SQL) or calls the same job or outbox the command line
//!   uses, and renders a template from `templates/`.
//!
//! Everything a user, a spreadsheet or the catalogue supplied reaches a page
//! through askama's HTML escaping; nothing is marked safe.

pub mod auth;
pub mod format;
mod fresh;
pub mod i18n;
mod listings;
mod orders;
pub mod overview;
mod payments;
mod products;
mod runs;
pub mod rup;
mod uploads;

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use sha2::{Digest, Sha256};

use crate::config::{FulfilmentSettings, ImportSettings, WebSettings};
use crate::domain::calendar::WorkingCalendar;
use crate::mapping::MappingSource;
use crate::mapping::tax::TaxRules;
use crate::mapping::units::UnitTable;
use crate::store::users::User;
use crate::store::{Store, StoreError};
use i18n::{Lang, Texts};

pub const SESSION_COOKIE: &str = "kb_sesi";
pub const LANG_COOKIE: &str = "kb_bahasa";
/// Rows on one page of a list.
pub const PAGE_SIZE: i64 = 50;

/// What the pages need; cloned into every request (it is an `Arc`).
#[derive(Clone)]
pub struct WebState(Arc<Inner>);

pub struct Inner {
    pub store: Store,
    pub settings: WebSettings,
    pub calendar: Arc<WorkingCalendar>,
    pub tax: Arc<TaxRules>,
    pub fulfilment: FulfilmentSettings,
    pub units: Arc<UnitTable>,
    pub import: ImportSettings,
    pub mappings: MappingSource,
    /// The jobs the run-now page starts (the daemon's own), and the
    /// catalogue client the order answers go through.
    pub jobs: Option<Arc<crate::jobs::RealJobs>>,
    /// Orders are confirmed in the INAPROC portal: the pages say where and by when.
    pub orders_from_inaproc: bool,
    /// Where the world fetches the photos (`Settings::photo_base`).
    pub photo_base: String,
    /// What a photo may be (`[photos]`), and how many a product may have.
    pub photos: crate::photos::PhotoLimits,
    pub photos_per_product: i64,
    /// Password hashes computed at once (argon2id takes ~19 MiB each).
    pub hashing: tokio::sync::Semaphore,
    /// The overview's figures, reused for a few seconds.
    pub overview: overview::Cache,
    /// The purchase plan's figures and filters, reused for a minute.
    pub plan: rup::Cache,
}

impl std::ops::Deref for WebState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl WebState {
    pub fn new(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }

    fn idle_secs(&self) -> f64 {
        (self.settings.session_idle_minutes.clamp(1, 7 * 24 * 60) * 60) as f64
    }

    fn max_secs(&self) -> f64 {
        (self.settings.session_max_hours.clamp(1, 30 * 24) * 3600) as f64
    }

    /// A cookie as this deployment needs it: HttpOnly, SameSite=Lax, on every
    /// path, and Secure behind TLS.
    fn cookie(&self, name: &'static str, value: String) -> Cookie<'static> {
        Cookie::build((name, value)).http_only(true).same_site(SameSite::Lax).path("/").secure(self.settings.secure_cookies).build()
    }
}

/// The dashboard's routes, served by the daemon beside `/healthz`.
/// The longest a page waits for a database connection: with the database
/// away, it answers within two seconds that the data is unavailable.
pub const DATABASE_WAIT: std::time::Duration = std::time::Duration::from_millis(1500);

/// The most a form may send (every route but the upload): logins, answers
/// and the rest are far smaller.
pub const FORM_LIMIT: usize = 64 * 1024;

/// The dashboard's pages (only: health, readiness and metrics have their own
/// listener, and are 404 here).
pub fn router(state: WebState) -> Router {
    let upload_limit = usize::try_from(state.import.max_file_bytes.saturating_add(FORM_LIMIT as u64)).unwrap_or(usize::MAX);
    let photo_limit = state.photos.max_bytes.saturating_add(FORM_LIMIT);
    Router::new()
        .route("/", get(overview::page))
        .route("/masuk", get(auth::login_page).post(auth::login))
        .route("/keluar", post(auth::logout))
        .route("/bahasa/{lang}", get(set_language))
        .route("/produk", get(listings::page))
        .route("/produk/{id}/kirim-ulang", post(listings::resubmit))
        .route("/produk/baru", get(products::new_page).post(products::create))
        .route("/produk/{id}", get(products::show).post(products::edit))
        .route("/produk/{id}/tarik", post(products::withdraw))
        .route("/produk/{id}/aktifkan", post(products::reactivate))
        .route("/produk/{id}/kirim", post(products::send_now))
        .route("/produk/{id}/foto", post(products::add_photo).layer(DefaultBodyLimit::max(photo_limit)))
        .route("/produk/{id}/foto/{digest}/utama", post(products::photo_main))
        .route("/produk/{id}/foto/{digest}/hapus", post(products::photo_remove))
        .route("/foto/{file}", get(products::photo))
        // Only the upload reads more than a form (streamed, up to import.max_file_bytes).
        .route("/unggah", get(uploads::page).post(uploads::upload).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/unggah/templat/{file}", get(uploads::template))
        .route("/rencana", get(rup::plan))
        .route("/peluang", get(rup::opportunities))
        .route("/pesanan", get(orders::list))
        .route("/pesanan/{id}", get(orders::show))
        .route("/pesanan/{id}/terima", post(orders::accept))
        .route("/pesanan/{id}/tolak", post(orders::reject))
        .route("/pesanan/{id}/catat", post(orders::record))
        .route("/pembayaran", get(payments::page).post(payments::upload).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/pembayaran/{id}/tetapkan", post(payments::assign))
        .route("/unduhan", get(uploads::downloads))
        .route("/unduhan/pesanan/{code}/{file}", get(uploads::orders_file))
        .route("/unduhan/buku-kerja/{code}", get(uploads::workbook))
        .route("/unduhan/faktur/{code}", post(uploads::faktur))
        .route("/unduhan/faktur-nomor/{code}", post(uploads::faktur_numbers))
        .route("/jalankan", get(runs::page))
        .route("/jalankan/{job}", post(runs::start))
        .route("/riwayat", get(runs::history))
        .route("/aset/gaya.css", get(stylesheet))
        .fallback(fallback)
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(state)
}

/// Headers every answer carries: no framing, no sniffing, no inline script,
/// forms only to this site, and private pages kept out of shared caches.
async fn security_headers(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set = |h: &mut HeaderMap, name: header::HeaderName, value: &'static str| {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "same-origin");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::CACHE_CONTROL, "no-store");
    res
}

async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], include_str!("style.css")).into_response()
}

/// The language switch: remembered in a cookie for a year, then back to
/// the page the user was on.
async fn set_language(State(state): State<WebState>, Path(lang): Path<String>, Query(q): Query<NextQuery>, jar: CookieJar) -> Response {
    let Some(lang) = Lang::parse(&lang) else { return WebError::NotFound.into_response() };
    let mut cookie = state.cookie(LANG_COOKIE, lang.code().to_owned());
    cookie.set_max_age(cookie::time::Duration::days(365));
    (jar.add(cookie), Redirect::to(&local_path(q.lanjut.as_deref()))).into_response()
}

#[derive(Debug, serde::Deserialize)]
pub struct NextQuery {
    pub lanjut: Option<String>,
}

/// A path on this site to go back to, or `/`: never another host.
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') && p.len() <= 512 && !p.chars().any(char::is_control) => p.to_owned(),
        _ => "/".to_owned(),
    }
}

pub fn lang_of(jar: &CookieJar) -> Lang {
    jar.get(LANG_COOKIE).and_then(|c| Lang::parse(c.value())).unwrap_or_default()
}

/// A signed-in request: the user, their session's CSRF token and language.
pub struct Auth {
    pub user: User,
    pub csrf: String,
    pub lang: Lang,
    /// A year the working-day calendar lacks as of today: every page says so.
    pub calendar_gap: Option<crate::domain::calendar::CalendarGap>,
}

impl Auth {
    /// Refuses a form whose CSRF token is not this session's.
    pub fn check(&self, token: &str) -> Result<(), WebError> {
        if same_secret(token, &self.csrf) { Ok(()) } else { Err(WebError::Csrf) }
    }

    pub fn t(&self) -> &'static Texts {
        self.lang.texts()
    }

    /// The page layout for this user.
    pub fn layout(&self, nav: &'static str, title: impl Into<String>, here: &str) -> Layout {
        let t = self.t();
        Layout {
            user: Some(self.user.username.clone()),
            role: match &self.user.cooperative {
                Some((_, code)) => format!("{} {code}", t.cooperative),
                None => t.liaison.to_owned(),
            },
            liaison: self.user.is_liaison(),
            csrf: self.csrf.clone(),
            nav,
            calendar_gap: self.calendar_gap.as_ref().map(|g| match self.lang {
                Lang::Id => g.in_indonesian(),
                Lang::En => g.in_english(),
            }),
            ..Layout::anonymous(self.lang, title, here)
        }
    }
}

impl FromRequestParts<WebState> for Auth {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Response> {
        let jar = CookieJar::from_headers(&parts.headers);
        let lang = lang_of(&jar);
        let to_login = |over: bool| {
            let here = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let mut target = url::form_urlencoded::Serializer::new(String::new());
            if parts.method == axum::http::Method::GET && here != "/" {
                target.append_pair("lanjut", here);
            }
            if over {
                target.append_pair("habis", "1");
            }
            let q = target.finish();
            let location = if q.is_empty() { "/masuk".to_owned() } else { format!("/masuk?{q}") };
            let jar = if over { jar.clone().remove(Cookie::build(SESSION_COOKIE).path("/").build()) } else { jar.clone() };
            (jar, Redirect::to(&location)).into_response()
        };
        let Some(id) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned()) else { return Err(to_login(false)) };
        if id.len() > 128 {
            return Err(to_login(true));
        }
        match crate::store::users::session(&state.store, &id, state.idle_secs(), state.max_secs()).await {
            Ok(Some((user, csrf))) => Ok(Auth { user, csrf, lang, calendar_gap: state.calendar.gap(crate::domain::time::today()) }),
            Ok(None) => Err(to_login(true)),
            Err(e) => Err(WebError::Store(e).into_response()),
        }
    }
}

/// The layout every page shares (`base.html`).
pub struct Layout {
    pub t: &'static Texts,
    pub lang: &'static str,
    pub other_lang: &'static str,
    pub other_lang_name: &'static str,
    pub user: Option<String>,
    pub role: String,
    pub liaison: bool,
    pub csrf: String,
    /// Which menu item is this page's.
    pub nav: &'static str,
    pub title: String,
    /// This page's path and query, for the language switch to come back to.
    pub here: String,
    /// A message of success, and one of trouble, shown at the top.
    pub notice: Option<String>,
    pub alert: Option<String>,
    /// The working-day calendar lacks a year deadlines may reach.
    pub calendar_gap: Option<String>,
}

impl Layout {
    /// The layout of a page shown before login.
    pub fn anonymous(lang: Lang, title: impl Into<String>, here: &str) -> Self {
        Layout {
            t: lang.texts(),
            lang: lang.code(),
            other_lang: if lang == Lang::Id { "en" } else { "id" },
            other_lang_name: if lang == Lang::Id { "English" } else { "Bahasa Indonesia" },
            user: None,
            role: String::new(),
            liaison: false,
            csrf: String::new(),
            nav: "",
            title: title.into(),
            here: here.to_owned(),
            notice: None,
            alert: None,
            calendar_gap: None,
        }
    }

    /// The language switch's link, back to this page.
    pub fn switch_href(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("lanjut", &self.here);
        format!("/bahasa/{}?{}", self.other_lang, q.finish())
    }
}

/// Renders a template to an HTML answer.
pub fn render(t: &impl Template) -> Result<Response, WebError> {
    let html = t.render().map_err(|e| WebError::Internal(format!("rendering a page: {e}")))?;
    Ok(Html(html).into_response())
}

/// Why a page could not be answered. Every 404 looks the same, whether the
/// thing does not exist or belongs to another cooperative.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("the form's CSRF token is missing or wrong")]
    Csrf,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    id_title: &'a str,
    en_title: &'a str,
    id_text: &'a str,
    en_text: &'a str,
    detail: Option<String>,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, id, en, detail) = match &self {
            WebError::NotFound => (StatusCode::NOT_FOUND, &i18n::ID, &i18n::EN, None),
            WebError::BadRequest(why) => (StatusCode::BAD_REQUEST, &i18n::ID, &i18n::EN, Some(why.clone())),
            WebError::Csrf => (StatusCode::FORBIDDEN, &i18n::ID, &i18n::EN, None),
            WebError::Store(e) if e.is_unavailable() => {
                tracing::warn!(error = %e, "a dashboard page could not reach the database");
                (StatusCode::SERVICE_UNAVAILABLE, &i18n::ID, &i18n::EN, None)
            }
            WebError::Store(e) => {
                tracing::error!(error = %e, "a dashboard page failed on the database");
                (StatusCode::INTERNAL_SERVER_ERROR, &i18n::ID, &i18n::EN, None)
            }
            WebError::Internal(e) => {
                tracing::error!(error = %e, "a dashboard page failed");
                (StatusCode::INTERNAL_SERVER_ERROR, &i18n::ID, &i18n::EN, None)
            }
        };
        let (id_title, en_title, id_text, en_text) = match &self {
            WebError::NotFound => (id.not_found, en.not_found, id.not_found_text, en.not_found_text),
            WebError::BadRequest(_) => (id.bad_request, en.bad_request, "", ""),
            WebError::Csrf => (id.bad_request, en.bad_request, id.csrf_failed, en.csrf_failed),
            WebError::Store(e) if e.is_unavailable() => (id.unavailable, en.unavailable, id.unavailable_text, en.unavailable_text),
            _ => (id.error, en.error, id.server_error, en.server_error),
        };
        let page = ErrorPage { status: status.as_u16(), id_title, en_title, id_text, en_text, detail };
        let mut response = match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, id_title.to_owned()).into_response(),
        };
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
        }
        response
    }
}

async fn fallback() -> Response {
    WebError::NotFound.into_response()
}

/// Links to the previous and next page of a list, keeping its filters.
pub struct Pager {
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// `base` is the list's path; `params` its filters (empty ones left out).
    pub fn new(base: &str, params: &[(&str, Option<String>)], page: i64, more: bool) -> Self {
        Pager { prev: (page > 1).then(|| Self::href(base, params, page - 1)), next: more.then(|| Self::href(base, params, page + 1)) }
    }

    /// The link to one page of the list.
    pub fn href(base: &str, params: &[(&str, Option<String>)], page: i64) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                q.append_pair(k, v);
            }
        }
        if page > 1 {
            q.append_pair("hal", &page.to_string());
        }
        let q = q.finish();
        if q.is_empty() { base.to_owned() } else { format!("{base}?{q}") }
    }
}

/// A page number from a query (1 when absent or nonsense), and its offset.
pub fn page_offset(page: Option<i64>) -> (i64, i64) {
    let page = page.unwrap_or(1).clamp(1, 100_000);
    (page, (page - 1) * PAGE_SIZE)
}

/// One option of a filter or a form's select.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The cooperatives `scope` may see, as options (the one `named` selected),
/// and the id of the one `named`: a name outside the scope is not found.
pub async fn cooperative_choices(state: &WebState, scope: Option<i64>, named: Option<&str>) -> Result<(Vec<Choice>, Option<i64>), WebError> {
    let all = crate::store::dashboard::cooperative_choices(&state.store, scope).await?;
    let chosen = match named {
        Some(code) => Some(all.iter().find(|c| c.1 == code).map(|c| c.0).ok_or(WebError::NotFound)?),
        None => None,
    };
    let options =
        all.into_iter().map(|(_, code, name)| Choice { label: format!("{name} ({code})"), selected: named == Some(code.as_str()), value: code }).collect();
    Ok((options, chosen))
}

/// Whether two secrets are equal, compared as digests: equal length, and no
/// early exit on the secret's bytes.
pub fn same_secret(a: &str, b: &str) -> bool {
    Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}

/// An empty string from a form or query is "not given".
pub fn given(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}
