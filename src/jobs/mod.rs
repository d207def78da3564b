//! The jobs the daemon schedules and the dashboard starts: what a job is to
//! both (`Jobs`, with the run's `Outcome`), and the real ones (`RealJobs`:
//! the catalogue clients, the plans and the calendar built once at
//! start-up). Below both the daemon and the web, so neither imports the
//! other.

mod real;

use std::future::Future;
use std::time::Duration;

use crate::domain::job::Job;
pub use real::RealJobs;

/// How a lead attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The run ended with this status (succeeded, partial, failed, interrupted).
    Finished(crate::domain::job::RunStatus),
    /// Another process holds the job's lock.
    Busy,
}

/// What the scheduler runs and the dashboard starts. The real jobs are in
/// `real.rs`; tests give their own.
pub trait Jobs: Send + Sync + 'static {
    /// The job's whole work as its lead, under its lock.
    fn lead(&self, job: Job) -> impl Future<Output = Outcome> + Send;
    /// The claimable part of a job another process leads; whether any was done.
    fn help(&self, job: Job) -> impl Future<Output = bool> + Send;
    /// How long until the first lease held on the job's unfinished work runs
    /// out, when any is held.
    fn leased(&self, job: Job) -> impl Future<Output = Option<Duration>> + Send;
}
