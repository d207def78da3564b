//! A mapping file compiled into a plan: for each target field of a catalogue
//! format, where its value comes from. Compiling checks every name once;
//! mapping a product then only indexes into the plan.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rust_decimal::Decimal;

use super::tax::TaxCategory;
use crate::domain::product::Origin;
use serde::Deserialize;
use toml::Spanned;

use super::ceilings::Ceilings;
use super::input::{ProductRecord, Seller};
use super::rules::{self, Issue, RuleCode, RuleContext, Severity};
use super::table::LookupTable;
use super::tax::{Pricing, TaxRules};
pub use super::vocab::{Limits, NetFound, SOURCES, Source};
use super::{MappingError, MappingSource, line_of};

/// A field of a catalogue format's listing that a mapping fills.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub name: &'static str,
    /// A listing without it cannot be submitted.
    pub required: bool,
    /// The issue code when a required value is missing (e.g. `unknown_unit`).
    pub missing: RuleCode,
}

impl Target {
    pub const fn new(name: &'static str, required: bool, missing: RuleCode) -> Self {
        Self { name, required, missing }
    }
}

/// A mapped value, borrowed from the product, the seller or a lookup table.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Missing,
    Text(&'a str),
    Decimal(Decimal),
    Bool(bool),
    List(&'a [String]),
    /// Stays the domain's enum until a writer spells it the way its format does.
    Origin(Origin),
    NetContent(crate::domain::product::NetContent),
    Tax(TaxCategory),
}

impl Value<'_> {
    pub fn is_missing(&self) -> bool {
        match self {
            Value::Missing => true,
            Value::Text(t) => t.is_empty(),
            _ => false,
        }
    }
}

#[derive(Debug, Clone)]
enum Getter {
    Source(Source),
    Lookup { key: Source, table: usize, column: usize },
    Const(String),
}

/// One product mapped to one format.
#[derive(Debug, Clone)]
pub struct Mapped<'a> {
    /// One value per target of the format, in target order.
    pub values: Vec<Value<'a>>,
    pub pricing: Pricing,
    pub issues: Vec<Issue>,
}

