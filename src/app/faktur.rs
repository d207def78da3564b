//! A PKP cooperative's tax invoices for Coretax (`orders faktur`): the
//! month's orders not yet invoiced, checked, written to one bulk import
//! file, and recorded as held by it so that the next file does not repeat
//! them. The file is written beside its name first and put in place once
//! the orders are recorded: a file that is there holds exactly the orders
//! recorded.

use std::path::{Path, PathBuf};

use super::Actor;
use crate::orders::faktur::{self, FakturError};
use crate::orders::report::Month;
use crate::store::Store;

pub struct Invoicing<'a> {
    pub store: &'a Store,
    pub tax: &'a crate::mapping::tax::TaxRules,
    pub coretax: &'a crate::mapping::coretax::Coretax,
    pub fulfilment: &'a crate::config::FulfilmentSettings,
    /// Jakarta's day: an invoice's day when its order has no other.
    pub today: chrono::NaiveDate,
}

#[derive(Debug, thiserror::Error)]
pub enum InvoiceError {
    #[error("name the cooperative (--cooperative CODE)")]
    NoCooperative,
    #[error(transparent)]
    Faktur(#[from] FakturError),
    #[error(transparent)]
    List(#[from] crate::orders::issued::IssuedError),
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("say who writes it (by): at most 100 characters")]
    NoOne,
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// What was written.
#[derive(Debug, serde::Serialize)]
pub struct Written {
    pub cooperative: String,
    pub file: Option<PathBuf>,
    pub invoices: usize,
    /// The orders it holds, by their catalogue ids.
    pub orders: Vec<String>,
    /// Orders left for the next file (the file's limit).
    pub left_over: usize,
}

/// The cooperative the actor acts for (`Actor::cooperative`): (id, code).
async fn cooperative(store: &Store, actor: &Actor, asked: Option<&str>) -> Result<(i64, String), InvoiceError> {
    actor.cooperative(store, asked).await?.ok_or_else(|| asked.map_or(InvoiceError::NoCooperative, |c| FakturError::UnknownCooperative(c.to_owned()).into()))
}

/// Writes the month's tax invoices of `asked` (the staff's own cooperative
/// whatever is asked) to `out`; nothing when no order is left to invoice.
pub async fn write(ctx: &Invoicing<'_>, actor: &Actor, asked: Option<&str>, month: Month, out: &Path, by: &str) -> Result<Written, InvoiceError> {
    let by = crate::domain::text(by, "by", 100).map_err(|_| InvoiceError::NoOne)?;
    let (_, code) = cooperative(ctx.store, actor, asked).await?;
    let prepared = faktur::prepare(ctx.store, (ctx.tax, ctx.coretax, ctx.fulfilment), &code, (month, ctx.today)).await?;
    let mut orders: Vec<(i64, String)> = prepared.invoices.iter().map(|i| (i.order_db_id, i.order_id.clone())).collect();
    orders.dedup();
    let mut written = Written { cooperative: code, file: None, invoices: prepared.invoices.len(), orders: Vec::new(), left_over: prepared.left_over };
    if prepared.invoices.is_empty() {
        return Ok(written);
    }
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| InvoiceError::Io { path, source }
    };
    let bytes = faktur::xml(ctx.coretax, (&prepared.seller_tin, &prepared.seller_idtku), &prepared.invoices).map_err(io(out))?;
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let part = out.with_file_name(format!(".{name}.part"));
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&part).map_err(io(&part))?;
        f.write_all(&bytes).map_err(io(&part))?;
        f.sync_all().map_err(io(&part))?;
    }
    let file =
        crate::store::orders::InvoiceFile { cooperative_id: prepared.cooperative_id, month: month.0, file_name: &name, invoices: written.invoices, by: &by };
    if let Err(e) = crate::store::orders::record_invoice_file(ctx.store, &file, &orders.iter().map(|o| o.0).collect::<Vec<_>>()).await {
        let _ = std::fs::remove_file(&part);
        return Err(e.into());
    }
    std::fs::rename(&part, out).map_err(io(out))?;
    written.orders = orders.into_iter().map(|o| o.1).collect();
    written.file = Some(out.to_owned());
    let detail = serde_json::json!({"file": name, "month": month.label(), "invoices": written.invoices, "orders": written.orders, "by": by});
    crate::store::users::audit_as(ctx.store, (actor.user_id, &actor.name), Some(prepared.cooperative_id), "orders.faktur", Some(&name), detail).await?;
    Ok(written)
}

