//! The mock catalogue's own tests, over real HTTP: the contract, the review
//! rules, idempotency keys, pagination without gaps or duplicates, orders and
//! their deadlines, rate limits, and each fault mode.

use crate::common;

use std::collections::HashSet;

use mock_catalog::{MockServer, Scenario};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn scenario() -> Scenario {
    Scenario::load(&common::repo().join("fixtures/scenarios/mojokerto.toml")).unwrap()
}

async fn server_with(scenario: Scenario) -> MockServer {
    MockServer::start(scenario, "127.0.0.1:0").await.unwrap()
}

struct Client {
    http: reqwest::Client,
    base: String,
    /// Renewed after the clock moves: a token lives one hour of catalogue time.
    token: std::sync::Mutex<String>,
}

impl Client {
    async fn new(server: &MockServer) -> Self {
        let http = reqwest::Client::new();
        let token = token(&http, &server.url(), "rahasia-balongsari").await.unwrap();
        Self { http, base: server.url(), token: std::sync::Mutex::new(token) }
    }

    fn bearer(&self) -> String {
        self.token.lock().unwrap().clone()
    }

    async fn post(&self, path: &str, key: &str, body: &Value) -> reqwest::Response {
        self.http.post(format!("{}{path}", self.base)).bearer_auth(self.bearer()).header("Idempotency-Key", key).json(body).send().await.unwrap()
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.base)).bearer_auth(self.bearer()).send().await.unwrap()
    }

    async fn admin(&self, path: &str, body: Value) -> Value {
        self.http.post(format!("{}{path}", self.base)).json(&body).send().await.unwrap().json().await.unwrap()
    }

    async fn advance(&self, hours: i64) {
        self.admin("/admin/clock/advance", json!({"hours": hours})).await;
        *self.token.lock().unwrap() = token(&self.http, &self.base, "rahasia-balongsari").await.unwrap();
    }

    /// Moves the clock without renewing the token.
    async fn advance_only(&self, hours: i64) {
        self.admin("/admin/clock/advance", json!({"hours": hours})).await;
    }

    async fn truth(&self) -> Value {
        self.http.get(format!("{}/admin/state", self.base)).send().await.unwrap().json().await.unwrap()
    }
}

async fn token(http: &reqwest::Client, base: &str, secret: &str) -> Result<String, StatusCode> {
    let r = http
        .post(format!("{base}/oauth/token"))
        .form(&[("grant_type", "client_credentials"), ("client_id", "kkmp-balongsari"), ("client_secret", secret)])
        .send()
        .await
        .unwrap();
    if !r.status().is_success() {
        return Err(r.status());
    }
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["token_type"], "Bearer");
    assert!(v["expires_in"].as_i64().unwrap() > 0);
    Ok(v["access_token"].as_str().unwrap().to_owned())
}

/// Listings exactly as katalog-bridge's katalog-v6 mapping writes them.
async fn mapped_listings() -> Vec<Value> {
    common::mapped_fixture_listings().await
}

/// One listing as the mapping wrote it on 2026-11-28, kept here as the
/// mock's own input so that its tests do not move with the mapping.
const LISTING: &str = r#"{"sku":"MYK-1L","kode_anggota":"WAT-01","nama_produk":"Minyak Goreng Sawit 1 Liter","deskripsi":"Minyak goreng sawit kemasan botol 1 liter.","kategori_id":"4fcbd2fe-0a95-55c9-842d-db670e7891e3","kategori_level1":"Bahan Makanan","kategori_level2":"Minyak dan Lemak","kategori_level3":"Minyak Goreng","kbki":"21680","barang":"ya","satuan":"Botol","harga":17500,"ppn_persen":0,"ppnbm":false,"harga_termasuk_pajak":17500,"stok":120,"min_pembelian":10,"berat_kg":0.95,"pdn":"Lokal","lokasi_produksi":"Kota Mojokerto","sni":"SNI 7709:2019","merek":"Sawit Nusa","foto":["https://foto.kkmp-mojokerto.id/wat/myk-1l.jpg"],"mata_uang":"IDR"}"#;

fn listing(sku: &str) -> Value {
    // A listing as the mapping writes it, fixed here so the mock's tests do not move with the mapping.
    let mut v: Value = serde_json::from_str(LISTING).unwrap();
    v["sku"] = json!(sku);
    v
}

