//! The city's purchase plan (RUP): a package a work unit announced it will
//! buy, and the one rule of when it is an open opportunity for a cooperative.

use chrono::NaiveDate;
use rust_decimal::Decimal;

/// An announced package of a buyer's plan, as INAPROC's RUP gives it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlanPackage {
    /// SIRUP's id of the package (`kd_rup`).
    pub kd_rup: String,
    /// The buying government (`kode_klpd`).
    pub kode_klpd: String,
    pub tahun: i32,
    pub nama_paket: String,
    /// What the work is (`uraian_pekerjaan`), empty when not given.
    pub uraian: String,
    /// The work unit's code, as text (leading zeros kept).
    pub kd_satker: Option<String>,
    pub nama_satker: Option<String>,
    /// The budget (pagu), whole rupiah in practice.
    pub pagu: Decimal,
    /// E-Purchasing, Pengadaan Langsung, Tender...
    pub metode: String,
    /// Barang, Jasa Lainnya, Pekerjaan Konstruksi...
    pub jenis: String,
    /// Reserved for small businesses and cooperatives.
    pub status_ukm: bool,
    /// Requires domestic products.
    pub status_pdn: bool,
    pub nama_ppk: Option<String>,
    /// When the choosing of a supplier begins.
    pub tgl_awal_pemilihan: Option<NaiveDate>,
    pub tgl_akhir_pemilihan: Option<NaiveDate>,
    pub tgl_awal_kontrak: Option<NaiveDate>,
    pub tgl_akhir_kontrak: Option<NaiveDate>,
    pub sumber_dana: Option<String>,
    /// Announced (`status_umumkan_rup`).
    pub announced: bool,
    /// Active (`status_aktif_rup`): a package withdrawn is not.
    pub active: bool,
}

impl PlanPackage {
    /// Bought through the catalogue or by direct purchase: the ways a
    /// cooperative's listing can win it.
    pub fn bought_where_cooperatives_sell(&self) -> bool {
        let m = self.metode.trim().to_lowercase();
        m == "e-purchasing" || m == "pengadaan langsung"
    }

    /// Goods, not services or works.
    pub fn is_goods(&self) -> bool {
        self.jenis.trim().eq_ignore_ascii_case("barang")
    }

    /// The one rule of an open opportunity, on `day`: goods bought by
    /// e-purchasing or direct purchase, announced and active (and still on
    /// the announced list: `listed`), whose choosing of a supplier has not
    /// begun. A package without a date is not open: nobody can say when to be ready.
    pub fn open_on(&self, listed: bool, day: NaiveDate) -> bool {
        self.bought_where_cooperatives_sell() && self.is_goods() && self.announced && self.active && listed && self.tgl_awal_pemilihan.is_some_and(|d| d > day)
    }

    /// Withdrawn: no longer active, announced or listed.
    pub fn withdrawn(&self, listed: bool) -> bool {
        !(self.announced && self.active && listed)
    }
}

/// What happened to a package between two readings (`rup_events.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlanChange {
    Budget,
    Date,
    Withdrawn,
    /// Active and listed again after being withdrawn.
    Returned,
}

impl PlanChange {
    pub const ALL: [PlanChange; 4] = [Self::Budget, Self::Date, Self::Withdrawn, Self::Returned];

    pub const fn name(self) -> &'static str {
        match self {
            Self::Budget => "budget",
            Self::Date => "date",
            Self::Withdrawn => "withdrawn",
            Self::Returned => "returned",
        }
    }

    /// In Bahasa Indonesia, as the pages say it.
    pub const fn in_indonesian(self) -> &'static str {
        match self {
            Self::Budget => "pagu berubah",
            Self::Date => "jadwal bergeser",
            Self::Withdrawn => "ditarik",
            Self::Returned => "aktif kembali",
        }
    }
}

super::named_by!(PlanChange, "plan change", name);

/// What a cooperative is told of a package (`rup_notices.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoticeKind {
    /// The package fits the cooperative's goods.
    Opportunity,
    /// Its choosing was moved to another day.
    Moved,
    /// It was withdrawn.
    Withdrawn,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 3] = [Self::Opportunity, Self::Moved, Self::Withdrawn];

    pub const fn name(self) -> &'static str {
        match self {
            Self::Opportunity => "opportunity",
            Self::Moved => "moved",
            Self::Withdrawn => "withdrawn",
        }
    }
}

super::named_by!(NoticeKind, "plan notice kind", name);

/// What came of a matched package: won by one of our cooperatives, bought
/// from another seller, or not bought yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Won,
    Lost,
    NotYet,
}

impl Outcome {
    pub const fn in_indonesian(self) -> &'static str {
        match self {
            Self::Won => "dimenangkan koperasi",
            Self::Lost => "dibeli dari penyedia lain",
            Self::NotYet => "belum dibeli",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(metode: &str, jenis: &str, starts: &str) -> PlanPackage {
        PlanPackage {
            kd_rup: "1".into(),
            kode_klpd: "D347".into(),
            tahun: 2027,
            nama_paket: "Belanja beras".into(),
            uraian: String::new(),
            kd_satker: None,
            nama_satker: None,
            pagu: Decimal::from(10_000_000),
            metode: metode.into(),
            jenis: jenis.into(),
            status_ukm: true,
            status_pdn: true,
            nama_ppk: None,
            tgl_awal_pemilihan: starts.parse().ok(),
            tgl_akhir_pemilihan: None,
            tgl_awal_kontrak: None,
            tgl_akhir_kontrak: None,
            sumber_dana: None,
            announced: true,
            active: true,
        }
    }

    #[test]
    fn an_opportunity_is_goods_bought_where_cooperatives_sell_before_its_choosing_begins() {
        let day: NaiveDate = "2027-03-01".parse().unwrap();
        assert!(package("E-Purchasing", "Barang", "2027-03-02").open_on(true, day));
        assert!(package("Pengadaan Langsung", "barang", "2027-04-01").open_on(true, day));
        // The day the choosing begins, it is no longer open.
        assert!(!package("E-Purchasing", "Barang", "2027-03-01").open_on(true, day));
        assert!(!package("Tender", "Barang", "2027-04-01").open_on(true, day));
        assert!(!package("E-Purchasing", "Jasa Lainnya", "2027-04-01").open_on(true, day));
        assert!(!package("E-Purchasing", "Barang", "").open_on(true, day));
        assert!(!package("E-Purchasing", "Barang", "2027-04-01").open_on(false, day));
        let mut withdrawn = package("E-Purchasing", "Barang", "2027-04-01");
        withdrawn.active = false;
        assert!(!withdrawn.open_on(true, day) && withdrawn.withdrawn(true));
    }
}
