//! The content: headers, body and terminator (and QUIT, when pipelining a one-shot send),
//! the body's end and the terminator in one write; then the reply to the final dot.

use super::{BodySource, Config, Fault, Link, Mail, Session, State};
use crate::error::ErrorKind;
use crate::transport::{Clock, Transport};
use crate::wire::body::BodyEncoder;
use crate::wire::command;
use crate::wire::header::{self, Headers};
use crate::wire::out::Sink;
use crate::wire::syntax;

impl<T: Transport, K: Clock> Session<'_, T, K> {
    fn headers<'m>(&self, config: &'m Config<'_>, mail: &'m Mail<'_>, content: &'m [u8], sequence: u32, entropy: u32) -> Headers<'m> {
        let unix_time = self.link.clock.unix_time();
        let from = mail.sender(config);
        let headers = Headers {
            from: syntax::address_str(from).unwrap_or(from),
            to: mail.to,
            cc: mail.cc,
            subject: mail.subject,
            priority: mail.priority,
            // Past 2106 no Date header (the server adds one): the date stays 32-bit arithmetic.
            date: unix_time.and_then(|s| u32::try_from(s).ok()),
            message_id: (unix_time.unwrap_or_else(|| self.link.clock.now_ms()), sequence, entropy),
            content,
        };
        #[cfg(feature = "outbox")]
        if let Some(origin) = mail.origin {
            return Headers { date: origin.date, message_id: origin.message_id, ..headers };
        }
        headers
    }

    /// The header block's size, for SIZE=: written to a counter, never sent.
    pub(super) fn header_size(&self, config: &Config<'_>, mail: &Mail<'_>, content: &[u8]) -> u64 {
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
        let widest_id = Headers { message_id: (u64::MAX, u32::MAX, u32::MAX), ..self.headers(config, mail, content, 0, 0) };
        let _ = header::write::<dyn Sink<Error = Fault>>(&mut count, &widest_id);
        count.0
    }

    /// Headers, body and terminator (and QUIT when `quit_with_dot`), the end in one write.
    pub(super) fn content<B: BodySource>(
        &mut self,
        config: &Config<'_>,
        mail: &Mail<'_>,
        body: &mut B,
        sequence: u32,
        quit_with_dot: bool,
    ) -> Result<(), Fault> {
        self.rx.clear();
        let entropy = self.link.clock.entropy();
        let headers = self.headers(config, mail, body.content_headers(), sequence, entropy);
        header::write::<dyn Sink<Error = Fault>>(&mut self.link, &headers)?;
        let mut text = Text { encoder: BodyEncoder::new(), link: &mut self.link };
        body.write_text(&mut text, self.rx.buf)?;
        let mut encoder = text.encoder;
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
    pub(super) fn final_reply(&mut self) -> Result<u16, Fault> {
        let timeout = self.link.timeouts.final_reply_ms;
        self.reply(timeout).map_err(|e| match e.kind {
            ErrorKind::Timeout | ErrorKind::NotConnected | ErrorKind::Malformed | ErrorKind::ReplyTooLong => {
                Fault { kind: ErrorKind::OutcomeUnknown, ..e }
            }
            _ => e,
        })
    }
}

/// The body's text on its way to the link: every byte goes through the body encoder (CRLF
/// line ends, dot-stuffing, the line length limit), whoever writes it.
struct Text<'l, 'p, T: Transport, K: Clock> {
    encoder: BodyEncoder,
    link: &'l mut Link<'p, T, K>,
}

impl<T: Transport, K: Clock> Sink for Text<'_, '_, T, K> {
    type Error = Fault;

    fn put(&mut self, bytes: &[u8]) -> Result<(), Fault> {
        self.encoder.encode(bytes, self.link).map_err(Fault::of_body)
    }
}
