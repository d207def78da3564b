//! `katalog-v6-xlsx`: the bulk-upload workbooks, one per level-3 category.
//!
//! Each workbook is streamed straight into its zip container (the `zip`
//! crate, deflate level 1): the sheet's rows are SpreadsheetML written as
//! fixed markup with the values between, escaped by quick-xml ([`Markup`]);
//! the few other parts of the package are constants. Nothing is held per row
//! and nothing goes through a temporary file. rust_xlsxwriter (which writes
//! the import templates) took 12 µs a row here, in cell bookkeeping and a
//! temporary-file round trip: too slow for the benchmark's 100,000 rows/s.
//!
//! Text is written as inline strings, numbers as exact decimals. A workbook
//! that reaches `rows_per_workbook` (from the mapping's `[document]`, at most
//! Excel's 1,048,575 data rows) or 3 GiB of sheet XML is closed, and the
//! category continues in `NAME-2.xlsx`, `NAME-3.xlsx`, ...

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use super::PartFile;
use super::markup::Markup;
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

/// Excel's last row is 1,048,576; the first holds the headings.
pub const EXCEL_DATA_ROWS: u32 = 1_048_575;
/// Sheet XML beyond this starts a new workbook, so that no part needs zip64
/// (which not every spreadsheet program reads).
const MAX_SHEET_BYTES: u64 = 3 << 30;
/// Rows are rendered into memory and handed to the compressor in chunks of about this size.
const CHUNK_BYTES: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
#[error("cannot write the workbook {path}: {source}")]
pub struct WorkbookError {
    pub path: PathBuf,
    #[source]
    pub source: zip::result::ZipError,
}

/// Writes mapped products into one workbook per `kategori_id`.
pub struct BulkUploadWriter {
    dir: PathBuf,
    books: rustc_hash::FxHashMap<String, Book>,
    category: usize,
    category_name: usize,
    /// Column headings: the targets, with `foto` spread over `foto_1..foto_N`.
    headings: Vec<String>,
    /// Column letters, one per heading.
    columns: Vec<String>,
    rows_per_workbook: u32,
    /// Where each cell's own row number goes; reused.
    row_number: itoa::Buffer,
}

/// One category's workbooks: the one being written and those already full.
struct Book {
    name: String,
    sheet: Sheet,
    done: Vec<(PathBuf, u32)>,
}

impl BulkUploadWriter {
    pub fn new(dir: &Path, plan: &Plan) -> Self {
        let mut headings = Vec::new();
        for target in plan.targets {
            if target.name == "foto" {
                headings.extend((1..=plan.limits.photos_max).map(|i| format!("foto_{i}")));
            } else {
                headings.push(target.name.to_owned());
            }
        }
        let rows = plan.document.rows_per_workbook.unwrap_or(EXCEL_DATA_ROWS);
        Self {
            dir: dir.to_owned(),
            books: Default::default(),
            category: plan.index_of("kategori_id").expect("a katalog-v6-xlsx plan"),
            category_name: plan.index_of("kategori").expect("a katalog-v6-xlsx plan"),
            columns: (0..headings.len()).map(column_letters).collect(),
            headings,
            rows_per_workbook: rows.clamp(1, EXCEL_DATA_ROWS),
            row_number: itoa::Buffer::new(),
        }
    }

    pub fn write(&mut self, plan: &Plan, mapped: &Mapped<'_>) -> Result<(), WorkbookError> {
        let Value::Text(category) = mapped.values[self.category] else { return Ok(()) };
        if !self.books.contains_key(category) {
            let slug = match &mapped.values[self.category_name] {
                Value::Text(n) => slug(n),
                _ => "kategori".into(),
            };
            let name = format!("{slug}-{}", category.get(..8).unwrap_or(category));
            let sheet = Sheet::create(self.dir.join(format!("{name}.xlsx")), &self.headings, &self.columns)?;
            self.books.insert(category.to_owned(), Book { name, sheet, done: Vec::new() });
        }
        let book = self.books.get_mut(category).expect("inserted above");
        if book.sheet.rows >= self.rows_per_workbook || book.sheet.bytes >= MAX_SHEET_BYTES {
            let path = self.dir.join(format!("{}-{}.xlsx", book.name, book.done.len() + 2));
            let full = std::mem::replace(&mut book.sheet, Sheet::create(path, &self.headings, &self.columns)?);
            book.done.push(full.finish()?);
        }
        let sheet = &mut book.sheet;
        sheet.rows += 1;
        let row = self.row_number.format(sheet.rows + 1);
        let o = &mut sheet.xml;
        o.raw("<row r=\"").plain(row).raw("\">");
        let mut col = 0;
        for (target, value) in plan.targets.iter().zip(&mapped.values) {
            match value {
                Value::List(items) if target.name == "foto" => {
                    for (i, item) in items.iter().take(plan.limits.photos_max).enumerate() {
                        string_cell(o, &self.columns[col + i], row, item, false);
                    }
                    col += plan.limits.photos_max;
                    continue;
                }
                Value::Text(t) if !t.is_empty() => string_cell(o, &self.columns[col], row, t, false),
                Value::Decimal(d) => {
                    o.raw("<c r=\"").plain(&self.columns[col]).plain(row).raw("\"><v>").decimal(*d).raw("</v></c>");
                }
                Value::Bool(b) => string_cell(o, &self.columns[col], row, if *b { "ya" } else { "tidak" }, false),
                Value::Origin(origin) => string_cell(o, &self.columns[col], row, super::origin_name(*origin), false),
                Value::Tax(c) => string_cell(o, &self.columns[col], row, super::tax_category_code(*c), false),
                Value::NetContent(n) => string_cell(o, &self.columns[col], row, &n.to_string(), false),
                _ => {}
            }
            col += 1;
        }
        o.raw("</row>");
        sheet.flush_if_full()
    }

