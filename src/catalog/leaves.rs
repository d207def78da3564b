//! Reading an XML document as its leaf values: each element without child
//! elements, with its path of local names and its whole text. Text split by
//! entity references (`Tahu &amp; Tempe`), character references and CDATA
//! sections is joined back, exactly as written (no trimming). Nesting deeper
//! than [`MAX_DEPTH`] is refused, so a hostile document cannot make the reader
//! work long; its size is the caller's to bound.

use quick_xml::events::Event;

/// Deeper than any UBL document (a PEPPOL Order nests about 8 levels).
pub const MAX_DEPTH: usize = 64;

/// What the reader reports, in document order.
#[derive(Debug, PartialEq, Eq)]
pub enum Leaf<'a> {
    /// An element opens; `path` ends with its local name.
    Open(&'a [String]),
    /// An element without child elements, and its text.
    Text(&'a [String], String),
    /// An element closes.
    Close(&'a [String]),
    /// An attribute of the element just opened (local name, unescaped value),
    /// right after its `Open`.
    Attribute(&'a [String], &'a str, String),
}

/// Attributes read of one element at most; the rest are skipped.
const MAX_ATTRIBUTES: usize = 16;

fn attributes(e: &quick_xml::events::BytesStart<'_>, path: &[String], visit: &mut impl FnMut(Leaf<'_>) -> Result<(), String>) -> Result<(), String> {
    for a in e.attributes().take(MAX_ATTRIBUTES) {
        let a = a.map_err(|e| format!("malformed attribute: {e}"))?;
        let key: String = a.key.local_name().as_ref().to_owned();
        if a.key.as_ref().starts_with("xmlns") {
            continue;
        }
        let value = a.normalized_value(quick_xml::XmlVersion::default()).map_err(|e| format!("malformed attribute value: {e}"))?.into_owned();
        visit(Leaf::Attribute(path, &key, value))?;
    }
    Ok(())
}

/// Walks `xml`, calling `visit` for each element; returns the root's local name.
pub fn read(xml: &[u8], mut visit: impl FnMut(Leaf<'_>) -> Result<(), String>) -> Result<String, String> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut path: Vec<String> = Vec::new();
    // The text of the innermost open element, while it has no child element.
    let mut text: Option<String> = None;
    let mut root = None;
    let mut buf = Vec::new();
    loop {
        let event = reader.read_event_into(&mut buf).map_err(|e| format!("malformed XML at byte {}: {e}", reader.buffer_position()))?;
        match event {
            Event::Start(e) | Event::Empty(e) if path.len() >= MAX_DEPTH => {
                let _ = e;
                return Err(format!("elements nest deeper than {MAX_DEPTH} levels"));
            }
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_owned();
                root.get_or_insert_with(|| name.clone());
                path.push(name);
                text = Some(String::new());
                visit(Leaf::Open(&path))?;
                attributes(&e, &path, &mut visit)?;
            }
            Event::Empty(e) => {
                let name = e.local_name().as_ref().to_owned();
                root.get_or_insert_with(|| name.clone());
                path.push(name);
                visit(Leaf::Open(&path))?;
                attributes(&e, &path, &mut visit)?;
                visit(Leaf::Close(&path))?;
                path.pop();
                text = None;
            }
            Event::End(_) => {
                if let Some(t) = text.take() {
                    visit(Leaf::Text(&path, t))?;
                }
                visit(Leaf::Close(&path))?;
                path.pop();
            }
            Event::Text(t) => {
                if let Some(current) = text.as_mut() {
                    let raw = t.xml10_content();
                    current.push_str(&quick_xml::escape::unescape(&raw).map_err(|e| format!("malformed XML text: {e}"))?);
                }
            }
            Event::CData(c) => {
                if let Some(current) = text.as_mut() {
                    current.push_str(&c.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(current) = text.as_mut() {
                    match r.resolve_char_ref().map_err(|e| format!("malformed character reference: {e}"))? {
                        Some(c) => current.push(c),
                        None => {
                            let name = r.xml10_content();
                            let resolved = quick_xml::escape::resolve_predefined_entity(&name).ok_or_else(|| format!("unknown entity &{name};"))?;
                            current.push_str(resolved);
                        }
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !path.is_empty() {
        return Err(format!("the document ends inside <{}>", path.join("/")));
    }
    root.ok_or_else(|| "the document has no element".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(xml: &str) -> Result<Vec<(String, String)>, String> {
        let mut out = Vec::new();
        read(xml.as_bytes(), |l| {
            if let Leaf::Text(path, text) = l {
                out.push((path.join("/"), text));
            }
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn text_round_trips_across_escapes_references_and_cdata() {
        let got = leaves(
            "<a xmlns:cbc='x'><cbc:Name>Tahu &amp; Tempe</cbc:Name><b><c>&lt;1&gt; &#233;&#x41; &quot;q&apos;</c></b>             <d><![CDATA[Kopi & <Susu>]]> dan &amp; <![CDATA[]]]]><![CDATA[>]]></d><e>  spasi  </e><f/></a>",
        )
        .unwrap();
        assert_eq!(
            got,
            vec![
                ("a/Name".to_owned(), "Tahu & Tempe".to_owned()),
                ("a/b/c".into(), "<1> éA \"q'".into()),
                ("a/d".into(), "Kopi & <Susu> dan & ]]>".into()),
                ("a/e".into(), "  spasi  ".into()),
            ]
        );
    }

    #[test]
    fn mixed_content_is_not_a_leaf_and_bad_documents_are_errors() {
        assert_eq!(leaves("<a>x<b>y</b>z</a>").unwrap(), vec![("a/b".to_owned(), "y".to_owned())]);
        assert!(leaves("<a><b></a>").is_err());
        assert!(leaves("<a>&nosuch;</a>").unwrap_err().contains("unknown entity"));
        assert!(leaves("").unwrap_err().contains("no element"));
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert!(leaves(&deep).unwrap_err().contains("nest deeper than 64"));
        let ok = "<a>".repeat(MAX_DEPTH) + &"</a>".repeat(MAX_DEPTH);
        assert!(leaves(&ok).is_ok());
    }
}
