//! NetX Duo's SMTP client C API (`include/nxd_smtp_client.h`), behind the `capi` feature.
//!
//! `nxd_smtp_client_create`, `nx_smtp_client_delete` and `nx_smtp_mail_send` keep NetX Duo's
//! prototypes, argument checks and status values; `nx_smtp_client_last_reply_get` and
//! `nx_smtp_client_tls_set` (TLS, which create() has no argument for) are ours.
//! The client control block [`NxSmtpClient`] is allocated by the C caller and mirrors
//! `NX_SMTP_CLIENT` field for field; every string given to create is copied into it.
//!
//! # Limits: one source for C and Rust
//! The array sizes of `NX_SMTP_CLIENT` come from macros in the header (`-D` overridable).
//! This module reads the same values at build time from the environment variables
//! `ZSMTP_MAX_USERNAME`, `ZSMTP_MAX_PASSWORD`, `ZSMTP_MAX_DOMAIN`, `ZSMTP_MAX_ADDRESS`,
//! `ZSMTP_MAX_REPLY_TEXT`, `ZSMTP_RX_BUFFER_SIZE`, `ZSMTP_TX_BUFFER_SIZE` and
//! `ZSMTP_LOCK_WORDS` (decimal), falling back to the header's defaults. Both sides must be
//! fed from one place (the Zephyr module's Kconfig); a mismatch is caught by the layout
//! check in `tests/c` (`_nx_smtp_client_layout_size` / `_nx_smtp_client_layout_offset`).
//!
//! # Platform
//! - feature `zsock` (Zephyr): sockets, clock and a `k_mutex` through the module's C shim;
//!   calls from an ISR return `NX_CALLER_ERROR`;
//! - feature `std` (host): std sockets and clock, a `std::sync::Mutex` in the lock words.
//!
//! # Threads
//! Sends on one client are serialised by the lock in the client; separate clients are
//! independent. As in NetX Duo, deleting (or re-creating) a client while another thread is
//! inside a service on that same client is the caller's error.


// With the small profile (feature `tiny`) the full create and send are left out: what only
// they use is then unused.
#![cfg_attr(feature = "tiny", allow(dead_code, unused_imports))]
// The C ABI: raw pointers from C everywhere (crate root: `deny(unsafe_code)`).
#![allow(unsafe_code)]

use core::ffi::{c_char, c_uint, c_ulong, c_ushort, c_void};
use core::mem::{align_of, offset_of, size_of};
use core::ptr::{self, addr_of, addr_of_mut};
use core::sync::atomic::{compiler_fence, AtomicUsize, Ordering};

use crate::client::{Auth, Config, Mail, Priority, TlsMode};
use crate::error::{status, ServerReply};
use crate::session::{self, Parts};
use crate::transport::{ConnectTlsError, TlsError, Transport};
use crate::wire::out::{Full, Out};
use crate::wire::ip::{format_ipv4, format_ipv6, IP_TEXT_MAX};
use crate::wire::syntax;
// Transport, clock, lock and caller context of the platform (crate::platform::netx).
use crate::platform::netx as platform;

pub use crate::limits;
use limits::*;

/// The small profile: `nxd_smtp_client_create` and `nx_smtp_mail_send` at NetX Duo's scope
/// (cargo feature `tiny`); the rest of this module serves both profiles.
#[cfg(feature = "tiny")]
mod tiny;
#[cfg(feature = "tiny")]
pub use tiny::{nx_smtp_mail_send, nxd_smtp_client_create};

const _: () = assert!(RX_BUFFER_SIZE >= session::MIN_RX, "NX_SMTP_CLIENT_RX_BUFFER_SIZE too small");
const _: () = assert!(TX_BUFFER_SIZE >= session::MIN_TX, "NX_SMTP_CLIENT_TX_BUFFER_SIZE too small");
// The id is read and written atomically (a sender may test it while another thread deletes).
const _: () = assert!(size_of::<c_ulong>() == size_of::<usize>() && align_of::<c_ulong>() == align_of::<usize>());

/// `NX_SMTP_CLIENT_ID`: "SMTP", set by create, cleared by delete.
pub const NX_SMTP_CLIENT_ID: usize = 0x534D_5450;

/// `NX_IP_VERSION_V4` / `NX_IP_VERSION_V6`.
pub const NX_IP_VERSION_V4: c_ulong = 4;
pub const NX_IP_VERSION_V6: c_ulong = 6;

/// `NX_SMTP_CLIENT_AUTH_*`.
pub const NX_SMTP_CLIENT_AUTH_NONE: c_uint = 0xFFFF;
pub const NX_SMTP_CLIENT_AUTH_LOGIN: c_uint = 1;
pub const NX_SMTP_CLIENT_AUTH_CRAM_MD5: c_uint = 2;
pub const NX_SMTP_CLIENT_AUTH_PLAIN: c_uint = 3;

/// `NX_SMTP_CLIENT_TLS_*`: the transport security of a client (`nx_smtp_client_tls_set`).
pub const NX_SMTP_CLIENT_TLS_NONE: c_uint = 0;
pub const NX_SMTP_CLIENT_TLS_STARTTLS: c_uint = 1;
pub const NX_SMTP_CLIENT_TLS_IMPLICIT: c_uint = 2;

/// `NX_SMTP_MAIL_PRIORITY_*`.
pub const NX_SMTP_MAIL_PRIORITY_LOW: c_uint = 1;
pub const NX_SMTP_MAIL_PRIORITY_NORMAL: c_uint = 2;
pub const NX_SMTP_MAIL_PRIORITY_HIGH: c_uint = 4;

/// `NXD_ADDRESS`. The C union `{ ULONG v4; ULONG v6[4]; }` has the layout of `[ULONG; 4]`
/// with `v4` in word 0, so it is modelled as an array (no union access needed).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NxdAddress {
    pub nxd_ip_version: c_ulong,
    /// Host byte order words; IPv4 in word 0; IPv6 most significant word first.
    pub nxd_ip_address: [c_ulong; 4],
}

/// Lock storage (`ULONG nx_smtp_client_lock[NX_SMTP_CLIENT_LOCK_WORDS]`).
pub type LockWords = [c_ulong; LOCK_WORDS];

/// `NX_SMTP_CLIENT`, field for field (C `CHAR`/`UCHAR` arrays are `u8` arrays here: same
/// size and alignment).
#[repr(C)]
pub struct NxSmtpClient {
    pub nx_smtp_client_id: c_ulong,
    pub nx_smtp_username: [u8; MAX_USERNAME + 1],
    pub nx_smtp_password: [u8; MAX_PASSWORD + 1],
    pub nx_smtp_client_domain: [u8; MAX_DOMAIN + 1],
    pub nx_smtp_client_mail_from_address: [u8; MAX_ADDRESS + 1],
    pub nx_smtp_client_authentication_type: c_uint,
    pub nx_smtp_server_address: NxdAddress,
    pub nx_smtp_server_port: c_ushort,
    pub nx_smtp_client_tls_mode: c_uint,
    pub nx_smtp_client_tls_server_name: [u8; MAX_DOMAIN + 1],
    pub nx_smtp_client_mail_sequence: c_ulong,
    pub nx_smtp_client_last_reply_code: c_uint,
    pub nx_smtp_client_last_reply_text: [u8; MAX_REPLY_TEXT + 1],
    pub nx_smtp_client_rx_buffer: [u8; RX_BUFFER_SIZE],
    pub nx_smtp_client_tx_buffer: [u8; TX_BUFFER_SIZE],
    pub nx_smtp_client_lock: LockWords,
}

