//! The daemon: runs the jobs on their schedules, shares their work with the
//! other instances on the same database, answers health and metrics over
//! HTTP, and tells cooperatives when an order waits.
//!
//! - `schedule.rs`: 5-field cron expressions, evaluated in the configured zone;
//! - `clock.rs`: the system clock, or a manual one for tests;
//! - this file: the scheduler. Each tick of a job runs the job once, skipped
//!   (and logged) when the job's previous run is still going on this
//!   instance. The nightly `publish` tick runs publish, then status, then
//!   orders. Between instances, a job's lead run holds its advisory lock
//!   (`store::runs::JOB_LOCKS`); an instance that finds the lock taken helps
//!   with the job's claimable work until the lead is done, and whoever ends
//!   last waits out the leases of work taken by an instance that died;
//! - `jobs.rs`: the real jobs (the library's publish, status and order sync);
//! - `http.rs`: `/healthz`, `/readyz`, `/metrics`; the dashboard (`crate::web`)
//!   is merged beside them.

pub mod clock;
pub mod http;
pub mod schedule;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::domain::job::Job;
use crate::jobs::{Jobs, Outcome};
use crate::store::{Store, runs};
use clock::Clock;
use schedule::JobSchedule;

/// Counts per job, for tests and the logs.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct JobStats {
    /// Runs led on this instance.
    pub led: u64,
    /// Ticks that found the job still running here: skipped, not queued.
    pub skipped: u64,
    /// Ticks already served by a run on another instance.
    pub already_done: u64,
    /// Help runs that found work.
    pub helped: u64,
    /// Runs started at start-up for ticks missed while down.
    pub caught_up: u64,
    /// Ticks this instance is done with, however (led, served elsewhere,
    /// helped, stopped); counted once the job may run here again.
    pub ended: u64,
}

/// What the scheduler's own loop is doing: the state tests wait on instead
/// of sleeping, and the logs' source of truth.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LoopState {
    /// The clock time the loop sleeps until (its next tick), once it has read
    /// the history and started what was missed; nothing runs before it.
    pub waiting_until: Option<DateTime<Utc>>,
    /// Times the run history could not be read at start-up (the database away).
    pub history_retries: u64,
    /// A stop came: no new work is taken, the jobs in flight are awaited.
    pub stopping: bool,
}

#[derive(Debug, Default)]
pub struct Stats {
    jobs: Mutex<HashMap<Job, JobStats>>,
    state: Mutex<LoopState>,
}

impl Stats {
    fn bump(&self, job: Job, f: impl FnOnce(&mut JobStats)) {
        if let Ok(mut m) = self.jobs.lock() {
            f(m.entry(job).or_default());
        }
    }

    pub fn of(&self, job: Job) -> JobStats {
        self.jobs.lock().ok().and_then(|m| m.get(&job).cloned()).unwrap_or_default()
    }

    fn update(&self, f: impl FnOnce(&mut LoopState)) {
        if let Ok(mut s) = self.state.lock() {
            f(&mut s);
        }
    }

    /// The scheduler loop's state now.
    pub fn state(&self) -> LoopState {
        self.state.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

pub struct Scheduler<C: Clock, J: Jobs> {
    store: Store,
    clock: Arc<C>,
    tz: Tz,
    schedules: Vec<(Job, JobSchedule)>,
    jobs: Arc<J>,
    help_every: Duration,
    stats: Arc<Stats>,
    running: Arc<Mutex<HashSet<Job>>>,
}

/// Removes a job from the running set however its task ends.
struct Running(Arc<Mutex<HashSet<Job>>>, Job, Arc<Stats>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(mut set) = self.0.lock() {
            set.remove(&self.1);
        }
        self.2.bump(self.1, |s| s.ended += 1);
    }
}

impl<C: Clock, J: Jobs> Scheduler<C, J> {
    pub fn new(store: &Store, clock: Arc<C>, tz: Tz, schedules: Vec<(Job, JobSchedule)>, jobs: Arc<J>, help_every: Duration) -> Self {
        Self {
            store: store.handle(),
            clock,
            tz,
            schedules,
            jobs,
            help_every: help_every.max(Duration::from_millis(50)),
            stats: Arc::default(),
            running: Arc::default(),
        }
    }

    pub fn stats(&self) -> Arc<Stats> {
        self.stats.clone()
    }

