//! Mapping throughput and memory: `cargo bench --bench mapping`.
//!
//! Generates a pool of 10,007 distinct products (realistic names, eight
//! categories, units, prices with sen, 1-3 photos, some TKDN claims with and
//! without certificates, a few without weight, a PKP seller), then for each
//! format maps, validates and serializes 1,000,000 products drawn from the pool
//! in turn, streaming to a file in a temp dir, on one thread. Only mapping,
//! validation and serialization are timed. Prints products per second and the
//! CPU time it took (user and system), and the peak resident memory (VmHWM)
//! after each format.
//! Before each format (not timed) the previous output is deleted and `sync`
//! run, so that no format pays for another's writeback.
//! `KB_BENCH_PRODUCTS=N` changes the count; a format name as argument runs one.

use std::io::{BufWriter, Write};
use std::time::Instant;

mod support;
use support::{cpu_seconds, peak_rss_mb};

use chrono::NaiveDate;
use katalog_bridge::catalog::katalog_v6_xlsx::BulkUploadWriter;
use katalog_bridge::catalog::peppol::{Action, CatalogueWriter, Header};
use katalog_bridge::catalog::{Format, write_json};
use katalog_bridge::mapping::MappingSource;
use katalog_bridge::mapping::input::{ProductRecord, Seller};
use katalog_bridge::mapping::plan::Tables;
use rust_decimal::Decimal;

const CATEGORIES: [(&str, &str); 8] = [
    ("beras", "karung"),
    ("gula pasir", "bungkus"),
    ("minyak goreng", "botol"),
    ("telur", "kg"),
    ("batik tulis", "lembar"),
    ("sepatu kulit", "pasang"),
    ("makanan ringan", "bungkus"),
    ("kue tradisional", "dus"),
];

fn product(i: usize) -> ProductRecord {
    let (category, unit) = CATEGORIES[i % CATEGORIES.len()];
    ProductRecord {
        id: i as i64,
        member_code: format!("M-{:03}", i % 50),
        member_name: format!("Anggota {}", i % 50),
        sku: format!("SKU-{i:07}"),
        seller_item_id: format!("M-{:03}/SKU-{i:07}", i % 50),
        name: format!("Produk koperasi nomor {i} ({category})"),
        description: "Produk anggota koperasi kelurahan, dikemas rapi dan siap kirim ke satuan kerja.".into(),
        category: category.into(),
        unit: unit.into(),
        // whole rupiah, as catalogue prices are; one in twenty carries sen (and a rounding warning)
        price: if i.is_multiple_of(20) {
            Decimal::new(500_050 + (i as i64 * 7_919) % 50_000_000, 2)
        } else {
            Decimal::from(5_000 + (i as i64 * 7_919) % 500_000)
        },
        stock: Decimal::from(i % 500),
        min_purchase: Decimal::ONE,
        weight_kg: (!i.is_multiple_of(40)).then(|| Decimal::new(250 + (i as i64 % 5000), 3)),
        net_content: None,
        origin: katalog_bridge::domain::product::Origin::Lokal,
        production_location: Some("Kota Mojokerto".into()),
        tkdn_percent: i.is_multiple_of(9).then(|| Decimal::from(40)),
        tkdn_certificate: (i.is_multiple_of(9) && !i.is_multiple_of(90)).then(|| format!("{i}/SJ-IPD.2/TKDN/2025")),
        sni_certificate: None,
        brand: i.is_multiple_of(3).then(|| "Mojo Jaya".to_string()),
        photo_urls: (0..=(i % 3)).map(|k| format!("https://foto.kkmp-mojokerto.id/p/{i}-{k}.jpg")).collect(),
        active: true,
        stock_source: Default::default(),
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n: usize = std::env::var("KB_BENCH_PRODUCTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let tables = Tables::load(&MappingSource::BuiltIn).unwrap();
    let seller = Seller {
        code: "MJK-BENCH".into(),
        name: "Koperasi Kelurahan Merah Putih Bench".into(),
        city: "Kota Mojokerto".into(),
        gln: Some("8990000001003".into()),
        pkp: true,
        ..Default::default()
    };
    const POOL: usize = 10_007;
    let pool: Vec<ProductRecord> = (0..POOL).map(product).collect();
    let product = |i: usize| &pool[i % POOL];
    let tmp = tempfile::tempdir().unwrap();
    let only: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    println!("{n} products per format, one thread, streaming to {}", tmp.path().display());
    println!(
        "{:<18} {:>9} {:>8} {:>11} {:>9} {:>9} {:>10} {:>12}",
        "format", "mapped", "seconds", "products/s", "user CPU", "sys CPU", "output MB", "peak RSS MB"
    );
    for format in Format::ALL {
        if only.as_deref().is_some_and(|o| o != format.name()) {
            continue;
        }
        let plan = format.plan(&MappingSource::BuiltIn, &tables).unwrap();
        // Not timed: the disk catches up with what was written before, so a
        // format does not pay for the previous one's writeback.
        let _ = std::process::Command::new("sync").status();
        let started = Instant::now();
        let (user_before, sys_before) = cpu_seconds();
        let mut written = 0u64;
        let out_size = match format {
            Format::KatalogV6 => {
                let path = tmp.path().join("v6.jsonl");
                let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&path).unwrap());
                for i in 0..n {
                    let m = plan.map(product(i), &seller);
                    if !m.blocked() {
                        write_json(&mut out, &plan, &m).unwrap();
                        out.write_all(b"\n").unwrap();
                        written += 1;
                    }
                }
                out.flush().unwrap();
                std::fs::metadata(&path).unwrap().len()
            }
            Format::KatalogV6Xlsx => {
                let dir = tmp.path().join("xlsx");
                std::fs::create_dir_all(&dir).unwrap();
                let mut w = BulkUploadWriter::new(&dir, &plan);
                for i in 0..n {
                    let m = plan.map(product(i), &seller);
                    if !m.blocked() {
                        w.write(&plan, &m).unwrap();
                        written += 1;
                    }
                }
                w.finish().unwrap().iter().map(|(p, _)| std::fs::metadata(p).unwrap().len()).sum()
            }
            Format::PeppolCatalogue => {
                let path = tmp.path().join("catalogue.xml");
                let out = std::fs::File::create(&path).unwrap();
                let first = product(1);
                let header =
                    Header { id: "MJK-BENCH-1", name: "Katalog bench", action: Action::Add, issue_date: NaiveDate::from_ymd_opt(2026, 11, 27).unwrap() };
                let mut w = CatalogueWriter::start(out, &plan, &header, &plan.map(first, &seller)).unwrap();
                for i in 0..n {
                    let m = plan.map(product(i), &seller);
                    if !m.blocked() {
                        w.line(&plan, &m, Action::Add).unwrap();
                        written += 1;
                    }
                }
                w.finish().unwrap().flush().unwrap();
                std::fs::metadata(&path).unwrap().len()
            }
        };
        let secs = started.elapsed().as_secs_f64();
        let (user, sys) = cpu_seconds();
        println!(
            "{:<18} {written:>9} {secs:>8.2} {:>11.0} {:>9.2} {:>9.2} {:>10.1} {:>12.1}",
            format.name(),
            n as f64 / secs,
            user - user_before,
            sys - sys_before,
            out_size as f64 / 1e6,
            peak_rss_mb()
        );
        for entry in std::fs::read_dir(tmp.path()).unwrap() {
            let path = entry.unwrap().path();
            let _ = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
        }
    }
}
