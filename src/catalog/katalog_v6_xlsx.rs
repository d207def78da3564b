//! `katalog-v6-xlsx`: the bulk-upload workbooks, one per level-3 category,
//! written row by row in rust_xlsxwriter's constant-memory mode.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rust_xlsxwriter::{Format as CellFormat, Workbook, XlsxError};

use crate::mapping::plan::{Mapped, Plan, Target, Value};
use crate::mapping::rules::RuleCode;

pub const TARGETS: &[Target] = &[
    Target::new("kategori_id", true, RuleCode::NoCategoryMapping),
    Target::new("kategori", true, RuleCode::NoCategoryMapping),
    Target::new("sku", true, RuleCode::MissingValue),
    Target::new("nama_produk", true, RuleCode::MissingValue),
    Target::new("deskripsi", false, RuleCode::MissingValue),
    Target::new("kbki", true, RuleCode::NoCategoryMapping),
    Target::new("satuan", true, RuleCode::UnknownUnit),
    Target::new("harga", true, RuleCode::MissingValue),
    Target::new("ppn_persen", true, RuleCode::MissingValue),
    Target::new("stok", true, RuleCode::MissingValue),
    Target::new("min_pembelian", true, RuleCode::MissingValue),
    Target::new("berat_kg", false, RuleCode::MissingWeight),
    Target::new("pdn", true, RuleCode::MissingValue),
    Target::new("lokasi_produksi", false, RuleCode::MissingValue),
    Target::new("foto", false, RuleCode::NoPhoto),
];

struct Book {
    workbook: Workbook,
    path: PathBuf,
    next_row: u32,
}

/// Writes mapped products into one workbook per `kategori_id`.
pub struct BulkUploadWriter {
    dir: PathBuf,
    books: HashMap<String, Book>,
    category: usize,
    category_name: usize,
}

impl BulkUploadWriter {
    pub fn new(dir: &Path, plan: &Plan) -> Self {
        Self {
            dir: dir.to_owned(),
            books: HashMap::new(),
            category: plan.index_of("kategori_id").expect("a katalog-v6-xlsx plan"),
            category_name: plan.index_of("kategori").expect("a katalog-v6-xlsx plan"),
        }
    }

    /// Header cells: the targets, with `foto` spread over `foto_1..foto_N`.
    fn header(plan: &Plan) -> Vec<String> {
        let mut cells = Vec::new();
        for target in plan.targets {
            if target.name == "foto" {
                cells.extend((1..=plan.limits.photos_max).map(|i| format!("foto_{i}")));
            } else {
                cells.push(target.name.to_owned());
            }
        }
        cells
    }

    pub fn write(&mut self, plan: &Plan, mapped: &Mapped<'_>) -> Result<(), XlsxError> {
        let Value::Text(category) = mapped.values[self.category] else { return Ok(()) };
        if !self.books.contains_key(category) {
            let name = match &mapped.values[self.category_name] {
                Value::Text(n) => slug(n),
                _ => "kategori".into(),
            };
            let path = self.dir.join(format!("{name}-{}.xlsx", &category[..category.len().min(8)]));
            let mut workbook = Workbook::new();
            // Fastest deflate: half the time of writing a workbook went into level-6 compression.
            workbook.set_zip_compression_level(1);
            let sheet = workbook.add_worksheet_with_constant_memory()?;
            sheet.set_name("Produk")?;
            let bold = CellFormat::new().set_bold();
            for (col, heading) in Self::header(plan).iter().enumerate() {
                sheet.write_string_with_format(0, col as u16, heading, &bold)?;
            }
            self.books.insert(category.to_owned(), Book { workbook, path, next_row: 1 });
        }
        let book = self.books.get_mut(category).expect("inserted above");
        let row = book.next_row;
        book.next_row += 1;
        let sheet = book.workbook.worksheet_from_index(0)?;
        let mut col: u16 = 0;
        for (target, value) in plan.targets.iter().zip(&mapped.values) {
            match value {
                Value::List(items) if target.name == "foto" => {
                    for (i, item) in items.iter().take(plan.limits.photos_max).enumerate() {
                        sheet.write_string(row, col + i as u16, item)?;
                    }
                    col += plan.limits.photos_max as u16;
                    continue;
                }
                Value::Text(t) if !t.is_empty() => {
                    sheet.write_string(row, col, *t)?;
                }
                Value::Decimal(d) => {
                    sheet.write(row, col, d.normalize())?;
                }
                Value::Bool(b) => {
                    sheet.write_string(row, col, if *b { "ya" } else { "tidak" })?;
                }
                _ => {}
            }
            col += 1;
        }
        Ok(())
    }

    /// Saves every workbook; returns their paths and row counts.
    pub fn finish(self) -> Result<Vec<(PathBuf, u32)>, XlsxError> {
        let mut written = Vec::new();
        for (_, mut book) in self.books {
            book.workbook.save(&book.path)?;
            written.push((book.path, book.next_row - 1));
        }
        written.sort();
        Ok(written)
    }
}

/// `Minyak Goreng` gives `minyak-goreng`.
fn slug(name: &str) -> String {
    let s: String = name.chars().map(|c| if c.is_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    s.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-")
}
