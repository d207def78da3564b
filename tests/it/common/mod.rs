//! Test support: a real PostgreSQL for every test process, a fresh database
//! for every test, and helpers to run the real binary.
//!
//! The cluster is private to the test process (under the temp dir, so the
//! `postgres` system user can reach it when tests run as root), runs with
//! fsync off, and is stopped and removed when the process exits. Clusters left
//! by a killed test process are cleaned up by the next run.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use katalog_bridge::mapping::input::{ProductRecord, Seller};
use katalog_bridge::store::embedded::{Cluster, ClusterOptions, PgBinaries};
use katalog_bridge::store::{MIGRATOR, Store};
use rust_decimal_macros::dec;
use sqlx::{ConnectOptions, Connection, PgPool};

const TEMPLATE_DB: &str = "kb_template";
/// Put in test URLs and settings; must never appear in output.
pub const SECRET_PASSWORD: &str = "s3cr3t-Pw-never-shown";
const DIR_PREFIX: &str = "katalog-bridge-tests-";

struct TestCluster {
    cluster: Cluster,
    root: PathBuf,
}

static CLUSTER: OnceLock<TestCluster> = OnceLock::new();
static TEMPLATE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
static NEXT_DB: AtomicU32 = AtomicU32::new(0);

pub fn default_bin_dirs() -> Vec<String> {
    vec!["/usr/lib/postgresql/*/bin".into()]
}

/// A cluster of the test's own in `dir`, started: for tests that stop and
/// start their database under the code.
pub fn private_cluster(dir: &Path) -> Cluster {
    let bins = PgBinaries::locate(std::env::var_os("PATH").as_deref(), &default_bin_dirs()).expect("tests need the PostgreSQL server binaries");
    let cluster = Cluster::new(bins, &dir.join("pg"), ClusterOptions { port: 5432, ephemeral: true }).expect("private cluster directory");
    assert!(cluster.start().expect("private cluster starts"), "a fresh private cluster is started here");
    cluster
}

/// A migrated store on a private cluster's `postgres` database.
pub async fn private_store(cluster: &Cluster) -> Store {
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(2).connect_with(cluster.connect_options("postgres")).await.unwrap();
    let store = Store::from_pool(pool, "private test cluster");
    store.migrate().await.unwrap();
    store
}

fn cluster() -> &'static TestCluster {
    CLUSTER.get_or_init(|| {
        remove_stale_clusters();
        let root = std::env::temp_dir().join(format!("{DIR_PREFIX}{}", std::process::id()));
        let bins = PgBinaries::locate(std::env::var_os("PATH").as_deref(), &default_bin_dirs())
            .expect("tests need the PostgreSQL server binaries (.ci/run installs them)");
        let cluster = Cluster::new(bins, &root.join("pg"), ClusterOptions { port: 5432, ephemeral: true }).expect("test cluster directory");
        cluster.start().expect("test cluster starts");
        unsafe { nix::libc::atexit(stop_cluster) };
        TestCluster { cluster, root }
    })
}

extern "C" fn stop_cluster() {
    if let Some(c) = CLUSTER.get() {
        let _ = c.cluster.stop();
        let _ = std::fs::remove_dir_all(&c.root);
    }
}

/// Stops and removes clusters whose test process is gone.
fn remove_stale_clusters() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(DIR_PREFIX).and_then(|p| p.parse::<u32>().ok()) else { continue };
        if Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        if let Ok(bins) = PgBinaries::locate(std::env::var_os("PATH").as_deref(), &default_bin_dirs())
            && let Ok(c) = Cluster::new(bins, &entry.path().join("pg"), ClusterOptions { port: 5432, ephemeral: true })
        {
            let _ = c.stop();
        }
        let _ = std::fs::remove_dir_all(entry.path());
    }
}

/// A freshly created, migrated database of its own.
pub async fn fresh_store() -> Store {
    fresh_db().await.0
}

