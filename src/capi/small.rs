//! The small profile of the NetX Duo C API (cargo feature `small`; Kconfig
//! `CONFIG_SMTP_CLIENT_NETX_API_SMALL`): `nxd_smtp_client_create` and `nx_smtp_mail_send` at
//! NetX Duo's own scope, in less Cortex-M4 code than NetX Duo's. `nx_smtp_client_delete`,
//! `nx_smtp_client_tls_set`, `nx_smtp_client_last_reply_get` and the `NX_SMTP_CLIENT` layout
//! are the full C API's.
//!
//! Shared with the full profile:
//! - the wire layer's reply parser and tracker (`wire::reply`), AUTH choice and commands
//!   (`wire::command`: `choose_auth`, `auth_plain`, `plain_response`, `base64_line`), the body
//!   encoder (`wire::body::BodyEncoder`: the body's check is the encoder run into a sink that
//!   takes nothing), and the argument checks (`wire::syntax`: `credential`, `client_domain`,
//!   `address`, `subject`). Some of these primitives have a smaller body in this build, inside
//!   the primitive, tested by its one unit-test suite: the EHLO's AUTH lines
//!   (`AuthMechanisms::add_text`), the server address as text (`address_text`, no "::"), the
//!   encoder (byte by byte), and the syntax checks (this profile's scope, below; every refusal
//!   `Invalid::Syntax`);
//! - `nxd_smtp_client_create` and the entry of `nx_smtp_mail_send` (capi/mod.rs), the memory
//!   helpers (`bounded_cstr`, `store`, `wipe`, `Region`, `Locked`) and the platform lock;
//! - the rules, checked by one table through both profiles (tests/capi_profiles.rs): a reply
//!   that is not SMTP is refused as soon as it is visible; the AUTH exchange ends on any 2xx,
//!   LOGIN answers by position, PLAIN's response is sent again after an empty 334; QUIT
//!   follows an orderly refusal (not 421; also after the final dot) and a refusal to
//!   authenticate, nothing else; `NX_SMTP_OUTCOME_UNKNOWN` when the link fails or the reply is
//!   not SMTP after the final dot.
//!
//! Its own: the lockstep driver over the shim's socket (one recipient, no pipelining, no
//! TLS) and NetX's status for each step. It reads AUTH on every line of the EHLO reply, the
//! server's name included (skipping it costs code).
//!
//! NetX's scope:
//! - one recipient; lockstep (no pipelining); From, To, Subject and MIME headers (no Date or
//!   Message-ID: the server adds them);
//! - AUTH PLAIN, LOGIN or none; IPv4 and IPv6 server addresses;
//! - timeouts fixed at build time (`limits::SMALL_TIMEOUTS`, from Kconfig);
//! - no TLS: a client set to STARTTLS or implicit TLS gets `NX_SMTP_TLS_NOT_SUPPORTED`, and
//!   nothing is sent;
//! - printable ASCII subject, user name, password, domain and addresses (no quoted local
//!   parts, no address literals, no SMTPUTF8);
//! - the reply code is kept, not its text.
//!
//! Also as the full profile: every argument checked with NetX's statuses and every input
//! validated before any byte is sent (CR, LF and NUL cannot reach the wire; body lines of at
//! most 998 bytes); dot-stuffing after CR/LF normalisation; a timeout for every whole reply;
//! one send at a time per client; the credentials' traces wiped from the transmit buffer.

use core::ffi::{c_int, c_uint, CStr};

use super::abi::*;
use super::args::{field_bytes, priority_from, wipe, Identity, Locked};
use crate::error::status;
use crate::limits::SMALL_TIMEOUTS;
use crate::sys::{self, ShimSocket};
use crate::wire::command::{self, choose_auth, Auth};
use crate::wire::body::{BodyEncoder, BodyError, MAX_LINE};
use crate::wire::out::Sink;
use crate::wire::syntax;

/// A sink that takes nothing: the body's check is its encoder run without output.
struct Discard;

impl Sink for Discard {
    type Error = u32;
    fn put(&mut self, _: &[u8]) -> Result<(), u32> {
        Ok(())
    }
}
use crate::wire::ehlo::AuthMechanisms;
use crate::wire::ip::{address_text, ADDRESS_TEXT_LEN};
use crate::wire::reply::{parse_line, ReplyTracker};

