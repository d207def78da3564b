//! Publishing pace: `cargo bench --bench publish`.
//!
//! Starts the mock catalogue with its rate limit at 3,000 requests a minute
//! (KB_BENCH_RATE to change), imports KB_BENCH_LISTINGS (default 2,000) ready
//! products over four cooperatives into a private PostgreSQL, and publishes
//! them over the API, timing the send phase against the ideal of one request
//! every 60/rate seconds (the baseline, computed from the same run's request
//! count), and counting the 429s the client ran into. Then it runs the
//! publisher again with nothing changed and counts the write requests (zero).

use std::io::Write;
use std::sync::atomic::Ordering;
use std::time::Instant;

mod support;

use katalog_bridge::catalog::Format;
use katalog_bridge::catalog::client::CatalogueClient;
use katalog_bridge::config::{CatalogueSettings, DatabaseSettings, ImportSettings};
use katalog_bridge::intake::{self, ImportOptions};
use katalog_bridge::mapping::MappingSource;
use katalog_bridge::mapping::plan::Tables;
use katalog_bridge::mapping::units::UnitTable;
use katalog_bridge::publish::{PublishOptions, publish};
use katalog_bridge::store::Store;
use mock_catalog::{MockServer, Scenario};

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let listings: usize = std::env::var("KB_BENCH_LISTINGS").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000);
    let rate: u32 = std::env::var("KB_BENCH_RATE").ok().and_then(|v| v.parse().ok()).unwrap_or(3_000);
    let root = env!("CARGO_MANIFEST_DIR");
    let tmp = tempfile::Builder::new().prefix("kb-bench-").tempdir_in(std::env::temp_dir()).unwrap();
    std::fs::set_permissions(tmp.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let db = DatabaseSettings { data_dir: tmp.path().join("pg"), ..Default::default() };
    let store = Store::open_migrated(&db).await.unwrap();
    let units = UnitTable::load(&MappingSource::BuiltIn).unwrap();
    let settings = ImportSettings::default();
    intake::cooperatives::import_cooperatives(&store, std::path::Path::new(&format!("{root}/fixtures/cooperatives.csv")), &ImportOptions::default(), &settings)
        .await
        .unwrap();
    let file = tmp.path().join("products.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    writeln!(f, "kode_koperasi;kode_anggota;nama_anggota;sku;nama_produk;kategori;satuan;harga;berat_kg;foto").unwrap();
    let coops = ["MJK-WATES", "MJK-MERI", "MJK-KAUMAN", "MJK-MIJI"];
    for i in 0..listings {
        writeln!(
            f,
            "{};M-{};Anggota {};SKU-{i:06};Minyak Goreng Kemasan Nomor {i};Minyak Goreng;botol;{};1;https://f.id/{i}.jpg",
            coops[i % 4],
            i % 7,
            i % 7,
            15_000 + i % 100
        )
        .unwrap();
    }
    drop(f);
    intake::products::import_products(&store, &units, &file, None, &ImportOptions::default(), &settings).await.unwrap();

    let mut scenario = Scenario::load(std::path::Path::new(&format!("{root}/fixtures/scenarios/mojokerto.toml"))).unwrap();
    scenario.rate_limit_per_minute = rate;
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let client_settings = CatalogueSettings { base_url: server.url(), sellers: katalog_bridge::demo::seller_accounts(&scenario), ..Default::default() };
    let (client, _) = CatalogueClient::new(&client_settings).unwrap();
    let plan = Format::KatalogV6.plan(&MappingSource::BuiltIn, &Tables::load(&MappingSource::BuiltIn).unwrap()).unwrap();

    let started = Instant::now();
    let report = publish(&store, &plan, &client, &PublishOptions::default()).await.unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    let c = client.counters();
    let requests = c.requests.load(Ordering::Relaxed);
    let limited = c.rate_limited.load(Ordering::Relaxed);
    // The baseline: this run's own requests, each 60/rate seconds apart.
    let ideal = requests as f64 * 60.0 / f64::from(rate);
    println!(
        "publish: {} listings accepted, {requests} requests in {elapsed:.1} s; ideal at {rate}/min {ideal:.1} s; ratio {:.3}; 429s {limited} ({:.2} %); peak RSS {:.1} MB",
        report.accepted,
        elapsed / ideal,
        limited as f64 * 100.0 / requests.max(1) as f64,
        support::peak_rss_mb()
    );
    let before = c.requests.load(Ordering::Relaxed);
    let started = Instant::now();
    let again = publish(&store, &plan, &client, &PublishOptions::default()).await.unwrap();
    println!(
        "rerun, nothing changed: {} sent, {} requests, {:.2} s (map and plan of {listings} products included)",
        again.sent,
        c.requests.load(Ordering::Relaxed) - before,
        started.elapsed().as_secs_f64()
    );
    store.close().await.unwrap();
}
