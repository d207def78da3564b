//! PEPPOL BIS Ordering 3 Orders (UBL 2.1) read with quick-xml into domain
//! orders: every line with its quantity, unit, price and amount, and the
//! parties. A document that is malformed, is not an Order, or lacks what an
//! order needs is an error that says what; nothing of it is kept then.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Asia::Jakarta;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::leaves::{self, Leaf};
use crate::domain::order::{OrderStatus, RemoteLine, RemoteOrder};

/// Lines read from one document at most.
const MAX_LINES: usize = 10_000;

#[derive(Default)]
struct Party {
    endpoint: Option<(String, String)>,
    identification: Option<(String, String)>,
    name: Option<String>,
    registration_name: Option<String>,
}

impl Party {
    fn json(&self) -> Value {
        json!({
            "endpoint": self.endpoint.as_ref().map(|(s, v)| format!("{s}:{v}")),
            "identification": self.identification.as_ref().map(|(s, v)| format!("{s}:{v}")),
            "name": self.name, "registration_name": self.registration_name,
        })
    }

    /// `scheme:id`, from the endpoint or else the party identification.
    fn id(&self) -> Option<String> {
        self.endpoint.as_ref().or(self.identification.as_ref()).map(|(s, v)| format!("{s}:{v}"))
    }

    /// Its GLN (scheme 0088), where it has one.
    fn gln(&self) -> Option<&str> {
        [&self.endpoint, &self.identification].into_iter().flatten().find(|(s, _)| s == "0088").map(|(_, v)| v.as_str())
    }

    fn display_name(&self) -> Option<String> {
        self.name.clone().or_else(|| self.registration_name.clone())
    }
}

#[derive(Default)]
struct Line {
    fields: BTreeMap<&'static str, String>,
    unit: Option<String>,
}

/// The document-level fields kept: directly under `Order` (depth 2) or its
/// anticipated monetary total (depth 3).
fn head_key(depth: usize, name: &str) -> Option<&'static str> {
    const TOP: [&str; 8] = ["ID", "IssueDate", "IssueTime", "DocumentCurrencyCode", "Note", "OrderTypeCode", "CustomizationID", "ProfileID"];
    const TOTALS: [&str; 6] = ["LineExtensionAmount", "PayableAmount", "TaxExclusiveAmount", "TaxInclusiveAmount", "ChargeTotalAmount", "AllowanceTotalAmount"];
    let set: &[&'static str] = if depth == 2 { &TOP } else { &TOTALS };
    set.iter().copied().find(|k| *k == name)
}

/// Where a field of a party sits below `Order/<role>/Party`.
fn party_field(party: &mut Party, rest: &[&str], text: &str, scheme: &mut Option<String>) {
    match rest {
        ["EndpointID"] => party.endpoint = Some((scheme.take().unwrap_or_default(), text.trim().to_owned())),
        ["PartyIdentification", "ID"] => party.identification = Some((scheme.take().unwrap_or_default(), text.trim().to_owned())),
        ["PartyName", "Name"] => party.name = Some(text.trim().to_owned()),
        ["PartyLegalEntity", "RegistrationName"] => party.registration_name = Some(text.trim().to_owned()),
        _ => {}
    }
}

fn amount(what: &str, text: &str, scale: u32) -> Result<Decimal, String> {
    let d: Decimal = text.trim().parse().map_err(|_| format!("{what} {:?} is not a number", text.chars().take(40).collect::<String>()))?;
    let d = d.normalize();
    if d.scale() > scale || d.abs() > Decimal::from(1_000_000_000_000_000i64) {
        return Err(format!("{what} {d} is out of bounds (at most {scale} decimal places)"));
    }
    Ok(d)
}

