//! Validation the liaison can act on: every product gets, per format, a list
//! of issues with a code, the field, a plain-language message and whether it
//! blocks submission. Limits and severities come from the mapping file.

use serde::Serialize;

use super::ceilings::Ceilings;
use super::input::ProductRecord;
use super::tax::Pricing;
use super::vocab::{Limits, NetFound, Source};
use crate::domain::money::format_rupiah;

/// What the rules need of a format's plan.
pub trait RuleContext {
    /// The format's name, for messages.
    fn format(&self) -> &str;
    fn limits(&self) -> &Limits;
    /// The target a source feeds, for naming the field of an issue.
    fn target_of(&self, source: Source) -> Option<&'static str>;
    fn severity(&self, code: RuleCode) -> Severity;
    /// Whether a product's category is goods (needs a weight).
    fn is_goods(&self, category: &str) -> bool;
    fn ceilings(&self) -> &Ceilings;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The product is not submitted until this is fixed.
    Blocking,
    /// Reported; the product goes ahead.
    Warning,
}

macro_rules! rule_codes {
    ($($variant:ident = $name:literal, $severity:ident;)*) => {
        /// Every issue code, with its default severity.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum RuleCode { $($variant),* }

        impl RuleCode {
            pub const ALL: &'static [RuleCode] = &[$(RuleCode::$variant),*];

            pub fn name(self) -> &'static str {
                match self { $(RuleCode::$variant => $name),* }
            }

            pub fn parse(name: &str) -> Option<Self> {
                match name { $($name => Some(RuleCode::$variant),)* _ => None }
            }

            pub fn default_severity(self) -> Severity {
                match self { $(RuleCode::$variant => Severity::$severity),* }
            }
        }
    };
}

rule_codes! {
    NameTooShort = "name_too_short", Blocking;
    NameTooLong = "name_too_long", Blocking;
    DescriptionTooLong = "description_too_long", Blocking;
    UnknownUnit = "unknown_unit", Blocking;
    NoCategoryMapping = "no_category_mapping", Blocking;
    MissingValue = "missing_value", Blocking;
    MissingWeight = "missing_weight", Blocking;
    TkdnWithoutCertificate = "tkdn_without_certificate", Blocking;
    NoPhoto = "no_photo", Blocking;
    TooManyPhotos = "too_many_photos", Warning;
    PriceRounded = "price_rounded", Warning;
    NoGln = "no_gln", Blocking;
    TkdnNotInBulkUpload = "tkdn_not_in_bulk_upload", Blocking;
    SniNotInBulkUpload = "sni_not_in_bulk_upload", Blocking;
    BrandNotInBulkUpload = "brand_not_in_bulk_upload", Warning;
    AbovePriceCeiling = "above_price_ceiling", Blocking;
    NetContentUnknown = "net_content_unknown", Warning;
    NetContentInferred = "net_content_inferred", Warning;
    SphpStock = "sphp_stock", Blocking;
}

impl Serialize for RuleCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// One problem of one product in one format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub code: RuleCode,
    pub severity: Severity,
    /// The listing field concerned.
    pub field: String,
    /// The mapping's sentence, as the command line prints it.
    pub message: String,
    /// The same in Bahasa Indonesia, for the dashboard.
    pub message_id: String,
}

impl Issue {
    pub fn new(code: RuleCode, severity: Severity, field: &str, (message, message_id): (String, String)) -> Self {
        Self { code, severity, field: field.to_owned(), message, message_id }
    }
}

/// The same sentence in both languages (the price ceilings are said in
/// Indonesian on the command line too).
fn both(sentence: String) -> (String, String) {
    (sentence.clone(), sentence)
}

/// The rules beyond "a required field is missing" (which the plan checks),
/// with the price ceilings in force on `day`.
pub fn check(plan: &impl RuleContext, p: &ProductRecord, pricing: &Pricing, net: NetFound, day: chrono::NaiveDate, issues: &mut Vec<Issue>) {
    let mut f = Findings { plan, issues };
    if p.stock_source == crate::domain::product::StockSource::Sphp {
        f.push(
            RuleCode::SphpStock,
            Source::ProductStock,
            (
                "SPHP rice is retail stock from Bulog (Bapanas Juknis 224/2025: a retail ceiling, at most 2 x 5 kg a buyer): it is not sold in bulk to a work unit".into(),
                "beras SPHP adalah stok eceran dari Bulog (Juknis Bapanas 224/2025: harga eceran tertinggi, paling banyak 2 x 5 kg per pembeli): tidak dijual partai besar ke satuan kerja".into(),
            ),
        );
    }
    size_rules(&mut f, p);
    price_rules(&mut f, p, pricing, net, day);
    bulk_upload_rules(&mut f, p);
}

