//! Output files that appear under their name only when complete.

use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// A file written beside its destination under a hidden temporary name
/// (`.NAME.XXXXXX.part`) and renamed to it by [`PartFile::commit`]. If the
/// writing fails or the program stops first, the temporary file is removed and
/// an earlier complete file of that name is left as it was: nobody uploads half
/// a catalogue.
pub struct PartFile {
    file: tempfile::NamedTempFile,
    path: PathBuf,
}

impl PartFile {
    pub fn create(path: &Path) -> std::io::Result<Self> {
        use std::os::unix::fs::PermissionsExt;
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let file = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".part")
            // an ordinary file once renamed (the umask applies), not the temp file's 0600
            .permissions(std::fs::Permissions::from_mode(0o666))
            .tempfile_in(dir)?;
        Ok(Self { file, path: path.to_owned() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes and renames the file to its destination.
    pub fn commit(mut self) -> std::io::Result<PathBuf> {
        self.file.flush()?;
        self.file.persist(&self.path).map_err(|e| e.error)?;
        Ok(self.path)
    }
}

impl Write for PartFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.file.write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl Seek for PartFile {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.file.seek(pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_appears_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("katalog.xml");
        std::fs::write(&path, "the earlier, complete file").unwrap();

        let mut unfinished = PartFile::create(&path).unwrap();
        unfinished.write_all(b"<Catalogue>").unwrap();
        drop(unfinished); // an error or a stop before commit
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "the earlier, complete file");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left behind");

        let mut finished = PartFile::create(&path).unwrap();
        finished.write_all(b"<Catalogue/>").unwrap();
        assert_eq!(finished.commit().unwrap(), path);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "<Catalogue/>");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
