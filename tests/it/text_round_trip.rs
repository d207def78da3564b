//! Property: any Unicode text put in any text column of a product file is
//! either rejected with its row and column, or held back by the mapping with
//! an issue on that field, or comes back unchanged (after the documented
//! whitespace tidying) from every output format, read back by an independent
//! parser: serde_json for katalog-v6, calamine for the bulk-upload workbooks,
//! roxmltree for the PEPPOL catalogue (not the project's own XML reader).

use crate::common;

use std::collections::HashMap;
use std::path::Path;

use calamine::{Reader, Xlsx};
use katalog_bridge::catalog::Format;
use katalog_bridge::listings::{MapOptions, MapReport, Output, map_products};
use katalog_bridge::mapping::MappingSource;
use katalog_bridge::mapping::plan::Tables;
use katalog_bridge::mapping::units::UnitTable;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

const HEADER: [&str; 13] = [
    "kode_koperasi",
    "kode_anggota",
    "nama_anggota",
    "sku",
    "nama_produk",
    "deskripsi",
    "kategori",
    "satuan",
    "harga",
    "berat_kg",
    "lokasi_produksi",
    "merek",
    "foto",
];

/// A fuzzed column: its index in HEADER, and where each format carries it
/// (the JSON key / workbook heading / PEPPOL item element), if it does.
struct Fuzzed {
    column: usize,
    v6: Option<&'static str>,
    xlsx: Option<&'static str>,
    peppol: Option<(&'static str, &'static str)>, // (element under Item, issue field)
}

const FUZZED: [Fuzzed; 4] = [
    Fuzzed { column: 4, v6: Some("nama_produk"), xlsx: Some("nama_produk"), peppol: Some(("Name", "name")) },
    Fuzzed { column: 5, v6: Some("deskripsi"), xlsx: Some("deskripsi"), peppol: Some(("Description", "description")) },
    Fuzzed { column: 10, v6: Some("lokasi_produksi"), xlsx: Some("lokasi_produksi"), peppol: None },
    Fuzzed { column: 11, v6: Some("merek"), xlsx: None, peppol: Some(("BrandName", "brand")) },
];

