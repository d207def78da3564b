//! Times are stored in UTC and shown in Asia/Jakarta (WIB).

use chrono::{DateTime, Utc};
use chrono_tz::Asia::Jakarta;

/// `2026-11-28 06:52 WIB`.
pub fn show(t: DateTime<Utc>) -> String {
    t.with_timezone(&Jakarta).format("%Y-%m-%d %H:%M %Z").to_string()
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
