//! The use cases: one function per action a person takes, shared by the
//! command line and the pages. Each takes an [`Actor`] (who, and which
//! cooperatives they may act for) and typed arguments, checks the scope and
//! the business rules, writes the audit entry, and returns a typed result
//! that the command line prints and the page renders. `cli/` and `web/` only
//! parse input and render output.
//!
//! Layering: below `cli/` and `web/`, above `store/`, `orders/`,
//! `catalog/` and `domain/`.

pub mod faktur;
pub mod imports;
pub mod listings;
pub mod orders;
pub mod payments;
pub mod products;
pub mod runs;
pub mod rup;
pub mod steps;
pub mod users;

use crate::store::users::User;

/// Who acts: a dashboard user, or the operator at the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The user's row, for a dashboard user.
    pub user_id: Option<i64>,
    /// The name the audit log shows.
    pub name: String,
    /// The cooperative the actor may act for; `None` for every cooperative.
    pub scope: Option<i64>,
}

impl Actor {
    /// A signed-in dashboard user, within their cooperative (the liaison: all).
    pub fn user(user: &User) -> Self {
        Self { user_id: Some(user.id), name: user.username.clone(), scope: user.scope() }
    }

    /// The operator at the command line: whoever holds a shell and the
    /// configuration on this machine acts for every cooperative. Named in
    /// the audit log after the system user (`cli:root`).
    pub fn operator() -> Self {
        let who = std::env::var("USER").ok().filter(|u| !u.is_empty() && u.len() <= 64).unwrap_or_else(|| "operator".into());
        Self { user_id: None, name: format!("cli:{who}"), scope: None }
    }

    /// The cooperative the actor acts for, as (id, code): a cooperative's
    /// staff their own, whatever is asked; an actor over every cooperative
    /// the one asked. `None` when such an actor asks none, or a code no
    /// cooperative has.
    pub async fn cooperative(&self, store: &crate::store::Store, asked: Option<&str>) -> Result<Option<(i64, String)>, crate::store::StoreError> {
        match (self.scope, asked) {
            (Some(own), _) => Ok(Some((own, crate::store::dashboard::cooperative_code(store, own).await?.unwrap_or_default()))),
            (None, Some(code)) => crate::store::dashboard::cooperative_by_code(store, None, code).await,
            (None, None) => Ok(None),
        }
    }
}
