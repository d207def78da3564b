//! Pesanan: a cooperative's orders (the liaison's: everyone's), each with
//! its lines, money, steps after the order, notifications and status
//! history, and the deadline with the working time left. Accept, or reject
//! with a reason, where the catalogue takes answers (through the answers'
//! outbox, as `orders respond`); otherwise the page says where and by when
//! to confirm.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;

use super::Choice;
use super::format::{self, rupiah, when};
use super::{Auth, Layout, PAGE_SIZE, Pager, WebError, WebState, given, page_offset, render};
use crate::domain::fulfilment::Step;
use crate::domain::order::AnswerState;
use crate::store::dashboard::{self, OrderFilter};

#[derive(Debug, Default, serde::Deserialize)]
pub struct OrderQuery {
    koperasi: Option<String>,
    menunggu: Option<String>,
    hal: Option<i64>,
}

pub struct ListRow {
    pub href: String,
    pub order_id: String,
    pub cooperative: String,
    pub status: String,
    pub buyer: String,
    pub items: String,
    pub total: String,
    pub deadline: Option<String>,
    pub left: Option<String>,
    pub urgent: bool,
    pub answer: Option<String>,
}

#[derive(Template)]
#[template(path = "orders.html")]
struct OrdersPage {
    l: Layout,
    coops: Vec<Choice>,
    waiting: bool,
    rows: Vec<ListRow>,
    pager: Pager,
}

/// The deadline in WIB, the working time left, and whether under one working day is left.
pub(super) fn deadline_view(state: &WebState, d: Option<chrono::DateTime<Utc>>, lang: super::i18n::Lang) -> (Option<String>, Option<String>, bool) {
    let now = Utc::now();
    match d {
        Some(d) if d > now => {
            let left = state.calendar.working_time_left(now, d);
            (Some(when(d, lang)), Some(format::working_left(left, lang)), left < chrono::Duration::hours(24))
        }
        Some(d) => (Some(when(d, lang)), Some(lang.texts().passed.to_owned()), true),
        None => (None, None, false),
    }
}

pub async fn list(State(state): State<WebState>, auth: Auth, Query(q): Query<OrderQuery>) -> Result<Response, WebError> {
    let lang = auth.lang;
    let t = auth.t();
    let scope = auth.user.scope();
    let (coops, coop_filter) = super::cooperative_choices(&state, scope, given(&q.koperasi)).await?;
    let waiting = q.menunggu.as_deref() == Some("1");
    let (page, offset) = page_offset(q.hal);
    let filter = OrderFilter { cooperative: coop_filter, waiting, status: None };
    let (rows, more) = dashboard::orders(&state.store, scope, &filter, PAGE_SIZE, offset).await?;
    let rows = rows
        .into_iter()
        .map(|o| {
            let status = &o.status;
            let due = if status.awaits_ppk() {
                o.ppk_deadline
            } else if status.awaits_seller() {
                o.deadline
            } else {
                None
            };
            let (deadline, left, urgent) = deadline_view(&state, due, lang);
            ListRow {
                href: format!("/pesanan/{}", o.id),
                order_id: o.order_id,
                cooperative: o.cooperative,
                status: format::order_status(&o.status, lang),
                buyer: o.buyer.unwrap_or_default(),
                items: o.items.unwrap_or_default(),
                total: rupiah(o.total),
                deadline,
                left,
                urgent: urgent && status.awaits_seller(),
                answer: o.response,
            }
        })
        .collect();
    let params = [("koperasi", q.koperasi.clone()), ("menunggu", waiting.then(|| "1".to_owned()))];
    let pager = Pager::new("/pesanan", &params, page, more);
    let here = Pager::href("/pesanan", &params, page);
    render(&OrdersPage { l: auth.layout("orders", t.orders, &here), coops, waiting, rows, pager })
}

pub struct LineView {
    pub item: String,
    pub sku: String,
    pub member: String,
    pub quantity: String,
    pub unit_price: String,
    pub total: String,
}

