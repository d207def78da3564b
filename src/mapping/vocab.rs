//! The words the plan and the rules share: where a value comes from
//! (`Source`), a format's limits, and a product's net content as found.
//! Both import it; neither imports the other's internals through it.

use serde::Deserialize;

use super::input::ProductRecord;

/// Where a value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    ProductSku,
    ProductSellerItemId,
    ProductName,
    ProductDescription,
    ProductCategory,
    ProductUnit,
    ProductPrice,
    ProductStock,
    ProductMinPurchase,
    ProductWeightKg,
    /// What one unit holds: the file's, or inferred from the name and unit.
    ProductNetContent,
    ProductOrigin,
    ProductProductionLocation,
    ProductTkdnPercent,
    ProductTkdnCertificate,
    ProductSniCertificate,
    ProductBrand,
    ProductPhotoUrls,
    MemberCode,
    MemberName,
    CooperativeCode,
    CooperativeName,
    CooperativeCity,
    CooperativeKelurahan,
    CooperativeNpwp,
    CooperativeNib,
    CooperativeGln,
    PriceBase,
    PriceTax,
    PriceWithTax,
    TaxCategory,
    TaxPercent,
    TaxPpnbm,
    /// The currency of every amount, from `tax.toml`.
    Currency,
}

/// Every source by its name in a mapping file.
pub const SOURCES: &[(&str, Source)] = &[
    ("product.sku", Source::ProductSku),
    ("product.seller_item_id", Source::ProductSellerItemId),
    ("product.name", Source::ProductName),
    ("product.description", Source::ProductDescription),
    ("product.category", Source::ProductCategory),
    ("product.unit", Source::ProductUnit),
    ("product.price", Source::ProductPrice),
    ("product.stock", Source::ProductStock),
    ("product.min_purchase", Source::ProductMinPurchase),
    ("product.weight_kg", Source::ProductWeightKg),
    ("product.net_content", Source::ProductNetContent),
    ("product.origin", Source::ProductOrigin),
    ("product.production_location", Source::ProductProductionLocation),
    ("product.tkdn_percent", Source::ProductTkdnPercent),
    ("product.tkdn_certificate", Source::ProductTkdnCertificate),
    ("product.sni_certificate", Source::ProductSniCertificate),
    ("product.brand", Source::ProductBrand),
    ("product.photo_urls", Source::ProductPhotoUrls),
    ("member.code", Source::MemberCode),
    ("member.name", Source::MemberName),
    ("cooperative.code", Source::CooperativeCode),
    ("cooperative.name", Source::CooperativeName),
    ("cooperative.city", Source::CooperativeCity),
    ("cooperative.kelurahan", Source::CooperativeKelurahan),
    ("cooperative.npwp", Source::CooperativeNpwp),
    ("cooperative.nib", Source::CooperativeNib),
    ("cooperative.gln", Source::CooperativeGln),
    ("price.base", Source::PriceBase),
    ("price.tax", Source::PriceTax),
    ("price.with_tax", Source::PriceWithTax),
    ("tax.category", Source::TaxCategory),
    ("tax.percent", Source::TaxPercent),
    ("tax.ppnbm", Source::TaxPpnbm),
    ("price.currency", Source::Currency),
];

impl Source {
    pub fn parse(name: &str) -> Option<Self> {
        SOURCES.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
    }

    pub fn name(self) -> &'static str {
        SOURCES.iter().find(|(_, s)| *s == self).map_or("?", |(n, _)| n)
    }

    /// The import column a product value comes from (what the liaison edits).
    pub fn input_column(self) -> Option<&'static str> {
        Some(match self {
            Source::ProductSku | Source::ProductSellerItemId => "sku",
            Source::ProductName => "nama_produk",
            Source::ProductDescription => "deskripsi",
            Source::ProductCategory => "kategori",
            Source::ProductUnit => "satuan",
            Source::ProductPrice => "harga",
            Source::ProductStock => "stok",
            Source::ProductMinPurchase => "min_pembelian",
            Source::ProductWeightKg => "berat_kg",
            Source::ProductNetContent => "isi_bersih",
            Source::ProductOrigin => "asal",
            Source::ProductProductionLocation => "lokasi_produksi",
            Source::ProductTkdnPercent => "tkdn_persen",
            Source::ProductTkdnCertificate => "no_sertifikat_tkdn",
            Source::ProductSniCertificate => "no_sni",
            Source::ProductBrand => "merek",
            Source::ProductPhotoUrls => "foto",
            _ => return None,
        })
    }
}

/// Limits of the format, from `[limits]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub name_min_chars: usize,
    pub name_max_chars: usize,
    pub description_max_chars: usize,
    pub photos_min: usize,
    pub photos_max: usize,
    /// Claims this format cannot carry: `tkdn`, `sni`, `brand`.
    #[serde(default)]
    pub cannot_carry: Vec<String>,
}

/// A product's net content and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetFound {
    /// The file's `isi_bersih`.
    Given(crate::domain::product::NetContent),
    /// Read from the product's name or unit: a warning until the file says it.
    Inferred(crate::domain::product::NetContent),
    Unknown,
}

impl NetFound {
    pub fn of(p: &ProductRecord) -> Self {
        match p.net_content {
            Some(n) => Self::Given(n),
            None => crate::domain::product::NetContent::infer(&p.name, &p.unit).map_or(Self::Unknown, Self::Inferred),
        }
    }

    pub fn content(self) -> Option<crate::domain::product::NetContent> {
        match self {
            Self::Given(n) | Self::Inferred(n) => Some(n),
            Self::Unknown => None,
        }
    }
}
