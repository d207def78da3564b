//! A real headless Chromium (Debian's `chromium`, driven over WebDriver by
//! its `chromedriver`) against the running daemon and the mock catalogue: a
//! cooperative's staff log in, upload a product file with one bad row and
//! see that row's error, see a waiting order with its deadline and accept
//! it, and the mock catalogue has the acceptance; then the liaison starts an
//! order sync from the page. Screenshots of the overview and of an order, on
//! a desk-sized and a phone-sized window, go to `target/screenshots/` (and,
//! with `UPDATE_SCREENSHOTS=1`, to `docs/screenshots/` for the README).
//!
//! Without `chromium` and `chromedriver` the test says it skipped, unless
//! `KB_REQUIRE_CHROMIUM` is set (CI sets it: there a missing browser fails).

use std::process::{Child, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use super::{PASSWORD, World, common};

fn find_program(names: &[&str]) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path).chain([std::path::PathBuf::from("/usr/bin"), std::path::PathBuf::from("/usr/lib/chromium")]) {
        for name in names {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Chromium and its chromedriver; `None` (the test says it skipped) where
/// they are missing, unless `KB_REQUIRE_CHROMIUM` is set.
fn chromium_or_skip() -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    match (find_program(&["chromium", "chromium-browser"]), find_program(&["chromedriver"])) {
        (Some(chromium), Some(chromedriver)) => Some((chromium, chromedriver)),
        _ if std::env::var_os("KB_REQUIRE_CHROMIUM").is_some() => {
            panic!("chromium and chromedriver are required here (KB_REQUIRE_CHROMIUM): install Debian's chromium and chromium-driver")
        }
        _ => {
            eprintln!("skipped: no chromium or chromedriver on this machine (install Debian's chromium and chromium-driver)");
            None
        }
    }
}

/// Starts chromedriver and a headless Chromium session through it.
async fn browser(chromium: &std::path::Path, chromedriver: &std::path::Path) -> (Driver, Client) {
    let port = super::free_port();
    let driver = Driver(
        std::process::Command::new(chromedriver)
            .arg(format!("--port={port}"))
            // The browser keeps the real clock when the tests run on a moved
            // date (tools/test_on_moved_date.sh): it only shows what the
            // daemon renders, and under faketime Chromium takes minutes a page.
            .env_remove("LD_PRELOAD")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting chromedriver"),
    );
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::get(format!("{url}/status")).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=id-ID"]
        }),
    );
    let client =
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new()).capabilities(caps).connect(&url).await.expect("a Chromium session");
    (driver, client)
}

/// Saves a screenshot of the window as `name`.png.
async fn shot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    let dir = common::repo().join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
    if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
        let docs = common::repo().join("docs/screenshots");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(docs.join(format!("{name}.png")), &png).unwrap();
    }
}

/// Whether the page fits the window's width (nothing to scroll sideways).
async fn fits_width(client: &Client) -> bool {
    client.execute("return document.documentElement.scrollWidth <= window.innerWidth;", vec![]).await.unwrap().as_bool().unwrap_or(false)
}

/// The element, once the page that has it has loaded (a click on a form's
/// button may return before the next page is there).
async fn wait_for(client: &Client, what: Locator<'_>) -> fantoccini::elements::Element {
    client.wait().at_most(Duration::from_secs(30)).for_element(what).await.unwrap_or_else(|e| panic!("waiting for {what:?}: {e}"))
}

