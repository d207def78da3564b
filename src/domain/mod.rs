//! Plain, validated domain types. No I/O and no wire formats here: a value of
//! one of these types is valid because it could only be made through `parse`.

pub mod calendar;
pub mod cooperative;
pub mod fulfilment;
pub mod job;
pub mod money;
pub mod notification;
pub mod number;
pub mod order;
pub mod payments;
pub mod product;
pub mod publication;
pub mod rup;
pub mod time;

/// A domain enum kept in a text column by its name. The store reads and
/// writes each such enum as itself (`store::named`), so that no state crosses
/// the store as a string: the compiler checks every match, and a name this
/// version does not know is an error where its row is read.
pub trait Named: Sized {
    /// What it is, for that error: "order status".
    const WHAT: &'static str;
    /// The name it is stored under.
    fn name(&self) -> &str;
    fn from_name(name: &str) -> Option<Self>;
}

/// Implements [`Named`] for an enum that has `ALL`, and `$name` giving each
/// variant's stored name.
macro_rules! named_by {
    ($t:ty, $what:literal, $name:ident) => {
        impl $crate::domain::Named for $t {
            const WHAT: &'static str = $what;
            fn name(&self) -> &str {
                <$t>::$name(*self)
            }
            fn from_name(name: &str) -> Option<Self> {
                <$t>::ALL.into_iter().find(|v| v.$name() == name)
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(<$t>::$name(*self))
            }
        }
    };
}
pub(crate) use named_by;

/// Serializes a [`Named`] enum as its stored name (for `--json`).
macro_rules! serialize_by_name {
    ($($t:ty),* $(,)?) => {$(
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($crate::domain::Named::name(self))
            }
        }
    )*};
}
pub(crate) use serialize_by_name;

/// Why a value could not become a domain type: a stable code (for
/// programs and `--json`), and the reason in plain words in English and in
/// Bahasa Indonesia for the person who typed the value. The Indonesian
/// sentence does not repeat the field's name: it is read beside its column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{english}")]
pub struct DomainError {
    pub code: &'static str,
    pub english: String,
    pub indonesian: String,
}

impl DomainError {
    pub fn new(code: &'static str, english: impl Into<String>, indonesian: impl Into<String>) -> Self {
        Self { code, english: english.into(), indonesian: indonesian.into() }
    }

    /// The reason in the reader's language.
    pub fn in_language(&self, indonesian: bool) -> &str {
        if indonesian { &self.indonesian } else { &self.english }
    }
}

/// A count written for Indonesian readers: `1.000`.
pub fn count_id(n: impl Into<u64>) -> String {
    let digits = n.into().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// Trims and collapses runs of whitespace to one space.
pub fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The first character no text field may hold: control characters (XML 1.0,
/// which every catalogue format is or embeds, cannot carry most of them, and
/// PostgreSQL refuses NUL) and the non-characters U+FFFE and U+FFFF. Line
/// breaks and tabs are whitespace, which [`tidy`] turns into spaces first.
pub fn forbidden_char(s: &str) -> Option<char> {
    s.chars().find(|&c| c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}')
}

/// A required, tidied text of at most `max` characters without control characters.
pub fn text(raw: &str, what: &str, max: usize) -> Result<String, DomainError> {
    let t = tidy(raw);
    if t.is_empty() {
        return Err(DomainError::new("empty", format!("{what} is empty"), "wajib diisi, tetapi kosong"));
    }
    if let Some(c) = forbidden_char(&t) {
        return Err(control_char(what, c));
    }
    let len = t.chars().count();
    if len > max {
        return Err(too_long(what, len, max));
    }
    Ok(t)
}

/// A text holding a character no field may hold.
pub fn control_char(what: &str, c: char) -> DomainError {
    DomainError::new(
        "control_character",
        format!("{what} contains an invisible control character (U+{:04X})", c as u32),
        format!("berisi karakter tak terlihat (U+{:04X}): hapus karakter itu", c as u32),
    )
}

/// A text longer than its field takes.
pub fn too_long(what: &str, len: usize, max: usize) -> DomainError {
    DomainError::new(
        "too_long",
        format!("{what} is {len} characters long; at most {max} are allowed"),
        format!("terlalu panjang: {} karakter, paling banyak {}", count_id(len as u64), count_id(max as u64)),
    )
}
