//! Starting a job's run by hand: the one place its rules live, for the
//! "Jalankan" page and for `sync publish|status|orders`.

use std::sync::Arc;

use super::Actor;
use crate::domain::job::Job;
use crate::jobs::Jobs;
use crate::store::{Store, StoreError, runs};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Only an actor over every cooperative starts the city-wide jobs.
    #[error("only the liaison or the operator starts the {0} job")]
    NotAllowed(Job),
    /// Another process holds the job's lock.
    #[error("the {job} job is running already (held by {}): wait for it to end", holder.as_deref().unwrap_or("another process"))]
    Busy { job: Job, holder: Option<String> },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether `actor` may start `job` now, and the record that they did: the
/// job is city-wide, so only an actor over every cooperative starts it; it
/// is refused while another process holds its lock. Written to the audit
/// log. The front end then runs it (the page on a task of its own, the
/// command line in the foreground with its progress).
pub async fn begin(store: &Store, actor: &Actor, job: Job) -> Result<(), StartError> {
    if actor.scope.is_some() {
        return Err(StartError::NotAllowed(job));
    }
    if runs::job_locked(store, job).await? {
        let holder = runs::lock_holder(store, job).await?;
        return Err(StartError::Busy { job, holder });
    }
    crate::store::users::audit_as(store, (actor.user_id, &actor.name), None, "run.start", Some(job.name()), serde_json::json!({})).await?;
    tracing::info!(job = job.name(), by = actor.name, "a run was started by hand");
    Ok(())
}

/// [`begin`], then the job's whole run as its lead, on a task of its own.
pub async fn start<J: Jobs>(store: &Store, jobs: Arc<J>, actor: &Actor, job: Job) -> Result<(), StartError> {
    begin(store, actor, job).await?;
    tokio::spawn(async move {
        let outcome = jobs.lead(job).await;
        tracing::info!(job = job.name(), ?outcome, "the run started by hand ended");
    });
    Ok(())
}
