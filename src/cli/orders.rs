//! `orders ...`: the orders group of the command line.

use std::io::Write as _;

use anyhow::Context;

use super::common::{cooperative_arg, with_store};
use super::{EXIT_OK, EXIT_REJECTED_ROWS, OrdersCommand};
use crate::config::Settings;
use crate::mapping::MappingSource;

/// A deadline in WIB and what is left of it: `(2 working days 3 h left)`,
/// `(passed)` once it has, nothing when there is none.
fn deadline_and_left(
    deadline: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
    calendar: &crate::domain::calendar::WorkingCalendar,
) -> (String, String) {
    match deadline {
        Some(d) if d > now => {
            (crate::domain::time::show(d), format!("({} left)", crate::domain::calendar::show_working_time(calendar.working_time_left(now, d))))
        }
        Some(d) => (crate::domain::time::show(d), "(passed)".to_owned()),
        None => ("-".to_owned(), String::new()),
    }
}

/// `orders pending|list|show|record|respond|import-ubl|export`.
pub(super) async fn run(command: OrdersCommand, settings: &Settings) -> anyhow::Result<u8> {
    let mappings = MappingSource::from_config(settings.mappings_dir.as_deref());
    match command {
        OrdersCommand::Pending { cooperative } => pending(cooperative, settings, &mappings).await,
        OrdersCommand::ImportUbl { files } => import_ubl(&files, settings, &mappings).await,
        OrdersCommand::Export { cooperative, format, since, out } => export(cooperative, format, since, out, settings, &mappings).await,
        OrdersCommand::List { cooperative, status, json } => list(cooperative, status, json, settings).await,
        OrdersCommand::Show { order, json } => super::after_order::show(order, json, settings).await,
        OrdersCommand::Faktur { cooperative, month, out, by, json } => faktur(cooperative, month, out, by, json, settings, &mappings).await,
        OrdersCommand::FakturNumbers { file, cooperative, by, json } => faktur_numbers(&file, cooperative, by, json, settings, &mappings).await,
        OrdersCommand::Record { order, date, order_letter, shipped, delivered, bast, faktur, invoice, logistics_invoice, ticket, paid, payment, by } => {
            let steps =
                crate::app::steps::Steps { on: date, order_letter, shipped, delivered, bast, faktur, invoice, logistics_invoice, ticket, paid, payment };
            super::after_order::record(order, steps, by, settings).await
        }
        OrdersCommand::Respond { order, accept, reject: _, reason, ubl } => respond(settings, &order, accept, reason, ubl).await,
    }
}

