//! The catalogue client against the mock catalogue over real HTTP: tokens
//! per seller, retries only for what can succeed later, idempotent writes
//! that a retry never doubles, and refusals reported with their field errors.

use crate::common;

use katalog_bridge::catalog::client::{Call, CatalogueClient, ClientError};
use katalog_bridge::config::{CatalogueSettings, SellerAccount};
use mock_catalog::{MockServer, Scenario};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;

const WATES: &str = "P3576-0006";

async fn mock() -> MockServer {
    let scenario = Scenario::load(&common::repo().join("fixtures/scenarios/mojokerto.toml")).unwrap();
    MockServer::start(scenario, "127.0.0.1:0").await.unwrap()
}

fn settings(server: &MockServer, sellers: &[(&str, &str, &str)]) -> CatalogueSettings {
    CatalogueSettings {
        base_url: server.url(),
        timeout_secs: 5,
        max_concurrency: 4,
        max_attempts: 4,
        sellers: sellers
            .iter()
            .map(|(k, id, secret)| SellerAccount {
                kode_penyedia: (*k).into(),
                client_id: (*id).into(),
                client_secret: Some((*secret).to_owned().into()),
                client_secret_file: None,
                channel: Default::default(),
            })
            .collect(),
        allow_http: false,
    }
}

fn client(server: &MockServer) -> CatalogueClient {
    let (client, problems) = CatalogueClient::new(&settings(server, &[(WATES, "kkmp-wates", "rahasia-wates")])).unwrap();
    assert!(problems.is_empty());
    client
}

async fn fault(server: &MockServer, fault: Value) {
    let r = reqwest::Client::new().post(format!("{}/admin/faults", server.url())).json(&fault).send().await.unwrap();
    assert!(r.status().is_success());
}

async fn truth(server: &MockServer) -> Value {
    reqwest::get(format!("{}/admin/state", server.url())).await.unwrap().json().await.unwrap()
}

