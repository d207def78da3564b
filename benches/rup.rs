//! The city's purchase plans at a province's scale: `cargo bench --bench rup`.
//!
//! The mock serves KB_BENCH_RUP packages (default 100,000) of 38 buyers (a
//! province's cities), 25 work units each, for this fiscal year, dated
//! around today; the store holds 300 cooperatives, each listing goods of a
//! few categories. `katalog-bridge sync rup` (pages of 1,000) runs as its own
//! process, the release binary: its wall time and peak memory (VmHWM) are
//! measured for a first run (every package new, categories read, notices
//! recorded) and a rerun with nothing changed, with the run's own figures of
//! its two phases (reading the pages with their categories; telling the
//! cooperatives, here every one of 300 listing a package's goods). The
//! baseline, in the same run: the bare fetch of the same pages, one after
//! another, each read and dropped. Target (issue 36): the sync (reading and
//! matching) within 1.5 × the bare fetch.
//!
//! Then the daemon serves the dashboard on that store: 20 logged-in
//! clients (2 liaison, 18 cooperatives' staff) at once ask for "Rencana
//! belanja kota" (`/rencana`, and filtered by small businesses) and
//! "Peluang" (`/peluang`), beside the stylesheet as the baseline. Target:
//! p95 under 100 ms. KB_BENCH_RUNS (default 3) rounds; medians and ranges.

use std::path::Path;
use std::time::Instant;

mod support;

use mock_catalog::scenario::{Buyer, InaprocScenario, RupScenario, Satker};
use mock_catalog::{MockServer, Scenario};

const TOKEN: &str = "jwt-bench-rup";
const PASSWORD: &str = "kata-sandi-bench-2026";
const BUYERS: usize = 38;
const UNITS: usize = 25;

