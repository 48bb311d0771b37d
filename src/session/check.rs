//! Whole-request checks, run before the first byte is sent: a [`Config`] and a [`Mail`]
//! field by field with the wire's syntax rules ([`crate::wire::syntax`]), and a body's size on
//! the wire.

use super::request::{Config, Mail, MAX_RECIPIENTS};
use super::Fault;
use crate::error::{ErrorKind, Field, Invalid, Phase};
use crate::wire::body::{encoded_size, BodyError};
use crate::wire::command::Auth;
use crate::wire::syntax::{address, base64_len, client_domain, credential, server, subject, MAX_CREDENTIAL};

fn invalid(field: Field, why: Invalid) -> Fault {
    Fault::new(ErrorKind::InvalidInput(field, why), Phase::Validate)
}

/// Checks a whole configuration. `tx_capacity`: the transmit buffer, which must hold the
/// longest command (AUTH PLAIN with its response).
pub fn config(c: &Config<'_>, tx_capacity: usize) -> Result<(), Fault> {
    let field = |f: Field| move |why: Invalid| invalid(f, why);
    server(c.server).map_err(field(Field::Server))?;
    if c.port == 0 {
        return Err(invalid(Field::Port, Invalid::Empty));
    }
    if !c.tls_name.is_empty() {
        server(c.tls_name).map_err(field(Field::TlsName))?;
    }
    client_domain(c.domain.as_bytes()).map_err(field(Field::Domain))?;
    address(c.from.as_bytes()).map_err(field(Field::From))?;
    if c.auth.is_oauth() {
        return oauth_config(c);
    }
    if c.auth != Auth::None {
        credential(c.username.as_bytes()).map_err(field(Field::Username))?;
        credential(c.password.as_bytes()).map_err(field(Field::Password))?;
        if c.username.is_empty() {
            return Err(invalid(Field::Username, Invalid::Empty));
        }
        if c.username.len() > MAX_CREDENTIAL {
            return Err(invalid(Field::Username, Invalid::TooLong));
        }
        if c.password.len() > MAX_CREDENTIAL {
            return Err(invalid(Field::Password, Invalid::TooLong));
        }
        let auth_plain_line = "AUTH PLAIN ".len() + base64_len(2 + c.username.len() + c.password.len()) + 2;
        if auth_plain_line > tx_capacity {
            return Err(invalid(Field::Password, Invalid::TooLong));
        }
    }
    Ok(())
}

/// The checks of a token mechanism: a user name and a token source. The token itself is checked
/// when its source gives it, right before AUTH; the AUTH line streams through the transmit
/// buffer, so neither has to fit in it.
#[cfg(feature = "oauth2")]
fn oauth_config(c: &Config<'_>) -> Result<(), Fault> {
    credential(c.username.as_bytes()).map_err(|why| invalid(Field::Username, why))?;
    if c.username.is_empty() {
        return Err(invalid(Field::Username, Invalid::Empty));
    }
    if c.username.len() > MAX_CREDENTIAL {
        return Err(invalid(Field::Username, Invalid::TooLong));
    }
    if c.token.is_none() {
        return Err(invalid(Field::Token, Invalid::Empty));
    }
    Ok(())
}

#[cfg(not(feature = "oauth2"))]
fn oauth_config(_: &Config<'_>) -> Result<(), Fault> {
    Ok(())
}

/// Checks the recipients and subject of a mail (its body is checked by [`body_bytes`] or
/// while it streams).
pub fn mail(m: &Mail<'_>) -> Result<(), Fault> {
    let count = m.recipient_count();
    if count == 0 {
        return Err(invalid(Field::Recipient, Invalid::Empty));
    }
    if count > MAX_RECIPIENTS {
        return Err(invalid(Field::Recipient, Invalid::TooLong));
    }
    for r in m.recipients() {
        address(r.as_bytes()).map_err(|why| invalid(Field::Recipient, why))?;
    }
    subject(m.subject.as_bytes()).map_err(|why| invalid(Field::Subject, why))?;
    #[cfg(feature = "outbox")]
    if let Some(origin) = m.origin {
        address(origin.from.as_bytes()).map_err(|why| invalid(Field::From, why))?;
    }
    Ok(())
}

