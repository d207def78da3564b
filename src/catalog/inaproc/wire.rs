//! INAPROC's rows read into domain types, defensively: bounded texts, exact
//! bounded decimals, times in RFC 3339 or in Jakarta wall time, and a row
//! without what identifies it refused with what is missing.

use rust_decimal::Decimal;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::catalog::orders::{Feed, Loose, decimal, package_head, raw_owned, required, text};
use crate::domain::order::{RemoteLine, RemoteOrder};

/// Rows read from one page at most.
const MAX_ROWS: usize = 1000;

/// A list answer, in any of the envelopes INAPROC's endpoints use: the rows
/// in `data` (or `data.items`), or the answer a bare list; the cursor in
/// `meta.cursor` with `meta.has_more` (the e-katalog endpoints), or in
/// `next_cursor` (or `cursor`, `data.next_cursor`) with `has_more` or, when
/// that is absent, more to come while the next cursor is given (the RUP's);
/// no cursor at all, one page. The rows are kept as the JSON text they came
/// as: each is read only as far as needed.
pub fn page(body: &RawValue) -> Result<super::Page, String> {
    #[derive(serde::Deserialize)]
    struct Wrapped<'a> {
        #[serde(borrow, default)]
        data: Option<&'a RawValue>,
        #[serde(default)]
        meta: Value,
        #[serde(default)]
        next_cursor: Value,
        #[serde(default)]
        cursor: Value,
        #[serde(default)]
        has_more: Value,
    }
    const NO_LIST: &str = "the answer has no data list";
    // (An untagged enum cannot borrow the rows: a bare list is told by its first character.)
    let (data, cursor, has_more) = if body.get().trim_start().starts_with('[') {
        let rows: Vec<Box<RawValue>> = serde_json::from_str(body.get()).map_err(|_| NO_LIST)?;
        (rows, Value::Null, Value::Null)
    } else {
        let Wrapped { data, meta, next_cursor, cursor, has_more } = serde_json::from_str(body.get()).map_err(|_| NO_LIST)?;
        let data = data.ok_or(NO_LIST)?;
        let (rows, inner_cursor) = match serde_json::from_str::<Vec<Box<RawValue>>>(data.get()) {
            Ok(rows) => (rows, Value::Null),
            Err(_) => {
                #[derive(serde::Deserialize)]
                struct Inner {
                    items: Vec<Box<RawValue>>,
                    #[serde(default)]
                    next_cursor: Value,
                }
                let inner: Inner = serde_json::from_str(data.get()).map_err(|_| NO_LIST)?;
                (inner.items, inner.next_cursor)
            }
        };
        let (cursor, has_more) = match (&meta["cursor"], &meta["has_more"]) {
            (Value::Null, Value::Null) => {
                let next = [next_cursor, inner_cursor, cursor].into_iter().find(|c| !c.is_null()).unwrap_or(Value::Null);
                let more = match has_more {
                    Value::Null => Value::Bool(cursor_text(&next).is_some()),
                    other => other,
                };
                (next, more)
            }
            (c, m) => (c.clone(), m.clone()),
        };
        (rows, cursor, has_more)
    };
    if data.len() > MAX_ROWS {
        return Err(format!("the page has {} rows, more than the {MAX_ROWS} a page may have", data.len()));
    }
    let cursor = cursor_text(&cursor);
    let has_more = match has_more {
        Value::Bool(b) => b,
        Value::Null => false,
        _ => return Err("has_more is not true or false".into()),
    };
    if has_more && cursor.is_none() {
        return Err("has_more is true but the cursor is missing".into());
    }
    Ok(super::Page { rows: data, cursor, has_more })
}

/// A cursor as text (a number is written out), bounded; `None` when absent or empty.
fn cursor_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.chars().take(200).collect()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A row read whole, for what needs all of it.
pub fn row(raw: &RawValue) -> Result<Value, String> {
    serde_json::from_str(raw.get()).map_err(|e| format!("a row is not readable: {e}"))
}

/// What a package is, read before anything else of it: its order id, its
/// seller and when it last changed; `None` when any is missing or unreadable
/// (the whole package is then read, and refused with what is wrong).
pub fn package_version(raw: &RawValue) -> Option<(String, String, chrono::DateTime<chrono::Utc>)> {
    package_glance(raw).map(|g| (g.id, g.seller, g.at))
}

