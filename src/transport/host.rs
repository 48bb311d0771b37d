//! Host platform: std TCP sockets (IPv4 and IPv6, TCP_NODELAY, connect timeout), TLS with
//! rustls (STARTTLS and implicit TLS, TLS 1.2 and 1.3), and the std clock. Used by the CLI,
//! the host C library and the tests.
//!
//! The crypto is the process's rustls `CryptoProvider`, as rustls asks of libraries: ring,
//! the one provider this crate enables, unless the application installed another with
//! `CryptoProvider::install_default` (which it must do if its build enables more than one).
//!
//! TLS always verifies the server: its chain must lead to a trusted CA and its certificate
//! must name the host that was asked for (a DNS name, or an IP literal against the
//! certificate's IP addresses). There is no way to turn that off. The trusted CAs are the
//! system's ([`StdTransport::new`], loaded when TLS is first used; `SSL_CERT_FILE` and
//! `SSL_CERT_DIR` are honoured) or exactly the ones given ([`StdTransport::with_ca_file`],
//! [`StdTransport::with_ca_pem`]).

use super::{Clock, ConnectTlsError, TlsError, Transport};
use embedded_io::ErrorKind;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{CertificateError, ClientConfig, ClientConnection, RootCertStore};
use std::io::{Read as _, Write as _};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A transport error, classified the way the engine needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StdError(pub ErrorKind);

impl embedded_io::Error for StdError {
    fn kind(&self) -> ErrorKind {
        self.0
    }
}

impl core::fmt::Display for StdError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "transport error: {:?}", self.0)
    }
}

impl std::error::Error for StdError {}

impl From<std::io::Error> for StdError {
    fn from(e: std::io::Error) -> Self {
        // With SO_RCVTIMEO/SO_SNDTIMEO a timeout shows as WouldBlock on Unix.
        StdError(match e.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => ErrorKind::TimedOut,
            other => other.into(),
        })
    }
}

/// Which CAs the server's certificate is verified against.
#[derive(Debug)]
enum Trust {
    /// The system's CA store; the client configuration is built when TLS is first used.
    System(Option<Arc<ClientConfig>>),
    /// Only the CAs the application gave.
    Only(Arc<ClientConfig>),
    /// No CA at all: every handshake fails (a configured CA file that could not be loaded
    /// must not fall back to the system's store).
    Nothing,
}

/// A TLS session over its TCP connection.
#[derive(Debug)]
struct TlsStream {
    tls: ClientConnection,
    tcp: TcpStream,
    /// A record failed to decrypt or parse: the session is over once the plaintext of the
    /// records before it has been read.
    broken: bool,
}

#[derive(Debug)]
enum Conn {
    Plain(TcpStream),
    Tls(Box<TlsStream>),
}

/// A TCP connection made with std sockets, optionally carrying TLS.
#[derive(Debug)]
pub struct StdTransport {
    conn: Option<Conn>,
    trust: Trust,
}

impl StdTransport {
    /// A transport that verifies TLS servers against the system's CA store (loaded when TLS
    /// is first used; without any system CA a handshake fails with
    /// [`TlsError::NoTrustAnchors`]).
    pub const fn new() -> Self {
        StdTransport { conn: None, trust: Trust::System(None) }
    }

    /// A transport that trusts no CA: every TLS handshake fails with
    /// [`TlsError::NoTrustAnchors`] before any byte of TLS is sent; plain connections work.
    /// For when the configured trust anchors cannot be loaded (fail closed).
    pub const fn trusting_nothing() -> Self {
        StdTransport { conn: None, trust: Trust::Nothing }
    }

    /// A transport that trusts exactly the CA certificates in the PEM file at `path` (one
    /// or more `CERTIFICATE` blocks; other blocks are ignored). A file that cannot be read,
    /// holds no certificate or a certificate that cannot be parsed is an error.
    pub fn with_ca_file(path: impl AsRef<Path>) -> std::io::Result<Self> {
        Self::with_ca_pem(&std::fs::read(path)?)
    }

