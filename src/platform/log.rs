//! A `log` backend writing to the platform's log (Zephyr: the `smtp_client` log module).

use core::fmt;

use crate::sys;

/// A `log` backend that hands each record to `smtp_shim_log` (Zephyr: `LOG_ERR`/`LOG_WRN`/... of
/// the `smtp_client` log module, so `CONFIG_SMTP_CLIENT_LOG_LEVEL` filters it). Records are cut
/// at 160 bytes. Stateless; install it with [`install_logger`].
pub struct ShimLogger;

/// The logger instance to install.
pub static SHIM_LOGGER: ShimLogger = ShimLogger;

impl log::Log for ShimLogger {
    fn enabled(&self, _metadata: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let level = match record.level() {
            log::Level::Error => 1,
            log::Level::Warn => 2,
            log::Level::Info => 3,
            log::Level::Debug | log::Level::Trace => 4,
        };
        let mut line = Truncating::<160>::new();
        let _ = fmt::write(&mut line, format_args!("{}: {}", record.target(), record.args()));
        sys::log_line(level, line.as_bytes());
    }

    fn flush(&self) {}
}

/// Installs [`SHIM_LOGGER`] as the `log` crate's logger with `level` as maximum. Returns false
/// if a logger was already installed.
///
/// # Safety
/// Call once at start-up, before any other thread uses `log` (the contract of
/// `log::set_logger_racy`, the only installer available on targets without atomic
/// compare-and-swap such as Cortex-M0).
pub unsafe fn install_logger(level: log::LevelFilter) -> bool {
    // SAFETY: the caller guarantees no concurrent use of the log crate's globals.
    let installed = unsafe { log::set_logger_racy(&SHIM_LOGGER) }.is_ok();
    if installed {
        // SAFETY: as above.
        unsafe { log::set_max_level_racy(level) };
    }
    installed
}

/// A `fmt::Write` into a fixed buffer that silently drops what does not fit.
pub(super) struct Truncating<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Truncating<N> {
    pub(super) const fn new() -> Self {
        Truncating { buf: [0; N], len: 0 }
    }

    /// What was written and fitted.
    pub(super) fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

impl<const N: usize> fmt::Write for Truncating<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // `len <= N` always: the checks below always pass.
        let room = self.buf.get_mut(self.len..).unwrap_or_default();
        let n = s.len().min(room.len());
        if let (Some(dst), Some(src)) = (room.get_mut(..n), s.as_bytes().get(..n)) {
            dst.copy_from_slice(src);
            self.len += n;
        }
        Ok(())
    }
}
