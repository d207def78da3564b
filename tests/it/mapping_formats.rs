//! Mapping the fixtures through the store into each format: golden files,
//! PEPPOL conformance (XSD and Schematron), line actions, stored listings,
//! and broken mapping files.

use crate::common;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use katalog_bridge::catalog::Format;
use katalog_bridge::listings::{MapOptions, MapReport, Output, map_products};
use katalog_bridge::mapping::MappingSource;
use katalog_bridge::mapping::plan::{Plan, Tables};
use katalog_bridge::store::Store;

const ISSUE_DATE: &str = "2026-11-27";

async fn store_with_fixtures() -> Store {
    let store = common::fresh_store().await;
    common::load_cooperatives(&store).await;
    let units = katalog_bridge::mapping::units::UnitTable::load(&MappingSource::BuiltIn).unwrap();
    let tmp = common::temp_dir();
    for name in ["magersari.csv", "prajurit-kulon.csv", "kranggan.xlsx"] {
        let copy = tmp.path().join(name);
        std::fs::copy(common::repo().join("fixtures/products").join(name), &copy).unwrap();
        katalog_bridge::intake::products::import_products(&store, &units, &copy, None, &Default::default(), &Default::default()).await.unwrap();
    }
    store
}

fn plan(format: Format) -> Plan {
    let tables = Tables::load(&MappingSource::BuiltIn).unwrap();
    format.plan(&MappingSource::BuiltIn, &tables).unwrap()
}

async fn map(store: &Store, format: Format, out: &Path, cooperative: Option<&str>) -> MapReport {
    let options = MapOptions {
        cooperative: cooperative.map(str::to_owned),
        out: Output::Path(out.to_owned()),
        issue_date: NaiveDate::parse_from_str(ISSUE_DATE, "%Y-%m-%d").unwrap(),
        photo_base: "https://katalog.example".into(),
        products: None,
    };
    map_products(store, &plan(format), format, &options).await.unwrap()
}

/// Whether golden files are to be rewritten (`UPDATE_GOLDEN` set). Never in
/// CI, where a golden test that rewrites its expectation could not fail.
fn updating() -> bool {
    let set = std::env::var_os("UPDATE_GOLDEN").is_some();
    assert!(!(set && std::env::var_os("CI").is_some()), "UPDATE_GOLDEN is set under CI: the golden tests would check nothing");
    set
}

/// Compares with `tests/golden/NAME`; `UPDATE_GOLDEN=1` rewrites it, and says
/// so for every file it changed.
fn golden(name: &str, actual: &str) {
    let path = common::repo().join("tests/golden").join(name);
    if updating() {
        if std::fs::read_to_string(&path).ok().as_deref() != Some(actual) {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, actual).unwrap();
            eprintln!("UPDATE_GOLDEN: rewrote {}", path.display());
        }
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{} missing: run with UPDATE_GOLDEN=1", path.display()));
    if expected != actual {
        let line = expected.lines().zip(actual.lines()).position(|(a, b)| a != b).unwrap_or(0);
        panic!(
            "{} differs at line {}:\n  expected: {}\n  actual:   {}\n(run with UPDATE_GOLDEN=1 if the change is intended)",
            path.display(),
            line + 1,
            expected.lines().nth(line).unwrap_or(""),
            actual.lines().nth(line).unwrap_or("")
        );
    }
}

/// Re-indents a document so golden diffs are readable (the program writes it unindented).
fn pretty(xml: &str) -> String {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut writer = quick_xml::Writer::new_with_indent(Vec::new(), b' ', 2);
    loop {
        match reader.read_event().unwrap() {
            Event::Eof => break,
            e => writer.write_event(e).unwrap(),
        }
    }
    String::from_utf8(writer.into_inner()).unwrap() + "\n"
}