    /// As [`StdTransport::with_ca_file`], with the PEM text in memory.
    pub fn with_ca_pem(pem: &[u8]) -> std::io::Result<Self> {
        let invalid = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| invalid(format!("invalid PEM: {e}")))?;
            roots.add(cert).map_err(|e| invalid(format!("unusable CA certificate: {e}")))?;
        }
        if roots.is_empty() {
            return Err(invalid("no CERTIFICATE in the PEM data".into()));
        }
        Ok(StdTransport { conn: None, trust: Trust::Only(client_config(roots)) })
    }

    /// Whether the connection is open and carries TLS.
    pub fn is_encrypted(&self) -> bool {
        matches!(self.conn, Some(Conn::Tls(_)))
    }

    /// The negotiated TLS version ("TLSv1.2" or "TLSv1.3"), when the connection carries TLS.
    pub fn tls_version(&self) -> Option<&'static str> {
        match &self.conn {
            Some(Conn::Tls(t)) => match t.tls.protocol_version()? {
                rustls::ProtocolVersion::TLSv1_3 => Some("TLSv1.3"),
                rustls::ProtocolVersion::TLSv1_2 => Some("TLSv1.2"),
                _ => None,
            },
            _ => None,
        }
    }

    /// The client configuration, loading the system's CAs on first use.
    fn config(&mut self) -> Result<Arc<ClientConfig>, TlsError> {
        match &mut self.trust {
            Trust::Only(config) | Trust::System(Some(config)) => Ok(config.clone()),
            Trust::Nothing => Err(TlsError::NoTrustAnchors),
            Trust::System(slot) => {
                let found = rustls_native_certs::load_native_certs();
                let mut roots = RootCertStore::empty();
                let (added, _unusable) = roots.add_parsable_certificates(found.certs);
                if added == 0 {
                    return Err(TlsError::NoTrustAnchors);
                }
                let config = client_config(roots);
                *slot = Some(config.clone());
                Ok(config)
            }
        }
    }

    /// The handshake over the open plain connection, finished by `deadline`. On failure the
    /// connection is closed.
    fn start_tls_until(&mut self, host: &str, deadline: Instant) -> Result<(), TlsError> {
        let mut tcp = match self.conn.take() {
            Some(Conn::Plain(tcp)) => tcp,
            other => {
                // Not connected, or TLS already: nothing to start.
                self.conn = other;
                return Err(TlsError::Handshake);
            }
        };
        match self.config().and_then(|config| handshake(config, host, &mut tcp, deadline)) {
            Ok(tls) => {
                self.conn = Some(Conn::Tls(Box::new(TlsStream { tls, tcp, broken: false })));
                Ok(())
            }
            Err(e) => {
                let _ = tcp.shutdown(std::net::Shutdown::Both);
                Err(e)
            }
        }
    }

    fn conn(&mut self) -> Result<&mut Conn, StdError> {
        self.conn.as_mut().ok_or(StdError(ErrorKind::NotConnected))
    }

    fn tcp(&self) -> Option<&TcpStream> {
        match &self.conn {
            Some(Conn::Plain(tcp)) => Some(tcp),
            Some(Conn::Tls(t)) => Some(&t.tcp),
            None => None,
        }
    }
}

impl Default for StdTransport {
    fn default() -> Self {
        Self::new()
    }
}

/// TLS 1.3 and 1.2 with the process's crypto provider (see the module documentation) and
/// its default cipher suites.
fn client_config(roots: RootCertStore) -> Arc<ClientConfig> {
    let config = ClientConfig::builder_with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

/// What a failed handshake means to the engine.
fn classify(e: &rustls::Error) -> TlsError {
    match e {
        rustls::Error::InvalidCertificate(why) => match why {
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => TlsError::NameMismatch,
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => TlsError::Expired,
            // Unknown issuer, bad signature, bad encoding, wrong purpose, revoked...
            _ => TlsError::UntrustedCertificate,
        },
        _ => TlsError::Handshake,
    }
}

fn io_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)
}

