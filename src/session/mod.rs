//! The session engine: one SMTP dialogue over a [`Transport`], from connect to QUIT.
//!
//! greeting -> EHLO (HELO when EHLO is refused with 500/502/504/550) -> AUTH -> MAIL,
//! RCPT..., DATA (one flight when the server offers PIPELINING) -> headers and body with the
//! terminator (and QUIT, when pipelining) in the same write -> final reply -> QUIT.
//!
//! Every exit closes the connection. After a negative reply the only thing sent is QUIT
//! (not after 421, not inside DATA, not after a broken or silent link). Once the final
//! dot has left, a dead link is reported as [`ErrorKind::OutcomeUnknown`], never as a
//! plain failure: the server may have taken the mail.
//!
//! One `impl Session` spread over files by job: this one opens and closes the connection
//! and holds the session's `State`; `auth.rs` authenticates (`oauth.rs` with a bearer token,
//! feature `oauth2`), `envelope.rs` sends MAIL,
//! RCPT and DATA, `content.rs` the message and its final reply; `body.rs` has the body sources
//! and `mime.rs` (feature `mime`) the MIME body: text, HTML alternative, attachments.

mod auth;
mod body;
mod check;
mod content;
mod envelope;
mod fault;
pub mod link;
#[cfg(feature = "mime")]
mod mime;
#[cfg(feature = "oauth2")]
mod oauth;
mod request;
#[cfg(feature = "oauth2")]
mod token;

use crate::error::{Error, ErrorKind, Phase, ServerReply};
use crate::transport::{Clock, Transport};
use crate::wire::command::{self, Auth};
use crate::wire::ehlo::Capabilities;
use crate::wire::out::Sink;
pub use body::{BodySource, ReaderBody};
pub use check::{body_bytes, config as check_config, mail as check_mail};
pub use fault::Fault;
#[cfg(feature = "mime")]
pub use mime::{Attachment, AttachmentSource, MimeBody};
pub(crate) use link::{is_positive, Link, Rx};
pub use request::{Config, Mail, Sent, Timeouts, TlsMode, MAX_RECIPIENTS};
#[cfg(feature = "outbox")]
pub use request::Origin;
#[cfg(feature = "oauth2")]
pub use token::{TokenSource, TokenUnavailable};

/// Smallest receive buffer: one RFC 5321 reply line (512 bytes).
pub const MIN_RX: usize = 512;
/// Smallest transmit buffer: the longest command (MAIL FROM with a 256-byte path and
/// parameters, or AUTH PLAIN with its response) must fit.
pub const MIN_TX: usize = 512;

/// Everything one send borrows: the link, the clock and the buffers of a client.
pub struct Parts<'p, T: Transport, K: Clock> {
    pub transport: &'p mut T,
    pub clock: &'p mut K,
    pub rx: &'p mut [u8],
    pub tx: &'p mut [u8],
    /// Receives the reply that decided the outcome.
    pub last_reply: &'p mut Option<ServerReply>,
    /// A per-client counter that makes Message-IDs unique.
    pub sequence: u32,
}

/// Sends one mail over a new connection and closes it, whatever happens.
pub fn send<T: Transport, K: Clock, B: BodySource>(
    parts: Parts<'_, T, K>,
    config: &Config<'_>,
    mail: &Mail<'_>,
    mut body: B,
) -> Result<Sent, Error> {
    check::mail(mail)?;
    let body_size = body.check()?;
    let Parts { transport, clock, rx, tx, last_reply, sequence } = parts;
    let mut session = Session::new(transport, clock, rx, tx, config.timeouts);
    session.begin();
    let result = session
        .open(config)
        .and_then(|()| session.transaction(config, mail, &mut body, body_size, sequence, true));
    match &result {
        Ok(_) => session.quit(),
        Err(fault) => session.abandon(fault),
    }
    session.conclude(result, last_reply)
}

/// Sends one mail over an open session (opening it first if it is not), and keeps the
/// connection for the next mail when it is still sound: after an orderly refusal the next
/// mail starts with RSET; after a broken link the next mail reconnects.
pub fn send_on<T: Transport, K: Clock, B: BodySource>(
    session: &mut Session<'_, T, K>,
    config: &Config<'_>,
    mail: &Mail<'_>,
    mut body: B,
    sequence: u32,
    last_reply: &mut Option<ServerReply>,
) -> Result<Sent, Error> {
    check::mail(mail)?;
    let body_size = body.check()?;
    session.begin();
    let result = if session.is_ready() { Ok(()) } else { session.open(config) }
        .and_then(|()| session.transaction(config, mail, &mut body, body_size, sequence, false));
    if let Err(fault) = &result {
        if session.is_ready() && session.orderly(fault) {
            session.state = State::Ready { reset: true };
        } else {
            session.abandon(fault);
        }
    }
    session.conclude(result, last_reply)
}

