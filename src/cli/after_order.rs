//! `orders show`, `orders record` and `report monthly`: what comes after the order.

use std::io::Write as _;

use anyhow::Context;

use super::common::{cooperative_arg, with_store};
use super::{EXIT_OK, ReportCommand};
use crate::config::Settings;
use crate::domain::fulfilment::Step;
use crate::domain::money::format_rupiah;
use crate::domain::order::OrderStatus;
use crate::domain::time::today;
use crate::mapping::MappingSource;
use crate::mapping::tax::TaxRules;
use crate::orders::export::ExportFormat;

fn tax_rules(settings: &Settings) -> anyhow::Result<TaxRules> {
    Ok(TaxRules::load(&MappingSource::from_config(settings.mappings_dir.as_deref()))?)
}

/// `orders show ORDER [--json]`.
pub(super) async fn show(order: String, json: bool, settings: &Settings) -> anyhow::Result<u8> {
    let rules = tax_rules(settings)?;
    with_store(settings, async |store| {
        let reading = crate::app::orders::Reading { store, tax: &rules, fulfilment: &settings.fulfilment, today: today() };
        let detail = crate::app::orders::detail(&reading, &crate::app::Actor::operator(), crate::app::orders::OrderRef::Remote(&order)).await?;
        let s = detail.standing.as_ref().with_context(|| format!("order {order} belongs to no registered cooperative"))?;
        let mut out = std::io::stdout().lock();
        if json {
            writeln!(out, "{}", as_json(s, &detail)?)?;
        } else {
            print_detail(&mut out, s, &detail, &rules)?;
        }
        Ok(EXIT_OK)
    })
    .await
}

/// `orders show --json`: the standing, with the order's date, lines, steps, notifications and history.
fn as_json(s: &crate::orders::fulfilment::Standing, d: &crate::app::orders::OrderDetail) -> serde_json::Result<serde_json::Value> {
    let mut v = serde_json::to_value(s)?;
    v["order_date"] = serde_json::json!(d.head.order_date.map(|d| d.to_rfc3339()));
    v["lines"] = serde_json::to_value(&d.lines)?;
    v["entries"] = serde_json::to_value(&d.entries)?;
    v["notifications"] = serde_json::to_value(&d.notices)?;
    v["history"] = serde_json::json!(
        d.history.iter().map(|(at, from, to, kind)| serde_json::json!({"at": at.to_rfc3339(), "from": from, "to": to, "kind": kind})).collect::<Vec<_>>()
    );
    Ok(v)
}

