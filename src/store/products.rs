//! Cooperatives, members and products: batch upserts that change nothing
//! when nothing changed (so re-importing a file is a no-op).

use std::collections::HashMap;

use rust_decimal::Decimal;
use sqlx::PgConnection;

use super::{Store, StoreError};

use crate::domain::cooperative::Cooperative;
use crate::domain::product::ProductDraft;

/// What a batch upsert did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct UpsertCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Members whose name the batch changed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub renamed: Vec<MemberRename>,
}

/// A member whose name an import changed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MemberRename {
    pub cooperative: String,
    pub member: String,
    pub old_name: String,
    pub new_name: String,
}

impl UpsertCounts {
    pub fn add(&mut self, other: UpsertCounts) {
        self.inserted += other.inserted;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.renamed.extend(other.renamed);
    }

    /// Counts from `RETURNING (xmax = 0)` rows: true is an insert, false an
    /// update; rows the `WHERE ... IS DISTINCT FROM` skipped are unchanged.
    fn from_returned(total: usize, returned: &[bool]) -> Self {
        let inserted = returned.iter().filter(|i| **i).count() as u64;
        let updated = returned.len() as u64 - inserted;
        Self { inserted, updated, unchanged: total as u64 - inserted - updated, renamed: Vec::new() }
    }
}

/// Code to id of every cooperative.
pub async fn cooperative_ids(store: &Store) -> Result<HashMap<String, i64>, StoreError> {
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT code, id FROM cooperatives").fetch_all(&store.pool).await?;
    Ok(rows.into_iter().collect())
}

/// Seller id to cooperative code, for every cooperative that has one.
pub async fn seller_ids(store: &Store) -> Result<HashMap<String, String>, StoreError> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT kode_penyedia, code FROM cooperatives WHERE kode_penyedia IS NOT NULL").fetch_all(&store.pool).await?;
    Ok(rows.into_iter().collect())
}

/// Writes one batch of cooperatives; unchanged rows are left untouched.
pub async fn write_cooperatives(store: &Store, coops: &[Cooperative]) -> Result<UpsertCounts, StoreError> {
    let mut conn = store.pool.acquire().await?;
    Ok(upsert_cooperatives(&mut conn, coops).await?)
}

async fn upsert_cooperatives(conn: &mut PgConnection, coops: &[Cooperative]) -> Result<UpsertCounts, sqlx::Error> {
    let col = |f: fn(&Cooperative) -> String| coops.iter().map(f).collect::<Vec<_>>();
    let opt = |f: fn(&Cooperative) -> Option<String>| coops.iter().map(f).collect::<Vec<_>>();
    let returned: Vec<bool> = sqlx::query_scalar(
        "INSERT INTO cooperatives (code, name, kelurahan, kecamatan, city, nib, npwp, pkp, gln, kode_penyedia, email)
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bool[], $9::text[], $10::text[], $11::text[])
         ON CONFLICT (code) DO UPDATE SET
             name = EXCLUDED.name, kelurahan = EXCLUDED.kelurahan, kecamatan = EXCLUDED.kecamatan,
             city = EXCLUDED.city, nib = EXCLUDED.nib, npwp = EXCLUDED.npwp, pkp = EXCLUDED.pkp,
             gln = EXCLUDED.gln, kode_penyedia = EXCLUDED.kode_penyedia, email = EXCLUDED.email, updated_at = now()
         WHERE (cooperatives.name, cooperatives.kelurahan, cooperatives.kecamatan, cooperatives.city,
                cooperatives.nib, cooperatives.npwp, cooperatives.pkp, cooperatives.gln, cooperatives.kode_penyedia, cooperatives.email)
               IS DISTINCT FROM
               (EXCLUDED.name, EXCLUDED.kelurahan, EXCLUDED.kecamatan, EXCLUDED.city,
                EXCLUDED.nib, EXCLUDED.npwp, EXCLUDED.pkp, EXCLUDED.gln, EXCLUDED.kode_penyedia, EXCLUDED.email)
         RETURNING (xmax = 0)",
    )
    .bind(col(|c| c.code.as_str().to_owned()))
    .bind(col(|c| c.name.clone()))
    .bind(col(|c| c.kelurahan.clone()))
    .bind(col(|c| c.kecamatan.clone()))
    .bind(col(|c| c.city.clone()))
    .bind(opt(|c| c.nib.as_ref().map(|d| d.as_str().to_owned())))
    .bind(opt(|c| c.npwp.as_ref().map(|d| d.as_str().to_owned())))
    .bind(coops.iter().map(|c| c.pkp).collect::<Vec<_>>())
    .bind(opt(|c| c.gln.as_ref().map(|d| d.as_str().to_owned())))
    .bind(opt(|c| c.kode_penyedia.as_ref().map(|s| s.as_str().to_owned())))
    .bind(opt(|c| c.email.clone()))
    .fetch_all(&mut *conn)
    .await?;
    Ok(UpsertCounts::from_returned(coops.len(), &returned))
}

