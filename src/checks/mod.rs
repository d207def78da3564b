//! The liaison's checks against INAPROC: the cooperatives' seller records
//! (`cooperatives check`, over `penyedia-detail`) and the mapped categories
//! against the catalogue's category tree (`mappings categories refresh`, over
//! `list-kategori-produk`). Both only read and report; nothing is changed.

use std::collections::HashMap;

use serde::Serialize;

use crate::catalog::inaproc::{InaprocClient, InaprocError, Query, wire};
use crate::mapping::MappingSource;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Inaproc(#[from] InaprocError),
    #[error(transparent)]
    Mapping(#[from] crate::mapping::MappingError),
    #[error("the category tree cannot be read: {0}")]
    Tree(String),
}

/// Letters and digits only, lower case: how names and numbers are compared.
fn plain(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// One cooperative against its seller record on INAPROC.
#[derive(Debug, Clone, Serialize)]
pub struct SellerCheck {
    pub cooperative: String,
    pub kode_penyedia: Option<String>,
    /// What INAPROC has; `None` when the seller was not found (or not asked).
    pub inaproc: Option<wire::SellerDetail>,
    /// What differs or is missing, in plain words.
    pub problems: Vec<String>,
}

impl SellerCheck {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Compares each cooperative's NIB, NPWP and name with INAPROC's record of
/// its seller, and says whether it is active. A cooperative without a
/// `kode_penyedia`, or whose seller INAPROC does not know, is a problem too.
pub async fn check_sellers(store: &Store, client: &InaprocClient, cooperative: Option<&str>) -> Result<Vec<SellerCheck>, CheckError> {
    let mut out = Vec::new();
    for c in crate::store::products::seller_records(store, cooperative).await? {
        let mut check = SellerCheck { cooperative: c.code.clone(), kode_penyedia: c.kode_penyedia.clone(), inaproc: None, problems: Vec::new() };
        let Some(seller) = c.kode_penyedia.as_deref() else {
            check.problems.push("no kode_penyedia: not linked to a seller on the e-catalogue".into());
            out.push(check);
            continue;
        };
        let detail = client.seller_detail(seller).await?;
        let Some(d) = detail else {
            check.problems.push(format!("seller {seller} not found on INAPROC"));
            out.push(check);
            continue;
        };
        let mut compare = |what: &str, ours: Option<&str>, theirs: Option<&str>| match (ours, theirs) {
            (Some(a), Some(b)) if plain(a) == plain(b) => {}
            (Some(a), Some(b)) => check.problems.push(format!("{what} differs: ours {a:?}, INAPROC {b:?}")),
            (None, Some(b)) => check.problems.push(format!("{what} not recorded here (INAPROC: {b:?})")),
            (Some(a), None) => check.problems.push(format!("{what} not on INAPROC (ours: {a:?})")),
            (None, None) => check.problems.push(format!("{what} recorded nowhere")),
        };
        compare("NIB", c.nib.as_deref(), d.nib.as_deref());
        compare("NPWP", c.npwp.as_deref(), d.npwp.as_deref());
        compare("name", Some(&c.name), d.nama_penyedia.as_deref());
        if d.status_aktif == Some(false) {
            check.problems.push("the seller is not active on INAPROC (status_aktif false)".into());
        }
        check.inaproc = Some(d);
        out.push(check);
    }
    Ok(out)
}

/// A mapped category against the catalogue's tree.
#[derive(Debug, Clone, Serialize)]
pub struct CategoryFinding {
    /// The local category (`mappings/tables/categories.csv`'s key).
    pub category: String,
    pub v6_category_id: String,
    /// `renamed` or `gone`.
    pub finding: &'static str,
    pub detail: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct CategoryReport {
    /// Nodes read from the tree, per level.
    pub level_1: usize,
    pub level_2: usize,
    pub level_3: usize,
    /// Mapped categories with a v6 category id, and those found as they are.
    pub mapped: usize,
    pub unchanged: usize,
    pub findings: Vec<CategoryFinding>,
}

/// Pages of one level's list read at most.
const MAX_PAGES: u32 = 50;

/// Reads the whole category tree (level 1, then each level 2, then each
/// level 3) and reports the mapped categories whose id is gone from it, or
/// whose names (at any level) changed.
pub async fn refresh_categories(client: &InaprocClient, source: &MappingSource) -> Result<CategoryReport, CheckError> {
    let mut report = CategoryReport::default();
    let read = |rows: Vec<serde_json::Value>, level: u8| -> Result<Vec<(String, String)>, CheckError> {
        rows.iter().map(|r| wire::category(r, level).map_err(CheckError::Tree)).collect()
    };
    // Leaf id -> (level-1 name, level-2 name, level-3 name).
    let mut leaves: HashMap<String, (String, String, String)> = HashMap::new();
    let level1 = read(client.all(&Query::categories(None), 1000, MAX_PAGES).await?, 1)?;
    report.level_1 = level1.len();
    for (k1, n1) in &level1 {
        let level2 = read(client.all(&Query::categories(Some((1, k1))), 1000, MAX_PAGES).await?, 2)?;
        report.level_2 += level2.len();
        for (k2, n2) in &level2 {
            let level3 = read(client.all(&Query::categories(Some((2, k2))), 1000, MAX_PAGES).await?, 3)?;
            report.level_3 += level3.len();
            for (k3, n3) in level3 {
                leaves.insert(k3, (n1.clone(), n2.clone(), n3));
            }
        }
    }
    let table = crate::mapping::table::LookupTable::load(source, "categories")?;
    let col = |name: &str| table.column(name).ok_or_else(|| CheckError::Tree(format!("categories.csv has no {name} column")));
    let (c1, c2, c3, cid) = (col("v6_level1")?, col("v6_level2")?, col("v6_level3")?, col("v6_category_id")?);
    let mut keys: Vec<&str> = table.keys().collect();
    keys.sort_unstable();
    for key in keys {
        let Some(row) = table.row(key) else { continue };
        let id = row[cid].trim();
        if id.is_empty() {
            continue;
        }
        report.mapped += 1;
        let finding = |finding, detail| CategoryFinding { category: key.to_owned(), v6_category_id: id.to_owned(), finding, detail };
        match leaves.get(id) {
            None => {
                let same_name: Vec<&String> = leaves.iter().filter(|(_, (_, _, n))| plain(n) == plain(&row[c3])).map(|(k, _)| k).collect();
                let hint = match same_name.as_slice() {
                    [] => String::new(),
                    ids => format!("; a category of the same name now has id {}", ids.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")),
                };
                report.findings.push(finding("gone", format!("{} > {} > {} is no longer in the tree{hint}", row[c1], row[c2], row[c3])));
            }
            Some((n1, n2, n3)) => {
                let ours = [&row[c1], &row[c2], &row[c3]];
                let theirs = [n1, n2, n3];
                let changed: Vec<String> = ours.iter().zip(theirs).filter(|(a, b)| plain(a) != plain(b)).map(|(a, b)| format!("{a:?} is now {b:?}")).collect();
                if changed.is_empty() {
                    report.unchanged += 1;
                } else {
                    report.findings.push(finding("renamed", changed.join("; ")));
                }
            }
        }
    }
    Ok(report)
}
