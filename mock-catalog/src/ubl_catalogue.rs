//! Catalogue upload: a PEPPOL BIS Catalogue 3 document read into lines, and the
//! UBL Catalogue Response (an ApplicationResponse, T58) the catalogue answers with.

use chrono::{DateTime, Utc};
use chrono_tz::Asia::Jakarta;
use serde::Serialize;
use serde_json::{Value, json};

use super::xml::Elements;

/// One catalogue line as uploaded.
#[derive(Debug, Clone, Serialize)]
pub struct UploadLine {
    pub line_id: String,
    pub action: String,
    pub sku: String,
    /// The line as a listing body (the katalog-v6 field names the review reads).
    #[serde(skip)]
    pub body: Value,
    pub accepted: Option<bool>,
    pub reason: Option<String>,
    pub listing_id: Option<String>,
}

#[derive(Default)]
struct LineFields {
    id: String,
    action: String,
    sku: String,
    name: String,
    description: String,
    price: Option<i64>,
    unit: String,
    tax_category: String,
    unspsc: String,
    photos: Vec<String>,
    origin: bool,
    property_name: String,
    tkdn: Option<i64>,
    tkdn_certificate: Option<String>,
    net_content: Option<String>,
}

/// Reads the document id and lines of a UBL Catalogue.
pub fn read(xml: &[u8]) -> Result<(String, Vec<UploadLine>), String> {
    use crate::xml::{self as leaves, Leaf};
    let mut document_id = None;
    let mut lines = Vec::new();
    let mut line = LineFields::default();
    let root = leaves::read(xml, |leaf| {
        match leaf {
            Leaf::Open(path) if path.len() == 2 && path[1] == "CatalogueLine" => line = LineFields::default(),
            Leaf::Close(path) if path.len() == 2 && path[1] == "CatalogueLine" => {
                if lines.len() >= MAX_LINES {
                    return Err(format!("the Catalogue has more than {MAX_LINES} lines: split it"));
                }
                // The catalogue's own bounds, so no stored line is larger than a few kilobytes.
                let n = lines.len() + 1;
                for (what, text, max) in
                    [("item name", &line.name, 250), ("description", &line.description, 2000), ("SKU", &line.sku, 64), ("unit", &line.unit, 40)]
                {
                    if text.chars().count() > max {
                        return Err(format!("line {n}: the {what} is longer than {max} characters"));
                    }
                }
                if line.photos.len() > 5 || line.photos.iter().any(|p| p.len() > 500) {
                    return Err(format!("line {n}: at most 5 photo addresses of at most 500 characters"));
                }
                lines.push(finish(std::mem::take(&mut line)));
            }
            Leaf::Text(path, text) => {
                let p: Vec<&str> = path.iter().map(String::as_str).collect();
                match p.as_slice() {
                    ["Catalogue", "ID"] => document_id = Some(text),
                    ["Catalogue", "CatalogueLine", rest @ ..] => match rest {
                        ["ID"] => line.id = text,
                        ["ActionCode"] => line.action = text,
                        ["OrderableUnit"] => line.unit = text,
                        ["RequiredItemLocationQuantity", "Price", "PriceAmount"] => {
                            line.price = text
                                .trim()
                                .parse::<rust_decimal::Decimal>()
                                .ok()
                                .and_then(|d| i64::try_from(d.round().mantissa()).ok().filter(|_| d.fract().is_zero()))
                        }
                        ["Item", "Name"] => line.name = text,
                        ["Item", "Description"] => line.description = text,
                        ["Item", "SellersItemIdentification", "ID"] => line.sku = text,
                        ["Item", "ItemSpecificationDocumentReference", "Attachment", "ExternalReference", "URI"] => line.photos.push(text),
                        ["Item", "OriginCountry", "IdentificationCode"] => line.origin = text == "ID",
                        ["Item", "CommodityClassification", "ItemClassificationCode"] => line.unspsc = text,
                        ["Item", "ClassifiedTaxCategory", "ID"] => line.tax_category = text,
                        ["Item", "AdditionalItemProperty", "Name"] => line.property_name = text,
                        ["Item", "AdditionalItemProperty", "Value"] => match line.property_name.as_str() {
                            "TKDN (%)" => line.tkdn = text.trim().parse().ok(),
                            "Sertifikat TKDN" => line.tkdn_certificate = Some(text),
                            "Isi bersih" => line.net_content = Some(text),
                            _ => {}
                        },
                        _ => {}
                    },
                    _ => {}
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    if root != "Catalogue" {
        return Err("the document is not a UBL Catalogue".into());
    }
    let document_id = document_id.ok_or("the Catalogue has no cbc:ID")?;
    if lines.is_empty() {
        return Err("the Catalogue has no CatalogueLine".into());
    }
    Ok((document_id, lines))
}

/// Lines one uploaded Catalogue may hold.
pub const MAX_LINES: usize = 10_000;

fn finish(l: LineFields) -> UploadLine {
    let price = l.price.unwrap_or(0);
    // PEPPOL prices are before PPN; the catalogue shows the price incl. 11 % effective PPN for S.
    // Checked: an absurd price gives no tax-inclusive price, and `check_line` refuses it.
    let with_tax = if l.tax_category == "S" {
        price.checked_mul(11).and_then(|p| p.checked_add(50)).map(|p| p / 100).and_then(|tax| price.checked_add(tax))
    } else {
        Some(price)
    };
    let body = json!({
        "sku": l.sku, "nama_produk": l.name, "deskripsi": l.description, "harga": l.price,
        "harga_termasuk_pajak": with_tax, "satuan": l.unit, "unspsc": l.unspsc,
        "ppn_persen": if l.tax_category == "S" { 12 } else { 0 },
        "pdn": if l.origin { "Lokal" } else { "Impor" }, "foto": l.photos,
        "tkdn_persen": l.tkdn, "tkdn_sertifikat": l.tkdn_certificate, "isi_bersih": l.net_content,
    });
    UploadLine { line_id: l.id, action: l.action, sku: l.sku, body, accepted: None, reason: None, listing_id: None }
}

/// Why a line cannot be taken, if it cannot.
pub fn check_line(line: &UploadLine) -> Option<String> {
    if line.sku.trim().is_empty() {
        return Some("no SellersItemIdentification".into());
    }
    if !matches!(line.action.as_str(), "Add" | "Update" | "Delete") {
        return Some(format!("ActionCode {:?} must be Add, Update or Delete", line.action));
    }
    if line.action != "Delete" {
        let name = line.body["nama_produk"].as_str().unwrap_or_default().chars().count();
        if !(1..=250).contains(&name) {
            return Some("the item name must be 1-250 characters".into());
        }
        if line.body["harga"].as_i64().is_none_or(|p| p <= 0) {
            return Some("the price must be whole rupiah above 0".into());
        }
        if line.body["harga_termasuk_pajak"].as_i64().is_none_or(|p| p > super::vocab::MAX_AMOUNT) {
            return Some(format!("the price is above the catalogue's limit of Rp {}", super::vocab::MAX_AMOUNT));
        }
    }
    None
}

/// The Catalogue Response: AB while the upload waits, then AP (every line taken)
/// or RE (with a note naming the refused lines).
pub fn response(upload_id: &str, document_id: &str, at: DateTime<Utc>, lines: &[UploadLine], sender: (&str, &str), receiver: (&str, &str)) -> Vec<u8> {
    let mut w = Elements::start(
        "ApplicationResponse",
        &[
            ("xmlns", "urn:oasis:names:specification:ubl:schema:xsd:ApplicationResponse-2"),
            ("xmlns:cac", "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"),
            ("xmlns:cbc", "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"),
        ],
        true,
    );
    w.leaf("cbc:CustomizationID", &[], "urn:fdc:peppol.eu:poacc:trns:catalogue_response:3");
    w.leaf("cbc:ProfileID", &[], "urn:fdc:peppol.eu:poacc:bis:catalogue_only:3");
    w.leaf("cbc:ID", &[], &format!("R-{upload_id}"));
    let local = at.with_timezone(&Jakarta);
    w.leaf("cbc:IssueDate", &[], &local.date_naive().to_string());
    w.leaf("cbc:IssueTime", &[], &local.format("%H:%M:%S").to_string());
    let processed = lines.iter().all(|l| l.accepted.is_some());
    let refused: Vec<String> = lines
        .iter()
        .filter(|l| l.accepted == Some(false))
        .map(|l| format!("baris {} ({}): {}", l.line_id, l.sku, l.reason.as_deref().unwrap_or("ditolak")))
        .collect();
    if !refused.is_empty() {
        w.leaf("cbc:Note", &[], &refused.join("; "));
    }
    for (tag, (gln, name)) in [("cac:SenderParty", sender), ("cac:ReceiverParty", receiver)] {
        w.open(tag);
        w.leaf("cbc:EndpointID", &[("schemeID", "0088")], gln);
        w.open("cac:PartyLegalEntity");
        w.leaf("cbc:RegistrationName", &[], name);
        w.close("cac:PartyLegalEntity");
        w.close(tag);
    }
    w.open("cac:DocumentResponse");
    w.open("cac:Response");
    w.leaf(
        "cbc:ResponseCode",
        &[],
        if !processed {
            "AB"
        } else if refused.is_empty() {
            "AP"
        } else {
            "RE"
        },
    );
    w.close("cac:Response");
    w.open("cac:DocumentReference");
    w.leaf("cbc:ID", &[], document_id);
    w.close("cac:DocumentReference");
    w.close("cac:DocumentResponse");
    w.finish("ApplicationResponse")
}
