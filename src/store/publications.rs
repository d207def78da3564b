//! Publications: what the catalogue holds of each product, per seller and
//! channel, and the claims that let several publishers share the work
//! without sending anything twice (claim, commit, then call the network).

use sqlx::Row;

use super::claims::{self, Attempt, Claims};
use super::{Store, StoreError};
use crate::domain::publication::{Channel, ListingChange, PublicationState, Standing};

/// What bringing publications in line with the drafts found.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PlanCounts {
    /// Products listed for the first time.
    pub new: u64,
    /// Products whose content changed, or that are listed again.
    pub changed: u64,
    /// Listings to withdraw (the product was deactivated).
    pub to_withdraw: u64,
    /// Drafts held back by a blocking issue: not sent.
    pub blocked: u64,
    /// Products of cooperatives without a seller id: not sent.
    pub no_seller_id: u64,
}

/// Brings the publications of `channel` for `sellers` in line with the ready
/// drafts of `format`: first the sellers' publications of other channels are
/// handed over to this one (a product has one listing per seller, whichever
/// channel made it: the new channel updates it, never adds it again); then a
/// product with no publication gets one, a changed draft makes its
/// publication pending again, a deactivated product's listing is to be
/// withdrawn. One transaction; running it again changes nothing.
pub async fn plan(
    store: &Store,
    channel: Channel,
    format: &str,
    cooperative: Option<&str>,
    sellers: &[String],
    only: Option<&[i64]>,
) -> Result<PlanCounts, StoreError> {
    let mut tx = store.pool.begin().await?;
    // Not one in flight (claimed, or in a catalogue document being sent), and
    // not where this channel already has the product.
    let handed = sqlx::query(
        "WITH old AS (
             SELECT pb.id, pb.channel FROM publications pb
             WHERE pb.channel <> $1 AND pb.seller = ANY($2)
               AND (pb.claimed_until IS NULL OR pb.claimed_until < now())
               AND NOT EXISTS (SELECT 1 FROM publications o WHERE o.product_id = pb.product_id AND o.seller = pb.seller AND o.channel = $1)
               AND NOT EXISTS (SELECT 1 FROM catalogue_upload_lines ul JOIN catalogue_uploads u ON u.id = ul.upload_id
                               WHERE ul.publication_id = pb.id AND u.state = 'sending')
             FOR UPDATE OF pb
         ), up AS (
             UPDATE publications pb SET channel = $1, updated_at = now() FROM old WHERE pb.id = old.id
             RETURNING pb.id, pb.state, old.channel AS from_channel
         )
         INSERT INTO publication_events (publication_id, kind, from_state, to_state, detail)
         SELECT id, 'handed_over', state, state, jsonb_build_object('from_channel', from_channel, 'to_channel', $1::text) FROM up",
    )
    .bind(channel)
    .bind(sellers)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if handed > 0 {
        tracing::info!(publications = handed, channel = channel.name(), "listings handed over from another channel: this one updates them");
    }
    let (new, changed): (i64, i64) = sqlx::query_as(
        "WITH wanted AS (
             SELECT p.id AS product_id, c.kode_penyedia AS seller, l.content_hash
             FROM listings l
             JOIN products p ON p.id = l.product_id
             JOIN cooperatives c ON c.id = p.cooperative_id
             WHERE l.format = $1 AND l.state = 'draft' AND p.active AND c.kode_penyedia = ANY($3) AND ($4::bigint[] IS NULL OR p.id = ANY($4))
         ), up AS (
             INSERT INTO publications (product_id, seller, channel, state, want_hash)
             SELECT product_id, seller, $2, 'pending', content_hash FROM wanted
             ON CONFLICT (product_id, seller, channel) DO UPDATE SET
                 want_hash = EXCLUDED.want_hash, state = 'pending', state_since = now(), updated_at = now(),
                 attempts = 0, next_attempt_at = NULL, last_error = NULL, send_round = publications.send_round + 1
             WHERE publications.want_hash IS DISTINCT FROM EXCLUDED.want_hash
                OR publications.state IN ('withdrawn', 'withdraw_pending')
             RETURNING (xmax = 0) AS inserted
         )
         SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up",
    )
    .bind(format)
    .bind(channel)
    .bind(sellers)
    .bind(only)
    .fetch_one(&mut *tx)
    .await?;
    // Never sent: nothing to withdraw on the catalogue.
    sqlx::query(
        "UPDATE publications pb SET state = 'withdrawn', state_since = now(), updated_at = now(), claimed_by = NULL, claimed_until = NULL
         FROM products p JOIN cooperatives c ON c.id = p.cooperative_id
         WHERE p.id = pb.product_id AND NOT p.active AND pb.channel = $1 AND pb.remote_id IS NULL AND pb.sent_hash IS NULL
           AND pb.state <> 'withdrawn' AND pb.seller = ANY($2)",
    )
    .bind(channel)
    .bind(sellers)
    .execute(&mut *tx)
    .await?;
    let to_withdraw = sqlx::query(
        "UPDATE publications pb SET state = 'withdraw_pending', state_since = now(), updated_at = now(),
                attempts = 0, next_attempt_at = NULL, last_error = NULL, send_round = pb.send_round + 1
         FROM products p JOIN cooperatives c ON c.id = p.cooperative_id
         WHERE p.id = pb.product_id AND NOT p.active AND pb.channel = $1 AND (pb.remote_id IS NOT NULL OR pb.sent_hash IS NOT NULL)
           AND pb.state NOT IN ('withdrawn', 'withdraw_pending') AND pb.seller = ANY($2)",
    )
    .bind(channel)
    .bind(sellers)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let (blocked, no_seller_id): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE l.state = 'blocked' AND c.kode_penyedia = ANY($3)),
                count(*) FILTER (WHERE c.kode_penyedia IS NULL)
         FROM listings l JOIN products p ON p.id = l.product_id JOIN cooperatives c ON c.id = p.cooperative_id
         WHERE l.format = $1 AND p.active AND ($2::text IS NULL OR c.code = $2)",
    )
    .bind(format)
    .bind(cooperative)
    .bind(sellers)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(PlanCounts { new: n(new), changed: n(changed), to_withdraw, blocked: n(blocked), no_seller_id: n(no_seller_id) })
}

