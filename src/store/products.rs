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
    /// Stored values that an empty cell in a column of the file cleared.
    pub cleared: u64,
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
        self.cleared += other.cleared;
        self.renamed.extend(other.renamed);
    }

    /// Counts from `RETURNING (xmax = 0)` rows: true is an insert, false an
    /// update; rows the `WHERE ... IS DISTINCT FROM` skipped are unchanged.
    fn from_returned(total: usize, returned: &[bool]) -> Self {
        let inserted = returned.iter().filter(|i| **i).count() as u64;
        let updated = returned.len() as u64 - inserted;
        Self { inserted, updated, unchanged: total as u64 - inserted - updated, cleared: 0, renamed: Vec::new() }
    }
}

/// The optional columns a file carries (by their template header). A column
/// the file lacks leaves each stored value alone; an empty cell in a column it
/// has clears the value.
#[derive(Debug, Clone, Default)]
pub struct Present(pub Vec<String>);

/// One optional column in an upsert: the value taken is the file's when the
/// row is new or the file has the column, the stored one otherwise; `cleared`
/// is the SQL that is true when the file's empty cell clears a stored value.
struct Kept {
    column: &'static str,
    header: &'static str,
    cleared: &'static str,
}

/// `CASE` expressions choosing each kept column's value, and the sum of the
/// values cleared, over `i` (the incoming rows), `old` (the stored row, left
/// joined) and the present headers in parameter `$n`.
fn kept_sql(kept: &[Kept], present_param: usize) -> (String, String) {
    let chosen = kept
        .iter()
        .map(|k| format!("CASE WHEN old.id IS NULL OR '{}' = ANY(${present_param}) THEN i.{c} ELSE old.{c} END AS {c}", k.header, c = k.column))
        .collect::<Vec<_>>()
        .join(", ");
    let cleared =
        kept.iter().map(|k| format!("(old.id IS NOT NULL AND '{}' = ANY(${present_param}) AND {})::int", k.header, k.cleared)).collect::<Vec<_>>().join(" + ");
    (chosen, cleared)
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

/// Writes one batch of cooperatives; unchanged rows are left untouched, and
/// so is every value of a column the file lacks.
pub async fn write_cooperatives(store: &Store, present: &Present, coops: &[Cooperative]) -> Result<UpsertCounts, StoreError> {
    let mut conn = store.pool.acquire().await?;
    Ok(upsert_cooperatives(&mut conn, present, coops).await?)
}

const COOPERATIVE_KEPT: &[Kept] = &[
    Kept { column: "nib", header: "nib", cleared: "old.nib IS NOT NULL AND i.nib IS NULL" },
    Kept { column: "npwp", header: "npwp", cleared: "old.npwp IS NOT NULL AND i.npwp IS NULL" },
    Kept { column: "pkp", header: "pkp", cleared: "false" },
    Kept { column: "gln", header: "gln", cleared: "old.gln IS NOT NULL AND i.gln IS NULL" },
    Kept { column: "kode_penyedia", header: "kode_penyedia", cleared: "old.kode_penyedia IS NOT NULL AND i.kode_penyedia IS NULL" },
    Kept { column: "email", header: "email", cleared: "old.email IS NOT NULL AND i.email IS NULL" },
    Kept { column: "whatsapp", header: "whatsapp", cleared: "old.whatsapp IS NOT NULL AND i.whatsapp IS NULL" },
    Kept { column: "stock_threshold", header: "batas_stok", cleared: "false" },
    Kept { column: "idtku", header: "idtku", cleared: "old.idtku IS NOT NULL AND i.idtku IS NULL" },
];

async fn upsert_cooperatives(conn: &mut PgConnection, present: &Present, coops: &[Cooperative]) -> Result<UpsertCounts, sqlx::Error> {
    let col = |f: fn(&Cooperative) -> String| coops.iter().map(f).collect::<Vec<_>>();
    let opt = |f: fn(&Cooperative) -> Option<String>| coops.iter().map(f).collect::<Vec<_>>();
    let (chosen, cleared) = kept_sql(COOPERATIVE_KEPT, 15);
    let sql = format!(
        "WITH i AS (
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bool[], $9::text[], $10::text[], $11::text[],
                                  $12::text[], $13::numeric[], $14::text[])
                 AS t(code, name, kelurahan, kecamatan, city, nib, npwp, pkp, gln, kode_penyedia, email, whatsapp, stock_threshold, idtku)
         ), m AS (
             SELECT i.code, i.name, i.kelurahan, i.kecamatan, i.city, {chosen}, {cleared} AS cleared
             FROM i LEFT JOIN cooperatives old USING (code)
         ), up AS (
             INSERT INTO cooperatives (code, name, kelurahan, kecamatan, city, nib, npwp, pkp, gln, kode_penyedia, email, whatsapp, stock_threshold, idtku)
             SELECT code, name, kelurahan, kecamatan, city, nib, npwp, pkp, gln, kode_penyedia, email, whatsapp, stock_threshold, idtku FROM m
             ON CONFLICT (code) DO UPDATE SET
                 name = EXCLUDED.name, kelurahan = EXCLUDED.kelurahan, kecamatan = EXCLUDED.kecamatan,
                 city = EXCLUDED.city, nib = EXCLUDED.nib, npwp = EXCLUDED.npwp, pkp = EXCLUDED.pkp,
                 gln = EXCLUDED.gln, kode_penyedia = EXCLUDED.kode_penyedia, email = EXCLUDED.email, whatsapp = EXCLUDED.whatsapp,
                 stock_threshold = EXCLUDED.stock_threshold, idtku = EXCLUDED.idtku, updated_at = now()
             WHERE (cooperatives.name, cooperatives.kelurahan, cooperatives.kecamatan, cooperatives.city,
                    cooperatives.nib, cooperatives.npwp, cooperatives.pkp, cooperatives.gln, cooperatives.kode_penyedia, cooperatives.email,
                    cooperatives.whatsapp, cooperatives.stock_threshold, cooperatives.idtku)
                   IS DISTINCT FROM
                   (EXCLUDED.name, EXCLUDED.kelurahan, EXCLUDED.kecamatan, EXCLUDED.city,
                    EXCLUDED.nib, EXCLUDED.npwp, EXCLUDED.pkp, EXCLUDED.gln, EXCLUDED.kode_penyedia, EXCLUDED.email, EXCLUDED.whatsapp,
                    EXCLUDED.stock_threshold, EXCLUDED.idtku)
             RETURNING (xmax = 0) AS inserted
         )
         SELECT COALESCE((SELECT array_agg(inserted) FROM up), '{{}}'), (SELECT COALESCE(sum(cleared), 0)::bigint FROM m)"
    );
    let (returned, cleared): (Vec<bool>, i64) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
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
        .bind(opt(|c| c.whatsapp.clone()))
        .bind(coops.iter().map(|c| c.stock_threshold).collect::<Vec<_>>())
        .bind(opt(|c| c.idtku.as_ref().map(|d| d.as_str().to_owned())))
        .bind(&present.0)
        .fetch_one(&mut *conn)
        .await?;
    Ok(UpsertCounts { cleared: cleared as u64, ..UpsertCounts::from_returned(coops.len(), &returned) })
}

