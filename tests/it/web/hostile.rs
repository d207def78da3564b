//! The dashboard against hostile clients (issue 32): bodies larger than a
//! form, half-open connections from one address, health and metrics off the
//! public listener, concurrent and distributed password guessing, answers
//! and history within the user's own cooperative, and downloads that change
//! nothing.

use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;

use super::{PASSWORD, Visitor, World, common};

/// The peak resident memory of a process so far (`VmHWM`), in bytes.
pub(super) fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).unwrap().trim().trim_end_matches("kB").trim().parse().unwrap();
    kib * 1024
}

/// Sends `POST /masuk` from the local address `from` announcing `len`
/// bytes and writing them while it reads the answer; returns the answer's
/// status line and when it came. Each sender has an address of its own, so
/// the dashboard's cap on one address's connections (which a connection of
/// the test's set-up may still hold while it closes) plays no part here.
async fn huge_login(address: &str, from: std::net::IpAddr, len: usize) -> (String, Duration) {
    let begun = Instant::now();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(std::net::SocketAddr::new(from, 0)).unwrap();
    let stream = socket.connect(address.parse().unwrap()).await.unwrap();
    let head = format!("POST /masuk HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {len}\r\n\r\n");
    let answer = super::write_while_reading(stream, head, (b'a', len), String::new(), |a| a.windows(2).any(|w| w == b"\r\n")).await;
    let took = begun.elapsed();
    (String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_owned(), took)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_larger_than_64_kib_is_refused_at_once_and_memory_stays_bounded_while_the_upload_still_takes_big_files() {
    let w = World::new("").await;
    let address = w.base.trim_start_matches("http://").to_owned();
    let pid = w.daemon_pid();
    let before = peak_rss(pid);
    // 16 at once, each announcing 50 MiB.
    let answers = futures_util::future::join_all((0..16u8).map(|i| huge_login(&address, std::net::Ipv4Addr::new(127, 0, 1, 10 + i).into(), 50 << 20))).await;
    for (status, took) in &answers {
        assert!(status.starts_with("HTTP/1.1 413"), "a 50 MiB login form is refused as too large: {status:?}");
        assert!(*took < Duration::from_secs(10), "and at once, not after reading it: {took:?}");
    }
    let peak = peak_rss(pid);
    eprintln!("daemon peak RSS {} MB before, {} MB after 16 bodies of 50 MiB", before >> 20, peak >> 20);
    assert!(peak < 200 << 20, "the daemon's peak RSS stays under 200 MB: {} MB", peak >> 20);
    // A form of 64 KiB and one byte: refused too; the upload takes a file above it.
    let v = Visitor::new(&w.base);
    let big_name = "x".repeat(64 * 1024);
    let (status, _, _) = v.post("/masuk", &[("username", &big_name), ("password", "p")]).await;
    assert_eq!(status, 413, "a login form over 64 KiB");
    let ((mine, _), _) = w.two_cooperatives().await;
    w.add_user("staf", Some(&mine), PASSWORD);
    v.login("staf", PASSWORD).await;
    let csrf = v.csrf().await;
    let mut csv = String::from("kode_anggota;nama_anggota;sku;nama_produk;kategori;satuan;harga;stok\n");
    while csv.len() < 200 * 1024 {
        csv.push_str(&format!("A-{0};Anggota;SKU-{0};Produk {0};beras;kg;;1\n", csv.len()));
    }
    let form = reqwest::multipart::Form::new().text("csrf", csrf).part("berkas", reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("besar.csv"));
    let r = v.http.post(format!("{}/unggah", w.base)).multipart(form).send().await.unwrap();
    assert_ne!(r.status().as_u16(), 413, "the upload reads up to import.max_file_bytes");
    assert!(r.status().is_success() || r.status().is_redirection(), "{}", r.status());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_holding_200_half_open_connections_keeps_nobody_else_out_and_health_lives_on_its_own_listener() {
    let w = World::new("").await;
    let address = w.base.trim_start_matches("http://").to_owned();
    // Health, readiness and metrics are not on the dashboard's listener.
    let v = Visitor::new(&w.base);
    for path in ["/healthz", "/readyz", "/metrics"] {
        assert_eq!(v.get(path).await.0, 404, "{path} on the dashboard");
        let r = reqwest::get(format!("{}{path}", w.health)).await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path} on the health listener");
    }
    let ready: serde_json::Value = reqwest::get(format!("{}/readyz", w.health)).await.unwrap().json().await.unwrap();
    assert_eq!(ready["database"], "ok", "{ready}");
    assert!(ready["catalogue"].as_str().unwrap().starts_with("not asked") || ready["catalogue"].as_str().unwrap().contains("last answered"), "{ready}");
    // 200 connections from 127.0.0.1, each with half a request's header.
    let mut held = Vec::new();
    for _ in 0..200 {
        if let Ok(mut s) = tokio::net::TcpStream::connect(&address).await {
            let _ = s.write_all(b"GET /masuk HTTP/1.1\r\nHost: x\r\n").await;
            held.push(s);
        }
    }
    assert!(held.len() >= 150, "the connections were opened: {}", held.len());
    // Another address is served at once, and so is the health listener.
    let other = Visitor::from_address(&w.base, "127.0.0.2");
    let begun = Instant::now();
    let (status, _) = other.get("/masuk").await;
    let took = begun.elapsed();
    assert_eq!(status, 200);
    assert!(took < Duration::from_secs(3), "another address waited {took:?} behind one address's half-open connections");
    let begun = Instant::now();
    assert_eq!(reqwest::get(format!("{}/healthz", w.health)).await.unwrap().status(), 200);
    assert!(begun.elapsed() < Duration::from_secs(3), "health answered in {:?}", begun.elapsed());
    drop(held);
}

/// 60 wrong passwords at once from one address get no more checks than the
/// throttle allows (5), and the right one sent while they are answered is
/// refused; someone else's failures from another address keep the owner out
/// for a few seconds at most; a flood from many addresses locks the account,
/// says why, and `users unlock` lifts it. Every refused and held-back login is
/// in the audit log with its address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_gets_no_more_checks_than_the_throttle_and_never_locks_the_owner_out_unless_flooded() {
    // No cap per address here: all 60 guesses reach the login at once.
    let w = World::configured("", "max_connections_per_address = 0", "").await;
    w.add_user("penghubung", None, PASSWORD);
    // 60 login forms, each with its own token, sent at once.
    let mut visitors = Vec::new();
    for _ in 0..60 {
        let v = Visitor::new(&w.base);
        let (_, page) = v.get("/masuk").await;
        let token = super::hidden(&page, "token");
        visitors.push((v, token));
    }
    let guesses = futures_util::future::join_all(visitors.iter().map(|(v, token)| async move {
        v.post("/masuk", &[("token", token.as_str()), ("username", "penghubung"), ("password", "tebakan-salah-1"), ("lanjut", "/")]).await
    }));
    let right = async {
        // Once the guesses have taken the checks they may have, the owner tries from the same address.
        for _ in 0..400 {
            if w.scalar("SELECT count(*) FROM login_failures WHERE username = 'penghubung'").await >= 5 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Visitor::new(&w.base).login("penghubung", PASSWORD).await
    };
    let (answers, (status, _, _)) = tokio::join!(guesses, right);
    assert!(answers.iter().all(|(status, _, _)| *status == 200), "every guess lands on the login page again");
    assert_eq!(status, 200, "the right password from the guessing address is refused while it waits");
    let checked = w.scalar("SELECT count(*) FROM audit_log WHERE action = 'login.refused' AND subject = '127.0.0.1'").await;
    let held = w.scalar("SELECT count(*) FROM audit_log WHERE action = 'login.throttled' AND detail->>'address' = '127.0.0.1'").await;
    assert_eq!(checked, 5, "no more password checks than the throttle allows");
    assert_eq!(checked + held, 61, "every refused and held-back login is in the audit log");
    assert_eq!(w.scalar("SELECT count(*) FROM web_sessions").await, 0);

    // The owner, from another address: in within a few seconds.
    let owner = Visitor::from_address(&w.base, "127.0.0.2");
    let begun = Instant::now();
    let (status, _, to) = owner.login("penghubung", PASSWORD).await;
    assert_eq!((status, to.as_deref()), (303, Some("/")), "the owner logs in from another address");
    assert!(begun.elapsed() < Duration::from_secs(5), "within 5 s: {:?}", begun.elapsed());

    // A flood: 50 failures within the hour from many addresses.
    w.add_user("staf-wates", Some("MJK-WATES"), PASSWORD);
    sqlx::query("INSERT INTO login_failures (username, address) SELECT 'staf-wates', '10.0.' || (n / 250) || '.' || (n % 250) FROM generate_series(1, 50) n")
        .execute(w.store.pool())
        .await
        .unwrap();
    let staff = Visitor::from_address(&w.base, "127.0.0.3");
    let (status, page, _) = staff.login("staf-wates", PASSWORD).await;
    assert_eq!(status, 200, "locked after a flood");
    assert!(page.contains("dikunci sementara") && page.contains("users unlock staf-wates"), "the owner sees why and what lifts it: {page}");
    // The flood and the owner's try held back: all forgotten.
    let recorded = w.scalar("SELECT count(*) FROM login_failures WHERE username = 'staf-wates'").await;
    assert_eq!(recorded, 51);
    let out = common::binary().env("DATABASE_URL", &w.url).args(["users", "unlock", "staf-wates"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("51 failed logins forgotten"), "{}", String::from_utf8_lossy(&out.stdout));
    let (status, _, to) = staff.login("staf-wates", PASSWORD).await;
    assert_eq!((status, to.as_deref()), (303, Some("/")), "in once the liaison lifted it");
    assert_eq!(w.scalar("SELECT count(*) FROM audit_log WHERE action = 'login.locked' AND subject = '127.0.0.3'").await, 1);
}

/// An answer goes to the order's own row, checked against the user's
/// cooperative in the same statement, even where the catalogue's id is
/// stored twice (under two sources, for two cooperatives).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_goes_to_the_orders_own_row_when_its_catalogue_id_is_stored_under_two_sources() {
    let w = World::new("").await;
    let ((mine, my_order), (other, _)) = w.two_cooperatives().await;
    // The same catalogue id under another source and cooperative, on a lower row id.
    let twin: i64 = sqlx::query_scalar(
        "INSERT INTO purchase_orders (id, source, remote_order_id, cooperative_id, kode_klpd, fiscal_year, kode_penyedia, status, shipping_fee, total,
                                      order_date, deadline, nama_satker, needs_detail, raw)
         SELECT (SELECT min(id) - 1 FROM purchase_orders), 'peppol-ubl', o.remote_order_id, c.id, o.kode_klpd, o.fiscal_year, c.kode_penyedia, o.status,
                o.shipping_fee, o.total, o.order_date, o.deadline, o.nama_satker, false, '{}'
         FROM purchase_orders o, cooperatives c WHERE o.id = $1 AND c.code = $2 RETURNING id",
    )
    .bind(my_order)
    .bind(&other)
    .fetch_one(w.store.pool())
    .await
    .unwrap();
    assert!(twin < my_order);
    w.add_user("staf", Some(&mine), PASSWORD);
    let v = Visitor::new(&w.base);
    v.login("staf", PASSWORD).await;
    let csrf = v.csrf().await;
    let (status, _, to) = v.post(&format!("/pesanan/{my_order}/terima"), &[("csrf", &csrf)]).await;
    assert_eq!(status, 303, "{to:?}");
    let answered: Vec<i64> = sqlx::query_scalar("SELECT order_id FROM order_responses").fetch_all(w.store.pool()).await.unwrap();
    assert_eq!(answered, vec![my_order], "the answer is for the row asked for, not the other cooperative's twin");
    // The twin, another cooperative's, is 404 to this user, by its own id too.
    assert_eq!(v.post(&format!("/pesanan/{twin}/terima"), &[("csrf", &csrf)]).await.0, 404);
    // On the command line, the catalogue id alone is refused as ambiguous.
    let remote: String = sqlx::query_scalar("SELECT remote_order_id FROM purchase_orders WHERE id = $1").bind(twin).fetch_one(w.store.pool()).await.unwrap();
    let out = common::binary().env("DATABASE_URL", &w.url).args(["orders", "respond", &remote, "--accept"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("several sources"), "{err}");
}

/// A cooperative's staff see the runs for their cooperative whole, and the
/// city-wide jobs' runs as a summary without their errors; never another
/// cooperative's import.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_see_their_cooperatives_runs_and_the_city_wide_ones_without_other_cooperatives_errors() {
    let w = World::new("").await;
    let ((mine, _), (other, _)) = w.two_cooperatives().await;
    for (kind, code, error) in [
        ("import-products", Some(other.as_str()), "ERROR-OF-ANOTHER-COOPERATIVE"),
        ("import-products", Some(mine.as_str()), "ERROR-OF-MY-OWN-IMPORT"),
        ("orders", None, "ERROR-NAMING-EVERY-COOPERATIVE"),
    ] {
        sqlx::query(
            "INSERT INTO sync_runs (kind, instance, started_at, finished_at, status, error, cooperative_id)
             VALUES ($1, 'test:1', now(), now(), 'failed', $2, (SELECT id FROM cooperatives WHERE code = $3))",
        )
        .bind(kind)
        .bind(error)
        .bind(code)
        .execute(w.store.pool())
        .await
        .unwrap();
    }
    w.add_user("staf", Some(&mine), PASSWORD);
    w.add_user("penghubung", None, PASSWORD);
    let staff = Visitor::new(&w.base);
    staff.login("staf", PASSWORD).await;
    // In English, where a run's error is shown as the command line wrote it.
    staff.get("/bahasa/en?lanjut=%2F").await;
    for page in ["/riwayat", "/"] {
        let (status, html) = staff.get(page).await;
        assert_eq!(status, 200);
        assert!(!html.contains("ERROR-OF-ANOTHER-COOPERATIVE") && !html.contains("ERROR-NAMING-EVERY-COOPERATIVE"), "{page}: {html}");
    }
    let (_, history) = staff.get("/riwayat").await;
    assert!(history.contains("ERROR-OF-MY-OWN-IMPORT"), "their own import, whole: {history}");
    assert!(history.contains("failed"), "the city-wide sync's outcome is shown: {history}");
    let liaison = Visitor::new(&w.base);
    liaison.login("penghubung", PASSWORD).await;
    liaison.get("/bahasa/en?lanjut=%2F").await;
    let (_, history) = liaison.get("/riwayat").await;
    for error in ["ERROR-OF-ANOTHER-COOPERATIVE", "ERROR-OF-MY-OWN-IMPORT", "ERROR-NAMING-EVERY-COOPERATIVE"] {
        assert!(history.contains(error), "the liaison sees every run: {error}");
    }
}