fn listing(sku: &str) -> Value {
    let mut v: Value = serde_json::from_str(r#"{"sku":"MYK-1L","kode_anggota":"WAT-01","nama_produk":"Minyak Goreng Sawit 1 Liter","deskripsi":"Minyak goreng sawit kemasan botol 1 liter.","kategori_id":"4fcbd2fe-0a95-55c9-842d-db670e7891e3","kategori_level3":"Minyak Goreng","kbki":"21680","barang":"ya","satuan":"Botol","harga":17500,"ppn_persen":0,"ppnbm":false,"harga_termasuk_pajak":17500,"stok":120,"min_pembelian":10,"berat_kg":0.95,"pdn":"Lokal","foto":["https://foto.kkmp-mojokerto.id/wat/myk-1l.jpg"],"mata_uang":"IDR"}"#).unwrap();
    v["sku"] = json!(sku);
    v
}

fn create(sku: &str, key: &str) -> Call {
    Call::CreateListing { body: listing(sku), key: key.into() }
}

#[tokio::test]
async fn one_token_per_seller_serves_many_calls_and_is_renewed_once_when_refused() {
    let server = mock().await;
    let c = client(&server);
    for i in 0..5 {
        let a = c.send(WATES, &create(&format!("S-{i}"), &format!("k-{i}"))).await.unwrap();
        assert_eq!((a.status, a.attempts), (201, 1));
        assert_eq!(a.body["kode_penyedia"], WATES, "the listing is under the cooperative's own account");
    }
    assert_eq!(c.counters().requests.load(Ordering::Relaxed), 6, "one token request, five writes");
    fault(&server, json!({"kind": "expire_tokens"})).await;
    let a = c.send(WATES, &Call::ListingChanges { cursor: None, limit: 100 }).await.unwrap();
    assert_eq!(a.body["data"].as_array().unwrap().len(), 5);
    assert_eq!(c.counters().token_refreshes.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn transient_failures_are_retried_and_a_write_is_never_doubled() {
    let server = mock().await;
    let c = client(&server);
    // 5xx burst, a forced 429 (Retry-After 1 s), a connection cut mid-answer, a truncated body:
    // each on the create call, which the mock may already have applied before the answer broke.
    for (i, f) in [
        json!({"route": "/api/v1/listings", "kind": "status", "status": 503, "count": 2}),
        json!({"route": "/api/v1/listings", "kind": "rate_limit", "count": 1}),
        json!({"route": "/api/v1/listings", "kind": "drop", "count": 1}),
        json!({"route": "/api/v1/listings", "kind": "malformed", "count": 1}),
    ]
    .into_iter()
    .enumerate()
    {
        fault(&server, f.clone()).await;
        let a = c.send(WATES, &create(&format!("R-{i}"), &format!("retry-{i}"))).await.unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(a.attempts >= 2, "{f}: retried ({} attempts)", a.attempts);
        assert_eq!(a.status, 201);
    }
    let listings = truth(&server).await["listings"].as_array().unwrap().clone();
    let skus: Vec<&str> = listings.iter().map(|l| l["sku"].as_str().unwrap()).collect();
    assert_eq!(skus, ["R-0", "R-1", "R-2", "R-3"], "each created exactly once, however its answer failed");
    assert!(c.counters().retries.load(Ordering::Relaxed) >= 5);
    assert_eq!(c.counters().rate_limited.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn refusals_are_final_and_carry_the_field_errors() {
    let server = mock().await;
    let c = client(&server);
    let mut bad = listing("BAD-1");
    bad["nama_produk"] = json!("abc");
    let before = c.counters().requests.load(Ordering::Relaxed);
    let err = c.send(WATES, &Call::CreateListing { body: bad, key: "bad".into() }).await.unwrap_err();
    match &err {
        ClientError::Refused { status, code, fields, .. } => {
            assert_eq!((*status, code.as_str()), (422, "invalid_listing"));
            assert!(fields.iter().any(|f| f.field == "nama_produk"), "{fields:?}");
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("nama_produk: must be 5-250 characters"), "{err}");
    assert!(!err.is_transient());
    assert_eq!(c.counters().requests.load(Ordering::Relaxed) - before, 2, "a token and one attempt: a 422 is not retried");
    // a 5xx that never ends is given up after max_attempts, and says so
    fault(&server, json!({"route": "/api/v1/listings", "kind": "status", "status": 500})).await;
    let err = c.send(WATES, &create("X-1", "x-1")).await.unwrap_err();
    assert!(matches!(err, ClientError::GaveUp { attempts: 4, .. }), "{err}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn each_seller_uses_its_own_account_and_a_wrong_secret_is_reported_not_retried() {
    let server = mock().await;
    let (c, problems) = CatalogueClient::new(&settings(
        &server,
        &[(WATES, "kkmp-wates", "rahasia-wates"), ("P3576-0015", "kkmp-meri", "rahasia-meri"), ("P3576-0001", "kkmp-balongsari", "salah")],
    ))
    .unwrap();
    assert!(problems.is_empty());
    let a = c.send("P3576-0015", &create("M-1", "m-1")).await.unwrap();
    assert_eq!(a.body["kode_penyedia"], "P3576-0015");
    let a = c.send(WATES, &create("M-1", "m-1")).await.unwrap();
    assert_eq!(a.body["kode_penyedia"], WATES, "the same key under another seller is another listing");
    let err = c.send("P3576-0001", &create("B-1", "b-1")).await.unwrap_err();
    assert!(matches!(err, ClientError::Unauthorized { .. }), "{err}");
    assert!(!err.to_string().contains("salah"), "the secret is never shown: {err}");
    let err = c.send("P-NOBODY", &create("N-1", "n-1")).await.unwrap_err();
    assert!(err.to_string().contains("no catalogue account is configured for seller P-NOBODY"), "{err}");
    assert_eq!(truth(&server).await["listings"].as_array().unwrap().len(), 2);
}

#[test]
fn plain_http_goes_only_to_this_machine_unless_allowed() {
    // The error the client is refused with, if any.
    let refused = |url: &str, allow_http: bool| CatalogueClient::new(&CatalogueSettings { base_url: url.into(), allow_http, ..Default::default() }).err();
    for local in ["http://127.0.0.1:8787", "http://localhost:8787/", "http://[::1]:8787", "https://katalog.example"] {
        assert!(refused(local, false).is_none(), "{local}");
    }
    let err = refused("http://user:hunter2@katalog.example/", false).expect("refused");
    let message = err.to_string();
    assert!(matches!(err, ClientError::PlainHttp(_)), "{message}");
    assert!(message.contains("katalog.example") && message.contains("https://") && message.contains("allow_http"), "{message}");
    assert!(!message.contains("hunter2"), "the password is never shown: {message}");
    assert!(refused("http://katalog.example/", true).is_none(), "allowed when the configuration says so");
    assert!(matches!(refused("ftp://katalog.example/", true), Some(ClientError::BaseUrl(_))));
}
