//! Product photos: the JPEGs by digest, and which products show them in
//! which order.

use super::{Store, StoreError};

/// A photo of a product, in its order (the first is the main photo).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct ProductPhoto {
    pub digest: String,
    pub width: i32,
    pub height: i32,
    pub position: i32,
}

/// What keeping a photo for a product did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kept {
    Added,
    /// The product already shows this very photo.
    AlreadyThere,
    /// The product has `max` photos already.
    Full {
        max: i64,
    },
}

/// Keeps a photo (once, whoever sends it) and adds it after a product's
/// others, unless the product has `max` already. The product's row is
/// locked for the count, so two uploads at once cannot pass the cap.
pub async fn keep(store: &Store, product_id: i64, digest: &str, jpeg: &[u8], (width, height): (u32, u32), max: i64) -> Result<Kept, StoreError> {
    let mut tx = store.pool.begin().await?;
    sqlx::query("SELECT 1 FROM products WHERE id = $1 FOR UPDATE").bind(product_id).execute(&mut *tx).await?;
    let (count, has, next): (i64, bool, i32) =
        sqlx::query_as("SELECT count(*), COALESCE(bool_or(digest = $2), false), COALESCE(max(position), 0) + 1 FROM product_photos WHERE product_id = $1")
            .bind(product_id)
            .bind(digest)
            .fetch_one(&mut *tx)
            .await?;
    if has {
        return Ok(Kept::AlreadyThere);
    }
    if count >= max {
        return Ok(Kept::Full { max });
    }
    sqlx::query("INSERT INTO photos (digest, jpeg, width, height) VALUES ($1, $2, $3, $4) ON CONFLICT (digest) DO NOTHING")
        .bind(digest)
        .bind(jpeg)
        .bind(i32::try_from(width).unwrap_or(i32::MAX))
        .bind(i32::try_from(height).unwrap_or(i32::MAX))
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO product_photos (product_id, digest, position) VALUES ($1, $2, $3)")
        .bind(product_id)
        .bind(digest)
        .bind(next)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE products SET updated_at = now() WHERE id = $1").bind(product_id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(Kept::Added)
}

/// A product's photos, the main one first.
pub async fn of_product(store: &Store, product_id: i64) -> Result<Vec<ProductPhoto>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT pp.digest, ph.width, ph.height, pp.position FROM product_photos pp JOIN photos ph USING (digest)
         WHERE pp.product_id = $1 ORDER BY pp.position, pp.digest",
    )
    .bind(product_id)
    .fetch_all(&store.pool)
    .await?)
}

/// The JPEG named `digest`, if it is kept.
pub async fn jpeg(store: &Store, digest: &str) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(sqlx::query_scalar("SELECT jpeg FROM photos WHERE digest = $1").bind(digest).fetch_optional(&store.pool).await?)
}

/// Makes a photo the product's main one (first); false when the product
/// does not show it.
pub async fn make_main(store: &Store, product_id: i64, digest: &str) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE product_photos SET position = (SELECT min(position) - 1 FROM product_photos WHERE product_id = $1)
         WHERE product_id = $1 AND digest = $2",
    )
    .bind(product_id)
    .bind(digest)
    .execute(&store.pool)
    .await?;
    touch(store, product_id, done.rows_affected()).await
}

/// Takes a photo off a product (the JPEG stays, for any other product that
/// shows it); false when the product did not show it.
pub async fn remove(store: &Store, product_id: i64, digest: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM product_photos WHERE product_id = $1 AND digest = $2").bind(product_id).bind(digest).execute(&store.pool).await?;
    touch(store, product_id, done.rows_affected()).await
}

async fn touch(store: &Store, product_id: i64, changed: u64) -> Result<bool, StoreError> {
    if changed > 0 {
        sqlx::query("UPDATE products SET updated_at = now() WHERE id = $1").bind(product_id).execute(&store.pool).await?;
    }
    Ok(changed > 0)
}