    /// Closes every workbook; returns their paths and row counts, sorted by path.
    pub fn finish(self) -> Result<Vec<(PathBuf, u32)>, WorkbookError> {
        let mut written = Vec::new();
        for (_, book) in self.books {
            written.extend(book.done);
            written.push(book.sheet.finish()?);
        }
        written.sort();
        Ok(written)
    }
}

/// A workbook whose sheet is being written: the zip entry of the sheet stays
/// open until [`Sheet::finish`] closes it, adds the package's other parts and
/// gives the file its name (until then it is a hidden `.part` file).
struct Sheet {
    path: PathBuf,
    zip: ZipWriter<BufWriter<PartFile>>,
    xml: Markup,
    rows: u32,
    bytes: u64,
}

impl Sheet {
    fn create(path: PathBuf, headings: &[String], columns: &[String]) -> Result<Self, WorkbookError> {
        let fail = |source| WorkbookError { path: path.clone(), source };
        let file = PartFile::create(&path).map_err(|e| fail(e.into()))?;
        let mut zip = ZipWriter::new(BufWriter::with_capacity(CHUNK_BYTES, file));
        zip.start_file("xl/worksheets/sheet1.xml", part_options()).map_err(fail)?;
        let mut xml = Markup::with_capacity(CHUNK_BYTES + 16 * 1024);
        xml.raw(XML_DECLARATION).raw(SHEET_START).raw("<row r=\"1\">");
        for (column, heading) in columns.iter().zip(headings) {
            string_cell(&mut xml, column, "1", heading, true);
        }
        xml.raw("</row>");
        Ok(Self { path, zip, xml, rows: 0, bytes: 0 })
    }

    fn flush_if_full(&mut self) -> Result<(), WorkbookError> {
        if self.xml.len() >= CHUNK_BYTES { self.flush() } else { Ok(()) }
    }

    fn flush(&mut self) -> Result<(), WorkbookError> {
        self.bytes += self.xml.len() as u64;
        self.zip.write_all(self.xml.as_bytes()).map_err(|e| WorkbookError { path: self.path.clone(), source: e.into() })?;
        self.xml.clear();
        Ok(())
    }

    fn finish(mut self) -> Result<(PathBuf, u32), WorkbookError> {
        self.xml.raw(SHEET_END);
        self.flush()?;
        let path = self.path;
        let fail = |source| WorkbookError { path: path.clone(), source };
        for (name, content) in PACKAGE_PARTS {
            self.zip.start_file(*name, part_options()).map_err(fail)?;
            self.zip.write_all(XML_DECLARATION.as_bytes()).map_err(|e| fail(e.into()))?;
            self.zip.write_all(content.as_bytes()).map_err(|e| fail(e.into()))?;
        }
        let file = self.zip.finish().map_err(fail)?;
        let file = file.into_inner().map_err(|e| fail(e.into_error().into()))?;
        file.commit().map_err(|e| fail(e.into()))?;
        Ok((path, self.rows))
    }
}

fn part_options() -> SimpleFileOptions {
    // Level 1: the fastest deflate, and still about a tenth of the XML's size.
    // A fixed date keeps the same products giving the same bytes.
    SimpleFileOptions::default().compression_method(CompressionMethod::Deflated).compression_level(Some(1)).last_modified_time(DateTime::default())
}