impl Mapped<'_> {
    pub fn blocked(&self) -> bool {
        self.issues.iter().any(|i| i.severity == Severity::Blocking)
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawField {
    Source(String),
    Lookup { lookup: String, key: String },
    Value { value: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    format: Spanned<String>,
    limits: Limits,
    #[serde(default)]
    severity: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    document: DocumentSettings,
    fields: BTreeMap<String, Spanned<RawField>>,
}

/// A mapping's `[document]` section: settings of the documents a format
/// writes, not of each listing. Every key is known, so a misspelt one is an
/// error with its line; which keys a format needs it checks itself
/// (`Format::plan`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentSettings {
    /// PEPPOL: the BIS profile.
    pub profile: Option<String>,
    /// PEPPOL: the scheme of the seller's endpoint id (`0088`, GLN).
    pub endpoint_scheme: Option<String>,
    /// PEPPOL: who receives the catalogue.
    pub receiver_name: Option<String>,
    pub receiver_endpoint_scheme: Option<String>,
    pub receiver_endpoint_id: Option<String>,
    /// PEPPOL: the country of local products (ISO 3166 alpha-2).
    pub country: Option<String>,
    /// PEPPOL: days a catalogue is valid from its issue date.
    pub validity_days: Option<u32>,
    /// Bulk upload: rows per workbook before a new one starts.
    pub rows_per_workbook: Option<u32>,
}

/// The lookup tables, tax rules and price ceilings mappings use, loaded once.
#[derive(Debug, Clone)]
pub struct Tables {
    pub tables: Vec<Arc<LookupTable>>,
    pub tax: Arc<TaxRules>,
    pub ceilings: Arc<Ceilings>,
}

impl Tables {
    pub fn load(source: &MappingSource) -> Result<Self, MappingError> {
        let tables = source.table_names().iter().map(|n| LookupTable::load(source, n).map(Arc::new)).collect::<Result<_, _>>()?;
        Ok(Self { tables, tax: Arc::new(TaxRules::load(source)?), ceilings: Arc::new(Ceilings::load(source)?) })
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.tables.iter().position(|t| t.name == name)
    }

    pub fn get(&self, name: &str) -> Option<&LookupTable> {
        self.find(name).map(|i| self.tables[i].as_ref())
    }
}

/// A compiled mapping.
#[derive(Debug, Clone)]
pub struct Plan {
    pub format: String,
    pub path: PathBuf,
    pub targets: &'static [Target],
    getters: Vec<Option<Getter>>,
    tables: Tables,
    categories: Option<usize>,
    goods_column: Option<usize>,
    pub limits: Limits,
    severity: HashMap<RuleCode, Severity>,
    /// Format-specific settings from `[document]`.
    pub document: DocumentSettings,
    /// The line of the `[document]` header (1 when there is none), for errors.
    pub document_line: u64,
}

impl Plan {
    /// Reads and compiles `{format}.toml` against the format's targets.
    pub fn load(source: &MappingSource, format: &str, targets: &'static [Target], tables: &Tables) -> Result<Self, MappingError> {
        let (path, text) = source.read(&format!("{format}.toml"))?;
        Self::compile(&path, &text, format, targets, tables)
    }

    pub fn compile(path: &Path, text: &str, format: &str, targets: &'static [Target], tables: &Tables) -> Result<Self, MappingError> {
        let at = |offset: usize, reason: String| MappingError::Invalid { path: path.to_owned(), line: line_of(text, offset), reason };
        let raw: RawSpec = toml::from_str(text).map_err(|e| at(e.span().map_or(0, |s| s.start), e.message().trim().to_owned()))?;
        if raw.format.get_ref() != format {
            return Err(at(raw.format.span().start, format!("format is {:?}, but this file is for {format:?}", raw.format.get_ref())));
        }
        let mut getters: Vec<Option<Getter>> = vec![None; targets.len()];
        for (target_name, field) in &raw.fields {
            let offset = field.span().start;
            let Some(index) = targets.iter().position(|t| t.name == target_name) else {
                let known: Vec<&str> = targets.iter().map(|t| t.name).collect();
                return Err(at(offset, format!("{target_name:?} is not a field of {format}; its fields are: {}", known.join(", "))));
            };
            let source = |name: &str| {
                Source::parse(name).ok_or_else(|| {
                    let known: Vec<&str> = SOURCES.iter().map(|(n, _)| *n).collect();
                    at(offset, format!("unknown source field {name:?} for {target_name}; use one of: {}", known.join(", ")))
                })
            };
            getters[index] = Some(match field.get_ref() {
                RawField::Source(name) => Getter::Source(source(name)?),
                RawField::Value { value } => Getter::Const(value.clone()),
                RawField::Lookup { lookup, key } => {
                    let (table_name, column_name) = lookup.split_once('.').ok_or_else(|| at(offset, format!("lookup {lookup:?} must be \"table.column\"")))?;
                    let table = tables.find(table_name).ok_or_else(|| {
                        let known: Vec<&str> = tables.tables.iter().map(|t| t.name.as_str()).collect();
                        at(offset, format!("lookup table {table_name:?} does not exist; the tables are: {}", known.join(", ")))
                    })?;
                    let column = tables.tables[table].column(column_name).ok_or_else(|| {
                        at(offset, format!("table {table_name} has no column {column_name:?}; its columns are: {}", tables.tables[table].columns().join(", ")))
                    })?;
                    Getter::Lookup { key: source(key)?, table, column }
                }
            });
        }
        if let Some(t) = targets.iter().zip(&getters).find(|(t, g)| t.required && g.is_none()).map(|(t, _)| t) {
            return Err(at(0, format!("the required field {} is not mapped", t.name)));
        }
        let mut severity = HashMap::new();
        for (code, level) in &raw.severity {
            let offset = level.span().start;
            let rule = RuleCode::parse(code).ok_or_else(|| at(offset, format!("unknown rule {code:?} in [severity]")))?;
            let level = match level.get_ref().as_str() {
                "blocking" => Severity::Blocking,
                "warning" => Severity::Warning,
                other => return Err(at(offset, format!("severity {other:?} must be \"blocking\" or \"warning\""))),
            };
            severity.insert(rule, level);
        }
        for claim in &raw.limits.cannot_carry {
            if !matches!(claim.as_str(), "tkdn" | "sni" | "brand") {
                return Err(at(text.find("cannot_carry").unwrap_or(0), format!("cannot_carry: unknown claim {claim:?}; use tkdn, sni or brand")));
            }
        }
        let categories = tables.find("categories");
        let goods_column = categories.and_then(|c| tables.tables[c].column("goods"));
        Ok(Self {
            format: format.to_owned(),
            path: path.to_owned(),
            targets,
            getters,
            tables: tables.clone(),
            categories,
            goods_column,
            limits: raw.limits,
            severity,
            document: raw.document,
            document_line: text.find("[document]").map_or(1, |offset| line_of(text, offset)),
        })
    }

    /// The tax rules the plan prices with (rates, taxable base, the currency).
    pub fn tax(&self) -> &TaxRules {
        &self.tables.tax
    }

    pub fn severity(&self, code: RuleCode) -> Severity {
        self.severity.get(&code).copied().unwrap_or_else(|| code.default_severity())
    }

    /// The target a source feeds, for naming the field of an issue.
    pub fn target_of(&self, source: Source) -> Option<&'static str> {
        self.targets.iter().zip(&self.getters).find_map(|(t, g)| match g {
            Some(Getter::Source(s)) if *s == source => Some(t.name),
            _ => None,
        })
    }

    pub fn index_of(&self, target: &str) -> Option<usize> {
        self.targets.iter().position(|t| t.name == target)
    }

    /// Whether a product's category is goods (needs a weight). Unknown: yes.
    pub fn is_goods(&self, category: &str) -> bool {
        match (self.categories, self.goods_column) {
            (Some(t), Some(c)) => self.tables.tables[t].row(category).is_none_or(|row| row[c] != "tidak"),
            _ => true,
        }
    }

    /// The price ceilings the plan checks against.
    pub fn ceilings(&self) -> &Ceilings {
        &self.tables.ceilings
    }

    /// Maps and validates one product, with the rules in force today (WIB).
    pub fn map<'a>(&'a self, product: &'a ProductRecord, seller: &'a Seller) -> Mapped<'a> {
        self.map_on(product, seller, crate::domain::time::today())
    }

    /// Maps and validates one product, with the rules (price ceilings) in
    /// force on `day`.
    pub fn map_on<'a>(&'a self, product: &'a ProductRecord, seller: &'a Seller, day: chrono::NaiveDate) -> Mapped<'a> {
        let pricing = self.tables.tax.price(product.price, &product.category, seller.pkp);
        let net = NetFound::of(product);
        let mut values = Vec::with_capacity(self.getters.len());
        let mut issues = Vec::new();
        for (target, getter) in self.targets.iter().zip(&self.getters) {
            let value = match getter {
                None => Value::Missing,
                Some(Getter::Const(c)) => Value::Text(c),
                Some(Getter::Source(Source::Currency)) => Value::Text(&self.tables.tax.currency),
                Some(Getter::Source(s)) => source_value(*s, product, seller, &pricing, net.content()),
                Some(Getter::Lookup { key, table, column }) => {
                    let t = &self.tables.tables[*table];
                    match source_value(*key, product, seller, &pricing, net.content()) {
                        Value::Text(k) => t.row(k).map_or(Value::Missing, |row| Value::Text(row[*column].as_str())),
                        _ => Value::Missing,
                    }
                }
            };
            if target.required && value.is_missing() {
                issues.push(self.missing_issue(target, getter.as_ref(), product, seller, &pricing));
            }
            values.push(value);
        }
        rules::check(self, product, &pricing, net, day, &mut issues);
        Mapped { values, pricing, issues }
    }

    fn missing_issue(&self, target: &Target, getter: Option<&Getter>, product: &ProductRecord, seller: &Seller, pricing: &Pricing) -> Issue {
        let message = match getter {
            Some(Getter::Lookup { key, table, column }) => {
                let t = &self.tables.tables[*table];
                let key_text = match source_value(*key, product, seller, pricing, None) {
                    Value::Text(k) => k.to_owned(),
                    _ => String::new(),
                };
                if t.row(&key_text).is_some() {
                    (
                        format!("{} {key_text:?} has no {} value in {}", key.name(), t.columns()[*column], t.path.display()),
                        format!("{} {key_text:?} belum punya nilai {} di tabel {}", key.name(), t.columns()[*column], t.path.display()),
                    )
                } else {
                    (
                        format!("{} {key_text:?} is not in {}", key.name(), t.path.display()),
                        format!("{} {key_text:?} tidak ada di tabel {}", key.name(), t.path.display()),
                    )
                }
            }
            Some(Getter::Source(s)) => (format!("{} is empty", s.name()), format!("{} kosong", s.name())),
            _ => (format!("{} is empty", target.name), format!("{} kosong", target.name)),
        };
        Issue::new(target.missing, self.severity(target.missing), target.name, message)
    }
}

