//! Working days in Indonesia, for the seller's 3-working-day deadline to
//! confirm a purchase order: Monday to Friday in Asia/Jakarta, less national
//! holidays and (by a setting) cuti bersama. The days come from
//! `mappings/calendar/holidays-id.csv`; this module only reads the text.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Asia::Jakarta;

use super::DomainError;

/// Working days a seller has to confirm an order.
pub const CONFIRM_WORKING_DAYS: u32 = 3;

/// What a listed day is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayOff {
    /// A national holiday (`libur`).
    Holiday,
    /// Collective leave (`cuti_bersama`).
    CutiBersama,
}

#[derive(Debug, Clone)]
pub struct WorkingCalendar {
    days: HashMap<NaiveDate, DayOff>,
    cuti_bersama_is_working_day: bool,
    /// The last date the list covers (31 December of its last year).
    covers_until: Option<NaiveDate>,
}

impl WorkingCalendar {
    /// Reads `date,kind,name` rows (a header first). An error names the line.
    pub fn parse(text: &str, cuti_bersama_is_working_day: bool) -> Result<Self, (u64, DomainError)> {
        let mut days = HashMap::new();
        let mut last_year = None;
        for (i, line) in text.lines().enumerate().skip(1) {
            let n = i as u64 + 1;
            if line.trim().is_empty() {
                continue;
            }
            let mut fields = line.splitn(3, ',');
            let (date, kind) = (fields.next().unwrap_or_default().trim(), fields.next().unwrap_or_default().trim());
            let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| (n, DomainError::new(format!("{date:?} is not a date like 2026-03-20"))))?;
            let kind = match kind {
                "libur" => DayOff::Holiday,
                "cuti_bersama" => DayOff::CutiBersama,
                other => return Err((n, DomainError::new(format!("kind {other:?} must be libur or cuti_bersama")))),
            };
            days.insert(date, kind);
            last_year = last_year.max(Some(date.year()));
        }
        let covers_until = last_year.and_then(|y| NaiveDate::from_ymd_opt(y, 12, 31));
        Ok(Self { days, cuti_bersama_is_working_day, covers_until })
    }

    /// Whether `day` (a date in Jakarta) is a working day.
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            return false;
        }
        match self.days.get(&day) {
            Some(DayOff::Holiday) => false,
            Some(DayOff::CutiBersama) => self.cuti_bersama_is_working_day,
            None => true,
        }
    }

    /// Whether the list reaches `day` (past it every weekday counts as working).
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.covers_until.is_some_and(|last| day <= last)
    }

    /// `n` working days after `from`: the same time of day in Jakarta, on the
    /// `n`-th working day after the day of `from` (which counts whether it is
    /// a working day or not). Friday 10:00 plus 3 is Wednesday 10:00.
    pub fn add_working_days(&self, from: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        let local = from.with_timezone(&Jakarta);
        let mut day = local.date_naive();
        let mut left = n;
        while left > 0 {
            day = day.succ_opt().unwrap_or(day);
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        // Jakarta has no daylight saving: every local time exists once.
        Jakarta.from_local_datetime(&day.and_time(local.time())).single().map_or(from, |t| t.with_timezone(&Utc))
    }

    /// The working time between `now` and `deadline`: only the hours that fall
    /// on working days count. Zero once the deadline has passed.
    pub fn working_time_left(&self, now: DateTime<Utc>, deadline: DateTime<Utc>) -> Duration {
        let mut left = Duration::zero();
        let mut t = now;
        while t < deadline {
            let local = t.with_timezone(&Jakarta);
            let next_midnight = local
                .date_naive()
                .succ_opt()
                .and_then(|d| Jakarta.from_local_datetime(&d.and_hms_opt(0, 0, 0)?).single())
                .map_or(deadline, |m| m.with_timezone(&Utc));
            let end = next_midnight.min(deadline);
            if self.is_working_day(local.date_naive()) {
                left += end - t;
            }
            t = end;
        }
        left
    }
}

/// A working time as whole working days (24 hours of a working date), hours
/// and minutes; zero for a negative time.
pub fn working_parts(d: Duration) -> (i64, i64, i64) {
    let minutes = d.num_minutes().max(0);
    (minutes / (24 * 60), (minutes / 60) % 24, minutes % 60)
}

