//! One TCP connection through the shim: [`ShimSocket`] (plain) and [`ShimTls`] (with TLS).
//! Both own what the shim gave them and give it back exactly once, on drop.

use core::ffi::{c_char, c_int, CStr};
use core::ptr::{self, NonNull};

use super::ffi;

/// The shim takes and returns `int` counts: never hand it more than it can count.
fn int_len(len: usize) -> usize {
    len.min(i32::MAX as usize)
}

/// A shim result: a count, or the negative errno.
fn count(rc: c_int) -> Result<usize, c_int> {
    usize::try_from(rc).map_err(|_| rc)
}

/// An open TCP socket of the shim (`smtp_shim_connect`); closed on drop.
#[derive(Debug)]
pub(crate) struct ShimSocket {
    /// Always >= 0: the descriptor `smtp_shim_connect` returned, not yet closed.
    fd: c_int,
}

impl ShimSocket {
    /// Resolves and connects to `host` and `port` within `timeout_ms`; else the shim's negative
    /// errno (classified by [`super::error_class`]).
    pub(crate) fn connect(host: &CStr, port: u16, timeout_ms: u32) -> Result<ShimSocket, c_int> {
        // SAFETY: `host` is NUL-terminated and outlives the call; the shim does not keep it.
        Self::opened(unsafe { ffi::smtp_shim_connect(host.as_ptr(), port, timeout_ms) })
    }

    fn opened(rc: c_int) -> Result<ShimSocket, c_int> {
        if rc < 0 {
            return Err(rc);
        }
        Ok(ShimSocket { fd: rc })
    }

    /// Writes at most `buf.len()` bytes, waiting up to `timeout_ms` for room: the number
    /// written (0 only for an empty `buf`), or a negative errno.
    #[inline(always)] // one call site per user: a call costs the small profile more than the body
    pub(crate) fn send(&mut self, buf: &[u8], timeout_ms: u32) -> Result<usize, c_int> {
        // SAFETY: `fd` is open (type invariant); `buf` is valid for reads of the length given
        // for the whole call; the shim keeps no pointer.
        // (The shim itself takes at most INT32_MAX bytes: its count always fits the int.)
        count(unsafe { ffi::smtp_shim_send(self.fd, buf.as_ptr(), buf.len(), timeout_ms) })
    }

    /// Reads at most `buf.len()` bytes, waiting up to `timeout_ms` for the first: the number
    /// read (0 when the peer closed), or a negative errno.
    #[inline(always)] // as `send`
    pub(crate) fn recv(&mut self, buf: &mut [u8], timeout_ms: u32) -> Result<usize, c_int> {
        // SAFETY: `fd` is open (type invariant); `buf` is valid for writes of the length given
        // for the whole call; the shim writes at most that many bytes and keeps no pointer.
        // (The shim itself takes at most INT32_MAX bytes: its count always fits the int.)
        count(unsafe { ffi::smtp_shim_recv(self.fd, buf.as_mut_ptr(), buf.len(), timeout_ms) })
    }
}

impl Drop for ShimSocket {
    fn drop(&mut self) {
        // SAFETY: `fd` came from smtp_shim_connect (or smtp_shim_tls_connect) and is closed
        // only here, once: the value is dropped once.
        unsafe { ffi::smtp_shim_close(self.fd) }
    }
}

/// Why a TLS call failed: the shim's negative errno and its `enum smtp_shim_tls_error` value
/// (`TLS_*`; `TLS_CONNECT` when the TCP connect of an implicit-TLS connection failed, with
/// `rc` as its errno).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TlsFailure {
    pub(crate) rc: c_int,
    pub(crate) tls_error: c_int,
}

/// Where the trust anchors come from: a sec tag (Zephyr's credential store; negative: the
/// Kconfig one) or a CA file (POSIX twin).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Trust {
    pub(crate) sec_tag: i32,
    pub(crate) ca_file: Option<&'static CStr>,
}

impl Trust {
    fn ca_file_ptr(&self) -> *const c_char {
        self.ca_file.map_or(ptr::null(), CStr::as_ptr)
    }
}

/// A TLS connection through the shim: the socket and, when mbedTLS runs over it, the shim's
/// TLS state (owned; `None` for a Zephyr TLS socket, which does TLS inside the socket).
/// [`ShimTls::close`] sends close_notify within a given time; dropping it does so within
/// [`ShimTls::DROP_CLOSE_NOTIFY_MS`].
#[derive(Debug)]
pub(crate) struct ShimTls {
    state: Option<NonNull<ffi::ShimTlsState>>,
    // Declared after `state`: the socket outlives the TLS state that runs over it.
    socket: ShimSocket,
}