/// Where a session stands: `Closed` -> `Opening` -> `Ready` -> (DATA took) `InData` -> (the
/// terminator left) `Ready`, or `QuitSent` when QUIT left with it; closing leads to `Closed`.
/// Between sends it is `Closed` or `Ready`. Only in `Opening` and `Ready` does the server
/// still listen after a refusal; in the other states any failure closes without a word.
enum State {
    /// No connection: the next send connects.
    Closed,
    /// Connecting, then greeting, EHLO, STARTTLS, AUTH (`encrypted`: TLS protects the link).
    Opening { encrypted: bool },
    /// Greeted, EHLO done and authenticated: the server takes commands (`reset`: the last
    /// transaction was refused, RSET goes before the next MAIL).
    Ready { reset: bool },
    /// The server took DATA (354) and has not seen the terminator: any byte is content.
    InData,
    /// QUIT has left (with the terminator, or alone): the server takes nothing more.
    QuitSent,
    /// Replies of a pipelined flight never came: the connection cannot be reused.
    OutOfStep,
}

/// One SMTP session over a [`Transport`], borrowing a client's buffers.
pub struct Session<'p, T: Transport, K: Clock> {
    link: Link<'p, T, K>,
    rx: Rx<'p>,
    caps: Capabilities,
    state: State,
    /// The server reply that decides a failure (kept when later replies arrive).
    decisive: Option<ServerReply>,
}

impl<'p, T: Transport, K: Clock> Session<'p, T, K> {
    pub fn new(transport: &'p mut T, clock: &'p mut K, rx: &'p mut [u8], tx: &'p mut [u8], timeouts: Timeouts) -> Self {
        Session {
            link: Link::new(transport, clock, tx, timeouts),
            rx: Rx::new(rx),
            caps: Capabilities::NONE,
            state: State::Closed,
            decisive: None,
        }
    }

    /// Opens the session now (for a kept connection); on failure it is closed again.
    pub fn open_now(&mut self, config: &Config<'_>, last_reply: &mut Option<ServerReply>) -> Result<(), Error> {
        self.begin();
        let result = self.open(config);
        if let Err(fault) = &result {
            self.abandon(fault);
        }
        *last_reply = self.decisive.clone();
        result.map_err(|f| Error { kind: f.kind, phase: f.phase, reply: self.decisive.clone() })
    }

    /// Whether the session is connected and ready for the next mail.
    pub fn is_ready(&self) -> bool {
        matches!(self.state, State::Ready { .. })
    }

    /// Starts a send: a fresh overall deadline, no decisive reply yet.
    fn begin(&mut self) {
        self.link.restart_deadline();
        self.decisive = None;
    }

    /// Connect (implicit TLS: and handshake), greeting, EHLO (or HELO), STARTTLS and EHLO
    /// again when required, AUTH: ready for MAIL.
    fn open(&mut self, config: &Config<'_>) -> Result<(), Fault> {
        self.link.phase = Phase::Connect;
        self.rx.clear();
        self.state = State::Opening { encrypted: false };
        if config.tls == TlsMode::Implicit {
            self.link.connect_tls(config.server, config.port, config.certificate_name())?;
            self.state = State::Opening { encrypted: true };
        } else {
            self.link.connect(config.server, config.port)?;
        }

        self.link.phase = Phase::Greeting;
        let greeting = self.reply(self.link.timeouts.greeting_ms)?;
        if greeting != 220 {
            return Err(self.refuse());
        }

        self.link.phase = Phase::Hello;
        self.hello(config.domain)?;

        if config.tls == TlsMode::StartTls {
            self.start_tls(config)?;
        }

        if config.auth != Auth::None {
            self.link.phase = Phase::Auth;
            if matches!(self.state, State::Opening { encrypted: false }) && !config.allow_plaintext_auth {
                return Err(Fault::new(ErrorKind::PlaintextAuthRefused, Phase::Auth));
            }
            self.authenticate(config)?;
        }
        self.state = State::Ready { reset: false };
        Ok(())
    }

    /// STARTTLS (RFC 3207), required: refuse to go on without it. Bytes that arrive after
    /// the server's 220 and before the handshake can only be an injection (the
    /// CVE-2021-22947 class): they end the session. After the handshake everything learnt
    /// in clear is forgotten and EHLO is sent again.
    fn start_tls(&mut self, config: &Config<'_>) -> Result<(), Fault> {
        self.link.phase = Phase::Tls;
        if !self.caps.starttls {
            return Err(Fault::new(ErrorKind::StartTlsNotOffered, Phase::Tls));
        }
        self.put_command(format_args!("STARTTLS"), |l| l.put(command::STARTTLS))?;
        self.link.flush()?;
        if self.command_reply()? != 220 {
            return Err(self.refuse());
        }
        if self.rx.has_unread() {
            return Err(Fault::new(ErrorKind::TlsUnexpectedData, Phase::Tls));
        }
        self.rx.clear();
        self.link.start_tls(config.certificate_name())?;
        self.state = State::Opening { encrypted: true };
        self.caps = Capabilities::NONE;
        self.link.phase = Phase::Hello;
        self.hello(config.domain)
    }

