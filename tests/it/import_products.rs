//! Product intake against a real PostgreSQL: the fixtures, idempotent
//! re-import, every kind of bad input, XLSX workbooks, and the CLI's exit codes.

use crate::common;

use std::path::{Path, PathBuf};

use katalog_bridge::config::ImportSettings;
use katalog_bridge::domain::cooperative::CooperativeCode;
use katalog_bridge::intake::products::import_products;
use katalog_bridge::intake::{ImportError, ImportOptions, ImportReport};
use katalog_bridge::mapping::MappingSource;
use katalog_bridge::mapping::units::UnitTable;
use katalog_bridge::store::Store;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn units() -> UnitTable {
    UnitTable::load(&MappingSource::BuiltIn).unwrap()
}

async fn import(store: &Store, path: &Path) -> Result<ImportReport, ImportError> {
    import_with(store, path, None, &ImportOptions::default()).await
}

async fn import_with(store: &Store, path: &Path, coop: Option<&str>, options: &ImportOptions) -> Result<ImportReport, ImportError> {
    let coop = coop.map(|c| CooperativeCode::parse(c).unwrap());
    import_products(store, &units(), path, coop.as_ref(), options, &ImportSettings::default()).await
}

fn fixture(name: &str) -> PathBuf {
    common::repo().join("fixtures/products").join(name)
}

/// Copies a fixture into a temp dir so rejects files do not land in the repository.
fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

async fn count(store: &Store, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}"))).fetch_one(store.pool()).await.unwrap()
}

async fn product(store: &Store, coop: &str, sku: &str) -> (String, String, String, Decimal, Option<Decimal>, Vec<String>) {
    sqlx::query_as(
        "SELECT p.name, p.category, p.unit, p.price, p.weight_kg, p.photo_urls FROM products p
         JOIN cooperatives c ON c.id = p.cooperative_id WHERE c.code = $1 AND p.sku = $2",
    )
    .bind(coop)
    .bind(sku)
    .fetch_one(store.pool())
    .await
    .unwrap()
}

const HEADER: &str = "kode_koperasi;kode_anggota;nama_anggota;sku;nama_produk;kategori;satuan;harga;berat_kg;foto\n";

