//! Payments from the bank, against the mock catalogue's orders: a
//! cooperative's statement (in a bank's own format, added as a mapping file)
//! marks exactly the orders it pays, lists what it cannot decide, reports a
//! bad row with its row and column, and records nothing twice when imported
//! again.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::Value;

use crate::after_order::{run, synced_fixtures};
use crate::common;

/// The repository's mappings, with a bank of our own beside them.
fn mappings_with_a_bank(dir: &std::path::Path) -> std::path::PathBuf {
    let to = dir.join("mappings");
    let from = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings");
    for entry in walk(&from) {
        let target = to.join(entry.strip_prefix(&from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &target).unwrap();
    }
    std::fs::write(
        to.join("banks/bankku.toml"),
        "label = \"Bank Kita, mutasi rekening\"\ndate_formats = [\"%d/%m/%Y\"]\ntransfer_fees = [\"2500\"]\n\
         [columns]\ndate = [\"Tgl Transaksi\"]\ndescription = [\"Uraian\"]\ncredit = [\"Kredit\"]\nreference = [\"No Ref\"]\n",
    )
    .unwrap();
    to
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() { files.extend(walk(&p)) } else { files.push(p) }
    }
    files
}

fn rupiah(d: Decimal) -> String {
    // As the bank writes it: 1.250.000,00.
    let whole = d.trunc().to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(c);
    }
    format!("{grouped},00")
}

