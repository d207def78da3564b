//! A mock catalogue scenario (`fixtures/scenarios/*.toml`).

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub seed: u64,
    pub start: DateTime<Utc>,
    #[serde(default = "default_review_hours")]
    pub review_hours: i64,
    #[serde(default = "default_ttl")]
    pub token_ttl_seconds: i64,
    #[serde(default = "default_rate")]
    pub rate_limit_per_minute: u32,
    #[serde(default)]
    pub orders_per_day: u32,
    /// Lines an order has on average (at least 1; at most the seller's live listings).
    #[serde(default = "default_lines_mean")]
    pub lines_per_order_mean: u32,
    /// Orders made at the start, before the clock moves: exactly this many,
    /// dated over the days before `start`, for sellers of `clients`. Their
    /// lines name listings the catalogue made up for them (unknown to a seller's
    /// store), so any count is quick to make.
    #[serde(default)]
    pub initial_orders: u32,
    /// The fiscal year orders belong to (by default the year of their date in Jakarta).
    #[serde(default)]
    pub fiscal_year: Option<i32>,
    /// Working days after which an order in process is completed.
    #[serde(default = "default_complete_days")]
    pub complete_after_working_days: u32,
    /// Chance per working day (percent) that a buyer cancels an order still waiting for the seller.
    #[serde(default)]
    pub buyer_cancel_percent_per_day: u32,
    /// Whether cuti bersama counts as a working day for the confirmation deadline.
    #[serde(default)]
    pub cuti_bersama_is_working_day: bool,
    #[serde(default)]
    pub takedown_percent_per_day: u32,
    /// Share of new orders (percent) that wait for the buyer's PPK first
    /// (`WAITING_PPK_REVIEW`): approved within 3 working days, or lapsed.
    #[serde(default)]
    pub ppk_review_percent: u32,
    /// The INAPROC data API: served only when set, to its integrator token.
    #[serde(default)]
    pub inaproc: Option<InaprocScenario>,
    #[serde(default)]
    pub rules: ReviewRules,
    /// Price ceilings (HET) per kg, liter or piece, that the review rule
    /// `reject_above_ceiling` checks a listing's price per unit against.
    #[serde(default)]
    pub ceilings: Vec<ScenarioCeiling>,
    pub clients: Vec<Client>,
    pub buyers: Vec<Buyer>,
    /// The buyers' purchase plans (RUP), served by INAPROC's RUP endpoint:
    /// only when set (and `inaproc` is).
    #[serde(default)]
    pub rup: Option<RupScenario>,
    /// Faults in force from the start (the same shape as `POST /admin/faults`).
    #[serde(default)]
    pub faults: Vec<super::faults::Fault>,
}

fn default_lines_mean() -> u32 {
    2
}
fn default_complete_days() -> u32 {
    5
}
fn default_review_hours() -> i64 {
    24
}
fn default_ttl() -> i64 {
    3600
}
fn default_rate() -> u32 {
    1000
}

/// The INAPROC data API's side of the story: who may read it and how often.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InaprocScenario {
    /// The data integrator's token (`Authorization: Bearer`).
    pub token: String,
    /// Requests taken in any 60 seconds; more get 429 with `Retry-After`.
    #[serde(default = "default_inaproc_minute")]
    pub per_minute: u32,
    /// Requests taken in any hour.
    #[serde(default = "default_inaproc_hour")]
    pub per_hour: u32,
    /// Categories of the tree renamed since the mapping was made: v6 category id -> new name.
    #[serde(default)]
    pub renamed_categories: std::collections::BTreeMap<String, String>,
    /// Categories of the tree removed since (by v6 category id).
    #[serde(default)]
    pub removed_categories: Vec<String>,
}

fn default_inaproc_minute() -> u32 {
    1000
}
fn default_inaproc_hour() -> u32 {
    5000
}

/// How the buyers plan: packages per work unit and year, and the share of
/// those begun before the story that were bought from other sellers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RupScenario {
    #[serde(default = "default_packages_per_satker")]
    pub packages_per_satker: u32,
    #[serde(default = "default_bought_elsewhere")]
    pub bought_elsewhere_percent: u32,
}

fn default_packages_per_satker() -> u32 {
    8
}
fn default_bought_elsewhere() -> u32 {
    40
}