/// Number of fields of `NX_SMTP_CLIENT`.
const FIELDS: usize = 16;

/// Field offsets in declaration order (what `_nx_smtp_client_layout_offset` reports).
const FIELD_OFFSETS: [usize; FIELDS] = [
    offset_of!(NxSmtpClient, nx_smtp_client_id),
    offset_of!(NxSmtpClient, nx_smtp_username),
    offset_of!(NxSmtpClient, nx_smtp_password),
    offset_of!(NxSmtpClient, nx_smtp_client_domain),
    offset_of!(NxSmtpClient, nx_smtp_client_mail_from_address),
    offset_of!(NxSmtpClient, nx_smtp_client_authentication_type),
    offset_of!(NxSmtpClient, nx_smtp_server_address),
    offset_of!(NxSmtpClient, nx_smtp_server_port),
    offset_of!(NxSmtpClient, nx_smtp_client_tls_mode),
    offset_of!(NxSmtpClient, nx_smtp_client_tls_server_name),
    offset_of!(NxSmtpClient, nx_smtp_client_mail_sequence),
    offset_of!(NxSmtpClient, nx_smtp_client_last_reply_code),
    offset_of!(NxSmtpClient, nx_smtp_client_last_reply_text),
    offset_of!(NxSmtpClient, nx_smtp_client_rx_buffer),
    offset_of!(NxSmtpClient, nx_smtp_client_tx_buffer),
    offset_of!(NxSmtpClient, nx_smtp_client_lock),
];

/// The layout C computes for `NX_SMTP_CLIENT` from the same limits (C's rules: each field at
/// the next multiple of its alignment, the size rounded up to the largest alignment).
// Used by the anonymous const below, which rustc before 1.87 does not count as a use.
#[allow(dead_code)]
const fn expected_layout() -> ([usize; FIELDS], usize) {
    const fn up(n: usize, a: usize) -> usize {
        n.div_ceil(a) * a
    }
    let ul = align_of::<c_ulong>();
    let ui = align_of::<c_uint>();
    let us = align_of::<c_ushort>();
    let sizes_aligns: [(usize, usize); FIELDS] = [
        (size_of::<c_ulong>(), ul),
        (MAX_USERNAME + 1, 1),
        (MAX_PASSWORD + 1, 1),
        (MAX_DOMAIN + 1, 1),
        (MAX_ADDRESS + 1, 1),
        (size_of::<c_uint>(), ui),
        (5 * size_of::<c_ulong>(), ul),
        (size_of::<c_ushort>(), us),
        (size_of::<c_uint>(), ui),
        (MAX_DOMAIN + 1, 1),
        (size_of::<c_ulong>(), ul),
        (size_of::<c_uint>(), ui),
        (MAX_REPLY_TEXT + 1, 1),
        (RX_BUFFER_SIZE, 1),
        (TX_BUFFER_SIZE, 1),
        (LOCK_WORDS * size_of::<c_ulong>(), ul),
    ];
    let mut offsets = [0usize; FIELDS];
    let mut at = 0;
    let mut max_align = 1;
    let mut fields: &[(usize, usize)] = &sizes_aligns;
    let mut slots: &mut [usize] = &mut offsets;
    // Both have FIELDS entries: the loop visits every field.
    while let ([(size, align), next_fields @ ..], [slot, next_slots @ ..]) = (fields, slots) {
        at = up(at, *align);
        *slot = at;
        at += *size;
        if *align > max_align {
            max_align = *align;
        }
        (fields, slots) = (next_fields, next_slots);
    }
    (offsets, up(at, max_align))
}

// Compile-time layout check: the Rust struct is laid out exactly as C lays out the header's
// declaration (the C side is checked against the exported values by tests/c).
const _: () = {
    let (offsets, size) = expected_layout();
    assert!(size_of::<NxSmtpClient>() == size);
    // Both are [usize; FIELDS]: the loop compares every field.
    let (mut actual, mut expected): (&[usize], &[usize]) = (&FIELD_OFFSETS, &offsets);
    while let ([a, actual_rest @ ..], [e, expected_rest @ ..]) = (actual, expected) {
        assert!(*a == *e);
        (actual, expected) = (actual_rest, expected_rest);
    }
};

// ---------------------------------------------------------------------------------------
// Pure helpers (unit-tested below).
// ---------------------------------------------------------------------------------------

/// The server address as text, or `NX_IP_ADDRESS_ERROR` for an unknown version.
fn server_text<'b>(addr: &NxdAddress, buf: &'b mut [u8; IP_TEXT_MAX]) -> Result<&'b str, u32> {
    let [w0, w1, w2, w3] = addr.nxd_ip_address;
    let mut out = Out::new(buf);
    let written = match addr.nxd_ip_version {
        NX_IP_VERSION_V4 => format_ipv4(low32(w0), &mut out),
        NX_IP_VERSION_V6 => format_ipv6([low32(w0), low32(w1), low32(w2), low32(w3)], &mut out),
        _ => return Err(status::NX_IP_ADDRESS_ERROR),
    };
    let len = out.len();
    written.map_err(|Full| status::NX_SMTP_INTERNAL_ERROR)?;
    let text = buf.get(..len).ok_or(status::NX_SMTP_INTERNAL_ERROR)?;
    core::str::from_utf8(text).map_err(|_| status::NX_SMTP_INTERNAL_ERROR)
}

/// The low 32 bits of a `ULONG` (32 bits on Zephyr's targets, 64 on LP64 hosts; NetX keeps
/// 32-bit words in it).
#[allow(clippy::unnecessary_cast)] // a no-op where c_ulong is u32
fn low32(value: c_ulong) -> u32 {
    (value as u64 & 0xFFFF_FFFF) as u32
}

/// User names and passwords: UTF-8 without control characters (CR/LF in particular).
pub fn check_credential(s: &[u8]) -> Result<&str, u32> {
    syntax::credential(s).map_err(|_| status::NX_SMTP_INVALID_PARAM)?;
    core::str::from_utf8(s).map_err(|_| status::NX_SMTP_INVALID_PARAM)
}

/// The EHLO name: the library's check (a host name, an IP address or an address literal).
pub fn check_domain(s: &[u8]) -> Result<&str, u32> {
    let text = core::str::from_utf8(s).map_err(|_| status::NX_SMTP_INVALID_PARAM)?;
    syntax::client_domain(text).map_err(|_| status::NX_SMTP_INVALID_PARAM)?;
    Ok(text)
}

/// A mailbox, bare (`a@b`) or in angle brackets (`<a@b>`): the library's check; returns it
/// without brackets.
pub fn check_address(s: &[u8]) -> Result<&str, u32> {
    let text = core::str::from_utf8(s).map_err(|_| status::NX_SMTP_INVALID_PARAM)?;
    syntax::address(text).map_err(|_| status::NX_SMTP_INVALID_PARAM)
}