/// A publication claimed for sending, with what to send.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub product_id: i64,
    pub seller: String,
    pub state: PublicationState,
    pub remote_id: Option<String>,
    pub want_hash: Option<String>,
    /// Which deliberate send this is: a retry keeps it, a new send moves it on.
    pub round: i32,
    /// Whether the catalogue holds it (it took a write of it before).
    pub listed: bool,
    /// The draft's payload (absent for a withdrawal of a product without one).
    pub payload: Option<serde_json::Value>,
    pub sku: String,
}

/// Claims up to `limit` publications of `channel` that need sending, for
/// `sellers` only, for `lease_secs`: committed before anything is sent, so
/// another publisher skips them, and a claim left by a dead one expires.
/// Whether [`claim`] would find something to send now (for helpers, which
/// record a run only when there is work).
pub async fn claimable(store: &Store, channel: Channel, sellers: &[String]) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM publications
                        WHERE channel = $1 AND state IN ('pending', 'withdraw_pending') AND seller = ANY($2)
                          AND (claimed_until IS NULL OR claimed_until < now())
                          AND (next_attempt_at IS NULL OR next_attempt_at <= now())
                          AND idempotency_key IS DISTINCT FROM channel || ':' || want_hash)",
    )
    .bind(channel)
    .bind(sellers)
    .fetch_one(&store.pool)
    .await?)
}

/// Seconds until the first lease on publications still to send runs out, if
/// any is held: work another process has taken and not finished.
pub async fn leased(store: &Store, channel: Channel) -> Result<Option<f64>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT EXTRACT(EPOCH FROM min(claimed_until) - now())::float8 FROM publications
         WHERE channel = $1 AND state IN ('pending', 'withdraw_pending') AND claimed_until > now()",
    )
    .bind(channel)
    .fetch_one(&store.pool)
    .await?)
}

