//! What a mapping reads: one product with its member and cooperative.

use rust_decimal::Decimal;

/// The cooperative (seller) facts a listing needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seller {
    pub code: String,
    pub name: String,
    pub city: String,
    pub kelurahan: String,
    pub npwp: Option<String>,
    pub nib: Option<String>,
    pub gln: Option<String>,
    pub pkp: bool,
}

/// One product as stored, ready to map.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductRecord {
    pub id: i64,
    pub member_code: String,
    pub member_name: String,
    pub sku: String,
    /// The item's id on the catalogue, unique per seller: SKUs are unique per
    /// member only, so it is the member code and the SKU (`WAT-01/MYK-1L`).
    pub seller_item_id: String,
    pub name: String,
    pub description: String,
    /// Normalised local category (lower case).
    pub category: String,
    /// Local unit code.
    pub unit: String,
    pub price: Decimal,
    pub stock: Decimal,
    pub min_purchase: Decimal,
    pub weight_kg: Option<Decimal>,
    /// What one unit holds, as the file says (`isi_bersih`); the mapping
    /// infers it from the name and unit when the file does not.
    pub net_content: Option<crate::domain::product::NetContent>,
    pub origin: crate::domain::product::Origin,
    pub production_location: Option<String>,
    pub tkdn_percent: Option<Decimal>,
    pub tkdn_certificate: Option<String>,
    pub sni_certificate: Option<String>,
    pub brand: Option<String>,
    pub photo_urls: Vec<String>,
    pub active: bool,
    /// SPHP rice is held back from every catalogue.
    pub stock_source: crate::domain::product::StockSource,
}