/// The subject: the library's check (UTF-8, no control character but TAB, at most 998 bytes).
pub fn check_subject(s: &[u8]) -> Result<&str, u32> {
    let text = core::str::from_utf8(s).map_err(|_| status::NX_SMTP_INVALID_PARAM)?;
    syntax::subject(text).map_err(|_| status::NX_SMTP_INVALID_PARAM)?;
    Ok(text)
}

/// NetX priority values; anything else is invalid.
pub fn priority_from(value: c_uint) -> Result<Priority, u32> {
    match value {
        NX_SMTP_MAIL_PRIORITY_LOW => Ok(Priority::Low),
        NX_SMTP_MAIL_PRIORITY_NORMAL => Ok(Priority::Normal),
        NX_SMTP_MAIL_PRIORITY_HIGH => Ok(Priority::High),
        _ => Err(status::NX_SMTP_INVALID_PARAM),
    }
}

/// As NetX Duo: LOGIN, PLAIN and NONE are kept, anything else (CRAM-MD5 included) is PLAIN.
pub fn normalise_auth_type(value: c_uint) -> c_uint {
    match value {
        NX_SMTP_CLIENT_AUTH_LOGIN | NX_SMTP_CLIENT_AUTH_PLAIN | NX_SMTP_CLIENT_AUTH_NONE => value,
        _ => NX_SMTP_CLIENT_AUTH_PLAIN,
    }
}

/// `NX_SMTP_CLIENT_TLS_*` as the library's mode; `None` for an unknown value.
pub fn tls_mode_from(value: c_uint) -> Option<TlsMode> {
    match value {
        NX_SMTP_CLIENT_TLS_NONE => Some(TlsMode::None),
        NX_SMTP_CLIENT_TLS_STARTTLS => Some(TlsMode::StartTls),
        NX_SMTP_CLIENT_TLS_IMPLICIT => Some(TlsMode::Implicit),
        _ => None,
    }
}

/// The `NX_SMTP_CLIENT_TLS_*` value of a mode.
pub const fn tls_mode_value(mode: TlsMode) -> c_uint {
    match mode {
        TlsMode::None => NX_SMTP_CLIENT_TLS_NONE,
        TlsMode::StartTls => NX_SMTP_CLIENT_TLS_STARTTLS,
        TlsMode::Implicit => NX_SMTP_CLIENT_TLS_IMPLICIT,
    }
}

/// The platform transport, verifying TLS certificates for the client's TLS server name (when
/// one was set) instead of the address it connects to: NetX gives the server as an address,
/// certificates name it by host name.
struct Named<'n> {
    inner: platform::PlatformTransport,
    name: Option<&'n str>,
}

impl embedded_io::ErrorType for Named<'_> {
    type Error = <platform::PlatformTransport as embedded_io::ErrorType>::Error;
}

impl embedded_io::Read for Named<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        self.inner.read(buf)
    }
}

impl embedded_io::Write for Named<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.inner.write(buf)
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        self.inner.flush()
    }
}

impl Transport for Named<'_> {
    fn connect(&mut self, host: &str, port: u16, timeout_ms: u32) -> Result<(), Self::Error> {
        self.inner.connect(host, port, timeout_ms)
    }

    fn set_timeout(&mut self, timeout_ms: u32) {
        self.inner.set_timeout(timeout_ms)
    }

    fn close(&mut self) {
        self.inner.close()
    }

    fn start_tls(&mut self, host: &str, timeout_ms: u32) -> Result<(), TlsError> {
        self.inner.start_tls(self.name.unwrap_or(host), timeout_ms)
    }

    fn connect_tls(&mut self, host: &str, port: u16, timeout_ms: u32) -> Result<(), ConnectTlsError<Self::Error>> {
        match self.name {
            Some(name) => platform::connect_tls_as(&mut self.inner, host, port, name, timeout_ms),
            None => self.inner.connect_tls(host, port, timeout_ms),
        }
    }
}

fn auth_of(value: c_uint) -> Auth {
    match value {
        NX_SMTP_CLIENT_AUTH_LOGIN => Auth::Login,
        NX_SMTP_CLIENT_AUTH_NONE => Auth::None,
        _ => Auth::Plain,
    }
}

/// The bytes stored in a NUL-terminated field (up to its first NUL).
fn field_bytes(field: &[u8]) -> &[u8] {
    let len = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    field.get(..len).unwrap_or_default()
}

/// The string stored in a NUL-terminated field (up to its first NUL).
fn field_str(field: &[u8]) -> Result<&str, u32> {
    core::str::from_utf8(field_bytes(field)).map_err(|_| status::NX_SMTP_INTERNAL_ERROR)
}

/// Copies `src` into `dst` and NUL-fills the rest. `src` is shorter than `dst`.
fn store(dst: &mut [u8], src: &[u8]) {
    let mut bytes = src.iter();
    for slot in dst.iter_mut() {
        *slot = bytes.next().copied().unwrap_or(0);
    }
}

/// An address range of the control block (addresses only, never dereferenced).
struct Region {
    start: usize,
    end: usize,
}

impl Region {
    // Wrapping sums: an object's addresses cannot wrap around the address space (Rust and C
    // both guarantee it), and a saturating add costs code in every service.

    /// From byte `from` of the control block at `client` to its end.
    fn of(client: *const NxSmtpClient, from: usize) -> Region {
        let base = client as usize;
        Region { start: base.wrapping_add(from), end: base.wrapping_add(size_of::<NxSmtpClient>()) }
    }

    /// Whether `bytes` plus `extra` bytes after them (a terminating NUL) touch the region.
    fn overlaps(&self, bytes: &[u8], extra: usize) -> bool {
        let start = bytes.as_ptr() as usize;
        let end = start.wrapping_add(bytes.len()).wrapping_add(extra);
        start < self.end && self.start < end
    }
}

/// Overwrites `len` bytes at `p` with zeros in a way the compiler may not elide.
///
/// # Safety
/// `p` is valid for `len` byte writes.
unsafe fn wipe(p: *mut u8, len: usize) {
    for i in 0..len {
        // SAFETY: i < len and `p` is valid for `len` writes (contract).
        unsafe { ptr::write_volatile(p.add(i), 0) };
    }
    compiler_fence(Ordering::SeqCst);
}

/// Reads a NUL-terminated C string of at most `max` bytes, never looking past its NUL or
/// past `max + 1` bytes. `Err(())` when it is longer than `max`.
///
/// # Safety
/// `p` is non-null and points to a NUL-terminated string, or to at least `max + 1` readable
/// bytes; the bytes stay unchanged while the result is used.
unsafe fn bounded_cstr<'a>(p: *const c_char, max: usize) -> Result<&'a [u8], ()> {
    let p = p.cast::<u8>();
    for len in 0..=max {
        // SAFETY: every byte before index `len` was non-NUL, so byte `len` is still inside
        // the string (or inside the max + 1 readable bytes) per the contract.
        if unsafe { p.add(len).read() } == 0 {
            // SAFETY: the `len` bytes before the NUL are readable and unchanged (contract).
            return Ok(unsafe { core::slice::from_raw_parts(p, len) });
        }
    }
    Err(())
}