/// Checks a whole body: not empty, no NUL, no line over 998 bytes. Returns its size on the
/// wire (dot-stuffing and terminator included).
pub fn body_bytes(body: &[u8]) -> Result<u64, Fault> {
    if body.is_empty() {
        return Err(invalid(Field::Body, Invalid::Empty));
    }
    encoded_size(body).map_err(|e| match e {
        BodyError::Nul => invalid(Field::Body, Invalid::ControlCharacter),
        _ => invalid(Field::Body, Invalid::TooLong),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs() {
        use crate::wire::syntax::reported as why;
        let good = Config::new("127.0.0.1", 25, "device.example", "<dev@example.com>");
        assert_eq!(config(&good, 512), Ok(()));
        let bad = |c: Config<'_>| config(&c, 512).unwrap_err().kind;
        use crate::error::ErrorKind::InvalidInput;
        assert_eq!(bad(Config { port: 0, ..good }), InvalidInput(Field::Port, Invalid::Empty));
        assert_eq!(bad(Config { server: "", ..good }), InvalidInput(Field::Server, Invalid::Empty));
        assert_eq!(bad(Config { from: "x", ..good }), InvalidInput(Field::From, Invalid::Syntax));
        assert_eq!(bad(Config { tls_name: "mail example", ..good }), InvalidInput(Field::TlsName, Invalid::Syntax));
        assert_eq!(config(&good.tls_name("mail.example.com"), 512), Ok(()));
        assert_eq!(good.certificate_name(), "127.0.0.1");
        assert_eq!(Config { server: "[::1]", ..good }.certificate_name(), "::1");
        assert_eq!(good.tls_name("mail.example.com").certificate_name(), "mail.example.com");
        assert_eq!(bad(Config { domain: "a\rb", ..good }), InvalidInput(Field::Domain, why(Invalid::ControlCharacter)));
        let auth = good.auth(Auth::Plain, "user", "pass\r\nword");
        assert_eq!(bad(auth), InvalidInput(Field::Password, why(Invalid::ControlCharacter)));
        let auth = good.auth(Auth::Login, "", "p");
        assert_eq!(bad(auth), InvalidInput(Field::Username, Invalid::Empty));
        let key = "k".repeat(69);
        assert_eq!(config(&good.auth(Auth::Plain, "apikey", &key), 512), Ok(()));
        let huge = "k".repeat(255);
        assert_eq!(bad(good.auth(Auth::Plain, &huge, &huge)), InvalidInput(Field::Password, Invalid::TooLong));
        assert_eq!(config(&good.auth(Auth::Plain, &huge, &huge), 1024), Ok(()));
        // Credentials are not checked when no authentication is configured.
        assert_eq!(config(&Config { username: "a\nb", ..good }, 512), Ok(()));
    }

    #[test]
    fn mails() {
        use crate::wire::syntax::reported as why;
        use crate::error::ErrorKind::InvalidInput;
        let none = Mail::new("s", b"b");
        assert_eq!(mail(&none).unwrap_err().kind, InvalidInput(Field::Recipient, Invalid::Empty));
        let to = ["a@b.example"];
        assert_eq!(mail(&Mail::new("s", b"b").to(&to)), Ok(()));
        let bad = ["a@b.example", "c@d\r\n"];
        assert_eq!(mail(&Mail::new("s", b"b").bcc(&bad)).unwrap_err().kind, InvalidInput(Field::Recipient, why(Invalid::ControlCharacter)));
        let many = ["a@b.example"; MAX_RECIPIENTS + 1];
        assert_eq!(mail(&Mail::new("s", b"b").to(&many)).unwrap_err().kind, InvalidInput(Field::Recipient, Invalid::TooLong));
        assert_eq!(mail(&Mail::new("s\n", b"b").to(&to)).unwrap_err().kind, InvalidInput(Field::Subject, why(Invalid::ControlCharacter)));
    }

    #[test]
    fn bodies() {
        use crate::error::ErrorKind::InvalidInput;
        assert_eq!(body_bytes(b"hi"), Ok(7));
        assert_eq!(body_bytes(b"").unwrap_err().kind, InvalidInput(Field::Body, Invalid::Empty));
        assert_eq!(body_bytes(b"a\0").unwrap_err().kind, InvalidInput(Field::Body, Invalid::ControlCharacter));
        assert_eq!(body_bytes(&[b'x'; 999]).unwrap_err().kind, InvalidInput(Field::Body, Invalid::TooLong));
    }

    #[cfg(feature = "oauth2")]
    #[test]
    fn oauth_configs() {
        use crate::error::ErrorKind::InvalidInput;
        let good = Config::new("127.0.0.1", 25, "device.example", "<dev@example.com>");
        let token = "ya29.token";
        // A token longer than the transmit buffer is fine: the AUTH line streams.
        let long = "t".repeat(8192);
        let long = long.as_str();
        for mechanism in [Auth::XOAuth2, Auth::OAuthBearer] {
            assert_eq!(config(&good.oauth(mechanism, "dev@example.com", &token), 512), Ok(()));
            assert_eq!(config(&good.oauth(mechanism, "dev@example.com", &long), 512), Ok(()));
            let bad = |c: Config<'_>| config(&c, 512).unwrap_err().kind;
            assert_eq!(bad(good.oauth(mechanism, "", &token)), InvalidInput(Field::Username, Invalid::Empty));
            let why = crate::wire::syntax::reported;
            assert_eq!(bad(good.oauth(mechanism, "a\nb", &token)), InvalidInput(Field::Username, why(Invalid::ControlCharacter)));
            assert_eq!(bad(good.auth(mechanism, "dev@example.com", "")), InvalidInput(Field::Token, Invalid::Empty));
        }
        // The token never shows in Debug output.
        let shown = std::format!("{:?}", good.oauth(Auth::XOAuth2, "dev@example.com", &token));
        assert!(!shown.contains("ya29") && shown.contains("<redacted>"), "{shown}");
    }
}