/// The bulk workbook download reads: it writes no draft. It carries every
/// ready product of the cooperative, a workbook per category (zipped when
/// there are several), each named after its category.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bulk_workbook_download_changes_nothing_and_carries_every_ready_product_a_workbook_per_category() {
    use calamine::Reader;
    let w = World::new("").await;
    w.add_user("penghubung", None, PASSWORD);
    let v = Visitor::new(&w.base);
    v.login("penghubung", PASSWORD).await;
    let drafts = "SELECT count(*)::text || '/' || coalesce(max(updated_at)::text, '') FROM listings";
    let drafts_sum = || async { sqlx::query_scalar::<_, String>(drafts).fetch_one(w.store.pool()).await.unwrap() };
    let before = drafts_sum().await;
    let r = v.http.get(format!("{}/unduhan/buku-kerja/MJK-MERI", w.base)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let disposition = r.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert_eq!(r.headers()["content-type"], "application/zip", "{disposition}");
    assert!(disposition.contains("unggah-massal-MJK-MERI.zip"), "{disposition}");
    let bytes = r.bytes().await.unwrap();
    assert_eq!(drafts_sum().await, before, "the download wrote no draft");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut rows = 0;
    let mut names = Vec::new();
    for i in 0..zip.len() {
        let mut file = zip.by_index(i).unwrap();
        names.push(file.name().unwrap().to_string());
        let mut book = Vec::new();
        std::io::Read::read_to_end(&mut file, &mut book).unwrap();
        let mut xlsx: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(book)).unwrap();
        let sheet = xlsx.sheet_names()[0].clone();
        let range = xlsx.worksheet_range(&sheet).unwrap();
        rows += range.rows().skip(1).filter(|r| r.iter().any(|c| !c.to_string().is_empty())).count();
    }
    assert!(names.len() > 1, "several categories: {names:?}");
    assert!(names.iter().all(|n| n.ends_with(".xlsx") && n.chars().any(|c| c.is_ascii_alphabetic())), "named by category: {names:?}");
    // Every ready product: as many rows as the command line's mapping of the
    // cooperative writes into its workbooks (after the download, which changed nothing).
    let out = common::temp_dir();
    let run = common::binary()
        .env("DATABASE_URL", &w.url)
        .args(["map", "--format", "katalog-v6-xlsx", "--cooperative", "MJK-MERI", "--out"])
        .arg(out.path().join("xlsx"))
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let mut mapped = 0;
    let mut files = Vec::new();
    for path in common::walk(out.path()) {
        files.push(path.file_name().unwrap().to_string_lossy().into_owned());
        let mut xlsx: calamine::Xlsx<_> = calamine::open_workbook(&path).unwrap();
        let sheet = xlsx.sheet_names()[0].clone();
        mapped += xlsx.worksheet_range(&sheet).unwrap().rows().skip(1).filter(|r| r.iter().any(|c| !c.to_string().is_empty())).count();
    }
    names.sort();
    files.sort();
    assert_eq!(names, files, "a workbook per category, named as the command line names them");
    assert!(rows > 3 && rows == mapped, "{rows} rows in the download, {mapped} written by the command line: {names:?}");
}

