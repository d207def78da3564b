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
pub(crate) fn mappings_with_a_bank(dir: &std::path::Path) -> std::path::PathBuf {
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
    // A statement as a workbook, in the generic format: the day a date cell, the amount a number.
    let book_path = tmp.path().join("mutasi-februari.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let day = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
    sheet.write_string(0, 0, "Mutasi rekening 0123456789").unwrap();
    for (col, h) in ["Tanggal", "Keterangan", "Kredit", "Referensi"].iter().enumerate() {
        sheet.write_string(2, col as u16, *h).unwrap();
    }
    sheet.write_datetime_with_format(3, 0, rust_xlsxwriter::ExcelDateTime::from_ymd(2027, 2, 3).unwrap(), &day).unwrap();
    sheet.write_string(3, 1, format!("PELUNASAN {d}")).unwrap();
    sheet.write_number(3, 2, net_c.to_string().parse::<f64>().unwrap()).unwrap();
    sheet.write_string(3, 3, "REF-F").unwrap();
    book.save(&book_path).unwrap();
    let out = common::binary()
        .env("DATABASE_URL", &url)
        .arg("--config")
        .arg(&config)
        .args(["payments", "import"])
        .arg(&book_path)
        .args(["--cooperative", &code, "--by", "siti", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["matched"][0][1], d.as_str(), "{report}");
    let (left, shown) = outstanding(&url, &config, &d);
    assert_eq!((left.as_str(), &shown["steps"]["paid"]["on"]), ("0", &Value::from("2027-02-03")), "{shown}");
}

/// Gives every local unit a Coretax unit code in the mappings at `mappings`,
/// as the liaison would from Coretax's reference (the test's own codes).
pub(crate) fn coretax_code_for_every_unit(mappings: &std::path::Path) {
    let coretax = std::fs::read_to_string(mappings.join("coretax.toml")).unwrap();
    let local: String =
        ["gram", "ml", "pcs", "pasang", "lusin", "meter", "set", "karung", "dus", "bungkus", "botol", "kaleng", "toples", "tray", "ikat", "lembar"]
            .iter()
            .enumerate()
            .map(|(i, u)| format!("{u} = \"UM.{:04}\"\n", 40 + i))
            .collect();
    std::fs::write(mappings.join("coretax.toml"), coretax.replace("liter = \"UM.0007\"\n", &format!("liter = \"UM.0007\"\n{local}"))).unwrap();
}

fn faktur(url: &str, config: &std::path::Path, cooperative: &str, out: &std::path::Path) -> std::process::Output {
    common::binary()
        .env("DATABASE_URL", url)
        .arg("--config")
        .arg(config)
        .args(["orders", "faktur", "--cooperative", cooperative, "--month", "2026-11", "--by", "siti", "--json", "--out"])
        .arg(out)
        .output()
        .unwrap()
}

/// A PKP cooperative's month in one Coretax file, read back with an XML
/// parser of its own: every order its route has it invoice is there once,
/// staples under 08 with their facility code and taxed goods under 02, and
/// each order's amounts are those of `orders show --json`. A second file
/// for the month holds none of them. Nothing is written while a work unit's
/// TIN is missing or an IDTKU is wrong, and a cooperative that is not PKP is
/// refused in words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coretax_file_holds_every_order_to_invoice_once_with_the_orders_own_amounts() {
    let (store, url) = synced_fixtures().await;
    let mixed = crate::after_order::half_rupiah_order(&store).await;
    let tmp = common::temp_dir();
    let mappings = mappings_with_a_bank(tmp.path());
    // Paid from petty cash: the cooperative issues its own faktur for every order.
    let config = tmp.path().join("katalog-bridge.toml");
    std::fs::write(&config, format!("mappings_dir = {mappings:?}\n[fulfilment]\npayment = \"up_va\"\n")).unwrap();
    let out = tmp.path().join("faktur-2026-11.xml");
    // The shipped list of work units is empty: every work unit is named, and nothing is written.
    let refused = faktur(&url, &config, "MJK-MAGERSARI", &out);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && said.contains("nothing written") && said.contains("SK-1 (Dinas Sosial) has no TIN"), "{said}");
    assert!(!out.exists());
    let held: i64 = sqlx::query_scalar("SELECT count(*) FROM tax_invoice_orders").fetch_one(store.pool()).await.unwrap();
    assert_eq!(held, 0);
    // Each work unit of the month's orders, with its TIN; every local unit with a code.
    let units: Vec<(String,)> = sqlx::query_as(
        "SELECT DISTINCT o.kode_satker FROM purchase_orders o JOIN cooperatives c ON c.id = o.cooperative_id WHERE c.code = 'MJK-MAGERSARI' AND o.kode_satker IS NOT NULL",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let mut buyers = String::from("kode_satker,nama,npwp,idtku,alamat,email\n");
    for (n, (k,)) in units.iter().enumerate() {
        let tin = format!("{:016}", 3576_0100_0000_0000u64 + n as u64);
        // The mixed order's work unit with an IDTKU a digit short: the most common refusal.
        let idtku = if k == "SK-1" { format!("{tin}00000") } else { format!("{tin}000000") };
        buyers.push_str(&format!("{k},Satker {k},{tin},{idtku},Jl. Gajah Mada 145 Mojokerto,satker@mojokertokota.go.id\n"));
    }
    std::fs::write(mappings.join("coretax-buyers.csv"), &buyers).unwrap();
    coretax_code_for_every_unit(&mappings);
    let refused = faktur(&url, &config, "MJK-MAGERSARI", &out);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && said.contains("an IDTKU has 22"), "{said}");
    assert!(!out.exists());
    // The IDTKU put right.
    let fixed: String = buyers
        .lines()
        .map(|l| {
            let mut f: Vec<String> = l.split(',').map(str::to_owned).collect();
            if f[3].len() == 21 {
                f[3].push('0');
            }
            f.join(",")
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(mappings.join("coretax-buyers.csv"), fixed + "\n").unwrap();
    // The cooperative's own IDTKU, from the cooperatives sheet (its branch, say); a wrong one is named.
    let (npwp, name, kelurahan, kecamatan, city): (String, String, String, String, String) =
        sqlx::query_as("SELECT npwp, name, kelurahan, kecamatan, city FROM cooperatives WHERE code = 'MJK-MAGERSARI'").fetch_one(store.pool()).await.unwrap();
    let tin = katalog_bridge::mapping::coretax::tin(&npwp).unwrap();
    let sheet = tmp.path().join("koperasi.csv");
    let import_idtku = |idtku: &str| {
        std::fs::write(&sheet, format!("kode;nama;kelurahan;kecamatan;kota;idtku\nMJK-MAGERSARI;{name};{kelurahan};{kecamatan};{city};{idtku}\n")).unwrap();
        let out = common::binary().env("DATABASE_URL", &url).args(["import", "cooperatives"]).arg(&sheet).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    import_idtku(&format!("9{}000001", &tin[1..]));
    let refused = faktur(&url, &config, "MJK-MAGERSARI", &out);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && said.contains("MJK-MAGERSARI: its IDTKU") && said.contains("does not begin with its TIN"), "{said}");
    let branch = format!("{tin}000001");
    import_idtku(&branch);
    // Written.
    let written = faktur(&url, &config, "MJK-MAGERSARI", &out);
    assert!(written.status.success(), "{}", String::from_utf8_lossy(&written.stderr));
    let report: Value = serde_json::from_slice(&written.stdout).unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "TaxInvoiceBulk");
    let child = |n: roxmltree::Node, name: &str| n.children().find(|c| c.has_tag_name(name)).and_then(|c| c.text()).unwrap_or("").to_owned();
    let seller_tin = child(root, "TIN");
    assert_eq!(seller_tin.len(), 16);
    let mut per_order: BTreeMap<String, (Decimal, Decimal, Decimal, Vec<String>)> = BTreeMap::new();
    for inv in root.descendants().filter(|n| n.has_tag_name("TaxInvoice")) {
        let order = child(inv, "RefDesc");
        let code = child(inv, "TrxCode");
        assert_eq!(child(inv, "BuyerTin").len(), 16);
        assert_eq!(child(inv, "BuyerIDTKU").len(), 22);
        assert_eq!(child(inv, "SellerIDTKU"), branch, "the cooperative's own place of business");
        if code == "08" {
            assert_eq!(child(inv, "AddInfo"), "TD.00510", "staples under their facility");
        }
        let e = per_order.entry(order).or_default();
        e.3.push(code.clone());
        for g in inv.descendants().filter(|n| n.has_tag_name("GoodService")) {
            let num = |name: &str| child(g, name).parse::<Decimal>().unwrap();
            e.0 += num("TaxBase");
            if code == "02" {
                e.1 += num("OtherTaxBase");
                e.2 += num("VAT");
            }
        }
    }
    let held: Vec<String> = report["orders"].as_array().unwrap().iter().map(|o| o.as_str().unwrap().to_owned()).collect();
    assert_eq!(
        per_order.keys().cloned().collect::<Vec<_>>(),
        {
            let mut h = held.clone();
            h.sort();
            h
        },
        "the file holds what is recorded"
    );
    assert!(held.contains(&mixed));
    assert_eq!(per_order[&mixed].3, ["02", "08"], "cooking oil under 02, rice under 08: one invoice per code");
    // The month's orders made by the cooperative, each once.
    let expected: Vec<String> = sqlx::query_scalar(
        "SELECT o.remote_order_id FROM purchase_orders o JOIN cooperatives c ON c.id = o.cooperative_id WHERE c.code = 'MJK-MAGERSARI'
           AND o.status NOT LIKE 'CANCEL%' AND o.order_date >= '2026-10-31T17:00:00Z' AND o.order_date < '2026-11-30T17:00:00Z' ORDER BY 1",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(per_order.keys().cloned().collect::<Vec<_>>(), expected);
    for (order, (base, other, vat, _)) in &per_order {
        let (_, shown) = outstanding(&url, &config, order);
        let money = |k: &str| shown[k].as_str().unwrap().parse::<Decimal>().unwrap();
        assert_eq!((*base, *other, *vat), (money("goods_before_ppn"), money("ppn_base"), money("ppn")), "{order}: {shown}");
    }
    // A second file for the month holds none of them.
    let again = faktur(&url, &config, "MJK-MAGERSARI", &tmp.path().join("lagi.xml"));
    let again: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!((again["invoices"].as_u64(), again["orders"].as_array().map(Vec::len)), (Some(0), Some(0)), "{again}");
    assert!(!tmp.path().join("lagi.xml").exists());
    // A cooperative that is not PKP is refused in words.
    let (plain,): (String,) = sqlx::query_as("SELECT code FROM cooperatives WHERE NOT pkp ORDER BY code LIMIT 1").fetch_one(store.pool()).await.unwrap();
    let refused = faktur(&url, &config, &plain, &tmp.path().join("x.xml"));
    assert!(!refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("is not PKP"), "{}", String::from_utf8_lossy(&refused.stderr));
    // Coretax's list of the invoices issued from the file, read back.
    let invoices: Vec<(String, String)> =
        doc.descendants().filter(|n| n.has_tag_name("TaxInvoice")).map(|inv| (child(inv, "RefDesc"), child(inv, "TrxCode"))).collect();
    // Another order of the cooperative, of another month.
    let other: String = sqlx::query_scalar(
        "SELECT o.remote_order_id FROM purchase_orders o JOIN cooperatives c ON c.id = o.cooperative_id WHERE c.code = 'MJK-MAGERSARI' AND NOT o.remote_order_id = ANY($1) ORDER BY 1 LIMIT 1",
    )
    .bind(&expected)
    .fetch_one(store.pool())
    .await
    .unwrap();
    numbers_come_back_from_coretax(&url, &config, tmp.path(), &invoices, (&mixed, &other));
}

/// Writes Coretax's list of output invoices for `invoices` (reference, code)
/// as its download would hold them (an XLSX, dates as date cells), each
/// approved but the mixed order's exempt one (still a draft), and three rows
/// that cannot be recorded (one giving `other` a number already taken);
/// reads it with `orders faktur-numbers`, twice.
fn numbers_come_back_from_coretax(url: &str, config: &std::path::Path, dir: &std::path::Path, invoices: &[(String, String)], (mixed, other): (&str, &str)) {
    let list = dir.join("pajak-keluaran.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let date = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
    let headers =
        ["NPWP Pembeli / Identitas lainnya", "Nama Pembeli", "Kode Transaksi", "Nomor Faktur Pajak", "Tanggal Faktur Pajak", "Status Faktur", "Referensi"];
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let number = |i: usize, code: &str| format!("{code}002600{:09}", 1000 + i);
    let mut want: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut row = 1u32;
    for (i, (order, code)) in invoices.iter().enumerate() {
        let draft = order == mixed && code == "08";
        sheet.write_string(row, 0, "3576010000000000").unwrap();
        sheet.write_string(row, 1, "Satker").unwrap();
        sheet.write_string(row, 2, code).unwrap();
        sheet.write_string(row, 3, number(i, code)).unwrap();
        sheet.write_datetime_with_format(row, 4, rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 12, 3).unwrap(), &date).unwrap();
        sheet.write_string(row, 5, if draft { "CREATED" } else { "APPROVED" }).unwrap();
        sheet.write_string(row, 6, order).unwrap();
        if !draft {
            want.entry(order.clone()).or_default().push(number(i, code));
        }
        row += 1;
    }
    // An order of no cooperative of ours; a number a workbook kept as a number; the first number again for another order.
    for (r, (reference, cell)) in
        [("EP-2099-999999", Some(number(900, "02"))), (invoices[0].0.as_str(), None), (other, Some(number(0, &invoices[0].1)))].iter().enumerate()
    {
        let at = row + r as u32;
        match cell {
            Some(n) => sheet.write_string(at, 3, n).unwrap(),
            None => sheet.write_number(at, 3, 4_002_600_000_001_234.0).unwrap(),
        };
        sheet.write_string(at, 5, "APPROVED").unwrap();
        sheet.write_string(at, 6, *reference).unwrap();
    }
    book.save(&list).unwrap();
    let read = || {
        let out = common::binary()
            .env("DATABASE_URL", url)
            .arg("--config")
            .arg(config)
            .args(["orders", "faktur-numbers", "--cooperative", "MJK-MAGERSARI", "--by", "siti", "--json"])
            .arg(&list)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "rows left unread: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let done = read();
    let problems: Vec<(u64, String, String)> = done["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["line"].as_u64().unwrap(), p["column"].as_str().unwrap().to_owned(), p["why"].as_str().unwrap().to_owned()))
        .collect();
    let last = u64::from(row) + 1;
    assert_eq!(
        problems.iter().map(|p| (p.0, p.1.as_str())).collect::<Vec<_>>(),
        [(last, "G (Referensi)"), (last + 1, "D (Nomor Faktur Pajak)"), (last + 2, "D (Nomor Faktur Pajak)")]
    );
    assert!(problems[0].2.contains("EP-2099-999999") && problems[1].2.contains("teks") && problems[2].2.contains("pesanan lain"), "{problems:?}");
    assert_eq!(done["not_issued"].as_array().unwrap().len(), 1, "the draft: {done}");
    assert_eq!(done["not_issued"][0][1], mixed);
    // Each order carries exactly the numbers of its issued invoices, on the invoice's day.
    for (order, numbers) in &want {
        let (_, shown) = outstanding(url, config, order);
        let recorded: Vec<(&str, &str)> = shown["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "faktur")
            .map(|e| (e["number"].as_str().unwrap(), e["on_date"].as_str().unwrap()))
            .collect();
        assert_eq!(recorded, numbers.iter().map(|n| (n.as_str(), "2026-12-03")).collect::<Vec<_>>(), "{order}");
    }
    assert_eq!(done["recorded"].as_array().unwrap().len(), invoices.len() - 1);
    // Read again: nothing recorded twice.
    let again = read();
    assert_eq!((again["recorded"].as_array().unwrap().len(), again["already"].as_u64()), (0, Some(invoices.len() as u64 - 1)), "{again}");
}