/// Where the rules' findings go, each named by the field it concerns.
struct Findings<'a, C: RuleContext> {
    plan: &'a C,
    issues: &'a mut Vec<Issue>,
}

impl<C: RuleContext> Findings<'_, C> {
    fn push(&mut self, code: RuleCode, source: Source, message: (String, String)) {
        // The listing field when the format has one, else the spreadsheet column.
        let field = self.plan.target_of(source).or(source.input_column()).unwrap_or(source.name());
        self.issues.push(Issue::new(code, self.plan.severity(code), field, message));
    }
}

/// The name's and the description's lengths, the weight, the TKDN
/// certificate and the number of photos.
fn size_rules<C: RuleContext>(f: &mut Findings<'_, C>, p: &ProductRecord) {
    let limits = f.plan.limits();
    let name_chars = p.name.chars().count();
    if name_chars < limits.name_min_chars {
        f.push(
            RuleCode::NameTooShort,
            Source::ProductName,
            (
                format!("the name has {name_chars} characters; {} needs at least {}: describe the product more fully", f.plan.format(), limits.name_min_chars),
                format!(
                    "nama berisi {name_chars} karakter; {} meminta paling sedikit {}: tulis nama produk lebih lengkap",
                    f.plan.format(),
                    limits.name_min_chars
                ),
            ),
        );
    }
    if name_chars > limits.name_max_chars {
        f.push(
            RuleCode::NameTooLong,
            Source::ProductName,
            (
                format!(
                    "the name has {name_chars} characters; {} takes at most {}: shorten it (it is not cut for you)",
                    f.plan.format(),
                    limits.name_max_chars
                ),
                format!(
                    "nama berisi {name_chars} karakter; {} menerima paling banyak {}: pendekkan nama (tidak dipotong otomatis)",
                    f.plan.format(),
                    limits.name_max_chars
                ),
            ),
        );
    }
    let description_chars = p.description.chars().count();
    if description_chars > limits.description_max_chars {
        f.push(
            RuleCode::DescriptionTooLong,
            Source::ProductDescription,
            (
                format!("the description has {description_chars} characters; at most {} are allowed", limits.description_max_chars),
                format!("deskripsi berisi {description_chars} karakter; paling banyak {}", limits.description_max_chars),
            ),
        );
    }
    if p.weight_kg.is_none() && f.plan.is_goods(&p.category) && f.plan.target_of(Source::ProductWeightKg).is_some() {
        f.push(
            RuleCode::MissingWeight,
            Source::ProductWeightKg,
            ("goods need a shipping weight: fill in berat_kg".into(), "barang perlu berat kirim: isi kolom berat_kg".into()),
        );
    }
    if p.tkdn_percent.is_some() && p.tkdn_certificate.is_none() && !limits.cannot_carry.iter().any(|c| c == "tkdn") {
        f.push(
            RuleCode::TkdnWithoutCertificate,
            Source::ProductTkdnCertificate,
            (
                format!("a TKDN claim of {}% needs the certificate number (no_sertifikat_tkdn)", p.tkdn_percent.unwrap_or_default().normalize()),
                format!(
                    "TKDN {}% perlu nomor sertifikatnya (no_sertifikat_tkdn)",
                    crate::domain::money::decimal_id(p.tkdn_percent.unwrap_or_default().normalize())
                ),
            ),
        );
    }
    if p.photo_urls.len() < limits.photos_min {
        f.push(
            RuleCode::NoPhoto,
            Source::ProductPhotoUrls,
            (
                format!("{} needs at least {} photo: add a photo address (foto)", f.plan.format(), limits.photos_min),
                format!("{} meminta paling sedikit {} foto: tambahkan foto produk", f.plan.format(), limits.photos_min),
            ),
        );
    }
    if p.photo_urls.len() > limits.photos_max {
        f.push(
            RuleCode::TooManyPhotos,
            Source::ProductPhotoUrls,
            (
                format!("{} photos given; only the first {} are sent", p.photo_urls.len(), limits.photos_max),
                format!("ada {} foto; hanya {} foto pertama yang dikirim", p.photo_urls.len(), limits.photos_max),
            ),
        );
    }
}