/// The documented tidying: trimmed, each run of whitespace one space.
fn tidied(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// (text, which fuzzed column): each hand-picked text in every column, the
/// generated ones spread over the columns.
fn strings() -> Vec<(String, usize)> {
    let picked: Vec<String> = [
        "Tahu &amp; Tempe",
        "Kopi & <Susu> \"asli\" 'Jos'",
        "]]> <![CDATA[x]]>",
        "_x0041_ _x005F_ __x00e9_",
        "baris\r\nbaru\n\ndan\ttab",
        "  spasi  di  tepi  ",
        "\u{0}nul",
        "bel\u{7}",
        "esc\u{1b}[31m",
        "\u{85}NEL",
        "\u{9f}c1",
        "\u{fffe}",
        "\u{ffff}",
        "\u{feff}BOM",
        "\u{2028}line sep",
        "emoji 😀 dan ﷽",
        "=1+2",
        ";titik;koma;",
        "\"\"",
        "",
        "x",
        "Ünïcödé ñ 漢字 ꦗꦮ",
        "\u{200b}zero width",
        "\u{fdd0}",
        "a\u{10ffff}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut out: Vec<(String, usize)> = picked.iter().flat_map(|t| (0..FUZZED.len()).map(move |c| (t.clone(), c))).collect();
    let mut runner = TestRunner::deterministic();
    let any = proptest::arbitrary::any::<String>();
    let tricky = proptest::string::string_regex("[ \\t\\n\\r&<>\"';_xA-F0-9\\x00-\\x1f\\x7f-\\u{9f}a-zé\\u{feff}\\u{2028}\\u{fffe}😀]{0,40}").unwrap();
    for i in 0..60 {
        out.push((any.new_tree(&mut runner).unwrap().current(), i % FUZZED.len()));
        out.push((tricky.new_tree(&mut runner).unwrap().current(), (i + 1) % FUZZED.len()));
    }
    out
}

fn base_row(i: usize) -> Vec<String> {
    [
        "MJK-WATES",
        "W-01",
        "Toko Uji",
        &format!("P-{i:04}"),
        &format!("Produk Uji Nomor {i}"),
        "Deskripsi uji",
        "Minyak Goreng",
        "botol",
        "18.000",
        "1",
        "Mojokerto",
        "Merek Uji",
        &format!("https://f.id/{i}.jpg"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn letter(i: usize) -> char {
    (b'A' + i as u8) as char
}

async fn map_to(store: &katalog_bridge::store::Store, format: Format, out: &Path) -> MapReport {
    let tables = Tables::load(&MappingSource::BuiltIn).unwrap();
    let plan = format.plan(&MappingSource::BuiltIn, &tables).unwrap();
    let options = MapOptions {
        cooperative: Some("MJK-WATES".into()),
        out: Output::Path(out.to_owned()),
        issue_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
        photo_base: "https://katalog.example".into(),
        products: None,
    };
    map_products(store, &plan, format, &options).await.unwrap()
}

/// Whether `report` holds `sku` back with a blocking issue on `field`.
fn blocked_on(report: &MapReport, sku: &str, field: &str) -> bool {
    report
        .issues
        .iter()
        .any(|p| p.sku == sku && p.issues.iter().any(|i| i.field == field && matches!(i.severity, katalog_bridge::mapping::rules::Severity::Blocking)))
}

#[tokio::test]
async fn any_text_is_rejected_held_back_or_comes_back_unchanged() {
    let store = common::fresh_store().await;
    common::load_cooperatives(&store).await;
    let tmp = common::temp_dir();
    let texts = strings();
    // row i+2 of the file: text i in fuzzed column i % 4
    let mut writer = csv::WriterBuilder::new().delimiter(b';').from_path(tmp.path().join("teks.csv")).unwrap();
    writer.write_record(HEADER).unwrap();
    let mut cases = Vec::new();
    for (i, (text, which)) in texts.iter().enumerate() {
        let fuzzed = &FUZZED[*which];
        let mut row = base_row(i);
        row[fuzzed.column] = text.clone();
        writer.write_record(&row).unwrap();
        cases.push((i, fuzzed, text));
    }
    writer.flush().unwrap();
    drop(writer);
    let units = UnitTable::load(&MappingSource::BuiltIn).unwrap();
    let report =
        katalog_bridge::intake::products::import_products(&store, &units, &tmp.path().join("teks.csv"), None, &Default::default(), &Default::default())
            .await
            .unwrap();
    // Every rejected row, from the rejects file: its row and the columns at fault.
    let mut rejected: HashMap<u64, Vec<String>> = HashMap::new();
    if let Some(file) = &report.rejects_file {
        let mut reader = csv::ReaderBuilder::new().delimiter(b';').flexible(true).from_path(file).unwrap();
        for record in reader.byte_records() {
            let record = record.unwrap();
            let row: u64 = std::str::from_utf8(&record[0]).unwrap().parse().unwrap();
            let columns = String::from_utf8_lossy(&record[1]).split(", ").map(str::to_owned).collect();
            rejected.insert(row, columns);
        }
    }
    assert_eq!(rejected.len() as u64, report.rejected);

    let out = common::temp_dir();
    let v6_report = map_to(&store, Format::KatalogV6, &out.path().join("v6")).await;
    let xlsx_report = map_to(&store, Format::KatalogV6Xlsx, &out.path().join("xlsx")).await;
    let peppol_report = map_to(&store, Format::PeppolCatalogue, &out.path().join("peppol")).await;

    // katalog-v6 through serde_json
    let v6: HashMap<String, serde_json::Value> = std::fs::read_to_string(out.path().join("v6/MJK-WATES.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("valid JSON"))
        // the sku is the seller's item id, MEMBER/SKU
        .map(|v| (v["sku"].as_str().unwrap().rsplit('/').next().unwrap_or_default().to_owned(), v))
        .collect();
    // the workbooks through calamine
    let mut xlsx: HashMap<String, HashMap<String, String>> = HashMap::new();
    for book in std::fs::read_dir(out.path().join("xlsx/MJK-WATES")).unwrap() {
        let mut book: Xlsx<_> = calamine::open_workbook(book.unwrap().path()).expect("a readable workbook");
        let range = book.worksheet_range("Produk").unwrap();
        let mut rows = range.rows();
        let headings: Vec<String> = rows.next().unwrap().iter().map(|c| c.to_string()).collect();
        for row in rows {
            let cells: HashMap<String, String> = headings.iter().cloned().zip(row.iter().map(|c| c.to_string())).collect();
            // the sku column holds the seller's item id, MEMBER/SKU
            let sku = cells["sku"].rsplit('/').next().unwrap_or_default().to_owned();
            xlsx.insert(sku, cells);
        }
    }
    // the PEPPOL catalogue through roxmltree: each CatalogueLine's Item children by local name
    let doc = std::fs::read_to_string(out.path().join("peppol/MJK-WATES.xml")).unwrap();
    let tree = roxmltree::Document::parse(&doc).expect("well-formed XML");
    let mut peppol: HashMap<String, HashMap<String, String>> = HashMap::new();
    for catalogue_line in tree.root_element().children().filter(|n| n.tag_name().name() == "CatalogueLine") {
        let item = catalogue_line.children().find(|n| n.tag_name().name() == "Item").expect("a line has an Item");
        let mut line: HashMap<String, String> = HashMap::new();
        for child in item.children().filter(|n| n.is_element()) {
            let name = child.tag_name().name();
            if name == "SellersItemIdentification" {
                // the seller's item id is member code / SKU
                let id = child.children().find(|n| n.tag_name().name() == "ID").and_then(|n| n.text()).unwrap_or_default();
                line.insert("sku".into(), id.rsplit_once('/').map_or(id, |(_, sku)| sku).to_owned());
            } else if child.children().all(|n| n.is_text()) {
                line.insert(name.to_owned(), child.children().filter_map(|n| n.text()).collect());
            }
        }
        peppol.insert(line["sku"].clone(), line);
    }

    let mut seen = [0usize; 3]; // rows rejected, held back somewhere, round-tripped everywhere
    for (i, fuzzed, text) in cases {
        let row = i as u64 + 2;
        let sku = format!("P-{i:04}");
        let column = format!("{} ({})", letter(fuzzed.column), HEADER[fuzzed.column]);
        if let Some(issues) = rejected.get(&row) {
            assert!(issues.iter().all(|c| *c == column), "row {row} {text:?}: rejected on another column: {issues:?}");
            seen[0] += 1;
            continue;
        }
        let expected = tidied(text);
        let mut held = false;
        if let Some(key) = fuzzed.v6 {
            match v6.get(&sku) {
                Some(v) => assert_eq!(v[key].as_str().unwrap_or(""), expected, "katalog-v6 {key} of {text:?}"),
                None => {
                    assert!(blocked_on(&v6_report, &sku, key), "katalog-v6 lost {sku} ({text:?}) without an issue on {key}");
                    held = true;
                }
            }
        }
        if let Some(heading) = fuzzed.xlsx {
            match xlsx.get(&sku) {
                Some(cells) => assert_eq!(cells[heading], expected, "workbook {heading} of {text:?}"),
                None => {
                    assert!(blocked_on(&xlsx_report, &sku, heading), "workbook lost {sku} ({text:?}) without an issue on {heading}");
                    held = true;
                }
            }
        }
        if let Some((element, field)) = fuzzed.peppol {
            match peppol.get(&sku) {
                Some(l) => assert_eq!(l.get(element).map(String::as_str).unwrap_or(""), expected, "PEPPOL {element} of {text:?}"),
                None => {
                    assert!(blocked_on(&peppol_report, &sku, field), "PEPPOL lost {sku} ({text:?}) without an issue on {field}");
                    held = true;
                }
            }
        }
        seen[if held { 1 } else { 2 }] += 1;
    }
    // The generated texts exercise every branch.
    assert!(seen.iter().all(|n| *n > 0), "rejected, held back, round-tripped: {seen:?}");
}
