//! A UBL 2.1 OrderResponse per PEPPOL BIS Ordering 3: the seller's answer to
//! an order, `AP` (accepted) or `RE` (rejected, with the reason as a note).

use chrono::{DateTime, Utc};
use chrono_tz::Asia::Jakarta;

use super::markup::Elements;

/// A party of the answer: its GLN (the PEPPOL endpoint, scheme 0088) when known, and its name.
pub struct Party<'a> {
    pub gln: Option<&'a str>,
    pub name: &'a str,
}

pub struct Answer<'a> {
    /// The answer's own id.
    pub id: &'a str,
    pub order_id: &'a str,
    pub accept: bool,
    pub reason: Option<&'a str>,
    pub issued: DateTime<Utc>,
    pub seller: Party<'a>,
    pub buyer: Party<'a>,
}

pub fn write(a: &Answer<'_>) -> Vec<u8> {
    let mut w = Elements::start(
        "OrderResponse",
        &[
            ("xmlns", "urn:oasis:names:specification:ubl:schema:xsd:OrderResponse-2"),
            ("xmlns:cac", "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"),
            ("xmlns:cbc", "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"),
        ],
        true,
    );
    w.leaf("cbc:CustomizationID", &[], "urn:fdc:peppol.eu:poacc:trns:order_response:3");
    w.leaf("cbc:ProfileID", &[], "urn:fdc:peppol.eu:poacc:bis:ordering:3");
    w.leaf("cbc:ID", &[], a.id);
    let local = a.issued.with_timezone(&Jakarta);
    w.leaf("cbc:IssueDate", &[], &local.date_naive().to_string());
    w.leaf("cbc:IssueTime", &[], &local.format("%H:%M:%S").to_string());
    w.leaf("cbc:OrderResponseCode", &[], if a.accept { "AP" } else { "RE" });
    if let Some(reason) = a.reason.filter(|r| !r.trim().is_empty()) {
        w.leaf("cbc:Note", &[], reason);
    }
    w.open("cac:OrderReference");
    w.leaf("cbc:ID", &[], a.order_id);
    w.close("cac:OrderReference");
    for (tag, party) in [("cac:SellerSupplierParty", &a.seller), ("cac:BuyerCustomerParty", &a.buyer)] {
        w.open(tag);
        w.open("cac:Party");
        if let Some(gln) = party.gln {
            w.leaf("cbc:EndpointID", &[("schemeID", "0088")], gln);
        }
        w.open("cac:PartyLegalEntity");
        w.leaf("cbc:RegistrationName", &[], party.name);
        w.close("cac:PartyLegalEntity");
        w.close("cac:Party");
        w.close(tag);
    }
    w.finish("OrderResponse")
}
