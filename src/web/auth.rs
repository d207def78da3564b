//! Login and logout. Passwords are hashed with argon2id; a login issues a
//! new random session id (only its digest is stored) with its CSRF token.
//! Each attempt is recorded before its password is checked, under the
//! account's lock ([`users::reserve_login`]), so concurrent attempts get no
//! more checks than the throttle allows. Failures are counted per account
//! and address and per address (past a threshold each further try waits,
//! doubling up to 15 minutes; a try while waiting lengthens the wait of its
//! own address only), and per account across addresses (a delay of
//! a few seconds at most, or a lock after a flood from many addresses, which
//! the liaison lifts with `users unlock`). Every refused or held-back login is
//! in the audit log with its address. The page says the same whether the
//! user name exists or not, and a name that does not exist costs the same
//! hash as one that does.

use std::net::SocketAddr;
use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordVerifier, phc::PasswordHash};
use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use chrono::{DateTime, Utc};

use super::i18n::Lang;
use super::{Layout, SESSION_COOKIE, WebError, WebState, lang_of, local_path, render};
use crate::store::users;

/// The pre-login cookie holding the login form's CSRF token.
const LOGIN_COOKIE: &str = "kb_masuk";
/// The longest wait a throttled account or address is given.
const MAX_WAIT_SECS: i64 = 15 * 60;

/// A random token: 32 bytes from the OS, hex.
pub fn random_token() -> Result<String, WebError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| WebError::Internal(format!("no randomness from the OS: {e}")))?;
    Ok(hex::encode(b))
}

pub use crate::app::users::{check_new_password, hash_password};

fn verify(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash no password matches, checked when the user does not exist so the
/// answer takes as long as for one who does.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password that matches nothing").unwrap_or_default())
}

/// The client's address: the connection's, or (behind a proxy that is
/// trusted to set it) the last one `X-Forwarded-For` names.
pub fn client_address(state: &WebState, headers: &HeaderMap, peer: Option<SocketAddr>) -> String {
    if state.settings.trust_forwarded_for
        && let Some(last) = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).map(str::trim).next_back()
        && let Ok(ip) = last.parse::<std::net::IpAddr>()
    {
        return ip.to_string();
    }
    peer.map(|p| p.ip().to_string()).unwrap_or_else(|| "unknown".into())
}

/// How long until `failures` (the last at `last`) allow another try: after
/// `threshold` failures, 2 s, doubling with each further one.
pub fn wait_secs(failures: i64, threshold: i64, last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> i64 {
    if failures < threshold.max(1) {
        return 0;
    }
    let exp = (failures - threshold.max(1) + 1).min(20) as u32;
    let wait = 2i64.saturating_pow(exp).min(MAX_WAIT_SECS);
    let since = last.map_or(wait, |l| (now - l).num_seconds());
    (wait - since).max(0)
}

/// What one login attempt may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Check the password, after a short delay that grows with the
    /// account's failures from every address (a few seconds at most).
    Check { delay: std::time::Duration },
    /// This address must wait this many seconds (its own failures, on this
    /// account or on many).
    Wait(i64),
    /// The account saw a flood of failures from many addresses within the
    /// hour: nobody logs in until the hour passes or the liaison lifts it.
    Flooded,
}

/// The longest delay other addresses' failures add to a check.
const MAX_SHARED_DELAY_MS: u64 = 3000;

/// Tight per account and address, tight per address, loose per account:
/// someone else's failures on an account slow its owner by a few seconds at
/// most, unless they are a flood ([`Gate::Flooded`]).
pub fn gate_for(c: &users::LoginCounts, s: &crate::config::WebSettings, now: DateTime<Utc>) -> Gate {
    if c.account_hour >= s.throttle_flood_failures.max(1) {
        return Gate::Flooded;
    }
    let wait = wait_secs(c.pair, s.throttle_account_failures, c.pair_last, now).max(wait_secs(c.address, s.throttle_address_failures, c.address_last, now));
    if wait > 0 {
        return Gate::Wait(wait);
    }
    Gate::Check { delay: std::time::Duration::from_millis((c.account_hour.max(0) as u64).saturating_mul(100).min(MAX_SHARED_DELAY_MS)) }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    l: Layout,
    token: String,
    next: String,
    username: String,
}

