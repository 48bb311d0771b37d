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

mod auth;
mod check;
mod fault;
pub mod link;
mod request;

use crate::error::{Error, ErrorKind, Field, Invalid, Phase, ServerReply};
use crate::transport::{Clock, Transport};
use crate::wire::body::BodyEncoder;
use crate::wire::command::{self, MailParams};
use crate::wire::ehlo::Capabilities;
use crate::wire::header::{self, Headers};
use crate::wire::out::Sink;
use crate::wire::syntax;
use crate::wire::command::Auth;
pub use check::{body_bytes, config as check_config, mail as check_mail};
pub use fault::Fault;
pub(crate) use link::{is_positive, Link, Rx};
pub use request::{Config, Mail, Sent, Timeouts, TlsMode, MAX_RECIPIENTS};

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

/// Where a mail's body comes from.
pub trait BodySource {
    /// Checks the body before anything is sent; its size on the wire when known.
    fn check(&self) -> Result<Option<u64>, Fault>;
    /// The next chunk of text (empty at the end); `scratch` is free memory to read into.
    fn next_chunk<'s>(&'s mut self, scratch: &'s mut [u8]) -> Result<&'s [u8], Fault>;
}

/// A body in memory: checked whole before sending, encoded without copying.
impl BodySource for &[u8] {
    fn check(&self) -> Result<Option<u64>, Fault> {
        check::body_bytes(self).map(Some)
    }

    fn next_chunk<'s>(&'s mut self, _scratch: &'s mut [u8]) -> Result<&'s [u8], Fault> {
        Ok(core::mem::take(self))
    }
}

/// A body streamed from a reader, checked line by line as it goes.
pub struct ReaderBody<R>(pub R);

impl<R: embedded_io::Read> BodySource for ReaderBody<R> {
    fn check(&self) -> Result<Option<u64>, Fault> {
        Ok(None)
    }

    fn next_chunk<'s>(&'s mut self, scratch: &'s mut [u8]) -> Result<&'s [u8], Fault> {
        let n = self.0.read(scratch).map_err(|_| Fault::new(ErrorKind::BodyRead, Phase::Message))?;
        Ok(scratch.get(..n).unwrap_or(&[]))
    }
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
/// still listen after a refusal: every other failure closes without a word.
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
            self.link.connect_tls(config.server, config.port)?;
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
        self.link.start_tls(config.server)?;
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
        let (refused_mask, pipelined) = self.envelope(config, mail, body_size)?;

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

