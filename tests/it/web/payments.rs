//! "Pembayaran" over HTTP against the daemon: a cooperative's staff upload
//! their bank statement, see what it matched and what waits, and assign a
//! credit to one of their own unpaid orders; nothing of another
//! cooperative is matched, offered or assignable.

use katalog_bridge::mapping::MappingSource;
use katalog_bridge::mapping::tax::TaxRules;
use rust_decimal::Decimal;

use super::{PASSWORD, Visitor, World};

/// What each stored order of `code` is still owed, by its catalogue id.
pub async fn owed(w: &World, code: &str) -> Vec<(String, Decimal)> {
    let rules = TaxRules::load(&MappingSource::BuiltIn).unwrap();
    let filter = katalog_bridge::store::orders::FactsFilter { cooperative: Some(code), live_only: true, ..Default::default() };
    let facts = katalog_bridge::store::orders::facts(&w.store, &filter).await.unwrap();
    let today = katalog_bridge::domain::time::today();
    facts
        .iter()
        .map(|f| (f.order_id.clone(), katalog_bridge::orders::fulfilment::standing(f, &rules, &Default::default(), today).outstanding))
        .filter(|o| o.1 > Decimal::ZERO)
        .collect()
}

pub fn statement(lines: &[(&str, Decimal, &str)]) -> String {
    let mut csv = String::from("Tanggal;Keterangan;Kredit;Referensi\n");
    for (words, amount, reference) in lines {
        csv.push_str(&format!("04/01/2027;{words};{};{reference}\n", amount.normalize()));
    }
    csv
}

async fn upload(v: &Visitor, base: &str, csv: String) -> (u16, String) {
    let csrf = v.csrf().await;
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf)
        .text("bank", "generic")
        .part("berkas", reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("rekening-koran.csv"));
    let r = v.http.post(format!("{base}/pembayaran")).multipart(form).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_upload_their_statement_see_what_matched_and_assign_the_rest_to_their_own_orders_only() {
    let w = World::new("").await;
    // The cooperative with the most orders, and another.
    let codes: Vec<String> = sqlx::query_scalar(
        "SELECT c.code FROM purchase_orders o JOIN cooperatives c ON c.id = o.cooperative_id GROUP BY c.code ORDER BY count(*) DESC, c.code LIMIT 2",
    )
    .fetch_all(w.store.pool())
    .await
    .unwrap();
    let (mine, theirs) = (codes[0].clone(), codes[1].clone());
    w.add_user("staf", Some(&mine), PASSWORD);
    let my_orders = owed(&w, &mine).await;
    let their_orders = owed(&w, &theirs).await;
    assert!(my_orders.len() >= 2 && !their_orders.is_empty(), "{my_orders:?} {their_orders:?}");
    let (first, first_owed) = my_orders[0].clone();
    let (second, second_owed) = my_orders[1].clone();
    let (foreign, foreign_owed) = their_orders[0].clone();
    let v = Visitor::new(&w.base);
    v.login("staf", PASSWORD).await;
    let (status, page) = v.get("/pembayaran").await;
    assert_eq!(status, 200);
    assert!(page.contains("Unggah rekening koran koperasi") && page.contains("Tidak ada kredit yang menunggu."), "{page}");
    // Three credits: one naming my order with its amount, one of no order, one naming another cooperative's order.
    let csv = statement(&[
        (&format!("TRF {first} DINSOS"), first_owed, "R-1"),
        ("BUNGA JASA GIRO", Decimal::new(77_777, 0), ""),
        (&format!("TRF {foreign}"), foreign_owed, "R-3"),
    ]);
    let (status, page) = upload(&v, &w.base, csv.clone()).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("rekening-koran.csv") && page.contains("<strong>3</strong> kredit dibaca"), "{page}");
    assert!(page.contains("<strong>1</strong> cocok dan dicatat lunas") && page.contains("2</strong> menunggu ditetapkan"), "{page}");
    let (_, page) = v.get("/pembayaran").await;
    assert!(!page.contains(&format!("<option value=\"{foreign}\"")), "another cooperative's order is never offered");
    assert!(page.contains(&format!("<option value=\"{second}\"")), "my unpaid orders are offered");
    let foreign_paid = w
        .scalar(&format!(
            "SELECT count(*) FROM order_fulfilment f JOIN purchase_orders o ON o.id = f.order_id WHERE o.remote_order_id = '{foreign}' AND f.kind = 'paid'"
        ))
        .await;
    assert_eq!(foreign_paid, 0, "the other cooperative's order is not paid by my statement");
    // Uploaded again: nothing new.
    let (_, page) = upload(&v, &w.base, csv).await;
    assert!(page.contains("<strong>3</strong> sudah diimpor sebelumnya") && page.contains("<strong>0</strong> cocok dan dicatat lunas"), "{page}");
    // The interest is assigned (by mistake, say) to my second order: recorded, and the page says so.
    let bunga = w.scalar("SELECT id FROM bank_credits WHERE description = 'BUNGA JASA GIRO'").await;
    let csrf = v.csrf().await;
    let (status, _, to) = v.post(&format!("/pembayaran/{bunga}/tetapkan"), &[("csrf", &csrf), ("pesanan", &second)]).await;
    assert_eq!((status, to.as_deref()), (303, Some("/pembayaran?tetapkan=ok")));
    let paid: Decimal = sqlx::query_scalar(
        "SELECT f.amount FROM order_fulfilment f JOIN purchase_orders o ON o.id = f.order_id WHERE o.remote_order_id = $1 AND f.kind = 'paid' ORDER BY f.id DESC LIMIT 1",
    )
    .bind(&second)
    .fetch_one(w.store.pool())
    .await
    .unwrap();
    assert_eq!(paid, Decimal::new(77_777, 0), "part of {second_owed} received");
    // Another cooperative's order cannot be given, nor another cooperative's credit taken.
    let left = w.scalar("SELECT id FROM bank_credits WHERE reference = 'R-3'").await;
    let (status, _, to) = v.post(&format!("/pembayaran/{left}/tetapkan"), &[("csrf", &csrf), ("pesanan", &foreign)]).await;
    assert_eq!((status, to.as_deref()), (303, Some("/pembayaran?tetapkan=pesanan")));
    let (_, page) = v.get("/pembayaran?tetapkan=pesanan").await;
    assert!(page.contains("pilih pesanan koperasi ini"), "the page says why");
    w.add_user("staf-lain", Some(&theirs), PASSWORD);
    let other = Visitor::new(&w.base);
    other.login("staf-lain", PASSWORD).await;
    let csrf = other.csrf().await;
    let (status, _, _) = other.post(&format!("/pembayaran/{left}/tetapkan"), &[("csrf", &csrf), ("pesanan", &foreign)]).await;
    assert_eq!(status, 404, "a credit of another cooperative is not found");
    let (_, page) = other.get("/pembayaran").await;
    assert!(!page.contains("BUNGA JASA GIRO") && !page.contains(&first), "staff see their own cooperative's credits only");
}