#[allow(clippy::too_many_arguments)]
pub async fn claim(
    store: &Store,
    instance: &str,
    channel: Channel,
    format: &str,
    sellers: &[String],
    limit: i64,
    lease_secs: f64,
    only: Option<&[i64]>,
) -> Result<Vec<Claimed>, StoreError> {
    let rows = sqlx::query(
        "UPDATE publications pb SET claimed_by = $1, claimed_until = now() + make_interval(secs => $2)
         WHERE pb.id IN (
             SELECT id FROM publications
             WHERE channel = $3 AND state IN ('pending', 'withdraw_pending') AND seller = ANY($4)
               AND ($7::bigint[] IS NULL OR product_id = ANY($7))
               AND (claimed_until IS NULL OR claimed_until < now())
               AND (next_attempt_at IS NULL OR next_attempt_at <= now())
               -- Handed over with this content already (the xlsx channel's workbooks wait for mark-uploaded).
               AND idempotency_key IS DISTINCT FROM channel || ':' || want_hash
               -- A catalogue upload not yet taken still carries it: that upload is sent again, not a new one.
               AND NOT EXISTS (SELECT 1 FROM catalogue_upload_lines ul JOIN catalogue_uploads u ON u.id = ul.upload_id
                               WHERE ul.publication_id = publications.id AND u.state = 'sending')
             ORDER BY id LIMIT $5
             FOR UPDATE SKIP LOCKED)
         RETURNING pb.id, pb.product_id, pb.seller, pb.state, pb.remote_id, pb.want_hash, pb.send_round,
                   (pb.remote_id IS NOT NULL OR pb.sent_hash IS NOT NULL) AS listed,
                   (SELECT l.payload FROM listings l WHERE l.product_id = pb.product_id AND l.format = $6) AS payload,
                   (SELECT p.sku FROM products p WHERE p.id = pb.product_id) AS sku",
    )
    .bind(instance)
    .bind(lease_secs)
    .bind(channel)
    .bind(sellers)
    .bind(limit)
    .bind(format)
    .bind(only)
    .fetch_all(&store.pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            let state: String = r.try_get("state")?;
            Ok(Claimed {
                id: r.try_get("id")?,
                product_id: r.try_get("product_id")?,
                seller: r.try_get("seller")?,
                state: PublicationState::parse(&state).ok_or_else(|| StoreError::Inconsistent(format!("publication state {state:?}")))?,
                remote_id: r.try_get("remote_id")?,
                want_hash: r.try_get("want_hash")?,
                round: r.try_get("send_round")?,
                listed: r.try_get("listed")?,
                payload: r.try_get("payload")?,
                sku: r.try_get::<Option<String>, _>("sku")?.unwrap_or_default(),
            })
        })
        .collect()
}

/// What came of sending one publication.
#[derive(Debug, Clone)]
pub enum SendResult {
    /// The catalogue took it: the state taking it leads to, its listing id,
    /// what was sent, and the state the answer itself reported when that
    /// moves the publication further (an update answered `live`, say).
    Accepted {
        state: PublicationState,
        remote_id: Option<String>,
        sent_hash: Option<String>,
        sent_payload: Option<serde_json::Value>,
        answered: Option<Answered>,
    },
    /// Refused for good, with the reasons (field errors).
    Refused { state: PublicationState, error: String, reasons: serde_json::Value },
    /// Not done this time; tried again after `retry_in_secs`.
    Later { error: String, retry_in_secs: f64 },
}

/// The state a catalogue answer reported, as the state machine took it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    pub state: PublicationState,
    pub reasons: Vec<String>,
}

