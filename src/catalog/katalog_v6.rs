//! `katalog-v6`: the JSON listing of the version-6 product form. The mock
//! catalogue's write API takes the same object (docs/catalogue-api.md).

use crate::mapping::plan::Target;
use crate::mapping::rules::RuleCode;

pub const TARGETS: &[Target] = &[
    Target::new("sku", true, RuleCode::MissingValue),
    Target::new("kode_anggota", true, RuleCode::MissingValue),
    Target::new("nama_produk", true, RuleCode::MissingValue),
    Target::new("deskripsi", false, RuleCode::MissingValue),
    Target::new("kategori_id", true, RuleCode::NoCategoryMapping),
    Target::new("kategori_level1", false, RuleCode::NoCategoryMapping),
    Target::new("kategori_level2", false, RuleCode::NoCategoryMapping),
    Target::new("kategori_level3", false, RuleCode::NoCategoryMapping),
    Target::new("kbki", true, RuleCode::NoCategoryMapping),
    Target::new("barang", false, RuleCode::NoCategoryMapping),
    Target::new("satuan", true, RuleCode::UnknownUnit),
    Target::new("harga", true, RuleCode::MissingValue),
    Target::new("ppn_persen", true, RuleCode::MissingValue),
    Target::new("ppnbm", false, RuleCode::MissingValue),
    Target::new("harga_termasuk_pajak", true, RuleCode::MissingValue),
    Target::new("stok", true, RuleCode::MissingValue),
    Target::new("min_pembelian", true, RuleCode::MissingValue),
    Target::new("berat_kg", false, RuleCode::MissingWeight),
    Target::new("isi_bersih", false, RuleCode::NetContentUnknown),
    Target::new("pdn", true, RuleCode::MissingValue),
    Target::new("lokasi_produksi", false, RuleCode::MissingValue),
    Target::new("tkdn_persen", false, RuleCode::MissingValue),
    Target::new("tkdn_sertifikat", false, RuleCode::MissingValue),
    Target::new("sni", false, RuleCode::MissingValue),
    Target::new("merek", false, RuleCode::MissingValue),
    Target::new("foto", false, RuleCode::NoPhoto),
    Target::new("mata_uang", true, RuleCode::MissingValue),
];
