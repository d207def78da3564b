//! Publishing against the mock catalogue over real HTTP: every ready product
//! listed once under its own cooperative's account, nothing resent when
//! nothing changed, changes sent as updates, deactivated products withdrawn,
//! and two publishers on one database sending each publication once.

use crate::common;

use katalog_bridge::catalog::Format;
use katalog_bridge::catalog::client::CatalogueClient;
use katalog_bridge::mapping::MappingSource;
use katalog_bridge::mapping::plan::Tables;
use katalog_bridge::publish::{PublishOptions, publish};
use mock_catalog::{MockServer, Scenario};
use serde_json::Value;

fn fixture_scenario() -> Scenario {
    Scenario::load(&common::repo().join("fixtures/scenarios/mojokerto.toml")).unwrap()
}

/// The fixtures' catalogue with curators stricter than the ceilings the
/// mapping checks (staples above Rp10.000 a kg or liter are rejected), so
/// that review sends some listings back.
fn scenario() -> Scenario {
    let mut s = fixture_scenario();
    for c in &mut s.ceilings {
        c.price = 10_000;
    }
    s
}

fn client(server: &MockServer, scenario: &Scenario) -> CatalogueClient {
    common::mock_client(server, scenario)
}

fn plan() -> katalog_bridge::mapping::plan::Plan {
    let tables = Tables::load(&MappingSource::BuiltIn).unwrap();
    Format::KatalogV6.plan(&MappingSource::BuiltIn, &tables).unwrap()
}

async fn truth(server: &MockServer) -> Vec<Value> {
    let v: Value = reqwest::get(format!("{}/admin/state", server.url())).await.unwrap().json().await.unwrap();
    v["listings"].as_array().unwrap().clone()
}

