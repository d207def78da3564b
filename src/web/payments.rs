//! Pembayaran: a cooperative's bank statement uploaded (the same use case
//! and limits as `payments import`), what it matched, and the credits left
//! for the staff, each assigned to its order from a list of the orders that
//! fit (or every unpaid order of the cooperative).

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};

use super::uploads::{Received, receive};
use super::{Auth, Choice, Layout, WebError, WebState, render};
use crate::app::payments::{Paying, PaymentsError};
use crate::domain::money::format_rupiah;

/// Credits shown per list.
const SHOWN: i64 = 100;

pub struct Outcome {
    pub file: String,
    pub cooperative: String,
    pub credits: usize,
    pub already: usize,
    pub matched: usize,
    pub open: usize,
    pub problems: Vec<(u64, String, String)>,
}

pub struct CreditView {
    pub id: i64,
    pub cooperative: String,
    pub day: String,
    pub amount: String,
    pub words: String,
    pub why: String,
    /// The orders it may be assigned to: (id, words).
    pub orders: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "payments.html")]
struct PaymentsPage {
    l: Layout,
    coops: Vec<Choice>,
    /// The banks' formats: (name, words).
    banks: Vec<(String, String)>,
    outcome: Option<Outcome>,
    open: Vec<CreditView>,
    recorded: Vec<CreditView>,
}

fn paying(state: &WebState) -> Paying<'_> {
    Paying { store: &state.store, tax: &state.tax, fulfilment: &state.fulfilment, import: &state.import, today: crate::domain::time::today() }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct Said {
    tetapkan: Option<String>,
}

async fn payments_page(
    state: &WebState,
    auth: &Auth,
    outcome: Option<Outcome>,
    (notice, alert): (Option<String>, Option<String>),
) -> Result<Response, WebError> {
    let t = auth.t();
    let lang = auth.lang;
    let actor = crate::app::Actor::user(&auth.user);
    let (coops, _) = super::cooperative_choices(state, auth.user.scope(), None).await?;
    let credits = crate::app::payments::list(&state.store, &actor, None, false, SHOWN).await.map_err(payments_error)?;
    // The unpaid orders are read only when a waiting credit has no orders of its own to offer.
    let unpaid = if credits.iter().any(|c| c.state.open() && c.candidates.is_empty()) {
        crate::app::payments::unpaid(&paying(state), &actor).await.map_err(payments_error)?
    } else {
        Vec::new()
    };
    let view = |c: &crate::store::payments::CreditRow| {
        let why = match (&c.order, c.state.open()) {
            (Some(order), _) => format!("{} · {order}", super::format::credit_state(c.state, lang)),
            (None, _) => c.why.clone().unwrap_or_else(|| super::format::credit_state(c.state, lang)),
        };
        let fitting: Vec<(String, String)> = if c.candidates.is_empty() {
            unpaid.iter().filter(|u| u.0 == c.cooperative).map(|u| (u.1.clone(), format!("{} · {}", u.1, format_rupiah(u.2)))).collect()
        } else {
            c.candidates.iter().map(|o| (o.clone(), o.clone())).collect()
        };
        CreditView {
            id: c.id,
            cooperative: c.cooperative.clone(),
            day: super::format::day(c.booked_on, lang),
            amount: format_rupiah(c.amount),
            words: [Some(c.description.as_str()), c.reference.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" · "),
            why,
            orders: fitting,
        }
    };
    let open = credits.iter().filter(|c| c.state.open()).map(view).collect();
    let recorded = credits.iter().filter(|c| !c.state.open()).map(view).collect();
    let mut l = auth.layout("payments", t.payments, "/pembayaran");
    (l.notice, l.alert) = (notice, alert);
    let banks = crate::mapping::banks::names(&state.mappings)
        .into_iter()
        .map(|name| {
            let label = crate::mapping::banks::BankFormat::load(&state.mappings, Some(&name)).map(|b| b.label).unwrap_or_default();
            (name, label)
        })
        .collect();
    render(&PaymentsPage { l, coops, banks, outcome, open, recorded })
}