/// Writes one batch of products, and the members they name, in one transaction.
/// A column the file lacks leaves each stored value of it alone.
pub async fn write_products(store: &Store, present: &Present, batch: &[(i64, ProductDraft)]) -> Result<UpsertCounts, StoreError> {
    let mut tx = store.pool.begin().await?;
    let members: HashMap<(i64, String), Member> = batch
        .iter()
        .map(|(c, d)| ((*c, d.member_code.clone()), Member { name: d.member_name.clone(), phone: d.member_phone.clone(), email: d.member_email.clone() }))
        .collect();
    let contact = (present.0.iter().any(|h| h == "hp_anggota"), present.0.iter().any(|h| h == "email_anggota"));
    let (member_ids, renamed) = upsert_members(&mut tx, &members, contact).await?;
    let mut records = Vec::with_capacity(batch.len());
    for (c, d) in batch {
        let member_id = *member_ids
            .get(&(*c, d.member_code.clone()))
            .ok_or_else(|| StoreError::Inconsistent(format!("member {} of cooperative #{c} was not stored", d.member_code)))?;
        records.push(ProductRecord { cooperative_id: *c, member_id, draft: d });
    }
    let mut counts = upsert_products(&mut tx, present, &records).await?;
    tx.commit().await?;
    counts.renamed = renamed;
    Ok(counts)
}

