//! `products list|add|edit|withdraw|reactivate|photo`: one product at a
//! time, through the same use cases as the product's page.

use std::collections::BTreeMap;

use anyhow::Context;

use super::common::{cooperative_arg, with_store};
use super::{EXIT_OK, EXIT_REJECTED_ROWS as EXIT_REJECTED, ProductsCommand};
use crate::app::Actor;
use crate::app::products::{self as use_case, Saved, Target};
use crate::config::Settings;
use crate::mapping::MappingSource;
use crate::mapping::units::UnitTable;

pub(super) async fn run(command: ProductsCommand, settings: &Settings) -> anyhow::Result<u8> {
    let actor = Actor::operator();
    match command {
        ProductsCommand::List { cooperative, json } => list(cooperative, json, settings).await,
        ProductsCommand::Add { cooperative, fields } => {
            let form = pairs(&fields)?;
            let units = UnitTable::load(&MappingSource::from_config(settings.mappings_dir.as_deref()))?;
            with_store(settings, async |store| {
                let saved = use_case::save(store, &units, &actor, Target::New { cooperative: Some(cooperative.clone()) }, &form).await?;
                Ok(report(&saved))
            })
            .await
        }
        ProductsCommand::Edit { id, fields } => {
            let form = pairs(&fields)?;
            let units = UnitTable::load(&MappingSource::from_config(settings.mappings_dir.as_deref()))?;
            with_store(settings, async |store| {
                let saved = use_case::edit_fields(store, &units, &actor, id, &form).await?;
                Ok(report(&saved))
            })
            .await
        }
        ProductsCommand::Withdraw { id } | ProductsCommand::Reactivate { id } => {
            let active = matches!(command, ProductsCommand::Reactivate { .. });
            with_store(settings, async |store| {
                let changed = use_case::set_active(store, &actor, id, active).await?;
                let what = if active { "on sale again" } else { "withdrawn" };
                println!("product #{id} {}", if changed { what.to_owned() } else { format!("was already {what}") });
                Ok(EXIT_OK)
            })
            .await
        }
        ProductsCommand::Send { id, dry_run, json } => send(id, dry_run, json, settings).await,
        ProductsCommand::Photo { id, file } => photo(id, &file, settings).await,
    }
}

/// `products list`.
async fn list(cooperative: Option<String>, json: bool, settings: &Settings) -> anyhow::Result<u8> {
    let actor = Actor::operator();
    let cooperative = cooperative_arg(cooperative)?.map(|c| c.to_string());
    with_store(settings, async |store| {
        let lines = use_case::list(store, &actor, cooperative.as_deref(), &settings.photo_base()).await?;
        for p in &lines {
            if json {
                println!("{}", serde_json::to_string(p)?);
            } else {
                let standing = if !p.held_back.is_empty() {
                    format!("held back: {}", p.held_back.join(", "))
                } else if p.catalogue.is_empty() {
                    "not on the catalogue yet".into()
                } else {
                    p.catalogue.join(", ")
                };
                println!(
                    "#{:<6} {:<16} {:<10} {:<16} {:<40} Rp{:>12} stock {:>8}  {} photo(s)  {}{}",
                    p.id,
                    p.cooperative,
                    p.member,
                    p.sku,
                    p.name.chars().take(40).collect::<String>(),
                    crate::domain::money::format_number_id(p.price),
                    crate::domain::money::format_number_id(p.stock),
                    p.photos.len(),
                    standing,
                    if p.active { "" } else { "  [withdrawn]" }
                );
            }
        }
        if !json {
            eprintln!("{} product(s)", lines.len());
        }
        Ok(EXIT_OK)
    })
    .await
}

/// `products send`: what the next publish would do, then (unless `dry_run`) that one product sent.
async fn send(id: i64, dry_run: bool, json: bool, settings: &Settings) -> anyhow::Result<u8> {
    let actor = Actor::operator();
    let mappings = MappingSource::from_config(settings.mappings_dir.as_deref());
    let tables = crate::mapping::plan::Tables::load(&mappings)?;
    let plan = crate::catalog::Format::KatalogV6.plan(&mappings, &tables)?;
    let (client, problems) = crate::catalog::client::CatalogueClient::new(&settings.catalogue)?;
    for p in &problems {
        eprintln!("warning: {p}");
    }
    let photo_base = settings.photo_base();
    let catalogue = use_case::Catalogue { client: &client, plan: &plan, photo_base: &photo_base, today: crate::domain::time::today() };
    with_store(settings, async |store| {
        let before = use_case::preview(store, &catalogue, &actor, id).await?;
        if dry_run {
            println!("{}", if json { serde_json::to_string(&before)? } else { said(&before) });
            return Ok(EXIT_OK);
        }
        let sent = use_case::send_now(store, &catalogue, &actor, id).await?;
        if json {
            println!("{}", serde_json::to_string(&sent)?);
        } else {
            println!("before: {}", said(&before));
            println!("sent {}, refused {}, left for later {}", sent.sent, sent.refused.len(), sent.deferred);
            for r in &sent.refused {
                println!("  refused: {r}");
            }
            println!("now: {}", said(&sent.then));
        }
        Ok(if sent.refused.is_empty() { EXIT_OK } else { EXIT_REJECTED })
    })
    .await
}

