//! Product files: one row per product, with the member who makes it.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;

use super::columns::{CellIssue, Column, Header, RowView, duplicate};
use super::{ImportError, ImportOptions, ImportReport, RowImport};
use crate::config::ImportSettings;
use crate::domain::cooperative::{CooperativeCode, email, whatsapp, yes_no};
use crate::domain::money::{Price, quantity};
use crate::domain::product::{LocalCategory, NetContent, Origin, ProductDraft, Sku, StockSource, photo_url, tkdn_percent, weight_kg};
use crate::domain::{DomainError, text};
use crate::mapping::units::UnitTable;
use crate::store::Store;
use crate::store::products::{Present, UpsertCounts, cooperative_ids, write_products};

// Positions in PRODUCT_COLUMNS.
const KODE_KOPERASI: usize = 0;
const KODE_ANGGOTA: usize = 1;
const NAMA_ANGGOTA: usize = 2;
const SKU: usize = 3;
const NAMA_PRODUK: usize = 4;
const DESKRIPSI: usize = 5;
const KATEGORI: usize = 6;
const SATUAN: usize = 7;
const ISI_BERSIH: usize = 8;
const HARGA: usize = 9;
const STOK: usize = 10;
const MIN_PEMBELIAN: usize = 11;
const BERAT_KG: usize = 12;
const ASAL: usize = 13;
const LOKASI_PRODUKSI: usize = 14;
const TKDN_PERSEN: usize = 15;
const NO_SERTIFIKAT_TKDN: usize = 16;
const NO_SNI: usize = 17;
const MEREK: usize = 18;
const FOTO: usize = 19;
const AKTIF: usize = 20;
const SUMBER_STOK: usize = 21;
const HP_ANGGOTA: usize = 22;
const EMAIL_ANGGOTA: usize = 23;

/// The columns of a product file, in template order.
pub const PRODUCT_COLUMNS: &[Column] = &[
    Column {
        header: "kode_koperasi",
        aliases: &["koperasi", "kode kkmp"],
        required: false,
        help: "Kode koperasi, mis. MJK-BALONGSARI. Boleh kosong bila memakai --cooperative.",
    },
    Column {
        header: "kode_anggota",
        aliases: &["anggota", "kode umkm", "kode produsen"],
        required: true,
        help: "Kode anggota (produsen/UMKM) di koperasi, mis. BLS-01.",
    },
    Column { header: "nama_anggota", aliases: &["nama umkm", "nama produsen"], required: true, help: "Nama usaha anggota." },
    Column { header: "sku", aliases: &["kode produk", "kode barang"], required: true, help: "Kode produk, unik per anggota." },
    Column { header: "nama_produk", aliases: &["nama barang", "produk"], required: true, help: "Nama produk (katalog: 5-250 huruf; unggah massal: 10-100)." },
    Column { header: "deskripsi", aliases: &["keterangan", "deskripsi produk"], required: false, help: "Deskripsi, paling banyak 2.000 huruf." },
    Column {
        header: "kategori",
        aliases: &["kategori produk", "jenis"],
        required: true,
        help: "Kategori lokal, mis. Beras, Gula, Minyak Goreng, Batik Tulis.",
    },
    Column {
        header: "satuan",
        aliases: &["unit", "satuan jual"],
        required: true,
        help: "Satuan jual: kg, gram, liter, pcs, karung, dus, bungkus, botol, pasang, lembar, ...",
    },
    Column {
        header: "isi_bersih",
        aliases: &["isi", "isi bersih", "netto", "berat bersih", "kemasan"],
        required: false,
        help: "Isi satu satuan jual, mis. 25 kg, 250 gram, 1 liter, isi 30 butir. HET beras, gula dan Minyakita dicek per kg/liter dari sini; kosong = dibaca dari nama produk (sebagai peringatan).",
    },
    Column {
        header: "harga",
        aliases: &["harga (rp)", "harga satuan", "harga jual"],
        required: true,
        help: "Harga per satuan dalam rupiah, mis. 68.500 atau Rp 68.500,00.",
    },
    Column { header: "stok", aliases: &["stock", "jumlah stok"], required: false, help: "Stok tersedia (kosong = 0)." },
    Column {
        header: "min_pembelian",
        aliases: &["minimal pembelian", "min beli", "minimum pembelian"],
        required: false,
        help: "Pembelian minimal (kosong = 1).",
    },
    Column { header: "berat_kg", aliases: &["berat", "berat (kg)"], required: false, help: "Berat kirim per satuan dalam kg, mis. 5 atau 0,25." },
    Column { header: "asal", aliases: &["asal produk", "pdn"], required: false, help: "Lokal (produk dalam negeri) atau Impor (kosong = Lokal)." },
    Column { header: "lokasi_produksi", aliases: &["lokasi produksi", "tempat produksi"], required: false, help: "Kota/kabupaten tempat produksi." },
    Column {
        header: "tkdn_persen",
        aliases: &["tkdn", "tkdn (%)", "nilai tkdn"],
        required: false,
        help: "Nilai TKDN dalam persen (0-100), bila ada sertifikat.",
    },
    Column { header: "no_sertifikat_tkdn", aliases: &["sertifikat tkdn", "nomor sertifikat tkdn"], required: false, help: "Nomor sertifikat TKDN." },
    Column { header: "no_sni", aliases: &["sni", "sertifikat sni", "nomor sni"], required: false, help: "Nomor SNI, bila ada." },
    Column { header: "merek", aliases: &["merk", "brand"], required: false, help: "Merek dagang, bila ada." },
    Column {
        header: "foto",
        aliases: &["foto produk", "url foto", "gambar"],
        required: false,
        help: "Alamat web foto (https://...), dipisah spasi atau |; 1-5 foto.",
    },
    Column {
        header: "aktif",
        aliases: &["status", "dijual"],
        required: false,
        help: "ya bila masih dijual, tidak untuk menarik produk dari katalog (kosong = ya).",
    },
    Column {
        header: "sumber_stok",
        aliases: &["sumber stok", "asal stok"],
        required: false,
        help: "sendiri (kosong), konsinyasi, atau sphp: beras SPHP dari Bulog hanya untuk dijual eceran, tidak dikirim ke katalog.",
    },
    Column {
        header: "hp_anggota",
        aliases: &["hp anggota", "no hp anggota", "wa anggota"],
        required: false,
        help: "Nomor HP/WhatsApp anggota, mis. 081234567890: anggota diberi tahu pesanan atas produknya.",
    },
    Column { header: "email_anggota", aliases: &["email anggota", "e-mail anggota"], required: false, help: "Alamat e-mail anggota, bila ada." },
];

