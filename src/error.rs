//! Errors: a small Rust error with the phase and the server's reply, and the NetX Duo
//! status value each error maps to (the C API returns those values unchanged).

use crate::wire::reply::EnhancedCode;
pub use crate::wire::syntax::Invalid;

/// NetX Duo status values (nxd_smtp_client.h, nx_api.h) plus this client's own.
///
/// Values of NetX Duo are kept exactly; values this client adds start at 0xC0 so that they
/// never collide with NetX Duo's SMTP range (0xA0..=0xB2).
pub mod status {
    pub const NX_SUCCESS: u32 = 0x00;
    /// NetX: no packet arrived in time. Here: a reply did not arrive within its timeout.
    pub const NX_NO_PACKET: u32 = 0x01;
    pub const NX_PTR_ERROR: u32 = 0x07;
    pub const NX_SIZE_ERROR: u32 = 0x09;
    pub const NX_CALLER_ERROR: u32 = 0x11;
    pub const NX_IP_ADDRESS_ERROR: u32 = 0x21;
    pub const NX_NOT_CONNECTED: u32 = 0x38;

    pub const NX_SMTP_AUTHENTICATION_ERROR: u32 = 0xA0;
    pub const NX_SMTP_OVERSIZE_MAIL_DATA: u32 = 0xA1;
    pub const NX_SMTP_INVALID_SERVER_REPLY: u32 = 0xA2;
    pub const NX_SMTP_INTERNAL_ERROR: u32 = 0xA3;
    pub const NX_SMTP_SERVER_ERROR_CODE_RECEIVED: u32 = 0xA4;
    pub const NX_SMTP_INVALID_PARAM: u32 = 0xA5;
    pub const NX_SMTP_PACKET_ALLOCATE_ERROR: u32 = 0xA6;
    pub const NX_SMTP_GREET_REPLY_ERROR: u32 = 0xA7;
    pub const NX_SMTP_HELLO_REPLY_ERROR: u32 = 0xA8;
    pub const NX_SMTP_MAIL_REPLY_ERROR: u32 = 0xA9;
    pub const NX_SMTP_RCPT_REPLY_ERROR: u32 = 0xAA;
    pub const NX_SMTP_MESSAGE_REPLY_ERROR: u32 = 0xAB;
    pub const NX_SMTP_DATA_REPLY_ERROR: u32 = 0xAC;
    pub const NX_SMTP_AUTH_REPLY_ERROR: u32 = 0xAD;
    pub const NX_SMTP_SERVER_ERROR_REPLY: u32 = 0xAE;
    pub const NX_SMTP_TRANSMIT_ERROR: u32 = 0xAF;
    pub const NX_SMTP_INVALID_SERVER_CHALLENGE: u32 = 0xB0;
    pub const NX_SMTP_OVERSIZE_SERVER_REPLY: u32 = 0xB1;
    /// Spelled as NetX Duo spells it.
    pub const NX_SMTP_CLIENT_NOT_INTIALIZED: u32 = 0xB2;

    /// The connection died after the end of the message was sent and before the server's
    /// final reply: the mail may or may not have been accepted. Retrying may duplicate it.
    pub const NX_SMTP_OUTCOME_UNKNOWN: u32 = 0xC0;
    /// The server's host name could not be resolved.
    pub const NX_SMTP_HOST_NOT_FOUND: u32 = 0xC1;
    /// STARTTLS is required but the server does not offer it, or refused it.
    pub const NX_SMTP_STARTTLS_UNAVAILABLE: u32 = 0xC2;
    /// The TLS handshake failed (protocol error, alert, connection closed).
    pub const NX_SMTP_TLS_HANDSHAKE_FAILED: u32 = 0xC3;
    /// The server's certificate is not signed by a trusted CA (or no CA is configured).
    pub const NX_SMTP_TLS_UNTRUSTED_CERTIFICATE: u32 = 0xC4;
    /// The server's certificate does not name the server.
    pub const NX_SMTP_TLS_NAME_MISMATCH: u32 = 0xC5;
    /// The server's certificate is expired or not yet valid.
    pub const NX_SMTP_TLS_CERTIFICATE_EXPIRED: u32 = 0xC6;
    /// The server sent bytes after "220" to STARTTLS, before the handshake (an injection).
    pub const NX_SMTP_TLS_UNEXPECTED_DATA: u32 = 0xC7;
    /// Credentials would go over a connection that is not encrypted; none were sent.
    pub const NX_SMTP_PLAINTEXT_AUTH_REFUSED: u32 = 0xC8;
    /// TLS was asked for but this build or transport has none.
    pub const NX_SMTP_TLS_NOT_SUPPORTED: u32 = 0xC9;
    /// The wall clock is not set (no SNTP or RTC yet) and the build requires certificate dates
    /// to be checked: no TLS handshake was attempted.
    pub const NX_SMTP_TLS_CLOCK_NOT_SET: u32 = 0xCA;

