//! The shim's outbox storage (`smtp_shim_outbox_*`): keyed records, each written, replaced or
//! deleted atomically (ZMS on Zephyr, a directory of files in the POSIX twin).

use core::ffi::c_int;

use super::ffi;

/// Mounts the storage (idempotent). The shim's negative errno on failure.
pub(crate) fn outbox_open() -> Result<(), c_int> {
    // SAFETY: no arguments; the shim serialises its own open.
    let rc = unsafe { ffi::smtp_shim_outbox_open() };
    if rc == 0 {
        Ok(())
    } else {
        Err(rc)
    }
}

/// The largest record in bytes, or the shim's negative errno (not open).
pub(crate) fn outbox_record_size() -> Result<usize, c_int> {
    // SAFETY: no arguments; reads a value the shim set at open.
    let rc = unsafe { ffi::smtp_shim_outbox_record_size() };
    usize::try_from(rc).map_err(|_| rc)
}

/// Reads record `key` into `buf`: its whole length (`buf` holds its first `buf.len()` bytes),
/// 0 when there is none, or the shim's negative errno.
pub(crate) fn outbox_read(key: u16, buf: &mut [u8]) -> Result<usize, c_int> {
    // SAFETY: `buf` is valid for writes of its length; the shim writes at most that many bytes
    // and keeps no pointer.
    let rc = unsafe { ffi::smtp_shim_outbox_read(key, buf.as_mut_ptr(), buf.len()) };
    usize::try_from(rc).map_err(|_| rc)
}

/// Writes record `key` atomically; the shim's negative errno on failure (nothing changed).
pub(crate) fn outbox_write(key: u16, data: &[u8]) -> Result<(), c_int> {
    // SAFETY: `data` is valid for reads of its length; the shim copies it to the medium before
    // returning and keeps no pointer.
    let rc = unsafe { ffi::smtp_shim_outbox_write(key, data.as_ptr(), data.len()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(rc)
    }
}

/// Deletes record `key` atomically (none is no error); the shim's negative errno on failure.
pub(crate) fn outbox_delete(key: u16) -> Result<(), c_int> {
    // SAFETY: an integer argument only.
    let rc = unsafe { ffi::smtp_shim_outbox_delete(key) };
    if rc == 0 {
        Ok(())
    } else {
        Err(rc)
    }
}
