//! Tax invoices for Coretax: a PKP cooperative's month of orders whose route
//! has the cooperative issue its own faktur (`payment.toml`), not yet in a
//! file, as one bulk import file (root `TaxInvoiceBulk`, at most
//! `max_invoices_per_file` invoices). An order with taxed and exempt lines
//! gives one invoice per transaction code. Every amount is the order's own
//! breakdown shared out over its lines (`TaxRules::invoice_lines`), written
//! as decimal text, never through a float. Each TIN and IDTKU is checked
//! before anything is written, and every problem is named.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::domain::fulfilment::{PaymentWay, Step};
use crate::mapping::coretax::{self, Code, Coretax};
use crate::mapping::tax::{LineTax, TaxRules};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum FakturError {
    #[error("no cooperative {0}")]
    UnknownCooperative(String),
    #[error("{0} is not PKP (not registered for VAT): it issues no tax invoice; its orders carry no PPN")]
    NotPkp(String),
    #[error("nothing written; fix these first:\n  - {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  - "))]
    Problems(Vec<Problem>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl FakturError {
    /// In Bahasa Indonesia, for the page.
    pub fn in_indonesian(&self) -> String {
        match self {
            Self::UnknownCooperative(code) => format!("tidak ada koperasi {code}"),
            Self::NotPkp(code) => format!("{code} bukan PKP (tidak terdaftar untuk PPN): koperasi ini tidak menerbitkan faktur pajak; pesanannya tanpa PPN"),
            Self::Problems(p) => {
                format!("tidak ada yang ditulis; perbaiki dulu:\n  - {}", p.iter().map(Problem::in_indonesian).collect::<Vec<_>>().join("\n  - "))
            }
            Self::Store(e) => e.to_string(),
        }
    }
}

/// What stops a month's file, with where to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("{code}: no NPWP (the cooperatives sheet, column npwp)")]
    NoNpwp { code: String },
    #[error("{code}: its NPWP {why} (the cooperatives sheet, column npwp)")]
    Npwp { code: String, why: coretax::IdProblem },
    #[error("{code}: its IDTKU {why} (the cooperatives sheet, column idtku)")]
    Idtku { code: String, why: coretax::IdProblem },
    #[error("order {order}: the work unit {unit} ({name}) has no TIN in {}: add its kode_satker, npwp and idtku", coretax::BUYERS_FILE)]
    NoBuyer { order: String, unit: String, name: String },
    #[error("order {order}: the work unit {unit} ({name}): {why}")]
    Buyer { order: String, unit: String, name: String, why: coretax::IdProblem },
    #[error("order {order}, line {line}: the unit {unit:?} has no Coretax unit code in {} [units]", coretax::CORETAX_FILE)]
    NoUnitCode { order: String, line: usize, unit: String },
}

impl Problem {
    pub fn in_indonesian(&self) -> String {
        match self {
            Self::NoNpwp { code } => format!("{code}: NPWP belum ada (lembar koperasi, kolom npwp)"),
            Self::Npwp { code, why } => format!("{code}: NPWP {} (lembar koperasi, kolom npwp)", why.in_indonesian()),
            Self::Idtku { code, why } => format!("{code}: IDTKU {} (lembar koperasi, kolom idtku)", why.in_indonesian()),
            Self::NoBuyer { order, unit, name } => {
                format!("pesanan {order}: satuan kerja {unit} ({name}) belum punya NPWP di {}: tambahkan kode_satker, npwp dan idtku-nya", coretax::BUYERS_FILE)
            }
            Self::Buyer { order, unit, name, why } => format!("pesanan {order}: satuan kerja {unit} ({name}): {}", why.in_indonesian()),
            Self::NoUnitCode { order, line, unit } => {
                format!("pesanan {order}, baris {line}: satuan {unit:?} belum punya kode satuan Coretax di {} [units]", coretax::CORETAX_FILE)
            }
        }
    }
}

/// A line of a tax invoice.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub name: String,
    pub goods_code: String,
    pub unit_code: String,
    pub price: Decimal,
    pub quantity: Decimal,
    pub base: Decimal,
    pub other_base: Decimal,
    pub vat: Decimal,
}

/// One tax invoice: an order's lines of one transaction code.
#[derive(Debug, Clone)]
pub struct Invoice {
    pub order_db_id: i64,
    pub order_id: String,
    pub date: NaiveDate,
    pub code: Code,
    pub buyer: coretax::Buyer,
    pub lines: Vec<Line>,
}

/// What is to be written for a cooperative's month.
#[derive(Debug)]
pub struct Prepared {
    pub cooperative_id: i64,
    pub seller_tin: String,
    /// The cooperative's IDTKU: as the cooperatives sheet gives it, else its head office's.
    pub seller_idtku: String,
    pub invoices: Vec<Invoice>,
    /// Orders left for the next file (over the file's limit).
    pub left_over: usize,
}