/// `products photo`.
async fn photo(id: i64, file: &std::path::Path, settings: &Settings) -> anyhow::Result<u8> {
    let actor = Actor::operator();
    let limits = crate::photos::PhotoLimits::from_settings(&settings.photos);
    let bytes = read_bounded(file, limits.max_bytes)?;
    with_store(settings, async |store| match use_case::add_photo(store, &actor, &limits, settings.photos.max_per_product, id, bytes).await {
        Ok(added) => {
            let base = settings.photo_base();
            match added.kept {
                crate::store::photos::Kept::Added => println!("photo added: {base}/foto/{}.jpg ({} × {} px)", added.digest, added.width, added.height),
                crate::store::photos::Kept::AlreadyThere => println!("the product already has this photo: {base}/foto/{}.jpg", added.digest),
                crate::store::photos::Kept::Full { max } => {
                    eprintln!("refused: the product already has {max} photos; remove one on its page first");
                    return Ok(EXIT_REJECTED);
                }
            }
            Ok(EXIT_OK)
        }
        Err(use_case::ProductError::Photo(e)) => {
            eprintln!("{}: refused: {e}", file.display());
            Ok(EXIT_REJECTED)
        }
        Err(e) => Err(e.into()),
    })
    .await
}

/// What the next publish would do, in words.
fn said(p: &use_case::Preview) -> String {
    use use_case::Preview;
    match p {
        Preview::New => "a new listing".into(),
        Preview::Update => "an update of the same listing".into(),
        Preview::Nothing => "nothing to send: the catalogue has it as it is".into(),
        Preview::HeldBack { issues } => {
            format!("held back: {}", issues.iter().map(|i| format!("{} ({})", i.code.name(), i.message)).collect::<Vec<_>>().join("; "))
        }
        Preview::Withdraw { listed: true } => "withdrawn from the catalogue".into(),
        Preview::Withdraw { listed: false } => "withdrawn: nothing to send".into(),
    }
}

/// `FIELD=VALUE` arguments as a form's fields; a field not in the form is refused.
fn pairs(fields: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut form = BTreeMap::new();
    for f in fields {
        let (name, value) = f.split_once('=').with_context(|| format!("{f:?}: write FIELD=VALUE, e.g. harga=12.500"))?;
        let name = name.trim();
        if !use_case::FIELDS.contains(&name) {
            anyhow::bail!("{name:?} is not a product field; use one of: {}", use_case::FIELDS.join(", "));
        }
        if form.insert(name.to_owned(), value.to_owned()).is_some() {
            anyhow::bail!("{name} is given twice");
        }
    }
    Ok(form)
}

/// Says what saving did: the changes, or each refused field.
fn report(saved: &Saved) -> u8 {
    match saved {
        Saved::Done { id, created, changed } => {
            println!(
                "product #{id} {}",
                if *created {
                    "added"
                } else if changed.is_empty() {
                    "unchanged"
                } else {
                    "changed"
                }
            );
            for (field, (before, after)) in changed {
                println!("  {field}: {before:?} -> {after:?}");
            }
            EXIT_OK
        }
        Saved::Refused(issues) => {
            for i in issues {
                eprintln!("refused: {}: {}", if i.field.is_empty() { "product" } else { i.field }, i.problem.english);
            }
            EXIT_REJECTED
        }
    }
}

/// A file's bytes, refused before reading when it is larger than `max`.
fn read_bounded(path: &std::path::Path, max: usize) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let meta = file.metadata().with_context(|| format!("reading {}", path.display()))?;
    if !meta.is_file() {
        anyhow::bail!("{} is not a regular file", path.display());
    }
    let mut bytes = Vec::new();
    file.take(max as u64 + 1).read_to_end(&mut bytes).with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() > max {
        anyhow::bail!("{}: the file is larger than {} MB, the most a photo may be ([photos] max_bytes)", path.display(), max >> 20);
    }
    Ok(bytes)
}
