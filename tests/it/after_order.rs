//! After the order: every stored order's money (value before PPN, PPN base,
//! PPN, PPh 22, what the cooperative receives) equals figures computed here
//! independently, in integer arithmetic from the law's rates, for the orders
//! the mock's story makes from the fixtures (exempt staples, PKP and non-PKP
//! cooperatives) and for one order made by hand whose PPN base and PPh 22
//! each fall on half a rupiah; steps recorded with `orders record` make an
//! overdue step appear in `orders show` and `orders pending` and clear it;
//! `report monthly` adds up to the orders stored.

use crate::common;

use katalog_bridge::catalog::Format;
use katalog_bridge::config::FulfilmentSettings;
use katalog_bridge::mapping::MappingSource;
use katalog_bridge::mapping::plan::Tables;
use katalog_bridge::mapping::tax::TaxRules;
use katalog_bridge::orders::{SyncOptions, sync_orders};
use katalog_bridge::publish::{PublishOptions, publish};
use katalog_bridge::store::Store;
use katalog_bridge::store::orders::FactsFilter;
use mock_catalog::{MockServer, Scenario};
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// Staples exempt from PPN under PP 49/2022 (art. 2: rice, unhulled rice,
/// corn, sago, soybeans, salt, meat, eggs, milk, fruit, vegetables) and
/// consumer sugar: written out here, not read from `mappings/tax.toml`.
const EXEMPT: [&str; 12] = ["beras", "gabah", "jagung", "sagu", "kedelai", "garam", "telur", "daging", "susu", "buah", "sayur", "gula pasir"];

/// `n / d` rounded half away from zero, for `n >= 0`, `d > 0`.
fn round_div(n: i128, d: i128) -> i128 {
    (2 * n + d) / (2 * d)
}

fn cents(d: Decimal) -> i128 {
    let c = (d * Decimal::from(100)).normalize();
    assert!(c.fract().is_zero(), "{d} has less than a sen");
    c.mantissa() * 10_i128.pow(c.scale())
}

/// The money of one order from its lines (total with PPN, category), in
/// whole rupiah: (goods before PPN, PPN base, PPN, PPh 22, net). Ordinary
/// goods carry PPN at 12 % of 11/12 of their price (so the price with PPN is
/// 111/100 of it); PPh 22 is 0.5 % of the value before PPN, paid in the
/// system, where the catalogue's operator also keeps the PPN.
fn expected(lines: &[(Decimal, Option<String>)], pkp: bool, total: Decimal) -> (i128, i128, i128, i128, i128) {
    let (mut untaxed, mut taxed) = (0i128, 0i128);
    for (amount, category) in lines {
        let exempt = category.as_deref().is_some_and(|c| EXEMPT.contains(&c.to_lowercase().as_str()));
        if !pkp || exempt { untaxed += cents(*amount) } else { taxed += cents(*amount) }
    }
    assert_eq!(untaxed % 100, 0, "line totals are whole rupiah");
    let before_taxed = round_div(taxed, 111); // cents * 100/111 / 100
    let goods = untaxed / 100 + before_taxed;
    let base = round_div(before_taxed * 11, 12);
    let ppn = round_div(base * 12, 100);
    let pph22 = round_div(goods * 5, 1000);
    (goods, base, ppn, pph22, cents(total) / 100 - ppn - pph22)
}

fn scenario() -> Scenario {
    let mut s = Scenario::load(&common::repo().join("fixtures/scenarios/mojokerto.toml")).unwrap();
    s.orders_per_day = 15;
    s.lines_per_order_mean = 3;
    s.rate_limit_per_minute = 1_000_000;
    s
}

/// The fixtures published to the mock and its orders synced.
pub(crate) async fn synced_fixtures() -> (Store, String) {
    let (store, url) = common::fixture_db().await;
    let scenario = scenario();
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let client = common::mock_client(&server, &scenario);
    let tables = Tables::load(&MappingSource::BuiltIn).unwrap();
    let plan = Format::KatalogV6.plan(&MappingSource::BuiltIn, &tables).unwrap();
    publish(&store, &plan, &client, &PublishOptions::default()).await.unwrap();
    let http = reqwest::Client::new();
    for hours in [30, 24 * 6] {
        http.post(format!("{}/admin/clock/advance", server.url())).json(&json!({"hours": hours})).send().await.unwrap();
    }
    let calendar = katalog_bridge::mapping::working_calendar(&MappingSource::BuiltIn, false).unwrap();
    let options = SyncOptions { klpd: vec!["D347".into()], years: vec![2026, 2027], ..Default::default() };
    let report = sync_orders(&store, &client, &calendar, &options).await.unwrap();
    assert!(report.complete() && report.details.orders > 20, "{}", report.summary());
    (store, url)
}