    /// The NetX-style name of a status value (for logs, the CLI and the C API).
    pub fn name(status: u32) -> &'static str {
        match status {
            NX_SUCCESS => "NX_SUCCESS",
            NX_NO_PACKET => "NX_NO_PACKET",
            NX_PTR_ERROR => "NX_PTR_ERROR",
            NX_SIZE_ERROR => "NX_SIZE_ERROR",
            NX_CALLER_ERROR => "NX_CALLER_ERROR",
            NX_IP_ADDRESS_ERROR => "NX_IP_ADDRESS_ERROR",
            NX_NOT_CONNECTED => "NX_NOT_CONNECTED",
            NX_SMTP_AUTHENTICATION_ERROR => "NX_SMTP_AUTHENTICATION_ERROR",
            NX_SMTP_OVERSIZE_MAIL_DATA => "NX_SMTP_OVERSIZE_MAIL_DATA",
            NX_SMTP_INVALID_SERVER_REPLY => "NX_SMTP_INVALID_SERVER_REPLY",
            NX_SMTP_INTERNAL_ERROR => "NX_SMTP_INTERNAL_ERROR",
            NX_SMTP_SERVER_ERROR_CODE_RECEIVED => "NX_SMTP_SERVER_ERROR_CODE_RECEIVED",
            NX_SMTP_INVALID_PARAM => "NX_SMTP_INVALID_PARAM",
            NX_SMTP_PACKET_ALLOCATE_ERROR => "NX_SMTP_PACKET_ALLOCATE_ERROR",
            NX_SMTP_GREET_REPLY_ERROR => "NX_SMTP_GREET_REPLY_ERROR",
            NX_SMTP_HELLO_REPLY_ERROR => "NX_SMTP_HELLO_REPLY_ERROR",
            NX_SMTP_MAIL_REPLY_ERROR => "NX_SMTP_MAIL_REPLY_ERROR",
            NX_SMTP_RCPT_REPLY_ERROR => "NX_SMTP_RCPT_REPLY_ERROR",
            NX_SMTP_MESSAGE_REPLY_ERROR => "NX_SMTP_MESSAGE_REPLY_ERROR",
            NX_SMTP_DATA_REPLY_ERROR => "NX_SMTP_DATA_REPLY_ERROR",
            NX_SMTP_AUTH_REPLY_ERROR => "NX_SMTP_AUTH_REPLY_ERROR",
            NX_SMTP_SERVER_ERROR_REPLY => "NX_SMTP_SERVER_ERROR_REPLY",
            NX_SMTP_TRANSMIT_ERROR => "NX_SMTP_TRANSMIT_ERROR",
            NX_SMTP_INVALID_SERVER_CHALLENGE => "NX_SMTP_INVALID_SERVER_CHALLENGE",
            NX_SMTP_OVERSIZE_SERVER_REPLY => "NX_SMTP_OVERSIZE_SERVER_REPLY",
            NX_SMTP_CLIENT_NOT_INTIALIZED => "NX_SMTP_CLIENT_NOT_INTIALIZED",
            NX_SMTP_OUTCOME_UNKNOWN => "NX_SMTP_OUTCOME_UNKNOWN",
            NX_SMTP_HOST_NOT_FOUND => "NX_SMTP_HOST_NOT_FOUND",
            NX_SMTP_STARTTLS_UNAVAILABLE => "NX_SMTP_STARTTLS_UNAVAILABLE",
            NX_SMTP_TLS_HANDSHAKE_FAILED => "NX_SMTP_TLS_HANDSHAKE_FAILED",
            NX_SMTP_TLS_UNTRUSTED_CERTIFICATE => "NX_SMTP_TLS_UNTRUSTED_CERTIFICATE",
            NX_SMTP_TLS_NAME_MISMATCH => "NX_SMTP_TLS_NAME_MISMATCH",
            NX_SMTP_TLS_CERTIFICATE_EXPIRED => "NX_SMTP_TLS_CERTIFICATE_EXPIRED",
            NX_SMTP_TLS_UNEXPECTED_DATA => "NX_SMTP_TLS_UNEXPECTED_DATA",
            NX_SMTP_PLAINTEXT_AUTH_REFUSED => "NX_SMTP_PLAINTEXT_AUTH_REFUSED",
            NX_SMTP_TLS_NOT_SUPPORTED => "NX_SMTP_TLS_NOT_SUPPORTED",
            NX_SMTP_TLS_CLOCK_NOT_SET => "NX_SMTP_TLS_CLOCK_NOT_SET",
            _ => "NX_UNKNOWN_STATUS",
        }
    }
}

