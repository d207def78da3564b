//! Telling cooperative staff that an order waits: when it arrives, and again
//! when less than one working day is left to confirm it. By e-mail (SMTP,
//! lettre) to the cooperative's address, by a signed webhook (a JSON POST
//! with `X-Katalog-Bridge-Signature: sha256=HEX`, the HMAC-SHA256 of the body
//! under the shared secret), and/or by WhatsApp (an approved template through
//! the Business Cloud API, to the cooperative's number; a refusal for good is
//! recorded with its reason and not retried).
//!
//! Exactly once: a notification is a row of the outbox, unique per order,
//! kind and channel, queued whenever a sync sees the order (a second queue
//! does nothing), claimed with a lease before it is sent, and retried with
//! backoff when sending fails. A notification about an order no longer
//! waiting when its turn comes is dropped as moot.

pub mod message;
mod whatsapp;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{KeyInit, Mac};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};

use crate::config::NotifySettings;
use crate::domain::calendar::WorkingCalendar;
use crate::domain::notification::{NotificationChannel, NotificationKind};
use crate::domain::order::OrderStatus;
use crate::domain::rup::NoticeKind;
use crate::store::claims;
use crate::store::notifications::{self, Due, Sent};
use crate::store::{Store, StoreError};

/// The header carrying the body's signature.
pub const SIGNATURE_HEADER: &str = "X-Katalog-Bridge-Signature";
/// The header carrying the notification's id, the same on every retry, so a
/// receiver can drop a repeat of a delivery it already took.
pub const DELIVERY_HEADER: &str = "X-Katalog-Bridge-Delivery";
/// Attempts before a notification is given up (about a day of backoff).
pub const MAX_ATTEMPTS: i32 = 10;
const BATCH: i64 = 50;
const LEASE: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("notify: {0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

struct Webhook {
    url: url::Url,
    secret: SecretString,
    http: reqwest::Client,
}

struct Email {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: lettre::message::Mailbox,
}

pub struct Notifier {
    /// How long a claimed notification is held before another pass may take
    /// it, unless its pass, still alive, renews it.
    lease: Duration,
    webhook: Option<Webhook>,
    email: Option<Email>,
    whatsapp: Option<whatsapp::WhatsApp>,
    calendar: Arc<WorkingCalendar>,
    /// The tax rules and due dates with which steps after the order are
    /// found overdue and notified; none when not given.
    after: Option<(Arc<crate::mapping::tax::TaxRules>, crate::config::FulfilmentSettings)>,
    /// When waiting orders are told of.
    reminders: crate::config::ReminderSettings,
    /// Whether orders are confirmed in the e-catalogue's portal (read from INAPROC).
    portal: bool,
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotifyCounts {
    pub queued: u64,
    pub sent: u64,
    pub failed: u64,
    pub moot: u64,
}

/// The HMAC-SHA256 of `body` under `secret`, as `sha256=` and lowercase hex.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let signed = [timestamp.to_string().as_bytes(), b".", body].concat();
    format!("t={timestamp},v1={}", hmac_hex(secret, &signed))
}

/// HMAC-SHA256 of `data`, in hex.
fn hmac_hex(secret: &[u8], data: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}

impl Notifier {
    /// The notifier the settings describe, or `None` when neither channel is set.
    pub fn from_settings(settings: &NotifySettings, calendar: Arc<WorkingCalendar>) -> Result<Option<Self>, NotifyError> {
        let webhook = match &settings.webhook_url {
            None => None,
            Some(raw) => {
                let url = url::Url::parse(raw.expose_secret()).map_err(|e| NotifyError::Config(format!("webhook_url is not a URL: {e}")))?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(NotifyError::Config("webhook_url must be http:// or https://".into()));
                }
                if url.scheme() == "http" && !is_loopback(&url) && !settings.webhook_allow_http {
                    return Err(NotifyError::Config(
                        "webhook_url is plain http:// to another machine: use https://, or set notify.webhook_allow_http = true to send unencrypted".into(),
                    ));
                }
                let secret = settings
                    .webhook_secret()
                    .map_err(NotifyError::Config)?
                    .ok_or_else(|| NotifyError::Config("webhook_url is set without webhook_secret (or webhook_secret_file) to sign with".into()))?;
                let http = reqwest::Client::builder()
                    .timeout(Duration::from_secs(15))
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(|e| NotifyError::Config(format!("cannot build the webhook client: {e}")))?;
                Some(Webhook { url, secret, http })
            }
        };
        let email = match &settings.smtp_url {
            None => None,
            Some(raw) => {
                let mut parsed =
                    url::Url::parse(raw.expose_secret()).map_err(|_| NotifyError::Config("smtp_url is not a URL like smtps://user@mail.example:465".into()))?;
                let tls = parsed.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.into_owned());
                let encrypted = parsed.scheme() == "smtps" || tls.as_deref() == Some("required");
                let password = settings.smtp_password().map_err(NotifyError::Config)?;
                if !encrypted && (password.is_some() || parsed.password().is_some()) && tls.as_deref() != Some("none") {
                    return Err(NotifyError::Config(
                        "smtp_url would send the password unencrypted (smtp:// without ?tls=required; tls=opportunistic can be stripped on the way): \
                         use smtps://... or ?tls=required, or say ?tls=none to allow it (a local relay only)"
                            .into(),
                    ));
                }
                // `tls=none` is ours (lettre knows no such value): a plain connection, said explicitly.
                if tls.as_deref() == Some("none") {
                    let kept: Vec<(String, String)> = parsed.query_pairs().filter(|(k, _)| k != "tls").map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
                    parsed.set_query(None);
                    if !kept.is_empty() {
                        parsed.query_pairs_mut().extend_pairs(kept);
                    }
                }
                let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(parsed.as_str())
                    .map_err(|e| NotifyError::Config(format!("smtp_url: {e}")))?
                    .timeout(Some(Duration::from_secs(30)));
                if let Some(ca) = &settings.smtp_ca_file {
                    builder = builder.tls(private_ca_tls(&parsed, ca, tls.as_deref())?);
                }
                if let Some(password) = password {
                    let user = percent_decode(parsed.username());
                    builder = builder.credentials(lettre::transport::smtp::authentication::Credentials::new(user, password.expose_secret().to_owned()));
                }
                let from = settings
                    .from
                    .as_deref()
                    .ok_or_else(|| NotifyError::Config("smtp_url is set without from (e.g. \"katalog-bridge <noreply@example.go.id>\")".into()))?
                    .parse()
                    .map_err(|e| NotifyError::Config(format!("from is not an address: {e}")))?;
                Some(Email { transport: builder.build(), from })
            }
        };
        let whatsapp = settings.whatsapp.as_ref().map(whatsapp::WhatsApp::from_settings).transpose()?;
        let reminders = settings.reminders.clone();
        Ok((webhook.is_some() || email.is_some() || whatsapp.is_some()).then_some(Self {
            lease: LEASE,
            webhook,
            email,
            whatsapp,
            calendar,
            after: None,
            reminders,
            portal: false,
        }))
    }

    /// The same notifier, also telling cooperatives of steps after the order
    /// past their due date (once per order, step and channel).
    pub fn with_overdue(self, rules: Arc<crate::mapping::tax::TaxRules>, settings: crate::config::FulfilmentSettings) -> Self {
        Self { after: Some((rules, settings)), ..self }
    }

    /// The same notifier, telling cooperatives to confirm in the e-catalogue's
    /// portal (orders read from INAPROC: no program can confirm for them).
    pub fn confirming_in_portal(self, portal: bool) -> Self {
        Self { portal, ..self }
    }

    /// The same notifier with another lease (tests shorten it).
    pub fn with_lease(self, lease: Duration) -> Self {
        Self { lease, ..self }
    }

    /// Queues what is due, then sends what is queued; problems are logged
    /// (the outbox keeps what was not sent).
    pub async fn queue_and_send(&self, store: &Store) -> NotifyCounts {
        let mut counts = NotifyCounts::default();
        match self.queue(store, Utc::now()).await {
            Ok(n) => counts.queued = n,
            Err(e) => tracing::warn!(error = %e, "cannot queue notifications"),
        }
        match self.send_due(store).await {
            Ok(c) => {
                counts.sent = c.sent;
                counts.failed = c.failed;
                counts.moot = c.moot;
            }
            Err(e) => tracing::warn!(error = %e, "cannot send notifications"),
        }
        if counts != NotifyCounts::default() {
            tracing::info!(queued = counts.queued, sent = counts.sent, failed = counts.failed, moot = counts.moot, "notifications");
        }
        counts
    }

    /// Queues an `arrived` notification for every waiting order, and a
    /// `deadline_near` one for those with less than a working day left, on
    /// each configured channel. Returns how many are new.
    pub async fn queue(&self, store: &Store, now: DateTime<Utc>) -> Result<u64, NotifyError> {
        // Each member whose products an accepted order holds, once: by WhatsApp where both can, else by e-mail.
        let mut members = Vec::new();
        for m in notifications::members_to_tell(store).await? {
            match (&self.whatsapp, &m.phone, &self.email, &m.email) {
                (Some(_), Some(phone), _, _) => members.push((m.order_id, m.member_id, NotificationChannel::WhatsApp, phone.clone())),
                (_, _, Some(_), Some(email)) => members.push((m.order_id, m.member_id, NotificationChannel::Email, email.clone())),
                _ => {}
            }
        }
        let told = notifications::queue_for_members(store, &members).await?;
        let mut rows: Vec<(i64, NotificationKind, NotificationChannel, String)> = Vec::new();
        // What the purchase plan's job decided to tell each cooperative (`rup_notices`).
        for n in crate::store::rup::notices_to_send(store).await? {
            let kind = if n.kind == NoticeKind::Opportunity { NotificationKind::RupOpportunity } else { NotificationKind::RupCorrection };
            self.channels(&mut rows, n.id, kind, n.email.as_ref(), n.whatsapp.as_ref());
        }
        // A cooperative whose products an order brought to their threshold, once.
        for w in notifications::stock_low_to_tell(store).await? {
            self.channels(&mut rows, w.order_id, NotificationKind::StockLow, w.email.as_ref(), w.whatsapp.as_ref());
        }
        for w in notifications::waiting(store, now).await? {
            for kind in self.reminders_due(w.deadline, now) {
                self.channels(&mut rows, w.order_id, kind, w.email.as_ref(), w.whatsapp.as_ref());
            }
        }
        if let Some((rules, settings)) = &self.after {
            let contacts = notifications::contacts(store).await?;
            for s in crate::orders::fulfilment::overdue_orders(store, rules, settings, None).await? {
                let (email, whatsapp) = contacts.get(&s.cooperative).cloned().unwrap_or_default();
                for o in &s.overdue {
                    let kind = NotificationKind::Overdue(o.step);
                    self.channels(&mut rows, s.id, kind, email.as_ref(), whatsapp.as_ref());
                }
            }
        }
        Ok(told + notifications::queue(store, &rows).await?)
    }

    /// The reminders due for an order waiting with this deadline: the
    /// arrival, and the tightest point of `[notify.reminders]` passed (an
    /// order first seen with 3 working hours left gets the last reminder, not
    /// both). Each is queued once per order and channel, whenever asked.
    pub fn reminders_due(&self, deadline: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Vec<NotificationKind> {
        let r = &self.reminders;
        let mut kinds: Vec<NotificationKind> = Vec::new();
        if r.on_arrival {
            kinds.push(NotificationKind::Arrived);
        }
        if let Some(d) = deadline {
            let left = self.calendar.working_time_left(now, d);
            let within = |hours: u32| hours > 0 && left < chrono::Duration::hours(i64::from(hours));
            if within(r.last_hours_left) {
                kinds.push(NotificationKind::DeadlineLast);
            } else if within(r.near_hours_left) {
                kinds.push(NotificationKind::DeadlineNear);
            }
        }
        kinds
    }

    /// A row per configured channel that has a recipient.
    fn channels(
        &self,
        rows: &mut Vec<(i64, NotificationKind, NotificationChannel, String)>,
        order: i64,
        kind: NotificationKind,
        email: Option<&String>,
        whatsapp: Option<&String>,
    ) {
        if self.webhook.is_some() {
            rows.push((order, kind, NotificationChannel::Webhook, "webhook".into()));
        }
        if let (Some(_), Some(to)) = (&self.email, email) {
            rows.push((order, kind, NotificationChannel::Email, to.clone()));
        }
        if let (Some(_), Some(to)) = (&self.whatsapp, whatsapp) {
            rows.push((order, kind, NotificationChannel::WhatsApp, to.clone()));
        }
    }

    /// Sends the notifications due now, batch by batch.
    /// Each pass claims under a name of its own and renews its leases while it
    /// sends, so a delivery slower than the lease (a slow SMTP server or
    /// webhook) is never taken and sent again by another pass.
    pub async fn send_due(&self, store: &Store) -> Result<NotifyCounts, NotifyError> {
        self.send_due_at(store, Utc::now()).await
    }

    /// As [`Notifier::send_due`], the messages written as of `now` (the
    /// working time left they state; tests inject the clock).
    pub async fn send_due_at(&self, store: &Store, now: DateTime<Utc>) -> Result<NotifyCounts, NotifyError> {
        let claimant = claims::Claimant::for_pass(store, "notify", self.lease);
        let instance = claimant.name.as_str();
        let mut counts = NotifyCounts::default();
        loop {
            let batch = notifications::claim_due(store, instance, BATCH, self.lease.as_secs_f64()).await?;
            if batch.is_empty() {
                return Ok(counts);
            }
            for due in batch {
                let sent = self.send_one(store, &due, now).await;
                match &sent {
                    Sent::Sent => counts.sent += 1,
                    Sent::Moot => counts.moot += 1,
                    Sent::Failed { error, retry_secs } => {
                        counts.failed += 1;
                        tracing::warn!(
                            notification = due.id,
                            order = due.remote_order_id,
                            channel = due.channel.name(),
                            error,
                            retry = retry_secs.is_some(),
                            "notification not sent"
                        );
                    }
                }
                metrics::counter!("katalog_bridge_notifications_total", "channel" => due.channel.name(), "outcome" => match sent { Sent::Sent => "sent", Sent::Moot => "moot", Sent::Failed { .. } => "failed" }).increment(1);
                notifications::record(store, instance, due.id, &sent).await?;
            }
        }
    }

    async fn send_one(&self, store: &Store, due: &Due, now: DateTime<Utc>) -> Sent {
        let message = match due.kind {
            NotificationKind::RupOpportunity | NotificationKind::RupCorrection => match self.plan_message(store, due, now).await {
                Ok(Some(m)) => m,
                Ok(None) => return Sent::Moot,
                Err(e) => return self.failed(due, format!("cannot read the plan package: {e}")),
            },
            NotificationKind::Overdue(step) => match self.still_overdue(store, due, step).await {
                Ok(Some(o)) => message::Message::overdue(due, o),
                // Done since, or the order cancelled: nothing to say.
                Ok(None) => return Sent::Moot,
                Err(e) => return self.failed(due, format!("cannot read the order's steps: {e}")),
            },
            NotificationKind::StockLow => {
                let fallen = match notifications::fallen(store, &due.remote_order_id).await {
                    Ok(fallen) => fallen,
                    Err(e) => return self.failed(due, format!("cannot read the products' stock: {e}")),
                };
                if fallen.is_empty() {
                    return Sent::Moot;
                }
                message::Message::stock_low(due, &fallen)
            }
            NotificationKind::MemberOrder => {
                // A member is told of an order the cooperative has accepted, and still holds.
                if !due.order_status.as_ref().is_some_and(OrderStatus::accepted_by_seller) {
                    return Sent::Moot;
                }
                let Some(member) = due.member_id else { return Sent::Moot };
                let (name, items) = match notifications::member_items(store, &due.remote_order_id, member).await {
                    Ok(found) => found,
                    Err(e) => return self.failed(due, format!("cannot read the member's lines: {e}")),
                };
                if items.is_empty() {
                    return Sent::Moot;
                }
                let goods = items
                    .iter()
                    .map(|(d, q, u)| match q {
                        Some(q) => format!("{d} × {} {}", crate::domain::money::format_number_id(*q), u.as_deref().unwrap_or("")).trim_end().to_owned(),
                        None => d.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                let bring_by = self.calendar.add_working_days(now, self.reminders.member_working_days).with_timezone(&chrono_tz::Asia::Jakarta).date_naive();
                message::Message::member(due, message::MemberNews { name, goods, bring_by })
            }
            NotificationKind::Arrived | NotificationKind::DeadlineNear | NotificationKind::DeadlineLast => {
                if !due.order_status.as_ref().is_some_and(OrderStatus::awaits_seller) {
                    return Sent::Moot;
                }
                let items = match notifications::items(store, &due.remote_order_id).await {
                    Ok(items) => items,
                    Err(e) => return self.failed(due, format!("cannot read the order's lines: {e}")),
                };
                let short = match crate::store::stock::short_of_remote(store, &due.remote_order_id).await {
                    Ok(short) => short,
                    Err(e) => return self.failed(due, format!("cannot read the order's stock: {e}")),
                };
                message::Message::new(due, &items, &self.calendar, now, self.portal).with_short(&short)
            }
        };
        let later = whatsapp::Failure::Later;
        let result = match due.channel {
            NotificationChannel::Webhook => match &self.webhook {
                Some(w) => self.post(w, due, &message).await.map_err(later),
                None => Err(later("the webhook is no longer configured".into())),
            },
            NotificationChannel::Email => match &self.email {
                Some(e) => self.mail(e, due, &message).await.map_err(later),
                None => Err(later("e-mail is no longer configured".into())),
            },
            NotificationChannel::WhatsApp => match &self.whatsapp {
                Some(w) => w.send(due, &message).await,
                None => Err(later("WhatsApp is no longer configured".into())),
            },
        };
        match result {
            Ok(()) => Sent::Sent,
            Err(whatsapp::Failure::Later(why)) => self.failed(due, why),
            Err(whatsapp::Failure::Refused(why)) => Sent::Failed { error: why, retry_secs: None },
        }
    }

    /// The step of an overdue notification as it stands now: `None` once it
    /// is done (or the order cancelled, or overdue notices no longer configured).
    async fn still_overdue(&self, store: &Store, due: &Due, step: crate::domain::fulfilment::Step) -> Result<Option<message::Overdue>, StoreError> {
        let Some((rules, settings)) = &self.after else { return Ok(None) };
        let Some(id) = crate::store::orders::order_db_id(store, &due.remote_order_id).await? else { return Ok(None) };
        let facts =
            crate::store::orders::facts(store, &crate::store::orders::FactsFilter { order_db_id: Some(id), live_only: true, ..Default::default() }).await?;
        Ok(facts.first().and_then(|f| {
            let s = crate::orders::fulfilment::standing(f, rules, settings, crate::domain::time::today());
            s.overdue.iter().find(|o| o.step == step).map(|o| message::Overdue { step, due: o.due, days_late: o.days_late, outstanding: s.outstanding })
        }))
    }

    /// What a plan notice says, as the package stands now: `None` when an
    /// opportunity is no longer open (moved past, withdrawn: its correction
    /// tells that), or the notice is gone.
    async fn plan_message(&self, store: &Store, due: &Due, now: DateTime<Utc>) -> Result<Option<message::Message>, StoreError> {
        let Some(id) = due.rup_notice_id else { return Ok(None) };
        let Some((kind, told, cooperative, row)) = crate::store::rup::notice(store, id).await? else { return Ok(None) };
        let today = now.with_timezone(&chrono_tz::Asia::Jakarta).date_naive();
        let Some(package) = crate::rup::view::for_notice(store, &row.kd_rup, cooperative, today).await? else { return Ok(None) };
        Ok(match kind {
            NoticeKind::Opportunity if !package.open => None,
            NoticeKind::Opportunity => Some(message::Message::plan_opportunity(due, &package)),
            NoticeKind::Moved | NoticeKind::Withdrawn => Some(message::Message::plan_correction(due, &package, kind, told)),
        })
    }

    /// A failure: tried again after a backoff that doubles from 30 s up to an
    /// hour, given up after [`MAX_ATTEMPTS`].
    fn failed(&self, due: &Due, error: String) -> Sent {
        let attempt = due.attempts + 1;
        let retry_secs = (attempt < MAX_ATTEMPTS).then(|| claims::Retry::backoff_secs(attempt) as f64);
        Sent::Failed { error, retry_secs }
    }

    async fn post(&self, w: &Webhook, due: &Due, message: &message::Message) -> Result<(), String> {
        let body = serde_json::to_vec(&message.json(due)).map_err(|e| e.to_string())?;
        let response = w
            .http
            .post(w.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature(w.secret.expose_secret().as_bytes(), Utc::now().timestamp(), &body))
            .header(DELIVERY_HEADER, due.id.to_string())
            .body(body)
            .send()
            .await
            // Without the URL: it may carry a token of the gateway's.
            .map_err(|e| format!("webhook not reached: {}", e.without_url()))?;
        let status = response.status();
        if status.is_success() { Ok(()) } else { Err(format!("webhook answered HTTP {}", status.as_u16())) }
    }

    async fn mail(&self, e: &Email, due: &Due, message: &message::Message) -> Result<(), String> {
        let to: lettre::message::Mailbox =
            due.recipient.parse().map_err(|err| format!("the cooperative's e-mail address {:?} is not valid: {err}", due.recipient))?;
        let email = lettre::Message::builder()
            .from(e.from.clone())
            .to(to)
            .subject(message.subject.clone())
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(message.text.clone())
            .map_err(|err| format!("cannot build the e-mail: {err}"))?;
        e.transport.send(email).await.map(|_| ()).map_err(|err| format!("SMTP: {err}"))
    }
}

/// Whether a URL's host is this machine (127.0.0.0/8, ::1 or `localhost`).
pub(crate) fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// `%40` in a URL's user name back to `@`.
fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("u={}", s.replace('+', "%2B")).as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_else(|| s.to_owned())
}

/// TLS for an SMTP server whose certificate a private CA signed: the CA file's
/// certificates are trusted besides the system's, with the URL's mode.
fn private_ca_tls(url: &url::Url, ca: &std::path::Path, tls: Option<&str>) -> Result<lettre::transport::smtp::client::Tls, NotifyError> {
    use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
    let host = url.host_str().ok_or_else(|| NotifyError::Config("smtp_url has no host".into()))?;
    let pem = std::fs::read(ca).map_err(|e| NotifyError::Config(format!("smtp_ca_file {}: {e}", ca.display())))?;
    let cert = Certificate::from_pem(&pem).map_err(|e| NotifyError::Config(format!("smtp_ca_file {}: not PEM certificates ({e})", ca.display())))?;
    let params = TlsParameters::builder(host.to_owned())
        .add_root_certificate(cert)
        .build_rustls()
        .map_err(|e| NotifyError::Config(format!("smtp_ca_file {}: {e}", ca.display())))?;
    match (url.scheme(), tls) {
        ("smtps", _) => Ok(Tls::Wrapper(params)),
        (_, Some("required")) => Ok(Tls::Required(params)),
        _ => Err(NotifyError::Config("smtp_ca_file is set for a connection without TLS: use smtps://... or ?tls=required".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_rfc_4231_test_vector() {
        // RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(hmac_hex(b"Jefe", b"what do ya want for nothing?"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        // The signature is over `t.body`, so the same body at another time signs differently.
        assert_eq!(signature(b"Jefe", 1_765_000_000, b"{}"), format!("t=1765000000,v1={}", hmac_hex(b"Jefe", b"1765000000.{}")));
        assert_ne!(signature(b"Jefe", 1, b"{}"), signature(b"Jefe", 2, b"{}"));
    }
}
