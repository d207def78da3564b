//! Listings: per product and format, the mapped payload, its hash, its
//! issues and its state.

use futures_core::stream::BoxStream;
use rust_decimal::Decimal;
use sqlx::Row;

use super::{Store, StoreError};

use crate::mapping::input::{ProductRecord, Seller};

/// A product to map, with its seller and what the catalogue last accepted.
#[derive(Debug, Clone)]
pub struct MappingRow {
    pub product: ProductRecord,
    pub seller: Seller,
    pub content_hash: Option<String>,
    /// The content hash the catalogue holds through the PEPPOL channel (the
    /// product's publication there, unless withdrawn); read for that format only.
    pub submitted_hash: Option<String>,
    /// The stored draft's fingerprint (payload, issues, readiness).
    pub draft_hash: Option<String>,
}

/// Every product (of one cooperative, or all; or only those of `ids`),
/// ordered by cooperative, member and SKU. Its photos are those sent from
/// the dashboard, as `{photo_base}/foto/<digest>.jpg` in their order, then
/// the addresses its sheet gave.
pub fn products_for_mapping<'a>(
    store: &'a Store,
    format: &'a str,
    cooperative: Option<&'a str>,
    ids: Option<&'a [i64]>,
    photo_base: &'a str,
) -> BoxStream<'a, Result<MappingRow, StoreError>> {
    use futures_util::StreamExt;
    sqlx::query(
        "SELECT p.id, m.code AS member_code, m.name AS member_name, p.sku, p.name, p.description, p.category,
                p.unit, p.price, p.stock, p.min_purchase, p.weight_kg, p.net_content, p.origin, p.production_location,
                p.tkdn_percent, p.tkdn_certificate, p.sni_certificate, p.brand,
                COALESCE(ph.urls, '{}') || p.photo_urls AS photo_urls, p.active, p.stock_source,
                c.code AS coop_code, c.name AS coop_name, c.city, c.kelurahan, c.npwp, c.nib, c.gln, c.pkp,
                l.content_hash, pb.sent_hash AS submitted_hash, l.draft_hash
         FROM products p
         JOIN members m ON m.id = p.member_id
         JOIN cooperatives c ON c.id = p.cooperative_id
         LEFT JOIN listings l ON l.product_id = p.id AND l.format = $1
         LEFT JOIN (SELECT product_id, array_agg($4 || '/foto/' || digest || '.jpg' ORDER BY position, digest) AS urls
                    FROM product_photos GROUP BY product_id) ph ON ph.product_id = p.id
         LEFT JOIN publications pb ON pb.product_id = p.id AND pb.channel = 'peppol' AND pb.seller = c.kode_penyedia
              AND pb.state <> 'withdrawn' AND $1 = 'peppol-catalogue'
         WHERE ($2::text IS NULL OR c.code = $2) AND ($3::bigint[] IS NULL OR p.id = ANY($3))
         ORDER BY c.code, m.code, p.sku",
    )
    .bind(format)
    .bind(cooperative)
    .bind(ids)
    .bind(photo_base)
    .fetch(&store.pool)
    .map(|row| -> Result<MappingRow, StoreError> {
        let row = row?;
        Ok(MappingRow {
            product: ProductRecord {
                id: row.try_get("id")?,
                member_code: row.try_get("member_code")?,
                member_name: row.try_get("member_name")?,
                sku: row.try_get("sku")?,
                seller_item_id: format!("{}/{}", row.try_get::<String, _>("member_code")?, row.try_get::<String, _>("sku")?),
                name: row.try_get("name")?,
                description: row.try_get("description")?,
                category: row.try_get("category")?,
                unit: row.try_get("unit")?,
                price: row.try_get::<Decimal, _>("price")?,
                stock: row.try_get("stock")?,
                min_purchase: row.try_get("min_purchase")?,
                weight_kg: row.try_get("weight_kg")?,
                // Stored as its canonical text, which reads back as the same content.
                net_content: row.try_get::<Option<String>, _>("net_content")?.and_then(|t| crate::domain::product::NetContent::parse(&t).ok()),
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
                stock_source: {
                    let raw: String = row.try_get("stock_source")?;
                    crate::domain::product::StockSource::parse(&raw).map_err(|e| StoreError::Inconsistent(format!("product stock source: {e}")))?
                },
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

/// The cooperatives whose catalogue the PEPPOL channel has sent before
/// (their next document updates the one the catalogue holds).
pub async fn sellers_with_submitted(store: &Store) -> Result<std::collections::HashSet<String>, StoreError> {
    let codes: Vec<String> = sqlx::query_scalar(
        "SELECT c.code FROM cooperatives c
         WHERE EXISTS (SELECT 1 FROM publications pb WHERE pb.seller = c.kode_penyedia AND pb.channel = 'peppol' AND pb.sent_hash IS NOT NULL)",
    )
    .fetch_all(&store.pool)
    .await?;
    Ok(codes.into_iter().collect())
}

/// Deletes the drafts of `format` whose product no longer exists (drafts
/// have no foreign key: see the migration that dropped it). Returns how many.
pub async fn forget_orphans(store: &Store, format: &str) -> Result<u64, StoreError> {
    Ok(sqlx::query("DELETE FROM listings l WHERE l.format = $1 AND NOT EXISTS (SELECT 1 FROM products p WHERE p.id = l.product_id)")
        .bind(format)
        .execute(&store.pool)
        .await?
        .rows_affected())
}

/// A mapped listing to store.
pub struct ListingUpdate {
    pub product_id: i64,
    /// The payload as JSON text (stored as `jsonb`).
    pub payload: Vec<u8>,
    pub content_hash: String,
    pub draft_hash: String,
    /// The issues as JSON text.
    pub issues: Vec<u8>,
    /// `draft` (ready) or `blocked`.
    pub state: &'static str,
    /// Whether the product had a draft of this format when it was read.
    pub stored: bool,
}

/// Stores mapped listings. New drafts are streamed with `COPY` straight into
/// the table; drafts that replace stored ones go through a staging table and
/// one merge, which rewrites only rows whose draft fingerprint changed. Should
/// a new draft meet one stored meanwhile (another map run), the batch is
/// merged instead. Returns the rows written.
pub async fn write_listings(store: &Store, format: &str, rows: &[ListingUpdate]) -> Result<u64, StoreError> {
    if rows.is_empty() {
        return Ok(0);
    }
    if rows.iter().any(|r| !r.stored) {
        match write_new_first(store, format, rows).await {
            Err(StoreError::Query(sqlx::Error::Database(e))) if e.is_unique_violation() => {}
            other => return other,
        }
    }
    let mut tx = begin_drafts(store).await?;
    let written = merge(&mut tx, format, rows.iter()).await?;
    tx.commit().await?;
    Ok(written)
}

/// New drafts copied straight in, the others merged; one transaction.
async fn write_new_first(store: &Store, format: &str, rows: &[ListingUpdate]) -> Result<u64, StoreError> {
    let mut tx = begin_drafts(store).await?;
    let mut data = Vec::with_capacity(rows.len() * 1024);
    let mut new = 0;
    for r in rows.iter().filter(|r| !r.stored) {
        copy_row(&mut data, r, Some(format));
        new += 1;
    }
    let mut copy = (*tx).copy_in_raw("COPY listings (product_id, format, payload, content_hash, issues, state, draft_hash) FROM STDIN").await?;
    copy.send(data).await?;
    copy.finish().await?;
    let merged = merge(&mut tx, format, rows.iter().filter(|r| r.stored)).await?;
    tx.commit().await?;
    Ok(new + merged)
}

/// A transaction that writes drafts: a draft is derived data, and a crash
/// that loses the last moments of drafts loses nothing that the next map
/// does not recompute.
async fn begin_drafts(store: &Store) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
    store.begin_recomputable().await
}

/// One row in `COPY`'s text format, with the format column when given.
fn copy_row(data: &mut Vec<u8>, r: &ListingUpdate, format: Option<&str>) {
    data.extend_from_slice(r.product_id.to_string().as_bytes());
    let format = format.map(str::as_bytes);
    for field in format.into_iter().chain([&r.payload[..], r.content_hash.as_bytes(), &r.issues[..], r.state.as_bytes(), r.draft_hash.as_bytes()]) {
        data.push(b'\t');
        copy_text(data, field);
    }
    data.push(b'\n');
}

/// Drafts through the staging table and one merge.
async fn merge<'a>(tx: &mut sqlx::PgConnection, format: &str, rows: impl Iterator<Item = &'a ListingUpdate>) -> Result<u64, StoreError> {
    let mut data = Vec::new();
    for r in rows {
        copy_row(&mut data, r, None);
    }
    if data.is_empty() {
        return Ok(0);
    }
    sqlx::query(
        "CREATE TEMP TABLE IF NOT EXISTS listing_stage (
             product_id bigint, payload jsonb, content_hash text, issues jsonb, state text, draft_hash text
         ) ON COMMIT DELETE ROWS",
    )
    .execute(&mut *tx)
    .await?;
    let mut copy = tx.copy_in_raw("COPY listing_stage (product_id, payload, content_hash, issues, state, draft_hash) FROM STDIN").await?;
    copy.send(data).await?;
    copy.finish().await?;
    let written = sqlx::query(
        "INSERT INTO listings (product_id, format, payload, content_hash, issues, state, draft_hash)
         SELECT product_id, $1, payload, content_hash, issues, state, draft_hash FROM listing_stage
         ON CONFLICT (product_id, format) DO UPDATE SET
             payload = EXCLUDED.payload, content_hash = EXCLUDED.content_hash, issues = EXCLUDED.issues,
             state = EXCLUDED.state,
             draft_hash = EXCLUDED.draft_hash, updated_at = now()
         WHERE listings.draft_hash IS DISTINCT FROM EXCLUDED.draft_hash",
    )
    .bind(format)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(written)
}

/// A field in `COPY`'s text format: backslash, tab, line feed and carriage
/// return escaped (the only bytes that format treats specially in a field).
pub(super) fn copy_text(out: &mut Vec<u8>, field: &[u8]) {
    for &b in field {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

/// Why drafts of `format` are held back: per blocking issue code, how many
/// products it holds back, and one of them (`cooperative member/sku name`)
/// with its message, the most common first.
pub async fn blocked_by_issue(store: &Store, format: &str) -> Result<Vec<(String, i64, String, String)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT code, count(*), min(example), (array_agg(message ORDER BY example))[1]
         FROM (SELECT i->>'code' AS code, i->>'message' AS message,
                      c.code || ' ' || m.code || '/' || p.sku || ' ' || p.name AS example
               FROM listings l JOIN products p ON p.id = l.product_id JOIN members m ON m.id = p.member_id
               JOIN cooperatives c ON c.id = p.cooperative_id, jsonb_array_elements(l.issues) i
               WHERE l.format = $1 AND l.state = 'blocked' AND p.active AND i->>'severity' = 'blocking') b
         GROUP BY code ORDER BY count(*) DESC, code",
    )
    .bind(format)
    .fetch_all(&store.pool)
    .await?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn copy_text_escapes_what_copy_treats_specially() {
        let mut out = Vec::new();
        super::copy_text(&mut out, br#"{"a":"x\"y\\n","b":"tab	cr"}"#);
        assert_eq!(out, br#"{"a":"x\\"y\\\\n","b":"tab\tcr"}"#.to_vec());
    }
}
