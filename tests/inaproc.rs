//! The INAPROC data API against the mock over real HTTP: orders and their
//! lines read with a data integrator's token, under a quota of 60 requests a
//! minute shared through PostgreSQL, equal the mock's ground truth after
//! duplicated and reordered pages, 429s and 503s; the mock refuses (almost)
//! nothing over quota, also with a second client (another daemon) reading at
//! the same time.

mod common;

use std::collections::HashMap;

use katalog_bridge::catalog::Format;
use katalog_bridge::catalog::inaproc::{InaprocClient, PAKET};
use katalog_bridge::config::InaprocSettings;
use katalog_bridge::mapping::MappingSource;
use katalog_bridge::mapping::plan::Tables;
use katalog_bridge::mock::scenario::InaprocScenario;
use katalog_bridge::mock::{MockServer, Scenario};
use katalog_bridge::orders::SyncOptions;
use katalog_bridge::publish::{PublishOptions, publish};
use katalog_bridge::store::Store;
use rust_decimal::Decimal;
use serde_json::{Value, json};

const TOKEN: &str = "jwt-integrator-kota-mojokerto";

fn scenario() -> Scenario {
    let mut s = Scenario::load(&common::repo().join("fixtures/scenarios/mojokerto.toml")).unwrap();
    s.orders_per_day = 12;
    s.lines_per_order_mean = 3;
    s.buyer_cancel_percent_per_day = 10;
    s.ppk_review_percent = 30;
    s.rate_limit_per_minute = 1_000_000;
    s.inaproc = Some(InaprocScenario { token: TOKEN.into(), per_minute: 60, per_hour: 5000 });
    s
}

fn settings(server: &MockServer) -> InaprocSettings {
    InaprocSettings {
        base_url: server.url(),
        token: Some(TOKEN.to_owned().into()),
        per_minute: 60,
        per_hour: 5000,
        backoff_seconds: vec![1, 2, 2, 2],
        max_attempts: 8,
        timeout_secs: 10,
        ..Default::default()
    }
}

fn options() -> SyncOptions {
    SyncOptions { klpd: vec!["D347".into()], years: vec![2026, 2027], page: 4, detail_batch: 10, ..Default::default() }
}

async fn admin(server: &MockServer, path: &str, body: Value) {
    let r = reqwest::Client::new().post(format!("{}{path}", server.url())).json(&body).send().await.unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
}

async fn truth(server: &MockServer) -> Value {
    reqwest::get(format!("{}/admin/state", server.url())).await.unwrap().json().await.unwrap()
}

fn dec(v: &Value) -> Decimal {
    match v {
        Value::String(s) => s.parse().unwrap(),
        other => other.to_string().parse().unwrap(),
    }
}