/// The invoices of `code`'s orders made in `month` that its route has it
/// invoice itself and that no file holds yet.
pub async fn prepare(
    store: &Store,
    (rules, coretax, settings): (&TaxRules, &Coretax, &crate::config::FulfilmentSettings),
    code: &str,
    (month, today): (super::report::Month, NaiveDate),
) -> Result<Prepared, FakturError> {
    let Some((cooperative_id, npwp, pkp, idtku)) = crate::store::orders::cooperative_tax(store, code).await? else {
        return Err(FakturError::UnknownCooperative(code.to_owned()));
    };
    if !pkp {
        return Err(FakturError::NotPkp(code.to_owned()));
    }
    let mut problems = Vec::new();
    let seller_tin = match npwp.as_deref().map(coretax::tin) {
        Some(Ok(t)) => t,
        Some(Err(why)) => {
            problems.push(Problem::Npwp { code: code.to_owned(), why });
            String::new()
        }
        None => {
            problems.push(Problem::NoNpwp { code: code.to_owned() });
            String::new()
        }
    };
    let seller_idtku = match idtku {
        None => format!("{seller_tin}000000"),
        Some(given) => coretax::idtku(&given, &seller_tin).unwrap_or_else(|why| {
            problems.push(Problem::Idtku { code: code.to_owned(), why });
            String::new()
        }),
    };
    let filter = crate::store::orders::FactsFilter { cooperative: Some(code), made: Some(month.bounds()), live_only: true, ..Default::default() };
    let facts = crate::store::orders::facts(store, &filter).await?;
    let wanted: Vec<&crate::store::orders::OrderFacts> = facts
        .iter()
        .filter(|f| {
            let way = PaymentWay::of_order(f.payment_way, &f.status, settings.payment);
            rules.routes.papers_for(way, f.pkp, f.shipping > Decimal::ZERO).iter().any(|p| p.step == Step::Faktur)
        })
        .collect();
    let done = crate::store::orders::invoiced(store, &wanted.iter().map(|f| f.id).collect::<Vec<_>>()).await?;
    let mut invoices = Vec::new();
    let mut orders = 0usize;
    let mut left_over = 0usize;
    for f in wanted.into_iter().filter(|f| !done.contains(&f.id)) {
        let of_order = invoices_of(store, (rules, coretax), f, today, &mut problems).await?;
        if invoices.len() + of_order.len() > coretax.max_invoices_per_file {
            left_over += 1;
            continue;
        }
        orders += usize::from(!of_order.is_empty());
        invoices.extend(of_order);
    }
    if !problems.is_empty() {
        return Err(FakturError::Problems(problems));
    }
    tracing::debug!(orders, invoices = invoices.len(), "tax invoices prepared");
    Ok(Prepared { cooperative_id, seller_tin, seller_idtku, invoices, left_over })
}

/// An order's invoices, one per transaction code; problems are added to `problems`.
async fn invoices_of(
    store: &Store,
    (rules, coretax): (&TaxRules, &Coretax),
    f: &crate::store::orders::OrderFacts,
    today: NaiveDate,
    problems: &mut Vec<Problem>,
) -> Result<Vec<Invoice>, StoreError> {
    let order = &f.order_id;
    let unit_name = f.buyer.clone().unwrap_or_default();
    let buyer = match f.buyer_code.as_deref().and_then(|k| coretax.buyer(k)) {
        None => {
            problems.push(Problem::NoBuyer { order: order.clone(), unit: f.buyer_code.clone().unwrap_or_else(|| "-".into()), name: unit_name });
            return Ok(Vec::new());
        }
        Some(b) => b,
    };
    let checked = coretax::tin(&buyer.npwp).and_then(|tin| coretax::idtku(&buyer.idtku, &tin).map(|idtku| (tin, idtku)));
    let (tin, idtku) = match checked {
        Ok(pair) => pair,
        Err(why) => {
            problems.push(Problem::Buyer { order: order.clone(), unit: buyer.kode_satker.clone(), name: buyer.nama.clone(), why });
            return Ok(Vec::new());
        }
    };
    let buyer = coretax::Buyer { npwp: tin, idtku, ..buyer.clone() };
    let shown = crate::store::orders::order_lines(store, f.id).await?;
    let amounts = rules.invoice_lines(&f.lines, f.pkp);
    let date =
        f.done.get(&Step::Bast).and_then(|d| d.on).or_else(|| f.order_date.map(|d| d.with_timezone(&chrono_tz::Asia::Jakarta).date_naive())).unwrap_or(today);
    let mut taxable = Vec::new();
    let mut exempt = Vec::new();
    for (n, (line, money)) in shown.iter().zip(&amounts).enumerate() {
        let unit = line.product_unit.as_deref().or(line.unit.as_deref()).unwrap_or("");
        let Some(unit_code) = coretax.unit(unit) else {
            problems.push(Problem::NoUnitCode { order: order.clone(), line: n + 1, unit: unit.to_owned() });
            continue;
        };
        let quantity = line.quantity.filter(|q| *q > Decimal::ZERO).unwrap_or(Decimal::ONE);
        let l = Line {
            name: line.item.clone().unwrap_or_default().chars().take(200).collect(),
            goods_code: coretax.goods(line.category.as_deref()).to_owned(),
            unit_code: unit_code.to_owned(),
            price: (money.base / quantity).round_dp(2).normalize(),
            quantity: quantity.normalize(),
            base: money.base,
            other_base: money.other_base,
            vat: money.vat,
        };
        match money.tax {
            LineTax::Exempt => exempt.push(l),
            LineTax::NotSubject => {}
            LineTax::Ordinary | LineTax::Luxury => taxable.push(l),
        }
    }
    let mut invoices = Vec::new();
    for (code, lines) in [(&coretax.taxable, taxable), (&coretax.exempt, exempt)] {
        if !lines.is_empty() {
            invoices.push(Invoice { order_db_id: f.id, order_id: order.clone(), date, code: code.clone(), buyer: buyer.clone(), lines });
        }
    }
    Ok(invoices)
}

