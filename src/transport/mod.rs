//! The socket boundary. The engine only sees these two traits; everything that touches a
//! socket or a clock lives behind them.
//!
//! - [`host`] (feature `std`): host sockets and clock, used by the CLI, tests and tools;
//! - [`shim`] (feature `zsock`): the platform shim's sockets (Zephyr's on Zephyr, POSIX on
//!   hosts), over the safe wrappers of `crate::sys`.

#[cfg(feature = "std")]
pub mod host;
#[cfg(feature = "zsock")]
pub mod shim;

/// Why a TLS handshake failed (or could not start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsError {
    /// This transport or build has no TLS.
    Unsupported,
    /// No CA certificates are configured: there is nothing to verify the server against.
    NoTrustAnchors,
    /// The server's certificate chain does not lead to a trusted CA.
    UntrustedCertificate,
    /// The certificate does not name the server that was asked for.
    NameMismatch,
    /// The certificate is expired or not yet valid.
    Expired,
    /// The handshake failed otherwise (protocol error, alert, the peer closed).
    Handshake,
    /// The handshake did not finish in time.
    Timeout,
    /// The device's wall clock is not set, so the certificate's dates cannot be checked, and
    /// the build requires them to be (Zephyr: `CONFIG_SMTP_CLIENT_TLS_REQUIRE_CLOCK`). Nothing
    /// was sent to the server after the TCP connect.
    ClockNotSet,
}

/// Why an implicit-TLS connect failed: the TCP connect, or the handshake after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectTlsError<E> {
    Connect(E),
    Tls(TlsError),
}

/// A byte stream to the SMTP server. `read` returning `Ok(0)` means the peer closed.
///
/// Errors are classified through [`embedded_io::Error::kind`]: `TimedOut` for a timeout,
/// `NotFound` for a name that does not resolve, anything else is a broken link.
pub trait Transport: embedded_io::Read + embedded_io::Write {
    /// Opens a connection to `host` (a name or an IPv4/IPv6 literal, without brackets) and
    /// `port`, giving up after `timeout_ms`.
    fn connect(&mut self, host: &str, port: u16, timeout_ms: u32) -> Result<(), Self::Error>;
    /// Bounds every following `read` and `write` call to `timeout_ms` (at least 1 ms), until
    /// the next call. The engine calls it only when the value changes (budgets of 2 s or more
    /// are rounded down to whole seconds), and again after `connect`, `connect_tls` and
    /// `start_tls`, which may leave other timeouts on the socket.
    fn set_timeout(&mut self, timeout_ms: u32);
    /// Closes the connection (if open). Never fails; safe to call twice.
    fn close(&mut self);

    /// STARTTLS: runs a TLS handshake over the open connection, verifying the server's
    /// certificate chain against the configured CAs and its name against `host` (the
    /// server's host name, or the name configured for its certificate), within
    /// `timeout_ms`. From then on `read` and `write` carry TLS. The engine has already
    /// discarded (refused) any byte that arrived before the handshake.
    fn start_tls(&mut self, host: &str, timeout_ms: u32) -> Result<(), TlsError> {
        let _ = (host, timeout_ms);
        Err(TlsError::Unsupported)
    }

    /// Implicit TLS (SMTPS, port 465): a connection to `host` that is TLS from its first
    /// byte, verified as for [`Transport::start_tls`] with `name` (the host name the
    /// certificate must carry; `host` itself unless the caller connects by address). By
    /// default a TCP connect and then `start_tls`; a transport whose sockets do the handshake
    /// themselves (Zephyr's TLS sockets) overrides it.
    fn connect_tls(&mut self, host: &str, port: u16, name: &str, timeout_ms: u32) -> Result<(), ConnectTlsError<Self::Error>> {
        self.connect(host, port, timeout_ms).map_err(ConnectTlsError::Connect)?;
        self.start_tls(name, timeout_ms).map_err(ConnectTlsError::Tls)
    }
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