/// Imports a product file. With `cooperative`, rows without a cooperative
/// code belong to it, and rows naming another cooperative are rejected.
pub async fn import_products(
    store: &Store,
    units: &UnitTable,
    path: &Path,
    cooperative: Option<&CooperativeCode>,
    options: &ImportOptions,
    settings: &ImportSettings,
) -> Result<ImportReport, ImportError> {
    let coops = cooperative_ids(store).await?;
    let fixed = match cooperative {
        Some(code) => Some(coops.get(code.as_str()).map(|id| (code.clone(), *id)).ok_or_else(|| ImportError::UnknownCooperative(code.to_string()))?),
        None => None,
    };
    let mut import = ProductImport { units, coops, fixed, seen: HashMap::new() };
    super::run(&mut import, (!options.dry_run).then_some(store), path, options, settings).await
}

/// One product as a form gives it, each field named by its column's header
/// (`nama_produk`, `harga`, ...): checked by the very parser a file's row
/// goes through, so the page and the file never disagree. The product is
/// `cooperative`'s; every problem names its field.
pub fn parse_fields(units: &UnitTable, cooperative: (CooperativeCode, i64), fields: &[(&str, &str)]) -> Result<ProductDraft, Vec<CellIssue>> {
    use super::source::{Cell, MAX_CELL_CHARS, RawRow};
    let names = RawRow { line: 1, cells: fields.iter().map(|(name, _)| Cell::Text((*name).to_owned())).collect() };
    let header = super::columns::resolve(PRODUCT_COLUMNS, &names).map_err(|problem| vec![CellIssue { column: String::new(), field: "", problem }])?;
    let cell = |value: &str| {
        let chars = value.chars().count();
        if chars > MAX_CELL_CHARS { Cell::TooLong { chars, head: value.chars().take(40).collect() } } else { Cell::Text(value.to_owned()) }
    };
    let row = RawRow { line: 2, cells: fields.iter().map(|(_, value)| cell(value)).collect() };
    let mut import = ProductImport { units, coops: HashMap::new(), fixed: Some(cooperative), seen: HashMap::new() };
    let mut view = RowView::new(PRODUCT_COLUMNS, &header, &row);
    let parsed = import.parse(&mut view);
    match parsed {
        Some((_, draft)) if view.issues.is_empty() => Ok(draft),
        _ => Err(view.issues),
    }
}