/// Compares every file under `produced` (as `render` shows it) with the golden
/// files under `tests/golden/NAME/`: the same set of files, each the same.
/// `UPDATE_GOLDEN=1` rewrites the set (and removes golden files no longer produced).
fn golden_set(name: &str, produced: &Path, render: impl Fn(&Path) -> (String, String)) {
    let mut actual: Vec<(String, String)> = common::walk(produced).iter().map(|p| render(p)).collect();
    actual.sort();
    let dir = common::repo().join("tests/golden").join(name);
    let expected_names: Vec<String> =
        common::walk(&dir).iter().map(|p| p.strip_prefix(&dir).unwrap().to_string_lossy().into_owned()).filter(|n| n != "issues.txt").collect();
    if updating() {
        for stale in expected_names.iter().filter(|n| !actual.iter().any(|(a, _)| a == *n)) {
            std::fs::remove_file(dir.join(stale)).unwrap();
            eprintln!("UPDATE_GOLDEN: removed {}", dir.join(stale).display());
        }
    } else {
        let actual_names: Vec<&String> = actual.iter().map(|(n, _)| n).collect();
        assert_eq!(actual_names, expected_names.iter().collect::<Vec<_>>(), "the files produced differ from the golden set {name}/");
    }
    for (file, text) in actual {
        golden(&format!("{name}/{file}"), &text);
    }
}

/// Every file under `dir`, sorted, recursively.
fn issues_text(report: &MapReport) -> String {
    let mut text = report.issue_lines().join("\n");
    text.push('\n');
    text
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn katalog_v6_golden() {
    let store = store_with_fixtures().await;
    let tmp = common::temp_dir();
    let out = tmp.path().join("v6");
    let report = map(&store, Format::KatalogV6, &out, None).await;
    assert_eq!(report.products, 332);
    assert_eq!(report.written + report.blocked, 332);
    assert_eq!(files(&out).len(), 18, "one file per seller");
    golden_set("katalog-v6", &out, |p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(p).unwrap()));
    golden("katalog-v6/issues.txt", &issues_text(&report));
    let mut lines = 0;
    for file in files(&out) {
        let seller = file.file_stem().unwrap().to_string_lossy().into_owned();
        for line in std::fs::read_to_string(&file).unwrap().lines() {
            lines += 1;
            // every line is a JSON object with exact integer prices, in its own seller's file
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(v["harga"].is_u64() && v["harga_termasuk_pajak"].is_u64(), "{line}");
            let owner: String = sqlx::query_scalar(
                "SELECT c.code FROM products p JOIN cooperatives c ON c.id = p.cooperative_id JOIN members m ON m.id = p.member_id
                 WHERE m.code || '/' || p.sku = $1 AND m.code = $2",
            )
            .bind(v["sku"].as_str().unwrap())
            .bind(v["kode_anggota"].as_str().unwrap())
            .fetch_one(store.pool())
            .await
            .unwrap();
            assert_eq!(owner, seller, "{line}");
        }
    }
    assert_eq!(lines, report.written);
}

#[tokio::test]
async fn bulk_upload_golden() {
    use calamine::{Reader, Xlsx, open_workbook};
    let store = store_with_fixtures().await;
    let tmp = common::temp_dir();
    let out = tmp.path().join("xlsx");
    let report = map(&store, Format::KatalogV6Xlsx, &out, None).await;
    let rows = std::cell::Cell::new(0usize);
    let names = std::cell::RefCell::new(Vec::<String>::new());
    assert_eq!(files(&out).len(), 18, "one folder per seller");
    golden_set("katalog-v6-xlsx", &out, |file| {
        let mut book: Xlsx<_> = open_workbook(file).unwrap();
        let range = book.worksheet_range("Produk").unwrap();
        let text: String = range.rows().map(|r| r.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(",") + "\n").collect();
        rows.set(rows.get() + range.height() - 1);
        let name_col = range.rows().next().unwrap().iter().position(|c| *c == "nama_produk").unwrap();
        names.borrow_mut().extend(range.rows().skip(1).map(|r| r[name_col].to_string()));
        let seller = file.parent().unwrap().file_name().unwrap().to_string_lossy().into_owned();
        (format!("{seller}/{}.csv", file.file_stem().unwrap().to_string_lossy()), text)
    });
    assert_eq!(rows.get() as u64, report.written);
    golden("katalog-v6-xlsx/issues.txt", &issues_text(&report));
    // nothing is cut to fit: every name in the workbooks is 10-100 characters long, and
    // the products whose names are not are held back with their issue instead
    assert_eq!(names.borrow().len() as u64, report.written);
    for name in names.borrow().iter() {
        assert!((10..=100).contains(&name.chars().count()), "{name:?}");
    }
    assert!(report.issue_lines().iter().any(|l| l.contains("tkdn_not_in_bulk_upload")));
}

