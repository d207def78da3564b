//! The mock's own XML: a small element writer for the UBL documents it sends,
//! and a reader of the ones it receives (a tree from `roxmltree`, walked as
//! leaves). It shares no code with
//! the adapter's, which it exists to check.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use rust_decimal::Decimal;

/// Deeper than any UBL document; a deeper one is refused.
const MAX_DEPTH: usize = 64;
/// More nodes than any upload the catalogue takes.
const MAX_NODES: u32 = 2_000_000;

/// What the reader reports, in document order.
pub enum Leaf<'a> {
    /// An element opens; `path` ends with its local name.
    Open(&'a [String]),
    /// An element without child elements, and its whole text.
    Text(&'a [String], String),
    /// An element closes.
    Close(&'a [String]),
}

/// Walks `xml`, calling `visit` for each element; returns the root's local name.
pub fn read(xml: &[u8], mut visit: impl FnMut(Leaf<'_>) -> Result<(), String>) -> Result<String, String> {
    refuse_deep_nesting(xml)?;
    let text = std::str::from_utf8(xml).map_err(|e| format!("the document is not UTF-8: {e}"))?;
    let options = roxmltree::ParsingOptions { allow_dtd: false, nodes_limit: MAX_NODES };
    let doc = roxmltree::Document::parse_with_options(text, options).map_err(|e| format!("malformed XML: {e}"))?;
    let root = doc.root_element();
    let mut path = Vec::new();
    walk(root, &mut path, &mut visit)?;
    Ok(root.tag_name().name().to_owned())
}

/// Counts the nesting on a first pass of start and end tags, so that a
/// document nested deeper than any UBL one costs no tree and no recursion.
fn refuse_deep_nesting(xml: &[u8]) -> Result<(), String> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut depth = 0usize;
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(_)) => depth += 1,
            Ok(Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(Event::Eof) | Err(_) => return Ok(()),
            Ok(_) => {}
        }
        if depth > MAX_DEPTH {
            return Err(format!("elements nest deeper than {MAX_DEPTH} levels"));
        }
        buf.clear();
    }
}

fn walk(node: roxmltree::Node<'_, '_>, path: &mut Vec<String>, visit: &mut impl FnMut(Leaf<'_>) -> Result<(), String>) -> Result<(), String> {
    path.push(node.tag_name().name().to_owned());
    visit(Leaf::Open(path))?;
    if node.children().any(|c| c.is_element()) {
        for child in node.children().filter(roxmltree::Node::is_element) {
            walk(child, path, visit)?;
        }
    } else if node.has_children() {
        let text: String = node.children().filter_map(|c| c.text()).collect();
        visit(Leaf::Text(path, text))?;
    }
    visit(Leaf::Close(path))?;
    path.pop();
    Ok(())
}

/// Element-at-a-time XML into memory (so nothing can fail).
pub struct Elements(Writer<Vec<u8>>);

impl Elements {
    /// The XML declaration and the root element's start tag with its namespaces.
    pub fn start(root: &str, attributes: &[(&str, &str)], indent: bool) -> Self {
        let writer = if indent { Writer::new_with_indent(Vec::new(), b' ', 2) } else { Writer::new(Vec::new()) };
        let mut w = Self(writer);
        let _ = w.0.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
        let _ = w.0.write_event(Event::Start(BytesStart::new(root).with_attributes(attributes.iter().copied())));
        w
    }

    pub fn open(&mut self, tag: &str) {
        let _ = self.0.write_event(Event::Start(BytesStart::new(tag)));
    }

    pub fn close(&mut self, tag: &str) {
        let _ = self.0.write_event(Event::End(BytesEnd::new(tag)));
    }

    /// An element holding text; the text and attribute values are escaped.
    pub fn leaf(&mut self, tag: &str, attributes: &[(&str, &str)], text: &str) {
        let _ = self.0.write_event(Event::Start(BytesStart::new(tag).with_attributes(attributes.iter().copied())));
        let _ = self.0.write_event(Event::Text(BytesText::new(text)));
        let _ = self.0.write_event(Event::End(BytesEnd::new(tag)));
    }

    /// Closes the root element and ends the document with a newline.
    pub fn finish(mut self, root: &str) -> Vec<u8> {
        self.close(root);
        let mut out = self.0.into_inner();
        out.push(b'\n');
        out
    }

    /// An amount in rupiah.
    pub fn amount(&mut self, tag: &str, value: Decimal) {
        self.leaf(tag, &[("currencyID", "IDR")], &value.round_dp(2).normalize().to_string());
    }

    /// A PEPPOL party: its GLN, name and legal name, in Kota Mojokerto.
    pub fn party(&mut self, wrapper: &str, gln: &str, name: &str, legal: &str) {
        self.open(wrapper);
        self.open("cac:Party");
        self.leaf("cbc:EndpointID", &[("schemeID", "0088")], gln);
        self.open("cac:PartyName");
        self.leaf("cbc:Name", &[], name);
        self.close("cac:PartyName");
        self.open("cac:PostalAddress");
        self.leaf("cbc:CityName", &[], "Kota Mojokerto");
        self.open("cac:Country");
        self.leaf("cbc:IdentificationCode", &[], "ID");
        self.close("cac:Country");
        self.close("cac:PostalAddress");
        self.open("cac:PartyLegalEntity");
        self.leaf("cbc:RegistrationName", &[], legal);
        self.close("cac:PartyLegalEntity");
        self.close("cac:Party");
        self.close(wrapper);
    }
}
