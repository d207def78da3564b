//! The use cases the command line and the pages share (`app/`): their rules
//! hold whichever front end calls them, and each action is audited.

use crate::common;

use std::sync::Arc;

use katalog_bridge::app::Actor;
use katalog_bridge::app::imports::{ImportFileError, import_products};
use katalog_bridge::app::runs::{StartError, begin};
use katalog_bridge::domain::job::Job;
use katalog_bridge::mapping::MappingSource;
use katalog_bridge::mapping::units::UnitTable;
use katalog_bridge::store::Store;

async fn cooperative_id(store: &Store, code: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM cooperatives WHERE code = $1").bind(code).fetch_one(store.pool()).await.unwrap()
}

async fn audited(store: &Store, action: &str) -> Vec<(String, Option<i64>, Option<String>)> {
    sqlx::query_as("SELECT username, cooperative_id, subject FROM audit_log WHERE action = $1 ORDER BY id").bind(action).fetch_all(store.pool()).await.unwrap()
}

/// A cooperative's staff import for their own cooperative only: naming
/// another is not found and imports nothing; naming none imports for their
/// own. Each import is audited, the command line's in the operator's name.
#[tokio::test]
async fn staff_import_only_for_their_own_cooperative_and_every_import_is_audited() {
    let (store, url) = common::fresh_db().await;
    common::load_cooperatives(&store).await;
    let units = Arc::new(UnitTable::load(&MappingSource::BuiltIn).unwrap());
    let tmp = common::temp_dir();
    let file = tmp.path().join("produk.csv");
    std::fs::write(&file, std::fs::read(common::repo().join("fixtures/products/magersari.csv")).unwrap()).unwrap();
    let balongsari = cooperative_id(&store, "MJK-BALONGSARI").await;
    let staff = Actor { user_id: None, name: "staf-balongsari".into(), scope: Some(balongsari) };
    let settings = Default::default();
    let options = Default::default();

    let other = import_products(&store, &units, &settings, &staff, (&file, "produk.csv"), Some("MJK-WATES"), &options).await;
    assert!(matches!(other, Err(ImportFileError::NotFound(_))), "{other:?}");
    let products: i64 = sqlx::query_scalar("SELECT count(*) FROM products").fetch_one(store.pool()).await.unwrap();
    assert_eq!(products, 0, "nothing imported for another cooperative");
    assert!(audited(&store, "upload.products").await.is_empty());

    let own = import_products(&store, &units, &settings, &staff, (&file, "produk.csv"), None, &options).await.unwrap();
    assert_eq!(own.cooperative.as_deref(), Some("MJK-BALONGSARI"));
    assert!(own.report.accepted > 0, "{:?}", own.report.reject_lines());
    let theirs: i64 = sqlx::query_scalar("SELECT count(*) FROM products WHERE cooperative_id <> $1").bind(balongsari).fetch_one(store.pool()).await.unwrap();
    assert_eq!(theirs, 0, "every row went to the staff's own cooperative");
    assert_eq!(audited(&store, "upload.products").await, vec![("staf-balongsari".to_owned(), Some(balongsari), Some("produk.csv".to_owned()))]);

    let out = common::binary().env("DATABASE_URL", &url).args(["import", "products"]).arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let entries = audited(&store, "upload.products").await;
    assert_eq!(entries.len(), 2);
    assert!(entries[1].0.starts_with("cli:") && entries[1].1.is_none(), "the command line's import, as the file says: {entries:?}");
}

/// The city-wide jobs are started by an actor over every cooperative only,
/// never while another process holds the job, and each start is audited.
#[tokio::test]
async fn only_an_actor_over_every_cooperative_starts_a_run_and_never_a_held_one() {
    let (store, url) = common::fresh_db().await;
    common::load_cooperatives(&store).await;
    let wates = cooperative_id(&store, "MJK-WATES").await;
    let staff = Actor { user_id: None, name: "staf-wates".into(), scope: Some(wates) };
    assert!(matches!(begin(&store, &staff, Job::Publish).await, Err(StartError::NotAllowed(Job::Publish))));

    let held = katalog_bridge::store::runs::lock_lead(&store, Job::Orders).await.unwrap().expect("the lock is free");
    let operator = Actor::operator();
    held.hold(async {
        assert!(matches!(begin(&store, &operator, Job::Orders).await, Err(StartError::Busy { job: Job::Orders, .. })));
        // The command line goes through the same rule: refused, with the job named.
        let out = common::binary().env("DATABASE_URL", &url).args(["sync", "orders", "--klpd", "D347"]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains("the orders job is running already"), "{err}");
        assert!(audited(&store, "run.start").await.is_empty(), "a refused start is not recorded");
        // A lock is its database's: another database on the same server is free to run the job.
        let (elsewhere, _) = common::fresh_db().await;
        assert!(!katalog_bridge::store::runs::job_locked(&elsewhere, Job::Orders).await.unwrap());
        assert!(katalog_bridge::store::runs::job_locked(&store, Job::Orders).await.unwrap());
    })
    .await;

    begin(&store, &operator, Job::Orders).await.unwrap();
    let entries = audited(&store, "run.start").await;
    assert_eq!(entries.len(), 1);
    assert_eq!((entries[0].1, entries[0].2.as_deref()), (None, Some("orders")));
}

