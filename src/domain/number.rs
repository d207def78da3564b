//! Numbers as Indonesian spreadsheet users type them.
//!
//! Rules, in order:
//! - `Rp`, `IDR`, `%` and spaces (including non-breaking ones) are ignored.
//! - When both `.` and `,` appear, the one further right is the decimal mark
//!   (`12.500,50` and `12,500.50` are both 12500.5).
//! - `,` alone is the decimal mark (`2,5` is 2.5), unless it separates
//!   several groups of exactly three digits (`1,250,000`).
//! - `.` alone separates thousands when every group after it has exactly three
//!   digits and the first group does not start with 0 (`12.500` is 12500,
//!   `1.250.000` is 1250000); otherwise it is the decimal mark (`2.5`, `0.250`).
//!   So `1.250` is one thousand two hundred and fifty, as Indonesians read it.

use std::str::FromStr;

use rust_decimal::Decimal;

/// Parses a typed number; the error says what was wrong in plain words.
pub fn parse_decimal(raw: &str) -> Result<Decimal, super::DomainError> {
    let all: String = raw.chars().filter(|c| !c.is_whitespace() && *c != '\u{a0}').collect();
    // A minus may stand before or after the currency: `-Rp 18.000`, `Rp -18.000`, `-18.000`.
    let (minus_first, mut s) = match all.strip_prefix(['-', '\u{2212}']) {
        Some(rest) => (true, rest),
        None => (false, all.as_str()),
    };
    for prefix in ["Rp.", "Rp", "rp.", "rp", "RP", "IDR", "idr"] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest;
            break;
        }
    }
    let s = s.trim_end_matches('%').trim_end_matches(",-").trim_end_matches(".-");
    let (negative, digits) = match s.strip_prefix(['-', '\u{2212}']) {
        Some(_) if minus_first => return Err(not_a_number(raw, false)),
        Some(rest) => (true, rest),
        None => (minus_first, s),
    };
    if digits.is_empty() {
        return Err(not_a_number(raw, false));
    }
    let canonical = canonical(digits).ok_or_else(|| not_a_number(raw, false))?;
    let value = Decimal::from_str(&canonical).map_err(|_| not_a_number(raw, true))?;
    Ok(if negative { -value } else { value })
}

fn not_a_number(raw: &str, too_large: bool) -> super::DomainError {
    let (hint, petunjuk) = if too_large { (" (too large?)", " (terlalu besar?)") } else { ("", "") };
    super::DomainError::new("not_a_number", format!("{raw:?} is not a number{hint}"), format!("{raw:?} bukan angka{petunjuk}: tulis mis. 12.500 atau 2,5"))
}

fn canonical(s: &str) -> Option<String> {
    if !s.chars().all(|c| c.is_ascii_digit() || c == '.' || c == ',') || !s.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let last_dot = s.rfind('.');
    let last_comma = s.rfind(',');
    let (thousands, decimal) = match (last_dot, last_comma) {
        (Some(d), Some(c)) => {
            if d > c {
                (',', Some('.'))
            } else {
                ('.', Some(','))
            }
        }
        (None, Some(_)) if grouped(s, ',') && s.matches(',').count() > 1 => (',', None),
        (None, Some(_)) => ('.', Some(',')),
        (Some(_), None) if grouped(s, '.') => ('.', None),
        (Some(_), None) => (',', Some('.')),
        (None, None) => return Some(s.to_owned()),
    };
    let (int_part, frac_part) = match decimal {
        Some(mark) => match s.rsplit_once(mark) {
            Some((i, f)) => (i, Some(f)),
            None => (s, None),
        },
        None => (s, None),
    };
    if int_part.contains(thousands) && !grouped(int_part, thousands) {
        return None;
    }
    let int: String = int_part.chars().filter(|c| *c != thousands).collect();
    match frac_part {
        Some(f) if f.is_empty() || !f.chars().all(|c| c.is_ascii_digit()) => None,
        Some(f) => Some(format!("{int}.{f}")),
        None if int.chars().all(|c| c.is_ascii_digit()) => Some(int),
        None => None,
    }
}

/// `1.250.000`: a leading group of 1-3 digits (not starting with 0), then
/// groups of exactly 3.
fn grouped(s: &str, sep: char) -> bool {
    let mut parts = s.split(sep);
    let first = parts.next().unwrap_or("");
    (1..=3).contains(&first.len())
        && !first.starts_with('0')
        && first.chars().all(|c| c.is_ascii_digit())
        && parts.all(|p| p.len() == 3 && p.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn indonesian_and_plain_numbers() {
        for (raw, want) in [
            ("12500", dec!(12500)),
            ("Rp 12.500", dec!(12500)),
            ("Rp12.500,00", dec!(12500)),
            ("12.500,50", dec!(12500.50)),
            ("1.250.000", dec!(1250000)),
            ("Rp 1.250.000,-", dec!(1250000)),
            ("12,500.50", dec!(12500.50)),
            ("1,250,000", dec!(1250000)),
            ("2,5", dec!(2.5)),
            ("2.5", dec!(2.5)),
            ("0.250", dec!(0.250)),
            (" 5 ", dec!(5)),
            ("40%", dec!(40)),
            ("-5.000", dec!(-5000)),
            ("-Rp 18.000", dec!(-18000)),
            ("Rp -18.000", dec!(-18000)),
            ("- Rp 18.000,00", dec!(-18000)),
            ("Rp. -2.500", dec!(-2500)),
            ("\u{2212}7", dec!(-7)),
            ("IDR 7.000", dec!(7000)),
            ("1\u{a0}000", dec!(1000)),
        ] {
            assert_eq!(parse_decimal(raw), Ok(want), "{raw}");
        }
    }

    #[test]
    fn rejects_what_is_not_a_number() {
        for raw in ["", "Rp", "abc", "12.50.0", "1.2,3.4", "12,,5", "1e5", "--5", "5-", "12.5OO", "-Rp -5", "-"] {
            assert!(parse_decimal(raw).is_err(), "{raw} should fail");
        }
    }
}
