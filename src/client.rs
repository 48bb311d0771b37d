//! The idiomatic Rust API: a [`Config`], a [`Mail`], and a [`Client`] that owns its buffers.
//!
//! ```no_run
//! # #[cfg(feature = "std")] {
//! use zsmtp::{Auth, Client, Config, Mail, Priority, TlsMode};
//! use zsmtp::transport::host::{StdClock, StdTransport};
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

use crate::error::{Error, ServerReply};
use crate::session;
pub use crate::session::{Config, Mail, Sent, Timeouts, TlsMode, MAX_RECIPIENTS};
#[cfg(feature = "mime")]
pub use crate::session::{Attachment, AttachmentSource};
#[cfg(feature = "oauth2")]
pub use crate::session::{TokenSource, TokenUnavailable};
use crate::transport::{Clock, Transport};
pub use crate::wire::command::Auth;
pub use crate::wire::header::Priority;

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

    /// Sends `mail` (with its body) over a new connection, then closes it. A mail with an
    /// HTML alternative ([`Mail::html`], feature `mime`) goes as [`Client::send_mime`] sends it.
    pub fn send(&mut self, mail: &Mail<'_>) -> Result<Sent, Error> {
        #[cfg(feature = "mime")]
        if !mail.html.is_empty() {
            return self.send_mime(mail, &mut []);
        }
        self.send_body(mail, mail.body)
    }

    /// Sends `mail` as a MIME message (feature `mime`) over a new connection, then closes it:
    /// its body as the text part, its HTML alternative ([`Mail::html`]) if it has one, and
    /// `attachments`, each streamed from its reader as base64.
    ///
    /// - The text (and HTML) go as they are when the server takes them (7bit; 8bit with
    ///   8BITMIME), else quoted-printable: a mail to a server without 8BITMIME is 7-bit
    ///   clean, and no line is ever too long.
    /// - Memory stays the same whatever the attachments' size: each is read into the
    ///   client's receive buffer one piece at a time. No heap.
    /// - SIZE= is declared only when every attachment's [`size`](Attachment::size) is given.
    /// - A reader that fails, or ends before its given size, aborts the mail before its end
    ///   ([`ErrorKind::BodyRead`](crate::ErrorKind::BodyRead)): the connection is closed
    ///   without the final dot, so the server never takes a truncated mail.
    ///
    /// ```no_run
    /// # #[cfg(feature = "std")] {
    /// use zsmtp::{Attachment, Client, Config, Mail};
    /// use zsmtp::transport::host::{StdClock, StdTransport};
    ///
    /// let config = Config::new("mail.example.com", 25, "device-17.example.com", "device@example.com");
    /// let mut client: Client<'_, _, _> = Client::new(config, StdTransport::new(), StdClock::new())?;
    /// let readings = b"time,temperature\n0,21.5\n60,21.7\n";
    /// let snapshot: &[u8] = &[0x89, b'P', b'N', b'G'];
    /// let (mut csv, mut png) = (&readings[..], snapshot);
    /// let mut attachments = [
    ///     Attachment::new("Messwerte-Kühlhaus.csv", &mut csv).size(readings.len() as u64),
    ///     Attachment::new("snapshot.png", &mut png),
    /// ];
    /// let mail = Mail::new("Daily report", b"Readings and a snapshot attached.\n")
    ///     .html(b"<p>Readings and a snapshot <b>attached</b>.</p>")
    ///     .to(&["ops@example.com"]);
    /// client.send_mime(&mail, &mut attachments)?;
    /// # }
    /// # Ok::<(), zsmtp::Error>(())
    /// ```
    #[cfg(feature = "mime")]
    pub fn send_mime(&mut self, mail: &Mail<'_>, attachments: &mut [Attachment<'_>]) -> Result<Sent, Error> {
        self.send_body(mail, session::MimeBody::new(mail.body, mail.html, attachments))
    }

    /// Sends `mail` with its body streamed from `body` (the mail's own body, and its HTML
    /// alternative, are ignored).
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
        Connection::open(&mut self.transport, &mut self.clock, &mut self.rx, &mut self.tx, &self.config, &mut self.last_reply, &mut self.sequence)
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

impl<'c, 'a, T: Transport, K: Clock> Connection<'c, 'a, T, K> {
    /// Opens a connection over borrowed parts (a [`Client`]'s, or the C API's control block's):
    /// connect, greeting, EHLO, AUTH. `config` was validated for `tx`'s length.
    pub(crate) fn open(
        transport: &'c mut T,
        clock: &'c mut K,
        rx: &'c mut [u8],
        tx: &'c mut [u8],
        config: &'c Config<'a>,
        last_reply: &'c mut Option<ServerReply>,
        sequence: &'c mut u32,
    ) -> Result<Self, Error> {
        let mut connection = Connection { session: session::Session::new(transport, clock, rx, tx, config.timeouts), config, last_reply, sequence };
        connection.session.open_now(connection.config, connection.last_reply)?;
        Ok(connection)
    }

    /// Sends `mail` (with its body) on this connection (see [`Client::send`]).
    pub fn send(&mut self, mail: &Mail<'_>) -> Result<Sent, Error> {
        #[cfg(feature = "mime")]
        if !mail.html.is_empty() {
            return self.send_mime(mail, &mut []);
        }
        self.send_body(mail, mail.body)
    }

    /// Sends `mail` as a MIME message with `attachments` on this connection (see
    /// [`Client::send_mime`]). After a reader failed, the connection is closed; the next mail
    /// reconnects.
    #[cfg(feature = "mime")]
    pub fn send_mime(&mut self, mail: &Mail<'_>, attachments: &mut [Attachment<'_>]) -> Result<Sent, Error> {
        self.send_body(mail, session::MimeBody::new(mail.body, mail.html, attachments))
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
