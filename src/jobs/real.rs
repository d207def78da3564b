//! The real jobs the scheduler runs: the library's publish and review-status
//! sync (the API channel's cooperatives, then PEPPOL's when any is set to it;
//! workbooks are written by command only) and order sync, each as lead or as helper, with their
//! runs counted in the metrics. After an order sync, the notifications of
//! new and nearly late orders are queued (`notify`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Jobs, Outcome};
use crate::catalog::client::CatalogueClient;
use crate::domain::calendar::WorkingCalendar;
use crate::domain::job::{Job, RunStatus};
use crate::mapping::plan::Plan;
use crate::orders::{OrderError, SyncOptions};
use crate::publish::{Channel, PublishError, PublishOptions};
use crate::store::Store;

pub struct RealJobs {
    pub store: Store,
    pub client: CatalogueClient,
    /// The INAPROC data API, when `[inaproc]` is configured: the status job
    /// reads each cooperative's products from it.
    pub inaproc: Option<crate::catalog::inaproc::InaprocClient>,
    /// Whether the orders job reads from INAPROC (`[orders] source = "inaproc"`).
    pub orders_from_inaproc: bool,
    pub plan: Arc<Plan>,
    /// The PEPPOL channel's plan, for cooperatives set to it.
    pub peppol_plan: Arc<Plan>,
    pub calendar: Arc<WorkingCalendar>,
    pub klpd: Vec<String>,
    /// Fixed fiscal years, or empty for this year and the one before (on each run).
    pub years: Vec<i32>,
    pub lease: Duration,
    /// Publications or order details claimed at a time.
    pub batch: i64,
    pub notify: Option<Arc<crate::notify::Notifier>>,
    /// How the status job reads (its drift check's settings).
    pub status: crate::publish::status::StatusOptions,
    /// Where the world fetches the dashboard's photos (`Settings::photo_base`).
    pub photo_base: String,
    /// The words of each category the purchase plans are matched by, and `[rup]`.
    pub rup: Arc<(crate::mapping::rup_keywords::Keywords, crate::config::RupSettings)>,
}

impl RealJobs {
    fn publish_options(&self, channel: Channel) -> PublishOptions {
        PublishOptions {
            channel,
            lease: self.lease,
            batch: self.batch,
            issue_date: crate::domain::time::today(),
            photo_base: self.photo_base.clone(),
            ..Default::default()
        }
    }

    fn order_options(&self) -> SyncOptions {
        SyncOptions {
            klpd: self.klpd.clone(),
            years: if self.years.is_empty() { crate::orders::default_years(crate::domain::time::today()) } else { self.years.clone() },
            lease: self.lease,
            detail_batch: self.batch,
            ..Default::default()
        }
    }
}

impl RealJobs {
    fn rup_options(&self) -> crate::rup::RupOptions {
        let today = crate::domain::time::today();
        crate::rup::RupOptions {
            klpd: self.klpd.clone(),
            years: if self.years.is_empty() { crate::orders::default_years(today) } else { self.years.clone() },
            page: self.rup.1.page_size.clamp(1, 1000),
            today,
            lead_days: self.rup.1.lead_days,
        }
    }
}

impl JobError for crate::rup::RupError {
    fn busy(&self) -> bool {
        matches!(self, crate::rup::RupError::Busy(_))
    }

    fn interrupted(&self) -> bool {
        matches!(self, crate::rup::RupError::Interrupted(_))
    }
}

fn record(job: Job, role: &'static str, outcome: RunStatus, took: Duration) {
    let outcome = outcome.as_str();
    metrics::counter!("katalog_bridge_runs_total", "job" => job.name(), "role" => role, "outcome" => outcome).increment(1);
    metrics::histogram!("katalog_bridge_run_duration_seconds", "job" => job.name(), "role" => role, "outcome" => outcome).record(took.as_secs_f64());
}

/// The two ways a job's error is not a failure of its run.
trait JobError: std::fmt::Display {
    /// Another process holds the job's lock.
    fn busy(&self) -> bool;
    /// Stopped by a signal at a batch boundary.
    fn interrupted(&self) -> bool;
}

impl JobError for PublishError {
    fn busy(&self) -> bool {
        matches!(self, PublishError::Busy(_))
    }

    fn interrupted(&self) -> bool {
        matches!(self, PublishError::Interrupted(_))
    }
}

impl JobError for OrderError {
    fn busy(&self) -> bool {
        matches!(self, OrderError::Busy(_))
    }

    fn interrupted(&self) -> bool {
        matches!(self, OrderError::Interrupted(_))
    }
}

/// How a run ended, as the metrics and logs say it; `None` when it did not
/// run because another process holds the job's lock.
fn outcome<R, E: JobError>(job: Job, result: &Result<R, E>, complete: impl FnOnce(&R) -> bool) -> Option<RunStatus> {
    match result {
        Err(e) if e.busy() => None,
        Err(e) if e.interrupted() => Some(RunStatus::Interrupted),
        Err(e) => {
            tracing::error!(job = job.name(), error = %e, "run failed");
            Some(RunStatus::Failed)
        }
        Ok(r) if complete(r) => Some(RunStatus::Succeeded),
        Ok(_) => Some(RunStatus::Partial),
    }
}

