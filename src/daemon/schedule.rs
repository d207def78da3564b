//! Job schedules: standard 5-field cron expressions (minute, hour, day of
//! month, month, day of week with 0 or 7 for Sunday), evaluated in the
//! configured time zone with the `cron` crate. The crate wants 6 fields with
//! seconds first and numbers Sunday 1 to Saturday 7, so days of the week are
//! handed to it by name. No I/O: the clock is passed in.

use std::str::FromStr;

use crate::domain::job::Job;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("schedule {expr:?}: a cron expression has 5 fields (minute hour day-of-month month day-of-week), this has {found}")]
    Fields { expr: String, found: usize },
    #[error("schedule {expr:?}: day of week {value:?} must be 0-7 (0 and 7 are Sunday) or a name like MON")]
    DayOfWeek { expr: String, value: String },
    #[error("schedule {expr:?}: {reason}")]
    Invalid { expr: String, reason: String },
}

/// A parsed schedule.
#[derive(Debug, Clone)]
pub struct JobSchedule {
    /// As written (5 fields).
    pub expr: String,
    schedule: cron::Schedule,
}

const DAYS: [&str; 8] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];

/// One day-of-week term (`1`, `1-5`, `*/2`, `MON-FRI`) with numbers turned into names.
fn day_term(expr: &str, term: &str) -> Result<String, ScheduleError> {
    let bad = || ScheduleError::DayOfWeek { expr: expr.to_owned(), value: term.to_owned() };
    let (range, step) = match term.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (term, None),
    };
    let name = |v: &str| -> Result<String, ScheduleError> {
        match v.parse::<usize>() {
            Ok(n) => DAYS.get(n).map(|d| (*d).to_owned()).ok_or_else(bad),
            Err(_) if v.chars().all(|c| c.is_ascii_alphabetic()) && !v.is_empty() => Ok(v.to_owned()),
            Err(_) => Err(bad()),
        }
    };
    let range = match range {
        "*" => "*".to_owned(),
        r => match r.split_once('-') {
            // 0-7 and 1-7 name every day; a range ending on Sunday (7) wraps in the crate's numbering.
            Some((a, "7")) if a.parse::<usize>().is_ok() => {
                let a = name(a)?;
                if a == "SUN" { "*".to_owned() } else { format!("{a}-SAT,SUN") }
            }
            Some((a, b)) => format!("{}-{}", name(a)?, name(b)?),
            None => name(r)?,
        },
    };
    Ok(match step {
        Some(_) if range.contains(',') => {
            return Err(ScheduleError::Invalid {
                expr: expr.to_owned(),
                reason: format!("a step over a range ending on Sunday ({term}) is not supported: list the days"),
            });
        }
        Some(s) => format!("{range}/{s}"),
        None => range,
    })
}

impl JobSchedule {
    pub fn parse(expr: &str) -> Result<Self, ScheduleError> {
        let fields: Vec<&str> = expr.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(ScheduleError::Fields { expr: expr.to_owned(), found: fields.len() });
        }
        let days = fields[4].split(',').map(|t| day_term(expr, t)).collect::<Result<Vec<_>, _>>()?.join(",");
        let six = format!("0 {} {} {} {} {days}", fields[0], fields[1], fields[2], fields[3]);
        let schedule = cron::Schedule::from_str(&six).map_err(|e| ScheduleError::Invalid { expr: expr.to_owned(), reason: e.to_string() })?;
        Ok(Self { expr: expr.to_owned(), schedule })
    }

    /// The first tick strictly after `after`, in `tz`.
    pub fn next_after(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        self.schedule.after(&after.with_timezone(&tz)).next().map(|t| t.with_timezone(&Utc))
    }

    /// The next `n` ticks after `from`.
    pub fn upcoming(&self, from: DateTime<Utc>, tz: Tz, n: usize) -> Vec<DateTime<Utc>> {
        self.schedule.after(&from.with_timezone(&tz)).take(n).map(|t| t.with_timezone(&Utc)).collect()
    }

    /// The first tick missed by `now`, given when the job last started: the
    /// job is due, for that tick. However many ticks were missed (the daemon
    /// was down), that is one run, not one per tick. A job that never ran
    /// waits for its next tick.
    pub fn missed(&self, last_started: Option<DateTime<Utc>>, now: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        last_started.and_then(|t| self.next_after(t, tz)).filter(|tick| *tick <= now)
    }
}