#[tokio::test]
async fn tokens_are_checked_and_expire() {
    let server = server_with(scenario()).await;
    let http = reqwest::Client::new();
    assert_eq!(token(&http, &server.url(), "wrong").await, Err(StatusCode::UNAUTHORIZED));
    let r = http.get(format!("{}/api/v1/listings", server.url())).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    let c = Client::new(&server).await;
    assert_eq!(c.get("/api/v1/listings").await.status(), StatusCode::OK);
    c.advance_only(2).await; // the token lives one hour of catalogue time
    assert_eq!(c.get("/api/v1/listings").await.status(), StatusCode::UNAUTHORIZED);
    let c = Client::new(&server).await;
    c.admin("/admin/faults", json!({"kind": "expire_tokens"})).await;
    assert_eq!(c.get("/api/v1/listings").await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn every_listing_the_mapping_writes_is_accepted() {
    let server = server_with(scenario()).await;
    let c = Client::new(&server).await;
    let listings = mapped_listings().await;
    assert!(listings.len() > 200);
    for (i, l) in listings.iter().enumerate() {
        let r = c.post("/api/v1/listings", &format!("create-{i}"), l).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{l}: {}", r.text().await.unwrap());
    }
    assert_eq!(c.truth().await["listings"].as_array().unwrap().len(), listings.len());
}

#[tokio::test]
async fn idempotency_keys_replay_or_conflict() {
    let server = server_with(scenario()).await;
    let c = Client::new(&server).await;
    let first: Value = c.post("/api/v1/listings", "k-1", &listing("A")).await.json().await.unwrap();
    let again = c.post("/api/v1/listings", "k-1", &listing("A")).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.json::<Value>().await.unwrap(), first, "the same answer, not a second listing");
    assert_eq!(c.truth().await["listings"].as_array().unwrap().len(), 1);
    let conflict = c.post("/api/v1/listings", "k-1", &listing("B")).await;
    assert_eq!(conflict.status(), StatusCode::CONFLICT);
    assert_eq!(conflict.json::<Value>().await.unwrap()["error"]["code"], "idempotency_conflict");
    let r = c.http.post(format!("{}/api/v1/listings", c.base)).bearer_auth(c.bearer()).json(&listing("C")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "a write without a key is refused");
}

#[tokio::test]
async fn bad_listings_get_field_errors_and_bad_json_a_400() {
    let server = server_with(scenario()).await;
    let c = Client::new(&server).await;
    let mut bad = listing("X");
    bad["nama_produk"] = json!("Teh");
    bad["harga"] = json!(-5);
    bad.as_object_mut().unwrap().remove("satuan");
    let r = c.post("/api/v1/listings", "bad", &bad).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = r.json().await.unwrap();
    let fields: HashSet<&str> = v["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, HashSet::from(["nama_produk", "harga", "satuan"]));
    let r = c
        .http
        .post(format!("{}/api/v1/listings", c.base))
        .bearer_auth(c.bearer())
        .header("Idempotency-Key", "j")
        .header("content-type", "application/json")
        .body("{\"sku\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "bad_request");
    assert_eq!(c.get("/api/v1/listings/L999999").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(c.get("/nowhere").await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn review_follows_the_scenario_rules_in_simulated_time() {
    let server = server_with(scenario()).await;
    let c = Client::new(&server).await;
    let clean = listing("OK");
    let mut tkdn = listing("TKDN");
    tkdn["tkdn_persen"] = json!(40);
    // Minyakita above its ceiling per liter (HET Rp15.700/liter).
    let mut pricey = listing("MAHAL");
    pricey["nama_produk"] = json!("Minyakita 1 Liter");
    pricey["isi_bersih"] = json!("1 liter");
    pricey["harga"] = json!(16_000);
    pricey["harga_termasuk_pajak"] = json!(16_000);
    let mut no_photo = listing("NOFOTO");
    no_photo.as_object_mut().unwrap().remove("foto");
    let mut ids = Vec::new();
    for (i, l) in [&clean, &tkdn, &pricey, &no_photo].iter().enumerate() {
        let v: Value = c.post("/api/v1/listings", &format!("r{i}"), l).await.json().await.unwrap();
        assert_eq!(v["state"], "submitted");
        ids.push(v["listing_id"].as_str().unwrap().to_owned());
    }
    let state = |v: &Value| v["state"].as_str().unwrap().to_owned();
    c.advance(1).await;
    for id in &ids {
        assert_eq!(state(&c.get(&format!("/api/v1/listings/{id}")).await.json().await.unwrap()), "under_curation");
    }
    c.advance(24).await;
    let mut outcome = Vec::new();
    for id in &ids {
        let v: Value = c.get(&format!("/api/v1/listings/{id}")).await.json().await.unwrap();
        outcome.push((state(&v), v["reasons"].as_array().unwrap().len()));
    }
    assert_eq!(outcome, vec![("live".into(), 0), ("rejected".into(), 1), ("rejected".into(), 1), ("revision_requested".into(), 1)]);
    // fixing and resubmitting starts review again
    let mut fixed = no_photo.clone();
    fixed["foto"] = json!(["https://foto.kkmp-mojokerto.id/x.jpg"]);
    let r = c
        .http
        .put(format!("{}/api/v1/listings/{}", c.base, ids[3]))
        .bearer_auth(c.bearer())
        .header("Idempotency-Key", "fix")
        .json(&fixed)
        .send()
        .await
        .unwrap();
    assert_eq!(state(&r.json().await.unwrap()), "submitted");
    c.advance(25).await;
    assert_eq!(state(&c.get(&format!("/api/v1/listings/{}", ids[3])).await.json().await.unwrap()), "live");
    let w: Value = c.post(&format!("/api/v1/listings/{}/withdraw", ids[0]), "w", &json!({})).await.json().await.unwrap();
    assert_eq!(state(&w), "withdrawn");
}

#[tokio::test]
async fn listing_changes_page_without_gaps_or_duplicates() {
    let server = server_with(scenario()).await;
    let c = Client::new(&server).await;
    for i in 0..25 {
        c.post("/api/v1/listings", &format!("p{i}"), &listing(&format!("P{i}"))).await;
    }
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page: Value = c.get(&format!("/api/v1/listings?limit=7&cursor={cursor}")).await.json().await.unwrap();
        seen.extend(page["data"].as_array().unwrap().iter().map(|l| l["listing_id"].as_str().unwrap().to_owned()));
        cursor = page["meta"]["cursor"].as_str().unwrap().to_owned();
        if !page["meta"]["has_more"].as_bool().unwrap() {
            break;
        }
    }
    assert_eq!(seen.len(), 25);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 25);
    // after review every listing changed again: the same cursor now yields all 25 once more
    c.advance(25).await;
    let page: Value = c.get(&format!("/api/v1/listings?limit=1000&cursor={cursor}")).await.json().await.unwrap();
    assert_eq!(page["data"].as_array().unwrap().len(), 25);
    assert!(page["data"].as_array().unwrap().iter().all(|l| l["state"] == "live"));
    assert_eq!(c.get("/api/v1/listings?limit=0").await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(c.get("/api/v1/listings?cursor=abc").await.status(), StatusCode::BAD_REQUEST);
}

/// The ids of the orders waiting for the seller's confirmation.
async fn waiting_orders(c: &Client) -> Vec<String> {
    let truth = c.truth().await;
    truth["orders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["status"] == "WAITING_SELLER_CONFIRMATION")
        .map(|o| o["order_id"].as_str().unwrap().to_owned())
        .collect()
}

/// Lists, waits for review, then lets orders come for `days`.
async fn with_orders(c: &Client, days: i64) {
    for (i, l) in mapped_listings().await.iter().take(60).enumerate() {
        c.post("/api/v1/listings", &format!("o{i}"), l).await;
    }
    c.advance(26).await;
    c.advance(24 * days).await;
}

#[tokio::test]
async fn orders_page_like_inaproc_and_match_the_ground_truth() {
    let server = server_with(scenario()).await;
    let c = Client::new(&server).await;
    with_orders(&c, 5).await;
    let truth = c.truth().await;
    let expected: HashSet<String> = truth["orders"].as_array().unwrap().iter().map(|o| o["order_id"].as_str().unwrap().to_owned()).collect();
    assert!(expected.len() >= 3, "orders arrive on working days: {}", expected.len());
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = c.get(&format!("/api/v1/ekatalog/paket-e-purchasing?kode_klpd=D347&tahun=2026&limit=3&cursor={cursor}")).await;
        assert!(r.headers().contains_key("x-ratelimit-remaining") && r.headers().contains_key("x-ratelimit-reset"));
        let page: Value = r.json().await.unwrap();
        for o in page["data"].as_array().unwrap() {
            assert!(o.get("lines").is_none(), "the list is a summary");
            assert!(o["total"].is_i64() && o["status"].is_string() && o["rup_code"].is_string());
            seen.push(o["order_id"].as_str().unwrap().to_owned());
        }
        cursor = page["meta"]["cursor"].as_str().unwrap().to_owned();
        if !page["meta"]["has_more"].as_bool().unwrap() {
            break;
        }
    }
    assert_eq!(seen.len(), expected.len(), "no duplicates");
    assert_eq!(seen.into_iter().collect::<HashSet<_>>(), expected, "no gaps");
    let id = expected.iter().next().unwrap();
    let detail: Value = c.get(&format!("/api/v1/ekatalog/paket-e-purchasing/{id}")).await.json().await.unwrap();
    let lines = detail["lines"].as_array().unwrap();
    assert!(!lines.is_empty());
    let sum: i64 = lines.iter().map(|l| l["line_total"].as_i64().unwrap()).sum();
    assert_eq!(detail["total"].as_i64().unwrap(), sum + detail["shipping_fee"].as_i64().unwrap());
    for bad in ["tahun=2026", "kode_klpd=D347", "kode_klpd=D347&tahun=2026&limit=1001", "kode_klpd=D347&tahun=2026&limit=0"] {
        assert_eq!(c.get(&format!("/api/v1/ekatalog/paket-e-purchasing?{bad}")).await.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn the_same_seed_tells_the_same_story() {
    let mut stories = Vec::new();
    for logins in [0, 5] {
        let server = server_with(scenario()).await;
        let c = Client::new(&server).await;
        for _ in 0..logins {
            // logging in more often must not change the story
            token(&c.http, &c.base, "rahasia-balongsari").await.unwrap();
        }
        with_orders(&c, 4).await;
        let truth = c.truth().await;
        stories.push(serde_json::to_string(&truth["orders"]).unwrap());
    }
    assert_eq!(stories[0], stories[1]);
    let mut other = scenario();
    other.seed += 1;
    let server = server_with(other).await;
    let c = Client::new(&server).await;
    with_orders(&c, 4).await;
    assert_ne!(serde_json::to_string(&c.truth().await["orders"]).unwrap(), stories[0]);
}

#[tokio::test]
async fn orders_are_confirmed_or_cancelled_after_three_working_days() {
    let server = server_with(scenario()).await;
    let c = Client::new(&server).await;
    with_orders(&c, 1).await;
    let waiting = waiting_orders(&c).await;
    assert!(waiting.len() >= 2, "{waiting:?}");
    let path = |id: &str| format!("/api/v1/ekatalog/paket-e-purchasing/{id}/response");
    let r: Value = c.post(&path(&waiting[0]), "accept-0", &json!({"decision": "accept"})).await.json().await.unwrap();
    assert_eq!(r["status"], "ON_PROCESS");
    let again = c.post(&path(&waiting[0]), "accept-0-again", &json!({"decision": "reject"})).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(again.json::<Value>().await.unwrap()["error"]["code"], "invalid_state");
    // five calendar days always hold three working days
    c.advance(24 * 5).await;
    let truth = c.truth().await;
    let status = |id: &str| truth["orders"].as_array().unwrap().iter().find(|o| o["order_id"] == id).unwrap()["status"].as_str().unwrap().to_owned();
    assert_eq!(status(&waiting[0]), "ON_PROCESS");
    assert_eq!(status(&waiting[1]), "CANCELLED");
    let late = c.post(&path(&waiting[1]), "late", &json!({"decision": "accept"})).await;
    assert_eq!(late.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn over_the_rate_limit_is_a_429_with_retry_after() {
    let mut s = scenario();
    s.rate_limit_per_minute = 5;
    let server = server_with(s).await;
    let c = Client::new(&server).await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let r = c.get("/api/v1/listings").await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(r.headers().get("retry-after").is_some());
            assert_eq!(r.headers()["x-ratelimit-remaining"], "0");
        }
        assert_eq!(r.headers()["x-ratelimit-limit"], "5");
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, vec![200, 200, 200, 200, 200, 429, 429]);
}

#[tokio::test]
async fn fault_injection_modes() {
    let server = server_with(scenario()).await;
    let c = Client::new(&server).await;
    // a burst of 503s on one route, then normal service
    c.admin("/admin/faults", json!({"route": "/api/v1/listings", "kind": "status", "status": 503, "count": 2})).await;
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(c.get("/api/v1/listings").await.status().as_u16());
    }
    assert_eq!(codes, vec![503, 503, 200]);
    // forced 429s with Retry-After
    c.admin("/admin/faults", json!({"kind": "rate_limit", "count": 1})).await;
    let r = c.get("/api/v1/listings").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "1");
    // truncated JSON
    c.admin("/admin/faults", json!({"kind": "malformed", "count": 1})).await;
    let text = c.get("/api/v1/listings").await.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    // the connection dropped mid-body
    c.admin("/admin/faults", json!({"kind": "drop", "count": 1})).await;
    let dropped = c.http.get(format!("{}/api/v1/listings", c.base)).bearer_auth(c.bearer()).send().await;
    let body_failed = match dropped {
        Err(_) => true,
        Ok(r) => r.text().await.is_err(),
    };
    assert!(body_failed, "the connection must break before the body is complete");
    // added latency
    c.admin("/admin/faults", json!({"kind": "latency", "ms": 300, "count": 1})).await;
    let started = std::time::Instant::now();
    assert_eq!(c.get("/api/v1/listings").await.status(), StatusCode::OK);
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    // all used up: back to normal; bad fault specs are refused
    assert_eq!(c.get("/api/v1/listings").await.status(), StatusCode::OK);
    let r = c.http.post(format!("{}/admin/faults", c.base)).json(&json!({"kind": "status", "status": 200})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    c.admin("/admin/faults", json!({"kind": "status", "status": 500})).await;
    c.http.delete(format!("{}/admin/faults", c.base)).send().await.unwrap();
    assert_eq!(c.get("/api/v1/listings").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn pages_can_repeat_and_reorder_items_and_faults_can_come_from_the_scenario() {
    let mut s = scenario();
    s.faults = vec![
        serde_json::from_value(json!({"route": "/api/v1/listings", "kind": "duplicate"})).unwrap(),
        serde_json::from_value(json!({"route": "/api/v1/listings", "kind": "reorder"})).unwrap(),
    ];
    let server = server_with(s).await;
    let c = Client::new(&server).await;
    for i in 0..10 {
        c.post("/api/v1/listings", &format!("d{i}"), &listing(&format!("D{i}"))).await;
    }
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page: Value = c.get(&format!("/api/v1/listings?limit=4&cursor={cursor}")).await.json().await.unwrap();
        seen.extend(page["data"].as_array().unwrap().iter().map(|l| l["change"].as_u64().unwrap()));
        cursor = page["meta"]["cursor"].as_str().unwrap().to_owned();
        if !page["meta"]["has_more"].as_bool().unwrap() {
            break;
        }
    }
    let unique: HashSet<u64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), 10, "every item still arrives: {seen:?}");
    assert!(seen.len() > 10, "some items arrive twice: {seen:?}");
    assert!(seen.windows(2).any(|w| w[0] > w[1]), "items come out of order: {seen:?}");

    let mut bad = scenario();
    bad.faults = vec![serde_json::from_value(json!({"kind": "status", "status": 200})).unwrap()];
    assert!(MockServer::start(bad, "127.0.0.1:0").await.is_err(), "a bad scenario fault is refused at start");
}

/// Every order, as a UBL Order, passes the UBL 2.1 XSD and the PEPPOL T01 rules.
#[tokio::test]
async fn orders_as_ubl_pass_xsd_and_the_peppol_order_rules() {
    let server = server_with(scenario()).await;
    let c = Client::new(&server).await;
    with_orders(&c, 5).await;
    let truth = c.truth().await;
    let dir = common::temp_dir();
    let orders = truth["orders"].as_array().unwrap();
    assert!(!orders.is_empty());
    for o in orders {
        let id = o["order_id"].as_str().unwrap();
        let r = c
            .http
            .get(format!("{}/api/v1/ekatalog/paket-e-purchasing/{id}", c.base))
            .bearer_auth(c.bearer())
            .header("accept", "application/xml")
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["content-type"], "application/xml");
        let xml = r.text().await.unwrap();
        assert!(xml.contains(&format!("<cbc:ID>{id}</cbc:ID>")));
        assert!(xml.contains(&format!("<cbc:PayableAmount currencyID=\"IDR\">{}</cbc:PayableAmount>", o["total"])), "{xml}");
        std::fs::write(dir.path().join(format!("{id}.xml")), xml).unwrap();
    }
    common::assert_ubl_valid(dir.path(), "maindoc/UBL-Order-2.1.xsd", "PEPPOLBIS-T01.xslt");
}

#[tokio::test]
async fn orders_can_be_answered_with_a_ubl_order_response() {
    let server = server_with(scenario()).await;
    let c = Client::new(&server).await;
    with_orders(&c, 1).await;
    let waiting = waiting_orders(&c).await;
    let response = |id: &str, code: &str| {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<OrderResponse xmlns="urn:oasis:names:specification:ubl:schema:xsd:OrderResponse-2"
  xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:fdc:peppol.eu:poacc:trns:order_response:3</cbc:CustomizationID>
  <cbc:ProfileID>urn:fdc:peppol.eu:poacc:bis:ordering:3</cbc:ProfileID>
  <cbc:ID>R-{id}</cbc:ID><cbc:IssueDate>2026-11-30</cbc:IssueDate>
  <cbc:OrderResponseCode>{code}</cbc:OrderResponseCode>
  <cac:OrderReference><cbc:ID>{id}</cbc:ID></cac:OrderReference>
</OrderResponse>"#
        )
    };
    let send = |id: String, key: &'static str, xml: String| {
        let c = &c;
        async move {
            c.http
                .post(format!("{}/api/v1/ekatalog/paket-e-purchasing/{id}/response", c.base))
                .bearer_auth(c.bearer())
                .header("Idempotency-Key", key)
                .header("content-type", "application/xml")
                .body(xml)
                .send()
                .await
                .unwrap()
        }
    };
    let r = send(waiting[0].clone(), "ubl-1", response(&waiting[0], "AP")).await;
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "ON_PROCESS");
    let r = send(waiting[1].clone(), "ubl-2", response(&waiting[1], "RE")).await;
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "CANCELLED");
    let r = send(waiting[1].clone(), "ubl-3", response(&waiting[0], "AP")).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "a document for another order");
    let r = send(waiting[1].clone(), "ubl-4", "<OrderResponse><broken".into()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

/// Our own PEPPOL catalogue (as the mapping writes it) uploaded:
/// acknowledged, then processed at the next clock step into listings; a
/// repeat of Add lines is refused; Update and Delete lines apply. Every
/// Catalogue Response passes the XSD and the PEPPOL T58 rules.
#[tokio::test]
async fn ubl_catalogue_upload_with_catalogue_responses() {
    let server = server_with(scenario()).await;
    let c = Client::new(&server).await;
    let doc = common::mapped_peppol_document("MJK-WATES").await;
    let lines = doc.matches("<cac:CatalogueLine>").count();
    let upload = |key: &'static str, xml: String| {
        let c = &c;
        async move {
            let r = c
                .http
                .post(format!("{}/api/v1/catalogue", c.base))
                .bearer_auth(c.bearer())
                .header("Idempotency-Key", key)
                .header("content-type", "application/xml")
                .body(xml)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::ACCEPTED);
            r.json::<Value>().await.unwrap()["upload_id"].as_str().unwrap().to_owned()
        }
    };
    let responses = common::temp_dir();
    let fetch = |id: String, name: &'static str| {
        let c = &c;
        let dir = responses.path().to_owned();
        async move {
            let xml = c
                .http
                .get(format!("{}/api/v1/catalogue/{id}", c.base))
                .bearer_auth(c.bearer())
                .header("accept", "application/xml")
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            std::fs::write(dir.join(format!("{name}.xml")), &xml).unwrap();
            let json: Value = c.get(&format!("/api/v1/catalogue/{id}")).await.json().await.unwrap();
            (xml, json)
        }
    };
    let first = upload("u1", doc.clone()).await;
    let (xml, json) = fetch(first.clone(), "received").await;
    assert!(xml.contains("<cbc:ResponseCode>AB</cbc:ResponseCode>"), "{xml}");
    assert_eq!(json["state"], "received");
    c.advance(1).await;
    let (xml, json) = fetch(first, "accepted").await;
    assert!(xml.contains("<cbc:ResponseCode>AP</cbc:ResponseCode>"), "{xml}");
    assert!(json["lines"].as_array().unwrap().iter().all(|l| l["accepted"] == true && l["listing_id"].is_string()));
    assert_eq!(c.truth().await["listings"].as_array().unwrap().len(), lines);

    // the same Add lines again are refused, each with its reason
    let again = upload("u2", doc.replace("MJK-WATES-20261127", "MJK-WATES-20261128")).await;
    c.advance(1).await;
    let (xml, json) = fetch(again, "refused").await;
    assert!(xml.contains("<cbc:ResponseCode>RE</cbc:ResponseCode>") && xml.contains("is already listed"), "{xml}");
    assert!(json["lines"].as_array().unwrap().iter().all(|l| l["accepted"] == false));

    // the first line updated, the second deleted
    // (a line's action is followed by its OrderableIndicator; the header's is not)
    let line_add = "<cbc:ActionCode>Add</cbc:ActionCode><cbc:OrderableIndicator>true";
    assert!(doc.matches(line_add).count() >= 2, "{doc}");
    let mut changed = doc.replacen(line_add, "<cbc:ActionCode>Update</cbc:ActionCode><cbc:OrderableIndicator>true", 1);
    changed = changed.replacen(line_add, "<cbc:ActionCode>Delete</cbc:ActionCode><cbc:OrderableIndicator>false", 1);
    let third = upload("u3", changed).await;
    c.advance(1).await;
    let (_, json) = fetch(third, "changed").await;
    let results: Vec<(String, Value)> =
        json["lines"].as_array().unwrap().iter().map(|l| (l["action"].as_str().unwrap().to_owned(), l["accepted"].clone())).collect();
    assert_eq!(results[0], ("Update".to_owned(), json!(true)));
    assert_eq!(results[1], ("Delete".to_owned(), json!(true)));
    let truth = c.truth().await;
    let states: Vec<&str> = truth["listings"].as_array().unwrap().iter().map(|l| l["state"].as_str().unwrap()).collect();
    assert_eq!(states.iter().filter(|s| **s == "withdrawn").count(), 1);

    // a document that is not a catalogue is a 400
    let r = c
        .http
        .post(format!("{}/api/v1/catalogue", c.base))
        .bearer_auth(c.bearer())
        .header("Idempotency-Key", "u4")
        .header("content-type", "application/xml")
        .body("<Invoice/>")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    common::assert_ubl_valid(responses.path(), "maindoc/UBL-ApplicationResponse-2.1.xsd", "PEPPOLBIS-T58.xslt");
}

