//! The jobs the daemon schedules and that take a lock between instances:
//! one list, with each job's name (in `sync_runs.kind`, the logs and
//! `[daemon.schedules]`), its advisory-lock number and its default schedule.

/// A scheduled job, in the order a nightly full sync runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Job {
    Publish,
    Status,
    Orders,
}

impl Job {
    /// Every job, in the order a nightly full sync runs them.
    pub const ALL: [Job; 3] = [Job::Publish, Job::Status, Job::Orders];

    pub const fn name(self) -> &'static str {
        match self {
            Job::Publish => "publish",
            Job::Status => "status",
            Job::Orders => "orders",
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
        }
    }

    /// The default schedule: a nightly full sync at 01:00 (publish, then
    /// status, then orders), status every hour, orders every 15 minutes in
    /// working hours.
    pub const fn default_schedule(self) -> &'static str {
        match self {
            Job::Publish => "0 1 * * *",
            Job::Status => "0 * * * *",
            Job::Orders => "*/15 7-17 * * 1-5",
        }
    }

    /// The jobs a tick of this one brings after it: publishing is followed by
    /// a status read and an order sync.
    pub const fn followed_by(self) -> &'static [Job] {
        match self {
            Job::Publish => &[Job::Status, Job::Orders],
            Job::Status | Job::Orders => &[],
        }
    }
}

impl std::fmt::Display for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

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
        assert_eq!(ids.len(), 3);
    }
}
