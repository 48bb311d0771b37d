//! A [`Transport`] over the platform shim (`shim/include/smtp_shim.h`): Zephyr's sockets on
//! Zephyr, the shim's POSIX twin on hosts (so the host tests run this very code against real
//! servers, `tests/zsock_transport.rs`).
//!
//! - [`ShimTransport`]: one TCP connection with per-call timeouts, and TLS (STARTTLS and
//!   implicit) through the shim: mbedTLS driven over the socket by
//!   `shim/common/smtp_shim_tls_mbedtls.c` (the same C on Zephyr and in the host tests), or, for
//!   implicit TLS on Zephyr, a Zephyr TLS socket (docs/ARCHITECTURE.md, "TLS");
//! - [`ShimError`]: a failed shim call, classified by the shim;
//! - [`ShimClock`] as the engine's [`Clock`].
//!
//! Safe Rust over the wrappers of [`crate::sys`].

use core::ffi::{c_int, CStr};
use core::fmt;

use embedded_io::{ErrorKind, ErrorType, Read, Write};

use crate::sys::{self, ShimSocket, ShimTls, TlsFailure, Trust};
pub use crate::sys::ShimClock;
use crate::transport::{Clock, ConnectTlsError, TlsError, Transport};

fn tls_error(class: c_int) -> TlsError {
    match class {
        sys::TLS_UNSUPPORTED => TlsError::Unsupported,
        sys::TLS_NO_TRUST_ANCHORS => TlsError::NoTrustAnchors,
        sys::TLS_UNTRUSTED => TlsError::UntrustedCertificate,
        sys::TLS_NAME_MISMATCH => TlsError::NameMismatch,
        sys::TLS_EXPIRED => TlsError::Expired,
        sys::TLS_TIMEOUT => TlsError::Timeout,
        sys::TLS_CLOCK_NOT_SET => TlsError::ClockNotSet,
        _ => TlsError::Handshake,
    }
}

/// Longest host name accepted by [`ShimTransport::connect`] (RFC 1035: 255 octets).
pub const MAX_HOST: usize = 255;

/// Room for a host name and its NUL.
type HostBuf = [u8; MAX_HOST + 1];

/// `host` as a C string written into `buf`; `None` when it is empty, longer than [`MAX_HOST`]
/// or contains a NUL.
fn c_host<'b>(host: &str, buf: &'b mut HostBuf) -> Option<&'b CStr> {
    let bytes = host.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_HOST || bytes.contains(&0) {
        return None;
    }
    let (text, rest) = buf.split_at_mut_checked(bytes.len())?;
    text.copy_from_slice(bytes);
    *rest.first_mut()? = 0;
    CStr::from_bytes_until_nul(buf).ok()
}

/// Longest wait for the peer to take our close_notify when a TLS connection is closed.
const CLOSE_NOTIFY_MS: u32 = 1000;

/// A failed shim call: the errno value it returned and its classification.
///
/// errno numbers differ between C libraries (glibc, newlib, picolibc), so the class comes from
/// the shim, compiled against the right `<errno.h>`; [`ShimError::errno`] is for diagnostics.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ShimError {
    errno: i32,
    kind: ErrorKind,
}

impl ShimError {
    pub(crate) fn from_shim(rc: c_int) -> Self {
        let kind = match sys::error_class(rc) {
            sys::CLASS_TIMED_OUT => ErrorKind::TimedOut,
            sys::CLASS_HOST_NOT_FOUND => ErrorKind::NotFound,
            sys::CLASS_REFUSED => ErrorKind::ConnectionRefused,
            sys::CLASS_RESET => ErrorKind::ConnectionReset,
            sys::CLASS_ABORTED => ErrorKind::ConnectionAborted,
            sys::CLASS_BROKEN_PIPE => ErrorKind::BrokenPipe,
            sys::CLASS_NOT_CONNECTED => ErrorKind::NotConnected,
            sys::CLASS_INVALID => ErrorKind::InvalidInput,
            sys::CLASS_NO_MEMORY => ErrorKind::OutOfMemory,
            sys::CLASS_INTERRUPTED => ErrorKind::Interrupted,
            sys::CLASS_UNSUPPORTED => ErrorKind::Unsupported,
            // CLASS_UNREACHABLE included: embedded-io has no kind for it.
            _ => ErrorKind::Other,
        };
        ShimError { errno: rc.saturating_abs(), kind }
    }

