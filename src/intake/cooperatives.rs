//! The cooperatives file: one row per KKMP.

use std::collections::HashMap;
use std::path::Path;

use super::columns::{Column, RowView, duplicate};
use super::{ImportError, ImportOptions, ImportReport, RowImport};
use crate::config::ImportSettings;
use crate::domain::DomainError;
use crate::domain::cooperative::{Cooperative, CooperativeCode, Digits, SellerId, name, yes_no};
use crate::store::Store;
use crate::store::products::{Present, UpsertCounts, write_cooperatives};

const KODE: usize = 0;
const NAMA: usize = 1;
const KELURAHAN: usize = 2;
const KECAMATAN: usize = 3;
const KOTA: usize = 4;
const NIB: usize = 5;
const NPWP: usize = 6;
const PKP: usize = 7;
const GLN: usize = 8;
const KODE_PENYEDIA: usize = 9;
const EMAIL: usize = 10;
const WHATSAPP: usize = 11;
const BATAS_STOK: usize = 12;
const IDTKU: usize = 13;

pub const COOPERATIVE_COLUMNS: &[Column] = &[
    Column { header: "kode", aliases: &["kode koperasi", "kode_koperasi"], required: true, help: "Kode koperasi, mis. MJK-BALONGSARI." },
    Column { header: "nama", aliases: &["nama koperasi"], required: true, help: "Nama koperasi." },
    Column { header: "kelurahan", aliases: &["desa"], required: true, help: "Kelurahan." },
    Column { header: "kecamatan", aliases: &[], required: true, help: "Kecamatan." },
    Column { header: "kota", aliases: &["kabupaten", "kota/kabupaten"], required: true, help: "Kota atau kabupaten." },
    Column { header: "nib", aliases: &["nomor induk berusaha"], required: false, help: "NIB, 13 angka." },
    Column { header: "npwp", aliases: &[], required: false, help: "NPWP, 15 atau 16 angka." },
    Column { header: "pkp", aliases: &["status pkp"], required: false, help: "ya bila Pengusaha Kena Pajak, tidak bila bukan (kosong = tidak)." },
    Column { header: "gln", aliases: &["global location number"], required: false, help: "GLN dari GS1 Indonesia, 13 angka; perlu untuk katalog PEPPOL." },
    Column {
        header: "kode_penyedia",
        aliases: &["kode penyedia", "id penyedia"],
        required: false,
        help: "Kode penyedia koperasi di e-Katalog (akun penjual); perlu untuk tayang.",
    },
    Column {
        header: "email",
        aliases: &["e-mail", "surel", "email koperasi"],
        required: false,
        help: "Alamat e-mail pengurus; pesanan baru dan batas konfirmasi diberitahukan ke sini.",
    },
    Column {
        header: "whatsapp",
        aliases: &["wa", "no whatsapp", "nomor whatsapp", "no wa", "hp"],
        required: false,
        help: "Nomor WhatsApp pengurus, mis. 081234567890 atau +6281234567890; pesanan baru dan batas konfirmasi dikirim ke sini.",
    },
    Column {
        header: "batas_stok",
        aliases: &["batas stok", "stok minimum"],
        required: false,
        help: "Bila stok produk turun sampai angka ini atau kurang karena pesanan, koperasi diberi tahu (kosong = 0).",
    },
    Column {
        header: "idtku",
        aliases: &["nitku"],
        required: false,
        help: "IDTKU (NITKU) Coretax, 22 angka: NPWP 16 angka lalu 6 angka tempat usaha (kosong = kantor pusat, NPWP dan 000000).",
    },
];

pub async fn import_cooperatives(store: &Store, path: &Path, options: &ImportOptions, settings: &ImportSettings) -> Result<ImportReport, ImportError> {
    // Seller ids already held, so a row giving another cooperative's is a bad row, not a failed batch.
    let sellers = crate::store::products::seller_ids(store).await?;
    let mut import = CooperativeImport { seen: HashMap::new(), sellers, sellers_seen: HashMap::new() };
    super::run(&mut import, (!options.dry_run).then_some(store), path, options, settings).await
}