/// A package read only as far as its id, seller, date, and what it bought
/// of the purchase plan (its RUP code, total and status), in one pass.
#[derive(Debug, Clone, PartialEq)]
pub struct Glance {
    pub id: String,
    pub seller: String,
    pub at: chrono::DateTime<chrono::Utc>,
    pub rup_code: Option<String>,
    pub total: Option<Decimal>,
    pub status: Option<String>,
}

pub fn package_glance(raw: &RawValue) -> Option<Glance> {
    use std::borrow::Cow;
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Amount<'a> {
        Number(serde_json::Number),
        Text(#[serde(borrow)] Cow<'a, str>),
        Other(serde::de::IgnoredAny),
    }
    #[derive(serde::Deserialize)]
    struct Version<'a> {
        #[serde(borrow)]
        order_id: Option<Cow<'a, str>>,
        #[serde(borrow)]
        kode_penyedia: Option<Cow<'a, str>>,
        #[serde(borrow)]
        last_update_date: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        rup_code: Option<Amount<'a>>,
        #[serde(borrow, default)]
        total: Option<Amount<'a>>,
        #[serde(borrow, default)]
        status: Option<Cow<'a, str>>,
    }
    let text = |a: Option<Amount<'_>>| match a {
        Some(Amount::Number(n)) => Some(n.to_string()),
        Some(Amount::Text(t)) if !t.trim().is_empty() && t.len() <= 100 => Some(t.trim().to_owned()),
        _ => None,
    };
    let v: Version<'_> = serde_json::from_str(raw.get()).ok()?;
    let id = v.order_id.filter(|s| !s.trim().is_empty() && s.len() <= 100)?;
    let at = crate::catalog::orders::time_text(&v.last_update_date?, "last_update_date").ok()??;
    let total =
        text(v.total).and_then(|t| t.parse::<Decimal>().ok()).filter(|t| t.abs() <= Decimal::from(crate::catalog::orders::MAX_AMOUNT) && t.scale() <= 2);
    Some(Glance {
        id: id.into_owned(),
        seller: v.kode_penyedia?.into_owned(),
        at,
        rup_code: text(v.rup_code),
        total,
        status: v.status.filter(|s| !s.is_empty() && s.len() <= 60).map(Cow::into_owned),
    })
}

/// Where INAPROC spells a package differently from the catalogue's order API.
const INAPROC: Feed = Feed { what: "package", updated: "last_update_date", confirm_by: false };

/// A row of `paket-e-purchasing`: one package (an order), without its lines.
/// Read by the same reader as the catalogue's packages ([`package_head`]).
pub fn package(value: Value) -> Result<RemoteOrder, String> {
    let replaced = crate::catalog::json_repair::replaced_paths(&value, 10);
    let mut order = package_head(&value, &INAPROC)?;
    let (raw, cut) = raw_owned(value, None);
    order.raw = raw;
    order.repaired = replaced.into_iter().map(|path| format!("{path}: a character that cannot be stored was replaced by U+FFFD")).chain(cut).collect();
    Ok(order)
}

/// A plan package's `kd_rup`, read alone (the other fields skipped, not
/// kept; given twice, the last, as a whole reading takes it): `None` when it
/// has none or is not readable so, and the row is then read whole (and
/// refused with what is wrong).
pub fn plan_package_id(raw: &RawValue) -> Option<String> {
    use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};
    /// The last `kd_rup` of an object, as a whole reading keeps the last of a key given twice.
    struct LastId;
    impl<'de> Visitor<'de> for LastId {
        type Value = Value;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
            let mut id = Value::Null;
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if key == "kd_rup" {
                    id = map.next_value()?;
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(id)
        }
    }
    let kd_rup = serde_json::Deserializer::from_str(raw.get()).deserialize_map(LastId).ok()?;
    text(&serde_json::json!({ "kd_rup": kd_rup }), "kd_rup", 40)
}