    const fn local(kind: ErrorKind) -> Self {
        ShimError { errno: 0, kind }
    }

    /// The positive errno value the shim returned (0 for errors detected in Rust).
    pub const fn errno(&self) -> i32 {
        self.errno
    }
}

impl fmt::Debug for ShimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ShimError({:?}, errno {})", self.kind, self.errno)
    }
}

impl fmt::Display for ShimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} (errno {})", self.kind, self.errno)
    }
}

impl core::error::Error for ShimError {}

impl embedded_io::Error for ShimError {
    fn kind(&self) -> ErrorKind {
        self.kind
    }
}

/// The connection of a [`ShimTransport`].
#[derive(Debug)]
enum Conn {
    Closed,
    Plain(ShimSocket),
    Tls(ShimTls),
}

/// One TCP connection through the shim, optionally with TLS. Closed on drop (the connection's
/// socket and TLS state close themselves).
///
/// TLS ([`Transport::start_tls`], [`Transport::connect_tls`]) verifies the server against trust
/// anchors that depend on the platform:
/// - Zephyr: the CA certificate(s) in the TLS credential store under the sec tag
///   [`ShimTransport::with_sec_tag`] (default: Kconfig `CONFIG_SMTP_CLIENT_TLS_SEC_TAG`, where the
///   module registers `CONFIG_SMTP_CLIENT_TLS_CA_FILE` at boot);
/// - the POSIX twin (host tests and tools): the PEM/DER file [`ShimTransport::with_ca_file`],
///   else the file named by the environment variable `ZSMTP_CA_FILE`, else by `SSL_CERT_FILE`.
pub struct ShimTransport {
    conn: Conn,
    timeout_ms: u32,
    trust: Trust,
}

impl ShimTransport {
    /// Default bound of each read and write until [`Transport::set_timeout`] is called.
    pub const DEFAULT_TIMEOUT_MS: u32 = 30_000;

    pub const fn new() -> Self {
        ShimTransport { conn: Conn::Closed, timeout_ms: Self::DEFAULT_TIMEOUT_MS, trust: Trust { sec_tag: -1, ca_file: None } }
    }

    /// Zephyr: verify servers against the CA certificate(s) registered under this sec tag
    /// (`tls_credential_add(tag, TLS_CREDENTIAL_CA_CERTIFICATE, ...)`) instead of
    /// `CONFIG_SMTP_CLIENT_TLS_SEC_TAG`. A negative tag means the Kconfig one. Ignored by the
    /// POSIX twin.
    pub const fn with_sec_tag(mut self, sec_tag: i32) -> Self {
        self.trust.sec_tag = sec_tag;
        self
    }

    /// POSIX twin: verify servers against the CA certificate(s) in this PEM or DER file. On
    /// Zephyr (which reads no files) a CA file makes every handshake fail with
    /// [`TlsError::NoTrustAnchors`]: provision CAs through the credential store.
    pub const fn with_ca_file(mut self, path: &'static CStr) -> Self {
        self.trust.ca_file = Some(path);
        self
    }

    /// Whether a connection is open.
    pub const fn is_connected(&self) -> bool {
        !matches!(self.conn, Conn::Closed)
    }

    /// Whether the open connection is encrypted (after STARTTLS, or implicit TLS).
    pub const fn is_encrypted(&self) -> bool {
        matches!(self.conn, Conn::Tls(_))
    }
}

impl Default for ShimTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl ErrorType for ShimTransport {
    type Error = ShimError;
}

impl Read for ShimTransport {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ShimError> {
        // (An empty `buf` reads 0: the shim returns 0 for a zero length.)
        let result = match &mut self.conn {
            Conn::Closed => return Err(ShimError::local(ErrorKind::NotConnected)),
            Conn::Plain(socket) => socket.recv(buf, self.timeout_ms),
            Conn::Tls(tls) => tls.recv(buf, self.timeout_ms),
        };
        result.map_err(ShimError::from_shim)
    }
}

impl Write for ShimTransport {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ShimError> {
        let result = match &mut self.conn {
            Conn::Closed => return Err(ShimError::local(ErrorKind::NotConnected)),
            Conn::Plain(socket) => socket.send(buf, self.timeout_ms),
            Conn::Tls(tls) => tls.send(buf, self.timeout_ms),
        };
        match result {
            // (The shim writes 0 bytes only when given 0.)
            Ok(0) if !buf.is_empty() => Err(ShimError::local(ErrorKind::WriteZero)),
            Ok(n) => Ok(n),
            Err(rc) => Err(ShimError::from_shim(rc)),
        }
    }