    /// Waits `span` of the scheduler's clock; false when a stop came first.
    async fn pause(&self, span: Duration, stop: &mut watch::Receiver<bool>) -> bool {
        let wake = self.clock.now() + chrono::Duration::from_std(span).unwrap_or_default();
        tokio::select! {
            _ = self.clock.sleep_until(wake) => true,
            _ = stop.wait_for(|s| *s) => false,
        }
    }

    /// Runs until `stop` turns true, then waits for the jobs in flight (which
    /// stop at their next batch boundary) and returns. The database away
    /// delays it, never ends it.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let this = Arc::new(self);
        let mut tasks = JoinSet::new();
        let now = this.clock.now();
        let mut next: HashMap<Job, Option<DateTime<Utc>>> = HashMap::new();
        let mut missed = Vec::new();
        for (job, s) in &this.schedules {
            let (last, running) = loop {
                match tokio::try_join!(runs::last_started(&this.store, job.name()), runs::running_since(&this.store, job.name())) {
                    Ok(history) => break history,
                    Err(e) => tracing::warn!(job = job.name(), error = %e, "cannot read the run history: trying again"),
                }
                this.stats.update(|s| s.history_retries += 1);
                if !this.pause(this.help_every, &mut stop).await {
                    return;
                }
            };
            if let Some(tick) = s.missed(last, now, this.tz) {
                tracing::info!(job = job.name(), missed = %crate::domain::time::show(tick), "a run was missed while the daemon was down: running it once now");
                this.stats.bump(*job, |s| s.caught_up += 1);
                missed.push((*job, tick));
            } else if let Some(started) = running {
                // Another instance is at it: help, and take over should it die.
                tracing::info!(job = job.name(), started = %crate::domain::time::show(started), "this job is running on another instance: joining it");
                missed.push((*job, started));
            }
            next.insert(*job, s.next_after(now, this.tz));
        }
        if !missed.is_empty() {
            tasks.spawn(this.clone().run_ticks(missed, stop.clone()));
        }
        for (job, s) in &this.schedules {
            if let Some(Some(t)) = next.get(job) {
                tracing::info!(job = job.name(), schedule = s.expr, next = %crate::domain::time::show(*t), "scheduled");
            }
        }
        loop {
            let Some(wake) = next.values().flatten().min().copied() else {
                let _ = stop.wait_for(|s| *s).await;
                break;
            };
            this.stats.update(|s| s.waiting_until = Some(wake));
            tokio::select! {
                _ = this.clock.sleep_until(wake) => {}
                _ = stop.wait_for(|s| *s) => break,
                Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            }
            let now = this.clock.now();
            let mut due = Vec::new();
            for (job, s) in &this.schedules {
                if let Some(Some(t)) = next.get(job).copied().map(|t| t.filter(|t| *t <= now)) {
                    due.push((*job, t));
                    // However many ticks passed (a suspended machine), one run.
                    next.insert(*job, s.next_after(now, this.tz));
                }
            }
            if !due.is_empty() {
                tasks.spawn(this.clone().run_ticks(due, stop.clone()));
            }
        }
        this.stats.update(|s| s.stopping = true);
        tracing::info!(in_flight = tasks.len(), "stopping: no new work is claimed; waiting for the jobs in flight to reach a batch boundary");
        while tasks.join_next().await.is_some() {}
    }

    /// The jobs due at one tick, one after another in the order of
    /// [`Job::ALL`]; a job's tick brings the jobs it is followed by.
    async fn run_ticks(self: Arc<Self>, due: Vec<(Job, DateTime<Utc>)>, stop: watch::Receiver<bool>) {
        let mut steps: Vec<(Job, DateTime<Utc>)> = Vec::new();
        for (job, tick) in &due {
            steps.push((*job, *tick));
            steps.extend(job.followed_by().iter().map(|j| (*j, *tick)));
        }
        steps.sort_by_key(|(job, _)| *job);
        steps.dedup_by_key(|(job, _)| *job);
        for (job, tick) in steps {
            if *stop.borrow() {
                return;
            }
            self.step(job, tick, stop.clone()).await;
        }
    }