/// Records a send's result and lets go of the claim, only while this
/// instance still holds it (a claim that expired may be someone else's now).
/// Returns whether it was recorded. An empty `key` (nothing was sent) keeps
/// the key stored.
pub async fn record(store: &Store, instance: &str, claimed: &Claimed, key: &str, result: &SendResult) -> Result<bool, StoreError> {
    let mut tx = store.pool.begin().await?;
    let (updated, kind, to_state, detail) = match result {
        SendResult::Accepted { state, remote_id, sent_hash, sent_payload, answered } => {
            let end = answered.as_ref().map_or(*state, |a| a.state);
            let reasons = answered.as_ref().map_or_else(|| serde_json::json!([]), |a| serde_json::json!(a.reasons));
            let updated = sqlx::query(
                "UPDATE publications SET state = $3, state_since = now(), remote_id = COALESCE($4, remote_id),
                        sent_hash = COALESCE($5, sent_hash), sent_payload = COALESCE($6, sent_payload), idempotency_key = $7,
                        attempts = attempts + 1, last_error = NULL, reasons = $8, next_attempt_at = NULL,
                        remote_seen_at = CASE WHEN $9 THEN now() ELSE remote_seen_at END,
                        claimed_by = NULL, claimed_until = NULL, updated_at = now()
                 WHERE id = $1 AND claimed_by = $2",
            )
            .bind(claimed.id)
            .bind(instance)
            .bind(end.as_str())
            .bind(remote_id)
            .bind(sent_hash)
            .bind(sent_payload)
            .bind(key)
            .bind(reasons)
            .bind(answered.is_some())
            .execute(&mut *tx)
            .await?
            .rows_affected()
                > 0;
            (updated, "accepted", state.as_str(), serde_json::json!({"remote_id": remote_id, "idempotency_key": key}))
        }
        SendResult::Refused { state, error, reasons } => {
            let updated = sqlx::query(
                "UPDATE publications SET state = $3, state_since = now(), last_error = $4, reasons = $5, idempotency_key = $6,
                        attempts = attempts + 1, claimed_by = NULL, claimed_until = NULL, updated_at = now()
                 WHERE id = $1 AND claimed_by = $2",
            )
            .bind(claimed.id)
            .bind(instance)
            .bind(state.as_str())
            .bind(error)
            .bind(reasons)
            .bind(key)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                > 0;
            (updated, "refused", state.as_str(), serde_json::json!({"error": error, "reasons": reasons}))
        }
        SendResult::Later { error, retry_in_secs } => {
            let attempt = Attempt { state: None, error: Some(error), retry_secs: Some(*retry_in_secs), counted: true };
            let updated = claims::record_attempt(&mut tx, Claims::Publications, claimed.id, instance, attempt).await?;
            if updated && !key.is_empty() {
                // The key a send was made with stays the publication's until the send is answered.
                sqlx::query("UPDATE publications SET idempotency_key = $2 WHERE id = $1").bind(claimed.id).bind(key).execute(&mut *tx).await?;
            }
            (updated, "failed_attempt", claimed.state.as_str(), serde_json::json!({"error": error}))
        }
    };
    // Only if the claim was still ours: then the event belongs to the change just made.
    if updated {
        sqlx::query("INSERT INTO publication_events (publication_id, kind, from_state, to_state, detail) VALUES ($1, $2, $3, $4, $5)")
            .bind(claimed.id)
            .bind(kind)
            .bind(claimed.state.as_str())
            .bind(to_state)
            .bind(detail)
            .execute(&mut *tx)
            .await?;
        // The answer's own news, after the acceptance it came with.
        if let SendResult::Accepted { state, answered: Some(a), .. } = result
            && a.state != *state
        {
            sqlx::query("INSERT INTO publication_events (publication_id, kind, from_state, to_state, detail) VALUES ($1, 'answer', $2, $3, $4)")
                .bind(claimed.id)
                .bind(state.as_str())
                .bind(a.state.as_str())
                .bind(serde_json::json!({"reasons": a.reasons}))
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(updated)
}

/// Lets go of claims without sending (work claimed but not taken this time).
pub async fn release(store: &Store, instance: &str, ids: &[i64]) -> Result<u64, StoreError> {
    Ok(sqlx::query("UPDATE publications SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = $1 AND id = ANY($2)")
        .bind(instance)
        .bind(ids)
        .execute(&store.pool)
        .await?
        .rows_affected())
}

/// Marks publications handed over in workbooks (`(id, content hash)`), so
/// they are not written again until their content changes, and lets go of
/// their claims. Returns how many.
pub async fn mark_exported(store: &Store, instance: &str, exported: &[(i64, String)], folder: &str) -> Result<u64, StoreError> {
    let ids: Vec<i64> = exported.iter().map(|(id, _)| *id).collect();
    let hashes: Vec<&str> = exported.iter().map(|(_, h)| h.as_str()).collect();
    let mut tx = store.pool.begin().await?;
    let n = sqlx::query(
        "WITH up AS (
             UPDATE publications pb SET idempotency_key = 'xlsx:' || e.hash, claimed_by = NULL, claimed_until = NULL, updated_at = now()
             FROM unnest($1::bigint[], $2::text[]) AS e(id, hash)
             WHERE pb.id = e.id AND pb.claimed_by = $3
             RETURNING pb.id, pb.state)
         INSERT INTO publication_events (publication_id, kind, from_state, to_state, detail)
         SELECT id, 'exported', state, state, jsonb_build_object('folder', $4::text) FROM up",
    )
    .bind(&ids)
    .bind(&hashes)
    .bind(instance)
    .bind(folder)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(n)
}

/// What marking uploaded rows found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UploadedCounts {
    pub submitted: u64,
    pub changed_since: u64,
    pub already: u64,
}

