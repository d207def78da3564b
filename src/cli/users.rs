//! `users add|list|disable|unlock|password`: the dashboard's accounts.

use std::io::BufRead;

use anyhow::Context;

use super::common::{cooperative_arg, with_store};
use super::{EXIT_OK, RoleArg, UsersCommand};
use crate::app::Actor;
use crate::config::Settings;
use crate::store::users::{self, Role};

/// The first line of standard input, without its line ending, checked
/// before anything else is done.
fn password_from_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    crate::app::users::check_new_password(&password).map_err(anyhow::Error::msg)?;
    Ok(password)
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
                (Role::Cooperative, None) => anyhow::bail!(crate::app::users::AccountError::NoCooperative),
                (Role::Liaison, Some(_)) => anyhow::bail!(crate::app::users::AccountError::LiaisonWithCooperative),
                _ => {}
            }
            if !users::valid_name(&username) {
                return Err(users::UserError::BadName(username).into());
            }
            let password = password_from_stdin()?;
            with_store(settings, async |store| {
                crate::app::users::add(store, &Actor::operator(), &username, role, cooperative.as_deref(), &password).await?;
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
                let forgotten = crate::app::users::unlock(store, &Actor::operator(), &username).await?;
                println!("user {username} unlocked: {forgotten} failed logins forgotten");
                Ok(EXIT_OK)
            })
            .await
        }
        UsersCommand::Disable { username } => {
            with_store(settings, async |store| {
                crate::app::users::disable(store, &Actor::operator(), &username).await?;
                println!("user {username} disabled; its sessions have ended");
                Ok(EXIT_OK)
            })
            .await
        }
        UsersCommand::Password { username, password_stdin: _ } => {
            let password = password_from_stdin()?;
            with_store(settings, async |store| {
                crate::app::users::set_password(store, &Actor::operator(), &username, &password).await?;
                println!("password of {username} changed; its sessions have ended");
                Ok(EXIT_OK)
            })
            .await
        }
    }
}
