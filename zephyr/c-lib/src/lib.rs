//! zsmtp's NetX Duo C API (`nxd_smtp_client_create`, `nx_smtp_client_delete`,
//! `nx_smtp_mail_send`, ...) and the shell's `zsmtp_shim_send_mail`, as one static library for
//! Zephyr applications written in C (`CONFIG_SMTP_CLIENT_NETX_API=y`).
//!
//! Every exported function is defined in the zsmtp crate (`capi` and `zsock` features); a
//! static library carries all of its dependencies' exported symbols. This crate adds the one
//! initialisation hook that `shim/zephyr/smtp_rust_glue.c` calls at boot.
#![no_std]

// The C API itself.
pub use zsmtp;
// zephyr-lang-rust's crate: the panic handler (ending in rust_panic_wrap) and the
// CONFIG_RUST check. Nothing else of it is used.
use zephyr as _;

/// Called once by `SYS_INIT(..., APPLICATION, ...)` in shim/zephyr/smtp_rust_glue.c: routes the
/// client's `log` records to Zephyr's log under the `smtp_client` module (whose
/// `CONFIG_SMTP_CLIENT_LOG_LEVEL` filters them).
#[no_mangle]
pub extern "C" fn zsmtp_c_library_init() {
    // SAFETY: runs once, from SYS_INIT at the APPLICATION level, before main() and any
    // application thread, so nothing uses the log crate concurrently.
    let _ = unsafe { zsmtp::platform::install_logger(log::LevelFilter::Debug) };
}