    /// MAIL, RCPT for every recipient, DATA: in one flight when pipelining. Returns the
    /// refused-recipient mask and whether pipelining is in use.
    fn envelope(&mut self, config: &Config<'_>, mail: &Mail<'_>, body_size: Option<u64>) -> Result<(u64, bool), Fault> {
        self.link.phase = Phase::Mail;
        let from = syntax::address(config.from).map_err(|why| Fault::new(ErrorKind::InvalidInput(Field::From, why), Phase::Validate))?;
        let needs_utf8 = !from.is_ascii() || mail.recipients().any(|r| !r.is_ascii());
        if needs_utf8 && !self.caps.smtputf8 {
            return Err(Fault::new(ErrorKind::InvalidInput(Field::Recipient, Invalid::NotSupportedByServer), Phase::Mail));
        }
        let size = match (self.caps.size, body_size) {
            (Some(limit), Some(body)) => {
                let total = body + self.header_size(config, mail);
                if limit > 0 && total > limit {
                    return Err(Fault::new(ErrorKind::TooLarge, Phase::Mail));
                }
                // Declaring the size is optional: past 4 GiB it is left out (32-bit numbers only).
                u32::try_from(total).ok()
            }
            _ => None,
        };
        let params = MailParams { size, eight_bit_mime: self.caps.eight_bit_mime, smtputf8: needs_utf8 };
        let pipelined = config.pipelining && self.caps.pipelining;
        let count = mail.recipient_count();

        // After a refused transaction on a kept connection: RSET, in the same flight as
        // the envelope when pipelining.
        let reset = matches!(self.state, State::Ready { reset: true });
        self.state = State::Ready { reset: false };
        if reset {
            self.put_command(format_args!("RSET"), |l| l.put(command::RSET))?;
            if !pipelined {
                self.link.flush()?;
                self.expect_positive()?;
            }
        }
        self.put_command(format_args!("MAIL FROM:<{}>", from), |l| command::mail_from(l, from, params))?;
        if pipelined {
            for rcpt in mail.recipients() {
                self.put_rcpt(rcpt)?;
            }
            self.put_command(format_args!("DATA"), |l| l.put(command::DATA))?;
        }
        self.link.flush()?;
        if reset && pipelined {
            self.expect_positive()?;
        }
        let reply = self.command_reply()?;
        if !is_positive(reply) {
            let refusal = self.refuse();
            // 421: the server is closing; no further reply will come.
            if pipelined && reply != 421 {
                // The flight's RCPTs and DATA were sent too: their replies must be read
                // before this connection carries anything else, or the next mail would
                // take them for its own. If they never come, the refusal is still the
                // answer, but the connection is out of step and must not be reused.
                match self.drain_flight(count) {
                    Ok(true) => self.state = State::InData,
                    Ok(false) => {}
                    Err(_) => self.state = State::OutOfStep,
                }
            }
            return Err(refusal);
        }

        self.link.phase = Phase::Rcpt;
        let mut mask = 0u64;
        for (i, rcpt) in mail.recipients().enumerate() {
            if !pipelined {
                self.put_rcpt(rcpt)?;
                self.link.flush()?;
            }
            let reply = self.command_reply()?;
            if !is_positive(reply) {
                // 421 ends the session at once (no further reply will come); in lockstep
                // any refusal ends the mail unless partial delivery is allowed.
                if reply == 421 || (!pipelined && !mail.allow_partial) {
                    return Err(self.refuse());
                }
                if mask == 0 {
                    // The first refusal is the one reported, whatever arrives after it.
                    self.decisive = Some(self.rx.last.clone());
                }
                mask |= 1 << i;
            }
        }
        let all_refused = mask.count_ones() as usize == count;
        let rcpt_refused = Fault::new(ErrorKind::Rejected, Phase::Rcpt);

        self.link.phase = Phase::Data;
        if !pipelined {
            if all_refused {
                return Err(rcpt_refused);
            }
            self.put_command(format_args!("DATA"), |l| l.put(command::DATA))?;
            self.link.flush()?;
        }
        let data_reply = self.command_reply()?;
        if data_reply == 354 {
            self.state = State::InData;
        }
        if mask != 0 && (all_refused || !mail.allow_partial) {
            return Err(rcpt_refused);
        }
        if data_reply != 354 {
            return Err(self.refuse());
        }
        if self.rx.has_unread() {
            // Nothing may follow 354 before our content: a confused or hostile server.
            return Err(Fault::new(ErrorKind::Malformed, Phase::Data));
        }
        Ok((mask, pipelined))
    }

    fn put_rcpt(&mut self, rcpt: &str) -> Result<(), Fault> {
        let bare = syntax::address(rcpt).map_err(|why| Fault::new(ErrorKind::InvalidInput(Field::Recipient, why), Phase::Validate))?;
        self.put_command(format_args!("RCPT TO:<{}>", bare), |l| command::rcpt_to(l, bare))
    }

    fn headers<'m>(&self, config: &'m Config<'_>, mail: &'m Mail<'_>, sequence: u32, entropy: u32) -> Headers<'m> {
        let unix_time = self.link.clock.unix_time();
        Headers {
            from: syntax::address(config.from).unwrap_or(config.from),
            to: mail.to,
            cc: mail.cc,
            subject: mail.subject,
            priority: mail.priority,
            // Past 2106 no Date header (the server adds one): the date stays 32-bit arithmetic.
            date: unix_time.and_then(|s| u32::try_from(s).ok()),
            message_id: (unix_time.unwrap_or_else(|| self.link.clock.now_ms()), sequence, entropy),
        }
    }

