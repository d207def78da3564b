//! What INAPROC says of each publication: its product code (`kd_produk`),
//! whether it is live, and the catalogue's words for its state; each change
//! recorded as an event (`tayang`, `turun tayang`, `status_produk`).

use super::{Store, StoreError};

/// A publication of a seller, as the matching needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Candidate {
    pub id: i64,
    pub remote_id: Option<String>,
    pub kd_produk: Option<String>,
    pub sku: String,
    pub member: String,
    pub name: String,
    pub live: Option<bool>,
    pub status_produk: Option<String>,
}

/// A seller's publications, whatever their channel.
pub async fn candidates(store: &Store, seller: &str) -> Result<Vec<Candidate>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT pb.id, pb.remote_id, pb.kd_produk, p.sku, m.code AS member, p.name, pb.live, pb.status_produk
         FROM publications pb JOIN products p ON p.id = pb.product_id JOIN members m ON m.id = p.member_id
         WHERE pb.seller = $1 ORDER BY pb.id",
    )
    .bind(seller)
    .fetch_all(&store.pool)
    .await?)
}

/// What INAPROC says of one publication now.
#[derive(Debug, Clone)]
pub struct Seen {
    pub publication: i64,
    pub kd_produk: String,
    pub live: bool,
    pub status_produk: Option<String>,
    /// How the product was matched: `kd_produk`, `remote_id`, `sku` or `name`.
    pub matched_by: &'static str,
}

/// What applying a seller's products changed.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Applied {
    pub learned: u64,
    pub went_live: u64,
    pub went_down: u64,
    pub text_changed: u64,
}

/// Records what INAPROC says, in one transaction: the code learned, and an
/// event for each change of the live flag or of the text.
pub async fn apply(store: &Store, seen: &[Seen]) -> Result<Applied, StoreError> {
    let mut applied = Applied::default();
    let mut tx = store.pool.begin().await?;
    for s in seen {
        let before: Option<(Option<String>, Option<bool>, Option<String>)> =
            sqlx::query_as("SELECT kd_produk, live, status_produk FROM publications WHERE id = $1 FOR UPDATE")
                .bind(s.publication)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((kd, live, text)) = before else { continue };
        let mut events: Vec<(&str, serde_json::Value)> = Vec::new();
        if kd.as_deref() != Some(s.kd_produk.as_str()) {
            applied.learned += 1;
            events.push(("kd_produk", serde_json::json!({"kd_produk": s.kd_produk, "matched_by": s.matched_by, "was": kd})));
        }
        if live != Some(s.live) {
            if s.live {
                applied.went_live += 1;
            } else if live.is_some() {
                applied.went_down += 1;
            }
            // The first reading of a product not live is "turun tayang" only when it was live before.
            let kind = if s.live { "tayang" } else { "turun tayang" };
            if s.live || live == Some(true) {
                events.push((kind, serde_json::json!({"status_produk": s.status_produk})));
            }
        }
        if text != s.status_produk && live == Some(s.live) {
            applied.text_changed += 1;
            events.push(("status_produk", serde_json::json!({"from": text, "to": s.status_produk})));
        }
        sqlx::query(
            "UPDATE publications SET kd_produk = $2, live = $3, status_produk = $4, live_seen_at = now(),
                    updated_at = CASE WHEN kd_produk IS DISTINCT FROM $2 OR live IS DISTINCT FROM $3 OR status_produk IS DISTINCT FROM $4 THEN now() ELSE updated_at END
             WHERE id = $1",
        )
        .bind(s.publication)
        .bind(&s.kd_produk)
        .bind(s.live)
        .bind(&s.status_produk)
        .execute(&mut *tx)
        .await?;
        for (kind, detail) in events {
            sqlx::query("INSERT INTO publication_events (publication_id, kind, detail) VALUES ($1, $2, $3)")
                .bind(s.publication)
                .bind(kind)
                .bind(detail)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(applied)
}
