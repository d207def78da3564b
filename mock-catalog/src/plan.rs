//! The buyers' purchase plans (RUP) as the mock makes them, from the seed:
//! each work unit plans some packages a year (a random stream of their own,
//! so the rest of the story is the same with or without plans): staples and
//! the city's goods, bought by e-purchasing or direct purchase, and others
//! (stationery, fuel, services, tenders) that no cooperative supplies. An
//! order's package is the first of its work unit's e-purchasing goods
//! packages whose goods its first line names, or one planned on the spot.
//! No HTTP here (`rup.rs` serves it), and no state beyond the plan.

use chrono::{Duration, NaiveDate};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::{Value, json};

use super::scenario::Scenario;

/// A planned package, as the mock keeps it.
#[derive(Debug, Clone, Serialize)]
pub struct Package {
    pub kd_rup: String,
    pub kode_klpd: String,
    pub tahun: i32,
    pub nama_paket: String,
    pub uraian_pekerjaan: String,
    pub kd_satker: i64,
    /// The work unit's code with its leading zeros.
    pub kd_satker_str: String,
    pub nama_satker: String,
    pub pagu: i64,
    pub metode_pengadaan: String,
    pub jenis_pengadaan: String,
    pub status_ukm: bool,
    pub status_pdn: bool,
    pub nama_ppk: String,
    pub tgl_awal_pemilihan: NaiveDate,
    pub tgl_akhir_pemilihan: NaiveDate,
    pub tgl_awal_kontrak: NaiveDate,
    pub tgl_akhir_kontrak: NaiveDate,
    pub sumber_dana: String,
    pub status_umumkan_rup: bool,
    pub status_aktif_rup: bool,
    /// Taken off the announced list altogether (not served).
    pub removed: bool,
    /// The word of the goods the story's orders choose it by (`None`: no goods a cooperative sells).
    #[serde(skip)]
    goods: Option<&'static str>,
    /// The satker's index in its buyer.
    #[serde(skip)]
    satker: usize,
}

impl Package {
    /// Whether an order of goods named `name` fits it.
    fn fits(&self, name: &str) -> bool {
        self.goods.is_some_and(|g| name.to_lowercase().contains(g)) && self.metode_pengadaan == "E-Purchasing" && self.jenis_pengadaan == "Barang"
    }

    /// A package `number` of a work unit, its choosing beginning on `begins`
    /// (the contract three weeks after, for two months), announced and
    /// active: e-purchased goods of small businesses and domestic products,
    /// named and budgeted by the caller.
    fn planned(number: i64, (klpd, year): (&str, i32), (satker, index): (&super::scenario::Satker, usize), begins: NaiveDate) -> Package {
        Package {
            kd_rup: number.to_string(),
            kode_klpd: klpd.to_owned(),
            tahun: year,
            nama_paket: String::new(),
            uraian_pekerjaan: String::new(),
            kd_satker: satker_str(&satker.kode).parse().unwrap_or(0),
            kd_satker_str: satker_str(&satker.kode),
            nama_satker: satker.nama.clone(),
            pagu: 0,
            metode_pengadaan: "E-Purchasing".into(),
            jenis_pengadaan: "Barang".into(),
            status_ukm: true,
            status_pdn: true,
            nama_ppk: String::new(),
            tgl_awal_pemilihan: begins,
            tgl_akhir_pemilihan: begins + Duration::days(14),
            tgl_awal_kontrak: begins + Duration::days(21),
            tgl_akhir_kontrak: begins + Duration::days(81),
            sumber_dana: "APBD".into(),
            status_umumkan_rup: true,
            status_aktif_rup: true,
            removed: false,
            goods: None,
            satker: index,
        }
    }