// SAFETY: the state behind `state` is owned by this value alone (allocated by the shim for this
// connection, freed once on close or drop) and is only used through `&mut self`; mbedTLS
// contexts are not bound to the thread that created them.
unsafe impl Send for ShimTls {}

impl ShimTls {
    /// Longest wait for the peer to take close_notify when a connection is dropped unclosed.
    pub(crate) const DROP_CLOSE_NOTIFY_MS: u32 = 1000;

    /// STARTTLS: a handshake over `socket` within `timeout_ms`, verifying the certificate for
    /// `host`. On failure the socket is closed: nothing can go out in clear on it afterwards.
    pub(crate) fn start(socket: ShimSocket, host: &CStr, trust: Trust, timeout_ms: u32) -> Result<ShimTls, TlsFailure> {
        let mut state: *mut ffi::ShimTlsState = ptr::null_mut();
        let mut tls_error: c_int = 0;
        // SAFETY: `socket.fd` is open; `host` is NUL-terminated; `ca_file_ptr` is null
        // or a 'static C string; `state` and `tls_error` are valid for writes. The shim keeps
        // none of these pointers and hands over ownership of the state it writes to `state`.
        let rc = unsafe {
            ffi::smtp_shim_tls_start(
                socket.fd,
                host.as_ptr(),
                trust.sec_tag,
                trust.ca_file_ptr(),
                timeout_ms,
                &mut state,
                &mut tls_error,
            )
        };
        if rc < 0 {
            return Err(TlsFailure { rc, tls_error });
        }
        Ok(ShimTls { state: NonNull::new(state), socket })
    }

    /// Implicit TLS: connects to `host`:`port` and runs the handshake, verifying the
    /// certificate for `verify_name`.
    pub(crate) fn connect(host: &CStr, port: u16, verify_name: &CStr, trust: Trust, timeout_ms: u32) -> Result<ShimTls, TlsFailure> {
        let mut state: *mut ffi::ShimTlsState = ptr::null_mut();
        let mut tls_error: c_int = 0;
        // SAFETY: `host` and `verify_name` are NUL-terminated and outlive the call;
        // `ca_file_ptr` is null or a 'static C string; `state` and `tls_error` are valid for
        // writes. The shim keeps none of the pointers it is given; it hands over ownership of
        // the socket it returns and of the state it writes to `state`.
        let rc = unsafe {
            ffi::smtp_shim_tls_connect(
                host.as_ptr(),
                port,
                verify_name.as_ptr(),
                trust.sec_tag,
                trust.ca_file_ptr(),
                timeout_ms,
                &mut state,
                &mut tls_error,
            )
        };
        if rc < 0 {
            return Err(TlsFailure { rc, tls_error });
        }
        Ok(ShimTls { state: NonNull::new(state), socket: ShimSocket { fd: rc } })
    }

    /// As [`ShimSocket::send`], through TLS.
    pub(crate) fn send(&mut self, buf: &[u8], timeout_ms: u32) -> Result<usize, c_int> {
        match self.state {
            // SAFETY: `state` is the live state of this connection (freed only on close or
            // drop, which consume it); `buf` is valid for reads of the length given for the
            // whole call; the shim keeps no pointer.
            Some(state) => count(unsafe { ffi::smtp_shim_tls_send(state.as_ptr(), buf.as_ptr(), int_len(buf.len()), timeout_ms) }),
            None => self.socket.send(buf, timeout_ms),
        }
    }

    /// As [`ShimSocket::recv`], through TLS (a close_notify from the peer reads as 0).
    pub(crate) fn recv(&mut self, buf: &mut [u8], timeout_ms: u32) -> Result<usize, c_int> {
        match self.state {
            // SAFETY: `state` is the live state of this connection (see `send`); `buf` is valid
            // for writes of the length given for the whole call; the shim writes at most that
            // many bytes and keeps no pointer.
            Some(state) => count(unsafe { ffi::smtp_shim_tls_recv(state.as_ptr(), buf.as_mut_ptr(), int_len(buf.len()), timeout_ms) }),
            None => self.socket.recv(buf, timeout_ms),
        }
    }

    /// Sends close_notify (waiting at most `timeout_ms` for room), frees the TLS state and
    /// closes the socket.
    pub(crate) fn close(mut self, timeout_ms: u32) {
        self.end(timeout_ms);
    }

    fn end(&mut self, timeout_ms: u32) {
        if let Some(state) = self.state.take() {
            // SAFETY: the state the shim gave this connection, freed exactly once (taken out of
            // `self.state` above); its socket is still open (closed after, by its own drop).
            unsafe { ffi::smtp_shim_tls_close(state.as_ptr(), timeout_ms) };
        }
    }
}

impl Drop for ShimTls {
    fn drop(&mut self) {
        self.end(Self::DROP_CLOSE_NOTIFY_MS);
    }
}