pub struct StepView {
    pub label: String,
    pub done: String,
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    l: Layout,
    o: dashboard::OrderHead,
    status: String,
    order_date: String,
    total: String,
    deadline: Option<String>,
    left: Option<String>,
    urgent: bool,
    ppk_deadline: Option<String>,
    ppk_left: Option<String>,
    confirmed_seen: Option<String>,
    /// Accept and reject forms are shown.
    answerable: bool,
    /// Waiting to be confirmed in the INAPROC portal: where and by when.
    portal: bool,
    answer: Option<String>,
    lines: Vec<LineView>,
    money: Vec<(String, String)>,
    money_note: Option<String>,
    steps: Vec<StepView>,
    /// The route's papers: (what, done or when and which, done).
    papers: Vec<(String, String, bool)>,
    next_step: Option<String>,
    route_problems: Vec<String>,
    overdue: Vec<String>,
    notices: Vec<(String, String, String)>,
    history: Vec<(String, String)>,
    /// The ways of paying the form offers: (value, words).
    payment_ways: Vec<(String, String)>,
    /// Products it asks more of than the stock holds, in words.
    short: Vec<String>,
}

fn steps_label(step: Step, lang: super::i18n::Lang) -> String {
    match lang {
        super::i18n::Lang::Id => step.label().to_owned(),
        super::i18n::Lang::En => match step {
            Step::OrderLetter => "signed order letter",
            Step::Shipped => "shipped",
            Step::Delivered => "received by the buyer",
            Step::Bast => "hand-over record (BAST)",
            Step::Faktur => "tax invoice",
            Step::Invoice => "payment invoice",
            Step::LogisticsInvoice => "shipping invoice",
            Step::Ticket => "the PPK's ticket",
            Step::Paid => "payment",
            Step::PaymentWay => "way of paying",
        }
        .to_owned(),
    }
}

pub async fn show(State(state): State<WebState>, auth: Auth, Path(id): Path<i64>, Query(q): Query<AnswerNotice>) -> Result<Response, WebError> {
    let lang = auth.lang;
    let t = auth.t();
    let reading = crate::app::orders::Reading { store: &state.store, tax: &state.tax, fulfilment: &state.fulfilment, today: crate::domain::time::today() };
    let detail = match crate::app::orders::detail(&reading, &crate::app::Actor::user(&auth.user), crate::app::orders::OrderRef::Row(id)).await {
        Ok(d) => d,
        Err(crate::app::orders::DetailError::NotFound(_)) => return Err(WebError::NotFound),
        Err(crate::app::orders::DetailError::Store(e)) => return Err(e.into()),
    };
    let crate::app::orders::OrderDetail { head: o, standing, lines, entries: _, history, notices, short } = detail;
    let short = short
        .into_iter()
        .map(|s| {
            let (asked, stock) = (crate::domain::money::format_number_id(s.asked), crate::domain::money::format_number_id(s.stock));
            match lang {
                super::i18n::Lang::Id => format!("{}: dipesan {asked}, stok {stock}", s.name),
                super::i18n::Lang::En => format!("{}: {asked} ordered, {stock} in stock", s.name),
            }
        })
        .collect();
    let status = &o.status;
    let (deadline, left, urgent) =
        if status.awaits_seller() { deadline_view(&state, o.deadline, lang) } else { (o.deadline.map(|d| when(d, lang)), None, false) };
    let (ppk_deadline, ppk_left, _) = if status.awaits_ppk() { deadline_view(&state, o.ppk_deadline, lang) } else { (None, None, false) };
    let portal = state.orders_from_inaproc;
    // An order is answered once: an answer the catalogue refused stays, with its reason.
    let answered = o.response_state.is_some();
    let answerable = status.answerable(portal).is_ok() && !answered && state.jobs.is_some();
    let answer = o.response.as_ref().map(|d| {
        let decision = if d == "accept" { t.accept } else { t.reject };
        let st = match o.response_state {
            Some(AnswerState::Sent) => t.answer_sent.to_owned(),
            Some(AnswerState::Pending) | None => t.answer_pending.to_owned(),
            Some(AnswerState::Refused) => format!("{}: {}", t.answer_refused, o.response_error.as_deref().unwrap_or("-")),
        };
        let reason = o.response_reason.as_deref().map(|r| format!(" — {r}")).unwrap_or_default();
        format!("{decision}: {st}{reason}")
    });
    let lines = lines
        .into_iter()
        .map(|l| LineView {
            item: l.item.unwrap_or_default(),
            sku: l.sku.unwrap_or_default(),
            member: l.member.unwrap_or_default(),
            quantity: l.quantity.map_or_else(|| t.unknown.to_owned(), |q| format!("{} {}", q.normalize(), l.unit.unwrap_or_default())),
            unit_price: l.unit_price.map_or_else(|| t.unknown.to_owned(), rupiah),
            total: rupiah(l.line_total),
        })
        .collect();
    let StandingView { money, money_note, steps, papers, next_step, route_problems, overdue } =
        standing.map(|s| standing_view(&s, &state, lang)).unwrap_or_default();
    let notices = notices
        .into_iter()
        .map(|n| (format::notification(n.kind, n.channel, lang), format::notification_state(n.state, lang), n.last_error.unwrap_or_default()))
        .collect();
    let history = history
        .into_iter()
        .map(|(at, from, to, kind)| {
            let change = match (from, to) {
                (Some(f), Some(to)) => format!("{} → {}", format::order_status(&f, lang), format::order_status(&to, lang)),
                (None, Some(to)) => format::order_status(&to, lang),
                _ => kind,
            };
            (when(at, lang), change)
        })
        .collect();
    let mut l = auth.layout("orders", format!("{} {}", t.order, o.order_id), &format!("/pesanan/{}", o.id));
    (l.notice, l.alert) = said(&q, t);
    let page = OrderPage {
        status: format::order_status(&o.status, lang),
        order_date: o.order_date.map(|d| when(d, lang)).unwrap_or_default(),
        total: rupiah(o.total),
        deadline,
        left,
        urgent,
        ppk_deadline,
        ppk_left,
        confirmed_seen: o.confirmed_seen_at.map(|d| when(d, lang)),
        answerable,
        portal: status.answerable(portal) == Err(crate::domain::order::NotAnswerable::InPortal) && status.awaits_seller(),
        answer,
        lines,
        money,
        money_note,
        steps,
        papers,
        next_step,
        route_problems,
        overdue,
        notices,
        history,
        short,
        payment_ways: crate::domain::fulfilment::PaymentWay::ALL.iter().map(|w| (w.as_str().to_owned(), state.tax.payment(*w).label.clone())).collect(),
        o,
        l,
    };
    render(&page)
}

