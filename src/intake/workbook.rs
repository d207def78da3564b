//! What an `.xlsx` workbook may expand to, checked before calamine reads it.
//!
//! A workbook is a ZIP of XML parts, and a small file can unpack to gigabytes
//! (deflate compresses a run of repeats a thousandfold), or declare a count
//! that a reader trusts and allocates up front. So every part is unpacked once
//! here, counting the bytes it really yields (never the sizes the archive
//! declares), and the shared-string table is read as a stream to count its
//! strings. Whatever goes over a limit stops the import with an error naming
//! that limit; nothing here holds more than one buffer in memory.

use std::io::{Read, Seek};

use quick_xml::events::Event;

/// Limits on what a workbook may expand to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkbookLimits {
    /// All parts together, unpacked.
    pub max_unpacked_bytes: u64,
    /// The shared-string table (`xl/sharedStrings.xml`), unpacked: calamine holds it in memory.
    pub max_shared_strings_bytes: u64,
    /// Strings in the shared-string table, declared or real.
    pub max_shared_strings: u64,
    /// Parts in the archive.
    pub max_parts: usize,
}

impl Default for WorkbookLimits {
    fn default() -> Self {
        Self::from_settings(&crate::config::ImportSettings::default())
    }
}

impl WorkbookLimits {
    /// The limits `[import]` sets; the count of parts is fixed.
    pub fn from_settings(settings: &crate::config::ImportSettings) -> Self {
        Self {
            max_unpacked_bytes: settings.max_unpacked_bytes,
            max_shared_strings_bytes: settings.max_shared_strings_bytes,
            max_shared_strings: settings.max_shared_strings,
            max_parts: 10_000,
        }
    }
}

/// Why a workbook is refused; the message names the limit and its setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkbookRefused {
    #[error("it is not a readable ZIP archive ({0}); is it really an .xlsx workbook?")]
    NotZip(String),
    #[error("it holds {0} parts, over the limit of {1}")]
    TooManyParts(usize, usize),
    #[error("it unpacks to more than {limit} bytes (import.max_unpacked_bytes): a workbook that large is not a product list; split it or save it as CSV")]
    TooLarge { limit: u64 },
    #[error("its shared-string table unpacks to more than {limit} bytes (import.max_shared_strings_bytes)")]
    SharedStringsTooLarge { limit: u64 },
    #[error("its shared-string table {what} {count} strings, over the limit of {limit} (import.max_shared_strings)")]
    TooManySharedStrings { what: &'static str, count: u64, limit: u64 },
    #[error("part {part} cannot be unpacked: {detail}")]
    BadPart { part: String, detail: String },
    #[error("its shared-string table is not well-formed XML: {0}")]
    BadSharedStrings(String),
}

/// Unpacks every part of the workbook in `reader` once, within `limits`.
/// The reader is left wherever the check ended: seek before reusing it.
pub fn check<R: Read + Seek>(reader: R, limits: &WorkbookLimits) -> Result<(), WorkbookRefused> {
    let mut zip = zip::ZipArchive::new(reader).map_err(|e| WorkbookRefused::NotZip(e.to_string()))?;
    if zip.len() > limits.max_parts {
        return Err(WorkbookRefused::TooManyParts(zip.len(), limits.max_parts));
    }
    let mut budget = limits.max_unpacked_bytes;
    for index in 0..zip.len() {
        let mut part = zip.by_index(index).map_err(|e| WorkbookRefused::BadPart { part: format!("#{index}"), detail: e.to_string() })?;
        let name = part.name().map(|n| n.into_owned()).unwrap_or_else(|_| format!("#{index}"));
        if part.is_dir() {
            continue;
        }
        let bad = |e: std::io::Error| WorkbookRefused::BadPart { part: name.clone(), detail: e.to_string() };
        let shared = name.eq_ignore_ascii_case("xl/sharedStrings.xml") || name.to_ascii_lowercase().ends_with("/sharedstrings.xml");
        // Read one byte past what may still be spent, so going over is seen.
        let allowed = if shared { budget.min(limits.max_shared_strings_bytes) } else { budget };
        let mut limited = (&mut part).take(allowed.saturating_add(1));
        let used =
            if shared { count_shared_strings(&mut limited, allowed, limits)? } else { std::io::copy(&mut limited, &mut std::io::sink()).map_err(bad)? };
        if used > allowed {
            return Err(if shared && allowed == limits.max_shared_strings_bytes && allowed < budget {
                WorkbookRefused::SharedStringsTooLarge { limit: limits.max_shared_strings_bytes }
            } else {
                WorkbookRefused::TooLarge { limit: limits.max_unpacked_bytes }
            });
        }
        budget -= used;
    }
    Ok(())
}

