//! The city's purchase plan against the mock over real HTTP: after `sync
//! rup` and `sync orders` (INAPROC), the packages stored equal the mock's
//! announced packages, every package bought from a cooperative is matched to
//! it, and the report's won and lost values are the mock's; a package moved
//! and one withdrawn between two readings give their events and one
//! correction each; the outbox has one message per cooperative and package.
//! The day by which "not begun" is judged is the mock's, never the real one.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use katalog_bridge::app::Actor;
use katalog_bridge::catalog::Format;
use katalog_bridge::catalog::inaproc::InaprocClient;
use katalog_bridge::config::InaprocSettings;
use katalog_bridge::mapping::MappingSource;
use katalog_bridge::mapping::plan::Tables;
use katalog_bridge::mapping::rup_keywords::Keywords;
use katalog_bridge::orders::SyncOptions;
use katalog_bridge::publish::{PublishOptions, publish};
use katalog_bridge::rup::RupOptions;
use katalog_bridge::store::Store;
use mock_catalog::scenario::{InaprocScenario, RupScenario};
use mock_catalog::{MockServer, Scenario};
use rust_decimal::Decimal;
use serde_json::{Value, json};

const TOKEN: &str = "jwt-integrator-kota-mojokerto";

fn scenario() -> Scenario {
    let mut s = Scenario::load(&common::repo().join("fixtures/scenarios/mojokerto.toml")).unwrap();
    s.orders_per_day = 10;
    s.rate_limit_per_minute = 1_000_000;
    s.inaproc =
        Some(InaprocScenario { token: TOKEN.into(), per_minute: 1000, per_hour: 5000, renamed_categories: Default::default(), removed_categories: Vec::new() });
    s.rup = Some(RupScenario { packages_per_satker: 8, bought_elsewhere_percent: 50 });
    s
}

fn settings(server: &MockServer) -> InaprocSettings {
    InaprocSettings {
        base_url: server.url(),
        token: Some(TOKEN.to_owned().into()),
        backoff_seconds: vec![1, 1, 1, 1],
        max_attempts: 4,
        timeout_secs: 10,
        ..Default::default()
    }
}

async fn admin(server: &MockServer, path: &str, body: Value) -> Value {
    let r = reqwest::Client::new().post(format!("{}{path}", server.url())).json(&body).send().await.unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap()
}

async fn get(server: &MockServer, path: &str) -> Value {
    reqwest::get(format!("{}{path}", server.url())).await.unwrap().json().await.unwrap()
}

/// The mock's day (Jakarta), the clock every judgement here is made by.
async fn mock_today(server: &MockServer) -> chrono::NaiveDate {
    let now: chrono::DateTime<chrono::Utc> = serde_json::from_value(get(server, "/admin/clock").await["now"].clone()).unwrap();
    now.with_timezone(&chrono_tz::Asia::Jakarta).date_naive()
}

fn dec(v: &Value) -> Decimal {
    match v {
        Value::String(s) => s.parse().unwrap(),
        other => other.to_string().parse().unwrap(),
    }
}

async fn sync_orders(store: &Store, server: &MockServer) {
    let calendar = katalog_bridge::mapping::working_calendar(&MappingSource::BuiltIn, false).unwrap();
    let client = InaprocClient::with_store(&settings(server), store).unwrap();
    let options = SyncOptions { klpd: vec!["D347".into()], years: vec![2026, 2027], ..Default::default() };
    let r = katalog_bridge::orders::inaproc::sync(store, &client, &calendar, &options).await.unwrap();
    assert!(r.complete(), "{}", r.summary());
}

