//! Order sync against the mock catalogue over real HTTP: after duplicated and
//! reordered pages, 429s, 5xx, dropped connections, cut pages and expired
//! tokens, the orders and lines in PostgreSQL equal the mock's ground truth;
//! deadlines agree with the catalogue's; answers go out once through the
//! outbox; a sync killed at any point and run again loses and doubles nothing.

use crate::common;

use std::collections::HashMap;

use katalog_bridge::app::orders::{AnswerError, Answered, Answering, Decision, OrderRef};
use katalog_bridge::catalog::Format;
use katalog_bridge::catalog::client::CatalogueClient;
use katalog_bridge::config::CatalogueSettings;
use katalog_bridge::domain::calendar::WorkingCalendar;
use katalog_bridge::mapping::MappingSource;
use katalog_bridge::mapping::plan::Tables;
use katalog_bridge::orders::{SyncOptions, sync_orders};
use katalog_bridge::publish::{PublishOptions, publish};
use katalog_bridge::store::Store;
use mock_catalog::{MockServer, Scenario};
use rust_decimal::Decimal;
use serde_json::{Value, json};

fn scenario() -> Scenario {
    let mut s = Scenario::load(&common::repo().join("fixtures/scenarios/mojokerto.toml")).unwrap();
    s.orders_per_day = 15;
    s.lines_per_order_mean = 3;
    s.buyer_cancel_percent_per_day = 10;
    s.rate_limit_per_minute = 1_000_000;
    s
}

fn client(server: &MockServer, scenario: &Scenario) -> CatalogueClient {
    common::mock_client(server, scenario)
}

fn calendar() -> WorkingCalendar {
    katalog_bridge::mapping::working_calendar(&MappingSource::BuiltIn, false).unwrap()
}

fn options() -> SyncOptions {
    SyncOptions { klpd: vec!["D347".into()], years: vec![2026, 2027], page: 7, detail_batch: 25, ..Default::default() }
}

async fn admin(server: &MockServer, path: &str, body: Value) {
    let r = reqwest::Client::new().post(format!("{}{path}", server.url())).json(&body).send().await.unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
}

/// Every order of the ground truth, read page by page.
async fn truth_orders(server: &MockServer) -> Vec<Value> {
    let mut all = Vec::new();
    let mut offset = 0;
    loop {
        let page: Value = reqwest::get(format!("{}/admin/state?kind=orders&offset={offset}&limit=500", server.url())).await.unwrap().json().await.unwrap();
        all.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_offset"].as_u64() {
            Some(n) => offset = n,
            None => return all,
        }
    }
}

fn dec(v: &Value) -> Decimal {
    match v {
        Value::String(s) => s.parse().unwrap(),
        other => other.to_string().parse().unwrap(),
    }
}

/// The store's orders and lines equal the ground truth: ids, statuses, totals, line quantities and prices.
type Time = Option<chrono::DateTime<chrono::Utc>>;