/// What reading Coretax's list of issued invoices did.
#[derive(Debug, Default, serde::Serialize)]
pub struct Numbers {
    pub cooperative: String,
    /// Rows read with a number.
    pub rows: usize,
    /// Recorded: (row, order, number).
    pub recorded: Vec<(u64, String, String)>,
    /// Numbers on their orders already.
    pub already: usize,
    /// Invoices not issued: (row, reference, status).
    pub not_issued: Vec<(u64, String, String)>,
    pub problems: Vec<crate::payments::RowProblem>,
}

/// Reads Coretax's list of `asked`'s issued tax invoices (the staff's own
/// cooperative whatever is asked) and records each issued invoice's number
/// on the order its reference names, on the invoice's day (`ctx.today`
/// when the list gives none), as one transaction. A list read again records nothing
/// twice.
pub async fn numbers(
    ctx: &Invoicing<'_>,
    actor: &Actor,
    asked: Option<&str>,
    (path, settings): (&Path, &crate::config::ImportSettings),
    by: &str,
) -> Result<Numbers, InvoiceError> {
    use crate::orders::issued::{self, Verdict};
    let by = crate::domain::text(by, "by", 100).map_err(|_| InvoiceError::NoOne)?;
    let (cooperative_id, code) = cooperative(ctx.store, actor, asked).await?;
    let list = issued::read(path, &ctx.coretax.export, settings).await?;
    let mut done = Numbers { cooperative: code.clone(), rows: list.rows.len(), problems: list.problems, ..Default::default() };
    let mut tx = ctx.store.begin().await?;
    crate::store::orders::lock_faktur_numbers(&mut tx, cooperative_id).await?;
    let references: Vec<String> = list.rows.iter().map(|r| r.reference.clone()).collect();
    let orders = crate::store::orders::orders_by_remote_id(&mut tx, cooperative_id, &references).await?;
    let numbers: Vec<String> = list.rows.iter().map(|r| r.number.clone()).collect();
    let recorded = crate::store::orders::faktur_numbers_recorded(&mut tx, &numbers).await?;
    let problem = |r: &issued::IssuedRow, column: &str, why: String| crate::payments::RowProblem { line: r.line, column: column.to_owned(), why };
    for (r, verdict) in list.rows.iter().zip(issued::decide(&list.rows, &orders, &recorded, &code)) {
        match verdict {
            Verdict::Record(order) => {
                let entry = crate::store::orders::NewEntry {
                    step: crate::domain::fulfilment::Step::Faktur,
                    number: Some(r.number.clone()),
                    on_date: Some(r.on.unwrap_or(ctx.today)),
                    amount: None,
                    detail: None,
                };
                crate::store::orders::insert_entries(&mut tx, order, &[entry], &by).await?;
                done.recorded.push((r.line, r.reference.clone(), r.number.clone()));
            }
            Verdict::Already => done.already += 1,
            Verdict::NotIssued => done.not_issued.push((r.line, r.reference.clone(), r.status.clone())),
            Verdict::NoOrder(why) => done.problems.push(problem(r, &list.reference_column, why)),
            Verdict::Taken(why) => done.problems.push(problem(r, &list.number_column, why)),
        }
    }
    tx.commit().await.map_err(crate::store::StoreError::from)?;
    done.problems.sort_by_key(|p| p.line);
    let detail = serde_json::json!({"rows": done.rows, "recorded": done.recorded.len(), "already": done.already, "not_issued": done.not_issued.len(), "problems": done.problems.len(), "by": by});
    crate::store::users::audit_as(ctx.store, (actor.user_id, &actor.name), Some(cooperative_id), "orders.faktur_numbers", None, detail).await?;
    Ok(done)
}