struct CooperativeImport {
    seen: HashMap<CooperativeCode, u64>,
    /// kode_penyedia -> the cooperative code holding it in the store.
    sellers: HashMap<String, String>,
    /// kode_penyedia -> the row of this file that gave it.
    sellers_seen: HashMap<String, u64>,
}

impl RowImport for CooperativeImport {
    type Item = Cooperative;
    const KIND: &'static str = "import-cooperatives";

    fn columns(&self) -> &'static [Column] {
        COOPERATIVE_COLUMNS
    }

    fn parse(&mut self, v: &mut RowView<'_>) -> Option<Cooperative> {
        let code = v.required_text(KODE).and_then(|t| v.check(KODE, CooperativeCode::parse(&t)));
        let mut named = |col: usize, what: &str| v.required_text(col).and_then(|t| v.check(col, name(&t, what)));
        let (nama, kelurahan, kecamatan, kota) = (named(NAMA, "name"), named(KELURAHAN, "kelurahan"), named(KECAMATAN, "kecamatan"), named(KOTA, "city"));
        let nib = v.text(NIB).and_then(|t| v.check(NIB, Digits::parse(&t, "NIB", &[13])));
        let npwp = v.text(NPWP).and_then(|t| v.check(NPWP, Digits::parse(&t, "NPWP", &[15, 16])));
        let gln = v.text(GLN).and_then(|t| v.check(GLN, Digits::parse_gln(&t)));
        let idtku = v.text(IDTKU).and_then(|t| v.check(IDTKU, Digits::parse(&t, "IDTKU", &[22])));
        let pkp = {
            let raw = v.text(PKP).unwrap_or_default();
            v.check(PKP, yes_no(&raw, "pkp"))
        };
        let seller = v.text(KODE_PENYEDIA).and_then(|t| v.check(KODE_PENYEDIA, SellerId::parse(&t)));
        let email = match v.text(EMAIL) {
            Some(t) => Some(v.check(EMAIL, crate::domain::cooperative::email(&t))?),
            None => None,
        };
        let whatsapp = match v.text(WHATSAPP) {
            Some(t) => Some(v.check(WHATSAPP, crate::domain::cooperative::whatsapp(&t))?),
            None => None,
        };
        let stock_threshold = match v.decimal(BATAS_STOK) {
            Some(d) => v.check(BATAS_STOK, crate::domain::money::quantity(d, "stock threshold"))?,
            None => rust_decimal::Decimal::ZERO,
        };
        let code = code?;
        if let Some(s) = &seller {
            if let Some(row) = self.sellers_seen.get(s.as_str()) {
                v.fail(
                    KODE_PENYEDIA,
                    duplicate(
                        format!("duplicate: row {row} has the same seller id {}", s.as_str()),
                        format!("baris ganda: baris {row} berisi kode penyedia {} yang sama", s.as_str()),
                    ),
                );
                return None;
            }
            if let Some(owner) = self.sellers.get(s.as_str()).filter(|owner| *owner != code.as_str()) {
                v.fail(
                    KODE_PENYEDIA,
                    DomainError::new(
                        "seller_taken",
                        format!("seller id {} already belongs to cooperative {owner}", s.as_str()),
                        format!("kode penyedia {} sudah milik koperasi {owner}", s.as_str()),
                    ),
                );
                return None;
            }
        }
        if let Some(first) = self.seen.get(&code) {
            v.fail(
                KODE,
                duplicate(
                    format!("duplicate: row {first} has the same cooperative code"),
                    format!("baris ganda: baris {first} berisi kode koperasi yang sama"),
                ),
            );
            return None;
        }
        self.seen.insert(code.clone(), v.line());
        if let Some(s) = &seller {
            self.sellers_seen.insert(s.as_str().to_owned(), v.line());
        }
        Some(Cooperative {
            code,
            name: nama?,
            kelurahan: kelurahan?,
            kecamatan: kecamatan?,
            city: kota?,
            nib,
            npwp,
            gln,
            idtku,
            pkp: pkp?,
            kode_penyedia: seller,
            email,
            whatsapp,
            stock_threshold,
        })
    }

    async fn write(store: &Store, present: &Present, batch: Vec<Cooperative>) -> Result<UpsertCounts, ImportError> {
        Ok(write_cooperatives(store, present, &batch).await?)
    }
}
