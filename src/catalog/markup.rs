//! An append-only XML buffer for the two large writers (PEPPOL catalogue
//! lines, XLSX sheet rows). A line is fixed markup with values between: the
//! markup is written as the `'static` text it is, and every value goes through
//! quick-xml's escaping (only when it holds a character that needs it).
//! Numbers are written exactly from `rust_decimal`, never through a float.
//! [`Elements`] is the element-at-a-time writer for small documents.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use rust_decimal::Decimal;

#[derive(Debug, Default)]
pub struct Markup {
    buf: Vec<u8>,
}

impl Markup {
    pub fn with_capacity(bytes: usize) -> Self {
        Self { buf: Vec::with_capacity(bytes) }
    }

    /// Fixed markup from this program's own source: written as is.
    #[inline]
    pub fn raw(&mut self, markup: &'static str) -> &mut Self {
        self.buf.extend_from_slice(markup.as_bytes());
        self
    }

    /// Text known to need no escaping (digits, column letters): written as is.
    #[inline]
    pub fn plain(&mut self, text: &str) -> &mut Self {
        self.buf.extend_from_slice(text.as_bytes());
        self
    }

    /// Element content: `<`, `>` and `&` escaped.
    #[inline]
    pub fn text(&mut self, value: &str) -> &mut Self {
        if memchr::memchr3(b'<', b'>', b'&', value.as_bytes()).is_some() {
            self.buf.extend_from_slice(quick_xml::escape::partial_escape(value).as_bytes());
        } else {
            self.buf.extend_from_slice(value.as_bytes());
        }
        self
    }

    /// An attribute value in double quotes: quotes escaped as well.
    #[inline]
    pub fn attr(&mut self, value: &str) -> &mut Self {
        let bytes = value.as_bytes();
        if memchr::memchr3(b'<', b'&', b'"', bytes).is_some() || memchr::memchr2(b'>', b'\'', bytes).is_some() {
            self.buf.extend_from_slice(quick_xml::escape::escape(value).as_bytes());
        } else {
            self.buf.extend_from_slice(bytes);
        }
        self
    }

    #[inline]
    pub fn int(&mut self, n: impl itoa::Integer) -> &mut Self {
        self.buf.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
        self
    }

    /// A decimal in plain notation without trailing zeros: `5`, `0.25`, `-1.5`.
    #[inline]
    pub fn decimal(&mut self, d: Decimal) -> &mut Self {
        push_decimal(&mut self.buf, d);
        self
    }

    /// Bytes rendered earlier (a cached fragment).
    #[inline]
    pub fn bytes(&mut self, rendered: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(rendered);
        self
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The bytes from `start` on (to cache a fragment just written).
    pub fn since(&self, start: usize) -> &[u8] {
        &self.buf[start..]
    }

    pub fn clear(&mut self) {
        self.buf.clear();
    }
}

/// Element-at-a-time XML through quick-xml's event writer, into memory (so
/// nothing can fail): for small documents, the PEPPOL header and the mock's
/// UBL documents.
pub struct Elements(Writer<Vec<u8>>);

impl Elements {
    /// The XML declaration and the root element's start tag with `attributes`
    /// (its namespaces). `indent` for documents people read.
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

    /// What is written so far, to be continued by other means.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0.into_inner()
    }
}

/// Appends `d` in plain notation, the same text as `d.normalize().to_string()`
/// but without going through `fmt`.
pub fn push_decimal(out: &mut Vec<u8>, d: Decimal) {
    write_decimal(out, d).expect("writing to memory")
}

/// Writes `d` in plain notation without trailing zeros: `5`, `0.25`, `-1.5`.
pub fn write_decimal(out: &mut impl std::io::Write, d: Decimal) -> std::io::Result<()> {
    const ZEROS: &[u8; 28] = b"0000000000000000000000000000";
    let d = d.normalize();
    let mantissa = d.mantissa();
    if mantissa == 0 {
        return out.write_all(b"0");
    }
    if mantissa < 0 {
        out.write_all(b"-")?;
    }
    let mut buffer = itoa::Buffer::new();
    let digits = match u64::try_from(mantissa.unsigned_abs()) {
        Ok(small) => buffer.format(small), // nearly every value, and quicker than 128 bits
        Err(_) => buffer.format(mantissa.unsigned_abs()),
    }
    .as_bytes();
    let scale = d.scale() as usize;
    if scale == 0 {
        out.write_all(digits)
    } else if digits.len() > scale {
        let (whole, fraction) = digits.split_at(digits.len() - scale);
        out.write_all(whole)?;
        out.write_all(b".")?;
        out.write_all(fraction)
    } else {
        out.write_all(b"0.")?;
        out.write_all(&ZEROS[..scale - digits.len()])?;
        out.write_all(digits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decimal_text(d: Decimal) -> String {
        let mut out = Vec::new();
        push_decimal(&mut out, d);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn decimals_in_plain_notation() {
        for (d, text) in [
            (Decimal::new(0, 0), "0"),
            (Decimal::new(0, 3), "0"),
            (Decimal::new(5, 0), "5"),
            (Decimal::new(250, 3), "0.25"),
            (Decimal::new(5, 4), "0.0005"),
            (Decimal::new(6350000, 2), "63500"),
            (Decimal::new(-15, 1), "-1.5"),
            (Decimal::new(-5, 3), "-0.005"),
            (Decimal::MAX, "79228162514264337593543950335"),
        ] {
            assert_eq!(decimal_text(d), text, "{d:?}");
        }
    }

    proptest! {
        #[test]
        fn decimal_text_reads_back_as_the_same_value_in_plain_notation(mantissa in any::<i64>(), scale in 0u32..=28) {
            let d = Decimal::new(mantissa, scale);
            let text = decimal_text(d);
            // what a reader of the document gets back is the value written
            prop_assert_eq!(text.parse::<Decimal>().unwrap(), d);
            // plain notation: digits, one optional point, a sign only for negatives, no exponent
            prop_assert!(text.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-'), "{}", text);
            prop_assert!(text.matches('.').count() <= 1 && !text.ends_with('.'));
            prop_assert!(!text.contains('.') || !text.ends_with('0'), "no trailing zeros: {}", text);
            prop_assert_eq!(text.starts_with('-'), d.is_sign_negative() && !d.is_zero());
        }
    }

    #[test]
    fn values_are_escaped_and_markup_is_not() {
        let mut m = Markup::default();
        m.raw("<a x=\"").attr("\"R&D\" <1>").raw("\">").text("Teh & kopi <b>").raw("</a>");
        assert_eq!(String::from_utf8(m.as_bytes().to_vec()).unwrap(), "<a x=\"&quot;R&amp;D&quot; &lt;1&gt;\">Teh &amp; kopi &lt;b&gt;</a>");
    }
}
