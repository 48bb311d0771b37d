//! SMTP commands, written by hand into a [`Sink`] (no `core::fmt`). Arguments must have
//! passed [`super::syntax`]: the writers do not check them again.

use super::out::Sink;

/// How the client authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Never sends AUTH.
    None,
    /// AUTH PLAIN with an initial response (one round trip).
    Plain,
    /// AUTH LOGIN (the server's prompt text is never relied on).
    Login,
    /// AUTH XOAUTH2 with an OAuth 2.0 bearer token (Google, Microsoft 365). Used only when the
    /// server offers it: never replaced by another mechanism.
    #[cfg(feature = "oauth2")]
    XOAuth2,
    /// AUTH OAUTHBEARER (RFC 7628) with an OAuth 2.0 bearer token. Used only when the server
    /// offers it: never replaced by another mechanism.
    #[cfg(feature = "oauth2")]
    OAuthBearer,
}

impl Auth {
    /// Whether the mechanism sends an OAuth 2.0 bearer token (XOAUTH2, OAUTHBEARER).
    pub const fn is_oauth(self) -> bool {
        match self {
            #[cfg(feature = "oauth2")]
            Auth::XOAuth2 | Auth::OAuthBearer => true,
            _ => false,
        }
    }
}

/// Which mechanism to use given the configured one and what the server offers: the
/// configured one if offered, else the other one if offered, else the configured one anyway
/// (NetX Duo does the same for servers whose AUTH line names neither). A token mechanism
/// (XOAUTH2, OAUTHBEARER) is returned as it is: whether the server offers it decides alone
/// (`AuthMechanisms::offers` of `super::ehlo`), never a fallback to a password mechanism.
pub fn choose_auth(configured: Auth, offered_plain: bool, offered_login: bool) -> Auth {
    match configured {
        Auth::Plain if !offered_plain && offered_login => Auth::Login,
        Auth::Login if !offered_login && offered_plain => Auth::Plain,
        other => other,
    }
}

pub const CRLF: &[u8] = b"\r\n";

pub const DATA: &[u8] = b"DATA\r\n";
pub const QUIT: &[u8] = b"QUIT\r\n";
pub const RSET: &[u8] = b"RSET\r\n";
pub const AUTH_LOGIN: &[u8] = b"AUTH LOGIN\r\n";
pub const STARTTLS: &[u8] = b"STARTTLS\r\n";

/// `EHLO name` (or `HELO name`): a domain, or an IP address written as an address literal
/// (`[192.0.2.1]`, `[IPv6:2001:db8::1]`) as RFC 5321 section 4.1.3 wants.
pub fn hello<S: Sink>(out: &mut S, extended: bool, name: &str) -> Result<(), S::Error> {
    out.put(if extended { b"EHLO " } else { b"HELO " })?;
    put_domain_or_literal(out, name)?;
    out.put(CRLF)
}

fn put_domain_or_literal<S: Sink>(out: &mut S, name: &str) -> Result<(), S::Error> {
    let bytes = name.as_bytes();
    if bytes.first() == Some(&b'[') {
        out.put(bytes)
    } else if bytes.contains(&b':') {
        out.put(b"[IPv6:")?;
        out.put(bytes)?;
        out.put(b"]")
    } else if !bytes.is_empty() && bytes.iter().all(|b| b.is_ascii_digit() || *b == b'.') {
        out.put(b"[")?;
        out.put(bytes)?;
        out.put(b"]")
    } else {
        out.put(bytes)
    }
}

/// Options of MAIL FROM.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MailParams {
    /// `SIZE=n` (RFC 1870), when the server offers SIZE and the size is known.
    pub size: Option<u32>,
    /// `BODY=8BITMIME` (RFC 6152).
    pub eight_bit_mime: bool,
    /// `SMTPUTF8` (RFC 6531), for non-ASCII addresses.
    pub smtputf8: bool,
}

