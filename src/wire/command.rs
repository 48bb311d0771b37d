//! SMTP commands, written by hand into a [`Sink`] (no `core::fmt`). Arguments must have
//! passed [`super::validate`]: the writers do not check them again.

use super::out::Sink;
use base64::Engine as _;

const CRLF: &[u8] = b"\r\n";

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
    pub size: Option<u64>,
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
pub fn auth_plain<S: Sink>(out: &mut S, username: &str, password: &str) -> Result<(), S::Error> {
    out.put(b"AUTH PLAIN ")?;
    plain_response(out, username, password)?;
    out.put(CRLF)
}

/// The PLAIN response alone, for a server that asks for it with an empty 334 challenge.
pub fn plain_response<S: Sink>(out: &mut S, username: &str, password: &str) -> Result<(), S::Error> {
    let message = [b"\0".as_slice(), username.as_bytes(), b"\0", password.as_bytes()];
    put_base64(out, message.iter().flat_map(|part| part.iter().copied()))
}

/// One base64 line (a LOGIN user name or password response).
pub fn base64_line<S: Sink>(out: &mut S, data: &[u8]) -> Result<(), S::Error> {
    put_base64(out, data.iter().copied())?;
    out.put(CRLF)
}

/// Base64 of a byte stream, encoded through a small stack buffer: whole 3-byte groups
/// encode without padding, so encoding group by group equals encoding the whole.
pub fn put_base64<S: Sink>(out: &mut S, mut bytes: impl Iterator<Item = u8>) -> Result<(), S::Error> {
    let mut raw = [0u8; 48];
    let mut encoded = [0u8; 64];
    loop {
        let mut n = 0;
        while let Some(slot) = raw.get_mut(n) {
            match bytes.next() {
                Some(b) => {
                    *slot = b;
                    n += 1;
                }
                None => break,
            }
        }
        // `n` counts slots of `raw`, so the `get` always succeeds.
        let Some(chunk) = raw.get(..n).filter(|chunk| !chunk.is_empty()) else {
            return Ok(());
        };
        // 48 input bytes never need more than 64 output bytes: this cannot fail.
        let len = base64::engine::general_purpose::STANDARD.encode_slice(chunk, &mut encoded).unwrap_or(0);
        out.put(encoded.get(..len).unwrap_or_default())?;
        if n < raw.len() {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::out::Out;

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
        let line = written(|o| auth_plain(o, "recipient@domain.com", "testpwd").unwrap());
        let b64 = base64::engine::general_purpose::STANDARD.encode(b"\0recipient@domain.com\0testpwd");
        assert_eq!(line, std::format!("AUTH PLAIN {b64}\r\n").into_bytes());
    }

    #[test]
    fn base64_matches_reference_at_every_length() {
        let data: std::vec::Vec<u8> = (0..=255u8).cycle().take(400).collect();
        for n in 0..data.len() {
            let mine = written(|o| put_base64(o, data[..n].iter().copied()).unwrap());
            let reference = base64::engine::general_purpose::STANDARD.encode(&data[..n]);
            assert_eq!(mine, reference.as_bytes(), "length {n}");
        }
        assert_eq!(written(|o| base64_line(o, b"testpwd").unwrap()), b"dGVzdHB3ZA==\r\n");
        assert_eq!(written(|o| base64_line(o, b"recipient@domain.com").unwrap()), b"cmVjaXBpZW50QGRvbWFpbi5jb20=\r\n");
    }

    #[test]
    fn full_sink_is_reported() {
        let mut buf = [0u8; 10];
        let mut out = Out::new(&mut buf);
        assert!(rcpt_to(&mut out, "someone@example.com").is_err());
        assert!(put_base64(&mut out, [1u8; 100].into_iter()).is_err());
    }
}