/// `2 working days 5 h` / `7 h 30 min`: a working time as people read it
/// (a working day here is 24 hours of a working date).
pub fn show_working_time(d: Duration) -> String {
    let (days, hours, mins) = working_parts(d);
    match (days, hours) {
        (0, 0) => format!("{mins} min"),
        (0, h) => format!("{h} h {mins} min"),
        (1, h) => format!("1 working day {h} h"),
        (d, h) => format!("{d} working days {h} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calendar(cuti_bersama_is_working_day: bool) -> WorkingCalendar {
        WorkingCalendar::parse(include_str!("../../mappings/calendar/holidays-id.csv"), cuti_bersama_is_working_day).unwrap()
    }

    fn wib(s: &str) -> DateTime<Utc> {
        Jakarta.from_local_datetime(&chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()).unwrap().with_timezone(&Utc)
    }

    // The dates below are read off a printed 2026/2027 calendar and the SKB's
    // list, not computed: the weekday of each is stated beside it.

    #[test]
    fn a_weekend_is_skipped() {
        let c = calendar(false);
        // Thu 3 Dec 2026 -> Fri 4, Mon 7, Tue 8.
        assert_eq!(c.add_working_days(wib("2026-12-03 09:00"), 3), wib("2026-12-08 09:00"));
        // An order on Saturday 5 Dec counts from Monday: Mon 7, Tue 8, Wed 9.
        assert_eq!(c.add_working_days(wib("2026-12-05 14:30"), 3), wib("2026-12-09 14:30"));
    }

    #[test]
    fn lebaran_2026_with_and_without_cuti_bersama() {
        // Idulfitri 1447 H: Sat 21 and Sun 22 Mar 2026 libur; Fri 20, Mon 23, Tue 24 cuti bersama;
        // Thu 19 Nyepi (libur), Wed 18 cuti bersama.
        let off = calendar(false);
        // Tue 17 Mar 10:00: Wed 18 (cuti), Thu 19 (Nyepi), Fri 20 (cuti), weekend, Mon 23, Tue 24 (cuti),
        // then Wed 25, Thu 26, Fri 27.
        assert_eq!(off.add_working_days(wib("2026-03-17 10:00"), 3), wib("2026-03-27 10:00"));
        let on = calendar(true);
        // With cuti bersama worked: Wed 18, Fri 20, Mon 23.
        assert_eq!(on.add_working_days(wib("2026-03-17 10:00"), 3), wib("2026-03-23 10:00"));
    }

    #[test]
    fn year_end_cuti_bersama_2026() {
        // Thu 24 Dec 2026 cuti bersama, Fri 25 Dec Christmas (libur), Fri 1 Jan 2027 New Year (libur).
        let c = calendar(false);
        // Wed 23 Dec 16:00: Mon 28, Tue 29, Wed 30.
        assert_eq!(c.add_working_days(wib("2026-12-23 16:00"), 3), wib("2026-12-30 16:00"));
        // Tue 29 Dec 08:00: Wed 30, Thu 31, (Fri 1 Jan off, weekend) Mon 4 Jan 2027.
        assert_eq!(c.add_working_days(wib("2026-12-29 08:00"), 3), wib("2027-01-04 08:00"));
    }

    #[test]
    fn working_time_left_counts_only_working_hours() {
        let c = calendar(false);
        // Fri 4 Dec 2026 16:00 to Tue 8 Dec 10:00: Fri 8 h, Mon 24 h, Tue 10 h.
        assert_eq!(c.working_time_left(wib("2026-12-04 16:00"), wib("2026-12-08 10:00")), Duration::hours(42));
        assert_eq!(c.working_time_left(wib("2026-12-08 11:00"), wib("2026-12-08 10:00")), Duration::zero());
        assert_eq!(show_working_time(Duration::hours(42)), "1 working day 18 h");
        assert_eq!(show_working_time(Duration::minutes(95)), "1 h 35 min");
    }

    #[test]
    fn the_list_says_how_far_it_reaches_and_refuses_bad_rows() {
        let c = calendar(false);
        assert!(c.covers(NaiveDate::from_ymd_opt(2027, 12, 31).unwrap()));
        assert!(!c.covers(NaiveDate::from_ymd_opt(2028, 1, 3).unwrap()));
        let (line, e) = WorkingCalendar::parse("date,kind,name\n2026-01-01,libur,x\n2026-13-01,libur,y\n", false).unwrap_err();
        assert_eq!(line, 3);
        assert!(e.0.contains("2026-13-01"));
        assert!(WorkingCalendar::parse("date,kind,name\n2026-01-02,holiday,x\n", false).is_err());
    }
}
