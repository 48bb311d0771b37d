//! What one send needs: the connection's [`Config`] with its [`Timeouts`] and [`TlsMode`],
//! one [`Mail`], and what a delivered mail returns ([`Sent`]). The engine's own vocabulary;
//! `client` re-exports it as the public API.

use crate::error::{Error, ServerReply};
use crate::wire::command::Auth;
use crate::wire::header::Priority;

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

/// Kconfig's default timeouts (`CONFIG_SMTP_CLIENT_*_TIMEOUT_MS`), written by build.rs.
mod kconfig {
    include!(concat!(env!("OUT_DIR"), "/kconfig_defaults.rs"));
}

impl Timeouts {
    /// The module's Kconfig defaults, the one place they are written.
    pub const DEFAULT: Timeouts = Timeouts {
        connect_ms: kconfig::CONNECT_MS,
        greeting_ms: kconfig::GREETING_MS,
        reply_ms: kconfig::REPLY_MS,
        send_ms: kconfig::SEND_MS,
        final_reply_ms: kconfig::FINAL_REPLY_MS,
        total_ms: kconfig::TOTAL_MS,
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
    /// The host name the server's certificate must carry, when `server` is not that name (a
    /// server given by address). Empty (default): `server` itself.
    pub tls_name: &'a str,
    /// Send credentials over a connection that is not encrypted (default false: such a
    /// send fails with `PlaintextAuthRefused` and nothing is sent). Bearer tokens follow the
    /// same rule.
    pub allow_plaintext_auth: bool,
    /// Where the OAuth 2.0 bearer token of XOAUTH2 and OAUTHBEARER comes from (see
    /// [`Config::oauth`]); asked right before each AUTH.
    #[cfg(feature = "oauth2")]
    pub token: Option<&'a (dyn super::TokenSource + Sync)>,
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
            tls_name: "",
            allow_plaintext_auth: false,
            #[cfg(feature = "oauth2")]
            token: None,
        }
    }

    /// Authenticate with `mechanism` (the other one is used if only that one is offered).
    pub const fn auth(mut self, mechanism: Auth, username: &'a str, password: &'a str) -> Self {
        self.auth = mechanism;
        self.username = username;
        self.password = password;
        self
    }

    /// Authenticate with an OAuth 2.0 bearer token: `mechanism` is [`Auth::XOAuth2`] or
    /// [`Auth::OAuthBearer`], `username` the mailbox the token was issued for, `token` its
    /// source (asked right before each AUTH, so a token replaced between sends is the one
    /// used; see [`super::TokenSource`]). A server that does not offer `mechanism` fails the
    /// send with `AuthNotOffered` before any credential is sent. The password is not used.
    #[cfg(feature = "oauth2")]
    pub const fn oauth(mut self, mechanism: Auth, username: &'a str, token: &'a (dyn super::TokenSource + Sync)) -> Self {
        self.auth = mechanism;
        self.username = username;
        self.password = "";
        self.token = Some(token);
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
    /// Verifies the server's certificate for `name` instead of `server`: for a server given
    /// by address whose certificate names it by host name.
    pub const fn tls_name(mut self, name: &'a str) -> Self {
        self.tls_name = name;
        self
    }

    /// The name the server's certificate is verified for: [`Config::tls_name`], or the
    /// server without brackets.
    pub fn certificate_name(&self) -> &'a str {
        match self.tls_name {
            "" => {
                let s = self.server;
                s.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(s)
            }
            name => name,
        }
    }

    pub const fn allow_plaintext_auth(mut self, allow: bool) -> Self {
        self.allow_plaintext_auth = allow;
        self
    }

    /// Checks every field; nothing is sent. `tx_capacity` is the transmit buffer size (the
    /// longest command, AUTH PLAIN with its response, must fit in it).
    pub fn validate(&self, tx_capacity: usize) -> Result<(), Error> {
        super::check::config(self, tx_capacity).map_err(Error::from)
    }
}

impl core::fmt::Debug for Config<'_> {
    // Written by hand so that the password and the token can never reach a log.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut d = f.debug_struct("Config");
        d
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
            .field("tls_name", &self.tls_name)
            .field("allow_plaintext_auth", &self.allow_plaintext_auth);
        #[cfg(feature = "oauth2")]
        d.field("token", &self.token.map(|_| "<redacted>"));
        d.finish()
    }
}

/// Most recipients (To + Cc + Bcc) in one mail.
pub const MAX_RECIPIENTS: usize = 64;

/// One mail: recipients, subject, priority and (for [`Client::send`](crate::Client::send)) the body.
#[derive(Debug, Clone, Copy)]
pub struct Mail<'a> {
    pub(crate) to: &'a [&'a str],
    pub(crate) cc: &'a [&'a str],
    pub(crate) bcc: &'a [&'a str],
    pub(crate) subject: &'a str,
    pub(crate) body: &'a [u8],
    /// The HTML alternative of the body (empty: none).
    #[cfg(feature = "mime")]
    pub(crate) html: &'a [u8],
    pub(crate) priority: Priority,
    pub(crate) allow_partial: bool,
    /// Sender, Date and Message-ID fixed before the send (feature `outbox`): a queued mail is
    /// sent with what it was given when it was queued, however often it is sent.
    #[cfg(feature = "outbox")]
    pub(crate) origin: Option<Origin<'a>>,
}

/// What a queued mail fixes when it is queued (feature `outbox`): its sender (instead of
/// [`Config::from`]), its Date and its Message-ID, so that every delivery attempt sends the same
/// header block and a duplicate can be recognised by its Message-ID.
#[cfg(feature = "outbox")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin<'a> {
    /// The envelope sender and From header (bare or in angle brackets).
    pub from: &'a str,
    /// Seconds since 1970 of the Date header (none: no Date header, the server adds one).
    pub date: Option<u32>,
    /// The Message-ID's three numbers: `<time.sequence.entropy@domain-of-from>`.
    pub message_id: (u64, u32, u32),
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
            #[cfg(feature = "mime")]
            html: &[],
            priority: Priority::Normal,
            allow_partial: false,
            #[cfg(feature = "outbox")]
            origin: None,
        }
    }

    /// Sends with this sender, Date and Message-ID instead of the configuration's sender and
    /// the time of the send (feature `outbox`; how the outbox sends a queued mail).
    #[cfg(feature = "outbox")]
    pub const fn origin(mut self, origin: Origin<'a>) -> Self {
        self.origin = Some(origin);
        self
    }

    /// The envelope sender and From header: the mail's own (feature `outbox`), else the
    /// configuration's.
    pub(crate) fn sender<'c>(&self, config: &Config<'c>) -> &'c str
    where
        'a: 'c,
    {
        #[cfg(feature = "outbox")]
        if let Some(origin) = self.origin {
            return origin.from;
        }
        config.from
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

    /// An HTML version of the body (feature `mime`): the mail is then multipart/alternative,
    /// the text first and the HTML second, each sent as it is when the server takes it, else
    /// quoted-printable. Sent by [`Client::send`](crate::Client::send) and
    /// [`Client::send_mime`](crate::Client::send_mime); a body streamed from a reader goes without it.
    #[cfg(feature = "mime")]
    pub const fn html(mut self, html: &'a [u8]) -> Self {
        self.html = html;
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