/// Every reason a person reads on a page is in the page's language: the
/// importer's, from its problems' codes; the mapping's sentence beside a
/// held-back issue; a run's error. The English stays in the English view.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reasons_on_the_pages_are_in_the_pages_language_and_the_english_stays_in_the_english_view() {
    use katalog_bridge::store::runs;
    let w = World::new("").await;
    let ((mine, _), _) = w.two_cooperatives().await;
    w.add_user("staf", Some(&mine), PASSWORD);
    w.add_user("penghubung", None, PASSWORD);
    // A publish run of the cooperative that failed on its file (recorded
    // before any page is seen: the overview keeps its figures a while).
    let run = runs::start_for(&w.store, "publish", Some(&mine)).await.unwrap();
    let error = katalog_bridge::publish::PublishError::Workbook("/tmp/x.xlsx: UnequalLengths".into());
    runs::finish(&w.store, run, runs::RunStatus::Failed, serde_json::json!({}), Some(error.run_error())).await.unwrap();
    let staff = Visitor::new(&w.base);
    staff.login("staf", PASSWORD).await;

    // An upload with one good row and four refused, each for another reason.
    let csv = "kode_anggota;nama_anggota;sku;nama_produk;deskripsi;kategori;satuan;harga;stok;berat_kg\n\
               UJI-01;Anggota Uji;UJI-1;Beras Uji 5 kg;Beras.;Beras;karung;74500;10;5\n\
               UJI-01;Anggota Uji;UJI-2;Gula Uji 1 kg;Gula.;Gula;pcs;-15000;10;1\n\
               UJI-01;Anggota Uji;UJI-3;Teh Uji;Teh.;Teh;pcs;9000;sepuluh;1\n\
               UJI-01;Anggota Uji;UJI-1;Beras Uji lagi;Beras.;Beras;karung;74500;10;5\n\
               UJI-01;Anggota Uji;UJI-5;Kopi Uji;Kopi.;Kopi;gentong;20000;10;1\n";
    let upload = |v: &Visitor| {
        let (http, base, jar, csv) = (v.http.clone(), v.base.clone(), v.jar.clone(), csv.to_owned());
        async move {
            let (_, page) = Visitor { http: http.clone(), base: base.clone(), jar }.get("/").await;
            let form = reqwest::multipart::Form::new()
                .text("csrf", super::hidden(&page, "csrf"))
                .part("berkas", reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("produk.csv"));
            let r = http.post(format!("{base}/unggah")).multipart(form).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 200);
            let page = r.text().await.unwrap();
            page.split("class=\"stack refusals\"").nth(1).unwrap_or_else(|| panic!("refused rows listed: {page}")).to_owned()
        }
    };
    let refused = upload(&staff).await;
    for words in ["harga tidak boleh negatif", "\"sepuluh\" bukan angka", "baris ganda: baris 2", "satuan \"gentong\" tidak dikenal"] {
        let words = words.replace('"', "&#34;");
        assert!(refused.contains(&words) || refused.contains(&words.replace("&#34;", "&quot;")), "{words} in: {refused}");
    }
    for english in ["price is negative", "is not a number", "duplicate: row", "unknown unit", "use one of"] {
        assert!(!refused.contains(english), "no English in the Indonesian view ({english}): {refused}");
    }
    staff.get("/bahasa/en?lanjut=%2F").await;
    let refused = upload(&staff).await;
    for english in ["price is negative", "is not a number", "duplicate: row 2", "unknown unit"] {
        assert!(refused.contains(english), "the importer's words in the English view ({english}): {refused}");
    }
    assert!(!refused.contains("tidak boleh negatif"), "{refused}");

    // A held-back draft: the plain words and the mapping's sentence, both in the page's language.
    let liaison = Visitor::new(&w.base);
    liaison.login("penghubung", PASSWORD).await;
    let (_, held) = liaison.get("/produk?status=blocked").await;
    assert!(held.contains("Belum ada foto produk") && held.contains("meminta paling sedikit 1 foto"), "{held}");
    assert!(!held.contains("needs at least"), "the mapping's English sentence is not in the Indonesian view: {held}");
    liaison.get("/bahasa/en?lanjut=%2F").await;
    let (_, held) = liaison.get("/produk?status=blocked").await;
    assert!(held.contains("The product has no photo") && held.contains("needs at least 1 photo"), "{held}");
    assert!(!held.contains("meminta paling sedikit"), "{held}");
    liaison.get("/bahasa/id?lanjut=%2F").await;

    // The run that failed on its file: said in words from its code.
    for v in [&liaison, &staff] {
        v.get("/bahasa/id?lanjut=%2F").await;
        for page in ["/", "/riwayat"] {
            let (_, html) = v.get(page).await;
            assert!(html.contains("berkasnya tidak dapat dibaca atau ditulis"), "{page}: {html}");
            assert!(!html.contains("UnequalLengths"), "{page}: the English error is not in the Indonesian view");
        }
        v.get("/bahasa/en?lanjut=%2F").await;
        let (_, html) = v.get("/riwayat").await;
        assert!(html.contains("cannot write the upload workbooks: /tmp/x.xlsx: UnequalLengths"), "the English view has the command line's words: {html}");
    }
}

