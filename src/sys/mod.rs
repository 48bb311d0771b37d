//! The bottom layer: the platform shim (`shim/include/smtp_shim.h`) as safe Rust.
//!
//! - `ffi`: the header's declarations and C enum values, written once and checked against
//!   the header by a unit test;
//! - `ShimSocket` and `ShimTls`: one TCP connection, plain or with TLS, closed on drop;
//! - [`ShimClock`], `uptime_ms32`, [`in_isr`]: time, entropy and the caller's context;
//! - [`ShimMutex`]: a mutex in storage the caller owns (the C API's lock words);
//! - the run-time configuration store and the log sink, as the shim offers them;
//! - the outbox's storage of atomic keyed records, its owner, and its delivery worker (feature
//!   `outbox`).
//!
//! Zephyr's socket calls (`zsock_*`) are `__syscall` static inline functions, so Rust cannot
//! link them; the shim is plain C compiled into the image by the module's CMakeLists.txt
//! (`shim/zephyr/`). On hosts, build.rs compiles its POSIX twin (`shim/posix/`), so the same
//! Rust runs in the host tests against real servers.
//!
//! The raw functions are used here and nowhere else. This module imports nothing of the crate
//! (`tests/layers.rs` keeps it a leaf): the layers above give these types their meaning
//! (`impl Clock for ShimClock` is in `transport::shim`).
#![allow(unsafe_code)]

pub(crate) mod ffi;
mod socket;
mod time;
mod mutex;
mod store;
#[cfg(feature = "outbox")]
mod outbox_store;
#[cfg(all(feature = "outbox", feature = "capi", not(feature = "small")))]
mod outbox_worker;

use core::ffi::c_int;

pub(crate) use ffi::*;
pub use mutex::ShimMutex;
pub(crate) use socket::{ShimSocket, ShimTls, TlsFailure, Trust};
pub use store::config_set;
pub(crate) use store::{config_get, config_load, log_line};
#[cfg(feature = "outbox")]
pub(crate) use outbox_store::{outbox_delete, outbox_open, outbox_read, outbox_record_size, outbox_write};
#[cfg(all(feature = "outbox", feature = "capi", not(feature = "small")))]
pub(crate) use outbox_worker::{outbox_claim, outbox_release, worker_kick, worker_start, worker_stop};
pub use time::{in_isr, ShimClock};
#[cfg_attr(not(feature = "small"), allow(unused_imports))] // the small profile's driver uses it
pub(crate) use time::uptime_ms32;

/// The class (`CLASS_*`) of a negative shim return value: errno numbers differ between
/// Zephyr's C libraries and the host, the classes do not.
pub(crate) fn error_class(rc: c_int) -> c_int {
    // SAFETY: a pure function of an integer, implemented by the shim.
    unsafe { ffi::smtp_shim_error_class(rc) }
}
