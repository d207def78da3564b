//! Every validation rule, per format, on products built in memory.

use crate::common;

use std::sync::OnceLock;

use katalog_bridge::catalog::Format;
use katalog_bridge::mapping::MappingSource;
use katalog_bridge::mapping::input::{ProductRecord, Seller};
use katalog_bridge::mapping::plan::{Plan, Tables};
use katalog_bridge::mapping::rules::Severity;
use rust_decimal_macros::dec;

fn plan(format: Format) -> &'static Plan {
    static PLANS: OnceLock<Vec<Plan>> = OnceLock::new();
    let plans = PLANS.get_or_init(|| {
        let tables = Tables::load(&MappingSource::BuiltIn).unwrap();
        Format::ALL.iter().map(|f| f.plan(&MappingSource::BuiltIn, &tables).unwrap()).collect()
    });
    &plans[Format::ALL.iter().position(|f| *f == format).unwrap()]
}

fn seller() -> Seller {
    common::sample_seller()
}

/// A product every format accepts without any issue.
fn clean() -> ProductRecord {
    common::sample_product()
}

/// The (code, field, severity) of each issue of `p` in `format`.
fn issues(format: Format, p: &ProductRecord, s: &Seller) -> Vec<(String, String, Severity)> {
    plan(format).map(p, s).issues.into_iter().map(|i| (i.code.name().to_owned(), i.field, i.severity)).collect()
}

fn has(format: Format, p: &ProductRecord, code: &str, field: &str, severity: Severity) {
    let found = issues(format, p, &seller());
    assert!(
        found.iter().any(|(c, f, s)| c == code && f == field && *s == severity),
        "{}: expected {code} on {field} ({severity:?}), got {found:?}",
        format.name()
    );
}

use Format::{KatalogV6 as V6, KatalogV6Xlsx as Xlsx, PeppolCatalogue as Peppol};
use Severity::{Blocking, Warning};

#[test]
fn a_complete_product_has_no_issue_in_any_format() {
    for f in Format::ALL {
        assert_eq!(issues(f, &clean(), &seller()), vec![], "{}", f.name());
    }
}

#[test]
fn name_length_limits_differ_per_format() {
    let short = ProductRecord { name: "Teh".into(), ..clean() };
    has(V6, &short, "name_too_short", "nama_produk", Blocking);
    has(Xlsx, &short, "name_too_short", "nama_produk", Blocking);
    let medium = ProductRecord { name: "Gula 1 kg".into(), ..clean() }; // 9 chars: fine for v6, short for bulk upload
    assert!(issues(V6, &medium, &seller()).is_empty());
    has(Xlsx, &medium, "name_too_short", "nama_produk", Blocking);
    let long = ProductRecord { name: "Kain batik tulis ".repeat(7), ..clean() }; // 119 chars
    assert!(issues(V6, &long, &seller()).is_empty());
    has(Xlsx, &long, "name_too_long", "nama_produk", Blocking);
    let very_long = ProductRecord { name: "x".repeat(251), ..clean() };
    has(V6, &very_long, "name_too_long", "nama_produk", Blocking);
}

#[test]
fn description_over_2000_characters() {
    let p = ProductRecord { description: "d".repeat(2001), ..clean() };
    has(V6, &p, "description_too_long", "deskripsi", Blocking);
    has(Peppol, &p, "description_too_long", "description", Blocking);
}

#[test]
fn unknown_unit_and_unmapped_category() {
    let p = ProductRecord { unit: "gantang".into(), ..clean() };
    has(V6, &p, "unknown_unit", "satuan", Blocking);
    has(Peppol, &p, "unknown_unit", "unit", Blocking);
    let p = ProductRecord { category: "sabun cuci".into(), ..clean() };
    has(V6, &p, "no_category_mapping", "kategori_id", Blocking);
    has(Xlsx, &p, "no_category_mapping", "kategori_id", Blocking);
    has(Peppol, &p, "no_category_mapping", "unspsc", Blocking);
    let message = &plan(V6).map(&p, &seller()).issues[0].message;
    assert!(message.contains("\"sabun cuci\" is not in mappings/tables/categories.csv"), "{message}");
}

#[test]
fn goods_need_a_weight_services_do_not() {
    let p = ProductRecord { weight_kg: None, ..clean() };
    has(V6, &p, "missing_weight", "berat_kg", Blocking);
    has(Xlsx, &p, "missing_weight", "berat_kg", Blocking);
    let catering = ProductRecord { weight_kg: None, category: "jasa katering".into(), unit: "pcs".into(), ..clean() };
    assert!(issues(V6, &catering, &seller()).iter().all(|(c, _, _)| c != "missing_weight"));
}

