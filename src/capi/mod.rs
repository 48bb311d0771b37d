//! NetX Duo's SMTP client C API (`include/nxd_smtp_client.h`), behind the `capi` feature.
//!
//! `nxd_smtp_client_create`, `nx_smtp_client_delete` and `nx_smtp_mail_send` keep NetX Duo's
//! prototypes, argument checks and status values; `nx_smtp_client_last_reply_get` and
//! `nx_smtp_client_tls_set` (TLS, which create() has no argument for) are ours.
//! The client control block [`NxSmtpClient`] is allocated by the C caller and mirrors
//! `NX_SMTP_CLIENT` field for field; every string given to create is copied into it.
//!
//! # Files
//! - [`abi`]: `NX_SMTP_CLIENT` and `NXD_ADDRESS` as C lays them out, the constants of the
//!   header, and the layout proof;
//! - `args`: what the services do with C's arguments: bounded string reads, the checks and
//!   their statuses, copies into the control block, wiping, the id and lock words;
//! - this file: the services both profiles share (`nx_smtp_client_delete`,
//!   `nx_smtp_client_tls_set`, `nx_smtp_client_last_reply_get`, the layout exports);
//! - `full`: `nxd_smtp_client_create` and `nx_smtp_mail_send` over the engine (`session`);
//! - `small`: the same two at NetX Duo's scope, the small profile (feature `small`);
//! - `oauth`: `nx_smtp_client_token_set` and `nx_smtp_client_token_refresh_set` (feature
//!   `oauth2`, full profile).
//!
//! # Limits: one source for C and Rust
//! The array sizes of `NX_SMTP_CLIENT` come from Kconfig (`CONFIG_SMTP_CLIENT_*`), with the
//! header's fallbacks on hosts; this module takes the same values from the build
//! configuration that build.rs generates from the same Kconfig ([`crate::limits`]). A
//! mismatch is caught by the layout check in `tests/c` (`_nx_smtp_client_layout_size` /
//! `_nx_smtp_client_layout_offset`).
//!
//! # Platform
//! `platform::netx`: with feature `zsock` (Zephyr) sockets, clock and a `k_mutex`
//! through the module's C shim (calls from an ISR return `NX_CALLER_ERROR`); with feature
//! `std` (host) std sockets and clock and a `std::sync::Mutex` in the lock words.
//!
//! # Threads
//! Sends on one client are serialised by the lock in the client; separate clients are
//! independent. As in NetX Duo, deleting (or re-creating) a client while another thread is
//! inside a service on that same client is the caller's error.

// The C ABI: raw pointers from C everywhere (crate root: `deny(unsafe_code)`).
#![allow(unsafe_code)]

pub mod abi;
mod args;
#[cfg(all(feature = "mime", not(feature = "small")))]
mod attach;
#[cfg(feature = "oauth2")]
mod oauth;
#[cfg(all(feature = "outbox", feature = "zsock", not(feature = "small")))]
mod outbox;
#[cfg(not(feature = "small"))]
mod full;
#[cfg(feature = "small")]
mod small;

pub use abi::*;
#[cfg(all(feature = "mime", not(feature = "small")))]
pub use attach::{nx_smtp_mail_send_extended, NxSmtpAttachment, NxSmtpAttachmentRead, NX_SMTP_ATTACHMENT_SIZE_UNKNOWN, NX_SMTP_CLIENT_MAX_ATTACHMENTS};
#[cfg(feature = "oauth2")]
pub use oauth::{nx_smtp_client_token_refresh_set, nx_smtp_client_token_set};
#[cfg(all(feature = "outbox", feature = "zsock", not(feature = "small")))]
pub use outbox::*;
pub use args::{check_address, check_credential, check_domain, check_subject, normalise_auth_type, priority_from, tls_mode_from, tls_mode_value};
#[cfg(not(feature = "small"))]
use full as profile;
#[cfg(feature = "small")]
use small as profile;

