//! Times are stored in UTC and shown in Asia/Jakarta (WIB).

use chrono::{DateTime, Utc};
use chrono_tz::Asia::Jakarta;

/// `2026-11-28 06:52 WIB`.
pub fn show(t: DateTime<Utc>) -> String {
    t.with_timezone(&Jakarta).format("%Y-%m-%d %H:%M %Z").to_string()
}

const BULAN: [&str; 12] = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"];

/// A day as Indonesians write it: `1 Juni 2024`.
pub fn show_date(d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    format!("{} {} {}", d.day(), BULAN[d.month0() as usize], d.year())
}

/// When a day begins in Jakarta (00.00 WIB), in UTC.
pub fn start_of_day(d: chrono::NaiveDate) -> Option<DateTime<Utc>> {
    use chrono::TimeZone;
    Jakarta.from_local_datetime(&d.and_hms_opt(0, 0, 0)?).single().map(|t| t.with_timezone(&Utc))
}

/// Today's date in Asia/Jakarta (e.g. a catalogue's issue date).
pub fn today() -> chrono::NaiveDate {
    Utc::now().with_timezone(&Jakarta).date_naive()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    #[test]
    fn shows_jakarta_time() {
        let t = chrono::Utc.with_ymd_and_hms(2026, 11, 27, 23, 52, 0).unwrap();
        assert_eq!(super::show(t), "2026-11-28 06:52 WIB");
    }
}