/// The client's id word, accessed atomically.
///
/// # Safety
/// `client` is non-null and points to a live `NX_SMTP_CLIENT`.
unsafe fn id_of<'a>(client: *mut NxSmtpClient) -> &'a AtomicUsize {
    // SAFETY: the field is valid and aligned (c_ulong has usize's size and alignment, checked
    // at compile time); all concurrent accesses to it from this module are atomic.
    unsafe { AtomicUsize::from_ptr(addr_of_mut!((*client).nx_smtp_client_id).cast::<usize>()) }
}

/// The client's lock words.
///
/// # Safety
/// `client` is non-null and points to a live `NX_SMTP_CLIENT`.
unsafe fn lock_of(client: *mut NxSmtpClient) -> *mut LockWords {
    // SAFETY: a field projection of a valid pointer (contract); no reference is made.
    unsafe { addr_of_mut!((*client).nx_smtp_client_lock) }
}

/// # Safety
/// As [`id_of`].
unsafe fn is_created(client: *mut NxSmtpClient) -> bool {
    // SAFETY: per this function's contract.
    unsafe { id_of(client) }.load(Ordering::Acquire) == NX_SMTP_CLIENT_ID
}

// ---------------------------------------------------------------------------------------
// The services.
// ---------------------------------------------------------------------------------------

/// `nxd_smtp_client_create`: checks the arguments as NetX Duo does, then copies every string
/// into `client_ptr`, sets the id and initialises the lock.
///
/// # Safety
/// Each non-null pointer is valid: `client_ptr` for writes of a whole `NX_SMTP_CLIENT` not in
/// use by another thread; the strings NUL-terminated; `server_address` readable. `ip_ptr`
/// and `client_packet_pool_ptr` are never dereferenced.
#[cfg(not(feature = "tiny"))]
#[no_mangle]
#[allow(clippy::too_many_arguments)] // NetX Duo's prototype.
pub unsafe extern "C" fn nxd_smtp_client_create(
    client_ptr: *mut NxSmtpClient,
    ip_ptr: *mut c_void,
    client_packet_pool_ptr: *mut c_void,
    username: *mut c_char,
    password: *mut c_char,
    from_address: *mut c_char,
    client_domain: *mut c_char,
    authentication_type: c_uint,
    server_address: *mut NxdAddress,
    port: c_uint,
) -> c_uint {
    if client_ptr.is_null()
        || ip_ptr.is_null()
        || client_packet_pool_ptr.is_null()
        || username.is_null()
        || password.is_null()
        || from_address.is_null()
        || client_domain.is_null()
        || server_address.is_null()
    {
        return status::NX_PTR_ERROR;
    }
    // SAFETY: all pointers are non-null and valid per this function's contract.
    match unsafe {
        create(
            client_ptr,
            username,
            password,
            from_address,
            client_domain,
            authentication_type,
            server_address,
            port,
        )
    } {
        Ok(()) => status::NX_SUCCESS,
        Err(code) => code,
    }
}

/// # Safety
/// As [`nxd_smtp_client_create`], all pointers non-null.
#[allow(clippy::too_many_arguments)]
unsafe fn create(
    client: *mut NxSmtpClient,
    username: *const c_char,
    password: *const c_char,
    from_address: *const c_char,
    client_domain: *const c_char,
    authentication_type: c_uint,
    server_address: *const NxdAddress,
    port: c_uint,
) -> Result<(), u32> {
    // SAFETY: `server_address` is non-null and readable (contract). Only the words the
    // version uses are read: an IPv4 caller may leave v6[1..3] uninitialised.
    let version = unsafe { addr_of!((*server_address).nxd_ip_version).read() };
    let mut address = NxdAddress { nxd_ip_version: version, nxd_ip_address: [0; 4] };
    match version {
        NX_IP_VERSION_V4 => {
            // SAFETY: as above.
            address.nxd_ip_address[0] = unsafe { addr_of!((*server_address).nxd_ip_address[0]).read() };
        }
        NX_IP_VERSION_V6 => {
            // SAFETY: as above; an IPv6 caller sets all four words.
            address.nxd_ip_address = unsafe { addr_of!((*server_address).nxd_ip_address).read() };
        }
        _ => return Err(status::NX_IP_ADDRESS_ERROR),
    }

    // Sizes first (NX_SIZE_ERROR, as NetX's string length checks), then contents.
    // SAFETY: the strings are non-null and NUL-terminated (contract); each read stops at
    // its NUL or one byte past its limit.
    let (user, pass, domain, from) = unsafe {
        let size = |_| status::NX_SIZE_ERROR;
        (
            bounded_cstr(username, MAX_USERNAME).map_err(size)?,
            bounded_cstr(password, MAX_PASSWORD).map_err(size)?,
            bounded_cstr(client_domain, MAX_DOMAIN).map_err(size)?,
            bounded_cstr(from_address, MAX_ADDRESS).map_err(size)?,
        )
    };
    // A string inside the control block would be overwritten while it is copied.
    let block = Region::of(client.cast_const(), 0);
    if [user, pass, domain, from].iter().any(|s| block.overlaps(s, 1)) {
        return Err(status::NX_SMTP_INVALID_PARAM);
    }
    let user_str = check_credential(user)?;
    let pass_str = check_credential(pass)?;
    let domain_str = check_domain(domain)?;
    let bare_from = check_address(from)?;
    let port = (port & 0xFFFF) as u16;
    if port == 0 {
        return Err(status::NX_SMTP_INVALID_PARAM);
    }
    let auth_type = normalise_auth_type(authentication_type);

    // The library's own configuration checks (nothing is sent).
    let mut ip_buf = [0u8; IP_TEXT_MAX];
    let server = server_text(&address, &mut ip_buf)?;
    let config = Config::new(server, port, domain_str, bare_from).auth(auth_of(auth_type), user_str, pass_str);
    config.validate(TX_BUFFER_SIZE).map_err(|e| e.status())?;

    // All checks passed: initialise the control block (as NetX: zero it, then fill it in).
    // SAFETY: `client` is valid for writes of a whole NX_SMTP_CLIENT and not in use by
    // another thread (contract); an all-zero NX_SMTP_CLIENT is a valid value.
    unsafe { ptr::write_bytes(client, 0, 1) };
    // SAFETY: as above; the lock is initialised before the id makes the client visible.
    let locked = unsafe {
        let c = &mut *client;
        store(&mut c.nx_smtp_username, user);
        store(&mut c.nx_smtp_password, pass);
        store(&mut c.nx_smtp_client_domain, domain);
        store(&mut c.nx_smtp_client_mail_from_address, from);
        c.nx_smtp_client_authentication_type = auth_type;
        c.nx_smtp_server_address = address;
        c.nx_smtp_server_port = port;
        c.nx_smtp_client_tls_mode = tls_mode_value(limits::TLS_MODE);
        platform::lock_init(addr_of_mut!(c.nx_smtp_client_lock))
    };
    if !locked {
        // Not created: leave no credentials behind.
        // SAFETY: valid for writes (contract); the lock words hold no live mutex.
        unsafe { wipe(client.cast::<u8>(), size_of::<NxSmtpClient>()) };
        return Err(status::NX_SMTP_INTERNAL_ERROR);
    }
    // SAFETY: `client` is valid (contract).
    unsafe { id_of(client) }.store(NX_SMTP_CLIENT_ID, Ordering::Release);
    Ok(())
}

