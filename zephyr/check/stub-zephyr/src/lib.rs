//! SYNTAX-CHECK STUB of zephyr-lang-rust's `zephyr` crate (zephyr/src/lib.rs, printk.rs,
//! generated kconfig module): just what zsmtp's Zephyr applications use. Never run.
#![no_std]

/// zephyr::printkln! (zephyr/src/printk.rs): formats like `format_args!`.
#[macro_export]
macro_rules! printkln {
    ($($arg:tt)*) => {{
        let _ = core::format_args!($($arg)*);
    }};
}

/// The generated Kconfig constants (zephyr-build's build_kconfig_mod(): strings are `&str`,
/// decimal integers `isize`).
pub mod kconfig {
    pub const CONFIG_BOARD: &str = "stub";
    pub const CONFIG_ZSMTP_SELFTEST_SOCKETS: isize = 1;
    pub const CONFIG_SEND_MAIL_TO: &str = "ops@example.test";
    pub const CONFIG_SEND_MAIL_SUBJECT: &str = "Hello from Zephyr";
}

/// zephyr-lang-rust's panic handler ends in rust_panic_wrap() (zephyr/src/lib.rs).
#[cfg(target_os = "none")]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    extern "C" {
        fn rust_panic_wrap() -> !;
    }
    // SAFETY: provided by zephyr-lang-rust's main.c or the zsmtp module's glue; never returns.
    unsafe { rust_panic_wrap() }
}