#[test]
fn tkdn_claim_needs_a_certificate() {
    let p = ProductRecord { tkdn_percent: Some(dec!(40)), ..clean() };
    has(V6, &p, "tkdn_without_certificate", "tkdn_sertifikat", Blocking);
    has(Peppol, &p, "tkdn_without_certificate", "tkdn_certificate", Blocking);
    let p = ProductRecord { tkdn_percent: Some(dec!(40)), tkdn_certificate: Some("1234/SJ-IPD.2/TKDN/2025".into()), ..clean() };
    assert!(issues(V6, &p, &seller()).is_empty());
}

#[test]
fn photos_none_or_too_many() {
    let p = ProductRecord { photo_urls: vec![], ..clean() };
    has(V6, &p, "no_photo", "foto", Blocking);
    has(Peppol, &p, "no_photo", "photos", Warning);
    let p = ProductRecord { photo_urls: (1..=7).map(|i| format!("https://f.id/{i}.jpg")).collect(), ..clean() };
    has(V6, &p, "too_many_photos", "foto", Warning);
    let s = seller();
    let mapped = plan(V6).map(&p, &s);
    let mut json = Vec::new();
    katalog_bridge::catalog::write_json(&mut json, plan(V6), &mapped).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["foto"].as_array().unwrap().len(), 5, "only the first five are sent");
}

#[test]
fn prices_with_sen_are_rounded_and_reported() {
    let p = ProductRecord { price: dec!(12500.50), ..clean() };
    has(V6, &p, "price_rounded", "harga", Warning);
    let s = seller();
    let mapped = plan(V6).map(&p, &s);
    assert_eq!(mapped.pricing.base, dec!(12501));
}

#[test]
fn peppol_needs_the_cooperative_gln() {
    let s = Seller { gln: None, ..seller() };
    let found = issues(Peppol, &clean(), &s);
    assert!(found.contains(&("no_gln".into(), "endpoint_id".into(), Blocking)), "{found:?}");
}

#[test]
fn bulk_upload_cannot_carry_tkdn_sni_or_brand() {
    let p = ProductRecord {
        tkdn_percent: Some(dec!(40)),
        tkdn_certificate: Some("1/TKDN".into()),
        sni_certificate: Some("SNI 7709:2019".into()),
        brand: Some("Sawit Nusa".into()),
        ..clean()
    };
    has(Xlsx, &p, "tkdn_not_in_bulk_upload", "tkdn_persen", Blocking);
    has(Xlsx, &p, "sni_not_in_bulk_upload", "no_sni", Blocking);
    has(Xlsx, &p, "brand_not_in_bulk_upload", "merek", Warning);
    assert!(issues(V6, &p, &seller()).is_empty(), "the API form carries them all");
}

#[test]
fn a_required_value_left_empty() {
    let p = ProductRecord { seller_item_id: String::new(), ..clean() };
    has(V6, &p, "missing_value", "sku", Blocking);
    let p = ProductRecord { name: String::new(), ..clean() };
    has(V6, &p, "missing_value", "nama_produk", Blocking);
}

#[test]
fn tax_follows_seller_and_category() {
    let (product, s) = (clean(), seller());
    let taxed = plan(V6).map(&product, &s);
    assert_eq!((taxed.pricing.tax, taxed.pricing.with_tax), (dec!(1980), dec!(19980)));
    let non_pkp = Seller { pkp: false, ..seller() };
    assert_eq!(plan(V6).map(&clean(), &non_pkp).pricing.tax, dec!(0));
    let rice = ProductRecord { category: "beras".into(), unit: "karung".into(), ..clean() };
    let m = plan(Peppol).map(&rice, &s);
    assert_eq!((m.pricing.category, m.pricing.tax), (katalog_bridge::mapping::tax::TaxCategory::Exempt, dec!(0)));
}

/// A sack of premium rice, as a cooperative lists it.
fn rice_sack(price: rust_decimal::Decimal, net: Option<&str>) -> ProductRecord {
    ProductRecord {
        sku: "BRS-PRM-25".into(),
        seller_item_id: "WAT-01/BRS-PRM-25".into(),
        name: "Beras Premium 25 kg".into(),
        description: "Beras premium kemasan sak 25 kg.".into(),
        category: "beras".into(),
        unit: "karung".into(),
        price,
        weight_kg: Some(dec!(25)),
        net_content: net.map(|n| katalog_bridge::domain::product::NetContent::parse(n).unwrap()),
        ..clean()
    }
}

