//! `demo`: the main job end to end on the fixtures and the mock catalogue,
//! in a sandbox (built with the `demo` feature, the default).

use anyhow::Context;

use super::EXIT_OK;
use super::common::with_store;
use super::daemon::daemon_parts;
use crate::config::Settings;
use crate::demo;
use crate::mapping::MappingSource;
use crate::mapping::units::UnitTable;
use crate::store::Store;

/// `demo`: the main job end to end on the fixtures, in a sandbox.
pub(super) async fn demo_command(fixtures: std::path::PathBuf, out: std::path::PathBuf, web: bool, settings: &Settings) -> anyhow::Result<u8> {
    let mappings = MappingSource::from_config(settings.mappings_dir.as_deref());
    // Found before anything is created, so a run from the wrong folder leaves nothing behind.
    let fixtures = demo::locate_fixtures(&fixtures)?;
    let units = UnitTable::load(&mappings)?;
    // A sandbox: the demo's own cluster in its own folder, made for this run and removed
    // after it, whatever DATABASE_URL and [database] say, so that it never touches real data.
    let sandbox = tempfile::Builder::new().prefix("katalog-bridge-demo-").tempdir().context("creating the demo's data folder")?;
    let mut demo_settings = settings.clone();
    demo_settings.database.url = None;
    demo_settings.database.data_dir = sandbox.path().to_owned();
    demo_settings.database.name = "katalog_bridge_demo".into();
    let settings = &demo_settings;
    with_store(settings, async |store| {
        let outcome = demo::run(store, &units, &mappings, &fixtures, &out, &settings.import, &settings.photo_base()).await?;
        for report in &outcome.imports {
            for line in report.reject_lines() {
                eprintln!("{line}");
            }
        }
        print!("{}", outcome.render());
        if web {
            demo_web(store, settings, &outcome).await?;
        } else {
            println!("\nDasbor / dashboard: `katalog-bridge demo --web` keeps it running on this data, with a liaison and a cooperative login.");
        }
        Ok(EXIT_OK)
    })
    .await
}

/// `demo --web`: the daemon, with its dashboard, on the demo's data and its
/// mock catalogue, until Ctrl-C; two accounts to log in with.
async fn demo_web(store: &Store, settings: &Settings, outcome: &demo::DemoOutcome) -> anyhow::Result<()> {
    let mut daemon_settings = settings.clone();
    daemon_settings.catalogue.base_url = outcome.catalogue.server.url();
    daemon_settings.catalogue.sellers = outcome.catalogue.sellers.clone();
    if daemon_settings.orders.klpd.is_empty() {
        daemon_settings.orders.klpd = vec!["D347".into()];
    }
    daemon_settings.web.enabled = true;
    // The demo's health listener takes any free port: a daemon running beside it keeps its own.
    daemon_settings.daemon.metrics_listen = "127.0.0.1:0".into();
    let parts = daemon_parts(&daemon_settings)?(store)?;
    // The cooperative login is for one with an order waiting (else with most orders), so there is something to do.
    let cooperative = crate::store::dashboard::busiest_cooperative(store).await?.unwrap_or_else(|| "MJK-BALONGSARI".into());
    let cooperative_user = cooperative.to_lowercase();
    let mut logins = Vec::new();
    for (name, role, cooperative) in [
        ("penghubung", crate::store::users::Role::Liaison, None),
        (cooperative_user.as_str(), crate::store::users::Role::Cooperative, Some(cooperative.as_str())),
    ] {
        let password = crate::web::auth::random_token().map_err(|e| anyhow::anyhow!("{e}"))?[..16].to_owned();
        crate::app::users::add(store, &crate::app::Actor::operator(), name, role, cooperative, &password).await?;
        logins.push((name, password, cooperative.unwrap_or("semua koperasi / every cooperative")));
    }
    let listen = &daemon_settings.daemon.listen;
    println!("\nDasbor / dashboard: http://{listen}/   (katalog tiruan / mock catalogue: {})", outcome.catalogue.server.url());
    for (name, password, scope) in &logins {
        println!("  masuk sebagai / log in as  {name:<16} kata sandi / password  {password}   ({scope})");
    }
    println!("Tekan Ctrl-C untuk berhenti / press Ctrl-C to stop.");
    crate::daemon::serve(store, parts).await?;
    Ok(())
}