/// Where in the dialogue an error happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Checking the caller's input: nothing was sent.
    Validate,
    /// Resolving the server name and opening the TCP connection.
    Connect,
    /// Waiting for the server's 220 greeting.
    Greeting,
    /// EHLO (or the HELO fallback).
    Hello,
    /// STARTTLS and the TLS handshake (or the handshake of implicit TLS).
    Tls,
    /// AUTH PLAIN or AUTH LOGIN.
    Auth,
    /// MAIL FROM.
    Mail,
    /// RCPT TO (any recipient).
    Rcpt,
    /// DATA, up to the 354 go-ahead.
    Data,
    /// Message content and the server's reply to the final dot.
    Message,
}

impl Phase {
    /// NetX Duo's status for a negative or malformed reply in this phase.
    pub const fn reply_status(self) -> u32 {
        match self {
            Phase::Validate => status::NX_SMTP_INVALID_PARAM,
            Phase::Connect => status::NX_NOT_CONNECTED,
            Phase::Greeting => status::NX_SMTP_GREET_REPLY_ERROR,
            Phase::Hello => status::NX_SMTP_HELLO_REPLY_ERROR,
            Phase::Tls => status::NX_SMTP_STARTTLS_UNAVAILABLE,
            Phase::Auth => status::NX_SMTP_AUTH_REPLY_ERROR,
            Phase::Mail => status::NX_SMTP_MAIL_REPLY_ERROR,
            Phase::Rcpt => status::NX_SMTP_RCPT_REPLY_ERROR,
            Phase::Data => status::NX_SMTP_DATA_REPLY_ERROR,
            Phase::Message => status::NX_SMTP_MESSAGE_REPLY_ERROR,
        }
    }
}

/// The input field that failed validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Server,
    Port,
    Domain,
    From,
    Recipient,
    Subject,
    Username,
    Password,
    Body,
    Priority,
    /// The authentication mechanism (a configuration store's `auth`).
    Auth,
    /// A timeout (a configuration store's `timeout_*`).
    Timeouts,
    /// The pipelining switch (a configuration store's `pipelining`).
    Pipelining,
    /// The name the server's certificate is verified for.
    TlsName,
    /// An attachment's file name or content type.
    Attachment,
    /// The OAuth 2.0 bearer token (missing, refused by its source, or not visible ASCII).
    #[cfg(feature = "oauth2")]
    Token,
}

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The caller's input was rejected before anything was sent.
    InvalidInput(Field, Invalid),
    /// The server name could not be resolved.
    HostNotFound,
    /// No connection could be made, or the server closed it before the mail was finished.
    NotConnected,
    /// A reply did not arrive within its timeout (or the overall deadline passed).
    Timeout,
    /// Sending to the server failed.
    Transmit,
    /// The server answered with a negative (4xx/5xx) or unexpected reply.
    Rejected,
    /// The server's reply was not valid SMTP (bad code, garbage).
    Malformed,
    /// A reply line did not fit in the receive buffer.
    ReplyTooLong,
    /// The server offers no AUTH although authentication is configured, or does not offer the
    /// configured token mechanism (XOAUTH2, OAUTHBEARER); no credentials sent.
    AuthNotOffered,
    /// The message is larger than the server's advertised SIZE limit; nothing was sent.
    TooLarge,
    /// The body reader (of a streamed body) failed; the mail was abandoned before its end.
    BodyRead,
    /// STARTTLS is required but the server does not offer it (a downgrade, or a server
    /// without TLS); nothing else was sent.
    StartTlsNotOffered,
    /// The TLS handshake failed or the certificate did not verify.
    Tls(crate::transport::TlsError),
    /// The server sent bytes after its "220" to STARTTLS and before the handshake: they
    /// could only be an injection, so the session was abandoned.
    TlsUnexpectedData,
    /// Authentication is configured but the connection is not encrypted, and cleartext
    /// credentials are not allowed: nothing was sent.
    PlaintextAuthRefused,
    /// The link died after the final dot, before the server's reply: the mail may have been
    /// accepted. Do not blindly retry.
    OutcomeUnknown,
}

