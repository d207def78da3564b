//! Listings: per product and format, the mapped payload, its hash, its
//! issues and its state.

use futures_core::stream::BoxStream;
use rust_decimal::Decimal;
use sqlx::{PgConnection, Row};

use super::{Store, StoreError};

use crate::mapping::input::{ProductRecord, Seller};

/// A product to map, with its seller and what the catalogue last accepted.
#[derive(Debug, Clone)]
pub struct MappingRow {
    pub product: ProductRecord,
    pub seller: Seller,
    pub content_hash: Option<String>,
    pub submitted_hash: Option<String>,
    /// The stored draft's fingerprint (payload, issues, readiness).
    pub draft_hash: Option<String>,
}

/// Every product (of one cooperative, or all), ordered by cooperative, member and SKU.
pub fn products_for_mapping<'a>(
    store: &'a Store,
    format: &'a str,
    cooperative: Option<&'a str>,
) -> BoxStream<'a, Result<MappingRow, StoreError>> {
    use futures_util::StreamExt;
    sqlx::query(
        "SELECT p.id, m.code AS member_code, m.name AS member_name, p.sku, p.name, p.description, p.category,
                p.unit, p.price, p.stock, p.min_purchase, p.weight_kg, p.origin, p.production_location,
                p.tkdn_percent, p.tkdn_certificate, p.sni_certificate, p.brand, p.photo_urls, p.active,
                c.code AS coop_code, c.name AS coop_name, c.city, c.kelurahan, c.npwp, c.nib, c.gln, c.pkp,
                l.content_hash, l.submitted_hash, l.draft_hash
         FROM products p
         JOIN members m ON m.id = p.member_id
         JOIN cooperatives c ON c.id = p.cooperative_id
         LEFT JOIN listings l ON l.product_id = p.id AND l.format = $1
         WHERE $2::text IS NULL OR c.code = $2
         ORDER BY c.code, m.code, p.sku",
    )
    .bind(format)
    .bind(cooperative)
    .fetch(&store.pool)
    .map(|row| -> Result<MappingRow, StoreError> {
        let row = row?;
        Ok(MappingRow {
            product: ProductRecord {
                id: row.try_get("id")?,
                member_code: row.try_get("member_code")?,
                member_name: row.try_get("member_name")?,
                sku: row.try_get("sku")?,
                name: row.try_get("name")?,
                description: row.try_get("description")?,
                category: row.try_get("category")?,
                unit: row.try_get("unit")?,
                price: row.try_get::<Decimal, _>("price")?,
                stock: row.try_get("stock")?,
                min_purchase: row.try_get("min_purchase")?,
                weight_kg: row.try_get("weight_kg")?,
                origin: {
                    let raw: String = row.try_get("origin")?;
                    crate::domain::product::Origin::parse(&raw).map_err(|e| StoreError::Inconsistent(format!("product origin: {e}")))?
                },
                production_location: row.try_get("production_location")?,
                tkdn_percent: row.try_get("tkdn_percent")?,
                tkdn_certificate: row.try_get("tkdn_certificate")?,
                sni_certificate: row.try_get("sni_certificate")?,
                brand: row.try_get("brand")?,
                photo_urls: row.try_get("photo_urls")?,
                active: row.try_get("active")?,
            },
            seller: Seller {
                code: row.try_get("coop_code")?,
                name: row.try_get("coop_name")?,
                city: row.try_get("city")?,
                kelurahan: row.try_get("kelurahan")?,
                npwp: row.try_get("npwp")?,
                nib: row.try_get("nib")?,
                gln: row.try_get("gln")?,
                pkp: row.try_get("pkp")?,
            },
            content_hash: row.try_get("content_hash")?,
            submitted_hash: row.try_get("submitted_hash")?,
            draft_hash: row.try_get("draft_hash")?,
        })
    })
    .boxed()
}

/// The cooperatives that have sent listings of `format` before (their next
/// catalogue document updates the one the catalogue holds).
pub async fn sellers_with_submitted(store: &Store, format: &str) -> Result<std::collections::HashSet<String>, StoreError> {
    let codes: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT c.code FROM listings l
         JOIN products p ON p.id = l.product_id JOIN cooperatives c ON c.id = p.cooperative_id
         WHERE l.format = $1 AND l.submitted_hash IS NOT NULL",
    )
    .bind(format)
    .fetch_all(&store.pool)
    .await?;
    Ok(codes.into_iter().collect())
}

/// A mapped listing to store.
pub struct ListingUpdate {
    pub product_id: i64,
    pub payload: serde_json::Value,
    pub content_hash: String,
    pub draft_hash: String,
    pub issues: serde_json::Value,
    /// `draft` (ready) or `blocked`.
    pub state: &'static str,
}

/// Stores mapped listings. Only rows whose content, issues or readiness changed
/// are rewritten, and only listings not yet submitted change state.
pub async fn write_listings(store: &Store, format: &str, rows: &[ListingUpdate]) -> Result<u64, StoreError> {
    let mut conn = store.pool.acquire().await?;
    Ok(upsert_listings(&mut conn, format, rows).await?)
}

async fn upsert_listings(conn: &mut PgConnection, format: &str, rows: &[ListingUpdate]) -> Result<u64, sqlx::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    let result = sqlx::query(
        "INSERT INTO listings (product_id, format, payload, content_hash, issues, state, draft_hash)
         SELECT product_id, $1, payload, content_hash, issues, state, draft_hash
         FROM UNNEST($2::bigint[], $3::jsonb[], $4::text[], $5::jsonb[], $6::text[], $7::text[])
              AS t(product_id, payload, content_hash, issues, state, draft_hash)
         ON CONFLICT (product_id, format) DO UPDATE SET
             payload = EXCLUDED.payload, content_hash = EXCLUDED.content_hash, issues = EXCLUDED.issues,
             state = CASE WHEN listings.state IN ('draft', 'blocked') THEN EXCLUDED.state ELSE listings.state END,
             draft_hash = EXCLUDED.draft_hash, updated_at = now()
         WHERE listings.draft_hash IS DISTINCT FROM EXCLUDED.draft_hash",
    )
    .bind(format)
    .bind(rows.iter().map(|r| r.product_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.payload.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.content_hash.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.issues.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.state).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.draft_hash.clone()).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await?;
    Ok(result.rows_affected())
}