/// A member as a batch names them.
struct Member {
    name: String,
    phone: Option<String>,
    email: Option<String>,
}

/// Upserts the members named in a batch; returns the id of each, and the
/// members whose stored name changed. `contact`: whether the batch carries
/// the phone and the e-mail columns (a column it lacks leaves the stored
/// value alone).
async fn upsert_members(
    conn: &mut PgConnection,
    members: &HashMap<(i64, String), Member>,
    contact: (bool, bool),
) -> Result<(HashMap<(i64, String), i64>, Vec<MemberRename>), sqlx::Error> {
    let coop_ids: Vec<i64> = members.keys().map(|(c, _)| *c).collect();
    let codes: Vec<String> = members.keys().map(|(_, code)| code.clone()).collect();
    let names: Vec<String> = members.values().map(|m| m.name.clone()).collect();
    let phones: Vec<Option<String>> = members.values().map(|m| m.phone.clone()).collect();
    let emails: Vec<Option<String>> = members.values().map(|m| m.email.clone()).collect();
    // `old` reads the rows as they were before the statement's own upsert.
    let renamed: Vec<(String, String, String, String)> = sqlx::query_as(
        "WITH old AS (
             SELECT m.cooperative_id, m.code, m.name FROM members m
             JOIN UNNEST($1::bigint[], $2::text[]) AS k(cooperative_id, code) USING (cooperative_id, code)
         ), up AS (
             INSERT INTO members (cooperative_id, code, name, phone, email)
             SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])
             ON CONFLICT (cooperative_id, code) DO UPDATE SET name = EXCLUDED.name,
                 phone = CASE WHEN $6 THEN EXCLUDED.phone ELSE members.phone END,
                 email = CASE WHEN $7 THEN EXCLUDED.email ELSE members.email END, updated_at = now()
             WHERE (members.name, members.phone, members.email) IS DISTINCT FROM
                   (EXCLUDED.name, CASE WHEN $6 THEN EXCLUDED.phone ELSE members.phone END, CASE WHEN $7 THEN EXCLUDED.email ELSE members.email END)
             RETURNING cooperative_id, code, name
         )
         SELECT c.code, up.code, old.name, up.name
         FROM up JOIN old USING (cooperative_id, code) JOIN cooperatives c ON c.id = up.cooperative_id
         WHERE old.name IS DISTINCT FROM up.name
         ORDER BY c.code, up.code",
    )
    .bind(&coop_ids)
    .bind(&codes)
    .bind(&names)
    .bind(&phones)
    .bind(&emails)
    .bind(contact.0)
    .bind(contact.1)
    .fetch_all(&mut *conn)
    .await?;
    let renamed = renamed.into_iter().map(|(cooperative, member, old_name, new_name)| MemberRename { cooperative, member, old_name, new_name }).collect();
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

const PRODUCT_KEPT: &[Kept] = &[
    Kept { column: "description", header: "deskripsi", cleared: "old.description <> '' AND i.description = ''" },
    Kept { column: "stock", header: "stok", cleared: "false" },
    Kept { column: "min_purchase", header: "min_pembelian", cleared: "false" },
    Kept { column: "weight_kg", header: "berat_kg", cleared: "old.weight_kg IS NOT NULL AND i.weight_kg IS NULL" },
    Kept { column: "net_content", header: "isi_bersih", cleared: "old.net_content IS NOT NULL AND i.net_content IS NULL" },
    Kept { column: "origin", header: "asal", cleared: "false" },
    Kept { column: "production_location", header: "lokasi_produksi", cleared: "old.production_location IS NOT NULL AND i.production_location IS NULL" },
    Kept { column: "tkdn_percent", header: "tkdn_persen", cleared: "old.tkdn_percent IS NOT NULL AND i.tkdn_percent IS NULL" },
    Kept { column: "tkdn_certificate", header: "no_sertifikat_tkdn", cleared: "old.tkdn_certificate IS NOT NULL AND i.tkdn_certificate IS NULL" },
    Kept { column: "sni_certificate", header: "no_sni", cleared: "old.sni_certificate IS NOT NULL AND i.sni_certificate IS NULL" },
    Kept { column: "brand", header: "merek", cleared: "old.brand IS NOT NULL AND i.brand IS NULL" },
    Kept { column: "photo_urls", header: "foto", cleared: "cardinality(old.photo_urls) > 0 AND cardinality(i.photo_urls) = 0" },
    Kept { column: "active", header: "aktif", cleared: "false" },
    Kept { column: "stock_source", header: "sumber_stok", cleared: "false" },
];