#[tokio::test]
async fn every_ready_product_is_listed_once_under_its_own_seller_and_reruns_send_only_changes() {
    let store = common::fixture_store().await;
    let scenario = scenario();
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let client = client(&server, &scenario);
    let options = PublishOptions::default();

    let first = publish(&store, &plan(), &client, &options).await.unwrap();
    let ready: i64 = sqlx::query_scalar("SELECT count(*) FROM listings WHERE format = 'katalog-v6' AND state = 'draft'").fetch_one(store.pool()).await.unwrap();
    assert!(ready > 200);
    assert_eq!(first.planned.new as i64, ready, "{}", first.summary());
    assert_eq!((first.sent as i64, first.accepted as i64), (ready, ready), "{}", first.summary());
    assert!(first.refused.is_empty() && first.sellers_without_account.is_empty());
    assert!(first.planned.blocked > 0, "blocked drafts are counted, not sent");

    // The catalogue holds each product once, under the seller of its cooperative.
    let listings = truth(&server).await;
    assert_eq!(listings.len() as i64, ready);
    let owners: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT pb.remote_id, pb.seller, c.kode_penyedia FROM publications pb JOIN products p ON p.id = pb.product_id
         JOIN cooperatives c ON c.id = p.cooperative_id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    for (remote, seller, kode) in &owners {
        assert_eq!(seller, kode);
        let l = listings.iter().find(|l| l["listing_id"] == remote.as_str()).expect("the remote listing exists");
        assert_eq!(l["kode_penyedia"], seller.as_str());
    }
    let states: Vec<(String, i64)> = sqlx::query_as("SELECT state, count(*) FROM publications GROUP BY 1").fetch_all(store.pool()).await.unwrap();
    assert_eq!(states, vec![("submitted".to_owned(), ready)]);

    // Nothing changed: nothing sent.
    let before = client.counters().requests.load(std::sync::atomic::Ordering::Relaxed);
    let again = publish(&store, &plan(), &client, &options).await.unwrap();
    assert_eq!((again.planned.new, again.planned.changed, again.sent), (0, 0, 0), "{}", again.summary());
    assert_eq!(client.counters().requests.load(std::sync::atomic::Ordering::Relaxed), before, "zero requests");

    // One price changed, one product deactivated: one update, one withdrawal.
    let (changed_id, changed_remote): (i64, String) =
        sqlx::query_as("SELECT p.id, pb.remote_id FROM products p JOIN publications pb ON pb.product_id = p.id ORDER BY p.id LIMIT 1")
            .fetch_one(store.pool())
            .await
            .unwrap();
    let (gone_id, gone_remote): (i64, String) =
        sqlx::query_as("SELECT p.id, pb.remote_id FROM products p JOIN publications pb ON pb.product_id = p.id ORDER BY p.id DESC LIMIT 1")
            .fetch_one(store.pool())
            .await
            .unwrap();
    sqlx::query("UPDATE products SET price = price + 1000 WHERE id = $1").bind(changed_id).execute(store.pool()).await.unwrap();
    sqlx::query("UPDATE products SET active = false WHERE id = $1").bind(gone_id).execute(store.pool()).await.unwrap();
    let third = publish(&store, &plan(), &client, &options).await.unwrap();
    assert_eq!((third.planned.changed, third.planned.to_withdraw, third.sent, third.accepted), (1, 1, 2, 2), "{}", third.summary());
    let listings = truth(&server).await;
    assert_eq!(listings.len() as i64, ready, "an update is not a new listing");
    let find = |id: &str| listings.iter().find(|l| l["listing_id"] == id).unwrap().clone();
    assert_eq!(find(&gone_remote)["state"], "withdrawn");
    let new_price: i64 = sqlx::query_scalar("SELECT (price)::bigint FROM products WHERE id = $1").bind(changed_id).fetch_one(store.pool()).await.unwrap();
    assert_eq!(find(&changed_remote)["listing"]["harga"], new_price);
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM publication_events WHERE kind = 'accepted'").fetch_one(store.pool()).await.unwrap();
    assert_eq!(events, ready + 2, "one event per accepted write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_publishers_on_one_database_send_each_publication_once() {
    let store = common::fixture_store().await;
    let scenario = scenario();
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let (a, b) = (client(&server, &scenario), client(&server, &scenario));
    let options = PublishOptions { batch: 20, ..Default::default() };
    let plan = plan();
    // Mapped and planned first, so both start claiming at once (mapping takes each a different time).
    publish(&store, &plan, &a, &PublishOptions { dry_run: true, ..Default::default() }).await.unwrap();
    let (sa, sb) = (&store, &store);
    let (ra, rb) = tokio::join!(async { publish(sa, &plan, &a, &options).await }, async {
        // The second starts once the first is sending (it holds claims): the
        // job's lock is taken, so it is refused as a lead and helps with the claims.
        loop {
            let claimed: i64 = sqlx::query_scalar("SELECT count(*) FROM publications WHERE claimed_until > now()").fetch_one(sb.pool()).await.unwrap();
            if claimed > 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let refused = publish(sb, &plan, &b, &options).await;
        assert!(matches!(&refused, Err(katalog_bridge::publish::PublishError::Busy(why)) if why.contains("already running")), "{refused:?}");
        katalog_bridge::publish::help(sb, &b, &options).await.map(Option::unwrap_or_default)
    });
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let publications: i64 = sqlx::query_scalar("SELECT count(*) FROM publications").fetch_one(store.pool()).await.unwrap();
    assert_eq!((ra.sent + rb.sent) as i64, publications, "a: {} / b: {}", ra.summary(), rb.summary());
    assert!(ra.sent > 0 && rb.sent > 0, "the work was shared: {} and {}", ra.sent, rb.sent);
    assert_eq!(truth(&server).await.len() as i64, publications, "no listing created twice");
}

/// A slow catalogue makes each batch outlast its 1 s lease. The publisher
/// working on a batch keeps its leases renewed, so a helper never takes a
/// publication over while it is still being sent: every publication is
/// claimed by one run only, as a watcher polling the claims sees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_slower_than_its_lease_keeps_its_claims_and_no_publication_is_claimed_twice() {
    let store = common::fixture_store().await;
    let scenario = scenario();
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let slow = reqwest::Client::new()
        .post(format!("{}/admin/faults", server.url()))
        .json(&serde_json::json!({"route": "/api/v1/listings", "kind": "latency", "ms": 250}))
        .send()
        .await
        .unwrap();
    assert!(slow.status().is_success());
    let (a, b) = (client(&server, &scenario), client(&server, &scenario));
    let lease = std::time::Duration::from_secs(1);
    // 12 sends two at a time at 250 ms: a batch takes about 1.5 s, longer than its lease.
    let options = PublishOptions { batch: 12, concurrency: 2, lease, ..Default::default() };
    let plan = plan();
    publish(&store, &plan, &a, &PublishOptions { dry_run: true, ..Default::default() }).await.unwrap();
    let done = std::sync::atomic::AtomicBool::new(false);
    let mut seen: std::collections::HashMap<i64, (std::collections::BTreeSet<String>, std::time::Instant, std::time::Instant)> = Default::default();
    let (ra, rb, ()) = tokio::join!(
        async {
            let r = publish(&store, &plan, &a, &options).await;
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            r
        },
        async {
            let mut helped = katalog_bridge::publish::PublishReport::default();
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                if let Some(r) = katalog_bridge::publish::help(&store, &b, &options).await.unwrap() {
                    helped.sent += r.sent;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            helped
        },
        async {
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                let claims: Vec<(i64, String)> = sqlx::query_as("SELECT id, claimed_by FROM publications WHERE claimed_until > now() AND state = 'pending'")
                    .fetch_all(store.pool())
                    .await
                    .unwrap();
                let now = std::time::Instant::now();
                for (id, by) in claims {
                    let entry = seen.entry(id).or_insert_with(|| (Default::default(), now, now));
                    entry.0.insert(by);
                    entry.2 = now;
                }
                tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            }
        }
    );
    let (ra, rb) = (ra.unwrap(), rb);
    let publications: i64 = sqlx::query_scalar("SELECT count(*) FROM publications").fetch_one(store.pool()).await.unwrap();
    assert_eq!((ra.sent + rb.sent) as i64, publications, "each sent once: {} and {}", ra.summary(), rb.sent);
    let twice: Vec<_> = seen.iter().filter(|(_, (by, _, _))| by.len() > 1).collect();
    assert!(twice.is_empty(), "publications claimed by two runs: {twice:?}");
    let longest = seen.values().map(|(_, first, last)| *last - *first).max().unwrap();
    assert!(longest > lease + std::time::Duration::from_millis(200), "some claim was held past its first lease ({longest:?}): the case is real");
    assert_eq!(truth(&server).await.len() as i64, publications, "no listing created twice");
}

#[tokio::test]
async fn a_cooperative_without_an_account_is_reported_and_skipped_and_a_dry_run_sends_nothing() {
    let store = common::fixture_store().await;
    let mut scenario = scenario();
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let dropped = scenario.clients.remove(0).kode_penyedia;
    let client = client(&server, &scenario);
    let dry = publish(&store, &plan(), &client, &PublishOptions { dry_run: true, ..Default::default() }).await.unwrap();
    assert!(dry.planned.new > 0 && dry.sent == 0);
    // The job's lock is let go when the run returns, not a moment later: one at once after another is not refused.
    for _ in 0..10 {
        publish(&store, &plan(), &client, &PublishOptions { dry_run: true, ..Default::default() }).await.unwrap();
        let lock = katalog_bridge::store::runs::try_lock_job(&store, katalog_bridge::domain::job::Job::Publish).await.unwrap();
        // Let go through `hold`, at once: a lock only dropped goes with its
        // connection, which the server notices a moment later.
        lock.expect("the lock is free once publish returns").hold(async {}).await;
    }
    assert!(truth(&server).await.is_empty(), "a dry run sends nothing");
    let report = publish(&store, &plan(), &client, &PublishOptions::default()).await.unwrap();
    assert_eq!(report.sellers_without_account, vec![dropped.clone()]);
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM publications WHERE seller = $1 AND state = 'pending'").bind(&dropped).fetch_one(store.pool()).await.unwrap();
    assert!(left > 0, "its publications wait for an account");
    assert!(truth(&server).await.iter().all(|l| l["kode_penyedia"] != dropped.as_str()));
}

/// `katalog-bridge sync publish` as a user runs it: the accounts from the
/// configuration file, the summary on stdout, exit 0; a rerun sends nothing.
/// (Two worker threads: the mock keeps serving while the test waits for the binary.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_publish_command_publishes_and_reruns_send_nothing() {
    let (store, url) = common::fresh_db().await;
    let scenario = scenario();
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let tmp = common::temp_dir();
    let mut config = format!("[catalogue]\nbase_url = \"{}\"\n", server.url());
    for c in &scenario.clients {
        let secret = tmp.path().join(format!("{}.secret", c.client_id));
        std::fs::write(&secret, format!("{}\n", c.client_secret)).unwrap();
        config.push_str(&format!(
            "[[catalogue.sellers]]\nkode_penyedia = \"{}\"\nclient_id = \"{}\"\nclient_secret_file = \"{}\"\n",
            c.kode_penyedia,
            c.client_id,
            secret.display()
        ));
    }
    let config_path = tmp.path().join("katalog-bridge.toml");
    std::fs::write(&config_path, config).unwrap();
    let run = |args: &[&str]| {
        let out = common::binary().env("DATABASE_URL", &url).arg("--config").arg(&config_path).args(args).output().unwrap();
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    run(&["import", "cooperatives", common::repo().join("fixtures/cooperatives.csv").to_str().unwrap()]);
    let products = tmp.path().join("magersari.csv");
    std::fs::copy(common::repo().join("fixtures/products/magersari.csv"), &products).unwrap();
    run(&["import", "products", products.to_str().unwrap()]);
    let (code, out, err) = run(&["sync", "publish", "--cooperative", "MJK-WATES"]);
    assert_eq!(code, 0, "{out}{err}");
    let sent: i64 = sqlx::query_scalar("SELECT count(*) FROM publications WHERE state = 'submitted'").fetch_one(store.pool()).await.unwrap();
    assert!(sent > 0 && out.contains(&format!("sent {sent}: {sent} accepted")), "{out}");
    assert!(!out.contains("rahasia") && !err.contains("rahasia"), "secrets never shown");
    let (code, out, err) = run(&["sync", "publish", "--cooperative", "MJK-WATES"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("sent 0:"), "{out}");
    let (code, _, err) = run(&["sync", "publish", "--cooperative", "MJK-ATLANTIS"]);
    assert_eq!(code, 2);
    assert!(err.contains("MJK-ATLANTIS is not registered"), "{err}");
    assert_eq!(truth(&server).await.len() as i64, sent);

    // Review ends on the catalogue; `sync status` follows it; `listings` shows it.
    advance(&server, 30).await;
    let (code, out, err) = run(&["sync", "status"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("changes applied"), "{out}");
    let (code, out, err) = run(&["listings", "--cooperative", "MJK-WATES", "--json"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.len() as i64 >= sent);
    let truth = truth(&server).await;
    for l in lines.iter().filter(|l| l["state"] != "blocked") {
        for key in ["cooperative", "sku", "remote_id", "state", "reasons"] {
            assert!(!l[key].is_null(), "{key} in {l}");
        }
        let t = truth.iter().find(|t| t["listing_id"] == l["remote_id"]).unwrap();
        assert_eq!(t["state"], l["state"], "{l}");
    }
    let sent_back: Vec<&Value> = lines.iter().filter(|l| l["state"] == "rejected" || l["state"] == "revision_requested").collect();
    assert!(!sent_back.is_empty() && sent_back.iter().all(|l| !l["reasons"].as_array().unwrap().is_empty()), "{lines:?}");
    let (code, text, _) = run(&["listings", "--state", sent_back[0]["state"].as_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(text.contains(sent_back[0]["reasons"][0].as_str().unwrap()), "reasons in plain words: {text}");
    assert!(text.contains("WIB"), "since when, in Jakarta time: {text}");
    let (code, _, err) = run(&["listings", "--state", "tayang"]);
    assert_eq!(code, 2);
    assert!(err.contains("is not a state"), "{err}");
    // A resubmitted listing goes out again at the next publish.
    let id = sent_back[0]["id"].as_i64().unwrap().to_string();
    let (code, out, _) = run(&["listings", "resubmit", &id]);
    assert_eq!(code, 0, "{out}");
    // The same use case as the listings page's button: audited, here in the operator's name.
    let audited: Vec<(String, Value)> =
        sqlx::query_as("SELECT username, detail FROM audit_log WHERE action = 'listing.resubmit'").fetch_all(store.pool()).await.unwrap();
    assert_eq!(audited.len(), 1, "{audited:?}");
    assert!(audited[0].0.starts_with("cli:") && audited[0].1["publication"] == id.parse::<i64>().unwrap() && audited[0].1["resent"] == true, "{audited:?}");
    let (code, out, err) = run(&["sync", "publish", "--cooperative", "MJK-WATES"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("sent 1: 1 accepted"), "{out}");
}

async fn advance(server: &MockServer, hours: i64) {
    reqwest::Client::new().post(format!("{}/admin/clock/advance", server.url())).json(&serde_json::json!({"hours": hours})).send().await.unwrap();
}

async fn fault(server: &MockServer, f: Value) {
    reqwest::Client::new().post(format!("{}/admin/faults", server.url())).json(&f).send().await.unwrap();
}

/// Every publication ends in the state the catalogue's ground truth shows,
/// with the curators' reasons, though pages repeat and reorder items.
#[tokio::test]
async fn review_is_followed_to_the_ground_truth_through_repeated_and_reordered_pages() {
    use katalog_bridge::publish::Channel;
    use katalog_bridge::publish::status::{StatusOptions, sync_status};
    let store = common::fixture_store().await;
    let scenario = scenario();
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let client = client(&server, &scenario);
    publish(&store, &plan(), &client, &PublishOptions::default()).await.unwrap();
    advance(&server, 2).await; // submitted -> under curation
    let first = sync_status(&store, &client, Channel::Api, None, &StatusOptions { page_size: 5, ..Default::default() }).await.unwrap();
    assert!(first.changes.applied > 0 && first.failed.is_empty(), "{}", first.summary());
    fault(&server, serde_json::json!({"route": "/api/v1/listings", "kind": "duplicate"})).await;
    fault(&server, serde_json::json!({"route": "/api/v1/listings", "kind": "reorder"})).await;
    advance(&server, 30).await; // review decided
    let second = sync_status(&store, &client, Channel::Api, None, &StatusOptions { page_size: 5, ..Default::default() }).await.unwrap();
    assert!(second.changes.repeated > 0, "the repeated items were seen: {}", second.summary());
    assert_eq!(second.changes.not_allowed, 0, "{}", second.summary());

    let truth = truth(&server).await;
    let ours: Vec<(String, String, Value)> = sqlx::query_as("SELECT remote_id, state, reasons FROM publications").fetch_all(store.pool()).await.unwrap();
    assert_eq!(ours.len(), truth.len());
    let mut rejected = 0;
    for (remote, state, reasons) in &ours {
        let t = truth.iter().find(|l| l["listing_id"] == remote.as_str()).unwrap();
        assert_eq!(t["state"], state.as_str(), "{remote}");
        assert_eq!(&t["reasons"], reasons, "{remote}");
        if state == "rejected" {
            rejected += 1;
            assert!(!reasons.as_array().unwrap().is_empty());
        }
    }
    assert!(rejected > 0, "the scenario's rules reject some listings");
    // Each remote change is recorded once, and a rerun finds nothing new.
    let again = sync_status(&store, &client, Channel::Api, None, &StatusOptions { page_size: 5, ..Default::default() }).await.unwrap();
    assert_eq!(again.changes.applied, 0, "{}", again.summary());
    let doubled: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT publication_id, remote_change FROM publication_events WHERE remote_change IS NOT NULL
         GROUP BY 1, 2 HAVING count(*) > 1) d",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(doubled, 0);
}

/// SIGKILL `sync publish` at several points of a run of a few thousand
/// listings, then run it to the end: the catalogue holds each product exactly
/// once, and the local states agree with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publisher_killed_at_any_point_leaves_each_product_listed_exactly_once() {
    use std::io::Write;
    let (store, url) = common::fresh_db().await;
    let mut scenario = scenario();
    scenario.rate_limit_per_minute = 1_000_000;
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let tmp = common::temp_dir();
    let mut config = format!("[catalogue]\nbase_url = \"{}\"\nmax_concurrency = 8\n", server.url());
    for c in &scenario.clients {
        config.push_str(&format!(
            "[[catalogue.sellers]]\nkode_penyedia = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\n",
            c.kode_penyedia, c.client_id, c.client_secret
        ));
    }
    let config_path = tmp.path().join("katalog-bridge.toml");
    std::fs::write(&config_path, config).unwrap();
    // 2,400 ready products over four cooperatives
    let products = tmp.path().join("banyak.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&products).unwrap());
    writeln!(f, "kode_koperasi;kode_anggota;nama_anggota;sku;nama_produk;kategori;satuan;harga;berat_kg;foto").unwrap();
    let coops = ["MJK-WATES", "MJK-MERI", "MJK-KAUMAN", "MJK-MIJI"];
    for i in 0..2_400 {
        writeln!(
            f,
            "{};M-{};Anggota {};SKU-{i:05};Minyak Goreng Kemasan Nomor {i};Minyak Goreng;botol;{};1;https://f.id/{i}.jpg",
            coops[i % 4],
            i % 7,
            i % 7,
            15_000 + i % 100
        )
        .unwrap();
    }
    drop(f);
    let bin = |args: &[&str]| {
        let mut cmd = common::binary();
        cmd.env("DATABASE_URL", &url).arg("--config").arg(&config_path).args(args);
        cmd
    };
    assert!(bin(&["import", "cooperatives", common::repo().join("fixtures/cooperatives.csv").to_str().unwrap()]).output().unwrap().status.success());
    assert!(bin(&["import", "products", products.to_str().unwrap()]).output().unwrap().status.success());
    let submitted =
        || async { sqlx::query_scalar::<_, i64>("SELECT count(*) FROM publications WHERE state = 'submitted'").fetch_one(store.pool()).await.unwrap() };
    for kill_at in [300, 1_000, 1_800] {
        let mut child = bin(&["sync", "publish"]).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
        let started = std::time::Instant::now();
        while submitted().await < kill_at {
            assert!(started.elapsed() < std::time::Duration::from_secs(120), "progress stalled at {}", submitted().await);
            assert!(child.try_wait().unwrap().is_none(), "the publisher finished before {kill_at}");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        child.kill().unwrap(); // SIGKILL: no chance to tidy up
        child.wait().unwrap();
    }
    let out = bin(&["sync", "publish"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("0 refused, 0 to retry later"), "{stdout}");

    let truth = truth(&server).await;
    let publications: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT pb.seller, m.code || '/' || p.sku, pb.remote_id, pb.state FROM publications pb JOIN products p ON p.id = pb.product_id
             JOIN members m ON m.id = p.member_id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(publications.len(), 2_400);
    assert!(publications.iter().all(|(_, _, _, state)| state == "submitted"));
    let mut seen = std::collections::HashSet::new();
    for l in &truth {
        let key = (l["kode_penyedia"].as_str().unwrap().to_owned(), l["sku"].as_str().unwrap().to_owned());
        assert!(seen.insert(key.clone()), "listed twice: {key:?}");
    }
    assert_eq!(truth.len(), 2_400, "each product listed exactly once");
    for (seller, sku, remote, _) in &publications {
        let t = truth.iter().find(|l| l["listing_id"] == remote.as_str()).expect("the local listing id is the catalogue's");
        assert_eq!((t["kode_penyedia"].as_str().unwrap(), t["sku"].as_str().unwrap()), (seller.as_str(), sku.as_str()));
    }
}

/// Under every fault the mock injects (429 storms, 5xx bursts, dropped
/// connections, truncated bodies, token expiry, latency), publishing ends
/// with every publication as the ground truth shows it, none listed twice.
#[tokio::test]
async fn under_every_fault_publishing_converges_on_the_ground_truth() {
    let store = common::fixture_store().await;
    let mut scenario = scenario();
    scenario.rate_limit_per_minute = 1_000_000;
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let client = client(&server, &scenario);
    for f in [
        serde_json::json!({"route": "/api/v1/listings", "kind": "rate_limit", "count": 15}),
        serde_json::json!({"route": "/api/v1/listings", "kind": "status", "status": 503, "count": 10}),
        serde_json::json!({"route": "/api/v1/listings", "kind": "drop", "count": 10}),
        serde_json::json!({"route": "/api/v1/listings", "kind": "malformed", "count": 10}),
        serde_json::json!({"route": "/api/v1/listings", "kind": "latency", "ms": 30, "count": 20}),
        serde_json::json!({"route": "/oauth/token", "kind": "status", "status": 502, "count": 3}),
    ] {
        fault(&server, f).await;
    }
    let mut runs = 0;
    loop {
        runs += 1;
        let report = publish(&store, &plan(), &client, &PublishOptions { concurrency: 4, ..Default::default() }).await.unwrap();
        assert!(report.refused.is_empty(), "{}", report.summary());
        if report.deferred == 0 {
            break;
        }
        // what was deferred waits a minute: make it due now
        sqlx::query("UPDATE publications SET next_attempt_at = NULL").execute(store.pool()).await.unwrap();
        fault(&server, serde_json::json!({"kind": "expire_tokens"})).await;
        assert!(runs < 5, "converges");
    }
    let truth = truth(&server).await;
    let ours: Vec<(String, String)> = sqlx::query_as("SELECT remote_id, state FROM publications").fetch_all(store.pool()).await.unwrap();
    assert_eq!(truth.len(), ours.len(), "none listed twice, none lost");
    for (remote, state) in &ours {
        let t = truth.iter().find(|l| l["listing_id"] == remote.as_str()).unwrap();
        assert_eq!(t["state"], state.as_str());
    }
    // (several faults can fall on one request, so there are fewer retries than faults)
    let c = client.counters();
    let (retries, limited) = (c.retries.load(std::sync::atomic::Ordering::Relaxed), c.rate_limited.load(std::sync::atomic::Ordering::Relaxed));
    assert!(retries >= 15 && limited >= 1, "the faults were met: {retries} retries, {limited} 429s");
}

/// `--cooperative` sends that cooperative's publications only, even when
/// others are pending from an earlier run.
#[tokio::test]
async fn one_cooperatives_run_sends_only_its_own_publications() {
    let store = common::fixture_store().await;
    let mut scenario = scenario();
    scenario.rate_limit_per_minute = 1_000_000;
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let client = client(&server, &scenario);
    // every cooperative's publications planned (pending), none sent
    publish(&store, &plan(), &client, &PublishOptions { dry_run: true, ..Default::default() }).await.unwrap();
    let wates = PublishOptions { cooperative: Some("MJK-WATES".into()), ..Default::default() };
    let report = publish(&store, &plan(), &client, &wates).await.unwrap();
    assert!(report.sent > 0);
    let sellers: std::collections::HashSet<String> = truth(&server).await.iter().map(|l| l["kode_penyedia"].as_str().unwrap().to_owned()).collect();
    assert_eq!(sellers, ["P3576-0006".to_owned()].into_iter().collect(), "only MJK-WATES's seller");
    let others: i64 =
        sqlx::query_scalar("SELECT count(*) FROM publications WHERE seller <> 'P3576-0006' AND state = 'pending'").fetch_one(store.pool()).await.unwrap();
    assert!(others > 0, "the others stay pending");
}

/// Price ceilings per kilogram (issue 20): an over-priced sack of rice is
/// held back before anything is sent, naming both amounts per kilogram; a
/// fairly priced 25 kg sack is sent and goes live, the catalogue's review
/// applying the same ceilings.
#[tokio::test]
async fn an_overpriced_sack_is_held_back_before_sending_and_a_fair_one_goes_live() {
    use katalog_bridge::publish::Channel;
    use katalog_bridge::publish::status::{StatusOptions, sync_status};
    let store = common::fixture_store().await;
    let scenario = fixture_scenario();
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let client = client(&server, &scenario);
    let report = publish(&store, &plan(), &client, &PublishOptions::default()).await.unwrap();
    assert!(report.complete(), "{}", report.summary());
    advance(&server, 30).await;
    sync_status(&store, &client, Channel::Api, None, &StatusOptions::default()).await.unwrap();

    let sacks: Vec<(String, rust_decimal::Decimal, String)> = sqlx::query_as(
        "SELECT c.code, p.price, COALESCE(pb.state, l.state) FROM products p JOIN cooperatives c ON c.id = p.cooperative_id
         JOIN listings l ON l.product_id = p.id AND l.format = 'katalog-v6'
         LEFT JOIN publications pb ON pb.product_id = p.id AND pb.channel = 'api'
         WHERE p.sku = 'BRS-PRM-25' AND p.photo_urls <> '{}' ORDER BY p.price",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    // Rp14.900/kg × 25 kg = Rp372.500: above it is held back, at or under it goes live.
    let ceiling = rust_decimal::Decimal::from(372_500);
    assert!(sacks.iter().any(|(_, p, _)| *p > ceiling) && sacks.iter().any(|(_, p, _)| *p <= ceiling), "the fixtures have both: {sacks:?}");
    for (code, price, state) in &sacks {
        let want = if *price > ceiling { "blocked" } else { "live" };
        assert_eq!(state, want, "{code}: a sack at Rp{price}");
    }
    let reasons: Vec<String> = sqlx::query_scalar(
        "SELECT i->>'message' FROM listings l JOIN products p ON p.id = l.product_id, jsonb_array_elements(l.issues) i
         WHERE l.format = 'katalog-v6' AND p.sku = 'BRS-PRM-25' AND i->>'code' = 'above_price_ceiling'",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert!(!reasons.is_empty() && reasons.iter().all(|r| r.contains("/kg di atas HET Rp14.900/kg")), "{reasons:?}");
    // Nothing the check let through was rejected for its price by the catalogue.
    let truth = truth(&server).await;
    let for_price: Vec<&Value> = truth.iter().filter(|l| l["reasons"].to_string().contains("HET")).collect();
    assert!(for_price.is_empty(), "{for_price:?}");
    assert!(!truth.iter().any(|l| l["sku"] == "BRS-PRM-25" && l["state"] == "rejected"));
}
