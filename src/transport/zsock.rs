//! The Zephyr transport: sockets, clock, entropy and locks through the module's C shim
//! (`shim/include/smtp_shim.h`).
//!
//! Zephyr's socket calls (`zsock_*`) are `__syscall` static inline functions
//! (include/zephyr/net/socket.h), so Rust cannot link them; the shim is plain C compiled into the
//! image by the module's CMakeLists.txt (`shim/zephyr/`). On hosts, build.rs compiles the shim's
//! POSIX twin (`shim/posix/`) instead, so this very code also runs in the host tests against real
//! servers (`tests/zsock_transport.rs`).
//!
//! - [`ZsockTransport`]: a [`Transport`] over one TCP connection, with per-call timeouts, and TLS
//!   (STARTTLS and implicit) through the shim: mbedTLS driven over the socket by
//!   `shim/common/smtp_shim_tls_mbedtls.h` (the same C on Zephyr and in the host tests), or, for
//!   implicit TLS on Zephyr, a Zephyr TLS socket (docs/ARCHITECTURE.md, "TLS");
//! - [`ZsockClock`]: uptime, wall clock (when set) and entropy;
//! - [`ShimMutex`] and [`in_isr`]: what the C API needs to serialise a shared client and to
//!   refuse interrupt context;
//! - [`ShimConfig`]: the run-time configuration (Kconfig defaults overridden by settings);
//! - [`ShimLogger`]: a `log` backend writing to Zephyr's log under the `smtp_client` module;
//! - `zsmtp_shim_send_mail`: the entry point of the `smtp send` shell command.

use core::ffi::{c_char, c_int, c_void, CStr};
use core::fmt;
use core::ptr::{self, NonNull};

use embedded_io::{ErrorKind, ErrorType, Read, Write};

use crate::client::{Auth, Client, Config, Mail, Timeouts};
use crate::error::{status, Error};
use crate::transport::{Clock, ConnectTlsError, TlsError, Transport};

pub(crate) mod ffi {
    use core::ffi::{c_char, c_int, c_void};

    /// `struct smtp_shim_tls`: opaque, only ever behind a pointer the shim returned.
    #[repr(C)]
    pub struct ShimTls {
        _opaque: [u8; 0],
    }

    // Declarations of shim/include/smtp_shim.h (both implementations follow that header).
    extern "C" {
        pub fn smtp_shim_tls_start(
            fd: c_int,
            host: *const c_char,
            sec_tag: i32,
            ca_file: *const c_char,
            timeout_ms: u32,
            tls: *mut *mut ShimTls,
            tls_error: *mut c_int,
        ) -> c_int;
        #[allow(clippy::too_many_arguments)] // the C prototype
        pub fn smtp_shim_tls_connect(
            host: *const c_char,
            port: u16,
            verify_name: *const c_char,
            sec_tag: i32,
            ca_file: *const c_char,
            timeout_ms: u32,
            tls: *mut *mut ShimTls,
            tls_error: *mut c_int,
        ) -> c_int;
        pub fn smtp_shim_tls_send(tls: *mut ShimTls, buf: *const u8, len: usize, timeout_ms: u32) -> c_int;
        pub fn smtp_shim_tls_recv(tls: *mut ShimTls, buf: *mut u8, len: usize, timeout_ms: u32) -> c_int;
        pub fn smtp_shim_tls_close(tls: *mut ShimTls, timeout_ms: u32);
        pub fn smtp_shim_connect(host: *const c_char, port: u16, timeout_ms: u32) -> c_int;
        pub fn smtp_shim_send(fd: c_int, buf: *const u8, len: usize, timeout_ms: u32) -> c_int;
        pub fn smtp_shim_recv(fd: c_int, buf: *mut u8, len: usize, timeout_ms: u32) -> c_int;
        pub fn smtp_shim_close(fd: c_int);
        pub fn smtp_shim_error_class(err: c_int) -> c_int;
        pub fn smtp_shim_uptime_ms() -> i64;
        pub fn smtp_shim_unix_time(seconds: *mut i64) -> c_int;
        pub fn smtp_shim_random() -> u32;
        pub fn smtp_shim_in_isr() -> c_int;
        pub fn smtp_shim_mutex_init(storage: *mut c_void, size: usize) -> c_int;
        pub fn smtp_shim_mutex_lock(storage: *mut c_void);
        pub fn smtp_shim_mutex_unlock(storage: *mut c_void);
        pub fn smtp_shim_mutex_destroy(storage: *mut c_void);
        pub fn smtp_shim_config_load() -> c_int;
        pub fn smtp_shim_config_get(key: *const c_char, buf: *mut c_char, len: usize) -> c_int;
        pub fn smtp_shim_log(level: u32, msg: *const c_char, len: usize);
    }
}