fn opt_text(v: &Option<String>) -> Value<'_> {
    v.as_deref().map_or(Value::Missing, Value::Text)
}

fn opt_dec(v: Option<Decimal>) -> Value<'static> {
    v.map_or(Value::Missing, Value::Decimal)
}

fn source_value<'a>(source: Source, p: &'a ProductRecord, s: &'a Seller, pricing: &Pricing, net: Option<crate::domain::product::NetContent>) -> Value<'a> {
    match source {
        Source::ProductSku => Value::Text(&p.sku),
        Source::ProductSellerItemId => Value::Text(&p.seller_item_id),
        Source::ProductName => Value::Text(&p.name),
        Source::ProductDescription => Value::Text(&p.description),
        Source::ProductCategory => Value::Text(&p.category),
        Source::ProductUnit => Value::Text(&p.unit),
        Source::ProductPrice => Value::Decimal(p.price),
        Source::ProductStock => Value::Decimal(p.stock),
        Source::ProductMinPurchase => Value::Decimal(p.min_purchase),
        Source::ProductWeightKg => opt_dec(p.weight_kg),
        Source::ProductNetContent => net.map_or(Value::Missing, Value::NetContent),
        Source::ProductOrigin => Value::Origin(p.origin),
        Source::ProductProductionLocation => opt_text(&p.production_location),
        Source::ProductTkdnPercent => opt_dec(p.tkdn_percent),
        Source::ProductTkdnCertificate => opt_text(&p.tkdn_certificate),
        Source::ProductSniCertificate => opt_text(&p.sni_certificate),
        Source::ProductBrand => opt_text(&p.brand),
        Source::ProductPhotoUrls => Value::List(&p.photo_urls),
        Source::MemberCode => Value::Text(&p.member_code),
        Source::MemberName => Value::Text(&p.member_name),
        Source::CooperativeCode => Value::Text(&s.code),
        Source::CooperativeName => Value::Text(&s.name),
        Source::CooperativeCity => Value::Text(&s.city),
        Source::CooperativeKelurahan => Value::Text(&s.kelurahan),
        Source::CooperativeNpwp => opt_text(&s.npwp),
        Source::CooperativeNib => opt_text(&s.nib),
        Source::CooperativeGln => opt_text(&s.gln),
        Source::PriceBase => Value::Decimal(pricing.base),
        Source::PriceTax => Value::Decimal(pricing.tax),
        Source::PriceWithTax => Value::Decimal(pricing.with_tax),
        Source::TaxCategory => Value::Tax(pricing.category),
        Source::TaxPercent => Value::Decimal(pricing.percent),
        Source::TaxPpnbm => Value::Bool(pricing.ppnbm),
        // Read from the plan's tax rules by `Plan::map`; as a lookup key it is not meaningful.
        Source::Currency => Value::Missing,
    }
}

impl RuleContext for Plan {
    fn format(&self) -> &str {
        &self.format
    }

    fn limits(&self) -> &Limits {
        &self.limits
    }

    fn target_of(&self, source: Source) -> Option<&'static str> {
        Plan::target_of(self, source)
    }

    fn severity(&self, code: RuleCode) -> Severity {
        Plan::severity(self, code)
    }

    fn is_goods(&self, category: &str) -> bool {
        Plan::is_goods(self, category)
    }

    fn ceilings(&self) -> &Ceilings {
        Plan::ceilings(self)
    }
}