fn day(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

/// The issues of a product mapped as of `on`.
fn issues_on(format: Format, p: &ProductRecord, on: &str) -> Vec<katalog_bridge::mapping::rules::Issue> {
    plan(format).map_on(p, &seller(), day(on)).issues
}

#[test]
fn a_price_above_the_ceiling_per_kilogram_is_held_back_naming_both_amounts_per_kilogram() {
    // Rp380.000 for 25 kg is Rp15.200/kg; premium rice in zone 1 may cost Rp14.900/kg.
    for format in Format::ALL {
        let found = issues_on(format, &rice_sack(dec!(380000), Some("25 kg")), "2026-12-02");
        let ceiling = found.iter().find(|i| i.code.name() == "above_price_ceiling").unwrap_or_else(|| panic!("{}: {found:?}", format.name()));
        assert_eq!(ceiling.severity, Blocking, "held back before sending");
        assert!(ceiling.message.starts_with("Rp15.200/kg di atas HET Rp14.900/kg"), "{}", ceiling.message);
        assert!(ceiling.message.contains("Perbadan 5/2024"), "names the regulation: {}", ceiling.message);
        assert!(ceiling.message.contains("Rp372.500"), "says the highest price allowed for 25 kg: {}", ceiling.message);
    }
    // A fairly priced sack (Rp342.500, Rp13.700/kg) has nothing to fix.
    assert_eq!(issues_on(V6, &rice_sack(dec!(342500), Some("25 kg")), "2026-12-02"), vec![]);
    // Exactly at the ceiling is allowed; a rupiah over is not.
    assert!(issues_on(V6, &rice_sack(dec!(372500), Some("25 kg")), "2026-12-02").is_empty());
    assert!(!issues_on(V6, &rice_sack(dec!(372501), Some("25 kg")), "2026-12-02").is_empty());
}

#[test]
fn the_ceiling_checked_is_the_one_in_force_on_the_day() {
    // Medium rice: Rp12.500/kg until Kepbadan 299/2025 raised it to Rp13.500/kg from 22 August 2025.
    let medium = ProductRecord { name: "Beras Medium 5 kg".into(), price: dec!(65000), ..rice_sack(dec!(65000), Some("5 kg")) };
    let before = issues_on(V6, &medium, "2025-08-21");
    assert_eq!(before.len(), 1, "{before:?}");
    assert!(before[0].message.starts_with("Rp13.000/kg di atas HET Rp12.500/kg"), "{}", before[0].message);
    assert!(issues_on(V6, &medium, "2025-08-22").is_empty(), "from the day the new ceiling applies, the same price is allowed");
    // Premium rice before any ceiling of this file applied: nothing to check.
    assert!(issues_on(V6, &rice_sack(dec!(500000), Some("25 kg")), "2023-01-01").is_empty());
}

#[test]
fn a_net_content_left_out_is_read_from_the_name_as_a_warning_or_reported_unknown() {
    // Inferred from "25 kg" in the name: checked, and said so.
    let inferred = issues_on(V6, &rice_sack(dec!(380000), None), "2026-12-02");
    let codes: Vec<&str> = inferred.iter().map(|i| i.code.name()).collect();
    assert_eq!(codes, ["net_content_inferred", "above_price_ceiling"], "{inferred:?}");
    assert_eq!(inferred[0].severity, Warning);
    assert!(inferred[0].message.contains("25 kg"), "{}", inferred[0].message);
    let (fair, s) = (rice_sack(dec!(342500), None), seller());
    let mapped = plan(V6).map_on(&fair, &s, day("2026-12-02"));
    let json = {
        let mut out = Vec::new();
        katalog_bridge::catalog::write_json(&mut out, plan(V6), &mapped).unwrap();
        serde_json::from_slice::<serde_json::Value>(&out).unwrap()
    };
    assert_eq!(json["isi_bersih"], "25 kg", "the listing carries what the check used");
    // Nothing to read it from, in a category with a ceiling: a warning, not a guess.
    let unknown = ProductRecord { name: "Beras Premium Pulen".into(), ..rice_sack(dec!(380000), None) };
    let found = issues_on(V6, &unknown, "2026-12-02");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].code.name(), found[0].severity, found[0].field.as_str()), ("net_content_unknown", Warning, "isi_bersih"));
    assert!(found[0].message.contains("HET Rp14.900/kg"), "{}", found[0].message);
    // Cooking oil that is not Minyakita has no ceiling; Minyakita does, per liter.
    let oil = |name: &str, price| ProductRecord { name: name.into(), price, net_content: None, ..clean() };
    assert!(issues_on(V6, &oil("Minyak Goreng Sawit Premium 1 Liter", dec!(25000)), "2026-12-02").iter().all(|i| i.severity == Warning));
    // The ceiling is a retail price: PPN included (the sample seller is PKP: Rp15.000 + 11 % = Rp16.650).
    let minyakita = issues_on(V6, &oil("Minyakita 1 Liter", dec!(15000)), "2026-12-02");
    assert!(minyakita.iter().any(|i| i.message.starts_with("Rp16.650/liter di atas HET Rp15.700/liter")), "{minyakita:?}");
    assert!(issues_on(V6, &oil("Minyakita 1 Liter", dec!(14000)), "2026-12-02").iter().all(|i| i.severity == Warning));
}
