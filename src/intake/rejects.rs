//! The rejects file: every rejected row with its row number, the columns at
//! fault and why, followed by the row as it was. Fix the rows there and import
//! the rejects file itself: its extra columns are ignored.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use super::ImportError;
use super::columns::CellIssue;

/// Rejected-row columns put in front of the original ones.
pub const REJECT_COLUMNS: [&str; 3] = ["baris", "kolom", "alasan"];

pub struct RejectsWriter {
    /// `None` writes nothing (a dry run).
    path: Option<PathBuf>,
    delimiter: u8,
    header: Vec<String>,
    writer: Option<csv::Writer<BufWriter<File>>>,
}

impl RejectsWriter {
    pub fn new(path: Option<PathBuf>, delimiter: u8, header: Vec<String>) -> Self {
        Self { path, delimiter, header, writer: None }
    }

    pub fn write(&mut self, line: u64, issues: &[CellIssue], values: &[std::borrow::Cow<'_, [u8]>]) -> Result<(), ImportError> {
        let Some(path) = self.path.clone() else { return Ok(()) };
        let err = |source| ImportError::Rejects { path: path.clone(), source };
        if self.writer.is_none() {
            let mut file = BufWriter::new(File::create(&path).map_err(err)?);
            file.write_all(b"\xEF\xBB\xBF").map_err(err)?; // so Excel reads it as UTF-8
            let mut w = csv::WriterBuilder::new().delimiter(self.delimiter).flexible(true).from_writer(file);
            w.write_record(REJECT_COLUMNS.iter().map(|s| s.to_string()).chain(self.header.iter().cloned())).map_err(|e| err(e.into()))?;
            self.writer = Some(w);
        }
        let kolom: Vec<&str> = issues.iter().map(|i| i.column.as_str()).filter(|c| !c.is_empty()).collect();
        let alasan: Vec<String> =
            issues.iter().map(|i| if i.column.is_empty() { i.problem.english.clone() } else { format!("{}: {}", i.column, i.problem) }).collect();
        let record = [line.to_string(), kolom.join(", "), alasan.join("; ")];
        let w = self.writer.as_mut().expect("created above");
        let fields = record.iter().map(|f| f.as_bytes()).chain(values.iter().map(|v| v.as_ref()));
        w.write_record(fields).map_err(|e| err(e.into()))
    }

    /// Flushes; when nothing was rejected, removes a rejects file left by an earlier run.
    pub fn finish(self) -> Result<Option<PathBuf>, ImportError> {
        let Some(path) = self.path else { return Ok(None) };
        match self.writer {
            Some(mut w) => {
                w.flush().map_err(|source| ImportError::Rejects { path: path.clone(), source })?;
                Ok(Some(path))
            }
            None => {
                match std::fs::remove_file(&path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(ImportError::Rejects { path, source: e }),
                    _ => {}
                }
                Ok(None)
            }
        }
    }
}
