//! The INAPROC data API client: LKPP's read-only API, called with the token
//! of a "Data Integrator" (a government body, not a seller), under a quota
//! shared by every job and every daemon on the same database.
//!
//! - a request is sent only once the [`Gate`] (`store::quota`) has counted it
//!   within the minute's and the hour's quota, so two daemons together stay under it;
//! - a 429 is waited out (`Retry-After`), and 429s in a row pause every request
//!   of the client along the ladder of `[inaproc] backoff_seconds` (65 s, 5 min,
//!   15 min, 60 min by default);
//! - 5xx, 408, cut bodies and connection faults are retried with jittered backoff;
//!   401/403 means the token (or the registered IP address) was refused;
//! - answers are bounded in size and repaired like the catalogue's
//!   (`json_repair`) before they are parsed.
//!
//! `wire.rs` reads the endpoints' rows into domain types. Only this folder
//! knows INAPROC's paths and field names.

pub mod wire;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::catalog::client::retry::{self, Decision, Outcome};
use crate::catalog::client::{describe_transport, is_loopback, read_capped};
use crate::config::InaprocSettings;

/// The largest answer read.
const MAX_ANSWER_BYTES: usize = 32 * 1024 * 1024;
const BACKOFF_BASE: Duration = Duration::from_millis(500);
const BACKOFF_CAP: Duration = Duration::from_secs(60);
/// The longest `Retry-After` honoured as it is (the ladder may wait longer).
const RETRY_AFTER_MAX: Duration = Duration::from_secs(3600);

/// The paths of the five read endpoints.
pub const PAKET: &str = "/api/v1/ekatalog/paket-e-purchasing";
pub const BY_PRODUK: &str = "/api/v1/ekatalog/e-purchasing-by-produk";
pub const PRODUK_PENYEDIA: &str = "/api/v1/ekatalog/list-produk-penyedia";
pub const PENYEDIA_DETAIL: &str = "/api/v1/ekatalog/penyedia-detail";
pub const KATEGORI: &str = "/api/v1/ekatalog/list-kategori-produk";
/// The announced packages to be bought from suppliers, of the purchase plan (RUP).
pub const RUP_PAKET: &str = "/api/v1/rup/paket-penyedia-terumumkan";

/// One list read: its endpoint and query, spelled here so that no code
/// outside `catalog/` knows INAPROC's parameter names.
#[derive(Debug, Clone)]
pub struct Query {
    pub path: &'static str,
    params: Vec<(&'static str, String)>,
}

impl Query {
    /// A buyer's e-purchasing packages of a fiscal year.
    pub fn packages(klpd: &str, year: i32) -> Self {
        Self { path: PAKET, params: vec![("kode_klpd", klpd.to_owned()), ("tahun", year.to_string())] }
    }

    /// The product rows of a buyer's packages of a fiscal year at one status.
    pub fn package_products(klpd: &str, year: i32, status: &str) -> Self {
        Self { path: BY_PRODUK, params: vec![("tahun", year.to_string()), ("kode_klpd", klpd.to_owned()), ("status", status.to_owned())] }
    }

    /// A buyer's announced plan packages (RUP) of a fiscal year.
    pub fn plan_packages(klpd: &str, year: i32) -> Self {
        Self { path: RUP_PAKET, params: vec![("kode_klpd", klpd.to_owned()), ("tahun", year.to_string())] }
    }

    /// A seller's products on the catalogue.
    pub fn seller_products(kode_penyedia: &str) -> Self {
        Self { path: PRODUK_PENYEDIA, params: vec![("kode_penyedia", kode_penyedia.to_owned())] }
    }

