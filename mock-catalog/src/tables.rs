//! The catalogue's own lists, as the project keeps them in `mappings/tables/`:
//! its unit names with their PEPPOL codes, and its category tree. Read as
//! data with the mock's own reader.

use std::collections::HashMap;

const UNITS: &str = include_str!("../../mappings/tables/units.csv");
const CATEGORIES: &str = include_str!("../../mappings/tables/categories.csv");

/// The rows of a CSV table as maps from column name to value.
fn rows(text: &str) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let Ok(headers) = reader.headers().cloned() else { return Vec::new() };
    reader.records().flatten().map(|r| headers.iter().zip(r.iter()).map(|(h, v)| (h.to_owned(), v.to_owned())).collect()).collect()
}

/// `Karung` -> `XBG`: the catalogue's unit names and the PEPPOL codes.
pub fn unit_codes() -> HashMap<String, String> {
    rows(UNITS).into_iter().filter_map(|mut r| Some((r.remove("v6_unit")?, r.remove("peppol")?))).filter(|(a, b)| !a.is_empty() && !b.is_empty()).collect()
}

/// One level-3 category: (level-1 name, level-2 name, level-3 id, level-3 name).
pub type Category = (String, String, String, String);

/// Every level-3 category the catalogue has, once each.
pub fn categories() -> Vec<Category> {
    let mut tree: Vec<Category> = rows(CATEGORIES)
        .into_iter()
        .filter_map(|mut r| Some((r.remove("v6_level1")?, r.remove("v6_level2")?, r.remove("v6_category_id")?, r.remove("v6_level3")?)))
        .filter(|c| !c.2.is_empty())
        .collect();
    tree.sort();
    tree.dedup_by(|a, b| a.2 == b.2);
    tree
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_lists_read() {
        assert_eq!(super::unit_codes().get("Kilogram").map(String::as_str), Some("KGM"));
        assert!(super::categories().iter().any(|c| c.3 == "Beras"));
    }
}