// Classes of enum smtp_shim_error_class (smtp_shim.h).
pub(crate) const CLASS_TIMED_OUT: c_int = 1;
const CLASS_HOST_NOT_FOUND: c_int = 2;
const CLASS_REFUSED: c_int = 3;
const CLASS_RESET: c_int = 4;
const CLASS_ABORTED: c_int = 5;
const CLASS_BROKEN_PIPE: c_int = 6;
const CLASS_NOT_CONNECTED: c_int = 7;
const CLASS_INVALID: c_int = 8;
const CLASS_NO_MEMORY: c_int = 9;
const CLASS_INTERRUPTED: c_int = 11;
const CLASS_UNSUPPORTED: c_int = 12;

// Values of enum smtp_shim_tls_error (smtp_shim.h).
const TLS_UNSUPPORTED: c_int = 1;
const TLS_NO_TRUST_ANCHORS: c_int = 2;
const TLS_UNTRUSTED: c_int = 3;
const TLS_NAME_MISMATCH: c_int = 4;
const TLS_EXPIRED: c_int = 5;
const TLS_TIMEOUT: c_int = 7;
const TLS_CONNECT: c_int = 8;
const TLS_CLOCK_NOT_SET: c_int = 9;

fn tls_error(class: c_int) -> TlsError {
    match class {
        TLS_UNSUPPORTED => TlsError::Unsupported,
        TLS_NO_TRUST_ANCHORS => TlsError::NoTrustAnchors,
        TLS_UNTRUSTED => TlsError::UntrustedCertificate,
        TLS_NAME_MISMATCH => TlsError::NameMismatch,
        TLS_EXPIRED => TlsError::Expired,
        TLS_TIMEOUT => TlsError::Timeout,
        TLS_CLOCK_NOT_SET => TlsError::ClockNotSet,
        _ => TlsError::Handshake,
    }
}

/// Longest host name accepted by [`ZsockTransport::connect`] (RFC 1035: 255 octets).
pub const MAX_HOST: usize = 255;

/// `host` as a NUL-terminated C string in a fixed buffer; `None` when it is empty, longer than
/// [`MAX_HOST`] or contains a NUL.
fn c_host(host: &str) -> Option<[u8; MAX_HOST + 1]> {
    let bytes = host.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_HOST || bytes.contains(&0) {
        return None;
    }
    let mut name = [0u8; MAX_HOST + 1];
    name.get_mut(..bytes.len())?.copy_from_slice(bytes);
    Some(name)
}

/// Longest wait for the peer to take our close_notify when a TLS connection is closed.
const CLOSE_NOTIFY_MS: u32 = 1000;

/// A failed shim call: the errno value it returned and its classification.
///
/// errno numbers differ between C libraries (glibc, newlib, picolibc), so the class comes from
/// the shim, compiled against the right `<errno.h>`; [`ZsockError::errno`] is for diagnostics.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ZsockError {
    errno: i32,
    kind: ErrorKind,
}

/// The class (`CLASS_*`) of a negative shim return value: errno numbers differ between
/// Zephyr's C libraries and the host, the classes do not.
pub(crate) fn shim_error_class(rc: c_int) -> c_int {
    // SAFETY: a pure function of an integer, implemented by the shim.
    unsafe { ffi::smtp_shim_error_class(rc) }
}

/// One plain TCP connection of the shim, closed by [`ShimSocket::close`]: the safe face of
/// `smtp_shim_connect`, `smtp_shim_send`, `smtp_shim_recv` and `smtp_shim_close`. Errors are
/// the shim's negative return values (classify them with [`shim_error_class`]).
#[cfg(feature = "tiny")]
pub(crate) struct ShimSocket(c_int);

#[cfg(feature = "tiny")]
impl ShimSocket {
    /// Connects to `host` (a name or an address in text) within `timeout_ms`.
    pub(crate) fn connect(host: &CStr, port: u16, timeout_ms: u32) -> Result<Self, c_int> {
        // SAFETY: `host` is NUL-terminated and outlives the call; the shim keeps no pointer.
        let rc = unsafe { ffi::smtp_shim_connect(host.as_ptr(), port, timeout_ms) };
        if rc < 0 {
            Err(rc)
        } else {
            Ok(ShimSocket(rc))
        }
    }

    /// Sends some of `buf`: how many bytes were taken, or a negative error.
    pub(crate) fn send(&mut self, buf: &[u8], timeout_ms: u32) -> c_int {
        // SAFETY: `buf` is readable for its length during the call; the shim keeps no pointer.
        unsafe { ffi::smtp_shim_send(self.0, buf.as_ptr(), buf.len(), timeout_ms) }
    }

    /// Closes the connection. (Not on drop: the small profile closes in one place, and drop
    /// glue on every early return costs it code.)
    pub(crate) fn close(self) {
        // SAFETY: the descriptor smtp_shim_connect returned, closed once: `self` is consumed.
        unsafe { ffi::smtp_shim_close(self.0) };
    }

