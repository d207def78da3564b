//! Reading rows from a CSV or XLSX file, streaming.
//!
//! The reader runs on a blocking thread and sends rows through a bounded
//! channel, so memory stays flat however long the file is, and parsing
//! overlaps with database writes.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use calamine::{open_workbook, DataRef, Reader, Xlsx};
use tokio::sync::mpsc;

use super::ImportError;

const SNIFF_BYTES: usize = 64 * 1024;
const CHANNEL_ROWS: usize = 2048;
/// Cells further right than this are ignored: no real sheet of ours is that wide.
const MAX_COLUMNS: usize = 256;
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One cell as the file holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    /// A number cell from a workbook (a float there, whatever it means).
    Number(f64),
    /// A CSV field that is not valid UTF-8; its bytes are kept for the rejects file.
    BadUtf8(Vec<u8>),
    /// A spreadsheet error value such as `#DIV/0!`.
    Error(String),
}

impl Cell {
    pub fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as text, for messages (invalid UTF-8 shown lossily).
    pub fn display(&self) -> String {
        String::from_utf8_lossy(&self.raw()).into_owned()
    }

    /// The cell's bytes as the file held them, for the rejects file.
    pub fn raw(&self) -> std::borrow::Cow<'_, [u8]> {
        match self {
            Cell::Empty => (&[][..]).into(),
            Cell::Text(t) | Cell::Error(t) => t.as_bytes().into(),
            Cell::BadUtf8(b) => b.as_slice().into(),
            Cell::Number(n) => n.to_string().into_bytes().into(),
        }
    }
}

/// A row and where it is in the file (1-based, as a spreadsheet shows it).
#[derive(Debug, Clone)]
pub struct RawRow {
    pub line: u64,
    pub cells: Vec<Cell>,
}

/// What kind of file was read, for the rejects file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Csv { delimiter: u8 },
    Xlsx,
}

/// Checks the file and starts reading it on a blocking thread. The first row
/// received is the header.
pub fn open(
    path: &Path,
    sheet: Option<&str>,
    max_bytes: u64,
) -> Result<(FileKind, mpsc::Receiver<Result<RawRow, ImportError>>), ImportError> {
    let io = |source| ImportError::Io { path: path.to_owned(), source };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > max_bytes {
        return Err(ImportError::TooLarge { path: path.to_owned(), size, limit: max_bytes });
    }
    let mut file = File::open(path).map_err(io)?;
    let mut head = Vec::with_capacity(SNIFF_BYTES.min(size as usize));
    (&mut file).take(SNIFF_BYTES as u64).read_to_end(&mut head).map_err(io)?;
    let body = head.strip_prefix(BOM).unwrap_or(&head);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ImportError::Empty { path: path.to_owned() });
    }
    let kind = if head.starts_with(b"PK\x03\x04") {
        FileKind::Xlsx
    } else if head.starts_with(b"\xD0\xCF\x11\xE0") {
        return Err(ImportError::NotASpreadsheet { path: path.to_owned(), what: "an old Excel 97-2003 .xls workbook" });
    } else if head.starts_with(b"PK") {
        return Err(ImportError::NotASpreadsheet { path: path.to_owned(), what: "a ZIP archive" });
    } else if body.contains(&0) {
        return Err(ImportError::NotASpreadsheet { path: path.to_owned(), what: "it holds binary data" });
    } else {
        FileKind::Csv { delimiter: sniff_delimiter(body) }
    };
    if sheet.is_some() && kind != FileKind::Xlsx {
        tracing::warn!(file = %path.display(), "--sheet applies to XLSX workbooks only; ignored for this CSV file");
    }
    let (tx, rx) = mpsc::channel(CHANNEL_ROWS);
    let path = path.to_owned();
    let sheet = sheet.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        let result = match kind {
            FileKind::Csv { delimiter } => read_csv(&path, head, file, delimiter, &tx),
            FileKind::Xlsx => read_xlsx(&path, sheet.as_deref(), &tx),
        };
        if let Err(e) = result {
            let _ = tx.blocking_send(Err(e));
        }
    });
    Ok((kind, rx))
}

