//! `daemon`: the jobs on their schedules, and what the daemon is built from
//! (the demo's `--web` builds it too).

use super::EXIT_OK;
use super::common::with_store;
use crate::config::Settings;
use crate::mapping::MappingSource;
use crate::mapping::plan::Tables;
use crate::mapping::units::UnitTable;
use crate::store::Store;

/// `daemon`: the jobs on their schedules, with health, readiness and metrics.
pub(super) async fn daemon(settings: &Settings) -> anyhow::Result<u8> {
    let build = daemon_parts(settings)?;
    with_store(settings, async |store| {
        crate::daemon::serve(store, build(store)?).await?;
        Ok(EXIT_OK)
    })
    .await
}

/// What the daemon runs on, read from `settings` before the store opens (so
/// a wrong setting is said before anything starts); the returned function
/// completes it with the store.
pub(super) fn daemon_parts(settings: &Settings) -> anyhow::Result<impl FnOnce(&Store) -> anyhow::Result<crate::daemon::Parts> + use<'_>> {
    let mappings = MappingSource::from_config(settings.mappings_dir.as_deref());
    let tz = settings.daemon.tz().map_err(anyhow::Error::msg)?;
    let schedules = crate::daemon::schedule::from_settings(&settings.daemon.schedules).map_err(anyhow::Error::msg)?;
    let tables = Tables::load(&mappings)?;
    let plan = std::sync::Arc::new(crate::publish::Channel::Api.format().plan(&mappings, &tables)?);
    let peppol_plan = std::sync::Arc::new(crate::publish::Channel::Peppol.format().plan(&mappings, &tables)?);
    let calendar = std::sync::Arc::new(crate::mapping::working_calendar(&mappings, settings.orders.cuti_bersama_is_working_day)?);
    crate::orders::warn_of_calendar_gap(&calendar);
    let (client, problems) = crate::catalog::client::CatalogueClient::new(&settings.catalogue)?;
    for p in &problems {
        eprintln!("warning: {p}");
    }
    let orders_from_inaproc = settings.orders.source == crate::config::OrderSource::Inaproc;
    let notify = crate::notify::Notifier::from_settings(&settings.notify, calendar.clone())?
        .map(|n| std::sync::Arc::new(n.with_overdue(tables.tax.clone(), settings.fulfilment.clone()).confirming_in_portal(orders_from_inaproc)));
    if notify.is_none() {
        tracing::warn!("no [notify] webhook_url or smtp_url: cooperatives are not told when orders arrive");
    }
    if settings.orders.klpd.is_empty() {
        tracing::warn!("no [orders] klpd: the orders job has no buyer to read and fails until one is set");
    }
    let lease = std::time::Duration::from_secs(settings.daemon.lease_seconds.clamp(5, 86_400));
    if orders_from_inaproc && settings.inaproc.is_none() {
        return Err(crate::catalog::inaproc::InaprocError::NotConfigured.into());
    }
    let inaproc = settings.inaproc.clone();
    let units = std::sync::Arc::new(UnitTable::load(&mappings)?);
    let rup = std::sync::Arc::new((crate::mapping::rup_keywords::Keywords::load(&mappings)?, settings.rup.clone()));
    Ok(move |store: &Store| {
        Ok(crate::daemon::Parts {
            tz,
            schedules,
            jobs: crate::jobs::RealJobs {
                store: store.handle(),
                client,
                inaproc: inaproc.as_ref().map(|i| crate::catalog::inaproc::InaprocClient::with_store(i, store)).transpose()?,
                orders_from_inaproc,
                plan,
                peppol_plan,
                calendar,
                klpd: settings.orders.klpd.clone(),
                years: settings.orders.tahun.clone(),
                lease,
                batch: settings.daemon.claim_batch.clamp(1, 1000),
                notify,
                status: crate::publish::status::StatusOptions::from_settings(&settings.listings),
                photo_base: settings.photo_base(),
                rup,
            },
            listen: settings.daemon.listen.clone(),
            metrics_listen: settings.daemon.metrics_listen.clone(),
            max_connections: settings.daemon.max_connections,
            max_connections_per_address: settings.daemon.max_connections_per_address,
            help_every: std::time::Duration::from_secs(settings.daemon.help_every_seconds.clamp(1, 3600)),
            notify_every: std::time::Duration::from_secs(settings.daemon.notify_every_seconds.clamp(1, 86_400)),
            tax: tables.tax.clone(),
            fulfilment: settings.fulfilment.clone(),
            web: settings.web.enabled.then(|| crate::daemon::WebParts {
                settings: settings.web.clone(),
                units: units.clone(),
                import: settings.import.clone(),
                mappings: mappings.clone(),
                orders_from_inaproc,
                photo_base: settings.photo_base(),
                photos: settings.photos.clone(),
            }),
        })
    })
}