/// Runs the client side of a TLS handshake over `tcp` until it is done or `deadline` passes;
/// every socket wait is bounded by the time left.
fn handshake(config: Arc<ClientConfig>, host: &str, tcp: &mut TcpStream, deadline: Instant) -> Result<ClientConnection, TlsError> {
    // An IP literal becomes ServerName::IpAddress (checked against the certificate's IP
    // addresses); anything else must be a valid DNS name. A name that is neither can never
    // be matched by a certificate.
    let name = ServerName::try_from(host.to_owned()).map_err(|_| TlsError::NameMismatch)?;
    let mut tls = ClientConnection::new(config, name).map_err(|e| classify(&e))?;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(TlsError::Timeout);
        }
        let _ = tcp.set_read_timeout(Some(left));
        let _ = tcp.set_write_timeout(Some(left));
        if tls.wants_write() {
            match tls.write_tls(tcp) {
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) if io_timeout(&e) => return Err(TlsError::Timeout),
                Err(_) => return Err(TlsError::Handshake),
            }
        }
        if !tls.is_handshaking() {
            return Ok(tls);
        }
        match tls.read_tls(tcp) {
            // The peer closed in the middle of the handshake.
            Ok(0) => return Err(TlsError::Handshake),
            Ok(_) => {
                if let Err(e) = tls.process_new_packets() {
                    // rustls queued an alert that tells the server why: send it, best effort.
                    let _ = tls.write_tls(tcp);
                    return Err(classify(&e));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if io_timeout(&e) => return Err(TlsError::Timeout),
            Err(_) => return Err(TlsError::Handshake),
        }
    }
}

impl TlsStream {
    /// Writes every pending TLS record to the socket by `deadline` (None: no bound but the
    /// socket's own).
    fn push(&mut self, deadline: Option<Instant>) -> std::io::Result<()> {
        while self.tls.wants_write() {
            if let Some(d) = deadline {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(std::io::ErrorKind::TimedOut.into());
                }
                self.tcp.set_write_timeout(Some(left))?;
            }
            match self.tls.write_tls(&mut self.tcp) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Reads decrypted bytes. However the records arrive (a byte at a time, say), the call
    /// returns within the socket's timeouts as set by `set_timeout`, as a plain read does.
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read_timeout = self.tcp.read_timeout()?;
        let write_timeout = self.tcp.write_timeout()?;
        let now = Instant::now();
        let (read_by, write_by) = (read_timeout.map(|t| now + t), write_timeout.map(|t| now + t));
        let result = self.read_until(buf, read_by, write_by);
        // The next call starts from the timeouts the caller set.
        let _ = self.tcp.set_read_timeout(read_timeout);
        let _ = self.tcp.set_write_timeout(write_timeout);
        result
    }

    fn read_until(&mut self, buf: &mut [u8], read_by: Option<Instant>, write_by: Option<Instant>) -> std::io::Result<usize> {
        loop {
            // Decrypted bytes first; Ok(0) after the server's close_notify, UnexpectedEof
            // when the connection ended without one.
            match self.tls.reader().read(buf) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                other => return other,
            }
            if self.broken {
                return Err(std::io::ErrorKind::InvalidData.into());
            }
            // Records rustls wants to send first (alerts, key updates).
            self.push(write_by)?;
            if let Some(d) = read_by {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(std::io::ErrorKind::TimedOut.into());
                }
                self.tcp.set_read_timeout(Some(left))?;
            }
            self.tls.read_tls(&mut self.tcp)?;
            if let Err(e) = self.tls.process_new_packets() {
                let _ = self.tls.write_tls(&mut self.tcp);
                self.broken = true;
                // The records before the bad one were authenticated: their plaintext is the
                // server's (a final 250, say) and is delivered before the error.
                return match self.tls.reader().read(buf) {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
                };
            }
        }
    }

    /// Encrypts (part of) `buf` and sends it within the socket's write timeout; an error when
    /// the records cannot leave in time.
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let timeout = self.tcp.write_timeout()?;
        let deadline = timeout.map(|t| Instant::now() + t);
        let result = self.push(deadline).and_then(|()| {
            let n = self.tls.writer().write(buf)?;
            self.push(deadline).map(|()| n)
        });
        let _ = self.tcp.set_write_timeout(timeout);
        result
    }

    /// Sends whatever records are pending, within the socket's write timeout.
    fn flush(&mut self) -> std::io::Result<()> {
        let timeout = self.tcp.write_timeout()?;
        let result = self.push(timeout.map(|t| Instant::now() + t));
        let _ = self.tcp.set_write_timeout(timeout);
        result
    }
}

fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, StdError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let addrs: Vec<SocketAddr> = (host, port).to_socket_addrs().map_err(|_| StdError(ErrorKind::NotFound))?.collect();
    if addrs.is_empty() {
        return Err(StdError(ErrorKind::NotFound));
    }
    Ok(addrs)
}