/// A price ceiling as the catalogue's curators apply it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioCeiling {
    /// The v6 category id of the listings it applies to (`kategori_id`).
    pub kategori_id: String,
    /// The same category's UNSPSC code, as a PEPPOL line classifies it.
    #[serde(default)]
    pub unspsc: Option<String>,
    /// Only for listings whose name has this word (a grade, e.g. premium).
    #[serde(default)]
    pub name_contains: Option<String>,
    /// `kg`, `liter` or `butir`.
    pub per: String,
    /// Whole rupiah per unit, PPN included.
    pub price: i64,
    pub from: chrono::NaiveDate,
    pub source: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewRules {
    #[serde(default)]
    pub tkdn_requires_certificate: bool,
    #[serde(default)]
    pub reject_above_ceiling: bool,
    #[serde(default)]
    pub revision_without_photo: bool,
    /// Fetch each listing's photo addresses when it is sent, and send back
    /// for revision a listing whose photo does not answer with an image (off
    /// for the fixtures, whose photo hosts do not exist).
    #[serde(default)]
    pub fetch_photos: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    pub client_id: String,
    pub client_secret: String,
    pub kode_penyedia: String,
    /// The seller's name and GLN, for UBL documents.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub gln: Option<String>,
    /// What INAPROC's penyedia-detail says of the seller.
    #[serde(default)]
    pub nib: Option<String>,
    #[serde(default)]
    pub npwp: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Buyer {
    pub kode_klpd: String,
    pub name: String,
    /// The buyer's GLN, its PEPPOL endpoint.
    #[serde(default)]
    pub gln: Option<String>,
    pub satker: Vec<Satker>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Satker {
    pub kode: String,
    pub nama: String,
}

/// How far ahead [`Scenario::starting_near`] looks for two clear weeks.
const CLEAR_FORTNIGHT_SEARCH_WEEKS: i64 = 52;

impl Scenario {
    /// The same story, started near `now` instead of on the file's date:
    /// 08:00 WIB on the first Monday at or after `now` that opens two weeks
    /// with no holiday or cuti bersama (the next Monday if none comes within a
    /// year). Every day of the story is then at or after `now`, so a client on
    /// the real clock sees its orders still waiting, and the story (orders,
    /// deadlines, amounts) is the same whatever the date, relative to its start.
    pub fn starting_near(mut self, now: DateTime<Utc>) -> Self {
        self.start = clear_fortnight_from(now, self.cuti_bersama_is_working_day);
        self
    }

    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let s: Self = toml::from_str(text).map_err(|e| e.to_string().replace('\n', " "))?;
        if s.clients.is_empty() || s.buyers.is_empty() || s.buyers.iter().any(|b| b.satker.is_empty()) {
            return Err("a scenario needs at least one client and one buyer with a satker".into());
        }
        Ok(s)
    }
}

/// 08:00 WIB on the first Monday at or after `now` whose ten weekdays are
/// all working days (the first Monday at or after `now` if none is).
fn clear_fortnight_from(now: DateTime<Utc>, cuti_bersama_is_working_day: bool) -> DateTime<Utc> {
    use chrono::{Datelike, Duration, TimeZone};
    use chrono_tz::Asia::Jakarta;
    let calendar = crate::calendar::Calendar::new(cuti_bersama_is_working_day);
    let monday_0800 = |day: chrono::NaiveDate| day.and_hms_opt(8, 0, 0).and_then(|t| Jakarta.from_local_datetime(&t).single()).map(|t| t.with_timezone(&Utc));
    let local = now.with_timezone(&Jakarta).date_naive();
    let mut monday = local + Duration::days((7 - i64::from(local.weekday().num_days_from_monday())) % 7);
    if monday_0800(monday).is_none_or(|t| t < now) {
        monday += Duration::days(7);
    }
    let first = monday;
    for _ in 0..CLEAR_FORTNIGHT_SEARCH_WEEKS {
        let clear = (0..14).map(|d| monday + Duration::days(d)).filter(|d| d.weekday().num_days_from_monday() < 5).all(|d| calendar.is_working_day(d));
        if clear {
            return monday_0800(monday).unwrap_or(now);
        }
        monday += Duration::days(7);
    }
    monday_0800(first).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn wib(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Jakarta.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap().with_timezone(&Utc)
    }

    // The weekdays and holidays below are read off a printed calendar and
    // the SKB's list (mappings/calendar/holidays-id.csv), not computed.

    #[test]
    fn a_story_starts_on_the_next_monday_at_eight_that_opens_two_clear_weeks() {
        // Sunday 6 December 2026: Monday 7 and 14 December are clear, the
        // week of 21 December has Christmas (Friday 25) and cuti bersama (Thursday 24).
        assert_eq!(clear_fortnight_from(wib(2026, 12, 6, 21), false), wib(2026, 12, 7, 8));
        // Monday 7 December at 08:00 itself starts there. An hour later, the
        // fortnights of 14, 21 and 28 December and 4 January each hold a day
        // off (24 and 25 December, 1 and 5 January): Monday 11 January 2027.
        assert_eq!(clear_fortnight_from(wib(2026, 12, 7, 8), false), wib(2026, 12, 7, 8));
        assert_eq!(clear_fortnight_from(wib(2026, 12, 7, 9), false), wib(2027, 1, 11, 8));
        // Idulfitri 2027: 8-15 March are days off; 22 March's fortnight holds
        // 25-26 March; Monday 29 March opens 29 March-9 April, clear.
        assert_eq!(clear_fortnight_from(wib(2027, 3, 3, 12), false), wib(2027, 3, 29, 8));
    }

    #[test]
    fn past_the_calendar_every_weekday_counts_and_the_next_monday_is_taken() {
        // Wednesday 1 March 2028: the list ends in 2027; Monday 6 March 2028.
        assert_eq!(clear_fortnight_from(wib(2028, 3, 1, 10), false), wib(2028, 3, 6, 8));
    }
}