#[tokio::test]
async fn imports_every_fixture_file() {
    let store = common::fresh_store().await;
    common::load_cooperatives(&store).await;
    let tmp = common::temp_dir();
    let mut total = 0;
    for name in ["magersari.csv", "prajurit-kulon.csv", "kranggan.xlsx"] {
        let copy = write(tmp.path(), name, std::fs::read(fixture(name)).unwrap());
        let report = import(&store, &copy).await.unwrap();
        assert_eq!(report.rejected, 0, "{name}: {:?}", report.reject_lines());
        assert_eq!(report.written.inserted, report.rows, "{name}");
        assert!(report.rejects_file.is_none());
        total += report.rows;
    }
    assert!(total >= 300, "the fixtures hold at least 300 products, got {total}");
    assert_eq!(count(&store, "products").await, total as i64);
    assert_eq!(count(&store, "cooperatives").await, 18);
    // every cooperative has products and members
    let empty: i64 = sqlx::query_scalar("SELECT count(*) FROM cooperatives c WHERE NOT EXISTS (SELECT 1 FROM products p WHERE p.cooperative_id = c.id)")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(empty, 0);

    // `;` CSV with a BOM, "Rp 76.000" prices, "0,25" weights and worded headers
    let (name, category, _, price, _, _) = product(&store, "MJK-BALONGSARI", "BRS-PRM-5").await;
    assert_eq!(name, "Beras Premium Mojokerto 5 kg");
    assert_eq!(category, "beras");
    assert_eq!(price.fract(), Decimal::ZERO);
    let weights: Vec<Option<Decimal>> = sqlx::query_scalar(
        "SELECT weight_kg FROM products p JOIN cooperatives c ON c.id = p.cooperative_id
         WHERE c.kecamatan = 'Magersari' AND sku = 'GRM-250'",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert!(weights.iter().flatten().all(|w| *w == dec!(0.25)), "{weights:?}");
    // XLSX number cells keep exact decimals
    let xlsx_weights: Vec<Decimal> = sqlx::query_scalar(
        "SELECT DISTINCT weight_kg FROM products p JOIN cooperatives c ON c.id = p.cooperative_id
         WHERE c.kecamatan = 'Kranggan' AND sku = 'MYK-1L' AND weight_kg IS NOT NULL",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert!(xlsx_weights.iter().all(|w| *w == dec!(0.95)), "{xlsx_weights:?}");
    // units written as "sak", "Karung", "psg" are stored as the local unit code
    let units: Vec<String> = sqlx::query_scalar("SELECT DISTINCT unit FROM products ORDER BY 1").fetch_all(store.pool()).await.unwrap();
    for u in &units {
        assert_eq!(self::units().resolve(u), Some(u.as_str()), "stored unit {u} is a unit code");
    }
    assert!(!units.contains(&"sak".to_string()) && !units.contains(&"psg".to_string()));
}

#[tokio::test]
async fn importing_the_same_file_again_changes_nothing() {
    let store = common::fresh_store().await;
    common::load_cooperatives(&store).await;
    let tmp = common::temp_dir();
    let file = write(tmp.path(), "magersari.csv", std::fs::read(fixture("magersari.csv")).unwrap());
    let first = import(&store, &file).await.unwrap();
    let snapshot = "SELECT string_agg(p::text || m::text || p.xmin::text || m.xmin::text, E'\\n' ORDER BY p.id)
                    FROM products p JOIN members m ON m.id = p.member_id";
    let before: String = sqlx::query_scalar(snapshot).fetch_one(store.pool()).await.unwrap();

    let second = import(&store, &file).await.unwrap();
    assert_eq!(second.rows, first.rows);
    assert_eq!((second.written.inserted, second.written.updated), (0, 0));
    assert_eq!(second.written.unchanged, first.rows);
    let after: String = sqlx::query_scalar(snapshot).fetch_one(store.pool()).await.unwrap();
    assert_eq!(before, after, "no row was rewritten (same values, same xmin, same updated_at)");

    // one changed price is one update
    let text = std::fs::read_to_string(&file).unwrap();
    let changed = text.replacen("Rp ", "Rp 1", 1);
    std::fs::write(&file, changed).unwrap();
    let third = import(&store, &file).await.unwrap();
    assert_eq!((third.written.inserted, third.written.updated, third.written.unchanged), (0, 1, first.rows - 1));
}

#[tokio::test]
async fn bad_rows_are_reported_by_row_and_column_and_good_rows_go_in() {
    let store = common::fresh_store().await;
    common::load_cooperatives(&store).await;
    let tmp = common::temp_dir();
    let mut body = HEADER.as_bytes().to_vec();
    let rows: &[&[u8]] = &[
        b"MJK-WATES;W-01;Toko Bu Sri;BRS-5;Beras Premium 5 kg;Beras;karung;Rp 74.500;5;https://f.id/a.jpg\n", // 2 good
        b"MJK-WATES;W-01;Toko Bu Sri;GLA-1;;Gula Pasir;kg;17.500;1;\n",                                       // 3 missing name
        b"MJK-WATES;W-01;Toko Bu Sri;MYK-1;Minyak Goreng 1 L;Minyak Goreng;botol;-18.000;1;\n",               // 4 negative price
        b"MJK-WATES;W-01;Toko Bu Sri;TLR-1;Telur Ayam 1 kg;Telur;kg;dua puluh ribu;1;\n",                     // 5 unparsable price
        b"MJK-WATES;W-01;Toko Bu Sri;TPG-1;Tepung Terigu 1 kg;Tepung;gantang;12.500;1;\n",                    // 6 unknown unit
        b"MJK-WATES;W-01;Toko Bu Sri;KCP-1;Kecap \xff\xfe Manis;Kecap;botol;24.000;0,7;\n",                   // 7 bad UTF-8
        b"MJK-ATLANTIS;A-01;Toko;X-1;Produk Entah;Lain;pcs;1.000;1;\n",                                       // 8 unknown cooperative
        b"MJK-WATES;W-01;Toko Bu Sri;BRS-5;Beras Premium 5 kg lagi;Beras;karung;74.000;5;\n",                 // 9 duplicate of row 2
        b"MJK-WATES;W-01;Toko Bu Sri;FOTO-1;Teh Celup isi 25;Teh;dus;7.500;0,05;foto-teh.jpg\n",              // 10 bad photo
        b"MJK-WATES;W-02;Batik Wates;BTK-1;Batik Tulis Maja;Batik Tulis;lembar;475.000;0,3;\n",               // 11 good
        b";;;;;;;;;\n",                                                                                       // 12 blank: skipped
        b"MJK-WATES;W-01;Toko Bu Sri;GRM-1;Garam 250 g;Garam;bungkus;3.000;nol;\n",                           // 13 bad weight
        b"MJK-WATES;W-01;Toko Bu Sri;ZERO-1;Barang Gratis;Lain;pcs;0;1;\n",                                   // 14 zero price
        b"MJK-WATES;W-01;Toko Bu Sri;TEH-2;Teh \x01Melati isi 25;Teh;dus;7.500;0,05;\n",                      // 15 control character
    ];
    for r in rows {
        body.extend_from_slice(r);
    }
    let file = write(tmp.path(), "produk.csv", &body);
    let report = import(&store, &file).await.unwrap();

    assert_eq!(report.rows, 13, "the blank row is not counted");
    assert_eq!(report.accepted, 2);
    assert_eq!(report.rejected, 11);
    assert_eq!(count(&store, "products").await, 2, "the good rows went in");
    let lines = report.reject_lines().join("\n");
    let file_name = file.display().to_string();
    for expected in [
        format!("{file_name}: row 3, column E (nama_produk): is empty"),
        format!("{file_name}: row 4, column H (harga): price is negative (-Rp18.000)"),
        format!("{file_name}: row 5, column H (harga): \"dua puluh ribu\" is not a number"),
        format!("{file_name}: row 6, column G (satuan): unknown unit \"gantang\""),
        format!("{file_name}: row 7, column E (nama_produk): is not valid UTF-8 text"),
        format!("{file_name}: row 8, column A (kode_koperasi): unknown cooperative MJK-ATLANTIS"),
        format!("{file_name}: row 9, column D (sku): duplicate: row 2 has the same cooperative, member and SKU"),
        format!("{file_name}: row 10, column J (foto): photo \"foto-teh.jpg\" is not a web address"),
        format!("{file_name}: row 13, column I (berat_kg): \"nol\" is not a number"),
        format!("{file_name}: row 14, column H (harga): price is zero"),
        format!("{file_name}: row 15, column E (nama_produk): contains an invisible control character (U+0001)"),
    ] {
        assert!(lines.contains(&expected), "missing {expected:?} in:\n{lines}");
    }

    // The rejects file beside the input holds every rejected row, as it was.
    let rejects = report.rejects_file.clone().unwrap();
    assert_eq!(rejects, tmp.path().join("produk.rejects.csv"));
    let mut reader = csv::ReaderBuilder::new().delimiter(b';').from_path(&rejects).unwrap();
    let headers = reader.headers().unwrap().clone();
    assert!(std::fs::read(&rejects).unwrap().starts_with(b"\xEF\xBB\xBF"), "a BOM, so Excel reads UTF-8");
    assert_eq!(&headers[0], "baris");
    assert_eq!(&headers[3], "kode_koperasi");
    let records: Vec<csv::ByteRecord> = reader.byte_records().map(Result::unwrap).collect();
    let rows_in_file: Vec<&[u8]> = records.iter().map(|r| &r[0]).collect();
    let expected: Vec<&[u8]> = ["3", "4", "5", "6", "7", "8", "9", "10", "13", "14", "15"].iter().map(|s| s.as_bytes()).collect();
    assert_eq!(rows_in_file, expected);
    assert_eq!(&records[1][1], b"H (harga)");
    assert_eq!(&records[1][3 + 3], b"MYK-1", "original values follow");

    // Fixing the rows in the rejects file and importing it brings them in.
    let bytes = std::fs::read(&rejects).unwrap();
    assert!(bytes.windows(2).any(|w| w == b"\xff\xfe"), "the invalid bytes are kept as they were, not replaced");
    let fixed = String::from_utf8_lossy(&bytes).replace("-18.000", "18.000").replace("Kecap \u{fffd}\u{fffd} Manis", "Kecap Manis");
    let fixed_file = write(tmp.path(), "produk-perbaikan.csv", fixed);
    let again = import(&store, &fixed_file).await.unwrap();
    // the two fixed rows go in, and the former duplicate of row 2 now updates that product
    assert_eq!((again.accepted, again.written.inserted, again.written.updated), (3, 2, 1), "{:?}", again.reject_lines());
    assert_eq!(count(&store, "products").await, 4);
    assert_eq!(product(&store, "MJK-WATES", "BRS-5").await.0, "Beras Premium 5 kg lagi");

    // A clean re-import removes the stale rejects file.
    let good = format!("{HEADER}MJK-WATES;W-01;Toko Bu Sri;BRS-5;Beras Premium 5 kg;Beras;karung;Rp 74.500;5;https://f.id/a.jpg\n");
    std::fs::write(&file, good).unwrap();
    let clean = import(&store, &file).await.unwrap();
    assert_eq!(clean.rejected, 0);
    assert!(!rejects.exists());
}

#[tokio::test]
async fn separators_bom_number_styles_and_sloppy_units_are_accepted() {
    let store = common::fresh_store().await;
    common::load_cooperatives(&store).await;
    let tmp = common::temp_dir();
    let comma = "\u{feff}Kode Koperasi,Kode Anggota,Nama Anggota,SKU,Nama Produk,Kategori,Satuan,Harga (Rp),Berat (kg)\n\
                 MJK-MIJI,M-01,Toko Miji,A,Gula Pasir 1 kg,  gula   PASIR ,  KG ,\"12.500,00\",\"1,0\"\n\
                 mjk-miji,M-01,Toko Miji,B,Beras 5 kg,Beras,Sak,Rp 74.500,5\n\
                 MJK-MIJI, M-01 ,Toko Miji,C,Minyak 2 L,Minyak Goreng,Bungkus.,\"35,500.50\",1.9\n";
    let file = write(tmp.path(), "comma.csv", comma);
    let report = import(&store, &file).await.unwrap();
    assert_eq!(report.rejected, 0, "{:?}", report.reject_lines());
    let (_, category, unit, price, weight, _) = product(&store, "MJK-MIJI", "A").await;
    assert_eq!((category.as_str(), unit.as_str(), price, weight), ("gula pasir", "kg", dec!(12500), Some(dec!(1))));
    let (_, _, unit, price, _, _) = product(&store, "MJK-MIJI", "B").await;
    assert_eq!((unit.as_str(), price), ("karung", dec!(74500)));
    let (_, _, unit, price, weight, _) = product(&store, "MJK-MIJI", "C").await;
    assert_eq!((unit.as_str(), price, weight), ("bungkus", dec!(35500.50), Some(dec!(1.9))));
    assert_eq!(count(&store, "members").await, 1, "' M-01 ' is the same member as 'M-01'");

    let tabs = "kode_koperasi\tkode_anggota\tnama_anggota\tsku\tnama_produk\tkategori\tsatuan\tharga\n\
                MJK-MIJI\tM-02\tBatik Miji\tT\tBatik Cap Mrico Bolong\tBatik Cap\tlembar\t185000\n";
    let report = import(&store, &write(tmp.path(), "tabs.txt", tabs)).await.unwrap();
    assert_eq!((report.accepted, report.rejected), (1, 0), "{:?}", report.reject_lines());
}

fn workbook(path: &Path, sheets: &[(&str, Vec<Vec<Cell>>)]) {
    let mut book = rust_xlsxwriter::Workbook::new();
    for (name, rows) in sheets {
        let sheet = book.add_worksheet().set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                match cell {
                    Cell::S(s) => sheet.write_string(r as u32, c as u16, *s).unwrap(),
                    Cell::N(n) => sheet.write_number(r as u32, c as u16, *n).unwrap(),
                    // as Excel saves it: the formula with its computed value
                    Cell::F(f, v) => sheet.write_formula(r as u32, c as u16, rust_xlsxwriter::Formula::new(*f).set_result(*v)).unwrap(),
                };
            }
        }
    }
    book.save(path).unwrap();
}