/// A row of the RUP's `paket-penyedia-terumumkan`: one announced package of
/// a buyer's plan. `kd_satker_str` is kept as text (leading zeros); the
/// numeric `kd_satker` only when no text is given. Flags come as booleans,
/// 0/1, or INAPROC's words (`UKM`/`Non UKM`, `PDN`/`Non PDN`, `Terumumkan`).
pub fn plan_package(raw: &RawValue) -> Result<crate::domain::rup::PlanPackage, String> {
    let f = PlanFields::read(raw)?;
    let kd_rup = f.required("kd_rup", 40)?;
    let at = |e: String| format!("package {kd_rup}: {e}");
    let nama_paket = f.required("nama_paket", 1000).map_err(at)?;
    let pagu = f.decimal("pagu", 2).map_err(at)?.ok_or_else(|| at("no pagu".into()))?;
    if pagu.is_sign_negative() {
        return Err(at(format!("pagu {pagu} is negative")));
    }
    let tahun =
        f.text("tahun_anggaran", 8).or_else(|| f.text("tahun", 8)).and_then(|t| t.trim().parse::<i32>().ok()).ok_or_else(|| at("no tahun_anggaran".into()))?;
    let kode_klpd = f.text("kd_klpd", 40).or_else(|| f.text("kode_klpd", 40)).unwrap_or_default();
    let date = |key: &str| -> Result<Option<chrono::NaiveDate>, String> {
        match f.text(key, 40) {
            None => Ok(None),
            Some(t) => {
                let day = t.trim().get(..10).unwrap_or(t.trim()).to_owned();
                // ISO's YYYY-MM-DD first (the usual, and quick), then the same loosely.
                day.parse::<chrono::NaiveDate>()
                    .or_else(|_| chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d"))
                    .map(Some)
                    .map_err(|_| at(format!("{key} {:?} is not a date", t.chars().take(40).collect::<String>())))
            }
        }
    };
    Ok(crate::domain::rup::PlanPackage {
        kode_klpd,
        tahun,
        uraian: f.text("uraian_pekerjaan", 4000).unwrap_or_default(),
        kd_satker: f.text("kd_satker_str", 40).or_else(|| f.text("kd_satker", 40)),
        nama_satker: f.text("nama_satker", 500),
        pagu,
        metode: f.text("metode_pengadaan", 100).unwrap_or_default(),
        jenis: f.text("jenis_pengadaan", 100).unwrap_or_default(),
        status_ukm: f.flag("status_ukm", &["ukm", "usaha kecil"]),
        status_pdn: f.flag("status_pdn", &["pdn"]),
        nama_ppk: f.text("nama_ppk", 300),
        tgl_awal_pemilihan: date("tgl_awal_pemilihan")?,
        tgl_akhir_pemilihan: date("tgl_akhir_pemilihan")?,
        tgl_awal_kontrak: date("tgl_awal_kontrak")?,
        tgl_akhir_kontrak: date("tgl_akhir_kontrak")?,
        sumber_dana: f.text("sumber_dana", 200),
        announced: f.get("status_umumkan_rup").is_none_or(|_| f.flag("status_umumkan_rup", &["terumumkan", "umumkan"])),
        active: f.get("status_aktif_rup").is_none_or(|_| f.flag("status_aktif_rup", &["aktif"])),
        nama_paket,
        kd_rup,
    })
}

/// The keys of a plan row that are read; the others are skipped unread.
const PLAN_KEYS: [&str; 23] = [
    "kd_rup",
    "nama_paket",
    "pagu",
    "tahun_anggaran",
    "tahun",
    "kd_klpd",
    "kode_klpd",
    "uraian_pekerjaan",
    "kd_satker_str",
    "kd_satker",
    "nama_satker",
    "metode_pengadaan",
    "jenis_pengadaan",
    "status_ukm",
    "status_pdn",
    "nama_ppk",
    "tgl_awal_pemilihan",
    "tgl_akhir_pemilihan",
    "tgl_awal_kontrak",
    "tgl_akhir_kontrak",
    "sumber_dana",
    "status_umumkan_rup",
    "status_aktif_rup",
];

/// A plan row's fields that are read, each as the JSON text it came as
/// (borrowed from the row: no tree is built), the last of a key given twice.
#[derive(Debug)]
struct PlanFields<'a>(Vec<(&'static str, &'a RawValue)>);

impl<'a> PlanFields<'a> {
    fn read(raw: &'a RawValue) -> Result<Self, String> {
        use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = Vec<(&'static str, &'de RawValue)>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut fields = Vec::with_capacity(PLAN_KEYS.len());
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match PLAN_KEYS.iter().find(|k| **k == key) {
                        Some(k) => fields.push((*k, map.next_value::<&'de RawValue>()?)),
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(fields)
            }
        }
        serde_json::Deserializer::from_str(raw.get()).deserialize_map(Fields).map(Self).map_err(|e| format!("a row is not readable: {e}"))
    }

    fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.0.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    fn value(&self, key: &str) -> Loose<'a> {
        self.get(key).map_or(Loose::Null, Loose::of_raw)
    }

    fn text(&self, key: &str, max: usize) -> Option<String> {
        self.value(key).text(max)
    }

    fn required(&self, key: &str, max: usize) -> Result<String, String> {
        self.text(key, max).ok_or_else(|| format!("no {key}"))
    }

    fn decimal(&self, key: &str, scale: u32) -> Result<Option<Decimal>, String> {
        self.value(key).decimal(key, scale)
    }

    /// A flag: true, 1, or one of the words (`yes`, in lower case; "true",
    /// "1" and "ya" always).
    fn flag(&self, key: &str, yes: &[&str]) -> bool {
        match self.value(key) {
            Loose::Bool(b) => b,
            Loose::Number(n) => n.parse::<i64>() == Ok(1),
            Loose::Text(s) => {
                let s = s.trim().to_lowercase();
                s == "true" || s == "1" || s == "ya" || yes.contains(&s.as_str())
            }
            Loose::Null | Loose::Other => false,
        }
    }
}

/// A row of `e-purchasing-by-produk`: one product of one order.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductRow {
    pub order_id: String,
    pub status: String,
    pub line: RemoteLine,
}

