//! Catalogue uploads (the PEPPOL channel): one UBL Catalogue per seller
//! and batch, committed with its exact bytes and its lines before it is
//! sent, so that a send cut off by a fault or a crash is sent again as the
//! same document under the same idempotency key; then the catalogue's
//! result for each line, applied to its publication.

use sqlx::Row;

use super::claims::{self, Attempt, Claims};
use super::{Store, StoreError};
use crate::domain::publication::{Change, PublicationState};

/// One line of an upload: the publication it carries and what it asks.
#[derive(Debug, Clone)]
pub struct Line {
    /// The line's `cbc:ID` (the seller's item id).
    pub line_id: String,
    pub publication_id: i64,
    /// `Add`, `Update` or `Delete`.
    pub action: &'static str,
    /// The content hash the line carries (none for `Delete`).
    pub content_hash: Option<String>,
}

/// An upload to send (again).
#[derive(Debug, Clone)]
pub struct Unsent {
    pub id: i64,
    pub seller: String,
    pub document: Vec<u8>,
    pub key: String,
    pub lines: i64,
}

/// The id the next upload will have (its document id and key are made from it).
pub async fn next_id(store: &Store) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('catalogue_uploads', 'id'))").fetch_one(&store.pool).await?)
}

/// The idempotency key of an upload: the same for every send of it.
pub fn key(id: i64) -> String {
    format!("kb-upload-{id}")
}

/// Records an upload with its document and lines, claimed by `instance`,
/// and lets go of the claimed publications that did not fit in it. One
/// transaction, committed before anything is sent.
#[allow(clippy::too_many_arguments)]
pub async fn create(
    store: &Store,
    instance: &str,
    lease_secs: f64,
    id: i64,
    seller: &str,
    document_id: &str,
    document: &[u8],
    lines: &[Line],
    release: &[i64],
) -> Result<Unsent, StoreError> {
    let mut tx = store.pool.begin().await?;
    let key = key(id);
    sqlx::query(
        "INSERT INTO catalogue_uploads (id, seller, document_id, document, idempotency_key, lines, state, claimed_by, claimed_until)
         VALUES ($1, $2, $3, $4, $5, $6, 'sending', $7, now() + make_interval(secs => $8))",
    )
    .bind(id)
    .bind(seller)
    .bind(document_id)
    .bind(document)
    .bind(&key)
    .bind(i32::try_from(lines.len()).unwrap_or(i32::MAX))
    .bind(instance)
    .bind(lease_secs)
    .execute(&mut *tx)
    .await?;
    let line_ids: Vec<&str> = lines.iter().map(|l| l.line_id.as_str()).collect();
    let pubs: Vec<i64> = lines.iter().map(|l| l.publication_id).collect();
    let actions: Vec<&str> = lines.iter().map(|l| l.action).collect();
    let hashes: Vec<Option<&str>> = lines.iter().map(|l| l.content_hash.as_deref()).collect();
    sqlx::query(
        "INSERT INTO catalogue_upload_lines (upload_id, line_id, publication_id, action, content_hash)
         SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[])",
    )
    .bind(id)
    .bind(&line_ids)
    .bind(&pubs)
    .bind(&actions)
    .bind(&hashes)
    .execute(&mut *tx)
    .await?;
    // The upload carries its publications from here on; theirs and the left-over claims go.
    sqlx::query("UPDATE publications SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = $1 AND (id = ANY($2) OR id = ANY($3))")
        .bind(instance)
        .bind(&pubs)
        .bind(release)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Unsent { id, seller: seller.to_owned(), document: document.to_vec(), key, lines: lines.len() as i64 })
}

/// Claims one upload of `sellers` that is not yet taken by the catalogue
/// (a send that failed or was cut off), to send it again.
pub async fn claim_unsent(store: &Store, instance: &str, sellers: &[String], lease_secs: f64) -> Result<Option<Unsent>, StoreError> {
    let row = sqlx::query(
        "UPDATE catalogue_uploads SET claimed_by = $1, claimed_until = now() + make_interval(secs => $2)
         WHERE id = (SELECT id FROM catalogue_uploads
                     WHERE state = 'sending' AND seller = ANY($3)
                       AND (claimed_until IS NULL OR claimed_until < now())
                       AND (next_attempt_at IS NULL OR next_attempt_at <= now())
                     ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING id, seller, document, idempotency_key, lines",
    )
    .bind(instance)
    .bind(lease_secs)
    .bind(sellers)
    .fetch_optional(&store.pool)
    .await?;
    row.map(|r| {
        Ok(Unsent {
            id: r.try_get("id")?,
            seller: r.try_get("seller")?,
            document: r.try_get::<Option<Vec<u8>>, _>("document")?.unwrap_or_default(),
            key: r.try_get::<Option<String>, _>("idempotency_key")?.unwrap_or_else(|| key(r.try_get("id").unwrap_or_default())),
            lines: r.try_get::<i32, _>("lines")?.into(),
        })
    })
    .transpose()
}

/// What sending an upload came to.
#[derive(Debug, Clone)]
pub enum Sent {
    /// The catalogue took the document; it processes it later.
    Taken { remote_id: String },
    /// Not taken this time; sent again (the same bytes, the same key) later.
    Later { error: String, retry_in_secs: f64 },
    /// Refused whole, for good.
    Refused { error: String },
}

/// What recording a send did to the upload's publications.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendCounts {
    /// Publications now submitted (Add, Update) or withdrawn (Delete).
    pub taken: u64,
    /// The SKUs of the publications failed with the document.
    pub refused_skus: Vec<String>,
    /// Publications that wait for the document to be sent again.
    pub later: u64,
}