/// The small profile's checks of what create stores: printable ASCII credentials, a domain
/// name, a dot-atom sender address (its scope; the full profile's are wider).
pub(super) fn accepts(id: &Identity<'_>) -> bool {
    syntax::credential(id.user).is_ok() && syntax::credential(id.pass).is_ok() && syntax::client_domain(id.domain).is_ok() && syntax::address(id.from).is_ok()
}

/// The connection of one send: the shim's socket and the client's buffers.
struct Link<'c> {
    socket: ShimSocket,
    tx: &'c mut [u8],
    tx_len: usize,
    rx: &'c mut [u8],
    rx_len: usize,
    /// NetX's status for a negative or malformed reply in the current step (the engine's
    /// phase, as its status).
    refusal: u32,
    /// The code of the latest reply (0 before the first).
    last: u16,
    /// Whether the terminator has left whole.
    past_dot: bool,
    /// Whether a reply refused the current step (rather than the link failing).
    refused: bool,
}

/// A shim error as a NetX status: a timeout is NX_NO_PACKET, anything else a broken link.
fn link_error(rc: c_int, otherwise: u32) -> u32 {
    if sys::error_class(rc) == sys::CLASS_TIMED_OUT {
        status::NX_NO_PACKET
    } else {
        otherwise
    }
}

impl Link<'_> {
    /// Buffers bytes, sending whenever the buffer is full.
    fn put(&mut self, bytes: &[u8]) -> Result<(), u32> {
        for &b in bytes {
            if self.tx_len == self.tx.len() {
                self.flush()?;
            }
            if let Some(slot) = self.tx.get_mut(self.tx_len) {
                *slot = b;
                self.tx_len += 1;
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), u32> {
        let mut sent = 0;
        while sent < self.tx_len {
            let rest = self.tx.get(sent..self.tx_len).unwrap_or_default();
            match self.socket.send(rest, SMALL_TIMEOUTS.send_ms) {
                Ok(n) if n > 0 => sent += n,
                failed => {
                    self.tx_len = 0;
                    return Err(link_error(failed.err().unwrap_or(0), status::NX_SMTP_TRANSMIT_ERROR));
                }
            }
        }
        self.tx_len = 0;
        Ok(())
    }

    /// Sends what is buffered and reads one whole reply (every line of it) within
    /// `timeout_ms`; its code. `scan` sees the text of every line.
    #[inline(never)] // one copy for every step: inlined at one call site it only grows the code
    fn reply(&mut self, timeout_ms: u32, scan: &mut dyn FnMut(&[u8])) -> Result<u16, u32> {
        self.flush()?;
        // Milliseconds since the wait began (32 bits wrap only after 49 days).
        let now = sys::uptime_ms32;
        let start = now();
        let mut tracker = ReplyTracker::new();
        loop {
            let pending = self.rx.get(..self.rx_len).unwrap_or_default();
            // The wire layer's parser, as in the full profile: a malformed line is reported
            // as soon as it is visible.
            let parsed = parse_line(pending).map_err(|_| self.refusal)?;
            let Some((line, used)) = parsed else {
                let free = self.rx.get_mut(self.rx_len..).unwrap_or_default();
                if free.is_empty() {
                    return Err(status::NX_SMTP_OVERSIZE_SERVER_REPLY);
                }
                let left = timeout_ms.saturating_sub(now().wrapping_sub(start));
                if left == 0 {
                    return Err(status::NX_NO_PACKET);
                }
                match self.socket.recv(free, left) {
                    Ok(n) if n > 0 => self.rx_len += n,
                    // A timeout short of the deadline is waited out again.
                    Err(rc) if link_error(rc, 0) == status::NX_NO_PACKET => {}
                    _ => return Err(status::NX_NOT_CONNECTED),
                }
                continue;
            };
            let last = tracker.feed(&line).map_err(|_| self.refusal)?;
            let code = line.code;
            scan(line.text);
            // The unread bytes move to the front (a loop: `copy_within` would link memmove on
            // targets whose C library does not provide one; docs/PERFORMANCE.md).
            for i in used..self.rx_len {
                let b = self.rx.get(i).copied().unwrap_or(0);
                if let Some(slot) = self.rx.get_mut(i - used) {
                    *slot = b;
                }
            }
            self.rx_len -= used;
            if last {
                self.last = code;
                return Ok(code);
            }
        }
    }
}

impl Link<'_> {
    /// Sends what is buffered and reads the reply to the step whose refusal is `refusal`;
    /// anything but 2xx (or `want`) refuses.
    fn step(&mut self, refusal: u32, timeout_ms: u32, want: u16) -> Result<u16, u32> {
        self.refusal = refusal;
        let code = self.reply(timeout_ms, &mut |_| {})?;
        if code == want || (200..300).contains(&code) {
            Ok(code)
        } else {
            Err(self.refuse())
        }
    }

    /// The latest reply refuses what the current step asked: its status.
    fn refuse(&mut self) -> u32 {
        self.refused = true;
        self.refusal
    }
}