/// Bad requests of every kind get a 4xx, never a 5xx, and the server keeps serving.
#[tokio::test]
async fn bad_requests_get_4xx_and_never_break_the_server() {
    let server = server_with(scenario()).await;
    let c = Client::new(&server).await;
    c.post("/api/v1/listings", "seed", &listing("SEED")).await;
    let base = c.base.clone();
    let bearer = c.bearer();
    let huge = "x".repeat(2 * 1024 * 1024);
    let json_ct = "application/json";
    let xml_ct = "application/xml";
    let cases: Vec<(&str, String, Option<&str>, String)> = vec![
        ("POST", "/api/v1/listings".into(), Some(json_ct), "[]".into()),
        ("POST", "/api/v1/listings".into(), Some(json_ct), "null".into()),
        ("POST", "/api/v1/listings".into(), Some(json_ct), "{\"nama_produk\": 12, \"harga\": \"murah\", \"foto\": \"x\"}".into()),
        ("POST", "/api/v1/listings".into(), Some(json_ct), "\u{0}\u{1}binary".into()),
        ("POST", "/api/v1/listings".into(), Some(json_ct), format!("{{\"sku\": \"{huge}\"}}")),
        ("PUT", "/api/v1/listings/L000001".into(), Some(json_ct), "{".into()),
        ("PUT", "/api/v1/listings/%00%ff".into(), Some(json_ct), "{}".into()),
        ("POST", "/api/v1/listings/L999/withdraw".into(), Some(json_ct), "{}".into()),
        ("GET", "/api/v1/listings?limit=-1".into(), None, String::new()),
        ("GET", "/api/v1/listings?limit=99999999999999999999".into(), None, String::new()),
        ("GET", "/api/v1/listings?cursor=%F0%9F%98%80".into(), None, String::new()),
        // cursors past the end of u64
        ("GET", "/api/v1/listings?cursor=18446744073709551616".into(), None, String::new()),
        ("GET", "/api/v1/ekatalog/paket-e-purchasing?kode_klpd=D347&tahun=2026&cursor=18446744073709551616".into(), None, String::new()),
        ("GET", "/api/v1/ekatalog/paket-e-purchasing?kode_klpd=&tahun=dua".into(), None, String::new()),
        ("GET", "/api/v1/ekatalog/paket-e-purchasing/EP-0".into(), None, String::new()),
        ("POST", "/api/v1/ekatalog/paket-e-purchasing/EP-0/response".into(), Some(json_ct), "{\"decision\": 1}".into()),
        ("POST", "/api/v1/ekatalog/paket-e-purchasing/EP-0/response".into(), Some(xml_ct), "<a>".into()),
        ("POST", "/api/v1/catalogue".into(), Some(xml_ct), "<Catalogue><cbc:ID>1</cbc:ID></Catalogue>".into()),
        ("POST", "/api/v1/catalogue".into(), Some(xml_ct), "not xml at all <<<".into()),
        ("GET", "/api/v1/catalogue/U999".into(), None, String::new()),
        ("POST", "/oauth/token".into(), Some("application/x-www-form-urlencoded"), "grant_type=password".into()),
        ("POST", "/oauth/token".into(), Some(json_ct), "{}".into()),
        ("POST", "/admin/clock/advance".into(), Some(json_ct), "{\"hours\": -5}".into()),
        ("POST", "/admin/clock/advance".into(), Some(json_ct), "{\"hours\": 100000000}".into()),
        ("POST", "/admin/faults".into(), Some(json_ct), "{\"kind\": \"explode\"}".into()),
        ("DELETE", "/api/v1/listings".into(), None, String::new()),
        ("GET", "/../../etc/passwd".into(), None, String::new()),
    ];
    let mut more: Vec<(&str, String, Option<&str>, String)> = vec![
        // amounts beyond any sane price
        ("POST", "/api/v1/listings".into(), Some(json_ct), {
            let mut l = listing("MAHAL");
            l["harga"] = json!(i64::MAX - 1);
            l["harga_termasuk_pajak"] = json!(i64::MAX);
            l.to_string()
        }),
        // a field longer than the catalogue takes, and an oversized listing
        ("POST", "/api/v1/listings".into(), Some(json_ct), {
            let mut l = listing("PANJANG");
            l["deskripsi"] = json!("d".repeat(900_000));
            l.to_string()
        }),
        ("POST", "/api/v1/listings".into(), Some(json_ct), {
            let mut l = listing("BANYAK");
            for i in 0..60 {
                l[format!("extra_{i}")] = json!("x".repeat(1_000));
            }
            l.to_string()
        }),
        ("GET", "/api/v1/listings?limit=1&limit=2".into(), None, String::new()),
        ("PATCH", "/api/v1/listings/L000001".into(), Some(json_ct), "{}".into()),
    ];
    more.extend(cases);
    // The largest cursor there is (the mock once panicked on it, overflowing
    // `after + 1`) is well-formed: an empty page that keeps it.
    for path in ["/api/v1/listings?cursor=18446744073709551615", "/api/v1/ekatalog/paket-e-purchasing?kode_klpd=D347&tahun=2026&cursor=18446744073709551615"] {
        let r = c.http.get(format!("{base}{path}")).bearer_auth(&bearer).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let page: Value = r.json().await.unwrap();
        assert_eq!(page["data"], json!([]), "{path}");
        assert_eq!(page["meta"]["cursor"], json!("18446744073709551615"), "{path}");
        assert_eq!(page["meta"]["has_more"], json!(false), "{path}");
    }
    for (method, path, content_type, body) in more {
        let mut req = c
            .http
            .request(method.parse().unwrap(), format!("{base}{path}"))
            .bearer_auth(&bearer)
            .header("Idempotency-Key", format!("bad-{path}-{}", body.len()));
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let r = req.body(body).send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        assert!(status.is_client_error(), "{method} {path}: {status} {text}");
        // every error answer is the documented body, with a message saying what was wrong
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{method} {path}: not JSON: {text}"));
        assert!(v["error"]["code"].is_string() && v["error"]["message"].as_str().is_some_and(|m| m.len() > 5), "{method} {path}: {text}");
    }
    // A price far above any sane amount is refused with a message that says so.
    let mut dear = listing("MAHAL-2");
    dear["harga"] = json!(2_000_000_000_000_i64);
    dear["harga_termasuk_pajak"] = json!(2_000_000_000_000_i64);
    let r = c.post("/api/v1/listings", "dear", &dear).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("above the catalogue's limit"));
    // A key that is not ASCII is reported as such, not as missing.
    let r = c
        .http
        .post(format!("{base}/api/v1/listings"))
        .bearer_auth(&bearer)
        .header("Idempotency-Key", reqwest::header::HeaderValue::from_bytes("kunci-é".as_bytes()).unwrap())
        .json(&listing("ASCII"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("visible ASCII"));
    // 405 says which methods the route takes.
    let r = c.http.delete(format!("{base}/api/v1/listings")).bearer_auth(&bearer).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let allow = r.headers().get("allow").unwrap().to_str().unwrap().to_owned();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "method_not_allowed");
    assert!(v["error"]["message"].as_str().unwrap().contains("DELETE is not allowed on /api/v1/listings"), "{v}");
    assert_eq!(c.get("/api/v1/listings").await.status(), StatusCode::OK, "still serving");
    assert_eq!(c.truth().await["listings"].as_array().unwrap().len(), 1, "no bad request left anything behind");
}

