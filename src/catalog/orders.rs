//! The order API's packages and details (`docs/catalogue-api.md`, shaped like
//! the INAPROC data API) read into domain types. Every field is read
//! defensively: texts are bounded, amounts are exact decimals within bounds,
//! and a package without its id, seller, buyer, year, status or change time
//! is an error naming what is missing.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::domain::order::{OrderStatus, RemoteLine, RemoteOrder};

/// The largest amount taken (Rp 1,000 trillion): above it, a package is refused as garbage.
pub(crate) const MAX_AMOUNT: i64 = 1_000_000_000_000_000;
/// Lines read from one order at most.
pub const MAX_LINES: usize = 10_000;
/// The raw JSON kept of one package or line at most (bytes); a larger one is kept cut to its mapped fields.
const MAX_RAW_BYTES: usize = 64 * 1024;

pub(crate) fn text(v: &Value, key: &str, max: usize) -> Option<String> {
    Loose::of_value(&v[key]).text(max)
}

pub(crate) fn required(v: &Value, key: &str, max: usize) -> Result<String, String> {
    text(v, key, max).ok_or_else(|| format!("no {key}"))
}

/// An amount or quantity: a JSON number or a decimal string, at most `scale` places.
pub(crate) fn decimal(v: &Value, key: &str, scale: u32) -> Result<Option<Decimal>, String> {
    Loose::of_value(&v[key]).decimal(key, scale)
}

/// A field's value as JSON gives it, from a parsed tree or from its own
/// text (the plan's reader, which builds no tree): one reading of texts
/// and amounts for both.
pub(crate) enum Loose<'a> {
    Null,
    Text(std::borrow::Cow<'a, str>),
    /// A number as serde_json writes it back (`arbitrary_precision`: its
    /// digits as written; an exponent with its sign).
    Number(std::borrow::Cow<'a, str>),
    Bool(bool),
    /// An array or an object.
    Other,
}

impl<'a> Loose<'a> {
    pub(crate) fn of_value(v: &'a Value) -> Self {
        match v {
            Value::Null => Self::Null,
            Value::String(s) => Self::Text(s.as_str().into()),
            Value::Number(n) => Self::Number(n.to_string().into()),
            Value::Bool(b) => Self::Bool(*b),
            Value::Array(_) | Value::Object(_) => Self::Other,
        }
    }

    /// A value from its JSON text (borrowed where it has no escapes).
    pub(crate) fn of_raw(raw: &'a serde_json::value::RawValue) -> Self {
        let t = raw.get().trim();
        match t.as_bytes().first() {
            Some(b'"') => serde_json::from_str::<&str>(t)
                .map(std::borrow::Cow::Borrowed)
                .or_else(|_| serde_json::from_str::<String>(t).map(std::borrow::Cow::Owned))
                .map_or(Self::Other, Self::Text),
            Some(b't') => Self::Bool(true),
            Some(b'f') => Self::Bool(false),
            Some(b'n') => Self::Null,
            Some(b'-' | b'0'..=b'9') if !t.contains(['e', 'E']) => Self::Number(t.into()),
            Some(b'-' | b'0'..=b'9') => serde_json::from_str::<serde_json::Number>(t).map_or(Self::Other, |n| Self::Number(n.to_string().into())),
            _ => Self::Other,
        }
    }

    /// A text not blank, cut to `max` characters, or a number's digits.
    pub(crate) fn text(self, max: usize) -> Option<String> {
        match self {
            // No more bytes than `max` is no more characters: nothing to cut.
            Self::Text(s) if !s.trim().is_empty() => Some(if s.len() <= max { s.into_owned() } else { s.chars().take(max).collect() }),
            Self::Number(n) => Some(n.into_owned()),
            _ => None,
        }
    }

    /// An amount or quantity: a number or a decimal text, within bounds
    /// and at most `scale` places (`key` names it in what is wrong).
    pub(crate) fn decimal(self, key: &str, scale: u32) -> Result<Option<Decimal>, String> {
        let d = match self {
            Self::Null => return Ok(None),
            Self::Number(n) => n.parse::<Decimal>().map_err(|_| format!("{key} {n} is not a number"))?,
            Self::Text(s) => s.trim().parse::<Decimal>().map_err(|_| format!("{key} {:?} is not a number", s.chars().take(40).collect::<String>()))?,
            Self::Bool(_) | Self::Other => return Err(format!("{key} is not a number")),
        };
        if d.abs() > Decimal::from(MAX_AMOUNT) {
            return Err(format!("{key} {d} is out of bounds"));
        }
        if d.scale() > scale && d.normalize().scale() > scale {
            return Err(format!("{key} {d} has more than {scale} decimal places"));
        }
        Ok(Some(d.normalize()))
    }
}

/// A time: RFC 3339, or Jakarta wall time without a zone (`2026-12-01
/// 14:00:00`, as INAPROC writes it).
pub(crate) fn time(v: &Value, key: &str) -> Result<Option<DateTime<Utc>>, String> {
    match &v[key] {
        Value::Null => Ok(None),
        Value::String(s) => time_text(s, key),
        _ => Err(format!("{key} is not a time")),
    }
}

/// [`time`] of a text.
pub(crate) fn time_text(s: &str, key: &str) -> Result<Option<DateTime<Utc>>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .and_then(|t| t.and_local_timezone(chrono_tz::Asia::Jakarta).earliest())
        .map(|t| Some(t.with_timezone(&Utc)))
        .ok_or_else(|| format!("{key} is not a time (RFC 3339, or YYYY-MM-DD HH:MM:SS in WIB)"))
}