impl crate::wire::out::Sink for Link<'_> {
    type Error = u32;

    fn put(&mut self, bytes: &[u8]) -> Result<(), u32> {
        Link::put(self, bytes)
    }
}

/// The server address as NUL-terminated text (`wire::ip::address_text`: eight IPv6 groups, no
/// "::", in the small profile).
fn server_text(address: &NxdAddress, out: &mut [u8; ADDRESS_TEXT_LEN]) {
    address_text(address.nxd_ip_version != NX_IP_VERSION_V4, &address.nxd_ip_address, out);
}

/// A mail's arguments as the small profile checked them.
pub(super) struct Args<'a> {
    recipient: &'a [u8],
    subject: &'a [u8],
    body: &'a [u8],
}

/// The small profile's checks of a mail's arguments (`nx_smtp_mail_send` made the reads): a
/// NetX priority (written nowhere: the small profile has no priority headers), a dot-atom
/// recipient (returned bare), a printable ASCII subject, a body its encoder can send (no NUL,
/// lines of at most 998 bytes). `None`: `NX_SMTP_INVALID_PARAM`.
pub(super) fn mail_args<'a>(recipient: &'a [u8], priority: c_uint, subject: &'a [u8], body: &'a [u8]) -> Option<Args<'a>> {
    let recipient = syntax::address(recipient).ok()?;
    let body_ok = || BodyEncoder::new().encode(body, &mut Discard).is_ok();
    (priority_from(priority).is_ok() && syntax::subject(subject).is_ok() && body_ok()).then_some(Args { recipient, subject, body })
}

/// The longest subject the small profile takes: its header line ("Subject: " and the text)
/// within RFC 5321's 998 bytes.
pub(super) const MAX_SUBJECT: usize = MAX_LINE - 9;

/// The send itself, under the client's lock; the transmit buffer is wiped afterwards (it held
/// the credentials' base64).
///
/// # Safety
/// `client` is a created client whose lock the caller holds. Only fields other than the lock
/// words are touched (the lock is using those).
pub(super) unsafe fn send_locked(client: *mut NxSmtpClient, args: &Args<'_>) -> c_uint {
    let Args { recipient, subject, body } = *args;
    // SAFETY: a created client whose lock the caller holds until we return (contract).
    let c = unsafe { Locked::new(client) };
    if c.tls_mode != NX_SMTP_CLIENT_TLS_NONE {
        return status::NX_SMTP_TLS_NOT_SUPPORTED;
    }
    let (user, pass, domain, from, auth, address, port, last_code, rx, tx) =
        (field_bytes(c.username), field_bytes(c.password), field_bytes(c.domain), field_bytes(c.from), c.auth_type, c.address, c.port, c.reply_code, c.rx, c.tx);
    *last_code = 0;
    let status = converse(address, port, (user, pass, domain, from, auth), recipient, subject, body, rx, tx, last_code);
    // SAFETY: the buffer is ours while the lock is held (contract).
    unsafe { wipe(tx.as_mut_ptr(), tx.len()) };
    status
}