#[derive(Debug, serde::Deserialize)]
pub struct LoginQuery {
    lanjut: Option<String>,
    habis: Option<String>,
    keluar: Option<String>,
}

fn login_form(
    state: &WebState,
    jar: CookieJar,
    lang: Lang,
    next: &str,
    username: &str,
    notice: Option<String>,
    alert: Option<String>,
) -> Result<Response, WebError> {
    let token = random_token()?;
    let mut l = Layout::anonymous(
        lang,
        lang.texts().login_title,
        &format!("/masuk?lanjut={}", url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()),
    );
    l.notice = notice;
    l.alert = alert;
    let page = LoginPage { l, token: token.clone(), next: next.to_owned(), username: username.to_owned() };
    let html = render(&page)?;
    Ok((jar.add(state.cookie(LOGIN_COOKIE, token)), html).into_response())
}

pub async fn login_page(State(state): State<WebState>, jar: CookieJar, Query(q): Query<LoginQuery>) -> Result<Response, WebError> {
    let lang = lang_of(&jar);
    let t = lang.texts();
    let notice = if q.keluar.is_some() { Some(t.logged_out.to_owned()) } else { None };
    let alert = if q.habis.is_some() { Some(t.session_over.to_owned()) } else { None };
    login_form(&state, jar, lang, &local_path(q.lanjut.as_deref()), "", notice, alert)
}

#[derive(Debug, serde::Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    lanjut: Option<String>,
}

pub async fn login(
    State(state): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let lang = lang_of(&jar);
    let t = lang.texts();
    let next = local_path(form.lanjut.as_deref());
    let username = form.username.trim().to_lowercase();
    let shown_name: String = username.chars().take(40).collect();
    // The login form's own CSRF check: the token in the form must be the one in its cookie.
    let expected = jar.get(LOGIN_COOKIE).map(|c| c.value().to_owned()).unwrap_or_default();
    if expected.is_empty() || form.token.is_empty() || !super::same_secret(&expected, &form.token) {
        return login_form(&state, jar, lang, &next, &shown_name, None, Some(t.login_expired.to_owned()));
    }
    let address = client_address(&state, &headers, Some(peer));
    let s = &state.settings;
    let window = (s.throttle_window_minutes.clamp(1, 24 * 60) * 60) as f64;
    let now = Utc::now();
    let mut gate = Gate::Check { delay: std::time::Duration::ZERO };
    let (counts, attempt) = users::reserve_login(&state.store, &username, &address, window, |c| {
        gate = gate_for(c, s, now);
        matches!(gate, Gate::Check { .. })
    })
    .await?;
    let Some(attempt) = attempt else {
        let (action, alert) = match gate {
            Gate::Flooded => ("login.locked", t.account_flooded.replace("{n}", &counts.account_hour.to_string()).replace("{user}", &shown_name)),
            Gate::Wait(wait) => ("login.throttled", format!("{} {wait} {}.", t.throttled, t.seconds)),
            Gate::Check { .. } => ("login.throttled", t.throttled.to_owned()),
        };
        tracing::warn!(address, action, "a login was held back after failed logins");
        users::audit_login(
            &state.store,
            &shown_name,
            &address,
            action,
            serde_json::json!({"failures": counts.pair, "account_failures_hour": counts.account_hour}),
        )
        .await?;
        return login_form(&state, jar, lang, &next, &shown_name, None, Some(alert));
    };
    if let Gate::Check { delay } = gate
        && !delay.is_zero()
    {
        tokio::time::sleep(delay).await;
    }
    let found = users::credentials(&state.store, &username).await?;
    let password = form.password.clone();
    let hash = found.as_ref().map_or_else(|| decoy_hash().to_owned(), |(_, h)| h.clone());
    let permit = state.hashing.acquire().await.map_err(|e| WebError::Internal(e.to_string()))?;
    let matched = tokio::task::spawn_blocking(move || verify(&password, &hash)).await.map_err(|e| WebError::Internal(e.to_string()))?;
    drop(permit);
    let user_id = match (found, matched) {
        (Some((id, _)), true) => id,
        _ => {
            users::login_failed(&state.store, attempt).await?;
            users::audit_login(&state.store, &shown_name, &address, "login.refused", serde_json::json!({})).await?;
            return login_form(&state, jar, lang, &next, &shown_name, None, Some(t.login_failed.to_owned()));
        }
    };
    // A new session id at every login: one planted before it is worth nothing.
    let session = random_token()?;
    let csrf = random_token()?;
    users::start_session(&state.store, &session, user_id, &csrf, &address).await?;
    tracing::info!(user = username, "logged in to the dashboard");
    let jar = jar.remove(Cookie::build(LOGIN_COOKIE).path("/").build()).add(state.cookie(SESSION_COOKIE, session));
    Ok((jar, Redirect::to(&next)).into_response())
}