/// Records a send's result, while `instance` still holds the upload's claim.
pub async fn record_send(store: &Store, instance: &str, upload: &Unsent, sent: &Sent) -> Result<SendCounts, StoreError> {
    let mut tx = store.pool.begin().await?;
    let mut counts = SendCounts::default();
    let (state, remote_id, error, retry) = match sent {
        Sent::Taken { remote_id } => ("received", Some(remote_id.as_str()), None, None),
        Sent::Later { error, retry_in_secs } => ("sending", None, Some(error.as_str()), Some(*retry_in_secs)),
        Sent::Refused { error } => ("refused", None, Some(error.as_str()), None),
    };
    let attempt = Attempt { state: Some(state), error, retry_secs: retry, counted: true };
    let ours = claims::record_attempt(&mut tx, Claims::Uploads, upload.id, instance, attempt).await?;
    if ours && let Some(remote_id) = remote_id {
        sqlx::query("UPDATE catalogue_uploads SET remote_id = $2 WHERE id = $1").bind(upload.id).bind(remote_id).execute(&mut *tx).await?;
    }
    if !ours {
        // Someone else sent it (the claim had expired): theirs is the record.
        return Ok(counts);
    }
    if let Sent::Later { .. } = sent {
        counts.later = u64::try_from(upload.lines).unwrap_or(0);
        tx.commit().await?;
        return Ok(counts);
    }
    let rows = sqlx::query(
        "SELECT pb.id, pb.state, pb.want_hash, ul.action, ul.content_hash, p.sku
         FROM catalogue_upload_lines ul JOIN publications pb ON pb.id = ul.publication_id JOIN products p ON p.id = pb.product_id
         WHERE ul.upload_id = $1 ORDER BY pb.id FOR UPDATE OF pb",
    )
    .bind(upload.id)
    .fetch_all(&mut *tx)
    .await?;
    let mut changes = Changes::default();
    for r in rows {
        let id: i64 = r.try_get("id")?;
        let from = parse_state(&r.try_get::<String, _>("state")?)?;
        let action: String = r.try_get("action")?;
        let line_hash: Option<String> = r.try_get("content_hash")?;
        let want_hash: Option<String> = r.try_get("want_hash")?;
        let change = match (sent, action.as_str()) {
            (Sent::Refused { .. }, _) => Change::Refused,
            (_, "Delete") => Change::WithdrawAccepted,
            _ => Change::Accepted,
        };
        // The draft may have moved on while the document waited: then it stays
        // pending (for the next document), and only what was sent is recorded.
        let moved_on = change == Change::Accepted && want_hash != line_hash;
        let to = match from.apply(change) {
            Ok(_) if moved_on => from,
            Ok(to) => to,
            Err(_) => from,
        };
        match change {
            Change::Refused => counts.refused_skus.push(r.try_get("sku")?),
            _ => counts.taken += 1,
        }
        let sent_hash = match change {
            Change::Accepted => line_hash,
            _ => None,
        };
        let detail = serde_json::json!({"upload": upload.id, "remote_upload": remote_id, "action": action, "error": error});
        let kind = if change == Change::Refused { "refused" } else { "accepted" };
        changes.push(id, from, to, sent_hash, kind, error.map(str::to_owned), detail);
    }
    changes.apply(&mut tx, &upload.key).await?;
    tx.commit().await?;
    Ok(counts)
}

/// Publication changes gathered for one statement.
#[derive(Default)]
struct Changes {
    ids: Vec<i64>,
    from: Vec<&'static str>,
    to: Vec<&'static str>,
    sent_hash: Vec<Option<String>>,
    kinds: Vec<&'static str>,
    errors: Vec<Option<String>>,
    details: Vec<serde_json::Value>,
}