#[tokio::test]
async fn peppol_golden() {
    let store = store_with_fixtures().await;
    let tmp = common::temp_dir();
    let report = map(&store, Format::PeppolCatalogue, tmp.path(), None).await;
    assert_eq!(files(tmp.path()).len(), 18, "one document per cooperative");
    for file in files(tmp.path()) {
        golden(&format!("peppol-catalogue/{}", file.file_name().unwrap().to_string_lossy()), &pretty(&std::fs::read_to_string(&file).unwrap()));
    }
    golden("peppol-catalogue/issues.txt", &issues_text(&report));
}

#[tokio::test]
async fn listings_are_stored_with_issues_and_remapping_changes_nothing() {
    let store = store_with_fixtures().await;
    let tmp = common::temp_dir();
    let report = map(&store, Format::KatalogV6, &tmp.path().join("a"), None).await;
    let (blocked, draft): (i64, i64) =
        sqlx::query_as("SELECT count(*) FILTER (WHERE state = 'blocked'), count(*) FILTER (WHERE state = 'draft') FROM listings WHERE format = 'katalog-v6'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!((blocked as u64, draft as u64), (report.blocked, report.written));
    let issues: serde_json::Value = sqlx::query_scalar("SELECT issues FROM listings WHERE state = 'blocked' LIMIT 1").fetch_one(store.pool()).await.unwrap();
    let first = &issues[0];
    assert!(first["code"].is_string() && first["field"].is_string() && first["message"].is_string());
    assert_eq!(first["severity"], "blocking");
    let snapshot = "SELECT string_agg(l::text || l.xmin::text, E'\\n' ORDER BY product_id, format) FROM listings l";
    let before: String = sqlx::query_scalar(snapshot).fetch_one(store.pool()).await.unwrap();
    map(&store, Format::KatalogV6, &tmp.path().join("b"), None).await;
    let after: String = sqlx::query_scalar(snapshot).fetch_one(store.pool()).await.unwrap();
    assert_eq!(before, after);
    for file in files(&tmp.path().join("a")) {
        let twin = tmp.path().join("b").join(file.file_name().unwrap());
        assert_eq!(std::fs::read(&file).unwrap(), std::fs::read(twin).unwrap());
    }
}

#[tokio::test]
async fn peppol_documents_pass_xsd_and_schematron_with_add_update_and_delete_lines() {
    let store = store_with_fixtures().await;
    let first = common::temp_dir();
    map(&store, Format::PeppolCatalogue, first.path(), None).await;

    // The catalogue accepts MJK-WATES's lines; then one price changes and one product is withdrawn.
    sqlx::query(
        "INSERT INTO publications (product_id, seller, channel, state, want_hash, sent_hash, remote_id)
         SELECT l.product_id, c.kode_penyedia, 'peppol', 'live', l.content_hash, l.content_hash, 'L' || l.product_id
         FROM listings l JOIN products p ON p.id = l.product_id JOIN cooperatives c ON c.id = p.cooperative_id
         WHERE c.code = 'MJK-WATES' AND l.format = 'peppol-catalogue' AND l.state = 'draft'",
    )
    .execute(store.pool())
    .await
    .unwrap();
    let (changed, withdrawn): (String, String) = sqlx::query_as(
        "SELECT (array_agg(p.sku ORDER BY p.sku))[1], (array_agg(p.sku ORDER BY p.sku))[2] FROM products p
         JOIN cooperatives c ON c.id = p.cooperative_id JOIN publications pb ON pb.product_id = p.id
         WHERE c.code = 'MJK-WATES' AND pb.state = 'live' AND p.member_id = (SELECT min(member_id) FROM products WHERE cooperative_id = c.id)",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    let member: String =
        sqlx::query_scalar("SELECT m.code FROM members m JOIN cooperatives c ON c.id = m.cooperative_id WHERE c.code = 'MJK-WATES' ORDER BY m.id LIMIT 1")
            .fetch_one(store.pool())
            .await
            .unwrap();
    sqlx::query("UPDATE products SET price = price + 500 WHERE sku = $1 AND member_id = (SELECT id FROM members WHERE code = $2)")
        .bind(&changed)
        .bind(&member)
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE products SET active = false WHERE sku = $1 AND member_id = (SELECT id FROM members WHERE code = $2)")
        .bind(&withdrawn)
        .bind(&member)
        .execute(store.pool())
        .await
        .unwrap();
    let second = common::temp_dir();
    let report = map(&store, Format::PeppolCatalogue, second.path(), Some("MJK-WATES")).await;
    let doc = std::fs::read_to_string(second.path().join("MJK-WATES.xml")).unwrap();
    assert!(doc.contains("<cbc:ID>MJK-WATES-20261127</cbc:ID><cbc:ActionCode>Update</cbc:ActionCode>"), "header action: {doc}");
    assert_eq!(doc.matches("<cac:CatalogueLine>").count(), 2, "only the changed and the withdrawn product: {doc}");
    assert!(doc.contains("<cbc:ActionCode>Update</cbc:ActionCode><cbc:OrderableIndicator>true"));
    assert!(doc.contains("<cbc:ActionCode>Delete</cbc:ActionCode><cbc:OrderableIndicator>false"));
    // the seller's item id is the member code and the SKU: unique per seller
    assert!(doc.contains(&format!("<cbc:ID>{member}/{changed}</cbc:ID>")) && doc.contains(&format!("<cbc:ID>{member}/{withdrawn}</cbc:ID>")), "{doc}");
    assert_eq!((report.deleted, report.written), (1, 1));
    assert!(report.unchanged > 0);

    // Both runs' documents conform.
    for f in files(second.path()) {
        std::fs::copy(&f, first.path().join(format!("update-{}", f.file_name().unwrap().to_string_lossy()))).unwrap();
    }
    common::assert_ubl_valid(first.path(), "maindoc/UBL-Catalogue-2.1.xsd", "PEPPOLBIS-T19.xslt");
}

fn check_mappings(dir: &Path) -> (i32, String) {
    let out = common::binary().args(["mappings", "check", "--dir"]).arg(dir).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with(&format!("checking the mappings in {}", dir.display())), "says which set it checks: {stdout}");
    let rest: String = stdout.lines().skip(1).map(|l| format!("{l}\n")).collect();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned() + &rest)
}

