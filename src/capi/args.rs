//! What the services do with C's arguments: NUL-bounded reads, the checks and their NetX
//! statuses, the server address as text, copies into and wipes of the control block, and the
//! id and lock words.

use core::ffi::{c_char, c_uint, c_ulong};
use core::mem::size_of;
use core::ptr::{self, addr_of, addr_of_mut};
use core::sync::atomic::{compiler_fence, AtomicUsize, Ordering};

use crate::client::{Priority, TlsMode};
use crate::error::status;
use crate::wire::syntax;
use super::abi::*;
use crate::limits::{MAX_ADDRESS, MAX_DOMAIN, MAX_PASSWORD, MAX_USERNAME};

/// User names and passwords: UTF-8 without control characters (CR/LF in particular).
pub fn check_credential(s: &[u8]) -> Result<&str, u32> {
    syntax::credential(s).map_err(|_| status::NX_SMTP_INVALID_PARAM)?;
    core::str::from_utf8(s).map_err(|_| status::NX_SMTP_INVALID_PARAM)
}

/// The EHLO name: the library's check (a host name, an IP address or an address literal).
pub fn check_domain(s: &[u8]) -> Result<&str, u32> {
    let text = core::str::from_utf8(s).map_err(|_| status::NX_SMTP_INVALID_PARAM)?;
    syntax::client_domain(s).map_err(|_| status::NX_SMTP_INVALID_PARAM)?;
    Ok(text)
}

/// A mailbox, bare (`a@b`) or in angle brackets (`<a@b>`): the library's check; returns it
/// without brackets.
pub fn check_address(s: &[u8]) -> Result<&str, u32> {
    let text = core::str::from_utf8(s).map_err(|_| status::NX_SMTP_INVALID_PARAM)?;
    syntax::address_str(text).map_err(|_| status::NX_SMTP_INVALID_PARAM)
}