    pub fn row(&self) -> Value {
        let day = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
        json!({
            "kd_rup": self.kd_rup.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::String(self.kd_rup.clone())),
            "kd_klpd": self.kode_klpd,
            "tahun_anggaran": self.tahun,
            "nama_paket": self.nama_paket,
            "uraian_pekerjaan": self.uraian_pekerjaan,
            "kd_satker": self.kd_satker,
            "kd_satker_str": self.kd_satker_str,
            "nama_satker": self.nama_satker,
            "pagu": self.pagu,
            "metode_pengadaan": self.metode_pengadaan,
            "jenis_pengadaan": self.jenis_pengadaan,
            "status_ukm": if self.status_ukm { "UKM" } else { "Non UKM" },
            "status_pdn": if self.status_pdn { "PDN" } else { "Non PDN" },
            "nama_ppk": self.nama_ppk,
            "tgl_awal_pemilihan": day(self.tgl_awal_pemilihan),
            "tgl_akhir_pemilihan": day(self.tgl_akhir_pemilihan),
            "tgl_awal_kontrak": day(self.tgl_awal_kontrak),
            "tgl_akhir_kontrak": day(self.tgl_akhir_kontrak),
            "sumber_dana": self.sumber_dana,
            "status_umumkan_rup": if self.status_umumkan_rup { "Terumumkan" } else { "Draf" },
            "status_aktif_rup": self.status_aktif_rup,
        })
    }
}

/// What a work unit plans to buy: a name, its goods' word, its method and type.
struct Template {
    name: &'static str,
    goods: Option<&'static str>,
    metode: &'static str,
    jenis: &'static str,
}

const TEMPLATES: &[Template] = &[
    Template { name: "Belanja beras untuk pemberian makanan tambahan", goods: Some("beras"), metode: "E-Purchasing", jenis: "Barang" },
    Template { name: "Belanja minyak goreng kemasan untuk dapur umum", goods: Some("minyak goreng"), metode: "E-Purchasing", jenis: "Barang" },
    Template { name: "Belanja gula pasir untuk makan minum rapat", goods: Some("gula"), metode: "E-Purchasing", jenis: "Barang" },
    Template { name: "Belanja telur ayam ras untuk pemberian makanan tambahan", goods: Some("telur"), metode: "Pengadaan Langsung", jenis: "Barang" },
    Template { name: "Belanja tepung terigu untuk pelatihan usaha", goods: Some("tepung"), metode: "E-Purchasing", jenis: "Barang" },
    Template { name: "Belanja garam beryodium untuk posyandu", goods: Some("garam"), metode: "E-Purchasing", jenis: "Barang" },
    Template { name: "Belanja beras cadangan pangan pemerintah", goods: Some("beras"), metode: "Tender", jenis: "Barang" },
    Template { name: "Belanja alat tulis kantor", goods: None, metode: "E-Purchasing", jenis: "Barang" },
    Template { name: "Belanja bahan bakar minyak kendaraan dinas", goods: None, metode: "E-Purchasing", jenis: "Barang" },
    Template { name: "Jasa kebersihan gedung kantor", goods: None, metode: "E-Purchasing", jenis: "Jasa Lainnya" },
    Template { name: "Jasa katering makan minum rapat", goods: None, metode: "Pengadaan Langsung", jenis: "Jasa Lainnya" },
];

const PPK: &[&str] = &["Drs. Bambang Sutrisno", "Siti Aminah, S.E.", "Ir. Agus Wahyudi", "Dewi Lestari, S.Sos.", "Hendra Kurniawan, S.T."];

/// The sellers not in the scenario that some packages are bought from.
pub const ELSEWHERE: &[&str] = &["P3578-9001", "P3515-9002", "P3516-9003"];

/// The statuses at which an order has bought its package (the seller accepted it).
pub const BOUGHT: &[&str] = &["ON_PROCESS", "ON_ADDENDUM", "COMPLETED", "PAYMENT_OUTSIDE_SYSTEM"];

/// A work unit's code with the leading zeros SIRUP writes (`1.02.01` -> `0010201`).
fn satker_str(kode: &str) -> String {
    let digits: String = kode.chars().filter(char::is_ascii_digit).collect();
    format!("{digits:0>7}")
}