async fn assert_matches_truth(store: &Store, truth: &[Value]) {
    let ours: Vec<(String, String, Decimal, Decimal, Time, Time)> =
        sqlx::query_as("SELECT remote_order_id, status, total, shipping_fee, deadline, confirm_by FROM purchase_orders ORDER BY remote_order_id")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(ours.len(), truth.len(), "one stored order per order of the catalogue");
    let lines: Vec<(String, String, Decimal, Decimal, Decimal)> = sqlx::query_as(
        "SELECT o.remote_order_id, l.remote_line_id, l.quantity, l.unit_price, l.line_total FROM order_lines l JOIN purchase_orders o ON o.id = l.order_id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let mut by_order: HashMap<&str, Vec<(&str, Decimal, Decimal, Decimal)>> = HashMap::new();
    for (o, l, q, p, t) in &lines {
        by_order.entry(o.as_str()).or_default().push((l.as_str(), *q, *p, *t));
    }
    let truth: HashMap<&str, &Value> = truth.iter().map(|t| (t["order_id"].as_str().unwrap(), t)).collect();
    for (id, status, total, shipping, deadline, confirm_by) in &ours {
        let t = truth.get(id.as_str()).unwrap_or_else(|| panic!("{id} is not the catalogue's"));
        assert_eq!(t["status"], status.as_str(), "{id}");
        assert_eq!((dec(&t["total"]), dec(&t["shipping_fee"])), (*total, *shipping), "{id}");
        assert_eq!(deadline, confirm_by, "{id}: our deadline is the catalogue's, from the same calendar");
        let mut want: Vec<(&str, Decimal, Decimal, Decimal)> = t["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (l["line_id"].as_str().unwrap(), dec(&l["quantity"]), dec(&l["unit_price"]), dec(&l["line_total"])))
            .collect();
        let mut got = by_order.remove(id.as_str()).unwrap_or_default();
        want.sort_by_key(|l| l.0);
        got.sort_by_key(|l| l.0);
        assert_eq!(got, want, "{id}: lines");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_land_once_and_equal_the_ground_truth_under_every_fault() {
    let store = common::fixture_store().await;
    let scenario = scenario();
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let client = client(&server, &scenario);
    let tables = Tables::load(&MappingSource::BuiltIn).unwrap();
    let plan = Format::KatalogV6.plan(&MappingSource::BuiltIn, &tables).unwrap();
    publish(&store, &plan, &client, &PublishOptions::default()).await.unwrap();
    admin(&server, "/admin/clock/advance", json!({"hours": 30})).await; // listings live
    admin(&server, "/admin/clock/advance", json!({"hours": 24 * 6})).await; // orders arrive, some expire or are cancelled
    let calendar = calendar();

    let first = sync_orders(&store, &client, &calendar, &options()).await.unwrap();
    assert!(first.complete(), "{}", first.summary());
    assert!(first.packages.new > 20, "{}", first.summary());
    assert_eq!(first.details.unrouted, 0, "every line names a listing of ours: {}", first.summary());
    assert_matches_truth(&store, &truth_orders(&server).await).await;
    let statuses: Vec<String> = sqlx::query_scalar("SELECT DISTINCT status FROM purchase_orders ORDER BY 1").fetch_all(store.pool()).await.unwrap();
    assert!(statuses.contains(&"WAITING_SELLER_CONFIRMATION".to_owned()) && statuses.contains(&"CANCELLED".to_owned()), "{statuses:?}");

    // Answers: one accepted as JSON, one rejected as a UBL OrderResponse.
    let waiting: Vec<String> =
        sqlx::query_scalar("SELECT remote_order_id FROM purchase_orders WHERE status = 'WAITING_SELLER_CONFIRMATION' ORDER BY 1 LIMIT 2")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let [json, ubl] = [false, true].map(|ubl| Answering { store: &store, client: Some(&client), in_portal: false, ubl, sender: "test" });
    let operator = katalog_bridge::app::Actor::operator();
    let accept = Decision::Accept;
    let accepted = katalog_bridge::app::orders::answer(&json, &operator, OrderRef::Remote(&waiting[0]), &accept).await.unwrap();
    let more: Vec<String> =
        sqlx::query_scalar("SELECT remote_order_id FROM purchase_orders WHERE status = 'WAITING_SELLER_CONFIRMATION' ORDER BY 1 OFFSET 2 LIMIT 3")
            .fetch_all(store.pool())
            .await
            .unwrap();
    for id in &more {
        let a = katalog_bridge::app::orders::answer(&json, &operator, OrderRef::Remote(id), &accept).await.unwrap();
        assert!(matches!(a.answered, Answered::Sent { .. }), "{a:?}");
    }
    assert_eq!(accepted.answered, Answered::Sent { status: Some("ON_PROCESS".into()) });
    let reject = Decision::Reject("Stok beras habis".into());
    let rejected = katalog_bridge::app::orders::answer(&ubl, &operator, OrderRef::Remote(&waiting[1]), &reject).await.unwrap();
    assert_eq!(rejected.answered, Answered::Sent { status: Some("CANCELLED".into()) });
    let again = katalog_bridge::app::orders::answer(&json, &operator, OrderRef::Remote(&waiting[0]), &accept).await.unwrap();
    assert_eq!(again.answered, Answered::AlreadySent, "answered once");
    let different = katalog_bridge::app::orders::answer(&json, &operator, OrderRef::Remote(&waiting[0]), &Decision::Reject("x".into())).await;
    assert!(matches!(different, Err(AnswerError::AlreadyAnswered { .. })), "a different answer is refused: {different:?}");

    // The story goes on under every fault the mock injects; the sync converges on the truth.
    admin(&server, "/admin/clock/advance", json!({"hours": 24 * 9})).await;
    for fault in [
        json!({"route": "/api/v1/ekatalog", "kind": "duplicate"}),
        json!({"route": "/api/v1/ekatalog", "kind": "reorder"}),
        json!({"route": "/api/v1/ekatalog", "kind": "rate_limit", "count": 5}),
        json!({"route": "/api/v1/ekatalog", "kind": "status", "status": 503, "count": 5}),
        json!({"route": "/api/v1/ekatalog", "kind": "drop", "count": 3}),
        json!({"route": "/api/v1/ekatalog", "kind": "malformed", "count": 3}),
        json!({"route": "*", "kind": "expire_tokens"}),
    ] {
        admin(&server, "/admin/faults", fault).await;
    }
    let mut runs = 0;
    loop {
        runs += 1;
        let r = sync_orders(&store, &client, &calendar, &options()).await.unwrap();
        if r.complete() {
            break;
        }
        assert!(runs < 10, "does not converge: {}", r.summary());
        sqlx::query("UPDATE purchase_orders SET next_detail_at = NULL").execute(store.pool()).await.unwrap();
    }
    reqwest::Client::new().delete(format!("{}/admin/faults", server.url())).send().await.unwrap();
    let truth = truth_orders(&server).await;
    assert_matches_truth(&store, &truth).await;
    let done: i64 = sqlx::query_scalar("SELECT count(*) FROM purchase_orders WHERE status = 'COMPLETED'").fetch_one(store.pool()).await.unwrap();
    assert!(done > 0, "orders in process complete in the mock's story");
    let by_buyer = truth.iter().filter(|t| t["cancelled_by"] == "buyer").count();
    assert!(by_buyer > 0, "buyers cancel some orders");
    // Each remote change once.
    let doubled: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT order_id, remote_change FROM order_events WHERE remote_change IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1) d",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(doubled, 0);
    let on_process: String =
        sqlx::query_scalar("SELECT status FROM purchase_orders WHERE remote_order_id = $1").bind(&waiting[0]).fetch_one(store.pool()).await.unwrap();
    // Accepted, then completed by the mock after its working days, well within the nine days.
    assert_eq!(on_process, "COMPLETED");
}

/// What a killed sync left must be true as far as it goes: every order stored
/// is the catalogue's, once; an order whose detail is stored has exactly the
/// catalogue's lines; no remote change is recorded twice.
async fn assert_part_of_truth(store: &Store, truth: &HashMap<String, Value>, when: &str) {
    let orders: Vec<(String, bool, i64, i64)> = sqlx::query_as(
        "SELECT o.remote_order_id, o.needs_detail, count(l.id), count(DISTINCT l.remote_line_id) \
         FROM purchase_orders o LEFT JOIN order_lines l ON l.order_id = o.id GROUP BY o.id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    for (id, needs_detail, lines, distinct) in &orders {
        let t = truth.get(id).unwrap_or_else(|| panic!("{when}: {id} is not the catalogue's"));
        assert_eq!(lines, distinct, "{when}: {id} has a line twice");
        if !needs_detail {
            assert_eq!(*lines as usize, t["lines"].as_array().unwrap().len(), "{when}: {id}'s lines");
        }
    }
    let doubled: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT order_id, remote_change FROM order_events WHERE remote_change IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1) d",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(doubled, 0, "{when}: a remote change recorded twice");
}

/// Killed (SIGKILL) ten times at points chosen by its progress (orders of the
/// feed stored, then details stored), each time while still running, a sync
/// leaves only what is true; run once more, it ends with the catalogue's
/// ground truth: nothing lost, nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_killed_at_any_point_and_run_again_loses_and_doubles_nothing() {
    const ORDERS: i64 = 3_000;
    let (store, url) = common::fresh_db().await;
    common::load_cooperatives(&store).await;
    let mut scenario = scenario();
    scenario.initial_orders = ORDERS as u32;
    scenario.lines_per_order_mean = 6;
    scenario.fiscal_year = Some(2026);
    scenario.orders_per_day = 0;
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let truth: HashMap<String, Value> = truth_orders(&server).await.into_iter().map(|t| (t["order_id"].as_str().unwrap().to_owned(), t)).collect();
    assert_eq!(truth.len() as i64, ORDERS);
    let tmp = common::temp_dir();
    // Small pages and batches: many points to be killed at.
    let top = "[orders]\nklpd = [\"D347\"]\ntahun = [2026]\npage_size = 100\ndetail_batch = 100\n";
    let config_path = common::mock_config(tmp.path(), top, &server, &scenario);
    let sync = || common::sync_orders_process(&url, &config_path);
    // Progress: orders stored from the feed, plus orders whose detail is stored (0 to 2 × ORDERS).
    let progress = || async {
        let p: i64 =
            sqlx::query_scalar("SELECT count(*) + count(*) FILTER (WHERE NOT needs_detail) FROM purchase_orders").fetch_one(store.pool()).await.unwrap();
        p
    };
    let mut killed_at = Vec::new();
    for step in 1..=10 {
        let target = 2 * ORDERS * step / 11;
        let mut child = sync();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                let out = child.wait_with_output().unwrap();
                panic!("kill {step}: the sync ended ({status}) before reaching {target}: {}", String::from_utf8_lossy(&out.stderr));
            }
            if progress().await >= target {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        child.kill().unwrap(); // SIGKILL, while running
        child.wait().unwrap();
        let reached = progress().await;
        killed_at.push(reached);
        assert_part_of_truth(&store, &truth, &format!("after kill {step} at {reached} of {}", 2 * ORDERS)).await;
    }
    assert!(killed_at.windows(2).all(|w| w[0] <= w[1]) && killed_at[9] < 2 * ORDERS, "killed mid-run each time: {killed_at:?}");
    let out = sync().wait_with_output().unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let truth: Vec<Value> = truth.into_values().collect();
    assert_matches_truth(&store, &truth).await;
    let lines: i64 = sqlx::query_scalar("SELECT count(*) FROM order_lines").fetch_one(store.pool()).await.unwrap();
    let want: usize = truth.iter().map(|t| t["lines"].as_array().unwrap().len()).sum();
    assert_eq!(lines as usize, want);
    eprintln!("killed at progress {killed_at:?} of {}", 2 * ORDERS);
}

#[tokio::test]
async fn amounts_that_do_not_add_up_and_unknown_lines_are_kept_and_flagged_and_older_copies_lose() {
    use katalog_bridge::domain::order::{OrderStatus, RemoteLine, RemoteOrder};
    use katalog_bridge::store::orders;
    let (store, _) = common::fresh_db().await;
    common::load_cooperatives(&store).await;
    let ours = orders::our_sellers(&store).await.unwrap();
    let seller = ours.keys().min().unwrap().clone();
    let at = |h: i64| "2026-12-01T02:00:00Z".parse::<chrono::DateTime<chrono::Utc>>().unwrap() + chrono::Duration::hours(h);
    let line = |id: &str, total: i64| RemoteLine {
        line_id: id.into(),
        listing_id: Some(format!("L-NOT-OURS-{id}")),
        sku: None,
        name: "Beras".into(),
        quantity: Some(Decimal::from(1)),
        unit: Some("Karung".into()),
        unit_price: Some(Decimal::from(total)),
        line_total: Decimal::from(total),
        raw: json!({}),
    };
    let order = RemoteOrder {
        order_id: "EP-2026-009999".into(),
        rup_code: None,
        rup_name: None,
        fiscal_year: 2026,
        funding_source: None,
        kode_klpd: "D347".into(),
        kode_satker: None,
        nama_satker: Some("Dinas Sosial".into()),
        kode_penyedia: seller.clone(),
        status: OrderStatus::WaitingSellerConfirmation,
        shipment_status: None,
        shipping_fee: Decimal::from(25_000),
        total: Decimal::from(1_000_000),
        order_date: Some(at(0)),
        confirm_by: None,
        updated_at: at(1),
        raw: json!({"order_id": "EP-2026-009999"}),
        lines: Some(vec![line("1", 500_000), line("2", 400_000)]),
        repaired: Vec::new(),
    };
    let calendar = calendar();
    let package = RemoteOrder { lines: None, ..order.clone() };
    let counts = orders::apply_order_page(
        &store,
        katalog_bridge::domain::order::OrderSource::Ekatalog,
        std::slice::from_ref(&package),
        &ours,
        &calendar,
        Some(("test", "1")),
    )
    .await
    .unwrap();
    assert_eq!((counts.new, counts.events), (1, 1));
    let (claimed, last) = orders::claim_details(&store, "me", katalog_bridge::domain::order::OrderSource::Ekatalog, 0, 10, 60.0).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(last, Some(claimed[0].id));
    // Another claimer finds it held: nothing for it, but it is told how far it looked.
    let (theirs, their_last) = orders::claim_details(&store, "other", katalog_bridge::domain::order::OrderSource::Ekatalog, 0, 10, 60.0).await.unwrap();
    assert!(theirs.is_empty());
    assert_eq!(their_last, last);
    // Its detail written by someone who does not hold the claim: refused.
    let refused = orders::write_details(&store, "other", &[(claimed[0].id, &order)], &calendar).await.unwrap();
    assert_eq!(refused.orders, 0, "only the claim's holder writes");
    let d = orders::write_details(&store, "me", &[(claimed[0].id, &order)], &calendar).await.unwrap();
    assert_eq!((d.orders, d.lines, d.mismatched, d.unrouted), (1, 2, 1, 2));
    // Claimed by another from a list read before that write (its claim taken
    // once the first let go): the detail is stored, so it is not written
    // again, and that claim is let go.
    sqlx::query("INSERT INTO order_detail_claims (order_id, claimed_by, claimed_until) VALUES ($1, 'late', now() + interval '1 minute')")
        .bind(claimed[0].id)
        .execute(store.pool())
        .await
        .unwrap();
    let late = orders::write_details(&store, "late", &[(claimed[0].id, &order)], &calendar).await.unwrap();
    assert_eq!((late.orders, late.lines), (0, 0), "a detail already stored is not written twice");
    let claims: i64 = sqlx::query_scalar("SELECT count(*) FROM order_detail_claims").fetch_one(store.pool()).await.unwrap();
    assert_eq!(claims, 0, "the late claim is let go");
    let (total, mismatch, unrouted, lines_total): (Decimal, bool, i32, Decimal) =
        sqlx::query_as("SELECT total, amount_mismatch, unrouted_lines, lines_total FROM purchase_orders").fetch_one(store.pool()).await.unwrap();
    assert_eq!((total, mismatch, unrouted, lines_total), (Decimal::from(1_000_000), true, 2, Decimal::from(900_000)), "kept as sent, flagged, never fixed");

    // An older copy with another status changes nothing; a newer one moves the status, with one event.
    let older = RemoteOrder { status: OrderStatus::Cancelled, updated_at: at(0), ..package.clone() };
    let c =
        orders::apply_order_page(&store, katalog_bridge::domain::order::OrderSource::Ekatalog, &[older], &ours, &calendar, Some(("test", "2"))).await.unwrap();
    assert_eq!((c.updated, c.unchanged, c.events), (0, 1, 0));
    let newer = RemoteOrder { status: OrderStatus::OnProcess, updated_at: at(5), ..package };
    // The same package twice in one page counts once.
    let c =
        orders::apply_order_page(&store, katalog_bridge::domain::order::OrderSource::Ekatalog, &[newer.clone(), newer], &ours, &calendar, Some(("test", "3")))
            .await
            .unwrap();
    assert_eq!((c.updated, c.events), (1, 1));
    let status: String = sqlx::query_scalar("SELECT status FROM purchase_orders").fetch_one(store.pool()).await.unwrap();
    assert_eq!(status, "ON_PROCESS");
    let cursor: String = sqlx::query_scalar("SELECT cursor FROM sync_cursors WHERE name = 'test'").fetch_one(store.pool()).await.unwrap();
    assert_eq!(cursor, "3", "the cursor moves with each page");
}

/// A package of seller P3576-0001 for the hand-made catalogues below, with `extra` fields.
fn package(id: &str, extra: &str) -> String {
    format!(
        r#"{{"order_id":"{id}","fiscal_year":2026,"kode_klpd":"D347","kode_penyedia":"P3576-0001","status":"WAITING_SELLER_CONFIRMATION","total":76000,"shipping_fee":0,"updated_at":"2026-12-01T02:00:00Z","order_date":"2026-12-01T02:00:00Z","nama_satker":"Dinas Sosial"{extra}}}"#
    )
}

/// A client of seller P3576-0001 for a catalogue of the test's own.
fn one_seller_client(base_url: String, timeout_secs: u64, max_attempts: u32) -> CatalogueClient {
    let seller = katalog_bridge::config::SellerAccount {
        kode_penyedia: "P3576-0001".into(),
        client_id: "c".into(),
        client_secret: Some("s".to_owned().into()),
        client_secret_file: None,
        channel: Default::default(),
    };
    let settings = CatalogueSettings { base_url, timeout_secs, max_concurrency: 4, max_attempts, sellers: vec![seller], ..Default::default() };
    CatalogueClient::new(&settings).unwrap().0
}

/// A small catalogue of the test's own, serving raw bytes: a token, one feed
/// `page`, and each order's `detail`. Returns its base URL.
async fn hand_made_catalogue(page: String, detail: impl Fn(String) -> String + Clone + Send + Sync + 'static) -> String {
    use axum::extract::Path;
    use axum::routing::{get, post};
    let json = |body: String| ([("content-type", "application/json")], body);
    let app = axum::Router::new()
        .route("/oauth/token", post(move || async move { json(r#"{"access_token":"t","token_type":"Bearer","expires_in":3600}"#.into()) }))
        .route(
            "/api/v1/ekatalog/paket-e-purchasing",
            get(move || {
                let page = page.clone();
                async move { json(page) }
            }),
        )
        .route(
            "/api/v1/ekatalog/paket-e-purchasing/{id}",
            get(move |Path(id): Path<String>| {
                let detail = detail.clone();
                async move { json(detail(id)) }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// A catalogue that sends what PostgreSQL refuses: a U+0000 escaped in a work
/// unit's name and in a line's name, a lone surrogate in a package name, a
/// number no `jsonb` takes in a field kept only in the raw copy, and a line
/// quantity beyond its column. Served by a small HTTP server of the test's
/// own, as raw bytes.
async fn hostile_catalogue() -> String {
    let page = format!(
        r#"{{"data":[{},{},{},{},{}],"meta":{{"cursor":"5","has_more":false,"limit":100}}}}"#,
        package("EP-1", ""),
        package("EP-2", r#","nama_satker":"Dinas\u0000Kesehatan""#),
        package("EP-3", r#","rup_name":"Paket \ud800 sembako""#),
        package("EP-4", r#","berat_total":1e999999"#),
        package("EP-5", ""),
    );
    let detail = move |id: String| {
        let (name, quantity) = match id.as_str() {
            "EP-2" => (r"Beras\u0000Premium", "1"),
            "EP-5" => ("Beras Premium", "999999999999999"),
            _ => ("Beras Premium", "1"),
        };
        let lines = format!(r#","lines":[{{"line_id":"1","name":"{name}","quantity":{quantity},"unit_price":76000,"line_total":76000}}]"#);
        let extra = match id.as_str() {
            "EP-2" => format!(r#","nama_satker":"Dinas\u0000Kesehatan"{lines}"#),
            "EP-3" => format!(r#","rup_name":"Paket \ud800 sembako"{lines}"#),
            "EP-4" => format!(r#","berat_total":1e999999{lines}"#),
            _ => lines,
        };
        package(&id, &extra)
    };
    hand_made_catalogue(page, detail).await
}

/// One bad value never stops a sync: the page is stored with what the
/// database refuses replaced or left out, each such order flagged with what
/// was changed, the one order whose typed value cannot be stored at all
/// named in the run's report with its detail marked, and the cursor moved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_the_database_refuses_are_repaired_or_flagged_and_the_page_still_goes_in() {
    let (store, _) = common::fresh_db().await;
    common::load_cooperatives(&store).await;
    let base_url = hostile_catalogue().await;
    let client = one_seller_client(base_url, 10, 2);
    let options = SyncOptions { klpd: vec!["D347".into()], years: vec![2026], ..Default::default() };
    let report = sync_orders(&store, &client, &calendar(), &options).await.unwrap();

    type Stored = (String, Option<String>, Option<String>, Option<String>, bool);
    let stored: Vec<Stored> =
        sqlx::query_as("SELECT remote_order_id, nama_satker, rup_name, repaired, needs_detail FROM purchase_orders ORDER BY remote_order_id")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let ids: Vec<&str> = stored.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(ids, ["EP-1", "EP-2", "EP-3", "EP-4", "EP-5"], "every order of the page is kept: {}", report.summary());
    let by_id: HashMap<&str, _> = stored.iter().map(|s| (s.0.as_str(), s)).collect();
    assert_eq!(by_id["EP-1"].3, None, "an order stored as sent is not flagged");
    assert_eq!(by_id["EP-2"].1.as_deref(), Some("Dinas\u{FFFD}Kesehatan"));
    let flag = by_id["EP-2"].3.as_deref().unwrap_or_default();
    assert!(flag.contains("nama_satker") && flag.contains("line 1") && flag.contains("U+FFFD"), "{flag}");
    assert_eq!(by_id["EP-3"].2.as_deref(), Some("Paket \u{FFFD} sembako"));
    assert!(by_id["EP-3"].3.as_deref().unwrap_or_default().contains("rup_name"));
    let raw4: Value = sqlx::query_scalar("SELECT raw FROM purchase_orders WHERE remote_order_id = 'EP-4'").fetch_one(store.pool()).await.unwrap();
    assert!(by_id["EP-4"].3.as_deref().unwrap_or_default().contains("raw copy refused by the database"), "{:?} {raw4}", by_id["EP-4"]);
    assert!(by_id["EP-5"].4, "the detail the database refused stays due, to be tried again");
    let line_names: Vec<(String, String)> =
        sqlx::query_as("SELECT o.remote_order_id, l.description FROM order_lines l JOIN purchase_orders o ON o.id = l.order_id ORDER BY 1")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(
        line_names,
        vec![
            ("EP-1".to_owned(), "Beras Premium".to_owned()),
            ("EP-2".to_owned(), "Beras\u{FFFD}Premium".to_owned()),
            ("EP-3".to_owned(), "Beras Premium".to_owned()),
            ("EP-4".to_owned(), "Beras Premium".to_owned()),
        ]
    );
    let detail_error: Option<String> =
        sqlx::query_scalar("SELECT detail_error FROM purchase_orders WHERE remote_order_id = 'EP-5'").fetch_one(store.pool()).await.unwrap();
    assert!(detail_error.as_deref().is_some_and(|e| e.contains("numeric field overflow")), "the refusal is kept on the order: {detail_error:?}");
    let cursor: String = sqlx::query_scalar("SELECT cursor FROM sync_cursors WHERE name LIKE 'orders:%:D347:2026'").fetch_one(store.pool()).await.unwrap();
    assert_eq!(cursor, "5", "the cursor moved past the page");
    // The run says so.
    assert_eq!(report.refused.len(), 1, "{}", report.summary());
    assert!(report.refused[0].contains("EP-5"));
    assert!(report.repaired_count >= 3, "{}", report.summary());
    let summary = report.summary();
    assert!(summary.contains("orders stored with a value changed") && summary.contains("refused by the database"), "{summary}");
    let (status, stats): (String, Value) =
        sqlx::query_as("SELECT status, stats FROM sync_runs WHERE kind = 'orders' ORDER BY id DESC LIMIT 1").fetch_one(store.pool()).await.unwrap();
    assert_eq!(status, "partial");
    assert_eq!(stats["refused"].as_array().map(Vec::len), Some(1));
    // A second sync reads on from the cursor: nothing stalls on the same page.
    let again = sync_orders(&store, &client, &calendar(), &options).await.unwrap();
    assert!(again.feed_failures.is_empty(), "{}", again.summary());
}

/// A catalogue whose order details are 30 MiB each (a long note the reader
/// does not keep): `orders` orders of one seller on one page.
async fn catalogue_of_huge_details(orders: usize, detail_bytes: usize) -> String {
    let ids: Vec<String> = (1..=orders).map(|i| format!("EP-{i:03}")).collect();
    let page = format!(
        r#"{{"data":[{}],"meta":{{"cursor":"{orders}","has_more":false,"limit":1000}}}}"#,
        ids.iter().map(|id| package(id, "")).collect::<Vec<_>>().join(",")
    );
    let note = std::sync::Arc::new("catatan panjang ".repeat(detail_bytes / 16));
    let detail = move |id: String| {
        let lines = r#","lines":[{"line_id":"1","name":"Beras Premium","quantity":1,"unit_price":76000,"line_total":76000}]"#;
        package(&id, &format!(r#","catatan":"{note}"{lines}"#))
    };
    hand_made_catalogue(page, detail).await
}

/// Peak resident memory of a finished child, from `wait4`'s resource usage, in bytes.
fn wait_with_peak_rss(child: std::process::Child) -> (std::process::ExitStatus, u64) {
    use std::os::unix::process::ExitStatusExt;
    let mut status = 0;
    let mut usage: nix::libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { nix::libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32, "wait4");
    (std::process::ExitStatus::from_raw(status), usage.ru_maxrss as u64 * 1024)
}

/// Order details of 30 MiB each: they are fetched and stored, bounded by
/// bytes rather than by count, and the sync's peak memory stays under 300 MB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn details_of_thirty_mebibytes_each_are_stored_in_bounded_memory() {
    let (store, url) = common::fresh_db().await;
    common::load_cooperatives(&store).await;
    const ORDERS: usize = 10;
    let base_url = catalogue_of_huge_details(ORDERS, 30 << 20).await;
    let tmp = common::temp_dir();
    let config = format!(
        "[orders]\nklpd = [\"D347\"]\ntahun = [2026]\n[catalogue]\nbase_url = \"{base_url}\"\nallow_http = true\n\
         [[catalogue.sellers]]\nkode_penyedia = \"P3576-0001\"\nclient_id = \"c\"\nclient_secret = \"s\"\n"
    );
    let config_path = tmp.path().join("katalog-bridge.toml");
    std::fs::write(&config_path, config).unwrap();
    let child = common::binary()
        .env("DATABASE_URL", &url)
        .arg("--config")
        .arg(&config_path)
        .args(["sync", "orders"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (status, peak) = tokio::task::spawn_blocking(move || wait_with_peak_rss(child)).await.unwrap();
    assert!(status.success(), "the sync ends well: {status}");
    let (stored, lines): (i64, i64) =
        sqlx::query_as("SELECT count(*) FILTER (WHERE NOT needs_detail), (SELECT count(*) FROM order_lines) FROM purchase_orders")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!((stored, lines), (ORDERS as i64, ORDERS as i64), "every detail stored with its line");
    assert!(peak < 300_000_000, "peak RSS {:.0} MB, over 300 MB", peak as f64 / 1e6);
    eprintln!("peak RSS of a sync of {ORDERS} details of 30 MiB: {:.0} MB", peak as f64 / 1e6);
    let flagged: i64 =
        sqlx::query_scalar("SELECT count(*) FROM purchase_orders WHERE repaired LIKE '%raw copy%not kept%'").fetch_one(store.pool()).await.unwrap();
    assert_eq!(flagged, ORDERS as i64, "each order says its raw copy was too large to keep");
}

/// The details are fetched while the feed is still read, and an order that a
/// later page of the same run changes again gets its newer detail in that
/// run. The catalogue holds its second page back until the first order's
/// detail was asked for (a sync that fetched details only after the feed
/// would get a 503 there and report the feed unfinished); the second page
/// carries that order again, changed, and from then on its detail is the new
/// one, with two lines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn details_are_fetched_while_the_feed_is_read_and_a_later_change_is_fetched_again() {
    use axum::extract::{Path, Query};
    use axum::routing::{get, post};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let (store, _) = common::fresh_db().await;
    common::load_cooperatives(&store).await;
    let asked = Arc::new(tokio::sync::Notify::new());
    let changed = Arc::new(AtomicBool::new(false));
    let json = |body: String| ([("content-type", "application/json")], body);
    let later = r#","status":"WAITING_PPK_REVIEW","updated_at":"2026-12-01T05:00:00Z""#;
    let line = |n: u32| format!(r#"{{"line_id":"{n}","name":"Beras Premium","quantity":1,"unit_price":38000,"line_total":38000}}"#);
    let (first_page, second_page) = (
        format!(r#"{{"data":[{},{}],"meta":{{"cursor":"p2","has_more":true}}}}"#, package("EP-1", ""), package("EP-2", "")),
        format!(r#"{{"data":[{}],"meta":{{"cursor":"end","has_more":false}}}}"#, package("EP-1", later)),
    );
    let app = axum::Router::new()
        .route("/oauth/token", post(move || async move { json(r#"{"access_token":"t","token_type":"Bearer","expires_in":3600}"#.into()) }))
        .route(
            "/api/v1/ekatalog/paket-e-purchasing",
            get({
                let (asked, changed) = (asked.clone(), changed.clone());
                move |Query(q): Query<HashMap<String, String>>| {
                    let (asked, changed, first_page, second_page) = (asked.clone(), changed.clone(), first_page.clone(), second_page.clone());
                    async move {
                        if q.get("cursor").map(String::as_str) != Some("p2") {
                            return (axum::http::StatusCode::OK, json(first_page));
                        }
                        if tokio::time::timeout(std::time::Duration::from_secs(60), asked.notified()).await.is_err() {
                            return (axum::http::StatusCode::SERVICE_UNAVAILABLE, json(r#"{"error":"no detail was asked for"}"#.into()));
                        }
                        changed.store(true, Ordering::SeqCst);
                        (axum::http::StatusCode::OK, json(second_page))
                    }
                }
            }),
        )
        .route(
            "/api/v1/ekatalog/paket-e-purchasing/{id}",
            get(move |Path(id): Path<String>| {
                let (asked, changed) = (asked.clone(), changed.clone());
                let (line, later) = (line, later);
                async move {
                    let body = if id == "EP-1" && changed.load(Ordering::SeqCst) {
                        package(&id, &format!(r#"{later},"total":76000,"lines":[{},{}]"#, line(1), line(2)))
                    } else {
                        package(&id, &format!(r#","total":38000,"lines":[{}]"#, line(1)))
                    };
                    if id == "EP-1" {
                        asked.notify_one();
                    }
                    json(body)
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    // The page waits up to 60 s for the detail (the suite may load the machine), within the client's 90 s.
    let client = one_seller_client(base_url, 90, 1);
    let options = SyncOptions { klpd: vec!["D347".into()], years: vec![2026], ..Default::default() };
    let report = sync_orders(&store, &client, &calendar(), &options).await.unwrap();
    assert!(report.complete(), "{}", report.summary());
    assert_eq!(report.pages, 2, "{}", report.summary());
    type Stored = (String, String, bool, i64);
    let stored: Vec<Stored> = sqlx::query_as(
        "SELECT o.remote_order_id, o.status, o.needs_detail, (SELECT count(*) FROM order_lines l WHERE l.order_id = o.id)
         FROM purchase_orders o ORDER BY o.remote_order_id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(
        stored,
        vec![("EP-1".to_owned(), "WAITING_PPK_REVIEW".to_owned(), false, 2), ("EP-2".to_owned(), "WAITING_SELLER_CONFIRMATION".to_owned(), false, 1)],
        "{}",
        report.summary()
    );
    // EP-1's first detail is written, or found older than the second page
    // (which came first is the race this test leaves open); then its new one.
    assert_eq!(report.details.orders + report.details.stale, 3, "{}", report.summary());
    assert_eq!(report.details_left, 0, "{}", report.summary());
}

/// Stock follows the orders (issue 35): an order accepted by the seller
/// takes its lines' quantities off the products' stock once, however many
/// syncs run and whichever is killed (SIGKILL) on the way; a cancelled one
/// gives them back, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_order_takes_its_quantities_off_the_stock_once_across_syncs_and_a_kill_and_a_cancelled_one_gives_them_back() {
    let (store, url) = common::fixture_db().await;
    let mut scenario = scenario();
    scenario.buyer_cancel_percent_per_day = 0;
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let client = client(&server, &scenario);
    let tables = Tables::load(&MappingSource::BuiltIn).unwrap();
    let plan = Format::KatalogV6.plan(&MappingSource::BuiltIn, &tables).unwrap();
    publish(&store, &plan, &client, &PublishOptions::default()).await.unwrap();
    admin(&server, "/admin/clock/advance", json!({"hours": 30})).await;
    admin(&server, "/admin/clock/advance", json!({"hours": 24 * 3})).await;
    let first = sync_orders(&store, &client, &calendar(), &options()).await.unwrap();
    assert!(first.complete(), "{}", first.summary());

    // An order waiting for us, its lines routed to our products, each with ample stock.
    let order: (i64, String) = sqlx::query_as(
        "SELECT o.id, o.remote_order_id FROM purchase_orders o WHERE o.status = 'WAITING_SELLER_CONFIRMATION'
           AND NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND (l.product_id IS NULL OR l.quantity IS NULL))
         ORDER BY o.id LIMIT 1",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    // Before anyone accepts it, an order asking more than the stock is flagged: on its page and in `orders pending`.
    let set_stock = |stock: i64| {
        sqlx::query("UPDATE products SET stock = $2 WHERE id IN (SELECT product_id FROM order_lines WHERE order_id = $1)")
            .bind(order.0)
            .bind(stock)
            .execute(store.pool())
    };
    set_stock(0).await.unwrap();
    let tax = katalog_bridge::mapping::tax::TaxRules::load(&MappingSource::BuiltIn).unwrap();
    let reading = katalog_bridge::app::orders::Reading {
        store: &store,
        tax: &tax,
        fulfilment: &Default::default(),
        today: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
    };
    let operator = katalog_bridge::app::Actor::operator();
    let detail = katalog_bridge::app::orders::detail(&reading, &operator, OrderRef::Row(order.0)).await.unwrap();
    assert!(!detail.short.is_empty() && detail.short.iter().all(|s| s.stock.is_zero() && s.asked > Decimal::ZERO), "{:?}", detail.short);
    let pending = common::binary().env("DATABASE_URL", &url).args(["orders", "pending"]).output().unwrap();
    let pending = String::from_utf8_lossy(&pending.stdout);
    assert!(pending.contains(&format!("! stok kurang: {} dipesan", detail.short[0].name)), "{pending}");
    set_stock(1000).await.unwrap();
    let detail = katalog_bridge::app::orders::detail(&reading, &operator, OrderRef::Row(order.0)).await.unwrap();
    assert!(detail.short.is_empty(), "with stock enough, no flag");
    let stocks = || async {
        let rows: Vec<(i64, Decimal)> = sqlx::query_as("SELECT id, stock FROM products ORDER BY id").fetch_all(store.pool()).await.unwrap();
        rows.into_iter().collect::<HashMap<i64, Decimal>>()
    };
    let before = stocks().await;
    let ordered: Vec<(i64, Decimal)> =
        sqlx::query_as("SELECT product_id, sum(quantity) FROM order_lines WHERE order_id = $1 GROUP BY 1").bind(order.0).fetch_all(store.pool()).await.unwrap();
    assert!(!ordered.is_empty());
    assert_eq!(
        sqlx::query_scalar::<_, String>("SELECT stock_state FROM purchase_orders WHERE id = $1").bind(order.0).fetch_one(store.pool()).await.unwrap(),
        "open"
    );

    // Its cooperative wants to hear when a product falls to 999 or below (`batas_stok`).
    sqlx::query("UPDATE cooperatives SET stock_threshold = 999 WHERE id = (SELECT cooperative_id FROM purchase_orders WHERE id = $1)")
        .bind(order.0)
        .execute(store.pool())
        .await
        .unwrap();
    // Accepted: the catalogue says ON_PROCESS.
    let answering = Answering { store: &store, client: Some(&client), in_portal: false, ubl: false, sender: "test" };
    let a = katalog_bridge::app::orders::answer(&answering, &katalog_bridge::app::Actor::operator(), OrderRef::Row(order.0), &Decision::Accept).await.unwrap();
    assert!(matches!(a.answered, Answered::Sent { .. }), "{a:?}");

    // `sync orders` as a process: killed once at once, then run twice to the end.
    let tmp = common::temp_dir();
    let config_path = common::mock_config(tmp.path(), "[orders]\nklpd = [\"D347\"]\ntahun = [2026, 2027]\n", &server, &scenario);
    let sync = || common::sync_orders_process(&url, &config_path);
    let mut killed = sync();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    killed.kill().unwrap(); // SIGKILL
    killed.wait().unwrap();
    for run in 1..=2 {
        let out = sync().wait_with_output().unwrap();
        assert!(out.status.success(), "sync {run}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let after = stocks().await;
    for (product, quantity) in &ordered {
        assert_eq!(after[product], before[product] - quantity, "product {product}: its stock fell by the ordered quantity, once");
    }
    let changed: Vec<i64> = after.iter().filter(|(id, s)| before[*id] != **s).map(|(id, _)| *id).collect();
    assert_eq!(changed.len(), ordered.len(), "no other product's stock moved: {changed:?}");
    let moves: i64 = sqlx::query_scalar("SELECT count(*) FROM stock_moves WHERE order_id = $1").bind(order.0).fetch_one(store.pool()).await.unwrap();
    assert_eq!(moves as usize, ordered.len());
    let fell: i64 = sqlx::query_scalar("SELECT count(*) FROM stock_moves WHERE order_id = $1 AND fell").bind(order.0).fetch_one(store.pool()).await.unwrap();
    assert_eq!(fell as usize, ordered.len(), "each product fell from 1000 to its threshold of 999 or below, through this order");

    // Each member whose products it holds hears of it once, by e-mail: what, how much, by when to bring it.
    sqlx::query("UPDATE members SET email = 'anggota-' || id || '@koperasi.example' WHERE id IN (SELECT member_id FROM order_lines WHERE order_id = $1)")
        .bind(order.0)
        .execute(store.pool())
        .await
        .unwrap();
    let mails = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let smtp = crate::notify::smtp_server(mails.clone()).await;
    let settings = katalog_bridge::config::NotifySettings {
        smtp_url: Some(secrecy::SecretString::from(format!("smtp://127.0.0.1:{smtp}"))),
        from: Some("katalog-bridge <noreply@koperasi.example>".into()),
        ..Default::default()
    };
    let notifier = katalog_bridge::notify::Notifier::from_settings(&settings, std::sync::Arc::new(calendar())).unwrap().unwrap();
    for _ in 0..2 {
        notifier.queue(&store, chrono::Utc::now()).await.unwrap();
    }
    let members: Vec<(i64, String)> =
        sqlx::query_as("SELECT member_id, recipient FROM notifications WHERE order_id = $1 AND kind = 'member_order' ORDER BY member_id")
            .bind(order.0)
            .fetch_all(store.pool())
            .await
            .unwrap();
    let want: i64 =
        sqlx::query_scalar("SELECT count(DISTINCT member_id) FROM order_lines WHERE order_id = $1").bind(order.0).fetch_one(store.pool()).await.unwrap();
    assert_eq!(members.len() as i64, want, "one message per member, after two passes: {members:?}");
    assert!(members.iter().all(|(id, to)| *to == format!("anggota-{id}@koperasi.example")));
    notifier.send_due(&store).await.unwrap();
    let texts: Vec<(String, String)> = mails.lock().unwrap().iter().map(|(to, raw)| (to.clone(), crate::notify::mail_text(raw))).collect();
    let to_members: Vec<&(String, String)> = texts.iter().filter(|(to, _)| to.starts_with("anggota-")).collect();
    // The cooperative hears once that the stock runs low, with what is left.
    let low: Vec<&(String, String)> = texts.iter().filter(|(_, t)| t.contains("stok produk berikut menipis")).collect();
    assert_eq!(low.len(), 1, "{texts:?}");
    assert!(low[0].0.starts_with("kkmp-") && low[0].1.contains(&order.1) && low[0].1.contains("sisa 9"), "{:?}", low[0]);
    let queued: i64 = sqlx::query_scalar("SELECT count(*) FROM notifications WHERE order_id = $1 AND kind = 'stock_low'")
        .bind(order.0)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(queued, 1, "queued once after two passes");
    assert_eq!(to_members.len(), members.len(), "{texts:?}");
    for (_, text) in to_members {
        assert!(text.contains(&order.1) && text.contains("Mohon antar barang ke koperasi paling lambat") && text.contains(" × "), "{text}");
    }

    // Cancelled after all: the quantities come back, once, however often it is settled.
    sqlx::query("UPDATE purchase_orders SET status = 'CANCELLED' WHERE id = $1").bind(order.0).execute(store.pool()).await.unwrap();
    for _ in 0..2 {
        katalog_bridge::store::stock::settle(&store).await.unwrap();
    }
    assert_eq!(stocks().await, before, "every stock is back where it was");
    assert_eq!(
        sqlx::query_scalar::<_, String>("SELECT stock_state FROM purchase_orders WHERE id = $1").bind(order.0).fetch_one(store.pool()).await.unwrap(),
        "returned"
    );
}