/// Connects, runs the dialogue, closes; the NetX status. `last_code` receives the code of the
/// reply that decided.
#[allow(clippy::too_many_arguments)]
fn converse(
    server: &NxdAddress,
    port: u16,
    identity: Credentials<'_>,
    recipient: &[u8],
    subject: &[u8],
    body: &[u8],
    rx: &mut [u8],
    tx: &mut [u8],
    last_code: &mut c_uint,
) -> c_uint {
    let mut host = [0u8; ADDRESS_TEXT_LEN];
    server_text(server, &mut host);
    let t = SMALL_TIMEOUTS;
    // SAFETY: `host` holds a NUL: address_text writes one after the text.
    let host = unsafe { CStr::from_ptr(host.as_ptr().cast()) };
    let Ok(socket) = ShimSocket::connect(host, port, t.connect_ms) else {
        // (The address is numeric: no name to resolve, so no "host not found".)
        return status::NX_NOT_CONNECTED;
    };
    let (user, pass, domain, from, auth) = identity;
    let from = syntax::address(from).unwrap_or(from);
    let mut link = Link { socket, tx, tx_len: 0, rx, rx_len: 0, refusal: 0, last: 0, past_dot: false, refused: false };
    let result = dialogue(&mut link, (user, pass, domain, from, auth), recipient, subject, body);
    *last_code = c_uint::from(link.last);
    let status = match result {
        Ok(()) => status::NX_SUCCESS,
        // The terminator left and no reply refused it: the link failed or the reply was not
        // SMTP, and the server may have the mail. A plain failure would invite a duplicating
        // retry.
        Err(_) if link.past_dot && !link.refused => status::NX_SMTP_OUTCOME_UNKNOWN,
        Err(code) => {
            // The server still listens after an orderly refusal (not 421; also after the
            // final dot) and after our own refusals to authenticate: QUIT, and no more (the
            // full profile's rule).
            let ours = matches!(code, status::NX_SMTP_AUTHENTICATION_ERROR | status::NX_SMTP_PLAINTEXT_AUTH_REFUSED);
            if (link.refused && link.last != 421) || ours {
                link.tx_len = 0;
                let _ = link.put(b"QUIT\r\n").and_then(|()| link.flush());
            }
            code
        }
    };
    // The socket closes as `link` goes.
    status
}

/// The client's identity and credentials for one dialogue.
type Credentials<'a> = (&'a [u8], &'a [u8], &'a [u8], &'a [u8], c_uint);

