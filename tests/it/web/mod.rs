//! The dashboard, over real HTTP against the real daemon binary, real
//! PostgreSQL and the mock catalogue: who sees what (another cooperative's
//! data is 404), CSRF, login throttling, session expiry and logout, escaping
//! of hostile names, the upload; and (in `browser.rs`) a real headless
//! Chromium driving the pages end to end.

use crate::common;

mod browser;
mod hostile;
mod payments;
mod products;
mod rup;

use std::process::{Child, Stdio};
use std::time::Duration;

use katalog_bridge::catalog::Format;
use katalog_bridge::mapping::MappingSource;
use katalog_bridge::mapping::plan::Tables;
use katalog_bridge::orders::SyncOptions;
use katalog_bridge::publish::{PublishOptions, publish};
use katalog_bridge::store::Store;
use mock_catalog::{MockServer, Scenario};
use serde_json::json;

/// A store with published listings and synced orders, the mock catalogue
/// that holds them, and a daemon serving the dashboard on them.
pub struct World {
    pub store: Store,
    pub url: String,
    pub server: MockServer,
    /// The dashboard.
    pub base: String,
    /// The daemon's health listener (`/healthz`, `/readyz`, `/metrics`).
    pub health: String,
    pub tmp: tempfile::TempDir,
    daemon: Option<Child>,
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(d.id() as i32), nix::sys::signal::Signal::SIGTERM);
            for _ in 0..100 {
                if d.try_wait().ok().flatten().is_some() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = d.kill();
        }
    }
}

/// The fixture's story, started near today: the daemon under test reads the
/// real clock, so the orders must still be waiting on it, whatever the date.
fn scenario() -> Scenario {
    let mut s = Scenario::load(&common::repo().join("fixtures/scenarios/mojokerto.toml")).unwrap().starting_near(chrono::Utc::now());
    s.rate_limit_per_minute = 1_000_000;
    s.orders_per_day = 12;
    s.lines_per_order_mean = 3;
    s.buyer_cancel_percent_per_day = 0;
    s
}

pub async fn admin(server: &MockServer, path: &str, body: serde_json::Value) -> serde_json::Value {
    let r = reqwest::Client::new().post(format!("{}{path}", server.url())).json(&body).send().await.unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap_or_default()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl World {
    /// Publishes the fixtures on the mock, lets the review pass and orders
    /// arrive, syncs them, and starts the daemon (its schedules far away:
    /// nothing runs unless started from the page). `web` is added to `[web]`.
    pub async fn new(web: &str) -> World {
        World::with("", web).await
    }

    /// As `new`, with `top` put at the top of the daemon's configuration.
    pub async fn with(top: &str, web: &str) -> World {
        World::configured(top, "", web).await
    }

    /// As `with`, with `daemon` added to `[daemon]`.
    pub async fn configured(top: &str, daemon: &str, web: &str) -> World {
        let (store, url) = common::fixture_db().await;
        let scenario = scenario();
        let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
        let client = common::mock_client(&server, &scenario);
        let tables = Tables::load(&MappingSource::BuiltIn).unwrap();
        let plan = Format::KatalogV6.plan(&MappingSource::BuiltIn, &tables).unwrap();
        publish(&store, &plan, &client, &PublishOptions::default()).await.unwrap();
        admin(&server, "/admin/clock/advance", json!({"hours": 30})).await;
        katalog_bridge::publish::status::sync_status(&store, &client, katalog_bridge::publish::Channel::Api, None, &Default::default()).await.unwrap();
        let clock = admin(&server, "/admin/clock/advance", json!({"hours": 30})).await;
        let now: chrono::DateTime<chrono::Utc> = clock["now"].as_str().unwrap().parse().unwrap();
        let calendar = katalog_bridge::mapping::working_calendar(&MappingSource::BuiltIn, false).unwrap();
        let today = now.with_timezone(&chrono_tz::Asia::Jakarta).date_naive();
        let options = SyncOptions { klpd: vec!["D347".into()], years: katalog_bridge::orders::default_years(today), ..Default::default() };
        katalog_bridge::orders::sync_orders(&store, &client, &calendar, &options).await.unwrap();
        let tmp = common::temp_dir();
        let listen = format!("127.0.0.1:{}", free_port());
        let health_listen = format!("127.0.0.1:{}", free_port());
        let mut config = format!(
            "{top}[orders]\nklpd = [\"D347\"]\n\
             [daemon]\nlisten = \"{listen}\"\nmetrics_listen = \"{health_listen}\"\n{daemon}\n\
             [daemon.schedules]\npublish = \"0 3 1 1 *\"\nstatus = \"0 3 1 1 *\"\norders = \"0 3 1 1 *\"\n\
             [web]\n{web}\n\
             [catalogue]\nbase_url = \"{}\"\n",
            server.url()
        );
        for c in &scenario.clients {
            config.push_str(&format!(
                "[[catalogue.sellers]]\nkode_penyedia = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\n",
                c.kode_penyedia, c.client_id, c.client_secret
            ));
        }
        let config_path = tmp.path().join("katalog-bridge.toml");
        std::fs::write(&config_path, config).unwrap();
        let log = std::fs::File::create(tmp.path().join("daemon.log")).unwrap();
        let daemon = common::binary()
            .env("DATABASE_URL", &url)
            .env("KATALOG_BRIDGE_INSTANCE", "web-test-daemon")
            .arg("--config")
            .arg(&config_path)
            .arg("daemon")
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let base = format!("http://{listen}");
        let health = format!("http://{health_listen}");
        let world = World { store, url, server, base, health, tmp, daemon: Some(daemon) };
        for _ in 0..300 {
            if reqwest::get(format!("{}/healthz", world.health)).await.is_ok_and(|r| r.status().is_success())
                && reqwest::get(format!("{}/masuk", world.base)).await.is_ok_and(|r| r.status().is_success())
            {
                return world;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the daemon did not answer within 30 s: {}", world.log());
    }

    pub fn daemon_pid(&self) -> u32 {
        self.daemon.as_ref().expect("the daemon runs").id()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.tmp.path().join("daemon.log")).unwrap_or_default()
    }

    /// Adds an account with the command line (the password on standard input).
    pub fn add_user(&self, name: &str, cooperative: Option<&str>, password: &str) {
        use std::io::Write;
        let mut cmd = common::binary();
        cmd.env("DATABASE_URL", &self.url).args(["users", "add", name, "--password-stdin", "--role"]);
        match cooperative {
            Some(code) => cmd.args(["cooperative", "--cooperative", code]),
            None => cmd.arg("liaison"),
        };
        let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "users add {name}: {}", String::from_utf8_lossy(&out.stderr));
    }

    pub async fn scalar(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(self.store.pool()).await.unwrap()
    }

    /// A cooperative with an order waiting for its confirmation, and another
    /// cooperative with an order: (code, order id) each.
    pub async fn two_cooperatives(&self) -> ((String, i64), (String, i64)) {
        let mine: (String, i64) = sqlx::query_as(
            "SELECT c.code, o.id FROM purchase_orders o JOIN cooperatives c ON c.id = o.cooperative_id
             WHERE o.status = 'WAITING_SELLER_CONFIRMATION' AND o.deadline > now() ORDER BY o.deadline DESC, o.remote_order_id LIMIT 1",
        )
        .fetch_one(self.store.pool())
        .await
        .expect("an order waiting for confirmation");
        let other: (String, i64) = sqlx::query_as(
            "SELECT c.code, o.id FROM purchase_orders o JOIN cooperatives c ON c.id = o.cooperative_id WHERE c.code <> $1 ORDER BY o.id LIMIT 1",
        )
        .bind(&mine.0)
        .fetch_one(self.store.pool())
        .await
        .expect("another cooperative's order");
        (mine, other)
    }
}

/// Writes `head`, then `len` bytes of `fill`, then `tail` on `stream`, while
/// it reads the answer until `enough` says so (or 20 s pass in silence, or
/// the connection closes): the daemon answers a body too large before it has
/// read it all, and closes, so the answer is read while the body is written.
pub async fn write_while_reading(stream: tokio::net::TcpStream, head: String, (fill, len): (u8, usize), tail: String, enough: fn(&[u8]) -> bool) -> Vec<u8> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        write.write_all(head.as_bytes()).await.ok();
        let chunk = vec![fill; 64 * 1024];
        let mut sent = 0;
        while sent < len {
            if write.write_all(&chunk[..chunk.len().min(len - sent)]).await.is_err() {
                return;
            }
            sent += chunk.len();
        }
        write.write_all(tail.as_bytes()).await.ok();
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 8192];
    while !enough(&answer) {
        match tokio::time::timeout(Duration::from_secs(20), read.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => answer.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    writer.abort();
    answer
}

/// A browser-like client: keeps its cookies, follows no redirects.
pub struct Visitor {
    pub http: reqwest::Client,
    pub base: String,
    /// Its cookies, for a request written by hand.
    pub jar: std::sync::Arc<reqwest::cookie::Jar>,
}

impl Visitor {
    pub fn new(base: &str) -> Self {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let http = reqwest::Client::builder().cookie_provider(jar.clone()).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Visitor { http, base: base.to_owned(), jar }
    }

    /// The `Cookie` header this visitor sends.
    pub fn cookie_header(&self) -> String {
        use reqwest::cookie::CookieStore;
        self.jar.cookies(&self.base.parse().unwrap()).map(|h| h.to_str().unwrap().to_owned()).unwrap_or_default()
    }

    /// A visitor whose connections come from `address` (another loopback
    /// address than 127.0.0.1: another client, as the daemon sees it).
    pub fn from_address(base: &str, address: &str) -> Self {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .local_address(address.parse::<std::net::IpAddr>().unwrap())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Visitor { http, base: base.to_owned(), jar }
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let r = self.http.get(format!("{}{path}", self.base)).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.text().await.unwrap())
    }

    /// The redirect target of a GET, if it redirects.
    pub async fn location(&self, path: &str) -> Option<String> {
        let r = self.http.get(format!("{}{path}", self.base)).send().await.unwrap();
        r.headers().get("location").map(|l| l.to_str().unwrap().to_owned())
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, String, Option<String>) {
        let r = self.http.post(format!("{}{path}", self.base)).form(form).send().await.unwrap();
        let status = r.status().as_u16();
        let location = r.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
        (status, r.text().await.unwrap(), location)
    }

    /// Logs in through the form; the page it lands on (a redirect), or the login page again.
    pub async fn login(&self, user: &str, password: &str) -> (u16, String, Option<String>) {
        let (_, page) = self.get("/masuk").await;
        let token = hidden(&page, "token");
        self.post("/masuk", &[("token", &token), ("username", user), ("password", password), ("lanjut", "/")]).await
    }

    /// The CSRF token of the session (from any page's logout form).
    pub async fn csrf(&self) -> String {
        let (status, page) = self.get("/").await;
        assert_eq!(status, 200, "logged in");
        hidden(&page, "csrf")
    }
}