    /// One tick of one job on this instance.
    async fn step(&self, job: Job, tick: DateTime<Utc>, mut stop: watch::Receiver<bool>) {
        let _running = {
            let Ok(mut set) = self.running.lock() else { return };
            if !set.insert(job) {
                drop(set);
                self.stats.bump(job, |s| s.skipped += 1);
                metrics::counter!("katalog_bridge_ticks_skipped_total", "job" => job.name()).increment(1);
                tracing::warn!(job = job.name(), tick = %crate::domain::time::show(tick), "tick skipped: this job's previous run is still going (ticks are not queued)");
                return;
            }
            Running(self.running.clone(), job, self.stats.clone())
        };
        let span = tracing::info_span!("job", job = job.name(), tick = %crate::domain::time::show(tick));
        async {
            loop {
                if *stop.borrow() {
                    return;
                }
                match runs::done_since(&self.store, job.name(), tick).await {
                    Ok(true) => {
                        self.stats.bump(job, |s| s.already_done += 1);
                        tracing::info!("this tick was already served by another instance");
                        break;
                    }
                    Ok(false) => match self.jobs.lead(job).await {
                        Outcome::Finished(status) => {
                            self.stats.bump(job, |s| s.led += 1);
                            tracing::info!(status = status.as_str(), "run ended");
                            break;
                        }
                        Outcome::Busy => {
                            if self.jobs.help(job).await {
                                self.stats.bump(job, |s| s.helped += 1);
                            }
                        }
                    },
                    // The database away for a moment does not cost the tick.
                    Err(e) => tracing::warn!(error = %e, "cannot read the run history: trying again"),
                }
                if !self.pause(self.help_every, &mut stop).await {
                    return;
                }
            }
            // Work taken by an instance that died stays leased until its lease
            // runs out: wait it out and finish it.
            while let Some(left) = self.jobs.leased(job).await {
                if !self.pause(left.min(self.help_every) + Duration::from_millis(100), &mut stop).await {
                    return;
                }
                if self.jobs.help(job).await {
                    self.stats.bump(job, |s| s.helped += 1);
                }
            }
        }
        .instrument(span)
        .await
    }
}

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("{0}")]
    Config(String),
    #[error("cannot listen on {addr} ([daemon] {setting}): {source}")]
    Listen { addr: String, setting: &'static str, source: std::io::Error },
}

/// What the daemon needs, read from the configuration before the database opens.
pub struct Parts {
    pub tz: Tz,
    pub schedules: Vec<(Job, JobSchedule)>,
    pub jobs: crate::jobs::RealJobs,
    /// The dashboard's address (`[daemon] listen`), used when `web` is set.
    pub listen: String,
    /// Health, readiness and metrics (`[daemon] metrics_listen`).
    pub metrics_listen: String,
    /// The dashboard's connection caps: in all, and per address.
    pub max_connections: usize,
    pub max_connections_per_address: usize,
    pub help_every: Duration,
    pub notify_every: Duration,
    pub tax: Arc<crate::mapping::tax::TaxRules>,
    pub fulfilment: crate::config::FulfilmentSettings,
    /// The dashboard at `/`, unless `[web] enabled = false`.
    pub web: Option<WebParts>,
}

/// What the dashboard needs beyond the jobs.
pub struct WebParts {
    pub settings: crate::config::WebSettings,
    pub units: Arc<crate::mapping::units::UnitTable>,
    pub import: crate::config::ImportSettings,
    pub mappings: crate::mapping::MappingSource,
    pub orders_from_inaproc: bool,
    pub photo_base: String,
    pub photos: crate::config::PhotoSettings,
}

