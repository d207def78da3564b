//! `cooperatives check` and `mappings categories refresh`: the liaison's
//! checks against INAPROC's records (read only).

use super::common::{cooperative_arg, with_store};
use super::{CategoriesCommand, CooperativesCommand, EXIT_OK, EXIT_REJECTED_ROWS};
use crate::catalog::inaproc::{InaprocClient, InaprocError};
use crate::config::Settings;
use crate::mapping::MappingSource;

fn inaproc(settings: &Settings) -> Result<&crate::config::InaprocSettings, InaprocError> {
    settings.inaproc.as_ref().ok_or(InaprocError::NotConfigured)
}

/// `cooperatives check [--cooperative CODE] [--json]`.
pub(super) async fn cooperatives(command: CooperativesCommand, settings: &Settings) -> anyhow::Result<u8> {
    let CooperativesCommand::Check { cooperative, json } = command;
    let cooperative = cooperative_arg(cooperative)?.map(|c| c.to_string());
    let inaproc = inaproc(settings)?;
    with_store(settings, async |store| {
        let client = InaprocClient::with_store(inaproc, store)?;
        let checks = crate::checks::check_sellers(store, &client, cooperative.as_deref()).await?;
        for c in &checks {
            if json {
                println!("{}", serde_json::to_string(c)?);
                continue;
            }
            let seller = c.kode_penyedia.as_deref().unwrap_or("-");
            match &c.inaproc {
                Some(d) => println!(
                    "{:<22} {:<12} {}  aktif: {}  UMKK: {}  KBLI: {} {}",
                    c.cooperative,
                    seller,
                    if c.ok() { "ok" } else { "DIFFERS" },
                    d.status_aktif.map_or("?", |a| if a { "ya" } else { "TIDAK" }),
                    d.status_umkk.as_deref().unwrap_or("-"),
                    d.kbli_id.as_deref().unwrap_or("-"),
                    d.kbli_name.as_deref().unwrap_or("")
                ),
                None => println!("{:<22} {:<12} NOT FOUND", c.cooperative, seller),
            }
            for p in &c.problems {
                println!("    - {p}");
            }
        }
        let bad = checks.iter().filter(|c| !c.ok()).count();
        eprintln!("{} cooperatives checked against INAPROC: {} as recorded, {bad} to look at", checks.len(), checks.len() - bad);
        Ok(if bad == 0 { EXIT_OK } else { EXIT_REJECTED_ROWS })
    })
    .await
}

/// `mappings categories refresh [--json]`: needs no database but the quota's.
pub(super) async fn categories(command: CategoriesCommand, settings: &Settings) -> anyhow::Result<u8> {
    let CategoriesCommand::Refresh { json } = command;
    let mappings = MappingSource::from_config(settings.mappings_dir.as_deref());
    let inaproc = inaproc(settings)?;
    with_store(settings, async |store| {
        let client = InaprocClient::with_store(inaproc, store)?;
        eprintln!("reading INAPROC's category tree (level 1, then each level 2 and 3)...");
        let report = crate::checks::refresh_categories(&client, &mappings).await?;
        if json {
            println!("{}", serde_json::to_string(&report)?);
        } else {
            for f in &report.findings {
                println!("{:<24} {:<8} {}  ({})", f.category, f.finding, f.detail, f.v6_category_id);
            }
        }
        eprintln!(
            "category tree: {} / {} / {} nodes; {} mapped categories: {} unchanged, {} renamed, {} gone",
            report.level_1,
            report.level_2,
            report.level_3,
            report.mapped,
            report.unchanged,
            report.findings.iter().filter(|f| f.finding == "renamed").count(),
            report.findings.iter().filter(|f| f.finding == "gone").count()
        );
        Ok(if report.findings.is_empty() { EXIT_OK } else { EXIT_REJECTED_ROWS })
    })
    .await
}