/// The subject: the library's check (UTF-8, no control character but TAB, at most 998 bytes).
pub fn check_subject(s: &[u8]) -> Result<&str, u32> {
    let text = core::str::from_utf8(s).map_err(|_| status::NX_SMTP_INVALID_PARAM)?;
    syntax::subject(s).map_err(|_| status::NX_SMTP_INVALID_PARAM)?;
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

/// As NetX Duo: LOGIN, PLAIN and NONE are kept, anything else (CRAM-MD5 included) is PLAIN;
/// with OAuth 2.0 (feature `oauth2`, full profile) XOAUTH2 and OAUTHBEARER are kept too.
pub fn normalise_auth_type(value: c_uint) -> c_uint {
    match value {
        NX_SMTP_CLIENT_AUTH_LOGIN | NX_SMTP_CLIENT_AUTH_PLAIN | NX_SMTP_CLIENT_AUTH_NONE => value,
        #[cfg(all(feature = "oauth2", not(feature = "small")))]
        NX_SMTP_CLIENT_AUTH_XOAUTH2 | NX_SMTP_CLIENT_AUTH_OAUTHBEARER => value,
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

/// The bytes stored in a NUL-terminated field (up to its first NUL).
pub(super) fn field_bytes(field: &[u8]) -> &[u8] {
    let len = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    field.get(..len).unwrap_or_default()
}

/// Copies `src` into `dst` and NUL-fills the rest. `src` is shorter than `dst`.
pub(super) fn store(dst: &mut [u8], src: &[u8]) {
    let mut bytes = src.iter();
    for slot in dst.iter_mut() {
        *slot = bytes.next().copied().unwrap_or(0);
    }
}

/// An address range of the control block (addresses only, never dereferenced).
pub(super) struct Region {
    start: usize,
    end: usize,
}

impl Region {
    // Wrapping sums: an object's addresses cannot wrap around the address space (Rust and C
    // both guarantee it), and a saturating add costs code in every service.

    /// From byte `from` of the control block at `client` to its end.
    pub(super) fn of(client: *const NxSmtpClient, from: usize) -> Region {
        Region::span(client.cast::<u8>().wrapping_add(from), size_of::<NxSmtpClient>() - from)
    }

    /// The `len` bytes from `base`.
    pub(super) fn span(base: *const u8, len: usize) -> Region {
        let start = base as usize;
        Region { start, end: start.wrapping_add(len) }
    }

    /// Whether `bytes` plus `extra` bytes after them (a terminating NUL) touch the region.
    pub(super) fn overlaps(&self, bytes: &[u8], extra: usize) -> bool {
        let start = bytes.as_ptr() as usize;
        let end = start.wrapping_add(bytes.len()).wrapping_add(extra);
        start < self.end && self.start < end
    }
}

/// Overwrites `len` bytes at `p` with zeros in a way the compiler may not elide.
///
/// # Safety
/// `p` is valid for `len` byte writes.
pub(super) unsafe fn wipe(p: *mut u8, len: usize) {
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
pub(super) unsafe fn bounded_cstr<'a>(p: *const c_char, max: usize) -> Result<&'a [u8], ()> {
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
pub(super) unsafe fn id_of<'a>(client: *mut NxSmtpClient) -> &'a AtomicUsize {
    // SAFETY: the field is valid and aligned (c_ulong has usize's size and alignment, checked
    // at compile time); all concurrent accesses to it from this module are atomic.
    unsafe { AtomicUsize::from_ptr(addr_of_mut!((*client).nx_smtp_client_id).cast::<usize>()) }
}

/// The client's lock words.
///
/// # Safety
/// `client` is non-null and points to a live `NX_SMTP_CLIENT`.
pub(super) unsafe fn lock_of(client: *mut NxSmtpClient) -> *mut LockWords {
    // SAFETY: a field projection of a valid pointer (contract); no reference is made.
    unsafe { addr_of_mut!((*client).nx_smtp_client_lock) }
}

/// # Safety
/// As [`id_of`].
pub(super) unsafe fn is_created(client: *mut NxSmtpClient) -> bool {
    // SAFETY: per this function's contract.
    unsafe { id_of(client) }.load(Ordering::Acquire) == NX_SMTP_CLIENT_ID
}

/// A created client whose lock the caller holds, taken apart into its fields: what a send
/// reads and writes, borrowed separately (never the lock words, which the lock is using). The
/// one place where a driver turns the raw pointer into references.
#[cfg_attr(feature = "small", allow(dead_code))] // the small profile keeps no reply text, TLS name or sequence
pub(super) struct Locked<'c> {
    pub username: &'c [u8; MAX_USERNAME + 1],
    pub password: &'c [u8; MAX_PASSWORD + 1],
    pub domain: &'c [u8; MAX_DOMAIN + 1],
    pub from: &'c [u8; MAX_ADDRESS + 1],
    pub auth_type: c_uint,
    pub address: &'c NxdAddress,
    pub port: u16,
    pub tls_mode: c_uint,
    pub tls_name: &'c [u8; MAX_DOMAIN + 1],
    pub sequence: &'c mut c_ulong,
    pub reply_code: &'c mut c_uint,
    pub reply_text: &'c mut [u8],
    pub rx: &'c mut [u8],
    pub tx: &'c mut [u8],
    #[cfg(feature = "oauth2")]
    pub token: &'c mut [u8; crate::limits::OAUTH2_TOKEN_MAX],
    #[cfg(feature = "oauth2")]
    pub token_length: &'c mut c_uint,
    #[cfg(feature = "oauth2")]
    pub refresh: Option<TokenRefresh>,
    #[cfg(feature = "oauth2")]
    pub refresh_context: *mut core::ffi::c_void,
}

impl Locked<'_> {
    /// # Safety
    /// `client` is a created client whose lock the caller holds for as long as the result
    /// lives; no other reference to its fields (but the lock words) exists meanwhile.
    #[inline(always)] // one call per driver: inlined, the fields a driver does not use cost nothing
    pub(super) unsafe fn new<'c>(client: *mut NxSmtpClient) -> Locked<'c> {
        // SAFETY: disjoint fields of a valid client, none of them the lock words; exclusive to
        // the caller while it holds the lock (contract).
        unsafe {
            Locked {
                username: &*addr_of!((*client).nx_smtp_username),
                password: &*addr_of!((*client).nx_smtp_password),
                domain: &*addr_of!((*client).nx_smtp_client_domain),
                from: &*addr_of!((*client).nx_smtp_client_mail_from_address),
                auth_type: addr_of!((*client).nx_smtp_client_authentication_type).read(),
                address: &*addr_of!((*client).nx_smtp_server_address),
                port: addr_of!((*client).nx_smtp_server_port).read(),
                tls_mode: addr_of!((*client).nx_smtp_client_tls_mode).read(),
                tls_name: &*addr_of!((*client).nx_smtp_client_tls_server_name),
                sequence: &mut *addr_of_mut!((*client).nx_smtp_client_mail_sequence),
                reply_code: &mut *addr_of_mut!((*client).nx_smtp_client_last_reply_code),
                reply_text: &mut *addr_of_mut!((*client).nx_smtp_client_last_reply_text),
                rx: &mut *addr_of_mut!((*client).nx_smtp_client_rx_buffer),
                tx: &mut *addr_of_mut!((*client).nx_smtp_client_tx_buffer),
                #[cfg(feature = "oauth2")]
                token: &mut *addr_of_mut!((*client).nx_smtp_client_token),
                #[cfg(feature = "oauth2")]
                token_length: &mut *addr_of_mut!((*client).nx_smtp_client_token_length),
                #[cfg(feature = "oauth2")]
                refresh: addr_of!((*client).nx_smtp_client_token_refresh).read(),
                #[cfg(feature = "oauth2")]
                refresh_context: addr_of!((*client).nx_smtp_client_token_refresh_context).read(),
            }
        }
    }
}

/// What `nxd_smtp_client_create` stores, read and bounded, for the profile's checks.
pub(super) struct Identity<'a> {
    pub user: &'a [u8],
    pub pass: &'a [u8],
    pub domain: &'a [u8],
    pub from: &'a [u8],
    /// Normalised (`normalise_auth_type`).
    pub auth: c_uint,
    pub address: NxdAddress,
    pub port: u16,
}