async fn upsert_products(conn: &mut PgConnection, present: &Present, rows: &[ProductRecord<'_>]) -> Result<UpsertCounts, sqlx::Error> {
    let text = |f: fn(&ProductDraft) -> String| rows.iter().map(|r| f(r.draft)).collect::<Vec<_>>();
    let opt_text = |f: fn(&ProductDraft) -> Option<String>| rows.iter().map(|r| f(r.draft)).collect::<Vec<_>>();
    let num = |f: fn(&ProductDraft) -> Decimal| rows.iter().map(|r| f(r.draft)).collect::<Vec<_>>();
    let opt_num = |f: fn(&ProductDraft) -> Option<Decimal>| rows.iter().map(|r| f(r.draft)).collect::<Vec<_>>();
    let (chosen, cleared) = kept_sql(PRODUCT_KEPT, 22);
    let sql = format!(
        "WITH i AS (
             SELECT cooperative_id, member_id, sku, name, description, category, unit, price, stock,
                    min_purchase, weight_kg, net_content, origin, production_location, tkdn_percent,
                    tkdn_certificate, sni_certificate, brand, string_to_array(photos, E'\\n') AS photo_urls, active, stock_source
             FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                         $8::numeric[], $9::numeric[], $10::numeric[], $11::numeric[], $12::text[], $13::text[], $14::text[],
                         $15::numeric[], $16::text[], $17::text[], $18::text[], $19::text[], $20::bool[], $21::text[])
                  AS t(cooperative_id, member_id, sku, name, description, category, unit, price, stock,
                       min_purchase, weight_kg, net_content, origin, production_location, tkdn_percent,
                       tkdn_certificate, sni_certificate, brand, photos, active, stock_source)
         ), m AS (
             SELECT i.cooperative_id, i.member_id, i.sku, i.name, i.category, i.unit, i.price, {chosen}, {cleared} AS cleared
             FROM i LEFT JOIN products old USING (cooperative_id, member_id, sku)
         ), up AS (
             INSERT INTO products (cooperative_id, member_id, sku, name, description, category, unit, price, stock,
                                   min_purchase, weight_kg, net_content, origin, production_location, tkdn_percent,
                                   tkdn_certificate, sni_certificate, brand, photo_urls, active, stock_source)
             SELECT cooperative_id, member_id, sku, name, description, category, unit, price, stock,
                    min_purchase, weight_kg, net_content, origin, production_location, tkdn_percent,
                    tkdn_certificate, sni_certificate, brand, photo_urls, active, stock_source
             FROM m
             ON CONFLICT (cooperative_id, member_id, sku) DO UPDATE SET
                 name = EXCLUDED.name, description = EXCLUDED.description, category = EXCLUDED.category,
                 unit = EXCLUDED.unit, price = EXCLUDED.price, stock = EXCLUDED.stock,
                 min_purchase = EXCLUDED.min_purchase, weight_kg = EXCLUDED.weight_kg, net_content = EXCLUDED.net_content,
                 origin = EXCLUDED.origin,
                 production_location = EXCLUDED.production_location, tkdn_percent = EXCLUDED.tkdn_percent,
                 tkdn_certificate = EXCLUDED.tkdn_certificate, sni_certificate = EXCLUDED.sni_certificate,
                 brand = EXCLUDED.brand, photo_urls = EXCLUDED.photo_urls, active = EXCLUDED.active,
                 stock_source = EXCLUDED.stock_source, updated_at = now()
             WHERE (products.name, products.description, products.category, products.unit, products.price,
                    products.stock, products.min_purchase, products.weight_kg, products.net_content, products.origin,
                    products.production_location, products.tkdn_percent, products.tkdn_certificate,
                    products.sni_certificate, products.brand, products.photo_urls, products.active, products.stock_source)
                   IS DISTINCT FROM
                   (EXCLUDED.name, EXCLUDED.description, EXCLUDED.category, EXCLUDED.unit, EXCLUDED.price,
                    EXCLUDED.stock, EXCLUDED.min_purchase, EXCLUDED.weight_kg, EXCLUDED.net_content, EXCLUDED.origin,
                    EXCLUDED.production_location, EXCLUDED.tkdn_percent, EXCLUDED.tkdn_certificate,
                    EXCLUDED.sni_certificate, EXCLUDED.brand, EXCLUDED.photo_urls, EXCLUDED.active, EXCLUDED.stock_source)
             RETURNING (xmax = 0) AS inserted
         )
         SELECT COALESCE((SELECT array_agg(inserted) FROM up), '{{}}'), (SELECT COALESCE(sum(cleared), 0)::bigint FROM m)"
    );
    let (returned, cleared): (Vec<bool>, i64) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
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
        .bind(opt_text(|d| d.net_content.map(|n| n.to_string())))
        .bind(text(|d| d.origin.as_str().to_owned()))
        .bind(opt_text(|d| d.production_location.clone()))
        .bind(opt_num(|d| d.tkdn_percent))
        .bind(opt_text(|d| d.tkdn_certificate.clone()))
        .bind(opt_text(|d| d.sni_certificate.clone()))
        .bind(opt_text(|d| d.brand.clone()))
        .bind(text(|d| d.photo_urls.join("\n")))
        .bind(rows.iter().map(|r| r.draft.active).collect::<Vec<_>>())
        .bind(text(|d| d.stock_source.as_str().to_owned()))
        .bind(&present.0)
        .fetch_one(&mut *conn)
        .await?;
    Ok(UpsertCounts { cleared: cleared as u64, ..UpsertCounts::from_returned(rows.len(), &returned) })
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

