//! The shim's run-time configuration store and its log sink.

use core::ffi::{c_char, c_int, CStr};

use super::ffi;

/// Loads persisted values over the defaults (Zephyr: `settings_load_subtree("smtp")`).
/// 0 or a negative errno; the defaults stay in force on error.
pub(crate) fn config_load() -> c_int {
    // SAFETY: no arguments; the shim serialises access to its store.
    unsafe { ffi::smtp_shim_config_load() }
}

/// Copies the value of `key` with its NUL into `buf`; its length without the NUL, or the
/// shim's negative errno (-ENOENT unknown key, -ENOSPC `buf` too small).
pub(crate) fn config_get(key: &CStr, buf: &mut [u8]) -> Result<usize, c_int> {
    // SAFETY: `key` is NUL-terminated; `buf` is valid for writes of its length; the shim writes
    // at most that many bytes (value and NUL) and keeps no pointer.
    let rc = unsafe { ffi::smtp_shim_config_get(key.as_ptr(), buf.as_mut_ptr().cast::<c_char>(), buf.len()) };
    usize::try_from(rc).map_err(|_| rc)
}

/// Checks and stores `value` for `key` (`smtp_shim_config_set`): 0 or a negative errno. The
/// shell's `smtp set` does this in C; Rust calls it only in tests.
#[doc(hidden)]
pub fn config_set(key: &CStr, value: &CStr) -> c_int {
    // SAFETY: both are NUL-terminated and outlive the call; the shim copies what it keeps.
    unsafe { ffi::smtp_shim_config_set(key.as_ptr(), value.as_ptr()) }
}

/// One line to the platform's log (1 error, 2 warning, 3 info, 4 debug). Never secrets.
pub(crate) fn log_line(level: u32, msg: &[u8]) {
    // SAFETY: `msg` is valid for reads of its length; the shim copies the bytes before
    // returning (the message need not be NUL-terminated).
    unsafe { ffi::smtp_shim_log(level, msg.as_ptr().cast::<c_char>(), msg.len()) }
}
