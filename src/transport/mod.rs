//! The socket boundary. The engine only sees these two traits; everything that touches a
//! socket or a clock lives behind them.
//!
//! - `std.rs` (feature `std`): host sockets and clock, used by the CLI, tests and tools.
//! - Zephyr: a transport over the module's C shim (zsock_*), added by the Zephyr module.

#[cfg(feature = "std")]
pub mod std;
#[cfg(feature = "zsock")]
pub mod zsock;

/// A byte stream to the SMTP server. `read` returning `Ok(0)` means the peer closed.
///
/// Errors are classified through [`embedded_io::Error::kind`]: `TimedOut` for a timeout,
/// `NotFound` for a name that does not resolve, anything else is a broken link.
pub trait Transport: embedded_io::Read + embedded_io::Write {
    /// Opens a connection to `host` (a name or an IPv4/IPv6 literal, without brackets) and
    /// `port`, giving up after `timeout_ms`.
    fn connect(&mut self, host: &str, port: u16, timeout_ms: u32) -> Result<(), Self::Error>;
    /// Bounds every following `read` and `write` call to `timeout_ms` (at least 1 ms).
    fn set_timeout(&mut self, timeout_ms: u32);
    /// Closes the connection (if open). Never fails; safe to call twice.
    fn close(&mut self);
}

/// Time and entropy, for deadlines and for the Date and Message-ID headers.
pub trait Clock {
    /// A monotonic millisecond counter.
    fn now_ms(&self) -> u64;
    /// Seconds since 1970-01-01 UTC, when the platform has a wall clock (else no Date header).
    fn unix_time(&self) -> Option<u64> {
        None
    }
    /// Some unpredictable bits, for Message-ID uniqueness across reboots.
    fn entropy(&mut self) -> u32;
}
