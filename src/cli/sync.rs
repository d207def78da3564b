//! `sync ...`: the sync group of the command line.

use super::common::{cooperative_arg, with_store};
use super::{EXIT_OK, EXIT_REJECTED_ROWS, SyncCommand};
use crate::config::Settings;
use crate::mapping::MappingSource;
use crate::mapping::plan::Tables;

/// `sync publish|status|orders`.
pub(super) async fn run(command: SyncCommand, settings: &Settings) -> anyhow::Result<u8> {
    let mappings = MappingSource::from_config(settings.mappings_dir.as_deref());
    match command {
        SyncCommand::Publish { cooperative, channel, dry_run, out } => publish(cooperative, channel, dry_run, out, settings, &mappings).await,
        SyncCommand::Status { cooperative, channel: _, source: Some(super::SourceArg::Inaproc) } => live_on_inaproc(cooperative, settings).await,
        SyncCommand::Status { cooperative, channel, source: _ } => status(cooperative, channel, settings).await,
        SyncCommand::Orders { klpd, tahun, full, source } => orders(klpd, tahun, full, source, settings, &mappings).await,
        SyncCommand::Rup { klpd, tahun, on } => rup(klpd, tahun, on, settings, &mappings).await,
    }
}

/// `sync rup`: the purchase plans from INAPROC, matched and told.
async fn rup(klpd: Vec<String>, tahun: Vec<i32>, on: Option<chrono::NaiveDate>, settings: &Settings, mappings: &MappingSource) -> anyhow::Result<u8> {
    let inaproc = settings.inaproc.clone().ok_or(crate::catalog::inaproc::InaprocError::NotConfigured)?;
    let keywords = crate::mapping::rup_keywords::Keywords::load(mappings)?;
    let today = on.unwrap_or_else(crate::domain::time::today);
    let options = crate::rup::RupOptions {
        klpd: if klpd.is_empty() { settings.orders.klpd.clone() } else { klpd },
        years: match (tahun.is_empty(), settings.orders.tahun.is_empty()) {
            (false, _) => tahun,
            (true, false) => settings.orders.tahun.clone(),
            (true, true) => crate::orders::default_years(today),
        },
        page: settings.rup.page_size.clamp(1, 1000),
        today,
        lead_days: settings.rup.lead_days,
    };
    with_store(settings, async |store| {
        crate::app::runs::begin(store, &crate::app::Actor::operator(), crate::domain::job::Job::Rup).await?;
        let client = crate::catalog::inaproc::InaprocClient::with_store(&inaproc, store)?;
        let report = crate::rup::sync(store, &client, &keywords, &options).await?;
        println!("{}", report.summary());
        Ok(if report.complete() { EXIT_OK } else { EXIT_REJECTED_ROWS })
    })
    .await
}

/// `sync publish`: each channel of the cooperatives asked for.
async fn publish(
    cooperative: Option<String>,
    channel: Option<crate::publish::Channel>,
    dry_run: bool,
    out: std::path::PathBuf,
    settings: &Settings,
    mappings: &MappingSource,
) -> anyhow::Result<u8> {
    let cooperative = cooperative_arg(cooperative)?.map(|c| c.to_string());
    let tables = Tables::load(mappings)?;
    let (client, problems) = crate::catalog::client::CatalogueClient::new(&settings.catalogue)?;
    for p in &problems {
        eprintln!("warning: {p}");
    }
    with_store(settings, async |store| {
        if !dry_run {
            crate::app::runs::begin(store, &crate::app::Actor::operator(), crate::domain::job::Job::Publish).await?;
        }
        let channels = crate::publish::channels_to_run(store, &client, cooperative.as_deref(), channel).await?;
        let mut code = EXIT_OK;
        for channel in channels {
            let plan = channel.format().plan(mappings, &tables)?;
            let options = crate::publish::PublishOptions {
                channel,
                cooperative: cooperative.clone(),
                dry_run,
                out: out.clone(),
                photo_base: settings.photo_base(),
                ..Default::default()
            };
            // (an unknown cooperative is refused by the mapping the publisher starts with)
            let report = crate::publish::publish(store, &plan, &client, &options).await?;
            for r in &report.refused {
                eprintln!("refused: {} {}: {}", r.seller, r.sku, r.error);
            }
            for r in &report.withdraw_by_hand {
                eprintln!("withdraw by hand on the portal: {} {}", r.seller, r.sku);
            }
            println!("{}: {}", channel.name(), report.summary());
            if !report.refused.is_empty() {
                code = EXIT_REJECTED_ROWS;
            }
        }
        Ok(code)
    })
    .await
}

