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

/// From this month of the last year listed, the calendar says that the next
/// year is missing: the SKB for a year usually comes out in the autumn before.
pub const WARN_FROM_MONTH: u32 = 10;

#[derive(Debug, Clone)]
pub struct WorkingCalendar {
    days: HashMap<NaiveDate, DayOff>,
    cuti_bersama_is_working_day: bool,
    /// The last date the list covers (31 December of its last year).
    covers_until: Option<NaiveDate>,
    /// Where the list was read from, to say where to add a year.
    origin: CalendarOrigin,
}

/// Where a calendar's list lives: a file, or the copy built into the binary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalendarOrigin {
    pub path: String,
    pub built_in: bool,
}

/// A year the calendar lacks while deadlines may reach it: until its days are
/// added, deadlines there skip weekends only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarGap {
    /// The first year the list lacks.
    pub year: i32,
    /// The last year it lists, if any.
    pub last_year: Option<i32>,
    pub origin: CalendarOrigin,
}

impl CalendarGap {
    fn listed(&self, id: bool) -> String {
        match (self.last_year, id) {
            (Some(y), true) => format!("hanya memuat hari libur sampai tahun {y}"),
            (Some(y), false) => format!("lists holidays up to {y} only"),
            (None, true) => "tidak memuat hari libur sama sekali".into(),
            (None, false) => "lists no holidays at all".into(),
        }
    }

    /// The warning in Bahasa Indonesia, for the pages.
    pub fn in_indonesian(&self) -> String {
        let how =
            if self.origin.built_in { " (tertanam di program: bangun ulang, atau salin folder mappings/ dan arahkan mappings_dir ke salinannya)" } else { "" };
        format!(
            "Kalender hari kerja {}: tenggat pada tahun {y} dihitung tanpa hari libur nasional dan cuti bersama, hanya melewati Sabtu dan Minggu. \
             Tambahkan hari libur dan cuti bersama tahun {y} (dari SKB tiga menteri) ke {}{how}.",
            self.listed(true),
            self.origin.path,
            y = self.year
        )
    }
}

impl CalendarGap {
    fn english(&self, the: &str) -> String {
        let how = if self.origin.built_in { " (built into this binary: rebuild it, or copy mappings/ and point mappings_dir at the copy)" } else { "" };
        format!(
            "{the} working-day calendar {}: deadlines in {y} skip weekends only, no national holiday or cuti bersama; \
             add {y}'s holidays and cuti bersama (the joint ministerial decree, SKB) to {}{how}",
            self.listed(false),
            self.origin.path,
            y = self.year
        )
    }

    /// The warning as a sentence, for the pages in English.
    pub fn in_english(&self) -> String {
        format!("{}.", self.english("The"))
    }
}

impl std::fmt::Display for CalendarGap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.english("the"))
    }
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
            let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| {
                (n, DomainError::new("not_a_date", format!("{date:?} is not a date like 2026-03-20"), format!("{date:?} bukan tanggal seperti 2026-03-20")))
            })?;
            let kind = match kind {
                "libur" => DayOff::Holiday,
                "cuti_bersama" => DayOff::CutiBersama,
                other => {
                    return Err((
                        n,
                        DomainError::new(
                            "not_a_holiday_kind",
                            format!("kind {other:?} must be libur or cuti_bersama"),
                            format!("jenis {other:?} harus libur atau cuti_bersama"),
                        ),
                    ));
                }
            };
            days.insert(date, kind);
            last_year = last_year.max(Some(date.year()));
        }
        let covers_until = last_year.and_then(|y| NaiveDate::from_ymd_opt(y, 12, 31));
        Ok(Self { days, cuti_bersama_is_working_day, covers_until, origin: CalendarOrigin::default() })
    }

    /// The same calendar, saying where its list was read from.
    pub fn from(mut self, origin: CalendarOrigin) -> Self {
        self.origin = origin;
        self
    }

    /// The year the list lacks, once `today` comes near it: from 1 October
    /// (`WARN_FROM_MONTH`) of the last year listed, the next year; past the
    /// list, this year; with no list, this year.
    pub fn gap(&self, today: NaiveDate) -> Option<CalendarGap> {
        let last_year = self.covers_until.map(|d| d.year());
        let year = match last_year {
            None => today.year(),
            Some(last) if today.year() > last => today.year(),
            Some(last) if today.year() == last && today.month() >= WARN_FROM_MONTH => last + 1,
            Some(_) => return None,
        };
        Some(CalendarGap { year, last_year, origin: self.origin.clone() })
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
        assert!(e.english.contains("2026-13-01"));
        assert!(WorkingCalendar::parse("date,kind,name\n2026-01-02,holiday,x\n", false).is_err());
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_missing_year_is_named_from_october_of_the_last_year_listed() {
        // The built-in list runs from 2025 to 2027.
        let c = calendar(false).from(CalendarOrigin { path: "mappings/calendar/holidays-id.csv".into(), built_in: true });
        assert_eq!(c.gap(day("2026-12-06")), None);
        assert_eq!(c.gap(day("2027-09-30")), None);
        let october = c.gap(day("2027-10-01")).expect("from October 2027, 2028 is missing");
        assert_eq!((october.year, october.last_year), (2028, Some(2027)));
        assert_eq!(c.gap(day("2028-03-01")).map(|g| g.year), Some(2028));
        assert_eq!(c.gap(day("2030-01-02")).map(|g| g.year), Some(2030));
        let said = october.to_string();
        assert!(said.contains("up to 2027 only") && said.contains("deadlines in 2028 skip weekends only"), "{said}");
        assert!(said.contains("mappings/calendar/holidays-id.csv") && said.contains("rebuild"), "{said}");
        let id = october.in_indonesian();
        assert!(id.contains("sampai tahun 2027") && id.contains("tahun 2028") && id.contains("mappings/calendar/holidays-id.csv"), "{id}");
        // An empty list lacks every year, and says so at once.
        let empty = WorkingCalendar::parse("date,kind,name\n", false).unwrap();
        assert_eq!(empty.gap(day("2026-06-01")).map(|g| (g.year, g.last_year)), Some((2026, None)));
    }

    #[test]
    fn past_the_list_deadlines_still_skip_weekends() {
        let c = calendar(false);
        // Fri 3 Mar 2028 10:00 (no 2028 rows): Mon 6, Tue 7, Wed 8.
        assert_eq!(c.add_working_days(wib("2028-03-03 10:00"), 3), wib("2028-03-08 10:00"));
    }
}