/// Text in UBL documents round-trips exactly: escapes, character references and CDATA.
#[tokio::test]
async fn ubl_text_round_trips_exactly() {
    let server = server_with(scenario()).await;
    let c = Client::new(&server).await;
    let doc = common::mapped_peppol_document("MJK-WATES").await;
    let start = doc.find("<cac:Item><cbc:Description>").expect("an item description");
    let end = start + doc[start..].find("</cbc:Name>").unwrap() + "</cbc:Name>".len();
    let item = r#"<cac:Item><cbc:Description><![CDATA[Kopi & <Susu> "asli"]]> &#233;nak</cbc:Description><cbc:Name>Tahu &amp; Tempe &lt;Bu Sri&gt;</cbc:Name>"#;
    let edited = format!("{}{item}{}", &doc[..start], &doc[end..]);
    let r = c
        .http
        .post(format!("{}/api/v1/catalogue", c.base))
        .bearer_auth(c.bearer())
        .header("Idempotency-Key", "text")
        .header("content-type", "application/xml")
        .body(edited)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED, "{}", r.text().await.unwrap());
    c.advance(1).await;
    let truth = c.truth().await;
    let first = &truth["listings"][0]["listing"];
    assert_eq!(first["nama_produk"], "Tahu & Tempe <Bu Sri>");
    assert_eq!(first["deskripsi"], "Kopi & <Susu> \"asli\" énak");
}

