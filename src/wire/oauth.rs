//! OAuth 2.0 bearer tokens over SASL: AUTH XOAUTH2 (Google's and Microsoft's mechanism) and
//! AUTH OAUTHBEARER (RFC 7628), their initial responses, and the decoder of the JSON error a
//! server sends in a 334 challenge when it refuses the token.
//!
//! The responses are streamed through the hand-written base64 of [`super::command`]: a token
//! of several KB is never copied, and the AUTH line (which RFC 4954 section 4 lets exceed
//! the 512-byte command line limit; servers take about 12 KB) leaves through the transmit
//! buffer in as many writes as it needs.

use super::command::{put_base64_of, CRLF};
use super::out::{decimal, Sink};

/// Whether `token` can go into a SASL response: visible ASCII (RFC 6750's b64token is a
/// subset), not empty. A control character (the 0x01 separator above all) would break the
/// response's framing.
pub fn valid_token(token: &[u8]) -> bool {
    !token.is_empty() && token.iter().all(|b| (0x21..0x7f).contains(b))
}

/// `AUTH XOAUTH2 <base64("user=" user 0x01 "auth=Bearer " token 0x01 0x01)>`.
pub fn auth_xoauth2<S: Sink>(out: &mut S, user: &[u8], token: &[u8]) -> Result<(), S::Error> {
    out.put(b"AUTH XOAUTH2 ")?;
    xoauth2_response(out, user, token)?;
    out.put(CRLF)
}

/// The XOAUTH2 response alone (for a server that asks for it with an empty 334).
pub fn xoauth2_response<S: Sink>(out: &mut S, user: &[u8], token: &[u8]) -> Result<(), S::Error> {
    let parts: [&[u8]; 5] = [b"user=", user, b"\x01auth=Bearer ", token, b"\x01\x01"];
    put_base64_of(out, parts.iter().flat_map(|part| part.iter()))
}

/// Where the client connects, for OAUTHBEARER's `host` and `port` keys (RFC 7628 section 3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint<'a> {
    pub host: &'a [u8],
    pub port: u16,
}

/// `AUTH OAUTHBEARER <base64(gs2-header 0x01 "host=" H 0x01 "port=" P 0x01 "auth=Bearer " T 0x01 0x01)>`
/// with the GS2 header `n,a=<user>,` (RFC 5801: ',' and '=' in the authorization identity are
/// written `=2C` and `=3D`).
pub fn auth_oauthbearer<S: Sink>(out: &mut S, user: &[u8], endpoint: Endpoint<'_>, token: &[u8]) -> Result<(), S::Error> {
    out.put(b"AUTH OAUTHBEARER ")?;
    oauthbearer_response(out, user, endpoint, token)?;
    out.put(CRLF)
}

/// The OAUTHBEARER response alone (for a server that asks for it with an empty 334).
pub fn oauthbearer_response<S: Sink>(out: &mut S, user: &[u8], endpoint: Endpoint<'_>, token: &[u8]) -> Result<(), S::Error> {
    let mut digits = [0u8; 10];
    let port = decimal(u32::from(endpoint.port), &mut digits);
    let head: [&[u8]; 1] = [b"n,a="];
    let tail: [&[u8]; 7] = [b",\x01host=", endpoint.host, b"\x01port=", port, b"\x01auth=Bearer ", token, b"\x01\x01"];
    let bytes = head
        .iter()
        .flat_map(|part| part.iter())
        .chain(user.iter().flat_map(escape_authzid))
        .chain(tail.iter().flat_map(|part| part.iter()));
    put_base64_of(out, bytes)
}

/// One byte of the authorization identity as RFC 5801's `saslname` writes it.
fn escape_authzid(byte: &u8) -> &[u8] {
    match byte {
        b',' => b"=2C",
        b'=' => b"=3D",
        other => core::slice::from_ref(other),
    }
}

/// What the client answers a 334 that carries the server's JSON error: XOAUTH2 an empty line
/// (Google's and Microsoft's documentation), OAUTHBEARER a single 0x01 (RFC 7628 section
/// 3.2.3). The server then ends the exchange with its failure reply (535).
pub const XOAUTH2_ERROR_ANSWER: &[u8] = b"\r\n";
pub const OAUTHBEARER_ERROR_ANSWER: &[u8] = b"AQ==\r\n";

/// Decodes the base64 of a 334 challenge into `buf`, keeping what fits: the server's JSON
/// error (`{"status":"401","schemes":"Bearer","scope":"..."}`). Stops at the first byte that is
/// not base64 (padding included); bytes that would not be printable ASCII become '?', so the
/// text can join a reply text as is. Returns the decoded length.
pub fn decode_challenge(text: &[u8], buf: &mut [u8]) -> usize {
    let mut len = 0;
    let mut group = 0u32;
    let mut bits = 0u32;
    for &c in text {
        let Some(v) = sextet_value(c) else { break };
        group = (group << 6 | v) & 0xFFFF;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            let byte = (group >> bits) as u8;
            let Some(slot) = buf.get_mut(len) else { break };
            *slot = if (0x20..0x7f).contains(&byte) { byte } else { b'?' };
            len += 1;
        }
    }
    len
}