/// Runs `katalog-bridge sync rup` to its end: (wall seconds, peak resident MB).
fn sync(config: &Path, url: &str, on: &str) -> (f64, f64) {
    let started = Instant::now();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_katalog-bridge"))
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .arg("--config")
        .arg(config)
        .args(["sync", "rup", "--on", on])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("katalog-bridge");
    let mut peak: f64 = 0.0;
    let status = loop {
        peak = peak.max(support::peak_rss_of(child.id()));
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(status.success(), "sync rup failed: {status}");
    (started.elapsed().as_secs_f64(), peak)
}

/// Reads every page of every buyer's plan, each dropped once read: (seconds, rows).
async fn fetch_all(http: &reqwest::Client, base: &str, year: i32) -> (f64, u64) {
    let started = Instant::now();
    let mut rows = 0;
    for b in 0..BUYERS {
        let mut cursor: Option<String> = None;
        loop {
            let mut q = vec![("kode_klpd", klpd(b)), ("tahun", year.to_string()), ("limit", "1000".into())];
            if let Some(c) = &cursor {
                q.push(("cursor", c.clone()));
            }
            let url = format!("{base}/api/v1/rup/paket-penyedia-terumumkan");
            let page: serde_json::Value = http.get(url).query(&q).bearer_auth(TOKEN).send().await.unwrap().error_for_status().unwrap().json().await.unwrap();
            rows += page["data"].as_array().map_or(0, Vec::len) as u64;
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
    }
    (started.elapsed().as_secs_f64(), rows)
}

/// The last run's phases as it recorded them: (reading and categories, telling), in seconds.
async fn phases(store: &katalog_bridge::store::Store) -> (f64, f64) {
    let stats: serde_json::Value =
        sqlx::query_scalar("SELECT stats FROM sync_runs WHERE kind = 'rup' ORDER BY id DESC LIMIT 1").fetch_one(store.pool()).await.unwrap();
    (stats["read_seconds"].as_f64().unwrap_or(0.0), stats["tell_seconds"].as_f64().unwrap_or(0.0))
}

fn klpd(b: usize) -> String {
    format!("D{}", 300 + b)
}

/// 300 cooperatives in all, each with a member and ten products in three of
/// the staples' and the city goods' categories.
async fn fill(store: &katalog_bridge::store::Store) {
    let sql = "INSERT INTO cooperatives (code, name, kelurahan, kecamatan, city, kode_penyedia)
                   SELECT 'BENCH-' || g, 'Koperasi bench ' || g, 'Kelurahan ' || g, 'Kecamatan', 'Kota ' || (g % 38), 'PB-' || g
                   FROM generate_series(1, 300 - (SELECT count(*) FROM cooperatives)) g;
               INSERT INTO members (cooperative_id, code, name) SELECT id, code || '-01', 'Unit usaha ' || name FROM cooperatives
                   WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.cooperative_id = cooperatives.id);
               INSERT INTO products (cooperative_id, member_id, sku, name, category, unit, price, stock)
                   SELECT c.id, m.id, 'SKU-' || c.id || '-' || k,
                          (ARRAY['Beras premium 5 kg','Minyak goreng 1 liter','Gula pasir 1 kg','Telur ayam 1 kg','Tepung terigu 1 kg','Garam 250 gram','Keripik tempe','Batik tulis'])[1 + (c.id + k) % 8],
                          (ARRAY['beras','minyak goreng','gula pasir','telur','tepung terigu','garam','makanan ringan','batik tulis'])[1 + (c.id + k % 3) % 8],
                          'kg', 10000 + k * 500, k % 4 * 10
                   FROM cooperatives c JOIN members m ON m.cooperative_id = c.id, generate_series(1, 10) k
                   WHERE NOT EXISTS (SELECT 1 FROM products p WHERE p.cooperative_id = c.id);
               ANALYZE;";
    sqlx::raw_sql(sql).execute(store.pool()).await.unwrap();
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n: u32 = std::env::var("KB_BENCH_RUP").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let runs: usize = std::env::var("KB_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    let requests: usize = std::env::var("KB_BENCH_REQUESTS").ok().and_then(|v| v.parse().ok()).unwrap_or(30);
    let root = env!("CARGO_MANIFEST_DIR");
    let (tmp, store) = support::store_with_cooperatives().await;
    fill(&store).await;
    let socket = tmp.path().join("pg");
    let url = format!("postgres:///katalog_bridge?host={}&user=postgres", socket.display());

    let mut scenario = Scenario::load(Path::new(&format!("{root}/fixtures/scenarios/mojokerto.toml"))).unwrap().starting_near(chrono::Utc::now());
    let today = scenario.start.with_timezone(&chrono_tz::Asia::Jakarta).date_naive();
    let year = chrono::Datelike::year(&today);
    scenario.fiscal_year = Some(year);
    scenario.orders_per_day = 0;
    scenario.initial_orders = 0;
    scenario.buyers = (0..BUYERS)
        .map(|b| Buyer {
            kode_klpd: klpd(b),
            name: format!("Pemerintah Kota {b}"),
            gln: None,
            satker: (0..UNITS).map(|u| Satker { kode: format!("{}.{:02}.01", 1 + b % 9, u), nama: format!("Satuan kerja {u} kota {b}") }).collect(),
        })
        .collect();
    scenario.inaproc = Some(InaprocScenario {
        token: TOKEN.into(),
        per_minute: u32::MAX / 2,
        per_hour: u32::MAX / 2,
        renamed_categories: Default::default(),
        removed_categories: Vec::new(),
    });
    scenario.rup = Some(RupScenario { packages_per_satker: n.div_ceil((BUYERS * UNITS) as u32), bought_elsewhere_percent: 0 });
    let made = Instant::now();
    let server = MockServer::start(scenario, "127.0.0.1:0").await.unwrap();
    let base = server.url();
    println!("mock: {} buyers' plans made in {:.1} s", BUYERS, made.elapsed().as_secs_f64());
    let config = tmp.path().join("kb.toml");
    let buyers: Vec<String> = (0..BUYERS).map(|b| format!("\"{}\"", klpd(b))).collect();
    std::fs::write(
        &config,
        format!(
            "[orders]\nklpd = [{}]\ntahun = [{year}]\n[rup]\npage_size = 1000\n\
             [inaproc]\nbase_url = \"{base}\"\ntoken = \"{TOKEN}\"\nper_minute = 1000000000\nper_hour = 1000000000\n",
            buyers.join(", ")
        ),
    )
    .unwrap();
    let http = reqwest::Client::new();
    let on = today.to_string();
    let (mut ratios, mut rerun_ratios, mut firsts, mut peaks, mut tells) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        sqlx::raw_sql("TRUNCATE rup_packages CASCADE; DELETE FROM sync_cursors WHERE name = 'rup:keywords'").execute(store.pool()).await.unwrap();
        let (first, first_mb) = sync(&config, &url, &on);
        let first_phases = phases(&store).await;
        let (rerun, rerun_mb) = sync(&config, &url, &on);
        let rerun_phases = phases(&store).await;
        let (fetch, rows) = fetch_all(&http, &base, year).await;
        let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM rup_packages").fetch_one(store.pool()).await.unwrap();
        assert_eq!(stored as u64, rows, "every package of the feed is stored");
        println!(
            "run {}: {rows} packages; sync {first:.2} s ({first_mb:.0} MB: reading and categories {:.2} s, telling {:.2} s), \
             rerun {rerun:.2} s ({rerun_mb:.0} MB: {:.2} s, {:.2} s); bare fetch {fetch:.2} s; reading / fetch {:.2}, rerun reading / fetch {:.2}",
            run + 1,
            first_phases.0,
            first_phases.1,
            rerun_phases.0,
            rerun_phases.1,
            first_phases.0 / fetch,
            rerun_phases.0 / fetch
        );
        ratios.push(first_phases.0 / fetch);
        rerun_ratios.push(rerun_phases.0 / fetch);
        tells.push(first_phases.1);
        firsts.push(first);
        peaks.push(first_mb.max(rerun_mb));
    }
    let (matched, notices): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM rup_packages p WHERE p.categories && (SELECT array_agg(DISTINCT category) FROM products)),
                (SELECT count(*) FROM rup_notices)",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    println!(
        "sync rup: median {:.2} s (range {}); reading with the categories / bare fetch median {:.2} (range {}; target at most 1.5); \
         rerun / bare fetch median {:.2} (range {}); telling median {:.2} s (range {}); peak memory median {:.0} MB (range {}); \
         {matched} packages fit 300 cooperatives' goods, {notices} opportunities recorded",
        support::median(&firsts),
        support::range(2, &firsts),
        support::median(&ratios),
        support::range(2, &ratios),
        support::median(&rerun_ratios),
        support::range(2, &rerun_ratios),
        support::median(&tells),
        support::range(2, &tells),
        support::median(&peaks),
        support::range(0, &peaks)
    );

    // KB_BENCH_HOLD=SECONDS: the store stays up this long before the pages, to look into it (psql on the URL printed).
    if let Some(secs) = std::env::var("KB_BENCH_HOLD").ok().and_then(|v| v.parse::<u64>().ok()) {
        println!("holding the store at {url} for {secs} s");
        tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
    }

    // The pages, 20 clients at once.
    let hash = katalog_bridge::web::auth::hash_password(PASSWORD).unwrap();
    let coops: Vec<String> =
        sqlx::query_scalar("SELECT code FROM cooperatives WHERE code LIKE 'MJK-%' ORDER BY code LIMIT 18").fetch_all(store.pool()).await.unwrap();
    let mut users: Vec<String> = vec!["penghubung-1".into(), "penghubung-2".into()];
    for name in users.iter().take(2) {
        katalog_bridge::store::users::add(&store, name, katalog_bridge::store::users::Role::Liaison, None, &hash).await.unwrap();
    }
    for code in &coops {
        let name = code.to_lowercase();
        katalog_bridge::store::users::add(&store, &name, katalog_bridge::store::users::Role::Cooperative, Some(code), &hash).await.unwrap();
        users.push(name);
    }
    let (mut daemon, dashboard) = support::start_daemon(tmp.path(), "").await;
    let mut clients = Vec::new();
    for (k, name) in users.iter().enumerate() {
        let address = std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 2, u8::try_from(k + 1).unwrap_or(250)));
        clients.push((support::log_in(&dashboard, name, PASSWORD, address).await, ()));
    }
    type PathOf = fn(&(), usize) -> String;
    let pages: [(&str, PathOf); 4] = [
        ("baseline /aset/gaya.css", |_, _| "/aset/gaya.css".into()),
        ("plan /rencana", |_, _| "/rencana".into()),
        ("plan /rencana?ukm=1", |_, _| "/rencana?ukm=1".into()),
        ("opportunities /peluang", |_, _| "/peluang".into()),
    ];
    for (_, path) in &pages {
        support::load(&clients, &dashboard, 3, *path).await;
    }
    let mut p95s: Vec<Vec<f64>> = vec![Vec::new(); pages.len()];
    for run in 0..runs {
        for (k, (name, path)) in pages.iter().enumerate() {
            let mut l = support::load(&clients, &dashboard, requests, *path).await;
            let p = support::p95(&mut l);
            println!("run {}: {name:<26} {} requests, median {:.1} ms, p95 {p:.1} ms", run + 1, l.len(), support::median(&l));
            p95s[k].push(p);
        }
    }
    println!("\n20 clients at once, {runs} runs of {requests} requests each per client and page (target p95 under 100 ms):");
    let base_p95 = support::median(&p95s[0]);
    for (k, (name, _)) in pages.iter().enumerate() {
        println!(
            "  {name:<26} p95 median {:.1} ms (range {}); p95 / baseline p95 {:.1}",
            support::median(&p95s[k]),
            support::range(1, &p95s[k]),
            support::median(&p95s[k]) / base_p95.max(0.001)
        );
    }
    println!("  daemon peak resident memory (VmHWM): {:.0} MB", support::peak_rss_of(daemon.id()));
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(daemon.id() as i32), nix::sys::signal::Signal::SIGTERM);
    let _ = daemon.wait();
    drop(server);
    let _ = store.close().await;
}
