//! `peppol-catalogue`: a UBL 2.1 Catalogue per PEPPOL BIS Catalogue 3.0,
//! streamed with quick-xml. One document per cooperative (the seller).
//! Element order follows the UBL 2.1 schema sequences.

use std::io::Write;

use chrono::NaiveDate;

use super::markup::{Elements, Markup, push_decimal};
use crate::domain::product::{Measure, Origin};
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
    Target::new("net_content", false, RuleCode::NetContentUnknown),
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
const NET_CONTENT: usize = 18;

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
///
/// The header goes through quick-xml's event writer ([`Elements`]). A line is written as
/// fixed markup with its values between, each value escaped by quick-xml
/// ([`Markup`]): a line has some fifty elements, and writing each as events
/// cost more than everything else together (see docs/benchmarks.md).
pub struct CatalogueWriter<W: Write> {
    /// The document is written into memory; full chunks go to `out` (cheaper than many tiny writes).
    o: Markup,
    out: W,
    lines: u32,
    /// Bytes already passed to `out`.
    flushed: usize,
    /// Where local products come from (the mapping's `[document] country`).
    country: String,
    key: Vec<u8>,
    /// Rendered classification-and-tax blocks by (UNSPSC, tax category, rate).
    fragments: rustc_hash::FxHashMap<Vec<u8>, Vec<u8>>,
}

type Io = std::io::Result<()>;

