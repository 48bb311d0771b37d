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
pub(super) fn low32(value: c_ulong) -> u32 {
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
        #[cfg(feature = "oauth2")]
        NX_SMTP_CLIENT_AUTH_XOAUTH2 => Auth::XOAuth2,
        #[cfg(feature = "oauth2")]
        NX_SMTP_CLIENT_AUTH_OAUTHBEARER => Auth::OAuthBearer,
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
    let config = Config::new(server, id.port, domain, from);
    #[cfg(feature = "oauth2")]
    if auth_of(id.auth).is_oauth() {
        // The token comes later (nx_smtp_client_token_set) and is checked when it is set: here
        // the user name is what create checks.
        let set_later: &str = "set-later";
        return config.oauth(auth_of(id.auth), user, &set_later).validate(TX_BUFFER_SIZE).is_ok();
    }
    config.auth(auth_of(id.auth), user, pass).validate(TX_BUFFER_SIZE).is_ok()
}

/// A mail's arguments as the full profile checked them.
pub(super) struct Args<'a> {
    recipient: &'a str,
    priority: Priority,
    subject: &'a str,
    body: &'a [u8],
    /// The HTML and attachments of `nx_smtp_mail_send_extended`.
    #[cfg(feature = "mime")]
    pub mime: Option<super::attach::MimeArgs<'a>>,
}

#[cfg(all(feature = "outbox", feature = "zsock"))] // the outbox's queue
impl<'a> Args<'a> {
    /// The recipient, priority, subject and body.
    pub(super) fn mail_fields(&self) -> (&'a str, Priority, &'a str, &'a [u8]) {
        (self.recipient, self.priority, self.subject, self.body)
    }
}

/// The full profile's checks of a mail's arguments (`nx_smtp_mail_send` made the reads): a
/// NetX priority, a recipient by the wire layer's syntax (returned bare), a UTF-8 subject
/// without control characters but TAB. `None`: `NX_SMTP_INVALID_PARAM`.
pub(super) fn mail_args<'a>(recipient: &'a [u8], priority: c_uint, subject: &'a [u8], body: &'a [u8]) -> Option<Args<'a>> {
    Some(Args {
        recipient: check_address(recipient).ok()?,
        priority: priority_from(priority).ok()?,
        subject: check_subject(subject).ok()?,
        body,
        #[cfg(feature = "mime")]
        mime: None,
    })
}

/// The longest subject the full profile takes (bytes of UTF-8; it is folded into encoded
/// words as needed).
pub(super) const MAX_SUBJECT: usize = crate::wire::syntax::MAX_SUBJECT;

/// The send itself, under the client's lock.
///
/// # Safety
/// `client` is a created client whose lock the caller holds.
pub(super) unsafe fn send_locked(client: *mut NxSmtpClient, args: &Args<'_>) -> c_uint {
    let Args { recipient, priority, subject, body, .. } = *args;
    let to = [recipient];
    let mail = Mail::new(subject, body).to(&to).priority(priority);
    let send = |config: &Config<'_>, mut parts: EngineParts<'_>, sequence: &mut c_ulong| {
        *sequence = sequence.wrapping_add(1);
        parts.sequence = low32(*sequence);
        #[cfg(feature = "mime")]
        if let Some(m) = args.mime {
            // SAFETY: made by mime_args, whose contract (the caller's) holds during the send.
            return unsafe {
                super::attach::with_attachments(&m, |list| {
                    session::send(parts, config, &mail.html(m.html), session::MimeBody::new(body, m.html, list))
                })
            };
        }
        session::send(parts, config, &mail, body)
    };
    // SAFETY: a created client whose lock we hold (contract).
    unsafe { with_engine(client, send) }
}

/// The parts of a client the engine works with, under its lock: the configuration made from
/// its fields, a transport and clock of the platform, its buffers, and its mail counter.
pub(super) type EngineParts<'p> = Parts<'p, platform::PlatformTransport, platform::PlatformClock>;