/// Replaces `from` by `to` in one mapping file and returns the 1-based line of the change.
fn break_file(dir: &Path, file: &str, from: &str, to: &str) -> usize {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let at = text.find(from).unwrap_or_else(|| panic!("{from} not in {file}"));
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    text[..at].matches('\n').count() + 1
}

#[test]
fn mappings_check_reports_file_line_and_reason() {
    let ok = common::copy_mappings();
    let (code, out) = check_mappings(ok.path());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("mappings are valid"));

    let cases: &[(&str, &str, &str, &str)] = &[
        ("katalog-v6.toml", "nama_produk = \"product.name\"", "nama_produk = \"product.nama\"", "unknown source field \"product.nama\" for nama_produk"),
        ("katalog-v6.toml", "lookup = \"units.v6_unit\"", "lookup = \"satuan.v6_unit\"", "lookup table \"satuan\" does not exist"),
        ("katalog-v6.toml", "lookup = \"units.v6_unit\"", "lookup = \"units.v7_unit\"", "table units has no column \"v7_unit\""),
        ("katalog-v6.toml", "deskripsi = \"product.description\"", "deskripsi = \"product.description\"\nnama_produk = \"product.sku\"", "duplicate key"),
        ("peppol-catalogue.toml", "city = \"cooperative.city\"", "kota = \"cooperative.city\"", "\"kota\" is not a field of peppol-catalogue"),
        ("katalog-v6-xlsx.toml", "no_photo = \"blocking\"", "no_photo = \"sometimes\"", "severity \"sometimes\" must be \"blocking\" or \"warning\""),
        ("tax.toml", "taxable_base = \"11/12\"", "taxable_base = \"12/11\"", "must be a fraction like \"11/12\", at most 1"),
        ("tables/units.csv", "pasang,psg|pair", "pasang,psg|kilo", "name \"kilo\" already belongs to \"kg\""),
        ("peppol-catalogue.toml", "receiver_endpoint_id = ", "reciever_endpoint_id = ", "unknown field `reciever_endpoint_id`"),
        ("peppol-catalogue.toml", "validity_days = 365", "validity_days = \"setahun\"", "invalid type"),
    ];
    for (file, from, to, reason) in cases {
        let dir = common::copy_mappings();
        let mut line = break_file(dir.path(), file, from, to);
        if reason.contains("duplicate key") {
            line += 1; // the second definition is the mistake
        }
        let (code, out) = check_mappings(dir.path());
        assert_eq!(code, 2, "{file}: {out}");
        let expected_place = format!("{}:{line}:", dir.path().join(file).display());
        assert!(out.contains(&expected_place), "{file}: expected {expected_place} in {out}");
        assert!(out.contains(reason), "{file}: expected {reason:?} in {out}");
        assert_eq!(out.lines().count(), 1, "one line: {out}");
    }
}

