//! The jobs the daemon schedules and that take a lock between instances:
//! one list, with each job's name (in `sync_runs.kind`, the logs and
//! `[daemon.schedules]`), its advisory-lock number and its default schedule.

/// A scheduled job, in the order a nightly full sync runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Job {
    Publish,
    Status,
    Orders,
    /// The buyers' purchase plans (RUP) from INAPROC: read, matched to the
    /// cooperatives, and the opportunities told.
    Rup,
}

impl Job {
    /// Every job, in the order a nightly full sync runs them.
    pub const ALL: [Job; 4] = [Job::Publish, Job::Status, Job::Orders, Job::Rup];

    pub const fn name(self) -> &'static str {
        match self {
            Job::Publish => "publish",
            Job::Status => "status",
            Job::Orders => "orders",
            Job::Rup => "rup",
        }
    }

    pub fn parse(name: &str) -> Option<Job> {
        Self::ALL.into_iter().find(|j| j.name() == name)
    }

    /// Its number within the jobs' advisory-lock class.
    pub const fn lock_id(self) -> i32 {
        match self {
            Job::Publish => 1,
            Job::Status => 2,
            Job::Orders => 3,
            Job::Rup => 4,
        }
    }

    /// The default schedule: a nightly full sync at 01:00 (publish, then
    /// status, then orders), status every hour, orders every 15 minutes in
    /// working hours, the purchase plans daily at 02:30.
    pub const fn default_schedule(self) -> &'static str {
        match self {
            Job::Publish => "0 1 * * *",
            Job::Status => "0 * * * *",
            Job::Orders => "*/15 7-17 * * 1-5",
            // Daily, after the nightly sync (INAPROC's data lags by up to a day).
            Job::Rup => "30 2 * * *",
        }
    }

    /// The jobs a tick of this one brings after it: publishing is followed by
    /// a status read and an order sync.
    pub const fn followed_by(self) -> &'static [Job] {
        match self {
            Job::Publish => &[Job::Status, Job::Orders],
            Job::Status | Job::Orders | Job::Rup => &[],
        }
    }
}

super::named_by!(Job, "job", name);

/// How a run of a job stands or ended (`sync_runs.status`). Ordered from the
/// best ending to the worst, so that the worse of two is their maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Still going (or its process died: `abandoned` once that is known).
    Running,
    Succeeded,
    /// Finished, but some items were rejected.
    Partial,
    /// Stopped by a signal at a batch boundary; what was done is committed.
    Interrupted,
    Failed,
    /// Its process ended without finishing it.
    Abandoned,
}

impl RunStatus {
    pub const ALL: [RunStatus; 6] = [Self::Running, Self::Succeeded, Self::Partial, Self::Interrupted, Self::Failed, Self::Abandoned];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Partial => "partial",
            Self::Interrupted => "interrupted",
            Self::Failed => "failed",
            Self::Abandoned => "abandoned",
        }
    }

    /// Whether it calls for a look: it ended, and not well.
    pub fn is_bad(self) -> bool {
        !matches!(self, Self::Running | Self::Succeeded)
    }
}

super::named_by!(RunStatus, "run status", as_str);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_lock_ids_are_distinct() {
        for job in Job::ALL {
            assert_eq!(Job::parse(job.name()), Some(job));
        }
        assert_eq!(Job::parse("import"), None);
        let mut ids: Vec<i32> = Job::ALL.iter().map(|j| j.lock_id()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), Job::ALL.len());
    }
}