/// `orders respond` answers through the same use case as the page's
/// buttons: the order found the same way, the answer sent with the owning
/// cooperative's account, and an audit entry written in the operator's name
/// for the order's cooperative (the command line wrote none before). A
/// rejection without its reason, and a second, different answer, are
/// refused with the use case's words, and record nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_respond_is_the_pages_use_case_and_is_audited_in_the_operators_name() {
    let w = World::new("").await;
    let ((mine, order), _) = w.two_cooperatives().await;
    let remote: String = sqlx::query_scalar("SELECT remote_order_id FROM purchase_orders WHERE id = $1").bind(order).fetch_one(w.store.pool()).await.unwrap();
    let config = w.tmp.path().join("katalog-bridge.toml");
    let respond = |args: &[&str]| {
        common::binary()
            .env("DATABASE_URL", &w.url)
            .env("USER", "petugas")
            .arg("--config")
            .arg(&config)
            .args(["orders", "respond", &remote])
            .args(args)
            .output()
            .unwrap()
    };
    let blank = respond(&["--reject", "--reason", "   "]);
    let err = String::from_utf8_lossy(&blank.stderr);
    assert!(!blank.status.success() && err.contains("a rejection needs its reason"), "{err}");
    assert_eq!(w.scalar("SELECT count(*) FROM order_responses").await, 0, "nothing recorded");
    let out = respond(&["--accept"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("answer sent"), "{}", String::from_utf8_lossy(&out.stdout));
    let audited: Vec<(String, Option<i64>, String)> = sqlx::query_as(
        "SELECT a.username, a.user_id, c.code FROM audit_log a JOIN cooperatives c ON c.id = a.cooperative_id WHERE a.action = 'order.accept' AND a.subject = $1",
    )
    .bind(&remote)
    .fetch_all(w.store.pool())
    .await
    .unwrap();
    assert_eq!(audited, vec![("cli:petugas".to_owned(), None, mine)], "audited once, in the operator's name, for the order's cooperative");
    let again = respond(&["--reject", "--reason", "stok habis"]);
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success() && err.contains("already answered"), "{err}");
    assert_eq!(w.scalar("SELECT count(*) FROM audit_log WHERE action LIKE 'order.%'").await, 1, "a refused answer is not audited");
}