enum Cell {
    S(&'static str),
    N(f64),
    F(&'static str, &'static str),
}
use Cell::{N, S};

fn product_sheet(sku: &'static str, harga: Cell) -> Vec<Vec<Cell>> {
    vec![
        vec![S("kode_koperasi"), S("kode_anggota"), S("nama_anggota"), S("sku"), S("nama_produk"), S("kategori"), S("satuan"), S("harga"), S("berat_kg")],
        vec![S("MJK-MERI"), S("ME-01"), S("Toko Meri"), S(sku), S("Onde-Onde Kacang Hijau isi 10"), S("Kue Tradisional"), S("dus"), harga, N(0.5)],
    ]
}

#[tokio::test]
async fn xlsx_reads_the_first_sheet_or_the_named_one() {
    let store = common::fresh_store().await;
    common::load_cooperatives(&store).await;
    let tmp = common::temp_dir();
    let path = tmp.path().join("meri.xlsx");
    workbook(&path, &[("Januari", product_sheet("JAN", N(25000.0))), ("Februari", product_sheet("FEB", Cell::F("=20000+5500", "25500")))]);

    let report = import(&store, &path).await.unwrap();
    assert_eq!((report.accepted, report.rejected), (1, 0), "{:?}", report.reject_lines());
    assert_eq!(product(&store, "MJK-MERI", "JAN").await.3, dec!(25000));

    let options = ImportOptions { sheet: Some("februari".into()), ..Default::default() };
    let report = import_with(&store, &path, None, &options).await.unwrap();
    assert_eq!(report.accepted, 1, "{:?}", report.reject_lines());
    assert!(sqlx::query_scalar::<_, i64>("SELECT count(*) FROM products WHERE sku = 'FEB'").fetch_one(store.pool()).await.unwrap() == 1);

    let options = ImportOptions { sheet: Some("Maret".into()), ..Default::default() };
    let err = import_with(&store, &path, None, &options).await.unwrap_err().to_string();
    assert!(err.contains("no sheet named \"Maret\"") && err.contains("Januari, Februari"), "{err}");

    // a bad XLSX row names its column letter and row
    let bad = tmp.path().join("bad.xlsx");
    workbook(&bad, &[("Produk", product_sheet("BAD", S("gratis")))]);
    let report = import(&store, &bad).await.unwrap();
    assert_eq!(report.reject_lines(), vec![format!("{}: row 2, column H (harga): \"gratis\" is not a number", bad.display())]);
}

#[tokio::test]
async fn files_that_cannot_be_read_give_a_clear_error_and_import_nothing() {
    let store = common::fresh_store().await;
    common::load_cooperatives(&store).await;
    let tmp = common::temp_dir();
    let d = tmp.path();
    let cases: Vec<(PathBuf, &str)> = vec![
        (write(d, "empty.csv", ""), "is empty"),
        (write(d, "bom-only.csv", "\u{feff}\n\n"), "is empty"),
        (write(d, "photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"), "not a CSV or XLSX file (it holds binary data)"),
        (write(d, "old.xls", b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00"), "old Excel 97-2003 .xls"),
        (write(d, "broken.xlsx", b"PK\x03\x04garbage that is no zip"), "cannot read the workbook"),
        (
            write(d, "no-header.csv", "MJK-WATES;W-01;Toko;BRS-5;Beras;Beras;karung;74500\n"),
            "lacks the required columns kode_anggota, nama_anggota, sku, nama_produk, kategori, satuan, harga",
        ),
        (
            write(d, "header-latin1.csv", b"kode_koperasi;kode_anggota;nama_anggota;sku;nama_produk;kategori;satuan;harga;\xe9\n"),
            "header row (row 1) is not valid UTF-8",
        ),
        (
            write(d, "no-coop.csv", "kode_anggota;nama_anggota;sku;nama_produk;kategori;satuan;harga\nW;T;S;Nama Produk;K;kg;1\n"),
            "lacks the column kode_koperasi",
        ),
        (d.join("does-not-exist.csv"), "cannot read"),
    ];
    for (path, expected) in cases {
        let err = import(&store, &path).await.expect_err(&path.display().to_string()).to_string();
        assert!(err.contains(expected), "{}: {err}", path.display());
        assert!(err.contains(&path.display().to_string()), "the error names the file: {err}");
    }
    // over 100 MB (a sparse file: the size is checked before reading)
    let big = d.join("huge.csv");
    std::fs::File::create(&big).unwrap().set_len(100 * 1024 * 1024 + 1).unwrap();
    let err = import(&store, &big).await.unwrap_err();
    assert!(matches!(err, ImportError::TooLarge { .. }), "{err}");
    assert!(err.to_string().contains("over the 104857600-byte limit"), "{err}");
    assert_eq!(count(&store, "products").await, 0);
}

#[tokio::test]
async fn cooperative_option_fills_a_missing_column_and_guards_against_mixups() {
    let store = common::fresh_store().await;
    common::load_cooperatives(&store).await;
    let tmp = common::temp_dir();
    let body = "kode_anggota;nama_anggota;sku;nama_produk;kategori;satuan;harga\nK-01;Toko Kauman;A;Beras Premium 5 kg;Beras;karung;74500\n";
    let file = write(tmp.path(), "kauman.csv", body);
    let report = import_with(&store, &file, Some("mjk-kauman"), &ImportOptions::default()).await.unwrap();
    assert_eq!(report.accepted, 1);
    product(&store, "MJK-KAUMAN", "A").await;

    let mixed = "kode_koperasi;kode_anggota;nama_anggota;sku;nama_produk;kategori;satuan;harga\n\
                 MJK-KAUMAN;K-01;Toko Kauman;B;Gula Pasir 1 kg;Gula;kg;17500\n\
                 MJK-BLOOTO;B-01;Toko Blooto;C;Gula Pasir 1 kg;Gula;kg;17500\n\
                 ;K-01;Toko Kauman;D;Garam 250 g;Garam;bungkus;3000\n";
    let file = write(tmp.path(), "mixed.csv", mixed);
    let report = import_with(&store, &file, Some("MJK-KAUMAN"), &ImportOptions::default()).await.unwrap();
    assert_eq!((report.accepted, report.rejected), (2, 1));
    assert!(report.reject_lines()[0].contains("row 3, column A (kode_koperasi): row is for cooperative MJK-BLOOTO, but --cooperative MJK-KAUMAN was given"));

    let err = import_with(&store, &file, Some("MJK-NARNIA"), &ImportOptions::default()).await.unwrap_err().to_string();
    assert!(err.contains("cooperative MJK-NARNIA is not registered"), "{err}");
}

#[tokio::test]
async fn dry_run_reports_and_writes_nothing() {
    let store = common::fresh_store().await;
    common::load_cooperatives(&store).await;
    let tmp = common::temp_dir();
    let file = write(tmp.path(), "prajurit-kulon.csv", std::fs::read(fixture("prajurit-kulon.csv")).unwrap());
    let report = import_with(&store, &file, None, &ImportOptions { dry_run: true, ..Default::default() }).await.unwrap();
    assert!(report.rows > 100);
    assert_eq!(report.accepted, report.rows);
    assert_eq!(count(&store, "products").await, 0);
    assert_eq!(count(&store, "members").await, 0);
    assert!(report.summary().contains("dry run: nothing written"));
}

#[tokio::test]
async fn each_import_is_recorded_as_a_sync_run() {
    let store = common::fresh_store().await;
    common::load_cooperatives(&store).await;
    let tmp = common::temp_dir();
    let file = write(tmp.path(), "p.csv", format!("{HEADER}MJK-WATES;W;T;S;Nama Produk;K;pcs;-1;;\nMJK-WATES;W;T;S2;Nama Produk;K;pcs;1;;\n"));
    import(&store, &file).await.unwrap();
    let (kind, status, stats): (String, String, serde_json::Value) =
        sqlx::query_as("SELECT kind, status, stats FROM sync_runs WHERE kind = 'import-products' ORDER BY id DESC LIMIT 1")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!((kind.as_str(), status.as_str()), ("import-products", "partial"));
    assert_eq!(stats["rejected"], 1);
    assert_eq!(stats["written"]["inserted"], 1);
}

// ---- through the real binary: exit codes and output ----

fn cli(url: &str, args: &[&str]) -> (i32, String, String) {
    let out = common::binary().env("DATABASE_URL", url).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[tokio::test]
async fn cli_exit_status_is_0_1_or_2() {
    let (store, url) = common::fresh_db().await;
    let tmp = common::temp_dir();
    let coops = common::repo().join("fixtures/cooperatives.csv");
    let (code, out, err) = cli(&url, &["import", "cooperatives", coops.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("18 rows read, 18 imported (18 new, 0 updated, 0 unchanged), 0 rejected"), "{out}");

    let good = write(tmp.path(), "good.csv", format!("{HEADER}MJK-WATES;W;Toko;S1;Beras Premium 5 kg;Beras;karung;74.500;5;\n"));
    let (code, out, _) = cli(&url, &["import", "products", good.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(out.contains("1 rows read, 1 imported (1 new, 0 updated, 0 unchanged), 0 rejected"), "{out}");

    let some_bad = write(
        tmp.path(),
        "some-bad.csv",
        format!("{HEADER}MJK-WATES;W;Toko;S1;Beras Premium 5 kg;Beras;karung;74.500;5;\nMJK-WATES;W;Toko;S2;Gula;Gula;ons;1;1;\n"),
    );
    let (code, out, err) = cli(&url, &["import", "products", some_bad.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("row 3, column G (satuan): unknown unit \"ons\""), "{err}");
    assert!(out.contains("2 rows read, 1 imported (0 new, 0 updated, 1 unchanged), 1 rejected; rejected rows written to"), "{out}");

    let (code, _, err) = cli(&url, &["import", "products", tmp.path().join("missing.csv").to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.starts_with("error: cannot read") && err.lines().count() == 1, "{err}");
    let (code, _, err) = cli(&url, &["import", "products", "--no-such-flag", "x.csv"]);
    assert_eq!(code, 2, "{err}");
    drop(store);
}

/// Each cooperative's seller id on the catalogue is stored, and one id never
/// belongs to two cooperatives: a row that would do that is a bad row.
#[tokio::test]
async fn seller_ids_are_stored_and_never_shared() {
    let store = common::fresh_store().await;
    common::load_cooperatives(&store).await;
    let ids: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT code, kode_penyedia FROM cooperatives ORDER BY code").fetch_all(store.pool()).await.unwrap();
    assert_eq!(ids.len(), 18);
    assert!(ids.iter().all(|(_, id)| id.as_deref().is_some_and(|i| i.starts_with("P3576-"))), "{ids:?}");
    let tmp = common::temp_dir();
    let path = tmp.path().join("koperasi.csv");
    std::fs::write(
        &path,
        "kode,nama,kelurahan,kecamatan,kota,kode_penyedia\n\
         MJK-BARU,Koperasi Baru,Baru,Magersari,Kota Mojokerto,P3576-0001\n\
         MJK-LAIN,Koperasi Lain,Lain,Magersari,Kota Mojokerto,P-LAIN\n\
         MJK-LAIN2,Koperasi Lain Dua,Lain,Magersari,Kota Mojokerto,P-LAIN\n\
         MJK-SPASI,Koperasi Spasi,Spasi,Magersari,Kota Mojokerto,P 1\n",
    )
    .unwrap();
    let report = katalog_bridge::intake::cooperatives::import_cooperatives(&store, &path, &Default::default(), &Default::default()).await.unwrap();
    let lines = report.reject_lines().join("\n");
    assert!(lines.contains("row 2, column F (kode_penyedia): seller id P3576-0001 already belongs to cooperative MJK-BALONGSARI"), "{lines}");
    assert!(lines.contains("row 4, column F (kode_penyedia): duplicate: row 3 has the same seller id P-LAIN"), "{lines}");
    assert!(lines.contains("row 5, column F (kode_penyedia): seller id \"P 1\" is not valid"), "{lines}");
    assert_eq!((report.accepted, report.rejected), (1, 3));
}

/// Re-importing a file that lacks columns never erases what it does not
/// carry: a cooperatives file without `kode_penyedia`, `email` and `gln`
/// leaves all three as they were for every cooperative, and a product file
/// without `stok`, `foto` and `aktif` leaves the stock, photos and a
/// withdrawal alone. An empty cell in a column the file has clears the value,
/// and the report counts it.
#[tokio::test]
async fn a_reimport_leaves_absent_columns_alone_and_empty_cells_clear() {
    use katalog_bridge::intake::cooperatives::import_cooperatives;
    let store = common::fresh_store().await;
    common::load_cooperatives(&store).await;
    let tmp = common::temp_dir();
    let snapshot = "SELECT string_agg(code || ':' || coalesce(kode_penyedia, '-') || ':' || coalesce(email, '-') || ':' || coalesce(gln, '-') || ':' || coalesce(nib, '-'), ',' ORDER BY code) FROM cooperatives";
    let before: String = sqlx::query_scalar(snapshot).fetch_one(store.pool()).await.unwrap();
    assert!(!before.contains(":-:"), "the fixtures give every cooperative a seller id, e-mail and GLN: {before}");

    // The fixture file without the three columns: names changed, nothing erased.
    let full = std::fs::read_to_string(common::repo().join("fixtures/cooperatives.csv")).unwrap();
    let narrow: String = full
        .lines()
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            cells[..8].join(",") + "\n" // kode .. pkp
        })
        .collect();
    let path = write(tmp.path(), "koperasi-sempit.csv", narrow);
    let report = import_cooperatives(&store, &path, &Default::default(), &Default::default()).await.unwrap();
    assert_eq!((report.rejected, report.written.cleared), (0, 0), "{}", report.summary());
    let after: String = sqlx::query_scalar(snapshot).fetch_one(store.pool()).await.unwrap();
    assert_eq!(after, before, "a column the file lacks is left alone");

    // An empty e-mail cell in a present column clears that one value, and the report says so.
    let with_email: String = full
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let cells: Vec<&str> = l.split(',').collect();
            let email = if i == 1 { "" } else { cells[10] };
            format!("{},{email}\n", cells[..5].join(","))
        })
        .collect();
    let path = write(tmp.path(), "koperasi-email.csv", with_email);
    let report = import_cooperatives(&store, &path, &Default::default(), &Default::default()).await.unwrap();
    assert_eq!((report.written.updated, report.written.cleared), (1, 1), "{}", report.summary());
    assert!(report.summary().contains("1 stored values cleared by empty cells"), "{}", report.summary());
    let first = full.lines().nth(1).unwrap().split(',').next().unwrap().to_owned();
    let (email, seller): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT email, kode_penyedia FROM cooperatives WHERE code = $1").bind(&first).fetch_one(store.pool()).await.unwrap();
    assert_eq!(email, None, "the empty cell cleared the e-mail");
    assert!(seller.is_some(), "the seller id, in no column of that file, is kept");

    // Products: stock, photos and a withdrawal survive a file without those columns.
    let full = "kode_koperasi;kode_anggota;nama_anggota;sku;nama_produk;kategori;satuan;harga;stok;foto;aktif;merek\n\
                MJK-BALONGSARI;BAL-01;Unit Sembako;GUL-1;Gula Pasir Putih 1 kg;Gula;Bungkus;17000;40;https://foto.example/g.jpg;ya;Gulaku\n\
                MJK-BALONGSARI;BAL-01;Unit Sembako;MNY-1;Minyak Goreng 1 liter;Minyak Goreng;Botol;18000;12;https://foto.example/m.jpg;tidak;Bimoli\n";
    let report = import(&store, &write(tmp.path(), "produk-lengkap.csv", full)).await.unwrap();
    assert_eq!((report.rejected, report.written.inserted), (0, 2), "{:?}", report.reject_lines());
    let narrow = "kode_koperasi;kode_anggota;nama_anggota;sku;nama_produk;kategori;satuan;harga;merek\n\
                  MJK-BALONGSARI;BAL-01;Unit Sembako;GUL-1;Gula Pasir Putih 1 kg;Gula;Bungkus;17500;\n\
                  MJK-BALONGSARI;BAL-01;Unit Sembako;MNY-1;Minyak Goreng 1 liter;Minyak Goreng;Botol;18000;Bimoli\n";
    let report = import(&store, &write(tmp.path(), "produk-harga.csv", narrow)).await.unwrap();
    assert_eq!((report.written.updated, report.written.unchanged, report.written.cleared), (1, 1, 1), "{}", report.summary());
    type Row = (String, Decimal, Decimal, Vec<String>, bool, Option<String>);
    let rows: Vec<Row> =
        sqlx::query_as("SELECT sku, price, stock, photo_urls, active, brand FROM products ORDER BY sku").fetch_all(store.pool()).await.unwrap();
    assert_eq!(
        rows,
        vec![
            ("GUL-1".into(), dec!(17500), dec!(40), vec!["https://foto.example/g.jpg".to_owned()], true, None),
            ("MNY-1".into(), dec!(18000), dec!(12), vec!["https://foto.example/m.jpg".to_owned()], false, Some("Bimoli".into())),
        ],
        "the new price and the emptied brand are taken; stock, photos and the withdrawal are kept"
    );
}