/// Marks the xlsx publications of `seller` named by their seller's item ids
/// (`MEMBER/SKU`, as the workbooks carry them) as uploaded: what the
/// workbook carried is what the catalogue now has. Returns the counts and
/// the item ids that name no publication handed over in a workbook.
pub async fn mark_uploaded(store: &Store, seller: &str, items: &[String], file: &str) -> Result<(UploadedCounts, Vec<String>), StoreError> {
    let mut tx = store.pool.begin().await?;
    #[derive(sqlx::FromRow)]
    struct Row {
        item: String,
        id: i64,
        state: String,
        want_hash: Option<String>,
        sent_hash: Option<String>,
        idempotency_key: Option<String>,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT m.code || '/' || p.sku AS item, pb.id, pb.state, pb.want_hash, pb.sent_hash, pb.idempotency_key
         FROM publications pb JOIN products p ON p.id = pb.product_id JOIN members m ON m.id = p.member_id
         WHERE pb.channel = 'xlsx' AND pb.seller = $1 AND (m.code || '/' || p.sku) = ANY($2)
         FOR UPDATE OF pb",
    )
    .bind(seller)
    .bind(items)
    .fetch_all(&mut *tx)
    .await?;
    let found: std::collections::HashSet<&str> = rows.iter().map(|r| r.item.as_str()).collect();
    let unknown: Vec<String> = items.iter().filter(|i| !found.contains(i.as_str())).cloned().collect();
    let mut counts = UploadedCounts::default();
    let mut unknown = unknown;
    for Row { item, id, state, want_hash, sent_hash, idempotency_key } in &rows {
        let Some(handed) = idempotency_key.as_deref().and_then(|k| k.strip_prefix("xlsx:")) else {
            unknown.push(item.clone());
            continue;
        };
        let from = PublicationState::parse(state).ok_or_else(|| StoreError::Inconsistent(format!("publication state {state:?}")))?;
        if sent_hash.as_deref() == Some(handed) || from != PublicationState::Pending {
            counts.already += 1;
            continue;
        }
        // Still pending for newer content: what the workbook carried is recorded; the change goes next time.
        let to = if want_hash.as_deref() == Some(handed) { from.apply(crate::domain::publication::Change::Accepted).unwrap_or(from) } else { from };
        if to == from {
            counts.changed_since += 1;
        } else {
            counts.submitted += 1;
        }
        sqlx::query(
            "UPDATE publications SET state = $2, sent_hash = $3, attempts = attempts + 1, last_error = NULL, reasons = '[]',
                    state_since = CASE WHEN state = $2 THEN state_since ELSE now() END, updated_at = now()
             WHERE id = $1",
        )
        .bind(id)
        .bind(to.as_str())
        .bind(handed)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO publication_events (publication_id, kind, from_state, to_state, detail) VALUES ($1, 'uploaded', $2, $3, $4)")
            .bind(id)
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(serde_json::json!({"file": file}))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok((counts, unknown))
}

/// Publications by seller and state, for reports.
pub async fn counts_by_state(store: &Store, channel: Channel) -> Result<Vec<(String, String, i64)>, StoreError> {
    Ok(sqlx::query_as("SELECT seller, state, count(*) FROM publications WHERE channel = $1 GROUP BY 1, 2 ORDER BY 1, 2")
        .bind(channel)
        .fetch_all(&store.pool)
        .await?)
}

/// What applying a feed page did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct FeedCounts {
    /// Changes applied (the state moved, or was confirmed).
    pub applied: u64,
    /// Changes already recorded (a replayed or duplicated item).
    pub repeated: u64,
    /// Changes the state machine does not allow: recorded, not applied.
    pub not_allowed: u64,
    /// Listings that are not ours, or not known here.
    pub unknown: u64,
}

summed!(FeedCounts { applied, repeated, not_allowed, unknown });

/// Where a feed was last read to.
pub async fn cursor(store: &Store, name: &str) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar("SELECT cursor FROM sync_cursors WHERE name = $1").bind(name).fetch_optional(&store.pool).await?.flatten())
}

/// Applies one page of a seller's change feed through the state machine and
/// moves the feed's cursor, in one transaction: a crash either keeps both or
/// neither. Each change is recorded once (its remote change id is unique per
/// publication), so a replayed page changes nothing.
pub async fn apply_feed_page(
    store: &Store,
    channel: Channel,
    seller: &str,
    items: &[ListingChange],
    cursor_name: &str,
    next_cursor: &str,
) -> Result<FeedCounts, StoreError> {
    let mut counts = FeedCounts::default();
    let mut tx = store.pool.begin().await?;
    let mut heard: Vec<i64> = Vec::with_capacity(items.len());
    let mut ordered: Vec<&ListingChange> = items.iter().collect();
    // In change order, whatever order the page came in (numeric where the ids are numbers).
    ordered.sort_by_key(|i| (i.change.parse::<u64>().unwrap_or(u64::MAX), i.change.clone()));
    for item in ordered {
        let row = feed_publication(&mut tx, channel, seller, item).await?;
        let Some((id, state)) = row else {
            counts.unknown += 1;
            continue;
        };
        heard.push(id);
        let from = PublicationState::parse(&state).ok_or_else(|| StoreError::Inconsistent(format!("publication state {state:?}")))?;
        let outcome = from.apply(crate::domain::publication::Change::Remote(item.state));
        let (kind, to) = match outcome {
            Ok(to) => ("remote", to),
            Err(_) => ("not_allowed", PublicationState::from(item.state)),
        };
        let inserted = sqlx::query(
            "INSERT INTO publication_events (publication_id, kind, from_state, to_state, remote_change, detail)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (publication_id, remote_change) DO NOTHING",
        )
        .bind(id)
        .bind(kind)
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(&item.change)
        .bind(serde_json::json!({"reasons": item.reasons}))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            counts.repeated += 1;
            continue;
        }
        match outcome {
            Ok(to) => {
                counts.applied += 1;
                sqlx::query(
                    "UPDATE publications SET state = $2, reasons = $3,
                            state_since = CASE WHEN state = $2 THEN state_since ELSE now() END, updated_at = now()
                     WHERE id = $1",
                )
                .bind(id)
                .bind(to.as_str())
                .bind(serde_json::json!(item.reasons))
                .execute(&mut *tx)
                .await?;
            }
            Err(_) => counts.not_allowed += 1,
        }
    }
    // The catalogue has spoken of these now: the drift check leaves them be for a while.
    sqlx::query("UPDATE publications SET remote_seen_at = now() WHERE id = ANY($1)").bind(&heard).execute(&mut *tx).await?;
    sqlx::query(
        "INSERT INTO sync_cursors (name, cursor, updated_at) VALUES ($1, $2, now())
         ON CONFLICT (name) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now()",
    )
    .bind(cursor_name)
    .bind(next_cursor)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(counts)
}

