//! The WhatsApp Business Cloud API: an approved template message per
//! notification (`POST {api_url}/{phone_number_id}/messages` with a bearer
//! token). The body parameters are the order's id, the buyer, the total, the
//! deadline in WIB and the working time left, in Bahasa Indonesia.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::message::{Message, hari, tanggal};
use super::{NotifyError, is_loopback};
use crate::config::WhatsAppSettings;
use crate::domain::money::format_rupiah;
use crate::domain::notification::NotificationKind;
use crate::store::notifications::Due;

/// The bytes of an answer read at most (an error's reason is in its first few hundred).
const ANSWER_BYTES: usize = 64 * 1024;

pub(super) struct WhatsApp {
    endpoint: url::Url,
    token: SecretString,
    language: String,
    arrived: String,
    deadline_near: String,
    overdue: String,
    member_order: String,
    stock_low: String,
    rup_opportunity: String,
    rup_correction: String,
    http: reqwest::Client,
}

/// Why a message did not go.
pub(super) enum Failure {
    /// It may go later (a timeout, a 5xx, a 429, a token refused).
    Later(String),
    /// The API refused it for good (an invalid number, a template not approved): recorded and shown, not retried.
    Refused(String),
}

impl WhatsApp {
    pub(super) fn from_settings(s: &WhatsAppSettings) -> Result<Self, NotifyError> {
        let config = |m: String| NotifyError::Config(format!("notify.whatsapp: {m}"));
        let api = url::Url::parse(s.api_url.trim_end_matches('/')).map_err(|e| config(format!("api_url is not a URL: {e}")))?;
        if api.scheme() != "https" && !(api.scheme() == "http" && is_loopback(&api)) {
            return Err(config("api_url must be https:// (plain http:// only to this machine)".into()));
        }
        if s.phone_number_id.is_empty() || !s.phone_number_id.chars().all(|c| c.is_ascii_digit()) || s.phone_number_id.len() > 30 {
            return Err(config("phone_number_id must be the sending number's id from WhatsApp Manager (digits)".into()));
        }
        let token = s.token().map_err(config)?.ok_or_else(|| config("token (or token_file) is not set".into()))?;
        for (key, name) in [
            ("template_arrived", &s.template_arrived),
            ("template_deadline_near", &s.template_deadline_near),
            ("template_overdue", &s.template_overdue),
            ("template_member_order", &s.template_member_order),
            ("template_stock_low", &s.template_stock_low),
            ("template_rup_opportunity", &s.template_rup_opportunity),
            ("template_rup_correction", &s.template_rup_correction),
        ] {
            if name.is_empty() || name.len() > 512 || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
                return Err(config(format!("{key} {name:?} is not a template name (lower-case letters, digits and _)")));
            }
        }
        let endpoint =
            url::Url::parse(&format!("{}/{}/messages", api.as_str().trim_end_matches('/'), s.phone_number_id)).map_err(|e| config(format!("api_url: {e}")))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| config(format!("cannot build the client: {e}")))?;
        Ok(Self {
            endpoint,
            token,
            language: s.language.clone(),
            arrived: s.template_arrived.clone(),
            deadline_near: s.template_deadline_near.clone(),
            overdue: s.template_overdue.clone(),
            member_order: s.template_member_order.clone(),
            stock_low: s.template_stock_low.clone(),
            rup_opportunity: s.template_rup_opportunity.clone(),
            rup_correction: s.template_rup_correction.clone(),
            http,
        })
    }

    /// The request's body for one notification.
    pub(super) fn body(&self, due: &Due, message: &Message) -> serde_json::Value {
        let template = match due.kind {
            NotificationKind::Arrived => &self.arrived,
            NotificationKind::DeadlineNear | NotificationKind::DeadlineLast => &self.deadline_near,
            NotificationKind::Overdue(_) => &self.overdue,
            NotificationKind::MemberOrder => &self.member_order,
            NotificationKind::StockLow => &self.stock_low,
            NotificationKind::RupOpportunity => &self.rup_opportunity,
            NotificationKind::RupCorrection => &self.rup_correction,
        };
        let text = |t: String| serde_json::json!({"type": "text", "text": t});
        let buyer = text(due.buyer.clone().unwrap_or_else(|| "(tidak disebutkan)".into()));
        let parameters = match (message.plan_news(), message.low_goods(), message.member_news(), message.overdue_step()) {
            // The cooperative, the package, the news; for an opportunity also the goods that fit.
            (Some(p), ..) => {
                let mut v = vec![text(due.cooperative_name.clone()), text(p.package.clone()), text(p.news.clone())];
                if due.kind == NotificationKind::RupOpportunity {
                    v.push(text(if p.goods.is_empty() { "-".into() } else { p.goods.clone() }));
                }
                v
            }
            // The cooperative, the order id, the products and what is left of each.
            (None, Some(low), _, _) => vec![text(due.cooperative_name.clone()), text(due.remote_order_id.clone()), text(low.to_owned())],
            // The member's name, order id, the goods, the day to bring them by, the cooperative.
            (None, None, Some(m), _) => {
                vec![text(m.name.clone()), text(due.remote_order_id.clone()), text(m.goods.clone()), text(hari(m.bring_by)), text(due.cooperative_name.clone())]
            }
            // Order id, buyer, what is still to be received, the due date, the step.
            (None, None, None, Some(o)) => {
                vec![text(due.remote_order_id.clone()), buyer, text(format_rupiah(o.outstanding)), text(hari(o.due)), text(o.step.label().to_owned())]
            }
            // Order id, buyer, total, deadline in WIB, working time left.
            (None, None, None, None) => vec![
                text(due.remote_order_id.clone()),
                buyer,
                text(format_rupiah(due.total)),
                text(due.deadline.map(tanggal).unwrap_or_else(|| "(tidak diketahui)".into())),
                text(message.left().unwrap_or("-").to_owned()),
            ],
        };
        serde_json::json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": due.recipient.trim_start_matches('+'),
            "type": "template",
            "template": {
                "name": template,
                "language": {"code": self.language},
                "components": [{"type": "body", "parameters": parameters}],
            },
        })
    }

    pub(super) async fn send(&self, due: &Due, message: &Message) -> Result<(), Failure> {
        let response = self
            .http
            .post(self.endpoint.clone())
            .bearer_auth(self.token.expose_secret())
            .json(&self.body(due, message))
            .send()
            .await
            .map_err(|e| Failure::Later(format!("WhatsApp API not reached: {}", e.without_url())))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let reason = reason(response).await;
        let said = format!("WhatsApp API answered HTTP {}{}", status.as_u16(), reason.map(|r| format!(": {r}")).unwrap_or_default());
        // A request the API will refuse again (a number that is not on
        // WhatsApp, a template not approved or with other parameters): for good.
        // A token refused, a limit or an outage: later.
        match status.as_u16() {
            400 | 404 | 422 => Err(Failure::Refused(said)),
            _ => Err(Failure::Later(said)),
        }
    }
}

/// The API's reason (`error.message`, with `error.error_data.details`), read
/// from at most [`ANSWER_BYTES`] of the answer and cut to 300 characters.
async fn reason(mut response: reqwest::Response) -> Option<String> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk[..chunk.len().min(ANSWER_BYTES - body.len())]);
        if body.len() >= ANSWER_BYTES {
            break;
        }
    }
    let v: serde_json::Value = serde_json::from_slice(&body).ok()?;
    let e = &v["error"];
    let mut r = e["message"].as_str()?.to_owned();
    if let Some(details) = e["error_data"]["details"].as_str() {
        r.push_str(" (");
        r.push_str(details);
        r.push(')');
    }
    Some(crate::domain::tidy(&r).chars().filter(|c| !c.is_control()).take(300).collect())
}