pub use crate::limits;

use core::ffi::{c_char, c_uint, c_void};
use core::mem::{offset_of, size_of};
use core::ptr::{self, addr_of, addr_of_mut};
use core::sync::atomic::Ordering;

use crate::error::status;
use crate::wire::syntax;
use crate::platform::netx as platform;
use crate::limits::*;
use args::*;

/// `nxd_smtp_client_create`: checks the arguments as NetX Duo does (the profile judges the
/// strings' contents), then copies every string into `client_ptr`, initialises the lock and
/// sets the id.
///
/// # Safety
/// Each non-null pointer is valid: `client_ptr` for writes of a whole `NX_SMTP_CLIENT` not in
/// use by another thread; the strings NUL-terminated; `server_address` readable. `ip_ptr`
/// and `client_packet_pool_ptr` are never dereferenced.
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
    // SAFETY: non-null and readable (contract). Only the words the version uses are read: an
    // IPv4 caller may leave the other three uninitialised.
    let version = unsafe { addr_of!((*server_address).nxd_ip_version).read() };
    let words = match version {
        // SAFETY: as above.
        NX_IP_VERSION_V4 => [unsafe { addr_of!((*server_address).nxd_ip_address[0]).read() }, 0, 0, 0],
        // SAFETY: as above; an IPv6 caller sets all four words.
        NX_IP_VERSION_V6 => unsafe { addr_of!((*server_address).nxd_ip_address).read() },
        _ => return status::NX_IP_ADDRESS_ERROR,
    };
    // Sizes first (NX_SIZE_ERROR, as NetX's string length checks), then contents.
    // SAFETY: non-null, NUL-terminated strings (contract); each read stops at its NUL or one
    // byte past its limit.
    let strings = unsafe {
        (
            bounded_cstr(username, MAX_USERNAME),
            bounded_cstr(password, MAX_PASSWORD),
            bounded_cstr(client_domain, MAX_DOMAIN),
            bounded_cstr(from_address, MAX_ADDRESS),
        )
    };
    let (Ok(user), Ok(pass), Ok(domain), Ok(from)) = strings else {
        return status::NX_SIZE_ERROR;
    };
    let id = Identity {
        user,
        pass,
        domain,
        from,
        auth: normalise_auth_type(authentication_type),
        address: NxdAddress { nxd_ip_version: version, nxd_ip_address: words },
        port: (port & 0xFFFF) as u16,
    };
    // A string inside the control block would be overwritten while it is copied.
    let block = Region::of(client_ptr.cast_const(), 0);
    if [user, pass, domain, from].iter().any(|s| block.overlaps(s, 1)) || id.port == 0 {
        return status::NX_SMTP_INVALID_PARAM;
    }
    if !profile::accepts(&id) {
        return status::NX_SMTP_INVALID_PARAM;
    }
    // All checks passed: initialise the control block (as NetX: zero it, then fill it in).
    // SAFETY: valid for writes of a whole NX_SMTP_CLIENT, not in use by another thread
    // (contract); an all-zero NX_SMTP_CLIENT is a valid value; no string lives inside it.
    unsafe {
        // The wipe loop, not a memset: the small profile links no memset.
        wipe(client_ptr.cast::<u8>(), size_of::<NxSmtpClient>());
        let c = &mut *client_ptr;
        store(&mut c.nx_smtp_username, user);
        store(&mut c.nx_smtp_password, pass);
        store(&mut c.nx_smtp_client_domain, domain);
        store(&mut c.nx_smtp_client_mail_from_address, from);
        c.nx_smtp_client_authentication_type = id.auth;
        c.nx_smtp_server_address = id.address;
        c.nx_smtp_server_port = id.port;
        // (Zero is NX_SMTP_CLIENT_TLS_NONE: a store only when Kconfig chose TLS.)
        if !matches!(limits::TLS_MODE, crate::session::TlsMode::None) {
            c.nx_smtp_client_tls_mode = tls_mode_value(limits::TLS_MODE);
        }
    }
    // SAFETY: the lock words of the client just zeroed; nobody else uses them yet.
    if !unsafe { platform::lock_init(lock_of(client_ptr)) } {
        // Not created: leave no credentials behind.
        // SAFETY: valid for writes (contract); the lock words hold no live mutex.
        unsafe { wipe(client_ptr.cast::<u8>(), size_of::<NxSmtpClient>()) };
        return status::NX_SMTP_INTERNAL_ERROR;
    }
    // SAFETY: `client_ptr` is valid (contract).
    unsafe { id_of(client_ptr) }.store(NX_SMTP_CLIENT_ID, Ordering::Release);
    status::NX_SUCCESS
}