/// `MAIL FROM:<address> [SIZE=n] [BODY=8BITMIME] [SMTPUTF8]`; `address` is bare (no brackets).
pub fn mail_from<S: Sink>(out: &mut S, address: &str, params: MailParams) -> Result<(), S::Error> {
    out.put(b"MAIL FROM:<")?;
    out.put(address.as_bytes())?;
    out.put(b">")?;
    if let Some(size) = params.size {
        out.put(b" SIZE=")?;
        out.put_decimal(size)?;
    }
    if params.eight_bit_mime {
        out.put(b" BODY=8BITMIME")?;
    }
    if params.smtputf8 {
        out.put(b" SMTPUTF8")?;
    }
    out.put(CRLF)
}

/// `RCPT TO:<address>`; `address` is bare.
pub fn rcpt_to<S: Sink>(out: &mut S, address: &str) -> Result<(), S::Error> {
    out.put(b"RCPT TO:<")?;
    out.put(address.as_bytes())?;
    out.put(b">\r\n")
}

/// `AUTH PLAIN <base64("\0user\0password")>` (RFC 4616 with the RFC 4954 initial response;
/// the authorization identity is empty, so the server derives it from the user name).
pub fn auth_plain<S: Sink>(out: &mut S, username: &[u8], password: &[u8]) -> Result<(), S::Error> {
    out.put(b"AUTH PLAIN ")?;
    base64_line(out, &plain_response(username, password))
}

/// The parts of the PLAIN response (RFC 4616: authorization identity, empty here; user name;
/// password), for [`auth_plain`] and for a server that asks for it with an empty 334.
pub fn plain_response<'a>(username: &'a [u8], password: &'a [u8]) -> [&'a [u8]; 4] {
    [b"\0", username, b"\0", password]
}

/// One line of base64 of the concatenated `parts` (a LOGIN user name or password response, or
/// the PLAIN response).
pub fn base64_line<S: Sink>(out: &mut S, parts: &[&[u8]]) -> Result<(), S::Error> {
    put_base64(out, parts)?;
    out.put(CRLF)
}

/// Base64 (RFC 4648, with padding) of the concatenation of `parts`, written by hand: a
/// 3-byte group becomes 4 characters, computed arithmetically (no table, no crate: this is
/// the one encoder of the send path and it must stay small).
pub fn put_base64<S: Sink + ?Sized>(out: &mut S, parts: &[&[u8]]) -> Result<(), S::Error> {
    put_base64_of(out, parts.iter().flat_map(|part| part.iter()))
}

/// Base64 of a stream of bytes (see [`put_base64`]): the bytes are never gathered, so a
/// response of any length streams through the sink. (Inlined: [`put_base64`] compiles to the
/// code it had as the only encoder.)
#[inline(always)]
pub fn put_base64_of<'b, S: Sink + ?Sized>(out: &mut S, bytes: impl Iterator<Item = &'b u8>) -> Result<(), S::Error> {
    let mut group = 0u32;
    let mut held = 0u32;
    for &byte in bytes {
        group = group << 8 | u32::from(byte);
        held += 1;
        if held == 3 {
            out.put(&quad(group, 4))?;
            held = 0;
        }
    }
    if held > 0 {
        // 1 byte -> 2 characters + "==", 2 bytes -> 3 characters + "=".
        out.put(&quad(group << (8 * (3 - held)), held + 1))?;
    }
    Ok(())
}

/// The four characters of a 24-bit group, `keep` of them real and the rest padding.
fn quad(group: u32, keep: u32) -> [u8; 4] {
    let mut chars = [b'='; 4];
    for (i, c) in (0u32..).zip(chars.iter_mut()) {
        if i < keep {
            *c = sextet(group >> (18 - 6 * i) & 63);
        }
    }
    chars
}

