//! The catalogue's own working-day clock: weekends, national holidays and
//! (unless the scenario says they are worked) cuti bersama are days off. The
//! list of days is the one the project keeps (`mappings/calendar/`); the
//! counting is the mock's own, so that it checks the adapter's.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Asia::Jakarta;

/// The working days a seller has to answer an order (DOMAIN.md).
pub const CONFIRM_WORKING_DAYS: u32 = 3;

const HOLIDAYS: &str = include_str!("../../mappings/calendar/holidays-id.csv");

#[derive(Debug, Clone)]
pub struct Calendar {
    /// Each day off and whether it is a cuti bersama.
    days_off: HashMap<NaiveDate, bool>,
    cuti_bersama_is_working_day: bool,
}

impl Calendar {
    pub fn new(cuti_bersama_is_working_day: bool) -> Self {
        let days_off = HOLIDAYS
            .lines()
            .skip(1)
            .filter_map(|line| {
                let mut fields = line.split(',');
                let day = NaiveDate::parse_from_str(fields.next()?.trim(), "%Y-%m-%d").ok()?;
                Some((day, fields.next()?.trim() == "cuti_bersama"))
            })
            .collect();
        Self { days_off, cuti_bersama_is_working_day }
    }

    /// Whether `day` (in Jakarta) is worked.
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
        let off = self.days_off.get(&day).is_some_and(|&cuti| !cuti || !self.cuti_bersama_is_working_day);
        !weekend && !off
    }

    /// The same time of day in Jakarta, `n` working days after `from`'s day.
    pub fn add_working_days(&self, from: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        let local = from.with_timezone(&Jakarta);
        let day = local.date_naive().iter_days().skip(1).filter(|d| self.is_working_day(*d)).nth(n.saturating_sub(1) as usize);
        let Some(day) = day.filter(|_| n > 0) else { return from };
        Jakarta.from_local_datetime(&day.and_time(local.time())).single().map_or(from, |t| t.with_timezone(&Utc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn friday_plus_three_working_days_skips_the_weekend_and_holidays() {
        let c = Calendar::new(false);
        let at = |d: &str| {
            Jakarta.from_local_datetime(&NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap().and_hms_opt(10, 0, 0).unwrap()).unwrap().with_timezone(&Utc)
        };
        // Friday 2026-03-06 + 3 = Wednesday 2026-03-11
        assert_eq!(c.add_working_days(at("2026-03-06"), 3), at("2026-03-11"));
        // 2025-12-24 (Wednesday) + 1: the 25th is Christmas, the 26th cuti bersama
        assert_eq!(c.add_working_days(at("2025-12-24"), 1), at("2025-12-29"));
        assert_eq!(Calendar::new(true).add_working_days(at("2025-12-24"), 1), at("2025-12-26"));
    }
}