    /// The header block's size, for SIZE=: written to a counter, never sent.
    fn header_size(&self, config: &Config<'_>, mail: &Mail<'_>) -> u64 {
        /// Counts bytes; a `Sink` with the link's error type, so that both calls of
        /// `header::write` are one function (`dyn Sink`) in the image, not two.
        struct Count(u64);
        impl Sink for Count {
            type Error = Fault;
            fn put(&mut self, bytes: &[u8]) -> Result<(), Fault> {
                self.0 += bytes.len() as u64;
                Ok(())
            }
        }
        let mut count = Count(0);
        let widest_id = Headers { message_id: (u64::MAX, u32::MAX, u32::MAX), ..self.headers(config, mail, 0, 0) };
        let _ = header::write::<dyn Sink<Error = Fault>>(&mut count, &widest_id);
        count.0
    }

    /// Headers, body and terminator (and QUIT when `quit_with_dot`), the end in one write.
    fn content<B: BodySource>(
        &mut self,
        config: &Config<'_>,
        mail: &Mail<'_>,
        body: &mut B,
        sequence: u32,
        quit_with_dot: bool,
    ) -> Result<(), Fault> {
        self.rx.clear();
        let entropy = self.link.clock.entropy();
        let headers = self.headers(config, mail, sequence, entropy);
        header::write::<dyn Sink<Error = Fault>>(&mut self.link, &headers)?;
        let mut encoder = BodyEncoder::new();
        loop {
            let chunk = body.next_chunk(self.rx.buf)?;
            if chunk.is_empty() {
                break;
            }
            encoder.encode(chunk, &mut self.link).map_err(Fault::of_body)?;
        }
        let tail: &[u8] = if quit_with_dot { b"\r\n.\r\nQUIT\r\n" } else { b"\r\n.\r\n" };
        self.link.reserve_with_tail(tail.len())?;
        encoder.finish(&mut self.link).map_err(Fault::of_body)?;
        if quit_with_dot {
            self.put_command(format_args!("QUIT"), |l| l.put(command::QUIT))?;
        }
        match self.link.flush_tracked() {
            Ok(()) => {}
            // Only QUIT was left unsent: the terminator went out whole, so the server may
            // take the mail. Reporting a plain failure would invite a duplicating retry.
            Err((fault, unsent)) if quit_with_dot && unsent <= command::QUIT.len() => {
                return Err(Fault { kind: ErrorKind::OutcomeUnknown, ..fault });
            }
            Err((fault, _)) => return Err(fault),
        }
        dialogue!("C: <message> .");
        self.state = if quit_with_dot { State::QuitSent } else { State::Ready { reset: false } };
        Ok(())
    }

    /// The reply to the final dot. A link that dies or goes silent now leaves the outcome
    /// unknown: the server may have accepted the mail.
    fn final_reply(&mut self) -> Result<u16, Fault> {
        let timeout = self.link.timeouts.final_reply_ms;
        self.reply(timeout).map_err(|e| match e.kind {
            ErrorKind::Timeout | ErrorKind::NotConnected | ErrorKind::Malformed | ErrorKind::ReplyTooLong => {
                Fault { kind: ErrorKind::OutcomeUnknown, ..e }
            }
            _ => e,
        })
    }

    /// Reads the replies to `rcpts` RCPTs and DATA; whether DATA got 354.
    fn drain_flight(&mut self, rcpts: usize) -> Result<bool, Fault> {
        for _ in 0..rcpts {
            self.command_reply()?;
        }
        Ok(self.command_reply()? == 354)
    }

    /// A command reply that must be positive (RSET).
    fn expect_positive(&mut self) -> Result<(), Fault> {
        let reply = self.command_reply()?;
        if is_positive(reply) {
            Ok(())
        } else {
            Err(self.refuse())
        }
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