/// `orders pending`: what waits for the seller, for the buyer's PPK, and what is overdue after the order.
async fn pending(cooperative: Option<String>, settings: &Settings, mappings: &MappingSource) -> anyhow::Result<u8> {
    let cooperative = cooperative_arg(cooperative)?.map(|c| c.to_string());
    let calendar = crate::mapping::working_calendar(mappings, settings.orders.cuti_bersama_is_working_day)?;
    crate::orders::warn_of_calendar_gap(&calendar);
    with_store(settings, async |store| {
        let orders = crate::store::orders::list(store, cooperative.as_deref(), None, true).await?;
        let ids: Vec<i64> = orders.iter().map(|o| o.id).collect();
        let short = crate::store::stock::short(store, &ids).await?;
        let now = chrono::Utc::now();
        let mut out = std::io::stdout().lock();
        for o in &orders {
            let (deadline, left) = deadline_and_left(o.deadline, now, &calendar);
            let answer = o.response.as_deref().map(|r| format!("  [answer {r}]")).unwrap_or_default();
            writeln!(
                out,
                "{:<16} {:<20} {:<40} {:>15}  due {deadline} {left}  {}{answer}",
                o.order_id,
                o.cooperative,
                o.buyer.as_deref().unwrap_or("-").chars().take(40).collect::<String>(),
                crate::domain::money::format_rupiah(o.total),
                o.items.as_deref().unwrap_or("(lines not fetched yet)"),
            )?;
            for s in short.iter().filter(|s| s.order_id == o.id) {
                writeln!(out, "{:<16} ! stok kurang: {} dipesan {}, stok {}", "", s.name, s.asked, s.stock)?;
            }
        }
        eprintln!("{} orders waiting for confirmation", orders.len());
        if settings.orders.source == crate::config::OrderSource::Inaproc && !orders.is_empty() {
            writeln!(
                out,
                "\nKonfirmasi setiap pesanan di portal e-Katalog sebelum batasnya: tanda tangani surat pesanan dengan PrivyID (OTP). \
                 Tidak ada program yang dapat melakukannya untuk koperasi; orders respond tidak berlaku untuk INAPROC."
            )?;
        }
        let ppk = crate::store::orders::list(store, cooperative.as_deref(), Some("WAITING_PPK_REVIEW"), false).await?;
        if !ppk.is_empty() {
            writeln!(out, "\nMenunggu persetujuan PPK pembeli (hubungi satuan kerjanya sebelum batas PPK, atau pesanan batal otomatis):")?;
            for o in &ppk {
                let (deadline, left) = deadline_and_left(o.ppk_deadline, now, &calendar);
                writeln!(
                    out,
                    "{:<16} {:<20} {:<40} {:>15}  PPK due {deadline} {left}",
                    o.order_id,
                    o.cooperative,
                    o.buyer.as_deref().unwrap_or("-").chars().take(40).collect::<String>(),
                    crate::domain::money::format_rupiah(o.total),
                )?;
            }
            eprintln!("{} orders waiting for the buyer's PPK", ppk.len());
        }
        let overdue = super::after_order::overdue(store, settings, cooperative.as_deref()).await?;
        if !overdue.is_empty() {
            writeln!(out, "\nTerlambat setelah pesanan (overdue after the order):")?;
            for s in &overdue {
                for o in &s.overdue {
                    writeln!(
                        out,
                        "{:<16} {:<20} {:<16} jatuh tempo {} ({} hari lalu)  belum dibayar {}",
                        s.order_id,
                        s.cooperative,
                        o.step.label(),
                        o.due.format("%d-%m-%Y"),
                        o.days_late,
                        crate::domain::money::format_rupiah(s.outstanding)
                    )?;
                }
            }
            eprintln!("{} orders with overdue steps after the order", overdue.len());
        }
        Ok(EXIT_OK)
    })
    .await
}

/// `orders import-ubl`.
async fn import_ubl(files: &[std::path::PathBuf], settings: &Settings, mappings: &MappingSource) -> anyhow::Result<u8> {
    let calendar = crate::mapping::working_calendar(mappings, settings.orders.cuti_bersama_is_working_day)?;
    with_store(settings, async |store| {
        let results = crate::orders::import::import_ubl(store, &calendar, files).await?;
        let mut worst = EXIT_OK;
        for r in &results {
            match &r.result {
                Ok((id, c)) => println!(
                    "{}: order {id} stored with {} lines{}",
                    r.file.display(),
                    c.lines,
                    if c.mismatched > 0 { " (its lines do not add up to its line total: flagged)" } else { "" }
                ),
                Err(why) => {
                    eprintln!("{}: not imported: {why}", r.file.display());
                    worst = EXIT_REJECTED_ROWS;
                }
            }
        }
        Ok(worst)
    })
    .await
}

/// `orders export`.
async fn export(
    cooperative: String,
    format: crate::orders::export::ExportFormat,
    since: Option<chrono::NaiveDate>,
    out: Option<std::path::PathBuf>,
    settings: &Settings,
    mappings: &MappingSource,
) -> anyhow::Result<u8> {
    let cooperative = cooperative_arg(Some(cooperative))?.map(|c| c.to_string()).unwrap_or_default();
    with_store(settings, async |store| {
        if !crate::store::products::cooperative_ids(store).await?.contains_key(&cooperative) {
            anyhow::bail!("cooperative {cooperative} is not registered: check the code");
        }
        let rules = crate::mapping::tax::TaxRules::load(mappings)?;
        let rows = crate::orders::export::rows(store, &rules, &settings.fulfilment, &cooperative, since).await?;
        match (format, &out) {
            (crate::orders::export::ExportFormat::Csv, None) => crate::orders::export::write_csv(std::io::stdout().lock(), &rows)?,
            (crate::orders::export::ExportFormat::Csv, Some(path)) => {
                let file = std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
                crate::orders::export::write_csv(std::io::BufWriter::new(file), &rows)?;
            }
            (crate::orders::export::ExportFormat::Xlsx, out) => {
                let path = out.clone().unwrap_or_else(|| std::path::PathBuf::from(format!("orders-{cooperative}.xlsx")));
                crate::orders::export::write_xlsx(&path, &rows).with_context(|| format!("cannot write {}", path.display()))?;
                eprintln!("written to {}", path.display());
            }
        }
        eprintln!("{} order lines", rows.len());
        Ok(EXIT_OK)
    })
    .await
}