/// The worse of two run outcomes: busy (`None`) first, then the worse
/// status (`RunStatus` is ordered from best to worst).
fn worse(a: Option<RunStatus>, b: Option<RunStatus>) -> Option<RunStatus> {
    a.zip(b).map(|(a, b)| a.max(b))
}

fn orders_complete(r: &crate::orders::SyncReport) -> bool {
    metrics::counter!("katalog_bridge_orders_synced_total").increment(r.packages.new + r.packages.updated);
    metrics::counter!("katalog_bridge_order_details_synced_total").increment(r.details.orders);
    r.complete()
}

impl Jobs for RealJobs {
    async fn lead(&self, job: Job) -> Outcome {
        let started = Instant::now();
        let outcome = match job {
            Job::Publish => {
                let mut worst = Some(RunStatus::Succeeded);
                for channel in crate::publish::sending_channels(&self.client) {
                    let plan = if channel == Channel::Peppol { &self.peppol_plan } else { &self.plan };
                    let result = crate::publish::publish(&self.store, plan, &self.client, &self.publish_options(channel)).await;
                    if let Ok(r) = &result {
                        tracing::info!(channel = channel.name(), summary = r.summary(), "published");
                    }
                    worst = worse(worst, outcome(job, &result, crate::publish::PublishReport::complete));
                    if worst.is_none() {
                        break;
                    }
                }
                worst
            }
            Job::Status => {
                let mut worst = Some(RunStatus::Succeeded);
                for channel in crate::publish::sending_channels(&self.client) {
                    let result = crate::publish::status::sync_status(&self.store, &self.client, channel, None, &self.status).await;
                    if let Ok(r) = &result {
                        tracing::info!(channel = channel.name(), summary = r.summary(), "review status followed");
                    }
                    worst = worse(worst, outcome(job, &result, |r| r.failed.is_empty()));
                    if worst.is_none() {
                        break;
                    }
                }
                if let (Some(inaproc), Some(_)) = (&self.inaproc, worst) {
                    let result = crate::publish::inaproc::sync_live(&self.store, inaproc, None).await;
                    if let Ok(r) = &result {
                        tracing::info!(summary = r.summary(), "live flags read from INAPROC");
                    }
                    worst = worse(worst, outcome(job, &result, |r| r.failed.is_empty()));
                }
                worst
            }
            Job::Orders => {
                let result = match self.inaproc.as_ref().filter(|_| self.orders_from_inaproc) {
                    Some(inaproc) => crate::orders::inaproc::sync(&self.store, inaproc, &self.calendar, &self.order_options()).await,
                    None => crate::orders::sync_orders(&self.store, &self.client, &self.calendar, &self.order_options()).await,
                };
                if let Ok(r) = &result {
                    tracing::info!(summary = r.summary(), "orders synced");
                }
                let outcome = outcome(job, &result, orders_complete);
                if outcome.is_some()
                    && let Some(n) = &self.notify
                {
                    n.queue_and_send(&self.store).await;
                }
                outcome
            }
            // The plans are read with INAPROC's token: without one, nothing to do.
            Job::Rup => match &self.inaproc {
                None => Some(RunStatus::Succeeded),
                Some(inaproc) => {
                    let result = crate::rup::sync(&self.store, inaproc, &self.rup.0, &self.rup_options()).await;
                    if let Ok(r) = &result {
                        tracing::info!(summary = r.summary(), "purchase plans read");
                    }
                    let outcome = outcome(job, &result, crate::rup::RupReport::complete);
                    if outcome.is_some()
                        && let Some(n) = &self.notify
                    {
                        n.queue_and_send(&self.store).await;
                    }
                    outcome
                }
            },
        };
        match outcome {
            None => Outcome::Busy,
            Some(status) => {
                record(job, "lead", status, started.elapsed());
                Outcome::Finished(status)
            }
        }
    }

    async fn help(&self, job: Job) -> bool {
        let started = Instant::now();
        let outcome = match job {
            Job::Publish => match crate::publish::help(&self.store, &self.client, &self.publish_options(Channel::Api)).await {
                Ok(None) => return false,
                result => outcome(job, &result.map(Option::unwrap_or_default), crate::publish::PublishReport::complete),
            },
            // INAPROC's lines come in one pass of the lead: nothing to share.
            Job::Orders if self.orders_from_inaproc => return false,
            Job::Orders => match crate::orders::help(&self.store, &self.client, &self.calendar, &self.order_options()).await {
                Ok(None) => return false,
                result => outcome(job, &result.map(Option::unwrap_or_default), orders_complete),
            },
            // A status read has nothing to claim: it is led or waited for.
            Job::Status | Job::Rup => return false,
        };
        record(job, "help", outcome.unwrap_or(RunStatus::Failed), started.elapsed());
        true
    }

    async fn leased(&self, job: Job) -> Option<Duration> {
        let left = match job {
            Job::Publish => crate::store::publications::leased(&self.store, Channel::Api).await,
            Job::Orders => crate::store::orders::details_leased(&self.store, crate::orders::SOURCE).await,
            Job::Status | Job::Rup => return None,
        };
        match left {
            Ok(left) => left.map(|s| Duration::from_secs_f64(s.clamp(0.0, 86_400.0))),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the leases of this job's work");
                None
            }
        }
    }
}
