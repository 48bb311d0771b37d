//! The idiomatic Rust API: a [`Config`], a [`Mail`], and a [`Client`] that owns its buffers.
//!
//! ```no_run
//! # #[cfg(feature = "std")] {
//! use zsmtp::{Auth, Client, Config, Mail, Priority, TlsMode};
//! use zsmtp::transport::std::{StdClock, StdTransport};
//!
//! let config = Config::new("mail.example.com", 587, "device-17.example.com", "device@example.com")
//!     .tls(TlsMode::StartTls)
//!     .auth(Auth::Plain, "device@example.com", "app-password");
//! let mut client: Client<'_, _, _> = Client::new(config, StdTransport::new(), StdClock::new())?;
//! let mail = Mail::new("Pump 3 over temperature", b"Sensor 7 reads 93 C.\n")
//!     .to(&["ops@example.com", "oncall@example.com"])
//!     .priority(Priority::High);
//! let sent = client.send(&mail)?;
//! println!("accepted: {}", sent.reply);
//! # }
//! # Ok::<(), zsmtp::Error>(())
//! ```

// The public error carries the server's reply text by design. It is made once, at the end
// of a send; inside the engine errors are the small `Fault`.
#![allow(clippy::result_large_err)]

use crate::error::{Error, ServerReply};
use crate::session;
use crate::transport::{Clock, Transport};
use crate::wire::validate;

/// How the client authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Never sends AUTH.
    None,
    /// AUTH PLAIN with an initial response (one round trip).
    Plain,
    /// AUTH LOGIN (the server's prompt text is never relied on).
    Login,
}

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain TCP. Credentials are refused unless [`Config::allow_plaintext_auth`].
    None,
    /// STARTTLS, required: no server offer or a failed handshake ends the session.
    StartTls,
    /// TLS from the first byte (SMTPS, port 465).
    Implicit,
}

/// Mail priority, written as `X-Priority` and `Importance` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    Low,
    Normal,
    High,
}

/// Per-phase timeouts and the overall deadline of one send, in milliseconds.
///
/// A timeout bounds a whole reply (however slowly its bytes trickle in), not one read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connect (and name resolution). Default 10 s.
    pub connect_ms: u32,
    /// The server's 220 greeting. Default 30 s.
    pub greeting_ms: u32,
    /// Each reply to EHLO/HELO, AUTH, MAIL, RCPT, DATA and QUIT. Default 30 s.
    pub reply_ms: u32,
    /// Each write making progress. Default 30 s.
    pub send_ms: u32,
    /// The reply to the final dot (servers scan the message first). Default 60 s.
    pub final_reply_ms: u32,
    /// The whole send, connect to QUIT; 0 disables the overall deadline. Default 300 s.
    pub total_ms: u32,
}

impl Timeouts {
    pub const DEFAULT: Timeouts = Timeouts {
        connect_ms: 10_000,
        greeting_ms: 30_000,
        reply_ms: 30_000,
        send_ms: 30_000,
        final_reply_ms: 60_000,
        total_ms: 300_000,
    };

    /// Sets every reply wait (greeting, command replies, final reply) to `ms`.
    pub const fn every_reply(mut self, ms: u32) -> Self {
        self.greeting_ms = ms;
        self.reply_ms = ms;
        self.final_reply_ms = ms;
        self
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts::DEFAULT
    }
}

/// What the client needs to reach and talk to the server. Borrowed, never copied.
#[derive(Clone, Copy)]
pub struct Config<'a> {
    /// Host name, IPv4 literal or IPv6 literal (brackets optional).
    pub server: &'a str,
    pub port: u16,
    /// The name this client gives in EHLO (a domain, or an IP literal which is sent as
    /// `[192.0.2.1]` / `[IPv6:2001:db8::1]`).
    pub domain: &'a str,
    /// The envelope sender and From header (bare or in angle brackets).
    pub from: &'a str,
    pub auth: Auth,
    pub username: &'a str,
    pub password: &'a str,
    pub timeouts: Timeouts,
    /// Use PIPELINING when the server offers it (default true).
    pub pipelining: bool,
    /// How the connection is secured (default none).
    pub tls: TlsMode,
    /// Send credentials over a connection that is not encrypted (default false: such a
    /// send fails with `PlaintextAuthRefused` and nothing is sent).
    pub allow_plaintext_auth: bool,
}

impl<'a> Config<'a> {
    /// A configuration without authentication and with default timeouts.
    pub const fn new(server: &'a str, port: u16, domain: &'a str, from: &'a str) -> Self {
        Config {
            server,
            port,
            domain,
            from,
            auth: Auth::None,
            username: "",
            password: "",
            timeouts: Timeouts::DEFAULT,
            pipelining: true,
            tls: TlsMode::None,
            allow_plaintext_auth: false,
        }
    }

