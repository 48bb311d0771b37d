//! The shim's outbox delivery worker (`smtp_shim_outbox_worker_*`: a work queue on Zephyr, a
//! thread in the POSIX twin) and the claim that makes one outbox the storage's owner.

use core::ffi::{c_int, c_void};

use super::ffi;
pub(crate) use ffi::OutboxPass;

/// Makes `owner` the storage's only owner; the shim's `-EBUSY` when another one holds it.
pub(crate) fn outbox_claim(owner: *mut c_void) -> Result<(), c_int> {
    // SAFETY: the shim only stores and compares the pointer, never dereferences it.
    let rc = unsafe { ffi::smtp_shim_outbox_claim(owner) };
    if rc == 0 {
        Ok(())
    } else {
        Err(rc)
    }
}

/// Gives the storage up, if `owner` holds it.
pub(crate) fn outbox_release(owner: *mut c_void) {
    // SAFETY: as `outbox_claim`.
    unsafe { ffi::smtp_shim_outbox_release(owner) }
}

/// Starts the worker of `outbox` in the `size` bytes at `state`.
///
/// # Safety
/// `state` is pointer-aligned, valid for `size` bytes and neither moved nor reused until
/// [`worker_stop`] returns; `pass` may be called with `outbox` from the worker's thread from
/// now until then.
pub(crate) unsafe fn worker_start(state: *mut c_void, size: usize, pass: OutboxPass, outbox: *mut c_void) -> Result<(), c_int> {
    // SAFETY: per this function's contract.
    let rc = unsafe { ffi::smtp_shim_outbox_worker_start(state, size, pass, outbox) };
    if rc == 0 {
        Ok(())
    } else {
        Err(rc)
    }
}

/// Asks the worker for a pass now.
///
/// # Safety
/// `state` holds a worker started by [`worker_start`] and not stopped.
pub(crate) unsafe fn worker_kick(state: *mut c_void) {
    // SAFETY: per this function's contract.
    unsafe { ffi::smtp_shim_outbox_worker_kick(state) }
}

/// Stops the worker; no pass runs after this returns.
///
/// # Safety
/// `state` holds a worker started by [`worker_start`] and not stopped; not called from the
/// worker's own pass.
pub(crate) unsafe fn worker_stop(state: *mut c_void) {
    // SAFETY: per this function's contract.
    unsafe { ffi::smtp_shim_outbox_worker_stop(state) }
}