/// Runs `run` (one send, or a batch of the outbox) with the engine's view of `client`, then
/// stores the reply that decided it in the client (`nx_smtp_client_last_reply_get`) and wipes
/// the transmit buffer. Returns `run`'s status: `NX_SUCCESS` or its error's.
///
/// # Safety
/// `client` is a created client whose lock the caller holds.
pub(super) unsafe fn with_engine<S>(client: *mut NxSmtpClient, run: impl FnOnce(&Config<'_>, EngineParts<'_>, &mut c_ulong) -> Result<S, crate::error::Error>) -> c_uint {
    // SAFETY: a created client whose lock we hold until we return (contract).
    let locked = unsafe { Locked::new(client) };
    #[cfg(feature = "oauth2")]
    let token_source = oauth::ClientToken::new(locked.token, locked.token_length, locked.refresh, locked.refresh_context);
    let Locked { username, password, domain, from, auth_type, address, port, tls_mode, tls_name, sequence, reply_code, reply_text, rx, tx, .. } = locked;
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
        #[cfg(feature = "oauth2")]
        let config = match config.auth {
            mechanism if mechanism.is_oauth() => config.oauth(mechanism, user, &token_source),
            _ => config,
        };
        let mut transport = platform::transport();
        let mut clock = platform::clock();
        let parts = Parts {
            transport: &mut transport,
            clock: &mut clock,
            rx: &mut rx[..],
            tx: &mut tx[..],
            last_reply: &mut last_reply,
            sequence: 0,
        };
        // A match, not map/map_err: each would move the error (its reply text) into a new
        // value on the stack (128 bytes more at the send's peak).
        match run(&config, parts, sequence) {
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


/// The token of a client, for the engine (feature `oauth2`).
#[cfg(feature = "oauth2")]
mod oauth {
    use core::cell::RefCell;
    use core::ffi::{c_uint, c_void};

    use crate::error::status;
    use crate::limits::OAUTH2_TOKEN_MAX;
    use crate::session::{TokenSource, TokenUnavailable};
    use super::TokenRefresh;

    /// The client's token field and its refresh callback as a [`TokenSource`]: the callback
    /// (if any) runs when the engine asks for the token, right before AUTH, and may replace
    /// the token in place.
    pub(super) struct ClientToken<'c> {
        token: RefCell<(&'c mut [u8; OAUTH2_TOKEN_MAX], &'c mut c_uint)>,
        refresh: Option<TokenRefresh>,
        context: *mut c_void,
    }

    // SAFETY: a `ClientToken` lives on the stack of the thread that sends, under the client's
    // lock, and only that thread's engine reaches it: it is never used from two threads. (The
    // engine's configuration asks `Sync` of token sources for the Rust API's shared clients.)
    unsafe impl Sync for ClientToken<'_> {}

    impl<'c> ClientToken<'c> {
        pub(super) fn new(token: &'c mut [u8; OAUTH2_TOKEN_MAX], length: &'c mut c_uint, refresh: Option<TokenRefresh>, context: *mut c_void) -> Self {
            ClientToken { token: RefCell::new((token, length)), refresh, context }
        }
    }

    impl TokenSource for ClientToken<'_> {
        fn lend_token(&self, use_token: &mut dyn FnMut(&[u8])) -> Result<(), TokenUnavailable> {
            let mut held = self.token.try_borrow_mut().map_err(|_| TokenUnavailable)?;
            let (token, length) = &mut *held;
            if let Some(refresh) = self.refresh {
                let mut new_length: c_uint = **length;
                // SAFETY: the callback's contract (nxd_smtp_client.h, NX_SMTP_CLIENT_TOKEN_REFRESH):
                // it writes at most `token_size` bytes at `token`, which is the client's token
                // field of that size, borrowed exclusively here, and sets `*token_length`, a
                // local. It runs on this thread.
                let status = unsafe { refresh(self.context, token.as_mut_ptr().cast(), OAUTH2_TOKEN_MAX as c_uint, &mut new_length) };
                if status != status::NX_SUCCESS || new_length as usize > OAUTH2_TOKEN_MAX {
                    return Err(TokenUnavailable);
                }
                **length = new_length;
            }
            use_token(token.get(..**length as usize).ok_or(TokenUnavailable)?);
            Ok(())
        }
    }
}
