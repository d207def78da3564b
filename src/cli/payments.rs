//! `payments import|list|assign`: payments from the bank on the command
//! line, through the same use cases as the "Pembayaran" page (`app::payments`).

use super::common::with_store;
use super::{EXIT_OK, PaymentsCommand};
use crate::app::Actor;
use crate::app::payments::Paying;
use crate::config::Settings;
use crate::domain::money::format_rupiah;
use crate::mapping::MappingSource;
use crate::mapping::tax::TaxRules;

/// Exit status of an import that left credits for the staff, or rows it could not read.
const EXIT_SOME_LEFT: u8 = 2;

pub(super) async fn run(command: PaymentsCommand, settings: &Settings) -> anyhow::Result<u8> {
    let mappings = MappingSource::from_config(settings.mappings_dir.as_deref());
    let tax = TaxRules::load(&mappings)?;
    let today = crate::domain::time::today();
    match command {
        PaymentsCommand::Import { file, cooperative, bank, by, json } => {
            let by = super::common::who(by, "does this")?;
            with_store(settings, async |store| {
                let ctx = Paying { store, tax: &tax, fulfilment: &settings.fulfilment, import: &settings.import, today };
                let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let report =
                    crate::app::payments::import(&ctx, &Actor::operator(), (&file, &name), (Some(&cooperative), bank.as_deref()), &by, &mappings).await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&report)?);
                } else {
                    println!(
                        "{}: {} kredit ({} sudah diimpor sebelumnya); {} cocok dan dicatat lunas, {} lebih dari satu pesanan cocok, {} tidak cocok; {} baris tanpa kredit",
                        report.cooperative,
                        report.credits,
                        report.already,
                        report.matched.len(),
                        report.ambiguous,
                        report.unmatched,
                        report.passed_over
                    );
                    for (line, order, amount) in &report.matched {
                        println!("  baris {line}: {} untuk pesanan {order}", format_rupiah(*amount));
                    }
                    for p in &report.problems {
                        eprintln!("  baris {}, kolom {}: {}", p.line, p.column, p.why);
                    }
                    if report.ambiguous + report.unmatched > 0 {
                        println!("Tetapkan kredit yang tersisa: katalog-bridge payments list --open, lalu payments assign KREDIT PESANAN");
                    }
                }
                Ok(if report.ambiguous + report.unmatched + report.problems.len() > 0 { EXIT_SOME_LEFT } else { EXIT_OK })
            })
            .await
        }
        PaymentsCommand::List { cooperative, open, json } => {
            with_store(settings, async |store| {
                let credits = crate::app::payments::list(store, &Actor::operator(), cooperative.as_deref(), open, 10_000).await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&credits)?);
                    return Ok(EXIT_OK);
                }
                for c in &credits {
                    let what = match (&c.order, c.candidates.is_empty()) {
                        (Some(order), _) => format!("pesanan {order}"),
                        (None, false) => format!("cocok: {}", c.candidates.join(", ")),
                        (None, true) => c.why.clone().unwrap_or_default(),
                    };
                    println!(
                        "{:>6}  {}  {}  {:>14}  {}  [{}] {}",
                        c.id,
                        c.cooperative,
                        c.booked_on,
                        format_rupiah(c.amount),
                        c.description,
                        c.state.label(),
                        what
                    );
                }
                println!("{} kredit", credits.len());
                Ok(EXIT_OK)
            })
            .await
        }
        PaymentsCommand::Assign { credit, order, by } => {
            let by = super::common::who(by, "does this")?;
            with_store(settings, async |store| {
                let ctx = Paying { store, tax: &tax, fulfilment: &settings.fulfilment, import: &settings.import, today };
                let order = crate::app::payments::assign(&ctx, &Actor::operator(), credit, &order, &by).await?;
                println!("kredit {credit} dicatat sebagai pembayaran pesanan {order} oleh {by}");
                Ok(EXIT_OK)
            })
            .await
        }
    }
}