/// One inline-string cell. Text with a space at either end keeps it.
fn string_cell(o: &mut Markup, column: &str, row: &str, text: &str, heading: bool) {
    o.raw("<c r=\"").plain(column).plain(row).raw(if heading { "\" s=\"1\" t=\"inlineStr\"><is>" } else { "\" t=\"inlineStr\"><is>" });
    if text.starts_with(char::is_whitespace) || text.ends_with(char::is_whitespace) {
        o.raw("<t xml:space=\"preserve\">");
    } else {
        o.raw("<t>");
    }
    match ooxml_escaped(text) {
        Some(escaped) => o.text(&escaped),
        None => o.text(text),
    };
    o.raw("</t></is></c>");
}

/// Spreadsheet readers turn `_xHHHH_` in a cell into the character U+HHHH
/// (OOXML's escape for what XML cannot carry). Text that holds that pattern
/// literally has its underscore written as `_x005F_`, so it reads back as
/// written; `None` when there is nothing to escape (nearly always).
fn ooxml_escaped(text: &str) -> Option<String> {
    let is_escape = |rest: &[u8]| rest.len() >= 7 && rest[1] == b'x' && rest[2..6].iter().all(u8::is_ascii_hexdigit) && rest[6] == b'_';
    let bytes = text.as_bytes();
    if !memchr::memchr_iter(b'_', bytes).any(|i| is_escape(&bytes[i..])) {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 7);
    for (i, c) in text.char_indices() {
        if c == '_' && is_escape(&bytes[i..]) {
            out.push_str("_x005F_");
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// `0` gives `A`, `25` gives `Z`, `26` gives `AA`.
fn column_letters(index: usize) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        letters.push(b'A' + ((n - 1) % 26) as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).expect("ASCII letters")
}

/// `Minyak Goreng` gives `minyak-goreng`.
fn slug(name: &str) -> String {
    let s: String = name.chars().map(|c| if c.is_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    s.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-")
}

const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";

/// The sheet up to its first row: the heading row stays in view when scrolling.
const SHEET_START: &str = concat!(
    "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">",
    "<sheetViews><sheetView workbookViewId=\"0\"><pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>",
    "</sheetView></sheetViews><sheetData>",
);
const SHEET_END: &str = "</sheetData></worksheet>\n";

/// The package's other parts: the sheet named `Produk`, and a style sheet
/// whose style 1 is the bold of the heading row.
const PACKAGE_PARTS: &[(&str, &str)] = &[
    (
        "[Content_Types].xml",
        concat!(
            "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">",
            "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>",
            "<Default Extension=\"xml\" ContentType=\"application/xml\"/>",
            "<Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>",
            "<Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>",
            "<Override PartName=\"/xl/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml\"/>",
            "</Types>\n",
        ),
    ),
    (
        "_rels/.rels",
        concat!(
            "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">",
            "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/>",
            "</Relationships>\n",
        ),
    ),
    (
        "xl/workbook.xml",
        concat!(
            "<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" ",
            "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">",
            "<sheets><sheet name=\"Produk\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>\n",
        ),
    ),
    (
        "xl/_rels/workbook.xml.rels",
        concat!(
            "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">",
            "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/>",
            "<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" Target=\"styles.xml\"/>",
            "</Relationships>\n",
        ),
    ),
    (
        "xl/styles.xml",
        concat!(
            "<styleSheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">",
            "<fonts count=\"2\"><font><sz val=\"11\"/><name val=\"Calibri\"/><family val=\"2\"/></font>",
            "<font><b/><sz val=\"11\"/><name val=\"Calibri\"/><family val=\"2\"/></font></fonts>",
            "<fills count=\"2\"><fill><patternFill patternType=\"none\"/></fill><fill><patternFill patternType=\"gray125\"/></fill></fills>",
            "<borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border></borders>",
            "<cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs>",
            "<cellXfs count=\"2\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/>",
            "<xf numFmtId=\"0\" fontId=\"1\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyFont=\"1\"/></cellXfs>",
            "<cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" builtinId=\"0\"/></cellStyles>",
            "</styleSheet>\n",
        ),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ooxml_escapes_are_themselves_escaped() {
        assert_eq!(ooxml_escaped("Beras _x0041_ premium"), Some("Beras _x005F_x0041_ premium".into()));
        assert_eq!(ooxml_escaped("a__x00e9_"), Some("a__x005F_x00e9_".into()));
        assert_eq!(ooxml_escaped("snake_case_x12_"), None);
        assert_eq!(ooxml_escaped("Teh _x"), None);
    }

    #[test]
    fn column_letters_count_like_a_spreadsheet() {
        assert_eq!([0, 1, 25, 26, 27, 51, 52, 701, 702].map(column_letters), ["A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]);
    }
}