/// `nx_smtp_mail_send`: one mail to one recipient over a new connection. The arguments are
/// read here, judged by the profile, and sent by the profile's driver under the client's lock.
///
/// # Safety
/// `client_ptr` is null or points to an `NX_SMTP_CLIENT` (created or not, but initialised
/// memory); `recipient_address` and `subject` are null or NUL-terminated; `mail_body` is null
/// or valid for `mail_body_length` byte reads. No other thread deletes or re-creates the client
/// during the call.
#[no_mangle]
pub unsafe extern "C" fn nx_smtp_mail_send(
    client_ptr: *mut NxSmtpClient,
    recipient_address: *mut c_char,
    priority: c_uint,
    subject: *mut c_char,
    mail_body: *mut c_char,
    mail_body_length: c_uint,
) -> c_uint {
    // SAFETY: the caller's contract is mail_send's.
    unsafe { mail_send(client_ptr, recipient_address, priority, subject, mail_body, mail_body_length, |_| Ok(())) }
}

/// The entry of `nx_smtp_mail_send` and its extended form: the reads and checks, then the
/// profile's send under the client's lock. `extend` completes the profile's arguments before
/// the lock is taken (the MIME parts of `nx_smtp_mail_send_extended`), or refuses them with
/// a status.
///
/// # Safety
/// As `nx_smtp_mail_send`.
unsafe fn mail_send<'a>(
    client_ptr: *mut NxSmtpClient,
    recipient_address: *mut c_char,
    priority: c_uint,
    subject: *mut c_char,
    mail_body: *mut c_char,
    mail_body_length: c_uint,
    extend: impl FnOnce(&mut profile::Args<'a>) -> Result<(), c_uint>,
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
    // SAFETY: non-null and initialised (contract).
    if !unsafe { is_created(client_ptr) } {
        return status::NX_SMTP_CLIENT_NOT_INTIALIZED;
    }
    // SAFETY: non-null, NUL-terminated (contract); each read stops at its NUL or one byte past
    // its limit.
    let (recipient, subject) = unsafe { (bounded_cstr(recipient_address, MAX_ADDRESS), bounded_cstr(subject, profile::MAX_SUBJECT)) };
    // SAFETY: valid for `mail_body_length` bytes (contract), unchanged during the call; a
    // c_uint length always fits in usize on supported targets.
    let body = unsafe { core::slice::from_raw_parts(mail_body.cast::<u8>(), mail_body_length as usize) };
    let (Ok(recipient), Ok(subject)) = (recipient, subject) else {
        return status::NX_SMTP_INVALID_PARAM;
    };
    // The send writes the client's buffers: no argument may live there. (The public fields,
    // e.g. the stored sender address, are only read and may be passed.)
    let engine = Region::of(client_ptr.cast_const(), offset_of!(NxSmtpClient, nx_smtp_client_mail_sequence));
    if engine.overlaps(recipient, 1) || engine.overlaps(subject, 1) || engine.overlaps(body, 0) {
        return status::NX_SMTP_INVALID_PARAM;
    }
    let Some(mut args) = profile::mail_args(recipient, priority, subject, body) else {
        return status::NX_SMTP_INVALID_PARAM;
    };
    if let Err(refused) = extend(&mut args) {
        return refused;
    }
    let send = || {
        // SAFETY: valid client (contract); re-checked under the lock.
        if !unsafe { is_created(client_ptr) } {
            return status::NX_SMTP_CLIENT_NOT_INTIALIZED;
        }
        // SAFETY: a created client whose lock we hold.
        unsafe { profile::send_locked(client_ptr, &args) }
    };
    // SAFETY: a created client: its lock is initialised; valid memory (contract).
    unsafe { platform::with_lock(lock_of(client_ptr), send) }
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
        // The OAuth 2.0 fields follow the lock words.
        #[cfg(feature = "oauth2")]
        // SAFETY: as above: plain fields of the client after its lock words.
        unsafe {
            oauth::wipe_token(client_ptr);
            addr_of_mut!((*client_ptr).nx_smtp_client_token_refresh).write(None);
            addr_of_mut!((*client_ptr).nx_smtp_client_token_refresh_context).write(ptr::null_mut());
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
        // SAFETY: two plain fields of a created client, not the lock words; nobody else uses
        // them while we hold the lock (sends read them under the same lock).
        unsafe {
            addr_of_mut!((*client_ptr).nx_smtp_client_tls_mode).write(tls_mode);
            store(&mut *addr_of_mut!((*client_ptr).nx_smtp_client_tls_server_name), name);
        }
    };
    // SAFETY: a created client (checked above), valid memory (contract).
    unsafe { change_locked(client_ptr, set) }
}

