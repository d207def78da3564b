//! `katalog-v6`: the JSON listing of the version-6 product form. The mock
//! catalogue's write API takes the same object (docs/catalogue-api.md).

use crate::mapping::plan::Target;
use crate::mapping::rules::RuleCode;

const fn t(name: &'static str, required: bool, missing: RuleCode) -> Target {
    Target { name, required, missing }
}

pub const TARGETS: &[Target] = &[
    t("sku", true, RuleCode::MissingValue),
    t("kode_anggota", true, RuleCode::MissingValue),
    t("nama_produk", true, RuleCode::MissingValue),
    t("deskripsi", false, RuleCode::MissingValue),
    t("kategori_id", true, RuleCode::NoCategoryMapping),
    t("kategori_level1", false, RuleCode::NoCategoryMapping),
    t("kategori_level2", false, RuleCode::NoCategoryMapping),
    t("kategori_level3", false, RuleCode::NoCategoryMapping),
    t("kbki", true, RuleCode::NoCategoryMapping),
    t("barang", false, RuleCode::NoCategoryMapping),
    t("satuan", true, RuleCode::UnknownUnit),
    t("harga", true, RuleCode::MissingValue),
    t("ppn_persen", true, RuleCode::MissingValue),
    t("ppnbm", false, RuleCode::MissingValue),
    t("harga_termasuk_pajak", true, RuleCode::MissingValue),
    t("stok", true, RuleCode::MissingValue),
    t("min_pembelian", true, RuleCode::MissingValue),
    t("berat_kg", false, RuleCode::MissingWeight),
    t("pdn", true, RuleCode::MissingValue),
    t("lokasi_produksi", false, RuleCode::MissingValue),
    t("tkdn_persen", false, RuleCode::MissingValue),
    t("tkdn_sertifikat", false, RuleCode::MissingValue),
    t("sni", false, RuleCode::MissingValue),
    t("merek", false, RuleCode::MissingValue),
    t("foto", false, RuleCode::NoPhoto),
    t("mata_uang", true, RuleCode::MissingValue),
];
