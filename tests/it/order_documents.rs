//! Order documents in and out: every PEPPOL BIS Ordering 3 Order example
//! imports with all its lines, quantities, units, prices and parties (checked
//! against the examples read independently); a malformed or non-Order
//! document is refused and changes nothing; exports neutralise formulas in
//! CSV and XLSX alike while amounts stay numbers; `orders pending` shows the
//! deadline in WIB with the working time left.

use crate::common;

use rust_decimal::Decimal;

/// `<tag ...>text<` occurrences in a fragment: an independent reading of the
/// examples (plain text search, not the XML reader under test).
fn texts<'a>(fragment: &'a str, tag: &str) -> Vec<(&'a str, &'a str)> {
    let open = format!("<{tag}");
    let mut out = Vec::new();
    let mut rest = fragment;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        // Only the tag itself, not a longer name that starts the same.
        if !after.starts_with([' ', '>']) {
            rest = after;
            continue;
        }
        let end = after.find('>').unwrap();
        let attrs = &after[..end];
        let body = &after[end + 1..];
        let close = body.find('<').unwrap();
        out.push((attrs, body[..close].trim()));
        rest = &body[close..];
    }
    out
}

fn attr<'a>(attrs: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("{name}=\"");
    let i = attrs.find(&key)? + key.len();
    Some(&attrs[i..i + attrs[i..].find('"')?])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_peppol_order_example_imports_whole_and_bad_documents_change_nothing() {
    let Some(standards) = common::standards_or_skip("importing the PEPPOL Order examples") else { return };
    let examples = standards.join("examples");
    let mut files = vec![examples.join("Order_Example.xml")];
    let mut cases: Vec<_> = std::fs::read_dir(examples.join("order-use-cases")).unwrap().map(|e| e.unwrap().path()).collect();
    cases.sort();
    files.extend(cases);
    assert!(files.len() >= 7);
    let (store, url) = common::fresh_db().await;
    common::load_cooperatives(&store).await;
    let run = |args: &[&std::ffi::OsStr]| {
        let out = common::binary().env("DATABASE_URL", &url).args(args).output().unwrap();
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let mut args: Vec<&std::ffi::OsStr> = vec!["orders".as_ref(), "import-ubl".as_ref()];
    args.extend(files.iter().map(|f| f.as_os_str()));
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{out}{err}");

    for file in &files {
        let xml = std::fs::read_to_string(file).unwrap();
        let header_end = xml.find("<cac:OrderLine>").unwrap();
        let id = texts(&xml[..header_end], "cbc:ID")[0].1;
        let payable: Decimal = texts(&xml, "cbc:PayableAmount")[0].1.parse().unwrap();
        let (order_db, total, buyer_raw, seller_raw): (i64, Decimal, serde_json::Value, serde_json::Value) =
            sqlx::query_as("SELECT id, total, raw->'buyer', raw->'seller' FROM purchase_orders WHERE source = 'peppol-ubl' AND remote_order_id = $1")
                .bind(format!("{id}/{}", &hex::encode(<sha2::Sha256 as sha2::Digest>::digest(xml.as_bytes()))[..10]))
                .fetch_one(store.pool())
                .await
                .unwrap_or_else(|e| panic!("{}: order {id}: {e}", file.display()));
        assert_eq!(total, payable, "{}", file.display());
        // Parties: the buyer's and seller's endpoints and names as the document gives them.
        for (role, raw) in [("cac:BuyerCustomerParty", &buyer_raw), ("cac:SellerSupplierParty", &seller_raw)] {
            let start = xml.find(&format!("<{role}>")).unwrap();
            let end = xml.find(&format!("</{role}>")).unwrap();
            let party = &xml[start..end];
            // What the document gives is kept as given; what it leaves out is not made up.
            match texts(party, "cbc:EndpointID").first() {
                Some((attrs, value)) => assert_eq!(raw["endpoint"], format!("{}:{value}", attr(attrs, "schemeID").unwrap()), "{} {role}", file.display()),
                None => assert!(raw.get("endpoint").is_none_or(|v| v.is_null()), "{} {role}: {raw}", file.display()),
            }
            match texts(party, "cbc:RegistrationName").first() {
                Some((_, name)) => assert_eq!(raw["registration_name"], *name, "{} {role}", file.display()),
                None => assert!(raw.get("registration_name").is_none_or(|v| v.is_null()), "{} {role}: {raw}", file.display()),
            }
        }
        // Lines: every one, with its quantity, unit, price and amount.
        let blocks: Vec<&str> = xml.split("<cac:OrderLine>").skip(1).map(|b| &b[..b.find("</cac:OrderLine>").unwrap()]).collect();
        type Stored = (String, Decimal, Option<String>, Decimal, Decimal, Option<String>);
        let stored: Vec<Stored> =
            sqlx::query_as("SELECT remote_line_id, quantity, unit, unit_price, line_total, sku FROM order_lines WHERE order_id = $1 ORDER BY id")
                .bind(order_db)
                .fetch_all(store.pool())
                .await
                .unwrap();
        assert_eq!(stored.len(), blocks.len(), "{}: every line", file.display());
        for block in blocks {
            let line_id = texts(block, "cbc:ID")[0].1;
            let (q_attrs, quantity) = texts(block, "cbc:Quantity")[0];
            let price: Decimal = texts(block, "cbc:PriceAmount")[0].1.parse().unwrap();
            let amount: Decimal = texts(block, "cbc:LineExtensionAmount")[0].1.parse().unwrap();
            let s = stored.iter().find(|s| s.0 == line_id).unwrap_or_else(|| panic!("{} line {line_id}", file.display()));
            assert_eq!(s.1, quantity.parse::<Decimal>().unwrap(), "{} line {line_id} quantity", file.display());
            assert_eq!(s.2.as_deref(), attr(q_attrs, "unitCode"), "{} line {line_id} unit", file.display());
            assert_eq!((s.3, s.4), (price, amount), "{} line {line_id} price and amount", file.display());
            let sellers_item = block.find("<cac:SellersItemIdentification>").map(|i| texts(&block[i..], "cbc:ID")[0].1);
            assert_eq!(s.5.as_deref(), sellers_item, "{} line {line_id} seller's item id", file.display());
        }
    }

    // Bad documents: each refused with what is wrong; nothing changes.
    let snapshot = "SELECT count(*) || '/' || (SELECT count(*) FROM order_lines) FROM purchase_orders";
    let before: String = sqlx::query_scalar(snapshot).fetch_one(store.pool()).await.unwrap();
    let tmp = common::temp_dir();
    let bad = [
        ("cut.xml", std::fs::read_to_string(&files[0]).unwrap()[..3000].to_owned(), "malformed XML"),
        ("catalogue.xml", std::fs::read_to_string(examples.join("Catalogue_Example.xml")).unwrap(), "not a UBL Order"),
        ("nolines.xml", "<Order xmlns:cbc='c'><cbc:ID>X1</cbc:ID><cbc:IssueDate>2026-12-01</cbc:IssueDate></Order>".to_owned(), "no cac:OrderLine"),
        ("garbage.xml", "\u{0}\u{1}not xml".to_owned(), "no element"),
    ];
    for (name, text, why) in &bad {
        let path = tmp.path().join(name);
        std::fs::write(&path, text).unwrap();
        let (code, _, err) = run(&["orders".as_ref(), "import-ubl".as_ref(), path.as_os_str()]);
        assert_eq!(code, 1, "{name}: {err}");
        assert!(err.contains(name) && err.contains(why), "{name}: says which file and why: {err}");
    }
    let after: String = sqlx::query_scalar(snapshot).fetch_one(store.pool()).await.unwrap();
    assert_eq!(before, after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_neutralise_formulas_and_keep_amounts_as_numbers_and_pending_shows_the_deadline() {
    let (store, url) = common::fresh_db().await;
    common::load_cooperatives(&store).await;
    let in_two_days = chrono::Utc::now() + chrono::Duration::days(2);
    let order: i64 = sqlx::query_scalar(
        "INSERT INTO purchase_orders (source, remote_order_id, cooperative_id, kode_klpd, fiscal_year, kode_penyedia, status, order_date, deadline,
                                      total, nama_satker, needs_detail)
         SELECT 'ekatalog-v6', 'EP-2026-000777', id, 'D347', 2026, kode_penyedia, 'WAITING_SELLER_CONFIRMATION', now(), $1, 951000,
                '=cmd|'' /C calc''!A0', false FROM cooperatives WHERE code = 'MJK-WATES' RETURNING id",
    )
    .bind(in_two_days)
    .fetch_one(store.pool())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO order_lines (order_id, remote_line_id, description, quantity, unit, unit_price, line_total, sku)
         VALUES ($1, '1', '=HYPERLINK(\"http://evil\",\"x\")', 12.5, 'Kilogram', 74000, 925000, '+SKU-1'),
                ($1, '2', '@SUM(1+1)', 1, 'Buah', 26000, 26000, '-3')",
    )
    .bind(order)
    .execute(store.pool())
    .await
    .unwrap();
    let run = |args: &[&str]| {
        let out = common::binary().env("DATABASE_URL", &url).args(args).output().unwrap();
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, csv_text, err) = run(&["orders", "export", "--cooperative", "MJK-WATES", "--format", "csv"]);
    assert_eq!(code, 0, "{err}");
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[0][col("item")], "'=HYPERLINK(\"http://evil\",\"x\")");
    assert_eq!(&rows[0][col("sku")], "'+SKU-1");
    assert_eq!(&rows[1][col("item")], "'@SUM(1+1)");
    assert_eq!(&rows[1][col("sku")], "'-3");
    assert_eq!(&rows[0][col("buyer")], "'=cmd|' /C calc'!A0");
    assert_eq!((&rows[0][col("quantity")], &rows[0][col("line_total")], &rows[0][col("order_total")]), ("12.5", "925000", "951000"));

    let tmp = common::temp_dir();
    let book = tmp.path().join("orders.xlsx");
    let (code, _, err) = run(&["orders", "export", "--cooperative", "MJK-WATES", "--format", "xlsx", "--out", book.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    use calamine::{Data, Reader, open_workbook_auto};
    let mut wb = open_workbook_auto(&book).unwrap();
    let range = wb.worksheet_range("Pesanan").unwrap();
    let rows: Vec<&[Data]> = range.rows().collect();
    let heading = |name: &str| rows[0].iter().position(|c| *c == name).unwrap();
    assert_eq!(rows[1][heading("item")], Data::String("'=HYPERLINK(\"http://evil\",\"x\")".into()));
    assert_eq!(rows[2][heading("sku")], Data::String("'-3".into()));
    assert_eq!(rows[1][heading("quantity")], Data::Float(12.5), "a number cell");
    assert_eq!(rows[1][heading("line_total")], Data::Float(925000.0));
    // Moments are date cells in Jakarta time, so they sort and filter; amounts show as whole rupiah.
    let confirm_by = in_two_days.with_timezone(&chrono_tz::Asia::Jakarta).naive_local();
    match &rows[1][heading("confirm_by")] {
        Data::DateTime(d) => {
            // Excel's serial date: days since 1899-12-30, the time as a fraction of a day.
            let epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap().and_hms_opt(0, 0, 0).unwrap();
            let shown = epoch + chrono::Duration::milliseconds((d.as_f64() * 86_400_000.0).round() as i64);
            assert!((shown - confirm_by).num_seconds().abs() <= 1, "{shown} is the deadline in WIB, {confirm_by}");
        }
        other => panic!("the deadline is a date cell, not {other:?}"),
    }
    assert!(matches!(rows[1][heading("order_date")], Data::DateTime(_)), "{:?}", rows[1][heading("order_date")]);
    let styles = {
        let mut zip = zip::ZipArchive::new(std::fs::File::open(&book).unwrap()).unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("xl/styles.xml").unwrap(), &mut text).unwrap();
        text
    };
    assert!(styles.contains("formatCode=\"#,##0\"") && styles.contains("formatCode=\"yyyy-mm-dd hh:mm\""), "{styles}");

    // Waiting orders, soonest deadline first, with the deadline in WIB and the working time left.
    let (code, out, err) = run(&["orders", "pending", "--cooperative", "MJK-WATES"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("EP-2026-000777") && out.contains("WIB") && out.contains("left") && out.contains("Rp951.000"), "{out}");
    assert!(out.contains("HYPERLINK"), "items are listed: {out}");
    // A deadline that has passed says so in words.
    sqlx::query("UPDATE purchase_orders SET deadline = now() - interval '1 hour' WHERE id = $1").bind(order).execute(store.pool()).await.unwrap();
    let (code, out, _) = run(&["orders", "pending", "--cooperative", "MJK-WATES"]);
    assert_eq!(code, 0);
    assert!(out.contains("(passed)") && !out.contains("PASSED") && !out.contains("left"), "{out}");
    let (code, out, _) = run(&["orders", "list", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(
        (v["order_id"].as_str(), v["cooperative"].as_str(), v["status"].as_str(), v["lines"].as_i64()),
        (Some("EP-2026-000777"), Some("MJK-WATES"), Some("WAITING_SELLER_CONFIRMATION"), Some(2))
    );
    assert_eq!(v["total"].as_str().map(|t| t.parse::<Decimal>().unwrap()), Some(Decimal::from(951_000)));
}

/// A minimal UBL Order from the buyer to Balongsari's cooperative (its GLN in
/// the fixtures), with one line of `quantity`.
fn small_order(id: &str, quantity: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2" xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2">
<cbc:ID>{id}</cbc:ID><cbc:IssueDate>2026-12-01</cbc:IssueDate>
<cac:BuyerCustomerParty><cac:Party><cbc:EndpointID schemeID="0088">8990000000013</cbc:EndpointID><cac:PartyName><cbc:Name>Dinas Sosial Kota Mojokerto</cbc:Name></cac:PartyName></cac:Party></cac:BuyerCustomerParty>
<cac:SellerSupplierParty><cac:Party><cbc:EndpointID schemeID="0088">8990000001003</cbc:EndpointID></cac:Party></cac:SellerSupplierParty>
<cac:AnticipatedMonetaryTotal><cbc:PayableAmount currencyID="IDR">76000</cbc:PayableAmount></cac:AnticipatedMonetaryTotal>
<cac:OrderLine><cac:LineItem><cbc:ID>1</cbc:ID><cbc:Quantity unitCode="KGM">{quantity}</cbc:Quantity><cbc:LineExtensionAmount currencyID="IDR">76000</cbc:LineExtensionAmount><cac:Price><cbc:PriceAmount currencyID="IDR">76000</cbc:PriceAmount></cac:Price><cac:Item><cbc:Name>Beras Premium 5 kg</cbc:Name></cac:Item></cac:LineItem></cac:OrderLine>
</Order>"#
    )
}

/// `orders import-ubl` takes each file alone: a named pipe is refused at once
/// (it used to be opened and waited on for ever), a document the database
/// refuses (a quantity beyond its column) is reported as not stored, and the
/// files after both still go in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_ubl_refuses_a_fifo_at_once_and_a_store_error_stops_only_its_file() {
    let (store, url) = common::fresh_db().await;
    common::load_cooperatives(&store).await;
    let tmp = common::temp_dir();
    let fifo = tmp.path().join("pipa.xml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let huge = tmp.path().join("besar.xml");
    std::fs::write(&huge, small_order("PO-HUGE", "999999999999999")).unwrap();
    let good = tmp.path().join("baik.xml");
    std::fs::write(&good, small_order("PO-GOOD", "1")).unwrap();

    let mut child = common::binary()
        .env("DATABASE_URL", &url)
        .args(["orders".as_ref(), "import-ubl".as_ref(), fifo.as_os_str(), huge.as_os_str(), good.as_os_str()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > std::time::Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("import-ubl still waits on the named pipe after 60 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let out = child.wait_with_output().unwrap();
    let (stdout, err) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(status.code(), Some(1), "some files were refused: {stdout}{err}");
    assert!(err.contains("pipa.xml") && err.contains("named pipe"), "{err}");
    assert!(err.contains("besar.xml") && err.contains("not stored"), "{err}");
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT remote_order_id FROM purchase_orders WHERE source = 'peppol-ubl' ORDER BY 1").fetch_all(store.pool()).await.unwrap();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert!(stored[0].starts_with("PO-GOOD/"), "the file after the refused ones went in: {stored:?}");
}