/// A cooperative as recorded, for the check against INAPROC's seller record.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SellerRecord {
    pub code: String,
    pub name: String,
    pub nib: Option<String>,
    pub npwp: Option<String>,
    pub kode_penyedia: Option<String>,
}

/// Every cooperative (or one), in code order.
pub async fn seller_records(store: &Store, cooperative: Option<&str>) -> Result<Vec<SellerRecord>, StoreError> {
    Ok(sqlx::query_as("SELECT code, name, nib, npwp, kode_penyedia FROM cooperatives WHERE $1::text IS NULL OR code = $1 ORDER BY code")
        .bind(cooperative)
        .fetch_all(&store.pool)
        .await?)
}

/// One product as stored, with its cooperative and member: what its page
/// shows and its form starts from.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StoredProduct {
    pub id: i64,
    pub cooperative_id: i64,
    pub cooperative: String,
    pub member_code: String,
    pub member_name: String,
    pub member_phone: Option<String>,
    pub member_email: Option<String>,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub unit: String,
    pub price: Decimal,
    pub stock: Decimal,
    pub stock_source: String,
    pub weight_kg: Option<Decimal>,
    pub net_content: Option<String>,
    pub tkdn_percent: Option<Decimal>,
    pub tkdn_certificate: Option<String>,
    /// The photos' addresses the sheet gave (those sent from the dashboard are in `photos`).
    pub photo_urls: Vec<String>,
    pub active: bool,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// A product by id, when it is one of `scope`'s (every cooperative's when `None`).
