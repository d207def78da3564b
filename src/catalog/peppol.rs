//! `peppol-catalogue`: a UBL 2.1 Catalogue per PEPPOL BIS Catalogue 3.0,
//! streamed with quick-xml. One document per cooperative (the seller).
//! Element order follows the UBL 2.1 schema sequences.

use std::fmt::Write as _;
use std::io::Write;

use chrono::NaiveDate;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use crate::mapping::plan::{Mapped, Plan, Target, Value};
use crate::mapping::rules::RuleCode;

pub const TARGETS: &[Target] = &[
    Target::new("seller_item_id", true, RuleCode::MissingValue),
    Target::new("name", true, RuleCode::MissingValue),
    Target::new("description", false, RuleCode::MissingValue),
    Target::new("unit", true, RuleCode::UnknownUnit),
    Target::new("unspsc", true, RuleCode::NoCategoryMapping),
    Target::new("price", true, RuleCode::MissingValue),
    Target::new("tax_category", true, RuleCode::MissingValue),
    Target::new("tax_percent", true, RuleCode::MissingValue),
    Target::new("min_quantity", false, RuleCode::MissingValue),
    Target::new("brand", false, RuleCode::MissingValue),
    Target::new("origin", false, RuleCode::MissingValue),
    Target::new("weight_kg", false, RuleCode::MissingWeight),
    Target::new("photos", false, RuleCode::NoPhoto),
    Target::new("tkdn_percent", false, RuleCode::MissingValue),
    Target::new("tkdn_certificate", false, RuleCode::MissingValue),
    Target::new("endpoint_id", true, RuleCode::NoGln),
    Target::new("legal_name", true, RuleCode::MissingValue),
    Target::new("city", false, RuleCode::MissingValue),
];

// Positions in TARGETS: a plan for this format holds its values in this order.
const SELLER_ITEM_ID: usize = 0;
const NAME: usize = 1;
const DESCRIPTION: usize = 2;
const UNIT: usize = 3;
const UNSPSC: usize = 4;
const PRICE: usize = 5;
const TAX_CATEGORY: usize = 6;
const TAX_PERCENT: usize = 7;
const MIN_QUANTITY: usize = 8;
const BRAND: usize = 9;
const ORIGIN: usize = 10;
const WEIGHT_KG: usize = 11;
const PHOTOS: usize = 12;
const TKDN_PERCENT: usize = 13;
const TKDN_CERTIFICATE: usize = 14;
const ENDPOINT_ID: usize = 15;
const LEGAL_NAME: usize = 16;
#[allow(dead_code)] // mapped for completeness; the city is not part of the BIS party here
const CITY: usize = 17;

/// At most this many cached classification-and-tax blocks (there is one per
/// category and tax treatment, so a few hundred in practice).
const MAX_FRAGMENTS: usize = 10_000;

/// Buffered XML is handed to the output in chunks of about this size.
const FLUSH_BYTES: usize = 256 * 1024;

const CUSTOMIZATION_ID: &str = "urn:fdc:peppol.eu:poacc:trns:catalogue:3";
const NS_ROOT: &str = "urn:oasis:names:specification:ubl:schema:xsd:Catalogue-2";
const NS_CAC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";
const NS_CBC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";
/// The UNCL 7143 list id PEPPOL uses for UNSPSC.
const UNSPSC_LIST: &str = "TST";

/// Header and line action codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Action {
    Add,
    Update,
    Delete,
}

impl Action {
    pub fn code(self) -> &'static str {
        match self {
            Action::Add => "Add",
            Action::Update => "Update",
            Action::Delete => "Delete",
        }
    }
}

/// The document-level facts of one catalogue.
#[derive(Debug, Clone)]
pub struct Header<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub action: Action,
    pub issue_date: NaiveDate,
}

/// Writes one Catalogue document, line by line. Not indented: documents can
/// hold a million lines, and machines read them. It buffers by itself, so
/// give it the file, not a `BufWriter`.
pub struct CatalogueWriter<W: Write> {
    /// quick-xml writes into memory; full chunks go to `out` (cheaper than many tiny writes).
    xml: Writer<Vec<u8>>,
    out: W,
    lines: u32,
    /// Reused for start tags with attributes and for numbers, so writing a line allocates little.
    tag: String,
    number: String,
    key: String,
    /// Rendered classification-and-tax blocks by (UNSPSC, tax category, rate).
    fragments: rustc_hash::FxHashMap<String, Vec<u8>>,
}

