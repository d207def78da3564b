//! The catalogue client: every call katalog-bridge makes to the e-catalogue,
//! under each cooperative's own seller account (`docs/catalogue-api.md`).
//! Laid out like a Vector sink:
//! - configuration: [`crate::config::CatalogueSettings`];
//! - `auth.rs`: client-credentials tokens per seller, renewed before expiry
//!   and once on a 401;
//! - `request.rs`: the calls and how each request is built;
//! - `retry.rs`: which failures are retried, with what backoff;
//! - `pace.rs`: requests spread over the server's advertised limit;
//! - this file: the service that puts them together, with a timeout per
//!   attempt and a bound on requests in flight.
//!
//! Every write carries the `Idempotency-Key` its caller derives from what it
//! writes, so neither a retry here nor a rerun after a crash makes a second
//! listing.

mod answers;
mod auth;
mod pace;
pub mod request;
pub mod retry;

pub use answers::{AnswerError, ListingWritten, order_decision};

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::config::CatalogueSettings;
pub use request::Call;
use retry::{Decision, Outcome};

/// The first retry waits up to this long; each next one up to twice as long.
const BACKOFF_BASE: Duration = Duration::from_millis(200);
const BACKOFF_CAP: Duration = Duration::from_secs(30);
/// The longest `Retry-After` honoured.
const RETRY_AFTER_MAX: Duration = Duration::from_secs(120);
/// The largest answer read; a larger one is an error, not a memory spike.
const MAX_ANSWER_BYTES: usize = 32 * 1024 * 1024;
/// The bytes of answers read and alive at once, over every task sharing the
/// client: a request whose answer would go over it waits until earlier ones
/// are dropped. Parsed, an answer takes two to three times its bytes; at 48
/// MiB, one answer near the 32 MiB cap is read and parsed at a time, whatever
/// the threads reading answers.
const ANSWER_BUDGET_BYTES: usize = 48 * 1024 * 1024;

/// Budget permits count KiB, rounded up.
fn kib(bytes: usize) -> u32 {
    u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX).max(1)
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("no catalogue account is configured for seller {0}: add a [[catalogue.sellers]] entry")]
    NoAccount(String),
    #[error("catalogue account of seller {seller}: {detail}")]
    Account { seller: String, detail: String },
    #[error("invalid catalogue base_url {0:?}")]
    BaseUrl(String),
    #[error(
        "catalogue.base_url {0} is plain http:// to another machine: client secrets and bearer tokens would cross the network unencrypted. \
         Use https://, or set catalogue.allow_http = true on a network you trust"
    )]
    PlainHttp(String),
    #[error("the catalogue refused {call} for seller {seller} ({status} {code}): {message}{}", fields_text(.fields))]
    Refused {
        call: Box<str>,
        seller: Box<str>,
        status: u16,
        code: String,
        message: String,
        fields: Vec<FieldError>,
        /// The listing the catalogue says already holds the item (`already_listed`).
        existing: Option<Box<str>>,
    },
    #[error("{call} for seller {seller} still failed after {attempts} attempts: {last}")]
    GaveUp { call: String, seller: String, attempts: u32, last: String },
    #[error("the catalogue refused the credentials of seller {seller} (client {client_id}): {message}")]
    Unauthorized { seller: String, client_id: String, message: String },
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
}

impl ClientError {
    /// Whether the same call may succeed when run again later (the retries
    /// here were spent), as opposed to a refusal that will not change.
    pub fn is_transient(&self) -> bool {
        matches!(self, ClientError::GaveUp { .. })
    }
}

/// Whether a URL's host is this machine (a name resolving elsewhere is not
/// trusted: `localhost` and loopback addresses only).
pub(crate) fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A field the catalogue says is wrong, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

fn fields_text(fields: &[FieldError]) -> String {
    if fields.is_empty() {
        String::new()
    } else {
        let parts: Vec<String> = fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect();
        format!(" [{}]", parts.join("; "))
    }
}

/// A successful answer. It holds its share of the client's answer budget
/// until dropped: drop it before sending the next request that waits on it.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    /// The JSON body.
    pub body: Value,
    /// The body's size as read, in bytes.
    pub bytes: usize,
    /// Attempts it took, the first included.
    pub attempts: u32,
    _budget: Option<Arc<tokio::sync::OwnedSemaphorePermit>>,
}