/// `orders list`.
async fn list(cooperative: Option<String>, status: Option<String>, json: bool, settings: &Settings) -> anyhow::Result<u8> {
    let cooperative = cooperative_arg(cooperative)?.map(|c| c.to_string());
    with_store(settings, async |store| {
        let orders = crate::store::orders::list(store, cooperative.as_deref(), status.as_deref(), false).await?;
        let money = if json { super::after_order::money_by_order(store, settings, cooperative.as_deref()).await? } else { Default::default() };
        let mut out = std::io::stdout().lock();
        for o in &orders {
            if json {
                let mut v = serde_json::to_value(o).unwrap_or_default();
                v["deadline"] = serde_json::json!(o.deadline.map(|d| d.to_rfc3339()));
                if let (Some(m), Some(fields)) = (money.get(&o.order_id), v.as_object_mut())
                    && let serde_json::Value::Object(m) = serde_json::to_value(m)?
                {
                    fields.extend(m);
                }
                writeln!(out, "{v}")?;
            } else {
                let flags = [(o.amount_mismatch, " [amounts differ]"), (o.unrouted_lines > 0, " [lines match no listing]")]
                    .iter()
                    .filter(|(on, _)| *on)
                    .map(|(_, t)| *t)
                    .collect::<String>();
                writeln!(
                    out,
                    "{:<16} {:<20} {:<28} {:>15} {:>3} lines{flags}",
                    o.order_id,
                    o.cooperative,
                    o.status,
                    crate::domain::money::format_rupiah(o.total),
                    o.lines
                )?;
            }
        }
        if !json {
            eprintln!("{} orders", orders.len());
        }
        Ok(EXIT_OK)
    })
    .await
}

/// `orders respond`: through the same use case as the page's buttons.
async fn respond(settings: &Settings, order: &str, accept: bool, reason: Option<String>, ubl: bool) -> anyhow::Result<u8> {
    use crate::app::orders::{Answered, Answering, Decision, OrderRef};
    let (client, problems) = crate::catalog::client::CatalogueClient::new(&settings.catalogue)?;
    for p in &problems {
        eprintln!("warning: {p}");
    }
    with_store(settings, async |store| {
        let sender = format!("{}:respond", crate::store::runs::instance_name());
        let ctx = Answering { store, client: Some(&client), in_portal: settings.orders.source == crate::config::OrderSource::Inaproc, ubl, sender: &sender };
        let decision = if accept { Decision::Accept } else { Decision::Reject(reason.unwrap_or_default()) };
        let outcome = crate::app::orders::answer(&ctx, &crate::app::Actor::operator(), OrderRef::Remote(order), &decision).await?;
        Ok(match outcome.answered {
            Answered::Sent { status: Some(status) } => {
                println!("{order}: answer sent; the order is now {status}");
                EXIT_OK
            }
            Answered::Sent { status: None } => {
                println!("{order}: answer sent");
                EXIT_OK
            }
            Answered::AlreadySent => {
                println!("{order}: this answer was sent before");
                EXIT_OK
            }
            Answered::Refused { why } => {
                eprintln!("refused: {order}: {why}");
                EXIT_REJECTED_ROWS
            }
            Answered::Later { why } => {
                eprintln!("not sent yet (kept, sent again by the next orders respond or sync orders): {order}: {why}");
                EXIT_REJECTED_ROWS
            }
        })
    })
    .await
}