    /// Receives into `buf`: how many bytes arrived (0: the peer closed), or a negative error.
    pub(crate) fn recv(&mut self, buf: &mut [u8], timeout_ms: u32) -> c_int {
        // SAFETY: `buf` is writable for its length during the call; the shim keeps no pointer.
        unsafe { ffi::smtp_shim_recv(self.0, buf.as_mut_ptr(), buf.len(), timeout_ms) }
    }
}

/// Milliseconds since boot, in 32 bits (they wrap after 49 days: compare differences).
#[cfg(feature = "tiny")]
pub(crate) fn uptime_ms32() -> u32 {
    // SAFETY: no arguments, no preconditions.
    unsafe { ffi::smtp_shim_uptime_ms() as u32 }
}


impl ZsockError {
    fn from_shim(rc: c_int) -> Self {
        let kind = match shim_error_class(rc) {
            CLASS_TIMED_OUT => ErrorKind::TimedOut,
            CLASS_HOST_NOT_FOUND => ErrorKind::NotFound,
            CLASS_REFUSED => ErrorKind::ConnectionRefused,
            CLASS_RESET => ErrorKind::ConnectionReset,
            CLASS_ABORTED => ErrorKind::ConnectionAborted,
            CLASS_BROKEN_PIPE => ErrorKind::BrokenPipe,
            CLASS_NOT_CONNECTED => ErrorKind::NotConnected,
            CLASS_INVALID => ErrorKind::InvalidInput,
            CLASS_NO_MEMORY => ErrorKind::OutOfMemory,
            CLASS_INTERRUPTED => ErrorKind::Interrupted,
            CLASS_UNSUPPORTED => ErrorKind::Unsupported,
            _ => ErrorKind::Other,
        };
        ZsockError { errno: rc.saturating_abs(), kind }
    }

    const fn local(kind: ErrorKind) -> Self {
        ZsockError { errno: 0, kind }
    }

    /// The positive errno value the shim returned (0 for errors detected in Rust).
    pub const fn errno(&self) -> i32 {
        self.errno
    }
}

impl fmt::Debug for ZsockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ZsockError({:?}, errno {})", self.kind, self.errno)
    }
}

impl fmt::Display for ZsockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} (errno {})", self.kind, self.errno)
    }
}

impl core::error::Error for ZsockError {}

impl embedded_io::Error for ZsockError {
    fn kind(&self) -> ErrorKind {
        self.kind
    }
}

/// One TCP connection through the shim, optionally with TLS. Closed on drop.
///
/// TLS ([`Transport::start_tls`], [`Transport::connect_tls`]) verifies the server against trust
/// anchors that depend on the platform:
/// - Zephyr: the CA certificate(s) in the TLS credential store under the sec tag
///   [`ZsockTransport::with_sec_tag`] (default: Kconfig `CONFIG_SMTP_CLIENT_TLS_SEC_TAG`, where the
///   module registers `CONFIG_SMTP_CLIENT_TLS_CA_FILE` at boot);
/// - the POSIX twin (host tests and tools): the PEM/DER file [`ZsockTransport::with_ca_file`],
///   else the file named by the environment variable `ZSMTP_CA_FILE`, else by `SSL_CERT_FILE`.
pub struct ZsockTransport {
    fd: c_int,
    timeout_ms: u32,
    /// The shim's TLS state when mbedTLS runs over `fd` (owned: freed by `close`). `None` for
    /// plain TCP, and for a Zephyr TLS socket (which does TLS inside the socket).
    tls: Option<NonNull<ffi::ShimTls>>,
    /// Whether the connection is encrypted (either way).
    encrypted: bool,
    sec_tag: i32,
    ca_file: Option<&'static CStr>,
}

// SAFETY: the TLS state behind `tls` is owned by this transport alone (allocated by the shim for
// this connection, freed once in `close`) and is only used through `&mut self`; mbedTLS contexts
// are not bound to the thread that created them.
unsafe impl Send for ZsockTransport {}

impl ZsockTransport {
    /// Default bound of each read and write until [`Transport::set_timeout`] is called.
    pub const DEFAULT_TIMEOUT_MS: u32 = 30_000;

    pub const fn new() -> Self {
        ZsockTransport { fd: -1, timeout_ms: Self::DEFAULT_TIMEOUT_MS, tls: None, encrypted: false, sec_tag: -1, ca_file: None }
    }

    /// Zephyr: verify servers against the CA certificate(s) registered under this sec tag
    /// (`tls_credential_add(tag, TLS_CREDENTIAL_CA_CERTIFICATE, ...)`) instead of
    /// `CONFIG_SMTP_CLIENT_TLS_SEC_TAG`. A negative tag means the Kconfig one. Ignored by the
    /// POSIX twin.
    pub const fn with_sec_tag(mut self, sec_tag: i32) -> Self {
        self.sec_tag = sec_tag;
        self
    }

