//! What the catalogue sends is repaired, before it is parsed, into JSON that
//! PostgreSQL can store: one bad character must not cost a whole page.
//!
//! - bytes that are not UTF-8 become U+FFFD;
//! - inside strings, `\u0000` and a lone surrogate escape (`\ud800` without
//!   its pair, which the JSON parser refuses outright) become `\ufffd`;
//! - a raw NUL inside a string becomes `\ufffd`, and any other raw control
//!   character (which JSON forbids unescaped) its `\u00XX` escape.
//!
//! Every other byte is left as it was, and an answer that needs no repair is
//! not copied. The reader of each record then finds the U+FFFD it holds and
//! flags the record with the fields that were changed.

use std::borrow::Cow;

/// The replacement character, as the JSON escape written in place of what
/// cannot be stored.
const REPLACEMENT: &[u8] = b"\\ufffd";

/// The body repaired, and how many characters were replaced.
pub fn repair(raw: &[u8]) -> (Cow<'_, [u8]>, u64) {
    let text: Cow<'_, [u8]> = match String::from_utf8_lossy(raw) {
        Cow::Borrowed(_) => Cow::Borrowed(raw),
        Cow::Owned(s) => Cow::Owned(s.into_bytes()),
    };
    let mut replaced = if matches!(text, Cow::Owned(_)) { lossy_count(&text) } else { 0 };
    let bytes: &[u8] = &text;
    // The usual body: no control character anywhere and no `\u` escape, so
    // nothing to replace (checked at memory speed before the walk).
    if bytes.iter().all(|&b| b >= 0x20) && memchr::memmem::find(bytes, b"\\u").is_none() {
        return (text, replaced);
    }
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0; // bytes[..copied] are in `out` (when it exists)
    let mut in_string = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !in_string {
            in_string = b == b'"';
            i += 1;
            continue;
        }
        let (take, put): (usize, Option<Cow<'static, [u8]>>) = match b {
            b'"' => {
                in_string = false;
                (1, None)
            }
            b'\\' if bytes.get(i + 1) == Some(&b'u') => match hex4(bytes, i + 2) {
                Some(0) => (6, Some(Cow::Borrowed(REPLACEMENT))),
                Some(0xD800..=0xDBFF) => {
                    let paired = bytes.get(i + 6) == Some(&b'\\')
                        && bytes.get(i + 7) == Some(&b'u')
                        && hex4(bytes, i + 8).is_some_and(|low| (0xDC00..=0xDFFF).contains(&low));
                    if paired { (12, None) } else { (6, Some(Cow::Borrowed(REPLACEMENT))) }
                }
                Some(0xDC00..=0xDFFF) => (6, Some(Cow::Borrowed(REPLACEMENT))),
                // A valid escape, or a broken one the parser will report.
                _ => (2, None),
            },
            b'\\' => (2, None),
            0 => (1, Some(Cow::Borrowed(REPLACEMENT))),
            c if c < 0x20 => (1, Some(Cow::Owned(format!("\\u{c:04x}").into_bytes()))),
            _ => (1, None),
        };
        let take = take.min(bytes.len() - i);
        if let Some(put) = put {
            // A control character escaped keeps its meaning: only U+FFFD counts as replaced.
            if put.as_ref() == REPLACEMENT {
                replaced += 1;
            }
            let o = out.get_or_insert_with(|| Vec::with_capacity(bytes.len() + 16));
            o.extend_from_slice(&bytes[copied..i]);
            o.extend_from_slice(&put);
            copied = i + take;
        }
        i += take;
    }
    match out {
        None => (text, replaced),
        Some(mut o) => {
            o.extend_from_slice(&bytes[copied..]);
            (Cow::Owned(o), replaced)
        }
    }
}

fn hex4(bytes: &[u8], at: usize) -> Option<u32> {
    let digits = bytes.get(at..at + 4)?;
    let s = std::str::from_utf8(digits).ok()?;
    u32::from_str_radix(s, 16).ok().filter(|_| digits.iter().all(u8::is_ascii_hexdigit))
}

/// U+FFFD characters in a lossily decoded text (an upper bound of the
/// invalid sequences replaced: one the source already held counts too).
fn lossy_count(text: &[u8]) -> u64 {
    text.windows(3).filter(|w| *w == "\u{FFFD}".as_bytes()).count() as u64
}

/// Paths of the strings in `v` that hold U+FFFD (`nama_satker`,
/// `lines[2].name`), at most `max`; a key holding it counts as its path.
pub fn replaced_paths(v: &serde_json::Value, max: usize) -> Vec<String> {
    replaced_paths_except(v, None, max)
}

