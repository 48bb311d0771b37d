//! The full profile's `nxd_smtp_client_create` and `nx_smtp_mail_send`: NetX Duo's
//! arguments, checked and stored by `args`, sent by the engine (`session`) with the
//! configured timeouts, pipelining and TLS.

use core::ffi::{c_uint, c_ulong};

use crate::client::{Auth, Config, Mail, Priority};
use crate::error::{status, ServerReply};
use crate::session::{self, Parts};
use crate::platform::netx as platform;
use crate::limits::{self, *};
use crate::wire::ip::{address_text, ADDRESS_TEXT_LEN};
use super::abi::*;
use super::args::*;

/// The low 32 bits of a `ULONG` (32 bits on Zephyr's targets, 64 on LP64 hosts; NetX keeps
/// 32-bit words in it).
#[allow(clippy::unnecessary_cast)] // a no-op where c_ulong is u32
fn low32(value: c_ulong) -> u32 {
    (value as u64 & 0xFFFF_FFFF) as u32
}

/// The server address as text, or `NX_IP_ADDRESS_ERROR` for an unknown version.
pub(super) fn server_text<'b>(addr: &NxdAddress, buf: &'b mut [u8; ADDRESS_TEXT_LEN]) -> Result<&'b str, u32> {
    let v6 = match addr.nxd_ip_version {
        NX_IP_VERSION_V4 => false,
        NX_IP_VERSION_V6 => true,
        _ => return Err(status::NX_IP_ADDRESS_ERROR),
    };
    let len = address_text(v6, &addr.nxd_ip_address, buf);
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

/// The full profile's checks of what create stores: UTF-8 credentials without control
/// characters, the EHLO name and sender address by the wire layer's syntax, and the library's
/// own configuration check (AUTH PLAIN's line must fit the transmit buffer).
pub(super) fn accepts(id: &Identity<'_>) -> bool {
    let (Ok(user), Ok(pass), Ok(domain), Ok(from)) = (check_credential(id.user), check_credential(id.pass), check_domain(id.domain), check_address(id.from)) else {
        return false;
    };
    let mut ip_buf = [0u8; ADDRESS_TEXT_LEN];
    let Ok(server) = server_text(&id.address, &mut ip_buf) else { return false };
    Config::new(server, id.port, domain, from).auth(auth_of(id.auth), user, pass).validate(TX_BUFFER_SIZE).is_ok()
}

/// A mail's arguments as the full profile checked them.
pub(super) struct Args<'a> {
    recipient: &'a str,
    priority: Priority,
    subject: &'a str,
    body: &'a [u8],
}

/// The full profile's checks of a mail's arguments (`nx_smtp_mail_send` made the reads): a
/// NetX priority, a recipient by the wire layer's syntax (returned bare), a UTF-8 subject
/// without control characters but TAB. `None`: `NX_SMTP_INVALID_PARAM`.
pub(super) fn mail_args<'a>(recipient: &'a [u8], priority: c_uint, subject: &'a [u8], body: &'a [u8]) -> Option<Args<'a>> {
    Some(Args { recipient: check_address(recipient).ok()?, priority: priority_from(priority).ok()?, subject: check_subject(subject).ok()?, body })
}

/// The longest subject the full profile takes (bytes of UTF-8; it is folded into encoded
/// words as needed).
pub(super) const MAX_SUBJECT: usize = crate::wire::syntax::MAX_SUBJECT;

/// The send itself, under the client's lock.
///
/// # Safety
/// `client` is a created client whose lock the caller holds.
pub(super) unsafe fn send_locked(client: *mut NxSmtpClient, args: &Args<'_>) -> c_uint {
    let Args { recipient, priority, subject, body } = *args;
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
        // Stored as create checked it; the engine takes it bare or in brackets.
        let from = field_str(from)?;
        let mut ip_buf = [0u8; ADDRESS_TEXT_LEN];
        let server = server_text(address, &mut ip_buf)?;
        let (timeouts, pipelining) = platform::timing();
        let tls = tls_mode_from(tls_mode).ok_or(status::NX_SMTP_INTERNAL_ERROR)?;
        let tls_name = field_str(tls_name)?;
        let config = Config::new(server, port, domain, from)
            .auth(auth_of(auth_type), user, pass)
            .timeouts(timeouts)
            .pipelining(pipelining)
            .tls(tls)
            // NetX gives the server as an address; certificates name it by host name.
            .tls_name(tls_name)
            .allow_plaintext_auth(limits::ALLOW_PLAINTEXT_AUTH);
        let to = [recipient];
        let mail = Mail::new(subject, body).to(&to).priority(priority);

        *sequence = sequence.wrapping_add(1);
        let mut transport = platform::transport();
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