    /// Authenticate with `mechanism` (the other one is used if only that one is offered).
    pub const fn auth(mut self, mechanism: Auth, username: &'a str, password: &'a str) -> Self {
        self.auth = mechanism;
        self.username = username;
        self.password = password;
        self
    }

    pub const fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    pub const fn pipelining(mut self, enabled: bool) -> Self {
        self.pipelining = enabled;
        self
    }

    /// STARTTLS or implicit TLS; the server's certificate is verified by the transport.
    pub const fn tls(mut self, mode: TlsMode) -> Self {
        self.tls = mode;
        self
    }

    /// Allows credentials over an unencrypted connection (a trusted network, a local relay).
    pub const fn allow_plaintext_auth(mut self, allow: bool) -> Self {
        self.allow_plaintext_auth = allow;
        self
    }

    /// Checks every field; nothing is sent. `tx_capacity` is the transmit buffer size (the
    /// longest command, AUTH PLAIN with its response, must fit in it).
    pub fn validate(&self, tx_capacity: usize) -> Result<(), Error> {
        validate::config(self, tx_capacity).map_err(Error::from)
    }
}

impl core::fmt::Debug for Config<'_> {
    // Written by hand so that the password can never reach a log.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Config")
            .field("server", &self.server)
            .field("port", &self.port)
            .field("domain", &self.domain)
            .field("from", &self.from)
            .field("auth", &self.auth)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("timeouts", &self.timeouts)
            .field("pipelining", &self.pipelining)
            .field("tls", &self.tls)
            .field("allow_plaintext_auth", &self.allow_plaintext_auth)
            .finish()
    }
}

/// Most recipients (To + Cc + Bcc) in one mail.
pub const MAX_RECIPIENTS: usize = 64;

/// One mail: recipients, subject, priority and (for [`Client::send`]) the body.
#[derive(Debug, Clone, Copy)]
pub struct Mail<'a> {
    pub(crate) to: &'a [&'a str],
    pub(crate) cc: &'a [&'a str],
    pub(crate) bcc: &'a [&'a str],
    pub(crate) subject: &'a str,
    pub(crate) body: &'a [u8],
    pub(crate) priority: Priority,
    pub(crate) allow_partial: bool,
}

impl<'a> Mail<'a> {
    /// A mail with `subject` and `body` (any line endings: they are normalised to CRLF).
    pub const fn new(subject: &'a str, body: &'a [u8]) -> Self {
        Mail {
            to: &[],
            cc: &[],
            bcc: &[],
            subject,
            body,
            priority: Priority::Normal,
            allow_partial: false,
        }
    }

    /// Recipients named in the To header.
    pub const fn to(mut self, to: &'a [&'a str]) -> Self {
        self.to = to;
        self
    }

    /// Recipients named in the Cc header.
    pub const fn cc(mut self, cc: &'a [&'a str]) -> Self {
        self.cc = cc;
        self
    }

    /// Recipients that receive the mail but appear in no header.
    pub const fn bcc(mut self, bcc: &'a [&'a str]) -> Self {
        self.bcc = bcc;
        self
    }

    pub const fn priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    /// When some recipients are refused, deliver to the others and report the refused ones
    /// in [`Sent::refused`]. By default one refused recipient fails the whole mail and
    /// nothing is delivered.
    pub const fn allow_partial(mut self, allow: bool) -> Self {
        self.allow_partial = allow;
        self
    }

    /// All recipients, To then Cc then Bcc (the order of [`Sent::refused`] bits).
    pub fn recipients(&self) -> impl Iterator<Item = &'a str> + 'a {
        let (to, cc, bcc) = (self.to, self.cc, self.bcc);
        to.iter().chain(cc.iter()).chain(bcc.iter()).copied()
    }

    pub(crate) fn recipient_count(&self) -> usize {
        self.to.len() + self.cc.len() + self.bcc.len()
    }
}

/// A mail the server accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The server's reply to the final dot (for example `250 2.0.0 Ok: queued as 4F1A2`).
    pub reply: ServerReply,
    /// Bit i set: recipient i (To, then Cc, then Bcc) was refused. Only with
    /// [`Mail::allow_partial`]; otherwise any refusal is an error.
    pub refused: u64,
}

/// An SMTP client: configuration, transport, clock and its own buffers.
///
/// `RX` is the receive buffer (one reply line must fit: RFC 5321 allows 512 bytes);
/// `TX` the transmit buffer (commands are coalesced in it; body chunks leave in TX-sized
/// writes). RAM per client is about `RX + TX + 200` bytes plus the transport.
///
/// `send` takes `&mut self`, so one client is used by one thread at a time; share it between
/// threads behind a mutex (the C API does that for you). Separate clients are independent.
pub struct Client<'a, T: Transport, K: Clock, const RX: usize = 512, const TX: usize = 1024> {
    config: Config<'a>,
    transport: T,
    clock: K,
    rx: [u8; RX],
    tx: [u8; TX],
    last_reply: Option<ServerReply>,
    sequence: u32,
}