fn outstanding(url: &str, config: &std::path::Path, order: &str) -> (String, Value) {
    let out = common::binary().env("DATABASE_URL", url).arg("--config").arg(config).args(["orders", "show", order, "--json"]).output().unwrap();
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    (shown["outstanding"].as_str().unwrap().to_owned(), shown)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_marks_exactly_the_orders_it_pays_lists_the_rest_and_a_second_import_changes_nothing() {
    let (store, url) = synced_fixtures().await;
    let tmp = common::temp_dir();
    let config = tmp.path().join("katalog-bridge.toml");
    std::fs::write(&config, format!("mappings_dir = {:?}\n", mappings_with_a_bank(tmp.path()))).unwrap();
    // The cooperative with the most orders, and what each is to receive.
    let (code,): (String,) = sqlx::query_as(
        "SELECT c.code FROM purchase_orders o JOIN cooperatives c ON c.id = o.cooperative_id WHERE o.status NOT LIKE 'CANCEL%'
         GROUP BY c.code ORDER BY count(*) DESC, c.code LIMIT 1",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    let (listed, _) = run(&url, &["orders", "list", "--json", "--cooperative", &code]);
    let mut net: BTreeMap<Decimal, String> = BTreeMap::new();
    for o in listed.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()) {
        let n: Decimal = o["net_to_cooperative"].as_str().unwrap().parse().unwrap();
        if !o["status"].as_str().unwrap().starts_with("CANCEL") && n > Decimal::from(10_000) && !net.values().any(|v| *v == o["order_id"]) {
            net.entry(n).or_insert_with(|| o["order_id"].as_str().unwrap().to_owned());
        }
    }
    assert!(net.len() >= 5, "{code} has orders of five different amounts: {net:?}");
    let picked: Vec<(Decimal, String)> = net.iter().rev().take(5).map(|(n, o)| (*n, o.clone())).collect();
    let [(net_a, a), (net_b, b), (net_d, d), (net_c, c), (net_e, e)] = <[(Decimal, String); 5]>::try_from(picked).unwrap();
    // D was part paid, so that D and C are both owed C's amount: a credit of it is ambiguous.
    run(&url, &["orders", "record", &d, "--paid", &(net_d - net_c).to_string(), "--by", "siti"]);
    let statement = tmp.path().join("mutasi.csv");
    std::fs::write(
        &statement,
        format!(
            "Rekening;0123456789\nPeriode;01/01/2027 - 31/01/2027\n\n\
             Tgl Transaksi;Uraian;Debet;Kredit;No Ref\n\
             05/01/2027;TRF PEMBAYARAN {a} DINSOS;;{};REF-A\n\
             06/01/2027;SP2D 00042 DINKES;;{};REF-B\n\
             07/01/2027;BIAYA ADM;12.500,00;;\n\
             31/02/2027;TRF KEMARIN;;10.000,00;REF-X\n\
             08/01/2027;TRANSFER BENDAHARA;;{};REF-C\n\
             09/01/2027;BIFAST BENDAHARA DISPERINDAG;;{};REF-E\n\
             10/01/2027;BUNGA JASA GIRO;;77.777,00;\n",
            rupiah(net_a),
            rupiah(net_b),
            rupiah(net_c),
            rupiah(net_e - Decimal::from(2_500)),
        ),
    )
    .unwrap();
    let import = || {
        let out = common::binary()
            .env("DATABASE_URL", &url)
            .arg("--config")
            .arg(&config)
            .args(["payments", "import"])
            .arg(&statement)
            .args(["--cooperative", &code, "--bank", "bankku", "--by", "siti", "--json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "credits left for the staff: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let report = import();
    let matched: Vec<&str> = report["matched"].as_array().unwrap().iter().map(|m| m[1].as_str().unwrap()).collect();
    assert_eq!(matched, [a.as_str(), b.as_str(), e.as_str()], "{report}");
    assert_eq!((report["credits"].as_u64(), report["ambiguous"].as_u64(), report["unmatched"].as_u64()), (Some(5), Some(1), Some(1)), "{report}");
    assert_eq!(report["passed_over"], 1, "the debit");
    // A day that does not exist is reported with its row and column; the good rows went in.
    let problems = report["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{report}");
    assert_eq!(problems[0]["line"], 8);
    assert!(problems[0]["column"].as_str().unwrap().contains("Tgl Transaksi") && problems[0]["why"].as_str().unwrap().contains("31/02/2027"), "{report}");
    // Exactly the orders paid are paid, with the bank's reference and day; the others are owed as before.
    for (order, reference) in [(&a, "REF-A"), (&b, "REF-B"), (&e, "REF-E")] {
        let (left, shown) = outstanding(&url, &config, order);
        assert_eq!(left, "0", "{order} paid: {shown}");
        assert_eq!(shown["steps"]["paid"]["number"], reference);
    }
    let paid_e: Decimal = outstanding(&url, &config, &e).1["steps"]["paid"]["amount"].as_str().unwrap().parse().unwrap();
    assert_eq!(paid_e, net_e, "received less the bank's known fee: the whole payment is recorded, the fee named");
    assert_eq!(outstanding(&url, &config, &c).0, net_c.normalize().to_string());
    assert_eq!(outstanding(&url, &config, &d).0, net_c.normalize().to_string());
    // The rest is listed for the staff.
    let (open, _) = run(&url, &["payments", "list", "--open", "--json", "--cooperative", &code]);
    let open: Vec<Value> = serde_json::from_str(&open).unwrap();
    let states: Vec<(&str, Vec<&str>)> =
        open.iter().map(|c| (c["state"].as_str().unwrap(), c["candidates"].as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect())).collect();
    let mut both = vec![c.as_str(), d.as_str()];
    both.sort();
    assert!(states.contains(&("ambiguous", both)), "{states:?}");
    assert_eq!(states.iter().filter(|s| s.0 == "unmatched").count(), 1, "{states:?}");
    // Imported again: nothing is recorded twice.
    let count = async || -> (i64, i64) {
        sqlx::query_as("SELECT (SELECT count(*) FROM order_fulfilment), (SELECT count(*) FROM bank_credits)").fetch_one(store.pool()).await.unwrap()
    };
    let before = count().await;
    let again = import();
    assert_eq!((again["already"].as_u64(), again["matched"].as_array().map(Vec::len)), (Some(5), Some(0)), "{again}");
    assert_eq!(count().await, before);
    // The staff assign the ambiguous credit to C.
    let ambiguous = open.iter().find(|c| c["state"] == "ambiguous").unwrap()["id"].as_i64().unwrap().to_string();
    let out = common::binary().env("DATABASE_URL", &url).args(["payments", "assign", &ambiguous, &c, "--by", "budi"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(outstanding(&url, &config, &c).0, "0");
    let out = common::binary().env("DATABASE_URL", &url).args(["payments", "assign", &ambiguous, &d, "--by", "budi"]).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("no credit"), "assigned once only");
}
