//! The INAPROC data API against the mock over real HTTP: orders and their
//! lines read with a data integrator's token, under a quota of 60 requests a
//! minute shared through PostgreSQL, equal the mock's ground truth after
//! duplicated and reordered pages, 429s, 503s, cut and truncated answers; the mock refuses (almost)
//! nothing over quota, also with a second client (another daemon) reading at
//! the same time.

use crate::common;

use std::collections::HashMap;

use katalog_bridge::catalog::Format;
use katalog_bridge::catalog::inaproc::{InaprocClient, Query};
use katalog_bridge::config::InaprocSettings;
use katalog_bridge::mapping::MappingSource;
use katalog_bridge::mapping::plan::Tables;
use katalog_bridge::orders::SyncOptions;
use katalog_bridge::publish::{PublishOptions, publish};
use katalog_bridge::store::Store;
use mock_catalog::scenario::InaprocScenario;
use mock_catalog::{MockServer, Scenario};
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
    s.inaproc =
        Some(InaprocScenario { token: TOKEN.into(), per_minute: 60, per_hour: 5000, renamed_categories: Default::default(), removed_categories: Vec::new() });
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

/// Small pages (packages and product rows alike), so that every list spans several.
fn options() -> SyncOptions {
    SyncOptions { klpd: vec!["D347".into()], years: vec![2026, 2027], page: 20, detail_batch: 10, ..Default::default() }
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
    // No product code is known yet: every line is routed by its product's name, unique per seller in the fixtures.
    assert_eq!(first.details.unrouted, 0, "{}", first.summary());
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
    let ctx = katalog_bridge::app::orders::Answering { store: &store, client: Some(&catalogue), in_portal: false, ubl: false, sender: "test" };
    for id in &waiting {
        let operator = katalog_bridge::app::Actor::operator();
        let answered = katalog_bridge::app::orders::answer(
            &ctx,
            &operator,
            katalog_bridge::app::orders::OrderRef::Remote(id),
            &katalog_bridge::app::orders::Decision::Accept,
        );
        answered.await.unwrap();
    }
    // The story goes on under faults, while a second daemon reads through the same quota.
    admin(&server, "/admin/clock/advance", json!({"hours": 24 * 9})).await;
    for fault in [
        json!({"route": "/api/v1/ekatalog", "kind": "duplicate"}),
        json!({"route": "/api/v1/ekatalog", "kind": "reorder"}),
        json!({"route": "/api/v1/ekatalog", "kind": "rate_limit", "count": 3}),
        json!({"route": "/api/v1/ekatalog", "kind": "status", "status": 503, "count": 5}),
        json!({"route": "/api/v1/ekatalog", "kind": "drop", "count": 2}),
        json!({"route": "/api/v1/ekatalog", "kind": "malformed", "count": 2}),
    ] {
        admin(&server, "/admin/faults", fault).await;
    }
    let other = InaprocClient::with_store(&settings(&server), &store).unwrap();
    let other_daemon = async {
        for _ in 0..30 {
            other.page(&Query::packages("D347", 2026), None, 5).await.unwrap();
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
    let e = client.page(&Query::packages("D347", 2026), None, 10).await.unwrap_err().to_string();
    assert!(e.contains("401") && e.contains("inaproc.token") && e.contains("wrong or has expired"), "{e}");
    assert!(!e.contains("s3cr3t"), "{e}");
    // Plain http to another machine is refused before anything is sent.
    s.base_url = "http://inaproc.example.org".into();
    assert!(InaprocClient::with_store(&s, &store).unwrap_err().to_string().contains("plain http"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_flags_and_product_codes_follow_inaproc_and_each_change_is_an_event() {
    let store = common::fixture_store().await;
    let mut scenario = scenario();
    scenario.orders_per_day = 0;
    scenario.inaproc.as_mut().unwrap().per_minute = 1000;
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let catalogue = common::mock_client(&server, &scenario);
    let tables = Tables::load(&MappingSource::BuiltIn).unwrap();
    let plan = Format::KatalogV6.plan(&MappingSource::BuiltIn, &tables).unwrap();
    publish(&store, &plan, &catalogue, &PublishOptions::default()).await.unwrap();
    admin(&server, "/admin/clock/advance", json!({"hours": 30})).await; // reviewed: live, rejected or sent back
    let client = InaprocClient::with_store(&settings(&server), &store).unwrap();

    let first = katalog_bridge::publish::inaproc::sync_live(&store, &client, None).await.unwrap();
    assert!(first.failed.is_empty(), "{}", first.summary());
    assert_eq!(first.matched + first.ambiguous_count + first.unmatched, first.products, "{}", first.summary());
    // The listing id of the API channel is not INAPROC's product code: every match was by name or SKU.
    let t = truth(&server).await;
    let listings: HashMap<&str, &Value> = t["listings"].as_array().unwrap().iter().map(|l| (l["listing_id"].as_str().unwrap(), l)).collect();
    type Seen = (String, Option<String>, Option<bool>, Option<String>);
    let ours: Vec<Seen> =
        sqlx::query_as("SELECT remote_id, kd_produk, live, status_produk FROM publications WHERE remote_id IS NOT NULL").fetch_all(store.pool()).await.unwrap();
    let matched = ours.iter().filter(|o| o.1.is_some()).count();
    assert!(matched * 10 >= ours.len() * 9, "at least 90 % matched: {matched} of {}; {}", ours.len(), first.summary());
    let mut live = 0;
    for (remote, kd, is_live, text) in &ours {
        let Some(kd) = kd else { continue };
        let l = listings[remote.as_str()];
        assert_eq!(l["kd_produk"].as_str(), Some(kd.as_str()), "{remote}: the product code is the catalogue's");
        assert_eq!(*is_live, Some(l["state"] == "live"), "{remote}: live as on the catalogue");
        assert!(text.as_deref().is_some_and(|t| !t.is_empty()), "{remote}: the catalogue's words are kept");
        live += usize::from(l["state"] == "live");
    }
    assert!(live > 0, "live products are seen live: {live} of {matched}");
    assert_eq!(first.applied.went_live as usize, live, "{}", first.summary());

    // Taken down on the portal: the next reading says so, once, as "turun tayang".
    let (remote, _, _, _) = ours.iter().find(|o| o.2 == Some(true)).unwrap().clone();
    admin(&server, &format!("/admin/listings/{remote}/state"), json!({"state": "taken_down"})).await;
    let second = katalog_bridge::publish::inaproc::sync_live(&store, &client, None).await.unwrap();
    assert_eq!((second.applied.went_down, second.applied.went_live, second.applied.learned), (1, 0, 0), "{}", second.summary());
    let third = katalog_bridge::publish::inaproc::sync_live(&store, &client, None).await.unwrap();
    assert_eq!((third.applied.went_down, third.applied.text_changed), (0, 0), "nothing new, nothing recorded: {}", third.summary());
    let events: Vec<String> = sqlx::query_scalar(
        "SELECT e.kind FROM publication_events e JOIN publications p ON p.id = e.publication_id
         WHERE p.remote_id = $1 AND e.kind IN ('tayang', 'turun tayang', 'kd_produk') ORDER BY e.id",
    )
    .bind(&remote)
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(events, ["kd_produk", "tayang", "turun tayang"]);
    let runs: Vec<String> = sqlx::query_scalar("SELECT status FROM sync_runs WHERE kind = 'status-inaproc' ORDER BY id").fetch_all(store.pool()).await.unwrap();
    assert_eq!(runs, ["succeeded"; 3], "each reading is a run of its own");
    // listings --json carries what INAPROC says.
    let lines = katalog_bridge::store::publications::listing_lines(&store, None, "katalog-v6", None, None).await.unwrap();
    let shown = serde_json::to_value(lines.iter().find(|l| l.remote_id.as_deref() == Some(remote.as_str())).unwrap()).unwrap();
    assert_eq!((shown["live"].clone(), shown["kd_produk"].is_string()), (json!(false), true), "{shown}");
}

#[test]
fn products_are_matched_by_code_then_sku_then_a_name_that_fits_one_only() {
    use katalog_bridge::catalog::inaproc::wire::SellerProduct;
    use katalog_bridge::publish::inaproc::match_products;
    use katalog_bridge::store::live::Candidate;
    let product = |kd: &str, name: &str| SellerProduct { kd_produk: kd.into(), nama_produk: name.into(), status_produk: Some("Tayang".into()), live: true };
    let candidate = |id: i64, kd: Option<&str>, sku: &str, name: &str| Candidate {
        id,
        remote_id: Some(format!("L{id}")),
        kd_produk: kd.map(Into::into),
        sku: sku.into(),
        member: "M1".into(),
        name: name.into(),
        live: None,
        status_produk: None,
    };
    let candidates = [
        candidate(1, Some("900"), "BRS-5", "Beras Premium 5 kg"),
        candidate(2, None, "GUL-1", "Gula Pasir 1 kg"),
        candidate(3, None, "TLR-10", "Telur Ayam Ras"),
        candidate(4, None, "TLR-30", "Telur ayam ras"),
        candidate(5, None, "MNY-2", "Minyak Goreng 2 L"),
    ];
    let products = [
        product("900", "Beras Premium 5 kg (nama baru)"), // its code is known
        product("901", "Gula pasir kemasan GUL-1"),       // the SKU is in the name
        product("902", "TELUR AYAM RAS"),                 // fits two publications
        product("903", "Minyak  goreng, 2 L"),            // the name, normalised
        product("904", "Kopi Bubuk"),                     // nothing of ours
    ];
    let (seen, ambiguous) = match_products(&products, &candidates);
    let got: Vec<(i64, &str, &str)> = seen.iter().map(|s| (s.publication, s.kd_produk.as_str(), s.matched_by)).collect();
    assert_eq!(got, [(1, "900", "kd_produk"), (2, "901", "sku"), (5, "903", "name")]);
    assert_eq!(ambiguous.len(), 1, "{ambiguous:?}");
    assert!(ambiguous[0].starts_with("902"), "{ambiguous:?}");
}

fn wib(d: u32, h: u32, m: u32) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono_tz::Asia::Jakarta.with_ymd_and_hms(2026, 12, d, h, m, 0).unwrap().with_timezone(&chrono::Utc)
}

/// A package of MJK-BALONGSARI as INAPROC writes it, with one product line.
fn inaproc_order(id: &str, status: &str, made: &str, changed: &str) -> katalog_bridge::domain::order::RemoteOrder {
    use katalog_bridge::catalog::inaproc::wire;
    let mut o = wire::package(json!({
        "order_id": id, "fiscal_year": 2026, "kode_klpd": "D347", "kode_penyedia": "P3576-0001", "kode_satker": "1.02",
        "nama_satker": "Dinas Sosial Kota Mojokerto", "status": status, "shipment_status": "NOT_SHIPPED", "shipping_fee": 0,
        "total": 740000, "count_product": 1, "order_date": made, "last_update_date": changed
    }))
    .unwrap();
    let line =
        wire::product_row(json!({"order_id": id, "product_id": "6100001", "nama_produk": "Beras Medium 5 kg", "status": status, "nilai_transaksi": 740000}))
            .unwrap()
            .line;
    o.lines = Some(vec![line]);
    o
}

/// Reminders on an injected clock, across cuti bersama (24 December 2026),
/// Christmas and a weekend: an order made Wednesday 23 December 10:00 WIB is
/// due Wednesday 30 December 10:00. It is announced on arrival, reminded once
/// with a working day left and once four working hours before, each once;
/// an order confirmed in the portal (seen ON_PROCESS) is reminded of no more,
/// and a reminder queued before the confirmation was seen goes unsent.
#[tokio::test]
async fn reminders_go_at_arrival_one_working_day_and_four_working_hours_before_each_once_and_stop_at_the_confirmation() {
    use katalog_bridge::orders::SOURCE;
    use katalog_bridge::store::orders;
    let store = common::fresh_store().await;
    common::load_cooperatives(&store).await;
    let calendar = katalog_bridge::mapping::working_calendar(&MappingSource::BuiltIn, false).unwrap();
    let ours = orders::our_sellers(&store).await.unwrap();
    let made = "2026-12-23 10:00:00";
    let a = inaproc_order("EP-A", "WAITING_SELLER_CONFIRMATION", made, made);
    let b = inaproc_order("EP-B", "WAITING_SELLER_CONFIRMATION", made, made);
    let c = inaproc_order("EP-C", "WAITING_PPK_REVIEW", made, made);
    orders::import_orders(&store, SOURCE, &[a.clone(), b.clone(), c], &ours, &calendar).await.unwrap();
    type Time = Option<chrono::DateTime<chrono::Utc>>;
    let deadlines: Vec<(String, Time, Time)> =
        sqlx::query_as("SELECT remote_order_id, deadline, ppk_deadline FROM purchase_orders ORDER BY 1").fetch_all(store.pool()).await.unwrap();
    assert_eq!(deadlines[0], ("EP-A".into(), Some(wib(30, 10, 0)), None), "3 working days: 24 (cuti bersama), 25, 26-27 skipped");
    assert_eq!(deadlines[2], ("EP-C".into(), None, Some(wib(30, 10, 0))), "the PPK's own 3 working days; the seller's have not begun");

    let posts = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let settings = katalog_bridge::config::NotifySettings {
        webhook_url: Some(common::webhook_receiver(posts.clone()).await.into()),
        webhook_secret: Some("rahasia".to_owned().into()),
        ..Default::default()
    };
    let notifier =
        katalog_bridge::notify::Notifier::from_settings(&settings, std::sync::Arc::new(calendar.clone())).unwrap().unwrap().confirming_in_portal(true);
    let step = async |now| {
        let queued = notifier.queue(&store, now).await.unwrap();
        let sent = notifier.send_due_at(&store, now).await.unwrap();
        (queued, sent.sent, sent.moot)
    };
    assert_eq!(step(wib(23, 10, 1)).await, (2, 2, 0), "A and B announced on arrival; C waits for its PPK, not for the seller");
    assert_eq!(step(wib(24, 12, 0)).await, (0, 0, 0), "cuti bersama: still 2 working days 10 h left");
    assert_eq!(step(wib(27, 20, 0)).await, (0, 0, 0), "Sunday: the same");
    assert_eq!(step(wib(29, 9, 0)).await, (0, 0, 0), "Tuesday 09:00: 1 working day 1 h left");
    // B is confirmed in the portal; the next reading sees it ON_PROCESS.
    let b_confirmed = inaproc_order("EP-B", "ON_PROCESS", made, "2026-12-29 09:30:00");
    orders::apply_order_page(&store, SOURCE, &[b_confirmed], &ours, &calendar, None).await.unwrap();
    assert_eq!(step(wib(29, 11, 0)).await, (1, 1, 0), "Tuesday 11:00: under a working day left, A only");
    assert_eq!(step(wib(29, 18, 0)).await, (0, 0, 0), "reminded once");
    // Four working hours before, A's last reminder is queued; A is confirmed before it goes out.
    let queued = notifier.queue(&store, wib(30, 6, 30)).await.unwrap();
    assert_eq!(queued, 1);
    let a_confirmed = inaproc_order("EP-A", "ESIGN_IN_PROGRESS", made, "2026-12-30 06:40:00");
    orders::apply_order_page(&store, SOURCE, &[a_confirmed], &ours, &calendar, None).await.unwrap();
    let sent = notifier.send_due_at(&store, wib(30, 6, 45)).await.unwrap();
    assert_eq!((sent.sent, sent.moot), (0, 1), "the confirmation seen, the last reminder is moot");
    assert_eq!(step(wib(30, 8, 0)).await, (0, 0, 0), "nothing after the confirmation");

    let posts = posts.lock().unwrap().clone();
    let mut seen: Vec<(String, String)> = posts.iter().map(|p| (p["order_id"].as_str().unwrap().to_owned(), p["kind"].as_str().unwrap().to_owned())).collect();
    seen.sort();
    assert_eq!(seen, [("EP-A".into(), "arrived".into()), ("EP-A".into(), "deadline_near".into()), ("EP-B".into(), "arrived".into())]);
    for p in &posts {
        let text = p["text"].as_str().unwrap();
        assert!(text.contains("portal e-Katalog") && text.contains("PrivyID"), "{text}");
        assert!(!text.contains("orders respond"), "no answer by command for INAPROC orders: {text}");
        assert_eq!(p["deadline_wib"], "Rabu, 30 Desember 2026 pukul 10.00 WIB");
    }
    let near = posts.iter().find(|p| p["kind"] == "deadline_near").unwrap();
    assert_eq!(near["working_time_left"], "23 jam 0 menit", "Tuesday 11:00 to Wednesday 10:00");
    let seen_at: Vec<(String, bool)> =
        sqlx::query_as("SELECT remote_order_id, confirmed_seen_at IS NOT NULL FROM purchase_orders ORDER BY 1").fetch_all(store.pool()).await.unwrap();
    assert_eq!(seen_at, [("EP-A".into(), true), ("EP-B".into(), true), ("EP-C".into(), false)], "when the confirmation was seen is kept");
}

/// The one rule the pages and the command line share: an INAPROC order is
/// confirmed in the e-Katalog portal, never answered over the API. `orders
/// respond` refuses it with the words of the page's English view, and
/// records nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_respond_refuses_an_inaproc_order_as_the_page_does_and_records_nothing() {
    use katalog_bridge::orders::SOURCE;
    use katalog_bridge::store::orders;
    let (store, url) = common::fresh_db().await;
    common::load_cooperatives(&store).await;
    let calendar = katalog_bridge::mapping::working_calendar(&MappingSource::BuiltIn, false).unwrap();
    let ours = orders::our_sellers(&store).await.unwrap();
    let made = "2026-12-23 10:00:00";
    orders::import_orders(&store, SOURCE, &[inaproc_order("EP-A", "WAITING_SELLER_CONFIRMATION", made, made)], &ours, &calendar).await.unwrap();
    let tmp = common::temp_dir();
    let config = tmp.path().join("katalog-bridge.toml");
    std::fs::write(&config, "[orders]\nsource = \"inaproc\"\nklpd = [\"D347\"]\n[inaproc]\nbase_url = \"http://127.0.0.1:9\"\ntoken = \"x\"\n").unwrap();
    let out = common::binary().env("DATABASE_URL", &url).arg("--config").arg(&config).args(["orders", "respond", "EP-A", "--accept"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("order EP-A: this is an INAPROC order: it is confirmed by signing its order letter in the e-Katalog portal with PrivyID"), "{err}");
    let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM order_responses").fetch_one(store.pool()).await.unwrap();
    assert_eq!(recorded, 0, "nothing recorded, nothing to send later");
}

/// The liaison's onboarding check: each cooperative's NIB, NPWP and name
/// against its seller record on INAPROC; what differs and who is not found
/// are named, the others pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cooperatives_check_names_what_differs_from_inaproc_and_who_it_does_not_know() {
    let store = common::fresh_store().await;
    common::load_cooperatives(&store).await;
    let mut scenario = scenario();
    let wates = scenario.clients.iter_mut().find(|c| c.kode_penyedia == "P3576-0006").unwrap();
    wates.npwp = Some("01.234.567.8-901.000".into());
    scenario.clients.retain(|c| c.kode_penyedia != "P3576-0005"); // MJK-MAGERSARI unknown to INAPROC
    let server = MockServer::start(scenario, "127.0.0.1:0").await.unwrap();
    let client = InaprocClient::with_store(&settings(&server), &store).unwrap();
    let checks = katalog_bridge::checks::check_sellers(&store, &client, None).await.unwrap();
    assert_eq!(checks.len(), 18);
    let bad: Vec<(&str, &[String])> = checks.iter().filter(|c| !c.ok()).map(|c| (c.cooperative.as_str(), c.problems.as_slice())).collect();
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert_eq!(bad[0].0, "MJK-MAGERSARI");
    assert_eq!(bad[0].1, ["seller P3576-0005 not found on INAPROC"]);
    assert_eq!(bad[1].0, "MJK-WATES");
    assert_eq!(bad[1].1.len(), 1, "{:?}", bad[1].1);
    assert!(bad[1].1[0].starts_with("NPWP differs") && bad[1].1[0].contains("01.234.567.8-901.000"), "{:?}", bad[1].1);
    let ok = checks.iter().find(|c| c.cooperative == "MJK-BALONGSARI").unwrap();
    let d = ok.inaproc.as_ref().unwrap();
    assert_eq!((d.status_aktif, d.bentuk_usaha.as_deref()), (Some(true), Some("Koperasi")));
}

/// `mappings categories refresh` through the command: a category renamed on
/// the catalogue and one removed are reported, the rest found as mapped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn categories_refresh_reports_a_renamed_and_a_removed_category() {
    let (_store, url) = common::fresh_db().await;
    let table = katalog_bridge::mapping::table::LookupTable::load(&MappingSource::BuiltIn, "categories").unwrap();
    let id = |key: &str| table.row(key).unwrap()[table.column("v6_category_id").unwrap()].clone();
    let mut scenario = scenario();
    let inaproc = scenario.inaproc.as_mut().unwrap();
    inaproc.renamed_categories.insert(id("beras"), "Beras dan Beras Ketan".into());
    inaproc.removed_categories.push(id("gula pasir"));
    let server = MockServer::start(scenario, "127.0.0.1:0").await.unwrap();
    let out = tokio::task::spawn_blocking(move || {
        common::binary()
            .args(["mappings", "categories", "refresh", "--json"])
            .env("DATABASE_URL", &url)
            .env("KATALOG_BRIDGE_INAPROC__BASE_URL", server.url())
            .env("KATALOG_BRIDGE_INAPROC__TOKEN", TOKEN)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "findings exit 1: {stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["category"].as_str().unwrap().to_owned(), f["finding"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(findings, [("beras".to_owned(), "renamed".to_owned()), ("gula pasir".to_owned(), "gone".to_owned())], "{report}");
    assert!(report["findings"][0]["detail"].as_str().unwrap().contains("Beras dan Beras Ketan"), "{report}");
    assert_eq!(report["unchanged"].as_u64().unwrap() + 2, report["mapped"].as_u64().unwrap(), "{report}");
    assert!(!stderr.contains(TOKEN), "the token is never shown: {stderr}");
}

/// Whatever channel listed a product (the API, a PEPPOL catalogue, or the bulk
/// workbook uploaded by hand on the portal), `sync status --source inaproc`
/// gives its publication the catalogue's product code and live flag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_flags_and_codes_are_learned_for_products_of_each_of_the_three_channels() {
    use katalog_bridge::catalog::client::{Call, CatalogueClient};
    use katalog_bridge::config::CatalogueSettings;
    use katalog_bridge::publish::Channel;
    const API: &str = "P3576-0001"; // MJK-BALONGSARI
    const PEPPOL: &str = "P3576-0006"; // MJK-WATES
    const XLSX: &str = "P3576-0002"; // MJK-GEDONGAN
    let store = common::fixture_store().await;
    let mut scenario = scenario();
    scenario.orders_per_day = 0;
    scenario.inaproc.as_mut().unwrap().per_minute = 1000;
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let mut sellers = katalog_bridge::demo::seller_accounts(&scenario);
    sellers.retain(|s| [API, PEPPOL, XLSX].contains(&s.kode_penyedia.as_str()));
    for s in &mut sellers {
        s.channel = match s.kode_penyedia.as_str() {
            PEPPOL => Channel::Peppol,
            XLSX => Channel::Xlsx,
            _ => Channel::Api,
        };
    }
    let accounts = CatalogueSettings { base_url: server.url(), timeout_secs: 10, max_concurrency: 8, max_attempts: 3, sellers, ..Default::default() };
    let catalogue = CatalogueClient::new(&accounts).unwrap().0;
    let tables = Tables::load(&MappingSource::BuiltIn).unwrap();
    let plan = |f: Format| f.plan(&MappingSource::BuiltIn, &tables).unwrap();
    let only = |channel, code: &str| PublishOptions { channel, cooperative: Some(code.to_owned()), ..Default::default() };
    publish(&store, &plan(Format::KatalogV6), &catalogue, &only(Channel::Api, "MJK-BALONGSARI")).await.unwrap();
    publish(&store, &plan(Format::PeppolCatalogue), &catalogue, &only(Channel::Peppol, "MJK-WATES")).await.unwrap();
    let out = common::temp_dir();
    let xlsx = PublishOptions { out: out.path().to_owned(), ..only(Channel::Xlsx, "MJK-GEDONGAN") };
    publish(&store, &plan(Format::KatalogV6Xlsx), &catalogue, &xlsx).await.unwrap();
    // The workbook uploaded by hand on the portal: the same products, listed by a person.
    let mapped = common::map_fixtures(Format::KatalogV6, Some("MJK-GEDONGAN")).await;
    let by_hand = std::fs::read_to_string(mapped.path().join("MJK-GEDONGAN.jsonl")).unwrap();
    for (n, line) in by_hand.lines().enumerate() {
        let body: Value = serde_json::from_str(line).unwrap();
        catalogue.send(XLSX, &Call::CreateListing { body, key: format!("by-hand-{n}") }).await.unwrap();
    }
    admin(&server, "/admin/clock/advance", json!({"hours": 1})).await; // the PEPPOL catalogue processed
    admin(&server, "/admin/clock/advance", json!({"hours": 30})).await; // reviewed
    let client = InaprocClient::with_store(&settings(&server), &store).unwrap();
    let report = katalog_bridge::publish::inaproc::sync_live(&store, &client, None).await.unwrap();
    assert!(report.failed.is_empty() && report.ambiguous_count == 0, "{}", report.summary());

    let t = truth(&server).await;
    let truth: HashMap<(String, String), &Value> = t["listings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let sku = l["sku"].as_str().unwrap();
            let item = if sku.contains('/') { sku.to_owned() } else { format!("{}/{sku}", l["kode_anggota"].as_str().unwrap()) };
            ((l["kode_penyedia"].as_str().unwrap().to_owned(), item), l)
        })
        .collect();
    type Row = (String, String, String, Option<String>, Option<bool>);
    let ours: Vec<Row> = sqlx::query_as(
        "SELECT pb.channel, pb.seller, m.code || '/' || p.sku, pb.kd_produk, pb.live
         FROM publications pb JOIN products p ON p.id = pb.product_id JOIN members m ON m.id = p.member_id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let mut checked: HashMap<String, usize> = HashMap::new();
    for (channel, seller, item, kd, live) in &ours {
        let Some(l) = truth.get(&(seller.clone(), item.clone())) else { continue };
        assert_eq!(kd.as_deref(), l["kd_produk"].as_str(), "{channel} {item}: the catalogue's product code");
        assert_eq!(*live, Some(l["state"] == "live"), "{channel} {item}: live as on the catalogue");
        *checked.entry(channel.clone()).or_default() += 1;
    }
    for channel in ["api", "peppol", "xlsx"] {
        assert!(checked.get(channel).is_some_and(|n| *n > 0), "products of the {channel} channel checked: {checked:?}");
    }
    // Listed by hand beyond what the workbook channel holds (a product it held back): counted as matching no publication.
    let listed: usize = t["listings"].as_array().unwrap().len();
    assert_eq!(checked.values().sum::<usize>() + report.unmatched as usize, listed, "{}", report.summary());
    assert_eq!(report.matched as usize, checked.values().sum::<usize>(), "{}", report.summary());
}

/// Before a product code is learned, an INAPROC line goes to the one
/// publication of its seller with the product's name; a name two of them
/// share is not guessed: the line stays unrouted and its order says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_is_routed_by_a_name_only_one_publication_has() {
    use katalog_bridge::orders::SOURCE;
    use katalog_bridge::store::orders;
    let store = common::fixture_store().await;
    let scenario = scenario();
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let catalogue = common::mock_client(&server, &scenario);
    let tables = Tables::load(&MappingSource::BuiltIn).unwrap();
    let plan = Format::KatalogV6.plan(&MappingSource::BuiltIn, &tables).unwrap();
    let only = PublishOptions { cooperative: Some("MJK-BALONGSARI".into()), ..Default::default() };
    publish(&store, &plan, &catalogue, &only).await.unwrap();
    let names: Vec<(i64, String)> = sqlx::query_as(
        "SELECT pb.id, p.name FROM publications pb JOIN products p ON p.id = pb.product_id WHERE pb.seller = 'P3576-0001' ORDER BY pb.id LIMIT 3",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    // The second and third products now share a name.
    sqlx::query("UPDATE products SET name = $1 WHERE id = (SELECT product_id FROM publications WHERE id = $2)")
        .bind(&names[1].1)
        .bind(names[2].0)
        .execute(store.pool())
        .await
        .unwrap();
    let mut order = inaproc_order("EP-R", "WAITING_SELLER_CONFIRMATION", "2026-12-01 10:00:00", "2026-12-01 10:00:00");
    let line = |kd: &str, name: &str| {
        katalog_bridge::catalog::inaproc::wire::product_row(
            json!({"order_id": "EP-R", "product_id": kd, "nama_produk": name, "status": "WAITING_SELLER_CONFIRMATION", "nilai_transaksi": 370000}),
        )
        .unwrap()
        .line
    };
    // INAPROC spells the name its own way: case and punctuation aside, it is the same.
    order.lines = Some(vec![line("7001", &format!("  {}. ", names[0].1.to_uppercase())), line("7002", &names[1].1)]);
    let ours = orders::our_sellers(&store).await.unwrap();
    let calendar = katalog_bridge::mapping::working_calendar(&MappingSource::BuiltIn, false).unwrap();
    orders::import_orders(&store, SOURCE, &[order], &ours, &calendar).await.unwrap();
    let lines: Vec<(String, Option<i64>)> =
        sqlx::query_as("SELECT remote_line_id, publication_id FROM order_lines ORDER BY remote_line_id").fetch_all(store.pool()).await.unwrap();
    assert_eq!(lines, [("7001".to_owned(), Some(names[0].0)), ("7002".to_owned(), None)]);
    let unrouted: i32 = sqlx::query_scalar("SELECT unrouted_lines FROM purchase_orders WHERE remote_order_id = 'EP-R'").fetch_one(store.pool()).await.unwrap();
    assert_eq!(unrouted, 1, "the order says one line matches no single publication");
}

/// `sync orders` from INAPROC killed (SIGKILL) six times while it reads the
/// product rows, each time further on (by the rows it has read): after
/// each kill no order is stored with a part of its lines, none twice, none
/// that is not the catalogue's; a run to the end then equals the ground
/// truth, and leaves no table it wrote with more changed rows since its last
/// analyze than autovacuum's threshold (the planner knows the new sizes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inaproc_sync_killed_while_it_reads_the_product_rows_resumes_from_what_it_stored() {
    let (store, url) = common::fresh_db().await;
    common::load_cooperatives(&store).await;
    let mut scenario = scenario();
    scenario.initial_orders = 1500;
    scenario.orders_per_day = 0;
    scenario.fiscal_year = Some(2026);
    scenario.inaproc.as_mut().unwrap().per_minute = 1_000_000;
    scenario.inaproc.as_mut().unwrap().per_hour = 1_000_000;
    let server = MockServer::start(scenario, "127.0.0.1:0").await.unwrap();
    // Each product page takes a while, so that the kills land while they are read.
    admin(&server, "/admin/faults", json!({"route": "/api/v1/ekatalog/e-purchasing-by-produk", "kind": "latency", "ms": 60})).await;
    let t = truth(&server).await;
    let truth_orders = t["orders"].as_array().unwrap().clone();
    let lines_of: HashMap<String, usize> =
        truth_orders.iter().map(|o| (o["order_id"].as_str().unwrap().to_owned(), o["lines"].as_array().unwrap().len())).collect();
    let total_lines: usize = lines_of.values().sum();
    assert!(total_lines > 2000, "{total_lines}");
    let tmp = common::temp_dir();
    let config = tmp.path().join("katalog-bridge.toml");
    std::fs::write(
        &config,
        format!(
            "[orders]\nsource = \"inaproc\"\nklpd = [\"D347\"]\ntahun = [2026]\npage_size = 100\ndetail_batch = 100\n\
             [inaproc]\nbase_url = \"{}\"\ntoken = \"{TOKEN}\"\nper_minute = 1000000\nper_hour = 1000000\nbackoff_seconds = [1]\n",
            server.url()
        ),
    )
    .unwrap();
    let sync = || {
        common::binary()
            .env("DATABASE_URL", &url)
            .arg("--config")
            .arg(&config)
            .args(["sync", "orders"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    // The product rows read so far: those of the orders written, and those
    // staged against an order a later page completes.
    let staged = || async { w_scalar(&store, "SELECT count(*) FROM inaproc_line_stage").await };
    let read = || async { w_scalar(&store, "SELECT (SELECT count(*) FROM order_lines) + (SELECT count(*) FROM inaproc_line_stage)").await };
    let (mut kills, mut most_staged) = (0, 0);
    for step in 1..=6i64 {
        let target = step * total_lines as i64 / 8;
        let mut child = sync();
        let begun = std::time::Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the sync ended ({status}) before {target} rows were read: {}", read().await);
            }
            most_staged = most_staged.max(staged().await);
            if read().await >= target {
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGKILL).unwrap();
                child.wait().unwrap();
                kills += 1;
                break;
            }
            assert!(begun.elapsed() < std::time::Duration::from_secs(180), "no progress to {target} rows read");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        // No order written with a part of its lines, none twice, none that is not the catalogue's.
        let written: Vec<(String, i64)> = sqlx::query_as(
            "SELECT o.remote_order_id, (SELECT count(*) FROM order_lines l WHERE l.order_id = o.id) FROM purchase_orders o WHERE NOT o.needs_detail",
        )
        .fetch_all(store.pool())
        .await
        .unwrap();
        for (id, n) in &written {
            assert_eq!(Some(*n as usize), lines_of.get(id).copied(), "{id}: written whole or not at all (after kill {kills})");
        }
        let stored = w_scalar(&store, "SELECT count(*) FROM purchase_orders").await;
        let distinct = w_scalar(&store, "SELECT count(DISTINCT remote_order_id) FROM purchase_orders").await;
        assert_eq!(stored, distinct, "no order twice");
        assert!(stored as usize <= truth_orders.len());
    }
    assert_eq!(kills, 6);
    // Pages of 100 rows split orders: the rows of an order a page leaves
    // incomplete wait in the stage for the page that completes it.
    assert!(most_staged > 0, "no order was ever completed across two pages");
    let out = sync().wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_matches_truth(&store, &truth_orders).await;
    assert_eq!(w_scalar(&store, "SELECT count(*) FROM inaproc_line_stage").await, 0, "nothing left staged");
    // The planner's statistics: no table the sync wrote is left past autovacuum's threshold.
    let stale: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT relname::text, n_mod_since_analyze, n_live_tup FROM pg_stat_user_tables
         WHERE relname IN ('purchase_orders', 'order_lines', 'order_events') AND n_mod_since_analyze > 50 + 0.1 * n_live_tup",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert!(stale.is_empty(), "tables left unanalyzed after a large write: {stale:?}");
}

async fn w_scalar(store: &Store, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(store.pool()).await.unwrap()
}
