//! The demo: the main job end to end on the fixtures of Kota Mojokerto.
//! Today: import the 18 cooperatives and their products, then summarise per
//! cooperative. Publishing and order sync join the loop as they land.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;

use crate::config::ImportSettings;
use crate::domain::money::format_rupiah;
use crate::domain::time;
use crate::intake::{self, ImportOptions, ImportReport};
use crate::mapping::units::UnitTable;
use crate::store::products::{cooperative_summaries, CooperativeSummary};
use crate::store::Store;

pub struct DemoOutcome {
    pub location: String,
    pub imports: Vec<ImportReport>,
    pub cooperatives: Vec<CooperativeSummary>,
}

/// Imports `fixtures/cooperatives.csv`, then every CSV and XLSX file in
/// `fixtures/products/`, and reads back the per-cooperative summary.
pub async fn run(store: &Store, units: &UnitTable, fixtures: &Path, settings: &ImportSettings) -> anyhow::Result<DemoOutcome> {
    let options = ImportOptions::default();
    let mut imports = vec![
        intake::cooperatives::import_cooperatives(store, &fixtures.join("cooperatives.csv"), &options, settings).await?,
    ];
    let dir = fixtures.join("products");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading the fixtures folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "csv" || e == "xlsx"))
        .filter(|p| !p.to_string_lossy().ends_with(".rejects.csv"))
        .collect();
    files.sort();
    for file in files {
        imports.push(intake::products::import_products(store, units, &file, None, &options, settings).await?);
    }
    let cooperatives = cooperative_summaries(&store.pool).await?;
    Ok(DemoOutcome { location: store.location().to_owned(), imports, cooperatives })
}

impl DemoOutcome {
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "katalog-bridge demo, {}", time::show(chrono::Utc::now()));
        let _ = writeln!(out, "database: {}\n", self.location);
        for report in &self.imports {
            let _ = writeln!(out, "{}", report.summary());
        }
        let _ = writeln!(
            out,
            "\n{:<22} {:<16} {:<15} {:>3} {:>7} {:>6} {:>8} {:>18}",
            "cooperative", "kelurahan", "kecamatan", "PKP", "members", "items", "categories", "stock value"
        );
        let (mut members, mut products, mut value) = (0, 0, rust_decimal::Decimal::ZERO);
        for c in &self.cooperatives {
            let _ = writeln!(
                out,
                "{:<22} {:<16} {:<15} {:>3} {:>7} {:>6} {:>8} {:>18}",
                c.code,
                c.kelurahan,
                c.kecamatan,
                if c.pkp { "ya" } else { "-" },
                c.members,
                c.products,
                c.categories,
                format_rupiah(c.stock_value)
            );
            members += c.members;
            products += c.products;
            value += c.stock_value;
        }
        let _ = writeln!(
            out,
            "{:<22} {:<16} {:<15} {:>3} {:>7} {:>6} {:>8} {:>18}",
            format!("{} cooperatives", self.cooperatives.len()),
            "",
            "",
            "",
            members,
            products,
            "",
            format_rupiah(value)
        );
        out
    }
}
