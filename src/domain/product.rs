//! Products as the cooperatives describe them, before any catalogue mapping.

use rust_decimal::Decimal;

use super::money::Price;
use super::{DomainError, text, tidy};

/// The seller's stock-keeping code for a product, unique per member.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sku(String);

impl Sku {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let sku = text(raw, "SKU", 64)?;
        if sku.chars().any(char::is_control) {
            return Err(DomainError::new("SKU contains control characters"));
        }
        Ok(Self(sku))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where the product was made: PDN (produk dalam negeri) or imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Lokal,
    Impor,
}

impl Origin {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match tidy(raw).to_lowercase().as_str() {
            "" | "lokal" | "local" | "pdn" | "dalam negeri" | "produk dalam negeri" => Ok(Self::Lokal),
            "impor" | "import" | "luar negeri" => Ok(Self::Impor),
            _ => Err(DomainError::new(format!("origin must be Lokal or Impor, not {raw:?}"))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lokal => "lokal",
            Self::Impor => "impor",
        }
    }
}

/// A local category as the cooperative names it (`Beras`, `Batik Tulis`):
/// tidied and lower-cased so `  BERAS ` and `beras` are the same category.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LocalCategory(String);

impl LocalCategory {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        Ok(Self(text(raw, "category", 100)?.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Domestic-content percentage (TKDN), 0 to 100.
pub fn tkdn_percent(value: Decimal) -> Result<Decimal, DomainError> {
    if value < Decimal::ZERO || value > Decimal::ONE_HUNDRED {
        return Err(DomainError::new(format!("TKDN must be between 0 and 100 percent, not {value}")));
    }
    Ok(value.round_dp(2).normalize())
}

/// Shipping weight in kilograms: positive, at most 3 decimals (grams).
pub fn weight_kg(value: Decimal) -> Result<Decimal, DomainError> {
    if value <= Decimal::ZERO {
        return Err(DomainError::new(format!("weight must be above zero kg, not {value}")));
    }
    if value.normalize().scale() > 3 || value >= Decimal::from(1_000_000_000) {
        return Err(DomainError::new(format!("weight {value} kg is not a plausible weight (at most 3 decimals)")));
    }
    Ok(value.normalize())
}

/// A photo address: http or https.
pub fn photo_url(raw: &str) -> Result<String, DomainError> {
    match url::Url::parse(raw) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(raw.to_owned()),
        _ => Err(DomainError::new(format!("photo {raw:?} is not a web address (http:// or https://)"))),
    }
}

/// A product one member of one cooperative sells, validated, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductDraft {
    pub member_code: String,
    pub member_name: String,
    pub sku: Sku,
    pub name: String,
    pub description: String,
    pub category: LocalCategory,
    /// Local unit code from the units table (`kg`, `karung`, ...).
    pub unit: String,
    pub price: Price,
    pub stock: Decimal,
    pub min_purchase: Decimal,
    pub weight_kg: Option<Decimal>,
    pub origin: Origin,
    pub production_location: Option<String>,
    pub tkdn_percent: Option<Decimal>,
    pub tkdn_certificate: Option<String>,
    pub sni_certificate: Option<String>,
    pub brand: Option<String>,
    pub photo_urls: Vec<String>,
    /// Still sold; `false` withdraws it from the catalogue.
    pub active: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn categories_ignore_case_and_spacing() {
        assert_eq!(LocalCategory::parse("  Batik   TULIS ").unwrap(), LocalCategory::parse("batik tulis").unwrap());
    }

    #[test]
    fn origin_words() {
        assert_eq!(Origin::parse(" PDN ").unwrap(), Origin::Lokal);
        assert_eq!(Origin::parse("Import").unwrap(), Origin::Impor);
        assert!(Origin::parse("Cina").is_err());
    }

    #[test]
    fn value_rules() {
        assert!(tkdn_percent(dec!(101)).is_err());
        assert_eq!(tkdn_percent(dec!(40.555)).unwrap(), dec!(40.56));
        assert!(weight_kg(dec!(0)).is_err());
        assert!(photo_url("foto.jpg").is_err());
        assert!(photo_url("https://cdn.example.id/a.jpg").is_ok());
        assert!(Sku::parse("  ").is_err());
    }
}