type Io = std::io::Result<()>;

impl<W: Write> CatalogueWriter<W> {
    /// Writes the header. The provider is taken from `first` (the mapped
    /// `endpoint_id`, `legal_name`); the receiver from the mapping's `[document]`.
    pub fn start(out: W, plan: &Plan, header: &Header<'_>, first: &Mapped<'_>) -> std::io::Result<Self> {
        let mut w = Self {
            xml: Writer::new(Vec::with_capacity(2 * FLUSH_BYTES)),
            out,
            lines: 0,
            tag: String::with_capacity(64),
            number: String::with_capacity(32),
            key: String::with_capacity(64),
            fragments: Default::default(),
        };
        let doc = |key: &str, default: &str| plan.document.get(key).and_then(|v| v.as_str()).unwrap_or(default).to_owned();
        let validity_days = plan.document.get("validity_days").and_then(|v| v.as_integer()).unwrap_or(365);
        let end = header.issue_date + chrono::Days::new(validity_days.max(1) as u64);
        w.xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        w.xml.write_event(Event::Start(
            BytesStart::new("Catalogue").with_attributes([("xmlns", NS_ROOT), ("xmlns:cac", NS_CAC), ("xmlns:cbc", NS_CBC)]),
        ))?;
        w.leaf("cbc:CustomizationID", &[], CUSTOMIZATION_ID)?;
        w.leaf("cbc:ProfileID", &[], &doc("profile", "urn:fdc:peppol.eu:poacc:bis:catalogue_only:3"))?;
        w.leaf("cbc:ID", &[], header.id)?;
        w.leaf("cbc:ActionCode", &[], header.action.code())?;
        w.leaf("cbc:Name", &[], header.name)?;
        w.leaf("cbc:IssueDate", &[], &header.issue_date.to_string())?;
        w.open("cac:ValidityPeriod")?;
        w.leaf("cbc:StartDate", &[], &header.issue_date.to_string())?;
        w.leaf("cbc:EndDate", &[], &end.to_string())?;
        w.close("cac:ValidityPeriod")?;
        let endpoint = text(first, ENDPOINT_ID);
        let legal_name = text(first, LEGAL_NAME);
        let scheme = doc("endpoint_scheme", "0088");
        w.party("cac:ProviderParty", &scheme, endpoint, legal_name)?;
        w.party("cac:ReceiverParty", &doc("receiver_endpoint_scheme", "0088"), &doc("receiver_endpoint_id", ""), &doc("receiver_name", ""))?;
        w.open("cac:SellerSupplierParty")?;
        w.open("cac:Party")?;
        w.leaf("cbc:EndpointID", &[("schemeID", &scheme)], endpoint)?;
        w.open("cac:PartyName")?;
        w.leaf("cbc:Name", &[], legal_name)?;
        w.close("cac:PartyName")?;
        w.close("cac:Party")?;
        w.close("cac:SellerSupplierParty")?;
        Ok(w)
    }

    fn party(&mut self, tag: &str, scheme: &str, endpoint: &str, name: &str) -> Io {
        self.open(tag)?;
        self.leaf("cbc:EndpointID", &[("schemeID", scheme)], endpoint)?;
        self.open("cac:PartyLegalEntity")?;
        self.leaf("cbc:RegistrationName", &[], name)?;
        self.close("cac:PartyLegalEntity")?;
        self.close(tag)
    }