/// The bulk import file of `invoices` for the seller with `tin` and `seller_idtku`.
pub fn xml(coretax: &Coretax, (tin, seller_idtku): (&str, &str), invoices: &[Invoice]) -> Result<Vec<u8>, std::io::Error> {
    use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
    let mut w = quick_xml::Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
    let mut root = BytesStart::new("TaxInvoiceBulk");
    root.push_attribute(("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"));
    w.write_event(Event::Start(root))?;
    let field = |w: &mut quick_xml::Writer<Vec<u8>>, name: &str, value: &str| -> Result<(), std::io::Error> {
        w.create_element(name).write_text_content(BytesText::new(value))?;
        Ok(())
    };
    field(&mut w, "TIN", tin)?;
    w.write_event(Event::Start(BytesStart::new("ListOfTaxInvoice")))?;
    let number = |d: Decimal| d.normalize().to_string();
    for inv in invoices {
        w.write_event(Event::Start(BytesStart::new("TaxInvoice")))?;
        for (name, value) in [
            ("TaxInvoiceDate", inv.date.format("%Y-%m-%d").to_string()),
            ("TaxInvoiceOpt", coretax.invoice_option.clone()),
            ("TrxCode", inv.code.trx_code.clone()),
            ("AddInfo", inv.code.add_info.clone()),
            ("CustomDoc", String::new()),
            ("RefDesc", inv.order_id.clone()),
            ("FacilityStamp", inv.code.facility_stamp.clone()),
            ("SellerIDTKU", seller_idtku.to_owned()),
            ("BuyerTin", inv.buyer.npwp.clone()),
            ("BuyerDocument", coretax.buyer_document.clone()),
            ("BuyerCountry", coretax.buyer_country.clone()),
            ("BuyerDocumentNumber", String::new()),
            ("BuyerName", inv.buyer.nama.clone()),
            ("BuyerAdress", inv.buyer.alamat.clone()),
            ("BuyerEmail", inv.buyer.email.clone()),
            ("BuyerIDTKU", inv.buyer.idtku.clone()),
        ] {
            field(&mut w, name, &value)?;
        }
        w.write_event(Event::Start(BytesStart::new("ListOfGoodService")))?;
        for l in &inv.lines {
            w.write_event(Event::Start(BytesStart::new("GoodService")))?;
            for (name, value) in [
                ("Opt", "A".to_owned()),
                ("Code", l.goods_code.clone()),
                ("Name", l.name.clone()),
                ("Unit", l.unit_code.clone()),
                ("Price", number(l.price)),
                ("Qty", number(l.quantity)),
                ("TotalDiscount", "0".to_owned()),
                ("TaxBase", number(l.base)),
                ("OtherTaxBase", number(l.other_base)),
                ("VATRate", number(coretax.vat_rate)),
                ("VAT", number(l.vat)),
                ("STLGRate", "0".to_owned()),
                ("STLG", "0".to_owned()),
            ] {
                field(&mut w, name, &value)?;
            }
            w.write_event(Event::End(BytesEnd::new("GoodService")))?;
        }
        w.write_event(Event::End(BytesEnd::new("ListOfGoodService")))?;
        w.write_event(Event::End(BytesEnd::new("TaxInvoice")))?;
    }
    w.write_event(Event::End(BytesEnd::new("ListOfTaxInvoice")))?;
    w.write_event(Event::End(BytesEnd::new("TaxInvoiceBulk")))?;
    Ok(w.into_inner())
}
