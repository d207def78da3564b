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
}

#[derive(Debug, thiserror::Error)]
pub enum InvoiceError {
    #[error("name the cooperative (--cooperative CODE)")]
    NoCooperative,
    #[error(transparent)]
    Faktur(#[from] FakturError),
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

/// Writes the month's tax invoices of `asked` (the staff's own cooperative
/// whatever is asked) to `out`; nothing when no order is left to invoice.
pub async fn write(ctx: &Invoicing<'_>, actor: &Actor, asked: Option<&str>, month: Month, out: &Path, by: &str) -> Result<Written, InvoiceError> {
    let by = crate::domain::text(by, "by", 100).map_err(|_| InvoiceError::NoOne)?;
    let code = match (actor.scope, asked) {
        (Some(own), _) => crate::store::dashboard::cooperative_code(ctx.store, own).await?.unwrap_or_default(),
        (None, Some(code)) => code.to_owned(),
        (None, None) => return Err(InvoiceError::NoCooperative),
    };
    let prepared = faktur::prepare(ctx.store, (ctx.tax, ctx.coretax, ctx.fulfilment), &code, month).await?;
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
