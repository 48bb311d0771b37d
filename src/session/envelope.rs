//! The envelope: RSET when owed, MAIL, RCPT for every recipient, DATA; in one flight when
//! the server offers PIPELINING, else in lockstep. A refused recipient fails the mail unless
//! partial delivery is allowed; after a refused pipelined MAIL the rest of the flight's
//! replies are read, so that a kept connection stays in step.

use super::{is_positive, Config, Fault, Mail, Session, State};
use crate::error::{ErrorKind, Field, Invalid, Phase};
use crate::transport::{Clock, Transport};
use crate::wire::command::{self, MailParams};
use crate::wire::out::Sink;
use crate::wire::syntax;

impl<T: Transport, K: Clock> Session<'_, T, K> {
    /// MAIL, RCPT for every recipient, DATA: in one flight when pipelining. Returns the
    /// refused-recipient mask and whether pipelining is in use.
    /// `content`: the body's MIME header lines, part of the size declared.
    pub(super) fn envelope(&mut self, config: &Config<'_>, mail: &Mail<'_>, body_size: Option<u64>, content: &[u8]) -> Result<(u64, bool), Fault> {
        self.link.phase = Phase::Mail;
        let from = syntax::address_str(mail.sender(config)).map_err(|why| Fault::new(ErrorKind::InvalidInput(Field::From, why), Phase::Validate))?;
        let needs_utf8 = !from.is_ascii() || mail.recipients().any(|r| !r.is_ascii());
        if needs_utf8 && !self.caps.smtputf8 {
            return Err(Fault::new(ErrorKind::InvalidInput(Field::Recipient, Invalid::NotSupportedByServer), Phase::Mail));
        }
        let size = match (self.caps.size, body_size) {
            (Some(limit), Some(body)) => {
                let total = body + self.header_size(config, mail, content);
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
        let bare = syntax::address_str(rcpt).map_err(|why| Fault::new(ErrorKind::InvalidInput(Field::Recipient, why), Phase::Validate))?;
        self.put_command(format_args!("RCPT TO:<{}>", bare), |l| command::rcpt_to(l, bare))
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
}