impl<W: Write> CatalogueWriter<W> {
    /// Writes the header. The provider is taken from `first` (the mapped
    /// `endpoint_id`, `legal_name`); the receiver from the mapping's `[document]`.
    pub fn start(out: W, plan: &Plan, header: &Header<'_>, first: &Mapped<'_>) -> std::io::Result<Self> {
        let d = &plan.document;
        let or = |v: &Option<String>, default: &str| v.clone().unwrap_or_else(|| default.to_owned());
        let validity_days = d.validity_days.unwrap_or(365).max(1);
        let end = header.issue_date.checked_add_days(chrono::Days::new(validity_days.into())).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("the catalogue's end date ({validity_days} days after {}) is past the calendar", header.issue_date),
            )
        })?;
        let mut w = Elements::start("Catalogue", &[("xmlns", NS_ROOT), ("xmlns:cac", NS_CAC), ("xmlns:cbc", NS_CBC)], false);
        w.leaf("cbc:CustomizationID", &[], CUSTOMIZATION_ID);
        w.leaf("cbc:ProfileID", &[], &or(&d.profile, "urn:fdc:peppol.eu:poacc:bis:catalogue_only:3"));
        w.leaf("cbc:ID", &[], header.id);
        w.leaf("cbc:ActionCode", &[], header.action.code());
        w.leaf("cbc:Name", &[], header.name);
        w.leaf("cbc:IssueDate", &[], &header.issue_date.to_string());
        w.open("cac:ValidityPeriod");
        w.leaf("cbc:StartDate", &[], &header.issue_date.to_string());
        w.leaf("cbc:EndDate", &[], &end.to_string());
        w.close("cac:ValidityPeriod");
        let endpoint = text(first, ENDPOINT_ID);
        let legal_name = text(first, LEGAL_NAME);
        let scheme = or(&d.endpoint_scheme, "0088");
        party(&mut w, "cac:ProviderParty", &scheme, endpoint, legal_name);
        party(&mut w, "cac:ReceiverParty", &or(&d.receiver_endpoint_scheme, "0088"), &or(&d.receiver_endpoint_id, ""), &or(&d.receiver_name, ""));
        w.open("cac:SellerSupplierParty");
        w.open("cac:Party");
        w.leaf("cbc:EndpointID", &[("schemeID", &scheme)], endpoint);
        w.open("cac:PartyName");
        w.leaf("cbc:Name", &[], legal_name);
        w.close("cac:PartyName");
        w.close("cac:Party");
        w.close("cac:SellerSupplierParty");
        let mut o = Markup::with_capacity(FLUSH_BYTES + 64 * 1024);
        o.bytes(&w.into_bytes());
        Ok(Self { o, out, lines: 0, flushed: 0, country: or(&d.country, "ID"), key: Vec::with_capacity(64), fragments: Default::default() })
    }

    /// One catalogue line. Element order follows the UBL 2.1 sequences.
    pub fn line(&mut self, plan: &Plan, m: &Mapped<'_>, action: Action) -> Io {
        let currency = plan.tax().currency.as_str();
        self.lines += 1;
        let unit = text(m, UNIT);
        let o = &mut self.o;
        o.raw("<cac:CatalogueLine><cbc:ID>").int(self.lines);
        o.raw("</cbc:ID><cbc:ActionCode>").raw(action.code()).raw("</cbc:ActionCode>");
        o.raw("<cbc:OrderableIndicator>").raw(if action == Action::Delete { "false" } else { "true" }).raw("</cbc:OrderableIndicator>");
        o.raw("<cbc:OrderableUnit>").text(unit).raw("</cbc:OrderableUnit>");
        if let Some(min) = decimal(m, MIN_QUANTITY) {
            o.raw("<cbc:MinimumOrderQuantity unitCode=\"").attr(unit).raw("\">").decimal(min).raw("</cbc:MinimumOrderQuantity>");
        }
        o.raw("<cac:RequiredItemLocationQuantity><cac:Price><cbc:PriceAmount currencyID=\"").attr(currency).raw("\">");
        o.decimal(decimal(m, PRICE).unwrap_or_default()).raw("</cbc:PriceAmount>");
        o.raw("<cbc:BaseQuantity unitCode=\"").attr(unit).raw("\">1</cbc:BaseQuantity></cac:Price></cac:RequiredItemLocationQuantity>");

        o.raw("<cac:Item>");
        let description = text(m, DESCRIPTION);
        if !description.is_empty() {
            o.raw("<cbc:Description>").text(description).raw("</cbc:Description>");
        }
        o.raw("<cbc:Name>").text(text(m, NAME)).raw("</cbc:Name>");
        let brand = text(m, BRAND);
        if !brand.is_empty() {
            o.raw("<cbc:BrandName>").text(brand).raw("</cbc:BrandName>");
        }
        o.raw("<cac:SellersItemIdentification><cbc:ID>").text(text(m, SELLER_ITEM_ID)).raw("</cbc:ID></cac:SellersItemIdentification>");
        if let Some(Value::List(photos)) = value(m, PHOTOS) {
            for (i, url) in photos.iter().take(plan.limits.photos_max).enumerate() {
                o.raw("<cac:ItemSpecificationDocumentReference><cbc:ID>foto-").int(i + 1).raw("</cbc:ID>");
                o.raw("<cac:Attachment><cac:ExternalReference><cbc:URI>").text(url).raw("</cbc:URI></cac:ExternalReference></cac:Attachment>");
                o.raw("</cac:ItemSpecificationDocumentReference>");
            }
        }
        if matches!(value(m, ORIGIN), Some(Value::Origin(Origin::Lokal))) {
            o.raw("<cac:OriginCountry><cbc:IdentificationCode>").text(&self.country).raw("</cbc:IdentificationCode></cac:OriginCountry>");
        }
        // Classification, tax category and the DPP note depend only on these
        // three values: render that block once per combination, then copy it.
        let category = match value(m, TAX_CATEGORY) {
            Some(Value::Tax(c)) => super::tax_category_code(*c),
            _ => "",
        };
        let (unspsc, percent) = (text(m, UNSPSC), decimal(m, TAX_PERCENT).unwrap_or_default());
        self.key.clear();
        self.key.extend_from_slice(unspsc.as_bytes());
        self.key.push(b'|');
        self.key.extend_from_slice(category.as_bytes());
        self.key.push(b'|');
        push_decimal(&mut self.key, percent);
        if let Some(rendered) = self.fragments.get(self.key.as_slice()) {
            o.bytes(rendered);
        } else {
            let start = o.len();
            classification_and_tax(o, unspsc, category, percent, &plan.tax().taxable_base_text);
            if self.fragments.len() < MAX_FRAGMENTS {
                self.fragments.insert(self.key.clone(), o.since(start).to_vec());
            }
        }
        if let Some(weight) = decimal(m, WEIGHT_KG) {
            o.raw("<cac:AdditionalItemProperty><cbc:Name>Berat kirim</cbc:Name><cbc:Value>").decimal(weight);
            o.raw("</cbc:Value><cbc:ValueQuantity unitCode=\"KGM\">").decimal(weight).raw("</cbc:ValueQuantity></cac:AdditionalItemProperty>");
        }
        if let Some(Value::NetContent(n)) = value(m, NET_CONTENT) {
            let code = match n.measure {
                Measure::Kilogram => "KGM",
                Measure::Litre => "LTR",
                Measure::Count => "H87",
            };
            o.raw("<cac:AdditionalItemProperty><cbc:Name>Isi bersih</cbc:Name><cbc:Value>").text(&n.to_string());
            o.raw("</cbc:Value><cbc:ValueQuantity unitCode=\"").raw(code).raw("\">").decimal(n.amount).raw("</cbc:ValueQuantity></cac:AdditionalItemProperty>");
        }
        if let Some(tkdn) = decimal(m, TKDN_PERCENT) {
            o.raw("<cac:AdditionalItemProperty><cbc:Name>TKDN (%)</cbc:Name><cbc:Value>").decimal(tkdn).raw("</cbc:Value></cac:AdditionalItemProperty>");
            let certificate = text(m, TKDN_CERTIFICATE);
            if !certificate.is_empty() {
                o.raw("<cac:AdditionalItemProperty><cbc:Name>Sertifikat TKDN</cbc:Name><cbc:Value>").text(certificate);
                o.raw("</cbc:Value></cac:AdditionalItemProperty>");
            }
        }
        o.raw("</cac:Item></cac:CatalogueLine>");
        if o.len() >= FLUSH_BYTES {
            self.out.write_all(o.as_bytes())?;
            self.flushed += o.len();
            o.clear();
        }
        Ok(())
    }

    pub fn lines(&self) -> u32 {
        self.lines
    }

    /// The document's size so far, without its closing tag.
    pub fn bytes(&self) -> usize {
        self.flushed + self.o.len()
    }

    pub fn finish(mut self) -> std::io::Result<W> {
        self.o.raw("</Catalogue>\n");
        self.out.write_all(self.o.as_bytes())?;
        Ok(self.out)
    }
}