pub async fn product_in_scope(store: &Store, scope: Option<i64>, id: i64) -> Result<Option<StoredProduct>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT p.id, p.cooperative_id, c.code AS cooperative, m.code AS member_code, m.name AS member_name, m.phone AS member_phone,
                m.email AS member_email, p.sku, p.name, p.description, p.category, p.unit, p.price, p.stock, p.stock_source, p.weight_kg, p.net_content, p.tkdn_percent,
                p.tkdn_certificate, p.photo_urls, p.active, p.updated_at
         FROM products p JOIN members m ON m.id = p.member_id JOIN cooperatives c ON c.id = p.cooperative_id
         WHERE p.id = $1 AND ($2::bigint IS NULL OR p.cooperative_id = $2)",
    )
    .bind(id)
    .bind(scope)
    .fetch_optional(&store.pool)
    .await?)
}

/// The id of a cooperative's product by member code and SKU.
pub async fn product_id(store: &Store, cooperative_id: i64, member_code: &str, sku: &str) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar("SELECT p.id FROM products p JOIN members m ON m.id = p.member_id WHERE p.cooperative_id = $1 AND m.code = $2 AND p.sku = $3")
        .bind(cooperative_id)
        .bind(member_code)
        .bind(sku)
        .fetch_optional(&store.pool)
        .await?)
}

/// Withdraws (`false`) or reactivates (`true`) a product; whether it changed.
pub async fn set_active(store: &Store, id: i64, active: bool) -> Result<bool, StoreError> {
    let done =
        sqlx::query("UPDATE products SET active = $2, updated_at = now() WHERE id = $1 AND active <> $2").bind(id).bind(active).execute(&store.pool).await?;
    Ok(done.rows_affected() > 0)
}

/// A product as `products list` shows it: its stock, its standing on the
/// catalogue and its photos.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ProductLine {
    pub id: i64,
    pub cooperative: String,
    pub member: String,
    pub sku: String,
    pub name: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub price: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub stock: Decimal,
    pub active: bool,
    /// `channel: state` of each publication.
    pub catalogue: Vec<String>,
    /// Held back from the catalogue, with the blocking issues' codes.
    pub held_back: Vec<String>,
    /// The photos' addresses, those sent from the dashboard first.
    pub photos: Vec<String>,
}

/// Every product of `scope` (or of the cooperative `code`), in cooperative,
/// member and SKU order; photos sent from the dashboard at `photo_base`.
pub async fn lines(store: &Store, scope: Option<i64>, code: Option<&str>, photo_base: &str) -> Result<Vec<ProductLine>, StoreError> {
    let lines: Vec<ProductLine> = sqlx::query_as(
        "SELECT p.id, c.code AS cooperative, m.code AS member, p.sku, p.name, p.price, p.stock, p.active,
                ARRAY(SELECT pb.channel || ': ' || pb.state FROM publications pb WHERE pb.product_id = p.id ORDER BY pb.channel) AS catalogue,
                ARRAY(SELECT DISTINCT i->>'code' FROM listings l, jsonb_array_elements(l.issues) i
                      WHERE l.product_id = p.id AND l.format = 'katalog-v6' AND l.state = 'blocked' AND i->>'severity' = 'blocking'
                      ORDER BY 1) AS held_back,
                ARRAY(SELECT $3 || '/foto/' || pp.digest || '.jpg' FROM product_photos pp WHERE pp.product_id = p.id ORDER BY pp.position, pp.digest)
                    || p.photo_urls AS photos
         FROM products p JOIN members m ON m.id = p.member_id JOIN cooperatives c ON c.id = p.cooperative_id
         WHERE ($1::bigint IS NULL OR p.cooperative_id = $1) AND ($2::text IS NULL OR c.code = $2)
         ORDER BY c.code, m.code, p.sku",
    )
    .bind(scope)
    .bind(code)
    .bind(photo_base)
    .fetch_all(&store.pool)
    .await?;
    // As written (`25`, not the column's `25.0000`).
    Ok(lines.into_iter().map(|l| ProductLine { price: l.price.normalize(), stock: l.stock.normalize(), ..l }).collect())
}

/// A product's seller id on the catalogue (`kode_penyedia`), if its cooperative has one.
pub async fn seller_of(store: &Store, product_id: i64) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar("SELECT c.kode_penyedia FROM products p JOIN cooperatives c ON c.id = p.cooperative_id WHERE p.id = $1")
        .bind(product_id)
        .fetch_optional(&store.pool)
        .await?
        .flatten())
}