pub fn product_row(value: Value) -> Result<ProductRow, String> {
    let v = &value;
    let order_id = required(v, "order_id", 100)?;
    let product = required(v, "product_id", 100).map_err(|e| format!("order {order_id}: {e}"))?;
    let at = |e: String| format!("order {order_id}, product {product}: {e}");
    let amount: Decimal = decimal(v, "nilai_transaksi", 2).map_err(at)?.ok_or_else(|| at("no nilai_transaksi".into()))?;
    let status = required(v, "status", 60).map_err(at)?;
    let name = text(v, "nama_produk", 500).unwrap_or_default();
    Ok(ProductRow {
        status,
        line: RemoteLine {
            line_id: product.clone(),
            listing_id: Some(product),
            sku: None,
            name,
            quantity: None,
            unit: None,
            unit_price: None,
            line_total: amount,
            raw: raw_owned(value, None).0,
        },
        order_id,
    })
}

/// A row of `list-produk-penyedia`: a seller's product and whether it is live.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SellerProduct {
    pub kd_produk: String,
    pub nama_produk: String,
    /// The catalogue's own words for the product's state (free text).
    pub status_produk: Option<String>,
    /// Whether the product is live ("tayang").
    pub live: bool,
}

pub fn seller_product(v: &Value) -> Result<SellerProduct, String> {
    let kd = required(v, "kd_produk", 100)?;
    let live = match &v["status_produk_tayang"] {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_i64() == Some(1),
        Value::String(s) => matches!(s.trim().to_ascii_lowercase().as_str(), "true" | "1" | "ya" | "tayang"),
        _ => return Err(format!("product {kd}: status_produk_tayang is not true or false")),
    };
    Ok(SellerProduct { nama_produk: text(v, "nama_produk", 500).unwrap_or_default(), status_produk: text(v, "status_produk", 500), live, kd_produk: kd })
}

/// `penyedia-detail`: the seller as INAPROC registered it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SellerDetail {
    pub nama_penyedia: Option<String>,
    pub nib: Option<String>,
    pub npwp: Option<String>,
    pub bentuk_usaha: Option<String>,
    pub status_aktif: Option<bool>,
    pub status_umkk: Option<String>,
    pub kbli_id: Option<String>,
    pub kbli_name: Option<String>,
}