    /// The category tree's first level, or the children of a level-1 or level-2 node.
    pub fn categories(parent: Option<(u8, &str)>) -> Self {
        let params = match parent {
            None => Vec::new(),
            Some((1, id)) => vec![("kd_kategori_1", id.to_owned())],
            Some((_, id)) => vec![("kd_kategori_2", id.to_owned())],
        };
        Self { path: KATEGORI, params }
    }
}

/// The name the shared quota is kept under.
pub const QUOTA_NAME: &str = "inaproc";

#[derive(Debug, thiserror::Error)]
pub enum InaprocError {
    #[error("[inaproc] is not configured: set base_url and token (or token_file) to read the INAPROC data API")]
    NotConfigured,
    #[error("[inaproc] {0}")]
    Settings(String),
    #[error(
        "inaproc.base_url {0} is plain http:// to another machine: the integrator's token would cross the network unencrypted. \
         Use https://, or set inaproc.allow_http = true on a network you trust"
    )]
    PlainHttp(String),
    #[error(
        "INAPROC refused the integrator's token for {path} (HTTP {status}): {message}. The token is wrong or has expired: \
         set the one LKPP issued in inaproc.token (or inaproc.token_file); this machine's address was let through, it is not the problem"
    )]
    Unauthorized { path: &'static str, status: u16, message: String },
    #[error(
        "INAPROC's gateway (Cloudflare) refused this machine before reading the token (HTTP 403 on {path}): this machine's public IP address \
         is not the one registered for the data integrator. Ask LKPP to register the address this machine goes out to the internet from, \
         or run katalog-bridge on the registered machine; a new token will not help"
    )]
    AddressNotRegistered { path: &'static str },
    #[error(
        "INAPROC read the token but refused {path} (HTTP 403): {message}. The integrator's account may not read this endpoint, \
         or its registered IP address is not this machine's: ask LKPP which, with the time of this refusal"
    )]
    Forbidden { path: &'static str, message: String },
    #[error("INAPROC refused {path} (HTTP {status}): {message}")]
    Refused { path: &'static str, status: u16, message: String },
    #[error("{path} still failed after {attempts} attempts: {last}")]
    GaveUp { path: &'static str, attempts: u32, last: String },
    #[error("the shared request quota could not be read: {0}")]
    Quota(String),
    #[error("{path}: the answer cannot be read: {why}")]
    Unreadable { path: &'static str, why: String },
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
}

/// Counts a request against the quota before it is sent: `Ok(None)` when
/// counted, `Ok(Some(wait))` when the quota is used up for about that long.
pub trait Gate: Send + Sync {
    fn take(&self) -> BoxFuture<'_, Result<Option<Duration>, String>>;
}

/// The quota kept in the database, shared by every process using it.
impl Gate for crate::store::quota::Shared {
    fn take(&self) -> BoxFuture<'_, Result<Option<Duration>, String>> {
        Box::pin(async move { crate::store::quota::Shared::take(self).await.map_err(|e| e.to_string()) })
    }
}

/// What the client did, for reports and metrics.
#[derive(Debug, Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    /// Answers 429 (over the server's quota, or its own limit).
    pub rate_limited: AtomicU64,
    /// Milliseconds spent waiting for the shared quota.
    pub quota_wait_ms: AtomicU64,
    /// Characters of answers replaced by U+FFFD.
    pub repaired: AtomicU64,
}

/// 429s in a row and the pause they impose on every request.
#[derive(Default)]
struct Pause {
    streak: u32,
    until: Option<Instant>,
}

struct Inner {
    http: reqwest::Client,
    base: String,
    token: SecretString,
    gate: Arc<dyn Gate>,
    permits: Semaphore,
    max_attempts: u32,
    ladder: Vec<Duration>,
    pause: Mutex<Pause>,
    counters: Counters,
    jitter: retry::Jitter,
}

/// A page of an INAPROC list: its rows, the cursor to the next, and whether one follows.
#[derive(Debug, Clone)]
pub struct Page {
    /// Each row as the JSON text it came as.
    pub rows: Vec<Box<serde_json::value::RawValue>>,
    pub cursor: Option<String>,
    pub has_more: bool,
}

impl Page {
    /// The cursor of the page after this one, read from `cursor`; `None` at
    /// the list's end (no more, no cursor, or the same cursor again).
    pub fn next_cursor(&self, cursor: Option<&str>) -> Option<&str> {
        self.cursor.as_deref().filter(|next| self.has_more && Some(*next) != cursor)
    }
}

/// The client, cheap to clone and share between tasks.
#[derive(Clone)]
pub struct InaprocClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for InaprocClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InaprocClient").field("base", &crate::config::redact_url(&self.inner.base)).finish()
    }
}