/// `nx_smtp_client_delete`: wipes the credentials and the buffers, clears the id.
/// `NX_PTR_ERROR` for NULL or a client that is not created (a second delete).
///
/// # Safety
/// `client_ptr` is null or valid for reads and writes of a whole `NX_SMTP_CLIENT`; no other
/// thread is inside a service on this client.
#[no_mangle]
pub unsafe extern "C" fn nx_smtp_client_delete(client_ptr: *mut NxSmtpClient) -> c_uint {
    if client_ptr.is_null() {
        return status::NX_PTR_ERROR;
    }
    // SAFETY: non-null and valid (contract).
    if !unsafe { is_created(client_ptr) } {
        return status::NX_PTR_ERROR;
    }
    if platform::in_isr() {
        return status::NX_CALLER_ERROR;
    }
    let wipe_all = || {
        // SAFETY: valid client (contract); re-checked under the lock.
        let id = unsafe { id_of(client_ptr) };
        // Writers of the id hold the lock, so load-then-store cannot race another writer
        // (and needs no compare-and-swap, which Cortex-M0 lacks); readers only load it.
        if id.load(Ordering::Acquire) != NX_SMTP_CLIENT_ID {
            return false;
        }
        id.store(0, Ordering::Release);
        // SAFETY: everything from the user name up to (not including) the lock words is
        // plain bytes inside the client, touched by no one else while we hold the lock.
        unsafe {
            let start = addr_of_mut!((*client_ptr).nx_smtp_username).cast::<u8>();
            let end = lock_of(client_ptr).cast::<u8>();
            wipe(start, end.offset_from(start).unsigned_abs());
        }
        true
    };
    // SAFETY: a created client: its lock is initialised and the memory valid (contract).
    if !unsafe { platform::with_lock(lock_of(client_ptr), wipe_all) } {
        return status::NX_PTR_ERROR;
    }
    // SAFETY: the lock was initialised by create and nobody holds it (contract).
    unsafe { platform::lock_destroy(lock_of(client_ptr)) };
    status::NX_SUCCESS
}

/// `nx_smtp_mail_send`: one mail to one recipient over a new connection.
///
/// # Safety
/// `client_ptr` is null or points to an `NX_SMTP_CLIENT` (created or not, but initialised
/// memory); `recipient_address` and `subject` are null or NUL-terminated; `mail_body` is null
/// or valid for `mail_body_length` byte reads. No other thread deletes or re-creates the
/// client during the call.
#[cfg(not(feature = "tiny"))]
#[no_mangle]
pub unsafe extern "C" fn nx_smtp_mail_send(
    client_ptr: *mut NxSmtpClient,
    recipient_address: *mut c_char,
    priority: c_uint,
    subject: *mut c_char,
    mail_body: *mut c_char,
    mail_body_length: c_uint,
) -> c_uint {
    if client_ptr.is_null() || recipient_address.is_null() || subject.is_null() || mail_body.is_null() {
        return status::NX_PTR_ERROR;
    }
    if mail_body_length == 0 {
        return status::NX_SMTP_INVALID_PARAM;
    }
    if platform::in_isr() {
        return status::NX_CALLER_ERROR;
    }
    // SAFETY: non-null and valid (contract).
    if !unsafe { is_created(client_ptr) } {
        return status::NX_SMTP_CLIENT_NOT_INTIALIZED;
    }
    let priority = match priority_from(priority) {
        Ok(p) => p,
        Err(code) => return code,
    };
    // SAFETY: non-null and NUL-terminated (contract); bounded at the address limit.
    let recipient = match unsafe { bounded_cstr(recipient_address, MAX_ADDRESS) } {
        Ok(r) => r,
        Err(()) => return status::NX_SMTP_INVALID_PARAM,
    };
    let recipient = match check_address(recipient) {
        Ok(r) => r,
        Err(code) => return code,
    };
    // SAFETY: non-null and NUL-terminated (contract); unchanged during the call.
    let subject = unsafe { core::ffi::CStr::from_ptr(subject) }.to_bytes();
    let subject = match check_subject(subject) {
        Ok(s) => s,
        Err(code) => return code,
    };
    // SAFETY: non-null and valid for `mail_body_length` bytes (contract), unchanged during
    // the call; a c_uint length always fits in usize on supported targets.
    let body = unsafe { core::slice::from_raw_parts(mail_body.cast::<u8>(), mail_body_length as usize) };

    let send = || {
        // SAFETY: valid client (contract); re-checked under the lock.
        if !unsafe { is_created(client_ptr) } {
            return status::NX_SMTP_CLIENT_NOT_INTIALIZED;
        }
        // SAFETY: a created client whose lock we hold.
        unsafe { send_locked(client_ptr, recipient, priority, subject, body) }
    };
    // The send writes the engine's fields: no argument may live there. (The public fields,
    // e.g. the stored sender address, are only read and may be passed.)
    let engine = Region::of(client_ptr.cast_const(), offset_of!(NxSmtpClient, nx_smtp_client_mail_sequence));
    if engine.overlaps(recipient.as_bytes(), 1) || engine.overlaps(subject.as_bytes(), 1) || engine.overlaps(body, 0) {
        return status::NX_SMTP_INVALID_PARAM;
    }
    // SAFETY: a created client: its lock is initialised; valid memory (contract).
    unsafe { platform::with_lock(lock_of(client_ptr), send) }
}

