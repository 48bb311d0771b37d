//! AUTH PLAIN (RFC 4616, with the RFC 4954 initial response) and AUTH LOGIN (XOAUTH2 and
//! OAUTHBEARER: `oauth.rs`).
//!
//! The mechanism: the configured one if offered, else the other one if offered, else the
//! configured one anyway (NetX Duo does the same for servers whose AUTH line names neither).
//! No AUTH line at all: nothing is sent and the error is AuthNotOffered.
//! LOGIN answers 334 challenges in order (user name, then password) and never reads the
//! prompt text. Any 2xx ends the exchange as success; a 334 beyond the expected ones, or any
//! other reply, is a refusal. Credentials are never logged.

use super::{is_positive, Session};
use super::Config;
use crate::wire::command::Auth;
use super::Fault;
use crate::error::{ErrorKind, Phase};
use crate::transport::{Clock, Transport};
use crate::wire::command;
use crate::wire::out::Sink;

/// Writes the answer to one 334 challenge.
type Responder<'r, 'p, T, K> = dyn FnMut(&mut super::Link<'p, T, K>) -> Result<(), Fault> + 'r;

impl<'p, T: Transport, K: Clock> Session<'p, T, K> {
    pub(super) fn authenticate(&mut self, config: &Config<'_>) -> Result<(), Fault> {
        let offered = self.caps.auth;
        if !offered.advertised {
            return Err(Fault::new(ErrorKind::AuthNotOffered, Phase::Auth));
        }
        let (user, password) = (config.username, config.password);
        match command::choose_auth(config.auth, offered.plain, offered.login) {
            Auth::Plain => {
                self.put_command(format_args!("AUTH PLAIN <redacted>"), |l| command::auth_plain(l, user.as_bytes(), password.as_bytes()))?;
                // A server that ignores the initial response asks again with an empty 334.
                self.challenges(1, &mut |l| {
                    command::base64_line(l, &command::plain_response(user.as_bytes(), password.as_bytes()))
                })
            }
            Auth::Login => {
                self.put_command(format_args!("AUTH LOGIN"), |l| l.put(command::AUTH_LOGIN))?;
                let mut step = 0;
                self.challenges(2, &mut |l| {
                    step += 1;
                    command::base64_line(l, &[if step == 1 { user } else { password }.as_bytes()])
                })
            }
            Auth::None => Ok(()),
            #[cfg(feature = "oauth2")]
            token @ (Auth::XOAuth2 | Auth::OAuthBearer) => self.authenticate_oauth(config, token),
        }
    }

    /// Sends what is buffered, then answers up to `max` 334 challenges with `respond`
    /// until a 2xx (success) or anything else (refusal).
    /// (`respond` is `dyn`: one copy of this loop serves both mechanisms.)
    fn challenges(&mut self, max: u32, respond: &mut Responder<'_, 'p, T, K>) -> Result<(), Fault> {
        let mut answered = 0;
        loop {
            self.link.flush()?;
            let reply = self.command_reply()?;
            if is_positive(reply) {
                return Ok(());
            }
            if reply != 334 || answered == max {
                return Err(self.refuse());
            }
            dialogue!("C: <redacted>");
            respond(&mut self.link)?;
            answered += 1;
        }
    }
}
