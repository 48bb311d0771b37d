//! The full profile's `nxd_smtp_client_create` and `nx_smtp_mail_send`: NetX Duo's
//! arguments, checked and stored by `args`, sent by the engine (`session`) with the
//! configured timeouts, pipelining and TLS.

use core::ffi::{c_char, c_uint, c_void};
use core::mem::{offset_of, size_of};
use core::ptr::{self, addr_of, addr_of_mut};
use core::sync::atomic::Ordering;

use crate::client::{Auth, Config, Mail, Priority};
use crate::error::{status, ServerReply};
use crate::session::{self, Parts};
use crate::transport::{ConnectTlsError, TlsError, Transport};
use crate::platform::netx as platform;
use crate::limits::{self, *};
use crate::wire::ip::{format_ipv4, format_ipv6, IP_TEXT_MAX};
use crate::wire::out::{Full, Out};
use super::abi::*;
use super::args::*;

/// The server address as text, or `NX_IP_ADDRESS_ERROR` for an unknown version.
pub(super) fn server_text<'b>(addr: &NxdAddress, buf: &'b mut [u8; IP_TEXT_MAX]) -> Result<&'b str, u32> {
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

pub(super) fn auth_of(value: c_uint) -> Auth {
    match value {
        NX_SMTP_CLIENT_AUTH_LOGIN => Auth::Login,
        NX_SMTP_CLIENT_AUTH_NONE => Auth::None,
        _ => Auth::Plain,
    }
}

/// The string stored in a NUL-terminated field (up to its first NUL).
pub(super) fn field_str(field: &[u8]) -> Result<&str, u32> {
    core::str::from_utf8(field_bytes(field)).map_err(|_| status::NX_SMTP_INTERNAL_ERROR)
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

/// `nxd_smtp_client_create`: checks the arguments as NetX Duo does, then copies every string
/// into `client_ptr`, sets the id and initialises the lock.
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

/// `nx_smtp_mail_send`: one mail to one recipient over a new connection.
///
/// # Safety
/// `client_ptr` is null or points to an `NX_SMTP_CLIENT` (created or not, but initialised
/// memory); `recipient_address` and `subject` are null or NUL-terminated; `mail_body` is null
/// or valid for `mail_body_length` byte reads. No other thread deletes or re-creates the
/// client during the call.
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
    // SAFETY: a created client whose lock we hold until we return (contract).
    let Locked { username, password, domain, from, auth_type, address, port, tls_mode, tls_name, sequence, reply_code, reply_text, rx, tx } =
        unsafe { Locked::new(client) };
    *reply_code = 0;
    store(reply_text, b"");

    let mut last_reply: Option<ServerReply> = None;
    let result = (|| -> Result<(), u32> {
        let user = field_str(username)?;
        let pass = field_str(password)?;
        let domain = field_str(domain)?;
        let from = check_address(field_str(from)?.as_bytes())?;
        let mut ip_buf = [0u8; IP_TEXT_MAX];
        let server = server_text(address, &mut ip_buf)?;
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

