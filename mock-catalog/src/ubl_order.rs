//! An order as a UBL 2.1 Order per PEPPOL BIS Ordering 3 (T01), as the
//! catalogue would send it: prices before PPN per line, PPN in a tax total,
//! shipping as a document-level charge.

use std::collections::HashMap;

use chrono_tz::Asia::Jakarta;
use rust_decimal::Decimal;

use super::scenario::Scenario;
use super::state::Order;
use super::xml::Elements;

const NS: &str = "urn:oasis:names:specification:ubl:schema:xsd:Order-2";
const NS_CAC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";
const NS_CBC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";

/// The UBL Order of `order`. `units` maps the catalogue's unit names to UN/ECE codes.
pub fn write(order: &Order, scenario: &Scenario, units: &HashMap<String, String>) -> Vec<u8> {
    let buyer = scenario.buyers.iter().find(|b| b.kode_klpd == order.kode_klpd);
    let seller = scenario.clients.iter().find(|c| c.kode_penyedia == order.kode_penyedia);
    let mut w = Elements::start("Order", &[("xmlns", NS), ("xmlns:cac", NS_CAC), ("xmlns:cbc", NS_CBC)], true);
    w.leaf("cbc:CustomizationID", &[], "urn:fdc:peppol.eu:poacc:trns:order:3");
    w.leaf("cbc:ProfileID", &[], "urn:fdc:peppol.eu:poacc:bis:ordering:3");
    w.leaf("cbc:ID", &[], &order.order_id);
    let local = order.order_date.with_timezone(&Jakarta);
    w.leaf("cbc:IssueDate", &[], &local.date_naive().to_string());
    w.leaf("cbc:IssueTime", &[], &local.format("%H:%M:%S").to_string());
    w.leaf("cbc:OrderTypeCode", &[], "220");
    w.leaf("cbc:Note", &[], &order.rup_name);
    w.leaf("cbc:DocumentCurrencyCode", &[], "IDR");
    w.open("cac:ValidityPeriod");
    w.leaf("cbc:EndDate", &[], &order.confirm_by.with_timezone(&Jakarta).date_naive().to_string());
    w.close("cac:ValidityPeriod");
    w.open("cac:OriginatorDocumentReference");
    w.leaf("cbc:ID", &[], &order.rup_code);
    w.close("cac:OriginatorDocumentReference");
    w.party(
        "cac:BuyerCustomerParty",
        buyer.and_then(|b| b.gln.as_deref()).unwrap_or("8990000000013"),
        &order.nama_satker,
        buyer.map_or(order.kode_klpd.as_str(), |b| b.name.as_str()),
    );
    w.party(
        "cac:SellerSupplierParty",
        seller.and_then(|c| c.gln.as_deref()).unwrap_or("8990000001003"),
        &order.kode_penyedia,
        seller.and_then(|c| c.name.as_deref()).unwrap_or(&order.kode_penyedia),
    );
    let shipping = Decimal::from(order.shipping_fee);
    if order.shipping_fee > 0 {
        w.open("cac:AllowanceCharge");
        w.leaf("cbc:ChargeIndicator", &[], "true");
        w.leaf("cbc:AllowanceChargeReason", &[], "Ongkos kirim");
        w.amount("cbc:Amount", shipping);
        w.close("cac:AllowanceCharge");
    }
    let net: Vec<Decimal> = order.lines.iter().map(|l| l.quantity * Decimal::from(l.unit_price_excl_tax)).collect();
    let line_sum: Decimal = net.iter().sum();
    let tax: Decimal = order.lines.iter().map(|l| l.quantity * Decimal::from(l.unit_price - l.unit_price_excl_tax)).sum();
    w.open("cac:TaxTotal");
    w.amount("cbc:TaxAmount", tax);
    w.close("cac:TaxTotal");
    w.open("cac:AnticipatedMonetaryTotal");
    w.amount("cbc:LineExtensionAmount", line_sum);
    w.amount("cbc:TaxExclusiveAmount", line_sum + shipping);
    w.amount("cbc:TaxInclusiveAmount", line_sum + shipping + tax);
    if order.shipping_fee > 0 {
        w.amount("cbc:ChargeTotalAmount", shipping);
    }
    w.amount("cbc:PayableAmount", line_sum + shipping + tax);
    w.close("cac:AnticipatedMonetaryTotal");
    for (line, amount) in order.lines.iter().zip(net) {
        let unit = units.get(&line.unit).map_or("H87", String::as_str);
        w.open("cac:OrderLine");
        w.open("cac:LineItem");
        w.leaf("cbc:ID", &[], &line.line_id);
        w.leaf("cbc:Quantity", &[("unitCode", unit)], &line.quantity.normalize().to_string());
        w.amount("cbc:LineExtensionAmount", amount);
        w.open("cac:Price");
        w.amount("cbc:PriceAmount", Decimal::from(line.unit_price_excl_tax));
        w.close("cac:Price");
        w.open("cac:Item");
        w.leaf("cbc:Name", &[], &line.name);
        w.open("cac:SellersItemIdentification");
        w.leaf("cbc:ID", &[], &line.sku);
        w.close("cac:SellersItemIdentification");
        w.open("cac:ClassifiedTaxCategory");
        w.leaf("cbc:ID", &[], if line.tax_percent > 0 { "S" } else { "E" });
        w.leaf("cbc:Percent", &[], &line.tax_percent.to_string());
        w.open("cac:TaxScheme");
        w.leaf("cbc:ID", &[], "VAT");
        w.close("cac:TaxScheme");
        w.close("cac:ClassifiedTaxCategory");
        w.close("cac:Item");
        w.close("cac:LineItem");
        w.close("cac:OrderLine");
    }
    w.finish("Order")
}

