//! Money is `rust_decimal::Decimal`, never a float. Amounts are rupiah (IDR).

use rust_decimal::Decimal;

use super::DomainError;

/// A positive price in rupiah with at most two decimal places (sen), as a
/// cooperative entered it. Rounding to whole rupiah happens when a listing is mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Price(Decimal);

impl Price {
    pub fn parse(value: Decimal) -> Result<Self, DomainError> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(DomainError::new(
                "negative",
                format!("price is negative ({})", format_rupiah(value)),
                format!("harga tidak boleh negatif ({})", format_rupiah(value)),
            ));
        }
        if value.is_zero() {
            return Err(DomainError::new("zero_price", "price is zero; give the selling price in rupiah", "harga nol: isi harga jual dalam rupiah"));
        }
        if value.normalize().scale() > 2 {
            return Err(DomainError::new(
                "too_many_decimals",
                format!("price {value} has more than 2 decimal places"),
                format!("harga {} lebih dari 2 angka desimal", decimal_id(value)),
            ));
        }
        if value >= max_amount() {
            return Err(too_large("price", value));
        }
        Ok(Self(value.normalize()))
    }

    pub fn value(self) -> Decimal {
        self.0
    }
}

fn too_large(what: &str, value: Decimal) -> DomainError {
    DomainError::new("too_large", format!("{what} {value} is implausibly large"), format!("angka {} terlalu besar", decimal_id(value)))
}

/// A decimal as Indonesians write it: `2,5`.
pub fn decimal_id(value: Decimal) -> String {
    value.to_string().replace('.', ",")
}

/// `NUMERIC(18,2)` holds 16 digits before the decimal point.
pub fn max_amount() -> Decimal {
    Decimal::from(10_i64.pow(16))
}

/// A non-negative quantity (stock, minimum purchase) with at most 4 decimals.
pub fn quantity(value: Decimal, what: &str) -> Result<Decimal, DomainError> {
    if value.is_sign_negative() && !value.is_zero() {
        return Err(DomainError::new("negative", format!("{what} is negative ({value})"), format!("tidak boleh negatif ({})", decimal_id(value))));
    }
    if value.normalize().scale() > 4 {
        return Err(DomainError::new(
            "too_many_decimals",
            format!("{what} {value} has more than 4 decimal places"),
            format!("{} lebih dari 4 angka desimal", decimal_id(value)),
        ));
    }
    if value >= Decimal::from(10_i64.pow(14)) {
        return Err(too_large(what, value));
    }
    Ok(value.normalize())
}

/// `Rp12.500` or `Rp12.500,50`: the way Indonesian users read amounts (the
/// spelling guide writes the symbol against the number, a dot between
/// thousands and a comma before the sen).
pub fn format_rupiah(value: Decimal) -> String {
    let negative = value.is_sign_negative() && !value.is_zero();
    let v = value.abs().round_dp(2);
    let grouped = grouped_thousands(&v.trunc().to_string());
    let frac = (v.fract() * Decimal::from(100)).trunc();
    let sign = if negative { "-" } else { "" };
    if frac.is_zero() { format!("{sign}Rp{grouped}") } else { format!("{sign}Rp{grouped},{:02}", frac) }
}

/// A number as an Indonesian types it, and as `parse_decimal` reads it
/// back: a dot between thousands, a comma before the decimals (`12.500`,
/// `0,25`, `1.250,5`).
pub fn format_number_id(value: Decimal) -> String {
    let v = value.normalize();
    let sign = if v.is_sign_negative() && !v.is_zero() { "-" } else { "" };
    let text = v.abs().to_string();
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let whole = grouped_thousands(whole);
    if frac.is_empty() { format!("{sign}{whole}") } else { format!("{sign}{whole},{frac}") }
}

fn grouped_thousands(whole: &str) -> String {
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(c);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn price_rules() {
        assert_eq!(Price::parse(dec!(12500.00)).unwrap().value(), dec!(12500));
        assert!(Price::parse(dec!(-1)).unwrap_err().english.contains("negative"));
        assert!(Price::parse(dec!(0)).unwrap_err().english.contains("zero"));
        assert!(Price::parse(dec!(1.005)).unwrap_err().english.contains("decimal places"));
        assert!(Price::parse(dec!(10000000000000000)).is_err());
        assert!(Price::parse(dec!(9999999999999999.99)).is_ok());
    }

    #[test]
    fn formats_like_indonesian_users_write() {
        assert_eq!(format_rupiah(dec!(12500)), "Rp12.500");
        assert_eq!(format_rupiah(dec!(342500)), "Rp342.500");
        assert_eq!(format_rupiah(dec!(1234567.5)), "Rp1.234.567,50");
        assert_eq!(format_rupiah(dec!(999)), "Rp999");
        assert_eq!(format_rupiah(dec!(-5000)), "-Rp5.000");
        assert_eq!(format_rupiah(dec!(0)), "Rp0");
    }

    #[test]
    fn numbers_are_written_as_they_are_typed_and_read_back_the_same() {
        for (value, written) in [(dec!(12500), "12.500"), (dec!(0.25), "0,25"), (dec!(1250.5), "1.250,5"), (dec!(7), "7"), (dec!(1000000), "1.000.000")] {
            assert_eq!(format_number_id(value), written);
            assert_eq!(crate::domain::number::parse_decimal(written).unwrap(), value, "{written} reads back");
        }
    }
}