/// Longest server reply text a [`ServerReply`] keeps (bytes); longer text is cut. (The C API
/// keeps up to `limits::MAX_REPLY_TEXT` of it in `NX_SMTP_CLIENT`.)
pub const SERVER_REPLY_TEXT_LEN: usize = 128;

/// A server reply as kept for diagnostics: code, enhanced code and the first line's text.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerReply {
    pub code: u16,
    pub enhanced: Option<EnhancedCode>,
    /// The first `len` bytes are the text; the rest stay zero (so the derived equality holds).
    text: [u8; SERVER_REPLY_TEXT_LEN],
    len: u8,
}

const _: () = assert!(SERVER_REPLY_TEXT_LEN <= u8::MAX as usize);

/// Bytes of the server's own text that [`ServerReply::with_detail`] always keeps.
#[cfg(feature = "oauth2")]
pub const DETAIL_KEEPS: usize = 48;

impl ServerReply {
    /// Keeps `text` (cut to [`SERVER_REPLY_TEXT_LEN`]; control bytes become '?').
    pub fn new(code: u16, enhanced: Option<EnhancedCode>, text: &[u8]) -> Self {
        let mut kept = [0u8; SERVER_REPLY_TEXT_LEN];
        let mut len = 0u8;
        for (slot, &b) in kept.iter_mut().zip(text) {
            *slot = if (0x20..0x7f).contains(&b) { b } else { b'?' };
            // At most SERVER_REPLY_TEXT_LEN slots, which fits (asserted above).
            len += 1;
        }
        ServerReply { code, enhanced, text: kept, len }
    }

    /// This reply with `detail` after its text (`"5.7.8 Bad credentials {...}"`): the decoded
    /// JSON error of an OAuth 2.0 exchange. The server's text keeps at least its first
    /// [`DETAIL_KEEPS`] bytes; the detail gets the rest of [`SERVER_REPLY_TEXT_LEN`].
    #[cfg(feature = "oauth2")]
    pub fn with_detail(&self, detail: &[u8]) -> ServerReply {
        let own = self.text().as_bytes();
        let room = SERVER_REPLY_TEXT_LEN.saturating_sub(detail.len() + 1);
        let keep = own.len().min(room.max(DETAIL_KEEPS));
        let mut joined = [0u8; SERVER_REPLY_TEXT_LEN];
        let parts: [&[u8]; 3] = [own.get(..keep).unwrap_or_default(), b" ", detail];
        let mut len = 0;
        for (slot, &b) in joined.iter_mut().zip(parts.iter().flat_map(|p| p.iter())) {
            *slot = b;
            len += 1;
        }
        ServerReply::new(self.code, self.enhanced, joined.get(..len).unwrap_or_default())
    }

    /// The reply text after the code (enhanced code included as the server wrote it).
    pub fn text(&self) -> &str {
        // Only printable ASCII is stored, so this never fails.
        let kept = self.text.get(..usize::from(self.len)).unwrap_or_default();
        core::str::from_utf8(kept).unwrap_or("")
    }
}

impl core::fmt::Debug for ServerReply {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} {}", self.code, self.text())
    }
}

impl core::fmt::Display for ServerReply {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} {}", self.code, self.text())
    }
}

/// An error of a send: what, where, and the server reply that caused it (if one did).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub phase: Phase,
    pub reply: Option<ServerReply>,
}

impl Error {
    pub(crate) const fn new(kind: ErrorKind, phase: Phase) -> Self {
        Error { kind, phase, reply: None }
    }

    /// The NetX Duo status value of this error (what the C API returns).
    pub fn status(&self) -> u32 {
        status_of(self.kind, self.phase)
    }

    /// The NetX-style name of [`Error::status`].
    pub fn status_name(&self) -> &'static str {
        status::name(self.status())
    }
}