/// The base64 character of a 6-bit value.
fn sextet(v: u32) -> u8 {
    let c = match v {
        0..=25 => v + u32::from(b'A'),
        26..=51 => v - 26 + u32::from(b'a'),
        52..=61 => v - 52 + u32::from(b'0'),
        62 => u32::from(b'+'),
        _ => u32::from(b'/'),
    };
    c as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::out::Out;
    use base64::Engine as _;

    #[test]
    fn mechanism_choice() {
        use Auth::*;
        assert_eq!(choose_auth(Plain, true, true), Plain);
        assert_eq!(choose_auth(Login, true, true), Login);
        assert_eq!(choose_auth(Plain, false, true), Login);
        assert_eq!(choose_auth(Login, true, false), Plain);
        assert_eq!(choose_auth(Plain, false, false), Plain);
        assert_eq!(choose_auth(Login, false, false), Login);
    }

    fn written(f: impl FnOnce(&mut Out<'_>)) -> std::vec::Vec<u8> {
        let mut buf = [0u8; 1024];
        let mut out = Out::new(&mut buf);
        f(&mut out);
        out.as_bytes().to_vec()
    }

    #[test]
    fn hello_names_and_literals() {
        assert_eq!(written(|o| hello(o, true, "device.example.com").unwrap()), b"EHLO device.example.com\r\n");
        assert_eq!(written(|o| hello(o, false, "d.example").unwrap()), b"HELO d.example\r\n");
        assert_eq!(written(|o| hello(o, true, "192.0.2.7").unwrap()), b"EHLO [192.0.2.7]\r\n");
        assert_eq!(written(|o| hello(o, true, "2001:db8::7").unwrap()), b"EHLO [IPv6:2001:db8::7]\r\n");
        assert_eq!(written(|o| hello(o, true, "[192.0.2.7]").unwrap()), b"EHLO [192.0.2.7]\r\n");
        assert_eq!(written(|o| hello(o, true, "[IPv6:::1]").unwrap()), b"EHLO [IPv6:::1]\r\n");
    }

    #[test]
    fn mail_and_rcpt() {
        assert_eq!(written(|o| mail_from(o, "a@b.c", MailParams::default()).unwrap()), b"MAIL FROM:<a@b.c>\r\n");
        let all = MailParams { size: Some(1344), eight_bit_mime: true, smtputf8: true };
        assert_eq!(written(|o| mail_from(o, "a@b.c", all).unwrap()), b"MAIL FROM:<a@b.c> SIZE=1344 BODY=8BITMIME SMTPUTF8\r\n");
        assert_eq!(written(|o| rcpt_to(o, "x@y.z").unwrap()), b"RCPT TO:<x@y.z>\r\n");
    }

    #[test]
    fn auth_plain_initial_response() {
        let line = written(|o| auth_plain(o, b"recipient@domain.com", b"testpwd").unwrap());
        let b64 = base64::engine::general_purpose::STANDARD.encode(b"\0recipient@domain.com\0testpwd");
        assert_eq!(line, std::format!("AUTH PLAIN {b64}\r\n").into_bytes());
    }

    #[test]
    fn base64_matches_reference_at_every_length() {
        let data: std::vec::Vec<u8> = (0..=255u8).cycle().take(400).collect();
        for n in 0..data.len() {
            let mine = written(|o| put_base64(o, &[&data[..n]]).unwrap());
            let reference = base64::engine::general_purpose::STANDARD.encode(&data[..n]);
            assert_eq!(mine, reference.as_bytes(), "length {n}");
        }
        // Parts split anywhere encode as their concatenation.
        for split in 0..=7 {
            let (a, b) = data[..7].split_at(split);
            let mine = written(|o| put_base64(o, &[a, b, &[], &data[7..20]]).unwrap());
            assert_eq!(mine, base64::engine::general_purpose::STANDARD.encode(&data[..20]).as_bytes(), "split {split}");
        }
        assert_eq!(written(|o| base64_line(o, &[b"testpwd"]).unwrap()), b"dGVzdHB3ZA==\r\n");
        assert_eq!(written(|o| base64_line(o, &[b"recipient@domain.com"]).unwrap()), b"cmVjaXBpZW50QGRvbWFpbi5jb20=\r\n");
    }

    #[test]
    fn full_sink_is_reported() {
        let mut buf = [0u8; 10];
        let mut out = Out::new(&mut buf);
        assert!(rcpt_to(&mut out, "someone@example.com").is_err());
        assert!(put_base64(&mut out, &[&[1u8; 100]]).is_err());
    }
}