/// Runs the daemon on `store` until SIGTERM or SIGINT: the HTTP endpoints,
/// the scheduler, the notification pass and the sweep of abandoned runs.
/// Returns once the jobs in flight have stopped at a batch boundary.
pub async fn serve(store: &Store, parts: Parts) -> Result<(), DaemonError> {
    // Both listeners first: a daemon that cannot start leaves everything as it found it.
    let bind = |addr: &str, setting: &'static str| {
        let addr = addr.to_owned();
        async move { tokio::net::TcpListener::bind(&addr).await.map_err(|source| DaemonError::Listen { addr, setting, source }) }
    };
    let health_listener = bind(&parts.metrics_listen, "metrics_listen").await?;
    let web_listener = match &parts.web {
        Some(_) => Some(bind(&parts.listen, "listen").await?),
        None => None,
    };
    // With the embedded cluster, the daemon owns it while it lives.
    store.own_embedded();
    let address_of = |l: &tokio::net::TcpListener, given: &str| l.local_addr().map(|a| a.to_string()).unwrap_or_else(|_| given.to_owned());
    let health_address = address_of(&health_listener, &parts.metrics_listen);
    let jobs = Arc::new(parts.jobs);
    let health = http::HttpState {
        store: Arc::new(store.with_short_waits(2, http::CHECK_TIMEOUT)),
        client: jobs.client.clone(),
        metrics: http::metrics_handle(),
        tax: parts.tax.clone(),
        fulfilment: parts.fulfilment.clone(),
        figures_read: Default::default(),
    };
    let health_limits = bounded_serve::ServeLimits { max_connections: 16, per_address: 8, ..Default::default() };
    let mut servers = vec![tokio::spawn(bounded_serve::serve(health_listener, http::router(health), health_limits))];
    let web_sessions = parts.web.as_ref().map(|w| w.settings.session_idle_minutes);
    match (parts.web, web_listener) {
        (Some(w), Some(listener)) => {
            let web_address = address_of(&listener, &parts.listen);
            let web = crate::web::WebState::new(crate::web::Inner {
                // The pages wait briefly for a connection: with the database away
                // they say so within two seconds, while the jobs wait longer.
                store: store.with_short_waits(8, crate::web::DATABASE_WAIT),
                settings: w.settings,
                calendar: jobs.calendar.clone(),
                tax: parts.tax.clone(),
                fulfilment: parts.fulfilment.clone(),
                units: w.units,
                import: w.import,
                mappings: w.mappings,
                jobs: Some(jobs.clone()),
                orders_from_inaproc: w.orders_from_inaproc,
                photo_base: w.photo_base,
                photos: crate::photos::PhotoLimits::from_settings(&w.photos),
                photos_per_product: w.photos.max_per_product,
                hashing: tokio::sync::Semaphore::new(2),
                overview: crate::web::overview::cache(),
                plan: crate::web::rup::cache(),
            });
            let limits = bounded_serve::ServeLimits {
                max_connections: parts.max_connections.max(1),
                per_address: parts.max_connections_per_address,
                ..Default::default()
            };
            servers.push(tokio::spawn(bounded_serve::serve(listener, crate::web::router(web), limits)));
            tracing::info!(
                listen = web_address,
                health = health_address,
                "daemon started: the dashboard at /, and /healthz, /readyz and /metrics on the health listener"
            );
        }
        _ => tracing::info!(health = health_address, "daemon started: /healthz, /readyz and /metrics answer here (no dashboard: [web] enabled = false)"),
    }

    let (stop_tx, stop) = watch::channel(false);
    let stopper = tokio::spawn(async move {
        crate::shutdown::wait().await;
        let _ = stop_tx.send(true);
    });
    let sweeper = spawn_sweeper(store.handle(), jobs.notify.clone(), parts.notify_every, web_sessions, stop.clone());
    let scheduler = Scheduler::new(store, Arc::new(clock::SystemClock), parts.tz, parts.schedules, jobs, parts.help_every);
    // It returns only once stopped.
    scheduler.run(stop).await;
    let _ = sweeper.await;
    stopper.abort();
    for server in servers {
        server.abort();
    }
    tracing::info!("daemon stopped");
    Ok(())
}

/// The housekeeping beside the scheduler, every `every` until `stop`: runs
/// whose heartbeat stopped are marked abandoned, notifications are queued
/// and sent, and the dashboard's ended sessions are removed.
fn spawn_sweeper(
    store: Store,
    notifier: Option<Arc<crate::notify::Notifier>>,
    every: Duration,
    web_sessions: Option<u64>,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let every = every.max(Duration::from_secs(1));
    tokio::spawn(async move {
        loop {
            match runs::abandon_stale(&store, runs::ABANDONED_AFTER).await {
                Ok(0) => {}
                Ok(n) => tracing::warn!(runs = n, "runs whose heartbeat stopped are now marked abandoned"),
                Err(e) => tracing::warn!(error = %e, "cannot check for abandoned runs"),
            }
            if let Some(n) = &notifier {
                n.queue_and_send(&store).await;
            }
            if let Some(idle) = web_sessions
                && let Err(e) = crate::store::users::sweep(&store, (idle.max(1) * 60) as f64).await
            {
                tracing::warn!(error = %e, "cannot remove the dashboard's ended sessions");
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    })
}