async fn sync_rup(store: &Store, server: &MockServer, today: chrono::NaiveDate) -> katalog_bridge::rup::RupReport {
    let client = InaprocClient::with_store(&settings(server), store).unwrap();
    let keywords = Keywords::load(&MappingSource::BuiltIn).unwrap();
    // Small pages, so that the year spans several.
    let options = RupOptions { klpd: vec!["D347".into()], years: vec![2026], page: 7, today, lead_days: 14 };
    let r = katalog_bridge::rup::sync(store, &client, &keywords, &options).await.unwrap();
    assert!(r.complete(), "{}", r.summary());
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_read_matched_and_reported_equals_the_mocks_ground_truth_and_moves_are_told_once() {
    let (store, url) = common::fixture_db().await;
    let scenario = scenario();
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let catalogue = common::mock_client(&server, &scenario);
    let tables = Tables::load(&MappingSource::BuiltIn).unwrap();
    let plan = Format::KatalogV6.plan(&MappingSource::BuiltIn, &tables).unwrap();
    publish(&store, &plan, &catalogue, &PublishOptions::default()).await.unwrap();
    admin(&server, "/admin/clock/advance", json!({"hours": 30})).await; // listings live
    admin(&server, "/admin/clock/advance", json!({"hours": 24 * 4})).await; // orders arrive
    sync_orders(&store, &server).await;
    // The cooperatives accept what waits for them; some orders are bought, some lapse later.
    let waiting: Vec<String> = sqlx::query_scalar("SELECT remote_order_id FROM purchase_orders WHERE status = 'WAITING_SELLER_CONFIRMATION' ORDER BY 1")
        .fetch_all(store.pool())
        .await
        .unwrap();
    let ctx = katalog_bridge::app::orders::Answering { store: &store, client: Some(&catalogue), in_portal: false, ubl: false, sender: "test" };
    for id in waiting.iter().step_by(2) {
        let operator = Actor::operator();
        let decision = katalog_bridge::app::orders::Decision::Accept;
        katalog_bridge::app::orders::answer(&ctx, &operator, katalog_bridge::app::orders::OrderRef::Remote(id), &decision).await.unwrap();
    }
    admin(&server, "/admin/clock/advance", json!({"hours": 24 * 2})).await;
    sync_orders(&store, &server).await;
    let today = mock_today(&server).await;
    let first = sync_rup(&store, &server, today).await;
    assert!(first.packages.new >= 40 && first.matched_packages > 0, "{}", first.summary());

    let truth = get(&server, "/admin/rup?tahun=2026").await;
    let packages = truth["packages"].as_array().unwrap();
    let listed = katalog_bridge::app::rup::list(&store, &Actor::operator(), &katalog_bridge::app::rup::Ask::default(), today).await.unwrap();
    // What `rup list --json` prints, as the liaison would run it.
    let out = common::binary().env("DATABASE_URL", &url).args(["rup", "list", "--json", "--on", &today.to_string()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let listed_json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed_json, serde_json::to_value(&listed).unwrap(), "the command prints the use case's packages");
    let ours: BTreeMap<&str, &Value> = listed_json.as_array().unwrap().iter().map(|p| (p["kd_rup"].as_str().unwrap(), p)).collect();

    // What was read equals what the mock announced, field by field; leading zeros kept.
    assert_eq!(ours.len(), packages.len(), "one stored package per announced package");
    for t in packages {
        let id = t["kd_rup"].to_string();
        let p = ours.get(id.as_str()).unwrap_or_else(|| panic!("package {id} not stored"));
        for (field, theirs) in [
            ("nama_paket", "nama_paket"),
            ("metode", "metode_pengadaan"),
            ("jenis", "jenis_pengadaan"),
            ("kd_satker", "kd_satker_str"),
            ("nama_satker", "nama_satker"),
            ("nama_ppk", "nama_ppk"),
            ("tgl_awal_pemilihan", "tgl_awal_pemilihan"),
            ("tgl_akhir_kontrak", "tgl_akhir_kontrak"),
        ] {
            assert_eq!(p[field], t[theirs], "{id}: {field}");
        }
        assert!(p["kd_satker"].as_str().unwrap().starts_with('0'), "{id}: the work unit's code keeps its leading zero");
        assert_eq!(dec(&p["pagu"]), dec(&t["pagu"]), "{id}: pagu");
        assert_eq!(p["status_ukm"], t["status_ukm"] == "UKM", "{id}");
        assert_eq!(p["status_pdn"], t["status_pdn"] == "PDN", "{id}");
        assert_eq!(p["active"], t["status_aktif_rup"], "{id}");
    }

    // Every package bought from one of our cooperatives is matched to that
    // cooperative; the report's won and lost are the mock's.
    let coop_of: BTreeMap<String, String> =
        sqlx::query_as::<_, (String, String)>("SELECT kode_penyedia, code FROM cooperatives WHERE kode_penyedia IS NOT NULL")
            .fetch_all(store.pool())
            .await
            .unwrap()
            .into_iter()
            .collect();
    let (mut won, mut lost, mut bought_from_ours) = (Decimal::ZERO, Decimal::ZERO, 0);
    for t in packages {
        let id = t["kd_rup"].to_string();
        let matched: BTreeSet<&str> = ours[id.as_str()]["matches"].as_array().unwrap().iter().map(|m| m["cooperative"].as_str().unwrap()).collect();
        for o in t["orders"].as_array().unwrap() {
            let seller = o["kode_penyedia"].as_str().unwrap();
            if o["ours"] == true {
                let code = coop_of[seller].as_str();
                assert!(matched.contains(code), "{id} ({}) was bought from {code}, not matched to it: {matched:?}", t["nama_paket"]);
                if o["bought"] == true {
                    won += dec(&o["total"]);
                    bought_from_ours += 1;
                }
            } else if o["bought"] == true {
                assert!(!matched.is_empty(), "{id} ({}) bought elsewhere is of goods our cooperatives list", t["nama_paket"]);
                lost += dec(&o["total"]);
            }
        }
    }
    assert!(bought_from_ours > 0 && lost > Decimal::ZERO, "the story has packages won and lost: won {won}, lost {lost}");
    let report = katalog_bridge::app::rup::report(&store, &Actor::operator(), 2026, None, true).await.unwrap();
    assert_eq!((report.city.won, report.city.lost), (won, lost), "{report:?}");
    let per_coop_won: Decimal = report.cooperatives.iter().map(|l| l.won).sum();
    assert_eq!(per_coop_won, won, "the cooperatives' won values add up to the city's");
    let expected_share = (won * Decimal::ONE_HUNDRED / (won + lost)).round_dp(1);
    assert_eq!(report.city.share_won_percent, Some(expected_share));

    // `report monthly` gives the same, month by month: our orders by the month
    // they were made, other sellers' by the month INAPROC last changed them.
    let month_of = |t: &Value| {
        let at: chrono::DateTime<chrono::Utc> = serde_json::from_value(t.clone()).unwrap();
        at.with_timezone(&chrono_tz::Asia::Jakarta).format("%Y-%m").to_string()
    };
    let mut by_month: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
    for o in packages.iter().flat_map(|t| t["orders"].as_array().unwrap()).filter(|o| o["bought"] == true) {
        if o["ours"] == true {
            by_month.entry(month_of(&o["order_date"])).or_default().0 += dec(&o["total"]);
        } else {
            by_month.entry(month_of(&o["updated_at"])).or_default().1 += dec(&o["total"]);
        }
    }
    let rules = katalog_bridge::mapping::tax::TaxRules::load(&MappingSource::BuiltIn).unwrap();
    for (month, (won, lost)) in &by_month {
        let (rows, _) = katalog_bridge::orders::report::month(&store, &rules, &Default::default(), month.parse().unwrap(), None).await.unwrap();
        let total = rows.iter().find(|r| r.part == "total").unwrap();
        assert_eq!((total.rup_won, total.rup_lost), (*won, *lost), "{month}");
        let coops: Decimal = rows.iter().filter(|r| r.part == "koperasi").map(|r| r.rup_won).sum();
        assert_eq!(coops, *won, "{month}: the cooperatives' rows add up");
    }

    // A staff member sees their own cooperative's matches only.
    let (coop_id, coop_code): (i64, String) = sqlx::query_as(
        "SELECT c.id, c.code FROM rup_packages p JOIN rup_cooperative_categories cc ON cc.category = ANY(p.categories)
         JOIN cooperatives c ON c.id = cc.cooperative_id GROUP BY c.id, c.code ORDER BY count(DISTINCT p.kd_rup) DESC, c.code LIMIT 1",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    let staff = Actor { user_id: None, name: "staf".into(), scope: Some(coop_id) };
    let theirs =
        katalog_bridge::app::rup::list(&store, &staff, &katalog_bridge::app::rup::Ask { cooperative: Some("MJK-LAIN".into()), ..Default::default() }, today)
            .await
            .unwrap();
    assert!(!theirs.is_empty());
    assert!(theirs.iter().all(|p| p.matches.iter().all(|m| m.cooperative == coop_code)), "only their own matches");

    // The outbox: one opportunity per open matched package and cooperative
    // whose choosing begins within 14 days of the mock's day.
    let opportunities: Vec<(String, i64)> =
        sqlx::query_as("SELECT kd_rup, cooperative_id FROM rup_notices WHERE kind = 'opportunity' ORDER BY 1, 2").fetch_all(store.pool()).await.unwrap();
    let mut expected = Vec::new();
    for p in &listed {
        let within = p.package.tgl_awal_pemilihan.is_some_and(|d| d > today && d - chrono::Duration::days(14) <= today);
        if p.open && within {
            for m in &p.matches {
                let id: i64 = sqlx::query_scalar("SELECT id FROM cooperatives WHERE code = $1").bind(&m.cooperative).fetch_one(store.pool()).await.unwrap();
                expected.push((p.package.kd_rup.clone(), id));
            }
        }
    }
    expected.sort();
    assert!(!expected.is_empty(), "the story has opportunities to tell");
    assert_eq!(opportunities, expected);
    assert_eq!(sync_rup(&store, &server, today).await.opportunities_told, 0, "told once, however often read");

    // Between two readings: one package told of is moved, another withdrawn, one taken off the list.
    let moved = expected[0].0.clone();
    let withdrawn = expected.iter().map(|e| e.0.clone()).find(|k| *k != moved).expect("two packages told of");
    let other = packages.iter().map(|t| t["kd_rup"].to_string()).find(|k| *k != moved && *k != withdrawn).unwrap();
    admin(&server, "/admin/rup", json!({"kd_rup": moved, "move_days": 5})).await;
    admin(&server, "/admin/rup", json!({"kd_rup": withdrawn, "aktif": false})).await;
    admin(&server, "/admin/rup", json!({"kd_rup": other, "remove": true})).await;
    let second = sync_rup(&store, &server, today).await;
    assert_eq!((second.packages.changed, second.unlisted), (2, 1), "{}", second.summary());
    let kinds = |k: &str| {
        let k = k.to_owned();
        let store = &store;
        async move { sqlx::query_scalar::<_, String>("SELECT kind FROM rup_events WHERE kd_rup = $1 ORDER BY id").bind(k).fetch_all(store.pool()).await.unwrap() }
    };
    assert!(kinds(&moved).await.contains(&"date".to_owned()), "{:?}", kinds(&moved).await);
    assert_eq!(kinds(&withdrawn).await.last().map(String::as_str), Some("withdrawn"));
    assert_eq!(kinds(&other).await.last().map(String::as_str), Some("withdrawn"), "off the list is withdrawn");
    let corrections: Vec<(String, String)> =
        sqlx::query_as("SELECT kd_rup, kind FROM rup_notices WHERE kind <> 'opportunity' ORDER BY 1, 2").fetch_all(store.pool()).await.unwrap();
    let told_of = |k: &str| expected.iter().filter(|e| e.0 == k).count();
    assert_eq!(corrections.iter().filter(|c| c.0 == moved && c.1 == "moved").count(), told_of(&moved), "each cooperative told of it: one correction");
    assert_eq!(corrections.iter().filter(|c| c.0 == withdrawn && c.1 == "withdrawn").count(), told_of(&withdrawn));
    let third = sync_rup(&store, &server, today).await;
    assert_eq!((third.opportunities_told, third.corrections_told), (0, 0), "a correction once, never the same news twice");

    // The outbox sends each: one message per cooperative and package, and the corrections.
    let posts = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let notify = katalog_bridge::config::NotifySettings {
        webhook_url: Some(common::webhook_receiver(posts.clone()).await.into()),
        webhook_secret: Some("rahasia".to_owned().into()),
        ..Default::default()
    };
    let calendar = katalog_bridge::mapping::working_calendar(&MappingSource::BuiltIn, false).unwrap();
    let notifier = katalog_bridge::notify::Notifier::from_settings(&notify, std::sync::Arc::new(calendar)).unwrap().unwrap();
    let now = chrono::NaiveDateTime::new(today, chrono::NaiveTime::from_hms_opt(3, 0, 0).unwrap()).and_utc();
    notifier.queue(&store, now).await.unwrap();
    notifier.send_due_at(&store, now).await.unwrap();
    notifier.queue(&store, now).await.unwrap();
    notifier.send_due_at(&store, now).await.unwrap();
    let posts = posts.lock().unwrap().clone();
    let plan_posts: Vec<&Value> = posts.iter().filter(|p| p["kind"] == "rup_opportunity").collect();
    let still_open = expected.iter().filter(|e| e.0 != withdrawn).count();
    assert_eq!(plan_posts.len(), still_open, "one message per cooperative and open package; the withdrawn one is not sent");
    let mut seen = BTreeSet::new();
    for p in &plan_posts {
        assert!(seen.insert((p["order_id"].as_str().unwrap().to_owned(), p["cooperative"].as_str().unwrap().to_owned())), "no second copy");
        let text = p["text"].as_str().unwrap();
        assert!(text.contains("Pagu") && text.contains("Pemilihan mulai") && text.contains("Produk Anda yang cocok"), "{text}");
    }
    let corrections_sent = posts.iter().filter(|p| p["kind"] == "rup_correction").count();
    assert_eq!(corrections_sent, corrections.len());
}

/// The gateway's 403 (this machine's address is not registered) and a
/// refused token (401) are told apart, in words that say what to do, and
/// the token is never echoed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_403_and_a_refused_token_are_told_apart_in_words() {
    let (store, url) = common::fresh_db().await;
    let server = MockServer::start(scenario(), "127.0.0.1:0").await.unwrap();
    let query = katalog_bridge::catalog::inaproc::Query::plan_packages("D347", 2026);

    let mut wrong = settings(&server);
    wrong.token = Some("not-the-token-s3cr3t".to_owned().into());
    let e = InaprocClient::with_store(&wrong, &store).unwrap().page(&query, None, 10).await.unwrap_err();
    let words = e.to_string();
    assert!(matches!(e, katalog_bridge::catalog::inaproc::InaprocError::Unauthorized { status: 401, .. }), "{words}");
    assert!(words.contains("wrong or has expired") && words.contains("inaproc.token") && !words.contains("s3cr3t"), "{words}");

    admin(&server, "/admin/inaproc", json!({"block_ip": true})).await;
    let e = InaprocClient::with_store(&settings(&server), &store).unwrap().page(&query, None, 10).await.unwrap_err();
    let words = e.to_string();
    assert!(matches!(e, katalog_bridge::catalog::inaproc::InaprocError::AddressNotRegistered { .. }), "{words}");
    assert!(words.contains("IP address") && words.contains("register") && words.contains("a new token will not help"), "{words}");
    assert!(!words.contains("<html") && !words.contains("Attention"), "the gateway's page is not echoed: {words}");

    // The command line says it too, and the run is recorded as partial.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("katalog-bridge.toml");
    std::fs::write(
        &config,
        format!("[orders]\nklpd = [\"D347\"]\ntahun = [2026]\n[inaproc]\nbase_url = {:?}\ntoken = {TOKEN:?}\nmax_attempts = 1\n", server.url()),
    )
    .unwrap();
    let out = common::binary().env("DATABASE_URL", url).args(["--config", config.to_str().unwrap(), "sync", "rup", "--on", "2026-12-01"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("not read: RUP D347 2026") && stdout.contains("not the one registered"), "{stdout}");
}