/// The publication a feed item speaks of, locked: by its remote id, or, when
/// its id was never read, by the seller's item id (the id is learned then).
async fn feed_publication(tx: &mut sqlx::PgConnection, channel: Channel, seller: &str, item: &ListingChange) -> Result<Option<(i64, String)>, StoreError> {
    let row: Option<(i64, String)> = sqlx::query_as("SELECT id, state FROM publications WHERE channel = $1 AND seller = $2 AND remote_id = $3 FOR UPDATE")
        .bind(channel)
        .bind(seller)
        .bind(&item.remote_id)
        .fetch_optional(&mut *tx)
        .await?;
    // Not known by its id: perhaps by the seller's item id, when its id was never read.
    Ok(match (row, &item.sku) {
        (Some(row), _) => Some(row),
        (None, Some(sku)) => {
            sqlx::query_as(
                "UPDATE publications pb SET remote_id = $5, updated_at = now()
                 WHERE pb.id = (SELECT pb2.id FROM publications pb2 JOIN products p ON p.id = pb2.product_id JOIN members m ON m.id = p.member_id
                                WHERE pb2.channel = $1 AND pb2.seller = $2 AND pb2.remote_id IS NULL
                                  AND ((m.code || '/' || p.sku) = $3 OR (p.sku = $3 AND m.code = $4))
                                ORDER BY pb2.id LIMIT 1 FOR UPDATE)
                 RETURNING pb.id, pb.state",
            )
            .bind(channel)
            .bind(seller)
            .bind(sku)
            .bind(&item.member)
            .bind(&item.remote_id)
            .fetch_optional(&mut *tx)
            .await?
        }
        (None, None) => None,
    })
}

/// One line of the liaison's view of the listings.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ListingLine {
    /// The publication's id (for `listings resubmit`); a held-back draft has none.
    #[serde(serialize_with = "positive_id")]
    pub id: i64,
    pub cooperative: String,
    pub member: String,
    pub sku: String,
    pub product: String,
    pub state: Standing,
    pub remote_id: Option<String>,
    /// INAPROC's product code, whether it is live there, and its words for the state (`sync status --source inaproc`).
    pub kd_produk: Option<String>,
    pub live: Option<bool>,
    pub status_produk: Option<String>,
    #[serde(skip)]
    pub since: chrono::DateTime<chrono::Utc>,
    /// Rejection or revision reasons, refusal field errors, or a draft's blocking issues.
    pub reasons: serde_json::Value,
    pub last_error: Option<String>,
}

impl ListingLine {
    /// The reasons in plain words: the curators' sentences as they are, a
    /// field error as `field: message`; `last_error` when there are none.
    pub fn reasons_text(&self) -> String {
        reasons_text(&self.reasons, self.last_error.as_deref()).join("; ")
    }
}