/// [`replaced_paths`], leaving out the top-level member `skipped` (an
/// order's `lines`, which its lines report themselves).
pub fn replaced_paths_except(v: &serde_json::Value, skipped: Option<&str>, max: usize) -> Vec<String> {
    fn walk(v: &serde_json::Value, path: &mut String, out: &mut Vec<String>, max: usize, depth: usize) {
        if out.len() >= max || depth > 32 {
            return;
        }
        match v {
            serde_json::Value::String(s) if s.contains('\u{FFFD}') => out.push(if path.is_empty() { "(value)".into() } else { path.clone() }),
            serde_json::Value::Array(items) => {
                for (n, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{n}]"));
                    walk(item, path, out, max, depth + 1);
                    path.truncate(len);
                }
            }
            serde_json::Value::Object(map) => {
                for (k, item) in map {
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(k);
                    if k.contains('\u{FFFD}') && out.len() < max {
                        out.push(path.clone());
                    }
                    walk(item, path, out, max, depth + 1);
                    path.truncate(len);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    match (v, skipped) {
        (serde_json::Value::Object(map), Some(skipped)) => {
            for (k, item) in map.iter().filter(|(k, _)| k.as_str() != skipped) {
                let mut path = k.clone();
                if k.contains('\u{FFFD}') && out.len() < max {
                    out.push(path.clone());
                }
                walk(item, &mut path, &mut out, max, 1);
            }
        }
        _ => walk(v, &mut String::new(), &mut out, max, 0),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(raw: &str) -> (serde_json::Value, u64) {
        let (fixed, n) = repair(raw.as_bytes());
        (serde_json::from_slice(&fixed).unwrap_or_else(|e| panic!("{raw:?} -> {:?}: {e}", String::from_utf8_lossy(&fixed))), n)
    }

    #[test]
    fn what_postgresql_refuses_becomes_the_replacement_character_and_the_rest_is_kept() {
        // Each case: the body, the string it must read as, the characters replaced.
        for (raw, want, n) in [
            (r#"{"a":"Dinas\u0000Sosial"}"#, "Dinas\u{FFFD}Sosial", 1),
            (r#"{"a":"x\ud800y"}"#, "x\u{FFFD}y", 1),
            (r#"{"a":"x\udc00y"}"#, "x\u{FFFD}y", 1),
            (r#"{"a":"x\ud800"}"#, "x\u{FFFD}", 1),
            (r#"{"a":"\ud800\ud800\udc00"}"#, "\u{FFFD}\u{10000}", 1),
            (r#"{"a":"\ud83d\ude00 ok"}"#, "\u{1F600} ok", 0),
            ("{\"a\":\"tab\there\"}", "tab\there", 0),
            ("{\"a\":\"nul\u{0}here\"}", "nul\u{FFFD}here", 1),
            (r#"{"a":"\\u0000 is text"}"#, "\\u0000 is text", 0),
            (r#"{"a":"quote \" \\"}"#, "quote \" \\", 0),
        ] {
            let (v, replaced) = parsed(raw);
            assert_eq!(v["a"], want, "{raw:?}");
            assert_eq!(replaced, n, "{raw:?}");
        }
        // Invalid UTF-8 is replaced too, and keys are repaired like values.
        let (fixed, n) = repair(b"{\"k\\u0000\":\"a\xffb\"}");
        let v: serde_json::Value = serde_json::from_slice(&fixed).unwrap();
        assert_eq!(v["k\u{FFFD}"], "a\u{FFFD}b");
        assert_eq!(n, 2);
        // Nothing to repair: the very bytes, not a copy.
        let clean = br#"{"a":"Beras \u00e9 5 kg","n":[1,2.5e3]}"#;
        assert!(matches!(repair(clean).0, Cow::Borrowed(b) if b == clean));
    }

    #[test]
    fn the_fields_replaced_are_named() {
        let (v, _) = parsed(r#"{"nama_satker":"A\u0000","ok":"fine","lines":[{"name":"x"},{"name":"\ud800"}]}"#);
        assert_eq!(replaced_paths(&v, 10), vec!["lines[1].name".to_owned(), "nama_satker".to_owned()]);
        assert_eq!(replaced_paths(&v, 1).len(), 1);
        assert_eq!(replaced_paths_except(&v, Some("lines"), 10), vec!["nama_satker".to_owned()]);
    }
}