/// The rules the tax invoices are written and read by.
fn invoicing_rules(mappings: &MappingSource) -> anyhow::Result<(crate::mapping::tax::TaxRules, crate::mapping::coretax::Coretax)> {
    Ok((crate::mapping::tax::TaxRules::load(mappings)?, crate::mapping::coretax::Coretax::load(mappings)?))
}

fn invoicing<'a>(
    store: &'a crate::store::Store,
    (tax, coretax): (&'a crate::mapping::tax::TaxRules, &'a crate::mapping::coretax::Coretax),
    settings: &'a Settings,
) -> crate::app::faktur::Invoicing<'a> {
    crate::app::faktur::Invoicing { store, tax, coretax, fulfilment: &settings.fulfilment, today: crate::domain::time::today() }
}

/// Exit status of a reading of Coretax's list that left rows unread.
const EXIT_SOME_LEFT: u8 = 2;

/// `orders faktur-numbers`: the numbers of the issued tax invoices, from Coretax's list.
async fn faktur_numbers(
    file: &std::path::Path,
    cooperative: String,
    by: Option<String>,
    json: bool,
    settings: &Settings,
    mappings: &MappingSource,
) -> anyhow::Result<u8> {
    let (tax, coretax) = invoicing_rules(mappings)?;
    let by = super::common::who(by, "does this")?;
    with_store(settings, async |store| {
        let done = crate::app::faktur::numbers(
            &invoicing(store, (&tax, &coretax), settings),
            &crate::app::Actor::operator(),
            Some(&cooperative),
            (file, &settings.import),
            &by,
        )
        .await?;
        if json {
            println!("{}", serde_json::to_string_pretty(&done)?);
        } else {
            println!(
                "{}: {} faktur dibaca; {} nomor dicatat, {} sudah tercatat, {} belum terbit, {} baris bermasalah",
                done.cooperative,
                done.rows,
                done.recorded.len(),
                done.already,
                done.not_issued.len(),
                done.problems.len()
            );
            for (line, order, number) in &done.recorded {
                println!("  baris {line}: faktur {number} untuk pesanan {order}");
            }
            for (line, order, status) in &done.not_issued {
                println!("  baris {line}: faktur pesanan {order} berstatus {status:?}, belum terbit: tidak dicatat");
            }
            for p in &done.problems {
                eprintln!("  baris {}, kolom {}: {}", p.line, p.column, p.why);
            }
        }
        Ok(if done.problems.is_empty() { EXIT_OK } else { EXIT_SOME_LEFT })
    })
    .await
}

/// `orders faktur`: a month's tax invoices for Coretax.
async fn faktur(
    cooperative: String,
    month: crate::orders::report::Month,
    out: std::path::PathBuf,
    by: Option<String>,
    json: bool,
    settings: &Settings,
    mappings: &MappingSource,
) -> anyhow::Result<u8> {
    let (tax, coretax) = invoicing_rules(mappings)?;
    let by = super::common::who(by, "writes it")?;
    with_store(settings, async |store| {
        let written = crate::app::faktur::write(&invoicing(store, (&tax, &coretax), settings), &crate::app::Actor::operator(), Some(&cooperative), month, &out, &by).await?;
        if json {
            println!("{}", serde_json::to_string_pretty(&written)?);
        } else if written.invoices == 0 {
            println!("{}: tidak ada pesanan {} yang perlu faktur dan belum ditulis; tidak ada berkas ditulis", written.cooperative, month.label());
        } else {
            println!(
                "{}: {} faktur untuk {} pesanan ditulis ke {}; impor berkas ini di Coretax, lalu catat nomornya dari daftar Pajak Keluaran Coretax (orders faktur-numbers DAFTAR.xlsx --cooperative KODE)",
                written.cooperative,
                written.invoices,
                written.orders.len(),
                out.display()
            );
        }
        if written.left_over > 0 {
            println!("{} pesanan lagi melebihi batas satu berkas: jalankan perintah ini sekali lagi untuk berkas berikutnya", written.left_over);
        }
        Ok(EXIT_OK)
    })
    .await
}