/// A key a format needs in `[document]` is reported missing at the section's
/// line, not written as an empty value.
#[test]
fn mappings_check_reports_a_missing_document_setting() {
    let dir = common::copy_mappings();
    let file = dir.path().join("peppol-catalogue.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    let section = text.lines().position(|l| l.trim() == "[document]").unwrap() + 1;
    let without: String = text.lines().filter(|l| !l.starts_with("receiver_endpoint_id")).map(|l| format!("{l}\n")).collect();
    std::fs::write(&file, without).unwrap();
    let (code, out) = check_mappings(dir.path());
    assert_eq!(code, 2, "{out}");
    assert!(out.contains(&format!("{}:{section}:", file.display())), "{out}");
    assert!(out.contains("[document] needs receiver_endpoint_id"), "{out}");
}

#[test]
fn bulk_upload_starts_a_new_workbook_when_one_is_full_and_keeps_text_exact() {
    use calamine::{Data, Reader, Xlsx, open_workbook};
    use katalog_bridge::catalog::katalog_v6_xlsx::BulkUploadWriter;
    // the portal's row limit per upload is set in the mapping's [document]
    let mappings = common::copy_mappings();
    let file = mappings.path().join("katalog-v6-xlsx.toml");
    let toml = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{toml}\n[document]\nrows_per_workbook = 2\n")).unwrap();
    let source = MappingSource::Dir(mappings.path().to_owned());
    let plan = Format::KatalogV6Xlsx.plan(&source, &Tables::load(&source).unwrap()).unwrap();

    let out = common::temp_dir();
    let mut writer = BulkUploadWriter::new(out.path(), &plan);
    let seller = common::sample_seller();
    let names: Vec<String> = (1..=5).map(|i| format!("Minyak <Goreng> & \"Sawit\" 'Asli' {i}")).collect();
    for (i, name) in names.iter().enumerate() {
        let mut product = common::sample_product();
        product.sku = format!("MYK-{i}");
        product.seller_item_id = format!("{}/MYK-{i}", product.member_code);
        product.name = name.clone();
        let mapped = plan.map(&product, &seller);
        assert!(!mapped.blocked(), "{:?}", mapped.issues);
        writer.write(&plan, &mapped).unwrap();
    }
    let written = writer.finish().unwrap();
    let files: Vec<(String, u32)> = written.iter().map(|(p, rows)| (p.file_name().unwrap().to_string_lossy().into_owned(), *rows)).collect();
    let base = files.iter().map(|(f, _)| f.trim_end_matches(".xlsx")).min_by_key(|f| f.len()).unwrap().to_owned();
    assert!(base.starts_with("minyak-goreng-"), "{files:?}");
    assert_eq!(files, [(format!("{base}-2.xlsx"), 2), (format!("{base}-3.xlsx"), 1), (format!("{base}.xlsx"), 2)]);
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 3, "no temporary .part file is left");

    // read back in order: every product once, text and numbers exact, headings on every workbook
    let mut read = Vec::new();
    for file in [format!("{base}.xlsx"), format!("{base}-2.xlsx"), format!("{base}-3.xlsx")] {
        let mut book: Xlsx<_> = open_workbook(out.path().join(&file)).unwrap();
        let range = book.worksheet_range("Produk").unwrap();
        let rows: Vec<&[Data]> = range.rows().collect();
        assert_eq!(rows[0][2], Data::String("sku".into()), "{file}");
        for row in &rows[1..] {
            assert_eq!(row[7], Data::Float(18000.0), "harga, a number cell");
            read.push((row[2].to_string(), row[3].to_string()));
        }
    }
    // the sku column carries the seller's item id (member code and SKU), unique per seller
    let member = common::sample_product().member_code;
    let expected: Vec<(String, String)> = names.iter().enumerate().map(|(i, n)| (format!("{member}/MYK-{i}"), n.clone())).collect();
    assert_eq!(read, expected);
}
