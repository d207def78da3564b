//! INAPROC's rows read into domain types, defensively: bounded texts, exact
//! bounded decimals, times in RFC 3339 or in Jakarta wall time, and a row
//! without what identifies it refused with what is missing.

use rust_decimal::Decimal;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::catalog::orders::{Feed, decimal, package_head, raw_owned, required, text};
use crate::domain::order::{RemoteLine, RemoteOrder};

/// Rows read from one page at most.
const MAX_ROWS: usize = 1000;

/// A list answer: `data`, `meta.cursor`, `meta.has_more`. The rows are kept
/// as the JSON text they came as: each is read only as far as needed.
pub fn page(body: &RawValue) -> Result<super::Page, String> {
    #[derive(serde::Deserialize)]
    struct Answer<'a> {
        #[serde(borrow, default)]
        data: Option<&'a RawValue>,
        #[serde(default)]
        meta: Value,
    }
    let answer: Answer<'_> = serde_json::from_str(body.get()).map_err(|_| "the answer has no data list")?;
    let data: Vec<Box<RawValue>> = answer.data.and_then(|d| serde_json::from_str(d.get()).ok()).ok_or("the answer has no data list")?;
    if data.len() > MAX_ROWS {
        return Err(format!("the page has {} rows, more than the {MAX_ROWS} a page may have", data.len()));
    }
    let meta = &answer.meta;
    let cursor = match &meta["cursor"] {
        Value::String(s) if !s.is_empty() => Some(s.chars().take(200).collect()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let has_more = match &meta["has_more"] {
        Value::Bool(b) => *b,
        Value::Null => false,
        _ => return Err("meta.has_more is not true or false".into()),
    };
    if has_more && cursor.is_none() {
        return Err("meta.has_more is true but meta.cursor is missing".into());
    }
    Ok(super::Page { rows: data, cursor, has_more })
}

/// A row read whole, for what needs all of it.
pub fn row(raw: &RawValue) -> Result<Value, String> {
    serde_json::from_str(raw.get()).map_err(|e| format!("a row is not readable: {e}"))
}

/// What a package is, read before anything else of it: its order id, its
/// seller and when it last changed; `None` when any is missing or unreadable
/// (the whole package is then read, and refused with what is wrong).
pub fn package_version(raw: &RawValue) -> Option<(String, String, chrono::DateTime<chrono::Utc>)> {
    #[derive(serde::Deserialize)]
    struct Version<'a> {
        #[serde(borrow)]
        order_id: Option<std::borrow::Cow<'a, str>>,
        #[serde(borrow)]
        kode_penyedia: Option<std::borrow::Cow<'a, str>>,
        #[serde(borrow)]
        last_update_date: Option<std::borrow::Cow<'a, str>>,
    }
    let v: Version<'_> = serde_json::from_str(raw.get()).ok()?;
    let id = v.order_id.filter(|s| !s.trim().is_empty() && s.len() <= 100)?;
    let at = crate::catalog::orders::time_text(&v.last_update_date?, "last_update_date").ok()??;
    Some((id.into_owned(), v.kode_penyedia?.into_owned(), at))
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
        assert_eq!(page(&raw(json!([1, 2]))).unwrap_err(), "the answer has no data list");
        assert_eq!(page(&raw(json!({"data": {"a": 1}}))).unwrap_err(), "the answer has no data list");
        let p = page(&raw(json!({"data": [{"order_id": "EP-1"}, 2], "meta": {"cursor": 7, "has_more": true}}))).unwrap();
        assert_eq!((p.rows.len(), p.rows[0].get(), p.cursor.as_deref(), p.has_more), (2, r#"{"order_id":"EP-1"}"#, Some("7"), true));
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