    /// POSIX twin: verify servers against the CA certificate(s) in this PEM or DER file. On
    /// Zephyr (which reads no files) a CA file makes every handshake fail with
    /// [`TlsError::NoTrustAnchors`]: provision CAs through the credential store.
    pub const fn with_ca_file(mut self, path: &'static CStr) -> Self {
        self.ca_file = Some(path);
        self
    }

    /// Whether a connection is open.
    pub const fn is_connected(&self) -> bool {
        self.fd >= 0
    }

    /// Whether the open connection is encrypted (after STARTTLS, or implicit TLS).
    pub const fn is_encrypted(&self) -> bool {
        self.fd >= 0 && self.encrypted
    }

    fn ca_file_ptr(&self) -> *const c_char {
        self.ca_file.map_or(ptr::null(), CStr::as_ptr)
    }

    /// Implicit TLS to `host`:`port`, verifying the certificate for `verify_name` instead of
    /// `host`: for a server given by address (the NetX C API) whose certificate names it by
    /// host name.
    pub fn connect_tls_verifying(
        &mut self,
        host: &str,
        port: u16,
        verify_name: &str,
        timeout_ms: u32,
    ) -> Result<(), ConnectTlsError<ZsockError>> {
        self.close();
        let name = c_host(host).ok_or(ConnectTlsError::Connect(ZsockError::local(ErrorKind::InvalidInput)))?;
        let verify = c_host(verify_name).ok_or(ConnectTlsError::Tls(TlsError::NameMismatch))?;
        let mut tls: *mut ffi::ShimTls = ptr::null_mut();
        let mut class: c_int = 0;
        // SAFETY: `name` and `verify` are NUL-terminated (c_host) and outlive the call;
        // `ca_file_ptr` is null or a 'static C string; `tls` and `class` are valid for writes.
        // The shim keeps none of the pointers it is given; it hands over ownership of the state
        // it writes to `tls`.
        let rc = unsafe {
            ffi::smtp_shim_tls_connect(
                name.as_ptr().cast::<c_char>(),
                port,
                verify.as_ptr().cast::<c_char>(),
                self.sec_tag,
                self.ca_file_ptr(),
                timeout_ms,
                &mut tls,
                &mut class,
            )
        };
        if rc < 0 {
            return Err(if class == TLS_CONNECT {
                ConnectTlsError::Connect(ZsockError::from_shim(rc))
            } else {
                ConnectTlsError::Tls(tls_error(class))
            });
        }
        self.fd = rc;
        self.tls = NonNull::new(tls);
        self.encrypted = true;
        Ok(())
    }
}

impl Default for ZsockTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for ZsockTransport {
    fn drop(&mut self) {
        self.close();
    }
}

impl ErrorType for ZsockTransport {
    type Error = ZsockError;
}

impl Read for ZsockTransport {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ZsockError> {
        if self.fd < 0 {
            return Err(ZsockError::local(ErrorKind::NotConnected));
        }
        if buf.is_empty() {
            return Ok(0);
        }
        // The shim returns an int: never ask for more than it can count.
        let len = buf.len().min(i32::MAX as usize);
        let rc = match self.tls {
            // SAFETY: `tls` is the live state the shim gave this connection (freed only in
            // `close`, which also clears it); `buf` is valid for writes of `len` bytes for the
            // whole call; the shim writes at most `len` bytes and keeps no pointer.
            Some(tls) => unsafe { ffi::smtp_shim_tls_recv(tls.as_ptr(), buf.as_mut_ptr(), len, self.timeout_ms) },
            // SAFETY: `buf` is valid for writes of `len` bytes for the whole call; the shim writes
            // at most `len` bytes and keeps no pointer after returning.
            None => unsafe { ffi::smtp_shim_recv(self.fd, buf.as_mut_ptr(), len, self.timeout_ms) },
        };
        if rc < 0 {
            return Err(ZsockError::from_shim(rc));
        }
        Ok(rc as usize)
    }
}

impl Write for ZsockTransport {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ZsockError> {
        if self.fd < 0 {
            return Err(ZsockError::local(ErrorKind::NotConnected));
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let len = buf.len().min(i32::MAX as usize);
        let rc = match self.tls {
            // SAFETY: `tls` is the live state of this connection (see `read`); `buf` is valid
            // for reads of `len` bytes for the whole call; the shim keeps no pointer.
            Some(tls) => unsafe { ffi::smtp_shim_tls_send(tls.as_ptr(), buf.as_ptr(), len, self.timeout_ms) },
            // SAFETY: `buf` is valid for reads of `len` bytes for the whole call; the shim keeps
            // no pointer after returning.
            None => unsafe { ffi::smtp_shim_send(self.fd, buf.as_ptr(), len, self.timeout_ms) },
        };
        if rc < 0 {
            return Err(ZsockError::from_shim(rc));
        }
        if rc == 0 {
            return Err(ZsockError::local(ErrorKind::WriteZero));
        }
        Ok(rc as usize)
    }