/// Each job's schedule as `[daemon.schedules]` sets it, or its default; a
/// name that is no job is an error naming the jobs.
pub fn from_settings(configured: &std::collections::BTreeMap<String, String>) -> Result<Vec<(Job, JobSchedule)>, String> {
    if let Some(unknown) = configured.keys().find(|k| Job::parse(k).is_none()) {
        let names: Vec<&str> = Job::ALL.iter().map(|j| j.name()).collect();
        return Err(format!("daemon.schedules.{unknown}: no such job (the jobs are {})", names.join(", ")));
    }
    Job::ALL
        .iter()
        .map(|job| {
            let expr = configured.get(job.name()).map_or(job.default_schedule(), String::as_str);
            JobSchedule::parse(expr).map(|s| (*job, s)).map_err(|e| format!("daemon.schedules.{job}: {e}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::Asia::Jakarta;

    fn wib(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Jakarta.with_ymd_and_hms(y, m, d, h, min, 0).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn nightly_at_one_in_jakarta_across_midnight() {
        let s = JobSchedule::parse("0 1 * * *").unwrap();
        // 23:30 WIB on Monday 30 Nov 2026 (16:30 UTC): next is 01:00 WIB Tuesday (18:00 UTC Monday).
        assert_eq!(s.next_after(wib(2026, 11, 30, 23, 30), Jakarta), Some(wib(2026, 12, 1, 1, 0)));
        assert_eq!(s.next_after(wib(2026, 12, 1, 1, 0), Jakarta), Some(wib(2026, 12, 2, 1, 0)), "strictly after");
        assert_eq!(wib(2026, 12, 1, 1, 0).to_rfc3339(), "2026-11-30T18:00:00+00:00");
    }

    #[test]
    fn working_hours_on_working_days_use_the_standard_numbering() {
        let s = JobSchedule::parse("*/15 7-17 * * 1-5").unwrap();
        // Friday 4 Dec 2026 17:45 WIB: next is Monday 7 Dec 07:00, not Saturday or Sunday.
        assert_eq!(s.next_after(wib(2026, 12, 4, 17, 45), Jakarta), Some(wib(2026, 12, 7, 7, 0)));
        assert_eq!(s.upcoming(wib(2026, 12, 7, 7, 0), Jakarta, 2), vec![wib(2026, 12, 7, 7, 15), wib(2026, 12, 7, 7, 30)]);
        // Sunday as 0 and as 7; and a name.
        for sunday in ["0 9 * * 0", "0 9 * * 7", "0 9 * * SUN"] {
            assert_eq!(JobSchedule::parse(sunday).unwrap().next_after(wib(2026, 12, 3, 0, 0), Jakarta), Some(wib(2026, 12, 6, 9, 0)), "{sunday}");
        }
        // 5-7 is Friday to Sunday.
        let weekend = JobSchedule::parse("0 9 * * 5-7").unwrap();
        assert_eq!(
            weekend.upcoming(wib(2026, 12, 3, 12, 0), Jakarta, 4),
            vec![wib(2026, 12, 4, 9, 0), wib(2026, 12, 5, 9, 0), wib(2026, 12, 6, 9, 0), wib(2026, 12, 11, 9, 0)]
        );
    }

    #[test]
    fn a_missed_run_runs_once_and_a_job_that_never_ran_waits() {
        let s = JobSchedule::parse("0 * * * *").unwrap();
        let last = wib(2026, 12, 1, 8, 0);
        // Down from 08:10 to 12:40: four ticks missed, due (once) at start-up.
        assert_eq!(s.missed(Some(last), wib(2026, 12, 1, 12, 40), Jakarta), Some(wib(2026, 12, 1, 9, 0)), "the first missed tick");
        assert_eq!(s.missed(Some(last), wib(2026, 12, 1, 8, 59), Jakarta), None);
        assert_eq!(s.missed(None, wib(2026, 12, 1, 12, 40), Jakarta), None);
    }

    #[test]
    fn bad_expressions_say_what_is_wrong() {
        assert!(matches!(JobSchedule::parse("0 0 1 * * *"), Err(ScheduleError::Fields { found: 6, .. })));
        assert!(matches!(JobSchedule::parse("0 1 * * 8"), Err(ScheduleError::DayOfWeek { .. })));
        assert!(matches!(JobSchedule::parse("61 1 * * *"), Err(ScheduleError::Invalid { .. })));
        for job in Job::ALL {
            assert!(JobSchedule::parse(job.default_schedule()).is_ok(), "{job}");
        }
    }
}