/// An answer's share of the client's answer budget, kept by what is made of
/// the answer (an order read from it) until that is written: the budget then
/// bounds what was read and is not yet stored, not only the answers alive.
#[derive(Debug, Clone, Default)]
pub struct Share {
    _held: Option<Arc<tokio::sync::OwnedSemaphorePermit>>,
}

impl Answer {
    /// Its share of the budget, held as long as the value returned is.
    pub fn share(&self) -> Share {
        Share { _held: self._budget.clone() }
    }
}

/// Counts of what the client did, for metrics and reports.
#[derive(Debug, Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub rate_limited: AtomicU64,
    pub token_refreshes: AtomicU64,
    /// Answers by status class: 2xx, 4xx, 5xx, and no answer.
    pub ok: AtomicU64,
    pub client_errors: AtomicU64,
    pub server_errors: AtomicU64,
    pub transport_errors: AtomicU64,
    /// Characters of answers replaced by U+FFFD (`catalog::json_repair`).
    pub repaired: AtomicU64,
}

struct Account {
    client_id: String,
    secret: SecretString,
}

struct Inner {
    http: reqwest::Client,
    base: String,
    accounts: HashMap<String, Account>,
    /// Each configured seller's channel, usable account or not.
    channels: HashMap<String, crate::domain::publication::Channel>,
    tokens: Mutex<auth::TokenCache>,
    pacer: Mutex<pace::Pacer>,
    permits: Semaphore,
    /// KiB of answers alive at once ([`ANSWER_BUDGET_BYTES`]).
    answer_budget: Arc<Semaphore>,
    max_attempts: u32,
    counters: Counters,
    jitter: retry::Jitter,
    /// When the catalogue last answered (any HTTP status), and with what.
    last_answer: Mutex<Option<(chrono::DateTime<chrono::Utc>, u16)>>,
}

/// The client, cheap to clone and share between tasks.
#[derive(Clone)]
pub struct CatalogueClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for CatalogueClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatalogueClient").field("base", &self.inner.base).field("sellers", &self.inner.accounts.len()).finish()
    }
}