/// The raw copy kept of a package or line: its fields but `except`, when
/// they take at most [`MAX_RAW_BYTES`] as JSON (measured without writing
/// them out); otherwise a marker, and the note that says so.
pub(crate) fn raw(v: &Value, except: Option<&str>) -> (Value, Option<String>) {
    match v {
        _ if !raw_fits(v, except) => cut_raw(),
        Value::Object(map) => (Value::Object(map.iter().filter(|(k, _)| Some(k.as_str()) != except).map(|(k, v)| (k.clone(), v.clone())).collect()), None),
        other => (other.clone(), None),
    }
}

/// [`raw`] of a value that is no longer needed: kept as it is, not copied.
pub(crate) fn raw_owned(mut v: Value, except: Option<&str>) -> (Value, Option<String>) {
    if !raw_fits(&v, except) {
        return cut_raw();
    }
    if let (Value::Object(map), Some(key)) = (&mut v, except) {
        map.remove(key);
    }
    (v, None)
}

/// Whether the raw copy of `v` (without `except`) is within MAX_RAW_BYTES.
fn raw_fits(v: &Value, except: Option<&str>) -> bool {
    struct Budget(usize);
    impl std::io::Write for Budget {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 = self.0.checked_sub(buf.len()).ok_or_else(|| std::io::Error::other("over the budget"))?;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut budget = Budget(MAX_RAW_BYTES);
    match v {
        Value::Object(map) => map
            .iter()
            .filter(|(k, _)| Some(k.as_str()) != except)
            .all(|(k, val)| serde_json::to_writer(&mut budget, k).and_then(|_| serde_json::to_writer(&mut budget, val)).is_ok()),
        other => serde_json::to_writer(&mut budget, other).is_ok(),
    }
}

fn cut_raw() -> (Value, Option<String>) {
    (
        serde_json::json!({"_cut": "the package was larger than katalog-bridge keeps"}),
        Some(format!("the raw copy was not kept: over {} KiB", MAX_RAW_BYTES / 1024)),
    )
}

/// Where the two feeds of packages (the catalogue's order API and
/// INAPROC's `paket-e-purchasing`) spell a package differently.
pub(crate) struct Feed {
    /// What a package is called in an error: `order`, `package`.
    pub what: &'static str,
    /// The field with the time of its last change.
    pub updated: &'static str,
    /// Whether it carries the seller's confirmation deadline (`confirm_by`).
    pub confirm_by: bool,
}

pub(crate) const CATALOGUE: Feed = Feed { what: "order", updated: "updated_at", confirm_by: true };

/// A fiscal year within reason.
pub(crate) fn year(v: &Value, key: &str) -> Option<i32> {
    match &v[key] {
        Value::Number(n) => n.as_i64().and_then(|y| i32::try_from(y).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|y| (2000..=2100).contains(y))
}

/// One package's own fields, as both feeds give them: everything but its
/// lines, its raw copy and what its repair changed (the caller's to add).
pub(crate) fn package_head(v: &Value, feed: &Feed) -> Result<RemoteOrder, String> {
    let id = required(v, "order_id", 100)?;
    let at = |e: String| format!("{} {id}: {e}", feed.what);
    Ok(RemoteOrder {
        repaired: Vec::new(),
        rup_code: text(v, "rup_code", 100),
        rup_name: text(v, "rup_name", 500),
        fiscal_year: year(v, "fiscal_year").ok_or_else(|| at("no fiscal_year".into()))?,
        funding_source: text(v, "funding_source", 100),
        kode_klpd: required(v, "kode_klpd", 40).map_err(at)?,
        kode_satker: text(v, "kode_satker", 100),
        nama_satker: text(v, "nama_satker", 500),
        kode_penyedia: required(v, "kode_penyedia", 40).map_err(at)?,
        status: OrderStatus::parse(&required(v, "status", 60).map_err(at)?),
        shipment_status: text(v, "shipment_status", 60),
        shipping_fee: decimal(v, "shipping_fee", 2).map_err(at)?.unwrap_or_default(),
        total: decimal(v, "total", 2).map_err(at)?.ok_or_else(|| at("no total".into()))?,
        order_date: time(v, "order_date").map_err(at)?,
        // INAPROC gives no deadline: it is counted from the status's start.
        confirm_by: if feed.confirm_by { time(v, "confirm_by").map_err(at)? } else { None },
        updated_at: time(v, feed.updated).map_err(at)?.ok_or_else(|| at(format!("no {}", feed.updated)))?,
        raw: Value::Null,
        lines: None,
        order_id: id,
    })
}

/// One package of the order feed, or an order's detail (with `lines`).
pub fn order(v: &Value) -> Result<RemoteOrder, String> {
    let mut order = package_head(v, &CATALOGUE)?;
    let id = order.order_id.clone();
    let at = |e: String| format!("order {id}: {e}");
    let lines = match &v["lines"] {
        Value::Array(items) => {
            if items.len() > MAX_LINES {
                return Err(at(format!("more than {MAX_LINES} lines")));
            }
            Some(items.iter().map(line).collect::<Result<Vec<_>, String>>().map_err(at)?)
        }
        _ => None,
    };
    let (raw, cut) = raw(v, Some("lines"));
    // What the answer's repair changed, once, here: the order's own fields,
    // then each line's, named by its line id.
    use crate::catalog::json_repair::{replaced_paths, replaced_paths_except};
    let in_lines = match (&v["lines"], &lines) {
        (Value::Array(items), Some(read)) => {
            items.iter().zip(read).flat_map(|(item, l)| replaced_paths(item, 3).into_iter().map(move |p| format!("line {}: {p}", l.line_id))).collect()
        }
        _ => Vec::new(),
    };
    let repaired = replaced_paths_except(v, Some("lines"), 10)
        .into_iter()
        .chain(in_lines)
        .take(10)
        .map(|path| format!("{path}: a character that cannot be stored was replaced by U+FFFD"))
        .chain(cut)
        .collect();
    (order.repaired, order.raw, order.lines) = (repaired, raw, lines);
    match order.repeated_line() {
        Some(line) => Err(at(format!("line {line} appears more than once"))),
        None => Ok(order),
    }
}

fn line(v: &Value) -> Result<RemoteLine, String> {
    let id = required(v, "line_id", 100)?;
    let at = |e: String| format!("line {id}: {e}");
    Ok(RemoteLine {
        listing_id: text(v, "listing_id", 100),
        sku: text(v, "sku", 100),
        name: text(v, "name", 500).unwrap_or_default(),
        quantity: Some(decimal(v, "quantity", 4).map_err(at)?.ok_or_else(|| at("no quantity".into()))?),
        unit: text(v, "unit", 60),
        unit_price: Some(decimal(v, "unit_price", 2).map_err(at)?.ok_or_else(|| at("no unit_price".into()))?),
        line_total: decimal(v, "line_total", 2).map_err(at)?.ok_or_else(|| at("no line_total".into()))?,
        raw: raw(v, None).0,
        line_id: id,
    })
}

/// A page of the order feed: its packages (each read or refused alone), cursor and whether more follow.
pub struct OrderPage {
    pub orders: Vec<RemoteOrder>,
    /// Packages that could not be read, with why (kept out, counted, reported).
    pub unreadable: Vec<String>,
    pub cursor: String,
    pub has_more: bool,
}

pub fn order_page(body: &Value) -> Result<OrderPage, String> {
    let data = body["data"].as_array().ok_or("the page has no data list")?;
    let cursor = match &body["meta"]["cursor"] {
        Value::String(s) => s.chars().take(200).collect(),
        Value::Number(n) => n.to_string(),
        _ => return Err("the page has no meta.cursor".into()),
    };
    let has_more = body["meta"]["has_more"].as_bool().ok_or("the page has no meta.has_more")?;
    let mut orders = Vec::with_capacity(data.len());
    let mut unreadable = Vec::new();
    for item in data {
        match order(item) {
            Ok(o) => orders.push(o),
            Err(e) => unreadable.push(e),
        }
    }
    Ok(OrderPage { orders, unreadable, cursor, has_more })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn package() -> Value {
        json!({"order_id": "EP-2026-000001", "fiscal_year": 2026, "kode_klpd": "D347", "kode_penyedia": "P3576-0006",
               "status": "WAITING_SELLER_CONFIRMATION", "shipping_fee": 25000, "total": "951000", "updated_at": "2026-12-01T02:00:00Z",
               "order_date": "2026-12-01T02:00:00Z", "extra": {"kept": true}})
    }

    #[test]
    fn a_package_is_read_exactly_and_keeps_what_it_does_not_map() {
        let o = order(&package()).unwrap();
        assert_eq!((o.total, o.shipping_fee), (Decimal::from(951_000), Decimal::from(25_000)));
        assert_eq!(o.status, OrderStatus::WaitingSellerConfirmation);
        assert_eq!(o.raw["extra"]["kept"], true);
        assert!(o.lines.is_none());
        let mut detail = package();
        detail["lines"] = json!([{"line_id": "1", "quantity": "12.5", "unit_price": 74000, "line_total": 925000, "name": "Beras"}]);
        let d = order(&detail).unwrap();
        assert_eq!(d.lines.as_ref().unwrap()[0].quantity, Some(Decimal::new(125, 1)));
        assert!(d.amount_mismatch(), "925,000 + 25,000 = 950,000, not the 951,000 total");
        detail["total"] = json!(950_000);
        assert!(!order(&detail).unwrap().amount_mismatch());
    }

    #[test]
    fn hostile_packages_are_refused_with_what_is_wrong() {
        for (change, why) in [
            (json!({"order_id": null}), "no order_id"),
            (json!({"total": 1e300}), "not a number"),
            (json!({"total": "99999999999999999999"}), "out of bounds"),
            (json!({"total": "12.345"}), "decimal places"),
            (json!({"updated_at": "yesterday"}), "RFC 3339"),
            (json!({"fiscal_year": 99999}), "fiscal_year"),
            (json!({"kode_penyedia": ""}), "kode_penyedia"),
        ] {
            let mut p = package();
            for (k, v) in change.as_object().unwrap() {
                p[k] = v.clone();
            }
            let e = order(&p).unwrap_err();
            assert!(e.contains(why), "{e}");
        }
        let mut p = package();
        p["lines"] = json!([{"line_id": "1", "quantity": "1.23456", "unit_price": 1, "line_total": 1}]);
        assert!(order(&p).unwrap_err().contains("line 1"));
        let one = json!({"line_id": "7", "quantity": 1, "unit_price": 1, "line_total": 1});
        p["lines"] = json!([one.clone(), one]);
        assert!(order(&p).unwrap_err().contains("line 7 appears more than once"));
    }
}