/// A listing's reasons in plain words: the curators' sentences as they are, a
/// field error as `field: message`; `last_error` when there are none.
pub fn reasons_text(reasons: &serde_json::Value, last_error: Option<&str>) -> Vec<String> {
    let reasons: Vec<String> = reasons
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| match (r.as_str(), r["message"].as_str()) {
                    (Some(text), _) => text.to_owned(),
                    (None, Some(m)) => format!("{}: {m}", r["field"].as_str().unwrap_or("?")),
                    (None, None) => r.to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    if reasons.is_empty() { last_error.map(str::to_owned).into_iter().collect() } else { reasons }
}

fn positive_id<S: serde::Serializer>(id: &i64, s: S) -> Result<S::Ok, S::Error> {
    if *id > 0 { s.serialize_some(id) } else { s.serialize_none() }
}

/// Every publication of `channel` (of every channel: `None`), and every draft of `format` held back by a
/// blocking issue (state `blocked`), with whose it is and why it stands where
/// it does; filtered by state and cooperative.
pub async fn listing_lines(
    store: &Store,
    channel: Option<Channel>,
    format: &str,
    state: Option<Standing>,
    cooperative: Option<&str>,
) -> Result<Vec<ListingLine>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT * FROM (
             SELECT pb.id, c.code AS cooperative, m.code AS member, p.sku, p.name AS product, pb.state, pb.remote_id,
                    pb.kd_produk, pb.live, pb.status_produk, pb.state_since AS since, pb.reasons, pb.last_error
             FROM publications pb JOIN products p ON p.id = pb.product_id
             JOIN members m ON m.id = p.member_id JOIN cooperatives c ON c.id = p.cooperative_id
             WHERE ($1::text IS NULL OR pb.channel = $1)
             UNION ALL
             SELECT -l.product_id, c.code, m.code, p.sku, p.name, 'blocked', NULL, NULL, NULL, NULL, l.updated_at,
                    (SELECT COALESCE(jsonb_agg(i->>'message'), '[]') FROM jsonb_array_elements(l.issues) i WHERE i->>'severity' = 'blocking'),
                    NULL
             FROM listings l JOIN products p ON p.id = l.product_id
             JOIN members m ON m.id = p.member_id JOIN cooperatives c ON c.id = p.cooperative_id
             WHERE l.format = $2 AND l.state = 'blocked' AND p.active
         ) v
         WHERE ($3::text IS NULL OR state = $3) AND ($4::text IS NULL OR cooperative = $4)
         ORDER BY cooperative, member, sku",
    )
    .bind(channel)
    .bind(format)
    .bind(state.map(Standing::as_str))
    .bind(cooperative)
    .fetch_all(&store.pool)
    .await?)
}

/// What `listings resubmit` did with one id.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Resubmitted {
    pub id: i64,
    /// Its state before (`None`: no such publication).
    pub state: Option<PublicationState>,
    pub decision: Option<crate::domain::publication::OnRequest>,
}

/// Makes publications pending again on request (`listings resubmit`), by
/// id, where resending applies ([`PublicationState::on_request`]): each
/// one resent is a new send (a new round, so a new idempotency key), with
/// its event. Says per id what it did.
pub async fn resubmit(store: &Store, ids: &[i64]) -> Result<Vec<Resubmitted>, StoreError> {
    use crate::domain::publication::OnRequest;
    let mut tx = store.pool.begin().await?;
    let rows: Vec<(i64, PublicationState, bool)> =
        sqlx::query_as("SELECT id, state, want_hash IS DISTINCT FROM sent_hash FROM publications WHERE id = ANY($1) ORDER BY id FOR UPDATE")
            .bind(ids)
            .fetch_all(&mut *tx)
            .await?;
    let found: std::collections::HashMap<i64, (PublicationState, bool)> = rows.into_iter().map(|(id, state, changed)| (id, (state, changed))).collect();
    let mut out = Vec::with_capacity(ids.len());
    let mut resend = Vec::new();
    for &id in ids {
        let Some((state, changed)) = found.get(&id) else {
            out.push(Resubmitted { id, state: None, decision: None });
            continue;
        };
        let decision = state.on_request(*changed);
        if decision == OnRequest::Resend {
            resend.push(id);
        }
        out.push(Resubmitted { id, state: Some(*state), decision: Some(decision) });
    }
    sqlx::query(
        "WITH old AS (SELECT id, state FROM publications WHERE id = ANY($1)),
              up AS (UPDATE publications pb SET state = 'pending', state_since = now(), updated_at = now(), attempts = 0,
                            next_attempt_at = NULL, last_error = NULL, send_round = pb.send_round + 1
                     FROM old WHERE pb.id = old.id RETURNING pb.id, old.state, pb.send_round)
         INSERT INTO publication_events (publication_id, kind, from_state, to_state, detail)
         SELECT id, 'resubmit', state, 'pending', jsonb_build_object('round', send_round) FROM up",
    )
    .bind(&resend)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(out)
}