impl CatalogueClient {
    /// A client for every configured seller account. A seller whose secret
    /// cannot be read is reported now, by name, and left out; calls for it
    /// then fail with [`ClientError::NoAccount`]. Returns those problems too.
    pub fn new(settings: &CatalogueSettings) -> Result<(Self, Vec<ClientError>), ClientError> {
        let base = settings.base_url.trim_end_matches('/').to_owned();
        let redacted = || crate::config::redact_url(&settings.base_url);
        let parsed = url::Url::parse(&base).map_err(|_| ClientError::BaseUrl(redacted()))?;
        match parsed.scheme() {
            "https" => {}
            "http" if settings.allow_http || is_loopback(&parsed) => {}
            "http" => return Err(ClientError::PlainHttp(redacted())),
            _ => return Err(ClientError::BaseUrl(redacted())),
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(settings.timeout_secs.max(1)))
            .connect_timeout(Duration::from_secs(settings.timeout_secs.clamp(1, 10)))
            .user_agent(concat!("katalog-bridge/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Build(e.to_string()))?;
        let mut accounts = HashMap::new();
        let mut problems = Vec::new();
        let channels = settings.sellers.iter().map(|s| (s.kode_penyedia.clone(), s.channel)).collect();
        for s in &settings.sellers {
            match s.secret() {
                Ok(secret) => {
                    accounts.insert(s.kode_penyedia.clone(), Account { client_id: s.client_id.clone(), secret });
                }
                Err(e) => problems.push(ClientError::Account { seller: s.kode_penyedia.clone(), detail: e.to_string() }),
            }
        }
        let inner = Inner {
            http,
            base,
            accounts,
            channels,
            tokens: Mutex::default(),
            pacer: Mutex::new(pace::Pacer::new(Instant::now())),
            permits: Semaphore::new(settings.max_concurrency.max(1)),
            answer_budget: Arc::new(Semaphore::new(kib(ANSWER_BUDGET_BYTES) as usize)),
            max_attempts: settings.max_attempts.max(1),
            counters: Counters::default(),
            jitter: retry::Jitter::default(),
            last_answer: Mutex::default(),
        };
        Ok((Self { inner: Arc::new(inner) }, problems))
    }

    /// When the catalogue last answered this client, and the HTTP status it
    /// gave; `None` before it was first asked (or while it never answered).
    pub fn last_answer(&self) -> Option<(chrono::DateTime<chrono::Utc>, u16)> {
        *lock(&self.inner.last_answer)
    }

    fn answered(&self, status: u16) {
        *lock(&self.inner.last_answer) = Some((chrono::Utc::now(), status));
    }

    /// The channel a seller's account sets (`None`: no account is configured).
    pub fn channel(&self, seller: &str) -> Option<crate::domain::publication::Channel> {
        self.inner.channels.get(seller).copied()
    }

    /// Whether a seller's listings may go through `channel`: the one its
    /// account sets; without an account, the API (where it is reported as
    /// lacking one) or the workbooks (which need none), never PEPPOL.
    pub fn allows(&self, seller: &str, channel: crate::domain::publication::Channel) -> bool {
        use crate::domain::publication::Channel;
        match self.channel(seller) {
            Some(set) => set == channel,
            None => channel != Channel::Peppol,
        }
    }

    /// Whether a seller has a usable account.
    pub fn has_account(&self, seller: &str) -> bool {
        self.inner.accounts.contains_key(seller)
    }

    /// The sellers with a usable account, in order.
    pub fn sellers(&self) -> Vec<String> {
        let mut v: Vec<String> = self.inner.accounts.keys().cloned().collect();
        v.sort();
        v
    }

    pub fn counters(&self) -> &Counters {
        &self.inner.counters
    }

    /// Sends `call` for `seller`, retrying what can succeed later, and
    /// returns the answer or why there is none.
    pub async fn send(&self, seller: &str, call: &Call) -> Result<Answer, ClientError> {
        let inner = &self.inner;
        let account = inner.accounts.get(seller).ok_or_else(|| ClientError::NoAccount(seller.to_owned()))?;
        let _permit = inner.permits.acquire().await.map_err(|_| ClientError::Build("the client is closed".into()))?;
        let mut refreshed = false;
        let mut last = String::new();
        let mut attempt = 0;
        while attempt < inner.max_attempts {
            attempt += 1;
            let token = match self.token(seller, account).await {
                Ok(t) => t,
                Err(TokenError::Refused(message)) => {
                    return Err(ClientError::Unauthorized { seller: seller.into(), client_id: account.client_id.clone(), message });
                }
                Err(TokenError::Transient(why)) => {
                    last = format!("getting a token: {why}");
                    if attempt < inner.max_attempts {
                        inner.counters.retries.fetch_add(1, Ordering::Relaxed);
                        metrics::counter!("katalog_bridge_catalogue_retries_total").increment(1);
                        self.wait_before_retry(attempt, None).await;
                    }
                    continue;
                }
            };
            self.pace().await;
            inner.counters.requests.fetch_add(1, Ordering::Relaxed);
            let response = call.request(&inner.http, &inner.base).bearer_auth(token.expose_secret()).send().await;
            let (outcome, answer, problem) = match response {
                Err(e) => {
                    inner.counters.transport_errors.fetch_add(1, Ordering::Relaxed);
                    metrics::counter!("katalog_bridge_catalogue_responses_total", "status" => "error").increment(1);
                    (Outcome::Transport, None, describe_transport(&e))
                }
                Ok(r) => {
                    self.answered(r.status().as_u16());
                    self.read(r).await
                }
            };
            match retry::classify(outcome) {
                Decision::Done => {
                    if let Some(mut a) = answer {
                        a.attempts = attempt;
                        return Ok(a);
                    }
                    last = problem;
                }
                Decision::RefreshToken if !refreshed => {
                    refreshed = true;
                    inner.counters.token_refreshes.fetch_add(1, Ordering::Relaxed);
                    lock(&inner.tokens).forget(seller);
                    attempt -= 1; // the refresh does not spend an attempt
                    continue;
                }
                Decision::RefreshToken => {
                    return Err(ClientError::Unauthorized { seller: seller.into(), client_id: account.client_id.clone(), message: problem });
                }
                Decision::Fail => {
                    let (code, message, fields, existing) = error_body(answer.as_ref().map(|a| &a.body));
                    let status = match outcome {
                        Outcome::Status(s, _) => s,
                        _ => 0,
                    };
                    let (call, seller, existing) = (call.describe().into(), seller.into(), existing.map(String::into_boxed_str));
                    return Err(ClientError::Refused { call, seller, status, code, message, fields, existing });
                }
                Decision::Retry { after } => {
                    last = problem;
                    if attempt < inner.max_attempts {
                        inner.counters.retries.fetch_add(1, Ordering::Relaxed);
                        metrics::counter!("katalog_bridge_catalogue_retries_total").increment(1);
                        self.wait_before_retry(attempt, after).await;
                    }
                }
            }
        }
        Err(ClientError::GaveUp { call: call.describe(), seller: seller.into(), attempts: attempt, last })
    }

    /// Reads an answer: its status, headers for pacing, and its body within bounds.
    async fn read(&self, response: reqwest::Response) -> (Outcome, Option<Answer>, String) {
        let inner = &self.inner;
        let status = response.status().as_u16();
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let number = |name: &str| header(name).and_then(|v| v.trim().parse::<u64>().ok());
        lock(&inner.pacer).observe(Instant::now(), number("x-ratelimit-remaining"), number("x-ratelimit-reset"));
        let after = retry::retry_after(header("retry-after").as_deref(), RETRY_AFTER_MAX);
        metrics::counter!("katalog_bridge_catalogue_responses_total", "status" => status.to_string()).increment(1);
        if status == 429 {
            metrics::counter!("katalog_bridge_catalogue_rate_limited_total").increment(1);
        }
        match status {
            200..=299 => inner.counters.ok.fetch_add(1, Ordering::Relaxed),
            429 => {
                inner.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
                inner.counters.client_errors.fetch_add(1, Ordering::Relaxed)
            }
            400..=499 => inner.counters.client_errors.fetch_add(1, Ordering::Relaxed),
            _ => inner.counters.server_errors.fetch_add(1, Ordering::Relaxed),
        };
        // The budget for what the header announces (all of it when it says
        // nothing), then shrunk to what came.
        let announced = response.content_length().map_or(MAX_ANSWER_BYTES, |n| usize::try_from(n).unwrap_or(usize::MAX).min(MAX_ANSWER_BYTES));
        let mut budget = inner.answer_budget.clone().acquire_many_owned(kib(announced)).await.ok();
        let raw = match read_capped(response, MAX_ANSWER_BYTES).await {
            Ok(raw) => {
                if let Some(permit) = budget.as_mut()
                    && let Some(excess) = permit.num_permits().checked_sub(kib(raw.len()) as usize).filter(|n| *n > 0)
                {
                    drop(permit.split(excess));
                }
                raw
            }
            Err(why) => {
                inner.counters.transport_errors.fetch_add(1, Ordering::Relaxed);
                return (Outcome::BadBody, None, format!("HTTP {status}, body cut short: {why}"));
            }
        };
        // Characters PostgreSQL cannot store (and the parser refuses) are
        // replaced here, once for every answer; each record's reader flags them.
        let (repaired, replaced) = crate::catalog::json_repair::repair(&raw);
        if replaced > 0 {
            inner.counters.repaired.fetch_add(replaced, Ordering::Relaxed);
        }
        match serde_json::from_slice::<Value>(&repaired) {
            Ok(body) => {
                let problem = format!("HTTP {status}: {}", summary(&body));
                (Outcome::Status(status, after), Some(Answer { status, body, bytes: raw.len(), attempts: 0, _budget: budget.map(Arc::new) }), problem)
            }
            // A success whose body is not JSON was cut or garbled on the way: worth another try.
            Err(e) if (200..300).contains(&status) => (Outcome::BadBody, None, format!("HTTP {status}, body is not JSON: {e}")),
            Err(_) => (Outcome::Status(status, after), None, format!("HTTP {status}: {}", String::from_utf8_lossy(&raw[..raw.len().min(200)]))),
        }
    }

    async fn token(&self, seller: &str, account: &Account) -> Result<SecretString, TokenError> {
        if let Some(t) = lock(&self.inner.tokens).get(seller, Instant::now()) {
            return Ok(t);
        }
        self.pace().await;
        self.inner.counters.requests.fetch_add(1, Ordering::Relaxed);
        let form = [("grant_type", "client_credentials"), ("client_id", account.client_id.as_str()), ("client_secret", account.secret.expose_secret())];
        let response = self
            .inner
            .http
            .post(format!("{}/oauth/token", self.inner.base))
            .form(&form)
            .send()
            .await
            .map_err(|e| TokenError::Transient(describe_transport(&e)))?;
        let status = response.status().as_u16();
        self.answered(status);
        let raw = read_capped(response, 64 * 1024).await.map_err(TokenError::Transient)?;
        let body: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        match status {
            200..=299 => {
                let value = body["access_token"]
                    .as_str()
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| TokenError::Transient("the token answer has no access_token".into()))?;
                let ttl = Duration::from_secs(body["expires_in"].as_u64().unwrap_or(300).clamp(1, 86_400));
                let token = SecretString::from(value.to_owned());
                lock(&self.inner.tokens).put(seller, token.clone(), ttl, Instant::now());
                Ok(token)
            }
            400 | 401 | 403 => Err(TokenError::Refused(summary(&body))),
            _ => Err(TokenError::Transient(format!("HTTP {status}: {}", summary(&body)))),
        }
    }

    /// Waits for this request's slot under the advertised rate limit.
    async fn pace(&self) {
        let at = lock(&self.inner.pacer).reserve(Instant::now());
        tokio::time::sleep_until(at.into()).await;
    }

    async fn wait_before_retry(&self, attempt: u32, after: Option<Duration>) {
        let wait = after.unwrap_or_else(|| retry::backoff(attempt - 1, BACKOFF_BASE, BACKOFF_CAP, self.inner.jitter.unit()));
        tokio::time::sleep(wait).await;
    }
}

enum TokenError {
    Refused(String),
    Transient(String),
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Reads a body of at most `cap` bytes; more, or a cut connection, is an error.
pub(crate) async fn read_capped(mut response: reqwest::Response, cap: usize) -> Result<Vec<u8>, String> {
    if response.content_length().is_some_and(|n| n > cap as u64) {
        return Err(format!("the answer is over {cap} bytes"));
    }
    let mut out = Vec::with_capacity(response.content_length().map_or(0, |n| usize::try_from(n).unwrap_or(0).min(cap)));
    while let Some(chunk) = response.chunk().await.map_err(|e| describe_transport(&e))? {
        if out.len() + chunk.len() > cap {
            return Err(format!("the answer is over {cap} bytes"));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// A transport error in one line, with its cause (reqwest's own text is terse).
pub(crate) fn describe_transport(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// `code`, `message` and field errors of the documented error body.
/// An error body's code, message, field errors, and the listing it names as
/// already holding the item.
fn error_body(body: Option<&Value>) -> (String, String, Vec<FieldError>, Option<String>) {
    let Some(e) = body.map(|b| &b["error"]) else { return (String::new(), "(no readable body)".into(), Vec::new(), None) };
    let text = |v: &Value, max: usize| v.as_str().map(|s| s.chars().take(max).collect::<String>());
    let fields = e["fields"]
        .as_array()
        .map(|a| {
            a.iter()
                .take(50)
                .map(|f| FieldError { field: text(&f["field"], 100).unwrap_or_default(), message: text(&f["message"], 500).unwrap_or_default() })
                .collect()
        })
        .unwrap_or_default();
    let existing = text(&e["listing_id"], 100).filter(|id| !id.is_empty());
    (text(&e["code"], 100).unwrap_or_default(), text(&e["message"], 500).unwrap_or_else(|| "(no message)".into()), fields, existing)
}

/// A short description of an answer body for error messages.
fn summary(body: &Value) -> String {
    match body["error"]["message"].as_str() {
        Some(m) => m.chars().take(300).collect(),
        None => body.to_string().chars().take(300).collect(),
    }
}
