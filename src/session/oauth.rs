//! AUTH XOAUTH2 and AUTH OAUTHBEARER (RFC 7628) with a bearer token from the configuration's
//! [`TokenSource`](super::TokenSource).
//!
//! Only a mechanism the server offers by name is used: a server that does not offer it fails
//! the send with `AuthNotOffered` before anything of the credentials is sent (never a fallback
//! to PLAIN or LOGIN, which would send the token as a password). The token is asked for right
//! before the AUTH command, checked (visible ASCII), streamed as base64 through the transmit
//! buffer, and the buffer is zeroed once the command has left.
//!
//! The exchange: the initial response; a 235 is success. A server that refuses the token
//! answers 334 with a base64 JSON error (`{"status":"401","schemes":"Bearer",...}`): the
//! client acknowledges it (XOAUTH2: an empty line; OAUTHBEARER: 0x01, RFC 7628 section 3.2.3)
//! and the server's final reply (535) is the error, its text followed by the decoded JSON.
//! A server that ignored the initial response asks for it with an empty 334 and gets it.

use super::{is_positive, Config, Fault, Session};
use crate::error::{ErrorKind, Field, Invalid, Phase};
use crate::transport::{Clock, Transport};
use crate::wire::command::{Auth, CRLF};
use crate::wire::oauth::{self, Endpoint};
use crate::wire::out::Sink;

/// Bytes kept of the decoded JSON error of a 334 challenge.
const ERROR_DETAIL_LEN: usize = 128;

fn token_fault(why: Invalid) -> Fault {
    Fault::new(ErrorKind::InvalidInput(Field::Token, why), Phase::Auth)
}

impl<'p, T: Transport, K: Clock> Session<'p, T, K> {
    pub(super) fn authenticate_oauth(&mut self, config: &Config<'_>, mechanism: Auth) -> Result<(), Fault> {
        if !self.caps.auth.offers(mechanism) {
            return Err(Fault::new(ErrorKind::AuthNotOffered, Phase::Auth));
        }
        let source = config.token.ok_or(token_fault(Invalid::Empty))?;
        let mut result = Err(token_fault(Invalid::Empty));
        source
            .lend_token(&mut |token| result = self.oauth_exchange(config, mechanism, token))
            .map_err(|_| token_fault(Invalid::Empty))?;
        result
    }

    fn oauth_exchange(&mut self, config: &Config<'_>, mechanism: Auth, token: &[u8]) -> Result<(), Fault> {
        if !oauth::valid_token(token) {
            return Err(token_fault(match token {
                [] => Invalid::Empty,
                _ if token.iter().any(u8::is_ascii_control) => Invalid::ControlCharacter,
                _ => Invalid::Syntax,
            }));
        }
        let result = self.oauth_dialogue(config, mechanism, token);
        // Whatever happened, no part of the token's base64 stays in the transmit buffer.
        self.link.wipe_tx();
        result
    }

    /// The AUTH command with the token, then the server's replies (see the module's text).
    fn oauth_dialogue(&mut self, config: &Config<'_>, mechanism: Auth, token: &[u8]) -> Result<(), Fault> {
        let user = config.username.as_bytes();
        let endpoint = Endpoint { host: super::link::strip_brackets(config.server).as_bytes(), port: config.port };
        let bearer = mechanism == Auth::OAuthBearer;
        let respond = |l: &mut super::Link<'p, T, K>| {
            if bearer {
                oauth::oauthbearer_response(l, user, endpoint, token)
            } else {
                oauth::xoauth2_response(l, user, token)
            }
        };
        if bearer {
            self.put_command(format_args!("AUTH OAUTHBEARER <redacted>"), |l| oauth::auth_oauthbearer(l, user, endpoint, token))?;
        } else {
            self.put_command(format_args!("AUTH XOAUTH2 <redacted>"), |l| oauth::auth_xoauth2(l, user, token))?;
        }
        let mut detail = [0u8; ERROR_DETAIL_LEN];
        let mut detail_len = 0;
        let mut answered = false;
        loop {
            let sent = self.link.flush();
            self.link.wipe_tx();
            sent?;
            let mut challenge = None;
            let timeout = self.link.timeouts.reply_ms;
            let code = self.link.read_reply(&mut self.rx, timeout, &mut |line, index| {
                if index == 0 && line.code == 334 {
                    challenge = Some(oauth::decode_challenge(line.text, &mut detail));
                }
            })?;
            if is_positive(code) {
                return Ok(());
            }
            if code != 334 || answered {
                let fault = self.refuse();
                if let (Some(reply), Some(json)) = (&self.decisive, detail.get(..detail_len).filter(|d| !d.is_empty())) {
                    self.decisive = Some(reply.with_detail(json));
                }
                return Err(fault);
            }
            answered = true;
            match challenge {
                // An empty 334: the server ignored the initial response and asks for it.
                Some(0) if self.rx.last.text().is_empty() => {
                    dialogue!("C: <redacted>");
                    respond(&mut self.link)?;
                    self.link.put(CRLF)?;
                }
                // The server's error: acknowledged, its final reply follows.
                decoded => {
                    detail_len = decoded.unwrap_or(0);
                    dialogue!("C: (acknowledges the server's error)");
                    self.link.put(if bearer { oauth::OAUTHBEARER_ERROR_ANSWER } else { oauth::XOAUTH2_ERROR_ANSWER })?;
                }
            }
        }
    }
}
