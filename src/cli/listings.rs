//! `listings ...`: the listings group of the command line.

use std::io::Write as _;

use super::common::{cooperative_arg, with_store};
use super::{EXIT_OK, EXIT_REJECTED_ROWS, ListingsArgs, ListingsCommand};
use crate::config::Settings;
use crate::domain::publication::PublicationState;

/// `listings` and its subcommands.
pub(super) async fn run(args: ListingsArgs, command: Option<ListingsCommand>, settings: &Settings) -> anyhow::Result<u8> {
    match command {
        Some(ListingsCommand::Resubmit { ids }) => resubmit(&ids, settings).await,
        Some(ListingsCommand::MarkUploaded { files, cooperative }) => mark_uploaded(&files, cooperative, settings).await,
        None => list(args, settings).await,
    }
}

/// `listings resubmit ID...`.
async fn resubmit(ids: &[i64], settings: &Settings) -> anyhow::Result<u8> {
    with_store(settings, async |store| {
        use crate::domain::publication::OnRequest;
        let done = crate::app::listings::resubmit(store, &crate::app::Actor::operator(), ids).await?;
        let mut resent = 0;
        for r in &done {
            let state = r.state.map_or("?", PublicationState::as_str);
            match r.decision {
                None => eprintln!("{}: no such publication (see `katalog-bridge listings`)", r.id),
                Some(OnRequest::Resend) => {
                    resent += 1;
                    println!("{}: {state}: sent again at the next sync publish", r.id);
                }
                Some(OnRequest::Unchanged) => {
                    println!("{}: {state}, and nothing changed since the catalogue took it: not sent again", r.id)
                }
                Some(OnRequest::AlreadyDue) => println!("{}: {state}: already due to be sent at the next sync publish", r.id),
            }
        }
        println!("{resent} of {} publications will be sent again at the next sync publish", ids.len());
        Ok(if done.iter().all(|r| r.decision.is_some()) { EXIT_OK } else { EXIT_REJECTED_ROWS })
    })
    .await
}

/// `listings mark-uploaded FILE...`.
async fn mark_uploaded(files: &[std::path::PathBuf], cooperative: Option<String>, settings: &Settings) -> anyhow::Result<u8> {
    let named = cooperative_arg(cooperative)?.map(|c| c.to_string());
    with_store(settings, async |store| {
        let sellers: std::collections::HashMap<String, String> =
            crate::store::products::seller_ids(store).await?.into_iter().map(|(seller, code)| (code, seller)).collect();
        let mut worst = EXIT_OK;
        for file in files {
            let Some(code) = crate::publish::xlsx::cooperative_of(file, named.as_deref()) else {
                eprintln!("{}: which cooperative is it for? give --cooperative CODE", file.display());
                worst = EXIT_REJECTED_ROWS;
                continue;
            };
            let Some(seller) = sellers.get(&code) else {
                eprintln!("{}: {code:?} is not a registered cooperative with a seller id (kode_penyedia); give --cooperative CODE", file.display());
                worst = EXIT_REJECTED_ROWS;
                continue;
            };
            let rows = match crate::publish::xlsx::workbook_skus(file, &settings.import).await {
                Ok(rows) => rows,
                Err(e) => {
                    eprintln!("{e}");
                    worst = EXIT_REJECTED_ROWS;
                    continue;
                }
            };
            let items: Vec<String> = rows.iter().map(|(_, sku)| sku.clone()).collect();
            let (counts, unknown) = crate::store::publications::mark_uploaded(store, seller, &items, &file.display().to_string()).await?;
            let unknown: std::collections::HashSet<String> = unknown.into_iter().collect();
            let marked = crate::publish::xlsx::Marked {
                file: file.clone(),
                cooperative: code,
                submitted: counts.submitted,
                changed_since: counts.changed_since,
                already: counts.already,
                unknown: rows.into_iter().filter(|(_, sku)| unknown.contains(sku)).collect(),
            };
            if !marked.unknown.is_empty() {
                worst = EXIT_REJECTED_ROWS;
            }
            println!("{}", marked.summary());
        }
        Ok(worst)
    })
    .await
}

/// `listings`: each listing with its state and, where refused or held back, why.
async fn list(args: ListingsArgs, settings: &Settings) -> anyhow::Result<u8> {
    use crate::domain::Named;
    use crate::domain::publication::Standing;
    let state = match args.state.as_deref().map(|s| (s, Standing::from_name(s))) {
        Some((s, None)) => {
            let names: Vec<&str> = Standing::ALL.iter().map(|s| s.as_str()).collect();
            anyhow::bail!("--state {s:?} is not a state; use {}", names.join(", "));
        }
        Some((_, state)) => state,
        None => None,
    };
    let cooperative = cooperative_arg(args.cooperative.clone())?.map(|c| c.to_string());
    with_store(settings, async |store| {
        // Every channel by default (a cooperative uses one); drafts held back as the API maps them, or the channel asked for.
        let format = args.channel.unwrap_or_default().format();
        let lines = crate::store::publications::listing_lines(store, args.channel, format.name(), state, cooperative.as_deref()).await?;
        let mut out = std::io::stdout().lock();
        for l in &lines {
            if args.json {
                let v = serde_json::to_string(l).unwrap_or_default();
                writeln!(out, "{v}")?;
            } else {
                let why = l.reasons_text();
                let id = if l.id > 0 { l.id.to_string() } else { "-".into() };
                writeln!(
                    out,
                    "{id:>6} {:<20} {:<8} {:<16} {:<40} {:<18} {}{}",
                    l.cooperative,
                    l.member,
                    l.sku,
                    l.product.chars().take(40).collect::<String>(),
                    l.state,
                    crate::domain::time::show(l.since),
                    if why.is_empty() { String::new() } else { format!("  {why}") }
                )?;
            }
        }
        if !args.json {
            eprintln!("{} listings", lines.len());
        }
        Ok(EXIT_OK)
    })
    .await
}
