//! What the city won of its plan: per cooperative, per work unit and for
//! the city, the matched budget, the value won by our cooperatives, the
//! value lost to other sellers, and the share won (won over won and lost:
//! of what was bought, how much went to our cooperatives).

use rust_decimal::Decimal;
use serde::Serialize;

use crate::store::rup::Figures;

/// The ministries' aim (MoU of 10 July 2025): at least this share of
/// procurement goes to small businesses and cooperatives.
pub const TARGET_PERCENT: u32 = 40;

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    /// The cooperative's code, the work unit's name, or "" for the city.
    pub key: String,
    pub name: String,
    pub packages: i64,
    #[serde(with = "rust_decimal::serde::str")]
    pub matched_budget: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub won: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub lost: Decimal,
    /// Percent, one decimal; `None` while nothing matched was bought.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub share_won_percent: Option<Decimal>,
}

impl From<Figures> for Line {
    fn from(f: Figures) -> Self {
        Self { share_won_percent: share(f.won, f.lost), key: f.key, name: f.name, packages: f.packages, matched_budget: f.matched, won: f.won, lost: f.lost }
    }
}

/// Won over won and lost, in percent to one decimal.
pub fn share(won: Decimal, lost: Decimal) -> Option<Decimal> {
    let bought = won + lost;
    (!bought.is_zero()).then(|| (won * Decimal::ONE_HUNDRED / bought).round_dp(1))
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub tahun: i32,
    /// Packages of the year stored, and those matched.
    pub packages_read: i64,
    pub packages_matched: i64,
    pub target_percent: u32,
    pub cooperatives: Vec<Line>,
    pub work_units: Vec<Line>,
    pub city: Line,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_share_is_of_what_was_bought() {
        assert_eq!(share(Decimal::from(30), Decimal::from(70)), Some(Decimal::from(30)));
        assert_eq!(share(Decimal::from(1), Decimal::from(2)), Some(Decimal::new(333, 1)));
        assert_eq!(share(Decimal::ZERO, Decimal::ZERO), None);
        assert_eq!(share(Decimal::from(5), Decimal::ZERO), Some(Decimal::ONE_HUNDRED));
    }
}