/// The send itself, under the client's lock.
///
/// # Safety
/// `client` is a created client whose lock the caller holds.
unsafe fn send_locked(client: *mut NxSmtpClient, recipient: &str, priority: Priority, subject: &str, body: &[u8]) -> c_uint {
    // SAFETY: disjoint fields of a valid client, none of them the lock words (to which the
    // lock holds a shared reference); exclusive to us while the lock is held.
    let (username, password, domain, from, auth_type, address, port, tls_mode, tls_name, sequence, reply_code, reply_text, rx, tx) = unsafe {
        (
            &*addr_of!((*client).nx_smtp_username),
            &*addr_of!((*client).nx_smtp_password),
            &*addr_of!((*client).nx_smtp_client_domain),
            &*addr_of!((*client).nx_smtp_client_mail_from_address),
            addr_of!((*client).nx_smtp_client_authentication_type).read(),
            addr_of!((*client).nx_smtp_server_address).read(),
            addr_of!((*client).nx_smtp_server_port).read(),
            addr_of!((*client).nx_smtp_client_tls_mode).read(),
            &*addr_of!((*client).nx_smtp_client_tls_server_name),
            &mut *addr_of_mut!((*client).nx_smtp_client_mail_sequence),
            &mut *addr_of_mut!((*client).nx_smtp_client_last_reply_code),
            &mut *addr_of_mut!((*client).nx_smtp_client_last_reply_text),
            &mut *addr_of_mut!((*client).nx_smtp_client_rx_buffer),
            &mut *addr_of_mut!((*client).nx_smtp_client_tx_buffer),
        )
    };
    *reply_code = 0;
    store(reply_text, b"");

    let mut last_reply: Option<ServerReply> = None;
    let result = (|| -> Result<(), u32> {
        let user = field_str(username)?;
        let pass = field_str(password)?;
        let domain = field_str(domain)?;
        let from = check_address(field_str(from)?.as_bytes())?;
        let mut ip_buf = [0u8; IP_TEXT_MAX];
        let server = server_text(&address, &mut ip_buf)?;
        let (timeouts, pipelining) = platform::timing();
        let tls = tls_mode_from(tls_mode).ok_or(status::NX_SMTP_INTERNAL_ERROR)?;
        let tls_name = field_str(tls_name)?;
        let config = Config::new(server, port, domain, from)
            .auth(auth_of(auth_type), user, pass)
            .timeouts(timeouts)
            .pipelining(pipelining)
            .tls(tls)
            .allow_plaintext_auth(limits::ALLOW_PLAINTEXT_AUTH);
        let to = [recipient];
        let mail = Mail::new(subject, body).to(&to).priority(priority);

        *sequence = sequence.wrapping_add(1);
        let mut transport = Named { inner: platform::transport(), name: (!tls_name.is_empty()).then_some(tls_name) };
        let mut clock = platform::clock();
        let parts = Parts {
            transport: &mut transport,
            clock: &mut clock,
            rx: &mut rx[..],
            tx: &mut tx[..],
            last_reply: &mut last_reply,
            sequence: low32(*sequence),
        };
        match session::send(parts, &config, &mail, body) {
            Ok(_) => Ok(()),
            Err(e) => {
                if last_reply.is_none() {
                    last_reply = e.reply.clone();
                }
                Err(e.status())
            }
        }
    })();

    if let Some(reply) = &last_reply {
        *reply_code = c_uint::from(reply.code);
        let text = reply.text().as_bytes();
        store(reply_text, text.get(..text.len().min(MAX_REPLY_TEXT)).unwrap_or(&[]));
    }
    // The transmit buffer held the AUTH exchange (base64 credentials): do not leave it.
    // SAFETY: `tx` is a valid, exclusively borrowed buffer.
    unsafe { wipe(tx.as_mut_ptr(), tx.len()) };
    match result {
        Ok(()) => status::NX_SUCCESS,
        Err(code) => code,
    }
}

/// `nx_smtp_client_tls_set` (ours): the transport security of the client's following sends and,
/// optionally, the host name the server's certificate must carry.
///
/// # Safety
/// `client_ptr` is null or points to an `NX_SMTP_CLIENT` (initialised memory); `server_name` is
/// null or a NUL-terminated string. No other thread deletes or re-creates the client during the
/// call.
#[no_mangle]
pub unsafe extern "C" fn nx_smtp_client_tls_set(
    client_ptr: *mut NxSmtpClient,
    tls_mode: c_uint,
    server_name: *mut c_char,
) -> c_uint {
    if client_ptr.is_null() {
        return status::NX_PTR_ERROR;
    }
    if platform::in_isr() {
        return status::NX_CALLER_ERROR;
    }
    // SAFETY: non-null and valid (contract).
    if !unsafe { is_created(client_ptr) } {
        return status::NX_SMTP_CLIENT_NOT_INTIALIZED;
    }
    if tls_mode_from(tls_mode).is_none() {
        return status::NX_SMTP_INVALID_PARAM;
    }
    let name: &[u8] = if server_name.is_null() {
        &[]
    } else {
        // SAFETY: non-null and NUL-terminated (contract); read up to its NUL or one byte past
        // the limit; unchanged during the call.
        match unsafe { bounded_cstr(server_name, MAX_DOMAIN) } {
            Ok(n) => n,
            Err(()) => return status::NX_SIZE_ERROR,
        }
    };
    if !name.is_empty() {
        let Ok(text) = core::str::from_utf8(name) else {
            return status::NX_SMTP_INVALID_PARAM;
        };
        if syntax::server(text).is_err() {
            return status::NX_SMTP_INVALID_PARAM;
        }
    }
    // A name inside the control block would be overwritten while it is copied.
    if Region::of(client_ptr.cast_const(), 0).overlaps(name, 1) {
        return status::NX_SMTP_INVALID_PARAM;
    }
    let set = || {
        // SAFETY: valid client (contract); re-checked under the lock.
        if !unsafe { is_created(client_ptr) } {
            return status::NX_SMTP_CLIENT_NOT_INTIALIZED;
        }
        // SAFETY: two plain fields of a created client, not the lock words; nobody else uses
        // them while we hold the lock (sends read them under the same lock).
        unsafe {
            addr_of_mut!((*client_ptr).nx_smtp_client_tls_mode).write(tls_mode);
            store(&mut *addr_of_mut!((*client_ptr).nx_smtp_client_tls_server_name), name);
        }
        status::NX_SUCCESS
    };
    // SAFETY: a created client: its lock is initialised; valid memory (contract).
    unsafe { platform::with_lock(lock_of(client_ptr), set) }
}

/// `nx_smtp_client_last_reply_get` (ours): the reply that decided the last send.
///
/// # Safety
/// `client_ptr` is null or points to an `NX_SMTP_CLIENT` (initialised memory);
/// `reply_code` is null or writable; `text` is null or valid for `text_size` byte writes.
#[no_mangle]
pub unsafe extern "C" fn nx_smtp_client_last_reply_get(
    client_ptr: *mut NxSmtpClient,
    reply_code: *mut c_uint,
    text: *mut c_char,
    text_size: c_uint,
) -> c_uint {
    if client_ptr.is_null() || reply_code.is_null() || (text.is_null() && text_size != 0) {
        return status::NX_PTR_ERROR;
    }
    if platform::in_isr() {
        return status::NX_CALLER_ERROR;
    }
    // SAFETY: non-null and valid (contract).
    if !unsafe { is_created(client_ptr) } {
        return status::NX_SMTP_CLIENT_NOT_INTIALIZED;
    }
    let get = || {
        // SAFETY: valid client (contract); re-checked under the lock.
        if !unsafe { is_created(client_ptr) } {
            return status::NX_SMTP_CLIENT_NOT_INTIALIZED;
        }
        // SAFETY: fields other than the lock words, unchanged while we hold the lock.
        let (code, stored) = unsafe {
            (
                addr_of!((*client_ptr).nx_smtp_client_last_reply_code).read(),
                &*addr_of!((*client_ptr).nx_smtp_client_last_reply_text),
            )
        };
        // SAFETY: `reply_code` is non-null and writable (contract).
        unsafe { reply_code.write(code) };
        if text_size > 0 {
            let len = stored.iter().position(|&b| b == 0).unwrap_or(0);
            let n = len.min(text_size as usize - 1);
            // SAFETY: `text` is valid for `text_size` bytes (contract) and n < text_size;
            // n <= len < stored.len(); the caller's buffer is not inside the client.
            unsafe {
                ptr::copy_nonoverlapping(stored.as_ptr(), text.cast::<u8>(), n);
                text.add(n).write(0);
            }
        }
        status::NX_SUCCESS
    };
    // SAFETY: a created client: its lock is initialised; valid memory (contract).
    unsafe { platform::with_lock(lock_of(client_ptr), get) }
}

