//! Reading rows from a CSV or XLSX file, streaming.
//!
//! The reader runs on a blocking thread and sends rows through a bounded
//! channel, so memory stays flat however long the file is, and parsing
//! overlaps with database writes.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use std::io::{Seek, SeekFrom};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};

use calamine::{DataRef, Reader, Xlsx};
use tokio::sync::mpsc;

use super::ImportError;
use super::workbook::{self, WorkbookLimits};

const SNIFF_BYTES: usize = 64 * 1024;
const CHANNEL_ROWS: usize = 2048;
/// Cells further right than this are ignored: no real sheet of ours is that wide.
const MAX_COLUMNS: usize = 256;
const BOM: &[u8] = b"\xEF\xBB\xBF";
/// Excel's own limit on a cell; no product field comes near it. A longer cell
/// is a row error, and the rejects file keeps its first characters only.
pub const MAX_CELL_CHARS: usize = 32_767;
/// Characters of an over-long cell kept in the rejects file.
const KEPT_OF_LONG_CELL: usize = 200;

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
    /// A cell longer than [`MAX_CELL_CHARS`]: its length and first characters.
    TooLong {
        chars: usize,
        head: String,
    },
}

impl Cell {
    /// A text cell, or [`Cell::TooLong`] past the cell limit.
    fn text(s: &str) -> Cell {
        // A char is at most 4 bytes: only long byte strings need counting.
        if s.len() > MAX_CELL_CHARS {
            let chars = s.chars().count();
            if chars > MAX_CELL_CHARS {
                return Cell::TooLong { chars, head: s.chars().take(KEPT_OF_LONG_CELL).collect() };
            }
        }
        if s.is_empty() { Cell::Empty } else { Cell::Text(s.to_owned()) }
    }
}

impl Cell {
    pub fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }

    /// The day a cell holds: a workbook's date number, or text in one of
    /// `formats` (chrono's notation).
    pub fn day(&self, formats: &[String]) -> Option<chrono::NaiveDate> {
        match self {
            Cell::Number(n) => excel_day(*n),
            cell => crate::mapping::table::date_in(&cell.display(), formats),
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
            Cell::TooLong { chars, head } => format!("{head}... [{chars} characters; cut here]").into_bytes().into(),
        }
    }
}

