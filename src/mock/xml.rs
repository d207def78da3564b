//! The mock's UBL documents are small; this is the emitter they share.

use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use rust_decimal::Decimal;

/// A small indenting UBL emitter over quick-xml, for the mock's documents.
pub struct W(pub Writer<Vec<u8>>);

impl W {
    pub fn open(&mut self, tag: &str) {
        let _ = self.0.write_event(Event::Start(BytesStart::new(tag)));
    }
    pub fn close(&mut self, tag: &str) {
        let _ = self.0.write_event(Event::End(BytesEnd::new(tag)));
    }
    pub fn leaf(&mut self, tag: &str, attrs: &[(&str, &str)], text: &str) {
        let _ = self.0.write_event(Event::Start(BytesStart::new(tag).with_attributes(attrs.iter().copied())));
        let _ = self.0.write_event(Event::Text(BytesText::new(text)));
        let _ = self.0.write_event(Event::End(BytesEnd::new(tag)));
    }
    pub fn amount(&mut self, tag: &str, value: Decimal) {
        self.leaf(tag, &[("currencyID", "IDR")], &value.round_dp(2).normalize().to_string());
    }
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