    /// MAIL, RCPT..., DATA, content, final reply. With `quit_with_dot` (a one-shot send)
    /// and pipelining, QUIT leaves with the terminator.
    fn transaction<B: BodySource>(
        &mut self,
        config: &Config<'_>,
        mail: &Mail<'_>,
        body: &mut B,
        body_size: Option<u64>,
        sequence: u32,
        quit_with_dot: bool,
    ) -> Result<Sent, Fault> {
        let body_size = body.fit(self.caps.eight_bit_mime, body_size);
        let (refused_mask, pipelined) = self.envelope(config, mail, body_size, body.content_headers())?;

        self.link.phase = Phase::Message;
        self.content(config, mail, body, sequence, pipelined && quit_with_dot)?;
        let reply = self.final_reply()?;
        if !is_positive(reply) {
            return Err(self.refuse());
        }
        Ok(Sent { reply: self.rx.last.clone(), refused: refused_mask })
    }

    /// Records the decisive reply and turns the engine's fault into the public error.
    fn conclude(&self, result: Result<Sent, Fault>, last_reply: &mut Option<ServerReply>) -> Result<Sent, Error> {
        *last_reply = match &result {
            Ok(sent) => Some(sent.reply.clone()),
            Err(_) => self.decisive.clone(),
        };
        result.map_err(|f| Error { kind: f.kind, phase: f.phase, reply: self.decisive.clone() })
    }

    fn reply(&mut self, timeout_ms: u32) -> Result<u16, Fault> {
        self.link.read_reply(&mut self.rx, timeout_ms, &mut |_, _| {})
    }

    fn command_reply(&mut self) -> Result<u16, Fault> {
        self.reply(self.link.timeouts.reply_ms)
    }

    /// The latest reply refuses what we asked in the current phase: keep it and fail.
    fn refuse(&mut self) -> Fault {
        self.decisive = Some(self.rx.last.clone());
        Fault::new(ErrorKind::Rejected, self.link.phase)
    }

    /// Buffers a command (logged as `shown`) without sending it.
    fn put_command(
        &mut self,
        shown: core::fmt::Arguments<'_>,
        write: impl FnOnce(&mut Link<'p, T, K>) -> Result<(), Fault>,
    ) -> Result<(), Fault> {
        dialogue!("C: {}", shown);
        write(&mut self.link)
    }

    fn hello(&mut self, domain: &str) -> Result<(), Fault> {
        self.put_command(format_args!("EHLO {}", domain), |l| command::hello(l, true, domain))?;
        self.link.flush()?;
        let mut caps = Capabilities::NONE;
        let timeout = self.link.timeouts.reply_ms;
        let reply = self.link.read_reply(&mut self.rx, timeout, &mut |line, index| {
            if index > 0 {
                caps.add_line(line.text);
            }
        })?;
        if is_positive(reply) {
            self.caps = caps;
            return Ok(());
        }
        if !matches!(reply, 500 | 502 | 504 | 550) {
            return Err(self.refuse());
        }
        // An old server: HELO, and no extensions.
        self.put_command(format_args!("HELO {}", domain), |l| command::hello(l, false, domain))?;
        self.link.flush()?;
        let reply = self.command_reply()?;
        if !is_positive(reply) {
            return Err(self.refuse());
        }
        self.caps = Capabilities::NONE;
        Ok(())
    }

    /// Ends a sound session: QUIT (unless it left with the content) and its 221, so the
    /// connection ends with a clean close. Failures here change nothing.
    pub fn quit(&mut self) {
        if self.is_ready() {
            let _ = self.put_command(format_args!("QUIT"), |l| l.put(command::QUIT));
            if self.link.flush().is_ok() {
                self.state = State::QuitSent;
            }
        }
        if matches!(self.state, State::QuitSent) {
            let _ = self.command_reply();
        }
        self.disconnect();
    }

    /// Whether the server still listens after `fault`: an orderly refusal while `Opening` or
    /// `Ready` (not inside DATA, after QUIT or out of step).
    fn orderly(&self, fault: &Fault) -> bool {
        let orderly = match fault.kind {
            ErrorKind::Rejected => self.decisive.as_ref().is_some_and(|r| r.code != 421),
            ErrorKind::AuthNotOffered
            | ErrorKind::TooLarge
            | ErrorKind::StartTlsNotOffered
            | ErrorKind::PlaintextAuthRefused => true,
            ErrorKind::InvalidInput(..) => fault.phase != Phase::Validate && fault.phase != Phase::Message,
            _ => false,
        };
        orderly && matches!(self.state, State::Opening { .. } | State::Ready { .. })
    }

    /// Ends the session after `fault`. After an orderly refusal the server still listens,
    /// so it gets a QUIT; after 421, inside DATA, or on a broken link, it does not.
    fn abandon(&mut self, fault: &Fault) {
        if self.orderly(fault) {
            self.link.discard_unsent();
            let _ = self.put_command(format_args!("QUIT"), |l| l.put(command::QUIT));
            let _ = self.link.flush();
        }
        self.disconnect();
    }

    fn disconnect(&mut self) {
        self.link.discard_unsent();
        self.link.close();
        self.state = State::Closed;
    }
}

