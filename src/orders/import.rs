//! `orders import-ubl`: PEPPOL BIS Ordering 3 Order documents stored as
//! orders (source `peppol-ubl`), each file alone: one that cannot be read
//! changes nothing and is reported with why, the others go in.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::domain::calendar::WorkingCalendar;
use crate::domain::order::OrderSource;
use crate::store::orders::{self, DetailCounts};
use crate::store::{Store, StoreError};

/// Orders read from documents are stored under this source.
pub const SOURCE: OrderSource = OrderSource::PeppolOrder;
/// The largest document read.
const MAX_BYTES: u64 = 16 * 1024 * 1024;

/// What importing one file came to.
pub struct Imported {
    pub file: PathBuf,
    pub result: Result<(String, DetailCounts), String>,
}

pub async fn import_ubl(store: &Store, calendar: &WorkingCalendar, files: &[PathBuf]) -> Result<Vec<Imported>, StoreError> {
    let sellers = orders::our_sellers(store).await?;
    let by_gln = orders::sellers_by_gln(store).await?;
    let mut out = Vec::with_capacity(files.len());
    for file in files {
        let parsed = read_file(file).and_then(|bytes| {
            let mut order = crate::catalog::ubl_order::read(&bytes, &|gln| by_gln.get(gln).cloned())?;
            // Documents are told apart by their content too: buyers reuse order ids (the
            // PEPPOL examples do), and the same file imported again is the same order.
            let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
            order.order_id = format!("{}/{}", order.order_id, &digest[..10]);
            Ok(order)
        });
        // Each file alone: a store error on one (a value the database refuses,
        // a lost connection) is that file's result, and the next one is tried.
        let result = match parsed {
            Ok(order) => match orders::import_orders(store, SOURCE, std::slice::from_ref(&order), &sellers, calendar).await {
                Ok(counts) => Ok((order.order_id, counts)),
                Err(e) => Err(format!("not stored: {e}")),
            },
            Err(why) => Err(why),
        };
        out.push(Imported { file: file.clone(), result });
    }
    Ok(out)
}

fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    use crate::intake::source::{OpenRefused, open_regular};
    let (file, meta) = open_regular(path).map_err(|e| match e {
        OpenRefused::Io(e) => format!("cannot open: {e}"),
        OpenRefused::NotRegular(what) => format!("{what}, not a regular file: refused"),
    })?;
    if meta.len() > MAX_BYTES {
        return Err(format!("{} bytes, over the {MAX_BYTES}-byte limit for one document", meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_BYTES + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot read: {e}"))?;
    Ok(bytes)
}