/// Streams the shared-string table, checking its declared and real counts.
/// Returns the bytes read.
fn count_shared_strings<R: Read>(reader: R, allowed: u64, limits: &WorkbookLimits) -> Result<u64, WorkbookRefused> {
    let mut counting = CountingReader { inner: reader, count: 0 };
    let mut xml = quick_xml::Reader::from_reader(std::io::BufReader::new(&mut counting));
    let mut buf = Vec::with_capacity(1024);
    let mut strings = 0u64;
    let mut failure = None;
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf) {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => match e.local_name().as_ref() {
                "sst" => {
                    for attr in e.attributes().flatten() {
                        let key = attr.key.local_name();
                        if matches!(key.as_ref(), "count" | "uniqueCount") {
                            // A count that does not parse is left to calamine (it ignores it).
                            let declared = attr.value.trim().parse::<u128>().ok();
                            if let Some(n) = declared.filter(|n| *n > u128::from(limits.max_shared_strings)) {
                                return Err(WorkbookRefused::TooManySharedStrings {
                                    what: "declares",
                                    count: u64::try_from(n).unwrap_or(u64::MAX),
                                    limit: limits.max_shared_strings,
                                });
                            }
                        }
                    }
                }
                "si" => {
                    strings += 1;
                    if strings > limits.max_shared_strings {
                        return Err(WorkbookRefused::TooManySharedStrings { what: "holds", count: strings, limit: limits.max_shared_strings });
                    }
                }
                _ => {}
            },
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => {
                failure = Some(e.to_string());
                break;
            }
        }
    }
    drop(xml);
    // Whatever the parser left unread still counts.
    let total = counting.count + std::io::copy(&mut counting.inner, &mut std::io::sink()).unwrap_or(0);
    match failure {
        // Going over the byte limit cuts the stream mid-element: the caller reports the size.
        Some(detail) if total <= allowed => Err(WorkbookRefused::BadSharedStrings(detail)),
        _ => Ok(total),
    }
}

struct CountingReader<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Write};

    use super::*;

    fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, body) in parts {
            out.start_file(*name, options).unwrap();
            out.write_all(body).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    #[test]
    fn a_huge_declared_string_count_is_refused_before_anyone_allocates_it() {
        let book = zip_of(&[("xl/sharedStrings.xml", br#"<sst xmlns="x" count="1" uniqueCount="999999999999999"><si><t>a</t></si></sst>"#)]);
        let err = check(Cursor::new(book), &WorkbookLimits::default()).unwrap_err();
        assert!(matches!(err, WorkbookRefused::TooManySharedStrings { what: "declares", .. }), "{err}");
        assert!(err.to_string().contains("import.max_shared_strings"), "{err}");
    }

    #[test]
    fn many_tiny_strings_are_counted_as_they_are() {
        let mut body = b"<sst>".to_vec();
        for _ in 0..1000 {
            body.extend_from_slice(b"<si><t/></si>");
        }
        body.extend_from_slice(b"</sst>");
        let book = zip_of(&[("xl/sharedStrings.xml", &body)]);
        let limits = WorkbookLimits { max_shared_strings: 999, ..Default::default() };
        let err = check(Cursor::new(book.clone()), &limits).unwrap_err();
        assert_eq!(err, WorkbookRefused::TooManySharedStrings { what: "holds", count: 1000, limit: 999 });
        assert_eq!(check(Cursor::new(book), &WorkbookLimits { max_shared_strings: 1000, ..Default::default() }), Ok(()));
    }

    #[test]
    fn unpacked_size_is_measured_not_declared() {
        let big = vec![b'a'; 200_000];
        let book = zip_of(&[("xl/worksheets/sheet1.xml", &big), ("xl/sharedStrings.xml", b"<sst/>")]);
        assert!(book.len() < 2_000, "deflate packs the repeats: {} bytes", book.len());
        let err = check(Cursor::new(book.clone()), &WorkbookLimits { max_unpacked_bytes: 150_000, ..Default::default() }).unwrap_err();
        assert_eq!(err, WorkbookRefused::TooLarge { limit: 150_000 });
        assert_eq!(check(Cursor::new(book), &WorkbookLimits { max_unpacked_bytes: 200_006, ..Default::default() }), Ok(()));
    }

    #[test]
    fn a_giant_shared_string_table_is_refused_by_its_own_limit() {
        let mut body = b"<sst><si><t>".to_vec();
        body.extend(std::iter::repeat_n(b'x', 100_000));
        body.extend_from_slice(b"</t></si></sst>");
        let book = zip_of(&[("xl/sharedStrings.xml", &body)]);
        let err = check(Cursor::new(book), &WorkbookLimits { max_shared_strings_bytes: 50_000, ..Default::default() }).unwrap_err();
        assert_eq!(err, WorkbookRefused::SharedStringsTooLarge { limit: 50_000 });
    }

    #[test]
    fn garbage_is_not_a_zip() {
        assert!(matches!(check(Cursor::new(b"PK\x03\x04garbage".to_vec()), &WorkbookLimits::default()), Err(WorkbookRefused::NotZip(_))));
    }
}