/// Greeting, EHLO, AUTH, MAIL, RCPT, DATA, headers, body, terminator, final reply, QUIT.
fn dialogue(link: &mut Link<'_>, (user, pass, domain, from, auth): Credentials<'_>, recipient: &[u8], subject: &[u8], body: &[u8]) -> Result<(), u32> {
    let t = SMALL_TIMEOUTS;
    // The greeting may be slow; then EHLO and its capabilities (AUTH mechanisms by token).
    if link.step(status::NX_SMTP_GREET_REPLY_ERROR, t.greeting_ms, 220)? != 220 {
        return Err(link.refuse());
    }
    link.put(b"EHLO ")?;
    link.put(domain)?;
    link.put(b"\r\n")?;
    link.refusal = status::NX_SMTP_HELLO_REPLY_ERROR;
    // AUTH lines on any line of the reply, the first one (the server's name) included:
    // skipping it costs code.
    let mut offered = AuthMechanisms::default();
    let code = link.reply(t.reply_ms, &mut |text| offered.add_text(text))?;
    if !(200..300).contains(&code) {
        return Err(link.refuse());
    }
    if auth != NX_SMTP_CLIENT_AUTH_NONE {
        // Credentials never go over this unencrypted link unless the build allows it.
        if !crate::limits::ALLOW_PLAINTEXT_AUTH {
            return Err(status::NX_SMTP_PLAINTEXT_AUTH_REFUSED);
        }
        if !offered.advertised {
            return Err(status::NX_SMTP_AUTHENTICATION_ERROR);
        }
        // As the engine: the configured mechanism if offered, else the other one if offered,
        // else the configured one anyway; LOGIN answers its two 334s by position (never by
        // prompt text); a server that ignores PLAIN's initial response asks again with an
        // empty 334; any 2xx ends the exchange.
        let configured = if auth == NX_SMTP_CLIENT_AUTH_LOGIN { Auth::Login } else { Auth::Plain };
        let plain_response = command::plain_response(user, pass);
        let answers: &[&[&[u8]]] = if choose_auth(configured, offered.plain, offered.login) == Auth::Login {
            link.put(command::AUTH_LOGIN)?;
            &[&[user], &[pass]]
        } else {
            command::auth_plain(link, user, pass)?;
            &[&plain_response]
        };
        for parts in answers {
            if link.step(status::NX_SMTP_AUTH_REPLY_ERROR, t.reply_ms, 334)? != 334 {
                break;
            }
            command::base64_line(link, parts)?;
        }
        if link.last == 334 {
            link.step(status::NX_SMTP_AUTH_REPLY_ERROR, t.reply_ms, 0)?;
        }
    }
    for (verb, path, refusal) in [(&b"MAIL FROM:<"[..], from, status::NX_SMTP_MAIL_REPLY_ERROR), (b"RCPT TO:<", recipient, status::NX_SMTP_RCPT_REPLY_ERROR)] {
        link.put(verb)?;
        link.put(path)?;
        link.put(b">\r\n")?;
        link.step(refusal, t.reply_ms, 0)?;
    }
    link.put(b"DATA\r\n")?;
    if link.step(status::NX_SMTP_DATA_REPLY_ERROR, t.reply_ms, 354)? != 354 {
        return Err(link.refuse());
    }
    // Nothing may follow 354 before our content (a confused or hostile server).
    if link.rx_len > 0 {
        return Err(link.refusal);
    }
    for (name, value) in [(&b"From: "[..], from), (b"To: ", recipient), (b"Subject: ", subject)] {
        link.put(name)?;
        link.put(value)?;
        link.put(b"\r\n")?;
    }
    link.put(b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")?;
    let mut encoder = BodyEncoder::new();
    // The body was checked: only the link can fail here.
    let link_error = |e| match e {
        BodyError::Sink(e) => e,
        _ => status::NX_SMTP_INVALID_PARAM,
    };
    encoder.encode(body, link).map_err(link_error)?;
    encoder.finish(link).map_err(link_error)?;
    // Once the terminator has left whole, the server may take the mail.
    link.flush()?;
    link.past_dot = true;
    link.step(status::NX_SMTP_MESSAGE_REPLY_ERROR, t.final_reply_ms, 0)?;
    // QUIT's reply does not change what the final reply decided.
    let decided = link.last;
    link.put(b"QUIT\r\n")?;
    let _ = link.reply(t.reply_ms, &mut |_| {});
    link.last = decided;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(version: core::ffi::c_ulong, words: [core::ffi::c_ulong; 4]) -> String {
        let mut out = [0u8; ADDRESS_TEXT_LEN];
        server_text(&NxdAddress { nxd_ip_version: version, nxd_ip_address: words }, &mut out);
        let end = out.iter().position(|&b| b == 0).unwrap();
        String::from_utf8(out[..end].to_vec()).unwrap()
    }

    #[test]
    fn server_addresses_as_text() {
        assert_eq!(text(NX_IP_VERSION_V4, [0xC000_0219, 0, 0, 0]), "192.0.2.25");
        assert_eq!(text(NX_IP_VERSION_V4, [0x7F00_0001, 0, 0, 0]), "127.0.0.1");
        assert_eq!(text(NX_IP_VERSION_V4, [0, 0, 0, 0]), "0.0.0.0");
        assert_eq!(text(NX_IP_VERSION_V4, [0xFFFF_FFFF, 0, 0, 0]), "255.255.255.255");
        assert_eq!(text(NX_IP_VERSION_V6, [0x2001_0DB8, 0, 0, 1]), "2001:db8:0:0:0:0:0:1");
        assert_eq!(text(NX_IP_VERSION_V6, [0, 0, 0, 1]), "0:0:0:0:0:0:0:1");
        assert_eq!(text(NX_IP_VERSION_V6, [0xFFFF_FFFF; 4]), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    }
}
