//! A platform mutex in storage the caller owns.

use core::ffi::c_void;

use super::ffi;

/// A platform mutex (Zephyr `k_mutex`, POSIX `pthread_mutex_t`) living in storage the caller
/// owns: the C API puts it in the lock words of each client structure.
pub struct ShimMutex;

impl ShimMutex {
    /// Smallest storage the shim guarantees to fit a mutex into, alignment included
    /// (`SMTP_SHIM_MUTEX_STORAGE_MIN`).
    pub const STORAGE_MIN: usize = 64;

    /// Initialises a mutex inside `storage` (`size` bytes). Returns false if the storage is null
    /// or too small.
    ///
    /// # Safety
    /// `storage` must be valid for reads and writes of `size` bytes, must not be moved or copied
    /// until [`ShimMutex::destroy`], and must not hold a live mutex.
    pub unsafe fn init(storage: *mut c_void, size: usize) -> bool {
        // SAFETY: the caller guarantees `storage` is valid for `size` bytes and unused; the shim
        // checks null and size itself.
        unsafe { ffi::smtp_shim_mutex_init(storage, size) == 0 }
    }

    /// Locks (blocking; recursive on Zephyr, where `k_mutex` allows the owner to relock).
    ///
    /// # Safety
    /// `storage` must hold a mutex initialised by [`ShimMutex::init`] and not destroyed. Not from
    /// an interrupt handler.
    pub unsafe fn lock(storage: *mut c_void) {
        // SAFETY: guaranteed by the caller (an initialised mutex, thread context).
        unsafe { ffi::smtp_shim_mutex_lock(storage) }
    }

    /// Unlocks.
    ///
    /// # Safety
    /// `storage` must hold an initialised mutex locked by the calling thread.
    pub unsafe fn unlock(storage: *mut c_void) {
        // SAFETY: guaranteed by the caller (an initialised mutex owned by this thread).
        unsafe { ffi::smtp_shim_mutex_unlock(storage) }
    }

    /// Releases the mutex's resources (nothing on Zephyr).
    ///
    /// # Safety
    /// `storage` must hold an initialised, unlocked mutex that no thread waits on; it must not
    /// be used again before a new [`ShimMutex::init`].
    pub unsafe fn destroy(storage: *mut c_void) {
        // SAFETY: guaranteed by the caller (an initialised mutex nobody holds or waits on).
        unsafe { ffi::smtp_shim_mutex_destroy(storage) }
    }
}