/// `orders show`: the order for a person, in Bahasa Indonesia.
fn print_detail(
    out: &mut impl std::io::Write,
    s: &crate::orders::fulfilment::Standing,
    d: &crate::app::orders::OrderDetail,
    rules: &TaxRules,
) -> std::io::Result<()> {
    let m = &s.money;
    writeln!(out, "Pesanan {} — {} ({})", s.order_id, d.head.cooperative_name, s.cooperative)?;
    writeln!(out, "Status: {}   Pembeli: {}", s.status, s.buyer.as_deref().unwrap_or("-"))?;
    if let Some(d) = d.head.order_date {
        writeln!(out, "Tanggal pesanan: {}", crate::domain::time::show(d))?;
    }
    writeln!(out, "\nBarang:")?;
    for l in &d.lines {
        writeln!(
            out,
            "  {:<40} {:>8} {:<10} {:>14} {:>15}",
            l.item.as_deref().unwrap_or("-").chars().take(40).collect::<String>(),
            l.quantity.map_or_else(|| "-".to_owned(), |q| q.normalize().to_string()),
            l.unit.as_deref().unwrap_or(""),
            l.unit_price.map_or_else(|| "-".to_owned(), format_rupiah),
            format_rupiah(l.line_total)
        )?;
    }
    writeln!(out, "\nUang (rupiah utuh; cara bayar: {}, pajak dipungut oleh {}):", rules.payment(m.payment).label, m.collector)?;
    for (label, value) in [
        ("Nilai barang sebelum PPN", m.goods_before_ppn),
        ("Dasar pengenaan PPN", m.ppn_base),
        ("PPN", m.ppn),
        ("PPh 22 dipungut", m.pph22),
        ("PNBP", m.pnbp),
        ("Ongkos kirim", m.shipping),
        ("Total pesanan", m.total),
        ("Diterima koperasi", m.net_to_cooperative),
        ("Belum dibayar", s.outstanding),
    ] {
        writeln!(out, "  {label:<26} {:>16}", format_rupiah(value))?;
    }
    if m.unknown_lines > 0 {
        writeln!(out, "  ({} baris tidak cocok dengan produk kita: dihitung sebagai barang kena PPN biasa)", m.unknown_lines)?;
    }
    writeln!(out, "  {}", s.withholds)?;
    for p in &s.route_problems {
        writeln!(out, "  PERHATIAN: {p}")?;
    }
    let shown = |d: &crate::domain::fulfilment::Done| {
        format!(
            "{}{}{}",
            d.on.map(|on| on.format("%d-%m-%Y").to_string()).unwrap_or_else(|| "ya".into()),
            d.number.as_deref().filter(|n| !n.is_empty()).map(|n| format!(", nomor {n}")).unwrap_or_default(),
            d.amount.map(|a| format!(", {}", format_rupiah(a))).unwrap_or_default()
        )
    };
    writeln!(out, "\nBerkas untuk pembayaran ({}):", rules.payment(m.payment).label)?;
    for p in &s.papers {
        let line = s.steps.get(&p.paper).map_or_else(|| "BELUM".to_owned(), |d| format!("lengkap {}", shown(d)));
        writeln!(out, "  {:<58} {line}", p.label)?;
    }
    writeln!(out, "\nSetelah pesanan:")?;
    for step in [Step::Shipped, Step::Delivered, Step::Paid] {
        writeln!(out, "  {:<18} {}", step.label(), s.steps.get(&step).map_or_else(|| "belum".to_owned(), shown))?;
    }
    if let Some(next) = &s.next_step {
        writeln!(out, "\nLangkah berikutnya: {next}")?;
    }
    for o in &s.overdue {
        writeln!(out, "  TERLAMBAT: {} (jatuh tempo {}, {} hari lalu)", o.step.label(), o.due.format("%d-%m-%Y"), o.days_late)?;
    }
    if !d.entries.is_empty() {
        writeln!(out, "\nCatatan:")?;
        for e in &d.entries {
            let kind = e.kind.label();
            writeln!(
                out,
                "  {} {:<12} {} {} {} oleh {}",
                crate::domain::time::show(e.recorded_at),
                kind,
                e.on_date.map(|d| d.format("%d-%m-%Y").to_string()).unwrap_or_default(),
                e.number.as_deref().or(e.detail.as_deref()).unwrap_or(""),
                e.amount.map(format_rupiah).unwrap_or_default(),
                e.recorded_by
            )?;
        }
    }
    print_notices_and_history(out, d)
}

/// The notifications sent about an order, and its status history.
fn print_notices_and_history(out: &mut impl std::io::Write, d: &crate::app::orders::OrderDetail) -> std::io::Result<()> {
    if !d.notices.is_empty() {
        writeln!(out, "\nPemberitahuan:")?;
        for n in &d.notices {
            let state = n.state.in_indonesian();
            writeln!(
                out,
                "  {:<14} {:<9} {:<28} {state}{}",
                n.kind,
                n.channel,
                n.recipient,
                n.last_error.as_deref().map(|e| format!(": {e}")).unwrap_or_default()
            )?;
        }
    }
    writeln!(out, "\nRiwayat status:")?;
    for (at, from, to, kind) in &d.history {
        writeln!(
            out,
            "  {}  {} -> {} ({kind})",
            crate::domain::time::show(*at),
            from.as_ref().map_or("-", OrderStatus::as_str),
            to.as_ref().map_or("-", OrderStatus::as_str)
        )?;
    }
    Ok(())
}

