//! Intake under hostile or careless files: workbooks that unpack to far more
//! than they weigh, control characters in any text column, over-long cells,
//! pipes, CRLF files, dry runs, renamed members.

use crate::common;

use std::io::Write;
use std::path::{Path, PathBuf};

use katalog_bridge::config::ImportSettings;
use katalog_bridge::intake::{self, ImportError, ImportOptions, ImportReport};
use katalog_bridge::mapping::MappingSource;
use katalog_bridge::mapping::units::UnitTable;
use katalog_bridge::store::Store;

const HEADER: &str =
    "kode_koperasi;kode_anggota;nama_anggota;sku;nama_produk;deskripsi;kategori;satuan;harga;lokasi_produksi;no_sertifikat_tkdn;no_sni;merek;foto\n";
const GOOD: &str = "MJK-WATES;W-01;Toko Bu Sri;BRS-5;Beras Premium 5 kg;Beras pulen;Beras;karung;Rp 74.500;Mojokerto;;;;https://f.id/a.jpg\n";

async fn import_with(store: &Store, path: &Path, options: &ImportOptions, settings: &ImportSettings) -> Result<ImportReport, ImportError> {
    let units = UnitTable::load(&MappingSource::BuiltIn).unwrap();
    intake::products::import_products(store, &units, path, None, options, settings).await
}

async fn import(store: &Store, path: &Path) -> Result<ImportReport, ImportError> {
    import_with(store, path, &ImportOptions::default(), &ImportSettings::default()).await
}

async fn count(store: &Store, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}"))).fetch_one(store.pool()).await.unwrap()
}

/// An `.xlsx` made of the given parts, deflated.
fn workbook(path: &Path, parts: &[(&str, &[u8])]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, body) in parts {
        zip.start_file(*name, options).unwrap();
        zip.write_all(body).unwrap();
    }
    zip.finish().unwrap();
}

const CONTENT_TYPES: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>"#;
const RELS: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
const WORKBOOK: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Produk" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const WORKBOOK_RELS: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;

fn hostile_workbook(path: &Path, shared_strings: &[u8], sheet: &[u8]) {
    workbook(
        path,
        &[
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", RELS),
            ("xl/workbook.xml", WORKBOOK),
            ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
            ("xl/sharedStrings.xml", shared_strings),
            ("xl/worksheets/sheet1.xml", sheet),
        ],
    );
}

const SHEET: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>"#;