/// An order made by hand for a PKP cooperative: rice (exempt) for Rp12.094
/// and cooking oil (taxed) for Rp133.207. Cooking oil before PPN is
/// 133,207 x 100/111 = 120,006.3 -> 120,006; its PPN base 120,006 x 11/12 =
/// 110,005.5 -> 110,006; PPN 12 % of it 13,200.72 -> 13,201; goods before
/// PPN 12,094 + 120,006 = 132,100, PPh 22 0.5 % of it 660.5 -> 661.
pub(crate) async fn half_rupiah_order(store: &Store) -> String {
    let (coop, rice, oil): (i64, i64, i64) = sqlx::query_as(
        "SELECT c.id, (SELECT p.id FROM products p WHERE p.category = 'beras' LIMIT 1), (SELECT p.id FROM products p WHERE p.category = 'minyak goreng' LIMIT 1)
         FROM cooperatives c WHERE c.code = 'MJK-MAGERSARI'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO purchase_orders (source, remote_order_id, cooperative_id, kode_klpd, fiscal_year, kode_penyedia, status, shipping_fee, total,
                                      order_date, nama_satker, kode_satker, needs_detail, raw)
         VALUES ('ekatalog-v6', 'EP-HALF-1', $1, 'D347', 2026, 'P3576-0005', 'ON_PROCESS', 0, 145301, '2026-11-10T03:00:00Z', 'Dinas Sosial', 'SK-1', false, '{}')
         RETURNING id",
    )
    .bind(coop)
    .fetch_one(store.pool())
    .await
    .unwrap();
    for (line, product, amount) in [("1", rice, 12_094), ("2", oil, 133_207)] {
        sqlx::query(
            "INSERT INTO order_lines (order_id, remote_line_id, description, quantity, unit_price, line_total, product_id, raw)
             VALUES ($1, $2, 'barang', 1, $3, $3, $4, '{}')",
        )
        .bind(id)
        .bind(line)
        .bind(Decimal::from(amount))
        .bind(product)
        .execute(store.pool())
        .await
        .unwrap();
    }
    "EP-HALF-1".into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_orders_money_equals_figures_computed_independently() {
    let (store, url) = synced_fixtures().await;
    half_rupiah_order(&store).await;
    let rules = TaxRules::load(&MappingSource::BuiltIn).unwrap();
    let facts = katalog_bridge::store::orders::facts(&store, &FactsFilter::default()).await.unwrap();
    let (mut exempt_seen, mut non_pkp_seen, mut taxed_seen) = (false, false, false);
    for f in &facts {
        let lines: Vec<(Decimal, Option<String>)> = f.lines.iter().map(|l| (l.amount, l.category.clone())).collect();
        let s = katalog_bridge::orders::fulfilment::standing(f, &rules, &FulfilmentSettings::default(), katalog_bridge::domain::time::today());
        let m = &s.money;
        let got = (cents(m.goods_before_ppn) / 100, cents(m.ppn_base) / 100, cents(m.ppn) / 100, cents(m.pph22) / 100, cents(m.net_to_cooperative) / 100);
        assert_eq!(got, expected(&lines, f.pkp, f.total), "{}: {m:?}", f.order_id);
        assert_eq!((m.total, m.shipping), (f.total, f.shipping), "{}", f.order_id);
        exempt_seen |= f.pkp && lines.iter().any(|(_, c)| c.as_deref().is_some_and(|c| EXEMPT.contains(&c)));
        non_pkp_seen |= !f.pkp && !lines.is_empty();
        taxed_seen |= f.pkp && m.ppn > Decimal::ZERO;
    }
    assert!(exempt_seen && non_pkp_seen && taxed_seen, "the orders cover an exempt staple of a PKP cooperative, a non-PKP cooperative and taxed goods");

    // The hand-made order through the command, figures worked out by hand above.
    let out = common::binary().env("DATABASE_URL", &url).args(["orders", "show", "EP-HALF-1", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    let field = |k: &str| shown[k].as_str().map(str::to_owned).unwrap_or_else(|| shown[k].to_string());
    let fields: Vec<String> = ["goods_before_ppn", "ppn_base", "ppn", "pph22", "shipping", "total", "net_to_cooperative"].iter().map(|k| field(k)).collect();
    assert_eq!(fields, ["132100", "110006", "13201", "661", "0", "145301", "131439"], "{shown}");
    assert_eq!(shown["payment"], "in_system");
    assert_eq!(shown["lines"].as_array().map(Vec::len), Some(2));
    // The list carries the same fields.
    let out = common::binary().env("DATABASE_URL", &url).args(["orders", "list", "--json", "--cooperative", "MJK-MAGERSARI"]).output().unwrap();
    let listed: Vec<Value> = String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let half = listed.iter().find(|o| o["order_id"] == "EP-HALF-1").expect("listed");
    assert_eq!((half["pph22"].to_string(), half["net_to_cooperative"].to_string()), ("\"661\"".to_owned(), "\"131439\"".to_owned()));
    // And so does the export, on each of the order's lines.
    let (csv, _) = run(&url, &["orders", "export", "--cooperative", "MJK-MAGERSARI"]);
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let headers = rows.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("{name} in {headers:?}"));
    let half: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).filter(|r| &r[col("order_id")] == "EP-HALF-1").collect();
    assert_eq!(half.len(), 2);
    for r in &half {
        let got: Vec<&str> = ["goods_before_ppn", "ppn_base", "ppn", "pph22", "shipping", "net_to_cooperative"].iter().map(|k| &r[col(k)]).collect();
        assert_eq!(got, ["132100", "110006", "13201", "661", "0", "131439"]);
    }
}

pub(crate) fn run(url: &str, args: &[&str]) -> (String, String) {
    let out = common::binary().env("DATABASE_URL", url).args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn overdue_steps(url: &str, order: &str) -> Vec<String> {
    let shown: Value = serde_json::from_str(&run(url, &["orders", "show", order, "--json"]).0).unwrap();
    shown["overdue"].as_array().unwrap().iter().map(|o| o["step"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steps_recorded_after_the_order_make_overdue_items_appear_and_clear() {
    let (store, url) = common::fixture_db().await;
    let order = half_rupiah_order(&store).await;
    let today = katalog_bridge::domain::time::today();
    let day = |back: i64| (today - chrono::Duration::days(back)).format("%Y-%m-%d").to_string();
    assert_eq!(overdue_steps(&url, &order), Vec::<String>::new(), "nothing is due before delivery");
    run(&url, &["orders", "record", &order, "--delivered", "--date", &day(40), "--by", "siti"]);
    assert_eq!(overdue_steps(&url, &order), ["bast"], "the BAST is due 7 days after delivery");
    let (pending, _) = run(&url, &["orders", "pending"]);
    assert!(pending.contains("Terlambat") && pending.contains(&order) && pending.contains("BAST"), "{pending}");
    run(&url, &["orders", "record", &order, "--bast", "BAST/027/DINSOS/2026", "--date", &day(35), "--by", "siti"]);
    assert_eq!(
        overdue_steps(&url, &order),
        ["invoice", "paid"],
        "paid in the system, the catalogue's invoice is the tax invoice: no faktur is due; the invoice 7 and the payment 30 days after the BAST"
    );
    run(&url, &["orders", "record", &order, "--faktur", "04002600000123", "--invoice", "INV-9", "--date", &day(30), "--by", "siti"]);
    // Part paid: still owed.
    run(&url, &["orders", "record", &order, "--paid", "100.000", "--date", &day(2), "--by", "budi"]);
    assert_eq!(overdue_steps(&url, &order), ["paid"]);
    // Paid what the cooperative is to receive: nothing overdue; the part payment stays in the record.
    run(&url, &["orders", "record", &order, "--paid", "Rp131.439", "--date", &day(1), "--by", "budi"]);
    assert_eq!(overdue_steps(&url, &order), Vec::<String>::new());
    let shown: Value = serde_json::from_str(&run(&url, &["orders", "show", &order, "--json"]).0).unwrap();
    let entries: Vec<(String, String)> =
        shown["entries"].as_array().unwrap().iter().map(|e| (e["kind"].as_str().unwrap().to_owned(), e["recorded_by"].as_str().unwrap().to_owned())).collect();
    let kinds: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(kinds, ["delivered", "bast", "faktur", "invoice", "paid", "paid"], "every entry is kept, the correction beside the first");
    assert_eq!(shown["steps"]["bast"]["number"], "BAST/027/DINSOS/2026");
    assert_eq!(shown["outstanding"], "0");
    assert_eq!(shown["days_to_pay"], 34, "the BAST 35 days ago, paid in full yesterday");
    // The month's report gives the work unit's days to pay: one order, 34 days.
    let (csv, _) = run(&url, &["report", "monthly", "--month", "2026-11", "--cooperative", "MJK-MAGERSARI"]);
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let headers = rows.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("{name} in {headers:?}"));
    let unit = rows.records().map(Result::unwrap).find(|r| &r[col("Bagian")] == "satker" && &r[col("Nama")] == "Dinas Sosial").expect("the work unit's row");
    assert_eq!((&unit[col("Hari BAST sampai bayar (median)")], &unit[col("Hari BAST sampai bayar (terlama)")]), ("34", "34"));
    // The text form is Indonesian.
    let (text, _) = run(&url, &["orders", "show", &order]);
    assert!(text.contains("Diterima koperasi") && text.contains("Rp131.439") && text.contains("BAST/027/DINSOS/2026"), "{text}");
    // A bad entry is refused with what is wrong, and nothing is recorded.
    let out = common::binary().env("DATABASE_URL", &url).args(["orders", "record", &order, "--paid", "banyak"]).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("--paid"), "{}", String::from_utf8_lossy(&out.stderr));
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM order_fulfilment").fetch_one(store.pool()).await.unwrap();
    assert_eq!(count, 6);
    // Each recording is one use case, audited in the operator's name with what it recorded and who gave it; the refused one is not.
    let audited: Vec<(String, serde_json::Value)> =
        sqlx::query_as("SELECT username, detail FROM audit_log WHERE action = 'order.record' AND subject = $1 ORDER BY id")
            .bind(&order)
            .fetch_all(store.pool())
            .await
            .unwrap();
    let steps: Vec<String> = audited.iter().map(|(_, d)| d["steps"].to_string()).collect();
    assert_eq!(steps, [r#"["delivered"]"#, r#"["bast"]"#, r#"["faktur","invoice"]"#, r#"["paid"]"#, r#"["paid"]"#], "{audited:?}");
    assert!(audited.iter().all(|(who, _)| who.starts_with("cli:")), "{audited:?}");
    assert_eq!(audited[3].1["by"], "budi");
}

fn papers(shown: &Value) -> Vec<(String, bool)> {
    shown["papers"].as_array().unwrap().iter().map(|p| (p["paper"].as_str().unwrap().to_owned(), p["done"].as_bool().unwrap())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_route_lists_its_papers_and_the_next_step_and_a_card_refuses_an_order_over_its_ceiling() {
    let (store, url) = common::fixture_db().await;
    let order = half_rupiah_order(&store).await;
    let show = || -> Value { serde_json::from_str(&run(&url, &["orders", "show", &order, "--json"]).0).unwrap() };
    let owned = |v: &[(&str, bool)]| v.iter().map(|(p, d)| ((*p).to_owned(), *d)).collect::<Vec<_>>();
    // Paid in the system (the default): the catalogue's invoice is the tax invoice; no shipping, no shipping invoice.
    let shown = show();
    assert_eq!(shown["payment"], "in_system");
    assert_eq!(papers(&shown), owned(&[("order_letter", false), ("bast", false), ("invoice", false)]));
    assert!(shown["withholds"].as_str().unwrap().contains("PPh 22 0,5%"), "{shown}");
    assert!(shown["next_step"].as_str().unwrap().starts_with("Lengkapi: Surat pesanan"), "{shown}");
    run(&url, &["orders", "record", &order, "--order-letter", "", "--by", "siti"]);
    assert_eq!(show()["next_step"], "Kirim barang, lalu catat saat diterima pembeli", "the letter signed: delivery next");
    run(&url, &["orders", "record", &order, "--delivered", "--by", "siti"]);
    assert!(show()["next_step"].as_str().unwrap().starts_with("Lengkapi: BAST"), "then the BAST");
    // By petty cash to the order's virtual account: the PKP cooperative's own faktur is needed too, and the treasurer's rates apply.
    run(&url, &["orders", "record", &order, "--payment", "up-va", "--bast", "B-7", "--by", "siti"]);
    let shown = show();
    assert_eq!(papers(&shown), owned(&[("order_letter", true), ("bast", true), ("faktur", false), ("invoice", false)]));
    assert!(shown["next_step"].as_str().unwrap().starts_with("Lengkapi: Faktur pajak"), "{shown}");
    assert_eq!((shown["pph22"].as_str(), shown["net_to_cooperative"].as_str()), (Some("0"), Some("132100")), "no PPh 22 up to Rp2.000.000");
    // Outside the system: the PPK's ticket is on the list, last.
    run(&url, &["orders", "record", &order, "--payment", "outside-system", "--faktur", "040026001", "--invoice", "", "--by", "siti"]);
    let shown = show();
    assert_eq!(papers(&shown).last(), Some(&("ticket".to_owned(), false)));
    assert!(shown["next_step"].as_str().unwrap().starts_with("Lengkapi: Tiket PPK"), "{shown}");
    let out = common::binary().env("DATABASE_URL", &url).args(["orders", "record", &order, "--ticket", " ", "--by", "siti"]).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("--ticket: needs the PPK's ticket number"));
    run(&url, &["orders", "record", &order, "--ticket", "TIK-2027-88", "--by", "siti"]);
    assert!(show()["next_step"].as_str().unwrap().starts_with("Tunggu pembayaran Rp132.100"), "every paper in: the payment is next");
    let (text, _) = run(&url, &["orders", "show", &order]);
    assert!(text.contains("Berkas untuk pembayaran") && text.contains("TIK-2027-88") && text.contains("Langkah berikutnya: Tunggu pembayaran"), "{text}");
    // The card takes orders under Rp200 juta only: an order of 250 juta is refused in words, and nothing is recorded.
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM order_fulfilment").fetch_one(store.pool()).await.unwrap();
    sqlx::query("UPDATE purchase_orders SET total = 250000000 WHERE remote_order_id = $1").bind(&order).execute(store.pool()).await.unwrap();
    let out = common::binary().env("DATABASE_URL", &url).args(["orders", "record", &order, "--payment", "up-kkp", "--by", "siti"]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && said.contains("--payment") && said.contains("Rp200.000.000") && said.contains("Rp250.000.000"), "{said}");
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM order_fulfilment").fetch_one(store.pool()).await.unwrap();
    assert_eq!(before, after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monthly_report_adds_up_to_the_orders_stored() {
    let (store, url) = synced_fixtures().await;
    let (month,): (String,) =
        sqlx::query_as("SELECT to_char(max(order_date) AT TIME ZONE 'Asia/Jakarta', 'YYYY-MM') FROM purchase_orders").fetch_one(store.pool()).await.unwrap();
    let (csv, _) = run(&url, &["report", "monthly", "--month", &month]);
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let headers = rows.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("{name} in {headers:?}"));
    let records: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    let num = |r: &csv::StringRecord, name: &str| r[col(name)].parse::<Decimal>().unwrap();
    // The orders of the month (in Jakarta), cancelled ones left out, straight from the database.
    let stored: Vec<(String, i64, Decimal)> = sqlx::query_as(
        "SELECT c.code, count(*), sum(o.total) FROM purchase_orders o JOIN cooperatives c ON c.id = o.cooperative_id
         WHERE to_char(o.order_date AT TIME ZONE 'Asia/Jakarta', 'YYYY-MM') = $1 AND o.status NOT LIKE 'CANCELLED%'
         GROUP BY c.code ORDER BY c.code",
    )
    .bind(&month)
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert!(!stored.is_empty());
    let per_coop: Vec<(String, i64, Decimal)> = records
        .iter()
        .filter(|r| &r[col("Bagian")] == "koperasi")
        .map(|r| (r[col("Kode")].to_owned(), num(r, "Pesanan").try_into().unwrap(), num(r, "Nilai pesanan")))
        .collect();
    assert_eq!(per_coop, stored, "per cooperative");
    let total = records.iter().find(|r| &r[col("Bagian")] == "total").unwrap();
    assert_eq!(num(total, "Pesanan"), Decimal::from(stored.iter().map(|s| s.1).sum::<i64>()));
    assert_eq!(num(total, "Nilai pesanan"), stored.iter().map(|s| s.2).sum::<Decimal>());
    let by_unit: Decimal = records.iter().filter(|r| &r[col("Bagian")] == "satker").map(|r| num(r, "Nilai pesanan")).sum();
    assert_eq!(by_unit, num(total, "Nilai pesanan"), "the work units add up to the total");
    let ppn: Decimal = records.iter().filter(|r| &r[col("Bagian")] == "koperasi").map(|r| num(r, "PPN")).sum();
    assert_eq!(ppn, num(total, "PPN"));
    // The workbook holds the same numbers as numbers.
    let dir = common::temp_dir();
    let path = dir.path().join("laporan.xlsx");
    run(&url, &["report", "monthly", "--month", &month, "--format", "xlsx", "--out", path.to_str().unwrap()]);
    use calamine::{DataType, Reader};
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&path).unwrap();
    let sheet = book.worksheet_range(&format!("Laporan {month}")).unwrap();
    let last = sheet.rows().next_back().unwrap();
    assert_eq!(last[0].to_string(), "total");
    let value: Decimal = stored.iter().map(|s| s.2).sum();
    assert_eq!(last[4].get_float().map(|f| f.round().to_string()), Some(value.round().to_string()), "the total value is a number");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overdue_step_is_notified_once_per_order_and_step_and_dropped_once_done() {
    use axum::body::Bytes;
    use std::sync::{Arc, Mutex};
    let (store, url) = common::fixture_db().await;
    let order = half_rupiah_order(&store).await;
    let bodies: Arc<Mutex<Vec<Value>>> = Arc::default();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post({
            let bodies = bodies.clone();
            move |body: Bytes| {
                let bodies = bodies.clone();
                async move {
                    bodies.lock().unwrap().push(serde_json::from_slice(&body).unwrap());
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let settings = katalog_bridge::config::NotifySettings {
        webhook_url: Some(secrecy::SecretString::from(hook)),
        webhook_secret: Some(secrecy::SecretString::from("rahasia")),
        ..Default::default()
    };
    let calendar = std::sync::Arc::new(katalog_bridge::mapping::working_calendar(&MappingSource::BuiltIn, false).unwrap());
    let rules = std::sync::Arc::new(TaxRules::load(&MappingSource::BuiltIn).unwrap());
    let notifier = katalog_bridge::notify::Notifier::from_settings(&settings, calendar).unwrap().unwrap().with_overdue(rules, FulfilmentSettings::default());
    let now = chrono::Utc::now();
    assert_eq!(notifier.queue(&store, now).await.unwrap(), 0, "nothing is overdue before delivery");
    let today = katalog_bridge::domain::time::today();
    let day = |back: i64| (today - chrono::Duration::days(back)).format("%Y-%m-%d").to_string();
    run(&url, &["orders", "record", &order, "--delivered", "--date", &day(40), "--by", "siti"]);
    assert_eq!(notifier.queue(&store, now).await.unwrap(), 1);
    assert_eq!(notifier.send_due(&store).await.unwrap().sent, 1);
    assert_eq!(notifier.queue(&store, now).await.unwrap(), 0, "once per order and step");
    assert_eq!(notifier.send_due(&store).await.unwrap().sent, 0);
    let sent = bodies.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0]["kind"].as_str(), sent[0]["order_id"].as_str(), sent[0]["overdue"]["step"].as_str()),
        (Some("overdue_bast"), Some("EP-HALF-1"), Some("bast"))
    );
    let text = sent[0]["text"].as_str().unwrap();
    assert!(text.contains("lewat jatuh tempo") && text.contains("BAST") && text.contains("33 hari lalu") && text.contains("Rp131.439"), "{text}");
    // The BAST recorded: the next steps fall due; queued, then done before the pass sends them: dropped as moot.
    run(&url, &["orders", "record", &order, "--bast", "B-1", "--date", &day(35), "--by", "siti"]);
    assert_eq!(notifier.queue(&store, now).await.unwrap(), 2, "invoice and payment (paid in the system: no faktur of the cooperative's)");
    run(&url, &["orders", "record", &order, "--invoice", "I-1", "--paid", "131439", "--by", "budi"]);
    let pass = notifier.send_due(&store).await.unwrap();
    assert_eq!((pass.sent, pass.moot), (0, 2));
    assert_eq!(bodies.lock().unwrap().len(), 1);
}