/// `orders record ORDER ...`: through the use case; its refusals are said
/// with the flag they concern (`--paid: ...`).
pub(super) async fn record(order: String, steps: crate::app::steps::Steps, by: Option<String>, settings: &Settings) -> anyhow::Result<u8> {
    use crate::app::steps::RecordError;
    let flagged = |e: RecordError| match e {
        RecordError::Invalid { field, why } => anyhow::anyhow!("--{}: {why}", field.replace('_', "-")),
        RecordError::Nothing => anyhow::anyhow!(
            "nothing to record: give --order-letter, --shipped, --delivered, --bast, --faktur, --invoice, --logistics-invoice, --ticket, --paid or --payment"
        ),
        RecordError::Route(why) => anyhow::anyhow!("--payment: {why}"),
        RecordError::NoOne => anyhow::anyhow!("say who records this with --by NAME (at most 100 characters)"),
        other => anyhow::Error::new(other),
    };
    // Checked before the store is opened: a wrong flag costs nothing.
    crate::app::steps::entries(&steps, today()).map_err(flagged)?;
    let by = super::common::who(by, "records this")?;
    let rules = tax_rules(settings)?;
    with_store(settings, async |store| {
        let recorded = crate::app::steps::record(
            store,
            &crate::app::Actor::operator(),
            crate::app::orders::OrderRef::Remote(&order),
            &steps,
            (&by, &rules.routes),
            today(),
        )
        .await
        .map_err(flagged)?;
        let kinds: Vec<&str> = recorded.iter().map(|s| s.label()).collect();
        println!("{order}: dicatat {} ({}) oleh {by}", kinds.join(", "), steps.on.unwrap_or_else(today).format("%d-%m-%Y"));
        Ok(EXIT_OK)
    })
    .await
}

/// `report monthly`.
pub(super) async fn report(command: ReportCommand, settings: &Settings) -> anyhow::Result<u8> {
    let ReportCommand::Monthly { month, cooperative, format, out } = command;
    let cooperative = cooperative_arg(cooperative)?.map(|c| c.to_string());
    let rules = tax_rules(settings)?;
    with_store(settings, async |store| {
        let (rows, count) = crate::orders::report::month(store, &rules, &settings.fulfilment, month, cooperative.as_deref()).await?;
        match (format, &out) {
            (ExportFormat::Csv, None) => crate::orders::report::write_csv(std::io::stdout().lock(), &rows)?,
            (ExportFormat::Csv, Some(path)) => {
                let file = std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
                crate::orders::report::write_csv(std::io::BufWriter::new(file), &rows)?;
            }
            (ExportFormat::Xlsx, out) => {
                let path = out.clone().unwrap_or_else(|| std::path::PathBuf::from(format!("laporan-{}.xlsx", month.label())));
                crate::orders::report::write_xlsx(&path, month, &rows).with_context(|| format!("cannot write {}", path.display()))?;
                eprintln!("written to {}", path.display());
            }
        }
        eprintln!("{count} orders in {}", month.label());
        Ok(EXIT_OK)
    })
    .await
}

/// Each order's money by its id, for the orders of `cooperative` (or all).
pub(super) async fn money_by_order(
    store: &crate::store::Store,
    settings: &Settings,
    cooperative: Option<&str>,
) -> anyhow::Result<std::collections::HashMap<String, crate::mapping::tax::Breakdown>> {
    Ok(crate::orders::fulfilment::money_by_order(store, &tax_rules(settings)?, &settings.fulfilment, cooperative).await?)
}

/// The orders of `cooperative` (or all) with a step past its due date, most overdue first.
pub(super) async fn overdue(
    store: &crate::store::Store,
    settings: &Settings,
    cooperative: Option<&str>,
) -> anyhow::Result<Vec<crate::orders::fulfilment::Standing>> {
    let rules = tax_rules(settings)?;
    Ok(crate::orders::fulfilment::overdue_orders(store, &rules, &settings.fulfilment, cooperative).await?)
}