/// The NetX Duo status value of an error of `kind` in `phase` ([`Error::status`]; the full C
/// API profile returns it, and the small profile's statuses are held to it by
/// tests/capi_profiles.rs).
pub fn status_of(kind: ErrorKind, phase: Phase) -> u32 {
    match kind {
        ErrorKind::InvalidInput(..) => status::NX_SMTP_INVALID_PARAM,
        ErrorKind::HostNotFound => status::NX_SMTP_HOST_NOT_FOUND,
        ErrorKind::NotConnected => status::NX_NOT_CONNECTED,
        ErrorKind::Timeout => status::NX_NO_PACKET,
        ErrorKind::Transmit => status::NX_SMTP_TRANSMIT_ERROR,
        ErrorKind::Rejected | ErrorKind::Malformed => phase.reply_status(),
        ErrorKind::ReplyTooLong => status::NX_SMTP_OVERSIZE_SERVER_REPLY,
        ErrorKind::AuthNotOffered => status::NX_SMTP_AUTHENTICATION_ERROR,
        ErrorKind::TooLarge => status::NX_SMTP_OVERSIZE_MAIL_DATA,
        ErrorKind::OutcomeUnknown => status::NX_SMTP_OUTCOME_UNKNOWN,
        ErrorKind::BodyRead => status::NX_SMTP_INTERNAL_ERROR,
        ErrorKind::StartTlsNotOffered => status::NX_SMTP_STARTTLS_UNAVAILABLE,
        ErrorKind::Tls(t) => tls_status(t),
        ErrorKind::TlsUnexpectedData => status::NX_SMTP_TLS_UNEXPECTED_DATA,
        ErrorKind::PlaintextAuthRefused => status::NX_SMTP_PLAINTEXT_AUTH_REFUSED,
    }
}

fn tls_status(t: crate::transport::TlsError) -> u32 {
    use crate::transport::TlsError::*;
    match t {
        Unsupported => status::NX_SMTP_TLS_NOT_SUPPORTED,
        NoTrustAnchors | UntrustedCertificate => status::NX_SMTP_TLS_UNTRUSTED_CERTIFICATE,
        NameMismatch => status::NX_SMTP_TLS_NAME_MISMATCH,
        Expired => status::NX_SMTP_TLS_CERTIFICATE_EXPIRED,
        Handshake => status::NX_SMTP_TLS_HANDSHAKE_FAILED,
        Timeout => status::NX_NO_PACKET,
        ClockNotSet => status::NX_SMTP_TLS_CLOCK_NOT_SET,
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} (0x{:02X}) in {:?}: {:?}", self.status_name(), self.status(), self.phase, self.kind)?;
        if let Some(reply) = &self.reply {
            write!(f, ": {}", reply)?;
        }
        Ok(())
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::{ServerReply, SERVER_REPLY_TEXT_LEN};

    #[test]
    fn reply_text_is_cut_and_made_printable() {
        let long = [b'x'; SERVER_REPLY_TEXT_LEN + 40];
        assert_eq!(ServerReply::new(554, None, &long).text().len(), SERVER_REPLY_TEXT_LEN);
        assert_eq!(ServerReply::new(550, None, b"no\tsuch\x1buser\xff").text(), "no?such?user?");
        assert_eq!(ServerReply::new(250, None, b"").text(), "");
        // Equal texts compare equal, whatever was kept before (the unused bytes stay zero).
        assert_eq!(ServerReply::new(451, None, b"later"), ServerReply::new(451, None, b"later"));
        assert_ne!(ServerReply::new(451, None, b"later"), ServerReply::new(451, None, b"late"));
    }

    #[cfg(feature = "oauth2")]
    #[test]
    fn a_detail_joins_the_reply_text_bounded() {
        let json = br#"{"status":"401","schemes":"Bearer","scope":"https://mail.google.com/"}"#;
        let short = ServerReply::new(535, None, b"5.7.8 Bad credentials");
        let joined = short.with_detail(json);
        assert_eq!(joined.text(), std::format!("5.7.8 Bad credentials {}", core::str::from_utf8(json).unwrap()));
        assert_eq!(joined.code, 535);
        // A long server text keeps its first DETAIL_KEEPS bytes; the whole stays bounded.
        let long = ServerReply::new(535, None, &[b'x'; SERVER_REPLY_TEXT_LEN]);
        let joined = long.with_detail(json);
        assert_eq!(joined.text().len(), SERVER_REPLY_TEXT_LEN);
        assert!(joined.text().starts_with(&"x".repeat(super::DETAIL_KEEPS)));
        assert!(joined.text().contains(r#" {"status":"401""#));
        let huge = long.with_detail(&[b'j'; 400]);
        assert_eq!(huge.text().len(), SERVER_REPLY_TEXT_LEN);
    }
}
