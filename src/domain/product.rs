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
            return Err(super::control_char("SKU", sku.chars().find(|c| c.is_control()).unwrap_or('\0')));
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
            _ => Err(DomainError::new(
                "not_an_origin",
                format!("origin must be Lokal or Impor, not {raw:?}"),
                format!("asal harus Lokal atau Impor, bukan {raw:?}"),
            )),
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
/// A product name as two catalogues' spellings of it are compared: lower
/// case, letters and digits only, single spaces (`Minyak  goreng, 2 L` is
/// `minyak goreng 2 l`).
pub fn comparable_name(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_alphanumeric() { c.to_lowercase().next().unwrap_or(c) } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn tkdn_percent(value: Decimal) -> Result<Decimal, DomainError> {
    if value < Decimal::ZERO || value > Decimal::ONE_HUNDRED {
        return Err(DomainError::new(
            "out_of_range",
            format!("TKDN must be between 0 and 100 percent, not {value}"),
            format!("TKDN harus antara 0 dan 100 persen, bukan {}", super::money::decimal_id(value)),
        ));
    }
    Ok(value.round_dp(2).normalize())
}

/// Shipping weight in kilograms: positive, at most 3 decimals (grams).
pub fn weight_kg(value: Decimal) -> Result<Decimal, DomainError> {
    if value <= Decimal::ZERO {
        return Err(DomainError::new(
            "out_of_range",
            format!("weight must be above zero kg, not {value}"),
            format!("berat harus lebih dari nol kg, bukan {}", super::money::decimal_id(value)),
        ));
    }
    if value.normalize().scale() > 3 || value >= Decimal::from(1_000_000_000) {
        return Err(DomainError::new(
            "implausible_weight",
            format!("weight {value} kg is not a plausible weight (at most 3 decimals)"),
            format!("berat {} kg tidak masuk akal (paling banyak 3 angka desimal)", super::money::decimal_id(value)),
        ));
    }
    Ok(value.normalize())
}

/// A photo address: http or https.
pub fn photo_url(raw: &str) -> Result<String, DomainError> {
    match url::Url::parse(raw) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(raw.to_owned()),
        _ => Err(DomainError::new(
            "not_a_web_address",
            format!("photo {raw:?} is not a web address (http:// or https://)"),
            format!("foto {raw:?} bukan alamat web (http:// atau https://)"),
        )),
    }
}

/// Where a product's stock comes from (`sumber_stok`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StockSource {
    /// The cooperative's or the member's own.
    #[default]
    Sendiri,
    /// Left with the cooperative to sell on the owner's behalf.
    Konsinyasi,
    /// Subsidised SPHP rice from Bulog: retail stock under Bapanas' technical
    /// rules (Juknis 224/2025: a retail ceiling, at most 2 × 5 kg a buyer),
    /// never sold in bulk to a work unit. Held back from every catalogue.
    Sphp,
}