#[derive(Debug, serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// Ends the session on the server and forgets its cookie.
pub async fn logout(State(state): State<WebState>, auth: super::Auth, jar: CookieJar, Form(form): Form<CsrfForm>) -> Result<Response, WebError> {
    auth.check(&form.csrf)?;
    if let Some(id) = jar.get(SESSION_COOKIE) {
        users::end_session(&state.store, id.value()).await?;
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/").build());
    Ok((jar, Redirect::to("/masuk?keluar=1")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_past_the_threshold_and_runs_out() {
        let now = Utc::now();
        assert_eq!(wait_secs(4, 5, Some(now), now), 0, "under the threshold: no wait");
        assert_eq!(wait_secs(5, 5, Some(now), now), 2);
        assert_eq!(wait_secs(6, 5, Some(now), now), 4);
        assert_eq!(wait_secs(40, 5, Some(now), now), MAX_WAIT_SECS, "never more than 15 minutes");
        assert_eq!(wait_secs(6, 5, Some(now - chrono::Duration::seconds(3)), now), 1, "time since the last failure counts");
        assert_eq!(wait_secs(6, 5, Some(now - chrono::Duration::seconds(60)), now), 0);
    }

    #[test]
    fn others_failures_slow_the_owner_a_little_and_only_a_flood_locks_the_account() {
        let s = crate::config::WebSettings::default();
        let now = Utc::now();
        let counts = |pair, address, account_hour| users::LoginCounts { pair, pair_last: Some(now), address, address_last: Some(now), account_hour };
        // Ten failures from another address: the owner's address waits for nothing, a second at most.
        assert_eq!(gate_for(&counts(0, 0, 10), &s, now), Gate::Check { delay: std::time::Duration::from_secs(1) });
        // From the failing address itself: a wait.
        assert!(matches!(gate_for(&counts(10, 10, 10), &s, now), Gate::Wait(w) if w > 0));
        // Never more than a few seconds for the owner, short of a flood.
        assert_eq!(gate_for(&counts(0, 0, 49), &s, now), Gate::Check { delay: std::time::Duration::from_millis(MAX_SHARED_DELAY_MS) });
        assert_eq!(gate_for(&counts(0, 0, 50), &s, now), Gate::Flooded);
    }

    #[test]
    fn a_password_hash_is_argon2id_and_verifies_only_its_password() {
        let h = hash_password("kata sandi yang panjang").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify("kata sandi yang panjang", &h));
        assert!(!verify("kata sandi lain", &h));
        assert!(!verify("x", "not a hash"));
    }
}
