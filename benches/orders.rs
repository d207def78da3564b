//! Order sync at scale: `cargo bench --bench orders`.
//!
//! KB_BENCH_ORDERS packages (default 100,000) with a mean of 10 lines each
//! (about 1,000,000 lines), all for our cooperatives. Three measurements,
//! each against a baseline run in the same process:
//! 1. the mock catalogue making the story (seconds; no baseline);
//! 2. the write path: storing the orders and lines, already fetched and
//!    parsed, through the store's page and detail writes, against `psql
//!    \copy` of the same rows into the same tables (the ratio of throughputs;
//!    the target is at least 0.5);
//! 3. the whole `sync orders` over HTTP from the mock (rate limit lifted),
//!    against its floor: a bare concurrent fetch loop over the same pages and
//!    details with the same concurrency, parsing and storing nothing, plus
//!    the `psql \copy` of part 2 (the ratio of times, sync / floor; the
//!    target is at most 1.5: PostgreSQL, the mock and the sync share the
//!    machine's cores, so writing the rows alone takes longer than fetching).
//!
//! KB_BENCH_RUNS (default 3) repeats 2 and 3; the median and range are printed.

use std::time::Instant;

mod support;

use futures_util::StreamExt;
use katalog_bridge::catalog::client::CatalogueClient;
use katalog_bridge::config::CatalogueSettings;
use katalog_bridge::domain::order::RemoteOrder;
use katalog_bridge::mapping::MappingSource;
use katalog_bridge::orders::{SOURCE, SyncOptions, sync_orders};
use katalog_bridge::store::orders;
use mock_catalog::{MockServer, Scenario, state::Mock};

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n: u32 = std::env::var("KB_BENCH_ORDERS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let runs: usize = std::env::var("KB_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    let root = env!("CARGO_MANIFEST_DIR");
    let mut scenario = Scenario::load(std::path::Path::new(&format!("{root}/fixtures/scenarios/mojokerto.toml"))).unwrap();
    scenario.initial_orders = n;
    scenario.lines_per_order_mean = 10;
    scenario.fiscal_year = Some(2026);
    scenario.orders_per_day = 0;
    scenario.rate_limit_per_minute = u32::MAX / 2;

    // 1. The mock makes the story.
    let started = Instant::now();
    let mock = Mock::new(scenario.clone());
    let made = started.elapsed().as_secs_f64();
    let lines: usize = mock.orders.iter().map(|o| o.lines.len()).sum();
    println!("mock: {} packages with {lines} lines made in {made:.2} s", mock.orders.len());

    // Parsed as the sync parses them: packages (no lines) and details.
    let details: Vec<RemoteOrder> = mock.orders.iter().map(|o| katalog_bridge::catalog::orders::order(&serde_json::to_value(o).unwrap()).unwrap()).collect();
    let packages: Vec<RemoteOrder> = details.iter().map(|d| RemoteOrder { lines: None, ..d.clone() }).collect();
    drop(mock);

    let (tmp, store) = support::store_with_cooperatives().await;
    let calendar = katalog_bridge::mapping::working_calendar(&MappingSource::BuiltIn, false).unwrap();
    if let Ok(log) = std::env::var("KB_BENCH_LOG_STATEMENTS") {
        // Every statement's duration into the server's log, and the log kept at `log` for reading.
        sqlx::query("ALTER SYSTEM SET log_min_duration_statement = 0").execute(store.pool()).await.unwrap();
        sqlx::query("SELECT pg_reload_conf()").execute(store.pool()).await.unwrap();
        eprintln!("statement log: {}/pg/server.log (copied to {log} at the end)", tmp.path().display());
    }
    let ours = orders::our_sellers(&store).await.unwrap();
    let psql = |args: &[&str]| {
        let out = std::process::Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(tmp.path().join("pg"))
            .args(["-U", "postgres", "-d", "katalog_bridge"])
            .args(args)
            .output()
            .expect("psql");
        assert!(out.status.success(), "psql: {}", String::from_utf8_lossy(&out.stderr));
    };
    let reset = || psql(&["-c", "TRUNCATE purchase_orders, order_detail_claims CASCADE; DELETE FROM sync_cursors"]);
    let rows = (packages.len() + lines) as f64;

    // 2. The write path against psql \copy of the same rows.
    let (mut ours_s, mut copy_s) = (Vec::new(), Vec::new());
    for run in 0..runs {
        reset();
        let started = Instant::now();
        for (i, page) in packages.chunks(1000).enumerate() {
            orders::apply_order_page(&store, SOURCE, page, &ours, &calendar, Some(("bench", &i.to_string()))).await.unwrap();
        }
        let ids: std::collections::HashMap<String, i64> =
            sqlx::query_as::<_, (String, i64)>("SELECT remote_order_id, id FROM purchase_orders").fetch_all(store.pool()).await.unwrap().into_iter().collect();
        let mut after = 0;
        for batch in details.chunks(1000) {
            let (claimed, last) = orders::claim_details(&store, "bench", SOURCE, after, 1000, 600.0).await.unwrap();
            after = last.unwrap_or(after);
            let claimed: std::collections::HashSet<i64> = claimed.iter().map(|c| c.id).collect();
            let with_ids: Vec<(i64, &RemoteOrder)> = batch.iter().map(|d| (ids[&d.order_id], d)).filter(|(id, _)| claimed.contains(id)).collect();
            orders::write_details(&store, "bench", &with_ids, &calendar).await.unwrap();
        }
        let ours_elapsed = started.elapsed().as_secs_f64();
        let stored: i64 =
            sqlx::query_scalar("SELECT (SELECT count(*) FROM purchase_orders) + (SELECT count(*) FROM order_lines)").fetch_one(store.pool()).await.unwrap();
        assert_eq!(stored as f64, rows, "every order and line stored");
        // The same rows (orders, lines, and the status event each new order
        // gets), out to files (untimed) and in again with \copy.
        let o = tmp.path().join("orders.copy");
        let l = tmp.path().join("lines.copy");
        let e = tmp.path().join("events.copy");
        psql(&["-c", &format!("\\copy purchase_orders TO '{}'", o.display())]);
        psql(&["-c", &format!("\\copy order_lines TO '{}'", l.display())]);
        psql(&["-c", &format!("\\copy order_events TO '{}'", e.display())]);
        reset();
        let started = Instant::now();
        psql(&["-c", &format!("\\copy purchase_orders FROM '{}'", o.display())]);
        psql(&["-c", &format!("\\copy order_lines FROM '{}'", l.display())]);
        psql(&["-c", &format!("\\copy order_events FROM '{}'", e.display())]);
        let copy_elapsed = started.elapsed().as_secs_f64();
        println!(
            "write run {}: store {ours_elapsed:.2} s ({:.0} rows/s), psql \\copy {copy_elapsed:.2} s ({:.0} rows/s), ratio {:.2}",
            run + 1,
            rows / ours_elapsed,
            rows / copy_elapsed,
            copy_elapsed / ours_elapsed
        );
        ours_s.push(ours_elapsed);
        copy_s.push(copy_elapsed);
    }
    let ratios: Vec<f64> = ours_s.iter().zip(&copy_s).map(|(o, c)| c / o).collect();
    println!(
        "write path: {:.0} orders + {lines} lines; store median {:.2} s ({}), psql \\copy median {:.2} s ({}); throughput ratio median {:.2} (range {}; target at least 0.5)",
        packages.len(),
        support::median(&ours_s),
        support::range(2, &ours_s),
        support::median(&copy_s),
        support::range(2, &copy_s),
        support::median(&ratios),
        support::range(2, &ratios)
    );

    // 3. The whole sync over HTTP against a bare fetch loop.
    if std::env::var_os("KB_BENCH_WRITE_ONLY").is_some() {
        drop(store);
        if std::env::var_os("KB_BENCH_KEEP").is_some() {
            eprintln!("kept: {}", tmp.keep().display());
            return;
        }
        if let Ok(log) = std::env::var("KB_BENCH_LOG_STATEMENTS") {
            let _ = std::fs::copy(tmp.path().join("pg/server.log"), log);
        }
        return;
    }
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let settings =
        CatalogueSettings { base_url: server.url(), sellers: katalog_bridge::demo::seller_accounts(&scenario), max_concurrency: 8, ..Default::default() };
    let (client, _) = CatalogueClient::new(&settings).unwrap();
    let options = SyncOptions { klpd: vec!["D347".into()], years: vec![2026], page: 1000, detail_batch: 1000, concurrency: 8, ..Default::default() };
    let http = reqwest::Client::new();
    let c = &scenario.clients[0];
    let token: serde_json::Value = http
        .post(format!("{}/oauth/token", server.url()))
        .form(&[("grant_type", "client_credentials"), ("client_id", c.client_id.as_str()), ("client_secret", c.client_secret.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
    let (mut sync_s, mut bare_s) = (Vec::new(), Vec::new());
    for (run, copy_elapsed) in copy_s.iter().enumerate() {
        reset();
        let started = Instant::now();
        let report = sync_orders(&store, &client, &calendar, &options).await.unwrap();
        let sync_elapsed = started.elapsed().as_secs_f64();
        assert!(report.complete() && report.details.lines as usize == lines, "{}", report.summary());
        // The ceiling: the same requests, nothing parsed or stored.
        let started = Instant::now();
        let mut cursor: Option<String> = None;
        let mut ids = Vec::with_capacity(n as usize);
        loop {
            let mut q = vec![("kode_klpd", "D347".to_owned()), ("tahun", "2026".to_owned()), ("limit", "1000".to_owned())];
            if let Some(c) = &cursor {
                q.push(("cursor", c.clone()));
            }
            let page: serde_json::Value = http
                .get(format!("{}/api/v1/ekatalog/paket-e-purchasing", server.url()))
                .query(&q)
                .header("authorization", &bearer)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            ids.extend(page["data"].as_array().unwrap().iter().map(|o| o["order_id"].as_str().unwrap().to_owned()));
            if page["meta"]["has_more"] != true {
                break;
            }
            cursor = page["meta"]["cursor"].as_str().map(str::to_owned);
        }
        let fetched: usize = futures_util::stream::iter(ids)
            .map(|id| {
                let (http, bearer, url) = (&http, &bearer, server.url());
                async move {
                    http.get(format!("{url}/api/v1/ekatalog/paket-e-purchasing/{id}"))
                        .header("authorization", bearer)
                        .send()
                        .await
                        .unwrap()
                        .bytes()
                        .await
                        .unwrap()
                        .len()
                }
            })
            .buffer_unordered(8)
            .count()
            .await;
        let bare_elapsed = started.elapsed().as_secs_f64();
        assert_eq!(fetched, n as usize);
        println!(
            "sync run {}: sync orders {sync_elapsed:.2} s ({:.0} orders/s, {:.0} lines/s), bare fetch loop {bare_elapsed:.2} s, floor (fetch + \\copy {:.2} s) {:.2} s, sync / floor {:.2}",
            run + 1,
            f64::from(n) / sync_elapsed,
            lines as f64 / sync_elapsed,
            copy_elapsed,
            bare_elapsed + copy_elapsed,
            sync_elapsed / (bare_elapsed + copy_elapsed)
        );
        sync_s.push(sync_elapsed);
        bare_s.push(bare_elapsed);
    }
    let ratios: Vec<f64> = sync_s.iter().zip(&bare_s).zip(&copy_s).map(|((s, b), c)| s / (b + c)).collect();
    println!(
        "sync: median {:.2} s ({}; {:.0} orders/s, {:.0} lines/s), bare fetch loop median {:.2} s ({}); sync / (fetch + \\copy) median {:.2} (range {}; target at most 1.5); peak RSS of this process (mock included) {:.0} MB",
        support::median(&sync_s),
        support::range(2, &sync_s),
        f64::from(n) / support::median(&sync_s),
        lines as f64 / support::median(&sync_s),
        support::median(&bare_s),
        support::range(2, &bare_s),
        support::median(&ratios),
        support::range(2, &ratios),
        support::peak_rss_mb()
    );
    drop(store);
    if let Ok(log) = std::env::var("KB_BENCH_LOG_STATEMENTS") {
        let _ = std::fs::copy(tmp.path().join("pg/server.log"), log);
    }
}
