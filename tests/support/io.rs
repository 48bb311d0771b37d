//! Reading until a delimiter (on the server side of a socket, and from a client transport),
//! base64, socket options, descriptor counts.

use std::io::{ErrorKind, Read};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Reads once from `s` (retrying read timeouts until `deadline`) and appends what arrived to
/// `pending` and to `record`. False when the peer closed, the read failed or the deadline
/// passed. `s` should have a short read timeout, so that the deadline is kept.
pub fn read_more(s: &mut impl Read, pending: &mut Vec<u8>, record: &mut Vec<u8>, deadline: Instant) -> bool {
    let mut buf = [0u8; 65536];
    loop {
        if Instant::now() > deadline {
            return false;
        }
        match s.read(&mut buf) {
            Ok(0) => return false,
            Ok(n) => {
                record.extend_from_slice(&buf[..n]);
                pending.extend_from_slice(&buf[..n]);
                return true;
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
            Err(_) => return false,
        }
    }
}

/// A server's read of the client's bytes: reads from `s` until `end` is in `pending` (by
/// `deadline`), then returns the bytes before `end` and drops them and `end` from `pending`.
/// Every byte read is appended to `record` too. None when the client closes first, the read
/// fails or the deadline passes.
pub fn read_until(s: &mut impl Read, pending: &mut Vec<u8>, record: &mut Vec<u8>, end: &[u8], deadline: Instant) -> Option<Vec<u8>> {
    // Only the new bytes (and the few before them) can complete `end`: rescanning all of a
    // growing message would make a read of megabytes quadratic.
    let mut scanned: usize = 0;
    loop {
        let from = scanned.saturating_sub(end.len() - 1);
        if let Some(at) = pending[from..].windows(end.len()).position(|w| w == end) {
            let at = from + at;
            let item = pending[..at].to_vec();
            pending.drain(..at + end.len());
            return Some(item);
        }
        scanned = pending.len();
        if !read_more(s, pending, record, deadline) {
            return None;
        }
    }
}

/// A client transport's read: reads from `t` until `needle` has arrived, within `limit`, and
/// returns everything read (the needle included). Panics on a timeout, an error or an early
/// close.
pub fn read_transport_until<T: embedded_io::Read>(t: &mut T, needle: &[u8], limit: Duration) -> Vec<u8>
where
    T::Error: std::fmt::Debug,
{
    let mut got = Vec::new();
    let start = Instant::now();
    while !got.windows(needle.len()).any(|w| w == needle) {
        assert!(start.elapsed() < limit, "no {:?} within {limit:?} in {:?}", String::from_utf8_lossy(needle), String::from_utf8_lossy(&got));
        let mut buf = [0u8; 512];
        let n = t.read(&mut buf).expect("read");
        assert!(n > 0, "peer closed after {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    got
}

/// Standard base64 (what AUTH PLAIN and AUTH LOGIN send).
pub fn b64(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Open file descriptors of this process (Linux).
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}

/// Makes dropping `stream` reset the connection (RST) instead of closing it (FIN).
pub fn linger_zero(stream: &TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger { l_onoff: 1, l_linger: 0 };
    // SAFETY: the descriptor is open (owned by `stream`), and the option value is a valid
    // `linger` whose exact size is passed.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "SO_LINGER: {}", std::io::Error::last_os_error());
}