/// `sizeof(NX_SMTP_CLIENT)` as this library lays it out (for the C layout test).
#[no_mangle]
pub extern "C" fn _nx_smtp_client_layout_size() -> c_uint {
    size_of::<NxSmtpClient>() as c_uint
}

/// The offset of field `field` of `NX_SMTP_CLIENT` (declaration order), `0xFFFFFFFF` past the
/// last (for the C layout test).
#[no_mangle]
pub extern "C" fn _nx_smtp_client_layout_offset(field: c_uint) -> c_uint {
    FIELD_OFFSETS.get(field as usize).map_or(c_uint::MAX, |&o| o as c_uint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    #[test]
    fn server_text_versions() {
        let mut b = [0u8; IP_TEXT_MAX];
        let a = NxdAddress { nxd_ip_version: 4, nxd_ip_address: [0x7F00_0001, 9, 9, 9] };
        assert_eq!(server_text(&a, &mut b), Ok("127.0.0.1"));
        let a = NxdAddress { nxd_ip_version: 6, nxd_ip_address: [0, 0, 0, 1] };
        assert_eq!(server_text(&a, &mut b), Ok("::1"));
        let a = NxdAddress { nxd_ip_version: 5, nxd_ip_address: [0; 4] };
        assert_eq!(server_text(&a, &mut b), Err(status::NX_IP_ADDRESS_ERROR));
    }

    #[test]
    fn addresses() {
        assert_eq!(check_address(b"<alice@example.test>"), Ok("alice@example.test"));
        assert_eq!(check_address(b"alice@example.test"), Ok("alice@example.test"));
        assert_eq!(check_address(b"\"a@b\"@example.test"), Ok("\"a@b\"@example.test"));
        for bad in [
            &b""[..],
            b"<>",
            b"alice",
            b"@example.test",
            b"alice@",
            b"<alice@example.test",
            b"alice@example.test>",
            b"<<alice@example.test>>",
            b"alice @example.test",
            b"alice@example.test\r\nRCPT TO:<x@y>",
            b"alice@exa\nmple.test",
            b"alice@example.test\x7f",
            b"Alice <alice@example.test>",
            b"al\xffice@example.test",
        ] {
            assert_eq!(check_address(bad), Err(status::NX_SMTP_INVALID_PARAM), "{bad:?}");
        }
    }

    #[test]
    fn text_checks() {
        assert!(check_credential(b"").is_ok());
        assert!(check_credential(b"pass with spaces and \xc3\xa9").is_ok());
        assert!(check_credential(b"secret\r\n").is_err());
        assert!(check_credential(b"sec\x00ret").is_err());
        assert!(check_credential(b"\xc3").is_err());
        assert!(check_domain(b"mycompany.com").is_ok());
        assert!(check_domain(b"[127.0.0.1]").is_ok());
        assert!(check_domain(b"").is_err());
        assert!(check_domain(b"my company.com").is_err());
        assert!(check_domain(b"example.test\r\nMAIL FROM:<x@y>").is_err());
        assert!(check_subject(b"Hello\tworld \xc3\xa9").is_ok());
        assert!(check_subject(b"").is_ok());
        assert!(check_subject(b"Hi\r\nBcc: x@y").is_err());
        assert!(check_subject(b"Hi\n").is_err());
        assert!(check_subject(b"Hi\r").is_err());
        assert!(check_subject(b"\xff").is_err());
        assert!(check_subject(b"Hi\x1b[2J").is_err());
        assert!(check_subject("x".repeat(998).as_bytes()).is_ok());
        assert!(check_subject("x".repeat(999).as_bytes()).is_err());
    }

    #[test]
    fn priorities_and_auth() {
        assert_eq!(priority_from(1), Ok(Priority::Low));
        assert_eq!(priority_from(2), Ok(Priority::Normal));
        assert_eq!(priority_from(4), Ok(Priority::High));
        for p in [0, 3, 5, 8, u32::MAX] {
            assert_eq!(priority_from(p), Err(status::NX_SMTP_INVALID_PARAM));
        }
        assert_eq!(normalise_auth_type(1), 1);
        assert_eq!(normalise_auth_type(3), 3);
        assert_eq!(normalise_auth_type(0xFFFF), 0xFFFF);
        assert_eq!(normalise_auth_type(2), 3);
        assert_eq!(normalise_auth_type(0), 3);
        assert_eq!(normalise_auth_type(7), 3);
        assert_eq!(auth_of(1), Auth::Login);
        assert_eq!(auth_of(3), Auth::Plain);
        assert_eq!(auth_of(0xFFFF), Auth::None);
    }

    #[test]
    fn bounded_reads() {
        let s = c"hello";
        // SAFETY: a NUL-terminated literal.
        unsafe {
            assert_eq!(bounded_cstr(s.as_ptr(), 5), Ok(&b"hello"[..]));
            assert_eq!(bounded_cstr(s.as_ptr(), 4), Err(()));
            assert_eq!(bounded_cstr(c"".as_ptr(), 0), Ok(&b""[..]));
        }
        // Not NUL-terminated within max + 1 bytes: never read further.
        let raw = [b'x'; 4];
        // SAFETY: max + 1 = 4 readable bytes.
        assert_eq!(unsafe { bounded_cstr(raw.as_ptr().cast(), 3) }, Err(()));
    }

    #[test]
    fn regions() {
        let mut c = boxed_client();
        let cp = c.as_mut_ptr().cast_const();
        let whole = Region::of(cp, 0);
        let engine = Region::of(cp, offset_of!(NxSmtpClient, nx_smtp_client_mail_sequence));
        // SAFETY: zeroed memory of the right size, only borrowed for addresses.
        let client = unsafe { &*cp };
        let outside = [0u8; 8];
        assert!(!whole.overlaps(&outside, 1));
        assert!(whole.overlaps(&client.nx_smtp_username[..3], 1));
        assert!(!engine.overlaps(&client.nx_smtp_client_mail_from_address[..5], 1));
        assert!(engine.overlaps(&client.nx_smtp_client_tx_buffer[..], 0));
        let reply = &client.nx_smtp_client_last_reply_text[..];
        assert!(engine.overlaps(&reply[..0], 1), "an empty string whose NUL lies inside");
    }

    #[test]
    fn layout() {
        let (offsets, size) = expected_layout();
        assert_eq!(size_of::<NxSmtpClient>(), size);
        assert_eq!(_nx_smtp_client_layout_size() as usize, size);
        for (i, o) in offsets.iter().enumerate() {
            assert_eq!(_nx_smtp_client_layout_offset(i as u32) as usize, *o);
        }
        assert_eq!(_nx_smtp_client_layout_offset(FIELDS as u32), u32::MAX);
    }

    #[test]
    fn tls_set() {
        let mut c = boxed_client();
        let cp = c.as_mut_ptr();
        let mut ip = 0u64;
        let ipp = (&mut ip as *mut u64).cast::<c_void>();
        let mut addr = NxdAddress { nxd_ip_version: 4, nxd_ip_address: [0x7F00_0001, 0, 0, 0] };
        let user = c"alice".as_ptr().cast_mut();
        let from = c"alice@example.test".as_ptr().cast_mut();
        let dom = c"example.test".as_ptr().cast_mut();
        let name = c"smtp.example.test".as_ptr().cast_mut();
        // SAFETY: valid pointers to live values or null.
        unsafe {
            assert_eq!(nx_smtp_client_tls_set(cp, NX_SMTP_CLIENT_TLS_STARTTLS, name), 0xB2, "not created");
            assert_eq!(nxd_smtp_client_create(cp, ipp, ipp, user, user, from, dom, 1, &mut addr, 587), 0);
            assert_eq!((*cp).nx_smtp_client_tls_mode, tls_mode_value(limits::TLS_MODE), "create sets the default");
            assert_eq!(nx_smtp_client_tls_set(ptr::null_mut(), 1, name), status::NX_PTR_ERROR);
            assert_eq!(nx_smtp_client_tls_set(cp, 3, name), status::NX_SMTP_INVALID_PARAM);
            assert_eq!(nx_smtp_client_tls_set(cp, c_uint::MAX, ptr::null_mut()), status::NX_SMTP_INVALID_PARAM);
            for bad in [c"smtp example.test", c"smtp.example.test\r\nRCPT TO:<x@y>", c"mail@example.test"] {
                assert_eq!(nx_smtp_client_tls_set(cp, 1, bad.as_ptr().cast_mut()), status::NX_SMTP_INVALID_PARAM, "{bad:?}");
            }
            let long = CString::new("a".repeat(MAX_DOMAIN + 1)).unwrap();
            assert_eq!(nx_smtp_client_tls_set(cp, 1, long.as_ptr().cast_mut()), status::NX_SIZE_ERROR);
            // Failed calls changed nothing.
            assert_eq!((*cp).nx_smtp_client_tls_server_name[0], 0);
            assert_eq!(nx_smtp_client_tls_set(cp, NX_SMTP_CLIENT_TLS_IMPLICIT, name), 0);
            assert_eq!((*cp).nx_smtp_client_tls_mode, 2);
            assert_eq!(&(&(*cp).nx_smtp_client_tls_server_name)[..18], b"smtp.example.test\0");
            // A name inside the control block is refused.
            let inside = addr_of_mut!((*cp).nx_smtp_client_domain).cast::<c_char>();
            assert_eq!(nx_smtp_client_tls_set(cp, 1, inside), status::NX_SMTP_INVALID_PARAM);
            // NULL or "": verify the address itself.
            assert_eq!(nx_smtp_client_tls_set(cp, NX_SMTP_CLIENT_TLS_NONE, ptr::null_mut()), 0);
            assert_eq!(((*cp).nx_smtp_client_tls_mode, (*cp).nx_smtp_client_tls_server_name[0]), (0, 0));
            assert_eq!(nx_smtp_client_tls_set(cp, 1, c"".as_ptr().cast_mut()), 0);
            assert_eq!(nx_smtp_client_tls_set(cp, 1, c"::1".as_ptr().cast_mut()), 0, "an IP literal is a name");
            assert_eq!(nx_smtp_client_delete(cp), 0);
            assert_eq!((*cp).nx_smtp_client_tls_server_name, [0; MAX_DOMAIN + 1], "delete wipes it");
            assert_eq!(nx_smtp_client_tls_set(cp, 1, name), 0xB2, "deleted");
        }
        assert_eq!(tls_mode_from(0), Some(TlsMode::None));
        assert_eq!(tls_mode_from(1), Some(TlsMode::StartTls));
        assert_eq!(tls_mode_from(2), Some(TlsMode::Implicit));
        assert_eq!(tls_mode_from(3), None);
    }

    fn boxed_client() -> Box<std::mem::MaybeUninit<NxSmtpClient>> {
        Box::new(std::mem::MaybeUninit::zeroed())
    }

    #[test]
    fn create_and_delete() {
        let mut c = boxed_client();
        let cp = c.as_mut_ptr();
        let mut ip = 0u64;
        let mut pool = 0u64;
        let ipp = (&mut ip as *mut u64).cast::<c_void>();
        let poolp = (&mut pool as *mut u64).cast::<c_void>();
        let mut addr = NxdAddress { nxd_ip_version: 4, nxd_ip_address: [0x7F00_0001, 0, 0, 0] };
        let user = c"alice".as_ptr().cast_mut();
        let pass = c"secret123".as_ptr().cast_mut();
        let from = c"<alice@example.test>".as_ptr().cast_mut();
        let dom = c"example.test".as_ptr().cast_mut();
        // SAFETY: valid pointers to live values or null.
        unsafe {
            assert_eq!(nxd_smtp_client_create(cp, ipp, poolp, user, pass, from, dom, 2, &mut addr, 0x1_09FD), 0);
            let client = &*cp;
            assert_eq!(client.nx_smtp_client_authentication_type, 3, "CRAM-MD5 becomes PLAIN");
            assert_eq!(client.nx_smtp_server_port, 2557, "port & 0xFFFF");
            assert_eq!(&client.nx_smtp_client_mail_from_address[..21], b"<alice@example.test>\0");
            let mut code = 99;
            let mut text = [0x55 as c_char; 8];
            assert_eq!(nx_smtp_client_last_reply_get(cp, &mut code, text.as_mut_ptr(), 8), 0);
            assert_eq!((code, text[0]), (0, 0));
            assert_eq!(nx_smtp_client_delete(cp), 0);
            assert_eq!((*cp).nx_smtp_password, [0; MAX_PASSWORD + 1]);
            assert_eq!((*cp).nx_smtp_username, [0; MAX_USERNAME + 1]);
            assert_eq!(nx_smtp_client_delete(cp), status::NX_PTR_ERROR);
            assert_eq!(nx_smtp_client_last_reply_get(cp, &mut code, text.as_mut_ptr(), 8), 0xB2);
            let body = c"x".as_ptr().cast_mut();
            assert_eq!(nx_smtp_mail_send(cp, from, 2, body, body, 1), 0xB2);
            assert_eq!(nx_smtp_client_delete(ptr::null_mut()), status::NX_PTR_ERROR);
            // Port 0 after masking, bad version, NULLs.
            assert_eq!(nxd_smtp_client_create(cp, ipp, poolp, user, pass, from, dom, 1, &mut addr, 0x10000), 0xA5);
            addr.nxd_ip_version = 0;
            assert_eq!(nxd_smtp_client_create(cp, ipp, poolp, user, pass, from, dom, 1, &mut addr, 25), 0x21);
            assert_eq!(nxd_smtp_client_create(cp, ptr::null_mut(), poolp, user, pass, from, dom, 1, &mut addr, 25), 7);
            assert_eq!(nxd_smtp_client_create(cp, ipp, poolp, user, pass, from, dom, 1, ptr::null_mut(), 25), 7);
        }
    }
}
