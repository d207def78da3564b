//! `peppol-catalogue`: a UBL 2.1 Catalogue per PEPPOL BIS Catalogue 3.0,
//! streamed with quick-xml. One document per cooperative (the seller).
//! Element order follows the UBL 2.1 schema sequences.

use std::io::Write;

use chrono::NaiveDate;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use crate::mapping::plan::{Mapped, Plan, Target, Value};
use crate::mapping::rules::RuleCode;

const fn t(name: &'static str, required: bool, missing: RuleCode) -> Target {
    Target { name, required, missing }
}

pub const TARGETS: &[Target] = &[
    t("seller_item_id", true, RuleCode::MissingValue),
    t("name", true, RuleCode::MissingValue),
    t("description", false, RuleCode::MissingValue),
    t("unit", true, RuleCode::UnknownUnit),
    t("unspsc", true, RuleCode::NoCategoryMapping),
    t("price", true, RuleCode::MissingValue),
    t("tax_category", true, RuleCode::MissingValue),
    t("tax_percent", true, RuleCode::MissingValue),
    t("min_quantity", false, RuleCode::MissingValue),
    t("brand", false, RuleCode::MissingValue),
    t("origin", false, RuleCode::MissingValue),
    t("weight_kg", false, RuleCode::MissingWeight),
    t("photos", false, RuleCode::NoPhoto),
    t("tkdn_percent", false, RuleCode::MissingValue),
    t("tkdn_certificate", false, RuleCode::MissingValue),
    t("endpoint_id", true, RuleCode::NoGln),
    t("legal_name", true, RuleCode::MissingValue),
    t("city", false, RuleCode::MissingValue),
];

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

/// Writes one Catalogue document, line by line.
pub struct CatalogueWriter<W: Write> {
    xml: Writer<W>,
    lines: u32,
}

type Io = std::io::Result<()>;

