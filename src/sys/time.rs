//! Time, entropy and the caller's context.

use super::ffi;

/// The platform clock: uptime, the wall clock when it has been set, and entropy. The layer
/// above makes it a `transport::Clock`.
#[derive(Debug, Default, Clone, Copy)]
pub struct ShimClock;

impl ShimClock {
    pub const fn new() -> Self {
        ShimClock
    }

    /// Milliseconds since boot (POSIX twin: since an arbitrary point), monotonic.
    pub fn uptime_ms(&self) -> u64 {
        // SAFETY: no arguments, no preconditions.
        let ms = unsafe { ffi::smtp_shim_uptime_ms() };
        u64::try_from(ms).unwrap_or(0)
    }

    /// Seconds since 1970-01-01 UTC, when the platform has a wall clock and it is set.
    pub fn unix_time(&self) -> Option<u64> {
        let mut seconds: i64 = 0;
        // SAFETY: `seconds` is a valid, writable i64 for the duration of the call.
        let rc = unsafe { ffi::smtp_shim_unix_time(&mut seconds) };
        if rc == 0 {
            u64::try_from(seconds).ok()
        } else {
            None
        }
    }

    /// 32 bits that differ between calls and between boots (not for cryptography).
    pub fn entropy(&mut self) -> u32 {
        // SAFETY: no arguments, no preconditions.
        unsafe { ffi::smtp_shim_random() }
    }
}

/// The shim's uptime cut to 32 bits: enough for intervals below 49 days (`wrapping_sub`).
#[cfg_attr(not(feature = "small"), allow(dead_code))] // the small profile's driver uses it
pub(crate) fn uptime_ms32() -> u32 {
    // SAFETY: no arguments, no preconditions.
    let ms = unsafe { ffi::smtp_shim_uptime_ms() };
    ms as u32
}

/// Whether the caller runs in an interrupt handler (where the client must not be used).
pub fn in_isr() -> bool {
    // SAFETY: no arguments, no preconditions; callable from any context.
    unsafe { ffi::smtp_shim_in_isr() != 0 }
}