/// The same Idempotency-Key on another resource or route is another request;
/// the same JSON with other formatting is the same request.
#[tokio::test]
async fn idempotency_keys_are_scoped_by_route_and_resource() {
    let server = server_with(scenario()).await;
    let c = Client::new(&server).await;
    let a: Value = c.post("/api/v1/listings", "k-a", &listing("A-1")).await.json().await.unwrap();
    let b: Value = c.post("/api/v1/listings", "k-b", &listing("B-1")).await.json().await.unwrap();
    let (a, b) = (a["listing_id"].as_str().unwrap().to_owned(), b["listing_id"].as_str().unwrap().to_owned());
    let put = |id: String, key: &'static str, body: String| {
        let c = &c;
        async move {
            c.http
                .put(format!("{}/api/v1/listings/{id}", c.base))
                .bearer_auth(c.bearer())
                .header("Idempotency-Key", key)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let body = listing("A-1").to_string();
    let r = put(a.clone(), "same", body.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["listing_id"], a.as_str());
    // the same key and body on another listing updates that one, not a replay of the first
    let r = put(b.clone(), "same", body.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["listing_id"], b.as_str());
    // the same key on withdraw is its own request
    let r = c.post(&format!("/api/v1/listings/{a}/withdraw"), "same", &json!({})).await;
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "withdrawn");
    // a trailing newline or other spacing is the same body: a replay, not a conflict
    let pretty = serde_json::to_string_pretty(&listing("A-1")).unwrap() + "\n";
    let r = put(b.clone(), "same", pretty).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let truth = c.truth().await;
    assert_eq!(truth["listings"].as_array().unwrap().len(), 2, "nothing created by a replay");
}

