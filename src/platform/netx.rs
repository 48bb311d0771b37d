//! What the NetX C API (`crate::capi`) takes from the platform: a transport and a clock for
//! each send, the lock in the lock words of each client structure, the caller's context, and
//! the timeouts create() has no argument for.
//!
//! - feature `zsock` (Zephyr; on a host with `std` too, the shim's POSIX twin): the shim's
//!   transport and clock, a [`ShimMutex`](crate::sys::ShimMutex) (a `k_mutex`, or a pthread
//!   mutex on the POSIX twin) in the lock words; calls from an ISR are refused;
//! - feature `std` without `zsock` (host): std sockets and clock, a `std::sync::Mutex` in the
//!   lock words.

use core::ffi::c_ulong;

use crate::limits::LOCK_WORDS;

/// The lock words of a client structure (`capi::LockWords`, `NX_SMTP_CLIENT_LOCK_WORDS`).
type LockWords = [c_ulong; LOCK_WORDS];

#[cfg(feature = "zsock")]
pub use shim::*;
#[cfg(all(feature = "std", not(feature = "zsock")))]
pub use host::*;

#[cfg(not(any(feature = "std", feature = "zsock")))]
compile_error!("feature `capi` needs a platform: `std` (host) or `zsock` (Zephyr)");

#[cfg(feature = "zsock")]
mod shim {
    use super::LockWords;
    #[cfg(not(feature = "small"))]
    use crate::client::Timeouts;
    #[cfg(not(feature = "small"))]
    use crate::sys::ShimClock;
    use crate::sys::ShimMutex;
    #[cfg(not(feature = "small"))]
    use crate::transport::shim::ShimTransport;
    #[cfg(not(feature = "small"))]
    use core::mem::size_of;

    pub use crate::sys::in_isr;

    #[cfg(not(feature = "small"))] // the full profile's
    pub type PlatformTransport = ShimTransport;
    #[cfg(not(feature = "small"))] // the full profile's
    pub type PlatformClock = ShimClock;

    const _: () = assert!(
        size_of::<LockWords>() >= ShimMutex::STORAGE_MIN,
        "NX_SMTP_CLIENT_LOCK_WORDS too small for the shim's mutex"
    );

    #[cfg(not(feature = "small"))] // the full profile's
    pub fn transport() -> PlatformTransport {
        ShimTransport::new()
    }

    #[cfg(not(feature = "small"))] // the full profile's
    pub fn clock() -> PlatformClock {
        ShimClock::new()
    }

    #[cfg(not(feature = "small"))] // the full profile's
    /// Timeouts and pipelining from the module's configuration (Kconfig, settings); the
    /// library defaults if the store cannot be read.
    pub fn timing() -> (Timeouts, bool) {
        crate::platform::configured_timing().unwrap_or((Timeouts::DEFAULT, true))
    }

    /// Returns false when the shim could not initialise the mutex.
    ///
    /// # Safety
    /// `storage` points to a client's lock words, valid for writes and used by no one else.
    pub unsafe fn lock_init(storage: *mut LockWords) -> bool {
        // SAFETY: per this function's contract the words are ours, and the client structure
        // is not moved while it is created (documented in the header).
        unsafe { ShimMutex::init(storage.cast(), size_of::<LockWords>()) }
    }

    /// # Safety
    /// `storage` was initialised by [`lock_init`] and is not destroyed during the call; thread
    /// context.
    pub unsafe fn with_lock<R>(storage: *mut LockWords, f: impl FnOnce() -> R) -> R {
        // SAFETY: an initialised mutex, per this function's contract; thread context (the
        // services reject ISRs first).
        unsafe { ShimMutex::lock(storage.cast()) };
        let result = f();
        // SAFETY: the same mutex, locked just above by this thread.
        unsafe { ShimMutex::unlock(storage.cast()) };
        result
    }

    /// # Safety
    /// `storage` was initialised by [`lock_init`]; nobody holds or waits for the lock.
    pub unsafe fn lock_destroy(storage: *mut LockWords) {
        // SAFETY: per this function's contract.
        unsafe { ShimMutex::destroy(storage.cast()) }
    }
}

#[cfg(all(feature = "std", not(feature = "zsock")))]
mod host {
    use super::LockWords;
    use crate::client::Timeouts;
    use core::mem::{align_of, size_of};
    use std::sync::{Mutex, PoisonError};

    pub type PlatformTransport = crate::transport::host::StdTransport;
    pub type PlatformClock = crate::transport::host::StdClock;

    type RawLock = Mutex<()>;
    const _: () = assert!(
        size_of::<RawLock>() <= size_of::<LockWords>() && align_of::<RawLock>() <= align_of::<LockWords>(),
        "NX_SMTP_CLIENT_LOCK_WORDS too small for std::sync::Mutex"
    );

    /// As the shim's POSIX twin: the CAs of `$ZSMTP_CA_FILE` and no others when it is set (a
    /// file that cannot be loaded trusts nothing: TLS then fails with
    /// NX_SMTP_TLS_UNTRUSTED_CERTIFICATE, never falling back to the system's CAs); else the
    /// system's store (`$SSL_CERT_FILE`, `$SSL_CERT_DIR` honoured).
    pub fn transport() -> PlatformTransport {
        match std::env::var_os("ZSMTP_CA_FILE") {
            Some(path) => PlatformTransport::with_ca_file(path).unwrap_or(PlatformTransport::trusting_nothing()),
            None => PlatformTransport::new(),
        }
    }

    pub fn clock() -> PlatformClock {
        PlatformClock::new()
    }

    pub fn in_isr() -> bool {
        false
    }

    /// The library's default timeouts, with pipelining.
    pub fn timing() -> (Timeouts, bool) {
        (Timeouts::DEFAULT, true)
    }

    /// # Safety
    /// `storage` points to a client's lock words, valid for writes and used by no one else.
    pub unsafe fn lock_init(storage: *mut LockWords) -> bool {
        // SAFETY: size and alignment are checked above; the words are ours to overwrite
        // (whatever was there is not dropped: a host Mutex<()> owns no resources).
        unsafe { storage.cast::<RawLock>().write(Mutex::new(())) };
        true
    }

    /// # Safety
    /// `storage` was initialised by [`lock_init`] and stays valid during the call.
    pub unsafe fn with_lock<R>(storage: *mut LockWords, f: impl FnOnce() -> R) -> R {
        // SAFETY: an initialised Mutex lives there (contract); only shared references to it
        // are ever made, and the other fields are reached through disjoint raw projections.
        let lock = unsafe { &*storage.cast::<RawLock>() };
        let _guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
        f()
    }

    /// # Safety
    /// `storage` was initialised by [`lock_init`].
    pub unsafe fn lock_destroy(_storage: *mut LockWords) {
        // Deliberately left in place: a host Mutex<()> owns nothing, and a sender that was
        // already waiting on it can still take it and find the client deleted.
    }
}