    fn flush(&mut self) -> Result<(), ZsockError> {
        // Every write goes straight to the socket (TCP_NODELAY is set at connect).
        if self.fd < 0 {
            return Err(ZsockError::local(ErrorKind::NotConnected));
        }
        Ok(())
    }
}

impl Transport for ZsockTransport {
    fn connect(&mut self, host: &str, port: u16, timeout_ms: u32) -> Result<(), ZsockError> {
        self.close();
        let name = c_host(host).ok_or(ZsockError::local(ErrorKind::InvalidInput))?;
        // SAFETY: `name` is NUL-terminated (at most MAX_HOST bytes were copied into a buffer of
        // MAX_HOST + 1 zeroed bytes) and outlives the call; the shim does not keep the pointer.
        let rc = unsafe { ffi::smtp_shim_connect(name.as_ptr().cast::<c_char>(), port, timeout_ms) };
        if rc < 0 {
            return Err(ZsockError::from_shim(rc));
        }
        self.fd = rc;
        Ok(())
    }

    fn set_timeout(&mut self, timeout_ms: u32) {
        self.timeout_ms = timeout_ms.max(1);
    }

    fn close(&mut self) {
        if let Some(tls) = self.tls.take() {
            // SAFETY: the state the shim gave this connection, freed exactly once (taken out of
            // `self.tls` above); its socket is still open.
            unsafe { ffi::smtp_shim_tls_close(tls.as_ptr(), self.timeout_ms.min(CLOSE_NOTIFY_MS)) };
        }
        self.encrypted = false;
        if self.fd >= 0 {
            // SAFETY: `fd` was returned by smtp_shim_connect and is closed exactly once (it is
            // reset to -1 right after).
            unsafe { ffi::smtp_shim_close(self.fd) };
            self.fd = -1;
        }
    }

    /// On failure the connection is closed: nothing can be sent over it in clear afterwards.
    fn start_tls(&mut self, host: &str, timeout_ms: u32) -> Result<(), TlsError> {
        if self.fd < 0 || self.encrypted {
            return Err(TlsError::Handshake);
        }
        let Some(name) = c_host(host) else {
            self.close();
            return Err(TlsError::NameMismatch);
        };
        let mut tls: *mut ffi::ShimTls = ptr::null_mut();
        let mut class: c_int = 0;
        // SAFETY: `fd` is this connection's open socket; `name` is NUL-terminated (c_host) and
        // outlives the call; `ca_file_ptr` is null or a 'static C string; `tls` and `class` are
        // valid for writes. The shim keeps none of these pointers and hands over ownership of
        // the state it writes to `tls`.
        let rc = unsafe {
            ffi::smtp_shim_tls_start(
                self.fd,
                name.as_ptr().cast::<c_char>(),
                self.sec_tag,
                self.ca_file_ptr(),
                timeout_ms,
                &mut tls,
                &mut class,
            )
        };
        if rc < 0 {
            // Never leave a connection behind on which a later write would go out in clear.
            self.close();
            return Err(tls_error(class));
        }
        self.tls = NonNull::new(tls);
        self.encrypted = true;
        Ok(())
    }

    fn connect_tls(&mut self, host: &str, port: u16, timeout_ms: u32) -> Result<(), ConnectTlsError<ZsockError>> {
        self.connect_tls_verifying(host, port, host, timeout_ms)
    }
}

/// The platform clock: uptime, the wall clock when it has been set, and entropy.
#[derive(Debug, Default, Clone, Copy)]
pub struct ZsockClock;

impl ZsockClock {
    pub const fn new() -> Self {
        ZsockClock
    }
}

impl Clock for ZsockClock {
    fn now_ms(&self) -> u64 {
        // SAFETY: no arguments, no preconditions.
        let ms = unsafe { ffi::smtp_shim_uptime_ms() };
        u64::try_from(ms).unwrap_or(0)
    }

    fn unix_time(&self) -> Option<u64> {
        let mut seconds: i64 = 0;
        // SAFETY: `seconds` is a valid, writable i64 for the duration of the call.
        let rc = unsafe { ffi::smtp_shim_unix_time(&mut seconds) };
        if rc == 0 {
            u64::try_from(seconds).ok()
        } else {
            None
        }
    }

    fn entropy(&mut self) -> u32 {
        // SAFETY: no arguments, no preconditions.
        unsafe { ffi::smtp_shim_random() }
    }
}

/// Whether the caller runs in an interrupt handler (where the client must not be used).
pub fn in_isr() -> bool {
    // SAFETY: no arguments, no preconditions; callable from any context.
    unsafe { ffi::smtp_shim_in_isr() != 0 }
}

/// A platform mutex (Zephyr `k_mutex`, POSIX `pthread_mutex_t`) living in storage the caller
/// owns: the C API puts it in the lock words of each client structure.
pub struct ShimMutex;

impl ShimMutex {
    /// Smallest storage the shim guarantees to fit a mutex into, alignment included.
    pub const STORAGE_MIN: usize = 64;