impl<'a, T: Transport, K: Clock, const RX: usize, const TX: usize> Client<'a, T, K, RX, TX> {
    /// Validates `config` (nothing is sent) and builds a client.
    pub fn new(config: Config<'a>, transport: T, clock: K) -> Result<Self, Error> {
        const { assert!(RX >= session::MIN_RX && TX >= session::MIN_TX) };
        config.validate(TX)?;
        Ok(Client {
            config,
            transport,
            clock,
            rx: [0; RX],
            tx: [0; TX],
            last_reply: None,
            sequence: 0,
        })
    }

    /// Sends `mail` (with its body) over a new connection, then closes it.
    pub fn send(&mut self, mail: &Mail<'_>) -> Result<Sent, Error> {
        self.send_body(mail, mail.body)
    }

    /// Sends `mail` with its body streamed from `body` (the mail's own body is ignored).
    /// Memory stays bounded whatever the body's size. A body line longer than 998 bytes or
    /// a NUL byte found while streaming aborts the mail before its end: nothing is delivered.
    pub fn send_from_reader<R: embedded_io::Read>(&mut self, mail: &Mail<'_>, body: R) -> Result<Sent, Error> {
        self.send_body(mail, session::ReaderBody(body))
    }

    fn send_body<B: session::BodySource>(&mut self, mail: &Mail<'_>, body: B) -> Result<Sent, Error> {
        self.sequence = self.sequence.wrapping_add(1);
        let parts = session::Parts {
            transport: &mut self.transport,
            clock: &mut self.clock,
            rx: &mut self.rx,
            tx: &mut self.tx,
            last_reply: &mut self.last_reply,
            sequence: self.sequence,
        };
        session::send(parts, &self.config, mail, body)
    }

    /// Opens a connection (connect, greeting, EHLO, AUTH) that stays open for several
    /// mails: [`Connection::send`] costs no new handshake. Dropping the connection (or
    /// [`Connection::close`]) sends QUIT.
    pub fn connect(&mut self) -> Result<Connection<'_, 'a, T, K>, Error> {
        let mut connection = Connection {
            session: session::Session::new(&mut self.transport, &mut self.clock, &mut self.rx, &mut self.tx, self.config.timeouts),
            config: &self.config,
            last_reply: &mut self.last_reply,
            sequence: &mut self.sequence,
        };
        connection.session.open_now(connection.config, connection.last_reply)?;
        Ok(connection)
    }

    /// The server reply that decided the last send (its final reply, or the failing one).
    pub fn last_reply(&self) -> Option<&ServerReply> {
        self.last_reply.as_ref()
    }

    pub fn config(&self) -> &Config<'a> {
        &self.config
    }
}

/// A connection kept open for several mails (see [`Client::connect`]).
///
/// After a refused mail the next one starts with RSET on the same connection; after a
/// broken link the next one reconnects. Each send has its own overall deadline.
pub struct Connection<'c, 'a, T: Transport, K: Clock> {
    session: session::Session<'c, T, K>,
    config: &'c Config<'a>,
    last_reply: &'c mut Option<ServerReply>,
    sequence: &'c mut u32,
}

impl<T: Transport, K: Clock> Connection<'_, '_, T, K> {
    /// Sends `mail` (with its body) on this connection.
    pub fn send(&mut self, mail: &Mail<'_>) -> Result<Sent, Error> {
        self.send_body(mail, mail.body)
    }

    /// Sends `mail` with its body streamed from `body` (see [`Client::send_from_reader`]).
    pub fn send_from_reader<R: embedded_io::Read>(&mut self, mail: &Mail<'_>, body: R) -> Result<Sent, Error> {
        self.send_body(mail, session::ReaderBody(body))
    }

    fn send_body<B: session::BodySource>(&mut self, mail: &Mail<'_>, body: B) -> Result<Sent, Error> {
        *self.sequence = self.sequence.wrapping_add(1);
        session::send_on(&mut self.session, self.config, mail, body, *self.sequence, self.last_reply)
    }

    /// Whether the connection is open and ready for the next mail.
    pub fn is_open(&self) -> bool {
        self.session.is_ready()
    }

    /// Sends QUIT and closes the connection.
    pub fn close(self) {}
}

impl<T: Transport, K: Clock> Drop for Connection<'_, '_, T, K> {
    fn drop(&mut self) {
        self.session.quit();
    }
}
