//! Storage in a directory (feature `std`, hosts): one file per record, each write atomic
//! (a temporary file written and synced, renamed over the record, the directory synced).

use super::storage::{Storage, StorageError};
use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

/// Records as files `KKKK.rec` (the key in hexadecimal) in one directory.
///
/// One process at a time may use a directory: two outboxes over the same files would both
/// take the same free slot.
#[derive(Debug)]
pub struct DirStorage {
    dir: PathBuf,
    record_size: usize,
}

impl DirStorage {
    /// The largest record this backend takes by default (64 KiB, the record format's limit).
    pub const DEFAULT_RECORD_SIZE: usize = super::record::HEADER_LEN + u16::MAX as usize;

    /// Opens (and creates) the directory `dir`, with records of at most `record_size` bytes.
    pub fn open(dir: impl AsRef<Path>, record_size: usize) -> std::io::Result<DirStorage> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir)?;
        // Temporary files of a write that was cut short are not records: removed.
        for entry in fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "tmp") {
                fs::remove_file(&path)?;
            }
        }
        Ok(DirStorage { dir, record_size })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn file(&self, key: u16, extension: &str) -> PathBuf {
        self.dir.join(format!("{key:04x}.{extension}"))
    }

    fn sync_dir(&self) -> std::io::Result<()> {
        fs::File::open(&self.dir)?.sync_all()
    }
}

fn failed(e: std::io::Error) -> StorageError {
    match e.kind() {
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => StorageError::NoSpace,
        _ => StorageError::Failed,
    }
}

impl Storage for DirStorage {
    fn record_size(&self) -> usize {
        self.record_size
    }

    fn read(&mut self, key: u16, buf: &mut [u8]) -> Result<Option<usize>, StorageError> {
        let mut file = match fs::File::open(self.file(key, "rec")) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(failed(e)),
        };
        let len = file.metadata().map_err(failed)?.len() as usize;
        let mut filled = 0;
        while filled < buf.len().min(len) {
            let n = file.read(buf.get_mut(filled..len.min(buf.len())).unwrap_or_default()).map_err(failed)?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        Ok(Some(len.max(filled)))
    }

    fn write(&mut self, key: u16, data: &[u8]) -> Result<(), StorageError> {
        if data.len() > self.record_size {
            return Err(StorageError::Failed);
        }
        let temporary = self.file(key, "tmp");
        let mut file = fs::File::create(&temporary).map_err(failed)?;
        file.write_all(data).and_then(|()| file.sync_all()).map_err(failed)?;
        fs::rename(&temporary, self.file(key, "rec")).map_err(failed)?;
        self.sync_dir().map_err(failed)
    }

    fn delete(&mut self, key: u16) -> Result<(), StorageError> {
        match fs::remove_file(self.file(key, "rec")) {
            Ok(()) => self.sync_dir().map_err(failed),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(failed(e)),
        }
    }
}