/// "Unduhan" writes a PKP cooperative's month of tax invoices for Coretax
/// as `orders faktur` does: refused with its problems named while a work
/// unit's TIN is missing, then downloaded as the Coretax file, then nothing
/// left for the month.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_downloads_page_writes_a_months_coretax_file_once_and_names_what_stops_it() {
    let dir = crate::common::temp_dir();
    let mappings = crate::payments::mappings_with_a_bank(dir.path());
    let w = World::with(&format!("mappings_dir = {mappings:?}\n"), "").await;
    // A PKP cooperative's month with orders, each to be paid from petty cash (its own faktur).
    let (code, month): (String, String) = sqlx::query_as(
        "SELECT c.code, to_char(o.order_date AT TIME ZONE 'Asia/Jakarta', 'YYYY-MM') FROM purchase_orders o JOIN cooperatives c ON c.id = o.cooperative_id
         WHERE c.pkp AND o.status NOT LIKE 'CANCEL%' GROUP BY 1, 2 ORDER BY count(*) DESC, 1, 2 LIMIT 1",
    )
    .fetch_one(w.store.pool())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO order_fulfilment (order_id, kind, detail, recorded_by)
         SELECT o.id, 'payment_way', 'up_va', 'staf' FROM purchase_orders o JOIN cooperatives c ON c.id = o.cooperative_id WHERE c.code = $1",
    )
    .bind(&code)
    .execute(w.store.pool())
    .await
    .unwrap();
    w.add_user("staf", Some(&code), PASSWORD);
    let v = Visitor::new(&w.base);
    v.login("staf", PASSWORD).await;
    let (_, page) = v.get("/unduhan").await;
    assert!(page.contains(&format!("action=\"/unduhan/faktur/{code}\"")) && page.contains("Faktur pajak untuk Coretax"), "{page}");
    let post = async |v: &Visitor| {
        let csrf = v.csrf().await;
        v.http.post(format!("{}/unduhan/faktur/{code}", w.base)).form(&[("csrf", csrf.as_str()), ("bulan", month.as_str())]).send().await.unwrap()
    };
    // Another cooperative's invoices are not found.
    let other: String =
        sqlx::query_scalar("SELECT code FROM cooperatives WHERE code <> $1 ORDER BY code LIMIT 1").bind(&code).fetch_one(w.store.pool()).await.unwrap();
    let csrf = v.csrf().await;
    let foreign = v.http.post(format!("{}/unduhan/faktur/{other}", w.base)).form(&[("csrf", csrf.as_str()), ("bulan", month.as_str())]).send().await.unwrap();
    assert_eq!(foreign.status().as_u16(), 404);
    let refused = post(&v).await;
    let (kind, body) = (refused.headers()["content-type"].to_str().unwrap().to_owned(), refused.text().await.unwrap());
    assert!(
        kind.starts_with("text/html")
            && body.contains("Berkas faktur tidak ditulis")
            && body.contains("belum punya NPWP di coretax-buyers.csv")
            && body.contains("perbaiki dulu"),
        "{body}"
    );
    // Every work unit with its TIN, every local unit with a code.
    let units: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT kode_satker FROM purchase_orders WHERE kode_satker IS NOT NULL").fetch_all(w.store.pool()).await.unwrap();
    let mut buyers = String::from("kode_satker,nama,npwp,idtku,alamat,email\n");
    for (n, k) in units.iter().enumerate() {
        let tin = format!("{:016}", 3576_0200_0000_0000u64 + n as u64);
        buyers.push_str(&format!("{k},Satker {k},{tin},{tin}000000,,\n"));
    }
    std::fs::write(mappings.join("coretax-buyers.csv"), buyers).unwrap();
    crate::payments::coretax_code_for_every_unit(&mappings);
    let written = post(&v).await;
    assert_eq!(written.headers()["content-type"], "application/xml");
    assert!(written.headers()["content-disposition"].to_str().unwrap().contains(&format!("faktur-{code}-{month}.xml")));
    let xml = written.text().await.unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let mut held: Vec<String> = doc.descendants().filter(|n| n.has_tag_name("RefDesc")).filter_map(|n| n.text()).map(str::to_owned).collect();
    held.sort();
    held.dedup();
    let recorded: Vec<String> = sqlx::query_scalar("SELECT o.remote_order_id FROM tax_invoice_orders t JOIN purchase_orders o ON o.id = t.order_id ORDER BY 1")
        .fetch_all(w.store.pool())
        .await
        .unwrap();
    assert!(!held.is_empty());
    assert_eq!(held, recorded, "the file holds the orders recorded");
    let again = post(&v).await.text().await.unwrap();
    assert!(again.contains("Tidak ada pesanan bulan itu yang perlu faktur"), "a second file for the month holds none");
    // Coretax's list of the invoices issued, as a CSV, uploaded back: each order gets its number.
    let mut list = String::from("Nomor Faktur Pajak;Tanggal Faktur Pajak;Status Faktur;Referensi\n");
    let refs: Vec<&str> = doc.descendants().filter(|n| n.has_tag_name("RefDesc")).filter_map(|n| n.text()).collect();
    for (i, r) in refs.iter().enumerate() {
        list.push_str(&format!("04002600{:09};04/12/2026;APPROVED;{r}\n", i + 1));
    }
    list.push_str("04002600999999999;31/02/2026;APPROVED;EP-2099-000001\n");
    let send = async |to: &str| {
        let csrf = v.csrf().await;
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf)
            .part("berkas", reqwest::multipart::Part::bytes(list.clone().into_bytes()).file_name("pajak-keluaran.csv"));
        let r = v.http.post(format!("{}/unduhan/faktur-nomor/{to}", w.base)).multipart(form).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    assert_eq!(send(&other).await.0, 404, "another cooperative's orders are out of reach");
    let (status, page) = send(&code).await;
    assert_eq!(status, 200);
    assert!(page.contains(&format!("<strong>{}</strong> nomor dicatat", refs.len())), "{page}");
    let last = refs.len() + 2;
    assert!(
        page.contains(&format!("<td data-label=\"Baris\">{last}</td><td data-label=\"Kolom\">B (Tanggal Faktur Pajak)</td>")),
        "the day that does not exist: {page}"
    );
    let numbered: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT f.order_id) FROM order_fulfilment f JOIN tax_invoice_orders t ON t.order_id = f.order_id WHERE f.kind = 'faktur' AND f.recorded_by = 'staf'",
    )
    .fetch_one(w.store.pool())
    .await
    .unwrap();
    assert_eq!(numbered as usize, held.len(), "every order of the file has its number");
    let (_, again) = send(&code).await;
    assert!(again.contains("<strong>0</strong> nomor dicatat") && again.contains(&format!("<strong>{}</strong> sudah tercatat", refs.len())), "{again}");
}