impl StockSource {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match tidy(raw).to_lowercase().as_str() {
            "" | "sendiri" | "milik sendiri" | "own" => Ok(Self::Sendiri),
            "konsinyasi" | "titipan" | "titip jual" | "consignment" => Ok(Self::Konsinyasi),
            "sphp" | "beras sphp" => Ok(Self::Sphp),
            _ => Err(DomainError::new(
                "not_a_stock_source",
                format!("stock source must be sendiri, konsinyasi or sphp, not {raw:?}"),
                format!("sumber stok harus sendiri, konsinyasi atau sphp, bukan {raw:?}"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sendiri => "sendiri",
            Self::Konsinyasi => "konsinyasi",
            Self::Sphp => "sphp",
        }
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
    /// What one unit holds (`isi_bersih`), when the file says.
    pub net_content: Option<NetContent>,
    pub origin: Origin,
    pub production_location: Option<String>,
    pub tkdn_percent: Option<Decimal>,
    pub tkdn_certificate: Option<String>,
    pub sni_certificate: Option<String>,
    pub brand: Option<String>,
    pub photo_urls: Vec<String>,
    /// Still sold; `false` withdraws it from the catalogue.
    pub active: bool,
    pub stock_source: StockSource,
    /// The member's phone (E.164) and e-mail, to tell them of their orders.
    pub member_phone: Option<String>,
    pub member_email: Option<String>,
}

/// The measure a price ceiling (HET) is set in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Measure {
    Kilogram,
    Litre,
    /// Pieces: eggs by the butir.
    Count,
}

impl Measure {
    /// As ceilings and messages write it: `kg`, `liter`, `butir`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kilogram => "kg",
            Self::Litre => "liter",
            Self::Count => "butir",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        UNIT_WORDS.iter().find(|(w, _, factor)| *w == s && *factor == Decimal::ONE).map(|(_, m, _)| *m)
    }
}

/// Unit words of a net content, what each measures, and its size in the measure's unit.
const UNIT_WORDS: &[(&str, Measure, Decimal)] = &[
    ("kg", Measure::Kilogram, Decimal::ONE),
    ("kgs", Measure::Kilogram, Decimal::ONE),
    ("kilo", Measure::Kilogram, Decimal::ONE),
    ("kilogram", Measure::Kilogram, Decimal::ONE),
    ("ons", Measure::Kilogram, Decimal::from_parts(1, 0, 0, false, 1)),
    ("g", Measure::Kilogram, Decimal::from_parts(1, 0, 0, false, 3)),
    ("gr", Measure::Kilogram, Decimal::from_parts(1, 0, 0, false, 3)),
    ("gram", Measure::Kilogram, Decimal::from_parts(1, 0, 0, false, 3)),
    ("liter", Measure::Litre, Decimal::ONE),
    ("litre", Measure::Litre, Decimal::ONE),
    ("ltr", Measure::Litre, Decimal::ONE),
    ("lt", Measure::Litre, Decimal::ONE),
    ("l", Measure::Litre, Decimal::ONE),
    ("ml", Measure::Litre, Decimal::from_parts(1, 0, 0, false, 3)),
    ("mililiter", Measure::Litre, Decimal::from_parts(1, 0, 0, false, 3)),
    ("butir", Measure::Count, Decimal::ONE),
    ("biji", Measure::Count, Decimal::ONE),
    ("pcs", Measure::Count, Decimal::ONE),
];

/// What one unit of a product holds, converted to kilograms, litres or a
/// count: `25 kg`, `250 gram` (0.25 kg), `1 liter`, `isi 30 butir`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetContent {
    pub amount: Decimal,
    pub measure: Measure,
}

impl NetContent {
    /// Reads a net content as people write it: an amount (Indonesian or
    /// English decimals) and a unit, after an optional `isi`, `netto` or
    /// `berat bersih`.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let bad = || {
            DomainError::new(
                "not_a_net_content",
                format!("{raw:?} is not a net content: write an amount and a unit, e.g. 25 kg, 250 gram, 1 liter, isi 30 butir"),
                format!("isi bersih {raw:?} tidak terbaca: tulis jumlah dan satuan, mis. 25 kg, 250 gram, 1 liter, isi 30 butir"),
            )
        };
        let lower = tidy(raw).to_lowercase();
        let mut s = lower.as_str();
        for prefix in ["isi bersih", "berat bersih", "netto", "neto", "isi"] {
            if let Some(rest) = s.strip_prefix(prefix) {
                s = rest.trim_start_matches([' ', ':']);
                break;
            }
        }
        let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ',')).unwrap_or(s.len());
        let (number, unit) = (&s[..split], s[split..].trim());
        if number.is_empty() {
            return Err(bad());
        }
        let amount = super::number::parse_decimal(number).map_err(|_| bad())?;
        Self::of(amount, unit).ok_or_else(bad)
    }

    /// `amount` of `unit` (a unit word), converted; `None` for an unknown
    /// unit or an amount that is not a plausible content.
    fn of(amount: Decimal, unit: &str) -> Option<Self> {
        let (_, measure, factor) = UNIT_WORDS.iter().find(|(w, _, _)| *w == unit)?;
        let amount = amount.checked_mul(*factor)?.normalize();
        (amount > Decimal::ZERO && amount < Decimal::from(1_000_000) && amount.scale() <= 6).then_some(Self { amount, measure: *measure })
    }

    /// The net content a product's name and unit of sale say, if they say
    /// one: the first amount with a unit in the name (`Beras Premium 25 kg`,
    /// `Telur 1 Tray isi 30 butir`), else one unit of a unit of measure
    /// (sold by the kg or the liter). Never a guess beyond that.
    pub fn infer(name: &str, unit: &str) -> Option<Self> {
        // Digits are ASCII, so byte offsets at them are character boundaries;
        // only the unit word after a number is lower-cased.
        let bytes = name.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let starts_number = bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric());
            if !starts_number {
                i += 1;
                continue;
            }
            let end = name[i..].find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ',')).map_or(name.len(), |n| i + n);
            let number = name[i..end].trim_end_matches(['.', ',']);
            let word: String = name[end..].trim_start().chars().take_while(|c| c.is_alphabetic()).flat_map(char::to_lowercase).collect();
            // A number without a unit word after it is no content: not even parsed.
            if !word.is_empty()
                && let Ok(amount) = super::number::parse_decimal(number)
                && let Some(found) = Self::of(amount, &word)
            {
                return Some(found);
            }
            i = end.max(i + 1);
        }
        match unit {
            "kg" => Self::of(Decimal::ONE, "kg"),
            "gram" => Self::of(Decimal::ONE, "gram"),
            "liter" => Self::of(Decimal::ONE, "liter"),
            "ml" => Self::of(Decimal::ONE, "ml"),
            _ => None,
        }
    }
}

