//! The INAPROC order sync at a province's scale: `cargo bench --bench inaproc`.
//!
//! The mock serves KB_BENCH_INAPROC packages (default 95,000) of one buyer
//! (`D347`), fiscal year 2026, with a mean of 2 product rows each, its quota
//! lifted. `katalog-bridge sync orders` (`source = "inaproc"`, pages of
//! 1,000) runs as its own process, the release binary, against a PostgreSQL
//! this bench starts; its wall time and its own peak memory (`wait4`) are
//! measured for a first run and for a rerun with nothing changed. Beside
//! them, in the same run:
//! - the bare fetch: the same package pages, then the product pages of every
//!   status the store holds, one after another, each read and dropped;
//! - `psql \copy` of the rows the sync stored (orders, lines and the status
//!   event of each new order), out to files untimed and in again timed.
//!
//! Targets (issue 33): first run ≤ 1.5 × (bare fetch + \copy); rerun ≤ 1.3 ×
//! the bare fetch of the package pages; peak memory ≤ 100 MB, and within 20 %
//! at 10 × fewer packages (measured first, at KB_BENCH_INAPROC / 10).
//! KB_BENCH_RUNS (default 3) repeats each scale; medians and ranges are printed.

use std::path::Path;
use std::time::Instant;

mod support;

use mock_catalog::scenario::InaprocScenario;
use mock_catalog::{MockServer, Scenario};

const TOKEN: &str = "jwt-bench-inaproc";