    /// Initialises a mutex inside `storage` (`size` bytes). Returns false if the storage is null
    /// or too small.
    ///
    /// # Safety
    /// `storage` must be valid for reads and writes of `size` bytes, must not be moved or copied
    /// until [`ShimMutex::destroy`], and must not hold a live mutex.
    pub unsafe fn init(storage: *mut c_void, size: usize) -> bool {
        // SAFETY: the caller guarantees `storage` is valid for `size` bytes and unused; the shim
        // checks null and size itself.
        unsafe { ffi::smtp_shim_mutex_init(storage, size) == 0 }
    }

    /// Locks (blocking; recursive on Zephyr, where `k_mutex` allows the owner to relock).
    ///
    /// # Safety
    /// `storage` must hold a mutex initialised by [`ShimMutex::init`] and not destroyed. Not from
    /// an interrupt handler.
    pub unsafe fn lock(storage: *mut c_void) {
        // SAFETY: guaranteed by the caller (an initialised mutex, thread context).
        unsafe { ffi::smtp_shim_mutex_lock(storage) }
    }

    /// Unlocks.
    ///
    /// # Safety
    /// `storage` must hold an initialised mutex locked by the calling thread.
    pub unsafe fn unlock(storage: *mut c_void) {
        // SAFETY: guaranteed by the caller (an initialised mutex owned by this thread).
        unsafe { ffi::smtp_shim_mutex_unlock(storage) }
    }