/// An order's money, steps and what is overdue, as its page shows them.
#[derive(Default)]
struct StandingView {
    money: Vec<(String, String)>,
    money_note: Option<String>,
    steps: Vec<StepView>,
    papers: Vec<(String, String, bool)>,
    next_step: Option<String>,
    route_problems: Vec<String>,
    overdue: Vec<String>,
}

fn standing_view(s: &crate::orders::fulfilment::Standing, state: &WebState, lang: super::i18n::Lang) -> StandingView {
    let t = lang.texts();
    let m = &s.money;
    let money = vec![
        (t.goods_before_ppn, m.goods_before_ppn),
        (t.ppn, m.ppn),
        (t.pph22, m.pph22),
        (t.pnbp, m.pnbp),
        (t.shipping, m.shipping),
        (t.total, m.total),
        (t.net, m.net_to_cooperative),
        (t.outstanding, s.outstanding),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), rupiah(v)))
    .collect();
    let money_note = Some(format!("{} · {}", state.tax.payment(m.payment).label, s.withholds));
    let shown = |d: &crate::domain::fulfilment::Done| {
        [d.on.map(|on| format::day(on, lang)), d.number.clone().filter(|n| !n.is_empty()), d.amount.map(rupiah)]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let mut steps = Vec::new();
    for step in [Step::Shipped, Step::Delivered, Step::Paid] {
        let done = s.steps.get(&step).map_or_else(|| t.not_yet.to_owned(), shown);
        steps.push(StepView { label: steps_label(step, lang), done: if done.is_empty() { t.yes.to_owned() } else { done } });
    }
    let papers = s
        .papers
        .iter()
        .map(|p| {
            let what = if lang == super::i18n::Lang::Id { p.label.clone() } else { steps_label(p.paper, lang) };
            let state = match s.steps.get(&p.paper).map(shown) {
                Some(d) if !d.is_empty() => format!("{} · {d}", t.paper_done),
                Some(_) => t.paper_done.to_owned(),
                None => t.paper_missing.to_owned(),
            };
            (what, state, p.done)
        })
        .collect();
    let next_step = s.next.map(|n| match (n, lang) {
        (_, super::i18n::Lang::Id) => s.next_step.clone().unwrap_or_default(),
        (crate::orders::fulfilment::Next::Paper(step), _) => format!("Complete: {}", steps_label(step, lang)),
        (crate::orders::fulfilment::Next::Delivery, _) => "Ship the goods, then record when the buyer receives them".into(),
        (crate::orders::fulfilment::Next::Payment, _) => format!("Wait for the payment of {}; record it, or import the bank statement", rupiah(s.outstanding)),
    });
    let overdue = s.overdue.iter().map(|od| format!("{}: {} ({} {})", t.overdue, steps_label(od.step, lang), t.due, format::day(od.due, lang))).collect();
    StandingView { money, money_note, steps, papers, next_step, route_problems: s.route_problems.clone(), overdue }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct AnswerNotice {
    jawab: Option<String>,
    catat: Option<String>,
}

/// The order page's form for the steps after the order (`app::steps::record`).
#[derive(Debug, serde::Deserialize)]
pub struct StepsForm {
    #[serde(default)]
    csrf: String,
    tanggal: Option<String>,
    surat_pesanan: Option<String>,
    dikirim: Option<String>,
    diterima: Option<String>,
    bast: Option<String>,
    faktur: Option<String>,
    tagihan: Option<String>,
    tagihan_ongkir: Option<String>,
    tiket: Option<String>,
    dibayar: Option<String>,
    cara_bayar: Option<String>,
}

/// What the page says after an answer or a recording: (notice, alert).
fn said(q: &AnswerNotice, t: &super::i18n::Texts) -> (Option<String>, Option<String>) {
    let recorded = match q.catat.as_deref() {
        None => None,
        Some("ok") => return (Some(t.recorded.to_owned()), None),
        Some("kosong") => Some(t.record_nothing),
        Some("bast") => Some(t.record_bast_needed),
        Some("faktur") => Some(t.record_faktur_needed),
        Some("dibayar") => Some(t.record_paid_bad),
        Some("tiket") => Some(t.record_ticket_needed),
        Some("rute") => Some(t.record_route_limit),
        Some("tanggal") => Some(t.record_day_bad),
        Some(_) => Some(t.record_other),
    };
    match q.jawab.as_deref() {
        Some("terkirim") => (Some(t.answer_queued.to_owned()), None),
        Some("nanti") => (Some(t.answer_later.to_owned()), None),
        Some("alasan") => (None, Some(t.reason_needed.to_owned())),
        _ => (None, recorded.map(str::to_owned)),
    }
}

/// Records the steps through the use case (the scope, each field checked,
/// the audit entry); the page says how it went, in words of its language.
pub async fn record(State(state): State<WebState>, auth: Auth, Path(id): Path<i64>, Form(form): Form<StepsForm>) -> Result<Response, WebError> {
    use crate::app::steps::{RecordError, Steps};
    auth.check(&form.csrf)?;
    let back = |code: &str| Ok(Redirect::to(&format!("/pesanan/{id}?catat={code}")).into_response());
    let given = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let on = match given(form.tanggal) {
        Some(day) => match chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => return back("tanggal"),
        },
        None => None,
    };
    let payment = match given(form.cara_bayar) {
        Some(way) => match crate::domain::fulfilment::PaymentWay::parse(&way) {
            Some(w) => Some(w),
            None => return back("lain"),
        },
        None => None,
    };
    let steps = Steps {
        on,
        order_letter: given(form.surat_pesanan),
        shipped: form.dikirim.is_some(),
        delivered: form.diterima.is_some(),
        bast: given(form.bast),
        faktur: given(form.faktur),
        invoice: given(form.tagihan),
        logistics_invoice: given(form.tagihan_ongkir),
        ticket: given(form.tiket),
        paid: given(form.dibayar),
        payment,
    };
    let actor = crate::app::Actor::user(&auth.user);
    let by = (auth.user.username.as_str(), &state.tax.routes);
    match crate::app::steps::record(&state.store, &actor, crate::app::orders::OrderRef::Row(id), &steps, by, crate::domain::time::today()).await {
        Ok(_) => back("ok"),
        Err(RecordError::NotFound(_)) => Err(WebError::NotFound),
        Err(RecordError::Store(e)) => Err(e.into()),
        Err(RecordError::Nothing) => back("kosong"),
        Err(RecordError::Invalid { field: "bast", .. }) => back("bast"),
        Err(RecordError::Invalid { field: "faktur", .. }) => back("faktur"),
        Err(RecordError::Invalid { field: "paid", .. }) => back("dibayar"),
        Err(RecordError::Invalid { field: "ticket", .. }) => back("tiket"),
        Err(RecordError::Route(_)) => back("rute"),
        Err(RecordError::Invalid { .. } | RecordError::NoOne) => back("lain"),
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    csrf: String,
    alasan: Option<String>,
}

pub async fn accept(State(state): State<WebState>, auth: Auth, Path(id): Path<i64>, Form(form): Form<AnswerForm>) -> Result<Response, WebError> {
    answer(state, auth, id, form, true).await
}

pub async fn reject(State(state): State<WebState>, auth: Auth, Path(id): Path<i64>, Form(form): Form<AnswerForm>) -> Result<Response, WebError> {
    answer(state, auth, id, form, false).await
}

/// Answers through the use case (`app::orders::answer`: the scope, the
/// rules, the outbox, the audit entry, the send); the page says how it went.
async fn answer(state: WebState, auth: Auth, id: i64, form: AnswerForm, accept: bool) -> Result<Response, WebError> {
    use crate::app::orders::{AnswerError, Answered, Answering, Decision, OrderRef};
    auth.check(&form.csrf)?;
    let decision = if accept { Decision::Accept } else { Decision::Reject(form.alasan.unwrap_or_default()) };
    let sender = format!("{}:web", crate::store::runs::instance_name());
    let ctx =
        Answering { store: &state.store, client: state.jobs.as_ref().map(|j| &j.client), in_portal: state.orders_from_inaproc, ubl: false, sender: &sender };
    let outcome = match crate::app::orders::answer(&ctx, &crate::app::Actor::user(&auth.user), OrderRef::Row(id), &decision).await {
        Ok(o) => o,
        Err(AnswerError::ReasonNeeded) => return Ok(Redirect::to(&format!("/pesanan/{id}?jawab=alasan")).into_response()),
        Err(AnswerError::NotAnswerable { why, .. }) => return Err(WebError::BadRequest(not_answerable(why, auth.lang))),
        Err(AnswerError::AlreadyAnswered { .. } | AnswerError::NoCatalogue) => return Err(WebError::BadRequest(auth.t().not_answerable.to_owned())),
        Err(AnswerError::NotFound(_) | AnswerError::Ambiguous { .. }) => return Err(WebError::NotFound),
        Err(AnswerError::Store(e)) => return Err(e.into()),
        Err(AnswerError::Send(e)) => {
            // Recorded and audited; the next sync sends it.
            tracing::warn!(order = id, error = %e, "an answer from the dashboard is recorded but not sent yet");
            return Ok(Redirect::to(&format!("/pesanan/{id}?jawab=nanti")).into_response());
        }
    };
    let notice = match outcome.answered {
        Answered::Sent { .. } | Answered::AlreadySent => "?jawab=terkirim",
        Answered::Later { .. } => "?jawab=nanti",
        // The page says why.
        Answered::Refused { .. } => "",
    };
    Ok(Redirect::to(&format!("/pesanan/{id}{notice}")).into_response())
}

/// Why an order cannot be answered, in the page's language: the command
/// line says the same in English.
fn not_answerable(why: crate::domain::order::NotAnswerable, lang: super::i18n::Lang) -> String {
    match lang {
        super::i18n::Lang::Id => why.in_indonesian().to_owned(),
        super::i18n::Lang::En => {
            let mut s = why.to_string();
            if let Some(first) = s.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            format!("{s}.")
        }
    }
}