/// The end of every setter: `change` runs under the client's lock, after the client is found
/// still created there; `NX_SMTP_CLIENT_NOT_INTIALIZED` otherwise.
///
/// # Safety
/// `client_ptr` points to a created client (its lock initialised) that no other thread
/// deletes during the call; `change` touches only fields other than the lock words.
unsafe fn change_locked(client_ptr: *mut NxSmtpClient, change: impl FnOnce()) -> c_uint {
    let locked = || {
        // SAFETY: valid client (contract); re-checked under the lock.
        if !unsafe { is_created(client_ptr) } {
            return status::NX_SMTP_CLIENT_NOT_INTIALIZED;
        }
        change();
        status::NX_SUCCESS
    };
    // SAFETY: a created client: its lock is initialised; valid memory (contract).
    unsafe { platform::with_lock(lock_of(client_ptr), locked) }
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
    use crate::client::TlsMode;
    use core::ffi::c_void;
    use core::mem::offset_of;
    use std::ffi::CString;
    #[cfg(not(feature = "small"))]
    use {
        super::full::{auth_of, server_text},
        crate::client::{Auth, Priority},
        crate::wire::ip::ADDRESS_TEXT_LEN,
    };

    #[test]
    #[cfg(not(feature = "small"))] // server_text is the full profile's
    fn server_text_versions() {
        let mut b = [0u8; ADDRESS_TEXT_LEN];
        let a = NxdAddress { nxd_ip_version: 4, nxd_ip_address: [0x7F00_0001, 9, 9, 9] };
        assert_eq!(server_text(&a, &mut b), Ok("127.0.0.1"));
        let a = NxdAddress { nxd_ip_version: 6, nxd_ip_address: [0, 0, 0, 1] };
        assert_eq!(server_text(&a, &mut b), Ok("::1"));
        let a = NxdAddress { nxd_ip_version: 5, nxd_ip_address: [0; 4] };
        assert_eq!(server_text(&a, &mut b), Err(status::NX_IP_ADDRESS_ERROR));
    }

    /// The full profile's checks (the small profile's bodies are tested in wire::syntax).
    #[cfg(not(feature = "small"))]
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

    /// The full profile's checks (the small profile's bodies are tested in wire::syntax).
    #[cfg(not(feature = "small"))]
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
    #[cfg(not(feature = "small"))] // auth_of is the full profile's
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