/// `sync status --source inaproc`: which products are live, and their codes.
async fn live_on_inaproc(cooperative: Option<String>, settings: &Settings) -> anyhow::Result<u8> {
    let cooperative = cooperative_arg(cooperative)?.map(|c| c.to_string());
    let inaproc = settings.inaproc.clone().ok_or(crate::catalog::inaproc::InaprocError::NotConfigured)?;
    with_store(settings, async |store| {
        let client = crate::catalog::inaproc::InaprocClient::with_store(&inaproc, store)?;
        let report = crate::publish::inaproc::sync_live(store, &client, cooperative.as_deref()).await?;
        println!("inaproc: {}", report.summary());
        Ok(if report.failed.is_empty() { EXIT_OK } else { EXIT_REJECTED_ROWS })
    })
    .await
}

/// `sync status`: the review of what was sent, per channel.
async fn status(cooperative: Option<String>, channel: Option<crate::publish::Channel>, settings: &Settings) -> anyhow::Result<u8> {
    let cooperative = cooperative_arg(cooperative)?.map(|c| c.to_string());
    let (client, problems) = crate::catalog::client::CatalogueClient::new(&settings.catalogue)?;
    for p in &problems {
        eprintln!("warning: {p}");
    }
    with_store(settings, async |store| {
        crate::app::runs::begin(store, &crate::app::Actor::operator(), crate::domain::job::Job::Status).await?;
        let options = crate::publish::status::StatusOptions::from_settings(&settings.listings);
        let mut code = EXIT_OK;
        for channel in crate::publish::channels_to_run(store, &client, cooperative.as_deref(), channel).await? {
            let report = crate::publish::status::sync_status(store, &client, channel, cooperative.as_deref(), &options).await?;
            println!("{}: {}", channel.name(), report.summary());
            if !report.failed.is_empty() {
                code = EXIT_REJECTED_ROWS;
            }
        }
        Ok(code)
    })
    .await
}

/// `sync orders`: from the catalogue's API or from INAPROC.
async fn orders(
    klpd: Vec<String>,
    tahun: Vec<i32>,
    full: bool,
    source: Option<super::SourceArg>,
    settings: &Settings,
    mappings: &MappingSource,
) -> anyhow::Result<u8> {
    let calendar = crate::mapping::working_calendar(mappings, settings.orders.cuti_bersama_is_working_day)?;
    let source = source.map_or(settings.orders.source, Into::into);
    let inaproc = match source {
        crate::config::OrderSource::Inaproc => Some(settings.inaproc.clone().ok_or(crate::catalog::inaproc::InaprocError::NotConfigured)?),
        crate::config::OrderSource::Catalogue => None,
    };
    let (client, problems) = crate::catalog::client::CatalogueClient::new(&settings.catalogue)?;
    if inaproc.is_none() {
        for p in &problems {
            eprintln!("warning: {p}");
        }
    }
    let options = crate::orders::SyncOptions {
        klpd: if klpd.is_empty() { settings.orders.klpd.clone() } else { klpd },
        years: match (tahun.is_empty(), settings.orders.tahun.is_empty()) {
            (false, _) => tahun,
            (true, false) => settings.orders.tahun.clone(),
            (true, true) => crate::orders::default_years(crate::domain::time::today()),
        },
        full,
        page: settings.orders.page_size.clamp(1, 1000),
        detail_batch: settings.orders.detail_batch.clamp(1, 1000),
        ..Default::default()
    };
    with_store(settings, async |store| {
        crate::app::runs::begin(store, &crate::app::Actor::operator(), crate::domain::job::Job::Orders).await?;
        let report = match &inaproc {
            Some(i) => crate::orders::inaproc::sync(store, &crate::catalog::inaproc::InaprocClient::with_store(i, store)?, &calendar, &options).await?,
            None => crate::orders::sync_orders(store, &client, &calendar, &options).await?,
        };
        println!("{}", report.summary());
        Ok(if report.complete() { EXIT_OK } else { EXIT_REJECTED_ROWS })
    })
    .await
}