/// The plan of every buyer for `year`, added to `plan` once (made from the
/// seed, the year and the buyer): the packages whose choosing began before
/// the story's start that a seller not in the scenario bought, as (index
/// in `plan`, seller, total), for the story to record.
pub fn plan_year(scenario: &Scenario, plan: &mut Vec<Package>, year: i32) -> Vec<(usize, &'static str, i64)> {
    let Some(rup) = scenario.rup.clone() else { return Vec::new() };
    if plan.iter().any(|p| p.tahun == year) {
        return Vec::new();
    }
    let start = scenario.start.with_timezone(&chrono_tz::Asia::Jakarta).date_naive();
    let anchor = start.max(NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(start));
    let mut bought = Vec::new();
    for buyer in &scenario.buyers {
        let mut rng = ChaCha8Rng::seed_from_u64(scenario.seed ^ 0x5255_5000 ^ (year as u64) << 20 ^ seed_of(&buyer.kode_klpd));
        let mut below = |n: u64| rng.next_u64() % n.max(1);
        for (index, satker) in buyer.satker.iter().enumerate() {
            for _ in 0..rup.packages_per_satker {
                let t = &TEMPLATES[below(TEMPLATES.len() as u64) as usize];
                // From 60 days before the story's start to 150 after.
                let begins = anchor + Duration::days(below(211) as i64 - 60);
                let number = 50_000_000 + (year as i64 % 100) * 100_000 + (plan.len() as i64 + 1);
                plan.push(Package {
                    nama_paket: format!("{} {}", t.name, satker.nama),
                    uraian_pekerjaan: format!("{} tahun anggaran {year}", t.name),
                    pagu: (5 + below(146) as i64) * 1_000_000,
                    metode_pengadaan: t.metode.into(),
                    jenis_pengadaan: t.jenis.into(),
                    status_ukm: below(3) > 0,
                    status_pdn: below(4) > 0,
                    nama_ppk: PPK[below(PPK.len() as u64) as usize].into(),
                    goods: t.goods,
                    ..Package::planned(number, (&buyer.kode_klpd, year), (satker, index), begins)
                });
            }
        }
        // Some packages whose choosing began before the story were bought from other sellers.
        let before: Vec<usize> = (0..plan.len())
            .filter(|&i| {
                let p = &plan[i];
                p.tahun == year && p.kode_klpd == buyer.kode_klpd && p.goods.is_some() && p.metode_pengadaan == "E-Purchasing" && p.tgl_awal_pemilihan < start
            })
            .collect();
        for i in before {
            if below(100) < u64::from(rup.bought_elsewhere_percent) {
                let seller = ELSEWHERE[below(ELSEWHERE.len() as u64) as usize];
                let share = 70 + below(31) as i64;
                bought.push((i, seller, plan[i].pagu / 100 * share / 1000 * 1000));
            }
        }
    }
    bought
}

fn seed_of(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// The package an order of `satker_index` of `klpd` for goods named `name`
/// belongs to, in a plan made for `year` already: the first fitting one of
/// the unit's plan, or one planned on `today` (named after the goods, its
/// choosing begun a week before).
#[allow(clippy::too_many_arguments)]
pub fn package_for(
    scenario: &Scenario,
    plan: &mut Vec<Package>,
    (klpd, year): (&str, i32),
    satker_index: usize,
    name: &str,
    total: i64,
    today: NaiveDate,
) -> Option<(String, String)> {
    scenario.rup.as_ref()?;
    let fitting = plan.iter().find(|p| p.tahun == year && p.kode_klpd == klpd && p.satker == satker_index && !p.removed && p.fits(name));
    if let Some(p) = fitting {
        return Some((p.kd_rup.clone(), p.nama_paket.clone()));
    }
    let buyer = scenario.buyers.iter().find(|b| b.kode_klpd == klpd)?;
    let satker = buyer.satker.get(satker_index)?;
    let number = 50_000_000 + (year as i64 % 100) * 100_000 + (plan.len() as i64 + 1);
    let begins = today - Duration::days(7);
    let p = Package {
        nama_paket: format!("Belanja {name} {}", satker.nama),
        uraian_pekerjaan: format!("Belanja {name} tahun anggaran {year}"),
        pagu: ((total / 1_000_000) + 1) * 1_000_000,
        nama_ppk: PPK[plan.len() % PPK.len()].into(),
        ..Package::planned(number, (klpd, year), (satker, satker_index), begins)
    };
    let found = (p.kd_rup.clone(), p.nama_paket.clone());
    plan.push(p);
    Some(found)
}