/// A day from a workbook's date number (days since 30 December 1899).
fn excel_day(n: f64) -> Option<chrono::NaiveDate> {
    if !(1.0..=2_958_465.0).contains(&n) {
        return None;
    }
    chrono::NaiveDate::from_ymd_opt(1899, 12, 30)?.checked_add_days(chrono::Days::new(n.floor() as u64))
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

/// Why a file was not opened for reading.
#[derive(Debug)]
pub enum OpenRefused {
    Io(std::io::Error),
    /// What it is instead of a regular file ("a named pipe (FIFO)", ...).
    NotRegular(&'static str),
}

/// Opens a file to read only if it is a regular file. Non-blocking, so that
/// opening a FIFO with no writer returns at once; the type is then checked on
/// the open file itself, not on a name that may change in between.
pub fn open_regular(path: &Path) -> Result<(std::fs::File, std::fs::Metadata), OpenRefused> {
    let file = std::fs::OpenOptions::new().read(true).custom_flags(nix::libc::O_NONBLOCK).open(path).map_err(OpenRefused::Io)?;
    let meta = file.metadata().map_err(OpenRefused::Io)?;
    let ft = meta.file_type();
    if ft.is_file() {
        return Ok((file, meta));
    }
    Err(OpenRefused::NotRegular(if ft.is_dir() {
        "a folder"
    } else if ft.is_fifo() {
        "a named pipe (FIFO)"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_char_device() || ft.is_block_device() {
        "a device"
    } else {
        "not a regular file"
    }))
}

/// Checks the file and starts reading it on a blocking thread. The first row
/// received is the header.
pub fn open(
    path: &Path,
    sheet: Option<&str>,
    max_bytes: u64,
    limits: WorkbookLimits,
) -> Result<(FileKind, mpsc::Receiver<Result<RawRow, ImportError>>), ImportError> {
    let io = |source| ImportError::Io { path: path.to_owned(), source };
    let (mut file, meta) = open_regular(path).map_err(|e| match e {
        OpenRefused::Io(source) => ImportError::Io { path: path.to_owned(), source },
        OpenRefused::NotRegular(what) => ImportError::NotRegularFile { path: path.to_owned(), what },
    })?;
    let size = meta.len();
    if size > max_bytes {
        return Err(ImportError::TooLarge { path: path.to_owned(), size, limit: max_bytes });
    }
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
    } else if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
        return Err(ImportError::NotASpreadsheet { path: path.to_owned(), what: "it is UTF-16 text (Excel's \"Unicode Text\")" });
    } else if memchr::memchr_iter(0, body).count() * 100 > body.len() {
        // Many NUL bytes: an image, an archive, a database. A stray one is a bad cell, reported with its row.
        return Err(ImportError::NotASpreadsheet { path: path.to_owned(), what: "it holds binary data" });
    } else {
        FileKind::Csv { delimiter: sniff_delimiter(body) }
    };
    if kind == FileKind::Xlsx {
        workbook::check(&mut file, &limits).map_err(|reason| ImportError::WorkbookRefused { path: path.to_owned(), reason })?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
    }
    if sheet.is_some() && kind != FileKind::Xlsx {
        tracing::warn!(file = %path.display(), "--sheet applies to XLSX workbooks only; ignored for this CSV file");
    }
    let (tx, rx) = mpsc::channel(CHANNEL_ROWS);
    let path = path.to_owned();
    let sheet = sheet.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        let result = match kind {
            FileKind::Csv { delimiter } => read_csv(&path, head, file, delimiter, &tx),
            FileKind::Xlsx => read_xlsx(&path, file, sheet.as_deref(), &tx),
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
    let feeds = std::rc::Rc::new(std::cell::RefCell::new(LineFeeds::default()));
    let input = TrackLineFeeds { inner: std::io::Cursor::new(head).chain(BufReader::with_capacity(256 * 1024, rest)), feeds: feeds.clone() };
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).has_headers(false).flexible(true).from_reader(input);
    let mut record = csv::ByteRecord::new();
    // Line feeds inside quoted cells so far: a spreadsheet keeps them in their cell, on one row.
    let mut quoted_feeds = 0u64;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(e) => {
                let row = e.position().map_or(0, |p| feeds.borrow_mut().line_at(p.byte()).saturating_sub(quoted_feeds));
                return Err(match e.into_kind() {
                    csv::ErrorKind::Io(source) => ImportError::Io { path: path.to_owned(), source },
                    other => ImportError::Csv { path: path.to_owned(), row, detail: format!("{other:?}") },
                });
            }
        }
        // A record's reported start may lie before blank lines the parser skipped,
        // so number it from its end: the line feeds before its end, less those
        // inside its cells and the one ending it.
        let end = reader.position().byte();
        let inside = record.iter().map(|f| memchr::memchr_iter(b'\n', f).count() as u64).sum::<u64>();
        let line = {
            let mut feeds = feeds.borrow_mut();
            let before_end = feeds.line_at(end) - 1;
            let ended_by_feed = u64::from(end > 0 && feeds.last_passed == Some(end - 1));
            (before_end + 1).saturating_sub(inside + ended_by_feed + quoted_feeds)
        };
        quoted_feeds += inside;
        let cells = record
            .iter()
            .take(MAX_COLUMNS)
            .map(|field| match std::str::from_utf8(field) {
                Ok(s) => Cell::text(s),
                Err(_) if field.len() > MAX_CELL_CHARS => Cell::text(&String::from_utf8_lossy(field)),
                Err(_) => Cell::BadUtf8(field.to_vec()),
            })
            .collect();
        if tx.blocking_send(Ok(RawRow { line, cells })).is_err() {
            return Ok(()); // the importer stopped listening
        }
    }
}

/// The line feeds read ahead of the CSV parser, to number rows by the lines
/// they start on (csv's own line count does not match a spreadsheet's rows).
#[derive(Default)]
struct LineFeeds {
    /// Offsets of line feeds read but not yet passed by a record start;
    /// never more than the parser's read-ahead.
    pending: std::collections::VecDeque<u64>,
    passed: u64,
    last_passed: Option<u64>,
    read: u64,
}

impl LineFeeds {
    /// The 1-based line on which the byte at `offset` lies.
    fn line_at(&mut self, offset: u64) -> u64 {
        while let Some(&f) = self.pending.front().filter(|&&f| f < offset) {
            self.pending.pop_front();
            self.passed += 1;
            self.last_passed = Some(f);
        }
        self.passed + 1
    }
}

struct TrackLineFeeds<R> {
    inner: R,
    feeds: std::rc::Rc<std::cell::RefCell<LineFeeds>>,
}

impl<R: Read> Read for TrackLineFeeds<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut feeds = self.feeds.borrow_mut();
        let base = feeds.read;
        feeds.pending.extend(memchr::memchr_iter(b'\n', &buf[..n]).map(|i| base + i as u64));
        feeds.read += n as u64;
        Ok(n)
    }
}