/// A fresh database and a `DATABASE_URL` for it (with a password that the
/// trust-authenticated test cluster ignores, to prove it is never shown).
pub async fn fresh_db() -> (Store, String) {
    let c = cluster();
    TEMPLATE
        .get_or_init(|| async {
            let mut admin = c.cluster.connect_options("postgres").connect().await.expect("connect");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {TEMPLATE_DB}"))).execute(&mut admin).await.expect("create template");
            admin.close().await.ok();
            let mut conn = c.cluster.connect_options(TEMPLATE_DB).connect().await.expect("connect template");
            MIGRATOR.run(&mut conn).await.expect("migrate template");
            conn.close().await.ok();
        })
        .await;
    let name = format!("t{}_{}", std::process::id(), NEXT_DB.fetch_add(1, Ordering::SeqCst));
    let mut admin = c.cluster.connect_options("postgres").connect().await.expect("connect");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}"))).execute(&mut admin).await.expect("create test database");
    admin.close().await.ok();
    let pool = PgPool::connect_with(c.cluster.connect_options(&name)).await.expect("connect test database");
    let url = format!("postgres://postgres:{SECRET_PASSWORD}@localhost/{name}?host={}&port=5432", c.cluster.socket_dir().display());
    (Store::from_pool(pool, format!("test database {name}")), url)
}

/// The repository root (for fixtures).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A temp dir the `postgres` user and the test can both use.
pub fn temp_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    tempfile::Builder::new().prefix("kb-test-").permissions(std::fs::Permissions::from_mode(0o755)).tempdir_in(std::env::temp_dir()).expect("temp dir")
}

/// Loads the 18 fixture cooperatives into a store.
pub async fn load_cooperatives(store: &Store) {
    let report =
        katalog_bridge::intake::cooperatives::import_cooperatives(store, &repo().join("fixtures/cooperatives.csv"), &Default::default(), &Default::default())
            .await
            .expect("cooperative fixtures import");
    assert_eq!(report.rejected, 0, "{:?}", report.reject_lines());
}