struct ProductImport<'a> {
    units: &'a UnitTable,
    coops: HashMap<String, i64>,
    fixed: Option<(CooperativeCode, i64)>,
    /// A 64-bit hash of (cooperative, member, SKU) of every accepted row, to
    /// catch duplicates in 16 bytes a row rather than the whole key. A false
    /// duplicate needs a hash collision: about 1 in 10^7 for a million rows.
    seen: HashMap<u64, u64>,
}

impl RowImport for ProductImport<'_> {
    type Item = (i64, ProductDraft);
    const KIND: &'static str = "import-products";

    fn cooperative(&self) -> Option<String> {
        self.fixed.as_ref().map(|(code, _)| code.to_string())
    }

    fn columns(&self) -> &'static [Column] {
        PRODUCT_COLUMNS
    }

    fn check_header(&mut self, header: &Header) -> Result<(), DomainError> {
        if self.fixed.is_none() && !header.has(KODE_KOPERASI) {
            return Err(DomainError::new(
                "header",
                "lacks the column kode_koperasi: add it, or name the cooperative with --cooperative CODE",
                "kolom kode_koperasi belum ada: tambahkan kolom itu",
            ));
        }
        Ok(())
    }

    fn parse(&mut self, v: &mut RowView<'_>) -> Option<Self::Item> {
        let coop_id = self.cooperative(v);
        let member_code = v.required_text(KODE_ANGGOTA).and_then(|t| v.check(KODE_ANGGOTA, text(&t, "member code", 40)));
        let member_name = v.required_text(NAMA_ANGGOTA).and_then(|t| v.check(NAMA_ANGGOTA, text(&t, "member name", 200)));
        let sku = v.required_text(SKU).and_then(|t| v.check(SKU, Sku::parse(&t)));
        let name = v.required_text(NAMA_PRODUK).and_then(|t| v.check(NAMA_PRODUK, text(&t, "product name", 1000)));
        let description = match v.text(DESKRIPSI) {
            Some(t) => v.check(DESKRIPSI, text(&t, "description", 10_000)),
            None => Some(String::new()),
        };
        let category = v.required_text(KATEGORI).and_then(|t| v.check(KATEGORI, LocalCategory::parse(&t)));
        let unit = v.required_text(SATUAN).and_then(|t| v.check(SATUAN, self.unit(&t)));
        let price = v.required_decimal(HARGA).and_then(|d| v.check(HARGA, Price::parse(d)));
        let stock = optional(v, STOK, |d| quantity(d, "stock"), rust_decimal::Decimal::ZERO);
        let min_purchase = optional(v, MIN_PEMBELIAN, min_purchase, rust_decimal::Decimal::ONE);
        let weight = v.decimal(BERAT_KG).and_then(|d| v.check(BERAT_KG, weight_kg(d)));
        let net_content = v.text(ISI_BERSIH).and_then(|t| v.check(ISI_BERSIH, NetContent::parse(&t)));
        let origin = {
            let raw = v.text(ASAL).unwrap_or_default();
            v.check(ASAL, Origin::parse(&raw))
        };
        let production_location = v.text(LOKASI_PRODUKSI);
        let tkdn = v.decimal(TKDN_PERSEN).and_then(|d| v.check(TKDN_PERSEN, tkdn_percent(d)));
        let tkdn_certificate = v.text(NO_SERTIFIKAT_TKDN);
        let sni_certificate = v.text(NO_SNI);
        let brand = v.text(MEREK);
        let active = match v.text(AKTIF) {
            None => Some(true),
            Some(raw) => v.check(AKTIF, yes_no(&raw, "aktif")),
        };
        let photos = photos(v);
        let stock_source = {
            let raw = v.text(SUMBER_STOK).unwrap_or_default();
            v.check(SUMBER_STOK, StockSource::parse(&raw))
        };
        let member_phone = v.text(HP_ANGGOTA).and_then(|t| v.check(HP_ANGGOTA, whatsapp(&t)).map(Some)).unwrap_or(None);
        let member_email = v.text(EMAIL_ANGGOTA).and_then(|t| v.check(EMAIL_ANGGOTA, email(&t)).map(Some)).unwrap_or(None);

        let (coop_id, member_code, sku) = (coop_id?, member_code?, sku?);
        let key = {
            let mut h = DefaultHasher::new();
            (coop_id, member_code.as_str(), sku.as_str()).hash(&mut h);
            h.finish()
        };
        if let Some(first) = self.seen.get(&key) {
            v.fail(
                SKU,
                duplicate(
                    format!("duplicate: row {first} has the same cooperative, member and SKU"),
                    format!("baris ganda: baris {first} berisi koperasi, anggota dan SKU yang sama"),
                ),
            );
            return None;
        }
        let draft = ProductDraft {
            member_code,
            member_name: member_name?,
            sku,
            name: name?,
            description: description?,
            category: category?,
            unit: unit?,
            price: price?,
            stock: stock?,
            min_purchase: min_purchase?,
            weight_kg: weight,
            net_content,
            origin: origin?,
            production_location,
            tkdn_percent: tkdn,
            tkdn_certificate,
            sni_certificate,
            brand,
            photo_urls: photos,
            active: active?,
            stock_source: stock_source?,
            member_phone,
            member_email,
        };
        if v.issues.is_empty() {
            self.seen.insert(key, v.line());
        }
        Some((coop_id, draft))
    }

    async fn write(store: &Store, present: &Present, batch: Vec<Self::Item>) -> Result<UpsertCounts, ImportError> {
        Ok(write_products(store, present, &batch).await?)
    }
}