impl<W: Write> CatalogueWriter<W> {
    /// Writes the header. The provider is taken from `first` (the mapped
    /// `endpoint_id`, `legal_name`); the receiver from the mapping's `[document]`.
    pub fn start(out: W, plan: &Plan, header: &Header<'_>, first: &Mapped<'_>) -> std::io::Result<Self> {
        let mut w = Self { xml: Writer::new_with_indent(out, b' ', 2), lines: 0 };
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
        let endpoint = text(plan, first, "endpoint_id");
        let legal_name = text(plan, first, "legal_name");
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
        let unit = text(plan, m, "unit");
        let country = plan.document.get("country").and_then(|v| v.as_str()).unwrap_or("ID");
        self.open("cac:CatalogueLine")?;
        self.leaf("cbc:ID", &[], &self.lines.to_string())?;
        self.leaf("cbc:ActionCode", &[], action.code())?;
        self.leaf("cbc:OrderableIndicator", &[], if action == Action::Delete { "false" } else { "true" })?;
        self.leaf("cbc:OrderableUnit", &[], unit)?;
        if let Some(min) = decimal(plan, m, "min_quantity") {
            self.leaf("cbc:MinimumOrderQuantity", &[("unitCode", unit)], &min)?;
        }
        self.open("cac:RequiredItemLocationQuantity")?;
        self.open("cac:Price")?;
        self.leaf("cbc:PriceAmount", &[("currencyID", currency)], &decimal(plan, m, "price").unwrap_or_default())?;
        self.leaf("cbc:BaseQuantity", &[("unitCode", unit)], "1")?;
        self.close("cac:Price")?;
        self.close("cac:RequiredItemLocationQuantity")?;

        self.open("cac:Item")?;
        let description = text(plan, m, "description");
        if !description.is_empty() {
            self.leaf("cbc:Description", &[], description)?;
        }
        self.leaf("cbc:Name", &[], text(plan, m, "name"))?;
        let brand = text(plan, m, "brand");
        if !brand.is_empty() {
            self.leaf("cbc:BrandName", &[], brand)?;
        }
        self.open("cac:SellersItemIdentification")?;
        self.leaf("cbc:ID", &[], text(plan, m, "seller_item_id"))?;
        self.close("cac:SellersItemIdentification")?;
        if let Some(Value::List(photos)) = value(plan, m, "photos") {
            for (i, url) in photos.iter().take(plan.limits.photos_max).enumerate() {
                self.open("cac:ItemSpecificationDocumentReference")?;
                self.leaf("cbc:ID", &[], &format!("foto-{}", i + 1))?;
                self.open("cac:Attachment")?;
                self.open("cac:ExternalReference")?;
                self.leaf("cbc:URI", &[], url)?;
                self.close("cac:ExternalReference")?;
                self.close("cac:Attachment")?;
                self.close("cac:ItemSpecificationDocumentReference")?;
            }
        }
        if text(plan, m, "origin") == "Lokal" {
            self.open("cac:OriginCountry")?;
            self.leaf("cbc:IdentificationCode", &[], country)?;
            self.close("cac:OriginCountry")?;
        }
        self.open("cac:CommodityClassification")?;
        self.leaf("cbc:ItemClassificationCode", &[("listID", UNSPSC_LIST)], text(plan, m, "unspsc"))?;
        self.close("cac:CommodityClassification")?;
        self.open("cac:ClassifiedTaxCategory")?;
        let category = text(plan, m, "tax_category");
        self.leaf("cbc:ID", &[], category)?;
        if category != "O" {
            self.leaf("cbc:Percent", &[], &decimal(plan, m, "tax_percent").unwrap_or_else(|| "0".into()))?;
        }
        self.open("cac:TaxScheme")?;
        self.leaf("cbc:ID", &[], "VAT")?;
        self.close("cac:TaxScheme")?;
        self.close("cac:ClassifiedTaxCategory")?;
        if category == "S" {
            self.property("Dasar pengenaan pajak (DPP)", "11/12 dari harga", None)?;
        }
        if let Some(weight) = decimal(plan, m, "weight_kg") {
            self.property("Berat kirim", &weight, Some(("KGM", &weight)))?;
        }
        if let Some(tkdn) = decimal(plan, m, "tkdn_percent") {
            self.property("TKDN (%)", &tkdn, None)?;
            let certificate = text(plan, m, "tkdn_certificate");
            if !certificate.is_empty() {
                self.property("Sertifikat TKDN", certificate, None)?;
            }
        }
        self.close("cac:Item")?;
        self.close("cac:CatalogueLine")
    }

    fn property(&mut self, name: &str, value: &str, quantity: Option<(&str, &str)>) -> Io {
        self.open("cac:AdditionalItemProperty")?;
        self.leaf("cbc:Name", &[], name)?;
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
        self.xml.get_mut().write_all(b"\n")?;
        Ok(self.xml.into_inner())
    }

    fn open(&mut self, tag: &str) -> Io {
        self.xml.write_event(Event::Start(BytesStart::new(tag)))
    }

    fn close(&mut self, tag: &str) -> Io {
        self.xml.write_event(Event::End(BytesEnd::new(tag)))
    }

    fn leaf(&mut self, tag: &str, attributes: &[(&str, &str)], content: &str) -> Io {
        self.xml.write_event(Event::Start(BytesStart::new(tag).with_attributes(attributes.iter().copied())))?;
        self.xml.write_event(Event::Text(BytesText::new(content)))?;
        self.xml.write_event(Event::End(BytesEnd::new(tag)))
    }
}

fn value<'m, 'a>(plan: &Plan, m: &'m Mapped<'a>, target: &str) -> Option<&'m Value<'a>> {
    plan.index_of(target).map(|i| &m.values[i])
}

fn text<'a>(plan: &Plan, m: &Mapped<'a>, target: &str) -> &'a str {
    match value(plan, m, target) {
        Some(Value::Text(t)) => t,
        _ => "",
    }
}

fn decimal(plan: &Plan, m: &Mapped<'_>, target: &str) -> Option<String> {
    match value(plan, m, target) {
        Some(Value::Decimal(d)) => Some(d.normalize().to_string()),
        _ => None,
    }
}