/// How long `close` waits for the close_notify alert to leave.
const CLOSE_NOTIFY_WAIT: Duration = Duration::from_millis(200);

impl Transport for StdTransport {
    fn connect(&mut self, host: &str, port: u16, timeout_ms: u32) -> Result<(), StdError> {
        self.close();
        let deadline = Instant::now() + Duration::from_millis(u64::from(timeout_ms.max(1)));
        let mut last = StdError(ErrorKind::NotConnected);
        // Every address the name has, in resolver order, within the one timeout.
        for addr in resolve(host, port)? {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(StdError(ErrorKind::TimedOut));
            }
            match TcpStream::connect_timeout(&addr, left) {
                Ok(stream) => {
                    // Commands are coalesced by the engine: never wait for Nagle.
                    stream.set_nodelay(true)?;
                    self.conn = Some(Conn::Plain(stream));
                    return Ok(());
                }
                Err(e) => last = e.into(),
            }
        }
        Err(last)
    }

    fn set_timeout(&mut self, timeout_ms: u32) {
        if let Some(stream) = self.tcp() {
            let t = Some(Duration::from_millis(u64::from(timeout_ms.max(1))));
            let _ = stream.set_read_timeout(t);
            let _ = stream.set_write_timeout(t);
        }
    }

    fn close(&mut self) {
        match self.conn.take() {
            Some(Conn::Tls(mut t)) => {
                t.tls.send_close_notify();
                let _ = t.push(Some(Instant::now() + CLOSE_NOTIFY_WAIT));
                let _ = t.tcp.shutdown(std::net::Shutdown::Both);
            }
            Some(Conn::Plain(tcp)) => {
                let _ = tcp.shutdown(std::net::Shutdown::Both);
            }
            None => {}
        }
    }

    fn start_tls(&mut self, host: &str, timeout_ms: u32) -> Result<(), TlsError> {
        let deadline = Instant::now() + Duration::from_millis(u64::from(timeout_ms.max(1)));
        self.start_tls_until(host, deadline)
    }

    /// Connect and handshake within the one `timeout_ms`.
    fn connect_tls(&mut self, host: &str, port: u16, name: &str, timeout_ms: u32) -> Result<(), ConnectTlsError<StdError>> {
        let deadline = Instant::now() + Duration::from_millis(u64::from(timeout_ms.max(1)));
        self.connect(host, port, timeout_ms).map_err(ConnectTlsError::Connect)?;
        self.start_tls_until(name, deadline).map_err(ConnectTlsError::Tls)
    }
}

impl embedded_io::ErrorType for StdTransport {
    type Error = StdError;
}

impl embedded_io::Read for StdTransport {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, StdError> {
        Ok(match self.conn()? {
            Conn::Plain(tcp) => tcp.read(buf)?,
            Conn::Tls(t) => t.read(buf)?,
        })
    }
}

impl embedded_io::Write for StdTransport {
    fn write(&mut self, buf: &[u8]) -> Result<usize, StdError> {
        // std sends with MSG_NOSIGNAL: a peer that went away is an error, not SIGPIPE.
        Ok(match self.conn()? {
            Conn::Plain(tcp) => tcp.write(buf)?,
            Conn::Tls(t) => t.write(buf)?,
        })
    }

    fn flush(&mut self) -> Result<(), StdError> {
        match self.conn()? {
            Conn::Plain(tcp) => tcp.flush()?,
            Conn::Tls(t) => t.flush()?,
        }
        Ok(())
    }
}

/// The std clock: monotonic milliseconds, the system's wall clock, hash-seeded entropy.
#[derive(Debug, Clone, Copy)]
pub struct StdClock {
    start: Instant,
}

impl StdClock {
    pub fn new() -> Self {
        StdClock { start: Instant::now() }
    }
}

impl Default for StdClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for StdClock {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn unix_time(&self) -> Option<u64> {
        SystemTime::now().duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs())
    }

    fn entropy(&mut self) -> u32 {
        use std::hash::{BuildHasher, Hasher};
        // RandomState is seeded from the OS's random source.
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(self.start.elapsed().as_nanos());
        h.finish() as u32
    }
}
