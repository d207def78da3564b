//! "Rencana belanja kota" and "Peluang" over real HTTP, against the daemon:
//! the liaison sees every package with its matched cooperatives and filters
//! them; a cooperative's staff see only their own matches, and on "Peluang"
//! only the packages still open, nearest first. The plan is stored as `sync
//! rup` stores it, dated from today (the pages judge by the daemon's day).

use katalog_bridge::domain::rup::PlanPackage;
use katalog_bridge::mapping::MappingSource;
use katalog_bridge::mapping::rup_keywords::Keywords;
use katalog_bridge::store::Store;
use rust_decimal::Decimal;

use super::{Visitor, World};

const PASSWORD: &str = "kata-sandi-panjang-1";

fn package(kd: &str, name: &str, unit: &str, metode: &str, jenis: &str, starts_in: i64, ukm: bool) -> PlanPackage {
    let today = katalog_bridge::domain::time::today();
    PlanPackage {
        kd_rup: kd.into(),
        kode_klpd: "D347".into(),
        tahun: chrono::Datelike::year(&today),
        nama_paket: name.into(),
        uraian: String::new(),
        kd_satker: Some("0010201".into()),
        nama_satker: Some(unit.into()),
        pagu: Decimal::from(25_000_000),
        metode: metode.into(),
        jenis: jenis.into(),
        status_ukm: ukm,
        status_pdn: true,
        nama_ppk: Some("Siti Aminah, S.E.".into()),
        tgl_awal_pemilihan: Some(today + chrono::Duration::days(starts_in)),
        tgl_akhir_pemilihan: None,
        tgl_awal_kontrak: None,
        tgl_akhir_kontrak: None,
        sumber_dana: Some("APBD".into()),
        announced: true,
        active: true,
    }
}

/// Four packages of the city's plan, stored and matched as `sync rup` does.
pub async fn store_plan(store: &Store) {
    let run = katalog_bridge::store::runs::start(store, "rup").await.unwrap();
    let packages = [
        package("51000001", "Belanja beras untuk pemberian makanan tambahan", "Dinas Kesehatan", "E-Purchasing", "Barang", 20, true),
        package("51000002", "Belanja minyak goreng kemasan dapur umum", "Dinas Sosial", "E-Purchasing", "Barang", 45, false),
        package("51000003", "Belanja beras cadangan pangan", "Dinas Ketahanan Pangan", "E-Purchasing", "Barang", -10, false),
        package("51000004", "Jasa kebersihan gedung kantor", "Sekretariat Daerah", "E-Purchasing", "Jasa Lainnya", 30, false),
    ];
    let keywords = Keywords::load(&MappingSource::BuiltIn).unwrap();
    let rows: Vec<katalog_bridge::store::rup::Read> = packages
        .into_iter()
        .map(|p| {
            let categories = keywords.of_package(&p.nama_paket, &p.uraian);
            let digest = katalog_bridge::store::rup::digest_of("D347", &p.kd_rup);
            katalog_bridge::store::rup::Read { package: p, categories, raw: serde_json::value::RawValue::from_string("{}".into()).unwrap(), digest }
        })
        .collect();
    katalog_bridge::store::rup::save_page(store, run, &rows).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_liaison_sees_the_plan_with_its_matches_and_staff_see_only_their_own_open_opportunities() {
    let w = World::new("").await;
    store_plan(&w.store).await;
    let ((mine, _), (other, _)) = w.two_cooperatives().await;
    w.add_user("penghubung", None, PASSWORD);
    w.add_user("staf", Some(&mine), PASSWORD);

    let liaison = Visitor::new(&w.base);
    liaison.login("penghubung", PASSWORD).await;
    let (status, page) = liaison.get("/rencana").await;
    assert_eq!(status, 200, "{page}");
    for words in ["Rencana belanja kota", "Belanja beras untuk pemberian makanan tambahan", "Belanja minyak goreng kemasan", "Jasa kebersihan", "Rp25.000.000"]
    {
        assert!(page.contains(words), "{words}: {page}");
    }
    assert!(page.contains(&mine) && page.contains(&other), "every matched cooperative is shown to the liaison");
    assert!(!page.contains("Belanja beras cadangan"), "a package of a past month is not among the coming ones");
    let (_, unmatched) = liaison.get("/rencana?cocok=tidak").await;
    assert!(unmatched.contains("Jasa kebersihan") && !unmatched.contains("Belanja minyak goreng"), "{unmatched}");
    let (_, small) = liaison.get("/rencana?ukm=1").await;
    assert!(small.contains("Belanja beras untuk pemberian") && !small.contains("Belanja minyak goreng"), "{small}");
    let (_, unit) = liaison.get("/rencana?satker=Dinas+Sosial").await;
    assert!(unit.contains("Belanja minyak goreng") && !unit.contains("Belanja beras untuk"), "{unit}");

    let staff = Visitor::new(&w.base);
    staff.login("staf", PASSWORD).await;
    let (status, theirs) = staff.get("/rencana").await;
    assert_eq!(status, 200);
    assert!(theirs.contains(&mine) && !theirs.contains(&format!("<strong>{other}</strong>")), "only their own match: {theirs}");
    assert!(!theirs.contains("Jasa kebersihan"), "an unmatched package is not theirs");
    let (status, chances) = staff.get("/peluang").await;
    assert_eq!(status, 200);
    let beras = chances.find("Belanja beras untuk pemberian").expect("the open package that fits them");
    let minyak = chances.find("Belanja minyak goreng").unwrap_or(usize::MAX);
    assert!(beras < minyak, "nearest first");
    assert!(!chances.contains("Belanja beras cadangan"), "its choosing has begun: no longer open");
    assert!(chances.contains("Yang perlu dilakukan"), "{chances}");
    // Another cooperative's opportunities are not theirs to ask for.
    let (status, _) = staff.get(&format!("/peluang?koperasi={other}")).await;
    assert!(status == 200 || status == 404);
    let (_, asked) = staff.get(&format!("/peluang?koperasi={other}")).await;
    assert!(!asked.contains(&format!("<strong>{other}</strong>")));
}