/// The value of the first hidden input named `name`.
pub fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = page.find(&marker).unwrap_or_else(|| panic!("no {name} field in:\n{page}")) + marker.len();
    page[at..].split('"').next().unwrap().to_owned()
}

const PASSWORD: &str = "kata-sandi-uji-2026";

/// Every row of a list, following its "next" links from `path`: each row's
/// product cell and channel cell; a row seen twice fails.
async fn walk_listings(v: &Visitor, path: &str) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut rows = Vec::new();
    let mut next = Some(path.to_owned());
    while let Some(path) = next.take() {
        let (status, page) = v.get(&path).await;
        assert_eq!(status, 200, "{path}");
        for row in page.split("<td data-label=\"Produk\">").skip(1) {
            let product = row.split("</td>").next().unwrap();
            let channel = row.split("<td data-label=\"Saluran\">").nth(1).and_then(|c| c.split("</td>").next()).unwrap_or_default();
            let key = format!("{product} | {channel}");
            assert!(seen.insert(key.clone()), "{key} shown twice (at {path})");
            rows.push(key);
        }
        next = page
            .split("<p class=\"pager\">")
            .nth(1)
            .and_then(|p| p.split("</p>").next())
            .and_then(|p| p.split("<a href=\"").skip(1).find(|a| a.contains("Berikutnya")).map(|a| a.split('"').next().unwrap().replace("&#38;", "&")));
    }
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cooperative_user_sees_only_their_cooperative_and_every_other_cooperatives_route_answers_404() {
    let w = World::new("").await;
    let ((mine, my_order), (other, their_order)) = w.two_cooperatives().await;
    w.add_user("staf", Some(&mine), PASSWORD);
    w.add_user("penghubung", None, PASSWORD);
    let their_pub: i64 = w
        .scalar(&format!("SELECT pb.id FROM publications pb JOIN products p ON p.id = pb.product_id JOIN cooperatives c ON c.id = p.cooperative_id WHERE c.code = '{other}' LIMIT 1"))
        .await;

    let v = Visitor::new(&w.base);
    // Not logged in: every page sends to the login page.
    assert_eq!(v.location("/pesanan").await.as_deref(), Some("/masuk?lanjut=%2Fpesanan"));
    let (status, _, to) = v.login("staf", PASSWORD).await;
    assert_eq!((status, to.as_deref()), (303, Some("/")), "logged in: {}", w.log());
    let csrf = v.csrf().await;

    // Their own: there.
    let (status, page) = v.get(&format!("/pesanan/{my_order}")).await;
    assert_eq!(status, 200);
    assert!(page.contains(&mine));
    let (_, overview) = v.get("/").await;
    assert!(overview.contains(&format!("({mine})")) && !overview.contains(&format!("({other})")), "the overview shows their cooperative only");
    let (_, list) = v.get("/pesanan").await;
    assert!(!list.contains(&format!("/pesanan/{their_order}\"")), "another cooperative's order is not listed");

    // Another cooperative's, by id or by URL: 404, the same page as for what does not exist.
    let (_, missing) = v.get("/pesanan/999999999").await;
    for path in [
        format!("/pesanan/{their_order}"),
        format!("/pesanan?koperasi={other}"),
        format!("/produk?koperasi={other}"),
        format!("/unduhan/pesanan/{other}/pesanan.csv"),
        format!("/unduhan/pesanan/{other}/pesanan.xlsx"),
        format!("/unduhan/buku-kerja/{other}"),
        "/jalankan".to_owned(),
    ] {
        let (status, page) = v.get(&path).await;
        assert_eq!(status, 404, "GET {path}");
        assert_eq!(page, missing, "GET {path}: the same 404 as for nothing");
    }
    let answers_before = w.scalar("SELECT count(*) FROM order_responses").await;
    let pending_before = w.scalar(&format!("SELECT count(*) FROM publications WHERE id = {their_pub} AND state = 'pending'")).await;
    for path in [
        format!("/pesanan/{their_order}/terima"),
        format!("/pesanan/{their_order}/tolak"),
        format!("/pesanan/{their_order}/catat"),
        format!("/produk/{their_pub}/kirim-ulang"),
        "/jalankan/orders".to_owned(),
    ] {
        let (status, _, _) = v.post(&path, &[("csrf", &csrf), ("alasan", "stok habis")]).await;
        assert_eq!(status, 404, "POST {path}");
    }
    // An upload naming another cooperative.
    let products_before = w.scalar(&format!("SELECT count(*) FROM products p JOIN cooperatives c ON c.id = p.cooperative_id WHERE c.code = '{other}'")).await;
    let csv = "kode_anggota;nama_anggota;sku;nama_produk;deskripsi;kategori;satuan;isi_bersih;harga;stok;min_pembelian;berat_kg;asal\n\
               X-01;Anggota X;NYUSUP-1;Gula Pasir 1 kg;Gula pasir kemasan 1 kg.;Gula;pcs;1 kg;15000;10;1;1;Lokal\n";
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .text("koperasi", other.clone())
        .part("berkas", reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("produk.csv"));
    let r = v.http.post(format!("{}/unggah", w.base)).multipart(form).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404, "an upload for another cooperative");
    assert_eq!(w.scalar("SELECT count(*) FROM order_responses").await, answers_before, "no answer recorded");
    assert_eq!(w.scalar(&format!("SELECT count(*) FROM publications WHERE id = {their_pub} AND state = 'pending'")).await, pending_before);
    assert_eq!(
        w.scalar(&format!("SELECT count(*) FROM products p JOIN cooperatives c ON c.id = p.cooperative_id WHERE c.code = '{other}'")).await,
        products_before,
        "nothing imported for the other cooperative"
    );

    // Rejecting their own order needs a reason; with one, it goes through the outbox to the catalogue.
    let (status, _, to) = v.post(&format!("/pesanan/{my_order}/tolak"), &[("csrf", &csrf), ("alasan", "  ")]).await;
    assert_eq!((status, to.as_deref()), (303, Some(format!("/pesanan/{my_order}?jawab=alasan").as_str())));
    assert_eq!(w.scalar("SELECT count(*) FROM order_responses").await, answers_before, "no answer without a reason");
    let (status, _, to) = v.post(&format!("/pesanan/{my_order}/tolak"), &[("csrf", &csrf), ("alasan", "Stok beras habis minggu ini")]).await;
    assert_eq!((status, to.as_deref()), (303, Some(format!("/pesanan/{my_order}?jawab=terkirim").as_str())), "{}", w.log());
    let (decision, reason, state): (String, Option<String>, String) =
        sqlx::query_as("SELECT decision, reason, state FROM order_responses WHERE order_id = $1").bind(my_order).fetch_one(w.store.pool()).await.unwrap();
    assert_eq!((decision.as_str(), reason.as_deref(), state.as_str()), ("reject", Some("Stok beras habis minggu ini"), "sent"));
    let remote: String =
        sqlx::query_scalar("SELECT remote_order_id FROM purchase_orders WHERE id = $1").bind(my_order).fetch_one(w.store.pool()).await.unwrap();
    let truth: serde_json::Value = reqwest::get(format!("{}/admin/state?kind=orders&limit=5000", w.server.url())).await.unwrap().json().await.unwrap();
    let theirs = truth["items"].as_array().unwrap().iter().find(|o| o["order_id"] == remote.as_str()).unwrap();
    assert_eq!(theirs["status"], "CANCELLED", "the catalogue took the rejection");
    let (_, page) = v.get(&format!("/pesanan/{my_order}")).await;
    assert!(
        page.contains("Tolak pesanan: terkirim — Stok beras habis minggu ini")
            && !page.contains(&format!("action=\"/pesanan/{my_order}/terima\""))
            && !page.contains(&format!("action=\"/pesanan/{my_order}/tolak\"")),
        "the answer shows, the answer's forms are gone"
    );

    // Their listings, page after page: each of their cooperative's publications and held-back drafts once.
    let theirs = walk_listings(&v, "/produk").await;
    let want = w
        .scalar(&format!(
            "SELECT (SELECT count(*) FROM publications pb JOIN products p ON p.id = pb.product_id JOIN cooperatives c ON c.id = p.cooperative_id WHERE c.code = '{mine}')
                  + (SELECT count(*) FROM listings l JOIN products p ON p.id = l.product_id JOIN cooperatives c ON c.id = p.cooperative_id
                     WHERE c.code = '{mine}' AND l.format = 'katalog-v6' AND l.state = 'blocked' AND p.active)"
        ))
        .await;
    assert_eq!(theirs.len() as i64, want, "every listing of their cooperative, once");

    // The liaison sees both, and may start a run.
    let liaison = Visitor::new(&w.base);
    liaison.login("penghubung", PASSWORD).await;
    let all = walk_listings(&liaison, "/produk").await;
    let want = w
        .scalar(
            "SELECT (SELECT count(*) FROM publications)
                  + (SELECT count(*) FROM listings l JOIN products p ON p.id = l.product_id WHERE l.format = 'katalog-v6' AND l.state = 'blocked' AND p.active)",
        )
        .await;
    assert!(want > 100, "the fixtures fill several pages: {want}");
    assert_eq!(all.len() as i64, want, "page after page, every listing once");
    let rejected = walk_listings(&liaison, "/produk?status=rejected").await;
    assert_eq!(rejected.len() as i64, w.scalar("SELECT count(*) FROM publications WHERE state = 'rejected'").await, "the state filter");
    let held = walk_listings(&liaison, "/produk?status=blocked").await;
    assert_eq!(
        held.len() as i64,
        w.scalar("SELECT count(*) FROM listings l JOIN products p ON p.id = l.product_id WHERE l.format = 'katalog-v6' AND l.state = 'blocked' AND p.active")
            .await,
        "the held-back drafts"
    );
    for path in [format!("/pesanan/{their_order}"), format!("/pesanan/{my_order}"), "/jalankan".to_owned(), format!("/unduhan/pesanan/{other}/pesanan.csv")] {
        assert_eq!(liaison.get(&path).await.0, 200, "the liaison: GET {path}");
    }
    // The downloads are what the commands write: the orders' CSV with their lines, the workbooks as XLSX.
    let (_, csv) = v.get(&format!("/unduhan/pesanan/{mine}/pesanan.csv")).await;
    let remote: String =
        sqlx::query_scalar("SELECT remote_order_id FROM purchase_orders WHERE id = $1").bind(my_order).fetch_one(w.store.pool()).await.unwrap();
    let lines = w
        .scalar(&format!(
            "SELECT count(*) FROM purchase_orders o JOIN cooperatives c ON c.id = o.cooperative_id LEFT JOIN order_lines l ON l.order_id = o.id WHERE c.code = '{mine}'"
        ))
        .await;
    assert!(csv.starts_with("order_id,") && csv.contains(&remote), "{csv}");
    assert_eq!(csv.lines().count() as i64, lines + 1, "one row per line (an order without lines has one), with the heading");
    for path in [format!("/unduhan/pesanan/{mine}/pesanan.xlsx"), format!("/unduhan/buku-kerja/{mine}")] {
        let r = v.http.get(format!("{}{path}", w.base)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment; filename="), "{path}");
        assert!(r.bytes().await.unwrap().starts_with(b"PK"), "{path} is a workbook");
    }
    assert_eq!(w.scalar("SELECT count(*) FROM audit_log WHERE action LIKE 'download.%' AND username = 'staf'").await, 3, "each download is in the audit log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_without_the_sessions_csrf_token_change_nothing_logins_are_throttled_and_sessions_end() {
    let w = World::new("throttle_account_failures = 3\nsession_idle_minutes = 30").await;
    let ((mine, my_order), _) = w.two_cooperatives().await;
    w.add_user("staf", Some(&mine), PASSWORD);
    w.add_user("penghubung", None, PASSWORD);
    let v = Visitor::new(&w.base);
    // A session id planted before the login is not the one after it.
    let (status, _, _) = v.login("staf", PASSWORD).await;
    assert_eq!(status, 303);
    let csrf = v.csrf().await;
    let pub_id: i64 = w
        .scalar(&format!(
            "SELECT pb.id FROM publications pb JOIN products p ON p.id = pb.product_id JOIN cooperatives c ON c.id = p.cooperative_id
             WHERE c.code = '{mine}' AND pb.state = 'live' LIMIT 1"
        ))
        .await;
    let state_of = |id: i64| format!("SELECT count(*) FROM publications WHERE id = {id} AND state = 'live'");

    // Without the token, and with a wrong one: refused, nothing changed.
    for token in [None, Some("0".repeat(64)), Some(format!("{csrf}x"))] {
        let mut form = vec![("alasan", "stok habis")];
        if let Some(t) = &token {
            form.push(("csrf", t));
        }
        for path in [
            format!("/pesanan/{my_order}/terima"),
            format!("/pesanan/{my_order}/tolak"),
            format!("/pesanan/{my_order}/catat"),
            format!("/produk/{pub_id}/kirim-ulang"),
            "/pembayaran/1/tetapkan".to_owned(),
            format!("/unduhan/faktur/{mine}"),
            "/keluar".to_owned(),
        ] {
            let (status, page, _) = v.post(&path, &form).await;
            assert_eq!(status, 403, "POST {path} with token {token:?}");
            assert!(page.contains("Formulir ini sudah tidak berlaku"), "the page says why: {page}");
        }
        let upload = reqwest::multipart::Form::new().part("berkas", reqwest::multipart::Part::bytes(b"a;b\n".to_vec()).file_name("x.csv"));
        let upload = match &token {
            Some(t) => {
                reqwest::multipart::Form::new().text("csrf", t.clone()).part("berkas", reqwest::multipart::Part::bytes(b"a;b\n".to_vec()).file_name("x.csv"))
            }
            None => upload,
        };
        let r = v.http.post(format!("{}/unggah", w.base)).multipart(upload).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 403, "upload with token {token:?}");
        let statement = |form: reqwest::multipart::Form| form.part("berkas", reqwest::multipart::Part::bytes(b"Tanggal;Kredit\n".to_vec()).file_name("r.csv"));
        let form = match &token {
            Some(t) => statement(reqwest::multipart::Form::new().text("csrf", t.clone())),
            None => statement(reqwest::multipart::Form::new()),
        };
        let r = v.http.post(format!("{}/pembayaran", w.base)).multipart(form).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 403, "a statement's upload with token {token:?}");
        let list = |form: reqwest::multipart::Form| {
            form.part("berkas", reqwest::multipart::Part::bytes(b"Nomor Faktur Pajak;Status Faktur;Referensi\n".to_vec()).file_name("f.csv"))
        };
        let form = match &token {
            Some(t) => list(reqwest::multipart::Form::new().text("csrf", t.clone())),
            None => list(reqwest::multipart::Form::new()),
        };
        let r = v.http.post(format!("{}/unduhan/faktur-nomor/{mine}", w.base)).multipart(form).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 403, "Coretax's list uploaded with token {token:?}");
    }
    assert_eq!(w.scalar("SELECT count(*) FROM order_responses").await, 0, "no answer recorded");
    assert_eq!(
        w.scalar("SELECT count(*) FROM bank_statements").await + w.scalar("SELECT count(*) FROM tax_invoice_files").await,
        0,
        "no statement, no invoice file"
    );
    assert_eq!(w.scalar(&state_of(pub_id)).await, 1, "the listing was not touched");
    assert_eq!(w.scalar("SELECT count(*) FROM audit_log WHERE action NOT LIKE 'user.%'").await, 0, "no action happened");
    assert_eq!(v.get("/").await.0, 200, "the forged logout did not end the session");

    // Login throttling: after 3 failures, even the right password waits; the
    // page says the same for a wrong password and for a user that does not exist.
    let other = Visitor::new(&w.base);
    let (_, wrong, _) = other.login("penghubung", "salah-salah-salah").await;
    let (_, nobody, _) = other.login("tidak-ada", "salah-salah-salah").await;
    let alert = |page: &str| page.split("role=\"alert\">").nth(1).and_then(|s| s.split('<').next()).unwrap_or_default().to_owned();
    assert_eq!(alert(&wrong), "Nama pengguna atau kata sandi salah.");
    assert_eq!(alert(&wrong), alert(&nobody), "the login page does not say whether a user exists");
    other.login("penghubung", "salah-salah-salah").await;
    other.login("penghubung", "salah-salah-salah").await;
    let (status, page, _) = other.login("penghubung", PASSWORD).await;
    assert_eq!(status, 200, "the right password is refused while the account waits");
    assert!(alert(&page).starts_with("Terlalu banyak percobaan masuk yang gagal"), "{}", alert(&page));
    assert_eq!(w.scalar("SELECT count(*) FROM web_sessions s JOIN users u ON u.id = s.user_id WHERE u.username = 'penghubung'").await, 0);
    // After the wait (3 failures and the try held back: 4 s after it), the right password works.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (status, _, to) = other.login("penghubung", PASSWORD).await;
    assert_eq!((status, to.as_deref()), (303, Some("/")), "let in after the wait");

    // Expiry after inactivity: a session last used 31 minutes ago is over.
    sqlx::query("UPDATE web_sessions SET last_seen_at = now() - interval '31 minutes' WHERE user_id = (SELECT id FROM users WHERE username = 'penghubung')")
        .execute(w.store.pool())
        .await
        .unwrap();
    assert_eq!(other.location("/pesanan").await.as_deref(), Some("/masuk?lanjut=%2Fpesanan&habis=1"));
    assert_eq!(w.scalar("SELECT count(*) FROM web_sessions s JOIN users u ON u.id = s.user_id WHERE u.username = 'penghubung'").await, 0, "and removed");

    // Logout ends the session on the server: the old cookie opens nothing.
    let cookie_before = w.scalar("SELECT count(*) FROM web_sessions s JOIN users u ON u.id = s.user_id WHERE u.username = 'staf'").await;
    assert_eq!(cookie_before, 1);
    let (status, _, to) = v.post("/keluar", &[("csrf", &csrf)]).await;
    assert_eq!((status, to.as_deref()), (303, Some("/masuk?keluar=1")));
    assert_eq!(w.scalar("SELECT count(*) FROM web_sessions s JOIN users u ON u.id = s.user_id WHERE u.username = 'staf'").await, 0);
    assert!(v.location("/").await.is_some_and(|l| l.starts_with("/masuk")));

    // A disabled account cannot log in, and its sessions end.
    let again = Visitor::new(&w.base);
    again.login("staf", PASSWORD).await;
    assert_eq!(again.get("/").await.0, 200);
    let out = common::binary().env("DATABASE_URL", &w.url).args(["users", "disable", "staf"]).output().unwrap();
    assert!(out.status.success());
    assert!(again.location("/").await.is_some_and(|l| l.starts_with("/masuk")));
    assert_eq!(again.login("staf", PASSWORD).await.0, 200, "a disabled account stays on the login page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names_are_escaped_and_an_upload_takes_the_good_rows_and_names_each_bad_one() {
    let w = World::new("").await;
    let ((mine, my_order), _) = w.two_cooperatives().await;
    w.add_user("staf", Some(&mine), PASSWORD);
    w.add_user("penghubung", None, PASSWORD);
    let v = Visitor::new(&w.base);
    v.login("staf", PASSWORD).await;
    let csrf = v.csrf().await;

    // A spreadsheet with two good rows, a row with a negative price, and a
    // hostile product name; uploaded under a hostile file name.
    let csv = "kode_anggota;nama_anggota;sku;nama_produk;deskripsi;kategori;satuan;isi_bersih;harga;stok;min_pembelian;berat_kg;asal\n\
               UJI-01;Anggota Uji;UJI-BERAS-5;Beras Uji 5 kg;Beras uji kemasan 5 kg.;Beras;karung;5 kg;74500;10;1;5;Lokal\n\
               UJI-01;Anggota Uji;UJI-GULA-1;Gula Uji 1 kg;Gula uji kemasan 1 kg.;Gula;pcs;1 kg;-15000;10;1;1;Lokal\n\
               UJI-01;Anggota Uji;UJI-XSS-1;<script>alert('produk')</script> Minyak 1 L;Minyak goreng.;Minyak Goreng;botol;1 liter;21000;10;1;1;Lokal\n\
               UJI-01;Anggota Uji;UJI-TELUR;Telur Uji;Telur ayam.;Telur;kg;1 kg;28000;10;1;1;Lokal\n";
    let hostile_file = "\"><img src=x onerror=alert(1)>.csv";
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .part("berkas", reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name(hostile_file));
    let r = v.http.post(format!("{}/unggah", w.base)).multipart(form).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("<strong>4</strong> baris dibaca"), "{page}");
    assert!(page.contains("<strong>3</strong> baris masuk"), "{page}");
    let refused = page.split("class=\"stack refusals\"").nth(1).expect("the refused rows are listed");
    assert!(refused.contains("<td data-label=\"Baris\">3</td>"), "row 3 (the second data row) is named: {refused}");
    assert!(refused.contains("(harga)"), "its column is named: {refused}");
    assert!(refused.contains("harga tidak boleh negatif"), "and its reason, in Indonesian: {refused}");
    let stored: i64 = w
        .scalar(&format!("SELECT count(*) FROM products p JOIN cooperatives c ON c.id = p.cooperative_id WHERE c.code = '{mine}' AND p.sku LIKE 'UJI-%'"))
        .await;
    assert_eq!(stored, 3, "the good rows went in");
    // The file name and the product name are escaped wherever they show.
    assert!(!page.contains("<img src=x"), "the file name is not markup");
    assert!(page.contains("&#34;&#62;&#60;img src=x onerror=alert(1)&#62;.csv") || page.contains("&quot;&gt;&lt;img"), "{page}");
    let (_, history) = v.get("/riwayat").await;
    assert!(history.contains("mengunggah berkas produk") && !history.contains("<img src=x"), "the audit log names the upload, escaped");
    let (_, listings) = v.get("/produk").await;
    assert!(!listings.contains("<script>alert('produk')"), "a product's name is not markup");

    // A hostile work unit name and line description from the catalogue.
    sqlx::query("UPDATE purchase_orders SET nama_satker = '<script>alert(\"satker\")</script>' WHERE id = $1")
        .bind(my_order)
        .execute(w.store.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE order_lines SET description = '<b onmouseover=alert(2)>Beras</b>' WHERE order_id = $1")
        .bind(my_order)
        .execute(w.store.pool())
        .await
        .unwrap();
    for path in [format!("/pesanan/{my_order}"), "/pesanan".to_owned()] {
        let (status, page) = v.get(&path).await;
        assert_eq!(status, 200);
        assert!(!page.contains("<script>alert(\"satker\")") && !page.contains("<b onmouseover"), "{path} renders them as text");
        assert!(page.contains("&#60;script&#62;alert(&#34;satker&#34;)&#60;/script&#62;") || page.contains("&lt;script&gt;"), "{path}: {page}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_web_prints_the_dashboard_and_two_logins_that_work_and_stops_on_ctrl_c() {
    use std::io::BufRead;
    let tmp = common::temp_dir();
    let port = free_port();
    let mut demo = common::binary()
        .current_dir(tmp.path())
        .env("KATALOG_BRIDGE_DAEMON__LISTEN", format!("127.0.0.1:{port}"))
        .args(["demo", "--web", "--fixtures"])
        .arg(common::repo().join("fixtures"))
        .arg("--out")
        .arg(tmp.path().join("out"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = demo.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut lines = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(240);
    while !lines.iter().any(|l: &String| l.contains("Ctrl-C")) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => lines.push(line),
            Err(_) => {
                let _ = demo.kill();
                panic!("demo --web did not offer the dashboard in time:\n{}", lines.join("\n"));
            }
        }
    }
    let address = lines.iter().find(|l| l.contains("Dasbor / dashboard:")).expect("the address is printed");
    assert!(address.contains(&format!("http://127.0.0.1:{port}/")), "{address}");
    let logins: Vec<(String, String)> = lines
        .iter()
        .filter(|l| l.contains("log in as"))
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            let at = |w: &str| words.iter().position(|x| *x == w).unwrap();
            (words[at("as") + 1].to_owned(), words[at("password") + 1].to_owned())
        })
        .collect();
    assert_eq!(logins.len(), 2, "{lines:?}");
    assert_eq!(logins[0].0, "penghubung", "a liaison login");
    assert!(logins[1].0.starts_with("mjk-"), "and a cooperative's: {:?}", logins[1]);
    for (user, password) in &logins {
        let v = Visitor::new(&format!("http://127.0.0.1:{port}"));
        let (status, _, to) = v.login(user, password).await;
        assert_eq!((status, to.as_deref()), (303, Some("/")), "{user} logs in with the printed password");
        let (status, page) = v.get("/pesanan").await;
        assert_eq!(status, 200);
        assert!(page.contains("EP-"), "{user} sees the demo's orders");
        // The demo's story starts near today: its orders still wait on the real clock, whatever the date.
        let (_, waiting) = v.get("/pesanan?menunggu=1").await;
        assert!(waiting.contains("EP-") && !waiting.contains("sudah lewat"), "{user} sees orders still waiting, none past: {waiting}");
    }
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(demo.id() as i32), nix::sys::signal::Signal::SIGINT).unwrap();
    for _ in 0..600 {
        if let Some(status) = demo.try_wait().unwrap() {
            assert!(matches!(status.code(), Some(0 | 130)), "demo --web ended on Ctrl-C: {status:?}");
            assert!(reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await.is_err(), "and the dashboard is gone");
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = demo.kill();
    panic!("demo --web did not stop on Ctrl-C");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_is_refused_with_its_holders_name_while_one_runs_cookies_are_guarded_and_the_language_switch_is_remembered() {
    let w = World::new("secure_cookies = true").await;
    w.add_user("penghubung", None, PASSWORD);

    // The cookies: HttpOnly, SameSite=Lax, and Secure as configured (behind TLS).
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = http.get(format!("{}/masuk", w.base)).send().await.unwrap();
    let pre = r.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    let token = hidden(&r.text().await.unwrap(), "token");
    let r = http
        .post(format!("{}/masuk", w.base))
        .header("cookie", pre.split(';').next().unwrap())
        .form(&[("token", token.as_str()), ("username", "penghubung"), ("password", PASSWORD), ("lanjut", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let session =
        r.headers().get_all("set-cookie").iter().map(|c| c.to_str().unwrap().to_owned()).find(|c| c.starts_with("kb_sesi=")).expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(session.split(';').any(|a| a.trim() == attribute), "{attribute} in {session}");
        assert!(pre.split(';').any(|a| a.trim() == attribute), "{attribute} in {pre}");
    }
    let id = session.split(';').next().unwrap().trim_start_matches("kb_sesi=");
    assert_eq!(id.len(), 64, "256 random bits");
    let stored: String = sqlx::query_scalar("SELECT id_hash FROM web_sessions").fetch_one(w.store.pool()).await.unwrap();
    assert_ne!(stored, id, "only the id's digest is stored");

    // Over plain HTTP a browser would not send a Secure cookie back: this client sends it anyway.
    let cookie = session.split(';').next().unwrap().to_owned();
    let get = |path: &str| http.get(format!("{}{path}", w.base)).header("cookie", cookie.clone()).send();

    // Another process holds the orders job's lock, its run marked running.
    let lock = katalog_bridge::store::runs::try_lock_job(&w.store, katalog_bridge::domain::job::Job::Orders).await.unwrap().expect("the lock is free");
    sqlx::query("INSERT INTO sync_runs (kind, instance, role) VALUES ('orders', 'kantor-kota:4242', 'lead')").execute(w.store.pool()).await.unwrap();
    let runs_before = w.scalar("SELECT count(*) FROM sync_runs").await;
    let page = get("/jalankan").await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "csrf");
    assert!(page.contains("Sedang berjalan") && page.contains("kantor-kota:4242"), "the page shows the run going on: {page}");
    let r = http.post(format!("{}/jalankan/orders", w.base)).header("cookie", cookie.clone()).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    let to = r.headers().get("location").unwrap().to_str().unwrap().to_owned();
    assert_eq!(to, "/jalankan?sibuk=kantor-kota%3A4242");
    let page = get(&to).await.unwrap().text().await.unwrap();
    assert!(page.contains("Pekerjaan ini sedang berjalan di kantor-kota:4242"), "refused, with the holder's name: {page}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(w.scalar("SELECT count(*) FROM sync_runs").await, runs_before, "no run started");
    assert_eq!(w.scalar("SELECT count(*) FROM audit_log WHERE action = 'run.start'").await, 0);
    drop(lock);

    // An answer the catalogue refuses stays refused, with its reason, and is not offered again.
    let ((_, order), _) = w.two_cooperatives().await;
    admin(&w.server, "/admin/faults", json!({"route": "/api/v1/ekatalog/paket-e-purchasing/", "kind": "status", "status": 409, "count": 1})).await;
    let post = |path: String| http.post(format!("{}{path}", w.base)).header("cookie", cookie.clone()).form(&[("csrf", csrf.as_str())]).send();
    let r = post(format!("/pesanan/{order}/terima")).await.unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let (state, error): (String, Option<String>) =
        sqlx::query_as("SELECT state, last_error FROM order_responses WHERE order_id = $1").bind(order).fetch_one(w.store.pool()).await.unwrap();
    assert_eq!(state, "refused", "{error:?}");
    let page = get(&format!("/pesanan/{order}")).await.unwrap().text().await.unwrap();
    assert!(page.contains("Katalog menolak jawaban ini") && !page.contains(&format!("action=\"/pesanan/{order}/terima\"")), "{page}");
    let r = post(format!("/pesanan/{order}/terima")).await.unwrap();
    assert_eq!(r.headers().get("location").unwrap().to_str().unwrap(), format!("/pesanan/{order}"), "asked again: back to the page");
    assert_eq!(w.scalar("SELECT count(*) FROM audit_log WHERE action = 'order.accept'").await, 1, "one answer, once");

    // The language switch: English, remembered, and back.
    let r = http.get(format!("{}/bahasa/en?lanjut=%2Fpesanan", w.base)).header("cookie", cookie.clone()).send().await.unwrap();
    assert_eq!(r.headers().get("location").unwrap(), "/pesanan");
    let lang = r.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(lang.starts_with("kb_bahasa=en") && lang.contains("Max-Age="), "remembered: {lang}");
    let both = format!("{cookie}; kb_bahasa=en");
    let page = http.get(format!("{}/pesanan", w.base)).header("cookie", both.clone()).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<html lang=\"en\">") && page.contains(">Orders</a>") && page.contains(">Log out</button>"), "{page}");
    let page = http.get(format!("{}/", w.base)).header("cookie", both).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Overview") && !page.contains("Ringkasan"), "every page in English");
    // Never to another site.
    let r = http.get(format!("{}/bahasa/id?lanjut=%2F%2Fevil.example%2F", w.base)).send().await.unwrap();
    assert_eq!(r.headers().get("location").unwrap(), "/");
}

/// Runs the binary with `input` on standard input: (exit code, stdout, stderr).
fn run_with_input(url: &str, args: &[&str], input: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut child = common::binary().env("DATABASE_URL", url).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_added_listed_disabled_and_given_new_passwords_from_standard_input_only() {
    let (store, url) = common::fresh_db().await;
    common::load_cooperatives(&store).await;
    let secret = "rahasia-sekali-2026";
    let (code, _, err) = run_with_input(&url, &["users", "add", "penghubung", "--role", "liaison", "--password-stdin"], "pendek\n");
    assert_eq!(code, 2, "a short password is refused");
    assert!(err.contains("at least 10"), "{err}");
    let (code, _, err) = run_with_input(&url, &["users", "add", "staf", "--role", "cooperative", "--password-stdin"], &format!("{secret}\n"));
    assert!(code == 2 && err.contains("--cooperative"), "a cooperative user needs its cooperative: {err}");
    let (code, _, err) =
        run_with_input(&url, &["users", "add", "staf", "--role", "cooperative", "--cooperative", "MJK-TIDAKADA", "--password-stdin"], &format!("{secret}\n"));
    assert!(code == 2 && err.contains("MJK-TIDAKADA"), "an unknown cooperative is named: {err}");
    let (code, _, err) = run_with_input(&url, &["users", "add", "Bukan Nama", "--role", "liaison", "--password-stdin"], &format!("{secret}\n"));
    assert!(code == 2 && err.contains("not valid"), "{err}");
    let (code, _, err) = run_with_input(&url, &["users", "add", "penghubung", "--role", "liaison"], &format!("{secret}\n"));
    assert_eq!(code, 2, "the password comes from standard input only: {err}");
    assert_eq!(sqlx::query_scalar::<_, i64>("SELECT count(*) FROM users").fetch_one(store.pool()).await.unwrap(), 0, "nothing stored");

    let (code, out, err) = run_with_input(&url, &["users", "add", "penghubung", "--role", "liaison", "--password-stdin"], &format!("{secret}\r\n"));
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains(secret) && !err.contains(secret), "the password is never shown");
    let (code, _, err) = run_with_input(
        &url,
        &["users", "add", "staf-wates", "--role", "cooperative", "--cooperative", "MJK-WATES", "--password-stdin"],
        &format!("{secret}\n"),
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run_with_input(&url, &["users", "add", "penghubung", "--role", "liaison", "--password-stdin"], &format!("{secret}\n"));
    assert!(code == 2 && err.contains("already exists"), "{err}");
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE username = 'penghubung'").fetch_one(store.pool()).await.unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains(secret), "argon2id: {hash}");

    let (code, out, _) = run_with_input(&url, &["users", "list"], "");
    assert_eq!(code, 0);
    assert!(
        out.contains("penghubung") && out.contains("liaison") && out.contains("staf-wates") && out.contains("MJK-WATES") && out.contains("never logged in"),
        "{out}"
    );
    let (_, json, _) = run_with_input(&url, &["users", "list", "--json"], "");
    let first: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!((first["username"].as_str(), first["role"].as_str()), (Some("penghubung"), Some("liaison")));

    // A new password (the CR-LF line ending is not part of it): its sessions end.
    sqlx::query("INSERT INTO web_sessions (id_hash, user_id, csrf_token) SELECT 'x', id, 'y' FROM users WHERE username = 'staf-wates'")
        .execute(store.pool())
        .await
        .unwrap();
    let (code, _, err) = run_with_input(&url, &["users", "password", "staf-wates", "--password-stdin"], "kata-sandi-baru-2026\r\n");
    assert_eq!(code, 0, "{err}");
    assert_eq!(sqlx::query_scalar::<_, i64>("SELECT count(*) FROM web_sessions").fetch_one(store.pool()).await.unwrap(), 0);
    let (code, _, err) = run_with_input(&url, &["users", "disable", "tidak-ada"], "");
    assert!(code == 2 && err.contains("no user named"), "{err}");
    let (code, _, _) = run_with_input(&url, &["users", "disable", "staf-wates"], "");
    assert_eq!(code, 0);
    let (_, out, _) = run_with_input(&url, &["users", "list"], "");
    assert!(out.lines().any(|l| l.starts_with("staf-wates") && l.contains("[disabled]")), "{out}");
}

/// A working-day calendar that lacks this year: the daemon says so when it
/// starts, `sync orders` and `orders pending` say so, and every page says so
/// in words (in the page's language), naming the file to add the year to.
/// The list here ends with 2025, so on any date from 2026 on this year is missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_calendar_that_lacks_the_year_is_said_at_start_up_in_sync_orders_and_on_every_page() {
    let mappings = common::copy_mappings();
    let calendar = mappings.path().join("calendar/holidays-id.csv");
    let only_2025: String =
        std::fs::read_to_string(&calendar).unwrap().lines().filter(|l| !l.starts_with("202") || l.starts_with("2025-")).map(|l| format!("{l}\n")).collect();
    assert!(only_2025.lines().count() > 10 && !only_2025.contains("2026-"), "{only_2025}");
    std::fs::write(&calendar, only_2025).unwrap();
    let path = calendar.display().to_string();
    let w = World::with(&format!("mappings_dir = \"{}\"\n", mappings.path().display()), "").await;
    let said = "lists holidays up to 2025 only";
    let log = w.log();
    assert!(log.contains(said) && log.contains(&path) && log.contains("skip weekends only"), "at start-up: {log}");
    for args in [&["sync", "orders"][..], &["orders", "pending"]] {
        let out = common::binary().env("DATABASE_URL", &w.url).arg("--config").arg(w.tmp.path().join("katalog-bridge.toml")).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {err}");
        assert!(err.contains(said) && err.contains(&path), "{args:?} says so: {err}");
    }
    w.add_user("penghubung", None, PASSWORD);
    let v = Visitor::new(&w.base);
    v.login("penghubung", PASSWORD).await;
    for page in ["/", "/pesanan"] {
        let (status, html) = v.get(page).await;
        assert_eq!(status, 200);
        assert!(html.contains("hanya memuat hari libur sampai tahun 2025") && html.contains(&path), "{page} says so in Indonesian: {html}");
    }
    v.get("/bahasa/en?lanjut=/").await;
    let (_, html) = v.get("/").await;
    assert!(html.contains("The working-day calendar lists holidays up to 2025 only"), "and in English: {html}");
}

/// The order's page records the steps after the order through the same use
/// case as `orders record`: a bad field is refused with why in Bahasa
/// Indonesia and records nothing; the good ones show on the page, each
/// recording audited in the staff's name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_steps_after_an_order_are_recorded_from_its_page_and_a_bad_field_says_why() {
    let w = World::new("").await;
    let ((mine, my_order), _) = w.two_cooperatives().await;
    w.add_user("staf", Some(&mine), PASSWORD);
    let v = Visitor::new(&w.base);
    v.login("staf", PASSWORD).await;
    let csrf = v.csrf().await;
    let (_, page) = v.get(&format!("/pesanan/{my_order}")).await;
    assert!(page.contains(&format!("action=\"/pesanan/{my_order}/catat\"")) && page.contains("Catat langkah setelah pesanan"), "the form is offered");
    let count_entries = format!("SELECT count(*) FROM order_fulfilment WHERE order_id = {my_order}");

    for (form, code, words) in [
        (vec![("bast", "   ")], "kosong", "Tidak ada yang dicatat"),
        (vec![("dibayar", "banyak")], "dibayar", "jumlah diterima harus angka rupiah"),
        (vec![("tanggal", "31-02-2027"), ("dikirim", "1")], "tanggal", "tanggal tidak terbaca"),
        (vec![("dikirim", "1"), ("cara_bayar", "barter")], "lain", "periksa isian"),
    ] {
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend(form.iter().copied());
        let (status, _, to) = v.post(&format!("/pesanan/{my_order}/catat"), &fields).await;
        assert_eq!((status, to.clone()), (303, Some(format!("/pesanan/{my_order}?catat={code}"))), "{form:?}");
        let (_, page) = v.get(to.as_deref().unwrap()).await;
        assert!(page.contains(words), "{form:?}: the page says why");
        assert_eq!(w.scalar(&count_entries).await, 0, "{form:?}: nothing recorded");
    }

    let fields =
        [("csrf", csrf.as_str()), ("tanggal", "2027-01-14"), ("dikirim", "1"), ("bast", "BAST/DINSOS/014"), ("dibayar", "131.439"), ("cara_bayar", "up_va")];
    let (status, _, to) = v.post(&format!("/pesanan/{my_order}/catat"), &fields).await;
    assert_eq!((status, to.as_deref()), (303, Some(format!("/pesanan/{my_order}?catat=ok").as_str())));
    type Entry = (String, Option<String>, Option<rust_decimal::Decimal>, Option<chrono::NaiveDate>, String);
    let recorded: Vec<Entry> = sqlx::query_as("SELECT kind, number, amount, on_date, recorded_by FROM order_fulfilment WHERE order_id = $1 ORDER BY kind")
        .bind(my_order)
        .fetch_all(w.store.pool())
        .await
        .unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2027, 1, 14);
    let kinds: Vec<&str> = recorded.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(kinds, ["bast", "paid", "payment_way", "shipped"]);
    assert!(recorded.iter().all(|r| r.3 == day && r.4 == "staf"), "{recorded:?}");
    assert_eq!(recorded[0].1.as_deref(), Some("BAST/DINSOS/014"));
    assert_eq!(recorded[1].2, Some(rust_decimal::Decimal::from(131_439)), "Indonesian thousands read as such");
    let (_, page) = v.get(&format!("/pesanan/{my_order}?catat=ok")).await;
    let shown_day = katalog_bridge::domain::time::show_date(day.unwrap());
    assert!(page.contains("Langkah tercatat."), "the page says it is recorded");
    assert!(page.contains(&format!("{shown_day} · BAST/DINSOS/014")) && page.contains("Rp131.439"), "the steps show on the page");
    assert!(page.contains("uang persediaan, transfer ke virtual account pesanan"), "the route chosen");
    assert!(
        page.contains("Berkas untuk pembayaran") && page.contains("Surat pesanan ditandatangani (PrivyID)") && page.contains("belum ada"),
        "the route's papers, and what is missing"
    );
    assert!(page.contains("Langkah berikutnya:</strong> Lengkapi: Surat pesanan"), "the next step: the order letter is missing");
    assert_eq!(w.scalar("SELECT count(*) FROM audit_log WHERE action = 'order.record' AND username = 'staf'").await, 1);
}
