//! Products from the phone (issue 35): adding and editing a product on its
//! page through the importer's rules, withdrawing it, photos from a phone
//! (kept without their EXIF, served to anyone by digest, given to the
//! catalogue at the public address), hostile images, and another
//! cooperative's product out of reach.

use std::io::Cursor;

use super::{PASSWORD, Visitor, World, common};

/// A phone's photo: 2,400 × 1,800, stored turned (EXIF orientation 6),
/// with the GPS position where it was taken.
pub(super) fn phone_photo() -> Vec<u8> {
    let picture = image::RgbImage::from_fn(2400, 1800, |x, y| image::Rgb([(x / 10) as u8, (y / 8) as u8, 90]));
    let mut jpeg = Vec::new();
    picture.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)).unwrap();
    // An APP1 EXIF block after SOI: IFD0 with Orientation = 6 and a GPS IFD (latitude 7° 28' S).
    let mut tiff: Vec<u8> = b"II*\0\x08\0\0\0".to_vec();
    tiff.extend([2, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0x25, 0x88, 4, 0, 1, 0, 0, 0, 38, 0, 0, 0, 0, 0, 0, 0]);
    tiff.extend([2, 0, 1, 0, 2, 0, 2, 0, 0, 0, b'S', 0, 0, 0, 2, 0, 5, 0, 3, 0, 0, 0, 68, 0, 0, 0, 0, 0, 0, 0]);
    for (n, d) in [(7u32, 1u32), (28, 1), (0, 1)] {
        tiff.extend(n.to_le_bytes());
        tiff.extend(d.to_le_bytes());
    }
    let mut out = jpeg[..2].to_vec();
    out.extend([0xFF, 0xE1]);
    out.extend(((2 + 6 + tiff.len()) as u16).to_be_bytes());
    out.extend(b"Exif\0\0");
    out.extend(tiff);
    out.extend(&jpeg[2..]);
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn send_photo(v: &Visitor, csrf: &str, product: i64, bytes: Vec<u8>, name: &str) -> (u16, String, Option<String>) {
    let form = reqwest::multipart::Form::new().text("csrf", csrf.to_owned()).part("foto", reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()));
    let r = v.http.post(format!("{}/produk/{product}/foto", v.base)).multipart(form).send().await.unwrap();
    let status = r.status().as_u16();
    let location = r.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
    (status, r.text().await.unwrap_or_default(), location)
}