/// The field of an order line a leaf under `cac:LineItem` is, if one kept.
fn line_key(rest: &[&str]) -> Option<&'static str> {
    Some(match rest {
        ["ID"] => "id",
        ["Quantity"] => "quantity",
        ["LineExtensionAmount"] => "line_extension_amount",
        ["Price", "PriceAmount"] => "price",
        ["Price", "BaseQuantity"] => "base_quantity",
        ["Item", "Name"] => "name",
        ["Item", "Description"] => "description",
        ["Item", "SellersItemIdentification", "ID"] => "sellers_item_id",
        ["Item", "BuyersItemIdentification", "ID"] => "buyers_item_id",
        ["Item", "StandardItemIdentification", "ID"] => "standard_item_id",
        ["Item", "ClassifiedTaxCategory", "ID"] => "tax_category",
        ["Item", "ClassifiedTaxCategory", "Percent"] => "tax_percent",
        _ => return None,
    })
}

/// The `n`th order line (from 0) as a line of the order; what is wrong
/// with it, named by its line id.
fn order_line(n: usize, l: Line) -> Result<RemoteLine, String> {
    let line_id = l.fields.get("id").cloned().unwrap_or_else(|| (n + 1).to_string());
    let lat = |e: String| format!("line {line_id}: {e}");
    let get = |k: &str| l.fields.get(k).map(String::as_str);
    let quantity = amount("Quantity", get("quantity").ok_or_else(|| lat("no cbc:Quantity".into()))?, 4).map_err(lat)?;
    let line_total = amount("LineExtensionAmount", get("line_extension_amount").ok_or_else(|| lat("no cbc:LineExtensionAmount".into()))?, 2).map_err(lat)?;
    let unit_price = match get("price") {
        Some(p) => amount("PriceAmount", p, 2).map_err(lat)?,
        None => return Err(lat("no cac:Price/cbc:PriceAmount".into())),
    };
    let raw = json!({
        "base_quantity": get("base_quantity"), "buyers_item_id": get("buyers_item_id"), "standard_item_id": get("standard_item_id"),
        "description": get("description"), "tax_category": get("tax_category"), "tax_percent": get("tax_percent"), "unit_code": l.unit,
    });
    Ok(RemoteLine {
        listing_id: None,
        sku: get("sellers_item_id").map(str::to_owned),
        name: get("name").or(get("description")).unwrap_or_default().to_owned(),
        quantity: Some(quantity),
        unit: l.unit.clone(),
        unit_price: Some(unit_price),
        line_total,
        raw,
        line_id,
    })
}