    /// Releases the mutex's resources (nothing on Zephyr).
    ///
    /// # Safety
    /// `storage` must hold an initialised, unlocked mutex that no thread waits on; it must not
    /// be used again before a new [`ShimMutex::init`].
    pub unsafe fn destroy(storage: *mut c_void) {
        // SAFETY: guaranteed by the caller (an initialised mutex nobody holds or waits on).
        unsafe { ffi::smtp_shim_mutex_destroy(storage) }
    }
}

// ---- Run-time configuration ----------------------------------------------------------------

use crate::limits::{MAX_ADDRESS, MAX_DOMAIN, MAX_PASSWORD, MAX_USERNAME};
/// Receive and transmit buffers of the clients this module builds (Kconfig
/// CONFIG_SMTP_CLIENT_RX_BUFFER_SIZE / CONFIG_SMTP_CLIENT_TX_BUFFER_SIZE).
pub use crate::limits::{RX_BUFFER_SIZE, TX_BUFFER_SIZE};

/// Room for server, domain, from, user and password with their NULs.
const ARENA: usize = 2 * (MAX_DOMAIN + 1) + (MAX_ADDRESS + 1) + (MAX_USERNAME + 1) + (MAX_PASSWORD + 1);

/// Why [`ShimConfig::load`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigError {
    /// The shim does not know the key (a shim older than this code).
    UnknownKey(&'static str),
    /// A value does not fit (limits of the shim and of this build disagree).
    TooLong(&'static str),
    /// A value is not UTF-8 or not a number where one is needed.
    Invalid(&'static str),
}

/// The run-time configuration (Kconfig defaults, overridden by the settings subsystem on
/// Zephyr), copied out of the shim into one fixed buffer.
pub struct ShimConfig {
    arena: [u8; ARENA],
    used: usize,
    server: (usize, usize),
    domain: (usize, usize),
    from: (usize, usize),
    user: (usize, usize),
    password: (usize, usize),
    port: u16,
    auth: Auth,
    timeouts: Timeouts,
    pipelining: bool,
}

impl ShimConfig {
    /// Loads persisted values (`smtp_shim_config_load`) and copies the configuration.
    pub fn load() -> Result<Self, ConfigError> {
        // SAFETY: no arguments; the shim serialises access to its store.
        // A load error leaves the defaults in force, which is what the caller gets then.
        let _ = unsafe { ffi::smtp_shim_config_load() };
        let mut c = ShimConfig {
            arena: [0; ARENA],
            used: 0,
            server: (0, 0),
            domain: (0, 0),
            from: (0, 0),
            user: (0, 0),
            password: (0, 0),
            port: 25,
            auth: Auth::None,
            timeouts: Timeouts::DEFAULT,
            pipelining: true,
        };
        c.server = c.take(c"server", "server")?;
        c.domain = c.take(c"domain", "domain")?;
        c.from = c.take(c"from", "from")?;
        c.user = c.take(c"user", "user")?;
        c.password = c.take(c"password", "password")?;

        let mut small = [0u8; 16];
        c.port = u16::try_from(number(get(c"port", &mut small, "port")?, "port")?)
            .map_err(|_| ConfigError::Invalid("port"))?;
        c.auth = match get(c"auth", &mut small, "auth")? {
            b"plain" => Auth::Plain,
            b"login" => Auth::Login,
            b"none" => Auth::None,
            _ => return Err(ConfigError::Invalid("auth")),
        };
        (c.timeouts, c.pipelining) = configured_timing()?;
        Ok(c)
    }

    /// Copies one value into the arena; returns its (start, len).
    fn take(&mut self, key: &CStr, name: &'static str) -> Result<(usize, usize), ConfigError> {
        let start = self.used;
        // `used` never passes the arena's end (each value leaves room for its NUL).
        let free = self.arena.get_mut(start..).ok_or(ConfigError::TooLong(name))?;
        let value = get(key, free, name)?;
        core::str::from_utf8(value).map_err(|_| ConfigError::Invalid(name))?;
        let len = value.len();
        self.used = start + len + 1;
        Ok((start, len))
    }

    fn text(&self, (start, len): (usize, usize)) -> &str {
        // Checked to be UTF-8 in `take`; never fails.
        self.arena.get(start..start + len).and_then(|value| core::str::from_utf8(value).ok()).unwrap_or("")
    }

    pub fn server(&self) -> &str {
        self.text(self.server)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn domain(&self) -> &str {
        self.text(self.domain)
    }

    pub fn from(&self) -> &str {
        self.text(self.from)
    }

    pub fn auth(&self) -> Auth {
        self.auth
    }

    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// The client configuration (credentials included; never log it with `{:?}` of the parts).
    pub fn config(&self) -> Config<'_> {
        let config = Config::new(self.server(), self.port, self.domain(), self.from())
            .timeouts(self.timeouts)
            .pipelining(self.pipelining)
            .tls(crate::limits::TLS_MODE)
            .allow_plaintext_auth(crate::limits::ALLOW_PLAINTEXT_AUTH);
        match self.auth {
            Auth::None => config,
            mechanism => config.auth(mechanism, self.text(self.user), self.text(self.password)),
        }
    }
}

impl fmt::Debug for ShimConfig {
    // By hand: the password never reaches a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShimConfig")
            .field("server", &self.server())
            .field("port", &self.port)
            .field("domain", &self.domain())
            .field("from", &self.from())
            .field("auth", &self.auth)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// `smtp_shim_config_get` into `buf`; returns the value's bytes (without the NUL).
/// The configured timeouts and pipelining switch (Kconfig defaults, settings overrides),
/// without the rest of the configuration: what the NetX C API takes from the module's
/// configuration, since its create() has no place for them.
pub fn configured_timing() -> Result<(Timeouts, bool), ConfigError> {
    let mut small = [0u8; 16];
    let mut ms = |key: &CStr, name: &'static str| number(get(key, &mut small, name)?, name);
    let timeouts = Timeouts {
        connect_ms: ms(c"timeout_connect", "timeout_connect")?,
        greeting_ms: ms(c"timeout_greeting", "timeout_greeting")?,
        reply_ms: ms(c"timeout_reply", "timeout_reply")?,
        send_ms: ms(c"timeout_send", "timeout_send")?,
        final_reply_ms: ms(c"timeout_final", "timeout_final")?,
        total_ms: ms(c"timeout_total", "timeout_total")?,
    };
    let pipelining = get(c"pipelining", &mut small, "pipelining")? != b"n";
    Ok((timeouts, pipelining))
}

fn get<'b>(key: &CStr, buf: &'b mut [u8], name: &'static str) -> Result<&'b [u8], ConfigError> {
    // SAFETY: `key` is NUL-terminated; `buf` is valid for writes of its length; the shim writes
    // at most that many bytes (value and NUL) and keeps no pointer.
    let rc = unsafe { ffi::smtp_shim_config_get(key.as_ptr(), buf.as_mut_ptr().cast::<c_char>(), buf.len()) };
    match usize::try_from(rc) {
        Ok(len) if len < buf.len() => buf.get(..len).ok_or(ConfigError::TooLong(name)),
        Ok(_) => Err(ConfigError::TooLong(name)),
        Err(_) => {
            let e = ZsockError::from_shim(rc);
            Err(match e.kind {
                ErrorKind::NotFound => ConfigError::UnknownKey(name),
                _ => ConfigError::TooLong(name),
            })
        }
    }
}

fn number(text: &[u8], name: &'static str) -> Result<u32, ConfigError> {
    if text.is_empty() || text.len() > 10 {
        return Err(ConfigError::Invalid(name));
    }
    let mut n: u64 = 0;
    for &b in text {
        if !b.is_ascii_digit() {
            return Err(ConfigError::Invalid(name));
        }
        n = n * 10 + u64::from(b - b'0');
    }
    u32::try_from(n).map_err(|_| ConfigError::Invalid(name))
}

// ---- Logging -------------------------------------------------------------------------------

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
        let mut line = Truncating { buf: [0; 160], len: 0 };
        let _ = fmt::write(&mut line, format_args!("{}: {}", record.target(), record.args()));
        // SAFETY: `line.buf` is valid for reads of `line.len` bytes; the shim copies them
        // before returning (the message need not be NUL-terminated).
        unsafe { ffi::smtp_shim_log(level, line.buf.as_ptr().cast::<c_char>(), line.len) };
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
struct Truncating<const N: usize> {
    buf: [u8; N],
    len: usize,
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

// ---- The shell's send ------------------------------------------------------------------------

/// Writes `text` into a C buffer of `len` bytes, cut to fit, always NUL-terminated.
///
/// # Safety
/// `out` must be null or valid for writes of `len` bytes.
unsafe fn put_c_text(out: *mut c_char, len: usize, args: fmt::Arguments<'_>) {
    if out.is_null() || len == 0 {
        return;
    }
    let mut line = Truncating { buf: [0u8; 256], len: 0 };
    let _ = fmt::write(&mut line, args);
    let n = line.len.min(len - 1);
    // SAFETY: the caller guarantees `out` is valid for `len` bytes; n + 1 <= len bytes are
    // written and the source (a local buffer) does not overlap it.
    unsafe {
        core::ptr::copy_nonoverlapping(line.buf.as_ptr().cast::<c_char>(), out, n);
        *out.add(n) = 0;
    }
}

/// A configuration that cannot be loaded, as the client's validation error of that field.
fn config_error(e: ConfigError) -> Error {
    use crate::{Field, Invalid};
    let (name, why) = match e {
        ConfigError::UnknownKey(name) => (name, Invalid::Empty),
        ConfigError::TooLong(name) => (name, Invalid::TooLong),
        ConfigError::Invalid(name) => (name, Invalid::Syntax),
    };
    let field = match name {
        "port" => Field::Port,
        "domain" => Field::Domain,
        "from" => Field::From,
        "user" => Field::Username,
        "password" => Field::Password,
        _ => Field::Server,
    };
    Error::new(crate::ErrorKind::InvalidInput(field, why), crate::Phase::Validate)
}

fn send_configured(to: &str, subject: &str, body: &[u8]) -> Result<crate::Sent, Error> {
    let shim = ShimConfig::load().map_err(config_error)?;
    let mut client: Client<'_, ZsockTransport, ZsockClock, RX_BUFFER_SIZE, TX_BUFFER_SIZE> =
        Client::new(shim.config(), ZsockTransport::new(), ZsockClock::new())?;
    let recipients = [to];
    let mail = Mail::new(subject, body).to(&recipients);
    client.send(&mail)
}

/// Sends one mail with the run-time configuration (the `smtp send TO SUBJECT BODY` shell
/// command). See `zsmtp_shim_send_mail` in smtp_shim.h.
///
/// # Safety
/// `to` and `subject` must be null or NUL-terminated strings; `body` must be null or valid for
/// reads of `body_len` bytes; `reply` must be null or valid for writes of `reply_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn zsmtp_shim_send_mail(
    to: *const c_char,
    subject: *const c_char,
    body: *const u8,
    body_len: usize,
    reply: *mut c_char,
    reply_len: usize,
) -> u32 {
    if in_isr() {
        return status::NX_CALLER_ERROR;
    }
    if to.is_null() || subject.is_null() || (body.is_null() && body_len != 0) {
        // SAFETY: `reply`/`reply_len` as guaranteed by the caller.
        unsafe { put_c_text(reply, reply_len, format_args!("NX_PTR_ERROR: null argument")) };
        return status::NX_PTR_ERROR;
    }
    // SAFETY: both are non-null and NUL-terminated (caller's contract); they outlive this call.
    let (to, subject) = unsafe { (CStr::from_ptr(to), CStr::from_ptr(subject)) };
    let body: &[u8] = if body_len == 0 {
        &[]
    } else {
        // SAFETY: non-null and valid for `body_len` bytes (caller's contract), not mutated
        // during the call.
        unsafe { core::slice::from_raw_parts(body, body_len) }
    };
    let (Ok(to), Ok(subject)) = (to.to_str(), subject.to_str()) else {
        // SAFETY: `reply`/`reply_len` as guaranteed by the caller.
        unsafe { put_c_text(reply, reply_len, format_args!("NX_SMTP_INVALID_PARAM: not UTF-8")) };
        return status::NX_SMTP_INVALID_PARAM;
    };
    match send_configured(to, subject, body) {
        Ok(sent) => {
            // SAFETY: `reply`/`reply_len` as guaranteed by the caller.
            unsafe { put_c_text(reply, reply_len, format_args!("{}", sent.reply)) };
            status::NX_SUCCESS
        }
        Err(e) => {
            // SAFETY: `reply`/`reply_len` as guaranteed by the caller.
            unsafe { put_c_text(reply, reply_len, format_args!("{}", e)) };
            e.status()
        }
    }
}
