//! `rup list|report`: the city's purchase plan on the command line, through
//! the same use cases as the pages (`app::rup`).

use anyhow::Context;

use super::common::with_store;
use super::{EXIT_OK, RupCommand};
use crate::app::Actor;
use crate::config::Settings;
use crate::domain::money::format_rupiah;

pub(super) async fn run(command: RupCommand, settings: &Settings) -> anyhow::Result<u8> {
    match command {
        RupCommand::List { cooperative, month, tahun, open, on, json } => {
            let month = month
                .map(|m| chrono::NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").with_context(|| format!("--month {m:?} is not YYYY-MM")))
                .transpose()?;
            let today = on.unwrap_or_else(crate::domain::time::today);
            let ask = crate::app::rup::Ask { tahun, cooperative, month, ..Default::default() };
            with_store(settings, async |store| {
                let mut packages = crate::app::rup::list(store, &Actor::operator(), &ask, today).await?;
                if open {
                    packages.retain(|p| p.open);
                }
                if json {
                    println!("{}", serde_json::to_string_pretty(&packages)?);
                    return Ok(EXIT_OK);
                }
                for p in &packages {
                    let pk = &p.package;
                    let when = pk.tgl_awal_pemilihan.map_or("-".to_owned(), |d| d.to_string());
                    let state = if p.withdrawn {
                        "ditarik"
                    } else if p.open {
                        "peluang terbuka"
                    } else {
                        p.outcome.in_indonesian()
                    };
                    println!("{}  {when}  {}  {}  [{}]", pk.kd_rup, format_rupiah(pk.pagu), pk.nama_paket, state);
                    for m in &p.matches {
                        let ready = m.products.iter().filter(|x| x.ready()).count();
                        println!("    {} ({}): {} produk cocok, {ready} siap", m.cooperative, m.categories.join(", "), m.products.len());
                    }
                }
                println!("{} paket", packages.len());
                Ok(EXIT_OK)
            })
            .await
        }
        RupCommand::Report { tahun, cooperative, json } => {
            let tahun = tahun.unwrap_or_else(|| chrono::Datelike::year(&crate::domain::time::today()));
            with_store(settings, async |store| {
                let report = crate::app::rup::report(store, &Actor::operator(), tahun, cooperative.as_deref(), true).await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&report)?);
                    return Ok(EXIT_OK);
                }
                let share = |s: Option<rust_decimal::Decimal>| s.map_or("-".to_owned(), |s| format!("{s} %"));
                println!("Rencana belanja {tahun}: {} paket dibaca, {} cocok dengan produk koperasi", report.packages_read, report.packages_matched);
                let c = &report.city;
                println!(
                    "Kota: pagu cocok {}, dimenangkan {}, dibeli dari penyedia lain {}, porsi koperasi {} (sasaran {} %)",
                    format_rupiah(c.matched_budget),
                    format_rupiah(c.won),
                    format_rupiah(c.lost),
                    share(c.share_won_percent),
                    report.target_percent
                );
                for (title, lines) in [("Per koperasi", &report.cooperatives), ("Per satuan kerja", &report.work_units)] {
                    println!("\n{title}:");
                    for l in lines {
                        println!(
                            "  {:<40} {:>4} paket  pagu {:>16}  menang {:>14}  kalah {:>14}  porsi {}",
                            l.name,
                            l.packages,
                            format_rupiah(l.matched_budget),
                            format_rupiah(l.won),
                            format_rupiah(l.lost),
                            share(l.share_won_percent)
                        );
                    }
                }
                Ok(EXIT_OK)
            })
            .await
        }
    }
}
