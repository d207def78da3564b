//! Resubmitting listings: the one place its rules live, for the listings
//! page's button and for `listings resubmit`.

use super::Actor;
use crate::domain::publication::OnRequest;
use crate::store::publications::Resubmitted;
use crate::store::{Store, StoreError};

/// Makes publications pending again where resending applies
/// (`PublicationState::on_request`): each one resent is a new send, with a
/// new key. Only publications of the actor's cooperatives are touched; any
/// other id is answered as no such publication. Each publication found is
/// written to the audit log (with whether it is resent). Says per id, in the
/// order asked, what it did.
pub async fn resubmit(store: &Store, actor: &Actor, ids: &[i64]) -> Result<Vec<Resubmitted>, StoreError> {
    let mut found = Vec::with_capacity(ids.len());
    for &id in ids {
        if let Some(product) = crate::store::dashboard::publication_in_scope(store, actor.scope, id).await? {
            found.push((id, product));
        }
    }
    let in_scope: Vec<i64> = found.iter().map(|(id, _)| *id).collect();
    let done = crate::store::publications::resubmit(store, &in_scope).await?;
    for ((id, (cooperative, sku, name)), r) in found.iter().zip(&done) {
        let resent = r.decision == Some(OnRequest::Resend);
        crate::store::users::audit_as(
            store,
            (actor.user_id, &actor.name),
            Some(*cooperative),
            "listing.resubmit",
            Some(&format!("{sku} {name}")),
            serde_json::json!({"publication": id, "resent": resent}),
        )
        .await?;
    }
    Ok(ids.iter().map(|&id| done.iter().find(|r| r.id == id).cloned().unwrap_or(Resubmitted { id, state: None, decision: None })).collect())
}
