//! Empty import templates, in CSV or XLSX, generated from the column specs
//! so the templates and the importer cannot disagree.

use std::path::Path;

use rust_xlsxwriter::{Format, Workbook};

use super::columns::Column;
use super::ImportError;
use crate::mapping::units::UnitTable;

/// An example row for the product template.
pub const PRODUCT_EXAMPLE: &[&str] = &[
    "MJK-BALONGSARI", "BLS-01", "Toko Sembako Bu Sri", "BRS-PREMIUM-5", "Beras Premium Mojokerto 5 kg",
    "Beras premium hasil petani Mojokerto, kemasan karung 5 kg.", "Beras", "karung", "Rp 74.500", "120", "1",
    "5", "Lokal", "Kota Mojokerto", "", "", "", "", "https://foto.kkmp-mojokerto.id/bls/beras-5kg.jpg", "ya",
];

/// Writes a template: `.xlsx` gives a workbook with an instructions sheet,
/// anything else a `;`-separated CSV with a UTF-8 BOM.
pub fn write(path: &Path, columns: &[Column], example: &[&str], units: &UnitTable) -> Result<(), ImportError> {
    let io = |source| ImportError::Io { path: path.to_owned(), source };
    let is_xlsx = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
    if !is_xlsx {
        let mut out = b"\xEF\xBB\xBF".to_vec();
        {
            let mut w = csv::WriterBuilder::new().delimiter(b';').from_writer(&mut out);
            let header: Vec<&str> = columns.iter().map(|c| c.header).collect();
            w.write_record(&header).map_err(|e| io(e.into()))?;
            w.write_record(example).map_err(|e| io(e.into()))?;
            w.flush().map_err(io)?;
        }
        return std::fs::write(path, out).map_err(io);
    }
    let xlsx = |e: rust_xlsxwriter::XlsxError| ImportError::Workbook { path: path.to_owned(), detail: e.to_string() };
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet().set_name("Produk").map_err(xlsx)?;
    for (i, (column, value)) in columns.iter().zip(example).enumerate() {
        let col = i as u16;
        sheet.write_string_with_format(0, col, column.header, &bold).map_err(xlsx)?;
        sheet.write_string(1, col, *value).map_err(xlsx)?;
        sheet.set_column_width(col, 18).map_err(xlsx)?;
    }
    let help = book.add_worksheet().set_name("Petunjuk").map_err(xlsx)?;
    for (i, h) in ["kolom", "wajib", "isi"].iter().enumerate() {
        help.write_string_with_format(0, i as u16, *h, &bold).map_err(xlsx)?;
    }
    for (i, column) in columns.iter().enumerate() {
        let row = i as u32 + 1;
        help.write_string(row, 0, column.header).map_err(xlsx)?;
        help.write_string(row, 1, if column.required { "ya" } else { "tidak" }).map_err(xlsx)?;
        help.write_string(row, 2, column.help).map_err(xlsx)?;
    }
    let row = columns.len() as u32 + 2;
    help.write_string_with_format(row, 0, "satuan yang dikenal", &bold).map_err(xlsx)?;
    help.write_string(row, 2, units.codes().collect::<Vec<_>>().join(", ")).map_err(xlsx)?;
    help.set_column_width(2, 90).map_err(xlsx)?;
    book.save(path).map_err(xlsx)
}
