//! `users add|list|disable|unlock|password`: the dashboard's accounts.

use std::io::BufRead;

use anyhow::Context;

use super::common::{cooperative_arg, with_store};
use super::{EXIT_OK, RoleArg, UsersCommand};
use crate::config::Settings;
use crate::store::users::{self, Role};
use crate::web::auth::{check_new_password, hash_password};

/// The first line of standard input, without its line ending.
fn password_from_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    check_new_password(&password).map_err(anyhow::Error::msg)?;
    Ok(password)
}

async fn hashed(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_password(&password)).await?.map_err(anyhow::Error::msg)
}

pub(super) async fn users(command: UsersCommand, settings: &Settings) -> anyhow::Result<u8> {
    match command {
        UsersCommand::Add { username, role, cooperative, password_stdin: _ } => {
            let role = match role {
                RoleArg::Liaison => Role::Liaison,
                RoleArg::Cooperative => Role::Cooperative,
            };
            let cooperative = cooperative_arg(cooperative)?.map(|c| c.to_string());
            match (role, &cooperative) {
                (Role::Cooperative, None) => anyhow::bail!("a cooperative user needs --cooperative CODE"),
                (Role::Liaison, Some(_)) => anyhow::bail!("the liaison sees every cooperative: leave out --cooperative"),
                _ => {}
            }
            if !users::valid_name(&username) {
                return Err(users::UserError::BadName(username).into());
            }
            let hash = hashed(password_from_stdin()?).await?;
            with_store(settings, async |store| {
                users::add(store, &username, role, cooperative.as_deref(), &hash).await?;
                println!("user {username} added ({}{})", role.as_str(), cooperative.as_deref().map(|c| format!(", {c}")).unwrap_or_default());
                Ok(EXIT_OK)
            })
            .await
        }
        UsersCommand::List { json } => {
            with_store(settings, async |store| {
                let accounts = users::list(store).await?;
                for a in &accounts {
                    if json {
                        println!("{}", serde_json::to_string(a)?);
                    } else {
                        println!(
                            "{:<24} {:<12} {:<20} {}{}",
                            a.username,
                            a.role,
                            a.cooperative.as_deref().unwrap_or("-"),
                            a.last_seen_at.map(|t| format!("last seen {}", crate::domain::time::show(t))).unwrap_or_else(|| "never logged in".into()),
                            if a.disabled_at.is_some() { "  [disabled]" } else { "" }
                        );
                    }
                }
                if accounts.is_empty() && !json {
                    println!("no users yet: add one with `katalog-bridge users add NAME --role liaison --password-stdin`");
                }
                Ok(EXIT_OK)
            })
            .await
        }
        UsersCommand::Unlock { username } => {
            with_store(settings, async |store| {
                let forgotten = users::unlock(store, &username).await?;
                println!("user {username} unlocked: {forgotten} failed logins forgotten");
                Ok(EXIT_OK)
            })
            .await
        }
        UsersCommand::Disable { username } => {
            with_store(settings, async |store| {
                users::disable(store, &username).await?;
                println!("user {username} disabled; its sessions have ended");
                Ok(EXIT_OK)
            })
            .await
        }
        UsersCommand::Password { username, password_stdin: _ } => {
            let hash = hashed(password_from_stdin()?).await?;
            with_store(settings, async |store| {
                users::set_password(store, &username, &hash).await?;
                println!("password of {username} changed; its sessions have ended");
                Ok(EXIT_OK)
            })
            .await
        }
    }
}
