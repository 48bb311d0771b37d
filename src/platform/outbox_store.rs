//! The outbox's storage through the shim (`smtp_shim.h`, "Outbox storage"): ZMS on the
//! devicetree partition `zsmtp_outbox_partition` on Zephyr (Kconfig
//! `CONFIG_SMTP_CLIENT_OUTBOX_ZMS`), a directory of files (`$ZSMTP_OUTBOX_DIR`) in the POSIX twin.

use core::ffi::c_int;

use crate::outbox::{Storage, StorageError, MIN_RECORD_SIZE};
use crate::sys;

/// Why [`ShimStorage::open`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenError {
    /// The shim could not mount the storage: its negative errno (on Zephyr, e.g. a flash device
    /// that is not ready or a partition of fewer than two pages; in the POSIX twin, no
    /// `ZSMTP_OUTBOX_DIR`).
    Mount(c_int),
    /// Its records (this many bytes) are smaller than an outbox needs ([`MIN_RECORD_SIZE`]).
    RecordTooSmall(usize),
}

/// The shim's record storage, for [`Outbox::open`](crate::outbox::Outbox::open).
///
/// The shim holds one storage per image (one mounted ZMS, or one directory): every
/// `ShimStorage` reaches the same records, so an application opens it once and gives it to one
/// outbox. Its calls block on flash (ZMS may garbage-collect a sector during a write); never
/// from an ISR.
#[derive(Debug)]
pub struct ShimStorage {
    record_size: usize,
}

impl ShimStorage {
    /// Mounts the shim's storage (again: a no-op) and reads its record size.
    pub fn open() -> Result<ShimStorage, OpenError> {
        ShimStorage::open_with_record_max(usize::MAX)
    }

    /// As [`ShimStorage::open`], with records of at most `record_max` bytes (fewer when the
    /// medium's limit is lower): the outbox's work buffers hold one record.
    pub fn open_with_record_max(record_max: usize) -> Result<ShimStorage, OpenError> {
        sys::outbox_open().map_err(OpenError::Mount)?;
        let record_size = sys::outbox_record_size().map_err(OpenError::Mount)?.min(record_max);
        if record_size < MIN_RECORD_SIZE {
            return Err(OpenError::RecordTooSmall(record_size));
        }
        Ok(ShimStorage { record_size })
    }
}

/// A full medium is `NoSpace` (the outbox refuses a submit with it); anything else `Failed`.
fn storage_error(rc: c_int) -> StorageError {
    if sys::error_class(rc) == sys::CLASS_NO_SPACE {
        StorageError::NoSpace
    } else {
        StorageError::Failed
    }
}

impl Storage for ShimStorage {
    fn record_size(&self) -> usize {
        self.record_size
    }

    fn read(&mut self, key: u16, buf: &mut [u8]) -> Result<Option<usize>, StorageError> {
        // Records are never empty: 0 is the shim's "no such record".
        match sys::outbox_read(key, buf) {
            Ok(0) => Ok(None),
            Ok(len) => Ok(Some(len)),
            Err(rc) => Err(storage_error(rc)),
        }
    }

    fn write(&mut self, key: u16, data: &[u8]) -> Result<(), StorageError> {
        if data.is_empty() || data.len() > self.record_size {
            return Err(StorageError::Failed);
        }
        sys::outbox_write(key, data).map_err(storage_error)
    }

    fn delete(&mut self, key: u16) -> Result<(), StorageError> {
        sys::outbox_delete(key).map_err(storage_error)
    }
}