/// The detail in an answer: `data` as an object, or the first of a list; `None` when empty.
pub fn seller_detail(body: &Value) -> Result<Option<SellerDetail>, String> {
    let v = match &body["data"] {
        Value::Object(_) => &body["data"],
        Value::Array(items) => match items.first() {
            Some(first) => first,
            None => return Ok(None),
        },
        Value::Null => return Ok(None),
        _ => return Err("data is not a seller".into()),
    };
    let flag = match &v["status_aktif"] {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => Some(n.as_i64() == Some(1)),
        Value::String(s) => Some(matches!(s.trim().to_ascii_lowercase().as_str(), "true" | "1" | "aktif" | "ya")),
        _ => None,
    };
    Ok(Some(SellerDetail {
        nama_penyedia: text(v, "nama_penyedia", 500),
        nib: text(v, "nib", 40),
        npwp: text(v, "npwp_penyedia", 40),
        bentuk_usaha: text(v, "bentuk_usaha", 100),
        status_aktif: flag,
        status_umkk: text(v, "status_umkk", 100),
        kbli_id: text(v, "kbli_id", 20),
        kbli_name: text(v, "kbli_name", 500),
    }))
}

/// A node of `list-kategori-produk` at `level` (1-3): its code and name.
pub fn category(v: &Value, level: u8) -> Result<(String, String), String> {
    let code = required(v, &format!("kd_kategori_{level}"), 100)?;
    let name = text(v, &format!("nama_kategori_{level}"), 500).unwrap_or_default();
    Ok((code, name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_package_in_wib_wall_time_is_read_in_utc() {
        let p = package(json!({
            "order_id": "EP-1", "fiscal_year": "2026", "kode_klpd": "D347", "kode_penyedia": "P1", "status": "WAITING_PPK_REVIEW",
            "total": 125000, "shipping_fee": "0", "order_date": "2026-12-01 14:00:00", "last_update_date": "2026-12-01 15:30:00", "mak": "5.1.02"
        }))
        .unwrap();
        assert_eq!(p.updated_at.to_rfc3339(), "2026-12-01T08:30:00+00:00");
        assert_eq!(p.order_date.unwrap().to_rfc3339(), "2026-12-01T07:00:00+00:00");
        assert_eq!(p.raw["mak"], "5.1.02");
        assert!(p.lines.is_none() && p.confirm_by.is_none());
    }

    #[test]
    fn rows_without_what_identifies_them_are_refused_with_why() {
        assert!(package(json!({"order_id": "EP-1", "fiscal_year": 2026})).unwrap_err().contains("kode_klpd"));
        assert!(
            package(json!({"order_id": "EP-1", "fiscal_year": 2026, "kode_klpd": "D", "kode_penyedia": "P", "status": "X", "total": 1}))
                .unwrap_err()
                .contains("last_update_date")
        );
        assert!(
            product_row(json!({"order_id": "EP-1", "product_id": "7", "status": "ON_PROCESS", "nilai_transaksi": "1.234"}))
                .unwrap_err()
                .contains("decimal places")
        );
        let r = product_row(json!({"order_id": "EP-1", "product_id": 7, "status": "ON_PROCESS", "nilai_transaksi": 1500})).unwrap();
        assert_eq!((r.line.line_id.as_str(), r.line.line_total, r.line.quantity), ("7", Decimal::from(1500), None));
        assert!(seller_product(&json!({"kd_produk": "1", "status_produk_tayang": "maybe?"})).is_ok_and(|p| !p.live));
        assert!(seller_product(&json!({"kd_produk": "1", "status_produk_tayang": null})).is_err());
        let raw = |v: serde_json::Value| RawValue::from_string(v.to_string()).unwrap();
        assert!(page(&raw(json!({"data": [], "meta": {"has_more": true}}))).is_err());
        assert_eq!(page(&raw(json!({"data": {"a": 1}}))).unwrap_err(), "the answer has no data list");
        assert_eq!(page(&raw(json!({"meta": {}}))).unwrap_err(), "the answer has no data list");
        assert_eq!(page(&raw(json!("text"))).unwrap_err(), "the answer has no data list");
        let p = page(&raw(json!({"data": [{"order_id": "EP-1"}, 2], "meta": {"cursor": 7, "has_more": true}}))).unwrap();
        assert_eq!((p.rows.len(), p.rows[0].get(), p.cursor.as_deref(), p.has_more), (2, r#"{"order_id":"EP-1"}"#, Some("7"), true));
    }

    #[test]
    fn a_plan_package_keeps_its_work_units_leading_zeros_and_reads_inaprocs_words() {
        let plan_package = |v: serde_json::Value| plan_package(&RawValue::from_string(v.to_string()).unwrap());
        let p = plan_package(json!({
            "kd_rup": 51260001, "kd_klpd": "D347", "tahun_anggaran": "2027", "nama_paket": "Belanja beras", "pagu": "15000000",
            "kd_satker": 10201, "kd_satker_str": "0010201", "metode_pengadaan": "E-Purchasing", "jenis_pengadaan": "Barang",
            "status_ukm": "Non UKM", "status_pdn": "PDN", "tgl_awal_pemilihan": "2027-02-01 00:00:00", "status_umumkan_rup": "Terumumkan",
            "status_aktif_rup": false
        }))
        .unwrap();
        assert_eq!((p.kd_rup.as_str(), p.kd_satker.as_deref(), p.tahun), ("51260001", Some("0010201"), 2027));
        assert_eq!((p.status_ukm, p.status_pdn, p.announced, p.active), (false, true, true, false));
        assert_eq!(p.tgl_awal_pemilihan, "2027-02-01".parse().ok());
        assert!(plan_package(json!({"kd_rup": "1", "nama_paket": "x", "tahun_anggaran": 2027})).unwrap_err().contains("no pagu"));
        assert!(plan_package(json!({"kd_rup": "1", "nama_paket": "x", "pagu": -5, "tahun_anggaran": 2027})).unwrap_err().contains("negative"));
        let e = plan_package(json!({"kd_rup": "1", "nama_paket": "x", "pagu": 5, "tahun_anggaran": 2027, "tgl_awal_pemilihan": "besok"})).unwrap_err();
        assert!(e.contains("package 1") && e.contains("tgl_awal_pemilihan"), "{e}");
    }

    /// The plan's reader takes each field from the row's text, with no tree:
    /// it reads what the general reader of a JSON tree reads, field by field.
    #[test]
    fn a_plan_rows_fields_read_from_its_text_are_those_of_its_tree() {
        let rows = [
            r#"{"kd_rup": 51260001, "pagu": "15000000.50", "nama_paket": "Belanja \"beras\" \u00e9", "tahun_anggaran": " 2027 "}"#,
            r#"{"kd_rup": "1", "kd_rup": "2", "pagu": 1e3, "nama_paket": "   ", "uraian_pekerjaan": {"a": [1, "x"]}, "nama_ppk": null}"#,
            r#"{"pagu": -0.5, "nama_satker": "Dinas   Sosial", "kd_satker": 10201, "status_ukm": [true], "sumber_dana": "APBD\nP"}"#,
            r#"{"pagu": true, "metode_pengadaan": 12.50, "extra": {"pagu": 9}}"#,
            r#"{"pagu": "sepuluh", "jenis_pengadaan": "Barang/Jasa Lainnya yang sangat panjang sekali melebihi empat puluh huruf"}"#,
        ];
        for row in rows {
            let tree: Value = serde_json::from_str(row).unwrap();
            let raw = RawValue::from_string(row.to_owned()).unwrap();
            let fields = PlanFields::read(&raw).unwrap();
            for key in PLAN_KEYS {
                assert_eq!(fields.text(key, 40), crate::catalog::orders::text(&tree, key, 40), "{key} of {row}");
                assert_eq!(fields.decimal(key, 2), crate::catalog::orders::decimal(&tree, key, 2), "{key} of {row}");
            }
        }
        assert!(PlanFields::read(&RawValue::from_string("[1]".into()).unwrap()).unwrap_err().contains("not readable"));
    }

    #[test]
    fn a_plan_packages_id_read_alone_is_the_one_read_whole() {
        let raw = |s: &str| RawValue::from_string(s.to_owned()).unwrap();
        for row in [r#"{"nama_paket": "x", "kd_rup": 51260001, "pagu": 5}"#, r#"{"kd_rup": " 51260001 ", "uraian": {"a": [1, 2]}}"#] {
            let whole = required(&serde_json::from_str(row).unwrap(), "kd_rup", 40).unwrap();
            assert_eq!(plan_package_id(&raw(row)), Some(whole), "{row}");
        }
        assert_eq!(plan_package_id(&raw(r#"{"nama_paket": "x"}"#)), None);
        assert_eq!(plan_package_id(&raw(r#"{"kd_rup": ""}"#)), None);
        assert_eq!(plan_package_id(&raw(r#"{"kd_rup": "1", "kd_rup": "2"}"#)), Some("2".into()), "twice: the last, as read whole");
        assert_eq!(plan_package_id(&raw(r#"[1]"#)), None);
    }

    #[test]
    fn every_envelope_inaproc_uses_gives_its_rows_and_the_next_cursor() {
        let raw = |v: serde_json::Value| RawValue::from_string(v.to_string()).unwrap();
        let shape = |v: serde_json::Value| page(&raw(v)).map(|p| (p.rows.len(), p.cursor, p.has_more));
        // A bare list: one page.
        assert_eq!(shape(json!([{"a": 1}, {"a": 2}])), Ok((2, None, false)));
        // The e-katalog endpoints: `meta`.
        assert_eq!(shape(json!({"data": [{}], "meta": {"cursor": "c2", "has_more": true}})), Ok((1, Some("c2".into()), true)));
        assert_eq!(shape(json!({"data": [{}], "meta": {"cursor": "c2", "has_more": false}})), Ok((1, Some("c2".into()), false)));
        // The RUP's: `next_cursor`, more while it is given.
        assert_eq!(shape(json!({"success": true, "data": [{}, {}], "next_cursor": 51260001})), Ok((2, Some("51260001".into()), true)));
        assert_eq!(shape(json!({"success": true, "data": [{}], "next_cursor": null})), Ok((1, None, false)));
        assert_eq!(shape(json!({"data": [], "cursor": "x", "has_more": false})), Ok((0, Some("x".into()), false)));
        // Nested: `data.items`.
        assert_eq!(shape(json!({"data": {"items": [{}], "next_cursor": "n"}})), Ok((1, Some("n".into()), true)));
        assert_eq!(shape(json!({"data": [], "has_more": true})).unwrap_err(), "has_more is true but the cursor is missing");
        assert_eq!(shape(json!({"data": [], "has_more": "yes", "cursor": "c"})).unwrap_err(), "has_more is not true or false");
    }

    #[test]
    fn a_packages_version_is_read_without_the_rest_and_missing_parts_say_read_it_whole() {
        let raw = |v: serde_json::Value| RawValue::from_string(v.to_string()).unwrap();
        let (id, seller, at) =
            package_version(&raw(json!({"order_id": "EP-1", "kode_penyedia": "P1", "last_update_date": "2026-12-01 14:00:00", "total": {"odd": [1]}})))
                .unwrap();
        // 14:00 in Jakarta is 07:00 UTC.
        assert_eq!((id.as_str(), seller.as_str(), at.to_rfc3339()), ("EP-1", "P1", "2026-12-01T07:00:00+00:00".to_owned()));
        assert!(package_version(&raw(json!({"order_id": "EP-1", "kode_penyedia": "P1"}))).is_none());
        assert!(package_version(&raw(json!({"order_id": " ", "kode_penyedia": "P1", "last_update_date": "2026-12-01T07:00:00Z"}))).is_none());
        assert!(package_version(&raw(json!({"order_id": 5, "kode_penyedia": "P1", "last_update_date": "2026-12-01T07:00:00Z"}))).is_none());
        // An escaped text is read too (into a copy of its own).
        let escaped = RawValue::from_string(r#"{"order_id":"EP-\u00e9","kode_penyedia":"P1","last_update_date":"2026-12-01T07:00:00Z"}"#.to_owned()).unwrap();
        assert_eq!(package_version(&escaped).unwrap().0, "EP-\u{e9}");
    }
}