/// The separator used most on the first line: `;`, `,` or tab.
fn sniff_delimiter(body: &[u8]) -> u8 {
    let first_line = body.split(|b| *b == b'\n').next().unwrap_or(body);
    let mut in_quotes = false;
    let mut counts = [0usize; 3];
    for &b in first_line {
        match b {
            b'"' => in_quotes = !in_quotes,
            b';' if !in_quotes => counts[0] += 1,
            b',' if !in_quotes => counts[1] += 1,
            b'\t' if !in_quotes => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&i| (counts[i], i == 1)).unwrap_or(1);
    [b';', b',', b'\t'][best]
}

type Tx = mpsc::Sender<Result<RawRow, ImportError>>;

fn read_csv(path: &Path, head: Vec<u8>, rest: File, delimiter: u8, tx: &Tx) -> Result<(), ImportError> {
    let head = match head.strip_prefix(BOM) {
        Some(rest) => rest.to_vec(),
        None => head,
    };
    let input = std::io::Cursor::new(head).chain(BufReader::with_capacity(256 * 1024, rest));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(e) => {
                let row = e.position().map_or(0, |p| p.line());
                return Err(match e.into_kind() {
                    csv::ErrorKind::Io(source) => ImportError::Io { path: path.to_owned(), source },
                    other => ImportError::Csv { path: path.to_owned(), row, detail: format!("{other:?}") },
                });
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        let cells = record
            .iter()
            .take(MAX_COLUMNS)
            .map(|field| match std::str::from_utf8(field) {
                Ok("") => Cell::Empty,
                Ok(s) => Cell::Text(s.to_owned()),
                Err(_) => Cell::BadUtf8(field.to_vec()),
            })
            .collect();
        if tx.blocking_send(Ok(RawRow { line, cells })).is_err() {
            return Ok(()); // the importer stopped listening
        }
    }
}

fn read_xlsx(path: &Path, sheet: Option<&str>, tx: &Tx) -> Result<(), ImportError> {
    let workbook_err = |detail: String| ImportError::Workbook { path: path.to_owned(), detail };
    let mut workbook: Xlsx<BufReader<File>> =
        open_workbook(path).map_err(|e| workbook_err(format!("{e} (is it really an .xlsx workbook?)")))?;
    let names = workbook.sheet_names();
    let name = match sheet {
        None => names.first().cloned().ok_or_else(|| workbook_err("the workbook has no sheets".into()))?,
        Some(wanted) => names.iter().find(|n| n.as_str() == wanted || n.eq_ignore_ascii_case(wanted)).cloned().ok_or_else(
            || ImportError::NoSuchSheet { path: path.to_owned(), sheet: wanted.to_owned(), available: names.join(", ") },
        )?,
    };
    let mut cells = workbook.worksheet_cells_reader(&name).map_err(|e| workbook_err(e.to_string()))?;
    let mut current: Option<RawRow> = None;
    while let Some(cell) = cells.next_cell().map_err(|e| workbook_err(e.to_string()))? {
        let (row, col) = cell.get_position();
        let (line, col) = (u64::from(row) + 1, col as usize);
        if current.as_ref().is_some_and(|r| r.line != line) && tx.blocking_send(Ok(current.take().expect("checked"))).is_err() {
            return Ok(());
        }
        if col >= MAX_COLUMNS {
            continue;
        }
        let value = match cell.get_value() {
            DataRef::Empty => Cell::Empty,
            DataRef::String(s) => Cell::Text(s.clone()),
            DataRef::SharedString(s) => Cell::Text((*s).to_owned()),
            DataRef::Int(i) => Cell::Number(*i as f64),
            DataRef::Float(f) => Cell::Number(*f),
            DataRef::Bool(b) => Cell::Text(if *b { "ya" } else { "tidak" }.into()),
            DataRef::DateTime(d) => Cell::Number(d.as_f64()),
            DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Cell::Text(s.clone()),
            DataRef::Error(e) => Cell::Error(e.to_string()),
        };
        let r = current.get_or_insert_with(|| RawRow { line, cells: Vec::new() });
        if r.cells.len() <= col {
            r.cells.resize(col + 1, Cell::Empty);
        }
        r.cells[col] = value;
    }
    if let Some(r) = current {
        let _ = tx.blocking_send(Ok(r));
    }
    Ok(())
}

/// Where the rejected rows of `input` go: `products.csv` gives `products.rejects.csv`.
pub fn rejects_path(input: &Path) -> PathBuf {
    let stem = input.file_stem().map_or_else(|| "import".into(), |s| s.to_string_lossy().into_owned());
    input.with_file_name(format!("{stem}.rejects.csv"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_the_separator_outside_quotes() {
        assert_eq!(sniff_delimiter(b"a;b;c\n1,5;2;3"), b';');
        assert_eq!(sniff_delimiter(b"a,b,c"), b',');
        assert_eq!(sniff_delimiter(b"\"a;b\",c"), b',');
        assert_eq!(sniff_delimiter(b"a\tb\tc"), b'\t');
    }

    #[test]
    fn rejects_file_sits_beside_the_input() {
        assert_eq!(rejects_path(Path::new("/d/produk.xlsx")), PathBuf::from("/d/produk.rejects.csv"));
    }
}
