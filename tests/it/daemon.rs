//! The daemon. With an injected clock and recording jobs, against real
//! PostgreSQL: schedules across midnight WIB, one catch-up run for any number
//! of missed ticks, a tick skipped (not queued) while its job still runs, and
//! a stop that waits for the job in flight. With the real binary, real
//! PostgreSQL and the mock catalogue: two daemons share the work and do
//! nothing twice; one killed mid-run, the other finishes its claims once
//! their lease runs out; SIGTERM mid-run exits 0 with nothing half-applied;
//! health, readiness and metrics answer; a run whose heartbeat stopped is
//! marked abandoned.

use crate::common;

use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Asia::Jakarta;
use katalog_bridge::daemon::Scheduler;
use katalog_bridge::daemon::clock::{Clock, ManualClock};
use katalog_bridge::daemon::schedule::JobSchedule;
use katalog_bridge::domain::job::Job;
use katalog_bridge::jobs::{Jobs, Outcome};
use katalog_bridge::store::Store;
use mock_catalog::{MockServer, Scenario};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, watch};

fn wib(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Jakarta.with_ymd_and_hms(y, m, d, h, min, 0).unwrap().with_timezone(&Utc)
}

/// Jobs that record when they ran (as sync_runs rows stamped with the
/// manual clock, which the scheduler reads back for catch-up and for ticks
/// served elsewhere); one job can be held until released.
struct Recording {
    store: Store,
    clock: Arc<ManualClock>,
    calls: Mutex<Vec<(&'static str, DateTime<Utc>)>>,
    hold: Option<(&'static str, Arc<Semaphore>)>,
}

impl Recording {
    fn calls(&self) -> Vec<(&'static str, DateTime<Utc>)> {
        self.calls.lock().unwrap().clone()
    }
}

impl Jobs for Recording {
    async fn lead(&self, job: Job) -> Outcome {
        let now = self.clock.now();
        self.calls.lock().unwrap().push((job.name(), now));
        let id: i64 = sqlx::query_scalar("INSERT INTO sync_runs (kind, instance, started_at) VALUES ($1, 'test:1', $2) RETURNING id")
            .bind(job.name())
            .bind(now)
            .fetch_one(self.store.pool())
            .await
            .unwrap();
        if let Some((held, gate)) = &self.hold
            && *held == job.name()
        {
            gate.acquire().await.unwrap().forget();
        }
        sqlx::query("UPDATE sync_runs SET status = 'succeeded', finished_at = $2 WHERE id = $1").bind(id).bind(now).execute(self.store.pool()).await.unwrap();
        Outcome::Finished(katalog_bridge::domain::job::RunStatus::Succeeded)
    }

    async fn help(&self, _job: Job) -> bool {
        false
    }

    async fn leased(&self, _job: Job) -> Option<Duration> {
        None
    }
}

fn schedules(publish: &str, status: &str, orders: &str) -> Vec<(Job, JobSchedule)> {
    vec![
        (Job::Publish, JobSchedule::parse(publish).unwrap()),
        (Job::Status, JobSchedule::parse(status).unwrap()),
        (Job::Orders, JobSchedule::parse(orders).unwrap()),
    ]
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Moves the clock a second at a time until `check` holds: the scheduler
/// may be between two looks (its next one a second after the clock it read)
/// when the clock moves.
async fn advance_until(what: &str, clock: &ManualClock, mut check: impl FnMut() -> bool) {
    for _ in 0..500 {
        if check() {
            return;
        }
        clock.advance(chrono::Duration::seconds(1));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

struct Harness {
    jobs: Arc<Recording>,
    clock: Arc<ManualClock>,
    stats: Arc<katalog_bridge::daemon::Stats>,
    stop: watch::Sender<bool>,
    running: tokio::task::JoinHandle<()>,
}

/// A scheduler on a manual clock, settled: it has read the history, started
/// what was missed, and sleeps until its next tick (so moving the clock now
/// is seen as a move, not as its start time).
async fn start(store: &Store, start_at: DateTime<Utc>, schedules: Vec<(Job, JobSchedule)>, hold: Option<(&'static str, Arc<Semaphore>)>) -> Harness {
    let h = start_unsettled(store, start_at, schedules, hold);
    eventually("the scheduler to settle", || h.stats.state().waiting_until.is_some()).await;
    h
}

fn start_unsettled(store: &Store, start_at: DateTime<Utc>, schedules: Vec<(Job, JobSchedule)>, hold: Option<(&'static str, Arc<Semaphore>)>) -> Harness {
    let clock = Arc::new(ManualClock::new(start_at));
    let jobs = Arc::new(Recording { store: store.handle(), clock: clock.clone(), calls: Mutex::default(), hold });
    let scheduler = Scheduler::new(store, clock.clone(), Jakarta, schedules, jobs.clone(), Duration::from_secs(1));
    let stats = scheduler.stats();
    let (stop, rx) = watch::channel(false);
    let running = tokio::spawn(scheduler.run(rx));
    Harness { jobs, clock, stats, stop, running }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_run_at_their_times_in_jakarta_across_midnight_and_the_nightly_tick_runs_publish_then_status_then_orders() {
    let store = common::fresh_store().await;
    // Monday 30 November 2026, 23:30 WIB (16:30 UTC).
    let h = start(&store, wib(2026, 11, 30, 23, 30), schedules("0 1 * * *", "0 * * * *", "*/15 7-17 * * 1-5"), None).await;
    // Settled: it sleeps until midnight WIB (the hourly status tick), having started nothing.
    let midnight = wib(2026, 12, 1, 0, 0);
    assert_eq!(h.stats.state().waiting_until, Some(midnight));
    assert!(h.jobs.calls().is_empty(), "nothing ran before its tick (and nothing ever ran: nothing to catch up)");
    // 23:59 is before the tick it sleeps until: nothing can run.
    h.clock.set(wib(2026, 11, 30, 23, 59));
    assert_eq!(h.stats.state().waiting_until, Some(midnight));
    assert!(h.jobs.calls().is_empty());
    // Midnight WIB is 17:00 UTC: the hourly status tick.
    h.clock.set(wib(2026, 12, 1, 0, 0));
    eventually("the midnight status run", || h.jobs.calls().len() == 1).await;
    // Moving the clock on while it still runs would skip status's 01:00 tick.
    eventually("the midnight status run to end", || h.stats.of(Job::Status).ended == 1).await;
    assert_eq!(h.jobs.calls()[0], ("status", Utc.with_ymd_and_hms(2026, 11, 30, 17, 0, 0).unwrap()));
    // 01:00 WIB on Tuesday is still Monday 18:00 in UTC: the nightly full sync.
    h.clock.set(wib(2026, 12, 1, 1, 0));
    eventually("the nightly sync", || h.jobs.calls().len() == 4).await;
    eventually("the nightly sync to end", || h.stats.of(Job::Orders).ended == 1).await;
    let nightly = Utc.with_ymd_and_hms(2026, 11, 30, 18, 0, 0).unwrap();
    assert_eq!(
        h.jobs.calls()[1..],
        [("publish", nightly), ("status", nightly), ("orders", nightly)],
        "publish, then status (its own tick too, run once), then orders"
    );
    // Orders run every 15 minutes from 07:00 on working days only.
    h.clock.set(wib(2026, 12, 1, 6, 59));
    eventually("the 06:59 look: one status run, then asleep until 07:00", || {
        h.stats.of(Job::Status).ended == 3 && h.stats.state().waiting_until == Some(wib(2026, 12, 1, 7, 0))
    })
    .await;
    let before = h.jobs.calls().len();
    assert_eq!(before, 4 + 1, "status once for 02:00-06:00: the clock jumped past five ticks, one wake-up, one run");
    h.clock.set(wib(2026, 12, 1, 7, 0));
    eventually("07:00 status and orders", || h.jobs.calls().len() == before + 2).await;
    assert_eq!(h.jobs.calls()[before..], [("status", wib(2026, 12, 1, 7, 0)), ("orders", wib(2026, 12, 1, 7, 0))]);
    h.stop.send_replace(true);
    h.running.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_missed_while_down_runs_once_at_start_up_not_once_per_missed_tick() {
    let store = common::fresh_store().await;
    let now = wib(2026, 12, 2, 14, 20); // Wednesday
    for (job, at) in [("status", wib(2026, 12, 2, 9, 0)), ("orders", wib(2026, 12, 2, 8, 0)), ("publish", wib(2026, 12, 2, 1, 0))] {
        sqlx::query("INSERT INTO sync_runs (kind, instance, started_at, finished_at, status) VALUES ($1, 'old:1', $2, $2, 'succeeded')")
            .bind(job)
            .bind(at)
            .execute(store.pool())
            .await
            .unwrap();
    }
    let h = start(&store, now, schedules("0 1 * * *", "0 * * * *", "*/15 7-17 * * 1-5"), None).await;
    // Status missed 5 ticks (10:00-14:00), orders 25: each runs once, now; publish missed none.
    eventually("the catch-up runs", || h.jobs.calls().len() == 2).await;
    // Both ended, and the loop sleeps until 14:30: nothing else is due.
    eventually("the catch-up runs to end", || {
        h.stats.of(Job::Orders).ended == 1 && h.stats.of(Job::Status).ended == 1 && h.stats.state().waiting_until == Some(wib(2026, 12, 2, 14, 30))
    })
    .await;
    assert_eq!(h.jobs.calls(), vec![("status", now), ("orders", now)]);
    assert_eq!(h.stats.of(Job::Status).caught_up, 1);
    assert_eq!(h.stats.of(Job::Orders).caught_up, 1);
    assert_eq!(h.stats.of(Job::Publish).caught_up, 0);
    // Then the schedule goes on from now: 14:30 orders, 15:00 both.
    h.clock.set(wib(2026, 12, 2, 14, 30));
    eventually("14:30 orders", || h.jobs.calls().len() == 3).await;
    eventually("14:30 orders to end", || h.stats.of(Job::Orders).ended == 2).await;
    h.clock.set(wib(2026, 12, 2, 15, 0));
    eventually("15:00 status and orders", || h.jobs.calls().len() == 5).await;
    h.stop.send_replace(true);
    h.running.await.unwrap();
}

/// Jobs whose lock another instance holds while `holder_alive`: lead is
/// refused (and helps) until that instance dies, then leads and records.
struct Contended {
    store: Store,
    clock: Arc<ManualClock>,
    holder_alive: std::sync::atomic::AtomicBool,
    led: Mutex<Vec<&'static str>>,
    helped: std::sync::atomic::AtomicU32,
}

impl Jobs for Contended {
    async fn lead(&self, job: Job) -> Outcome {
        if self.holder_alive.load(std::sync::atomic::Ordering::SeqCst) {
            return Outcome::Busy;
        }
        // As the real lock does: the dead holder's run is abandoned, this one recorded.
        sqlx::query("UPDATE sync_runs SET status = 'abandoned' WHERE kind = $1 AND status = 'running'")
            .bind(job.name())
            .execute(self.store.pool())
            .await
            .unwrap();
        sqlx::query("INSERT INTO sync_runs (kind, instance, started_at, finished_at, status) VALUES ($1, 'test:1', $2, $2, 'succeeded')")
            .bind(job.name())
            .bind(self.clock.now())
            .execute(self.store.pool())
            .await
            .unwrap();
        self.led.lock().unwrap().push(job.name());
        Outcome::Finished(katalog_bridge::domain::job::RunStatus::Succeeded)
    }

    async fn help(&self, _job: Job) -> bool {
        self.helped.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        true
    }

    async fn leased(&self, _job: Job) -> Option<Duration> {
        None
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_starting_while_another_instance_runs_the_job_joins_it_and_takes_over_when_that_instance_dies() {
    let store = common::fresh_store().await;
    // Yesterday's nightly run ended; today's started at 01:00:01 on another instance and still runs.
    let never = "0 3 1 1 *";
    for (at, status) in [(wib(2026, 12, 1, 1, 0), "succeeded"), (wib(2026, 12, 2, 1, 0) + chrono::Duration::seconds(1), "running")] {
        sqlx::query("INSERT INTO sync_runs (kind, instance, started_at, status) VALUES ('publish', 'other:1', $1, $2)")
            .bind(at)
            .bind(status)
            .execute(store.pool())
            .await
            .unwrap();
    }
    let now = wib(2026, 12, 2, 1, 5);
    let clock = Arc::new(ManualClock::new(now));
    let jobs = Arc::new(Contended { store: store.handle(), clock: clock.clone(), holder_alive: true.into(), led: Mutex::default(), helped: 0.into() });
    let scheduler = Scheduler::new(&store, clock.clone(), Jakarta, schedules("0 1 * * *", never, never), jobs.clone(), Duration::from_secs(1));
    let stats = scheduler.stats();
    let (stop, rx) = watch::channel(false);
    let running = tokio::spawn(scheduler.run(rx));
    let helped = || jobs.helped.load(std::sync::atomic::Ordering::SeqCst);
    eventually("helping the run in progress", || helped() >= 1).await;
    // It helps again as its clock moves on.
    for _ in 0..3 {
        let before = helped();
        advance_until("helping again a second later", &clock, || helped() > before).await;
    }
    assert!(jobs.led.lock().unwrap().is_empty(), "nothing led while the other instance holds the job");
    // The other instance dies: on its next look this one leads the tick, once.
    jobs.holder_alive.store(false, std::sync::atomic::Ordering::SeqCst);
    advance_until("taking the job over", &clock, || jobs.led.lock().unwrap().first() == Some(&"publish")).await;
    // The tick is over here once the run that led it ended; the loop sleeps until tomorrow's.
    eventually("the led run to end", || stats.of(Job::Publish).ended >= 1).await;
    eventually("asleep until tomorrow's tick", || stats.state().waiting_until == Some(wib(2026, 12, 3, 1, 0))).await;
    assert_eq!(jobs.led.lock().unwrap().iter().filter(|j| **j == "publish").count(), 1, "the tick is led once");
    stop.send_replace(true);
    running.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tick_while_the_job_still_runs_is_skipped_not_queued_and_a_stop_waits_for_the_job_in_flight() {
    let store = common::fresh_store().await;
    let gate = Arc::new(Semaphore::new(0));
    let never = "0 3 1 1 *";
    let h = start(&store, wib(2026, 12, 2, 10, 5), schedules(never, never, "*/15 * * * *"), Some(("orders", gate.clone()))).await;
    h.clock.set(wib(2026, 12, 2, 10, 15));
    eventually("the 10:15 run", || h.jobs.calls().len() == 1).await;
    // Still running at 10:30 and 10:45: both ticks are skipped.
    h.clock.set(wib(2026, 12, 2, 10, 30));
    eventually("the skip at 10:30", || h.stats.of(Job::Orders).skipped == 1).await;
    h.clock.set(wib(2026, 12, 2, 10, 45));
    eventually("the skip at 10:45", || h.stats.of(Job::Orders).skipped == 2).await;
    gate.add_permits(1);
    // Skipped ticks are not counted as ended; once the run ends, the loop sleeps until 11:00.
    eventually("the 10:15 run to end", || h.stats.of(Job::Orders).ended == 1 && h.stats.state().waiting_until == Some(wib(2026, 12, 2, 11, 0))).await;
    assert_eq!(h.jobs.calls().len(), 1, "skipped ticks are not run later");
    h.clock.set(wib(2026, 12, 2, 11, 0));
    eventually("the 11:00 run", || h.jobs.calls().len() == 2).await;
    assert_eq!(h.jobs.calls()[1], ("orders", wib(2026, 12, 2, 11, 0)));
    // A stop while that run is held: the scheduler waits for it, starts nothing new.
    h.stop.send_replace(true);
    eventually("the stop to be seen", || h.stats.state().stopping).await;
    assert!(!h.running.is_finished(), "the stop waits for the job in flight");
    h.clock.set(wib(2026, 12, 2, 11, 15));
    gate.add_permits(1);
    tokio::time::timeout(Duration::from_secs(5), h.running).await.expect("stops once the job ends").unwrap();
    assert_eq!(h.jobs.calls().len(), 2, "nothing started after the stop");
    let running: i64 = sqlx::query_scalar("SELECT count(*) FROM sync_runs WHERE status = 'running'").fetch_one(store.pool()).await.unwrap();
    assert_eq!(running, 0);
}

// ---- the real binary ----

fn scenario() -> Scenario {
    let mut s = Scenario::load(&common::repo().join("fixtures/scenarios/mojokerto.toml")).unwrap();
    s.rate_limit_per_minute = 1_000_000;
    s.initial_orders = 400;
    s.orders_per_day = 0;
    s.lines_per_order_mean = 3;
    s.fiscal_year = Some(2026);
    s
}

/// A config for a daemon against `server`: the nightly publish (which runs
/// status and orders after it) is the only job that comes due, by catch-up.
/// `listen` is the health listener's address; the dashboard takes any free port.
fn daemon_config(dir: &std::path::Path, server: &MockServer, scenario: &Scenario, listen: &str, extra: &str) -> std::path::PathBuf {
    daemon_config_with_web(dir, server, scenario, listen, "127.0.0.1:0", extra)
}

fn daemon_config_with_web(dir: &std::path::Path, server: &MockServer, scenario: &Scenario, listen: &str, web: &str, extra: &str) -> std::path::PathBuf {
    let mut config = format!(
        "[orders]\nklpd = [\"D347\"]\ntahun = [2026]\n\
         [daemon]\nlisten = \"{web}\"\nmetrics_listen = \"{listen}\"\nlease_seconds = 4\nclaim_batch = 20\nhelp_every_seconds = 1\nnotify_every_seconds = 1\n\
         [daemon.schedules]\npublish = \"0 1 * * *\"\nstatus = \"0 3 1 1 *\"\norders = \"0 3 1 1 *\"\n\
         {extra}\n[catalogue]\nbase_url = \"{}\"\nmax_concurrency = 4\nmax_attempts = 4\n",
        server.url()
    );
    for c in &scenario.clients {
        config.push_str(&format!(
            "[[catalogue.sellers]]\nkode_penyedia = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\n",
            c.kode_penyedia, c.client_id, c.client_secret
        ));
    }
    let path = dir.join(format!("daemon-{}.toml", listen.replace([':', '.'], "-")));
    std::fs::write(&path, config).unwrap();
    path
}

fn free_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("127.0.0.1:{}", l.local_addr().unwrap().port())
}

fn spawn_daemon(url: &str, config: &std::path::Path, name: &str) -> Child {
    common::binary()
        .env("DATABASE_URL", url)
        .env("KATALOG_BRIDGE_INSTANCE", name)
        .arg("--config")
        .arg(config)
        .arg("daemon")
        .stdout(Stdio::null())
        // Logs appended to a file beside the config (KB_TEST_DAEMON_LOGS: another folder, kept).
        .stderr(Stdio::from(std::fs::OpenOptions::new().create(true).append(true).open(log_path(config, name)).unwrap()))
        .spawn()
        .unwrap()
}

fn log_path(config: &std::path::Path, name: &str) -> std::path::PathBuf {
    let here = config.parent().unwrap();
    let dir = match std::env::var_os("KB_TEST_DAEMON_LOGS") {
        // One folder per test (named after its temporary folder), kept after it.
        Some(keep) => std::path::PathBuf::from(keep).join(here.file_name().unwrap()),
        None => here.to_owned(),
    };
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{name}.log"))
}

/// The last lines of each daemon's log beside `config`, for a failure message.
fn log_tails(config: &std::path::Path) -> String {
    let dir = log_path(config, "x").parent().unwrap().to_owned();
    let mut out = String::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "log") {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            out.push_str(&format!("\n--- {} (last 40 lines)\n{}", path.display(), lines[lines.len().saturating_sub(40)..].join("\n")));
        }
    }
    out
}

fn terminate(child: &mut Child) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
}

/// Waits for a daemon to exit, with a bound; returns its status and its log.
async fn exit_of(mut child: Child, log: std::path::PathBuf) -> (Option<i32>, String) {
    for _ in 0..600 {
        if let Some(status) = child.try_wait().unwrap() {
            return (status.code(), std::fs::read_to_string(log).unwrap_or_default());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    panic!("the daemon did not exit within 30 s");
}

/// A publish run long ago: the nightly tick since then was missed, so each
/// daemon catches it up at start-up.
async fn missed_nightly(store: &Store) {
    sqlx::query("INSERT INTO sync_runs (kind, instance, started_at, finished_at, status) VALUES ('publish', 'old:1', now() - interval '3 days', now() - interval '3 days', 'succeeded')")
        .execute(store.pool())
        .await
        .unwrap();
}

async fn scalar(store: &Store, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned())).fetch_one(store.pool()).await.unwrap()
}

/// Waits until `sql` gives a positive count; a timeout shows the state and
/// the daemons' logs beside `config`.
async fn until_or_logs(store: &Store, what: &str, sql: &str, secs: u64, config: Option<&std::path::Path>) {
    for _ in 0..secs * 10 {
        if scalar(store, sql).await > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    type OrderClaims = (Option<String>, bool, bool, Option<bool>, i64);
    let orders: Vec<OrderClaims> = sqlx::query_as(
        "SELECT split_part(k.claimed_by, ':', 1), o.needs_detail, k.claimed_until > now(), o.next_detail_at > now(), count(*)
         FROM purchase_orders o LEFT JOIN order_detail_claims k ON k.order_id = o.id GROUP BY 1, 2, 3, 4",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let runs: Vec<(String, String, String, String)> =
        sqlx::query_as("SELECT kind, role, instance, status FROM sync_runs ORDER BY id").fetch_all(store.pool()).await.unwrap();
    let logs = config.map(log_tails).unwrap_or_default();
    panic!("timed out after {secs} s waiting for {what}; orders (claimant, needs detail, leased, retry later, count): {orders:?}; runs: {runs:?}{logs}");
}

/// How many listings the catalogue holds.
async fn listed(server: &MockServer) -> i64 {
    let v: Value = reqwest::get(format!("{}/admin/state?kind=listings&limit=1", server.url())).await.unwrap().json().await.unwrap();
    v["total"].as_i64().unwrap()
}

async fn slow(server: &MockServer, route: &str, ms: u64) {
    let r =
        reqwest::Client::new().post(format!("{}/admin/faults", server.url())).json(&json!({"route": route, "kind": "latency", "ms": ms})).send().await.unwrap();
    assert!(r.status().is_success());
}

const ALL_SENT: &str = "SELECT (count(*) FILTER (WHERE state IN ('pending', 'withdraw_pending')) = 0 AND count(*) > 0)::int::bigint FROM publications";
const ALL_DETAILS: &str = "SELECT (count(*) FILTER (WHERE needs_detail) = 0 AND count(*) > 0)::int::bigint FROM purchase_orders";
const NOTHING_RUNNING: &str = "SELECT (count(*) FILTER (WHERE status = 'running') = 0 AND count(*) FILTER (WHERE kind = 'orders' AND role = 'lead' AND status <> 'running') > 0)::int::bigint FROM sync_runs";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_daemons_on_one_database_share_the_work_and_do_nothing_twice_and_answer_health_readiness_and_metrics() {
    let (store, url) = common::fixture_db().await;
    missed_nightly(&store).await;
    let scenario = scenario();
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    slow(&server, "/api/v1/listings", 60).await;
    slow(&server, "/api/v1/ekatalog/paket-e-purchasing/", 50).await;
    let tmp = common::temp_dir();
    let (listen_a, listen_b) = (free_port(), free_port());
    let config_a = daemon_config(tmp.path(), &server, &scenario, &listen_a, "");
    let a = spawn_daemon(&url, &config_a, "daemon-a");
    let b = spawn_daemon(&url, &daemon_config(tmp.path(), &server, &scenario, &listen_b, ""), "daemon-b");
    until_or_logs(&store, "every publication sent", ALL_SENT, 120, Some(&config_a)).await;
    until_or_logs(&store, "every order detail fetched", ALL_DETAILS, 120, Some(&config_a)).await;
    until_or_logs(&store, "both daemons idle after the nightly sync", NOTHING_RUNNING, 120, Some(&config_a)).await;

    // Publishing was shared, and each publication sent once.
    let sent: Vec<(String, i64)> = sqlx::query_as(
        "SELECT split_part(instance, ':', 1), sum((stats->>'sent')::bigint)::bigint FROM sync_runs WHERE kind = 'publish' AND instance <> 'old:1' GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let publications = scalar(&store, "SELECT count(*) FROM publications").await;
    assert_eq!(sent.iter().map(|s| s.1).sum::<i64>(), publications, "every publication sent exactly once: {sent:?}");
    assert!(sent.len() == 2 && sent.iter().all(|s| s.1 > 0), "both daemons sent some: {sent:?}");
    assert_eq!(listed(&server).await, publications, "no listing created twice on the catalogue");
    let leads = scalar(&store, "SELECT count(*) FROM sync_runs WHERE kind = 'publish' AND role = 'lead' AND instance <> 'old:1'").await;
    assert_eq!(leads, 1, "one lead run for the missed tick; the other daemon helped");
    // Order details were shared, and each written once.
    let details: Vec<(String, i64)> = sqlx::query_as(
        "SELECT split_part(instance, ':', 1), sum((stats->'details'->>'orders')::bigint)::bigint FROM sync_runs WHERE kind = 'orders' GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let orders = scalar(&store, "SELECT count(*) FROM purchase_orders").await;
    assert_eq!(details.iter().map(|d| d.1).sum::<i64>(), orders, "every order detail written exactly once: {details:?}");
    assert!(details.len() == 2 && details.iter().all(|d| d.1 > 0), "both daemons fetched some: {details:?}");
    assert_eq!(scalar(&store, "SELECT count(*) FROM sync_runs WHERE kind = 'status'").await, 1, "status has no shared part: one run");

    // Health, readiness, metrics.
    let http = reqwest::Client::new();
    let health = http.get(format!("http://{listen_a}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = http.get(format!("http://{listen_a}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["ready"], true, "{ready}");
    let metrics = http.get(format!("http://{listen_b}/metrics")).send().await.unwrap().text().await.unwrap();
    let submitted = scalar(&store, "SELECT count(*) FROM publications WHERE state = 'submitted'").await;
    assert!(metrics.contains(&format!("katalog_bridge_publications{{state=\"submitted\"}} {submitted}")), "{metrics}");
    let waiting = scalar(&store, "SELECT count(*) FROM purchase_orders WHERE status = 'WAITING_SELLER_CONFIRMATION'").await;
    assert!(metrics.contains(&format!("katalog_bridge_orders_waiting_confirmation {waiting}")), "{metrics}");
    for name in [
        "katalog_bridge_seconds_to_nearest_deadline ",
        "katalog_bridge_runs_total{job=\"publish\"",
        "katalog_bridge_run_duration_seconds_bucket{job=\"orders\"",
        "katalog_bridge_catalogue_responses_total{status=\"200\"}",
        "katalog_bridge_orders_synced_total",
    ] {
        assert!(metrics.contains(name), "{name} in {metrics}");
    }
    // Readiness is the database's: a failing catalogue is reported by its last
    // answer, never asked by the probe (a restart would not mend it).
    let r = http.post(format!("{}/admin/faults", server.url())).json(&json!({"route": "*", "kind": "status", "status": 503})).send().await.unwrap();
    assert!(r.status().is_success());
    for _ in 0..5 {
        let ready = http.get(format!("http://{listen_a}/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), 200);
        let body = ready.text().await.unwrap();
        assert!(body.contains("\"database\":\"ok\"") && body.contains("last answered HTTP") && !body.contains("127.0.0.1"), "{body}");
    }

    let (mut a, mut b) = (a, b);
    terminate(&mut a);
    terminate(&mut b);
    let ((code_a, err_a), (code_b, err_b)) = (exit_of(a, log_path(&config_a, "daemon-a")).await, exit_of(b, log_path(&config_a, "daemon-b")).await);
    assert_eq!(code_a, Some(0), "{err_a}");
    assert_eq!(code_b, Some(0), "{err_b}");
    assert!(err_a.contains("job=\"publish\""), "log lines carry the job: {err_a}");
    for secret in scenario.clients.iter().map(|c| c.client_secret.as_str()) {
        assert!(!err_a.contains(secret) && !err_b.contains(secret) && !metrics.contains(secret), "no secret in logs or metrics");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_killed_mid_run_leaves_its_claims_to_the_other_which_finishes_them_after_the_lease() {
    let (store, url) = common::fixture_db().await;
    missed_nightly(&store).await;
    let mut scenario = scenario();
    scenario.initial_orders = 0;
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    slow(&server, "/api/v1/listings", 150).await;
    let tmp = common::temp_dir();
    let config = daemon_config(tmp.path(), &server, &scenario, "127.0.0.1:0", "");
    let mut daemons = [("daemon-a", Some(spawn_daemon(&url, &config, "daemon-a"))), ("daemon-b", Some(spawn_daemon(&url, &config, "daemon-b")))];
    // Kill whichever holds claims on publications first, while it holds them.
    let mut victim = None;
    for _ in 0..600 {
        let holders: Vec<String> = sqlx::query_scalar("SELECT DISTINCT split_part(claimed_by, ':', 1) FROM publications WHERE claimed_until > now()")
            .fetch_all(store.pool())
            .await
            .unwrap();
        if let Some((name, child)) = daemons.iter_mut().find(|(name, _)| holders.iter().any(|h| h == name)) {
            let mut child = child.take().unwrap();
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            victim = Some(*name);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let victim = victim.expect("a daemon claimed publications");
    let orphaned =
        scalar(&store, &format!("SELECT count(*) FROM publications WHERE claimed_by LIKE '{victim}:%' AND claimed_until > now() AND state = 'pending'")).await;
    assert!(orphaned > 0, "the killed daemon left claims behind");
    until_or_logs(&store, "every publication sent", ALL_SENT, 120, Some(&config)).await;
    let publications = scalar(&store, "SELECT count(*) FROM publications").await;
    assert_eq!(listed(&server).await, publications, "each product listed exactly once");
    let accepted_events = scalar(&store, "SELECT count(*) FROM publication_events WHERE kind = 'accepted'").await;
    assert_eq!(accepted_events, publications, "each publication accepted once");
    // If the killed one led, the survivor took the lock and marked its run abandoned.
    let victim_led = scalar(&store, &format!("SELECT count(*) FROM sync_runs WHERE kind = 'publish' AND role = 'lead' AND instance LIKE '{victim}:%'")).await;
    if victim_led > 0 {
        until_or_logs(
            &store,
            "the dead lead's run abandoned",
            &format!("SELECT count(*) FROM sync_runs WHERE instance LIKE '{victim}:%' AND role = 'lead' AND status = 'abandoned'"),
            60,
            Some(&config),
        )
        .await;
    }
    for (name, child) in daemons.iter_mut() {
        if let Some(mut c) = child.take() {
            terminate(&mut c);
            let (code, err) = exit_of(c, log_path(&config, name)).await;
            assert_eq!(code, Some(0), "{err}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_run_stops_at_a_batch_boundary_exits_0_and_the_next_start_finishes() {
    let (store, url) = common::fixture_db().await;
    missed_nightly(&store).await;
    let mut scenario = scenario();
    scenario.initial_orders = 0;
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    slow(&server, "/api/v1/listings", 100).await;
    let tmp = common::temp_dir();
    let config = daemon_config(tmp.path(), &server, &scenario, "127.0.0.1:0", "");
    let mut d = spawn_daemon(&url, &config, "daemon-a");
    until_or_logs(&store, "some publications sent", "SELECT count(*) FROM publications WHERE state = 'submitted'", 60, Some(&config)).await;
    terminate(&mut d);
    let (code, err) = exit_of(d, log_path(&config, "daemon-a")).await;
    assert_eq!(code, Some(0), "{err}");
    let left = scalar(&store, "SELECT count(*) FROM publications WHERE state = 'pending'").await;
    assert!(left > 0, "stopped mid-run");
    // Nothing half-applied: every publication recorded as sent is on the catalogue, and no claim is left.
    let submitted = scalar(&store, "SELECT count(*) FROM publications WHERE state = 'submitted'").await;
    assert_eq!(listed(&server).await, submitted);
    assert_eq!(scalar(&store, "SELECT count(*) FROM publications WHERE claimed_by IS NOT NULL").await, 0, "claims released at the boundary");
    let status: String =
        sqlx::query_scalar("SELECT status FROM sync_runs WHERE kind = 'publish' AND instance LIKE 'daemon-a:%'").fetch_one(store.pool()).await.unwrap();
    assert_eq!(status, "interrupted");
    // The interrupted run does not count for its tick: the next start runs it again and finishes.
    let d = spawn_daemon(&url, &config, "daemon-a");
    until_or_logs(&store, "every publication sent", ALL_SENT, 120, Some(&config)).await;
    let publications = scalar(&store, "SELECT count(*) FROM publications").await;
    assert_eq!(listed(&server).await, publications);
    let mut d = d;
    terminate(&mut d);
    assert_eq!(exit_of(d, log_path(&config, "daemon-a")).await.0, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_heartbeat_stopped_is_marked_abandoned() {
    let (store, url) = common::fresh_db().await;
    sqlx::query("INSERT INTO sync_runs (kind, instance, started_at, heartbeat_at) VALUES ('orders', 'elsewhere:77', now() - interval '1 hour', now() - interval '10 minutes')")
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::query("INSERT INTO sync_runs (kind, instance, started_at, heartbeat_at) VALUES ('publish', 'elsewhere:78', now() - interval '1 hour', now())")
        .execute(store.pool())
        .await
        .unwrap();
    let out = common::binary().env("DATABASE_URL", &url).args(["runs", "--json"]).output().unwrap();
    assert!(out.status.success());
    let runs: Vec<Value> = String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let of = |job: &str| runs.iter().find(|r| r["job"] == job).unwrap().clone();
    assert_eq!(of("orders")["status"], "abandoned", "{runs:?}");
    assert!(of("orders")["error"].as_str().unwrap().contains("heartbeat"));
    assert_eq!(of("publish")["status"], "running", "a fresh heartbeat is left alone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_embedded_cluster_the_daemon_owns_it_and_a_command_run_meanwhile_leaves_it_running() {
    let tmp = common::temp_dir();
    let data = tmp.path().join("pg");
    let listen = free_port();
    let config = tmp.path().join("kb.toml");
    std::fs::write(&config, format!("[daemon]\nlisten = \"{}\"\nmetrics_listen = \"{listen}\"\n", free_port())).unwrap();
    let command = |args: &[&str]| common::binary().arg("--config").arg(&config).arg("--data-dir").arg(&data).args(args).output().unwrap();
    let mut daemon = common::binary()
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(&data)
        .arg("daemon")
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(tmp.path().join("daemon.log")).unwrap()))
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    let mut up = false;
    for _ in 0..300 {
        if http.get(format!("http://{listen}/healthz")).send().await.is_ok_and(|r| r.status() == 200) {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the daemon answers: {}", std::fs::read_to_string(tmp.path().join("daemon.log")).unwrap_or_default());
    let out = command(&["runs"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("reusing running embedded PostgreSQL"));
    assert!(data.join("postmaster.pid").exists(), "the command left the daemon's cluster running");
    let ready: Value = http.get(format!("http://{listen}/readyz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["database"], "ok", "{ready}");
    // A second daemon on the same data folder fails on the port in use, and
    // leaves the first one's cluster running.
    let second =
        common::binary().arg("--config").arg(&config).arg("--data-dir").arg(&data).arg("daemon").stdout(Stdio::null()).stderr(Stdio::piped()).output().unwrap();
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success() && said.contains("cannot listen on"), "the second daemon fails: {said}");
    assert!(data.join("postmaster.pid").exists(), "the first daemon's cluster still runs: {said}");
    let ready: Value = http.get(format!("http://{listen}/readyz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["database"], "ok", "the first daemon's database is still there: {ready}");
    terminate(&mut daemon);
    let (code, log) = exit_of(daemon, tmp.path().join("daemon.log")).await;
    assert_eq!(code, Some(0), "{log}");
    assert!(!data.join("postmaster.pid").exists(), "the daemon stopped its cluster: {log}");
}

/// The database goes away under a running daemon and comes back: the daemon
/// stays up, says it is not ready (database) while it is away, is ready
/// again after, and still stops cleanly with 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_outlives_a_database_outage_unready_while_it_lasts_and_ready_after() {
    let tmp = common::temp_dir();
    let cluster = common::private_cluster(tmp.path());
    let url = format!("postgres://postgres@localhost/postgres?host={}&port=5432", cluster.socket_dir().display());
    let scenario = scenario();
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let listen = free_port();
    let web = free_port();
    let config = daemon_config_with_web(tmp.path(), &server, &scenario, &listen, &web, "");
    let daemon = spawn_daemon(&url, &config, "daemon-a");
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let readiness = |http: reqwest::Client| {
        let url = format!("http://{listen}/readyz");
        async move {
            match http.get(url).send().await {
                Ok(r) => Some((r.status().as_u16(), r.json::<Value>().await.unwrap_or_default())),
                Err(_) => None,
            }
        }
    };
    let wait_for = |want: u16, what: &'static str| {
        let http = http.clone();
        let config = config.clone();
        async move {
            for _ in 0..300 {
                if let Some((status, body)) = readiness(http.clone()).await
                    && status == want
                {
                    return body;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("timed out waiting for {what}{}", log_tails(&config));
        }
    };
    let ready = wait_for(200, "readiness").await;
    assert_eq!(ready["database"], "ok", "{ready}");
    // A liaison logged in to the dashboard.
    let mut add = common::binary()
        .env("DATABASE_URL", &url)
        .args(["users", "add", "penghubung", "--role", "liaison", "--password-stdin"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut add.stdin.take().unwrap(), b"kata-sandi-uji-2026\n").unwrap();
    assert!(add.wait().unwrap().success());
    let browser = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).timeout(Duration::from_secs(30)).build().unwrap();
    let page = browser.get(format!("http://{web}/masuk")).send().await.unwrap().text().await.unwrap();
    let token = page.split("name=\"token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let login = browser
        .post(format!("http://{web}/masuk"))
        .form(&[("token", token.as_str()), ("username", "penghubung"), ("password", "kata-sandi-uji-2026"), ("lanjut", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303);
    assert_eq!(browser.get(format!("http://{web}/pesanan")).send().await.unwrap().status(), 200);

    cluster.stop().unwrap();
    let unready = wait_for(503, "unreadiness while the database is away").await;
    assert_ne!(unready["database"], "ok", "{unready}");
    let catalogue = unready["catalogue"].as_str().unwrap();
    assert!(
        catalogue.starts_with("last answered HTTP 200") || catalogue == "not asked since the daemon started",
        "the catalogue reported, not asked: {unready}"
    );
    // Readiness answers at once, naming the database; a page says in words
    // that the data is away for a moment, instead of waiting for a connection.
    let quick = reqwest::Client::builder().timeout(Duration::from_secs(3)).build().unwrap();
    let probe = quick.get(format!("http://{listen}/readyz")).send().await.expect("/readyz answers within 3 s with the database away");
    assert_eq!(probe.status(), 503);
    assert!(probe.text().await.unwrap().contains("\"database\":\"error"), "names the database");
    let begun = std::time::Instant::now();
    let away = browser.get(format!("http://{web}/pesanan")).send().await.unwrap();
    let took = begun.elapsed();
    assert_eq!(away.status(), 503);
    assert_eq!(away.headers()["retry-after"], "30");
    let text = away.text().await.unwrap();
    assert!(text.contains("Data sebentar tidak tersedia") && text.contains("Tidak ada yang hilang"), "{text}");
    assert!(took < Duration::from_secs(5), "the page answered after {took:?}");
    assert_eq!(http.get(format!("http://{listen}/healthz")).send().await.unwrap().status(), 200, "alive all the same");
    let metrics = http.get(format!("http://{listen}/metrics")).send().await.unwrap();
    assert!(metrics.status().is_success(), "metrics answer while the database is away");
    assert!(metrics.text().await.unwrap().contains("katalog_bridge_database_up 0"), "and say it is away");
    // The sweep meets the outage too, says so, and goes on.
    let log = log_path(&config, "daemon-a");
    for _ in 0..300 {
        if std::fs::read_to_string(&log).unwrap_or_default().contains("cannot check for abandoned runs") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(std::fs::read_to_string(&log).unwrap_or_default().contains("cannot check for abandoned runs"), "the sweep met the outage{}", log_tails(&config));

    cluster.start().unwrap();
    let ready = wait_for(200, "readiness after the outage").await;
    assert_eq!(ready["database"], "ok", "{ready}");
    assert_eq!(browser.get(format!("http://{web}/pesanan")).send().await.unwrap().status(), 200, "the session outlived the outage");
    let mut daemon = daemon;
    terminate(&mut daemon);
    let (code, log) = exit_of(daemon, log_path(&config, "daemon-a")).await;
    assert_eq!(code, Some(0), "{log}");
    assert!(!log.contains("panicked"), "{log}");
    cluster.stop().unwrap();
}

/// The database away when the scheduler starts: it waits for it, saying so,
/// and then catches up the missed run; it neither ends nor runs blind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduler_starting_while_the_database_is_away_waits_for_it_then_catches_up() {
    let tmp = common::temp_dir();
    let cluster = common::private_cluster(tmp.path());
    let store = common::private_store(&cluster).await;
    sqlx::query("INSERT INTO sync_runs (kind, instance, started_at, finished_at, status) VALUES ('status', 'old:1', $1, $1, 'succeeded')")
        .bind(wib(2026, 12, 2, 9, 0))
        .execute(store.pool())
        .await
        .unwrap();
    cluster.stop().unwrap();

    let never = "0 3 1 1 *";
    let now = wib(2026, 12, 2, 14, 20);
    let h = start_unsettled(&store, now, schedules(never, "0 * * * *", never), None);
    // It tries the history, fails, and tries again a clock second later.
    eventually("a failed look at the history", || h.stats.state().history_retries >= 1).await;
    advance_until("a second failed look", &h.clock, || h.stats.state().history_retries >= 2).await;
    assert!(!h.running.is_finished(), "the scheduler waits for the database, it does not end");
    assert!(h.jobs.calls().is_empty());
    assert_eq!(h.stats.state().waiting_until, None, "not started without its history");

    cluster.start().unwrap();
    // It looks again every help_every (1 s) of its clock.
    advance_until("the catch-up run once the database is back", &h.clock, || !h.jobs.calls().is_empty()).await;
    eventually("the catch-up to end, the loop asleep until the next hour", || {
        h.stats.of(Job::Status).ended == 1 && h.stats.state().waiting_until.is_some_and(|t| t > now)
    })
    .await;
    let calls = h.jobs.calls();
    assert_eq!(calls.iter().map(|c| c.0).collect::<Vec<_>>(), ["status"], "the missed status run, once, once the database is back");
    assert!(calls[0].1 > now, "run after the wait, not before");
    h.stop.send_replace(true);
    h.running.await.unwrap();
    store.pool().close().await;
    cluster.stop().unwrap();
}