/// The price as rounded, the net content read from the name, and the price ceilings (HET).
fn price_rules<C: RuleContext>(f: &mut Findings<'_, C>, p: &ProductRecord, pricing: &Pricing, net: NetFound, day: chrono::NaiveDate) {
    if pricing.rounded {
        f.push(
            RuleCode::PriceRounded,
            Source::ProductPrice,
            (
                format!("the price {} is rounded to {} (whole rupiah)", format_rupiah(p.price), format_rupiah(pricing.base)),
                format!("harga {} dibulatkan menjadi {} (rupiah bulat)", format_rupiah(p.price), format_rupiah(pricing.base)),
            ),
        );
    }
    if let NetFound::Inferred(n) = net {
        f.push(
            RuleCode::NetContentInferred,
            Source::ProductNetContent,
            both(format!("isi_bersih kosong: dari nama dan satuan produk dibaca {n}; isi kolom isi_bersih untuk memastikannya")),
        );
    }
    if let Some(ceiling) = f.plan.ceilings().in_force(&p.category, &p.name, day) {
        let per = ceiling.per.as_str();
        match net.content() {
            Some(n) if n.measure == ceiling.per => {
                // The price people pay (PPN included) for one kg or liter.
                let per_unit = (pricing.with_tax / n.amount).round_dp(2);
                if per_unit > ceiling.price {
                    f.push(
                        RuleCode::AbovePriceCeiling,
                        Source::ProductPrice,
                        both(format!(
                            "{}/{per} di atas HET {}/{per}: {} untuk {n} ({}, berlaku sejak {}); turunkan harga ke paling tinggi {}",
                            format_rupiah(per_unit),
                            format_rupiah(ceiling.price),
                            format_rupiah(pricing.with_tax),
                            ceiling.source,
                            crate::domain::time::show_date(ceiling.from),
                            format_rupiah((ceiling.price * n.amount).floor()),
                        )),
                    );
                }
            }
            Some(n) => f.push(
                RuleCode::NetContentUnknown,
                Source::ProductNetContent,
                both(format!("isi bersih {n} tidak dalam {per}: {} tidak bisa dicek; tulis isi_bersih dalam {per}", ceiling.het)),
            ),
            None => f.push(RuleCode::NetContentUnknown, Source::ProductNetContent, both(ceiling.unknown_message.clone())),
        }
    }
}

/// What a bulk-upload workbook cannot carry (a TKDN value, an SNI number, a brand).
fn bulk_upload_rules<C: RuleContext>(f: &mut Findings<'_, C>, p: &ProductRecord) {
    let limits = f.plan.limits();
    for claim in &limits.cannot_carry {
        let (code, present, source, what, apa) = match claim.as_str() {
            "tkdn" => (RuleCode::TkdnNotInBulkUpload, p.tkdn_percent.is_some(), Source::ProductTkdnPercent, "a TKDN value", "nilai TKDN"),
            "sni" => (RuleCode::SniNotInBulkUpload, p.sni_certificate.is_some(), Source::ProductSniCertificate, "an SNI number", "nomor SNI"),
            _ => (RuleCode::BrandNotInBulkUpload, p.brand.is_some(), Source::ProductBrand, "a brand", "merek"),
        };
        if present {
            let (consequence, akibat) = if f.plan.severity(code) == Severity::Blocking {
                ("list this product through the catalogue form or API instead", "tayangkan produk ini lewat formulir atau API katalog")
            } else {
                ("it is left out of the upload", "bagian itu tidak ikut diunggah")
            };
            f.push(
                code,
                source,
                (
                    format!("the product has {what}, which bulk upload cannot carry: {consequence}"),
                    format!("produk ini punya {apa}, yang tidak dapat dibawa unggah massal: {akibat}"),
                ),
            );
        }
    }
}
