//! Empty import templates, in CSV or XLSX, generated from the column specs
//! so the templates and the importer cannot disagree.

use std::path::Path;

use rust_xlsxwriter::{Format, Workbook};

use super::ImportError;
use super::columns::Column;
use crate::mapping::units::UnitTable;

/// An example row for the product template.
pub const PRODUCT_EXAMPLE: &[&str] = &[
    "MJK-BALONGSARI",
    "BLS-01",
    "Toko Sembako Bu Sri",
    "BRS-PREMIUM-5",
    "Beras Premium Mojokerto 5 kg",
    "Beras premium hasil petani Mojokerto, kemasan karung 5 kg.",
    "Beras",
    "karung",
    "5 kg",
    "Rp 74.500",
    "120",
    "1",
    "5",
    "Lokal",
    "Kota Mojokerto",
    "",
    "",
    "",
    "",
    "https://foto.kkmp-mojokerto.id/bls/beras-5kg.jpg",
    "ya",
];

/// Writes an empty template: `.xlsx` gives a workbook whose data sheet holds
/// the header only, with an instructions sheet (each column, and an example
/// row); `.csv` a `;`-separated CSV with a UTF-8 BOM and the header only.
/// An existing file is never overwritten (it may be a filled-in sheet) unless
/// `overwrite`; any other extension is refused.
pub fn write(path: &Path, columns: &[Column], example: &[&str], units: &UnitTable, overwrite: bool) -> Result<(), ImportError> {
    let io = |source| ImportError::Io { path: path.to_owned(), source };
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
    let is_xlsx = match ext.as_deref() {
        Some("xlsx") => true,
        Some("csv") => false,
        _ => return Err(ImportError::TemplateName { path: path.to_owned() }),
    };
    if !overwrite && std::fs::symlink_metadata(path).is_ok() {
        return Err(ImportError::TemplateExists { path: path.to_owned() });
    }
    if !is_xlsx {
        let mut out = b"\xEF\xBB\xBF".to_vec();
        {
            let mut w = csv::WriterBuilder::new().delimiter(b';').from_writer(&mut out);
            let header: Vec<&str> = columns.iter().map(|c| c.header).collect();
            w.write_record(&header).map_err(|e| io(e.into()))?;
            w.flush().map_err(io)?;
        }
        return std::fs::write(path, out).map_err(io);
    }
    let xlsx = |e: rust_xlsxwriter::XlsxError| ImportError::Workbook { path: path.to_owned(), detail: e.to_string() };
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet().set_name("Produk").map_err(xlsx)?;
    for (i, column) in columns.iter().enumerate() {
        let col = i as u16;
        sheet.write_string_with_format(0, col, column.header, &bold).map_err(xlsx)?;
        sheet.set_column_width(col, 18).map_err(xlsx)?;
    }
    let help = book.add_worksheet().set_name("Petunjuk").map_err(xlsx)?;
    for (i, h) in ["kolom", "wajib", "isi", "contoh"].iter().enumerate() {
        help.write_string_with_format(0, i as u16, *h, &bold).map_err(xlsx)?;
    }
    for (i, column) in columns.iter().enumerate() {
        let row = i as u32 + 1;
        help.write_string(row, 0, column.header).map_err(xlsx)?;
        help.write_string(row, 1, if column.required { "ya" } else { "tidak" }).map_err(xlsx)?;
        help.write_string(row, 2, column.help).map_err(xlsx)?;
        help.write_string(row, 3, example.get(i).copied().unwrap_or_default()).map_err(xlsx)?;
    }
    let row = columns.len() as u32 + 2;
    help.write_string_with_format(row, 0, "satuan yang dikenal", &bold).map_err(xlsx)?;
    help.write_string(row, 2, units.codes().collect::<Vec<_>>().join(", ")).map_err(xlsx)?;
    help.set_column_width(2, 90).map_err(xlsx)?;
    book.save(path).map_err(xlsx)
}