impl ProductImport<'_> {
    /// A unit as written, resolved to the unit table's code.
    fn unit(&self, written: &str) -> Result<String, DomainError> {
        self.units.resolve(written).map(str::to_owned).ok_or_else(|| {
            let known: Vec<&str> = self.units.codes().collect();
            DomainError::new(
                "unknown_unit",
                format!("unknown unit {written:?}; use one of: {}", known.join(", ")),
                format!("satuan {written:?} tidak dikenal; pakai salah satu dari: {}", known.join(", ")),
            )
        })
    }

    fn cooperative(&self, v: &mut RowView<'_>) -> Option<i64> {
        let written = v.text(KODE_KOPERASI);
        match (&self.fixed, written) {
            (Some((_, id)), None) => Some(*id),
            (fixed, Some(raw)) => {
                let code = v.check(KODE_KOPERASI, CooperativeCode::parse(&raw))?;
                if let Some((wanted, id)) = fixed {
                    if *wanted != code {
                        v.fail(
                            KODE_KOPERASI,
                            DomainError::new(
                                "other_cooperative",
                                format!("row is for cooperative {code}, but --cooperative {wanted} was given"),
                                format!("baris ini untuk koperasi {code}, padahal berkas diunggah untuk {wanted}"),
                            ),
                        );
                        return None;
                    }
                    return Some(*id);
                }
                let id = self.coops.get(code.as_str()).copied();
                if id.is_none() {
                    v.fail(
                        KODE_KOPERASI,
                        DomainError::new(
                            "unknown_cooperative",
                            format!("unknown cooperative {code}: import the cooperatives first"),
                            format!("koperasi {code} tidak dikenal: impor daftar koperasi lebih dahulu"),
                        ),
                    );
                }
                id
            }
            (None, None) => {
                v.fail_empty(KODE_KOPERASI);
                None
            }
        }
    }
}

/// An optional number with a default; `None` only when the cell is invalid.
fn optional(
    v: &mut RowView<'_>,
    column: usize,
    parse: impl Fn(rust_decimal::Decimal) -> Result<rust_decimal::Decimal, DomainError>,
    default: rust_decimal::Decimal,
) -> Option<rust_decimal::Decimal> {
    let before = v.issues.len();
    match v.decimal(column) {
        Some(d) => v.check(column, parse(d)),
        None if v.issues.len() == before => Some(default),
        None => None,
    }
}

/// The photos' web addresses of a row (`foto`: separated by spaces or `|`),
/// each checked; a bad one is reported against the column.
fn photos(v: &mut RowView<'_>) -> Vec<String> {
    let photos: Vec<String> =
        v.text(FOTO).map_or_else(Vec::new, |t| t.split(|c: char| c.is_whitespace() || c == '|').filter(|s| !s.is_empty()).map(str::to_owned).collect());
    for p in &photos {
        if let Err(e) = photo_url(p) {
            v.fail(FOTO, e);
        }
    }
    photos
}

/// A minimum purchase: a quantity of at least 1.
fn min_purchase(d: rust_decimal::Decimal) -> Result<rust_decimal::Decimal, DomainError> {
    quantity(d, "minimum purchase").and_then(|q| {
        if q.is_zero() { Err(DomainError::new("out_of_range", "minimum purchase must be at least 1", "pembelian minimum paling sedikit 1")) } else { Ok(q) }
    })
}