/// The 6-bit value of a base64 character.
fn sextet_value(c: u8) -> Option<u32> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::out::Out;
    use base64::Engine as _;

    const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

    fn written(f: impl FnOnce(&mut Out<'_>)) -> std::vec::Vec<u8> {
        let mut buf = std::vec![0u8; 16 * 1024];
        let mut out = Out::new(&mut buf);
        f(&mut out);
        out.as_bytes().to_vec()
    }

    fn decoded_response(line: &[u8], verb: &str) -> std::vec::Vec<u8> {
        let text = core::str::from_utf8(line).unwrap();
        let b64 = text.strip_prefix(verb).unwrap().strip_suffix("\r\n").unwrap();
        B64.decode(b64).unwrap()
    }

    #[test]
    fn xoauth2_initial_response() {
        // Google's documented example.
        let line = written(|o| auth_xoauth2(o, b"someuser@example.com", b"ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg").unwrap());
        assert_eq!(
            line,
            b"AUTH XOAUTH2 dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==\r\n"
        );
    }

    #[test]
    fn oauthbearer_initial_response() {
        let endpoint = Endpoint { host: b"server.example.com", port: 587 };
        let line = written(|o| auth_oauthbearer(o, b"user@example.com", endpoint, b"vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==").unwrap());
        assert_eq!(
            decoded_response(&line, "AUTH OAUTHBEARER "),
            b"n,a=user@example.com,\x01host=server.example.com\x01port=587\x01auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01"
        );
        // RFC 5801: ',' and '=' of the authorization identity are escaped.
        let line = written(|o| auth_oauthbearer(o, b"a,b=c", Endpoint { host: b"h", port: 1 }, b"t").unwrap());
        assert_eq!(decoded_response(&line, "AUTH OAUTHBEARER "), b"n,a=a=2Cb=3Dc,\x01host=h\x01port=1\x01auth=Bearer t\x01\x01");
    }

    #[test]
    fn large_tokens_stream_through_a_small_sink() {
        // A 6 KB token through a sink that flushes every 64 bytes: no buffer of its size.
        struct Chunks {
            buf: [u8; 64],
            len: usize,
            all: std::vec::Vec<u8>,
            largest_put: usize,
        }
        impl Sink for Chunks {
            type Error = ();
            fn put(&mut self, bytes: &[u8]) -> Result<(), ()> {
                self.largest_put = self.largest_put.max(bytes.len());
                for &b in bytes {
                    if self.len == self.buf.len() {
                        self.all.extend_from_slice(&self.buf);
                        self.len = 0;
                    }
                    self.buf[self.len] = b;
                    self.len += 1;
                }
                Ok(())
            }
        }
        let token: std::vec::Vec<u8> = (0..6000).map(|i| b"ABCxyz019-._~+/"[i % 15]).collect();
        let mut sink = Chunks { buf: [0; 64], len: 0, all: std::vec::Vec::new(), largest_put: 0 };
        auth_xoauth2(&mut sink, b"u@example.com", &token).unwrap();
        let Chunks { buf, len, mut all, largest_put } = sink;
        all.extend_from_slice(&buf[..len]);
        assert!(largest_put <= 16, "the writer puts small pieces, not the token ({largest_put})");
        let mut expected = b"user=u@example.com\x01auth=Bearer ".to_vec();
        expected.extend_from_slice(&token);
        expected.extend_from_slice(b"\x01\x01");
        assert_eq!(decoded_response(&all, "AUTH XOAUTH2 "), expected);
    }

    #[test]
    fn responses_alone_match_the_initial_ones() {
        let endpoint = Endpoint { host: b"h.example", port: 465 };
        let ir = written(|o| auth_oauthbearer(o, b"u", endpoint, b"tok").unwrap());
        let alone = written(|o| oauthbearer_response(o, b"u", endpoint, b"tok").unwrap());
        assert_eq!(ir, [b"AUTH OAUTHBEARER ".as_slice(), &alone, b"\r\n"].concat());
        let ir = written(|o| auth_xoauth2(o, b"u", b"tok").unwrap());
        let alone = written(|o| xoauth2_response(o, b"u", b"tok").unwrap());
        assert_eq!(ir, [b"AUTH XOAUTH2 ".as_slice(), &alone, b"\r\n"].concat());
    }

    #[test]
    fn error_challenges_decode_bounded() {
        let json = br#"{"status":"401","schemes":"Bearer","scope":"https://mail.google.com/"}"#;
        let b64 = B64.encode(json);
        let mut buf = [0u8; 128];
        let n = decode_challenge(b64.as_bytes(), &mut buf);
        assert_eq!(&buf[..n], json);
        // Cut at the buffer's size.
        let mut small = [0u8; 10];
        let n = decode_challenge(b64.as_bytes(), &mut small);
        assert_eq!(&small[..n], &json[..10]);
        // Every length, against the reference decoder.
        let data: std::vec::Vec<u8> = (0x20..0x7fu8).cycle().take(200).collect();
        for len in 0..data.len() {
            let n = decode_challenge(B64.encode(&data[..len]).as_bytes(), &mut buf);
            assert_eq!(&buf[..n], &data[..len.min(128)], "length {len}");
        }
        // Not base64: stops there; control bytes and non-ASCII become '?'.
        assert_eq!(decode_challenge(b"", &mut buf), 0);
        assert_eq!(decode_challenge(b"not base64!", &mut buf), 2, "3 characters, then a space");
        let n = decode_challenge(B64.encode(b"a\x01\xffb").as_bytes(), &mut buf);
        assert_eq!(&buf[..n], b"a??b");
    }

    #[test]
    fn tokens() {
        assert!(valid_token(b"ya29.a0AfH6SMC-_~+/=="));
        assert!(valid_token(b"eyJ0eXAiOiJKV1QiLCJub25jZSI6.eyJhdWQiOiJo.c2lnbmF0dXJl"));
        for bad in [&b""[..], b"a b", b"a\x01b", b"a\r\nb", b"t\xc3\xa9", b"tab\t"] {
            assert!(!valid_token(bad), "{bad:?}");
        }
    }
}