/// A party of the header: its endpoint and legal name.
fn party(w: &mut Elements, tag: &str, scheme: &str, endpoint: &str, name: &str) {
    w.open(tag);
    w.leaf("cbc:EndpointID", &[("schemeID", scheme)], endpoint);
    w.open("cac:PartyLegalEntity");
    w.leaf("cbc:RegistrationName", &[], name);
    w.close("cac:PartyLegalEntity");
    w.close(tag);
}

/// The commodity classification, the tax category and, for standard-rated
/// goods, the note that PPN is charged on a base of a fraction of the price
/// (`taxable_base` in `tax.toml`).
fn classification_and_tax(o: &mut Markup, unspsc: &str, category: &str, percent: rust_decimal::Decimal, taxable_base: &str) {
    o.raw("<cac:CommodityClassification><cbc:ItemClassificationCode listID=\"").raw(UNSPSC_LIST).raw("\">").text(unspsc);
    o.raw("</cbc:ItemClassificationCode></cac:CommodityClassification>");
    o.raw("<cac:ClassifiedTaxCategory><cbc:ID>").text(category).raw("</cbc:ID>");
    if category != "O" {
        o.raw("<cbc:Percent>").decimal(percent).raw("</cbc:Percent>");
    }
    o.raw("<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory>");
    if category == "S" {
        o.raw("<cac:AdditionalItemProperty><cbc:Name>Dasar pengenaan pajak (DPP)</cbc:Name>");
        o.raw("<cbc:Value>").text(taxable_base).raw(" dari harga</cbc:Value></cac:AdditionalItemProperty>");
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
        Some(Value::Decimal(d)) => Some(*d),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn target_positions_match_the_constants() {
        for (i, name) in super::TARGETS.iter().map(|t| t.name).enumerate() {
            let expected = [
                "seller_item_id",
                "name",
                "description",
                "unit",
                "unspsc",
                "price",
                "tax_category",
                "tax_percent",
                "min_quantity",
                "brand",
                "origin",
                "weight_kg",
                "photos",
                "tkdn_percent",
                "tkdn_certificate",
                "endpoint_id",
                "legal_name",
                "city",
                "net_content",
            ][i];
            assert_eq!(name, expected);
        }
    }
}