/// Writes one batch of products, and the members they name, in one transaction.
pub async fn write_products(store: &Store, batch: &[(i64, ProductDraft)]) -> Result<UpsertCounts, StoreError> {
    let mut tx = store.pool.begin().await?;
    let members: HashMap<(i64, String), String> =
        batch.iter().map(|(c, d)| ((*c, d.member_code.clone()), d.member_name.clone())).collect();
    let (member_ids, renamed) = upsert_members(&mut tx, &members).await?;
    let mut records = Vec::with_capacity(batch.len());
    for (c, d) in batch {
        let member_id = *member_ids.get(&(*c, d.member_code.clone())).ok_or_else(|| {
            StoreError::Inconsistent(format!("member {} of cooperative #{c} was not stored", d.member_code))
        })?;
        records.push(ProductRecord { cooperative_id: *c, member_id, draft: d });
    }
    let mut counts = upsert_products(&mut tx, &records).await?;
    tx.commit().await?;
    counts.renamed = renamed;
    Ok(counts)
}

/// Upserts the members named in a batch; returns the id of each, and the
/// members whose stored name changed.
async fn upsert_members(
    conn: &mut PgConnection,
    members: &HashMap<(i64, String), String>,
) -> Result<(HashMap<(i64, String), i64>, Vec<MemberRename>), sqlx::Error> {
    let coop_ids: Vec<i64> = members.keys().map(|(c, _)| *c).collect();
    let codes: Vec<String> = members.keys().map(|(_, code)| code.clone()).collect();
    let names: Vec<String> = members.values().cloned().collect();
    // `old` reads the rows as they were before the statement's own upsert.
    let renamed: Vec<(String, String, String, String)> = sqlx::query_as(
        "WITH old AS (
             SELECT m.cooperative_id, m.code, m.name FROM members m
             JOIN UNNEST($1::bigint[], $2::text[]) AS k(cooperative_id, code) USING (cooperative_id, code)
         ), up AS (
             INSERT INTO members (cooperative_id, code, name)
             SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[])
             ON CONFLICT (cooperative_id, code) DO UPDATE SET name = EXCLUDED.name, updated_at = now()
             WHERE members.name IS DISTINCT FROM EXCLUDED.name
             RETURNING cooperative_id, code, name
         )
         SELECT c.code, up.code, old.name, up.name
         FROM up JOIN old USING (cooperative_id, code) JOIN cooperatives c ON c.id = up.cooperative_id
         ORDER BY c.code, up.code",
    )
    .bind(&coop_ids)
    .bind(&codes)
    .bind(&names)
    .fetch_all(&mut *conn)
    .await?;
    let renamed = renamed
        .into_iter()
        .map(|(cooperative, member, old_name, new_name)| MemberRename { cooperative, member, old_name, new_name })
        .collect();
    let rows: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT m.cooperative_id, m.code, m.id FROM members m
         JOIN UNNEST($1::bigint[], $2::text[]) AS k(cooperative_id, code) USING (cooperative_id, code)",
    )
    .bind(&coop_ids)
    .bind(&codes)
    .fetch_all(&mut *conn)
    .await?;
    Ok((rows.into_iter().map(|(c, code, id)| ((c, code), id)).collect(), renamed))
}

/// A product row ready for the table.
struct ProductRecord<'a> {
    pub cooperative_id: i64,
    pub member_id: i64,
    pub draft: &'a ProductDraft,
}