/// Releases the claims of processes of this host that are gone (killed
/// mid-run), so their work is picked up at once rather than when the lease
/// runs out. Claims of live processes, and of other hosts, wait for their lease.
pub async fn release_dead_local_claims(store: &Store) -> Result<u64, StoreError> {
    let mut n = 0;
    for claims in [super::claims::Claims::Publications, super::claims::Claims::Uploads] {
        n += super::claims::release_dead_local_claims(store, claims).await?;
    }
    Ok(n)
}

/// A publication the catalogue has not spoken of for a while.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Unheard {
    pub id: i64,
    pub seller: String,
    pub remote_id: String,
}

/// Up to `limit` publications of `channel` for `sellers` that the catalogue
/// holds in a state it may change (in review, decided, live, taken down) and
/// has not spoken of for `quiet_secs`: the least recently heard first.
pub async fn unheard(store: &Store, channel: Channel, sellers: &[String], quiet_secs: f64, limit: i64) -> Result<Vec<Unheard>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, seller, remote_id FROM publications
         WHERE channel = $1 AND seller = ANY($2) AND remote_id IS NOT NULL
           AND state IN ('submitted', 'under_curation', 'live', 'rejected', 'revision_requested', 'taken_down')
           AND (remote_seen_at IS NULL OR remote_seen_at < now() - make_interval(secs => $3))
         ORDER BY remote_seen_at NULLS FIRST, id LIMIT $4",
    )
    .bind(channel)
    .bind(sellers)
    .bind(quiet_secs)
    .bind(limit)
    .fetch_all(&store.pool)
    .await?)
}

/// What reading one listing back found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOutcome {
    /// The catalogue says what we have.
    Same,
    /// It says otherwise: the publication now follows it, with a `drift` event.
    Corrected { from: PublicationState, to: PublicationState },
    /// Our own write became due meanwhile: left for it.
    Busy,
}

/// Applies what a read of the listing says (`state`, `reasons`): the
/// catalogue is the ground truth, so a publication that drifted from it
/// takes its state, even where no feed entry could have led there, and the
/// correction is recorded as a `drift` event. A publication with a write
/// due is left alone (the write will say more). Either way the catalogue
/// has now been heard from.
pub async fn apply_read(store: &Store, id: i64, state: crate::domain::publication::RemoteState, reasons: &[String]) -> Result<ReadOutcome, StoreError> {
    let mut tx = store.pool.begin().await?;
    let Some(current): Option<String> = sqlx::query_scalar("SELECT state FROM publications WHERE id = $1 FOR UPDATE").bind(id).fetch_optional(&mut *tx).await?
    else {
        return Ok(ReadOutcome::Busy);
    };
    let from = PublicationState::parse(&current).ok_or_else(|| StoreError::Inconsistent(format!("publication state {current:?}")))?;
    let to = PublicationState::from(state);
    let outcome = if from.needs_sending() {
        ReadOutcome::Busy
    } else if from == to {
        sqlx::query("UPDATE publications SET remote_seen_at = now(), reasons = $2 WHERE id = $1")
            .bind(id)
            .bind(serde_json::json!(reasons))
            .execute(&mut *tx)
            .await?;
        ReadOutcome::Same
    } else {
        sqlx::query("UPDATE publications SET state = $2, reasons = $3, state_since = now(), remote_seen_at = now(), updated_at = now() WHERE id = $1")
            .bind(id)
            .bind(to.as_str())
            .bind(serde_json::json!(reasons))
            .execute(&mut *tx)
            .await?;
        let allowed = from.apply(crate::domain::publication::Change::Remote(state)).is_ok();
        sqlx::query("INSERT INTO publication_events (publication_id, kind, from_state, to_state, detail) VALUES ($1, 'drift', $2, $3, $4)")
            .bind(id)
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(serde_json::json!({"reasons": reasons, "feed_could_lead_there": allowed}))
            .execute(&mut *tx)
            .await?;
        ReadOutcome::Corrected { from, to }
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Records that the catalogue has no listing under a publication's id any
/// more (read back and not found), without changing its state.
pub async fn listing_missing(store: &Store, id: i64, error: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE publications SET last_error = $2, remote_seen_at = now(), updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(error)
        .execute(&store.pool)
        .await?;
    Ok(())
}

/// A product's publication through a channel: its id, whether the
/// catalogue has it (a listing id or a content sent), and the content hash
/// last sent.
pub async fn of_product(store: &Store, product_id: i64, channel: Channel) -> Result<Option<(i64, bool, Option<String>)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, (remote_id IS NOT NULL OR sent_hash IS NOT NULL) AND state <> 'withdrawn', sent_hash
         FROM publications WHERE product_id = $1 AND channel = $2",
    )
    .bind(product_id)
    .bind(channel)
    .fetch_optional(&store.pool)
    .await?)
}
