//! Import throughput and memory: `cargo bench --bench import`.
//!
//! Generates product CSV files of growing size (Indonesian number formats,
//! `;` separator), imports each into a real PostgreSQL (the embedded cluster in
//! a temp dir, with default durable settings, or DATABASE_URL), and prints the
//! wall time, rows per second, and the peak resident memory of this process
//! (VmHWM) after each size. Flat memory shows as a VmHWM that does not grow
//! with the row count. Sizes: KB_BENCH_ROWS="20000,100000,300000" to change.

use std::io::Write;
use std::time::Instant;

mod support;
use support::peak_rss_mb;

use katalog_bridge::config::{DatabaseSettings, ImportSettings};
use katalog_bridge::intake::{self, ImportOptions};
use katalog_bridge::mapping::MappingSource;
use katalog_bridge::mapping::units::UnitTable;
use katalog_bridge::store::Store;

const UNITS: [&str; 6] = ["karung", "KG", "Bungkus", "botol", "pcs", "Dus"];
const CATEGORIES: [&str; 6] = ["Beras", "Gula Pasir", "Minyak Goreng", "Telur", "Batik Tulis", "Makanan Ringan"];

fn generate(path: &std::path::Path, rows: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    f.write_all("\u{feff}Kode Koperasi;Kode Anggota;Nama Anggota;SKU;Nama Produk;Deskripsi;Kategori;Satuan;Harga (Rp);Stok;Berat (kg);Asal;Foto\n".as_bytes())
        .unwrap();
    let coops = ["MJK-BALONGSARI", "MJK-WATES", "MJK-KAUMAN", "MJK-MIJI", "MJK-MERI", "MJK-SENTANAN"];
    for i in 0..rows {
        let coop = coops[i % coops.len()];
        let member = i % 97;
        writeln!(
            f,
            "{coop};M-{member:03};Anggota {member};SKU-{i:07};Produk Koperasi Nomor {i};Deskripsi produk {i} dari anggota koperasi;{};{};Rp {}.{:03},00;{};{},{};Lokal;https://foto.kkmp-mojokerto.id/p/{i}.jpg",
            CATEGORIES[i % 6],
            UNITS[i % 6],
            5 + i % 700,
            (i * 7) % 1000,
            i % 500,
            1 + i % 25,
            i % 10,
        )
        .unwrap();
    }
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` probes benches; nothing to list
    }
    let sizes: Vec<usize> = std::env::var("KB_BENCH_ROWS")
        .unwrap_or_else(|_| "20000,100000,300000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("KB_BENCH_ROWS: comma-separated row counts"))
        .collect();
    let tmp = tempfile::Builder::new().prefix("kb-bench-").tempdir_in(std::env::temp_dir()).unwrap();
    let mut db = DatabaseSettings { data_dir: tmp.path().join("pg"), ..Default::default() };
    if let Ok(url) = std::env::var("DATABASE_URL") {
        db.url = Some(url.into());
    }
    let store = Store::open_migrated(&db).await.expect("database");
    let settings = ImportSettings::default();
    intake::cooperatives::import_cooperatives(
        &store,
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/cooperatives.csv"),
        &ImportOptions::default(),
        &settings,
    )
    .await
    .unwrap();
    let units = UnitTable::load(&MappingSource::BuiltIn).unwrap();
    println!("database: {}", store.location());
    println!("{:>9} {:>12} {:>10} {:>12} {:>14} {:>12}", "rows", "file MB", "first s", "rows/s", "re-import s", "peak RSS MB");
    for rows in sizes {
        sqlx::query("TRUNCATE products, members CASCADE").execute(store.pool()).await.unwrap();
        let file = tmp.path().join(format!("bench-{rows}.csv"));
        generate(&file, rows);
        let size_mb = std::fs::metadata(&file).unwrap().len() as f64 / 1e6;
        let started = Instant::now();
        let report = intake::products::import_products(&store, &units, &file, None, &ImportOptions::default(), &settings).await.unwrap();
        let first = started.elapsed().as_secs_f64();
        assert_eq!((report.accepted, report.rejected), (rows as u64, 0), "{:?}", report.reject_lines());
        let started = Instant::now();
        let again = intake::products::import_products(&store, &units, &file, None, &ImportOptions::default(), &settings).await.unwrap();
        let second = started.elapsed().as_secs_f64();
        assert_eq!(again.written.unchanged, rows as u64);
        println!("{rows:>9} {size_mb:>12.1} {first:>10.2} {:>12.0} {second:>14.2} {:>12.1}", rows as f64 / first, peak_rss_mb());
        std::fs::remove_file(&file).ok();
    }
    store.close().await.unwrap();
}