/// Reads one Order document. `gln_seller` names the seller id (kode_penyedia)
/// of a cooperative by its GLN.
pub fn read(xml: &[u8], gln_seller: &dyn Fn(&str) -> Option<String>) -> Result<RemoteOrder, String> {
    let mut head: BTreeMap<&'static str, String> = BTreeMap::new();
    let (mut buyer, mut seller) = (Party::default(), Party::default());
    let mut lines: Vec<Line> = Vec::new();
    let mut scheme: Option<String> = None;
    let root = leaves::read(xml, |leaf| {
        match leaf {
            Leaf::Open(path) if path.len() == 2 && path[1] == "OrderLine" => {
                if lines.len() >= MAX_LINES {
                    return Err(format!("more than {MAX_LINES} order lines"));
                }
                lines.push(Line::default());
            }
            Leaf::Attribute(path, "schemeID", value) if matches!(path.last().map(String::as_str), Some("EndpointID" | "ID")) => scheme = Some(value),
            Leaf::Attribute(path, "unitCode", value) if path.len() == 4 && path[1] == "OrderLine" && path[3] == "Quantity" => {
                if let Some(l) = lines.last_mut() {
                    l.unit = Some(value.chars().take(20).collect());
                }
            }
            Leaf::Text(path, text) => {
                let p: Vec<&str> = path.iter().map(String::as_str).collect();
                let text: String = text.chars().take(2000).collect();
                match p.as_slice() {
                    ["Order", field] | ["Order", "AnticipatedMonetaryTotal", field] if head_key(p.len(), field).is_some() => {
                        if let Some(k) = head_key(p.len(), field) {
                            head.insert(k, text);
                        }
                    }
                    ["Order", "BuyerCustomerParty", "Party", rest @ ..] => party_field(&mut buyer, rest, &text, &mut scheme),
                    ["Order", "SellerSupplierParty", "Party", rest @ ..] => party_field(&mut seller, rest, &text, &mut scheme),
                    ["Order", "OrderLine", "LineItem", rest @ ..] => {
                        if let (Some(key), Some(l)) = (line_key(rest), lines.last_mut()) {
                            l.fields.insert(key, text);
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    if root != "Order" {
        return Err(format!("the document is a {root}, not a UBL Order"));
    }
    let id = head.get("ID").map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).ok_or("the Order has no cbc:ID")?;
    let at = |e: String| format!("order {id}: {e}");
    let date = head.get("IssueDate").ok_or_else(|| at("no cbc:IssueDate".into()))?;
    let date = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").map_err(|_| at(format!("IssueDate {date:?} is not a date")))?;
    let time = head.get("IssueTime").and_then(|t| NaiveTime::parse_from_str(t.trim().get(..8).unwrap_or(t), "%H:%M:%S").ok()).unwrap_or_default();
    // A local time without a zone is taken as Jakarta's.
    let issued =
        Jakarta.from_local_datetime(&date.and_time(time)).single().ok_or_else(|| at("the issue time does not exist".into()))?.with_timezone(&chrono::Utc);
    if lines.is_empty() {
        return Err(at("no cac:OrderLine".into()));
    }
    let mut out_lines = Vec::with_capacity(lines.len());
    for (n, l) in lines.into_iter().enumerate() {
        out_lines.push(order_line(n, l).map_err(at)?);
    }
    let payable = amount("PayableAmount", head.get("PayableAmount").ok_or_else(|| at("no cbc:PayableAmount".into()))?, 2).map_err(at)?;
    let line_extension = head.get("LineExtensionAmount").map(|t| amount("LineExtensionAmount", t, 2)).transpose().map_err(at)?;
    let kode_penyedia =
        seller.gln().and_then(gln_seller).or_else(|| seller.id()).ok_or_else(|| at("the seller has no EndpointID or PartyIdentification".into()))?;
    let raw = json!({
        "document": "UBL Order", "document_id": id, "customization_id": head.get("CustomizationID"), "profile_id": head.get("ProfileID"),
        "order_type_code": head.get("OrderTypeCode"), "note": head.get("Note"), "currency": head.get("DocumentCurrencyCode"),
        "line_extension_amount": line_extension.map(|d| d.to_string()),
        "tax_exclusive_amount": head.get("TaxExclusiveAmount"), "tax_inclusive_amount": head.get("TaxInclusiveAmount"),
        "charge_total_amount": head.get("ChargeTotalAmount"), "allowance_total_amount": head.get("AllowanceTotalAmount"),
        "payable_amount": payable.to_string(), "buyer": buyer.json(), "seller": seller.json(),
    });
    use chrono::Datelike;
    let order = RemoteOrder {
        repaired: Vec::new(),
        rup_code: None,
        rup_name: head.get("Note").cloned(),
        fiscal_year: date.year(),
        funding_source: None,
        kode_klpd: buyer.id().ok_or_else(|| at("the buyer has no EndpointID or PartyIdentification".into()))?,
        kode_satker: None,
        nama_satker: buyer.display_name(),
        kode_penyedia,
        status: OrderStatus::WaitingSellerConfirmation,
        shipment_status: None,
        shipping_fee: Decimal::ZERO,
        total: payable,
        order_date: Some(issued),
        confirm_by: None,
        updated_at: issued,
        raw,
        lines: Some(out_lines),
        order_id: id.clone(),
    };
    match order.repeated_line() {
        Some(line) => Err(at(format!("line {line} appears more than once"))),
        None => Ok(order),
    }
}