/// The `katalog-bridge` binary built for these tests.
pub fn binary() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_katalog-bridge"));
    cmd.env_remove("DATABASE_URL").env_remove("RUST_LOG");
    for (k, _) in std::env::vars() {
        if k.starts_with("KATALOG_BRIDGE_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

pub fn standards() -> PathBuf {
    std::env::var_os("PEPPOL_STANDARDS_DIR").map(PathBuf::from).unwrap_or_else(|| repo().join("../shared/standards/peppol"))
}

fn saxon_jar() -> String {
    std::env::var("SAXON_JAR").unwrap_or_else(|_| "/usr/share/java/Saxon-HE.jar".into())
}

/// The PEPPOL examples, XSDs and rules folder, with xmllint and Saxon to use
/// them; `None` when something is missing, after saying on one line that
/// `what` is skipped and why. With `PEPPOL_STANDARDS_REQUIRED=1` (as `.ci/run`
/// sets) a missing piece fails the test instead.
pub fn standards_or_skip(what: &str) -> Option<PathBuf> {
    use std::io::Write;
    let dir = standards();
    let tool = |program: &str, arg: &str| std::process::Command::new(program).arg(arg).output().is_ok_and(|o| o.status.success());
    let missing = if !dir.join("schematron").is_dir() {
        Some(format!("the PEPPOL standards are not at {} (set PEPPOL_STANDARDS_DIR to the folder holding ubl-2.1/ and schematron/)", dir.display()))
    } else if !tool("xmllint", "--version") {
        Some("xmllint is not installed (Debian: libxml2-utils)".to_owned())
    } else if !tool("java", "-version") || !Path::new(&saxon_jar()).is_file() {
        Some(format!("java with Saxon-HE at {} is not installed (Debian: libsaxonhe-java; or set SAXON_JAR)", saxon_jar()))
    } else {
        None
    };
    let Some(reason) = missing else { return Some(dir) };
    if std::env::var_os("PEPPOL_STANDARDS_REQUIRED").is_some_and(|v| v != "0" && !v.is_empty()) {
        panic!("{what} needs the PEPPOL standards, and PEPPOL_STANDARDS_REQUIRED is set: {reason}");
    }
    // Straight to stderr, past the test harness's capture, so the skip is seen.
    let _ = writeln!(std::io::stderr(), "skipped: {what}: {reason}");
    None
}

/// Every document in `dir` passes xmllint against the UBL 2.1 XSD `xsd` (under
/// `ubl-2.1/xsd/`) and Saxon with the PEPPOL rules `xslt` (under
/// `schematron/2026.5/`) with no fatal assertion. Skipped (and said so) when
/// the standards or the tools are not on this machine; see [`standards_or_skip`].
pub fn assert_ubl_valid(dir: &Path, xsd: &str, xslt: &str) {
    let Some(std_dir) = standards_or_skip(&format!("{xslt} validation")) else { return };
    let xsd = std_dir.join("ubl-2.1/xsd").join(xsd);
    let docs = sorted_files(dir);
    assert!(!docs.is_empty());
    let out = std::process::Command::new("xmllint")
        .arg("--nonet")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .args(&docs)
        .output()
        .expect("xmllint (Debian libxml2-utils) is needed; .ci/run installs it");
    assert!(out.status.success(), "XSD validation failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let svrl = temp_dir();
    let jar = saxon_jar();
    let out = std::process::Command::new("java")
        .arg("-cp")
        .arg(&jar)
        .arg("net.sf.saxon.Transform")
        .arg(format!("-s:{}", dir.display()))
        .arg(format!("-xsl:{}", std_dir.join("schematron/2026.5").join(xslt).display()))
        .arg(format!("-o:{}", svrl.path().display()))
        .output()
        .expect("java with Saxon-HE (Debian libsaxonhe-java) is needed; .ci/run installs it");
    assert!(out.status.success(), "Saxon failed: {}", String::from_utf8_lossy(&out.stderr));
    let mut fatal = Vec::new();
    for report in sorted_files(svrl.path()) {
        let text = std::fs::read_to_string(&report).unwrap();
        for chunk in text.split("<svrl:failed-assert").skip(1) {
            let head = &chunk[..chunk.find('>').unwrap_or(chunk.len())];
            if head.contains("flag=\"fatal\"") {
                fatal.push(format!("{}: {}", report.display(), head.split_whitespace().find(|w| w.starts_with("id=")).unwrap_or("")));
            }
        }
    }
    assert_eq!(sorted_files(svrl.path()).len(), docs.len(), "one report per document");
    assert!(fatal.is_empty(), "fatal PEPPOL assertions:\n{}", fatal.join("\n"));
}

fn sorted_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    v.sort();
    v
}

// ---- products built in memory ----

/// A cooperative that is PKP and has its GLN.
pub fn sample_seller() -> Seller {
    Seller {
        code: "MJK-WATES".into(),
        name: "Koperasi Kelurahan Merah Putih Wates".into(),
        city: "Kota Mojokerto".into(),
        kelurahan: "Wates".into(),
        gln: Some("8990000001058".into()),
        pkp: true,
        ..Default::default()
    }
}

/// A catalogue client on the mock at `server` with every seller account of
/// `scenario` (10 s a request, 8 in flight, 4 attempts).
/// A configuration file in `dir` for the binary against the mock: `top`
/// (the `[orders]` section, say), then the catalogue at the mock with one
/// account per seller of the scenario.
pub fn mock_config(dir: &std::path::Path, top: &str, server: &mock_catalog::MockServer, scenario: &mock_catalog::Scenario) -> std::path::PathBuf {
    let mut config = format!("{top}[catalogue]\nbase_url = \"{}\"\n", server.url());
    for c in &scenario.clients {
        config.push_str(&format!(
            "[[catalogue.sellers]]\nkode_penyedia = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\n",
            c.kode_penyedia, c.client_id, c.client_secret
        ));
    }
    let path = dir.join("katalog-bridge.toml");
    std::fs::write(&path, config).unwrap();
    path
}

/// `sync orders` as a process with the configuration at `config`, its output piped.
pub fn sync_orders_process(url: &str, config: &std::path::Path) -> std::process::Child {
    binary()
        .env("DATABASE_URL", url)
        .arg("--config")
        .arg(config)
        .args(["sync", "orders"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

pub fn mock_client(server: &mock_catalog::MockServer, scenario: &mock_catalog::Scenario) -> katalog_bridge::catalog::client::CatalogueClient {
    let settings = katalog_bridge::config::CatalogueSettings {
        base_url: server.url(),
        timeout_secs: 10,
        max_concurrency: 8,
        max_attempts: 4,
        sellers: katalog_bridge::demo::seller_accounts(scenario),
        ..Default::default()
    };
    katalog_bridge::catalog::client::CatalogueClient::new(&settings).unwrap().0
}

/// A product every format accepts without any issue.
pub fn sample_product() -> ProductRecord {
    ProductRecord {
        id: 1,
        member_code: "WAT-01".into(),
        member_name: "Unit Sembako KKMP Wates".into(),
        sku: "MYK-1L".into(),
        seller_item_id: "WAT-01/MYK-1L".into(),
        name: "Minyak Goreng Sawit 1 Liter".into(),
        description: "Minyak goreng sawit kemasan botol 1 liter.".into(),
        category: "minyak goreng".into(),
        unit: "botol".into(),
        price: dec!(18000),
        stock: dec!(60),
        min_purchase: dec!(1),
        weight_kg: Some(dec!(0.95)),
        net_content: Some(katalog_bridge::domain::product::NetContent::parse("1 liter").unwrap()),
        origin: katalog_bridge::domain::product::Origin::Lokal,
        production_location: Some("Kota Mojokerto".into()),
        tkdn_percent: None,
        tkdn_certificate: None,
        sni_certificate: None,
        brand: None,
        photo_urls: vec!["https://foto.kkmp-mojokerto.id/wat/myk-1l.jpg".into()],
        active: true,
        stock_source: Default::default(),
    }
}

static MAPPED: tokio::sync::OnceCell<Vec<serde_json::Value>> = tokio::sync::OnceCell::const_new();

/// A fresh store holding the 18 cooperatives and every fixture product file.
pub async fn fixture_store() -> Store {
    fixture_db().await.0
}

/// As [`fixture_store`], with a `DATABASE_URL` for the binary.
pub async fn fixture_db() -> (Store, String) {
    let (store, url) = fresh_db().await;
    load_cooperatives(&store).await;
    let units = katalog_bridge::mapping::units::UnitTable::load(&katalog_bridge::mapping::MappingSource::BuiltIn).unwrap();
    let tmp = temp_dir();
    for path in sorted_files(&repo().join("fixtures/products")) {
        let copy = tmp.path().join(path.file_name().unwrap());
        std::fs::copy(&path, &copy).unwrap();
        katalog_bridge::intake::products::import_products(&store, &units, &copy, None, &Default::default(), &Default::default()).await.unwrap();
    }
    (store, url)
}

/// Maps the fixtures to `format` with the real code into a temp dir (kept with the result).
pub async fn map_fixtures(format: katalog_bridge::catalog::Format, cooperative: Option<&str>) -> tempfile::TempDir {
    use katalog_bridge::mapping::{MappingSource, plan::Tables};
    let store = fixture_store().await;
    let tables = Tables::load(&MappingSource::BuiltIn).unwrap();
    let plan = format.plan(&MappingSource::BuiltIn, &tables).unwrap();
    let out = temp_dir();
    let options = katalog_bridge::listings::MapOptions {
        cooperative: cooperative.map(str::to_owned),
        out: katalog_bridge::listings::Output::Path(out.path().to_owned()),
        issue_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
        photo_base: "https://katalog.example".into(),
        products: None,
    };
    katalog_bridge::listings::map_products(&store, &plan, format, &options).await.unwrap();
    out
}

/// The fixture products of every cooperative as the katalog-v6 mapping writes
/// them now: mapped by the real code (never read back from golden files, which
/// `UPDATE_GOLDEN` rewrites).
pub async fn mapped_fixture_listings() -> Vec<serde_json::Value> {
    MAPPED
        .get_or_init(|| async {
            let out = map_fixtures(katalog_bridge::catalog::Format::KatalogV6, None).await;
            sorted_files(out.path())
                .iter()
                .flat_map(|f| std::fs::read_to_string(f).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect::<Vec<_>>())
                .collect()
        })
        .await
        .clone()
}

/// One cooperative's PEPPOL catalogue as the mapping writes it now.
pub async fn mapped_peppol_document(cooperative: &str) -> String {
    let out = map_fixtures(katalog_bridge::catalog::Format::PeppolCatalogue, Some(cooperative)).await;
    std::fs::read_to_string(out.path().join(format!("{cooperative}.xml"))).unwrap()
}

/// Every file under `dir`, sorted.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// A copy of the repository's `mappings/` folder, to change for a test.
pub fn copy_mappings() -> tempfile::TempDir {
    let tmp = temp_dir();
    let src = repo().join("mappings");
    for entry in walk(&src) {
        let rel = entry.strip_prefix(&src).unwrap();
        std::fs::create_dir_all(tmp.path().join(rel).parent().unwrap()).unwrap();
        std::fs::copy(&entry, tmp.path().join(rel)).unwrap();
    }
    tmp
}

/// A webhook receiver on an ephemeral port keeping each body it is posted; its URL.
pub async fn webhook_receiver(posts: std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>) -> String {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::body::Bytes| {
            let posts = posts.clone();
            async move {
                posts.lock().unwrap().push(serde_json::from_slice::<serde_json::Value>(&body).unwrap());
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}