    /// One catalogue line.
    pub fn line(&mut self, plan: &Plan, m: &Mapped<'_>, action: Action, currency: &str) -> Io {
        self.lines += 1;
        let unit = text(m, UNIT);
        let country = plan.document.get("country").and_then(|v| v.as_str()).unwrap_or("ID");
        self.open("cac:CatalogueLine")?;
        let id = rust_decimal::Decimal::from(self.lines);
        self.leaf_number("cbc:ID", &[], &id)?;
        self.constant("cbc:ActionCode", &[], action.code())?;
        self.constant("cbc:OrderableIndicator", &[], if action == Action::Delete { "false" } else { "true" })?;
        self.leaf("cbc:OrderableUnit", &[], unit)?;
        if let Some(min) = decimal(m, MIN_QUANTITY) {
            self.leaf_number("cbc:MinimumOrderQuantity", &[("unitCode", unit)], &min)?;
        }
        self.open("cac:RequiredItemLocationQuantity")?;
        self.open("cac:Price")?;
        self.leaf_number("cbc:PriceAmount", &[("currencyID", currency)], &decimal(m, PRICE).unwrap_or_default())?;
        self.constant("cbc:BaseQuantity", &[("unitCode", unit)], "1")?;
        self.close("cac:Price")?;
        self.close("cac:RequiredItemLocationQuantity")?;

        self.open("cac:Item")?;
        let description = text(m, DESCRIPTION);
        if !description.is_empty() {
            self.leaf("cbc:Description", &[], description)?;
        }
        self.leaf("cbc:Name", &[], text(m, NAME))?;
        let brand = text(m, BRAND);
        if !brand.is_empty() {
            self.leaf("cbc:BrandName", &[], brand)?;
        }
        self.open("cac:SellersItemIdentification")?;
        self.leaf("cbc:ID", &[], text(m, SELLER_ITEM_ID))?;
        self.close("cac:SellersItemIdentification")?;
        if let Some(Value::List(photos)) = value(m, PHOTOS) {
            for (i, url) in photos.iter().take(plan.limits.photos_max).enumerate() {
                self.open("cac:ItemSpecificationDocumentReference")?;
                self.number.clear();
                let _ = write!(self.number, "foto-{}", i + 1);
                let id = std::mem::take(&mut self.number);
                self.leaf("cbc:ID", &[], &id)?;
                self.number = id;
                self.open("cac:Attachment")?;
                self.open("cac:ExternalReference")?;
                self.leaf("cbc:URI", &[], url)?;
                self.close("cac:ExternalReference")?;
                self.close("cac:Attachment")?;
                self.close("cac:ItemSpecificationDocumentReference")?;
            }
        }
        if text(m, ORIGIN) == "Lokal" {
            self.open("cac:OriginCountry")?;
            self.leaf("cbc:IdentificationCode", &[], country)?;
            self.close("cac:OriginCountry")?;
        }
        // Classification, tax category and the DPP note depend only on these
        // three values: render that block once per combination, then copy it.
        let category = text(m, TAX_CATEGORY);
        self.key.clear();
        let _ = write!(self.key, "{}|{category}|{}", text(m, UNSPSC), decimal(m, TAX_PERCENT).unwrap_or_default());
        if let Some(bytes) = self.fragments.get(self.key.as_str()) {
            self.xml.get_mut().extend_from_slice(bytes);
        } else {
            let start = self.xml.get_ref().len();
            self.classification_and_tax(m, category)?;
            if self.fragments.len() < MAX_FRAGMENTS {
                let bytes = self.xml.get_ref()[start..].to_vec();
                self.fragments.insert(self.key.clone(), bytes);
            }
        }
        if let Some(weight) = decimal(m, WEIGHT_KG) {
            self.number.clear();
            let _ = write!(self.number, "{weight}");
            let value = std::mem::take(&mut self.number);
            self.property("Berat kirim", &value, Some(("KGM", &value)))?;
            self.number = value;
        }
        if let Some(tkdn) = decimal(m, TKDN_PERCENT) {
            self.number.clear();
            let _ = write!(self.number, "{tkdn}");
            let value = std::mem::take(&mut self.number);
            self.property("TKDN (%)", &value, None)?;
            self.number = value;
            let certificate = text(m, TKDN_CERTIFICATE);
            if !certificate.is_empty() {
                self.property("Sertifikat TKDN", certificate, None)?;
            }
        }
        self.close("cac:Item")?;
        self.close("cac:CatalogueLine")?;
        if self.xml.get_ref().len() >= FLUSH_BYTES {
            self.out.write_all(self.xml.get_ref())?;
            self.xml.get_mut().clear();
        }
        Ok(())
    }

    fn classification_and_tax(&mut self, m: &Mapped<'_>, category: &str) -> Io {
        self.open("cac:CommodityClassification")?;
        self.leaf("cbc:ItemClassificationCode", &[("listID", UNSPSC_LIST)], text(m, UNSPSC))?;
        self.close("cac:CommodityClassification")?;
        self.open("cac:ClassifiedTaxCategory")?;
        self.leaf("cbc:ID", &[], category)?;
        if category != "O" {
            self.leaf_number("cbc:Percent", &[], &decimal(m, TAX_PERCENT).unwrap_or_default())?;
        }
        self.open("cac:TaxScheme")?;
        self.constant("cbc:ID", &[], "VAT")?;
        self.close("cac:TaxScheme")?;
        self.close("cac:ClassifiedTaxCategory")?;
        if category == "S" {
            self.property("Dasar pengenaan pajak (DPP)", "11/12 dari harga", None)?;
        }
        Ok(())
    }