fn product_form<'a>(csrf: &'a str, sku: &'a str, price: &'a str, stock: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("kode_anggota", "TMP-01"),
        ("nama_anggota", "Bu Sri Keripik"),
        ("sku", sku),
        ("nama_produk", "Keripik Tempe Pedas 250 gram"),
        ("kategori", "Keripik"),
        ("satuan", "bungkus"),
        ("isi_bersih", "250 gram"),
        ("harga", price),
        ("stok", stock),
        ("berat_kg", "0,3"),
        ("deskripsi", "Keripik tempe renyah buatan anggota."),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_member_adds_and_edits_a_product_on_its_page_through_the_importers_rules_and_every_change_is_audited() {
    let w = World::new("").await;
    let ((mine, _), (other, _)) = w.two_cooperatives().await;
    w.add_user("staf", Some(&mine), PASSWORD);
    let v = Visitor::new(&w.base);
    v.login("staf", PASSWORD).await;
    let csrf = v.csrf().await;
    let (status, page) = v.get("/produk/baru").await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"name="harga" value="" inputmode="decimal""#), "the price takes a number keyboard");

    // Mistakes: refused beside their fields, in Bahasa Indonesia, what was typed kept; nothing stored.
    let (status, page, _) = v.post("/produk/baru", &product_form(&csrf, "TEMPE-500", "dua ribu", "-3")).await;
    assert_eq!(status, 422);
    assert!(page.contains("Belum tersimpan"), "{page}");
    assert!(page.contains(r#"value="dua ribu""#) && page.contains("bukan angka"), "the price's problem beside what was typed");
    assert!(page.contains("tidak boleh negatif"), "the stock's problem");
    let count = "SELECT count(*) FROM products WHERE sku = 'TEMPE-500'";
    assert_eq!(w.scalar(count).await, 0);

    // Good values in Indonesian notation; the cooperative named is not a staff member's to choose.
    let mut form = product_form(&csrf, "TEMPE-500", "12.500", "40");
    form.push(("kode_koperasi", other.as_str()));
    let (status, _, to) = v.post("/produk/baru", &form).await;
    assert_eq!(status, 303);
    let to = to.unwrap();
    let id: i64 = to.trim_start_matches("/produk/").split('?').next().unwrap().parse().unwrap();
    let (coop, price, stock): (String, rust_decimal::Decimal, rust_decimal::Decimal) =
        sqlx::query_as("SELECT c.code, p.price, p.stock FROM products p JOIN cooperatives c ON c.id = p.cooperative_id WHERE p.id = $1")
            .bind(id)
            .fetch_one(w.store.pool())
            .await
            .unwrap();
    assert_eq!((coop, price, stock), (mine.clone(), rust_decimal::Decimal::from(12500), rust_decimal::Decimal::from(40)));
    let (_, page) = v.get(&to).await;
    assert!(page.contains("Produk tersimpan.") && page.contains(r#"value="12.500""#), "the page shows the saved price as typed");

    // The same member and SKU again is refused: that product is edited instead.
    let (status, page, _) = v.post("/produk/baru", &product_form(&csrf, "TEMPE-500", "12.500", "40")).await;
    assert_eq!(status, 422);
    assert!(page.contains("sudah punya produk dengan SKU TEMPE-500"));

    // An edit: the price changes; the SKU, which names the listing, does not.
    let (status, _, _) = v.post(&format!("/produk/{id}"), &product_form(&csrf, "GANTI-SKU", "13.000", "40")).await;
    assert_eq!(status, 303);
    let (sku, price): (String, rust_decimal::Decimal) =
        sqlx::query_as("SELECT sku, price FROM products WHERE id = $1").bind(id).fetch_one(w.store.pool()).await.unwrap();
    assert_eq!((sku.as_str(), price), ("TEMPE-500", rust_decimal::Decimal::from(13000)));
    let (who, detail): (String, serde_json::Value) =
        sqlx::query_as("SELECT username, detail FROM audit_log WHERE action = 'product.edit' ORDER BY id DESC LIMIT 1")
            .fetch_one(w.store.pool())
            .await
            .unwrap();
    assert_eq!(who, "staf");
    assert_eq!((detail["before"]["harga"].as_str(), detail["after"]["harga"].as_str()), (Some("12.500"), Some("13.000")), "{detail}");
    assert!(detail["after"].get("sku").is_none(), "only what changed: {detail}");
    assert_eq!(w.scalar("SELECT count(*) FROM audit_log WHERE action = 'product.create' AND username = 'staf'").await, 1);

    // Withdrawn and sold again.
    assert_eq!(v.post(&format!("/produk/{id}/tarik"), &[("csrf", &csrf)]).await.0, 303);
    assert_eq!(w.scalar(&format!("SELECT count(*) FROM products WHERE id = {id} AND NOT active")).await, 1);
    assert_eq!(v.post(&format!("/produk/{id}/aktifkan"), &[("csrf", &csrf)]).await.0, 303);
    assert_eq!(w.scalar(&format!("SELECT count(*) FROM products WHERE id = {id} AND active")).await, 1);
    assert_eq!(w.scalar("SELECT count(*) FROM audit_log WHERE action IN ('product.withdraw', 'product.reactivate')").await, 2);

    // Another cooperative's product: not found, whatever is asked; forms need their token.
    let theirs = w.scalar(&format!("SELECT min(p.id) FROM products p JOIN cooperatives c ON c.id = p.cooperative_id WHERE c.code = '{other}'")).await;
    assert_eq!(v.get(&format!("/produk/{theirs}")).await.0, 404);
    assert_eq!(v.post(&format!("/produk/{theirs}"), &product_form(&csrf, "X", "1", "1")).await.0, 404);
    assert_eq!(v.post(&format!("/produk/{theirs}/tarik"), &[("csrf", &csrf)]).await.0, 404);
    assert_eq!(v.post(&format!("/produk/{theirs}/kirim"), &[("csrf", &csrf)]).await.0, 404);
    assert_eq!(send_photo(&v, &csrf, theirs, phone_photo(), "foto.jpg").await.0, 404);
    let untouched = format!("SELECT count(*) FROM products WHERE id = {theirs} AND active AND updated_at < now() - interval '1 second'");
    assert_eq!(w.scalar(&untouched).await, 1, "their product is as it was");
    assert_eq!(v.post(&format!("/produk/{id}"), &product_form("", "TEMPE-500", "1", "1")[1..]).await.0, 403);
    assert_eq!(v.post("/produk/baru", &product_form("forged", "LAIN", "1", "1")).await.0, 403);
    assert_eq!(send_photo(&v, "forged", id, phone_photo(), "foto.jpg").await.0, 403);
    assert_eq!(w.scalar("SELECT count(*) FROM product_photos").await, 0, "no photo through a forged form");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_photo_is_kept_without_its_exif_served_to_anyone_by_digest_and_listed_at_the_public_address_while_hostile_images_are_refused() {
    let w = World::new("public_base_url = \"https://katalog.mojokerto.example/\"").await;
    let ((mine, _), _) = w.two_cooperatives().await;
    w.add_user("staf", Some(&mine), PASSWORD);
    let v = Visitor::new(&w.base);
    v.login("staf", PASSWORD).await;
    let csrf = v.csrf().await;
    let (status, _, to) = v.post("/produk/baru", &product_form(&csrf, "TEMPE-FOTO", "12.500", "40")).await;
    assert_eq!(status, 303);
    let id: i64 = to.unwrap().trim_start_matches("/produk/").split('?').next().unwrap().parse().unwrap();
    let (_, page) = v.get(&format!("/produk/{id}")).await;
    assert!(page.contains(r#"accept="image/*" capture="environment""#), "the camera is offered");

    let photo = phone_photo();
    assert!(contains(&photo, b"Exif\0\0"));
    let (status, _, to) = send_photo(&v, &csrf, id, photo.clone(), "IMG_20261207.jpg").await;
    assert_eq!((status, to.as_deref()), (303, Some(format!("/produk/{id}?ok=foto").as_str())));
    let digest: String = sqlx::query_scalar("SELECT digest FROM product_photos WHERE product_id = $1").bind(id).fetch_one(w.store.pool()).await.unwrap();
    // Sent twice, kept once.
    let (_, _, to) = send_photo(&v, &csrf, id, photo, "lagi.jpg").await;
    assert_eq!(to.as_deref(), Some(format!("/produk/{id}?ok=foto-sama").as_str()));
    assert_eq!(w.scalar("SELECT count(*) FROM photos").await, 1);

    // Anyone fetches it, without a login: a JPEG, upright, at most 1,600 px, no EXIF, cached for long.
    let r = reqwest::get(format!("{}/foto/{digest}.jpg", w.base)).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert!(r.headers()["cache-control"].to_str().unwrap().contains("max-age=31536000"));
    let served = r.bytes().await.unwrap().to_vec();
    assert!(!contains(&served, b"Exif") && !served.windows(2).any(|w| w == [0xFF, 0xE1]), "no EXIF, no APP1");
    use sha2::Digest;
    assert_eq!(hex::encode(sha2::Sha256::digest(&served)), digest, "its name is its digest");
    let shown = image::ImageReader::new(Cursor::new(&served)).with_guessed_format().unwrap().decode().unwrap();
    assert_eq!((shown.width(), shown.height()), (1200, 1600), "turned upright and shrunk");
    assert_eq!(reqwest::get(format!("{}/foto/{}.jpg", w.base, "0".repeat(64))).await.unwrap().status().as_u16(), 404);
    assert_eq!(reqwest::get(format!("{}/foto/..%2Fetc%2Fpasswd", w.base)).await.unwrap().status().as_u16(), 404);

    // The listing gives the catalogue the public address; the product is not held back for want of a photo.
    let out = common::temp_dir();
    let map = common::binary()
        .env("DATABASE_URL", &w.url)
        .env("KATALOG_BRIDGE_WEB__PUBLIC_BASE_URL", "https://katalog.mojokerto.example/")
        .args(["map", "--format", "katalog-v6", "--cooperative", &mine, "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(map.status.success(), "{}", String::from_utf8_lossy(&map.stderr));
    let listing = std::fs::read_dir(out.path()).unwrap().map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap()).collect::<String>();
    let line = listing.lines().find(|l| l.contains("TEMPE-FOTO")).unwrap_or_else(|| panic!("the product is listed: {listing}"));
    assert!(line.contains(&format!("https://katalog.mojokerto.example/foto/{digest}.jpg")), "{line}");
    assert_eq!(
        w.scalar(&format!("SELECT count(*) FROM listings WHERE product_id = {id} AND format = 'katalog-v6' AND issues::text LIKE '%no_photo%'")).await,
        0
    );

    // Hostile images: refused with their reason, nothing kept.
    let before = w.scalar("SELECT count(*) FROM photos").await;
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(png_chunk(b"IHDR", &[0, 0, 0xEA, 0x60, 0, 0, 0xEA, 0x60, 8, 2, 0, 0, 0]));
    png.extend(png_chunk(b"IDAT", &[0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01]));
    png.extend(png_chunk(b"IEND", &[]));
    assert!(png.len() < 100, "a few dozen bytes claiming 3.6 billion pixels");
    let whole = image_bytes(800, 600);
    for (bytes, words) in [
        (png, "60000 × 60000 piksel terlalu besar"),
        (whole[..whole.len() / 2].to_vec(), "rusak atau terpotong"),
        (b"kode_anggota;sku\nA;1\n".to_vec(), "bukan gambar JPEG, PNG atau WebP"),
        (image_bytes(640, 200), "terlalu kecil"),
    ] {
        let (status, page, _) = send_photo(&v, &csrf, id, bytes, "foto.jpg").await;
        assert_eq!(status, 422, "{words}");
        assert!(page.contains("Foto ditolak") && page.contains(words), "{words}: {page}");
    }
    let (status, page) = huge_photo(&v, &csrf, id, 30 << 20).await;
    assert!(status.starts_with("HTTP/1.1 413"), "30 MB is refused: {status:?}");
    assert!(page.contains("berkas lebih dari 20 MB"), "{page}");
    assert_eq!(w.scalar("SELECT count(*) FROM photos").await, before);
    // The 60,000 × 60,000 image was never decoded (it would take 10 GB), nor the 30 MB kept.
    let peak = super::hostile::peak_rss(w.daemon_pid());
    assert!(peak < 250 << 20, "the daemon's peak RSS stayed under 250 MB: {} MB", peak >> 20);
}

/// Sends a photo form whose file is `len` bytes, written by hand so that the
/// answer is read while the file is still being written (the daemon answers
/// before reading it all, and closes). Returns the status line and the page.
async fn huge_photo(v: &Visitor, csrf: &str, product: i64, len: usize) -> (String, String) {
    let boundary = "----batas-foto-uji";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"foto\"; filename=\"besar.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
    );
    let tail = format!("\r\n--{boundary}--\r\n");
    let request = format!(
        "POST /produk/{product}/foto HTTP/1.1\r\nHost: x\r\nCookie: {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n{head}",
        v.cookie_header(),
        head.len() + len + tail.len()
    );
    let stream = tokio::net::TcpStream::connect(v.base.trim_start_matches("http://")).await.unwrap();
    let answer = super::write_while_reading(stream, request, (0xFF, len), tail, |a| a.windows(7).any(|w| w == b"</html>")).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    (text.lines().next().unwrap_or_default().to_owned(), text)
}

fn image_bytes(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    image::RgbImage::from_pixel(width, height, image::Rgb([200, 120, 40])).write_with_encoder(image::codecs::jpeg::JpegEncoder::new(&mut out)).unwrap();
    out
}

/// A PNG chunk with its CRC-32 (ISO 3309, bit by bit).
fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut body = kind.to_vec();
    body.extend(data);
    let mut crc = !0u32;
    for &b in &body {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend(&body);
    out.extend((!crc).to_be_bytes());
    out
}

/// The listings the mock holds for a SKU (`member/sku`).
pub(super) async fn mock_listings(w: &World, sku: &str) -> Vec<serde_json::Value> {
    let state: serde_json::Value = reqwest::get(format!("{}/admin/state", w.server.url())).await.unwrap().json().await.unwrap();
    state["listings"].as_array().unwrap().iter().filter(|l| l["sku"] == sku || l["listing"]["sku"] == sku).cloned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kirim_sekarang_says_what_will_happen_sends_one_product_and_an_edited_price_updates_the_same_listing() {
    let w = World::new("").await;
    // From now on the mock's curators open each photo's address, as the catalogue's do.
    super::admin(&w.server, "/admin/rules", serde_json::json!({"fetch_photos": true})).await;
    let ((mine, _), _) = w.two_cooperatives().await;
    w.add_user("staf", Some(&mine), PASSWORD);
    let v = Visitor::new(&w.base);
    v.login("staf", PASSWORD).await;
    let csrf = v.csrf().await;
    let (_, _, to) = v.post("/produk/baru", &product_form(&csrf, "KIRIM-1", "12.500", "40")).await;
    let id: i64 = to.unwrap().trim_start_matches("/produk/").split('?').next().unwrap().parse().unwrap();

    // Without a photo: held back, and why; nothing to send.
    let (_, page) = v.get(&format!("/produk/{id}")).await;
    assert!(page.contains("Ditahan, belum dikirim ke katalog:") && page.contains("Belum ada foto produk"), "{page}");
    assert!(!page.contains(&format!("action=\"/produk/{id}/kirim\"")), "no send button for a product held back");
    assert_eq!(send_photo(&v, &csrf, id, phone_photo(), "foto.jpg").await.0, 303);
    let (_, page) = v.get(&format!("/produk/{id}")).await;
    assert!(page.contains("Pengiriman berikutnya: listing baru di katalog."), "{page}");
    let pending_before = w.scalar("SELECT count(*) FROM publications WHERE state = 'pending'").await;

    // Sent now: one new listing on the mock, with the photo's address; no other product sent.
    let (status, page, _) = v.post(&format!("/produk/{id}/kirim"), &[("csrf", &csrf)]).await;
    assert_eq!(status, 200);
    assert!(page.contains("Terkirim: katalog menerima produk ini."), "{page}");
    assert!(page.contains("Tidak ada yang perlu dikirim"), "then nothing is left to send: {page}");
    let listed = mock_listings(&w, "TMP-01/KIRIM-1").await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let listing_id = listed[0]["listing_id"].as_str().unwrap().to_owned();
    assert!(listed[0]["listing"].to_string().contains("/foto/"), "the photo's address goes with it: {}", listed[0]["listing"]);
    assert_eq!(listed[0]["listing"]["harga"], 12500);
    assert_eq!(w.scalar("SELECT count(*) FROM publications WHERE state = 'pending'").await, pending_before, "no other product was sent");

    // A new price: an update of the same listing.
    let (status, _, _) = v.post(&format!("/produk/{id}"), &product_form(&csrf, "KIRIM-1", "13.750", "40")).await;
    assert_eq!(status, 303);
    let (_, page) = v.get(&format!("/produk/{id}")).await;
    assert!(page.contains("Pengiriman berikutnya: pembaruan listing yang sama di katalog."), "{page}");
    let (_, page, _) = v.post(&format!("/produk/{id}/kirim"), &[("csrf", &csrf)]).await;
    assert!(page.contains("Terkirim"), "{page}");
    let listed = mock_listings(&w, "TMP-01/KIRIM-1").await;
    assert_eq!(listed.len(), 1, "still one listing: {listed:?}");
    assert_eq!((listed[0]["listing_id"].as_str().unwrap(), &listed[0]["listing"]["harga"]), (listing_id.as_str(), &serde_json::json!(13750)));
    assert_eq!(w.scalar("SELECT count(*) FROM audit_log WHERE action = 'product.send' AND username = 'staf'").await, 2);

    // The review opened the photo at the dashboard's address: an image, so the listing goes live.
    super::admin(&w.server, "/admin/clock/advance", serde_json::json!({"hours": 48})).await;
    let listed = mock_listings(&w, "TMP-01/KIRIM-1").await;
    assert_eq!(listed[0]["state"], "live", "the photo answered with an image: {listed:?}");
    // A photo address that answers with something else is sent back for revision.
    let digest: String = sqlx::query_scalar("SELECT digest FROM product_photos WHERE product_id = $1").bind(id).fetch_one(w.store.pool()).await.unwrap();
    sqlx::query("UPDATE products SET photo_urls = ARRAY[$1] WHERE id = $2").bind(format!("{}/masuk", w.base)).bind(id).execute(w.store.pool()).await.unwrap();
    let (_, page, _) = v.post(&format!("/produk/{id}/kirim"), &[("csrf", &csrf)]).await;
    assert!(page.contains("Terkirim"), "{page}");
    super::admin(&w.server, "/admin/clock/advance", serde_json::json!({"hours": 48})).await;
    let listed = mock_listings(&w, "TMP-01/KIRIM-1").await;
    assert_eq!(listed[0]["state"], "revision_requested", "{listed:?}");
    let reasons = listed[0]["reasons"].to_string();
    assert!(reasons.contains("/masuk tidak dapat dibuka: bukan gambar (text/html") && !reasons.contains(&digest), "{reasons}");
    // Another cooperative's product cannot be sent; the form needs its token.
    assert_eq!(v.post(&format!("/produk/{id}/kirim"), &[("csrf", "palsu")]).await.0, 403);
}