/// The seller's decision read from a UBL OrderResponse (PEPPOL BIS Ordering 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseDecision {
    pub order_id: String,
    pub accept: bool,
    pub note: Option<String>,
}

/// Reads `cbc:OrderResponseCode` (AP accepts; RE rejects; AB and CA are not
/// final answers here), `cac:OrderReference/cbc:ID` and `cbc:Note`.
pub fn read_response(xml: &[u8]) -> Result<ResponseDecision, String> {
    use crate::xml::{self as leaves, Leaf};
    let (mut code, mut order_id, mut note) = (None, None, None);
    let root = leaves::read(xml, |leaf| {
        if let Leaf::Text(path, text) = leaf {
            let names: Vec<&str> = path.iter().map(String::as_str).collect();
            match names.as_slice() {
                ["OrderResponse", "OrderResponseCode"] => code = Some(text),
                ["OrderResponse", "Note"] => note = Some(text),
                ["OrderResponse", "OrderReference", "ID"] => order_id = Some(text),
                _ => {}
            }
        }
        Ok(())
    })?;
    if root != "OrderResponse" {
        return Err("the document is not a UBL OrderResponse".into());
    }
    let order_id = order_id.ok_or("the OrderResponse has no cac:OrderReference/cbc:ID")?;
    let accept = match code.as_deref() {
        Some("AP") => true,
        Some("RE") => false,
        Some(other) => return Err(format!("OrderResponseCode {other} is not a final answer: send AP (accept) or RE (reject)")),
        None => return Err("the OrderResponse has no cbc:OrderResponseCode".into()),
    };
    Ok(ResponseDecision { order_id, accept, note })
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_decision() {
        let xml = br#"<OrderResponse xmlns="urn:oasis:names:specification:ubl:schema:xsd:OrderResponse-2"
            xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
            xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2">
            <cbc:ID>1</cbc:ID><cbc:OrderResponseCode>RE</cbc:OrderResponseCode><cbc:Note>Stok habis</cbc:Note>
            <cac:OrderReference><cbc:ID>EP-2026-000001</cbc:ID></cac:OrderReference></OrderResponse>"#;
        let d = super::read_response(xml).unwrap();
        assert_eq!((d.order_id.as_str(), d.accept, d.note.as_deref()), ("EP-2026-000001", false, Some("Stok habis")));
        assert!(super::read_response(b"<OrderResponse><cbc:OrderResponseCode>AB</cbc:OrderResponseCode></OrderResponse>").is_err());
        assert!(super::read_response(b"<OrderResponse><unclosed>").is_err());
    }
}