/// `products add|edit|photo|list|withdraw` at the command line go through
/// the product page's use cases: the importer's checks, the audit entry,
/// the photo kept without its metadata, the list with stock, standing and
/// photos at `[web] public_base_url`.
#[tokio::test]
async fn the_products_commands_add_edit_photograph_list_and_withdraw_as_the_page_does() {
    let (store, url) = common::fresh_db().await;
    common::load_cooperatives(&store).await;
    let run = |args: &[&str]| {
        let out = common::binary()
            .env("DATABASE_URL", &url)
            .env("KATALOG_BRIDGE_WEB__PUBLIC_BASE_URL", "https://katalog.kota.example")
            .args(["products"])
            .args(args)
            .output()
            .unwrap();
        (out.status.code().unwrap(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let fields =
        ["kode_anggota=WTS-09", "nama_anggota=Pak Darto", "sku=GULA-1", "nama_produk=Gula Pasir Lokal 1 kg", "kategori=Gula", "satuan=kg", "berat_kg=1"];
    let (code, _, err) = run(&[&["add", "--cooperative", "MJK-WATES"][..], &fields, &["harga=murah"]].concat());
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("refused: harga:") && err.contains("not a number"), "{err}");
    let (code, out, err) = run(&[&["add", "--cooperative", "MJK-WATES"][..], &fields, &["harga=17.500", "stok=25"]].concat());
    assert_eq!(code, 0, "{err}");
    let id: i64 = out.split_whitespace().nth(1).unwrap().trim_start_matches('#').parse().unwrap();
    assert!(out.contains("added"), "{out}");
    let (code, out, _) = run(&["edit", &id.to_string(), "harga=18.000"]);
    assert_eq!(code, 0);
    assert!(out.contains(r#"harga: "17.500" -> "18.000""#), "{out}");
    let price: rust_decimal::Decimal = sqlx::query_scalar("SELECT price FROM products WHERE id = $1").bind(id).fetch_one(store.pool()).await.unwrap();
    assert_eq!(price, rust_decimal::Decimal::from(18000));
    let (code, _, err) = run(&["edit", &id.to_string(), "warna=merah"]);
    assert_eq!(code, 2);
    assert!(err.contains("\"warna\" is not a product field"), "{err}");

    let (code, out, err) = run(&["send", &id.to_string(), "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("held back: no_photo"), "without a photo it would be held back: {out}");
    let tmp = common::temp_dir();
    let photo = tmp.path().join("gula.png");
    image::RgbImage::from_pixel(900, 700, image::Rgb([250, 250, 240])).save(&photo).unwrap();
    let (code, out, err) = run(&["photo", &id.to_string(), photo.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("photo added: https://katalog.kota.example/foto/"), "{out}");
    let text = tmp.path().join("bukan-foto.jpg");
    std::fs::write(&text, "ini teks").unwrap();
    let (code, _, err) = run(&["photo", &id.to_string(), text.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("not a JPEG, PNG or WebP"), "{err}");

    let (code, out, err) = run(&["send", &id.to_string(), "--dry-run", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), r#"{"will":"new"}"#, "with its photo, a new listing");
    let (code, out, _) = run(&["list", "--cooperative", "MJK-WATES", "--json"]);
    assert_eq!(code, 0);
    let line: serde_json::Value = out.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()).find(|p| p["id"] == id).unwrap();
    assert_eq!((line["stock"].as_str(), line["price"].as_str(), line["active"].as_bool()), (Some("25"), Some("18000"), Some(true)));
    assert!(line["photos"][0].as_str().unwrap().starts_with("https://katalog.kota.example/foto/"), "{line}");
    let (code, out, _) = run(&["withdraw", &id.to_string()]);
    assert_eq!((code, out.trim()), (0, format!("product #{id} withdrawn").as_str()));
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_log WHERE username LIKE 'cli:%' ORDER BY id").fetch_all(store.pool()).await.unwrap();
    assert_eq!(actions, ["product.create", "product.edit", "product.photo.add", "product.withdraw"]);
}
