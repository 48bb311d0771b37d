//! Host platform: std TCP sockets (IPv4 and IPv6, TCP_NODELAY, connect timeout) and the
//! std clock. Used by the CLI, the host C library and the tests.

use super::{Clock, Transport};
use embedded_io::ErrorKind;
use std::io::{Read as _, Write as _};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
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

/// A TCP connection made with std sockets.
#[derive(Debug)]
pub struct StdTransport {
    stream: Option<TcpStream>,
}

impl StdTransport {
    pub const fn new() -> Self {
        StdTransport { stream: None }
    }

    fn stream(&mut self) -> Result<&mut TcpStream, StdError> {
        self.stream.as_mut().ok_or(StdError(ErrorKind::NotConnected))
    }
}

impl Default for StdTransport {
    fn default() -> Self {
        Self::new()
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
                    self.stream = Some(stream);
                    return Ok(());
                }
                Err(e) => last = e.into(),
            }
        }
        Err(last)
    }

    fn set_timeout(&mut self, timeout_ms: u32) {
        if let Some(stream) = &self.stream {
            let t = Some(Duration::from_millis(u64::from(timeout_ms.max(1))));
            let _ = stream.set_read_timeout(t);
            let _ = stream.set_write_timeout(t);
        }
    }

    fn close(&mut self) {
        if let Some(stream) = self.stream.take() {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }
}

impl embedded_io::ErrorType for StdTransport {
    type Error = StdError;
}

impl embedded_io::Read for StdTransport {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, StdError> {
        Ok(self.stream()?.read(buf)?)
    }
}

impl embedded_io::Write for StdTransport {
    fn write(&mut self, buf: &[u8]) -> Result<usize, StdError> {
        // std sends with MSG_NOSIGNAL: a peer that went away is an error, not SIGPIPE.
        Ok(self.stream()?.write(buf)?)
    }

    fn flush(&mut self) -> Result<(), StdError> {
        Ok(self.stream()?.flush()?)
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