impl std::fmt::Display for NetContent {
    /// `25 kg`, `0,25 kg`, `1 liter`, `30 butir`: Indonesian decimals, and
    /// read back by [`NetContent::parse`] as the same content.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let amount = self.amount.normalize();
        if amount.fract().is_zero() {
            write!(f, "{amount} {}", self.measure.as_str())
        } else {
            write!(f, "{} {}", amount.to_string().replace('.', ","), self.measure.as_str())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_content_is_read_as_people_write_it_and_converted() {
        use rust_decimal_macros::dec;
        let nc = |s: &str| NetContent::parse(s).map(|n| (n.amount, n.measure));
        assert_eq!(nc("25 kg").unwrap(), (dec!(25), Measure::Kilogram));
        assert_eq!(nc("25kg").unwrap(), (dec!(25), Measure::Kilogram));
        assert_eq!(nc("250 gram").unwrap(), (dec!(0.25), Measure::Kilogram));
        assert_eq!(nc("1,5 Liter").unwrap(), (dec!(1.5), Measure::Litre));
        assert_eq!(nc("900 ml").unwrap(), (dec!(0.9), Measure::Litre));
        assert_eq!(nc("Isi 30 butir").unwrap(), (dec!(30), Measure::Count));
        assert_eq!(nc("netto: 1.000 gram").unwrap(), (dec!(1), Measure::Kilogram), "1.000 is a thousand, as Indonesians write it");
        for bad in ["", "kg", "25", "25 karung", "0 kg", "-1 kg", "lima kg", "1e9 kg"] {
            assert!(NetContent::parse(bad).is_err(), "{bad:?}");
        }
        // What it shows reads back as the same content.
        for s in ["25 kg", "250 gram", "1,5 liter", "isi 30 butir", "0.9 l"] {
            let n = NetContent::parse(s).unwrap();
            assert_eq!(NetContent::parse(&n.to_string()).unwrap(), n, "{s} -> {n}");
        }
        assert_eq!(NetContent::parse("250 gram").unwrap().to_string(), "0,25 kg");
    }

    #[test]
    fn net_content_is_inferred_only_where_the_name_or_unit_says_it() {
        use rust_decimal_macros::dec;
        let inf = |name: &str, unit: &str| NetContent::infer(name, unit).map(|n| (n.amount, n.measure));
        assert_eq!(inf("Beras Premium Mojokerto 5 kg", "karung"), Some((dec!(5), Measure::Kilogram)));
        assert_eq!(inf("Minyak Goreng Sawit Pouch 2 Liter", "bungkus"), Some((dec!(2), Measure::Litre)));
        assert_eq!(inf("Telur Ayam Ras 1 Tray isi 30 butir", "tray"), Some((dec!(30), Measure::Count)));
        assert_eq!(inf("Tepung Terigu 500gr", "bungkus"), Some((dec!(0.5), Measure::Kilogram)));
        assert_eq!(inf("Telur Ayam Ras Segar per kg", "kg"), Some((dec!(1), Measure::Kilogram)), "sold by the kg");
        assert_eq!(inf("Beras Premium", "karung"), None, "no amount, no guess");
        assert_eq!(inf("Kemeja Batik ukuran 42", "pcs"), None, "a number without a unit is not a content");
        assert_eq!(inf("Batik B2 motif", "lembar"), None);
    }
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
