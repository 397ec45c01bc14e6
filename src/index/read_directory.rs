//! The case's index directory, with files read by positioned reads instead of memory maps.
//!
//! Tantivy maps index files by default, and every page a scan or merge touches then counts as
//! the process's memory until the file is unmapped: a scan of all SigmaHQ rules over 5 M
//! events reads most of the document store and postings and reached 720 MB of mapped pages
//! on top of its own 410 MB. Read instead, the bytes are copied into buffers that live as long
//! as tantivy needs them (a document block, one term's postings), and the kernel's page cache
//! (not counted against the process) keeps the files warm. Everything but reading is tantivy's
//! own directory.

use std::fs::File;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tantivy::HasLen;
use tantivy::directory::error::{
    DeleteError, LockError, OpenDirectoryError, OpenReadError, OpenWriteError,
};
use tantivy::directory::{
    Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, OwnedBytes, WatchCallback,
    WatchHandle, WritePtr,
};

#[derive(Clone, Debug)]
pub struct ReadDirectory {
    root: PathBuf,
    inner: MmapDirectory,
}

impl ReadDirectory {
    pub fn open(root: &Path) -> Result<ReadDirectory, OpenDirectoryError> {
        Ok(ReadDirectory {
            root: root.to_owned(),
            inner: MmapDirectory::open(root)?,
        })
    }
}

impl Directory for ReadDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        let file = File::open(self.root.join(path)).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                OpenReadError::FileDoesNotExist(path.to_owned())
            } else {
                OpenReadError::wrap_io_error(e, path.to_owned())
            }
        })?;
        let len = file
            .metadata()
            .map_err(|e| OpenReadError::wrap_io_error(e, path.to_owned()))?
            .len();
        let len = usize::try_from(len).map_err(|_| {
            OpenReadError::wrap_io_error(io::Error::other("file too large"), path.to_owned())
        })?;
        Ok(Arc::new(ReadFile { file, len }))
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.inner.delete(path)
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.inner.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        self.inner.open_write(path)
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.inner.atomic_read(path)
    }

    fn atomic_write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        self.inner.atomic_write(path, data)
    }

    fn sync_directory(&self) -> io::Result<()> {
        self.inner.sync_directory()
    }

    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        self.inner.acquire_lock(lock)
    }

    fn watch(&self, watch_callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.inner.watch(watch_callback)
    }
}

/// One index file, read a range at a time.
#[derive(Debug)]
struct ReadFile {
    file: File,
    len: usize,
}

impl HasLen for ReadFile {
    fn len(&self) -> usize {
        self.len
    }
}

impl FileHandle for ReadFile {
    fn read_bytes(&self, range: Range<usize>) -> io::Result<OwnedBytes> {
        if range.end > self.len || range.start > range.end {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("range {range:?} outside a file of {} bytes", self.len),
            ));
        }
        let mut buf = vec![0u8; range.len()];
        read_exact_at(&self.file, &mut buf, range.start as u64)?;
        Ok(OwnedBytes::new(buf))
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_ranges_and_refuses_ranges_past_the_end() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), b"0123456789").unwrap();
        let d = ReadDirectory::open(dir.path()).unwrap();
        let h = d.get_file_handle(Path::new("f")).unwrap();
        assert_eq!(h.len(), 10);
        assert_eq!(h.read_bytes(2..5).unwrap().as_slice(), b"234");
        assert_eq!(h.read_bytes(4..4).unwrap().as_slice(), b"");
        assert!(h.read_bytes(8..11).is_err());
        assert!(matches!(
            d.get_file_handle(Path::new("missing")),
            Err(OpenReadError::FileDoesNotExist(_))
        ));
    }
}