    fn property(&mut self, name: &'static str, value: &str, quantity: Option<(&str, &str)>) -> Io {
        self.open("cac:AdditionalItemProperty")?;
        self.constant("cbc:Name", &[], name)?;
        self.leaf("cbc:Value", &[], value)?;
        if let Some((unit, q)) = quantity {
            self.leaf("cbc:ValueQuantity", &[("unitCode", unit)], q)?;
        }
        self.close("cac:AdditionalItemProperty")
    }

    pub fn lines(&self) -> u32 {
        self.lines
    }

    pub fn finish(mut self) -> std::io::Result<W> {
        self.close("Catalogue")?;
        self.xml.get_mut().push(b'\n');
        self.out.write_all(self.xml.get_ref())?;
        Ok(self.out)
    }

    fn open(&mut self, tag: &str) -> Io {
        self.xml.write_event(Event::Start(BytesStart::new(tag)))
    }

    fn close(&mut self, tag: &str) -> Io {
        self.xml.write_event(Event::End(BytesEnd::new(tag)))
    }

    fn leaf(&mut self, tag: &str, attributes: &[(&str, &str)], content: &str) -> Io {
        // Text needs escaping only around markup characters; most text has none.
        let text = if memchr::memchr3(b'<', b'>', b'&', content.as_bytes()).is_some() {
            BytesText::new(content)
        } else {
            BytesText::from_escaped(content)
        };
        self.write_leaf(tag, attributes, text)
    }

    /// A leaf whose content is one of this module's constants: nothing to escape.
    fn constant(&mut self, tag: &str, attributes: &[(&str, &str)], content: &'static str) -> Io {
        self.write_leaf(tag, attributes, BytesText::from_escaped(content))
    }

    fn write_leaf(&mut self, tag: &str, attributes: &[(&str, &str)], content: BytesText<'_>) -> Io {
        if attributes.is_empty() {
            self.xml.write_event(Event::Start(BytesStart::new(tag)))?;
        } else {
            self.tag.clear();
            self.tag.push_str(tag);
            for (name, value) in attributes {
                let _ = write!(self.tag, " {name}=\"{}\"", quick_xml::escape::escape(*value));
            }
            self.xml.write_event(Event::Start(BytesStart::from_content(self.tag.as_str(), tag.len())))?;
        }
        self.xml.write_event(Event::Text(content))?;
        self.xml.write_event(Event::End(BytesEnd::new(tag)))
    }

    /// A leaf holding a number (digits need no escaping). Whole numbers, most
    /// prices and quantities, take the fast integer formatter.
    fn leaf_number(&mut self, tag: &str, attributes: &[(&str, &str)], value: &rust_decimal::Decimal) -> Io {
        use rust_decimal::prelude::ToPrimitive;
        let mut integer = itoa::Buffer::new();
        let mut text = std::mem::take(&mut self.number);
        let digits: &str = match value.fract().is_zero().then(|| value.to_i64()).flatten() {
            Some(n) => integer.format(n),
            None => {
                text.clear();
                let _ = write!(text, "{value}");
                &text
            }
        };
        let result = self.write_leaf(tag, attributes, BytesText::from_escaped(digits));
        self.number = text;
        result
    }
}

fn value<'m, 'a>(m: &'m Mapped<'a>, target: usize) -> Option<&'m Value<'a>> {
    m.values.get(target)
}

fn text<'a>(m: &Mapped<'a>, target: usize) -> &'a str {
    match value(m, target) {
        Some(Value::Text(t)) => t,
        _ => "",
    }
}

fn decimal(m: &Mapped<'_>, target: usize) -> Option<rust_decimal::Decimal> {
    match value(m, target) {
        Some(Value::Decimal(d)) => Some(d.normalize()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn target_positions_match_the_constants() {
        for (i, name) in super::TARGETS.iter().map(|t| t.name).enumerate() {
            let expected = ["seller_item_id", "name", "description", "unit", "unspsc", "price", "tax_category", "tax_percent", "min_quantity", "brand", "origin", "weight_kg", "photos", "tkdn_percent", "tkdn_certificate", "endpoint_id", "legal_name", "city"][i];
            assert_eq!(name, expected);
        }
    }
}
