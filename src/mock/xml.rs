//! What the mock's UBL documents add to the shared element writer.

use rust_decimal::Decimal;

pub use crate::catalog::markup::Elements;

/// Amounts and parties as the mock's documents write them.
pub trait Ubl {
    fn amount(&mut self, tag: &str, value: Decimal);
    fn party(&mut self, wrapper: &str, gln: &str, name: &str, legal: &str);
}

impl Ubl for Elements {
    fn amount(&mut self, tag: &str, value: Decimal) {
        self.leaf(tag, &[("currencyID", "IDR")], &value.round_dp(2).normalize().to_string());
    }

    fn party(&mut self, wrapper: &str, gln: &str, name: &str, legal: &str) {
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
