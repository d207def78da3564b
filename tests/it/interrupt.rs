//! Interrupted and killed runs, through the real binary on its own embedded
//! PostgreSQL: SIGTERM and SIGINT stop at a batch boundary, keep what was
//! committed, record the run as interrupted, stop the database and exit
//! 143 / 130; a SIGKILLed run's database is taken over and its run marked
//! abandoned by the next command.

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use katalog_bridge::store::embedded::{Cluster, ClusterOptions, PgBinaries};
use sqlx::{ConnectOptions, Connection};

const ROWS: usize = 400_000;

fn generate(path: &Path) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(f, "kode_koperasi;kode_anggota;nama_anggota;sku;nama_produk;kategori;satuan;harga").unwrap();
    for i in 0..ROWS {
        writeln!(f, "MJK-WATES;M-{:03};Anggota {};SKU-{i:07};Produk Koperasi Nomor {i};Beras;kg;Rp {}.500", i % 97, i % 97, 5 + i % 90).unwrap();
    }
}

fn bin(data_dir: &Path) -> Command {
    let mut cmd = common::binary();
    cmd.arg("--data-dir").arg(data_dir).arg("--log-format").arg("json");
    cmd
}

/// Starts an import of the big file and returns once it has committed rows.
fn start_import(data_dir: &Path, file: &Path) -> Child {
    let mut child = bin(data_dir).args(["import", "products"]).arg(file).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("\"importing\"") && line.contains("\"rows\":20000") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(120)).expect("the import reports progress");
    child
}

fn wait(child: &mut Child) -> i32 {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        assert!(start.elapsed() < Duration::from_secs(60), "the process stops within a minute");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn cluster(data_dir: &Path) -> Cluster {
    let bins = PgBinaries::locate(std::env::var_os("PATH").as_deref(), &["/usr/lib/postgresql/*/bin".into()]).unwrap();
    Cluster::new(bins, data_dir, ClusterOptions::default()).unwrap()
}

/// (status of the latest product import run, its error, products stored).
async fn state(data_dir: &Path) -> (String, String, i64) {
    let c = cluster(data_dir);
    assert!(!c.is_running(), "the command stopped the database it started");
    let started = c.start().unwrap();
    let mut conn = c.connect_options("katalog_bridge").connect().await.unwrap();
    let (status, error): (String, Option<String>) =
        sqlx::query_as("SELECT status, error FROM sync_runs WHERE kind = 'import-products' ORDER BY id DESC LIMIT 1").fetch_one(&mut conn).await.unwrap();
    let running: i64 = sqlx::query_scalar("SELECT count(*) FROM sync_runs WHERE status = 'running'").fetch_one(&mut conn).await.unwrap();
    assert_eq!(running, 0, "no run is left running");
    let products: i64 = sqlx::query_scalar("SELECT count(*) FROM products").fetch_one(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    if started {
        c.stop().unwrap();
    }
    (status, error.unwrap_or_default(), products)
}

#[tokio::test]
async fn signals_stop_at_a_batch_boundary_and_a_killed_run_is_cleaned_up() {
    let tmp = common::temp_dir();
    let data_dir = tmp.path().join("pg");
    let file = tmp.path().join("besar.csv");
    generate(&file);
    let out = bin(&data_dir).args(["import", "cooperatives"]).arg(common::repo().join("fixtures/cooperatives.csv")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let mut stored = 0;
    for (signal, code) in [(nix::sys::signal::Signal::SIGTERM, 143), (nix::sys::signal::Signal::SIGINT, 130)] {
        let mut child = start_import(&data_dir, &file);
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal).unwrap();
        assert_eq!(wait(&mut child), code, "{signal}");
        let (status, error, products) = state(&data_dir).await;
        assert_eq!(status, "interrupted", "{signal}: {error}");
        assert!(error.contains(&format!("interrupted by {signal}")), "{error}");
        assert!(products >= stored && products > 0 && (products as usize) < ROWS, "{signal}: committed batches are kept: {products}");
        assert_eq!(products % 5000, 0, "whole batches only: {products}");
        stored = products;
    }

    // SIGKILL leaves the database running and the run marked running; the next command takes both over.
    let mut child = start_import(&data_dir, &file);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(cluster(&data_dir).is_running(), "a killed process cannot stop its database");
    let out = bin(&data_dir).args(["import", "products"]).arg(&file).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("taking it over"), "{err}");
    assert!(err.contains("marked abandoned"), "{err}");
    let (status, _, products) = state(&data_dir).await;
    assert_eq!(status, "succeeded");
    assert_eq!(products as usize, ROWS, "the rerun finishes the work, nothing doubled");
}