fn payments_error(e: PaymentsError) -> WebError {
    match e {
        PaymentsError::Store(e) => e.into(),
        PaymentsError::UnknownCooperative(_) | PaymentsError::NoCredit(_) => WebError::NotFound,
        other => WebError::BadRequest(other.to_string()),
    }
}

pub async fn page(State(state): State<WebState>, auth: Auth, Query(q): Query<Said>) -> Result<Response, WebError> {
    let t = auth.t();
    let said = match q.tetapkan.as_deref() {
        Some("ok") => (Some(t.recorded.to_owned()), None),
        Some(_) => (None, Some(t.assign_refused.to_owned())),
        None => (None, None),
    };
    payments_page(&state, &auth, None, said).await
}

/// The statement's upload: as any upload (the CSRF field first, the file
/// streamed to a private folder and capped), then imported for the
/// cooperative (the staff's own, or the liaison's choice).
pub async fn upload(State(state): State<WebState>, auth: Auth, multipart: Multipart) -> Result<Response, WebError> {
    let t = auth.t();
    let dir = tempfile::Builder::new().prefix("kb-rekening-").tempdir().map_err(|e| WebError::Internal(format!("a temporary folder: {e}")))?;
    let (texts, saved) = match receive(&state, &auth, multipart, dir.path(), &["koperasi", "bank"]).await? {
        Received::File { texts, saved } => (texts, saved),
        Received::Refused(why) => return payments_page(&state, &auth, None, (None, Some(why))).await,
    };
    let Some((path, original)) = saved else { return payments_page(&state, &auth, None, (None, Some(t.no_file.to_owned()))).await };
    let text = |k: &str| texts.iter().find(|(n, _)| *n == k).map(|(_, v)| v.trim().to_owned()).filter(|v| !v.is_empty());
    let (named, bank) = (text("koperasi"), text("bank"));
    if named.is_none() && auth.user.cooperative.is_none() {
        return Err(WebError::NotFound);
    }
    let actor = crate::app::Actor::user(&auth.user);
    let imported =
        crate::app::payments::import(&paying(&state), &actor, (&path, &original), (named.as_deref(), bank.as_deref()), &auth.user.username, &state.mappings)
            .await;
    let report = match imported {
        Ok(r) => r,
        Err(PaymentsError::Statement(e)) => {
            // The error names the temporary path: say the user's file instead.
            let why = match auth.lang {
                super::i18n::Lang::Id => e.in_indonesian(&original),
                super::i18n::Lang::En => e.to_string().replace(&path.display().to_string(), &original),
            };
            return payments_page(&state, &auth, None, (None, Some(format!("{}: {why}", t.upload_failed)))).await;
        }
        Err(PaymentsError::Mapping(e)) => return payments_page(&state, &auth, None, (None, Some(format!("{}: {e}", t.upload_failed)))).await,
        Err(e) => return Err(payments_error(e)),
    };
    let outcome = Outcome {
        file: original,
        cooperative: report.cooperative,
        credits: report.credits,
        already: report.already,
        matched: report.matched.len(),
        open: report.ambiguous + report.unmatched,
        problems: report.problems.into_iter().map(|p| (p.line, p.column, p.why)).collect(),
    };
    payments_page(&state, &auth, Some(outcome), (None, None)).await
}

#[derive(Debug, serde::Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    csrf: String,
    pesanan: Option<String>,
}

/// Assigns a credit waiting for the staff to the order chosen.
pub async fn assign(State(state): State<WebState>, auth: Auth, Path(id): Path<i64>, axum::Form(form): axum::Form<AssignForm>) -> Result<Response, WebError> {
    auth.check(&form.csrf)?;
    let Some(order) = form.pesanan.as_deref().map(str::trim).filter(|o| !o.is_empty()) else {
        return Ok(Redirect::to("/pembayaran?tetapkan=pesanan").into_response());
    };
    let actor = crate::app::Actor::user(&auth.user);
    match crate::app::payments::assign(&paying(&state), &actor, id, order, &auth.user.username).await {
        Ok(_) => Ok(Redirect::to("/pembayaran?tetapkan=ok").into_response()),
        Err(PaymentsError::NoOrder(_)) => Ok(Redirect::to("/pembayaran?tetapkan=pesanan").into_response()),
        Err(e) => Err(payments_error(e)),
    }
}