async fn upsert_products(conn: &mut PgConnection, rows: &[ProductRecord<'_>]) -> Result<UpsertCounts, sqlx::Error> {
    let text = |f: fn(&ProductDraft) -> String| rows.iter().map(|r| f(r.draft)).collect::<Vec<_>>();
    let opt_text = |f: fn(&ProductDraft) -> Option<String>| rows.iter().map(|r| f(r.draft)).collect::<Vec<_>>();
    let num = |f: fn(&ProductDraft) -> Decimal| rows.iter().map(|r| f(r.draft)).collect::<Vec<_>>();
    let opt_num = |f: fn(&ProductDraft) -> Option<Decimal>| rows.iter().map(|r| f(r.draft)).collect::<Vec<_>>();
    let returned: Vec<bool> = sqlx::query_scalar(
        "INSERT INTO products (cooperative_id, member_id, sku, name, description, category, unit, price, stock,
                               min_purchase, weight_kg, origin, production_location, tkdn_percent,
                               tkdn_certificate, sni_certificate, brand, photo_urls, active)
         SELECT cooperative_id, member_id, sku, name, description, category, unit, price, stock,
                min_purchase, weight_kg, origin, production_location, tkdn_percent,
                tkdn_certificate, sni_certificate, brand, string_to_array(photos, E'\\n'), active
         FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                     $8::numeric[], $9::numeric[], $10::numeric[], $11::numeric[], $12::text[], $13::text[],
                     $14::numeric[], $15::text[], $16::text[], $17::text[], $18::text[], $19::bool[])
              AS t(cooperative_id, member_id, sku, name, description, category, unit, price, stock,
                   min_purchase, weight_kg, origin, production_location, tkdn_percent,
                   tkdn_certificate, sni_certificate, brand, photos, active)
         ON CONFLICT (cooperative_id, member_id, sku) DO UPDATE SET
             name = EXCLUDED.name, description = EXCLUDED.description, category = EXCLUDED.category,
             unit = EXCLUDED.unit, price = EXCLUDED.price, stock = EXCLUDED.stock,
             min_purchase = EXCLUDED.min_purchase, weight_kg = EXCLUDED.weight_kg, origin = EXCLUDED.origin,
             production_location = EXCLUDED.production_location, tkdn_percent = EXCLUDED.tkdn_percent,
             tkdn_certificate = EXCLUDED.tkdn_certificate, sni_certificate = EXCLUDED.sni_certificate,
             brand = EXCLUDED.brand, photo_urls = EXCLUDED.photo_urls, active = EXCLUDED.active, updated_at = now()
         WHERE (products.name, products.description, products.category, products.unit, products.price,
                products.stock, products.min_purchase, products.weight_kg, products.origin,
                products.production_location, products.tkdn_percent, products.tkdn_certificate,
                products.sni_certificate, products.brand, products.photo_urls, products.active)
               IS DISTINCT FROM
               (EXCLUDED.name, EXCLUDED.description, EXCLUDED.category, EXCLUDED.unit, EXCLUDED.price,
                EXCLUDED.stock, EXCLUDED.min_purchase, EXCLUDED.weight_kg, EXCLUDED.origin,
                EXCLUDED.production_location, EXCLUDED.tkdn_percent, EXCLUDED.tkdn_certificate,
                EXCLUDED.sni_certificate, EXCLUDED.brand, EXCLUDED.photo_urls, EXCLUDED.active)
         RETURNING (xmax = 0)",
    )
    .bind(rows.iter().map(|r| r.cooperative_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.member_id).collect::<Vec<_>>())
    .bind(text(|d| d.sku.as_str().to_owned()))
    .bind(text(|d| d.name.clone()))
    .bind(text(|d| d.description.clone()))
    .bind(text(|d| d.category.as_str().to_owned()))
    .bind(text(|d| d.unit.clone()))
    .bind(num(|d| d.price.value()))
    .bind(num(|d| d.stock))
    .bind(num(|d| d.min_purchase))
    .bind(opt_num(|d| d.weight_kg))
    .bind(text(|d| d.origin.as_str().to_owned()))
    .bind(opt_text(|d| d.production_location.clone()))
    .bind(opt_num(|d| d.tkdn_percent))
    .bind(opt_text(|d| d.tkdn_certificate.clone()))
    .bind(opt_text(|d| d.sni_certificate.clone()))
    .bind(opt_text(|d| d.brand.clone()))
    .bind(text(|d| d.photo_urls.join("\n")))
    .bind(rows.iter().map(|r| r.draft.active).collect::<Vec<_>>())
    .fetch_all(&mut *conn)
    .await?;
    Ok(UpsertCounts::from_returned(rows.len(), &returned))
}

/// One line of the per-cooperative summary.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CooperativeSummary {
    pub code: String,
    pub name: String,
    pub kelurahan: String,
    pub kecamatan: String,
    pub pkp: bool,
    pub members: i64,
    pub products: i64,
    pub categories: i64,
    /// Sum of price times stock.
    pub stock_value: Decimal,
}

pub async fn cooperative_summaries(store: &Store) -> Result<Vec<CooperativeSummary>, StoreError> {
    sqlx::query_as(
        "SELECT c.code, c.name, c.kelurahan, c.kecamatan, c.pkp,
                (SELECT count(*) FROM members m WHERE m.cooperative_id = c.id) AS members,
                count(p.id) AS products,
                count(DISTINCT p.category) AS categories,
                COALESCE(sum(p.price * p.stock), 0)::numeric(20,2) AS stock_value
         FROM cooperatives c LEFT JOIN products p ON p.cooperative_id = c.id
         GROUP BY c.id ORDER BY c.kecamatan, c.kelurahan",
    )
    .fetch_all(&store.pool)
    .await
    .map_err(StoreError::from)
}