/// A deeply nested document is refused fast, and parsing never holds up other requests.
#[tokio::test]
async fn deeply_nested_xml_is_refused_without_freezing_the_server() {
    let server = server_with(scenario()).await;
    let c = Client::new(&server).await;
    let nested = "<a>".repeat(300_000);
    assert!(nested.len() < 1024 * 1024);
    let started = std::time::Instant::now();
    let send = c
        .http
        .post(format!("{}/api/v1/catalogue", c.base))
        .bearer_auth(c.bearer())
        .header("Idempotency-Key", "deep")
        .header("content-type", "application/xml")
        .body(nested)
        .send();
    let (r, other) = tokio::join!(send, c.get("/api/v1/listings"));
    let r = r.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("nest deeper than 64"));
    assert_eq!(other.status(), StatusCode::OK);
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "refused in {:?}", started.elapsed());
}

/// Many tokens for one client never revoke another client's live token.
#[tokio::test]
async fn tokens_of_one_client_never_revoke_another_clients() {
    let mut s = scenario();
    let mut other = s.clients[0].clone();
    other.client_id = "kkmp-lain".into();
    other.client_secret = "rahasia-lain".into();
    s.clients.push(other);
    let server = server_with(s).await;
    let http = reqwest::Client::new();
    let form = |id: &'static str, secret: &'static str| [("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)];
    let mine: Value = http.post(format!("{}/oauth/token", server.url())).form(&form("kkmp-lain", "rahasia-lain")).send().await.unwrap().json().await.unwrap();
    let mine = mine["access_token"].as_str().unwrap().to_owned();
    for _ in 0..300 {
        let r = http.post(format!("{}/oauth/token", server.url())).form(&form("kkmp-balongsari", "rahasia-balongsari")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = http.get(format!("{}/api/v1/listings", server.url())).bearer_auth(&mine).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "the other client's token still works");
}

/// Idle and slow connections are closed, so they cannot exhaust the server.
#[tokio::test]
async fn idle_connections_are_closed_and_cannot_starve_the_server() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let limits = bounded_serve::ServeLimits {
        max_connections: 4,
        per_address: 0,
        header_read: std::time::Duration::from_secs(1),
        request: std::time::Duration::from_secs(5),
    };
    let server = MockServer::start_with(scenario(), "127.0.0.1:0", limits).await.unwrap();
    // as many idle connections as the server serves at once, one sending half a header
    let mut idle = Vec::new();
    for i in 0..4 {
        let mut s = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        if i == 0 {
            s.write_all(b"GET /admin/clock HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        }
        idle.push(s);
    }
    // a real client still gets through once the idle ones are closed
    let r = tokio::time::timeout(std::time::Duration::from_secs(10), reqwest::get(format!("{}/admin/clock", server.url()))).await;
    assert_eq!(r.expect("served within the header deadline").unwrap().status(), StatusCode::OK);
    for mut s in idle {
        let mut buf = [0u8; 256];
        let n = tokio::time::timeout(std::time::Duration::from_secs(5), s.read(&mut buf)).await.expect("closed by the server").unwrap_or(0);
        let answer = String::from_utf8_lossy(&buf[..n]);
        assert_eq!(n, 0, "closed without an answer: {answer}");
    }
}

#[tokio::test]
async fn live_listings_can_be_taken_down_and_xml_answers_truncated() {
    let mut s = scenario();
    s.takedown_percent_per_day = 100;
    s.orders_per_day = 0;
    let server = server_with(s).await;
    let c = Client::new(&server).await;
    let created: Value = c.post("/api/v1/listings", "t1", &listing("TURUN")).await.json().await.unwrap();
    let id = created["listing_id"].as_str().unwrap().to_owned();
    c.advance(25).await;
    let state = |v: Value| v["state"].as_str().unwrap().to_owned();
    let now = state(c.get(&format!("/api/v1/listings/{id}")).await.json().await.unwrap());
    // live after review, then taken down at the next day's start
    assert_eq!(now, "live");
    c.advance(24).await;
    let v: Value = c.get(&format!("/api/v1/listings/{id}")).await.json().await.unwrap();
    assert_eq!(v["state"], "taken_down");
    assert_eq!(v["reasons"].as_array().unwrap().len(), 1);

    // the malformed fault cuts XML answers too
    let doc = common::mapped_peppol_document("MJK-WATES").await;
    let r = c
        .http
        .post(format!("{}/api/v1/catalogue", c.base))
        .bearer_auth(c.bearer())
        .header("Idempotency-Key", "x1")
        .header("content-type", "application/xml")
        .body(doc)
        .send()
        .await
        .unwrap();
    let upload = r.json::<Value>().await.unwrap()["upload_id"].as_str().unwrap().to_owned();
    c.admin("/admin/faults", json!({"kind": "malformed", "count": 1})).await;
    let xml = c
        .http
        .get(format!("{}/api/v1/catalogue/{upload}", c.base))
        .bearer_auth(c.bearer())
        .header("accept", "application/xml")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!xml.trim_end().ends_with("</ApplicationResponse>"), "{xml}");
    assert!(xml.starts_with("<?xml"));
}

/// The curators review a listing the same way whichever path it came by:
/// the same products, priced 20 % up, sent as API listings to one catalogue
/// and as one PEPPOL Catalogue to another, end in the same states with the
/// same reasons, price ceilings per kg included.
#[tokio::test]
async fn review_gives_the_same_result_through_the_api_and_through_peppol() {
    let up = |price: i64| price + price / 5;
    let with_tax = |price: i64, ppn: i64| if ppn == 0 { price } else { price + (price * 11 + 50) / 100 };
    // The API path: the mapped listings of Wates.
    let api = server_with(scenario()).await;
    let a = Client::new(&api).await;
    let mut sent = 0;
    for (i, l) in mapped_listings().await.iter().filter(|l| l["kode_anggota"].as_str().unwrap().starts_with("WAT-")).enumerate() {
        let mut l = l.clone();
        let price = up(l["harga"].as_i64().unwrap());
        l["harga"] = json!(price);
        l["harga_termasuk_pajak"] = json!(with_tax(price, l["ppn_persen"].as_i64().unwrap()));
        assert_eq!(a.post("/api/v1/listings", &format!("a{i}"), &l).await.status(), StatusCode::CREATED);
        sent += 1;
    }
    // The PEPPOL path: the same products in Wates' catalogue document, priced up the same way.
    let doc = common::mapped_peppol_document("MJK-WATES").await;
    let open = "<cbc:PriceAmount currencyID=\"IDR\">";
    let mut priced = String::new();
    let mut rest = doc.as_str();
    while let Some(at) = rest.find(open) {
        let start = at + open.len();
        let end = start + rest[start..].find('<').unwrap();
        priced.push_str(&rest[..start]);
        priced.push_str(&up(rest[start..end].parse().unwrap()).to_string());
        rest = &rest[end..];
    }
    priced.push_str(rest);
    let peppol = server_with(scenario()).await;
    let p = Client::new(&peppol).await;
    let r = p
        .http
        .post(format!("{}/api/v1/catalogue", p.base))
        .bearer_auth(p.bearer())
        .header("Idempotency-Key", "c1")
        .header("content-type", "application/xml")
        .body(priced)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    a.advance(30).await;
    p.advance(30).await;
    let outcome = |truth: Value| -> std::collections::BTreeMap<String, (String, Value)> {
        truth["listings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                let sku = l["sku"].as_str().unwrap();
                let item = if sku.contains('/') { sku.to_owned() } else { format!("{}/{sku}", l["kode_anggota"].as_str().unwrap()) };
                (item, (l["state"].as_str().unwrap().to_owned(), l["reasons"].clone()))
            })
            .collect()
    };
    let (by_api, mut by_peppol) = (outcome(a.truth().await), outcome(p.truth().await));
    assert_eq!(by_api.len(), sent);
    // The PEPPOL mapping sends products without a photo too (its no_photo is a warning): compare those both paths have.
    by_peppol.retain(|item, _| by_api.contains_key(item));
    assert_eq!(by_peppol.len(), sent, "every API item came by PEPPOL too");
    assert_eq!(by_api, by_peppol, "the same review on both paths");
    let over: Vec<&String> = by_api.iter().filter(|(_, (_, reasons))| reasons.to_string().contains("di atas HET")).map(|(item, _)| item).collect();
    assert!(!over.is_empty(), "20 % up puts some staples above their ceiling: {by_api:?}");
    assert!(by_api.values().any(|(state, _)| state == "live"), "{by_api:?}");
}