/// Every order stored equals the catalogue's: status, shipment, total and
/// shipping, and one line per product with its value (quantity and unit
/// price unknown, as INAPROC does not give them).
async fn assert_matches_truth(store: &Store, truth: &[Value]) {
    let ours: Vec<(String, String, Option<String>, Decimal, Decimal, bool)> =
        sqlx::query_as("SELECT remote_order_id, status, shipment_status, total, shipping_fee, needs_detail FROM purchase_orders ORDER BY remote_order_id")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(ours.len(), truth.len(), "one stored order per order of the catalogue");
    type Line = (String, String, Option<Decimal>, Option<Decimal>, Decimal);
    let lines: Vec<Line> = sqlx::query_as(
        "SELECT o.remote_order_id, l.remote_line_id, l.quantity, l.unit_price, l.line_total FROM order_lines l JOIN purchase_orders o ON o.id = l.order_id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let mut by_order: HashMap<&str, Vec<(&str, Decimal)>> = HashMap::new();
    for (o, l, q, p, t) in &lines {
        assert_eq!((q, p), (&None, &None), "{o}: INAPROC gives no quantity or unit price");
        by_order.entry(o.as_str()).or_default().push((l.as_str(), *t));
    }
    let truth: HashMap<&str, &Value> = truth.iter().map(|t| (t["order_id"].as_str().unwrap(), t)).collect();
    for (id, status, shipment, total, shipping, needs_detail) in &ours {
        let t = truth.get(id.as_str()).unwrap_or_else(|| panic!("{id} is not the catalogue's"));
        assert_eq!(t["status"], status.as_str(), "{id}");
        assert_eq!(t["shipment_status"].as_str(), shipment.as_deref(), "{id}");
        assert_eq!((dec(&t["total"]), dec(&t["shipping_fee"])), (*total, *shipping), "{id}");
        assert!(!needs_detail, "{id}: its lines are stored");
        let mut want: Vec<(&str, Decimal)> = t["lines"].as_array().unwrap().iter().map(|l| (l["kd_produk"].as_str().unwrap(), dec(&l["line_total"]))).collect();
        let mut got = by_order.remove(id.as_str()).unwrap_or_default();
        want.sort();
        got.sort();
        assert_eq!(got, want, "{id}: lines");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_from_inaproc_equal_the_ground_truth_under_faults_and_within_the_quota() {
    let store = common::fixture_store().await;
    let scenario = scenario();
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let catalogue = common::mock_client(&server, &scenario);
    let tables = Tables::load(&MappingSource::BuiltIn).unwrap();
    let plan = Format::KatalogV6.plan(&MappingSource::BuiltIn, &tables).unwrap();
    publish(&store, &plan, &catalogue, &PublishOptions::default()).await.unwrap();
    admin(&server, "/admin/clock/advance", json!({"hours": 30})).await; // listings live
    admin(&server, "/admin/clock/advance", json!({"hours": 24 * 6})).await; // orders arrive, some wait for the PPK
    let calendar = katalog_bridge::mapping::working_calendar(&MappingSource::BuiltIn, false).unwrap();
    let client = InaprocClient::with_store(&settings(&server), &store).unwrap();

    let first = katalog_bridge::orders::inaproc::sync(&store, &client, &calendar, &options()).await.unwrap();
    assert!(first.complete(), "{}", first.summary());
    assert!(first.packages.new > 20, "{}", first.summary());
    let t = truth(&server).await;
    assert_matches_truth(&store, t["orders"].as_array().unwrap()).await;
    let statuses: Vec<String> = sqlx::query_scalar("SELECT DISTINCT status FROM purchase_orders ORDER BY 1").fetch_all(store.pool()).await.unwrap();
    assert!(statuses.contains(&"WAITING_PPK_REVIEW".to_owned()) || statuses.contains(&"CANCELLED_ON_REVIEW".to_owned()), "{statuses:?}");

    // Sellers confirm some orders (in the portal, here through the mock's seller API).
    let waiting: Vec<String> =
        sqlx::query_scalar("SELECT remote_order_id FROM purchase_orders WHERE status = 'WAITING_SELLER_CONFIRMATION' ORDER BY 1 LIMIT 3")
            .fetch_all(store.pool())
            .await
            .unwrap();
    for id in &waiting {
        katalog_bridge::orders::respond::respond(&store, &catalogue, id, true, None, false).await.unwrap();
    }
    // The story goes on under faults, while a second daemon reads through the same quota.
    admin(&server, "/admin/clock/advance", json!({"hours": 24 * 9})).await;
    for fault in [
        json!({"route": "/api/v1/ekatalog", "kind": "duplicate"}),
        json!({"route": "/api/v1/ekatalog", "kind": "reorder"}),
        json!({"route": "/api/v1/ekatalog", "kind": "rate_limit", "count": 3}),
        json!({"route": "/api/v1/ekatalog", "kind": "status", "status": 503, "count": 5}),
    ] {
        admin(&server, "/admin/faults", fault).await;
    }
    let other = InaprocClient::with_store(&settings(&server), &store).unwrap();
    let other_daemon = async {
        for _ in 0..30 {
            let q = [("kode_klpd", "D347".to_owned()), ("tahun", "2026".to_owned())];
            other.page(PAKET, &q, None, 5).await.unwrap();
        }
    };
    let mut runs = 0;
    let syncing = async {
        loop {
            runs += 1;
            let r = katalog_bridge::orders::inaproc::sync(&store, &client, &calendar, &options()).await.unwrap();
            if r.complete() {
                break;
            }
            assert!(runs < 6, "does not converge: {}", r.summary());
            sqlx::query("UPDATE purchase_orders SET next_detail_at = NULL").execute(store.pool()).await.unwrap();
        }
    };
    tokio::join!(syncing, other_daemon);
    reqwest::Client::new().delete(format!("{}/admin/faults", server.url())).send().await.unwrap();
    let t = truth(&server).await;
    assert_matches_truth(&store, t["orders"].as_array().unwrap()).await;
    let statuses: Vec<String> = sqlx::query_scalar("SELECT DISTINCT status FROM purchase_orders ORDER BY 1").fetch_all(store.pool()).await.unwrap();
    assert!(statuses.contains(&"COMPLETED".to_owned()), "{statuses:?}");
    // Each remote change once.
    let doubled: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT order_id, remote_change FROM order_events WHERE remote_change IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1) d",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(doubled, 0);

    let meter = &t["inaproc"];
    let requests = meter["requests"].as_u64().unwrap();
    let refused = meter["refused_over_quota"].as_u64().unwrap();
    assert!(requests > 60, "the quota was put to the test: {meter}");
    assert!(refused * 100 <= requests, "at most 1 % refused over quota: {meter}");
    assert!(meter["peak_per_minute"].as_u64().unwrap() <= 60, "{meter}");
    assert_eq!(meter["refused_injected"], 3, "the injected 429s were met and waited out: {meter}");
}

#[tokio::test]
async fn the_wrong_token_is_refused_with_what_to_check_and_never_echoed() {
    let store = common::fresh_store().await;
    let server = MockServer::start(scenario(), "127.0.0.1:0").await.unwrap();
    let mut s = settings(&server);
    s.token = Some("not-the-token-s3cr3t".to_owned().into());
    let client = InaprocClient::with_store(&s, &store).unwrap();
    let e = client.page(PAKET, &[("kode_klpd", "D347".to_owned()), ("tahun", "2026".to_owned())], None, 10).await.unwrap_err().to_string();
    assert!(e.contains("401") && e.contains("registered"), "{e}");
    assert!(!e.contains("s3cr3t"), "{e}");
    // Plain http to another machine is refused before anything is sent.
    s.base_url = "http://inaproc.example.org".into();
    assert!(InaprocClient::with_store(&s, &store).unwrap_err().to_string().contains("plain http"));
}