impl Changes {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        id: i64,
        from: PublicationState,
        to: PublicationState,
        sent_hash: Option<String>,
        kind: &'static str,
        error: Option<String>,
        detail: serde_json::Value,
    ) {
        self.ids.push(id);
        self.from.push(from.as_str());
        self.to.push(to.as_str());
        self.sent_hash.push(sent_hash);
        self.kinds.push(kind);
        self.errors.push(error);
        self.details.push(detail);
    }

    /// Applies the changes (state, what was sent, the error as the reason)
    /// and records an event for each: one statement each, however many.
    async fn apply(&self, tx: &mut sqlx::PgConnection, key: &str) -> Result<(), StoreError> {
        if self.ids.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "UPDATE publications pb SET state = c.to_state,
                    state_since = CASE WHEN pb.state = c.to_state THEN pb.state_since ELSE now() END,
                    sent_hash = COALESCE(c.sent_hash, pb.sent_hash), idempotency_key = $5, last_error = c.error,
                    reasons = CASE WHEN c.error IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(c.error) END,
                    next_attempt_at = NULL, updated_at = now()
             FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $6::text[]) AS c(id, from_state, to_state, sent_hash, error)
             WHERE pb.id = c.id",
        )
        .bind(&self.ids)
        .bind(&self.from)
        .bind(&self.to)
        .bind(&self.sent_hash)
        .bind(key)
        .bind(&self.errors)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO publication_events (publication_id, kind, from_state, to_state, detail)
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::jsonb[])",
        )
        .bind(&self.ids)
        .bind(&self.kinds)
        .bind(&self.from)
        .bind(&self.to)
        .bind(&self.details)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}

fn parse_state(s: &str) -> Result<PublicationState, StoreError> {
    PublicationState::parse(s).ok_or_else(|| StoreError::Inconsistent(format!("publication state {s:?}")))
}

/// An upload the catalogue took and has not answered for yet.
#[derive(Debug, Clone)]
pub struct Waiting {
    pub id: i64,
    pub seller: String,
    pub remote_id: String,
}

/// The uploads of `sellers` waiting for the catalogue's answer.
pub async fn waiting(store: &Store, sellers: &[String]) -> Result<Vec<Waiting>, StoreError> {
    let rows: Vec<(i64, String, Option<String>)> =
        sqlx::query_as("SELECT id, seller, remote_id FROM catalogue_uploads WHERE state = 'received' AND seller = ANY($1) ORDER BY id")
            .bind(sellers)
            .fetch_all(&store.pool)
            .await?;
    Ok(rows.into_iter().filter_map(|(id, seller, remote_id)| Some(Waiting { id, seller, remote_id: remote_id? })).collect())
}

pub use crate::domain::publication::LineResult;

/// What applying an upload's answer did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct AnswerCounts {
    pub uploads: u64,
    pub accepted: u64,
    pub refused: u64,
    /// Results naming a line the upload does not have: ignored.
    pub unknown_lines: u64,
}

summed!(AnswerCounts { uploads, accepted, refused, unknown_lines });

/// Applies the catalogue's per-line results of a processed upload, once: the
/// listing id of each taken line, and each refused line's publication failed
/// with the reason. A publication sent again since (another upload or
/// write) is left to that send.
pub async fn apply_answer(store: &Store, upload: &Waiting, results: &[LineResult]) -> Result<AnswerCounts, StoreError> {
    let mut tx = store.pool.begin().await?;
    let mut counts = AnswerCounts::default();
    let first = sqlx::query("UPDATE catalogue_uploads SET state = 'processed', answered_at = now() WHERE id = $1 AND state = 'received'")
        .bind(upload.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if first == 0 {
        return Ok(counts);
    }
    counts.uploads = 1;
    let key = key(upload.id);
    let mut refused = Changes::default();
    for result in results {
        let row = sqlx::query(
            "UPDATE catalogue_upload_lines SET accepted = $3, reason = $4 WHERE upload_id = $1 AND line_id = $2 AND accepted IS NULL
             RETURNING publication_id, action",
        )
        .bind(upload.id)
        .bind(&result.line_id)
        .bind(result.accepted)
        .bind(&result.reason)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            counts.unknown_lines += 1;
            continue;
        };
        let Some(publication) = row.try_get::<Option<i64>, _>("publication_id")? else { continue };
        let current: Option<(String, Option<String>)> =
            sqlx::query_as("SELECT state, idempotency_key FROM publications WHERE id = $1 FOR UPDATE").bind(publication).fetch_optional(&mut *tx).await?;
        let Some((state, Some(sent_with))) = current else { continue };
        if sent_with != key {
            continue;
        }
        let from = parse_state(&state)?;
        if result.accepted {
            counts.accepted += 1;
            if let Some(listing) = &result.listing_id {
                sqlx::query("UPDATE publications SET remote_id = $2, updated_at = now() WHERE id = $1 AND remote_id IS DISTINCT FROM $2")
                    .bind(publication)
                    .bind(listing)
                    .execute(&mut *tx)
                    .await?;
            }
        } else {
            counts.refused += 1;
            let to = from.apply(Change::LineRefused).unwrap_or(from);
            let reason = result.reason.clone().unwrap_or_else(|| "refused without a reason".to_owned());
            let detail = serde_json::json!({"upload": upload.id, "line": result.line_id, "reason": reason});
            refused.push(publication, from, to, None, "line_refused", Some(reason), detail);
        }
    }
    refused.apply(&mut tx, &key).await?;
    tx.commit().await?;
    Ok(counts)
}