/// Runs `katalog-bridge sync orders` to its end: (wall seconds, the
/// process's own peak resident memory in MB). The peak is the kernel's
/// high-water mark of the process (`VmHWM`), read every 20 ms while it runs
/// (a `wait4` figure would count this bench's own memory, which the child
/// shares until it starts the program).
fn sync(config: &Path, url: &str) -> (f64, f64) {
    let started = Instant::now();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_katalog-bridge"))
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .arg("--config")
        .arg(config)
        .args(["sync", "orders"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("katalog-bridge");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    let status = loop {
        if let Some(hwm) = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|s| s.lines().find_map(|l| l.strip_prefix("VmHWM:").and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())))
        {
            peak_kib = peak_kib.max(hwm);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let elapsed = started.elapsed().as_secs_f64();
    assert!(status.success(), "sync orders failed: {status}");
    (elapsed, peak_kib as f64 / 1024.0)
}

/// Reads every page of one INAPROC list, each dropped once read: (seconds, rows).
async fn fetch_all(http: &reqwest::Client, base: &str, path: &str, query: &[(&str, String)]) -> (f64, u64) {
    let started = Instant::now();
    let mut cursor: Option<String> = None;
    let mut rows = 0;
    loop {
        let mut q: Vec<(&str, String)> = query.to_vec();
        q.push(("limit", "1000".into()));
        if let Some(c) = &cursor {
            q.push(("cursor", c.clone()));
        }
        let page: serde_json::Value =
            http.get(format!("{base}{path}")).query(&q).bearer_auth(TOKEN).send().await.unwrap().error_for_status().unwrap().json().await.unwrap();
        rows += page["data"].as_array().map_or(0, Vec::len) as u64;
        let next = page["meta"]["cursor"].as_str().filter(|c| !c.is_empty()).map(str::to_owned);
        if page["meta"]["has_more"] != true || next.is_none() || next == cursor {
            break;
        }
        cursor = next;
    }
    (started.elapsed().as_secs_f64(), rows)
}

struct Measured {
    first: f64,
    first_mb: f64,
    rerun: f64,
    rerun_mb: f64,
    fetch_packages: f64,
    fetch_products: f64,
    copy: f64,
}

impl Measured {
    fn full_ratio(&self) -> f64 {
        self.first / (self.fetch_packages + self.fetch_products + self.copy)
    }
    fn rerun_ratio(&self) -> f64 {
        self.rerun / self.fetch_packages
    }
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n: u32 = std::env::var("KB_BENCH_INAPROC").ok().and_then(|v| v.parse().ok()).unwrap_or(95_000);
    let runs: usize = std::env::var("KB_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    let root = env!("CARGO_MANIFEST_DIR");
    let (tmp, store) = support::store_with_cooperatives().await;
    let socket = tmp.path().join("pg");
    let url = format!("postgres:///katalog_bridge?host={}&user=postgres", socket.display());
    let psql = |args: &[&str]| {
        let out = std::process::Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(&socket)
            .args(["-U", "postgres", "-d", "katalog_bridge"])
            .args(args)
            .output()
            .expect("psql");
        assert!(out.status.success(), "psql: {}", String::from_utf8_lossy(&out.stderr));
    };
    let reset = || psql(&["-c", "TRUNCATE purchase_orders, order_detail_claims, inaproc_line_stage CASCADE; DELETE FROM sync_cursors"]);
    let http = reqwest::Client::new();
    let mut scales = Vec::new();
    for packages in [(n / 10).max(1), n] {
        let mut scenario = Scenario::load(Path::new(&format!("{root}/fixtures/scenarios/mojokerto.toml"))).unwrap();
        scenario.initial_orders = packages;
        scenario.lines_per_order_mean = 2;
        scenario.fiscal_year = Some(2026);
        scenario.orders_per_day = 0;
        scenario.rate_limit_per_minute = u32::MAX / 2;
        scenario.inaproc = Some(InaprocScenario {
            token: TOKEN.into(),
            per_minute: u32::MAX / 2,
            per_hour: u32::MAX / 2,
            renamed_categories: Default::default(),
            removed_categories: Vec::new(),
        });
        let server = MockServer::start(scenario, "127.0.0.1:0").await.unwrap();
        let base = server.url();
        let config = tmp.path().join("kb.toml");
        std::fs::write(
            &config,
            format!(
                "[orders]\nsource = \"inaproc\"\nklpd = [\"D347\"]\ntahun = [2026]\npage_size = 1000\ndetail_batch = 500\n\
                 [inaproc]\nbase_url = \"{base}\"\ntoken = \"{TOKEN}\"\nper_minute = 1000000000\nper_hour = 1000000000\n"
            ),
        )
        .unwrap();
        let mut measured = Vec::new();
        for run in 0..runs {
            reset();
            let (first, first_mb) = sync(&config, &url);
            let (rerun, rerun_mb) = sync(&config, &url);
            let (orders, lines): (i64, i64) =
                sqlx::query_as("SELECT (SELECT count(*) FROM purchase_orders), (SELECT count(*) FROM order_lines)").fetch_one(store.pool()).await.unwrap();
            let statuses: Vec<String> = sqlx::query_scalar("SELECT DISTINCT status FROM purchase_orders ORDER BY 1").fetch_all(store.pool()).await.unwrap();

            // The bare fetch of the same pages.
            let year = [("kode_klpd", "D347".to_owned()), ("tahun", "2026".to_owned())];
            let (fetch_packages, package_rows) = fetch_all(&http, &base, "/api/v1/ekatalog/paket-e-purchasing", &year).await;
            let (mut fetch_products, mut product_rows) = (0.0, 0);
            for status in &statuses {
                let query = [year[0].clone(), year[1].clone(), ("status", status.clone())];
                let (s, r) = fetch_all(&http, &base, "/api/v1/ekatalog/e-purchasing-by-produk", &query).await;
                fetch_products += s;
                product_rows += r;
            }
            assert_eq!((orders as u64, lines as u64), (package_rows, product_rows), "the store holds every package and product row of the feed");

            // \copy of the rows the sync stored.
            let files = ["purchase_orders", "order_lines", "order_events"].map(|t| (t, tmp.path().join(format!("{t}.copy"))));
            for (table, file) in &files {
                psql(&["-c", &format!("\\copy {table} TO '{}'", file.display())]);
            }
            reset();
            let started = Instant::now();
            for (table, file) in &files {
                psql(&["-c", &format!("\\copy {table} FROM '{}'", file.display())]);
            }
            let copy = started.elapsed().as_secs_f64();
            let m = Measured { first, first_mb, rerun, rerun_mb, fetch_packages, fetch_products, copy };
            println!(
                "{packages} packages, {lines} rows, run {}: first sync {first:.2} s ({first_mb:.0} MB), rerun {rerun:.2} s ({rerun_mb:.0} MB); \
                 bare fetch: packages {fetch_packages:.2} s + products {fetch_products:.2} s; \\copy {copy:.2} s; \
                 first / (fetch + \\copy) {:.2}, rerun / package fetch {:.2}",
                run + 1,
                m.full_ratio(),
                m.rerun_ratio()
            );
            measured.push(m);
        }
        scales.push((packages, measured));
        drop(server);
    }
    for (packages, m) in &scales {
        let of = |f: fn(&Measured) -> f64| m.iter().map(f).collect::<Vec<_>>();
        let (full, rerun) = (of(Measured::full_ratio), of(Measured::rerun_ratio));
        let (first, again) = (of(|m| m.first), of(|m| m.rerun));
        let peak = of(|m| m.first_mb.max(m.rerun_mb));
        println!(
            "{packages} packages: first sync median {:.2} s ({}), rerun median {:.2} s ({}); first / (fetch + \\copy) median {:.2} (range {}; target at most 1.5); \
             rerun / package fetch median {:.2} (range {}; target at most 1.3); peak memory median {:.0} MB (range {}; target at most 100)",
            support::median(&first),
            support::range(2, &first),
            support::median(&again),
            support::range(2, &again),
            support::median(&full),
            support::range(2, &full),
            support::median(&rerun),
            support::range(2, &rerun),
            support::median(&peak),
            support::range(2, &peak)
        );
    }
    if let [(small, s), (large, l)] = &scales[..] {
        let peak = |m: &Vec<Measured>| support::median(&m.iter().map(|m| m.first_mb.max(m.rerun_mb)).collect::<Vec<_>>());
        println!("peak memory at {large} packages / at {small}: {:.2} (target within 0.8-1.2)", peak(l) / peak(s));
    }
    drop(store);
}