fn read_xlsx(path: &Path, file: File, sheet: Option<&str>, tx: &Tx) -> Result<(), ImportError> {
    let workbook_err = |detail: String| ImportError::Workbook { path: path.to_owned(), detail };
    let mut workbook: Xlsx<BufReader<File>> =
        Xlsx::new(BufReader::with_capacity(256 * 1024, file)).map_err(|e| workbook_err(format!("{e} (is it really an .xlsx workbook?)")))?;
    let names = workbook.sheet_names();
    let name = match sheet {
        None => names.first().cloned().ok_or_else(|| workbook_err("the workbook has no sheets".into()))?,
        Some(wanted) => names.iter().find(|n| n.as_str() == wanted || n.eq_ignore_ascii_case(wanted)).cloned().ok_or_else(|| ImportError::NoSuchSheet {
            path: path.to_owned(),
            sheet: wanted.to_owned(),
            available: names.join(", "),
        })?,
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
            DataRef::String(s) => Cell::text(s),
            DataRef::SharedString(s) => Cell::text(s),
            DataRef::Int(i) => Cell::Number(*i as f64),
            DataRef::Float(f) => Cell::Number(*f),
            DataRef::Bool(b) => Cell::Text(if *b { "ya" } else { "tidak" }.into()),
            DataRef::DateTime(d) => Cell::Number(d.as_f64()),
            DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Cell::text(s),
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

/// Where the rejected rows of `input` go, beside it: `produk.csv` gives
/// `produk.rejects.csv`; any other file keeps its extension, so `produk.xlsx`
/// gives `produk.xlsx.rejects.csv` and never overwrites the CSV's rejects.
pub fn rejects_path(input: &Path) -> PathBuf {
    let is_csv = input.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let base = if is_csv { input.file_stem() } else { input.file_name() };
    let base = base.map_or_else(|| "import".into(), |s| s.to_string_lossy().into_owned());
    input.with_file_name(format!("{base}.rejects.csv"))
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
    fn a_workbooks_date_number_is_its_day() {
        assert_eq!(excel_day(46_363.0), chrono::NaiveDate::from_ymd_opt(2026, 12, 7), "Excel shows 46363 as 7 December 2026");
        assert_eq!(excel_day(-3.0), None);
        assert_eq!(excel_day(f64::NAN), None);
        assert_eq!(Cell::Text("07/12/2026".into()).day(&["%d/%m/%Y".into()]), chrono::NaiveDate::from_ymd_opt(2026, 12, 7));
    }

    #[test]
    fn rejects_file_sits_beside_the_input() {
        assert_eq!(rejects_path(Path::new("/d/produk.csv")), PathBuf::from("/d/produk.rejects.csv"));
        assert_eq!(rejects_path(Path::new("/d/produk.CSV")), PathBuf::from("/d/produk.rejects.csv"));
        assert_eq!(rejects_path(Path::new("/d/produk.xlsx")), PathBuf::from("/d/produk.xlsx.rejects.csv"));
        assert_eq!(rejects_path(Path::new("/d/produk")), PathBuf::from("/d/produk.rejects.csv"));
    }
}

#[cfg(test)]
mod row_number_tests {
    use super::*;

    async fn rows_of(bytes: &[u8]) -> Vec<(u64, String)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.csv");
        std::fs::write(&path, bytes).unwrap();
        let (_, mut rx) = open(&path, None, 1 << 20, WorkbookLimits::default()).unwrap();
        let mut out = Vec::new();
        while let Some(row) = rx.recv().await {
            let row = row.unwrap();
            out.push((row.line, row.cells.first().map(Cell::display).unwrap_or_default()));
        }
        out
    }

    /// The row numbers a spreadsheet shows for the same file: a quoted line
    /// break stays inside its cell, a blank line is an empty row.
    #[tokio::test]
    async fn rows_are_numbered_as_a_spreadsheet_shows_them() {
        let want = vec![(1, "a".to_owned()), (2, "1".into()), (3, "3".into()), (5, "5".into()), (6, "7".into())];
        let lf = "a;b\n1;2\n3;\"x\ny\"\n\n5;\"p\nq\nr\"\n7;8\n";
        assert_eq!(rows_of(lf.as_bytes()).await, want, "LF");
        let crlf = lf.replace('\n', "\r\n");
        assert_eq!(rows_of(crlf.as_bytes()).await, want, "CRLF");
        let bom = [BOM, crlf.as_bytes()].concat();
        assert_eq!(rows_of(&bom).await, want, "BOM and CRLF");
        let cr_only_in_cells = "a;b\r\n1;2\r\n3;\"x\ny\"\r\n\r\n5;\"p\r\nq\nr\"\r\n7;8";
        assert_eq!(rows_of(cr_only_in_cells.as_bytes()).await, want, "mixed, no final line break");
    }

    #[tokio::test]
    async fn a_fifo_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pipe.csv");
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let err = open(&path, None, 1 << 20, WorkbookLimits::default()).unwrap_err();
        assert!(matches!(err, ImportError::NotRegularFile { what: "a named pipe (FIFO)", .. }), "{err}");
        let err = open(dir.path(), None, 1 << 20, WorkbookLimits::default()).unwrap_err();
        assert!(err.to_string().contains("is a folder, not a file"), "{err}");
    }

    #[tokio::test]
    async fn an_overlong_cell_is_cut_to_a_marker() {
        let long = "x".repeat(MAX_CELL_CHARS + 1);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.csv");
        std::fs::write(&path, format!("a;b\n{long};2\n")).unwrap();
        let (_, mut rx) = open(&path, None, 1 << 20, WorkbookLimits::default()).unwrap();
        rx.recv().await.unwrap().unwrap();
        let row = rx.recv().await.unwrap().unwrap();
        assert!(matches!(&row.cells[0], Cell::TooLong { chars, .. } if *chars == MAX_CELL_CHARS + 1));
        assert!(row.cells[0].raw().len() < 300);
    }
}
