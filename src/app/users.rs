//! The dashboard's accounts: adding one, changing its password, disabling
//! it, lifting a lock. Only an actor over every cooperative (the liaison,
//! or the operator at the command line) manages accounts; each change is
//! written to the audit log.

use argon2::Argon2;
use argon2::password_hash::PasswordHasher;

use super::Actor;
use crate::store::Store;
use crate::store::users::{self, Role, UserError};

/// Hashes a password with argon2id (a fresh salt, the crate's default
/// parameters: 19 MiB, 2 passes), as a PHC string.
pub fn hash_password(password: &str) -> Result<String, String> {
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| format!("cannot hash the password: {e}"))
}

/// What a password must be: long enough to resist guessing.
pub fn check_new_password(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < 10 {
        return Err(format!("the password has {n} characters: use at least 10"));
    }
    if n > 200 {
        return Err("the password is longer than 200 characters".into());
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("only the liaison manages the dashboard's accounts")]
    NotAllowed,
    #[error("a cooperative user needs --cooperative CODE")]
    NoCooperative,
    #[error("the liaison sees every cooperative: leave out --cooperative")]
    LiaisonWithCooperative,
    #[error("{0}")]
    Password(String),
    #[error(transparent)]
    User(#[from] UserError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

fn allowed(actor: &Actor) -> Result<(), AccountError> {
    if actor.scope.is_some() { Err(AccountError::NotAllowed) } else { Ok(()) }
}

/// The password checked, then hashed on a blocking thread (argon2 takes ~19 MiB and a moment).
async fn hashed(password: &str) -> Result<String, AccountError> {
    check_new_password(password).map_err(AccountError::Password)?;
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| AccountError::Password(format!("cannot hash the password: {e}")))?
        .map_err(AccountError::Password)
}

async fn audit(store: &Store, actor: &Actor, action: &str, username: &str, detail: serde_json::Value) -> Result<(), AccountError> {
    Ok(users::audit_as(store, (actor.user_id, &actor.name), None, action, Some(username), detail).await?)
}

/// Adds an account: the liaison (no cooperative) or a cooperative's staff (one).
pub async fn add(store: &Store, actor: &Actor, username: &str, role: Role, cooperative: Option<&str>, password: &str) -> Result<(), AccountError> {
    allowed(actor)?;
    match (role, cooperative) {
        (Role::Cooperative, None) => return Err(AccountError::NoCooperative),
        (Role::Liaison, Some(_)) => return Err(AccountError::LiaisonWithCooperative),
        _ => {}
    }
    if !users::valid_name(username) {
        return Err(UserError::BadName(username.to_owned()).into());
    }
    let hash = hashed(password).await?;
    users::add(store, username, role, cooperative, &hash).await?;
    audit(store, actor, "user.add", username, serde_json::json!({"role": role.as_str(), "cooperative": cooperative})).await
}

/// Disables an account; its sessions end.
pub async fn disable(store: &Store, actor: &Actor, username: &str) -> Result<(), AccountError> {
    allowed(actor)?;
    users::disable(store, username).await?;
    audit(store, actor, "user.disable", username, serde_json::json!({})).await
}

/// Sets an account's password (and enables it); its sessions end.
pub async fn set_password(store: &Store, actor: &Actor, username: &str, password: &str) -> Result<(), AccountError> {
    allowed(actor)?;
    let hash = hashed(password).await?;
    users::set_password(store, username, &hash).await?;
    audit(store, actor, "user.password", username, serde_json::json!({})).await
}

/// Lifts the lock a flood of failed logins put on an account: how many failures were forgotten.
pub async fn unlock(store: &Store, actor: &Actor, username: &str) -> Result<u64, AccountError> {
    allowed(actor)?;
    let forgotten = users::unlock(store, username).await?;
    audit(store, actor, "user.unlock", username, serde_json::json!({"forgotten": forgotten})).await?;
    Ok(forgotten)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_needs_10_to_200_characters() {
        assert!(check_new_password("kurang").unwrap_err().contains("6 characters"));
        assert!(check_new_password("sepuluh-hu").is_ok());
        assert!(check_new_password(&"x".repeat(201)).is_err());
    }

    #[test]
    fn only_an_actor_over_every_cooperative_manages_accounts() {
        let staff = Actor { user_id: Some(3), name: "staf".into(), scope: Some(7) };
        assert!(matches!(allowed(&staff), Err(AccountError::NotAllowed)));
        assert!(allowed(&Actor::operator()).is_ok());
    }
}