    fn flush(&mut self) -> Result<(), ShimError> {
        // Every write goes straight to the socket (TCP_NODELAY is set at connect).
        if !self.is_connected() {
            return Err(ShimError::local(ErrorKind::NotConnected));
        }
        Ok(())
    }
}

impl Transport for ShimTransport {
    /// Not inlined (nor `start_tls` and `connect_tls`): the host name's C buffer then lives
    /// only while connecting, not in the caller's frame for the whole send. The three together
    /// took 296 B off the C API's peak stack on Cortex-M4 for 216 B of code (measured).
    #[inline(never)]
    fn connect(&mut self, host: &str, port: u16, timeout_ms: u32) -> Result<(), ShimError> {
        self.close();
        let mut buf: HostBuf = [0; MAX_HOST + 1];
        let name = c_host(host, &mut buf).ok_or(ShimError::local(ErrorKind::InvalidInput))?;
        let socket = ShimSocket::connect(name, port, timeout_ms).map_err(ShimError::from_shim)?;
        self.conn = Conn::Plain(socket);
        Ok(())
    }

    fn set_timeout(&mut self, timeout_ms: u32) {
        self.timeout_ms = timeout_ms.max(1);
    }

    fn close(&mut self) {
        match core::mem::replace(&mut self.conn, Conn::Closed) {
            Conn::Tls(tls) => tls.close(self.timeout_ms.min(CLOSE_NOTIFY_MS)),
            // The socket closes as it drops.
            Conn::Plain(_) | Conn::Closed => {}
        }
    }

    /// On failure the connection is closed: nothing can be sent over it in clear afterwards.
    /// Not inlined: see `connect`.
    #[inline(never)]
    fn start_tls(&mut self, host: &str, timeout_ms: u32) -> Result<(), TlsError> {
        let socket = match core::mem::replace(&mut self.conn, Conn::Closed) {
            Conn::Plain(socket) => socket,
            other => {
                // Not connected, or encrypted already: leave it as it was.
                self.conn = other;
                return Err(TlsError::Handshake);
            }
        };
        // Without a usable name the socket is dropped here, which closes it.
        let mut buf: HostBuf = [0; MAX_HOST + 1];
        let name = c_host(host, &mut buf).ok_or(TlsError::NameMismatch)?;
        // On failure `start` has closed the socket.
        let tls = ShimTls::start(socket, name, self.trust, timeout_ms).map_err(|f| tls_error(f.tls_error))?;
        self.conn = Conn::Tls(tls);
        Ok(())
    }

    /// The shim's TLS socket connects and handshakes in one call. Not inlined: see `connect`.
    #[inline(never)]
    fn connect_tls(&mut self, host: &str, port: u16, name: &str, timeout_ms: u32) -> Result<(), ConnectTlsError<ShimError>> {
        self.close();
        let (mut host_buf, mut name_buf): (HostBuf, HostBuf) = ([0; MAX_HOST + 1], [0; MAX_HOST + 1]);
        let host = c_host(host, &mut host_buf).ok_or(ConnectTlsError::Connect(ShimError::local(ErrorKind::InvalidInput)))?;
        let verify = c_host(name, &mut name_buf).ok_or(ConnectTlsError::Tls(TlsError::NameMismatch))?;
        match ShimTls::connect(host, port, verify, self.trust, timeout_ms) {
            Ok(tls) => {
                self.conn = Conn::Tls(tls);
                Ok(())
            }
            Err(TlsFailure { rc, tls_error: sys::TLS_CONNECT }) => Err(ConnectTlsError::Connect(ShimError::from_shim(rc))),
            Err(TlsFailure { tls_error, .. }) => Err(ConnectTlsError::Tls(self::tls_error(tls_error))),
        }
    }
}

impl Clock for ShimClock {
    fn now_ms(&self) -> u64 {
        self.uptime_ms()
    }

    fn unix_time(&self) -> Option<u64> {
        ShimClock::unix_time(self)
    }

    fn entropy(&mut self) -> u32 {
        ShimClock::entropy(self)
    }
}