/// Waits until the page says `words` (a form's answer replacing a page that
/// had a notice of its own already), and returns its text.
async fn wait_for_words(client: &Client, words: &str) -> String {
    for _ in 0..300 {
        // Between two pages there may be no body yet, or the old one gone stale.
        let now = match client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if now.contains(words) {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page never said {words:?}: {}", text(client).await);
}

async fn text(client: &Client) -> String {
    client.find(Locator::Css("body")).await.unwrap().text().await.unwrap()
}

async fn log_in(client: &Client, base: &str, user: &str) {
    client.goto(&format!("{base}/masuk")).await.unwrap();
    client.find(Locator::Id("username")).await.unwrap().send_keys(user).await.unwrap();
    client.find(Locator::Id("password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    client.find(Locator::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for(client, Locator::Css("nav a[aria-current=page]")).await;
    let url = client.current_url().await.unwrap();
    assert_eq!(url.path(), "/", "logged in as {user}: {}", text(client).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_headless_chromium_a_cooperative_uploads_sees_its_order_and_accepts_it_and_the_liaison_starts_an_order_sync() {
    let Some((chromium, chromedriver)) = chromium_or_skip() else { return };
    let w = World::new("").await;
    let ((mine, my_order), _) = w.two_cooperatives().await;
    w.add_user("staf", Some(&mine), PASSWORD);
    w.add_user("penghubung", None, PASSWORD);
    let remote_id: String =
        sqlx::query_scalar("SELECT remote_order_id FROM purchase_orders WHERE id = $1").bind(my_order).fetch_one(w.store.pool()).await.unwrap();
    let (_driver, client) = browser(&chromium, &chromedriver).await;
    let base = w.base.clone();

    // The cooperative's staff.
    log_in(&client, &base, "staf").await;
    let overview = text(&client).await;
    assert!(overview.contains("Ringkasan") && overview.contains(&mine), "{overview}");
    shot(&client, "ringkasan").await;

    // Upload a product file with one bad row (no price).
    let file = w.tmp.path().join("produk-koperasi.csv");
    std::fs::write(
        &file,
        "kode_anggota;nama_anggota;sku;nama_produk;deskripsi;kategori;satuan;isi_bersih;harga;stok;min_pembelian;berat_kg;asal\n\
         UJI-01;Anggota Uji;UJI-BERAS-5;Beras Uji Pulen 5 kg;Beras uji kemasan 5 kg.;Beras;karung;5 kg;74500;10;1;5;Lokal\n\
         UJI-01;Anggota Uji;UJI-GULA-1;Gula Pasir Uji 1 kg;Gula uji kemasan 1 kg.;Gula;pcs;1 kg;;10;1;1;Lokal\n",
    )
    .unwrap();
    client.goto(&format!("{base}/unggah")).await.unwrap();
    client.find(Locator::Id("berkas")).await.unwrap().send_keys(&file.display().to_string()).await.unwrap();
    client.find(Locator::Css("form[action='/unggah'] button[type=submit]")).await.unwrap().click().await.unwrap();
    let result = wait_for(&client, Locator::Id("hasil")).await.text().await.unwrap();
    assert!(result.contains("2 baris dibaca") && result.contains("1 baris masuk") && result.contains("1 baris ditolak"), "{result}");
    let refused = client.find(Locator::Css("table.refusals tbody tr")).await.unwrap().text().await.unwrap();
    assert!(refused.contains('3') && refused.contains("harga") && refused.contains("wajib diisi"), "the bad row with its row, column and reason: {refused}");
    shot(&client, "unggah").await;

    // The waiting order, with its deadline and the working time left.
    client.goto(&format!("{base}/pesanan?menunggu=1")).await.unwrap();
    let list = text(&client).await;
    assert!(list.contains(&remote_id), "the waiting order is listed: {list}");
    client.find(Locator::LinkText(&remote_id)).await.unwrap().click().await.unwrap();
    wait_for(&client, Locator::Css("dl.facts")).await;
    let page = text(&client).await;
    assert!(page.contains("Batas konfirmasi") && page.contains("WIB") && page.contains("Sisa waktu kerja"), "{page}");
    shot(&client, "pesanan").await;
    client.set_window_size(390, 844).await.unwrap();
    assert!(fits_width(&client).await, "the order page fits a phone's width");
    shot(&client, "pesanan-ponsel").await;
    client.goto(&format!("{base}/")).await.unwrap();
    assert!(fits_width(&client).await, "the overview fits a phone's width");
    shot(&client, "ringkasan-ponsel").await;
    client.set_window_size(1280, 900).await.unwrap();

    // Accept it: the mock catalogue has the acceptance.
    client.goto(&format!("{base}/pesanan/{my_order}")).await.unwrap();
    client.find(Locator::Css("form[action$='/terima'] button")).await.unwrap().click().await.unwrap();
    let after = wait_for(&client, Locator::Css("p.notice")).await.text().await.unwrap();
    assert!(after.contains("Jawaban dicatat dan dikirim ke katalog."), "{after}");
    let truth: serde_json::Value = reqwest::get(format!("{}/admin/state?kind=orders&limit=5000", w.server.url())).await.unwrap().json().await.unwrap();
    let order = truth["items"].as_array().unwrap().iter().find(|o| o["order_id"] == remote_id.as_str()).expect("the order on the mock");
    assert_eq!(order["status"], "ON_PROCESS", "the catalogue took the acceptance");
    let audited = w.scalar(&format!("SELECT count(*) FROM audit_log WHERE action = 'order.accept' AND subject = '{remote_id}' AND username = 'staf'")).await;
    assert_eq!(audited, 1, "who accepted which order is in the audit log");

    // The liaison starts an order sync from the page.
    client.find(Locator::Css("form[action='/keluar'] button")).await.unwrap().click().await.unwrap();
    wait_for(&client, Locator::Id("username")).await;
    log_in(&client, &base, "penghubung").await;
    shot(&client, "ringkasan-penghubung").await;
    let before = w.scalar("SELECT count(*) FROM sync_runs WHERE kind = 'orders'").await;
    client.goto(&format!("{base}/jalankan")).await.unwrap();
    client.find(Locator::Css("form[action='/jalankan/orders'] button")).await.unwrap().click().await.unwrap();
    let started = wait_for(&client, Locator::Css("p.notice")).await.text().await.unwrap();
    assert!(started.contains("Pekerjaan dimulai: Sinkronkan pesanan"), "{started}");
    let mut status = String::new();
    for _ in 0..600 {
        status = sqlx::query_scalar("SELECT status FROM sync_runs WHERE kind = 'orders' AND instance LIKE 'web-test-daemon%' ORDER BY id DESC LIMIT 1")
            .fetch_optional(w.store.pool())
            .await
            .unwrap()
            .unwrap_or_default();
        if !status.is_empty() && status != "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "succeeded", "the run started from the page ended well: {}", w.log());
    assert_eq!(w.scalar("SELECT count(*) FROM sync_runs WHERE kind = 'orders'").await, before + 1);
    let synced: String = sqlx::query_scalar("SELECT status FROM purchase_orders WHERE id = $1").bind(my_order).fetch_one(w.store.pool()).await.unwrap();
    assert_eq!(synced, "ON_PROCESS", "the sync brought the accepted order's new status");
    client.goto(&format!("{base}/riwayat")).await.unwrap();
    let history = text(&client).await;
    assert!(history.contains("memulai pekerjaan") && history.contains("menerima pesanan"), "{history}");
    client.close().await.unwrap();
}

/// Issue 35 on a phone-sized window: a cooperative's staff add a product
/// with a photo taken by a phone (EXIF with GPS), send it with "Kirim
/// sekarang", the mock's curators open the photo, the served photo has no
/// EXIF and is at most 1,600 px; a new price sent again updates the same
/// listing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_headless_chromium_on_a_phone_a_product_with_a_photo_is_added_sent_and_its_new_price_updates_the_same_listing() {
    let Some((chromium, chromedriver)) = chromium_or_skip() else { return };
    let w = World::new("").await;
    let ((mine, _), _) = w.two_cooperatives().await;
    w.add_user("staf", Some(&mine), PASSWORD);
    super::admin(&w.server, "/admin/rules", json!({"fetch_photos": true})).await;
    let photo = w.tmp.path().join("IMG_20261207_091500.jpg");
    std::fs::write(&photo, super::products::phone_photo()).unwrap();
    let (_driver, client) = browser(&chromium, &chromedriver).await;
    client.set_window_size(390, 844).await.unwrap();
    let base = w.base.clone();
    log_in(&client, &base, "staf").await;

    // 1. A new product, typed on the phone, Indonesian numbers included.
    client.goto(&format!("{base}/produk/baru")).await.unwrap();
    wait_for(&client, Locator::Css("form.product")).await;
    for (field, value) in [
        ("kode_anggota", "TMP-01"),
        ("nama_anggota", "Bu Sri Keripik"),
        ("hp_anggota", "0812-3456-7890"),
        ("sku", "KRP-TEMPE-250"),
        ("nama_produk", "Keripik Tempe Pedas 250 gram"),
        ("kategori", "Keripik"),
        ("satuan", "bungkus"),
        ("isi_bersih", "250 gram"),
        ("harga", "12.500"),
        ("stok", "40"),
        ("berat_kg", "0,3"),
        ("deskripsi", "Keripik tempe renyah buatan anggota."),
    ] {
        client.find(Locator::Id(field)).await.unwrap().send_keys(value).await.unwrap();
    }
    assert!(fits_width(&client).await, "the product form fits a phone's width");
    shot(&client, "produk-baru-ponsel").await;
    client.find(Locator::Css("form.product button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for_words(&client, "Produk tersimpan.").await;
    let id: i64 = client.current_url().await.unwrap().path().trim_start_matches("/produk/").parse().unwrap();

    // The photo, from the gallery.
    client.find(Locator::Id("galeri")).await.unwrap().send_keys(&photo.display().to_string()).await.unwrap();
    client.find(Locator::Css("#galeri ~ button")).await.unwrap().click().await.unwrap();
    let page = wait_for_words(&client, "Foto ditambahkan.").await;
    assert!(page.contains("Foto ditambahkan.") && page.contains("Pengiriman berikutnya: listing baru"), "the product is ready: {page}");
    assert!(fits_width(&client).await, "the product page fits a phone's width");
    shot(&client, "produk-ponsel").await;

    // 2. Kirim sekarang: listed on the mock; its curators open the photo and the listing goes live.
    client.find(Locator::Css("form[action$='/kirim'] button")).await.unwrap().click().await.unwrap();
    wait_for_words(&client, "Terkirim").await;
    super::admin(&w.server, "/admin/clock/advance", json!({"hours": 48})).await;
    let listed = super::products::mock_listings(&w, "TMP-01/KRP-TEMPE-250").await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["state"], "live", "the mock opened the photo, an image: {listed:?}");
    let listing_id = listed[0]["listing_id"].clone();

    // 3. The photo as served: no EXIF, at most 1,600 px.
    let digest: String = sqlx::query_scalar("SELECT digest FROM product_photos WHERE product_id = $1").bind(id).fetch_one(w.store.pool()).await.unwrap();
    let served = reqwest::get(format!("{base}/foto/{digest}.jpg")).await.unwrap().bytes().await.unwrap();
    assert!(!served.windows(4).any(|x| x == b"Exif") && !served.windows(2).any(|x| x == [0xFF, 0xE1]), "no EXIF");
    let shown = image::load_from_memory(&served).unwrap();
    assert!(shown.width().max(shown.height()) <= 1600, "{} × {}", shown.width(), shown.height());

    // 4. A new price, sent again: the same listing shows it.
    let price = client.find(Locator::Id("harga")).await.unwrap();
    price.clear().await.unwrap();
    price.send_keys("13.750").await.unwrap();
    client.find(Locator::Css("form.product button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for_words(&client, "pembaruan listing yang sama").await;
    client.find(Locator::Css("form[action$='/kirim'] button")).await.unwrap().click().await.unwrap();
    wait_for_words(&client, "Terkirim").await;
    let listed = super::products::mock_listings(&w, "TMP-01/KRP-TEMPE-250").await;
    assert_eq!(listed.len(), 1);
    assert_eq!((&listed[0]["listing_id"], &listed[0]["listing"]["harga"]), (&listing_id, &json!(13750)), "the same listing, the new price");
    client.close().await.unwrap();
}

/// The city's purchase plan as people see it: the liaison's "Rencana
/// belanja kota" on a desktop and on a phone, and a cooperative's "Peluang"
/// on a phone, in Bahasa Indonesia, fitting the phone's width.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_headless_chromium_the_plan_and_the_opportunities_read_on_a_desktop_and_a_phone() {
    let Some((chromium, chromedriver)) = chromium_or_skip() else { return };
    let w = World::new("").await;
    super::rup::store_plan(&w.store).await;
    let ((mine, _), _) = w.two_cooperatives().await;
    w.add_user("penghubung", None, PASSWORD);
    w.add_user("staf", Some(&mine), PASSWORD);
    let (_driver, client) = browser(&chromium, &chromedriver).await;
    let base = w.base.clone();

    log_in(&client, &base, "penghubung").await;
    client.goto(&format!("{base}/rencana")).await.unwrap();
    let page = wait_for_words(&client, "Rencana belanja kota").await;
    assert!(page.contains("Belanja beras untuk pemberian makanan tambahan") && page.contains("Pemilihan mulai"), "{page}");
    shot(&client, "rencana-belanja").await;
    client.set_window_size(390, 844).await.unwrap();
    client.refresh().await.unwrap();
    wait_for_words(&client, "Rencana belanja kota").await;
    assert!(fits_width(&client).await, "the plan fits a phone's width");
    shot(&client, "rencana-belanja-ponsel").await;
    client.find(Locator::Css("form[action='/keluar'] button")).await.unwrap().click().await.unwrap();
    wait_for(&client, Locator::Id("username")).await;

    log_in(&client, &base, "staf").await;
    client.goto(&format!("{base}/peluang")).await.unwrap();
    let page = wait_for_words(&client, "Yang perlu dilakukan").await;
    assert!(page.contains("Belanja beras untuk pemberian makanan tambahan") && !page.contains("cadangan pangan"), "{page}");
    assert!(fits_width(&client).await, "the opportunities fit a phone's width");
    shot(&client, "peluang-ponsel").await;
}

/// "Pembayaran" as a cooperative's staff see it after a statement is
/// uploaded: what matched, and the credits waiting to be assigned, each with
/// its choice of orders, on a desktop and on a phone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_headless_chromium_the_payments_page_reads_on_a_desktop_and_a_phone() {
    let Some((chromium, chromedriver)) = chromium_or_skip() else { return };
    let w = World::new("").await;
    let mine: String = sqlx::query_scalar(
        "SELECT c.code FROM purchase_orders o JOIN cooperatives c ON c.id = o.cooperative_id GROUP BY c.code ORDER BY count(*) DESC, c.code LIMIT 1",
    )
    .fetch_one(w.store.pool())
    .await
    .unwrap();
    w.add_user("staf", Some(&mine), PASSWORD);
    let owed = super::payments::owed(&w, &mine).await;
    let csv = super::payments::statement(&[
        (&format!("TRF PEMBAYARAN {} DINSOS", owed[0].0), owed[0].1, "REF-0001"),
        ("BUNGA JASA GIRO", rust_decimal::Decimal::new(77_777, 0), ""),
        ("SP2D 00042 DINKES", rust_decimal::Decimal::new(1_234_500, 0), "REF-0042"),
    ]);
    let v = super::Visitor::new(&w.base);
    v.login("staf", PASSWORD).await;
    let form = reqwest::multipart::Form::new()
        .text("csrf", v.csrf().await)
        .part("berkas", reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("rekening-koran-januari.csv"));
    assert!(v.http.post(format!("{}/pembayaran", w.base)).multipart(form).send().await.unwrap().status().is_success());
    let (_driver, client) = browser(&chromium, &chromedriver).await;
    let base = w.base.clone();
    log_in(&client, &base, "staf").await;
    client.goto(&format!("{base}/pembayaran")).await.unwrap();
    let page = wait_for_words(&client, "Kredit yang menunggu ditetapkan").await;
    assert!(page.contains("BUNGA JASA GIRO") && page.contains("Tetapkan") && page.contains("cocok otomatis"), "{page}");
    shot(&client, "pembayaran").await;
    client.set_window_size(390, 844).await.unwrap();
    client.refresh().await.unwrap();
    wait_for_words(&client, "Kredit yang menunggu ditetapkan").await;
    assert!(fits_width(&client).await, "the payments page fits a phone's width");
    // The credits waiting, as the staff scroll to them.
    client.execute("document.querySelector('section.credit').scrollIntoView()", vec![]).await.unwrap();
    shot(&client, "pembayaran-ponsel").await;
}

/// "Unduhan" as a cooperative's staff see it after uploading Coretax's list
/// of output invoices in the browser: the numbers recorded, an invoice not
/// yet issued, and a row that could not be read with its row and column, on
/// a desktop and on a phone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_headless_chromium_the_downloads_page_reads_back_coretax_numbers_on_a_desktop_and_a_phone() {
    let Some((chromium, chromedriver)) = chromium_or_skip() else { return };
    let w = World::new("").await;
    let (mine, orders): (String, Vec<String>) = sqlx::query_as(
        "SELECT c.code, array_agg(o.remote_order_id ORDER BY o.remote_order_id) FROM purchase_orders o JOIN cooperatives c ON c.id = o.cooperative_id
          GROUP BY c.code ORDER BY count(*) DESC, c.code LIMIT 1",
    )
    .fetch_one(w.store.pool())
    .await
    .unwrap();
    w.add_user("staf", Some(&mine), PASSWORD);
    let dir = common::temp_dir();
    let list = dir.path().join("pajak-keluaran-desember.csv");
    let mut csv = String::from("Nomor Faktur Pajak;Tanggal Faktur Pajak;Status Faktur;Referensi\n");
    for (i, o) in orders.iter().take(2).enumerate() {
        csv.push_str(&format!("04002600{:09};0{}/12/2026;APPROVED;{o}\n", 501 + i, i + 1));
    }
    csv.push_str(&format!("08002600000000777;04/12/2026;CREATED;{}\n", orders[0]));
    csv.push_str(&format!("0400260000000;05/12/2026;APPROVED;{}\n", orders[1]));
    std::fs::write(&list, csv).unwrap();
    let (_driver, client) = browser(&chromium, &chromedriver).await;
    let base = w.base.clone();
    log_in(&client, &base, "staf").await;
    let upload = async |client: &Client| {
        client.goto(&format!("{base}/unduhan")).await.unwrap();
        let input = wait_for(client, Locator::Id(&format!("nomor-{mine}"))).await;
        input.send_keys(&list.display().to_string()).await.unwrap();
        client.find(Locator::XPath("//button[contains(., 'Catat nomor faktur')]")).await.unwrap().click().await.unwrap();
        wait_for_words(client, "faktur dibaca").await
    };
    let page = upload(&client).await;
    assert!(page.contains("2 nomor dicatat") && page.contains("CREATED") && page.contains("bukan nomor faktur pajak"), "{page}");
    shot(&client, "unduhan").await;
    client.set_window_size(390, 844).await.unwrap();
    let page = upload(&client).await;
    assert!(page.contains("2 sudah tercatat"), "read again, nothing twice: {page}");
    assert!(fits_width(&client).await, "the downloads page fits a phone's width");
    shot(&client, "unduhan-ponsel").await;
}