#[tokio::test]
async fn a_tiny_workbook_declaring_a_huge_string_count_is_refused_not_a_crash() {
    let store = common::fresh_store().await;
    let tmp = common::temp_dir();
    let path = tmp.path().join("bom.xlsx");
    hostile_workbook(&path, br#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="4611686018427387903"><si><t>kode_koperasi</t></si></sst>"#, SHEET);
    assert!(std::fs::metadata(&path).unwrap().len() < 3_000);
    let err = import(&store, &path).await.unwrap_err().to_string();
    assert!(err.contains("declares 4611686018427387903 strings, over the limit of 2000000 (import.max_shared_strings)"), "{err}");
    assert!(err.contains("bom.xlsx"), "names the file: {err}");
}

#[tokio::test]
async fn workbooks_that_unpack_to_gigabytes_are_refused_by_measured_size() {
    let store = common::fresh_store().await;
    let tmp = common::temp_dir();
    // Many tiny shared strings: 3 million `<si><t/></si>` deflate to a few kilobytes per megabyte.
    let many: Vec<u8> = [&b"<sst>"[..], &b"<si><t>a</t></si>".repeat(3_000_000), b"</sst>"].concat();
    let path = tmp.path().join("strings.xlsx");
    hostile_workbook(&path, &many, SHEET);
    assert!(std::fs::metadata(&path).unwrap().len() < 1_000_000, "a small file");
    let err = import(&store, &path).await.unwrap_err().to_string();
    assert!(err.contains("holds 2000001 strings, over the limit of 2000000"), "{err}");

    // One giant cell in the sheet: over the unpacked limit (set low here, the same check as at 1 GiB).
    let giant: Vec<u8> = [
        &SHEET[..SHEET.len() - 30],
        b"<row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>",
        &b"x".repeat(30_000_000),
        b"</t></is></c></row></sheetData></worksheet>",
    ]
    .concat();
    let path = tmp.path().join("giant.xlsx");
    hostile_workbook(&path, b"<sst><si><t>a</t></si></sst>", &giant);
    let settings = ImportSettings { max_unpacked_bytes: 20_000_000, ..Default::default() };
    let err = import_with(&store, &path, &ImportOptions::default(), &settings).await.unwrap_err().to_string();
    assert!(err.contains("unpacks to more than 20000000 bytes (import.max_unpacked_bytes)"), "{err}");
    assert_eq!(count(&store, "products").await, 0);
}

/// A cell longer than any product field is one rejected row, and its rejects line stays short.
#[tokio::test]
async fn an_overlong_cell_is_a_row_error_with_a_short_rejects_line() {
    let store = common::fresh_store().await;
    common::load_cooperatives(&store).await;
    let tmp = common::temp_dir();
    let long = "Deskripsi ".repeat(5_000_000); // 50 MB
    let body = format!("{HEADER}{GOOD}MJK-WATES;W-01;Toko Bu Sri;LONG-1;Produk Panjang;{long};Beras;karung;1.000;;;;;\n");
    let path = tmp.path().join("long.csv");
    std::fs::write(&path, body).unwrap();
    let report = import(&store, &path).await.unwrap();
    assert_eq!((report.accepted, report.rejected), (1, 1));
    let lines = report.reject_lines().join("\n");
    assert!(lines.contains("row 3, column F (deskripsi): is 50000000 characters long; a cell may hold at most 32767"), "{lines}");
    let rejects = std::fs::metadata(report.rejects_file.unwrap()).unwrap().len();
    assert!(rejects < 2_000, "rejects file is {rejects} bytes");
}

/// Every text column refuses control characters with its row and column,
/// while the good rows go in; a NUL deep in the file is one bad row too.
#[tokio::test]
async fn control_characters_are_refused_in_every_text_column() {
    let store = common::fresh_store().await;
    common::load_cooperatives(&store).await;
    let tmp = common::temp_dir();
    // column letter, header, and a row with \u{1} in that column
    let cases = [
        ("E", "nama_produk", "MJK-WATES;W-01;Toko;S-1;Beras \u{1}Pulen;x;Beras;kg;1.000;;;;;"),
        ("F", "deskripsi", "MJK-WATES;W-01;Toko;S-2;Beras Pulen;a\u{1}b;Beras;kg;1.000;;;;;"),
        ("J", "lokasi_produksi", "MJK-WATES;W-01;Toko;S-3;Beras Pulen;x;Beras;kg;1.000;Moj\u{1}okerto;;;;"),
        ("K", "no_sertifikat_tkdn", "MJK-WATES;W-01;Toko;S-4;Beras Pulen;x;Beras;kg;1.000;;T\u{1}1;;;"),
        ("L", "no_sni", "MJK-WATES;W-01;Toko;S-5;Beras Pulen;x;Beras;kg;1.000;;;SNI\u{7f};;"),
        ("M", "merek", "MJK-WATES;W-01;Toko;S-6;Beras Pulen;x;Beras;kg;1.000;;;;Mer\u{1b}[31mek;"),
        ("N", "foto", "MJK-WATES;W-01;Toko;S-7;Beras Pulen;x;Beras;kg;1.000;;;;;https://f.id/\u{1}.jpg"),
        ("C", "nama_anggota", "MJK-WATES;W-01;To\u{85}ko\u{9f};S-8;Beras Pulen;x;Beras;kg;1.000;;;;;"),
    ];
    let mut body = format!("{HEADER}{GOOD}");
    for (_, _, row) in &cases {
        body.push_str(row);
        body.push('\n');
    }
    // Rows of padding push the NUL past the first 64 KiB, beyond the binary-file sniffing.
    let padding = format!("MJK-WATES;W-01;Toko;PAD-{{}};Beras Pulen;{};Beras;kg;1.000;;;;;\n", "p".repeat(9_000));
    for i in 0..8 {
        body.push_str(&padding.replace("{}", &i.to_string()));
    }
    assert!(body.len() > 70_000);
    body.push_str("MJK-WATES;W-01;Toko;NUL-1;Beras\0Pulen;x;Beras;kg;1.000;;;;;\n");
    let path = tmp.path().join("control.csv");
    std::fs::write(&path, body).unwrap();
    let report = import(&store, &path).await.unwrap();
    let lines = report.reject_lines().join("\n");
    for (i, (letter, header, _)) in cases.iter().enumerate() {
        let want = format!("row {}, column {letter} ({header}): contains an invisible control character", i + 3);
        assert!(lines.contains(&want), "missing {want:?} in\n{lines}");
    }
    assert!(lines.contains("row 19, column E (nama_produk): contains an invisible control character (U+0000)"), "{lines}");
    assert_eq!(report.rejected, cases.len() as u64 + 1);
    assert_eq!(report.accepted, 9, "the good row and the padding rows went in");
    assert_eq!(count(&store, "products").await, 9);
}

#[tokio::test]
async fn a_named_pipe_is_refused_without_waiting_for_a_writer() {
    let store = common::fresh_store().await;
    let tmp = common::temp_dir();
    let path = tmp.path().join("produk.csv");
    nix::unistd::mkfifo(&path, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let result = tokio::time::timeout(std::time::Duration::from_secs(10), import(&store, &path)).await.expect("does not hang");
    let err = result.unwrap_err().to_string();
    assert!(err.contains("is a named pipe (FIFO), not a file"), "{err}");
}

/// Rows in the messages and in the rejects file's `baris` are the rows a spreadsheet shows.
#[tokio::test]
async fn crlf_bom_and_quoted_line_breaks_keep_row_numbers() {
    let store = common::fresh_store().await;
    common::load_cooperatives(&store).await;
    let tmp = common::temp_dir();
    let lf = format!(
        "{HEADER}{GOOD}MJK-WATES;W-01;Toko;Q-1;\"Beras\nPulen\";\"baris\nbaru\";Beras;kg;1.000;;;;;\n\nMJK-WATES;W-01;Toko;BAD-1;Beras Pulen;x;Beras;gantang;1.000;;;;;\n"
    );
    for (name, text) in [("lf.csv", lf.clone()), ("crlf.csv", lf.replace('\n', "\r\n")), ("bom.csv", format!("\u{feff}{}", lf.replace('\n', "\r\n")))] {
        let path = tmp.path().join(name);
        std::fs::write(&path, &text).unwrap();
        let report = import(&store, &path).await.unwrap();
        assert_eq!(report.rejected, 1, "{name}");
        assert!(report.reject_lines()[0].contains("row 5, column H (satuan)"), "{name}: {:?}", report.reject_lines());
        let mut rejects = csv::ReaderBuilder::new().delimiter(b';').from_path(report.rejects_file.unwrap()).unwrap();
        let row = rejects.records().next().unwrap().unwrap();
        assert_eq!(&row[0], "5", "{name}: baris");
    }
}

#[tokio::test]
async fn rejects_of_a_workbook_and_a_csv_of_one_name_are_kept_apart_and_a_dry_run_writes_nothing() {
    let store = common::fresh_store().await;
    common::load_cooperatives(&store).await;
    let tmp = common::temp_dir();
    let bad_row = ["MJK-WATES", "W-01", "Toko", "BAD-1", "Beras Pulen", "x", "Beras", "gantang", "1000", "", "", "", "", ""];
    let csv_path = tmp.path().join("produk.csv");
    std::fs::write(&csv_path, format!("{HEADER}{}\n", bad_row.join(";"))).unwrap();
    let xlsx_path = tmp.path().join("produk.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in HEADER.trim().split(';').enumerate() {
        sheet.write_string(0, c as u16, h).unwrap();
    }
    for (c, v) in bad_row.iter().enumerate() {
        sheet.write_string(1, c as u16, *v).unwrap();
    }
    book.save(&xlsx_path).unwrap();

    // A dry run reports, and writes nothing at all.
    let dry = ImportOptions { dry_run: true, ..Default::default() };
    let report = import_with(&store, &csv_path, &dry, &ImportSettings::default()).await.unwrap();
    assert_eq!(report.rejected, 1);
    assert_eq!(report.rejects_file, None);
    let listing = |dir: &Path| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        v.sort();
        v
    };
    assert_eq!(listing(tmp.path()), vec![csv_path.clone(), xlsx_path.clone()], "no file written by the dry run");

    let from_csv = import(&store, &csv_path).await.unwrap().rejects_file.unwrap();
    let from_xlsx = import(&store, &xlsx_path).await.unwrap().rejects_file.unwrap();
    assert_eq!(from_csv, tmp.path().join("produk.rejects.csv"));
    assert_eq!(from_xlsx, tmp.path().join("produk.xlsx.rejects.csv"));
    assert!(from_csv.exists(), "the CSV's rejects survive the workbook's import");
    let text = std::fs::read_to_string(&from_xlsx).unwrap();
    assert!(text.trim_start_matches('\u{feff}').starts_with("baris;kolom;alasan;kode_koperasi;"), "workbook rejects use ';': {text}");

    // A dry run leaves an earlier rejects file alone, even when the file is now clean.
    std::fs::write(&csv_path, format!("{HEADER}{GOOD}")).unwrap();
    import_with(&store, &csv_path, &dry, &ImportSettings::default()).await.unwrap();
    assert!(from_csv.exists());
}

#[tokio::test]
async fn renaming_a_member_is_reported() {
    let store = common::fresh_store().await;
    common::load_cooperatives(&store).await;
    let tmp = common::temp_dir();
    let path = tmp.path().join("produk.csv");
    std::fs::write(&path, format!("{HEADER}{GOOD}")).unwrap();
    let first = import(&store, &path).await.unwrap();
    assert!(first.notice_lines().is_empty());
    std::fs::write(&path, format!("{HEADER}{}", GOOD.replace("Toko Bu Sri", "Toko Bu Sri Rahayu"))).unwrap();
    let second = import(&store, &path).await.unwrap();
    let notices = second.notice_lines();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(notices[0].contains("member W-01 of MJK-WATES renamed from \"Toko Bu Sri\" to \"Toko Bu Sri Rahayu\""), "{notices:?}");
    let again = import(&store, &path).await.unwrap();
    assert!(again.notice_lines().is_empty(), "unchanged names are not reported");
}

#[tokio::test]
async fn negative_prices_in_every_usual_form_are_refused_as_negative() {
    let store = common::fresh_store().await;
    common::load_cooperatives(&store).await;
    let tmp = common::temp_dir();
    let mut body = HEADER.to_owned();
    for (i, price) in ["-Rp 18.000", "Rp -18.000", "-18.000", "- Rp 18.000,00"].iter().enumerate() {
        body.push_str(&format!("MJK-WATES;W-01;Toko;N-{i};Minyak Goreng;x;Minyak Goreng;botol;{price};;;;;\n"));
    }
    let path = tmp.path().join("negatif.csv");
    std::fs::write(&path, body).unwrap();
    let report = import(&store, &path).await.unwrap();
    let lines = report.reject_lines();
    assert_eq!(lines.len(), 4, "{lines:?}");
    for line in &lines {
        assert!(line.ends_with("column I (harga): price is negative (-Rp18.000)"), "{line}");
    }
}

/// An import that fails after it started (here: its rejects file cannot be
/// written) still finishes its run record, as failed, with the reason.
#[tokio::test]
async fn a_failed_import_finishes_its_run() {
    let store = common::fresh_store().await;
    common::load_cooperatives(&store).await;
    let tmp = common::temp_dir();
    let path = tmp.path().join("produk.csv");
    std::fs::write(&path, format!("{HEADER}{GOOD}MJK-WATES;W-01;Toko;BAD-1;Beras Pulen;x;Beras;gantang;1.000;;;;;\n")).unwrap();
    // a folder where the rejects file should go: it cannot be created
    std::fs::create_dir(tmp.path().join("produk.rejects.csv")).unwrap();
    let err = import(&store, &path).await.unwrap_err();
    assert!(err.to_string().contains("cannot write the rejects file"), "{err}");
    let (status, error): (String, Option<String>) =
        sqlx::query_as("SELECT status, error FROM sync_runs WHERE kind = 'import-products' ORDER BY id DESC LIMIT 1").fetch_one(store.pool()).await.unwrap();
    assert_eq!(status, "failed");
    assert!(error.unwrap_or_default().contains("rejects file"));
}