impl InaprocClient {
    pub fn new(settings: &InaprocSettings, gate: Arc<dyn Gate>) -> Result<Self, InaprocError> {
        let base = settings.base_url.trim().trim_end_matches('/').to_owned();
        let redacted = || crate::config::redact_url(&base);
        if base.is_empty() {
            return Err(InaprocError::NotConfigured);
        }
        let parsed = url::Url::parse(&base).map_err(|_| InaprocError::Settings(format!("base_url {} is not a URL", redacted())))?;
        match parsed.scheme() {
            "https" => {}
            "http" if settings.allow_http || is_loopback(&parsed) => {}
            "http" => return Err(InaprocError::PlainHttp(redacted())),
            _ => return Err(InaprocError::Settings(format!("base_url {} must be https://", redacted()))),
        }
        let token = settings.token().map_err(InaprocError::Settings)?.ok_or(InaprocError::NotConfigured)?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(settings.timeout_secs.max(1)))
            .connect_timeout(Duration::from_secs(settings.timeout_secs.clamp(1, 10)))
            .user_agent(concat!("katalog-bridge/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| InaprocError::Build(e.to_string()))?;
        // An empty ladder configured is the default one (the pause indexes it).
        let ladder = if settings.backoff_seconds.is_empty() { InaprocSettings::default().backoff_seconds } else { settings.backoff_seconds.clone() };
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base,
                token,
                gate,
                permits: Semaphore::new(settings.max_concurrency.max(1)),
                max_attempts: settings.max_attempts.max(1),
                ladder: ladder.into_iter().map(Duration::from_secs).collect(),
                pause: Mutex::default(),
                counters: Counters::default(),
                jitter: retry::Jitter::default(),
            }),
        })
    }

    /// A client for the settings, its quota kept in `store`.
    pub fn with_store(settings: &InaprocSettings, store: &crate::store::Store) -> Result<Self, InaprocError> {
        let quota = crate::store::quota::Quota { api: QUOTA_NAME.into(), per_minute: settings.per_minute, per_hour: settings.per_hour };
        Self::new(settings, Arc::new(crate::store::quota::Shared::new(store, quota)))
    }

    pub fn counters(&self) -> &Counters {
        &self.inner.counters
    }

    /// One page of a list endpoint.
    pub async fn page(&self, query: &Query, cursor: Option<&str>, limit: u32) -> Result<Page, InaprocError> {
        let path = query.path;
        let mut q: Vec<(&str, String)> = query.params.clone();
        q.push(("limit", limit.clamp(1, 1000).to_string()));
        if let Some(c) = cursor.filter(|c| !c.is_empty()) {
            q.push(("cursor", c.to_owned()));
        }
        let body = self.get_raw(path, &q).await?;
        wire::page(&body).map_err(|why| InaprocError::Unreadable { path, why })
    }

    /// Every row of a list, page after page (bounded by `max_pages`).
    pub async fn all(&self, query: &Query, limit: u32, max_pages: u32) -> Result<Vec<Value>, InaprocError> {
        let path = query.path;
        let mut rows = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..max_pages.max(1) {
            let page = self.page(query, cursor.as_deref(), limit).await?;
            let next = page.next_cursor(cursor.as_deref()).map(str::to_owned);
            for row in &page.rows {
                rows.push(wire::row(row).map_err(|why| InaprocError::Unreadable { path, why })?);
            }
            match next {
                Some(next) => cursor = Some(next),
                None => return Ok(rows),
            }
        }
        Err(InaprocError::Unreadable { path, why: format!("more than {max_pages} pages") })
    }

    /// A seller's registration (`None`: INAPROC does not know the seller).
    pub async fn seller_detail(&self, kode_penyedia: &str) -> Result<Option<wire::SellerDetail>, InaprocError> {
        match self.get(PENYEDIA_DETAIL, &[("kode_penyedia", kode_penyedia.to_owned())]).await {
            Ok(body) => wire::seller_detail(&body).map_err(|why| InaprocError::Unreadable { path: PENYEDIA_DETAIL, why }),
            Err(InaprocError::Refused { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A GET with retries, under the shared quota; the JSON body.
    pub async fn get(&self, path: &'static str, query: &[(&str, String)]) -> Result<Value, InaprocError> {
        let raw = self.get_raw(path, query).await?;
        serde_json::from_str(raw.get()).map_err(|e| InaprocError::Unreadable { path, why: e.to_string() })
    }

    /// A GET with retries, under the shared quota; the JSON body as its text
    /// (checked to be JSON), read as far as the caller needs.
    pub async fn get_raw(&self, path: &'static str, query: &[(&str, String)]) -> Result<Box<serde_json::value::RawValue>, InaprocError> {
        let inner = &self.inner;
        let _permit = inner.permits.acquire().await.map_err(|_| InaprocError::Build("the client is closed".into()))?;
        let mut last = String::new();
        let mut attempt = 0;
        while attempt < inner.max_attempts {
            attempt += 1;
            self.wait_for_pause().await;
            self.wait_for_quota().await?;
            inner.counters.requests.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("katalog_bridge_inaproc_requests_total").increment(1);
            let sent = inner.http.get(format!("{}{path}", inner.base)).query(query).bearer_auth(inner.token.expose_secret()).send().await;
            let (outcome, body, problem, gateway) = match sent {
                Err(e) => (Outcome::Transport, None, describe_transport(&e), false),
                Ok(r) => self.read(r).await,
            };
            let status = match outcome {
                Outcome::Status(s, _) => s,
                _ => 0,
            };
            if status == 429 {
                inner.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("katalog_bridge_inaproc_rate_limited_total").increment(1);
            } else if status != 0 {
                lock(&inner.pause).streak = 0;
            }
            match retry::classify(outcome) {
                Decision::Done => match body {
                    Some(b) => return Ok(b),
                    None => last = problem,
                },
                Decision::RefreshToken => return Err(InaprocError::Unauthorized { path, status, message: problem }),
                Decision::Fail if status == 403 && gateway => return Err(InaprocError::AddressNotRegistered { path }),
                Decision::Fail if status == 403 => return Err(InaprocError::Forbidden { path, message: problem }),
                Decision::Fail => return Err(InaprocError::Refused { path, status, message: problem }),
                Decision::Retry { after } => {
                    last = problem;
                    if attempt < inner.max_attempts {
                        inner.counters.retries.fetch_add(1, Ordering::Relaxed);
                        if status == 429 {
                            self.pause_after_429(after);
                        } else {
                            let wait = after.unwrap_or_else(|| retry::backoff(attempt - 1, BACKOFF_BASE, BACKOFF_CAP, self.inner.jitter.unit()));
                            tokio::time::sleep(wait).await;
                        }
                    }
                }
            }
        }
        Err(InaprocError::GaveUp { path, attempts: attempt, last })
    }

    /// A 429: every request of this client waits `Retry-After`; from the
    /// second in a row on, at least the ladder's next step.
    fn pause_after_429(&self, after: Option<Duration>) {
        let mut pause = lock(&self.inner.pause);
        pause.streak += 1;
        let ladder = &self.inner.ladder;
        let step = match pause.streak {
            0 | 1 => Duration::ZERO,
            n => ladder[(n as usize - 2).min(ladder.len() - 1)],
        };
        let wait = after.unwrap_or(Duration::from_secs(1)).max(step);
        tracing::warn!(streak = pause.streak, wait_secs = wait.as_secs_f64(), "INAPROC answered 429: pausing requests");
        let until = Instant::now() + wait;
        pause.until = Some(pause.until.map_or(until, |u| u.max(until)));
    }

    async fn wait_for_pause(&self) {
        let until = lock(&self.inner.pause).until;
        if let Some(until) = until.filter(|u| *u > Instant::now()) {
            tokio::time::sleep_until(until.into()).await;
        }
    }

    async fn wait_for_quota(&self) -> Result<(), InaprocError> {
        let started = Instant::now();
        loop {
            match self.inner.gate.take().await.map_err(InaprocError::Quota)? {
                None => break,
                Some(wait) => {
                    tracing::debug!(wait_secs = wait.as_secs_f64(), "INAPROC quota used up: waiting");
                    tokio::time::sleep(wait).await;
                }
            }
        }
        let waited = started.elapsed().as_millis() as u64;
        self.inner.counters.quota_wait_ms.fetch_add(waited, Ordering::Relaxed);
        Ok(())
    }

    /// The answer: its outcome, its body when a success, what was wrong
    /// otherwise, and whether the gateway in front of INAPROC (Cloudflare)
    /// gave it rather than INAPROC itself.
    async fn read(&self, response: reqwest::Response) -> (Outcome, Option<Box<serde_json::value::RawValue>>, String, bool) {
        let status = response.status().as_u16();
        let gateway = from_gateway(response.headers());
        let after = retry::retry_after(response.headers().get("retry-after").and_then(|v| v.to_str().ok()), RETRY_AFTER_MAX);
        metrics::counter!("katalog_bridge_inaproc_responses_total", "status" => status.to_string()).increment(1);
        let raw = match read_capped(response, MAX_ANSWER_BYTES).await {
            Ok(raw) => raw,
            Err(why) => return (Outcome::BadBody, None, format!("HTTP {status}, body cut short: {why}"), gateway),
        };
        let (repaired, replaced) = crate::catalog::json_repair::repair(&raw);
        if replaced > 0 {
            self.inner.counters.repaired.fetch_add(replaced, Ordering::Relaxed);
        }
        if (200..300).contains(&status) {
            return match serde_json::from_slice::<Box<serde_json::value::RawValue>>(&repaired) {
                Ok(body) => (Outcome::Status(status, after), Some(body), String::new(), gateway),
                Err(e) => (Outcome::BadBody, None, format!("HTTP {status}, body is not JSON: {e}"), gateway),
            };
        }
        match serde_json::from_slice::<Value>(&repaired) {
            Ok(body) => (Outcome::Status(status, after), None, format!("HTTP {status}: {}", error_message(&body)), gateway),
            // Not JSON (an HTML page): not echoed, only said to be a page.
            Err(_) => (Outcome::Status(status, after), None, format!("HTTP {status}: an answer that is not JSON ({} bytes)", raw.len()), gateway),
        }
    }
}

/// Whether an answer came from Cloudflare, in front of INAPROC, rather than
/// from INAPROC: Cloudflare names itself in `Server` and adds a `CF-Ray`.
fn from_gateway(headers: &reqwest::header::HeaderMap) -> bool {
    let server = headers.get(reqwest::header::SERVER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    server.trim().eq_ignore_ascii_case("cloudflare") || headers.contains_key("cf-ray")
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// An error body's message (`error.message`, `message`), bounded.
fn error_message(body: &Value) -> String {
    let m = body["error"]["message"].as_str().or_else(|| body["message"].as_str()).map(str::to_owned).unwrap_or_else(|| body.to_string());
    m.chars().take(300).collect()
}
