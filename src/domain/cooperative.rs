//! Cooperatives (KKMP) and their codes.

use super::{DomainError, text};

/// A cooperative's short code, e.g. `MJK-BALONGSARI`: upper-case letters,
/// digits and `-`, 2 to 40 characters. Input is trimmed and upper-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CooperativeCode(String);

impl CooperativeCode {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let code = raw.trim().to_uppercase();
        if code.is_empty() {
            return Err(DomainError::new("empty", "cooperative code is empty", "wajib diisi, tetapi kosong"));
        }
        if code.len() < 2 || code.len() > 40 || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(DomainError::new(
                "invalid_code",
                format!("cooperative code {raw:?} is not valid: use 2-40 letters, digits or '-'"),
                format!("kode koperasi {raw:?} tidak sah: pakai 2-40 huruf, angka atau '-'"),
            ));
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CooperativeCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A cooperative as registered with katalog-bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cooperative {
    pub code: CooperativeCode,
    pub name: String,
    pub kelurahan: String,
    pub kecamatan: String,
    pub city: String,
    pub nib: Option<Digits>,
    pub npwp: Option<Digits>,
    /// GS1 Global Location Number: the cooperative's PEPPOL endpoint.
    pub gln: Option<Digits>,
    /// Its place of business in Coretax (IDTKU, 22 digits), for its tax invoices.
    pub idtku: Option<Digits>,
    /// VAT-registered (Pengusaha Kena Pajak): charges PPN.
    pub pkp: bool,
    /// The cooperative's seller id on the catalogue; it cannot publish without one.
    pub kode_penyedia: Option<SellerId>,
    /// Where its staff are told that an order waits.
    pub email: Option<String>,
    /// Its staff's WhatsApp number, E.164.
    pub whatsapp: Option<String>,
    /// At or below this stock a product is running low: the cooperative is
    /// told once (`batas_stok`; 0 when not given).
    pub stock_threshold: rust_decimal::Decimal,
}

/// A seller id on the catalogue (kode penyedia): 1-40 letters, digits, `-`, `_` or `.`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SellerId(String);

impl SellerId {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let id = raw.trim();
        if id.is_empty() || id.len() > 40 || !id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
            return Err(DomainError::new(
                "invalid_code",
                format!("seller id {raw:?} is not valid: use 1-40 letters, digits, '-', '_' or '.'"),
                format!("kode penyedia {raw:?} tidak sah: pakai 1-40 huruf, angka, '-', '_' atau '.'"),
            ));
        }
        Ok(Self(id.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A registration number made of digits only (NIB: 13, NPWP: 15 or 16).
/// Dots, dashes and spaces people type are dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digits(String);

impl Digits {
    pub fn parse(raw: &str, what: &str, lengths: &[usize]) -> Result<Self, DomainError> {
        let digits: String = raw.chars().filter(|c| !matches!(c, '.' | '-' | ' ')).collect();
        if !digits.chars().all(|c| c.is_ascii_digit()) || !lengths.contains(&digits.len()) {
            let want = |or: &str| lengths.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(or);
            return Err(DomainError::new(
                "wrong_digits",
                format!("{what} {raw:?} must be {} digits", want(" or ")),
                format!("{raw:?} harus {} angka", want(" atau ")),
            ));
        }
        Ok(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Digits {
    /// A GS1 Global Location Number: 13 digits, the last a GS1 mod-10 check digit.
    pub fn parse_gln(raw: &str) -> Result<Self, DomainError> {
        let gln = Self::parse(raw, "GLN", &[13])?;
        if gs1_check_digit(&gln.0[..12]) != gln.0.as_bytes()[12] - b'0' {
            return Err(DomainError::new("wrong_check_digit", format!("GLN {raw:?} has a wrong check digit"), format!("angka pemeriksa GLN {raw:?} salah")));
        }
        Ok(gln)
    }
}

/// The GS1 mod-10 check digit of a digit string (weights 3,1,3,... from the right).
pub fn gs1_check_digit(digits: &str) -> u8 {
    let sum: u32 = digits.bytes().rev().enumerate().map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 }).sum();
    ((10 - sum % 10) % 10) as u8
}

/// `ya`/`tidak` style yes-no answers.
pub fn yes_no(raw: &str, what: &str) -> Result<bool, DomainError> {
    match raw.trim().to_lowercase().as_str() {
        "ya" | "y" | "yes" | "true" | "1" | "pkp" => Ok(true),
        "tidak" | "t" | "no" | "n" | "false" | "0" | "non-pkp" | "non pkp" | "" => Ok(false),
        _ => Err(DomainError::new("not_yes_no", format!("{what} must be ya or tidak, not {raw:?}"), format!("isi dengan ya atau tidak, bukan {raw:?}"))),
    }
}

/// A required name or place.
/// A contact e-mail address (where orders are announced), checked as an
/// address (lettre's parser); at most 254 characters.
pub fn email(raw: &str) -> Result<String, DomainError> {
    let t = raw.trim();
    if t.len() > 254 {
        return Err(super::too_long("email", t.len(), 254));
    }
    t.parse::<lettre::Address>()
        .map(|a| a.to_string())
        .map_err(|e| DomainError::new("not_an_email", format!("email {t:?} is not an e-mail address ({e})"), format!("{t:?} bukan alamat e-mail")))
}

/// A WhatsApp number in E.164 (`+6281234567890`): written `+62 812-3456-7890`,
/// `62812...` or, as Indonesians write it, `0812...` (the 0 becomes +62).
/// Spaces, dashes, dots and brackets are ignored.
pub fn whatsapp(raw: &str) -> Result<String, DomainError> {
    let t = raw.trim();
    let kept: String = t.chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '\u{a0}')).collect();
    let (plus, digits) = match kept.strip_prefix('+') {
        Some(rest) => (true, rest.to_owned()),
        None => (false, kept.clone()),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(DomainError::new(
            "not_a_phone_number",
            format!("whatsapp {t:?} is not a phone number: write it as +6281234567890 or 081234567890"),
            format!("{t:?} bukan nomor telepon: tulis seperti +6281234567890 atau 081234567890"),
        ));
    }
    let international = match (plus, digits.strip_prefix('0')) {
        (false, Some(national)) => format!("62{national}"),
        (true, Some(_)) => {
            return Err(DomainError::new(
                "not_a_phone_number",
                format!("whatsapp {t:?}: after + comes the country code (62), not 0"),
                format!("{t:?}: setelah + ditulis kode negara (62), bukan 0"),
            ));
        }
        (_, None) => digits,
    };
    if !(8..=15).contains(&international.len()) {
        return Err(DomainError::new(
            "not_a_phone_number",
            format!("whatsapp {t:?} has {} digits with its country code; a number has 8 to 15", international.len()),
            format!("{t:?} berisi {} angka dengan kode negaranya; nomor telepon berisi 8 sampai 15", international.len()),
        ));
    }
    if let Some(national) = international.strip_prefix("62")
        && !(national.starts_with('8') && (9..=12).contains(&national.len()))
    {
        return Err(DomainError::new(
            "not_a_phone_number",
            format!("whatsapp {t:?} is not an Indonesian mobile number (08..., 10 to 13 digits)"),
            format!("{t:?} bukan nomor ponsel Indonesia (08..., 10 sampai 13 angka)"),
        ));
    }
    Ok(format!("+{international}"))
}

pub fn name(raw: &str, what: &str) -> Result<String, DomainError> {
    text(raw, what, 200)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whatsapp_numbers_become_e164() {
        for (raw, want) in [
            ("0812-3456-7890", "+6281234567890"),
            ("+62 812 3456 7890", "+6281234567890"),
            ("6285755512345", "+6285755512345"),
            ("(0857) 555.123", "+62857555123"),
        ] {
            assert_eq!(whatsapp(raw).unwrap(), want, "{raw}");
        }
        for bad in ["", "nomor", "+0812345678", "021-5551234", "08123", "0812345678901234", "+62 812 abc"] {
            assert!(whatsapp(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn codes_are_trimmed_and_upper_cased() {
        assert_eq!(CooperativeCode::parse(" mjk-wates ").unwrap().as_str(), "MJK-WATES");
        assert!(CooperativeCode::parse("MJK WATES").is_err());
        assert!(CooperativeCode::parse("").is_err());
    }

    #[test]
    fn registration_numbers_keep_digits_only() {
        assert_eq!(Digits::parse("01.234.567.8-602.000", "NPWP", &[15, 16]).unwrap().as_str(), "012345678602000");
        assert!(Digits::parse("12345", "NIB", &[13]).is_err());
    }

    #[test]
    fn gln_check_digit() {
        // the GLN of the PEPPOL catalogue example
        assert!(Digits::parse_gln("5790000435951").is_ok());
        assert!(Digits::parse_gln("5790000435952").unwrap_err().english.contains("check digit"));
        assert_eq!(gs1_check_digit("899000000001"), 3);
    }
}
