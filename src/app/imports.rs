//! Importing a products file: the one place its rules live, for the upload
//! page and for `import products`.

use std::path::Path;

use super::Actor;
use crate::config::ImportSettings;
use crate::domain::cooperative::CooperativeCode;
use crate::intake::{ImportError, ImportOptions, ImportReport};
use crate::mapping::units::UnitTable;
use crate::store::{Store, StoreError};

/// Why a file was not imported at all (a bad row is reported in the report
/// instead, and the good rows go in).
#[derive(Debug, thiserror::Error)]
pub enum ImportFileError {
    /// The cooperative named is none the actor may import for (or none at all).
    #[error("no cooperative {0} that you may import for")]
    NotFound(String),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an import did, and for which cooperative (none: as the file said).
#[derive(Debug)]
pub struct Imported {
    pub report: ImportReport,
    pub cooperative: Option<String>,
}

/// Imports the products of `file` for `cooperative`, as `actor`:
/// - a cooperative's staff import for their own cooperative (named or not);
///   naming another is refused as not found;
/// - an actor over every cooperative names one, or leaves it to the file's
///   `kode_koperasi` column.
///
/// The importer runs on a blocking thread of its own (it parses one batch
/// while the last is written, and its future is not `Send`), so either front
/// end may await this from any task. A real import (not a dry run) is written
/// to the audit log with its counts, under the file's name as `shown_as`.
pub async fn import_products(
    store: &Store,
    units: &std::sync::Arc<UnitTable>,
    settings: &ImportSettings,
    actor: &Actor,
    (file, shown_as): (&Path, &str),
    cooperative: Option<&str>,
    options: &ImportOptions,
) -> Result<Imported, ImportFileError> {
    // (id, code) of the cooperative the rows go to; `None`: as the file says.
    let target = match (actor.scope, cooperative) {
        (_, Some(code)) => match crate::store::dashboard::cooperative_by_code(store, actor.scope, code).await? {
            Some(found) => Some(found),
            // The actor over every cooperative hears the importer's own word for an unknown code.
            None if actor.scope.is_none() => None,
            None => return Err(ImportFileError::NotFound(code.chars().take(64).collect())),
        },
        (Some(id), None) => Some(
            crate::store::dashboard::cooperative_code(store, id).await?.map(|code| (id, code)).ok_or_else(|| ImportFileError::NotFound(format!("#{id}")))?,
        ),
        (None, None) => None,
    };
    let named = match (&target, cooperative) {
        (Some((_, code)), _) => Some(code.as_str()),
        (None, named) => named,
    };
    let code = named.map(CooperativeCode::parse).transpose().map_err(|e| ImportFileError::NotFound(e.to_string()))?;
    let shown_code = code.as_ref().map(ToString::to_string);
    let report = {
        let (store, units, settings, file, options) = (store.handle(), units.clone(), settings.clone(), file.to_owned(), options.clone());
        let runtime = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            runtime.block_on(async move { crate::intake::products::import_products(&store, &units, &file, code.as_ref(), &options, &settings).await })
        })
        .await
        .map_err(|e| StoreError::Inconsistent(format!("the import stopped: {e}")))??
    };
    if !options.dry_run {
        crate::store::users::audit_as(
            store,
            (actor.user_id, &actor.name),
            target.as_ref().map(|(id, _)| *id),
            "upload.products",
            Some(shown_as),
            serde_json::json!({"rows": report.rows, "accepted": report.accepted, "rejected": report.rejected}),
        )
        .await?;
    }
    Ok(Imported { report, cooperative: shown_code })
}
