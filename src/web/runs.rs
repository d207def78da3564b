//! Jalankan sekarang (the liaison's) and Riwayat: a job started from the
//! page goes through the same job lock as the scheduler and the commands,
//! and is refused, with the holder's name, while one runs; the page follows
//! its progress. The history lists the runs and the audit log of every
//! action taken on a page (a cooperative's user: their own cooperative's).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;

use super::auth::CsrfForm;
use super::format::{self, when};
use super::{Auth, Layout, PAGE_SIZE, Pager, WebError, WebState, page_offset, render};
use crate::app::runs::StartError;
use crate::domain::job::Job;
use crate::store::{dashboard, runs};

pub struct JobView {
    pub name: &'static str,
    pub label: String,
    pub running: Option<String>,
    pub last: Option<String>,
}

#[derive(Template)]
#[template(path = "run.html")]
struct RunPage {
    l: Layout,
    jobs: Vec<JobView>,
    refresh: bool,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct RunQuery {
    mulai: Option<String>,
    sibuk: Option<String>,
}

/// The run-now page is the liaison's: to anyone else it does not exist.
fn liaison_only(auth: &Auth) -> Result<(), WebError> {
    if auth.user.is_liaison() { Ok(()) } else { Err(WebError::NotFound) }
}

pub async fn page(State(state): State<WebState>, auth: Auth, Query(q): Query<RunQuery>) -> Result<Response, WebError> {
    liaison_only(&auth)?;
    let lang = auth.lang;
    let t = auth.t();
    let now = Utc::now();
    let last = dashboard::last_runs(&state.store, None, &Job::ALL.map(Job::name)).await?;
    let mut jobs = Vec::new();
    for job in Job::ALL {
        let running = match runs::running_since(&state.store, job.name()).await? {
            Some(since) => {
                let holder = runs::lock_holder(&state.store, job).await?.unwrap_or_default();
                let minutes = (now - since).num_minutes().max(0);
                Some(format!("{} {} · {} {minutes} {} · {holder}", t.running_now, when(since, lang), t.since, lang.pick("menit", "min")))
            }
            None => None,
        };
        let last = last.iter().find(|r| r.kind == job.name()).map(|r| {
            format!(
                "{}: {} ({}){}",
                t.last_runs,
                format::run_status(r.status, lang),
                when(r.finished_at.unwrap_or(r.started_at), lang),
                format::run_error(r.error_code.as_deref(), r.error.as_deref(), lang).map(|e| format!(" — {e}")).unwrap_or_default()
            )
        });
        jobs.push(JobView { name: job.name(), label: format::job(job.name(), lang), running, last });
    }
    let refresh = jobs.iter().any(|j| j.running.is_some()) || q.mulai.is_some();
    let mut l = auth.layout("run", t.run_now, "/jalankan");
    if let Some(job) = q.mulai.as_deref().and_then(Job::parse) {
        l.notice = Some(format!("{} {}", t.run_started, format::job(job.name(), lang)));
    }
    if let Some(holder) = q.sibuk.as_deref() {
        l.alert = Some(format!("{} {}", t.run_busy, holder.chars().take(120).collect::<String>()));
    }
    render(&RunPage { l, jobs, refresh })
}

/// Starts a job now, as its lead, unless some process holds its lock.
pub async fn start(State(state): State<WebState>, auth: Auth, Path(job): Path<String>, Form(form): Form<CsrfForm>) -> Result<Response, WebError> {
    liaison_only(&auth)?;
    auth.check(&form.csrf)?;
    let Some(job) = Job::parse(&job) else { return Err(WebError::NotFound) };
    let Some(jobs) = state.jobs.clone() else { return Err(WebError::BadRequest("this server runs no jobs".into())) };
    match crate::app::runs::start(&state.store, jobs, &crate::app::Actor::user(&auth.user), job).await {
        Ok(()) => Ok(Redirect::to(&format!("/jalankan?mulai={}", job.name())).into_response()),
        Err(StartError::Busy { holder, .. }) => {
            let holder = holder.unwrap_or_else(|| auth.lang.pick("proses lain", "another process").to_owned());
            let q: String = url::form_urlencoded::Serializer::new(String::new()).append_pair("sibuk", &holder).finish();
            Ok(Redirect::to(&format!("/jalankan?{q}")).into_response())
        }
        Err(StartError::NotAllowed(_)) => Err(WebError::NotFound),
        Err(StartError::Store(e)) => Err(e.into()),
    }
}

pub struct RunRow {
    pub job: String,
    pub role: String,
    pub status: String,
    pub bad: bool,
    pub started: String,
    pub took: String,
    pub detail: String,
}

pub struct AuditRow {
    pub at: String,
    pub who: String,
    pub cooperative: String,
    pub action: String,
    pub subject: String,
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage {
    l: Layout,
    runs: Vec<RunRow>,
    audit: Vec<AuditRow>,
    pager: Pager,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct HistoryQuery {
    hal: Option<i64>,
}

pub async fn history(State(state): State<WebState>, auth: Auth, Query(q): Query<HistoryQuery>) -> Result<Response, WebError> {
    let lang = auth.lang;
    let t = auth.t();
    let (page, offset) = page_offset(q.hal);
    let mut audit = crate::store::users::audit_log(&state.store, auth.user.scope(), PAGE_SIZE + 1, offset).await?;
    let more = audit.len() as i64 > PAGE_SIZE;
    audit.truncate(PAGE_SIZE as usize);
    let audit = audit
        .into_iter()
        .map(|a| AuditRow {
            at: when(a.at, lang),
            who: a.username,
            cooperative: a.cooperative.unwrap_or_default(),
            action: format::action(&a.action, lang),
            subject: a.subject.unwrap_or_default(),
        })
        .collect();
    let runs = runs::scoped_history(&state.store, auth.user.scope(), None, false, 30)
        .await?
        .into_iter()
        .map(|r| RunRow {
            job: format::job(&r.job, lang),
            role: r.role,
            bad: r.status.is_bad(),
            status: format::run_status(r.status, lang),
            started: when(r.started_at, lang),
            took: r.finished_at.map(|f| format!("{} s", (f - r.started_at).num_seconds())).unwrap_or_default(),
            detail: format::run_error(r.error_code.as_deref(), r.error.as_deref(), lang).unwrap_or_default(),
        })
        .collect();
    let pager = Pager::new("/riwayat", &[], page, more);
    render(&HistoryPage { l: auth.layout("history", t.history, "/riwayat"), runs, audit, pager })
}
