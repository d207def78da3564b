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
pub mod product;
pub mod publication;
pub mod time;

/// Why a value could not become a domain type. The message is plain language
/// for the person who typed the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DomainError(pub String);

impl DomainError {
    pub fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
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
        return Err(DomainError(format!("{what} is empty")));
    }
    if let Some(c) = forbidden_char(&t) {
        return Err(DomainError(format!("{what} contains an invisible control character (U+{:04X})", c as u32)));
    }
    let len = t.chars().count();
    if len > max {
        return Err(DomainError(format!("{what} is {len} characters long; at most {max} are allowed")));
    }
    Ok(t)
}
